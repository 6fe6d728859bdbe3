// synack/net/ipv4.hpp: the IPv4 layer of a host, sans-IO (RFC 791, RFC 1122 §3, RFC 792).
//
// `ipv4_interface` validates every arriving IPv4 packet and says what it carries; the stack
// dispatches the result (TCP segments to the TCP layer, echo requests answered at once). Every
// packet that is not delivered is counted by reason (`ipv4_counters`, printed like netstat -s);
// a malformed packet is never an error for the caller, only a counter.
//
// Egress helpers write the IPv4 header (and ICMP messages) in place in the link's transmit
// buffer, in front of a TCP header and payload that the TCP layer writes behind it.
//
// Fragments are reassembled by net/reassembly.hpp when the interface has a reassembler (see
// docs/net.md); bounded in datagrams, bytes and time.
//
// The layer keeps no clock: `now` is passed to receive() for the reassembly timeout and the
// ICMP rate limit.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>

#include <fmt/format.h>

#include "synack/net/reassembly.hpp"
#include "synack/time/instant.hpp"
#include "synack/util/bytes.hpp"
#include "synack/wire/icmpv4.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv4_address.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::net {

struct ipv4_config {
  /// Our address and the prefix of the attached network (192.0.2.2/24).
  wire::ipv4_cidr address{wire::ipv4_address{192, 0, 2, 2}, 24};
  /// Where packets for other networks go (none: they are unreachable).
  std::optional<wire::ipv4_address> gateway;
  /// The largest IPv4 packet the link carries (RFC 791: at least 68; RFC 1122: 576 reassembled).
  std::uint16_t mtu = 1500;
  /// TTL of the packets we send (RFC 1122 §3.2.1.7 / RFC 1700 default 64).
  std::uint8_t ttl = 64;
  /// Answer echo requests (ping).
  bool answer_echo = true;
  /// ICMP errors we send (protocol and port unreachable, parameter problem): at most this many per second
  /// (RFC 1812 §4.3.2.8 and RFC 1122 §3.2.2 ask for a limit).
  std::uint32_t icmp_error_rate = 100;
  /// Reassembly bounds (RFC 791 / RFC 815); see net/reassembly.hpp.
  reassembly_config reassembly;
};

/// IPv4 and ICMP counters (RFC 4293's IP-MIB and RFC 4292-style ICMP counters, where they exist).
struct ipv4_counters {
  std::uint64_t in_receives = 0;       // ipInReceives: every packet handed to receive()
  std::uint64_t in_truncated = 0;      // ipInTruncatedPkts
  std::uint64_t in_hdr_errors = 0;     // ipInHdrErrors: version, header length, total length
  std::uint64_t in_csum_errors = 0;    // header checksum
  std::uint64_t in_bad_options = 0;    // malformed IP options (part of ipInHdrErrors in the MIB)
  std::uint64_t in_addr_errors = 0;    // ipInAddrErrors: not for us
  std::uint64_t in_martians = 0;       // source is ours, broadcast, multicast or unspecified
  std::uint64_t in_unknown_protos = 0; // ipInUnknownProtos
  std::uint64_t in_delivers = 0;       // ipInDelivers
  std::uint64_t reasm_reqds = 0;       // ipReasmReqds: fragments received
  std::uint64_t reasm_oks = 0;         // ipReasmOKs: datagrams reassembled
  std::uint64_t reasm_fails = 0;       // ipReasmFails: fragments dropped (bounds, timeout, overlap, eviction)
  std::uint64_t reasm_evictions = 0;   // datagrams evicted to make room (count or bytes)
  std::uint64_t out_requests = 0;      // ipOutRequests
  std::uint64_t out_no_routes = 0;     // ipOutNoRoutes
  std::uint64_t tcp_in_errs = 0;       // TCP segments dropped here: bad checksum, malformed
  std::uint64_t tcp_csum_errors = 0;   // ... of which bad checksums
  std::uint64_t icmp_in_msgs = 0;
  std::uint64_t icmp_in_errors = 0; // malformed or bad checksum
  std::uint64_t icmp_in_echos = 0;
  std::uint64_t icmp_in_echo_reps = 0;
  std::uint64_t icmp_in_dest_unreachs = 0;
  std::uint64_t icmp_in_time_excds = 0;
  std::uint64_t icmp_out_echo_reps = 0;
  std::uint64_t icmp_out_dest_unreachs = 0;
  std::uint64_t icmp_out_param_probs = 0;
  std::uint64_t icmp_out_rate_limited = 0;
};

template <class F>
void for_each_counter(const ipv4_counters& c, F&& f) {
  f("ip: total packets received", c.in_receives);
  f("ip: truncated packets", c.in_truncated);
  f("ip: bad header (version or lengths)", c.in_hdr_errors);
  f("ip: bad header checksums", c.in_csum_errors);
  f("ip: bad options", c.in_bad_options);
  f("ip: packets not for us", c.in_addr_errors);
  f("ip: martian sources", c.in_martians);
  f("ip: unknown protocols", c.in_unknown_protos);
  f("ip: delivered", c.in_delivers);
  f("ip: fragments received", c.reasm_reqds);
  f("ip: datagrams reassembled", c.reasm_oks);
  f("ip: fragments dropped", c.reasm_fails);
  f("ip: datagrams evicted from reassembly", c.reasm_evictions);
  f("ip: requests sent", c.out_requests);
  f("ip: no route", c.out_no_routes);
  f("tcp: bad segments (malformed)", c.tcp_in_errs);
  f("tcp: bad checksums", c.tcp_csum_errors);
  f("icmp: messages received", c.icmp_in_msgs);
  f("icmp: bad messages", c.icmp_in_errors);
  f("icmp: echo requests", c.icmp_in_echos);
  f("icmp: echo replies received", c.icmp_in_echo_reps);
  f("icmp: destination unreachable received", c.icmp_in_dest_unreachs);
  f("icmp: time exceeded received", c.icmp_in_time_excds);
  f("icmp: echo replies sent", c.icmp_out_echo_reps);
  f("icmp: destination unreachable sent", c.icmp_out_dest_unreachs);
  f("icmp: parameter problems sent", c.icmp_out_param_probs);
  f("icmp: errors not sent (rate limit)", c.icmp_out_rate_limited);
}

/// A TCP segment for us. `seg.payload` points into the packet passed to receive() (or into the
/// reassembler), valid until the next call.
struct ingress_tcp {
  wire::ipv4_address src;
  wire::ipv4_address dst;
  wire::tcp_repr seg;
};

/// An echo request for us; answer with write_echo_reply(). `data` as above.
struct ingress_echo {
  wire::ipv4_address src;
  wire::ipv4_address dst;
  std::uint16_t ident = 0;
  std::uint16_t seq_no = 0;
  bytes_view data;
};

/// An ICMP error about a packet we sent (destination unreachable, time exceeded), with the
/// quoted IPv4 header and the first 8 bytes of its payload (RFC 792): enough for the ports.
struct ingress_icmp_error {
  wire::icmpv4_type type = wire::icmpv4_type::dest_unreachable;
  std::uint8_t code = 0;
  std::uint16_t next_hop_mtu = 0;  // "fragmentation needed" (RFC 1191)
  wire::ipv4_address original_src; // the quoted packet's addresses: src is us
  wire::ipv4_address original_dst;
  wire::ip_protocol original_protocol = wire::ip_protocol::tcp;
  std::uint16_t original_src_port = 0; // for TCP and UDP
  std::uint16_t original_dst_port = 0;
  std::optional<std::uint32_t> original_tcp_seq; // TCP: the quoted sequence number (8 bytes quoted)
};

/// A packet we must answer with ICMP destination unreachable (protocol or port); write it with
/// write_unreachable(). `original` is the offending packet (its header and first 8 payload bytes).
struct ingress_unreachable {
  wire::icmpv4_unreachable code;
  wire::ipv4_address to;
  bytes_view original;
};

/// A datagram dropped for malformed options that we answer with ICMP parameter problem (RFC 792,
/// RFC 1122 §3.2.2.5); write it with write_param_problem(). `pointer` is the offset of the bad
/// octet in the original header; `original` is its header and first 8 payload bytes.
struct ingress_param_problem {
  wire::ipv4_address to;
  std::uint8_t pointer = 0;
  bytes_view original;
};

/// What receive() found: nothing to deliver (dropped and counted, or consumed), or one of these.
using ingress = std::variant<std::monostate, ingress_tcp, ingress_echo, ingress_icmp_error, ingress_unreachable,
                             ingress_param_problem>;

class ipv4_interface {
public:
  explicit ipv4_interface(const ipv4_config& cfg = {}) : m_cfg(cfg), m_reassembler(cfg.reassembly) {}

  auto config() const noexcept -> const ipv4_config& { return m_cfg; }
  auto address() const noexcept -> wire::ipv4_address { return m_cfg.address.address(); }
  auto counters() const noexcept -> const ipv4_counters& { return m_counters; }
  auto reassembler() const noexcept -> const fragment_reassembler& { return m_reassembler; }
  /// The largest TCP MSS this interface can carry: MTU - 40 (RFC 9293 §3.7.1).
  auto tcp_mss() const noexcept -> std::uint16_t { return static_cast<std::uint16_t>(m_cfg.mtu - 40); }

  /// Validates an IPv4 packet and says what it carries. `csum`: skip when the device verified
  /// the TCP checksum (receive offload); the IPv4 header checksum is verified whatever `csum`
  /// says. Drops are counted, never reported as errors.
  auto receive(instant now, bytes_view packet, wire::checksum_check csum = wire::checksum_check::verify) -> ingress {
    ++m_counters.in_receives;
    auto view = wire::ipv4_packet<bytes_view>::checked(packet);
    if (!view) return drop(view.error());
    // RFC 1122 §3.2.1.2: "A host MUST verify the IP header checksum on every received datagram
    // and silently discard every datagram that has a bad checksum." The offload flags
    // (virtio-net DATA_VALID, TP_STATUS_CSUM_VALID) vouch for the L4 checksum only.
    auto ip = wire::ipv4_repr::parse(*view, wire::checksum_check::verify);
    if (!ip) {
      if (ip.error() == wire::wire_error::bad_option) return drop_bad_options(now, *view);
      return drop(ip.error());
    }
    // RFC 1122 §3.2.1.3: "A host MUST silently discard an incoming datagram that is not
    // destined for" one of its addresses (or a broadcast address it listens to).
    if (!accepts_destination(ip->dst)) {
      ++m_counters.in_addr_errors;
      return {};
    }
    if (is_martian(ip->src)) {
      ++m_counters.in_martians;
      return {};
    }
    bytes_view payload = view->payload();
    if (ip->is_fragment()) {
      ++m_counters.reasm_reqds;
      auto whole = m_reassembler.add(now, *ip, payload);
      if (m_reassembler.dropped() != m_reasm_dropped_seen) {
        m_counters.reasm_fails += m_reassembler.dropped() - m_reasm_dropped_seen;
        m_reasm_dropped_seen = m_reassembler.dropped();
      }
      m_counters.reasm_evictions = m_reassembler.evictions();
      if (!whole) return {};
      ++m_counters.reasm_oks;
      payload = *whole;
      ip->payload_len = payload.size();
    }
    const bool to_broadcast = ip->dst != address();
    switch (ip->protocol) {
      case wire::ip_protocol::tcp: {
        if (to_broadcast) { // RFC 1122 §4.2.3.10: TCP never accepts broadcast or multicast
          ++m_counters.in_addr_errors;
          return {};
        }
        auto tcp = wire::tcp_packet<bytes_view>::checked(payload);
        if (!tcp) return drop_tcp(tcp.error());
        auto seg = wire::tcp_repr::parse(*tcp, ip->src, ip->dst, csum);
        if (!seg) return drop_tcp(seg.error());
        ++m_counters.in_delivers;
        return ingress_tcp{ip->src, ip->dst, *seg};
      }
      case wire::ip_protocol::icmp:
        return receive_icmp(now, *ip, packet, payload, csum, to_broadcast);
      default: {
        ++m_counters.in_unknown_protos;
        // RFC 1122 §3.2.2.1: a host SHOULD send "protocol unreachable" (and UDP "port
        // unreachable", RFC 1122 §4.1.3.1: no UDP socket is ever open here), but never in
        // answer to a broadcast or a non-initial fragment (RFC 1122 §3.2.2).
        if (to_broadcast || ip->fragment_offset != 0 || !allow_icmp_error(now)) return {};
        const auto code = ip->protocol == wire::ip_protocol::udp ? wire::icmpv4_unreachable::port
                                                                 : wire::icmpv4_unreachable::protocol;
        // RFC 792: "Internet Header + 64 bits of Original Data Datagram": never the link's
        // padding after the datagram's total length.
        const auto quote = std::min<std::size_t>(view->total_len(), view->header_len() + 8);
        return ingress_unreachable{code, ip->src, packet.first(quote)};
      }
    }
  }

  /// The next hop for `dst`: itself on our network, else the gateway; nothing when unreachable.
  auto route(wire::ipv4_address dst) const noexcept -> std::optional<wire::ipv4_address> {
    if (m_cfg.address.contains(dst) || dst.is_broadcast()) return dst;
    return m_cfg.gateway;
  }
  /// Whether we can send to `dst` at all (RFC 1122 §3.3.1).
  auto reachable(wire::ipv4_address dst) const noexcept -> bool { return route(dst).has_value(); }

  static constexpr std::size_t header_len = wire::ipv4_min_header_len;

  /// Writes the IPv4 header of a packet carrying `payload_len` bytes of `protocol` to `dst`
  /// into out[0, 20). DF is set: TCP segments fit the path MTU (RFC 1191 discovery is the MSS).
  void write_header(bytes_mut out, wire::ip_protocol protocol, wire::ipv4_address src, wire::ipv4_address dst,
                    std::size_t payload_len, wire::checksum_fill fill = wire::checksum_fill::full) {
    wire::ipv4_repr r;
    r.src = src;
    r.dst = dst;
    r.protocol = protocol;
    r.ttl = m_cfg.ttl;
    r.payload_len = payload_len;
    r.ident = m_ident++;
    r.dont_fragment = true;
    wire::ipv4_packet<bytes_mut> p{out.first(header_len)};
    r.emit(p, fill);
    ++m_counters.out_requests;
  }

  /// Length of the echo reply to `e`, and writes it (IPv4 + ICMP) into `out`.
  /// RFC 792: "The data received in the echo message must be returned in the echo reply."
  auto echo_reply_len(const ingress_echo& e) const noexcept -> std::size_t {
    return header_len + wire::icmpv4_header_len + e.data.size();
  }
  void write_echo_reply(bytes_mut out, const ingress_echo& e) {
    const auto icmp = wire::icmpv4_repr::echo_reply(e.ident, e.seq_no, e.data);
    write_header(out, wire::ip_protocol::icmp, e.dst, e.src, icmp.buffer_len());
    wire::icmpv4_packet<bytes_mut> p{out.subspan(header_len, icmp.buffer_len())};
    icmp.emit(p);
    ++m_counters.icmp_out_echo_reps;
  }

  /// Length of the destination-unreachable message for `u`, and writes it into `out`.
  auto unreachable_len(const ingress_unreachable& u) const noexcept -> std::size_t {
    return header_len + wire::icmpv4_header_len + u.original.size();
  }
  void write_unreachable(bytes_mut out, const ingress_unreachable& u) {
    const auto icmp = wire::icmpv4_repr::dest_unreachable(u.code, u.original);
    write_header(out, wire::ip_protocol::icmp, address(), u.to, icmp.buffer_len());
    wire::icmpv4_packet<bytes_mut> p{out.subspan(header_len, icmp.buffer_len())};
    icmp.emit(p);
    ++m_counters.icmp_out_dest_unreachs;
  }

  /// Length of the parameter-problem message for `p`, and writes it into `out`.
  auto param_problem_len(const ingress_param_problem& p) const noexcept -> std::size_t {
    return header_len + wire::icmpv4_header_len + p.original.size();
  }
  void write_param_problem(bytes_mut out, const ingress_param_problem& p) {
    const auto icmp = wire::icmpv4_repr::parameter_problem(p.pointer, p.original);
    write_header(out, wire::ip_protocol::icmp, address(), p.to, icmp.buffer_len());
    wire::icmpv4_packet<bytes_mut> m{out.subspan(header_len, icmp.buffer_len())};
    icmp.emit(m);
    ++m_counters.icmp_out_param_probs;
  }

  /// Counts a packet that could not be sent for want of a route.
  void count_no_route() noexcept { ++m_counters.out_no_routes; }

private:
  auto accepts_destination(wire::ipv4_address dst) const noexcept -> bool {
    return dst == address() || dst.is_broadcast() || is_subnet_broadcast(dst);
  }
  auto is_subnet_broadcast(wire::ipv4_address a) const noexcept -> bool {
    return m_cfg.address.prefix_len() < 31 && a == m_cfg.address.broadcast();
  }
  /// RFC 1122 §3.2.1.3: "A host MUST silently discard an incoming datagram containing an IP
  /// source address that is invalid by the rules of this section": broadcast, multicast, one of
  /// ours, and (a)/(b) {0, ...} ("MUST NOT be sent, except as a source address as part of an
  /// initialization procedure", which we do not take part in) and (g) {127, <any>} ("MUST NOT
  /// appear outside a host"). An ICMP error must never go to such a source either.
  auto is_martian(wire::ipv4_address src) const noexcept -> bool {
    return src == address() || src.is_broadcast() || src.is_multicast() || is_subnet_broadcast(src) ||
           (src.to_u32() >> 24) == 0 || src.is_loopback();
  }

  /// A datagram whose options are malformed (wire::find_bad_ipv4_option): RFC 792, parameter
  /// problem: "If the gateway or host processing a datagram finds a problem with the header
  /// parameters such that it cannot complete processing the datagram it must discard the
  /// datagram. [...] The gateway or host may also notify the source host via the parameter
  /// problem message. [...] The pointer identifies the octet of the original datagram's header
  /// where the error was detected (it may be in the middle of an option)"; RFC 1122 §3.2.2.5:
  /// "A host SHOULD generate Parameter Problem messages." Linux does too. We answer only what
  /// RFC 1122 §3.2.2 allows (not to a broadcast, a martian source, a non-initial fragment or an
  /// ICMP error message), rate-limited with the other ICMP errors.
  auto drop_bad_options(instant now, const wire::ipv4_packet<bytes_view>& view) -> ingress {
    ++m_counters.in_bad_options;
    const auto octet = view.bad_option_octet();
    if (!octet || view.dst() != address() || is_martian(view.src()) || view.fragment_offset() != 0) return {};
    const bytes_view payload = view.payload();
    if (view.protocol() == wire::ip_protocol::icmp && !payload.empty()) {
      wire::icmpv4_repr kind;
      kind.type = static_cast<wire::icmpv4_type>(std::to_integer<std::uint8_t>(payload[0]));
      if (kind.is_error()) return {};
    }
    if (!allow_icmp_error(now)) return {};
    const auto quote = std::min<std::size_t>(view.total_len(), view.header_len() + 8);
    return ingress_param_problem{view.src(), static_cast<std::uint8_t>(*octet), view.bytes().first(quote)};
  }

  auto drop(wire::wire_error e) -> ingress {
    switch (e) {
      case wire::wire_error::truncated:
        ++m_counters.in_truncated;
        break;
      case wire::wire_error::bad_checksum:
        ++m_counters.in_csum_errors;
        break;
      default:
        ++m_counters.in_hdr_errors;
        break;
    }
    return {};
  }
  auto drop_tcp(wire::wire_error e) -> ingress {
    ++m_counters.tcp_in_errs;
    if (e == wire::wire_error::bad_checksum) ++m_counters.tcp_csum_errors;
    return {};
  }

  auto receive_icmp(instant now, const wire::ipv4_repr& ip, bytes_view packet, bytes_view payload,
                    wire::checksum_check csum, bool to_broadcast) -> ingress {
    (void)now;
    (void)packet;
    ++m_counters.icmp_in_msgs;
    auto view = wire::icmpv4_packet<bytes_view>::checked(payload);
    if (!view) {
      ++m_counters.icmp_in_errors;
      return {};
    }
    // ICMP checksums are never offloaded by tun or AF_PACKET: always verify.
    (void)csum;
    auto icmp = wire::icmpv4_repr::parse(*view, wire::checksum_check::verify);
    if (!icmp) {
      ++m_counters.icmp_in_errors;
      return {};
    }
    ++m_counters.in_delivers;
    switch (icmp->type) {
      case wire::icmpv4_type::echo_request:
        ++m_counters.icmp_in_echos;
        // RFC 1122 §3.2.2.6: "An ICMP Echo Request destined to an IP broadcast or IP multicast
        // address MAY be silently discarded." We do.
        if (!m_cfg.answer_echo || to_broadcast) return {};
        return ingress_echo{ip.src, ip.dst, icmp->ident, icmp->seq_no, icmp->data};
      case wire::icmpv4_type::echo_reply:
        ++m_counters.icmp_in_echo_reps;
        return {};
      case wire::icmpv4_type::dest_unreachable:
      case wire::icmpv4_type::time_exceeded: {
        if (icmp->type == wire::icmpv4_type::dest_unreachable)
          ++m_counters.icmp_in_dest_unreachs;
        else
          ++m_counters.icmp_in_time_excds;
        // The quoted packet: "the Internet header and at least the first 8 data octets of the
        // datagram that triggered the error" (RFC 1122 §3.2.2, RFC 792). Its total length is the
        // original's, longer than the quote, so only the fixed header and IHL are checked here.
        const auto quote = icmp->data;
        if (quote.size() < wire::ipv4_min_header_len) return {};
        const wire::ipv4_packet<bytes_view> quoted{quote};
        if (quoted.version() != 4 || quoted.header_len() < wire::ipv4_min_header_len ||
            quote.size() < quoted.header_len() + 4 || quoted.src() != address())
          return {};
        ingress_icmp_error err;
        err.type = icmp->type;
        err.code = icmp->code;
        err.next_hop_mtu = icmp->next_hop_mtu;
        err.original_src = quoted.src();
        err.original_dst = quoted.dst();
        err.original_protocol = quoted.protocol();
        const auto ports = quote.subspan(quoted.header_len());
        err.original_src_port = load_be<std::uint16_t>(ports.data());
        err.original_dst_port = load_be<std::uint16_t>(ports.data() + 2);
        if (ports.size() >= 8) err.original_tcp_seq = load_be<std::uint32_t>(ports.data() + 4);
        return err;
      }
      default:
        return {};
    }
  }

  auto allow_icmp_error(instant now) noexcept -> bool {
    if (now - m_icmp_window >= std::chrono::seconds{1}) {
      m_icmp_window = now;
      m_icmp_sent = 0;
    }
    if (m_icmp_sent >= m_cfg.icmp_error_rate) {
      ++m_counters.icmp_out_rate_limited;
      return false;
    }
    ++m_icmp_sent;
    return true;
  }

  ipv4_config m_cfg;
  ipv4_counters m_counters;
  fragment_reassembler m_reassembler;
  std::uint64_t m_reasm_dropped_seen = 0;
  std::uint16_t m_ident = 1;
  instant m_icmp_window;
  std::uint32_t m_icmp_sent = 0;
};

} // namespace synack::net
