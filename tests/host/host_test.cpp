// host/host.hpp: the protocol wiring that exists once. Settings that conflict are refused at
// construction; the MSS and TSO follow from the MTU and the link; an echo request is answered
// at once through the sink given to receive(); an ICMP error reaches the TCP connection whose
// segment it quotes; on Ethernet, a segment whose next hop is unresolved asks for no offload;
// counters print each name once.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "synack/host/host.hpp"

namespace {

using namespace synack;
using namespace std::chrono_literals;
using wire::ipv4_address;

const ipv4_address us{192, 0, 2, 2};
const ipv4_address peer{192, 0, 2, 1};
const wire::mac_address our_mac{0x02, 0, 0, 0, 0, 0x02};
const wire::mac_address peer_mac{0x02, 0, 0, 0, 0, 0x01};
const siphash_key key{1, 2};

using bytes = std::vector<std::byte>;

/// A link-like sink that keeps what it is given, with the metadata it was asked for.
struct collector {
  struct packet {
    bytes data;
    link::tx_meta meta;
  };
  std::vector<packet> packets;
  template <class F>
  auto transmit(std::size_t len, F&& fill, const link::tx_meta& meta = {}) -> bool {
    packets.push_back({bytes(len), meta});
    fill(bytes_mut{packets.back().data});
    return true;
  }
};

auto ip_config(link::medium m = link::medium::ip) -> host_config {
  host_config c;
  c.link.medium = m;
  c.link.mtu = 1500;
  c.ip.address = wire::ipv4_cidr{us, 24};
  if (m == link::medium::ethernet) c.mac = our_mac;
  return c;
}

/// An IPv4 packet from `src` to `dst` carrying `payload` of `proto`.
auto ip_packet(ipv4_address src, ipv4_address dst, wire::ip_protocol proto, bytes_view payload) -> bytes {
  wire::ipv4_repr r;
  r.src = src;
  r.dst = dst;
  r.protocol = proto;
  r.payload_len = payload.size();
  bytes b(r.buffer_len());
  std::copy(payload.begin(), payload.end(), b.begin() + 20);
  wire::ipv4_packet<bytes_mut> p{bytes_mut{b}.first(20)};
  r.emit(p);
  return b;
}

auto echo_request(std::uint16_t seq) -> bytes {
  const std::array<std::byte, 8> data{std::byte{1}, std::byte{2}, std::byte{3}};
  const auto e = wire::icmpv4_repr::echo_request(7, seq, data);
  bytes b(e.buffer_len());
  wire::icmpv4_packet<bytes_mut> p{bytes_mut{b}};
  e.emit(p);
  return ip_packet(peer, us, wire::ip_protocol::icmp, b);
}

auto parse_ip(bytes_view b) -> wire::ipv4_repr {
  auto v = wire::ipv4_packet<bytes_view>::checked(b);
  REQUIRE(v);
  auto r = wire::ipv4_repr::parse(*v, wire::checksum_check::verify);
  REQUIRE(r);
  return *r;
}
auto parse_tcp(bytes_view ip) -> wire::tcp_repr {
  auto v = wire::ipv4_packet<bytes_view>::checked(ip);
  REQUIRE(v);
  auto t = wire::tcp_repr::parse(wire::tcp_packet<bytes_view>{v->payload()}, v->src(), v->dst());
  REQUIRE(t);
  return *t;
}

/// The message of the std::invalid_argument `f` throws, or "" if it throws none.
template <class F>
auto refusal(F&& f) -> std::string {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

} // namespace

TEST_SUITE_BEGIN("host");

TEST_CASE("settings that conflict are refused at construction, with the reason") {
  auto c = ip_config();
  c.ip.mtu = 9000;
  CHECK(refusal([&] { synack::host<> h(c, key); }).find("larger than the link's MTU 1500") != std::string::npos);
  c = ip_config();
  c.tcp.connection.mss = 1461;
  CHECK(refusal([&] { synack::host<> h(c, key); }).find("MSS 1461 does not fit the MTU 1500") != std::string::npos);
  c = ip_config();
  c.ip.mtu = 60;
  CHECK(refusal([&] { synack::host<> h(c, key); }).find("minimum of 68") != std::string::npos);
  c = ip_config(link::medium::ethernet);
  c.mac.reset();
  CHECK(refusal([&] { synack::host<> h(c, key); }).find("MAC address") != std::string::npos);
  // What fits is used as it is.
  c = ip_config();
  c.tcp.connection.mss = 1000;
  synack::host<> h(c, key);
  CHECK(h.tcp().config().connection.mss == 1000);
}

TEST_CASE("the MSS follows the MTU unless set (RFC 9293 §3.7.1), and TSO the link") {
  auto c = ip_config();
  c.ip.mtu = 1400;
  c.link.tso_max = 65535;
  synack::host<> h(c, key);
  CHECK(h.tcp().config().connection.mss == 1360);
  CHECK(h.tcp().config().connection.tso_max == 65535 - 40);
  auto id = h.tcp().connect(instant::from_millis(1), us, {peer, 80});
  REQUIRE(id);
  collector out;
  h.poll_transmit(instant::from_millis(1), out);
  REQUIRE(out.packets.size() == 1);
  const auto syn = parse_tcp(out.packets[0].data);
  CHECK(syn.flags.has(wire::tcp_flag::syn));
  CHECK(syn.options.mss == 1360);
}

TEST_CASE("an echo request is answered at once, through the sink given to receive (RFC 792)") {
  synack::host<> h(ip_config(), key);
  collector out;
  h.receive(instant::from_millis(5), echo_request(3), {}, out);
  REQUIRE(out.packets.size() == 1);
  const auto ip = parse_ip(out.packets[0].data);
  CHECK(ip.src == us);
  CHECK(ip.dst == peer);
  CHECK(ip.protocol == wire::ip_protocol::icmp);
  CHECK(h.ip().counters().icmp_out_echo_reps == 1);
}

TEST_CASE("an ICMP port unreachable quoting our SYN refuses the connection (RFC 1122 §4.2.3.9)") {
  synack::host<> h(ip_config(), key);
  const auto now = instant::from_millis(1);
  auto id = h.tcp().connect(now, us, {peer, 80});
  REQUIRE(id);
  collector out;
  h.poll_transmit(now, out);
  REQUIRE(out.packets.size() == 1);
  // The router's message quotes our packet's header and its first 8 payload bytes.
  const auto quote = bytes_view{out.packets[0].data}.first(28);
  const auto u = wire::icmpv4_repr::dest_unreachable(wire::icmpv4_unreachable::port, quote);
  bytes icmp(u.buffer_len());
  wire::icmpv4_packet<bytes_mut> p{bytes_mut{icmp}};
  u.emit(p);
  h.receive(now + 1ms, ip_packet(peer, us, wire::ip_protocol::icmp, icmp), {}, out);
  auto* c = h.tcp().find(*id);
  REQUIRE(c);
  CHECK(c->state() == tcp::state::closed);
  CHECK(c->last_error() == tcp::error::connection_refused);
}

TEST_CASE("on Ethernet, a segment whose next hop is unresolved asks for no offload; resolved, it does") {
  auto c = ip_config(link::medium::ethernet);
  c.link.tx_checksum_offload = true;
  synack::host<> h(c, key);
  const auto now = instant::from_millis(1);
  auto first = h.tcp().connect(now, us, {peer, 80});
  REQUIRE(first);
  collector out;
  h.poll_transmit(now, out);
  // The SYN waits for ARP: an ARP request left; the queued SYN carries a whole checksum.
  bool arp_request = false;
  for (const auto& f : out.packets) {
    auto e = wire::ethernet_repr::parse(wire::ethernet_frame<bytes_view>{bytes_view{f.data}});
    REQUIRE(e);
    if (e->ethertype == wire::ethertype::arp) arp_request = true;
    CHECK_FALSE(f.meta.tcp_checksum_partial);
  }
  CHECK(arp_request);
  // The peer answers the ARP request: the queued SYN leaves, still whole.
  bytes reply(14 + 28);
  wire::ethernet_frame<bytes_mut> f{bytes_mut{reply}};
  wire::ethernet_repr{peer_mac, our_mac, wire::ethertype::arp}.emit(f);
  wire::arp_packet<bytes_mut> a{bytes_mut{reply}.subspan(14)};
  wire::arp_repr{wire::arp_operation::reply, peer_mac, peer, our_mac, us}.emit(a);
  out.packets.clear();
  h.receive(now + 1ms, reply, {}, out);
  h.poll_transmit(now + 1ms, out);
  REQUIRE_FALSE(out.packets.empty());
  for (const auto& p : out.packets) CHECK_FALSE(p.meta.tcp_checksum_partial);
  // A new connection to the resolved peer: its SYN asks the link for the checksum.
  out.packets.clear();
  auto second = h.tcp().connect(now + 2ms, us, {peer, 81});
  REQUIRE(second);
  h.poll_transmit(now + 2ms, out);
  REQUIRE(out.packets.size() == 1);
  CHECK(out.packets[0].meta.tcp_checksum_partial);
}

TEST_CASE("counters: each layer once, each name once (no \"ip: ip: ...\")") {
  synack::host<> h(ip_config(link::medium::ethernet), key);
  std::vector<std::string> lines;
  h.for_each_counter([&](std::string_view layer, std::string_view name, std::uint64_t) {
    CHECK_FALSE(layer.empty());
    CHECK(name.find(": ") == std::string_view::npos);
    lines.push_back(std::string{layer} + ": " + std::string{name});
  });
  CHECK(std::find(lines.begin(), lines.end(), "ip: total packets received") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "arp: requests sent") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "tcp: segments received") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "link: packets not sent (no transmit buffer)") != lines.end());
}
