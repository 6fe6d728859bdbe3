// synack/host/host.hpp: one host's protocols, wired together once, sans-IO.
//
// smoltcp's `Interface` and quinn-proto's `Endpoint` are the models. A host owns the optional
// Ethernet + ARP layer (net/ethernet.hpp, on Ethernet links only), IPv4 with ICMP
// (net/ipv4.hpp) and the TCP layer (tcp/layer.hpp), and its owner drives it:
//
//   receive(now, packet, meta, tx)  a packet from the link: an Ethernet frame on an Ethernet
//                                   link, else an IPv4 packet. Answers that do not wait
//                                   (echo replies, ICMP errors) are written to `tx` at once.
//   on_timeout(now)                 once now >= next_deadline(): runs the TCP timers due.
//   poll_transmit(now, tx)          after any of the above and after application calls: what
//                                   the connections send, ARP requests and replies, packets
//                                   whose next hop was just resolved.
//   next_deadline()                 when on_timeout (and poll_transmit, for ARP) must run next.
//
// `tx` is anything with a link's `transmit(len, fill, meta) -> bool` (link/link.hpp): the
// link itself, or an adapter (the tests' simulated wire, the fuzzer's collector). The host
// never does I/O and never reads a clock; the same calls in the same order give the same
// packets.
//
// Receive:  [Ethernet/ARP] -> IPv4 (validated, reassembled) -> one of net::ingress:
//             TCP segment      -> tcp::layer::on_segment
//             ICMP error       -> the TCP connection whose segment it quotes (RFC 1122 §4.2.3.9)
//             echo request     -> an echo reply, written to tx at once (RFC 792)
//             needs an error   -> ICMP destination unreachable or parameter problem, at once
// Transmit: a TCP segment -> IPv4 header in front, both written in place in the link's buffer
//           -> on Ethernet, a frame for the next hop (ARP may queue it first) -> tx.
//
// Adding a protocol (UDP, IPv6 and ICMPv6/NDP are next; docs/architecture.md): make it a
// member; give net::ingress (or the IPv6 layer's) an alternative for what it receives and
// handle it in deliver(), where std::visit refuses to compile until every alternative has a
// handler; send through send_ip(), which owns routing, framing and the offload decision; poll
// it in poll_transmit(), and add its deadline and counters below.
#pragma once

#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "synack/link/link.hpp"
#include "synack/net/ethernet.hpp"
#include "synack/net/ipv4.hpp"
#include "synack/tcp/layer.hpp"
#include "synack/util/siphash.hpp"

namespace synack {

/// What a host transmits through: a link's transmit (link/link.hpp).
template <class T>
concept packet_sink = requires(T& t, std::size_t len, const link::tx_meta& meta) {
  {
    t.transmit(
        len, [](bytes_mut) {}, meta)
    } -> std::same_as<bool>;
};

/// Everything a host is made of. Each setting has one place: IPv4's address is also ARP's,
/// the MTU bounds the TCP MSS, the link's offloads decide TSO.
struct host_config {
  /// The link the host talks through: its medium, MTU and offloads (link::capabilities).
  link::capabilities link{};
  /// Address, network, gateway, MTU (at most the link's), ICMP and reassembly settings.
  net::ipv4_config ip{};
  /// Ethernet links: our MAC address (required there, ignored on IP links) and ARP's settings.
  std::optional<wire::mac_address> mac;
  net::arp_config arp{};
  /// TCP: connection limit, backlogs, cookies, and each connection's settings. Its MSS, when 0,
  /// is MTU - 40 (RFC 9293 §3.7.1), and a larger one is refused; its tso_max, when 0, comes
  /// from the link.
  tcp::layer_config tcp{};
};

template <class Policies = tcp::default_policies>
class host {
public:
  using tcp_layer = tcp::layer<Policies>;

  /// Throws std::invalid_argument when settings conflict (an MTU larger than the link's, an
  /// MSS larger than the MTU allows, an Ethernet link without a MAC address).
  host(const host_config& cfg, const siphash_key& secret)
      : m_cfg(checked(cfg)), m_ip(m_cfg.ip), m_tcp(tcp_config(m_cfg), secret) {
    if (m_cfg.link.medium == link::medium::ethernet) {
      net::ethernet_config e;
      e.mac = *m_cfg.mac;
      e.address = m_cfg.ip.address;
      e.arp = m_cfg.arp;
      m_eth.emplace(e);
      m_eth->announce(); // RFC 5227 §2.3: announce our address (sent by the first poll)
    }
  }

  host(const host&) = delete;
  auto operator=(const host&) -> host& = delete;

  // ---------------------------------------------------------------------------------------
  // Driving

  /// A packet arrived from the link (a frame on Ethernet links). Replies that do not wait
  /// (echo replies, ICMP errors) go to `tx` before this returns.
  template <packet_sink Tx>
  void receive(instant now, bytes_view packet, const link::rx_meta& meta, Tx& tx) {
    bytes_view ip_packet = packet;
    if (m_eth) {
      auto in = m_eth->receive(now, packet);
      auto* p = std::get_if<net::ethernet_ipv4>(&in);
      if (!p) return; // ARP, or dropped and counted
      ip_packet = p->packet;
    }
    const auto csum = meta.checksum_verified ? wire::checksum_check::skip : wire::checksum_check::verify;
    deliver(now, m_ip.receive(now, ip_packet, csum), tx);
  }

  /// Runs the TCP timers due at `now`.
  void on_timeout(instant now) {
    if (auto d = m_tcp.next_deadline(); d && *d <= now) m_tcp.on_timeout(now);
  }

  /// Sends what is due: the segments of the connections touched since the last poll (and the
  /// layer's stateless replies), then ARP's requests, replies and resolved queues.
  template <packet_sink Tx>
  void poll_transmit(instant now, Tx& tx) {
    if (m_tcp.has_pending()) {
      m_tcp.poll(now, [&](wire::ipv4_address src, wire::ipv4_address dst, const tcp::tx_segment& seg) {
        return send_tcp(now, src, dst, seg, tx);
      });
    }
    if (m_eth) m_eth->poll(now, tx);
  }

  /// When on_timeout or poll_transmit must run next though nothing arrives, if ever.
  auto next_deadline() const noexcept -> std::optional<instant> {
    std::optional<instant> d = m_tcp.next_deadline();
    if (m_eth) {
      if (auto e = m_eth->next_deadline(); e && (!d || *e < *d)) d = e;
    }
    return d;
  }
  /// Whether poll_transmit has work now (touched connections, stateless replies).
  auto has_pending() const noexcept -> bool { return m_tcp.has_pending(); }

  /// Sends one IPv4 packet of `len` bytes written by `fill` to `dst`: routed, and on Ethernet
  /// framed for the next hop (queued while ARP resolves it). Every protocol sends through here.
  /// Returns false when `tx` had no buffer (the caller may retry later); a packet with no
  /// route is dropped and counted, and counts as sent.
  template <packet_sink Tx, class Fill>
  auto send_ip(instant now, wire::ipv4_address dst, std::size_t len, Fill&& fill, Tx& tx,
               const link::tx_meta& meta = {}) -> bool {
    bool ok = false;
    if (m_eth) {
      const auto hop = m_ip.route(dst);
      if (!hop) {
        m_ip.count_no_route();
        return true; // dropped and counted, like a packet lost on the way
      }
      ok = m_eth->send_ipv4(now, *hop, len, std::forward<Fill>(fill), tx, meta);
    } else {
      ok = tx.transmit(len, std::forward<Fill>(fill), meta);
    }
    if (!ok) ++m_tx_refused;
    return ok;
  }

  // ---------------------------------------------------------------------------------------
  // The layers

  auto tcp() noexcept -> tcp_layer& { return m_tcp; }
  auto tcp() const noexcept -> const tcp_layer& { return m_tcp; }
  auto ip() noexcept -> net::ipv4_interface& { return m_ip; }
  auto ip() const noexcept -> const net::ipv4_interface& { return m_ip; }
  /// The Ethernet + ARP layer on an Ethernet link; nullptr on an IP link (tun).
  auto ethernet() noexcept -> net::ethernet_interface* { return m_eth ? &*m_eth : nullptr; }
  auto ethernet() const noexcept -> const net::ethernet_interface* { return m_eth ? &*m_eth : nullptr; }
  auto config() const noexcept -> const host_config& { return m_cfg; }
  auto address() const noexcept -> wire::ipv4_address { return m_ip.address(); }

  /// Every counter, like `netstat -s`: f(layer, name, value), each name once ("ip", "total
  /// packets received").
  template <class F>
  void for_each_counter(F&& f) const {
    auto split = [&](std::string_view name, std::uint64_t v) {
      // The net layers name their counters "<layer>: <what>".
      const auto colon = name.find(": ");
      if (colon == std::string_view::npos) return f(std::string_view{"ip"}, name, v);
      f(name.substr(0, colon), name.substr(colon + 2), v);
    };
    if (m_eth) net::for_each_counter(m_eth->counters(), split);
    net::for_each_counter(m_ip.counters(), split);
    tcp::for_each_counter(m_tcp.stats(), [&](std::string_view name, std::uint64_t v) { f("tcp", name, v); });
    f("link", "packets not sent (no transmit buffer)", m_tx_refused);
  }

private:
  static auto checked(const host_config& c) -> host_config {
    auto fail = [](const std::string& why) { throw std::invalid_argument("synack: " + why); };
    if (c.ip.mtu > c.link.mtu)
      fail(fmt::format("the IP MTU {} is larger than the link's MTU {}", c.ip.mtu, c.link.mtu));
    if (c.ip.mtu < 68) fail(fmt::format("the IP MTU {} is below IPv4's minimum of 68 (RFC 791)", c.ip.mtu));
    const auto mss_max = static_cast<std::uint32_t>(c.ip.mtu - 40);
    if (c.tcp.connection.mss > mss_max)
      fail(fmt::format("the TCP MSS {} does not fit the MTU {} (at most {}, RFC 9293 §3.7.1)", c.tcp.connection.mss,
                       c.ip.mtu, mss_max));
    if (c.link.medium == link::medium::ethernet && !c.mac) fail("an Ethernet link needs a MAC address");
    return c;
  }

  static auto tcp_config(const host_config& c) -> tcp::layer_config {
    auto t = c.tcp;
    // RFC 9293 §3.7.1: our MSS is what the MTU carries after the IPv4 and TCP headers.
    if (t.connection.mss == 0) t.connection.mss = static_cast<std::uint16_t>(c.ip.mtu - 40);
    // TSO: the link takes IPv4 packets up to tso_max; 40 bytes of it are the IPv4 and TCP
    // headers without options (the connection counts its options in).
    if (t.connection.tso_max == 0 && c.link.tso_max > 40u + t.connection.mss)
      t.connection.tso_max = static_cast<std::uint32_t>(c.link.tso_max - 40);
    return t;
  }

  /// What IPv4 handed up goes to the protocol that takes it.
  template <class Tx>
  void deliver(instant now, const net::ingress& in, Tx& tx) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            // dropped and counted, or consumed by the IPv4 layer
          } else if constexpr (std::is_same_v<T, net::ingress_tcp>) {
            m_tcp.on_segment(now, x.src, x.dst, x.seg);
          } else if constexpr (std::is_same_v<T, net::ingress_echo>) {
            send_ip(
                now, x.src, m_ip.echo_reply_len(x), [&](bytes_mut b) { m_ip.write_echo_reply(b, x); }, tx);
          } else if constexpr (std::is_same_v<T, net::ingress_icmp_error>) {
            on_icmp_error(now, x);
          } else if constexpr (std::is_same_v<T, net::ingress_unreachable>) {
            send_ip(
                now, x.to, m_ip.unreachable_len(x), [&](bytes_mut b) { m_ip.write_unreachable(b, x); }, tx);
          } else if constexpr (std::is_same_v<T, net::ingress_param_problem>) {
            send_ip(
                now, x.to, m_ip.param_problem_len(x), [&](bytes_mut b) { m_ip.write_param_problem(b, x); }, tx);
          } else {
            static_assert(sizeof(T) == 0, "an alternative of net::ingress has no handler in host::deliver");
          }
        },
        in);
  }

  /// RFC 1122 §4.2.3.9: "TCP MUST act on an ICMP error message passed up from the IP layer,
  /// directing it to the connection that created the error."
  void on_icmp_error(instant now, const net::ingress_icmp_error& e) {
    if (e.original_protocol != wire::ip_protocol::tcp || !e.original_tcp_seq) return;
    using kind = typename tcp_layer::connection_type::icmp_error_kind;
    auto k = kind::soft;
    if (e.type == wire::icmpv4_type::dest_unreachable) {
      const auto code = static_cast<wire::icmpv4_unreachable>(e.code);
      if (code == wire::icmpv4_unreachable::protocol || code == wire::icmpv4_unreachable::port) k = kind::hard;
      if (code == wire::icmpv4_unreachable::frag_needed) k = kind::frag_needed;
    }
    m_tcp.on_icmp_error(now, {e.original_src, e.original_src_port}, {e.original_dst, e.original_dst_port},
                        wire::seq_number{*e.original_tcp_seq}, k, e.next_hop_mtu);
  }

  /// One TCP segment: the payload pieces copied behind the TCP header, the TCP and IPv4
  /// headers written in front, checksums complete unless the link finishes them.
  template <class Tx>
  auto send_tcp(instant now, wire::ipv4_address src, wire::ipv4_address dst, const tcp::tx_segment& seg, Tx& tx)
      -> bool {
    const auto tcp_len = seg.repr.header_len() + seg.payload_len();
    const link::tx_meta meta = offloads_to(dst, {m_cfg.link.tx_checksum_offload, seg.segment_size});
    const auto csum = meta.tcp_checksum_partial ? wire::checksum_fill::pseudo_header_only : wire::checksum_fill::full;
    return send_ip(
        now, dst, net::ipv4_interface::header_len + tcp_len,
        [&](bytes_mut b) {
          auto tcp_part = b.subspan(net::ipv4_interface::header_len);
          auto* at = tcp_part.data() + seg.repr.header_len();
          for (auto piece : seg.payload) {
            if (piece.empty()) continue; // an empty piece may have a null data(): no memcpy (UB)
            std::memcpy(at, piece.data(), piece.size());
            at += piece.size();
          }
          seg.repr.emit_header(tcp_part, seg.payload_len(), src, dst, csum);
          m_ip.write_header(b, wire::ip_protocol::tcp, src, dst, tcp_len);
        },
        tx, meta);
  }

  /// The offloads a packet to `dst` may use: on an Ethernet link, none while its next hop is
  /// unresolved (the packet waits in the ARP queue and leaves later as written, so it must be
  /// whole; a super-segment is then dropped there, counted, and TCP resends it in segments).
  auto offloads_to(wire::ipv4_address dst, const link::tx_meta& wanted) const noexcept -> link::tx_meta {
    if (!m_eth || (!wanted.tcp_checksum_partial && wanted.tso_segment_size == 0)) return wanted;
    const auto hop = m_ip.route(dst);
    return hop && m_eth->lookup(*hop) ? wanted : link::tx_meta{};
  }

  host_config m_cfg;
  net::ipv4_interface m_ip;
  tcp_layer m_tcp;
  std::optional<net::ethernet_interface> m_eth;
  std::uint64_t m_tx_refused = 0;
};

} // namespace synack
