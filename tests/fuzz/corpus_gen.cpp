// fuzz_corpus_gen <dir>: writes the seed corpus of every fuzz target into <dir>/<target>/
// (tests/fuzz/corpus is its output, checked in; run it again after changing an input format):
//   ethernet, arp, ipv4, icmpv4, tcp  the frames Linux sent in tests/wire/captures.hpp, cut
//                                     to each layer, and packets of a simulated conversation
//                                     (two synack hosts, a bulk transfer with loss: SACK,
//                                     timestamps, window scaling, retransmissions, the close);
//                                     ipv4 also gets headers with options, good and malformed;
//   stack_rx                          conversations with stack_host (stack_host.hpp) in the
//                                     format of fuzz_stack_rx.cpp, numbers taken from the host;
//   connection                        conversations in the format of connection_ops.hpp.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "connection_ops.hpp"
#include "sim/sim_network.hpp"
#include "stack_host.hpp"
#include "wire/captures.hpp"

namespace fs = std::filesystem;
using namespace synack;
using namespace synack_fuzz;
namespace cap = synack::wire::test::captures;

namespace {

fs::path root;
std::size_t written = 0;

void write(const std::string& target, const std::string& name, bytes_view b) {
  const auto dir = root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ++written;
}
void write(const std::string& target, const std::string& name, const std::vector<std::uint8_t>& v) {
  write(target, name, bytes_view{reinterpret_cast<const std::byte*>(v.data()), v.size()});
}

/// One IPv4 packet (no link header) into the ipv4 corpus and its payload into tcp / icmpv4.
void write_ip_layers(const std::string& name, bytes_view ip) {
  write("ipv4", name, ip);
  auto v = wire::ipv4_packet<bytes_view>::checked(ip);
  if (!v) return;
  if (v->protocol() == wire::ip_protocol::tcp) write("tcp", name, v->payload());
  if (v->protocol() == wire::ip_protocol::icmp) write("icmpv4", name, v->payload());
}

template <std::size_t N>
void capture(const std::string& name, const std::uint8_t (&frame)[N]) {
  const bytes_view b{reinterpret_cast<const std::byte*>(frame), N};
  write("ethernet", name, b);
  auto e = wire::ethernet_repr::parse(wire::ethernet_frame<bytes_view>{b});
  if (!e) return;
  if (e->ethertype == wire::ethertype::arp) write("arp", name, b.subspan(14));
  if (e->ethertype == wire::ethertype::ipv4) write_ip_layers(name, b.subspan(14));
}

void captures() {
  capture("cap_arp_request", cap::arp_request);
  capture("cap_arp_reply", cap::arp_reply);
  capture("cap_tcp_syn", cap::tcp_syn);
  capture("cap_tcp_syn_ack", cap::tcp_syn_ack);
  capture("cap_tcp_ack", cap::tcp_ack);
  capture("cap_tcp_data", cap::tcp_data);
  capture("cap_tcp_data_ack", cap::tcp_data_ack);
  capture("cap_tcp_fin", cap::tcp_fin);
  capture("cap_tcp_fin_ack", cap::tcp_fin_ack);
  capture("cap_tcp_fin2", cap::tcp_fin2);
  capture("cap_tcp_last_ack", cap::tcp_last_ack);
  capture("cap_tcp_syn_closed", cap::tcp_syn_closed);
  capture("cap_tcp_rst", cap::tcp_rst);
  capture("cap_udp", cap::udp);
  capture("cap_icmp_port_unreachable", cap::icmp_port_unreachable);
  capture("cap_icmp_echo_request", cap::icmp_echo_request);
  capture("cap_icmp_echo_reply", cap::icmp_echo_reply);
  capture("cap_icmp_echo_ttl1", cap::icmp_echo_ttl1);
  capture("cap_icmp_time_exceeded", cap::icmp_time_exceeded);
  capture("cap_lo_syn_partial", cap::lo_syn_partial);
  capture("cap_lo_data_partial", cap::lo_data_partial);
  capture("cap_lo_rst", cap::lo_rst);
  capture("cap_lo_echo_request", cap::lo_echo_request);
  capture("cap_lo_echo_reply", cap::lo_echo_reply);
}

/// IPv4 headers with options (RFC 791 §3.1), well-formed and malformed, around the captured
/// data segment: seeds for the option walker (fuzz_ipv4).
void ip_options() {
  const bytes_view base =
      bytes_view{reinterpret_cast<const std::byte*>(cap::tcp_data), sizeof cap::tcp_data}.subspan(14);
  const std::vector<std::pair<std::string, std::vector<std::uint8_t>>> options = {
      {"opt_nop_eol", {0x01, 0x01, 0x01, 0x00}},
      {"opt_record_route", {0x07, 0x07, 0x04, 0, 0, 0, 0, 0x00}},
      {"opt_timestamp", {0x44, 0x0c, 0x05, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}},
      {"opt_router_alert", {0x94, 0x04, 0x00, 0x00}},
      {"opt_bad_len0", {0x99, 0x00, 0x00, 0x00}},
      {"opt_bad_past_end", {0x01, 0x99, 0x05, 0x00}},
      {"opt_bad_rr_pointer", {0x07, 0x07, 0x03, 0, 0, 0, 0, 0x00}},
  };
  for (const auto& [name, o] : options) {
    std::vector<std::byte> v(base.begin(), base.begin() + 20);
    for (auto b : o) v.push_back(std::byte{b});
    v.insert(v.end(), base.begin() + 20, base.end());
    wire::ipv4_packet<bytes_mut> p{bytes_mut{v}};
    p.set_header_len(20 + o.size());
    p.set_total_len(static_cast<std::uint16_t>(v.size()));
    p.fill_checksum();
    write("ipv4", name, bytes_view{v});
  }
}

/// Two synack hosts over a lossy simulated wire: a 40 KB transfer each way and the close.
/// Every distinct kind of segment (by flags, options and whether it carries data) is kept
/// once, the first few of each.
void simulated_conversation() {
  link::sim_config sim;
  sim.seed = 7;
  sim.loss = 0.05;
  tcp::layer_config cfg;
  cfg.connection.send_buffer = cfg.connection.recv_buffer = 32 * 1024;
  test_sim::network<> net{sim, cfg, 7};
  auto l = net.b.tcp.listen({net.b.addr(), 7788}, 8);
  auto c = net.a.tcp.connect(net.now, net.a.addr(), {net.b.addr(), 7788});
  test_sim::bulk_endpoint<tcp::layer<>> ea{&net.a.tcp, *c, 7, 0, 40000};
  test_sim::bulk_endpoint<tcp::layer<>> eb{&net.b.tcp, {}, 7, 1, 40000};
  std::map<std::string, int> kinds;
  int n = 0;
  auto record = [&](bytes_view p) {
    auto v = wire::ipv4_packet<bytes_view>::checked(p);
    if (!v) return;
    auto t = wire::tcp_repr::parse(wire::tcp_packet<bytes_view>{v->payload()}, v->src(), v->dst());
    if (!t) return;
    const auto& o = t->options;
    const auto kind =
        fmt::format("{:t}{}{}{}{}", t->flags, o.mss ? "m" : "", o.timestamps ? "t" : "",
                    o.sack_count != 0 ? fmt::format("s{}", o.sack_count) : "", t->payload.empty() ? "" : "d");
    if (kinds[kind]++ >= 2) return;
    write_ip_layers(fmt::format("sim_{:03}_{}", n++, kind), p);
  };
  for (int i = 0; i < 200000 && !(ea.closed && eb.closed); ++i) {
    if (!eb.id) {
      if (auto id = net.b.tcp.accept(*l)) eb.id = *id;
    }
    ea.work(net.now);
    if (eb.id) eb.work(net.now);
    net.flush();
    const auto t = net.next_event();
    if (!t) break;
    if (*t > net.now) net.now = *t;
    net.wire.a_to_b.deliver(net.now, [&](bytes_view p) {
      record(p);
      net.b.receive(net.now, p);
    });
    net.wire.b_to_a.deliver(net.now, [&](bytes_view p) {
      record(p);
      net.a.receive(net.now, p);
    });
    if (auto d = net.a.tcp.next_deadline(); d && *d <= net.now) net.a.tcp.on_timeout(net.now);
    if (auto d = net.b.tcp.next_deadline(); d && *d <= net.now) net.b.tcp.on_timeout(net.now);
  }
}

/// Builds one fuzz_stack_rx input by running the same host the target runs.
struct rx_input {
  std::uint8_t mode;
  stack_host host;
  std::vector<std::uint8_t> bytes;

  wire::ipv4_address src = stack_host::peer_addr; // of the packets ip_packet() builds

  explicit rx_input(std::uint8_t m) : mode(m), host((m & 1) != 0) { bytes.push_back(m); }
  auto csum() const { return (mode & 2) != 0 ? wire::checksum_check::verify : wire::checksum_check::skip; }

  void record(std::uint8_t op, const std::vector<std::byte>& packet) {
    bytes.push_back(op);
    bytes.push_back(static_cast<std::uint8_t>(packet.size() >> 8));
    bytes.push_back(static_cast<std::uint8_t>(packet.size()));
    for (auto b : packet) bytes.push_back(std::to_integer<std::uint8_t>(b));
    host.process_record(op, bytes_view{packet}, csum());
  }
  /// A segment from the peer on the established connection, in order; `data` advances its seq.
  void segment(std::uint8_t op, wire::tcp_flags extra, std::size_t data_len = 0, std::uint32_t skip = 0) {
    auto r = host.peer_ack(extra);
    r.seq = host.peer_nxt + skip;
    std::vector<std::byte> data(data_len);
    for (std::size_t i = 0; i < data_len; ++i)
      data[i] = std::byte{conn_ops::peer_byte((r.seq + static_cast<std::uint32_t>(i)).raw())};
    r.payload = bytes_view{data};
    if (skip == 0) host.peer_nxt += static_cast<std::uint32_t>(data_len) + (extra.has(wire::tcp_flag::fin) ? 1 : 0);
    record(op, host.peer_packet(r));
  }
  /// An IPv4 packet of protocol `proto` from the peer with `payload` (wrapped in Ethernet on L2).
  auto ip_packet(wire::ip_protocol proto, bytes_view payload, std::uint16_t ident = 1, bool mf = false,
                 std::uint16_t offset = 0, std::size_t total_payload = 0) const -> std::vector<std::byte> {
    const std::size_t l2 = host.ethernet ? 14 : 0;
    std::vector<std::byte> b(l2 + 20 + payload.size());
    if (host.ethernet) {
      wire::ethernet_frame<bytes_mut> f{bytes_mut{b}};
      wire::ethernet_repr{stack_host::peer_mac, stack_host::mac, wire::ethertype::ipv4}.emit(f);
    }
    (void)total_payload;
    wire::ipv4_repr ipr;
    ipr.src = src;
    ipr.dst = stack_host::addr;
    ipr.protocol = proto;
    ipr.payload_len = payload.size();
    ipr.ident = ident;
    ipr.dont_fragment = !mf && offset == 0;
    ipr.more_fragments = mf;
    ipr.fragment_offset = offset;
    wire::ipv4_packet<bytes_mut> p{bytes_mut{b}.subspan(l2)};
    ipr.emit(p);
    std::copy(payload.begin(), payload.end(), b.begin() + static_cast<std::ptrdiff_t>(l2 + 20));
    return b;
  }
  /// `packet` (built by ip_packet or peer_packet) with IPv4 `options` inserted after the fixed
  /// header; lengths and the header checksum rewritten (the TCP checksum does not cover them).
  auto with_options(std::vector<std::byte> packet, std::initializer_list<std::uint8_t> options) const
      -> std::vector<std::byte> {
    const std::size_t l3 = host.ethernet ? 14 : 0;
    std::vector<std::byte> o;
    for (auto b : options) o.push_back(std::byte{b});
    packet.insert(packet.begin() + static_cast<std::ptrdiff_t>(l3 + 20), o.begin(), o.end());
    wire::ipv4_packet<bytes_mut> p{bytes_mut{packet}.subspan(l3)};
    p.set_header_len(20 + o.size());
    p.set_total_len(static_cast<std::uint16_t>(packet.size() - l3));
    p.fill_checksum();
    return packet;
  }
  auto echo_request(std::size_t len) const -> std::vector<std::byte> {
    std::vector<std::byte> icmp(8 + len, std::byte{0x61});
    auto req = wire::icmpv4_repr::echo_request(0x1234, 1, bytes_view{icmp}.subspan(8));
    wire::icmpv4_packet<bytes_mut> p{bytes_mut{icmp}};
    req.emit(p);
    return icmp;
  }
};

void stack_rx() {
  for (int m = 0; m < 8; ++m) {
    const auto mode = static_cast<std::uint8_t>(m);
    const auto tag =
        fmt::format("{}_{}{}", mode & 1 ? "eth" : "ip", mode & 2 ? "csum" : "offload", mode & 4 ? "_ipcsum" : "");
    using wire::tcp_flag;
    {
      // The peer ACKs our data, sends data in order, and closes; we close too.
      rx_input in{mode};
      in.segment(0, {});
      in.segment(0, tcp_flag::psh, 1000);
      in.segment(2, tcp_flag::psh, 1400);
      in.segment(0x40, {});
      in.segment(1, tcp_flag::fin);
      in.segment(0x80, {});
      in.segment(0, {});
      write("stack_rx", "data_close_" + tag, in.bytes);
    }
    {
      // Out of order data (a hole, SACK), then the hole filled; a RST at the end.
      rx_input in{mode};
      in.segment(0, tcp_flag::psh, 500, 1000);
      in.segment(0, tcp_flag::psh, 1000);
      in.segment(0, tcp_flag::psh, 500);
      in.segment(3, tcp_flag::rst);
      write("stack_rx", "ooo_rst_" + tag, in.bytes);
    }
    {
      // Ping (one packet, then a fragmented one), UDP (port unreachable), and a new SYN.
      rx_input in{mode};
      const auto ping = in.echo_request(56);
      in.record(0, in.ip_packet(wire::ip_protocol::icmp, bytes_view{ping}));
      const auto big = in.echo_request(1000);
      in.record(0, in.ip_packet(wire::ip_protocol::icmp, bytes_view{big}.first(512), 7, true, 0));
      in.record(0, in.ip_packet(wire::ip_protocol::icmp, bytes_view{big}.subspan(512), 7, false, 512));
      std::vector<std::byte> udp(16, std::byte{0});
      in.record(0, in.ip_packet(wire::ip_protocol::udp, bytes_view{udp}));
      auto syn = in.host.peer_header(tcp_flag::syn);
      syn.src_port = 40001;
      syn.seq = wire::seq_number{555};
      syn.options.mss = 536;
      in.record(0, in.host.peer_packet(syn));
      write("stack_rx", "icmp_udp_syn_" + tag, in.bytes);
    }
    {
      // ICMP errors quoting our data segment: fragmentation needed (RFC 1191), then port unreachable.
      rx_input in{mode};
      auto* c = in.host.tcp.find(in.host.conn);
      wire::tcp_repr ours{};
      ours.src_port = stack_host::port;
      ours.dst_port = stack_host::peer_port;
      ours.seq = c->tcb().snd_una;
      ours.flags = tcp_flag::ack;
      std::vector<std::byte> quote(20 + 20);
      wire::ipv4_repr q;
      q.src = stack_host::addr;
      q.dst = stack_host::peer_addr;
      q.payload_len = 1460;
      wire::ipv4_packet<bytes_mut> qp{bytes_mut{quote}};
      q.emit(qp);
      wire::tcp_packet<bytes_mut> qt{bytes_mut{quote}.subspan(20)};
      ours.emit(qt, q.src, q.dst);
      for (auto code : {wire::icmpv4_unreachable::frag_needed, wire::icmpv4_unreachable::port}) {
        const auto msg = wire::icmpv4_repr::dest_unreachable(code, bytes_view{quote}.first(28), 1200);
        std::vector<std::byte> icmp(msg.buffer_len());
        wire::icmpv4_packet<bytes_mut> p{bytes_mut{icmp}};
        msg.emit(p);
        in.record(0, in.ip_packet(wire::ip_protocol::icmp, bytes_view{icmp}));
      }
      write("stack_rx", "icmp_errors_" + tag, in.bytes);
    }
    {
      // IPv4 options: well-formed ones on a data segment (delivered), malformed ones on the next
      // segment and on a ping (dropped, answered with a parameter problem, RFC 792).
      rx_input in{mode};
      auto seg = in.host.peer_ack(tcp_flag::psh);
      std::vector<std::byte> data(100, std::byte{'p'});
      seg.payload = bytes_view{data};
      in.record(0, in.with_options(in.host.peer_packet(seg), {0x07, 0x07, 0x04, 0, 0, 0, 0, 0x01, 0x94, 0x04, 0, 0}));
      in.host.peer_nxt += 100;
      in.record(0, in.with_options(in.host.peer_packet(in.host.peer_ack()), {0x01, 0x99, 0x00, 0x00}));
      const auto ping = in.echo_request(56);
      in.record(0, in.with_options(in.ip_packet(wire::ip_protocol::icmp, bytes_view{ping}),
                                   {0x44, 0x08, 0x04, 0x00, 0, 0, 0, 0}));
      write("stack_rx", "ip_options_" + tag, in.bytes);
    }
    {
      // Forged first fragments from other sources fill reassembly (max_datagrams is 4 in
      // stack_host) and are evicted; then a real fragmented ping reassembles.
      rx_input in{mode};
      std::vector<std::byte> junk(64, std::byte{0x5a});
      for (std::uint8_t n = 0; n < 6; ++n) {
        in.src = wire::ipv4_address{198, 51, 100, static_cast<std::uint8_t>(10 + n)};
        in.record(0,
                  in.ip_packet(wire::ip_protocol::udp, bytes_view{junk}, static_cast<std::uint16_t>(100 + n), true, 0));
      }
      in.src = stack_host::peer_addr;
      const auto big = in.echo_request(1000);
      in.record(0, in.ip_packet(wire::ip_protocol::icmp, bytes_view{big}.first(512), 9, true, 0));
      in.record(0, in.ip_packet(wire::ip_protocol::icmp, bytes_view{big}.subspan(512), 9, false, 512));
      write("stack_rx", "fragment_flood_" + tag, in.bytes);
    }
    {
      // SYNs from forged on-link sources: each SYN-ACK needs an ARP resolution on Ethernet
      // (max_incomplete is 4 in stack_host: the oldest incomplete entries are evicted), then
      // the connection goes on.
      rx_input in{mode};
      for (std::uint8_t n = 0; n < 8; ++n) {
        in.src = wire::ipv4_address{192, 0, 2, static_cast<std::uint8_t>(100 + n)};
        auto syn = in.host.peer_header(tcp_flag::syn);
        syn.src_port = static_cast<std::uint16_t>(50000 + n);
        syn.seq = wire::seq_number{1000u * n};
        syn.options.mss = 1460;
        std::vector<std::byte> tcp(syn.buffer_len());
        wire::tcp_packet<bytes_mut> t{bytes_mut{tcp}};
        syn.emit(t, in.src, stack_host::addr);
        in.record(0, in.ip_packet(wire::ip_protocol::tcp, bytes_view{tcp}));
      }
      in.src = stack_host::peer_addr;
      in.segment(1, {});
      write("stack_rx", "syn_flood_" + tag, in.bytes);
    }
    {
      // Nothing arrives for a while: our data is retransmitted (RTO), then the ACK.
      rx_input in{mode};
      in.record(40, in.host.ethernet ? in.host.peer_arp(wire::arp_operation::reply) : std::vector<std::byte>{});
      in.segment(0, {});
      write("stack_rx", "rto_" + tag, in.bytes);
    }
  }
}

void connection() {
  using namespace conn_ops;
  using opts = encoder::seg_options;
  constexpr std::uint8_t ack = 0x10, syn = 0x02, fin = 0x01, rst = 0x04, psh = 0x08;
  const opts syn_opts{1460, 7, true, true, 1, {}};
  const opts ts{0, -1, false, true, 1, {}};
  for (std::uint8_t cfg : {std::uint8_t{0}, std::uint8_t{cfg_wscale | cfg_ts | cfg_sack},
                           std::uint8_t{cfg_wscale | cfg_ts | cfg_sack | cfg_small | cfg_keepalive}}) {
    const bool o = cfg != 0;
    const auto so = o ? syn_opts : opts{1460};
    const auto to = o ? ts : opts{};
    const auto tag = fmt::format("cfg{:02x}", cfg);
    {
      // Passive: SYN, ACK, data both ways, the peer closes, we close (LAST_ACK).
      encoder e{cfg, 0};
      e.seg(syn, rel_peer_iss, 0, raw_ack, 0, 65535, so, 0);
      e.seg(ack, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      e.app_send(3000);
      e.seg(ack | psh, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 1000);
      e.app_recv(4096);
      e.seg(ack | fin, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      e.op(conn_ops::close);
      e.seg(ack, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      write("connection", "passive_close_" + tag, e.bytes);
    }
    {
      // Active: SYN-ACK, data with a hole (SACK), the hole, we close first (TIME_WAIT), 2MSL.
      encoder e{cfg, 1};
      e.seg(syn | ack, rel_peer_iss, 0, rel_snd_nxt, 0, 65535, so, 0);
      e.seg(ack | psh, rel_rcv_nxt, 1000, rel_snd_nxt, 0, 65535, to, 500);
      e.seg(ack | psh, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 1000);
      e.op(consume);
      e.u16(2000);
      e.op(conn_ops::close);
      e.seg(ack, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      e.seg(ack | fin, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      e.op(advance, in_seconds);
      e.u16(61);
      write("connection", "active_time_wait_" + tag, e.bytes);
    }
    {
      // Bulk send with losses: duplicate ACKs with SACK blocks, fast retransmit, an RTO.
      encoder e{cfg, 1};
      e.seg(syn | ack, rel_peer_iss, 0, rel_snd_nxt, 0, 65535, so, 0);
      e.app_send(20000);
      auto sacked = to;
      sacked.sack = {{1448, 1448}};
      for (int i = 0; i < 3; ++i) {
        sacked.sack[0].second = static_cast<std::uint16_t>(1448 * (i + 1));
        e.seg(ack, rel_rcv_nxt, 0, rel_snd_una, 0, 65535, sacked, 0);
      }
      e.seg(ack, rel_rcv_nxt, 0, rel_snd_una, 5000, 65535, to, 0);
      e.op(timer);
      e.seg(ack, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      e.op(conn_ops::abort);
      write("connection", "bulk_loss_" + tag, e.bytes);
    }
    {
      // Zero window, persist probes, the window opens; simultaneous close (CLOSING).
      encoder e{cfg, 0};
      e.seg(syn, rel_peer_iss, 0, raw_ack, 0, 65535, so, 0);
      e.seg(ack, rel_rcv_nxt, 0, rel_snd_nxt, 0, 0, to, 0);
      e.app_send(2000);
      e.op(timer);
      e.op(timer);
      e.seg(ack, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      e.op(conn_ops::close);
      e.seg(ack | fin, rel_rcv_nxt, 0, rel_snd_una, 0, 65535, to, 0);
      e.seg(ack, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      write("connection", "zero_window_closing_" + tag, e.bytes);
    }
    {
      // Simultaneous open, then a RST in the window (challenge ACK) and at RCV.NXT.
      encoder e{cfg, 1};
      e.seg(syn, rel_peer_iss, 0, raw_ack, 0, 65535, so, 0);
      e.seg(syn | ack, rel_peer_iss, 0, rel_snd_nxt, 0, 65535, so, 0);
      e.seg(rst, rel_rcv_nxt, 100, raw_ack, 0, 0, {}, 0);
      e.seg(rst, rel_rcv_nxt, 0, raw_ack, 0, 0, {}, 0);
      write("connection", "simultaneous_rst_" + tag, e.bytes);
    }
    {
      // ICMP errors: fragmentation needed on data in flight, then a keep-alive wait.
      encoder e{cfg, 1};
      e.seg(syn | ack, rel_peer_iss, 0, rel_snd_nxt, 0, 65535, so, 0);
      e.app_send(5000);
      e.op(icmp);
      e.u8(1);
      e.u8(rel_snd_una);
      e.u16(0);
      e.u16(1280);
      e.seg(ack, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      e.op(advance, in_seconds);
      e.u16(20);
      e.op(timer);
      write("connection", "icmp_keepalive_" + tag, e.bytes);
    }
    for (const std::uint8_t start : {std::uint8_t{0}, std::uint8_t{4}}) {
      // Forged segments that must be dropped (op 12, issue 12), on both input paths: at RCV.NXT
      // with a TSval 2^30 ahead and no ACK bit, or an ACK beyond SND.NXT or far below SND.UNA;
      // out of the window on both sides, with an old TSval (PAWS), without timestamps, several
      // within one poll (the rate limit); then the peer's real data still goes in.
      encoder e{cfg, start};
      e.seg(syn, rel_peer_iss, 0, raw_ack, 0, 65535, so, 0);
      e.seg(ack, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      e.app_send(3000);
      e.seg(ack | psh, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 1000);
      e.forged_seg(no_ack_bit, psh, ts_far_ahead, 0, 0, 0, 0);
      e.forged_seg(no_ack_bit, fin | psh, ts_far_ahead, 7, 0, 0, 100);
      e.forged_seg(bad_ack, psh, ts_far_ahead, 0, 0, 0, 0);
      e.forged_seg(bad_ack | other_side, 0, ts_far_ahead, 0, 0, 100, 50);
      e.forged_seg(out_of_window, ack, ts_near, 1, 0, 0, 0, no_poll);
      e.forged_seg(out_of_window | other_side, ack | fin, ts_near, 0xff00, 10, 0, 200, no_poll);
      e.forged_seg(out_of_window, ack, ts_none, 0, 5, 0, 0, no_poll);
      e.forged_seg(no_ack_bit, 0, ts_raw, 0x1234, 0, 0, 0);
      e.seg(ack | psh, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 1000);
      e.app_recv(4096);
      e.op(conn_ops::close);
      e.seg(ack | fin, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      e.forged_seg(out_of_window | other_side, fin | ack, ts_near, 1, 0, 0, 0);
      write("connection", fmt::format("forged_{}_{}", start == 0 ? "predicted" : "general", tag), e.bytes);
    }
    {
      // Forged segments during a handshake: SYN-RECEIVED (an unacceptable ACK earns a RST), and
      // after a simultaneous open with a CLOSE in SYN-RECEIVED (FIN-WAIT-1 with our SYN
      // unacknowledged), then the SYN-ACK that completes it.
      encoder e{cfg, 1};
      e.seg(syn, rel_peer_iss, 0, raw_ack, 0, 65535, so, 0);
      e.forged_seg(bad_ack, 0, ts_far_ahead, 0, 0, 0, 0);
      e.forged_seg(no_ack_bit, 0, ts_far_ahead, 0, 0, 0, 10);
      e.forged_seg(out_of_window, ack, ts_near, 1, 0, 0, 0);
      e.app_send(2000);
      e.op(conn_ops::close);
      e.forged_seg(bad_ack | other_side, 0, ts_far_ahead, 0, 0, 0, 0);
      e.seg(syn | ack, rel_peer_iss, 0, rel_snd_nxt, 0, 65535, so, 0);
      e.seg(ack, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      write("connection", "forged_handshake_" + tag, e.bytes);
    }
    for (const std::uint8_t start : {std::uint8_t{0}, std::uint8_t{4}}) {
      // Direct placement, with header prediction on and off: a posted read takes in-order data,
      // the rest queues behind it; out-of-order data and its hole; the peer closes.
      encoder e{cfg, start};
      e.seg(syn, rel_peer_iss, 0, raw_ack, 0, 65535, so, 0);
      e.seg(ack, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      e.op(post);
      e.u16(1500);
      e.seg(ack | psh, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 1000);
      e.seg(ack | psh, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 1000);
      e.app_recv(4096);
      e.op(post);
      e.u16(4000);
      e.seg(ack | psh, rel_rcv_nxt, 1000, rel_snd_nxt, 0, 65535, to, 800);
      e.seg(ack | psh, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 1000);
      e.app_send(2000);
      e.seg(ack | psh, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 500);
      e.op(post);
      e.u16(100);
      e.seg(ack | fin, rel_rcv_nxt, 0, rel_snd_nxt, 0, 65535, to, 0);
      e.app_recv(4096);
      write("connection", fmt::format("direct_placement_{}_{}", start == 0 ? "predicted" : "general", tag), e.bytes);
    }
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_corpus_gen <corpus-dir>\n");
    return 2;
  }
  root = argv[1];
  captures();
  simulated_conversation();
  ip_options();
  stack_rx();
  connection();
  std::printf("fuzz_corpus_gen: %zu files in %s\n", written, root.c_str());
  return 0;
}
