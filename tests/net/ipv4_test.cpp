// net/ipv4.hpp and net/reassembly.hpp with packets built by hand: every drop reason is counted
// (and nothing else is), echo replies parse back as correct ICMP, protocol and port
// unreachable are rate-limited, and fragment reassembly holds every bound (RFC 791 §3.2,
// RFC 815, RFC 1122 §3.2-§3.3).
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "synack/net/ipv4.hpp"

namespace {

using namespace synack;
using namespace std::chrono_literals;
using wire::ip_protocol;
using wire::ipv4_address;

const ipv4_address us{192, 0, 2, 2};
const ipv4_address peer{192, 0, 2, 1};
constexpr auto gre = static_cast<ip_protocol>(47);

using packet_bytes = std::vector<std::byte>;

auto pattern(std::size_t n, std::uint8_t seed = 1) -> packet_bytes {
  packet_bytes v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 31 + seed + i / 256) & 0xff);
  return v;
}

/// An IPv4 packet: the 20-byte header from `r` (payload_len set here) and `payload`.
auto ip_packet(wire::ipv4_repr r, bytes_view payload) -> packet_bytes {
  r.payload_len = payload.size();
  packet_bytes b(r.buffer_len());
  std::copy(payload.begin(), payload.end(), b.begin() + 20);
  wire::ipv4_packet<bytes_mut> p{bytes_mut{b}.first(20)};
  r.emit(p);
  return b;
}
auto header(ipv4_address src, ipv4_address dst, ip_protocol proto) -> wire::ipv4_repr {
  wire::ipv4_repr r;
  r.src = src;
  r.dst = dst;
  r.protocol = proto;
  r.ident = 0x4242;
  r.dont_fragment = false;
  return r;
}

/// A TCP segment (SYN to port 80 with `data`), its checksum over src/dst.
auto tcp_bytes(ipv4_address src, ipv4_address dst, bytes_view data = {}) -> packet_bytes {
  wire::tcp_repr t{};
  t.src_port = 40000;
  t.dst_port = 80;
  t.seq = wire::seq_number{1000};
  t.flags = wire::tcp_flags{wire::tcp_flag::syn};
  t.window = 1024;
  t.options.mss = 1460;
  t.payload = data;
  packet_bytes b(t.buffer_len());
  wire::tcp_packet<bytes_mut> p{bytes_mut{b}};
  t.emit(p, src, dst);
  return b;
}
auto tcp_packet(ipv4_address src = peer, ipv4_address dst = us, bytes_view data = {}) -> packet_bytes {
  return ip_packet(header(src, dst, ip_protocol::tcp), tcp_bytes(src, dst, data));
}

auto echo_bytes(std::uint16_t ident, std::uint16_t seq, bytes_view data) -> packet_bytes {
  const auto e = wire::icmpv4_repr::echo_request(ident, seq, data);
  packet_bytes b(e.buffer_len());
  wire::icmpv4_packet<bytes_mut> p{bytes_mut{b}};
  e.emit(p);
  return b;
}

/// Rewrites the IPv4 header checksum after a test changed header bytes.
void refill(packet_bytes& b) {
  wire::ipv4_packet<bytes_mut> p{bytes_mut{b}};
  p.fill_checksum();
}

/// Every counter, to check that one drop moves exactly the counters it should.
auto snapshot(const net::ipv4_counters& c) -> std::vector<std::pair<std::string, std::uint64_t>> {
  std::vector<std::pair<std::string, std::uint64_t>> v;
  net::for_each_counter(c, [&](std::string_view name, std::uint64_t value) { v.emplace_back(name, value); });
  return v;
}
auto changed(const net::ipv4_counters& before, const net::ipv4_counters& after) -> std::vector<std::string> {
  auto a = snapshot(before);
  auto b = snapshot(after);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].second != b[i].second) names.push_back(a[i].first);
  return names;
}

struct iface {
  net::ipv4_interface ip;
  instant now = instant::from_millis(5000);
  explicit iface(net::ipv4_config c = config()) : ip(c) {}
  static auto config() -> net::ipv4_config {
    net::ipv4_config c;
    c.address = wire::ipv4_cidr{us, 24};
    return c;
  }
  auto receive(const packet_bytes& b, wire::checksum_check check = wire::checksum_check::verify) -> net::ingress {
    return ip.receive(now, bytes_view{b}, check);
  }
};

/// Receives `b` and checks it was dropped, moving exactly `counters` (besides ip: total
/// packets received) by one.
void expect_drop(iface& f, const packet_bytes& b, std::vector<std::string> counters) {
  const auto before = f.ip.counters();
  auto in = f.receive(b);
  CHECK(std::holds_alternative<std::monostate>(in));
  counters.insert(counters.begin(), "ip: total packets received");
  std::sort(counters.begin(), counters.end());
  auto got = changed(before, f.ip.counters());
  std::sort(got.begin(), got.end());
  CHECK(got == counters);
}

} // namespace

TEST_SUITE_BEGIN("net.ipv4");

TEST_CASE("a valid TCP segment is delivered with its addresses and payload") {
  iface f;
  const auto data = pattern(100);
  const auto packet = tcp_packet(peer, us, bytes_view{data}); // the ingress points into it
  auto in = f.receive(packet);
  auto* t = std::get_if<net::ingress_tcp>(&in);
  REQUIRE(t);
  CHECK(t->src == peer);
  CHECK(t->dst == us);
  CHECK(t->seg.dst_port == 80);
  CHECK(t->seg.options.mss == std::optional<std::uint16_t>{1460});
  CHECK(std::equal(t->seg.payload.begin(), t->seg.payload.end(), data.begin(), data.end()));
  CHECK(f.ip.counters().in_receives == 1);
  CHECK(f.ip.counters().in_delivers == 1);
}

TEST_CASE("every drop reason is counted, and only it") {
  iface f;
  const auto good = tcp_packet();
  SUBCASE("truncated: shorter than a header, than IHL, or than the total length") {
    expect_drop(f, packet_bytes(good.begin(), good.begin() + 12), {"ip: truncated packets"});
    auto ihl = packet_bytes(good.begin(), good.begin() + 40);
    ihl[0] = std::byte{0x4f}; // IHL 15: a 60-byte header in a 40-byte packet
    expect_drop(f, ihl, {"ip: truncated packets"});
    expect_drop(f, packet_bytes(good.begin(), good.end() - 1), {"ip: truncated packets"});
  }
  SUBCASE("bad version") {
    auto b = good;
    b[0] = std::byte{0x65};
    refill(b);
    expect_drop(f, b, {"ip: bad header (version or lengths)"});
  }
  SUBCASE("bad header length (IHL < 5)") {
    auto b = good;
    b[0] = std::byte{0x44};
    expect_drop(f, b, {"ip: bad header (version or lengths)"});
  }
  SUBCASE("bad total length (below the header length)") {
    auto b = good;
    b[2] = std::byte{0};
    b[3] = std::byte{19};
    refill(b);
    expect_drop(f, b, {"ip: bad header (version or lengths)"});
  }
  SUBCASE("bad header checksum") {
    auto b = good;
    b[10] = b[10] ^ std::byte{0x01};
    expect_drop(f, b, {"ip: bad header checksums"});
  }
  SUBCASE("bad header checksum under receive offload (RFC 1122 §3.2.1.2, a MUST)") {
    // The device vouched for the TCP checksum only (rx_meta::checksum_verified): the IPv4
    // header checksum is still verified, and a bad one is dropped and counted.
    auto b = good;
    b[10] = b[10] ^ std::byte{0x01};
    const auto before = f.ip.counters();
    CHECK(std::holds_alternative<std::monostate>(f.receive(b, wire::checksum_check::skip)));
    CHECK(changed(before, f.ip.counters()) ==
          std::vector<std::string>{"ip: total packets received", "ip: bad header checksums"});
    // The TCP checksum is what the device vouched for: a bad one passes under offload.
    auto t = tcp_packet();
    t[20 + 16] = t[20 + 16] ^ std::byte{0x80};
    iface g;
    CHECK(std::holds_alternative<net::ingress_tcp>(g.receive(t, wire::checksum_check::skip)));
  }
  SUBCASE("not for us") {
    expect_drop(f, tcp_packet(peer, ipv4_address{192, 0, 2, 77}), {"ip: packets not for us"});
    expect_drop(f, tcp_packet(peer, ipv4_address{198, 51, 100, 2}), {"ip: packets not for us"});
  }
  SUBCASE("martian sources (RFC 1122 §3.2.1.3)") {
    for (auto src : {us, ipv4_address{255, 255, 255, 255}, ipv4_address{192, 0, 2, 255}, ipv4_address{224, 0, 0, 1},
                     ipv4_address{0, 0, 0, 0}, ipv4_address{127, 0, 0, 1}}) {
      CAPTURE(src);
      expect_drop(f, tcp_packet(src, us), {"ip: martian sources"});
    }
  }
  SUBCASE("TCP with a bad checksum") {
    auto b = tcp_packet();
    b[20 + 16] = b[20 + 16] ^ std::byte{0x80}; // the TCP checksum field
    expect_drop(f, b, {"tcp: bad segments (malformed)", "tcp: bad checksums"});
  }
  SUBCASE("TCP malformed: data offset below 5") {
    auto b = tcp_packet();
    b[20 + 12] = std::byte{0x40};
    expect_drop(f, b, {"tcp: bad segments (malformed)"});
  }
  SUBCASE("TCP to a broadcast address (RFC 1122 §4.2.3.10)") {
    expect_drop(f, tcp_packet(peer, ipv4_address{255, 255, 255, 255}), {"ip: packets not for us"});
    expect_drop(f, tcp_packet(peer, ipv4_address{192, 0, 2, 255}), {"ip: packets not for us"});
  }
  SUBCASE("ping of death: a fragment reaching past 65535 bytes (RFC 791 §3.2)") {
    auto r = header(peer, us, ip_protocol::icmp);
    r.fragment_offset = 65528;
    r.more_fragments = false;
    expect_drop(f, ip_packet(r, bytes_view{pattern(100)}), {"ip: bad header (version or lengths)"});
    CHECK(f.ip.reassembler().pending() == 0);
  }
  CHECK(f.ip.counters().in_delivers == 0);
}

namespace {

/// `b` (a packet with a 20-byte header) with `options` inserted after the fixed header: IHL,
/// total length and header checksum rewritten.
auto with_options(const packet_bytes& b, const std::vector<std::uint8_t>& options) -> packet_bytes {
  packet_bytes v(b.begin(), b.begin() + 20);
  for (std::uint8_t o : options) v.push_back(std::byte{o});
  v.insert(v.end(), b.begin() + 20, b.end());
  wire::ipv4_packet<bytes_mut> p{bytes_mut{v}};
  p.set_header_len(20 + options.size());
  p.set_total_len(static_cast<std::uint16_t>(v.size()));
  refill(v);
  return v;
}

} // namespace

TEST_CASE("IPv4 options: well-formed ones are skipped and the datagram delivered (RFC 1122 §3.2.1.8)") {
  const auto data = pattern(100);
  const auto plain = tcp_packet(peer, us, bytes_view{data});
  for (const auto& options : std::vector<std::vector<std::uint8_t>>{
           {0x01, 0x01, 0x01, 0x00},                         // NOPs, EOL
           {0x00, 0xff, 0x00, 0x05},                         // EOL, then padding
           {0x07, 0x07, 0x04, 0, 0, 0, 0, 0x00},             // record route
           {0x44, 0x0c, 0x05, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}, // timestamp (with addresses)
           {0x94, 0x04, 0x00, 0x00},                         // Router Alert (RFC 2113)
           {0x99, 0x02, 0x99, 0x02},                         // unknown kinds, valid lengths
       }) {
    iface f;
    const auto b = with_options(plain, options);
    CAPTURE(b.size());
    auto in = f.receive(b);
    auto* t = std::get_if<net::ingress_tcp>(&in);
    REQUIRE(t);
    CHECK(std::equal(t->seg.payload.begin(), t->seg.payload.end(), data.begin(), data.end()));
    CHECK(f.ip.counters().in_bad_options == 0);
  }
}

TEST_CASE("IPv4 options: a malformed one drops the datagram, counted, answered by a parameter problem (RFC 792)") {
  auto cfg = iface::config();
  cfg.icmp_error_rate = 3;
  iface f{cfg};
  const auto data = pattern(100);
  const auto plain = tcp_packet(peer, us, bytes_view{data});
  struct bad_case {
    std::vector<std::uint8_t> options;
    std::uint8_t pointer; // the bad octet, from the start of the header
  };
  for (const auto& [options, pointer] : std::vector<bad_case>{
           {{0x99, 0x00, 0x00, 0x00}, 21},             // length 0
           {{0x01, 0x99, 0x01, 0x00}, 22},             // length 1
           {{0x99, 0x05, 0x00, 0x00}, 21},             // runs past the header
           {{0x01, 0x01, 0x01, 0x07}, 23},             // no room for the length octet
           {{0x07, 0x07, 0x03, 0, 0, 0, 0, 0x00}, 22}, // record route, pointer below 4
           {{0x44, 0x08, 0x04, 0x00, 0, 0, 0, 0}, 22}, // timestamp, pointer below 5
       }) {
    f.now += 1s; // a fresh rate-limit window each time
    const auto b = with_options(plain, options);
    CAPTURE(static_cast<unsigned>(pointer));
    const auto before = f.ip.counters();
    auto in = f.receive(b);
    // The data never reaches TCP.
    CHECK_FALSE(std::holds_alternative<net::ingress_tcp>(in));
    CHECK(changed(before, f.ip.counters()) ==
          std::vector<std::string>{"ip: total packets received", "ip: bad options"});
    auto* pp = std::get_if<net::ingress_param_problem>(&in);
    REQUIRE(pp);
    CHECK(pp->to == peer);
    CHECK(pp->pointer == pointer);
    // RFC 792: "Internet Header + 64 bits of Original Data Datagram".
    const auto hlen = 20 + options.size();
    CHECK(std::equal(pp->original.begin(), pp->original.end(), b.begin(),
                     b.begin() + static_cast<std::ptrdiff_t>(hlen + 8)));
    // Write the message and parse it back: type 12, code 0, the pointer, checksums right.
    packet_bytes out(f.ip.param_problem_len(*pp));
    f.ip.write_param_problem(bytes_mut{out}, *pp);
    auto ip = wire::ipv4_packet<bytes_view>::checked(bytes_view{out});
    REQUIRE(ip);
    auto ipr = wire::ipv4_repr::parse(*ip);
    REQUIRE(ipr);
    CHECK(ipr->src == us);
    CHECK(ipr->dst == peer);
    CHECK(ipr->protocol == ip_protocol::icmp);
    auto icmp = wire::icmpv4_packet<bytes_view>::checked(ip->payload());
    REQUIRE(icmp);
    auto ir = wire::icmpv4_repr::parse(*icmp);
    REQUIRE(ir);
    CHECK(ir->type == wire::icmpv4_type::parameter_problem);
    CHECK(ir->code == 0);
    CHECK(ir->param_pointer() == pointer);
    CHECK(std::equal(ir->data.begin(), ir->data.end(), pp->original.begin(), pp->original.end()));
  }
  CHECK(f.ip.counters().in_bad_options == 6);
  CHECK(f.ip.counters().icmp_out_param_probs == 6);
  CHECK(f.ip.counters().in_delivers == 0);

  const auto bad = with_options(plain, {0x99, 0x00, 0x00, 0x00});
  SUBCASE("rate-limited with the other ICMP errors") {
    f.now += 1s;
    for (int i = 0; i < 3; ++i) CHECK(std::holds_alternative<net::ingress_param_problem>(f.receive(bad)));
    CHECK(std::holds_alternative<std::monostate>(f.receive(bad)));
    CHECK(std::holds_alternative<std::monostate>(f.receive(ip_packet(header(peer, us, gre), bytes_view{data}))));
    CHECK(f.ip.counters().icmp_out_rate_limited == 2);
    CHECK(f.ip.counters().in_bad_options == 10);
  }
  SUBCASE("never answered (RFC 1122 §3.2.2): to a broadcast, a martian source, a non-initial fragment, an ICMP error") {
    f.now += 1s;
    const auto to_broadcast = with_options(tcp_packet(peer, ipv4_address{192, 0, 2, 255}), {0x99, 0x00, 0x00, 0x00});
    const auto from_martian = with_options(tcp_packet(ipv4_address{224, 0, 0, 9}, us), {0x99, 0x00, 0x00, 0x00});
    auto frag_header = header(peer, us, ip_protocol::tcp);
    frag_header.fragment_offset = 8;
    const auto fragment = with_options(ip_packet(frag_header, bytes_view{data}), {0x99, 0x00, 0x00, 0x00});
    const auto unreachable =
        wire::icmpv4_repr::dest_unreachable(wire::icmpv4_unreachable::port, bytes_view{plain}.first(28));
    packet_bytes body(unreachable.buffer_len());
    wire::icmpv4_packet<bytes_mut> up{bytes_mut{body}};
    unreachable.emit(up);
    const auto icmp_error =
        with_options(ip_packet(header(peer, us, ip_protocol::icmp), bytes_view{body}), {0x99, 0x00, 0x00, 0x00});
    const auto to_other = with_options(tcp_packet(peer, ipv4_address{192, 0, 2, 77}), {0x99, 0x00, 0x00, 0x00});
    for (const auto* b : {&to_broadcast, &from_martian, &fragment, &icmp_error, &to_other}) {
      CHECK(std::holds_alternative<std::monostate>(f.receive(*b)));
    }
    CHECK(f.ip.counters().in_bad_options == 11);
    CHECK(f.ip.counters().icmp_out_rate_limited == 0);
    CHECK(f.ip.reassembler().pending() == 0);
    // An echo request with bad options is answered with a parameter problem, not an echo reply.
    const auto echo = with_options(ip_packet(header(peer, us, ip_protocol::icmp), echo_bytes(1, 2, bytes_view{data})),
                                   {0x01, 0x44, 0x00, 0x00});
    CHECK(std::holds_alternative<net::ingress_param_problem>(f.receive(echo)));
  }
}

TEST_CASE("unknown protocol: protocol unreachable, UDP: port unreachable; rate-limited; never for broadcasts") {
  auto cfg = iface::config();
  cfg.icmp_error_rate = 3;
  iface f{cfg};
  const auto body = pattern(64);
  const auto gre_packet = ip_packet(header(peer, us, gre), bytes_view{body});
  auto in = f.receive(gre_packet);
  auto* u = std::get_if<net::ingress_unreachable>(&in);
  REQUIRE(u);
  CHECK(u->code == wire::icmpv4_unreachable::protocol);
  CHECK(u->to == peer);
  // RFC 792: "Internet Header + 64 bits of Original Data Datagram".
  CHECK(std::equal(u->original.begin(), u->original.end(), gre_packet.begin(), gre_packet.begin() + 28));
  CHECK(f.ip.counters().in_unknown_protos == 1);
  // Write the message and parse it back.
  packet_bytes out(f.ip.unreachable_len(*u));
  f.ip.write_unreachable(bytes_mut{out}, *u);
  auto ip = wire::ipv4_packet<bytes_view>::checked(bytes_view{out});
  REQUIRE(ip);
  auto ipr = wire::ipv4_repr::parse(*ip);
  REQUIRE(ipr);
  CHECK(ipr->src == us);
  CHECK(ipr->dst == peer);
  CHECK(ipr->protocol == ip_protocol::icmp);
  auto icmp = wire::icmpv4_packet<bytes_view>::checked(ip->payload());
  REQUIRE(icmp);
  auto ir = wire::icmpv4_repr::parse(*icmp);
  REQUIRE(ir);
  CHECK(ir->type == wire::icmpv4_type::dest_unreachable);
  CHECK(ir->code == static_cast<std::uint8_t>(wire::icmpv4_unreachable::protocol));
  CHECK(std::equal(ir->data.begin(), ir->data.end(), gre_packet.begin(), gre_packet.begin() + 28));
  CHECK(f.ip.counters().icmp_out_dest_unreachs == 1);

  auto udp = ip_packet(header(peer, us, ip_protocol::udp), bytes_view{body});
  auto in2 = f.receive(udp);
  REQUIRE(std::holds_alternative<net::ingress_unreachable>(in2));
  CHECK(std::get<net::ingress_unreachable>(in2).code == wire::icmpv4_unreachable::port);
  // The limit: 3 per second. The third goes, the fourth and fifth are counted and dropped.
  CHECK(std::holds_alternative<net::ingress_unreachable>(f.receive(gre_packet)));
  CHECK(std::holds_alternative<std::monostate>(f.receive(gre_packet)));
  CHECK(std::holds_alternative<std::monostate>(f.receive(udp)));
  CHECK(f.ip.counters().icmp_out_rate_limited == 2);
  CHECK(f.ip.counters().in_unknown_protos == 5);
  f.now += 1s;
  CHECK(std::holds_alternative<net::ingress_unreachable>(f.receive(gre_packet)));
  // Never in answer to a broadcast or a non-initial fragment (RFC 1122 §3.2.2).
  f.now += 1s;
  CHECK(std::holds_alternative<std::monostate>(
      f.receive(ip_packet(header(peer, ipv4_address{192, 0, 2, 255}, gre), bytes_view{body}))));
  auto frag = header(peer, us, gre);
  frag.fragment_offset = 64;
  frag.more_fragments = true;
  CHECK(std::holds_alternative<std::monostate>(f.receive(ip_packet(frag, bytes_view{body}))));
  CHECK(f.ip.counters().icmp_out_rate_limited == 2);
  // A short datagram with link padding behind it: the quote stops at its total length.
  f.now += 1s;
  auto tiny = ip_packet(header(peer, us, gre), bytes_view{pattern(4)});
  const auto tiny_len = tiny.size();
  tiny.resize(tiny_len + 10, std::byte{0xee});
  auto in3 = f.receive(tiny);
  REQUIRE(std::holds_alternative<net::ingress_unreachable>(in3));
  CHECK(std::get<net::ingress_unreachable>(in3).original.size() == tiny_len);
}

TEST_CASE("echo request: the reply is a correct ICMP echo reply with the same data (RFC 792)") {
  iface f;
  const auto data = pattern(56, 9);
  const auto req = ip_packet(header(peer, us, ip_protocol::icmp), bytes_view{echo_bytes(0x1234, 7, bytes_view{data})});
  auto in = f.receive(req);
  auto* e = std::get_if<net::ingress_echo>(&in);
  REQUIRE(e);
  CHECK(e->ident == 0x1234);
  CHECK(e->seq_no == 7);
  packet_bytes out(f.ip.echo_reply_len(*e));
  CHECK(out.size() == 20 + 8 + 56);
  f.ip.write_echo_reply(bytes_mut{out}, *e);
  auto ip = wire::ipv4_packet<bytes_view>::checked(bytes_view{out});
  REQUIRE(ip);
  auto ipr = wire::ipv4_repr::parse(*ip); // verifies the header checksum
  REQUIRE(ipr);
  CHECK(ipr->src == us);
  CHECK(ipr->dst == peer);
  CHECK(ipr->protocol == ip_protocol::icmp);
  CHECK(ipr->ttl == 64);
  CHECK(ipr->payload_len == 8 + 56);
  CHECK_FALSE(ipr->is_fragment());
  auto icmp = wire::icmpv4_packet<bytes_view>::checked(ip->payload());
  REQUIRE(icmp);
  auto ir = wire::icmpv4_repr::parse(*icmp); // verifies the ICMP checksum
  REQUIRE(ir);
  CHECK(ir->type == wire::icmpv4_type::echo_reply);
  CHECK(ir->code == 0);
  CHECK(ir->ident == 0x1234);
  CHECK(ir->seq_no == 7);
  CHECK(std::equal(ir->data.begin(), ir->data.end(), data.begin(), data.end()));
  CHECK(f.ip.counters().icmp_in_echos == 1);
  CHECK(f.ip.counters().icmp_out_echo_reps == 1);

  // A bad ICMP checksum is counted, not answered.
  auto bad = req;
  bad[20 + 2] = bad[20 + 2] ^ std::byte{0xff};
  const auto before = f.ip.counters().icmp_in_errors;
  CHECK(std::holds_alternative<std::monostate>(f.receive(bad)));
  CHECK(f.ip.counters().icmp_in_errors == before + 1);
  // To a broadcast address, or with answers turned off: not answered.
  CHECK(std::holds_alternative<std::monostate>(f.receive(ip_packet(
      header(peer, ipv4_address{192, 0, 2, 255}, ip_protocol::icmp), bytes_view{echo_bytes(1, 1, bytes_view{data})}))));
  auto quiet = iface::config();
  quiet.answer_echo = false;
  iface g{quiet};
  CHECK(std::holds_alternative<std::monostate>(g.receive(req)));
}

TEST_CASE("an ICMP error quoting one of our segments is reported with its ports") {
  iface f;
  const auto ours = tcp_packet(us, peer);
  const auto msg = wire::icmpv4_repr::dest_unreachable(wire::icmpv4_unreachable::port, bytes_view{ours}.first(28));
  packet_bytes body(msg.buffer_len());
  wire::icmpv4_packet<bytes_mut> p{bytes_mut{body}};
  msg.emit(p);
  auto in = f.receive(ip_packet(header(peer, us, ip_protocol::icmp), bytes_view{body}));
  auto* err = std::get_if<net::ingress_icmp_error>(&in);
  REQUIRE(err);
  CHECK(err->type == wire::icmpv4_type::dest_unreachable);
  CHECK(err->code == static_cast<std::uint8_t>(wire::icmpv4_unreachable::port));
  CHECK(err->original_src == us);
  CHECK(err->original_dst == peer);
  CHECK(err->original_src_port == 40000);
  CHECK(err->original_dst_port == 80);
}

// =========================================================================================
// Fragments

namespace {

/// Splits an IPv4 datagram's payload into fragments of `size` bytes (a multiple of 8).
auto fragments(const wire::ipv4_repr& base, bytes_view payload, std::size_t size) -> std::vector<packet_bytes> {
  std::vector<packet_bytes> out;
  for (std::size_t off = 0; off < payload.size(); off += size) {
    auto r = base;
    const auto n = std::min(size, payload.size() - off);
    r.fragment_offset = static_cast<std::uint16_t>(off);
    r.more_fragments = off + n < payload.size();
    out.push_back(ip_packet(r, payload.subspan(off, n)));
  }
  return out;
}

struct echo_datagram {
  packet_bytes data = pattern(3000, 3);
  packet_bytes icmp = echo_bytes(77, 1, bytes_view{data});
  wire::ipv4_repr base = header(peer, us, ip_protocol::icmp);
  explicit echo_datagram(std::uint16_t ident = 0x4242) { base.ident = ident; }
  auto split(std::size_t size) const { return fragments(base, bytes_view{icmp}, size); }
  auto matches(const net::ingress& in) const -> bool {
    auto* e = std::get_if<net::ingress_echo>(&in);
    return e && e->ident == 77 && std::equal(e->data.begin(), e->data.end(), data.begin(), data.end());
  }
};

} // namespace

TEST_CASE("fragments reassemble in any order") {
  const echo_datagram d;
  auto frags = d.split(760); // 3008 bytes of ICMP: 760 * 3 + 728
  REQUIRE(frags.size() == 4);
  std::vector<std::size_t> order(frags.size());
  std::iota(order.begin(), order.end(), 0);
  std::size_t permutations = 0;
  do {
    iface f;
    net::ingress last;
    for (std::size_t k = 0; k < order.size(); ++k) {
      auto in = f.receive(frags[order[k]]);
      if (k + 1 < order.size()) CHECK(std::holds_alternative<std::monostate>(in));
      last = in;
    }
    CHECK(d.matches(last));
    CHECK(f.ip.counters().reasm_reqds == 4);
    CHECK(f.ip.counters().reasm_oks == 1);
    CHECK(f.ip.counters().reasm_fails == 0);
    CHECK(f.ip.reassembler().pending() == 0);
    CHECK(f.ip.reassembler().bytes_held() == 0);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK(permutations == 24);
}

TEST_CASE("a reassembled TCP segment is checked and delivered whole") {
  iface f;
  const auto data = pattern(4000, 5);
  const auto seg = tcp_bytes(peer, us, bytes_view{data});
  auto frags = fragments(header(peer, us, ip_protocol::tcp), bytes_view{seg}, 1480);
  REQUIRE(frags.size() == 3);
  CHECK(std::holds_alternative<std::monostate>(f.receive(frags[2])));
  CHECK(std::holds_alternative<std::monostate>(f.receive(frags[0])));
  auto in = f.receive(frags[1]);
  auto* t = std::get_if<net::ingress_tcp>(&in);
  REQUIRE(t);
  CHECK(std::equal(t->seg.payload.begin(), t->seg.payload.end(), data.begin(), data.end()));
}

TEST_CASE("duplicate fragments are fine; overlapping ones drop the datagram") {
  const echo_datagram d;
  auto frags = d.split(1000);
  REQUIRE(frags.size() == 4);
  SUBCASE("exact duplicates") {
    iface f;
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[1])));
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[1])));
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[0])));
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[3])));
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[0])));
    CHECK(d.matches(f.receive(frags[2])));
    CHECK(f.ip.counters().reasm_fails == 0);
  }
  SUBCASE("an overlap (teardrop): the whole datagram is dropped and counted") {
    iface f;
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[0])));
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[1])));
    auto r = d.base;
    r.fragment_offset = 1496; // overlaps the end of fragment 1 ([1000, 2000)) and goes on
    r.more_fragments = true;
    CHECK(std::holds_alternative<std::monostate>(f.receive(ip_packet(r, bytes_view{d.icmp}.subspan(1496, 1000)))));
    CHECK(f.ip.counters().reasm_fails >= 1);
    CHECK(f.ip.reassembler().pending() == 0);
    CHECK(f.ip.reassembler().bytes_held() == 0);
    // What follows cannot complete the dropped datagram.
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[2])));
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[3])));
    CHECK(f.ip.counters().reasm_oks == 0);
  }
  SUBCASE("a piece inside what arrived, with the same bytes: a duplicate") {
    iface f;
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[1])));
    auto r = d.base;
    r.fragment_offset = 1496;
    r.more_fragments = true;
    CHECK(std::holds_alternative<std::monostate>(f.receive(ip_packet(r, bytes_view{d.icmp}.subspan(1496, 504)))));
    CHECK(f.ip.reassembler().pending() == 1);
    (void)f.receive(frags[0]);
    (void)f.receive(frags[2]);
    CHECK(d.matches(f.receive(frags[3])));
  }
  SUBCASE("same range, different bytes: an overlap too") {
    iface f;
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[1])));
    auto altered = frags[1];
    altered.back() = altered.back() ^ std::byte{1};
    CHECK(std::holds_alternative<std::monostate>(f.receive(altered)));
    CHECK(f.ip.reassembler().pending() == 0);
    CHECK(f.ip.counters().reasm_fails >= 1);
  }
  SUBCASE("data beyond the last fragment, or a second different end: dropped") {
    iface f;
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[3])));
    auto r = d.base;
    r.fragment_offset = 3000; // past the end fixed by the last fragment (3008)
    r.more_fragments = true;
    CHECK(std::holds_alternative<std::monostate>(f.receive(ip_packet(r, bytes_view{pattern(16)}))));
    CHECK(f.ip.reassembler().pending() == 0);
  }
  SUBCASE("a middle fragment whose length is not a multiple of 8: dropped") {
    iface f;
    auto r = d.base;
    r.fragment_offset = 0;
    r.more_fragments = true;
    CHECK(std::holds_alternative<std::monostate>(f.receive(ip_packet(r, bytes_view{d.icmp}.first(1001)))));
    CHECK(f.ip.counters().reasm_fails == 1);
    CHECK(f.ip.reassembler().pending() == 0);
  }
}

TEST_CASE("reassembly bounds: datagrams, bytes, ranges, size and timeout are held and counted") {
  SUBCASE("at most max_datagrams in reassembly; a new one evicts the oldest, counted") {
    auto cfg = iface::config();
    cfg.reassembly.max_datagrams = 4;
    iface f{cfg};
    std::vector<echo_datagram> ds;
    for (std::uint16_t id = 1; id <= 5; ++id) ds.emplace_back(id);
    for (auto& d : ds) (void)f.receive(d.split(1000)[0]);
    CHECK(f.ip.reassembler().pending() == 4);
    CHECK(f.ip.reassembler().evictions() == 1);
    CHECK(f.ip.counters().reasm_evictions == 1);
    CHECK(f.ip.counters().reasm_fails == 1); // the evicted datagram's one fragment
    // The newest four complete; the first was evicted and cannot.
    for (std::size_t k = 1; k < 5; ++k) {
      auto frags = ds[k].split(1000);
      (void)f.receive(frags[1]);
      (void)f.receive(frags[2]);
      CHECK(ds[k].matches(f.receive(frags[3])));
    }
    CHECK(f.ip.counters().reasm_oks == 4);
    CHECK(f.ip.reassembler().pending() == 0);
  }
  SUBCASE("max_total_bytes over all datagrams: the oldest make room, counted") {
    auto cfg = iface::config();
    cfg.reassembly.max_total_bytes = 5000;
    iface f{cfg};
    echo_datagram a{1}, b{2};
    (void)f.receive(a.split(1000)[2]); // buffer grows to 3000 bytes (offset 2000 + 1000)
    CHECK(f.ip.reassembler().bytes_held() == 3000);
    (void)f.receive(b.split(1000)[3]); // needs 3008 more: over the bound, `a` is evicted
    CHECK(f.ip.reassembler().bytes_held() == 3008);
    CHECK(f.ip.reassembler().pending() == 1);
    CHECK(f.ip.counters().reasm_evictions == 1);
    auto fb = b.split(1000);
    (void)f.receive(fb[0]);
    (void)f.receive(fb[1]);
    CHECK(b.matches(f.receive(fb[2])));
    CHECK(f.ip.reassembler().bytes_held() == 0);
    // A datagram that cannot fit alone is dropped, and evicts nobody.
    cfg.reassembly.max_total_bytes = 2000;
    iface g{cfg};
    (void)g.receive(a.split(1000)[0]);
    (void)g.receive(b.split(1000)[2]);
    CHECK(g.ip.reassembler().pending() == 1);
    CHECK(g.ip.reassembler().evictions() == 0);
    CHECK(g.ip.reassembler().bytes_held() <= 2000);
  }
  SUBCASE("max_ranges separate pieces per datagram") {
    auto cfg = iface::config();
    cfg.reassembly.max_ranges = 3;
    iface f{cfg};
    echo_datagram d;
    auto frags = d.split(200); // 16 fragments
    (void)f.receive(frags[0]);
    (void)f.receive(frags[2]);
    (void)f.receive(frags[4]);
    CHECK(f.ip.reassembler().pending() == 1);
    (void)f.receive(frags[6]); // a fourth separate range
    CHECK(f.ip.reassembler().pending() == 0);
    CHECK(f.ip.counters().reasm_fails == 4);
  }
  SUBCASE("max_datagram_bytes per datagram") {
    auto cfg = iface::config();
    cfg.reassembly.max_datagram_bytes = 2000;
    iface f{cfg};
    echo_datagram d;
    auto frags = d.split(1000);
    (void)f.receive(frags[0]);
    (void)f.receive(frags[2]); // ends at 3000 > 2000
    CHECK(f.ip.counters().reasm_fails == 1);
    (void)f.receive(frags[1]);
    CHECK(f.ip.counters().reasm_oks == 0);
  }
  SUBCASE("the timeout: fragments older than 30 s are dropped and counted") {
    iface f;
    echo_datagram d;
    auto frags = d.split(1000);
    (void)f.receive(frags[0]);
    (void)f.receive(frags[1]);
    REQUIRE(f.ip.reassembler().next_deadline().has_value());
    CHECK(*f.ip.reassembler().next_deadline() == f.now + 30s);
    f.now += 30s;
    (void)f.receive(frags[2]); // the old datagram expired: this starts a new one
    CHECK(f.ip.reassembler().timeouts() == 1);
    CHECK(f.ip.counters().reasm_fails == 1);
    CHECK(std::holds_alternative<std::monostate>(f.receive(frags[3])));
    CHECK(f.ip.counters().reasm_oks == 0);
    CHECK(f.ip.reassembler().pending() == 1);
  }
  SUBCASE("reassembly off: every fragment is dropped") {
    auto cfg = iface::config();
    cfg.reassembly.enabled = false;
    iface f{cfg};
    echo_datagram d;
    for (auto& fr : d.split(1000)) CHECK(std::holds_alternative<std::monostate>(f.receive(fr)));
    CHECK(f.ip.counters().reasm_fails == 4);
  }
  SUBCASE("the largest legal datagram reassembles; one byte more cannot be expressed") {
    iface f;
    packet_bytes icmp = echo_bytes(5, 5, bytes_view{pattern(65535 - 20 - 8)});
    auto frags = fragments(header(peer, us, ip_protocol::icmp), bytes_view{icmp}, 1480);
    net::ingress last;
    for (auto& fr : frags) last = f.receive(fr);
    auto* e = std::get_if<net::ingress_echo>(&last);
    REQUIRE(e);
    CHECK(e->data.size() == 65535 - 20 - 8);
  }
}

namespace {

/// A forged first fragment (offset 0, MF) of a datagram that never completes, from `src`.
auto forged_first_fragment(ipv4_address src, std::uint16_t ident, std::size_t len = 8, std::uint16_t offset = 0)
    -> packet_bytes {
  auto r = header(src, us, ip_protocol::udp);
  r.ident = ident;
  r.more_fragments = true;
  r.fragment_offset = offset;
  return ip_packet(r, bytes_view{pattern(len, static_cast<std::uint8_t>(ident))});
}
auto attacker_source(std::uint32_t n) -> ipv4_address {
  return ipv4_address{198, 51, static_cast<std::uint8_t>(100 + (n >> 8) % 3), static_cast<std::uint8_t>(n & 0xff)};
}

/// The peer pings us with a 3000-byte echo (4 fragments) every second for 10 minutes while an
/// attacker sends `forged` fragments (from `make`) every 30 s; returns the echoes delivered.
template <class Make>
auto pings_delivered_under_attack(std::size_t forged, Make&& make, net::ipv4_counters* out = nullptr) -> int {
  iface f;
  int delivered = 0;
  std::uint32_t n = 0;
  for (int second = 0; second < 600; ++second) {
    if (second % 30 == 0)
      for (std::size_t k = 0; k < forged; ++k, ++n) (void)f.receive(make(n));
    echo_datagram d{static_cast<std::uint16_t>(second)};
    net::ingress last;
    for (auto& fr : d.split(1000)) last = f.receive(fr);
    if (d.matches(last)) ++delivered;
    f.now += 1s;
  }
  if (out) *out = f.ip.counters();
  return delivered;
}

} // namespace

TEST_CASE("attack: forged first fragments cannot lock legitimate datagrams out of reassembly") {
  // Before: 16 forged first fragments every 30 s filled the table (max_datagrams) and every
  // later datagram was refused; 4 forged fragments at offset 65000 held 4 x 65 KB and filled
  // max_total_bytes. Now the oldest datagram is evicted to make room (by count and by bytes).
  net::ipv4_counters c{};
  const int by_count = pings_delivered_under_attack(
      16, [](std::uint32_t n) { return forged_first_fragment(attacker_source(n), static_cast<std::uint16_t>(n)); }, &c);
  MESSAGE("16 forged first fragments every 30 s: " << by_count << "/600 fragmented pings reassembled; "
                                                   << c.reasm_evictions << " datagrams evicted");
  CHECK(by_count == 600);
  CHECK(c.reasm_evictions == 20); // once a round: the first ping after the forged ones makes room, then fits
  const int by_bytes = pings_delivered_under_attack(
      4,
      [](std::uint32_t n) {
        return forged_first_fragment(attacker_source(n), static_cast<std::uint16_t>(n), 8, 65000);
      },
      &c);
  MESSAGE("4 forged fragments at offset 65000 (65 KB held each) every 30 s: "
          << by_bytes << "/600 fragmented pings reassembled; " << c.reasm_evictions << " datagrams evicted");
  CHECK(by_bytes == 600);
  CHECK(c.reasm_evictions == 20);

  // What it takes now: forged datagrams arriving between the first and the last fragment of a
  // legitimate one. The table holds 16, oldest out first: the legitimate datagram survives 15
  // newer ones.
  auto survives = [](std::size_t between) {
    iface f;
    for (std::uint32_t n = 0; n < 16; ++n)
      (void)f.receive(forged_first_fragment(attacker_source(n), static_cast<std::uint16_t>(n)));
    echo_datagram d{0x7777};
    auto frags = d.split(1000);
    (void)f.receive(frags[0]);
    for (std::uint32_t n = 0; n < between; ++n)
      (void)f.receive(forged_first_fragment(attacker_source(100 + n), static_cast<std::uint16_t>(100 + n)));
    (void)f.receive(frags[1]);
    (void)f.receive(frags[2]);
    return d.matches(f.receive(frags[3]));
  };
  auto outcome = [&](std::size_t k) { return std::string(survives(k) ? "reassembled" : "evicted"); };
  MESSAGE("a full table, then forged datagrams between a ping's fragments: 15 -> " << outcome(15) << ", 16 -> "
                                                                                   << outcome(16));
  CHECK(survives(0));
  CHECK(survives(15));
  CHECK_FALSE(survives(16));
}

TEST_SUITE_END();
