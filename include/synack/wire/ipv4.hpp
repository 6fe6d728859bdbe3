// synack/wire/ipv4.hpp: IPv4 headers (RFC 791 §3.1).
//
//   0       1       2       3
//   |ver|ihl| dscp/ecn| total length   |
//   | identification | flags|frag off  |
//   | ttl   | proto   | header checksum|
//   | source address                   |
//   | destination address              |
//   | options (ihl > 5) ...            |
//
// Contract of `ipv4_packet<Bytes>`: `check_len()` verifies, in this order,
//   buffer >= 20                                  else truncated
//   version == 4                                  else bad_version
//   IHL >= 5                                      else bad_header_len
//   buffer >= IHL*4                               else truncated
//   total length >= IHL*4                         else bad_total_len
//   buffer >= total length                        else truncated
// After it succeeded no accessor or setter reads or writes outside the buffer, and `payload()`
// is [IHL*4, total length): bytes past total length (Ethernet padding) are ignored.
// `set_header_len`, `set_total_len` and `set_version` invalidate check_len.
//
// `ipv4_repr::parse` adds, in this order: the header checksum (`bad_checksum`, unless
// checksum_check::skip), well-formed options (`bad_option`: a length below 2 or past the header,
// or a record route / source route / timestamp pointer below its smallest legal value; see
// find_bad_ipv4_option, and `bad_option_octet()` for where) and RFC 791 §3.2's bound on
// fragments, fragment offset + payload <= 65535 (`bad_fragment`). Well-formed options are never
// interpreted: they are skipped by IHL (RFC 1122 §3.2.1.8: "silently ignore" the ones not
// understood, and synack understands none). The reserved flag bit is ignored.
// `ipv4_repr::emit` always writes a 20-byte header without options. Policy checks that need
// more than the packet (source not broadcast/multicast, destination is us, reassembly) belong
// to net/.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>

#include <fmt/format.h>

#include "synack/wire/checksum.hpp"
#include "synack/wire/detail/view.hpp"
#include "synack/wire/ipv4_address.hpp"

namespace synack::wire {

/// IANA protocol numbers carried in the IPv4 protocol field.
enum class ip_protocol : std::uint8_t { icmp = 1, tcp = 6, udp = 17 };

/// The pseudo-header sum for a transport protocol (see checksum.hpp).
constexpr auto pseudo_header_sum(ipv4_address src, ipv4_address dst, ip_protocol p, std::uint16_t length) noexcept
    -> std::uint16_t {
  return pseudo_header_sum(src, dst, static_cast<std::uint8_t>(p), length);
}

namespace ipv4_field {
inline constexpr field_range ver_ihl{0, 1};
inline constexpr field_range dscp_ecn{1, 2};
inline constexpr field_range total_len{2, 4};
inline constexpr field_range ident{4, 6};
inline constexpr field_range flags_frag{6, 8};
inline constexpr field_range ttl{8, 9};
inline constexpr field_range protocol{9, 10};
inline constexpr field_range checksum{10, 12};
inline constexpr field_range src{12, 16};
inline constexpr field_range dst{16, 20};
inline constexpr std::size_t options = 20;
/// RFC 791: bit 0 reserved, bit 1 DF "0 = May Fragment, 1 = Don't Fragment", bit 2 MF.
inline constexpr std::uint16_t flag_reserved = 0x8000;
inline constexpr std::uint16_t flag_df = 0x4000;
inline constexpr std::uint16_t flag_mf = 0x2000;
inline constexpr std::uint16_t frag_offset_mask = 0x1fff;
} // namespace ipv4_field

/// RFC 791 §3.1 option types that the option walker knows the layout of (synack interprets none).
namespace ipv4_option {
inline constexpr std::uint8_t end_of_list = 0;
inline constexpr std::uint8_t no_operation = 1;
inline constexpr std::uint8_t record_route = 7;
inline constexpr std::uint8_t timestamp = 68;
inline constexpr std::uint8_t loose_source_route = 131;
inline constexpr std::uint8_t strict_source_route = 137;
} // namespace ipv4_option

/// Walks the options of an IPv4 header (the bytes after the fixed 20) and returns the offset,
/// in `options`, of the first malformed octet, or nothing when they are well-formed.
///
/// RFC 791 §3.1: an option is a single octet (End of Option List, No Operation) or "an
/// option-type octet, an option-length octet, and the actual option-data octets. The
/// option-length octet counts the option-type octet and the option-length octet as well as the
/// option-data octets." A length below 2 or past the header is malformed (the bad octet is the
/// length), and so is a type octet with no room for its length after it (the type). After an
/// End of Option List the rest is padding and is not looked at. The options whose data starts
/// with a pointer are checked as Linux checks them: record route and the source routes
/// ("the smallest legal value for the pointer is 4") and timestamp ("the smallest legal value is
/// 5"; its length counts a flags octet too); the bad octet is the length or the pointer.
/// RFC 1122 §3.2.1.8: "The IP layer must not crash as the result of an option length that is
/// outside the possible range"; a malformed option makes the datagram unusable (RFC 792,
/// parameter problem: "incorrect arguments in an option").
inline auto find_bad_ipv4_option(bytes_view options) noexcept -> std::optional<std::size_t> {
  std::size_t at = 0;
  while (at < options.size()) {
    const auto type = std::to_integer<std::uint8_t>(options[at]);
    if (type == ipv4_option::end_of_list) return std::nullopt;
    if (type == ipv4_option::no_operation) {
      ++at;
      continue;
    }
    if (at + 1 >= options.size()) return at; // no room for the length octet
    const std::size_t len = std::to_integer<std::uint8_t>(options[at + 1]);
    if (len < 2 || len > options.size() - at) return at + 1;
    std::size_t min_len = 2;
    std::size_t min_pointer = 0;
    switch (type) {
      case ipv4_option::record_route:
      case ipv4_option::loose_source_route:
      case ipv4_option::strict_source_route:
        min_len = 3;
        min_pointer = 4;
        break;
      case ipv4_option::timestamp:
        min_len = 4;
        min_pointer = 5;
        break;
      default:
        break;
    }
    if (len < min_len) return at + 1;
    if (min_pointer != 0 && std::to_integer<std::uint8_t>(options[at + 2]) < min_pointer) return at + 2;
    at += len;
  }
  return std::nullopt;
}

/// The fixed header; IHL * 4 can be up to 60.
inline constexpr std::size_t ipv4_min_header_len = 20;
inline constexpr std::size_t ipv4_max_header_len = 60;
/// RFC 791 total length is 16 bits.
inline constexpr std::size_t ipv4_max_total_len = 65535;

template <byte_span Bytes>
class ipv4_packet {
public:
  constexpr explicit ipv4_packet(Bytes b) noexcept : m_bytes(b) {}
  template <byte_span Other>
  requires(!std::same_as<Other, Bytes> &&
           std::convertible_to<Other, Bytes>) constexpr ipv4_packet(const ipv4_packet<Other>& o) noexcept
      : m_bytes(o.bytes()) {}

  static auto checked(Bytes b) noexcept -> expected<ipv4_packet, wire_error> {
    ipv4_packet p{b};
    if (auto r = p.check_len(); !r) return unexpected{r.error()};
    return p;
  }
  auto check_len() const noexcept -> expected<void, wire_error> {
    if (m_bytes.size() < ipv4_min_header_len) return unexpected{wire_error::truncated};
    if (version() != 4) return unexpected{wire_error::bad_version};
    // RFC 791 §3.1: "the minimum value for a correct header is 5."
    if (header_len() < ipv4_min_header_len) return unexpected{wire_error::bad_header_len};
    if (m_bytes.size() < header_len()) return unexpected{wire_error::truncated};
    if (total_len() < header_len()) return unexpected{wire_error::bad_total_len};
    if (m_bytes.size() < total_len()) return unexpected{wire_error::truncated};
    return {};
  }

  constexpr auto bytes() const noexcept -> Bytes { return m_bytes; }
  auto version() const noexcept -> std::uint8_t { return detail::u8(m_bytes, 0) >> 4; }
  /// IHL * 4, in bytes.
  auto header_len() const noexcept -> std::size_t { return std::size_t{detail::u8(m_bytes, 0) & 0x0fu} * 4; }
  auto dscp_ecn() const noexcept -> std::uint8_t { return detail::u8(m_bytes, ipv4_field::dscp_ecn.begin); }
  /// RFC 2474 differentiated services code point (upper 6 bits of the old TOS).
  auto dscp() const noexcept -> std::uint8_t { return dscp_ecn() >> 2; }
  /// RFC 3168 ECN field (lower 2 bits).
  auto ecn() const noexcept -> std::uint8_t { return dscp_ecn() & 0x03; }
  auto total_len() const noexcept -> std::uint16_t {
    return detail::get<std::uint16_t>(m_bytes, ipv4_field::total_len);
  }
  auto ident() const noexcept -> std::uint16_t { return detail::get<std::uint16_t>(m_bytes, ipv4_field::ident); }
  auto dont_fragment() const noexcept -> bool { return (flags_frag() & ipv4_field::flag_df) != 0; }
  auto more_fragments() const noexcept -> bool { return (flags_frag() & ipv4_field::flag_mf) != 0; }
  /// In bytes (the field counts 8-byte units).
  auto fragment_offset() const noexcept -> std::uint16_t {
    return static_cast<std::uint16_t>((flags_frag() & ipv4_field::frag_offset_mask) * 8u);
  }
  auto ttl() const noexcept -> std::uint8_t { return detail::u8(m_bytes, ipv4_field::ttl.begin); }
  auto protocol() const noexcept -> ip_protocol {
    return static_cast<ip_protocol>(detail::u8(m_bytes, ipv4_field::protocol.begin));
  }
  auto checksum() const noexcept -> std::uint16_t { return detail::get<std::uint16_t>(m_bytes, ipv4_field::checksum); }
  auto src() const noexcept -> ipv4_address { return ipv4_address::from_bytes(m_bytes.data() + ipv4_field::src.begin); }
  auto dst() const noexcept -> ipv4_address { return ipv4_address::from_bytes(m_bytes.data() + ipv4_field::dst.begin); }
  /// The option bytes (empty when IHL is 5); checked by bad_option_octet(), never interpreted.
  auto options() const noexcept -> Bytes {
    return m_bytes.subspan(ipv4_field::options, header_len() - ipv4_field::options);
  }
  /// The offset from the start of the header of the first malformed option octet (what an ICMP
  /// parameter problem points at), or nothing when the options are well-formed (or absent).
  auto bad_option_octet() const noexcept -> std::optional<std::size_t> {
    if (auto at = find_bad_ipv4_option(options())) return ipv4_field::options + *at;
    return std::nullopt;
  }
  /// [IHL*4, total length).
  auto payload() const noexcept -> Bytes { return m_bytes.subspan(header_len(), total_len() - header_len()); }
  /// Whether the header checksum verifies (RFC 791 §3.1: over the header only, IHL*4 bytes).
  auto verify_checksum() const noexcept -> bool { return ones_sum(m_bytes.first(header_len())) == 0xffff; }

  auto flags_frag() const noexcept -> std::uint16_t {
    return detail::get<std::uint16_t>(m_bytes, ipv4_field::flags_frag);
  }

  void set_version(std::uint8_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set_u8(m_bytes, 0, static_cast<std::uint8_t>(v << 4 | (detail::u8(m_bytes, 0) & 0x0f)));
  }
  /// Precondition: a multiple of 4 in [0, 60].
  void set_header_len(std::size_t len) noexcept requires mutable_byte_span<Bytes> {
    detail::set_u8(m_bytes, 0, static_cast<std::uint8_t>((detail::u8(m_bytes, 0) & 0xf0) | ((len / 4) & 0x0f)));
  }
  void set_dscp_ecn(std::uint8_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set_u8(m_bytes, ipv4_field::dscp_ecn.begin, v);
  }
  void set_total_len(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, ipv4_field::total_len, v);
  }
  void set_ident(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, ipv4_field::ident, v);
  }
  /// Writes the flags and the fragment offset (in bytes, a multiple of 8); the reserved bit is 0.
  void set_flags_frag(bool df, bool mf, std::uint16_t offset_bytes) noexcept requires mutable_byte_span<Bytes> {
    auto v = static_cast<std::uint16_t>((df ? ipv4_field::flag_df : 0) | (mf ? ipv4_field::flag_mf : 0) |
                                        ((offset_bytes / 8) & ipv4_field::frag_offset_mask));
    detail::set(m_bytes, ipv4_field::flags_frag, v);
  }
  void set_ttl(std::uint8_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set_u8(m_bytes, ipv4_field::ttl.begin, v);
  }
  void set_protocol(ip_protocol p) noexcept requires mutable_byte_span<Bytes> {
    detail::set_u8(m_bytes, ipv4_field::protocol.begin, static_cast<std::uint8_t>(p));
  }
  void set_checksum(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, ipv4_field::checksum, v);
  }
  void set_src(ipv4_address a) noexcept requires mutable_byte_span<Bytes> {
    a.write_to(m_bytes.data() + ipv4_field::src.begin);
  }
  void set_dst(ipv4_address a) noexcept requires mutable_byte_span<Bytes> {
    a.write_to(m_bytes.data() + ipv4_field::dst.begin);
  }
  /// Computes and stores the header checksum over IHL*4 bytes.
  void fill_checksum() noexcept requires mutable_byte_span<Bytes> {
    set_checksum(0);
    set_checksum(internet_checksum(m_bytes.first(header_len())));
  }
  /// Decrements the TTL and patches the checksum incrementally (RFC 1624 §4, the router case).
  void decrement_ttl() noexcept requires mutable_byte_span<Bytes> {
    auto old_word = detail::get<std::uint16_t>(m_bytes, field_range{8, 10});
    set_ttl(static_cast<std::uint8_t>(ttl() - 1));
    auto new_word = detail::get<std::uint16_t>(m_bytes, field_range{8, 10});
    set_checksum(checksum_update16(checksum(), old_word, new_word));
  }

private:
  Bytes m_bytes;
};

ipv4_packet(bytes_view)->ipv4_packet<bytes_view>;
ipv4_packet(bytes_mut)->ipv4_packet<bytes_mut>;

struct ipv4_repr {
  ipv4_address src;
  ipv4_address dst;
  ip_protocol protocol = ip_protocol::tcp;
  std::uint8_t ttl = 64;
  std::size_t payload_len = 0;
  std::uint8_t dscp_ecn = 0;
  std::uint16_t ident = 0;
  bool dont_fragment = true; ///< synack does path-MTU discovery (RFC 1191), so DF by default
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0; ///< in bytes, a multiple of 8

  auto is_fragment() const noexcept -> bool { return more_fragments || fragment_offset != 0; }

  static auto parse(const ipv4_packet<bytes_view>& p, checksum_check check = checksum_check::verify) noexcept
      -> expected<ipv4_repr, wire_error> {
    if (auto r = p.check_len(); !r) return unexpected{r.error()};
    // RFC 791 §3.1: "The checksum field is the 16 bit one's complement of the one's complement
    // sum of all 16 bit words in the header."
    if (check == checksum_check::verify && !p.verify_checksum()) return unexpected{wire_error::bad_checksum};
    // RFC 1122 §3.2.1.8 and RFC 792: a malformed option makes the datagram unusable.
    if (p.bad_option_octet()) return unexpected{wire_error::bad_option};
    std::size_t payload_len = p.total_len() - p.header_len();
    // RFC 791 §3.2: the fragment offset counts 8-octet units of a datagram whose total length is
    // at most 65535; a fragment reaching past that cannot be reassembled (the "ping of death").
    if (std::size_t{p.fragment_offset()} + payload_len + p.header_len() > ipv4_max_total_len)
      return unexpected{wire_error::bad_fragment};
    ipv4_repr r;
    r.src = p.src();
    r.dst = p.dst();
    r.protocol = p.protocol();
    r.ttl = p.ttl();
    r.payload_len = payload_len;
    r.dscp_ecn = p.dscp_ecn();
    r.ident = p.ident();
    r.dont_fragment = p.dont_fragment();
    r.more_fragments = p.more_fragments();
    r.fragment_offset = p.fragment_offset();
    return r;
  }

  static constexpr auto header_len() noexcept -> std::size_t { return ipv4_min_header_len; }
  constexpr auto buffer_len() const noexcept -> std::size_t { return header_len() + payload_len; }

  /// Writes a 20-byte header (no options) with the checksum (unless checksum_fill::none, which
  /// leaves it 0). Precondition: the packet holds at least 20 bytes and
  /// payload_len <= 65515; the payload is not touched.
  void emit(ipv4_packet<bytes_mut>& p, checksum_fill fill = checksum_fill::full) const noexcept {
    assert(p.bytes().size() >= header_len() && payload_len <= ipv4_max_total_len - ipv4_min_header_len);
    p.set_version(4);
    p.set_header_len(ipv4_min_header_len);
    p.set_dscp_ecn(dscp_ecn);
    p.set_total_len(static_cast<std::uint16_t>(buffer_len()));
    p.set_ident(ident);
    p.set_flags_frag(dont_fragment, more_fragments, fragment_offset);
    p.set_ttl(ttl);
    p.set_protocol(protocol);
    p.set_src(src);
    p.set_dst(dst);
    p.set_checksum(0);
    if (fill != checksum_fill::none) p.fill_checksum();
  }

  friend auto operator==(const ipv4_repr&, const ipv4_repr&) -> bool = default;
};

} // namespace synack::wire

template <>
struct fmt::formatter<synack::wire::ip_protocol> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(synack::wire::ip_protocol p, Ctx& ctx) const {
    using synack::wire::ip_protocol;
    switch (p) {
      case ip_protocol::icmp:
        return fmt::formatter<std::string_view>::format("ICMP", ctx);
      case ip_protocol::tcp:
        return fmt::formatter<std::string_view>::format("TCP", ctx);
      case ip_protocol::udp:
        return fmt::formatter<std::string_view>::format("UDP", ctx);
    }
    char buf[12];
    auto end = fmt::format_to_n(buf, sizeof buf, "proto {}", static_cast<unsigned>(p)).out;
    return fmt::formatter<std::string_view>::format(std::string_view(buf, static_cast<std::size_t>(end - buf)), ctx);
  }
};

/// "192.0.2.1 > 192.0.2.2 TCP ttl=64 id=57618 DF len=40"
template <>
struct fmt::formatter<synack::wire::ipv4_repr> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <class Ctx>
  auto format(const synack::wire::ipv4_repr& r, Ctx& ctx) const {
    auto out = fmt::format_to(ctx.out(), "{} > {} {} ttl={} id={}", r.src, r.dst, r.protocol, r.ttl, r.ident);
    if (r.dscp_ecn != 0) out = fmt::format_to(out, " tos=0x{:02x}", r.dscp_ecn);
    if (r.dont_fragment) out = fmt::format_to(out, " DF");
    if (r.more_fragments) out = fmt::format_to(out, " MF");
    if (r.fragment_offset != 0) out = fmt::format_to(out, " off={}", r.fragment_offset);
    return fmt::format_to(out, " len={}", r.payload_len);
  }
};
