// synack/wire/endpoint.hpp: `endpoint`, an IPv4 address and a port ("192.0.2.1:7788").
//
// The pair the public API takes in `connect({ip, port})` and returns from `accept()`, and one
// half of a TCP connection's 4-tuple. `parse` accepts "a.b.c.d:port" with port 0..65535 in
// decimal without leading zeros.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string_view>

#include <fmt/format.h>

#include "synack/wire/ipv4_address.hpp"

namespace synack::wire {

struct endpoint {
  ipv4_address addr;
  std::uint16_t port = 0;

  /// "a.b.c.d:port" -> endpoint; anything else -> bad_syntax.
  static auto parse(std::string_view s) noexcept -> expected<endpoint, wire_error> {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return unexpected{wire_error::bad_syntax};
    auto a = ipv4_address::parse(s.substr(0, colon));
    if (!a) return unexpected{a.error()};
    auto p = detail::parse_decimal(s.substr(colon + 1), 65535);
    if (!p) return unexpected{wire_error::bad_syntax};
    return endpoint{*a, static_cast<std::uint16_t>(*p)};
  }

  friend constexpr auto operator==(const endpoint&, const endpoint&) noexcept -> bool = default;
  friend constexpr auto operator<=>(const endpoint&, const endpoint&) noexcept = default;
};

} // namespace synack::wire

template <>
struct std::hash<synack::wire::endpoint> {
  auto operator()(const synack::wire::endpoint& e) const noexcept -> std::size_t {
    // 48 bits of key: address in the high part, port in the low part, then a 64-bit mix.
    std::uint64_t k = std::uint64_t{e.addr.to_u32()} << 16 | e.port;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return static_cast<std::size_t>(k);
  }
};

template <>
struct fmt::formatter<synack::wire::endpoint> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const synack::wire::endpoint& e, Ctx& ctx) const {
    auto o = e.addr.octets();
    char buf[24];
    auto end = fmt::format_to_n(buf, sizeof buf, "{}.{}.{}.{}:{}", o[0], o[1], o[2], o[3], e.port).out;
    return fmt::formatter<std::string_view>::format(std::string_view(buf, static_cast<std::size_t>(end - buf)), ctx);
  }
};
