// synack/wire/icmpv4.hpp: ICMP for IPv4 (RFC 792).
//
//   0      1      2          4                8
//   | type | code | checksum | rest of header | data ...
//
//   echo request (8) / reply (0):   rest = identifier, sequence number; data = echo data
//   destination unreachable (3):    rest = unused, next-hop MTU for code 4 (RFC 1191 §4);
//                                   data = "Internet Header + 64 bits of Original Data Datagram"
//   time exceeded (11):             rest = unused; data = the same quote of the original datagram
//   parameter problem (12):         rest = pointer (1 octet), unused; data = the same quote
//
// Contract of `icmpv4_packet<Bytes>`: `check_len()` needs the 8-byte header (`truncated`
// otherwise); after it succeeded no accessor or setter reads or writes outside the buffer. The
// message is the whole buffer: give the view exactly the IPv4 payload. No setter invalidates
// check_len.
//
// Decision on other types: `icmpv4_repr::parse` accepts every type. The four above get their
// fields decoded; any other type (redirect, parameter problem, timestamp, ...) parses as an
// "other" message that keeps type, code, the raw 4 rest-of-header bytes and the data, and
// re-emits byte for byte (parameter problem has a factory and `param_pointer()` over those raw
// bytes). Rejecting them here would make them look malformed; instead net/ sees
// `!is_decoded()`, counts them, and follows RFC 1122 §3.2.2: "If an ICMP message of unknown type
// is received, it MUST be silently discarded." Codes are kept raw and never rejected: what a
// code means is net/'s business (RFC 1122 §3.2.2.1 lists how a host reacts to each).
// The only errors are `truncated` (below 8 bytes) and `bad_checksum` ("the 16-bit one's
// complement of the one's complement sum of the ICMP message starting with the ICMP Type").
//
// The quote inside an error message is not parsed by icmpv4_repr (it is raw `data`, and it is
// cut short on purpose); `parse_icmpv4_quote` reads the addresses, protocol and ports from it.
// The unused bytes of dest-unreachable and time-exceeded (and RFC 4884's length field in them)
// are not kept: emit writes them as zero.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "synack/wire/checksum.hpp"
#include "synack/wire/detail/view.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/seq_number.hpp"

namespace synack::wire {

/// RFC 792 message types (only the named ones are decoded; others parse as raw messages).
enum class icmpv4_type : std::uint8_t {
  echo_reply = 0,
  dest_unreachable = 3,
  source_quench = 4,
  redirect = 5,
  echo_request = 8,
  time_exceeded = 11,
  parameter_problem = 12,
  timestamp = 13,
  timestamp_reply = 14,
};

/// RFC 792 (0-5) and RFC 1122 §3.2.2.1 / RFC 1812 §5.2.7.1 (6-15) destination unreachable codes.
enum class icmpv4_unreachable : std::uint8_t {
  net = 0,
  host = 1,
  protocol = 2,
  port = 3,
  frag_needed = 4, ///< "fragmentation needed and DF set": carries the next-hop MTU (RFC 1191)
  source_route_failed = 5,
  net_unknown = 6,
  host_unknown = 7,
  host_isolated = 8,
  net_prohibited = 9,
  host_prohibited = 10,
  net_tos = 11,
  host_tos = 12,
  admin_prohibited = 13,
  host_precedence = 14,
  precedence_cutoff = 15,
};

/// RFC 792 time exceeded codes.
enum class icmpv4_time_exceeded : std::uint8_t { ttl = 0, fragment_reassembly = 1 };

namespace icmpv4_field {
inline constexpr field_range type{0, 1};
inline constexpr field_range code{1, 2};
inline constexpr field_range checksum{2, 4};
inline constexpr field_range rest{4, 8};
inline constexpr field_range echo_ident{4, 6};
inline constexpr field_range echo_seq_no{6, 8};
inline constexpr field_range next_hop_mtu{6, 8};
inline constexpr std::size_t data = 8;
} // namespace icmpv4_field

inline constexpr std::size_t icmpv4_header_len = 8;

template <byte_span Bytes>
class icmpv4_packet {
public:
  constexpr explicit icmpv4_packet(Bytes b) noexcept : m_bytes(b) {}
  template <byte_span Other>
  requires(!std::same_as<Other, Bytes> &&
           std::convertible_to<Other, Bytes>) constexpr icmpv4_packet(const icmpv4_packet<Other>& o) noexcept
      : m_bytes(o.bytes()) {}

  static auto checked(Bytes b) noexcept -> expected<icmpv4_packet, wire_error> {
    icmpv4_packet p{b};
    if (auto r = p.check_len(); !r) return unexpected{r.error()};
    return p;
  }
  auto check_len() const noexcept -> expected<void, wire_error> {
    if (m_bytes.size() < icmpv4_header_len) return unexpected{wire_error::truncated};
    return {};
  }

  constexpr auto bytes() const noexcept -> Bytes { return m_bytes; }
  auto type() const noexcept -> icmpv4_type { return static_cast<icmpv4_type>(detail::u8(m_bytes, 0)); }
  auto code() const noexcept -> std::uint8_t { return detail::u8(m_bytes, 1); }
  auto checksum() const noexcept -> std::uint16_t {
    return detail::get<std::uint16_t>(m_bytes, icmpv4_field::checksum);
  }
  auto rest_of_header() const noexcept -> std::uint32_t {
    return detail::get<std::uint32_t>(m_bytes, icmpv4_field::rest);
  }
  auto echo_ident() const noexcept -> std::uint16_t {
    return detail::get<std::uint16_t>(m_bytes, icmpv4_field::echo_ident);
  }
  auto echo_seq_no() const noexcept -> std::uint16_t {
    return detail::get<std::uint16_t>(m_bytes, icmpv4_field::echo_seq_no);
  }
  auto next_hop_mtu() const noexcept -> std::uint16_t {
    return detail::get<std::uint16_t>(m_bytes, icmpv4_field::next_hop_mtu);
  }
  auto data() const noexcept -> Bytes { return m_bytes.subspan(icmpv4_field::data); }
  auto verify_checksum() const noexcept -> bool { return ones_sum(m_bytes) == 0xffff; }

  void set_type(icmpv4_type t) noexcept requires mutable_byte_span<Bytes> {
    detail::set_u8(m_bytes, 0, static_cast<std::uint8_t>(t));
  }
  void set_code(std::uint8_t c) noexcept requires mutable_byte_span<Bytes> { detail::set_u8(m_bytes, 1, c); }
  void set_checksum(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, icmpv4_field::checksum, v);
  }
  void set_rest_of_header(std::uint32_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, icmpv4_field::rest, v);
  }
  void set_echo_ident(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, icmpv4_field::echo_ident, v);
  }
  void set_echo_seq_no(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, icmpv4_field::echo_seq_no, v);
  }
  void set_next_hop_mtu(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, icmpv4_field::next_hop_mtu, v);
  }
  /// Computes and stores the checksum over the whole buffer.
  void fill_checksum() noexcept requires mutable_byte_span<Bytes> {
    set_checksum(0);
    set_checksum(internet_checksum(m_bytes));
  }

private:
  Bytes m_bytes;
};

icmpv4_packet(bytes_view)->icmpv4_packet<bytes_view>;
icmpv4_packet(bytes_mut)->icmpv4_packet<bytes_mut>;

struct icmpv4_repr {
  icmpv4_type type = icmpv4_type::echo_request;
  std::uint8_t code = 0;
  std::uint16_t ident = 0;          ///< echo request / reply
  std::uint16_t seq_no = 0;         ///< echo request / reply
  std::uint16_t next_hop_mtu = 0;   ///< dest unreachable, code frag_needed (RFC 1191 §4); else 0
  std::uint32_t rest_of_header = 0; ///< other types: bytes 4..8 as they are
  bytes_view data;                  ///< echo data, the quoted datagram of an error, or the body

  static auto echo_request(std::uint16_t ident, std::uint16_t seq_no, bytes_view data) noexcept -> icmpv4_repr {
    return {icmpv4_type::echo_request, 0, ident, seq_no, 0, 0, data};
  }
  /// RFC 792: "The data received in the echo message must be returned in the echo reply message."
  static auto echo_reply(std::uint16_t ident, std::uint16_t seq_no, bytes_view data) noexcept -> icmpv4_repr {
    return {icmpv4_type::echo_reply, 0, ident, seq_no, 0, 0, data};
  }
  /// `original` is the offending datagram's IP header and at least 64 bits of its data
  /// (RFC 1812 §4.3.2.3 allows more, up to 576 bytes in all: see `icmpv4_max_quote_len`).
  static auto dest_unreachable(icmpv4_unreachable code, bytes_view original, std::uint16_t mtu = 0) noexcept
      -> icmpv4_repr {
    return {icmpv4_type::dest_unreachable, static_cast<std::uint8_t>(code), 0, 0, mtu, 0, original};
  }
  static auto time_exceeded(icmpv4_time_exceeded code, bytes_view original) noexcept -> icmpv4_repr {
    return {icmpv4_type::time_exceeded, static_cast<std::uint8_t>(code), 0, 0, 0, 0, original};
  }
  /// RFC 792 parameter problem, code 0: "the pointer indicates the error". `pointer` is the
  /// offset of the bad octet in the original datagram's header; it is the first octet of the
  /// rest of the header (the other three are unused, zero). `original` as for dest_unreachable.
  static auto parameter_problem(std::uint8_t pointer, bytes_view original) noexcept -> icmpv4_repr {
    return {icmpv4_type::parameter_problem, 0, 0, 0, 0, std::uint32_t{pointer} << 24, original};
  }
  /// Parameter problem: the pointer (the first octet of the rest of the header, RFC 792).
  auto param_pointer() const noexcept -> std::uint8_t { return static_cast<std::uint8_t>(rest_of_header >> 24); }

  auto is_echo() const noexcept -> bool { return type == icmpv4_type::echo_request || type == icmpv4_type::echo_reply; }
  /// An error message that quotes a datagram (RFC 1122 §3.2.2).
  auto is_error() const noexcept -> bool {
    return type == icmpv4_type::dest_unreachable || type == icmpv4_type::time_exceeded ||
           type == icmpv4_type::parameter_problem || type == icmpv4_type::source_quench ||
           type == icmpv4_type::redirect;
  }
  /// One of the types whose rest-of-header this repr decodes (echo, dest unreachable, time exceeded).
  auto is_decoded() const noexcept -> bool {
    return is_echo() || type == icmpv4_type::dest_unreachable || type == icmpv4_type::time_exceeded;
  }

  static auto parse(const icmpv4_packet<bytes_view>& p, checksum_check check = checksum_check::verify) noexcept
      -> expected<icmpv4_repr, wire_error> {
    if (auto r = p.check_len(); !r) return unexpected{r.error()};
    if (check == checksum_check::verify && !p.verify_checksum()) return unexpected{wire_error::bad_checksum};
    icmpv4_repr r;
    r.type = p.type();
    r.code = p.code();
    r.data = p.data();
    switch (r.type) {
      case icmpv4_type::echo_request:
      case icmpv4_type::echo_reply:
        r.ident = p.echo_ident();
        r.seq_no = p.echo_seq_no();
        break;
      case icmpv4_type::dest_unreachable:
        if (r.code == static_cast<std::uint8_t>(icmpv4_unreachable::frag_needed)) r.next_hop_mtu = p.next_hop_mtu();
        break;
      case icmpv4_type::time_exceeded:
        break;
      default:
        r.rest_of_header = p.rest_of_header();
        break;
    }
    return r;
  }

  constexpr auto buffer_len() const noexcept -> std::size_t { return icmpv4_header_len + data.size(); }

  /// Writes the header, copies `data` after it (it may already be there) and fills the
  /// checksum over the whole message unless `fill` is not `full` (ICMP has no pseudo header,
  /// so pseudo_header_only leaves 0, the sum a CHECKSUM_PARTIAL device starts from).
  /// Precondition: the packet holds buffer_len() bytes; the checksum covers exactly those.
  void emit(icmpv4_packet<bytes_mut>& p, checksum_fill fill = checksum_fill::full) const noexcept {
    assert(p.bytes().size() >= buffer_len());
    // Data first: it may overlap the header's place (memmove copes, the header comes after).
    auto dst = p.bytes().subspan(icmpv4_field::data, data.size());
    if (!data.empty() && dst.data() != data.data()) std::memmove(dst.data(), data.data(), data.size());
    p.set_type(type);
    p.set_code(code);
    p.set_checksum(0);
    switch (type) {
      case icmpv4_type::echo_request:
      case icmpv4_type::echo_reply:
        p.set_echo_ident(ident);
        p.set_echo_seq_no(seq_no);
        break;
      case icmpv4_type::dest_unreachable:
        p.set_rest_of_header(next_hop_mtu);
        break;
      case icmpv4_type::time_exceeded:
        p.set_rest_of_header(0);
        break;
      default:
        p.set_rest_of_header(rest_of_header);
        break;
    }
    if (fill == checksum_fill::full) {
      icmpv4_packet<bytes_mut> whole{p.bytes().first(buffer_len())};
      whole.fill_checksum();
    }
  }

  /// Field-wise equality, data compared by content.
  friend auto operator==(const icmpv4_repr& a, const icmpv4_repr& b) noexcept -> bool {
    return a.type == b.type && a.code == b.code && a.ident == b.ident && a.seq_no == b.seq_no &&
           a.next_hop_mtu == b.next_hop_mtu && a.rest_of_header == b.rest_of_header &&
           std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end());
  }
};

/// RFC 1812 §4.3.2.3: an ICMP error "SHOULD contain as much of the original datagram as possible
/// without the length of the ICMP datagram exceeding 576 bytes": 576 - 20 (IP) - 8 (ICMP).
inline constexpr std::size_t icmpv4_max_quote_len = 548;

/// What an ICMP error tells about the datagram that caused it (RFC 1122 §3.2.2: "the Internet
/// header and at least the first 8 data octets of the datagram that triggered the error").
struct icmpv4_quote {
  ipv4_address src;
  ipv4_address dst;
  ip_protocol protocol = ip_protocol::tcp;
  std::uint16_t src_port = 0; ///< TCP / UDP: first 2 bytes of the transport header
  std::uint16_t dst_port = 0; ///< TCP / UDP: next 2 bytes
  seq_number tcp_seq;         ///< TCP: the sequence number (RFC 5927 §4.1 checks it against SND.UNA..SND.NXT)
  bytes_view header;          ///< the quoted IPv4 header (options included)
  bytes_view transport;       ///< the quoted transport bytes (at least 8)
};

/// Reads the quote of an ICMP error (`icmpv4_repr::data`). The datagram is cut short on purpose,
/// so its total length and checksum are not checked; only what is read must be there:
/// buffer >= 20 (truncated), version 4 (bad_version), IHL >= 5 (bad_header_len), and
/// IHL*4 + 8 bytes (truncated).
inline auto parse_icmpv4_quote(bytes_view quote) noexcept -> expected<icmpv4_quote, wire_error> {
  if (quote.size() < ipv4_min_header_len) return unexpected{wire_error::truncated};
  ipv4_packet ip{quote};
  if (ip.version() != 4) return unexpected{wire_error::bad_version};
  if (ip.header_len() < ipv4_min_header_len) return unexpected{wire_error::bad_header_len};
  if (quote.size() < ip.header_len() + 8) return unexpected{wire_error::truncated};
  icmpv4_quote q;
  q.src = ip.src();
  q.dst = ip.dst();
  q.protocol = ip.protocol();
  q.header = quote.first(ip.header_len());
  q.transport = quote.subspan(ip.header_len());
  q.src_port = load_be<std::uint16_t>(q.transport.data());
  q.dst_port = load_be<std::uint16_t>(q.transport.data() + 2);
  q.tcp_seq = seq_number{load_be<std::uint32_t>(q.transport.data() + 4)};
  return q;
}

} // namespace synack::wire

/// "ICMP echo request id=4573 seq=1 len=56", "ICMP dest unreachable port len=35", ...
template <>
struct fmt::formatter<synack::wire::icmpv4_repr> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <class Ctx>
  auto format(const synack::wire::icmpv4_repr& r, Ctx& ctx) const {
    using synack::wire::icmpv4_type;
    using synack::wire::icmpv4_unreachable;
    auto out = ctx.out();
    switch (r.type) {
      case icmpv4_type::echo_request:
      case icmpv4_type::echo_reply:
        return fmt::format_to(out, "ICMP echo {} id={} seq={} len={}",
                              r.type == icmpv4_type::echo_request ? "request" : "reply", r.ident, r.seq_no,
                              r.data.size());
      case icmpv4_type::dest_unreachable: {
        static constexpr const char* names[] = {"net",
                                                "host",
                                                "protocol",
                                                "port",
                                                "frag needed",
                                                "source route",
                                                "net unknown",
                                                "host unknown",
                                                "isolated",
                                                "net prohibited",
                                                "host prohibited",
                                                "net tos",
                                                "host tos",
                                                "admin prohibited",
                                                "precedence",
                                                "precedence cutoff"};
        if (r.code < 16)
          out = fmt::format_to(out, "ICMP dest unreachable {}", names[r.code]);
        else
          out = fmt::format_to(out, "ICMP dest unreachable code={}", r.code);
        if (r.code == static_cast<std::uint8_t>(icmpv4_unreachable::frag_needed))
          out = fmt::format_to(out, " mtu={}", r.next_hop_mtu);
        return fmt::format_to(out, " len={}", r.data.size());
      }
      case icmpv4_type::time_exceeded:
        return fmt::format_to(out, "ICMP time exceeded {} len={}",
                              r.code == 0 ? "in transit" : (r.code == 1 ? "in reassembly" : "code ?"), r.data.size());
      case icmpv4_type::parameter_problem:
        if (r.code == 0)
          return fmt::format_to(out, "ICMP parameter problem pointer={} len={}", r.param_pointer(), r.data.size());
        return fmt::format_to(out, "ICMP parameter problem code={} len={}", r.code, r.data.size());
      default:
        return fmt::format_to(out, "ICMP type={} code={} len={}", static_cast<unsigned>(r.type), r.code, r.data.size());
    }
  }
};
