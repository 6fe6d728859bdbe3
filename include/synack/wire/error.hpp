// synack/wire/error.hpp: why a packet (or the text form of an address) was rejected.
//
// Every parser in wire/ returns `expected<T, wire_error>`; bad input is never an exception.
// Each reason has its own value so that the layers above can count drops by cause
// (smoltcp has one `Error`; a distinct value per reason makes traces and counters useful).
//
// The order of checks is the same in every parser: first the buffer is long enough for the
// fixed header (`truncated`), then version/type fields (`bad_version`, `unsupported`), then the
// length fields against each other and against the buffer (`bad_header_len`, `bad_total_len`,
// `truncated`), then the checksum (`bad_checksum`), then the contents (`bad_option`,
// `bad_fragment`). A buffer that is simply cut short therefore always reports `truncated`.
#pragma once

#include <cstdint>
#include <string_view>

#include <fmt/format.h>

namespace synack::wire {

enum class wire_error : std::uint8_t {
  /// The buffer is shorter than the fixed header, or than a length field says it should be.
  truncated = 1,
  /// The buffer is longer than the format can describe (a TCP segment over 65535 bytes).
  oversized,
  /// IPv4: the version field is not 4.
  bad_version,
  /// IPv4 IHL < 5, TCP data offset < 5: the header cannot even hold its fixed part.
  bad_header_len,
  /// IPv4 total length smaller than the header length.
  bad_total_len,
  /// IPv4 fragment offset + payload length beyond 65535 (RFC 791 §3.2, "ping of death").
  bad_fragment,
  /// A checksum does not verify.
  bad_checksum,
  /// A malformed TCP or IPv4 option (length 0 or 1, running past the header, wrong length for its
  /// kind; IPv4: a pointer below its smallest legal value).
  bad_option,
  /// Well-formed but not handled here: 802.1Q tags, 802.3 length frames, ARP for other hardware
  /// or protocol types, ARP operations other than request/reply.
  unsupported,
  /// Text that is not an address (ipv4_address / ipv4_cidr / endpoint / mac_address parse).
  bad_syntax,
};

inline constexpr auto to_string(wire_error e) noexcept -> std::string_view {
  switch (e) {
    case wire_error::truncated:
      return "truncated";
    case wire_error::oversized:
      return "oversized";
    case wire_error::bad_version:
      return "bad version";
    case wire_error::bad_header_len:
      return "bad header length";
    case wire_error::bad_total_len:
      return "bad total length";
    case wire_error::bad_fragment:
      return "bad fragment";
    case wire_error::bad_checksum:
      return "bad checksum";
    case wire_error::bad_option:
      return "bad option";
    case wire_error::unsupported:
      return "unsupported";
    case wire_error::bad_syntax:
      return "bad syntax";
  }
  return "unknown wire error";
}

} // namespace synack::wire

template <>
struct fmt::formatter<synack::wire::wire_error> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(synack::wire::wire_error e, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(to_string(e), ctx);
  }
};
