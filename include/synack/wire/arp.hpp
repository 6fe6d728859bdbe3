// synack/wire/arp.hpp: ARP for IPv4 over Ethernet (RFC 826), the only kind synack speaks.
//
//   0      2      4    5    6      8        14       18       24       28
//   | htype| ptype|hlen|plen| oper | sha    | spa    | tha    | tpa    |
//     1     0x0800  6    4   1 / 2
//
// Contract of `arp_packet<Bytes>`: `check_len()` succeeds only for an Ethernet/IPv4 packet
// (htype 1, ptype 0x0800, hlen 6, plen 4; anything else is `unsupported`) of at least 28 bytes
// (`truncated` otherwise, also below the 8-byte fixed part). After it succeeded no accessor or
// setter reads or writes outside the buffer. The setters of htype / ptype / hlen / plen
// invalidate check_len. Bytes after the 28th (Ethernet padding) are ignored.
//
// `arp_repr::parse` also rejects operations other than request (1) and reply (2) with
// `unsupported` (RFC 903 RARP and RFC 5494 experimental values are not ours).
#pragma once

#include <cstdint>

#include <fmt/format.h>

#include "synack/wire/detail/view.hpp"
#include "synack/wire/ethernet.hpp"
#include "synack/wire/ipv4_address.hpp"

namespace synack::wire {

/// RFC 826 ar$op.
enum class arp_operation : std::uint16_t { request = 1, reply = 2 };

namespace arp_field {
inline constexpr field_range htype{0, 2};
inline constexpr field_range ptype{2, 4};
inline constexpr field_range hlen{4, 5};
inline constexpr field_range plen{5, 6};
inline constexpr field_range oper{6, 8};
inline constexpr field_range sha{8, 14};
inline constexpr field_range spa{14, 18};
inline constexpr field_range tha{18, 24};
inline constexpr field_range tpa{24, 28};
} // namespace arp_field

/// RFC 826 ar$hrd for Ethernet (the value "1" from the assigned numbers) and ar$pro for IPv4.
inline constexpr std::uint16_t arp_htype_ethernet = 1;
inline constexpr std::uint16_t arp_ptype_ipv4 = 0x0800;

template <byte_span Bytes>
class arp_packet {
public:
  static constexpr std::size_t fixed_len = 8;
  /// The size of an Ethernet/IPv4 ARP packet.
  static constexpr std::size_t packet_len = 28;

  constexpr explicit arp_packet(Bytes b) noexcept : m_bytes(b) {}
  template <byte_span Other>
  requires(!std::same_as<Other, Bytes> &&
           std::convertible_to<Other, Bytes>) constexpr arp_packet(const arp_packet<Other>& o) noexcept
      : m_bytes(o.bytes()) {}

  static auto checked(Bytes b) noexcept -> expected<arp_packet, wire_error> {
    arp_packet p{b};
    if (auto r = p.check_len(); !r) return unexpected{r.error()};
    return p;
  }
  auto check_len() const noexcept -> expected<void, wire_error> {
    if (m_bytes.size() < fixed_len) return unexpected{wire_error::truncated};
    if (htype() != arp_htype_ethernet || ptype() != arp_ptype_ipv4 || hlen() != 6 || plen() != 4)
      return unexpected{wire_error::unsupported};
    if (m_bytes.size() < packet_len) return unexpected{wire_error::truncated};
    return {};
  }

  constexpr auto bytes() const noexcept -> Bytes { return m_bytes; }
  auto htype() const noexcept -> std::uint16_t { return detail::get<std::uint16_t>(m_bytes, arp_field::htype); }
  auto ptype() const noexcept -> std::uint16_t { return detail::get<std::uint16_t>(m_bytes, arp_field::ptype); }
  auto hlen() const noexcept -> std::uint8_t { return detail::u8(m_bytes, arp_field::hlen.begin); }
  auto plen() const noexcept -> std::uint8_t { return detail::u8(m_bytes, arp_field::plen.begin); }
  auto operation() const noexcept -> arp_operation {
    return static_cast<arp_operation>(detail::get<std::uint16_t>(m_bytes, arp_field::oper));
  }
  auto sender_mac() const noexcept -> mac_address {
    return mac_address::from_bytes(m_bytes.data() + arp_field::sha.begin);
  }
  auto sender_ip() const noexcept -> ipv4_address {
    return ipv4_address::from_bytes(m_bytes.data() + arp_field::spa.begin);
  }
  auto target_mac() const noexcept -> mac_address {
    return mac_address::from_bytes(m_bytes.data() + arp_field::tha.begin);
  }
  auto target_ip() const noexcept -> ipv4_address {
    return ipv4_address::from_bytes(m_bytes.data() + arp_field::tpa.begin);
  }

  void set_htype(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, arp_field::htype, v);
  }
  void set_ptype(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, arp_field::ptype, v);
  }
  void set_hlen(std::uint8_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set_u8(m_bytes, arp_field::hlen.begin, v);
  }
  void set_plen(std::uint8_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set_u8(m_bytes, arp_field::plen.begin, v);
  }
  void set_operation(arp_operation op) noexcept requires mutable_byte_span<Bytes> {
    detail::set<std::uint16_t>(m_bytes, arp_field::oper, static_cast<std::uint16_t>(op));
  }
  void set_sender_mac(const mac_address& a) noexcept requires mutable_byte_span<Bytes> {
    a.write_to(m_bytes.data() + arp_field::sha.begin);
  }
  void set_sender_ip(ipv4_address a) noexcept requires mutable_byte_span<Bytes> {
    a.write_to(m_bytes.data() + arp_field::spa.begin);
  }
  void set_target_mac(const mac_address& a) noexcept requires mutable_byte_span<Bytes> {
    a.write_to(m_bytes.data() + arp_field::tha.begin);
  }
  void set_target_ip(ipv4_address a) noexcept requires mutable_byte_span<Bytes> {
    a.write_to(m_bytes.data() + arp_field::tpa.begin);
  }

private:
  Bytes m_bytes;
};

arp_packet(bytes_view)->arp_packet<bytes_view>;
arp_packet(bytes_mut)->arp_packet<bytes_mut>;

struct arp_repr {
  arp_operation operation = arp_operation::request;
  mac_address sender_mac;
  ipv4_address sender_ip;
  mac_address target_mac; ///< zero in a request (RFC 826 leaves it unspecified; Linux sends zeros)
  ipv4_address target_ip;

  static auto parse(const arp_packet<bytes_view>& p) noexcept -> expected<arp_repr, wire_error> {
    if (auto r = p.check_len(); !r) return unexpected{r.error()};
    if (p.operation() != arp_operation::request && p.operation() != arp_operation::reply)
      return unexpected{wire_error::unsupported};
    return arp_repr{p.operation(), p.sender_mac(), p.sender_ip(), p.target_mac(), p.target_ip()};
  }

  static constexpr auto buffer_len() noexcept -> std::size_t { return 28; }

  /// Writes all 28 bytes. Precondition: the packet holds at least 28 bytes.
  void emit(arp_packet<bytes_mut>& p) const noexcept {
    p.set_htype(arp_htype_ethernet);
    p.set_ptype(arp_ptype_ipv4);
    p.set_hlen(6);
    p.set_plen(4);
    p.set_operation(operation);
    p.set_sender_mac(sender_mac);
    p.set_sender_ip(sender_ip);
    p.set_target_mac(target_mac);
    p.set_target_ip(target_ip);
  }

  friend auto operator==(const arp_repr&, const arp_repr&) -> bool = default;
};

} // namespace synack::wire

/// tcpdump-like: "ARP who-has 192.0.2.2 tell 192.0.2.1" / "ARP 192.0.2.2 is-at 02:00:00:00:00:02".
template <>
struct fmt::formatter<synack::wire::arp_repr> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <class Ctx>
  auto format(const synack::wire::arp_repr& a, Ctx& ctx) const {
    if (a.operation == synack::wire::arp_operation::request)
      return fmt::format_to(ctx.out(), "ARP who-has {} tell {} ({})", a.target_ip, a.sender_ip, a.sender_mac);
    return fmt::format_to(ctx.out(), "ARP {} is-at {} to {} ({})", a.sender_ip, a.sender_mac, a.target_ip,
                          a.target_mac);
  }
};
