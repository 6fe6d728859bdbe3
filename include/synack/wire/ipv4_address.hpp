// synack/wire/ipv4_address.hpp: the strong types `ipv4_address` and `ipv4_cidr`.
//
// An ipv4_address holds the address as a host-order 32-bit number (192.0.2.1 == 0xc0000201),
// so comparisons and masks are plain integer operations; it is read from and written to packets
// in network order through `from_bytes` / `write_to`. `parse` accepts exactly the dotted-quad
// form "a.b.c.d" with decimal parts 0..255 and no leading zeros (inet_aton's "010" is octal;
// we refuse to guess), and returns `wire_error::bad_syntax` otherwise.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "synack/util/bytes.hpp"
#include "synack/util/expected.hpp"
#include "synack/wire/error.hpp"

namespace synack::wire {

namespace detail {
/// Parses a decimal number in [0, max] without sign or leading zeros; nullopt otherwise.
constexpr auto parse_decimal(std::string_view s, std::uint32_t max) noexcept -> std::optional<std::uint32_t> {
  if (s.empty() || s.size() > 10 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}
} // namespace detail

class ipv4_address {
public:
  constexpr ipv4_address() noexcept = default;
  constexpr ipv4_address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept
      : m_value(std::uint32_t{a} << 24 | std::uint32_t{b} << 16 | std::uint32_t{c} << 8 | d) {}

  /// From the host-order number (0xc0000201 is 192.0.2.1).
  static constexpr auto from_u32(std::uint32_t v) noexcept -> ipv4_address {
    ipv4_address a;
    a.m_value = v;
    return a;
  }
  /// Reads 4 bytes in network order at `p`.
  static auto from_bytes(const std::byte* p) noexcept -> ipv4_address { return from_u32(load_be<std::uint32_t>(p)); }
  /// 0.0.0.0 (INADDR_ANY).
  static constexpr auto unspecified() noexcept -> ipv4_address { return {}; }
  /// 255.255.255.255, the limited broadcast address.
  static constexpr auto broadcast() noexcept -> ipv4_address { return from_u32(0xffffffffu); }
  /// 127.0.0.1.
  static constexpr auto loopback() noexcept -> ipv4_address { return {127, 0, 0, 1}; }

  /// "a.b.c.d" -> address; anything else -> bad_syntax.
  static auto parse(std::string_view s) noexcept -> expected<ipv4_address, wire_error> {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      auto dot = i < 3 ? s.find('.') : s.size();
      if (dot == std::string_view::npos) return unexpected{wire_error::bad_syntax};
      auto part = detail::parse_decimal(s.substr(0, dot), 255);
      if (!part) return unexpected{wire_error::bad_syntax};
      v = v << 8 | *part;
      s.remove_prefix(i < 3 ? dot + 1 : dot);
    }
    return from_u32(v);
  }

  constexpr auto to_u32() const noexcept -> std::uint32_t { return m_value; }
  constexpr auto octets() const noexcept -> std::array<std::uint8_t, 4> {
    return {static_cast<std::uint8_t>(m_value >> 24), static_cast<std::uint8_t>(m_value >> 16),
            static_cast<std::uint8_t>(m_value >> 8), static_cast<std::uint8_t>(m_value)};
  }
  /// Writes the 4 bytes in network order at `p`.
  void write_to(std::byte* p) const noexcept { store_be<std::uint32_t>(p, m_value); }

  /// 0.0.0.0
  constexpr auto is_unspecified() const noexcept -> bool { return m_value == 0; }
  /// 255.255.255.255 only; a subnet's directed broadcast depends on the prefix (ipv4_cidr::broadcast).
  constexpr auto is_broadcast() const noexcept -> bool { return m_value == 0xffffffffu; }
  /// 224.0.0.0/4 (RFC 5771).
  constexpr auto is_multicast() const noexcept -> bool { return (m_value >> 28) == 0xe; }
  /// 127.0.0.0/8 (RFC 1122 §3.2.1.3 (g)).
  constexpr auto is_loopback() const noexcept -> bool { return (m_value >> 24) == 127; }
  /// 169.254.0.0/16 (RFC 3927).
  constexpr auto is_link_local() const noexcept -> bool { return (m_value >> 16) == 0xa9fe; }
  /// Neither unspecified, broadcast nor multicast: may be a packet's source or a TCP peer.
  constexpr auto is_unicast() const noexcept -> bool { return !is_unspecified() && !is_broadcast() && !is_multicast(); }

  friend constexpr auto operator==(ipv4_address, ipv4_address) noexcept -> bool = default;
  friend constexpr auto operator<=>(ipv4_address, ipv4_address) noexcept = default;

private:
  std::uint32_t m_value = 0;
};

/// An address with a prefix length: an interface address "192.0.2.1/24" or a network.
class ipv4_cidr {
public:
  constexpr ipv4_cidr() noexcept = default;
  /// Precondition: prefix_len <= 32 (clamped to 32 otherwise).
  constexpr ipv4_cidr(ipv4_address address, std::uint8_t prefix_len) noexcept
      : m_address(address), m_prefix_len(prefix_len > 32 ? std::uint8_t{32} : prefix_len) {}

  /// "a.b.c.d/n" with n in 0..32 -> cidr; anything else -> bad_syntax.
  static auto parse(std::string_view s) noexcept -> expected<ipv4_cidr, wire_error> {
    auto slash = s.find('/');
    if (slash == std::string_view::npos) return unexpected{wire_error::bad_syntax};
    auto addr = ipv4_address::parse(s.substr(0, slash));
    if (!addr) return unexpected{addr.error()};
    auto len = detail::parse_decimal(s.substr(slash + 1), 32);
    if (!len) return unexpected{wire_error::bad_syntax};
    return ipv4_cidr{*addr, static_cast<std::uint8_t>(*len)};
  }

  constexpr auto address() const noexcept -> ipv4_address { return m_address; }
  constexpr auto prefix_len() const noexcept -> std::uint8_t { return m_prefix_len; }
  /// /24 -> 255.255.255.0
  constexpr auto netmask() const noexcept -> ipv4_address {
    return ipv4_address::from_u32(m_prefix_len == 0 ? 0u : ~std::uint32_t{0} << (32 - m_prefix_len));
  }
  /// The network itself: 192.0.2.1/24 -> 192.0.2.0/24.
  constexpr auto network() const noexcept -> ipv4_cidr {
    return {ipv4_address::from_u32(m_address.to_u32() & netmask().to_u32()), m_prefix_len};
  }
  /// The directed broadcast address: 192.0.2.1/24 -> 192.0.2.255 (RFC 919 / RFC 922).
  constexpr auto broadcast() const noexcept -> ipv4_address {
    return ipv4_address::from_u32(m_address.to_u32() | ~netmask().to_u32());
  }
  /// Whether `a` is inside this network.
  constexpr auto contains(ipv4_address a) const noexcept -> bool {
    return ((a.to_u32() ^ m_address.to_u32()) & netmask().to_u32()) == 0;
  }

  friend constexpr auto operator==(const ipv4_cidr&, const ipv4_cidr&) noexcept -> bool = default;

private:
  ipv4_address m_address;
  std::uint8_t m_prefix_len = 0;
};

} // namespace synack::wire

template <>
struct std::hash<synack::wire::ipv4_address> {
  auto operator()(synack::wire::ipv4_address a) const noexcept -> std::size_t {
    return std::hash<std::uint32_t>{}(a.to_u32());
  }
};

template <>
struct fmt::formatter<synack::wire::ipv4_address> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(synack::wire::ipv4_address a, Ctx& ctx) const {
    auto o = a.octets();
    char buf[16];
    auto end = fmt::format_to_n(buf, sizeof buf, "{}.{}.{}.{}", o[0], o[1], o[2], o[3]).out;
    return fmt::formatter<std::string_view>::format(std::string_view(buf, static_cast<std::size_t>(end - buf)), ctx);
  }
};

template <>
struct fmt::formatter<synack::wire::ipv4_cidr> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const synack::wire::ipv4_cidr& c, Ctx& ctx) const {
    auto o = c.address().octets();
    char buf[20];
    auto end = fmt::format_to_n(buf, sizeof buf, "{}.{}.{}.{}/{}", o[0], o[1], o[2], o[3], c.prefix_len()).out;
    return fmt::formatter<std::string_view>::format(std::string_view(buf, static_cast<std::size_t>(end - buf)), ctx);
  }
};
