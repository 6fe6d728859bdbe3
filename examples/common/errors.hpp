// examples/common/errors.hpp: the name of a socket error as the API spells it
// (`connection_reset`, `timed_out`, ...), so programs can print it and scripts can check it:
//
//   fmt::print(stderr, "recv: {} ({})\n", examples::error_name(ec), ec.message());
#pragma once

#include <string>
#include <system_error>

#include <fmt/format.h>

namespace examples {

inline auto error_name(std::error_code ec) -> std::string {
  if (!ec) return "ok";
  if (ec.category() != std::generic_category()) return fmt::format("{}:{}", ec.category().name(), ec.value());
  switch (static_cast<std::errc>(ec.value())) {
    case std::errc::connection_refused:
      return "connection_refused";
    case std::errc::connection_reset:
      return "connection_reset";
    case std::errc::connection_aborted:
      return "connection_aborted";
    case std::errc::timed_out:
      return "timed_out";
    case std::errc::address_in_use:
      return "address_in_use";
    case std::errc::address_not_available:
      return "address_not_available";
    case std::errc::network_unreachable:
      return "network_unreachable";
    case std::errc::host_unreachable:
      return "host_unreachable";
    case std::errc::no_buffer_space:
      return "no_buffer_space";
    case std::errc::operation_canceled:
      return "operation_canceled";
    case std::errc::not_connected:
      return "not_connected";
    case std::errc::broken_pipe:
      return "broken_pipe";
    case std::errc::operation_in_progress:
      return "operation_in_progress";
    case std::errc::invalid_argument:
      return "invalid_argument";
    default:
      return fmt::format("errno_{}", ec.value());
  }
}

/// "connection_reset (Connection reset by peer)"
inline auto describe(std::error_code ec) -> std::string { return fmt::format("{} ({})", error_name(ec), ec.message()); }

} // namespace examples
