// synack/socket/errors.hpp: the errors of the socket API.
//
// Every error is a std::error_code in the generic category, so it compares equal to the
// matching std::errc and prints the usual message:
//   connection_refused  RST in answer to our SYN (Python's ConnectionRefusedError)
//   connection_reset    RST on an open connection (ConnectionResetError)
//   timed_out           retransmissions, keep-alives, the user timeout, or a with_timeout()
//   connection_aborted  our own side aborted it (abort(), or data after close())
//   address_in_use      the port is listened on, or the 4-tuple exists
//   address_not_available  no free ephemeral port
//   network_unreachable no route to the destination
//   no_buffer_space     the stack's connection limit
//   operation_canceled  a stop token fired
//   not_connected       the operation needs an open connection (recv after abort, ...), or
//                       the stack was destroyed before the stream or listener
//   broken_pipe         send after our side was shut down
//   operation_in_progress  another operation of the same kind is already waiting on this object
//   invalid_argument    a bad argument (port 0, unspecified address)
// Operations return expected<T, std::error_code>; `or_throw()` (core/or_throw.hpp) turns a
// failure into a std::system_error for those who prefer exceptions.
#pragma once

#include <system_error>
#include <utility>

#include "synack/core/concepts.hpp"
#include "synack/core/or_throw.hpp"
#include "synack/tcp/config.hpp"
#include "synack/util/expected.hpp"

namespace synack {

/// The result of a socket operation.
template <class T>
using result = expected<T, std::error_code>;

inline auto make_error(std::errc e) noexcept -> std::error_code { return std::make_error_code(e); }

/// How a connection ended, as an error code (none: a normal close).
inline auto to_error_code(tcp::error e) noexcept -> std::error_code {
  switch (e) {
    case tcp::error::none:
      return {};
    case tcp::error::connection_refused:
      return make_error(std::errc::connection_refused);
    case tcp::error::connection_reset:
      return make_error(std::errc::connection_reset);
    case tcp::error::timed_out:
      return make_error(std::errc::timed_out);
    case tcp::error::connection_aborted:
      return make_error(std::errc::connection_aborted);
  }
  return make_error(std::errc::io_error);
}

} // namespace synack
