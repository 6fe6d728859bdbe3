// synack/wire/ethernet.hpp: Ethernet II frames (IEEE 802.3 §3.2.6 "Length/Type" >= 0x0600).
//
//   0      6      12          14
//   | dst  | src  | ethertype | payload ... (FCS not included: Linux hands frames without it)
//
// Contract of `ethernet_frame<Bytes>`: after `check_len()` (or `checked()`) succeeded, no
// accessor or setter reads or writes outside the buffer. No setter changes the header length,
// so none invalidates `check_len`. `checked()` only checks the length; `ethernet_repr::parse`
// also rejects what synack does not handle, with `wire_error::unsupported`:
//   - 802.1Q / 802.1ad VLAN tags (ethertype 0x8100 / 0x88a8): synack's links are untagged
//     (AF_PACKET delivers the tag out of band by default anyway);
//   - IEEE 802.3 frames with a length instead of a type (field < 0x0600) and the undefined
//     values 0x05dc..0x05ff.
// Frames shorter than the 60-byte minimum arrive padded with zeros; the padding is part of the
// payload and the layer above ignores it (IPv4 by its total length, ARP by its fixed size).
// `emit` writes the 14-byte header only; padding short frames is the link's business
// (`ethernet_min_frame_len`).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>

#include <fmt/format.h>

#include "synack/wire/detail/view.hpp"

namespace synack::wire {

class mac_address {
public:
  constexpr mac_address() noexcept = default;
  constexpr explicit mac_address(const std::array<std::uint8_t, 6>& b) noexcept : m_bytes(b) {}
  constexpr mac_address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint8_t e,
                        std::uint8_t f) noexcept
      : m_bytes{a, b, c, d, e, f} {}

  static auto from_bytes(const std::byte* p) noexcept -> mac_address {
    mac_address m;
    std::memcpy(m.m_bytes.data(), p, 6);
    return m;
  }
  static constexpr auto broadcast() noexcept -> mac_address { return {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}; }

  /// "02:00:00:00:00:01" (also with '-' separators; hex digits in either case) -> address.
  static auto parse(std::string_view s) noexcept -> expected<mac_address, wire_error> {
    if (s.size() != 17) return unexpected{wire_error::bad_syntax};
    mac_address m;
    char sep = s[2];
    if (sep != ':' && sep != '-') return unexpected{wire_error::bad_syntax};
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    for (std::size_t i = 0; i < 6; ++i) {
      int hi = hex(s[3 * i]), lo = hex(s[3 * i + 1]);
      if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != sep)) return unexpected{wire_error::bad_syntax};
      m.m_bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return m;
  }

  void write_to(std::byte* p) const noexcept { std::memcpy(p, m_bytes.data(), 6); }
  constexpr auto octets() const noexcept -> const std::array<std::uint8_t, 6>& { return m_bytes; }

  constexpr auto is_broadcast() const noexcept -> bool { return *this == broadcast(); }
  /// I/G bit set (broadcast included).
  constexpr auto is_multicast() const noexcept -> bool { return (m_bytes[0] & 0x01) != 0; }
  constexpr auto is_unicast() const noexcept -> bool { return !is_multicast(); }
  /// U/L bit set: a locally administered address (such as 02:00:00:00:00:01).
  constexpr auto is_local() const noexcept -> bool { return (m_bytes[0] & 0x02) != 0; }
  constexpr auto is_zero() const noexcept -> bool { return *this == mac_address{}; }

  friend constexpr auto operator==(const mac_address&, const mac_address&) noexcept -> bool = default;
  friend constexpr auto operator<=>(const mac_address&, const mac_address&) noexcept = default;

private:
  std::array<std::uint8_t, 6> m_bytes{};
};

/// EtherType values synack knows (IEEE Registration Authority).
enum class ethertype : std::uint16_t {
  ipv4 = 0x0800,
  arp = 0x0806,
  vlan = 0x8100, ///< 802.1Q tag: rejected as unsupported
  ipv6 = 0x86dd,
  qinq = 0x88a8, ///< 802.1ad tag: rejected as unsupported
};

/// The smallest Ethernet frame without FCS; shorter frames are padded with zeros on transmit.
inline constexpr std::size_t ethernet_min_frame_len = 60;

namespace ethernet_field {
inline constexpr field_range dst{0, 6};
inline constexpr field_range src{6, 12};
inline constexpr field_range ethertype{12, 14};
inline constexpr std::size_t payload = 14;
} // namespace ethernet_field

template <byte_span Bytes>
class ethernet_frame {
public:
  static constexpr std::size_t header_len = 14;

  constexpr explicit ethernet_frame(Bytes b) noexcept : m_bytes(b) {}
  template <byte_span Other>
  requires(!std::same_as<Other, Bytes> &&
           std::convertible_to<Other, Bytes>) constexpr ethernet_frame(const ethernet_frame<Other>& o) noexcept
      : m_bytes(o.bytes()) {}

  /// A view over `b` after check_len() succeeded.
  static auto checked(Bytes b) noexcept -> expected<ethernet_frame, wire_error> {
    ethernet_frame f{b};
    if (auto r = f.check_len(); !r) return unexpected{r.error()};
    return f;
  }
  auto check_len() const noexcept -> expected<void, wire_error> {
    if (m_bytes.size() < header_len) return unexpected{wire_error::truncated};
    return {};
  }

  constexpr auto bytes() const noexcept -> Bytes { return m_bytes; }
  auto dst() const noexcept -> mac_address {
    return mac_address::from_bytes(m_bytes.data() + ethernet_field::dst.begin);
  }
  auto src() const noexcept -> mac_address {
    return mac_address::from_bytes(m_bytes.data() + ethernet_field::src.begin);
  }
  auto ethertype() const noexcept -> wire::ethertype {
    return static_cast<wire::ethertype>(detail::get<std::uint16_t>(m_bytes, ethernet_field::ethertype));
  }
  auto payload() const noexcept -> Bytes { return m_bytes.subspan(ethernet_field::payload); }

  void set_dst(const mac_address& a) noexcept requires mutable_byte_span<Bytes> {
    a.write_to(m_bytes.data() + ethernet_field::dst.begin);
  }
  void set_src(const mac_address& a) noexcept requires mutable_byte_span<Bytes> {
    a.write_to(m_bytes.data() + ethernet_field::src.begin);
  }
  void set_ethertype(wire::ethertype t) noexcept requires mutable_byte_span<Bytes> {
    detail::set<std::uint16_t>(m_bytes, ethernet_field::ethertype, static_cast<std::uint16_t>(t));
  }

private:
  Bytes m_bytes;
};

ethernet_frame(bytes_view)->ethernet_frame<bytes_view>;
ethernet_frame(bytes_mut)->ethernet_frame<bytes_mut>;

struct ethernet_repr {
  mac_address src;
  mac_address dst;
  wire::ethertype ethertype = wire::ethertype::ipv4;

  static auto parse(const ethernet_frame<bytes_view>& f) noexcept -> expected<ethernet_repr, wire_error> {
    if (auto r = f.check_len(); !r) return unexpected{r.error()};
    auto t = static_cast<std::uint16_t>(f.ethertype());
    // IEEE 802.3 §3.2.6: values below 1536 (0x0600) are a length (802.3 / LLC framing).
    if (t < 0x0600) return unexpected{wire_error::unsupported};
    // 802.1Q / 802.1ad tags: see the header comment.
    if (f.ethertype() == wire::ethertype::vlan || f.ethertype() == wire::ethertype::qinq)
      return unexpected{wire_error::unsupported};
    return ethernet_repr{f.src(), f.dst(), f.ethertype()};
  }

  static constexpr auto header_len() noexcept -> std::size_t { return 14; }
  static constexpr auto buffer_len(std::size_t payload_len) noexcept -> std::size_t { return 14 + payload_len; }

  /// Writes the 14-byte header. Precondition: the frame holds at least 14 bytes.
  void emit(ethernet_frame<bytes_mut>& f) const noexcept {
    f.set_dst(dst);
    f.set_src(src);
    f.set_ethertype(ethertype);
  }

  friend auto operator==(const ethernet_repr&, const ethernet_repr&) -> bool = default;
};

} // namespace synack::wire

template <>
struct std::hash<synack::wire::mac_address> {
  auto operator()(const synack::wire::mac_address& m) const noexcept -> std::size_t {
    std::uint64_t k = 0;
    for (auto b : m.octets()) k = k << 8 | b;
    return std::hash<std::uint64_t>{}(k);
  }
};

template <>
struct fmt::formatter<synack::wire::mac_address> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const synack::wire::mac_address& m, Ctx& ctx) const {
    const auto& o = m.octets();
    char buf[18];
    fmt::format_to_n(buf, sizeof buf, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3], o[4], o[5]);
    return fmt::formatter<std::string_view>::format(std::string_view(buf, 17), ctx);
  }
};

template <>
struct fmt::formatter<synack::wire::ethertype> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(synack::wire::ethertype t, Ctx& ctx) const {
    using synack::wire::ethertype;
    switch (t) {
      case ethertype::ipv4:
        return fmt::formatter<std::string_view>::format("IPv4", ctx);
      case ethertype::arp:
        return fmt::formatter<std::string_view>::format("ARP", ctx);
      case ethertype::vlan:
        return fmt::formatter<std::string_view>::format("802.1Q", ctx);
      case ethertype::ipv6:
        return fmt::formatter<std::string_view>::format("IPv6", ctx);
      case ethertype::qinq:
        return fmt::formatter<std::string_view>::format("802.1ad", ctx);
    }
    char buf[8];
    fmt::format_to_n(buf, sizeof buf, "0x{:04x}", static_cast<std::uint16_t>(t));
    return fmt::formatter<std::string_view>::format(std::string_view(buf, 6), ctx);
  }
};

/// "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP"
template <>
struct fmt::formatter<synack::wire::ethernet_repr> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <class Ctx>
  auto format(const synack::wire::ethernet_repr& e, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "{} > {} {}", e.src, e.dst, e.ethertype);
  }
};
