// The TCP layer (tcp/layer.hpp) driven by hand: segments from made-up peers go in, what the
// layer emits is checked field by field. Covers the replies for no connection (RFC 9293
// §3.10.7.1), listeners and their queues, SYN cookies (RFC 4987), limits, ephemeral ports,
// TIME_WAIT reuse (RFC 1122 §4.2.2.13), unlisten, release, stale ids and the lazy timers.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "synack/tcp/layer.hpp"

namespace {

using namespace synack;
using namespace synack::tcp;
using namespace std::chrono_literals;
using wire::ipv4_address;
using wire::seq_number;
using wire::tcp_flag;
using wire::tcp_flags;

const ipv4_address us{192, 0, 2, 2};
const ipv4_address peer_addr{192, 0, 2, 1};

/// A segment the layer emitted.
struct out_segment {
  ipv4_address src;
  ipv4_address dst;
  wire::tcp_repr repr;
  std::string payload;
  auto has(tcp_flag f) const -> bool { return repr.flags.has(f); }
  auto flags() const -> tcp_flags { return repr.flags; }
};

/// A segment from a peer (peer_addr:port -> us:dport).
struct in_segment {
  wire::tcp_repr r{};
  std::string data;
  ipv4_address src = peer_addr;

  in_segment(std::uint16_t sport, std::uint16_t dport) {
    r.src_port = sport;
    r.dst_port = dport;
    r.window = 64000;
  }
  auto flags(tcp_flags f) -> in_segment& {
    r.flags = f;
    return *this;
  }
  auto seq(seq_number s) -> in_segment& {
    r.seq = s;
    return *this;
  }
  auto ack(seq_number a) -> in_segment& {
    r.ack = a;
    r.flags |= tcp_flag::ack;
    return *this;
  }
  auto win(std::uint16_t w) -> in_segment& {
    r.window = w;
    return *this;
  }
  auto payload(std::string_view p) -> in_segment& {
    data = std::string(p);
    return *this;
  }
  auto mss(std::uint16_t m) -> in_segment& {
    r.options.mss = m;
    return *this;
  }
  auto wscale(std::uint8_t s) -> in_segment& {
    r.options.window_scale = s;
    return *this;
  }
  auto sack_permitted() -> in_segment& {
    r.options.sack_permitted = true;
    return *this;
  }
  auto ts(std::uint32_t val, std::uint32_t ecr) -> in_segment& {
    r.options.timestamps = wire::tcp_timestamps{val, ecr};
    return *this;
  }
  auto from(ipv4_address a) -> in_segment& {
    src = a;
    return *this;
  }
};

auto key(std::uint64_t n) -> siphash_key { return siphash_key{n * 0x9e3779b97f4a7c15ull + 7, n ^ 0x5555}; }

/// No options by default: segment numbers stay easy to read.
auto plain_layer_config() -> layer_config {
  layer_config c;
  c.connection.window_scaling = false;
  c.connection.timestamps = false;
  c.connection.sack = false;
  c.connection.send_buffer = 64 * 1024;
  c.connection.recv_buffer = 64 * 1024;
  return c;
}

struct harness {
  layer<> tcp;
  instant now = instant::from_millis(1000);

  explicit harness(const layer_config& c = plain_layer_config(), std::uint64_t seed = 1) : tcp(c, key(seed)) {}

  void recv(in_segment& s) {
    s.r.payload = as_bytes(std::string_view{s.data});
    tcp.on_segment(now, s.src, us, s.r);
  }
  void recv(in_segment&& s) { recv(s); }

  auto poll() -> std::vector<out_segment> {
    std::vector<out_segment> out;
    tcp.poll(now, [&](ipv4_address src, ipv4_address dst, const tx_segment& t) {
      out_segment o{src, dst, t.repr, {}};
      for (auto piece : t.payload) o.payload += std::string(as_chars(piece));
      o.repr.payload = {};
      out.push_back(std::move(o));
      return true;
    });
    return out;
  }
  auto poll_one() -> out_segment {
    auto v = poll();
    REQUIRE_MESSAGE(v.size() == 1, "expected exactly one segment, got " << v.size());
    return v.front();
  }
  /// Runs the timers due until `until`, polling after each.
  auto advance_to(instant until) -> std::vector<out_segment> {
    std::vector<out_segment> all;
    while (auto d = tcp.next_deadline()) {
      if (*d > until) break;
      now = std::max(now, *d);
      tcp.on_timeout(now);
      for (auto& s : poll()) all.push_back(std::move(s));
    }
    now = until;
    return all;
  }

  /// A passive open on `port` completed by the peer at `sport`: returns the server's ISS.
  auto handshake(std::uint16_t sport, std::uint16_t port, seq_number piss) -> seq_number {
    recv(in_segment(sport, port).flags(tcp_flag::syn).seq(piss).mss(1460));
    auto synack = poll_one();
    REQUIRE(synack.flags() == (tcp_flag::syn | tcp_flag::ack));
    recv(in_segment(sport, port).seq(piss + 1).ack(synack.repr.seq + 1));
    REQUIRE(poll().empty()); // ESTABLISHED and in the accept queue after this poll
    return synack.repr.seq;
  }
};

auto bytes_of(std::string_view s) { return as_bytes(s); }

} // namespace

TEST_SUITE_BEGIN("tcp.layer");

// =========================================================================================
// RFC 9293 §3.10.7.1: no connection, no listener

TEST_CASE("a segment for no connection and no listener gets exactly the RST of §3.10.7.1") {
  harness h;
  SUBCASE("ACK bit off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>") {
    h.recv(in_segment(40000, 80).flags(tcp_flag::syn).seq(seq_number{1000}));
    auto rst = h.poll_one();
    CHECK(rst.flags() == (tcp_flag::rst | tcp_flag::ack));
    CHECK(rst.repr.seq == seq_number{0});
    CHECK(rst.repr.ack == seq_number{1001}); // the SYN counts one
    CHECK(rst.repr.src_port == 80);
    CHECK(rst.repr.dst_port == 40000);
    CHECK(rst.src == us);
    CHECK(rst.dst == peer_addr);
    CHECK(rst.repr.options == wire::tcp_options{});
    CHECK(rst.payload.empty());
    // Data and FIN count in SEG.LEN too.
    h.recv(in_segment(40000, 80).flags(tcp_flag::fin | tcp_flag::psh).seq(seq_number{5000}).payload("12345"));
    auto rst2 = h.poll_one();
    CHECK(rst2.repr.seq == seq_number{0});
    CHECK(rst2.repr.ack == seq_number{5006});
  }
  SUBCASE("ACK bit on: <SEQ=SEG.ACK><CTL=RST>") {
    h.recv(in_segment(40001, 81).seq(seq_number{1000}).ack(seq_number{777777}).payload("data"));
    auto rst = h.poll_one();
    CHECK(rst.flags() == tcp_flags{tcp_flag::rst});
    CHECK(rst.repr.seq == seq_number{777777});
    CHECK(rst.repr.src_port == 81);
    CHECK(rst.repr.dst_port == 40001);
  }
  SUBCASE("a RST is never answered") {
    h.recv(in_segment(40002, 82).flags(tcp_flag::rst).seq(seq_number{1}));
    h.recv(in_segment(40002, 82).flags(tcp_flag::rst).seq(seq_number{1}).ack(seq_number{2}));
    CHECK(h.poll().empty());
    CHECK(h.tcp.stats().out_rsts == 0);
  }
  CHECK(h.tcp.connection_count() == 0);
  CHECK(h.tcp.stats().no_port >= 1);
}

TEST_CASE("the queue of stateless replies is bounded") {
  auto cfg = plain_layer_config();
  cfg.max_pending_replies = 8;
  harness h{cfg};
  for (std::uint16_t i = 0; i < 100; ++i)
    h.recv(in_segment(static_cast<std::uint16_t>(1000 + i), 80).flags(tcp_flag::syn));
  CHECK(h.poll().size() == 8);
  CHECK(h.tcp.stats().out_rsts == 8);
  CHECK(h.tcp.stats().no_port == 100);
}

// =========================================================================================
// Listeners

TEST_CASE("listen: port 0 is invalid, a port listened on is in use until unlisten") {
  harness h;
  auto bad = h.tcp.listen({ipv4_address{}, 0}, 8);
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == std::errc::invalid_argument);
  auto a = h.tcp.listen({ipv4_address{}, 7788}, 8);
  REQUIRE(a);
  auto b = h.tcp.listen({us, 7788}, 8);
  REQUIRE_FALSE(b);
  CHECK(b.error() == std::errc::address_in_use);
  h.tcp.unlisten(h.now, *a);
  auto c = h.tcp.listen({ipv4_address{}, 7788}, 8);
  REQUIRE(c);
  CHECK(*c != *a); // a new generation: the old id is stale
  CHECK(h.tcp.pending_accepts(*a) == 0);
  CHECK_FALSE(h.tcp.accept(*a).has_value());
}

TEST_CASE("a listener on a specific address ignores SYNs for another of ours") {
  harness h;
  REQUIRE(h.tcp.listen({ipv4_address{192, 0, 2, 99}, 7788}, 8));
  h.recv(in_segment(40000, 7788).flags(tcp_flag::syn).seq(seq_number{1}));
  auto rst = h.poll_one();
  CHECK(rst.has(tcp_flag::rst));
}

TEST_CASE("LISTEN: an ACK gets <SEQ=SEG.ACK><CTL=RST>, a RST is ignored, a bare segment dropped") {
  harness h;
  REQUIRE(h.tcp.listen({ipv4_address{}, 7788}, 8));
  h.recv(in_segment(40000, 7788).seq(seq_number{5}).ack(seq_number{4242}));
  auto rst = h.poll_one();
  CHECK(rst.flags() == tcp_flags{tcp_flag::rst});
  CHECK(rst.repr.seq == seq_number{4242});
  h.recv(in_segment(40000, 7788).flags(tcp_flag::rst).seq(seq_number{5}));
  h.recv(in_segment(40000, 7788).flags(tcp_flag::psh).seq(seq_number{5}).payload("x"));
  CHECK(h.poll().empty());
  CHECK(h.tcp.connection_count() == 0);
}

TEST_CASE("the accept queue is bounded by the backlog: extra SYNs are dropped and counted") {
  auto cfg = plain_layer_config();
  harness h{cfg};
  auto l = h.tcp.listen({ipv4_address{}, 7788}, 2);
  REQUIRE(l);
  int accept_signals = 0;
  h.tcp.set_accept_sink([](void* ctx, listener_id, void*) { ++*static_cast<int*>(ctx); }, &accept_signals);
  // Three SYNs arrive while the queue is empty: three handshakes start.
  std::vector<seq_number> iss;
  for (std::uint16_t i = 0; i < 3; ++i) {
    h.recv(in_segment(static_cast<std::uint16_t>(50000 + i), 7788).flags(tcp_flag::syn).seq(seq_number{100u * i}));
    auto synack = h.poll_one();
    REQUIRE(synack.flags() == (tcp_flag::syn | tcp_flag::ack));
    iss.push_back(synack.repr.seq);
  }
  // They complete: two fit the queue; the third finds it full and is refused with a RST.
  for (std::uint16_t i = 0; i < 3; ++i) {
    h.recv(in_segment(static_cast<std::uint16_t>(50000 + i), 7788).seq(seq_number{100u * i + 1}).ack(iss[i] + 1));
  }
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(tcp_flag::rst));
  CHECK(out[0].repr.dst_port == 50002);
  CHECK(out[0].repr.seq == iss[2] + 1);
  CHECK(h.tcp.pending_accepts(*l) == 2);
  CHECK(accept_signals == 2);
  CHECK(h.tcp.stats().listen_drops == 1);
  // While the queue is full a new SYN is dropped without an answer (the peer will retry).
  h.recv(in_segment(50010, 7788).flags(tcp_flag::syn).seq(seq_number{9}));
  CHECK(h.poll().empty());
  CHECK(h.tcp.stats().listen_drops == 2);
  CHECK(h.tcp.connection_count() == 2);
  // accept() hands them out in order of completion, then nothing.
  auto a = h.tcp.accept(*l);
  auto b = h.tcp.accept(*l);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(h.tcp.find(*a)->tuple().remote.port == 50000);
  CHECK(h.tcp.find(*b)->tuple().remote.port == 50001);
  CHECK(h.tcp.find(*a)->state() == state::established);
  CHECK_FALSE(h.tcp.accept(*l));
  // Room again: the retried SYN gets its SYN-ACK.
  h.recv(in_segment(50010, 7788).flags(tcp_flag::syn).seq(seq_number{9}));
  CHECK(h.poll_one().flags() == (tcp_flag::syn | tcp_flag::ack));
}

// =========================================================================================
// SYN cookies (RFC 4987 §3.6)

namespace {

struct cookie_case {
  bool timestamps;
  const char* name;
};

/// Fills the SYN backlog of a listener on 7788 (max_syn_backlog 2) with two half-open
/// connections from ports 60000 and 60001.
void fill_syn_backlog(harness& h) {
  for (std::uint16_t i = 0; i < 2; ++i) {
    h.recv(in_segment(static_cast<std::uint16_t>(60000 + i), 7788).flags(tcp_flag::syn).seq(seq_number{5u + i}));
    REQUIRE(h.poll_one().flags() == (tcp_flag::syn | tcp_flag::ack));
  }
  REQUIRE(h.tcp.connection_count() == 2);
}

auto cookie_config(bool options) -> layer_config {
  auto cfg = plain_layer_config();
  cfg.max_syn_backlog = 2;
  cfg.connection.window_scaling = options;
  cfg.connection.timestamps = options;
  cfg.connection.sack = options;
  cfg.connection.recv_buffer = 1 << 20; // our shift: 5
  return cfg;
}

} // namespace

TEST_CASE("SYN backlog full: SYN cookies; the cookie handshake gives an established connection") {
  for (bool ts : {false, true}) {
    CAPTURE(ts);
    harness h{cookie_config(ts)};
    auto l = h.tcp.listen({ipv4_address{}, 7788}, 16);
    REQUIRE(l);
    fill_syn_backlog(h);
    const seq_number piss{0x12345678};
    in_segment syn(61000, 7788);
    syn.flags(tcp_flag::syn).seq(piss).mss(1400).wscale(7).sack_permitted();
    if (ts) syn.ts(111, 0);
    h.recv(syn);
    auto synack = h.poll_one();
    CHECK(synack.flags() == (tcp_flag::syn | tcp_flag::ack));
    CHECK(synack.repr.ack == piss + 1);
    CHECK(h.tcp.connection_count() == 2); // stateless: no connection yet
    CHECK(h.tcp.stats().syn_cookies_sent == 1);
    const auto& o = synack.repr.options;
    CHECK(o.mss == std::optional<std::uint16_t>{1460});
    if (ts) {
      REQUIRE(o.timestamps.has_value());
      CHECK(o.timestamps->tsecr == 111);
      CHECK(o.window_scale == std::optional<std::uint8_t>{5});
      CHECK(o.sack_permitted);
    } else {
      // Without timestamps the cookie cannot carry window scale or SACK: not offered.
      CHECK_FALSE(o.timestamps.has_value());
      CHECK_FALSE(o.window_scale.has_value());
      CHECK_FALSE(o.sack_permitted);
    }
    // The final ACK carries data already.
    in_segment ack(61000, 7788);
    ack.seq(piss + 1).ack(synack.repr.seq + 1).win(1000).payload("hello server");
    if (ts) ack.ts(112, o.timestamps->tsval);
    h.recv(ack);
    CHECK(h.tcp.stats().syn_cookies_ok == 1);
    CHECK(h.tcp.connection_count() == 3);
    CHECK(h.poll().empty()); // the ACK of the 12 bytes is delayed
    REQUIRE(h.tcp.pending_accepts(*l) == 1);
    auto id = h.tcp.accept(*l);
    REQUIRE(id);
    auto* c = h.tcp.find(*id);
    REQUIRE(c);
    CHECK(c->state() == state::established);
    CHECK(c->passive());
    // What the cookie carried survived: MSS from the table (1400), and with timestamps the
    // window scale and SACK.
    const auto neg = c->options();
    CHECK(neg.peer_mss == 1400);
    CHECK(neg.timestamps == ts);
    CHECK(neg.window_scaling == ts);
    CHECK(neg.sack == ts);
    if (ts) {
      CHECK(neg.snd_wscale == 7);
      CHECK(neg.rcv_wscale == 5);
      CHECK(c->tcb().snd_wnd == 1000u << 7); // the ACK's window is scaled
    } else {
      CHECK(c->tcb().snd_wnd == 1000u);
    }
    CHECK(c->tcb().iss == synack.repr.seq);
    CHECK(c->tcb().irs == piss);
    // Data both ways: the ACK's payload is readable, our answer goes out and is accepted.
    std::array<std::byte, 64> buf{};
    REQUIRE(c->recv(buf) == 12);
    CHECK(as_chars(bytes_view{buf}.first(12)) == "hello server");
    CHECK(c->send(bytes_of("hello client")) == 12);
    h.tcp.touch(*id);
    auto reply = h.poll();
    REQUIRE(reply.size() == 1); // the data (with the delayed ACK of the peer's bytes)
    const auto& data = reply.front();
    CHECK(data.payload == "hello client");
    CHECK(data.repr.seq == synack.repr.seq + 1);
    CHECK(data.repr.ack == piss + 1 + 12);
    CHECK(data.repr.options.timestamps.has_value() == ts);
    in_segment more(61000, 7788);
    more.seq(piss + 13).ack(synack.repr.seq + 13).payload("more");
    if (ts) more.ts(113, data.repr.options.timestamps->tsval);
    h.recv(more);
    (void)h.poll();
    CHECK(c->recv(buf) == 4);
    CHECK(c->tcb().snd_una == synack.repr.seq + 13);
    CHECK(h.tcp.stats().syn_cookies_failed == 0);
    // In use, not only negotiated: out-of-order data is reported with a SACK block (only with
    // timestamps), and our window field is scaled by our shift (5 with timestamps, else none).
    in_segment ooo(61000, 7788);
    ooo.seq(piss + 17 + 100).ack(synack.repr.seq + 13).payload("later");
    if (ts) ooo.ts(114, data.repr.options.timestamps->tsval);
    h.recv(ooo);
    auto dup = h.poll_one();
    CHECK(dup.repr.ack == piss + 17);
    CHECK(dup.repr.options.sack_count == (ts ? 1 : 0));
    if (ts) {
      CHECK(dup.repr.options.sack[0].left == piss + 117);
      CHECK(dup.repr.options.sack[0].right == piss + 122);
    }
    const auto space = (1u << 20) - 0u; // everything was read: the whole buffer is free
    CHECK(dup.repr.window == (ts ? std::min<std::uint32_t>(space >> 5, 65535) : 65535));
  }
}

TEST_CASE("SYN cookies: a forged or stale cookie ACK gets a RST and no connection") {
  harness h{cookie_config(false)};
  REQUIRE(h.tcp.listen({ipv4_address{}, 7788}, 16));
  fill_syn_backlog(h);
  const seq_number piss{777};
  h.recv(in_segment(61000, 7788).flags(tcp_flag::syn).seq(piss).mss(1460));
  auto synack = h.poll_one();
  const auto cookie = synack.repr.seq;
  SUBCASE("a wrong ISN (forged cookie)") {
    h.recv(in_segment(61000, 7788).seq(piss + 1).ack(cookie + 1 + 0x10000));
    auto rst = h.poll_one();
    CHECK(rst.flags() == tcp_flags{tcp_flag::rst});
    CHECK(rst.repr.seq == cookie + 1 + 0x10000);
  }
  SUBCASE("a sequence number that is not the SYN's + 1 (the MAC covers the peer's ISN)") {
    h.recv(in_segment(61000, 7788).seq(piss + 2).ack(cookie + 1));
    CHECK(h.poll_one().has(tcp_flag::rst));
  }
  SUBCASE("a valid cookie for another 4-tuple") {
    h.recv(in_segment(61001, 7788).seq(piss + 1).ack(cookie + 1));
    CHECK(h.poll_one().has(tcp_flag::rst));
  }
  SUBCASE("a cookie that expired (two counter periods, 128 s)") {
    h.now = instant::from_millis(1000) + 128s;
    h.recv(in_segment(61000, 7788).seq(piss + 1).ack(cookie + 1));
    CHECK(h.poll_one().has(tcp_flag::rst));
  }
  CHECK(h.tcp.stats().syn_cookies_failed == 1);
  CHECK(h.tcp.stats().syn_cookies_ok == 0);
  CHECK(h.tcp.connection_count() == 2);
}

TEST_CASE("SYN cookies off: a full SYN backlog drops SYNs") {
  auto cfg = cookie_config(false);
  cfg.syn_cookies = false;
  harness h{cfg};
  REQUIRE(h.tcp.listen({ipv4_address{}, 7788}, 16));
  fill_syn_backlog(h);
  h.recv(in_segment(61000, 7788).flags(tcp_flag::syn).seq(seq_number{1}));
  CHECK(h.poll().empty());
  CHECK(h.tcp.stats().listen_drops == 1);
  CHECK(h.tcp.stats().syn_cookies_sent == 0);
}

// =========================================================================================
// Active opens: limits and ephemeral ports

TEST_CASE("the connection limit: connect fails with no_buffer_space, listeners answer with cookies") {
  auto cfg = plain_layer_config();
  cfg.max_connections = 3;
  harness h{cfg};
  REQUIRE(h.tcp.listen({ipv4_address{}, 7788}, 16));
  for (int i = 0; i < 3; ++i) REQUIRE(h.tcp.connect(h.now, us, {peer_addr, 80}));
  auto r = h.tcp.connect(h.now, us, {peer_addr, 80});
  REQUIRE_FALSE(r);
  CHECK(r.error() == std::errc::no_buffer_space);
  CHECK(h.tcp.connection_count() == 3);
  (void)h.poll();
  h.recv(in_segment(61000, 7788).flags(tcp_flag::syn).seq(seq_number{1}).mss(1460));
  auto synack = h.poll_one();
  CHECK(synack.flags() == (tcp_flag::syn | tcp_flag::ack));
  CHECK(h.tcp.stats().syn_cookies_sent == 1);
  CHECK(h.tcp.connection_count() == 3);
  // Its ACK is valid but finds no room: dropped (the peer retransmits), no connection.
  h.recv(in_segment(61000, 7788).seq(seq_number{2}).ack(synack.repr.seq + 1));
  CHECK(h.poll().empty());
  CHECK(h.tcp.connection_count() == 3);
  CHECK(h.tcp.stats().listen_drops == 1);
}

TEST_CASE("connect: bad arguments, and a fixed local port that is taken") {
  harness h;
  CHECK(h.tcp.connect(h.now, us, {peer_addr, 0}).error() == std::errc::invalid_argument);
  CHECK(h.tcp.connect(h.now, us, {ipv4_address{}, 80}).error() == std::errc::invalid_argument);
  REQUIRE(h.tcp.connect(h.now, us, {peer_addr, 80}, 5555));
  CHECK(h.tcp.connect(h.now, us, {peer_addr, 80}, 5555).error() == std::errc::address_in_use);
  CHECK(h.tcp.connect(h.now, us, {peer_addr, 81}, 5555)); // another 4-tuple
}

TEST_CASE("ephemeral ports never collide; exhaustion gives address_not_available") {
  auto cfg = plain_layer_config();
  cfg.ephemeral_ports = port_range{50000, 50063};
  harness h{cfg};
  // A listener on a port of the range: never handed out to connect().
  REQUIRE(h.tcp.listen({ipv4_address{}, 50010}, 8));
  std::set<std::uint16_t> ports;
  for (int i = 0; i < 63; ++i) {
    auto id = h.tcp.connect(h.now, us, {peer_addr, 80});
    REQUIRE(id);
    const auto p = h.tcp.find(*id)->tuple().local.port;
    CHECK(p >= 50000);
    CHECK(p <= 50063);
    CHECK(p != 50010);
    CHECK(ports.insert(p).second);
  }
  auto r = h.tcp.connect(h.now, us, {peer_addr, 80});
  REQUIRE_FALSE(r);
  CHECK(r.error() == std::errc::address_not_available);
  // Another destination has its own 4-tuples: the same ports are usable again.
  std::set<std::uint16_t> other;
  for (int i = 0; i < 63; ++i) {
    auto id = h.tcp.connect(h.now, us, {peer_addr, 443});
    REQUIRE(id);
    other.insert(h.tcp.find(*id)->tuple().local.port);
  }
  CHECK(other == ports);
  // Every SYN leaves from its own port.
  std::set<std::pair<std::uint16_t, std::uint16_t>> seen;
  for (const auto& s : h.poll()) {
    CHECK(s.flags() == tcp_flags{tcp_flag::syn});
    CHECK(seen.insert({s.repr.src_port, s.repr.dst_port}).second);
  }
  CHECK(seen.size() == 126);
}

// =========================================================================================
// TIME_WAIT reuse (RFC 9293 §3.10.7.4 TIME-WAIT, RFC 1122 §4.2.2.13, RFC 6191)

namespace {

/// The layer serves one connection on 7788 from peer port 40000 (peer ISS `piss`), sends
/// `server_bytes`, closes first and ends in TIME_WAIT. Returns the id and the server's SND.NXT.
struct time_wait_setup {
  harness h;
  seq_number piss{1000};
  seq_number snd_nxt;
  seq_number rcv_nxt;
  conn_id id;

  listener_id listener;

  explicit time_wait_setup(std::size_t server_bytes) {
    auto l = h.tcp.listen({ipv4_address{}, 7788}, 8);
    REQUIRE(l);
    listener = *l;
    const auto iss = h.handshake(40000, 7788, piss);
    auto a = h.tcp.accept(listener);
    REQUIRE(a);
    id = *a;
    auto* c = h.tcp.find(id);
    const std::string data(server_bytes, 'd');
    std::size_t queued = 0;
    seq_number acked = iss + 1;
    while (queued < data.size() || c->send_queued() > 0) {
      queued += c->send(bytes_of(data).subspan(queued));
      h.tcp.touch(id);
      for (auto& s : h.poll()) acked = std::max(acked, s.repr.seq + static_cast<std::uint32_t>(s.payload.size()));
      h.recv(in_segment(40000, 7788).seq(piss + 1).ack(acked));
    }
    h.tcp.release(h.now, id); // close: FIN
    auto fin = h.poll_one();
    REQUIRE(fin.has(tcp_flag::fin));
    snd_nxt = fin.repr.seq + 1;
    rcv_nxt = piss + 1;
    h.recv(in_segment(40000, 7788).flags(tcp_flag::fin).seq(piss + 1).ack(snd_nxt));
    auto ack = h.poll_one();
    REQUIRE(ack.repr.ack == piss + 2);
    rcv_nxt = piss + 2;
    REQUIRE(h.tcp.connection_count() == 1);
  }
};

} // namespace

TEST_CASE("TIME_WAIT: a SYN with a higher sequence number reopens the 4-tuple; a lower one does not") {
  SUBCASE("higher: a new connection, whose ISS is above the old SND.NXT") {
    time_wait_setup t(100000); // the old incarnation sent 100 kB
    t.h.recv(in_segment(40000, 7788).flags(tcp_flag::syn).seq(t.rcv_nxt + 100000).mss(1460));
    auto synack = t.h.poll_one();
    CHECK(synack.flags() == (tcp_flag::syn | tcp_flag::ack));
    CHECK(synack.repr.ack == t.rcv_nxt + 100001);
    // RFC 1122 §4.2.2.13 (1): "assigns its initial sequence number for the new connection to
    // be larger than the largest sequence number it used on the previous connection
    // incarnation".
    CHECK(synack.repr.seq > t.snd_nxt);
    CHECK(t.h.tcp.find(t.id) == nullptr); // the old incarnation is gone
    CHECK(t.h.tcp.connection_count() == 1);
  }
  SUBCASE("lower (an old duplicate): TIME_WAIT stays and answers with an ACK") {
    time_wait_setup t(1000);
    t.h.recv(in_segment(40000, 7788).flags(tcp_flag::syn).seq(t.piss));
    auto ack = t.h.poll_one();
    CHECK(ack.flags() == tcp_flags{tcp_flag::ack});
    CHECK(ack.repr.ack == t.rcv_nxt);
    CHECK(t.h.tcp.connection_count() == 1);
    CHECK(t.h.tcp.stats().state_entered[index_of(state::syn_received)] == 1);
  }
  SUBCASE("without a listener: no reopening") {
    time_wait_setup t(1000);
    t.h.tcp.unlisten(t.h.now, t.listener);
    t.h.recv(in_segment(40000, 7788).flags(tcp_flag::syn).seq(t.rcv_nxt + 5000));
    auto out = t.h.poll_one();
    CHECK_FALSE(out.has(tcp_flag::syn));
    CHECK(t.h.tcp.connection_count() == 1);
  }
}

TEST_CASE("TIME_WAIT ends after 2 MSL and the slot is freed") {
  time_wait_setup t(10);
  const auto msl = plain_layer_config().connection.msl;
  (void)t.h.advance_to(t.h.now + 2 * msl - 1ms);
  CHECK(t.h.tcp.connection_count() == 1);
  (void)t.h.advance_to(t.h.now + 1ms);
  CHECK(t.h.tcp.connection_count() == 0);
  CHECK_FALSE(t.h.tcp.next_deadline().has_value());
}

// =========================================================================================
// unlisten, release, stale ids

TEST_CASE("unlisten resets the connections not yet accepted, half-open ones included") {
  harness h;
  auto l = h.tcp.listen({ipv4_address{}, 7788}, 8);
  REQUIRE(l);
  const auto iss_a = h.handshake(40000, 7788, seq_number{100}); // ESTABLISHED, queued
  h.recv(in_segment(40001, 7788).flags(tcp_flag::syn).seq(seq_number{200}));
  auto synack_b = h.poll_one(); // SYN_RCVD
  REQUIRE(h.tcp.pending_accepts(*l) == 1);
  REQUIRE(h.tcp.connection_count() == 2);
  h.tcp.unlisten(h.now, *l);
  auto out = h.poll();
  REQUIRE(out.size() == 2);
  std::map<std::uint16_t, out_segment> by_port;
  for (auto& s : out) by_port[s.repr.dst_port] = s;
  CHECK(by_port[40000].flags() == tcp_flags{tcp_flag::rst});
  CHECK(by_port[40000].repr.seq == iss_a + 1);
  CHECK(by_port[40001].flags() == tcp_flags{tcp_flag::rst});
  CHECK(by_port[40001].repr.seq == synack_b.repr.seq + 1);
  CHECK(h.tcp.connection_count() == 0);
  CHECK_FALSE(h.tcp.accept(*l).has_value());
  // The port has no listener now.
  h.recv(in_segment(40002, 7788).flags(tcp_flag::syn).seq(seq_number{1}));
  CHECK(h.poll_one().flags() == (tcp_flag::rst | tcp_flag::ack));
}

TEST_CASE("release of an open connection closes it gracefully; the slot is freed at CLOSED") {
  SUBCASE("we close first: FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT -> CLOSED") {
    harness h;
    auto l = h.tcp.listen({ipv4_address{}, 7788}, 8);
    const auto iss = h.handshake(40000, 7788, seq_number{100});
    auto id = *h.tcp.accept(*l);
    REQUIRE(h.tcp.find(id)->send(bytes_of("bye")) == 3);
    h.tcp.release(h.now, id);
    CHECK(h.tcp.find(id) == nullptr); // the application's id is stale at once
    auto out = h.poll();
    REQUIRE(!out.empty());
    CHECK(out.back().has(tcp_flag::fin)); // the data, then the FIN (here in one segment)
    std::string sent;
    for (auto& s : out) sent += s.payload;
    CHECK(sent == "bye");
    CHECK(h.tcp.connection_count() == 1); // finishing in the background
    h.recv(in_segment(40000, 7788).seq(seq_number{101}).ack(iss + 5));
    h.recv(in_segment(40000, 7788).flags(tcp_flag::fin).seq(seq_number{101}).ack(iss + 5));
    CHECK(h.poll_one().repr.ack == seq_number{102});
    CHECK(h.tcp.connection_count() == 1);
    (void)h.advance_to(h.now + 61s);
    CHECK(h.tcp.connection_count() == 0);
  }
  SUBCASE("the peer closed first: CLOSE_WAIT -> LAST_ACK -> CLOSED") {
    harness h;
    auto l = h.tcp.listen({ipv4_address{}, 7788}, 8);
    const auto iss = h.handshake(40000, 7788, seq_number{100});
    auto id = *h.tcp.accept(*l);
    h.recv(in_segment(40000, 7788).flags(tcp_flag::fin).seq(seq_number{101}).ack(iss + 1));
    (void)h.poll();
    REQUIRE(h.tcp.find(id)->state() == state::close_wait);
    h.tcp.release(h.now, id);
    auto fin = h.poll_one();
    CHECK(fin.flags() == (tcp_flag::fin | tcp_flag::ack));
    h.recv(in_segment(40000, 7788).seq(seq_number{102}).ack(iss + 2));
    (void)h.poll();
    CHECK(h.tcp.connection_count() == 0);
  }
  SUBCASE("after a half-close the orphan in FIN_WAIT_2 is bounded by the FIN_WAIT_2 timeout") {
    harness h;
    auto l = h.tcp.listen({ipv4_address{}, 7788}, 8);
    const auto iss = h.handshake(40000, 7788, seq_number{100});
    auto id = *h.tcp.accept(*l);
    h.tcp.find(id)->shutdown_write(h.now);
    h.tcp.touch(id);
    REQUIRE(h.poll_one().has(tcp_flag::fin));
    h.recv(in_segment(40000, 7788).seq(seq_number{101}).ack(iss + 2));
    (void)h.poll();
    REQUIRE(h.tcp.find(id)->state() == state::fin_wait_2);
    h.tcp.release(h.now, id);
    (void)h.poll();
    // The peer never sends its FIN: the orphan must not live forever.
    (void)h.advance_to(h.now + plain_layer_config().connection.fin_wait_2_timeout + 1s);
    CHECK(h.tcp.connection_count() == 0);
  }
  SUBCASE("a connection that is already CLOSED is freed at once") {
    harness h;
    auto l = h.tcp.listen({ipv4_address{}, 7788}, 8);
    (void)h.handshake(40000, 7788, seq_number{100});
    auto id = *h.tcp.accept(*l);
    h.recv(in_segment(40000, 7788).flags(tcp_flag::rst).seq(seq_number{101}));
    (void)h.poll();
    REQUIRE(h.tcp.find(id)->state() == state::closed);
    CHECK(h.tcp.connection_count() == 1); // held by the application
    h.tcp.release(h.now, id);
    CHECK(h.tcp.connection_count() == 0);
  }
}

TEST_CASE("a CLOSED connection the application still holds no longer owns its 4-tuple (RFC 9293 §3.10.7.1)") {
  harness h;
  auto l = h.tcp.listen({ipv4_address{}, 7788}, 8);
  const auto iss = h.handshake(40000, 7788, seq_number{100});
  auto old = *h.tcp.accept(*l);
  h.recv(in_segment(40000, 7788).flags(tcp_flag::rst).seq(seq_number{101}));
  (void)h.poll();
  REQUIRE(h.tcp.find(old)->state() == state::closed);
  // The peer connects again from the same port: no TCB exists for the 4-tuple any more, so
  // the listener answers (rather than the dead connection's RST).
  h.recv(in_segment(40000, 7788).flags(tcp_flag::syn).seq(seq_number{5000}).mss(1460));
  auto synack = h.poll_one();
  CHECK(synack.flags() == (tcp_flag::syn | tcp_flag::ack));
  CHECK(synack.repr.ack == seq_number{5001});
  h.recv(in_segment(40000, 7788).seq(seq_number{5001}).ack(synack.repr.seq + 1));
  (void)h.poll();
  auto fresh = h.tcp.accept(*l);
  REQUIRE(fresh);
  CHECK(h.tcp.find(*fresh)->state() == state::established);
  // The old id still shows how its connection ended; letting it go leaves the new one alone.
  CHECK(h.tcp.find(old)->last_error() == tcp::error::connection_reset);
  CHECK(h.tcp.connection_count() == 2);
  h.tcp.release(h.now, old);
  CHECK(h.tcp.connection_count() == 1);
  h.recv(in_segment(40000, 7788).seq(seq_number{5001}).ack(synack.repr.seq + 1).payload("still here"));
  (void)h.poll();
  CHECK(h.tcp.find(*fresh)->readable() == 10);
  (void)iss;
}

TEST_CASE("what the event sink does to a connection during poll is sent in that same poll") {
  // The stack's coroutines react to events from inside poll (a send waiting for space queues
  // more data and touches the connection). If that waited for the next poll, it would wait for
  // an unrelated packet or timer: with nothing in flight, the next wake-up.
  auto cfg = plain_layer_config();
  cfg.connection.send_buffer = 1000;
  harness h{cfg};
  auto id = h.tcp.connect(h.now, us, {peer_addr, 80});
  REQUIRE(id);
  auto syn = h.poll_one();
  h.recv(in_segment(80, syn.repr.src_port).flags(tcp_flag::syn).seq(seq_number{100}).ack(syn.repr.seq + 1).mss(1460));
  REQUIRE(h.poll_one().flags() == tcp_flags{tcp_flag::ack});
  struct sink_state {
    layer<>* tcp;
    conn_id id;
    int refills = 0;
  } st{&h.tcp, *id};
  h.tcp.set_user(*id, &st);
  h.tcp.set_event_sink(
      [](void*, conn_id cid, event_set ev, void* user) {
        auto& s = *static_cast<sink_state*>(user);
        if (!has(ev, event::writable) || s.refills >= 3) return;
        const std::string more(1000, 'm');
        if (s.tcp->find(cid)->send(as_bytes(std::string_view{more})) > 0) {
          ++s.refills;
          s.tcp->touch(cid);
        }
      },
      nullptr);
  REQUIRE(h.tcp.find(*id)->send(bytes_of(std::string(1000, 'x'))) == 1000);
  h.tcp.touch(*id);
  auto first = h.poll_one();
  CHECK(first.payload.size() == 1000);
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    // Everything is acknowledged: the send buffer is empty, nothing is in flight.
    h.recv(in_segment(80, syn.repr.src_port).seq(seq_number{101}).ack(first.repr.seq + 1000));
    auto next = h.poll();
    REQUIRE(next.size() == 1);
    CHECK(next[0].payload == std::string(1000, 'm'));
    first = next[0];
  }
  CHECK(st.refills == 3);
}

TEST_CASE("stale conn_ids find nothing, also after their slot is reused") {
  harness h;
  auto l = h.tcp.listen({ipv4_address{}, 7788}, 8);
  (void)h.handshake(40000, 7788, seq_number{100});
  auto a = h.tcp.accept(*l);
  REQUIRE(a);
  h.tcp.find(*a)->abort(h.now); // CLOSED with a RST still to send
  h.tcp.release(h.now, *a);
  CHECK(h.tcp.find(*a) == nullptr); // stale at once, though the slot waits for the RST
  CHECK(h.poll_one().has(tcp_flag::rst));
  CHECK(h.tcp.connection_count() == 0);
  auto b = h.tcp.connect(h.now, us, {peer_addr, 81});
  REQUIRE(b);
  CHECK(b->slot == a->slot);        // the slot is reused ...
  CHECK(h.tcp.find(*a) == nullptr); // ... under a new generation
  CHECK(h.tcp.find(*b) != nullptr);
  h.tcp.touch(*a); // harmless
  h.tcp.release(h.now, *a);
  CHECK(h.tcp.find(*b) != nullptr);
  CHECK(h.tcp.find(conn_id{}) == nullptr);
  CHECK(h.tcp.find(conn_id{12345, 0}) == nullptr);
}

// =========================================================================================
// Timers: one heap entry per connection, re-armed lazily

TEST_CASE("timers of thousands of connections fire on time, as deadlines move earlier and later") {
  auto cfg = plain_layer_config();
  cfg.connection.delayed_ack = 40ms;
  cfg.connection.keepalive = true;
  cfg.connection.keepalive_idle = 3600s;
  harness h{cfg};
  constexpr std::size_t n = 3000;
  std::mt19937 rng(7);
  struct peer_conn {
    conn_id id;
    std::uint16_t peer_port = 0;
    std::uint16_t local_port = 0;
    seq_number iss; // ours
    seq_number piss{5000};
  };
  std::vector<peer_conn> conns(n);
  std::map<std::uint16_t, std::size_t> by_peer_port;
  // Open them all (active opens); the peer answers at once, so the handshake RTT is 0 and the
  // RTO is its minimum, 200 ms. Each has a keep-alive deadline an hour away.
  for (std::size_t i = 0; i < n; ++i) {
    auto& c = conns[i];
    c.peer_port = static_cast<std::uint16_t>(10000 + i);
    auto id = h.tcp.connect(h.now, us, {peer_addr, c.peer_port});
    REQUIRE(id);
    c.id = *id;
    auto syn = h.poll_one();
    c.iss = syn.repr.seq;
    c.local_port = syn.repr.src_port;
    by_peer_port[c.peer_port] = i;
    h.recv(in_segment(c.peer_port, c.local_port).flags(tcp_flag::syn).seq(c.piss).ack(c.iss + 1).mss(1460));
    REQUIRE(h.poll_one().flags() == tcp_flags{tcp_flag::ack});
  }
  REQUIRE(h.tcp.connection_count() == n);
  REQUIRE(h.tcp.find(conns[0].id)->tcb().rto == 200ms);

  // One event per connection at a random time in the next 10 s:
  //   even i: a data byte arrives -> its delayed ACK is due 40 ms later: the connection's
  //           deadline moves EARLIER than the heap entry (the keep-alive, an hour away);
  //   odd i:  we send two bytes (RTO due 200 ms later), and 100 ms later the peer acknowledges
  //           one of them, which restarts the RTO: the deadline moves LATER, to +300 ms; the
  //           old heap entry fires early and must do nothing.
  enum class action { data_in, send, partial_ack };
  struct step {
    instant at;
    std::size_t conn;
    action what;
    auto operator<(const step& o) const { return std::tie(at, conn) < std::tie(o.at, o.conn); }
  };
  const auto t0 = h.now + 1s;
  std::vector<step> steps;
  std::vector<instant> event_at(n);
  for (std::size_t i = 0; i < n; ++i) {
    event_at[i] = t0 + std::chrono::microseconds{rng() % 10'000'000};
    if (i % 2 == 0) {
      steps.push_back({event_at[i], i, action::data_in});
    } else {
      steps.push_back({event_at[i], i, action::send});
      steps.push_back({event_at[i] + 100ms, i, action::partial_ack});
    }
  }
  std::sort(steps.begin(), steps.end());

  std::vector<std::vector<std::pair<instant, out_segment>>> emitted(n);
  auto record = [&](std::vector<out_segment> v) {
    for (auto& s : v) emitted[by_peer_port.at(s.repr.dst_port)].emplace_back(h.now, std::move(s));
  };
  std::size_t wakeups = 0;
  instant last_wakeup = h.now;
  auto run_timers_until = [&](instant until) {
    while (auto d = h.tcp.next_deadline()) {
      if (*d > until) break;
      CHECK(*d >= last_wakeup); // the heap hands deadlines out in order
      last_wakeup = *d;
      h.now = std::max(h.now, *d);
      h.tcp.on_timeout(h.now);
      ++wakeups;
      record(h.poll());
    }
    h.now = until;
  };
  for (const auto& st : steps) {
    run_timers_until(st.at);
    auto& c = conns[st.conn];
    switch (st.what) {
      case action::data_in:
        h.recv(in_segment(c.peer_port, c.local_port).seq(c.piss + 1).ack(c.iss + 1).payload("x"));
        break;
      case action::send: {
        auto* conn = h.tcp.find(c.id);
        REQUIRE(conn->send(bytes_of("ab")) == 2);
        h.tcp.touch(c.id);
        break;
      }
      case action::partial_ack:
        h.recv(in_segment(c.peer_port, c.local_port).seq(c.piss + 1).ack(c.iss + 2));
        break;
    }
    record(h.poll());
  }
  run_timers_until(t0 + 12s);

  std::size_t checked = 0;
  for (std::size_t i = 0; i < n; ++i) {
    CAPTURE(i);
    const auto& e = emitted[i];
    if (i % 2 == 0) {
      // Exactly one segment: the delayed ACK, exactly 40 ms after the data.
      REQUIRE(e.size() == 1);
      CHECK(e[0].first == event_at[i] + 40ms);
      CHECK(e[0].second.repr.ack == conns[i].piss + 2);
      CHECK(e[0].second.payload.empty());
    } else {
      // The data at once, then its first retransmission 300 ms after the send (not 200 ms).
      REQUIRE(e.size() >= 2);
      CHECK(e[0].first == event_at[i]);
      CHECK(e[0].second.payload == "ab");
      CHECK_FALSE(e[0].second.repr.flags.has(tcp_flag::fin));
      CHECK(e[1].first == event_at[i] + 300ms);
      CHECK(e[1].second.payload == "b");
      for (std::size_t k = 2; k < e.size(); ++k) CHECK(e[k].first > e[k - 1].first);
    }
    ++checked;
  }
  CHECK(checked == n);
  // One heap entry per connection: the wake-ups are bounded by the deadlines that really
  // happened plus one early (lazy) wake-up per moved deadline, not by the number of ACKs.
  CHECK(wakeups <= 8 * n);
  CHECK(h.tcp.stats().rto_expirations >= n / 2);
}

TEST_SUITE_END();
