// A whole sans-IO host for fuzzing and for writing its corpus: the host the stack drives
// (host/host.hpp: IPv4, Ethernet and ARP when asked, and a TCP layer), on virtual time, with a
// listener on 192.0.2.2:7788 and one connection from the peer 192.0.2.1:40000 established
// deterministically (fixed secret key, fixed clock, fixed peer ISS). Everything the host sends
// is collected as bytes (frames on Ethernet, else IPv4 packets) and checked by check_output().
#pragma once

#include <cstring>
#include <optional>
#include <variant>
#include <vector>

#include "fuzz_target.hpp"
#include "synack/host/host.hpp"
#include "synack/wire/wire.hpp"

namespace synack_fuzz {

using namespace synack;
using namespace std::chrono_literals;

/// A link that keeps every frame it is given (up to a bound: a run cannot eat all memory).
struct frame_collector {
  std::vector<std::vector<std::byte>> frames;
  std::size_t limit = 4096;

  template <class F>
  auto transmit(std::size_t len, F&& fill, const link::tx_meta& = {}) -> bool {
    if (frames.size() >= limit) return false;
    frames.emplace_back(len);
    fill(bytes_mut{frames.back()});
    return true;
  }
};

struct stack_host {
  static constexpr wire::ipv4_address addr{192, 0, 2, 2};
  static constexpr wire::ipv4_address peer_addr{192, 0, 2, 1};
  static constexpr wire::mac_address mac{0x02, 0, 0, 0, 0, 0x02};
  static constexpr wire::mac_address peer_mac{0x02, 0, 0, 0, 0, 0x01};
  static constexpr std::uint16_t port = 7788;
  static constexpr std::uint16_t peer_port = 40000;
  static constexpr wire::seq_number peer_iss{0x10000000};

  static auto layer_config() -> tcp::layer_config {
    tcp::layer_config c;
    c.connection.send_buffer = 64 * 1024;
    c.connection.recv_buffer = 64 * 1024;
    c.max_connections = 64;
    c.max_syn_backlog = 4; // SYN cookies within reach of a few SYNs
    c.max_pending_replies = 64;
    return c;
  }
  static auto ipv4_config() -> net::ipv4_config {
    net::ipv4_config c;
    c.address = wire::ipv4_cidr{addr, 24};
    c.gateway = wire::ipv4_address{192, 0, 2, 254};
    // Small reassembly bounds: a few fragment records reach the evictions.
    c.reassembly.max_datagrams = 4;
    c.reassembly.max_total_bytes = 32 * 1024;
    return c;
  }
  static auto config(bool l2) -> host_config {
    host_config c;
    c.link.medium = l2 ? link::medium::ethernet : link::medium::ip;
    c.link.mtu = 1500;
    c.ip = ipv4_config();
    c.mac = mac;
    // A small table: a few SYNs from on-link sources reach the evictions of incomplete entries.
    c.arp.max_entries = 16;
    c.arp.max_incomplete = 4;
    c.tcp = layer_config();
    return c;
  }

  bool ethernet;
  instant now = instant::from_millis(1000);
  synack::host<> host{config(ethernet), siphash_key{0x0123456789abcdefull, 0xfedcba9876543210ull}};
  net::ipv4_interface& ip = host.ip();
  net::ethernet_interface* eth = host.ethernet(); // nullptr on an IP link
  tcp::layer<>& tcp = host.tcp();
  tcp::listener_id listener;
  std::vector<tcp::conn_id> accepted;
  tcp::conn_id conn; // the connection established by the constructor
  frame_collector out;
  std::vector<std::byte> scratch = std::vector<std::byte>(16 * 1024);
  // The peer's side of `conn`, for building segments that fit it.
  wire::seq_number our_iss;
  wire::seq_number peer_nxt = peer_iss + 1;
  std::uint32_t peer_tsval = 100;
  std::uint32_t our_tsval = 0;

  explicit stack_host(bool l2) : ethernet(l2) {
    auto l = tcp.listen({addr, port}, 4);
    SYNACK_FUZZ_CHECK(l.has_value(), "listen");
    listener = *l;
    if (ethernet) {
      // The peer asks for our MAC: we learn its own from the request (RFC 826).
      receive(peer_arp(wire::arp_operation::request), wire::checksum_check::verify);
      step();
      out.frames.clear();
    }
    wire::tcp_repr syn = peer_header(wire::tcp_flag::syn);
    syn.seq = peer_iss;
    syn.options.mss = 1460;
    syn.options.window_scale = 7;
    syn.options.sack_permitted = true;
    syn.options.timestamps = wire::tcp_timestamps{peer_tsval, 0};
    receive(peer_packet(syn), wire::checksum_check::verify);
    step();
    const auto synack = last_tcp_sent();
    SYNACK_FUZZ_CHECK(synack && synack->flags.has_all(wire::tcp_flag::syn | wire::tcp_flag::ack), "no SYN-ACK");
    our_iss = synack->seq;
    if (synack->options.timestamps) our_tsval = synack->options.timestamps->tsval;
    out.frames.clear();
    receive(peer_packet(peer_ack()), wire::checksum_check::verify);
    step();
    SYNACK_FUZZ_CHECK(!accepted.empty(), "the handshake did not complete");
    conn = accepted.front();
    // Data in flight from us: ACKs, SACKs and windows from the peer have something to act on.
    std::vector<std::byte> data(4000, std::byte{'x'});
    tcp.find(conn)->send(bytes_view{data});
    tcp.touch(conn);
    step();
    out.frames.clear();
  }

  /// A header from the peer to our listening port.
  auto peer_header(wire::tcp_flags flags) const -> wire::tcp_repr {
    wire::tcp_repr r{};
    r.src_port = peer_port;
    r.dst_port = port;
    r.flags = flags;
    r.window = 512; // scaled by 2^7: 64 KiB
    return r;
  }
  /// The peer's next in-order ACK for `conn`: seq = its SND.NXT, ack = our SND.NXT.
  auto peer_ack(wire::tcp_flags extra = {}) -> wire::tcp_repr {
    auto r = peer_header(wire::tcp_flags{wire::tcp_flag::ack} | extra);
    r.seq = peer_nxt;
    r.ack = our_iss + 1;
    if (auto* c = tcp.find(conn)) r.ack = c->tcb().snd_nxt;
    r.options.timestamps = wire::tcp_timestamps{++peer_tsval, our_tsval};
    return r;
  }

  /// `seg` from the peer as bytes: an IPv4 packet, in an Ethernet frame on L2.
  auto peer_packet(const wire::tcp_repr& seg) const -> std::vector<std::byte> {
    const std::size_t l2 = ethernet ? 14 : 0;
    std::vector<std::byte> b(l2 + 20 + seg.buffer_len());
    auto bytes = bytes_mut{b};
    if (ethernet) {
      wire::ethernet_frame<bytes_mut> f{bytes};
      wire::ethernet_repr{peer_mac, mac, wire::ethertype::ipv4}.emit(f);
    }
    wire::ipv4_repr ipr;
    ipr.src = peer_addr;
    ipr.dst = addr;
    ipr.protocol = wire::ip_protocol::tcp;
    ipr.payload_len = seg.buffer_len();
    wire::ipv4_packet<bytes_mut> p{bytes.subspan(l2)};
    ipr.emit(p);
    wire::tcp_packet<bytes_mut> t{bytes.subspan(l2 + 20)};
    seg.emit(t, peer_addr, addr);
    return b;
  }
  auto peer_arp(wire::arp_operation op) const -> std::vector<std::byte> {
    std::vector<std::byte> b(14 + 28);
    wire::ethernet_frame<bytes_mut> f{bytes_mut{b}};
    wire::ethernet_repr{peer_mac, op == wire::arp_operation::request ? wire::mac_address::broadcast() : mac,
                        wire::ethertype::arp}
        .emit(f);
    wire::arp_packet<bytes_mut> a{bytes_mut{b}.subspan(14)};
    wire::arp_repr{op, peer_mac, peer_addr, op == wire::arp_operation::request ? wire::mac_address{} : mac, addr}.emit(
        a);
    return b;
  }

  /// One frame (Ethernet) or packet (IPv4) arrives; `csum` skip: the device vouched for
  /// the TCP checksum (rx offload).
  void receive(bytes_view bytes, wire::checksum_check csum) {
    link::rx_meta meta;
    meta.checksum_verified = csum == wire::checksum_check::skip;
    host.receive(now, bytes, meta, out);
  }

  /// Moves the clock forward by `d` and runs the timers that come due (each deadline in turn).
  void advance(duration d) {
    const auto end = now + d;
    for (int i = 0; i < 64; ++i) {
      const auto next = host.next_deadline();
      if (!next || *next > end) break;
      now = std::max(now, *next);
      step();
    }
    now = end;
    step();
  }

  /// One turn of the stack: timers due now, what the connections send, the application
  /// (accepting and reading what the turn brought), and what its calls made them send.
  void step() {
    host.on_timeout(now);
    transmit();
    app();
    transmit();
  }

  void transmit() { host.poll_transmit(now, out); }

  /// The application: accepts every connection and reads everything that arrived.
  void app() {
    while (auto id = tcp.accept(listener)) accepted.push_back(*id);
    for (auto id : accepted) {
      auto* c = tcp.find(id);
      if (!c) continue;
      bool touched = false;
      while (c->recv(bytes_mut{scratch}) > 0) touched = true;
      if (touched) tcp.touch(id);
    }
  }

  /// The application sends `n` bytes on `conn`, or closes it.
  void app_send(std::size_t n) {
    if (auto* c = tcp.find(conn)) {
      std::vector<std::byte> data(n, std::byte{'y'});
      c->send(bytes_view{data});
      tcp.touch(conn);
    }
  }
  void app_close() {
    if (auto* c = tcp.find(conn)) {
      c->close(now);
      tcp.touch(conn);
    }
  }

  /// One record of fuzz_stack_rx's input: `op` bits 0-5 advance the clock by (op & 63)^2 * 10
  /// ms first; bit 6: the application sends 1000 bytes; bit 7: it closes. Then `packet`
  /// arrives, the host takes its turn, and what it sent is checked and dropped.
  void process_record(std::uint8_t op, bytes_view packet, wire::checksum_check csum) {
    const int steps = op & 63;
    if (steps != 0) advance(std::chrono::milliseconds{10 * steps * steps});
    if ((op & 0x40) != 0) app_send(1000);
    if ((op & 0x80) != 0) app_close();
    receive(packet, csum);
    step();
    check_output();
    check_bounds();
    if (auto t = last_tcp_sent(); t && t->options.timestamps) our_tsval = t->options.timestamps->tsval;
    out.frames.clear();
  }

  /// The IPv4 packet inside a frame we sent (the frame itself on an IP link), or nothing for ARP.
  auto ip_of(const std::vector<std::byte>& frame) const -> std::optional<bytes_view> {
    bytes_view b{frame};
    if (!ethernet) return b;
    auto e = wire::ethernet_repr::parse(wire::ethernet_frame<bytes_view>{b});
    if (!e || e->ethertype != wire::ethertype::ipv4) return std::nullopt;
    return b.subspan(14);
  }
  /// The last TCP segment we sent, if any.
  auto last_tcp_sent() const -> std::optional<wire::tcp_repr> {
    std::optional<wire::tcp_repr> last;
    for (const auto& f : out.frames) {
      auto p = ip_of(f);
      if (!p) continue;
      auto v = wire::ipv4_packet<bytes_view>::checked(*p);
      if (!v || v->protocol() != wire::ip_protocol::tcp) continue;
      if (auto t = wire::tcp_repr::parse(wire::tcp_packet<bytes_view>{v->payload()}, v->src(), v->dst())) last = *t;
    }
    return last;
  }

  /// What attacker input can grow stays within its bounds: the datagrams in reassembly and
  /// their bytes, the ARP cache, its incomplete entries and its waiting packets.
  void check_bounds() const {
    const auto& r = ip.reassembler();
    const auto& rc = ip.config().reassembly;
    SYNACK_FUZZ_CHECK(r.pending() <= rc.max_datagrams, "more datagrams in reassembly than max_datagrams");
    SYNACK_FUZZ_CHECK(r.bytes_held() <= rc.max_total_bytes, "reassembly holds more than max_total_bytes");
    if (eth) {
      const auto& c = eth->cache();
      SYNACK_FUZZ_CHECK(c.size() <= c.capacity(), "ARP cache over its capacity");
      SYNACK_FUZZ_CHECK(c.incomplete() <= c.max_incomplete(), "more incomplete ARP entries than max_incomplete");
      SYNACK_FUZZ_CHECK(c.queued_total() <= c.config().max_queued_total, "more packets waiting for ARP than the pool");
    }
  }

  /// Everything the host sent is well-formed: its frames parse, from our MAC; its IPv4 packets
  /// parse with the header checksum verified, from our address, DF set, within the MTU; its TCP
  /// segments and ICMP messages parse with their checksums verified.
  void check_output() const {
    for (const auto& f : out.frames) {
      bytes_view b{f};
      if (ethernet) {
        auto e = wire::ethernet_repr::parse(wire::ethernet_frame<bytes_view>{b});
        SYNACK_FUZZ_CHECK(e.has_value(), "a frame we sent does not parse");
        SYNACK_FUZZ_CHECK(e->src == mac, "a frame we sent is not from our MAC");
        if (e->ethertype == wire::ethertype::arp) {
          auto a = wire::arp_repr::parse(wire::arp_packet<bytes_view>{b.subspan(14)});
          SYNACK_FUZZ_CHECK(a.has_value(), "an ARP packet we sent does not parse");
          SYNACK_FUZZ_CHECK(a->sender_mac == mac && a->sender_ip == addr, "ARP sender is not us");
          continue;
        }
        SYNACK_FUZZ_CHECK(e->ethertype == wire::ethertype::ipv4, "a frame we sent is neither IPv4 nor ARP");
        SYNACK_FUZZ_CHECK(!e->dst.is_zero(), "a frame sent to 00:00:00:00:00:00");
        b = b.subspan(14);
      }
      SYNACK_FUZZ_CHECK(b.size() <= ip.config().mtu, "a packet larger than the MTU");
      auto v = wire::ipv4_packet<bytes_view>::checked(b);
      SYNACK_FUZZ_CHECK(v.has_value(), "a packet we sent does not parse");
      auto ipr = wire::ipv4_repr::parse(*v, wire::checksum_check::verify);
      SYNACK_FUZZ_CHECK(ipr.has_value(), "a packet we sent does not parse (checksum)");
      SYNACK_FUZZ_CHECK(ipr->src == addr, "a packet we sent is not from our address");
      SYNACK_FUZZ_CHECK(v->total_len() == b.size(), "a packet we sent has bytes after its total length");
      if (ipr->protocol == wire::ip_protocol::tcp) {
        auto t = wire::tcp_repr::parse(wire::tcp_packet<bytes_view>{v->payload()}, ipr->src, ipr->dst);
        SYNACK_FUZZ_CHECK(t.has_value(), "a TCP segment we sent does not parse");
        SYNACK_FUZZ_CHECK(!(t->flags.has(wire::tcp_flag::syn) && t->flags.has(wire::tcp_flag::rst)), "SYN+RST");
      } else {
        SYNACK_FUZZ_CHECK(ipr->protocol == wire::ip_protocol::icmp, "we sent neither TCP nor ICMP");
        auto c = wire::icmpv4_repr::parse(wire::icmpv4_packet<bytes_view>{v->payload()});
        SYNACK_FUZZ_CHECK(c.has_value(), "an ICMP message we sent does not parse");
        SYNACK_FUZZ_CHECK(c->type == wire::icmpv4_type::echo_reply || c->type == wire::icmpv4_type::dest_unreachable ||
                              c->type == wire::icmpv4_type::parameter_problem,
                          "we sent an ICMP message other than echo reply, unreachable or parameter problem");
        SYNACK_FUZZ_CHECK(!ipr->dst.is_broadcast() && !ipr->dst.is_multicast(), "ICMP to a broadcast or multicast");
      }
    }
  }
};

} // namespace synack_fuzz
