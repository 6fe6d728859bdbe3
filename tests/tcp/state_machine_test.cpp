// The arrows of RFC 9293 §3.3.2's state diagram and the §3.10 event rules, one connection at a
// time, with segments written by hand. The table test proves every one of the 11 states was
// entered.
#include "connection_fixture.hpp"

#include <array>
#include <functional>

using namespace test_tcp;

namespace {

/// What a row expects to see sent after the event: nothing, or a segment with these flags.
struct expect_segment {
  bool any = false;
  tcp_flags flags{};
};
constexpr expect_segment sends_nothing{};
auto segment_with(tcp_flags f) -> expect_segment { return {true, f}; }

struct transition {
  const char* name;
  void (*setup)(fixture&);
  std::function<void(fixture&)> event;
  tcp::state to;
  expect_segment sends;
  tcp::error error = tcp::error::none;
};

void closed(fixture&) {}

auto peer(seg s) {
  return [s](fixture& f) mutable { f.recv(s); };
}

} // namespace

TEST_SUITE_BEGIN("tcp.state_machine");

TEST_CASE("every arrow of the state diagram") {
  // Sequence numbers of the peer's next byte and of ours after the handshake.
  const auto r1 = remote_iss + 1;
  const auto l1 = local_iss + 1;
  const std::vector<transition> table{
      // CLOSED
      {"CLOSED --active OPEN / snd SYN--> SYN_SENT", closed, [](fixture& f) { f.conn.open(f.now); }, state::syn_sent,
       segment_with(tcp_flag::syn)},
      {"CLOSED --passive OPEN--> LISTEN", closed, [](fixture& f) { f.conn.listen(); }, state::listen, sends_nothing},
      {"CLOSED --segment with ACK / snd <SEQ=SEG.ACK><CTL=RST>--> CLOSED", closed,
       peer(seg{}.seq(r1).ack(seq_number{777})), state::closed, segment_with(tcp_flag::rst)},
      {"CLOSED --segment without ACK / snd <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>--> CLOSED", closed,
       peer(seg{}.flags(tcp_flag::syn).seq(remote_iss)), state::closed, segment_with(tcp_flag::rst | tcp_flag::ack)},
      {"CLOSED --RST--> CLOSED (no reply)", closed, peer(seg{}.flags(tcp_flag::rst).seq(r1)), state::closed,
       sends_nothing},
      // LISTEN
      {"LISTEN --rcv SYN / snd SYN,ACK--> SYN_RCVD", to_listen, peer(seg{}.flags(tcp_flag::syn).seq(remote_iss)),
       state::syn_received, segment_with(tcp_flag::syn | tcp_flag::ack)},
      {"LISTEN --rcv ACK / snd RST--> LISTEN", to_listen, peer(seg{}.seq(r1).ack(seq_number{5})), state::listen,
       segment_with(tcp_flag::rst)},
      {"LISTEN --rcv RST--> LISTEN (ignored)", to_listen, peer(seg{}.flags(tcp_flag::rst).seq(r1)), state::listen,
       sends_nothing},
      {"LISTEN --CLOSE--> CLOSED", to_listen, [](fixture& f) { f.conn.close(f.now); }, state::closed, sends_nothing},
      // SYN_SENT
      {"SYN_SENT --rcv SYN,ACK / snd ACK--> ESTABLISHED", to_syn_sent,
       peer(seg{}.flags(tcp_flag::syn).seq(remote_iss).ack(l1)), state::established, segment_with(tcp_flag::ack)},
      {"SYN_SENT --rcv SYN / snd SYN,ACK--> SYN_RCVD (simultaneous open)", to_syn_sent,
       peer(seg{}.flags(tcp_flag::syn).seq(remote_iss)), state::syn_received,
       segment_with(tcp_flag::syn | tcp_flag::ack)},
      {"SYN_SENT --rcv RST,ACK of SYN--> CLOSED (refused)", to_syn_sent,
       peer(seg{}.flags(tcp_flag::rst).seq(seq_number{0}).ack(l1)), state::closed, sends_nothing,
       tcp::error::connection_refused},
      {"SYN_SENT --rcv RST without ACK--> SYN_SENT (ignored)", to_syn_sent,
       peer(seg{}.flags(tcp_flag::rst).seq(remote_iss)), state::syn_sent, sends_nothing},
      {"SYN_SENT --rcv unacceptable ACK / snd RST--> SYN_SENT", to_syn_sent,
       peer(seg{}.flags(tcp_flag::syn).seq(remote_iss).ack(local_iss + 100)), state::syn_sent,
       segment_with(tcp_flag::rst)},
      {"SYN_SENT --CLOSE--> CLOSED", to_syn_sent, [](fixture& f) { f.conn.close(f.now); }, state::closed,
       sends_nothing},
      {"SYN_SENT --SYN retries exhausted--> CLOSED (timed out)", to_syn_sent,
       [](fixture& f) {
         for (int i = 0; i < 20 && f.state() != state::closed; ++i) {
           f.fire_next_timer();
           (void)f.poll();
         }
       },
       state::closed, sends_nothing, tcp::error::timed_out},
      // SYN_RCVD
      {"SYN_RCVD --rcv ACK of SYN--> ESTABLISHED", to_syn_received, peer(seg{}.seq(r1).ack(l1)), state::established,
       sends_nothing},
      {"SYN_RCVD --CLOSE / snd FIN--> FIN_WAIT_1", to_syn_received, [](fixture& f) { f.conn.close(f.now); },
       state::fin_wait_1, sends_nothing /* the FIN waits for the ACK of our SYN */},
      {"SYN_RCVD --rcv RST--> CLOSED (passive: back to the listener)", to_syn_received,
       peer(seg{}.flags(tcp_flag::rst).seq(r1)), state::closed, sends_nothing},
      {"SYN_RCVD --rcv unacceptable ACK / snd RST--> SYN_RCVD", to_syn_received,
       peer(seg{}.seq(r1).ack(local_iss + 50)), state::syn_received, segment_with(tcp_flag::rst)},
      {"SYN_RCVD --rcv retransmitted SYN / snd SYN,ACK--> SYN_RCVD", to_syn_received,
       peer(seg{}.flags(tcp_flag::syn).seq(remote_iss)), state::syn_received,
       segment_with(tcp_flag::syn | tcp_flag::ack)},
      // ESTABLISHED
      {"ESTABLISHED --CLOSE / snd FIN--> FIN_WAIT_1", to_established, [](fixture& f) { f.conn.close(f.now); },
       state::fin_wait_1, segment_with(tcp_flag::fin | tcp_flag::ack)},
      {"ESTABLISHED --rcv FIN / snd ACK--> CLOSE_WAIT", to_established,
       peer(seg{}.flags(tcp_flag::fin).seq(r1).ack(l1)), state::close_wait, segment_with(tcp_flag::ack)},
      {"ESTABLISHED --rcv RST at RCV.NXT--> CLOSED (reset)", to_established, peer(seg{}.flags(tcp_flag::rst).seq(r1)),
       state::closed, sends_nothing, tcp::error::connection_reset},
      {"ESTABLISHED --rcv RST in window, not at RCV.NXT / snd challenge ACK--> ESTABLISHED", to_established,
       peer(seg{}.flags(tcp_flag::rst).seq(r1 + 100)), state::established, segment_with(tcp_flag::ack)},
      {"ESTABLISHED --rcv RST outside the window--> ESTABLISHED (dropped)", to_established,
       peer(seg{}.flags(tcp_flag::rst).seq(r1 + 1000000)), state::established, sends_nothing},
      {"ESTABLISHED --rcv SYN / snd challenge ACK--> ESTABLISHED", to_established,
       peer(seg{}.flags(tcp_flag::syn).seq(r1 + 5)), state::established, segment_with(tcp_flag::ack)},
      {"ESTABLISHED --ABORT / snd RST--> CLOSED", to_established, [](fixture& f) { f.conn.abort(f.now); },
       state::closed, segment_with(tcp_flag::rst), tcp::error::connection_aborted},
      {"ESTABLISHED --rcv ACK beyond SND.NXT / snd ACK--> ESTABLISHED", to_established,
       peer(seg{}.seq(r1).ack(local_iss + 1000)), state::established, segment_with(tcp_flag::ack)},
      {"ESTABLISHED --rcv segment without ACK--> ESTABLISHED (dropped)", to_established,
       peer(seg{}.seq(r1).payload("x")), state::established, sends_nothing},
      // FIN_WAIT_1
      {"FIN_WAIT_1 --rcv ACK of FIN--> FIN_WAIT_2", to_fin_wait_1, peer(seg{}.seq(r1).ack(local_iss + 2)),
       state::fin_wait_2, sends_nothing},
      {"FIN_WAIT_1 --rcv FIN / snd ACK--> CLOSING (simultaneous close)", to_fin_wait_1,
       peer(seg{}.flags(tcp_flag::fin).seq(r1).ack(l1)), state::closing, segment_with(tcp_flag::ack)},
      {"FIN_WAIT_1 --rcv FIN,ACK of FIN / snd ACK--> TIME_WAIT", to_fin_wait_1,
       peer(seg{}.flags(tcp_flag::fin).seq(r1).ack(local_iss + 2)), state::time_wait, segment_with(tcp_flag::ack)},
      {"FIN_WAIT_1 --rcv RST--> CLOSED (reset)", to_fin_wait_1, peer(seg{}.flags(tcp_flag::rst).seq(r1)), state::closed,
       sends_nothing, tcp::error::connection_reset},
      // FIN_WAIT_2
      {"FIN_WAIT_2 --rcv FIN / snd ACK--> TIME_WAIT", to_fin_wait_2,
       peer(seg{}.flags(tcp_flag::fin).seq(r1).ack(local_iss + 2)), state::time_wait, segment_with(tcp_flag::ack)},
      {"FIN_WAIT_2 --rcv RST--> CLOSED (reset)", to_fin_wait_2, peer(seg{}.flags(tcp_flag::rst).seq(r1)), state::closed,
       sends_nothing, tcp::error::connection_reset},
      {"FIN_WAIT_2 --timeout after a full close--> CLOSED", to_fin_wait_2,
       [](fixture& f) { f.advance(f.cfg.fin_wait_2_timeout); }, state::closed, sends_nothing},
      // CLOSE_WAIT
      {"CLOSE_WAIT --CLOSE / snd FIN--> LAST_ACK", to_close_wait, [](fixture& f) { f.conn.close(f.now); },
       state::last_ack, segment_with(tcp_flag::fin | tcp_flag::ack)},
      {"CLOSE_WAIT --rcv RST--> CLOSED (reset)", to_close_wait, peer(seg{}.flags(tcp_flag::rst).seq(remote_iss + 2)),
       state::closed, sends_nothing, tcp::error::connection_reset},
      // CLOSING
      {"CLOSING --rcv ACK of FIN--> TIME_WAIT", to_closing, peer(seg{}.seq(remote_iss + 2).ack(local_iss + 2)),
       state::time_wait, sends_nothing},
      {"CLOSING --rcv RST--> CLOSED", to_closing, peer(seg{}.flags(tcp_flag::rst).seq(remote_iss + 2)), state::closed,
       sends_nothing},
      // LAST_ACK
      {"LAST_ACK --rcv ACK of FIN--> CLOSED", to_last_ack, peer(seg{}.seq(remote_iss + 2).ack(local_iss + 2)),
       state::closed, sends_nothing},
      {"LAST_ACK --rcv RST--> CLOSED", to_last_ack, peer(seg{}.flags(tcp_flag::rst).seq(remote_iss + 2)), state::closed,
       sends_nothing},
      // TIME_WAIT
      {"TIME_WAIT --timeout=2MSL--> CLOSED", to_time_wait, [](fixture& f) { f.advance(2 * f.cfg.msl); }, state::closed,
       sends_nothing},
      {"TIME_WAIT --rcv retransmitted FIN / snd ACK--> TIME_WAIT", to_time_wait,
       peer(seg{}.flags(tcp_flag::fin).seq(r1).ack(local_iss + 2)), state::time_wait, segment_with(tcp_flag::ack)},
      {"TIME_WAIT --rcv RST--> CLOSED", to_time_wait, peer(seg{}.flags(tcp_flag::rst).seq(remote_iss + 2)),
       state::closed, sends_nothing},
  };

  std::array<std::uint64_t, state_count> entered{};
  for (const auto& t : table) {
    CAPTURE(t.name);
    fixture f;
    t.setup(f);
    t.event(f);
    CHECK(f.state() == t.to);
    CHECK(f.conn.last_error() == t.error);
    const auto out = f.poll();
    if (t.sends.any) {
      REQUIRE_MESSAGE(!out.empty(), t.name);
      CHECK(out.front().flags() == t.sends.flags);
    } else {
      CHECK_MESSAGE(out.empty(), t.name);
    }
    for (std::size_t i = 0; i < state_count; ++i) entered[i] += f.shared.stats.state_entered[i];
  }
  // The run entered every one of the 11 states (CLOSED is entered by the rows that end there).
  for (std::size_t i = 0; i < state_count; ++i) {
    CAPTURE(name(state_at(i)));
    CHECK(entered[i] > 0);
  }
}

// ---- §3.10.7.1 CLOSED

TEST_CASE("CLOSED: the RST reply mirrors the offending segment") {
  fixture f;
  f.recv(seg{}.seq(remote_iss).payload("hello").flags(tcp_flag::psh));
  auto rst = f.poll_one();
  CHECK(rst.flags() == (tcp_flag::rst | tcp_flag::ack));
  CHECK(rst.repr.seq == seq_number{0});
  CHECK(rst.repr.ack == remote_iss + 5);
  f.recv(seg{}.seq(remote_iss).ack(seq_number{4242}));
  rst = f.poll_one();
  CHECK(rst.flags() == tcp_flags{tcp_flag::rst});
  CHECK(rst.repr.seq == seq_number{4242});
}

// ---- Handshake details

TEST_CASE("SYN_RCVD: the SYN-ACK is retransmitted with backoff, then the attempt times out") {
  fixture f;
  to_syn_received(f);
  auto t0 = f.now;
  f.fire_next_timer();
  auto again = f.poll_one();
  CHECK(again.flags() == (tcp_flag::syn | tcp_flag::ack));
  CHECK(again.retransmission);
  CHECK(f.now - t0 == 1s); // RFC 6298 (2.1): initial RTO 1 s
  t0 = f.now;
  f.fire_next_timer();
  (void)f.poll_one();
  CHECK(f.now - t0 == 2s); // (5.5) backed off
  for (int i = 0; i < 10 && f.state() != state::closed; ++i) {
    f.fire_next_timer();
    (void)f.poll();
  }
  CHECK(f.state() == state::closed);
  CHECK(f.conn.last_error() == tcp::error::timed_out);
}

TEST_CASE("SYN_SENT: data in the SYN-ACK is delivered and acknowledged") {
  fixture f;
  to_syn_sent(f);
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).ack(local_iss + 1).payload("early"));
  CHECK(f.state() == state::established);
  auto ack = f.poll_one();
  CHECK(ack.repr.ack == remote_iss + 6);
  std::array<std::byte, 16> buf{};
  CHECK(f.conn.recv(buf) == 5);
  CHECK(as_chars(bytes_view{buf}.first(5)) == "early");
}

TEST_CASE("options: MSS, window scale, SACK and timestamps are negotiated only when both offer them") {
  tcp::config c = fixture::plain_config();
  c.window_scaling = c.timestamps = c.sack = true;
  c.recv_buffer = 1 << 20;
  SUBCASE("the peer offers everything") {
    fixture f{c};
    f.conn.listen();
    f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).mss(1200).wscale(9).sack_permitted().ts(500, 0));
    auto synack = f.poll_one();
    CHECK(synack.repr.options.mss == tcp::with_defaults(c).mss);
    REQUIRE(synack.repr.options.window_scale.has_value());
    CHECK(*synack.repr.options.window_scale == 5); // 1 MiB >> 5 fits in 16 bits
    CHECK(synack.repr.options.sack_permitted);
    REQUIRE(synack.repr.options.timestamps.has_value());
    CHECK(synack.repr.options.timestamps->tsecr == 500);
    const auto o = f.conn.options();
    CHECK(o.peer_mss == 1200);
    CHECK(o.send_mss == 1200 - 12); // RFC 7323: timestamps take 12 bytes of every segment
    CHECK(o.snd_wscale == 9);
    CHECK(o.sack);
    CHECK(o.timestamps);
  }
  SUBCASE("the peer offers nothing: defaults, and a shift above 14 is clamped") {
    fixture f{c};
    f.conn.listen();
    f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss));
    auto synack = f.poll_one();
    CHECK_FALSE(synack.repr.options.window_scale.has_value());
    CHECK_FALSE(synack.repr.options.sack_permitted);
    CHECK_FALSE(synack.repr.options.timestamps.has_value());
    CHECK(f.conn.options().peer_mss == 536); // RFC 9293 §3.7.1 default
    fixture g{c};
    g.conn.listen();
    g.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).wscale(20));
    CHECK(g.conn.options().snd_wscale == 14);
  }
  SUBCASE("our SYN offers what the config enables") {
    fixture f{c};
    f.conn.open(f.now);
    auto syn = f.poll_one();
    CHECK(syn.repr.options.mss == tcp::with_defaults(c).mss);
    CHECK(syn.repr.options.window_scale == std::optional<std::uint8_t>{5});
    CHECK(syn.repr.options.sack_permitted);
    CHECK(syn.repr.options.timestamps.has_value());
    CHECK(syn.repr.window == 65535); // RFC 7323 §2.2: not scaled in a SYN
  }
}

// ---- Data transfer

TEST_CASE("ESTABLISHED: data is delivered in order, acknowledged, and never delivered twice") {
  fixture f;
  to_established(f);
  auto r = remote_iss + 1;
  f.recv(seg{}.seq(r).ack(local_iss + 1).payload("abc"));
  f.recv(seg{}.seq(r).ack(local_iss + 1).payload("abc")); // duplicate: below RCV.NXT, unacceptable
  auto out = f.poll();
  REQUIRE(!out.empty());
  CHECK(out.back().repr.ack == r + 3);
  std::array<std::byte, 16> buf{};
  CHECK(f.conn.recv(buf) == 3);
  CHECK(as_chars(bytes_view{buf}.first(3)) == "abc");
  CHECK(f.conn.recv(buf) == 0);
  CHECK(f.shared.stats.out_of_window == 1); // answered with an ACK and dropped (§3.10.7.4)
}

TEST_CASE("ESTABLISHED: out-of-order data waits for the hole and is then delivered whole") {
  fixture f;
  to_established(f);
  auto r = remote_iss + 1;
  f.recv(seg{}.seq(r + 3).ack(local_iss + 1).payload("def"));
  auto dup = f.poll_one(); // immediate duplicate ACK (RFC 5681 §4.2)
  CHECK(dup.repr.ack == r);
  CHECK(f.conn.readable() == 0);
  f.recv(seg{}.seq(r).ack(local_iss + 1).payload("abc"));
  auto ack = f.poll_one(); // the hole is filled: immediate ACK of everything
  CHECK(ack.repr.ack == r + 6);
  std::array<std::byte, 16> buf{};
  REQUIRE(f.conn.recv(buf) == 6);
  CHECK(as_chars(bytes_view{buf}.first(6)) == "abcdef");
}

TEST_CASE("ESTABLISHED: SACK blocks report out-of-order data, newest first (RFC 2018 §4)") {
  tcp::config c = fixture::plain_config();
  c.sack = true;
  fixture f{c};
  f.conn.listen();
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).sack_permitted());
  (void)f.poll_one();
  auto r = remote_iss + 1;
  f.recv(seg{}.seq(r).ack(local_iss + 1));
  f.recv(seg{}.seq(r + 10).ack(local_iss + 1).payload("xx"));
  f.recv(seg{}.seq(r + 20).ack(local_iss + 1).payload("yy"));
  auto out = f.poll();
  REQUIRE(!out.empty());
  const auto& opts = out.back().repr.options;
  REQUIRE(opts.sack_count == 2);
  CHECK(opts.sack[0].left == r + 20);
  CHECK(opts.sack[0].right == r + 22);
  CHECK(opts.sack[1].left == r + 10);
}

TEST_CASE("ESTABLISHED: delayed ACK fires within the configured delay, and every second segment is acked") {
  fixture f;
  to_established(f);
  auto r = remote_iss + 1;
  const std::string full(1460, 'x');
  f.recv(seg{}.seq(r).ack(local_iss + 1).payload(full));
  f.expect_silence(); // one full segment: the ACK is delayed
  f.recv(seg{}.seq(r + 1460).ack(local_iss + 1).payload(full));
  auto ack = f.poll_one(); // second full-sized segment: ACK now
  CHECK(ack.repr.ack == r + 2920);
  f.recv(seg{}.seq(r + 2920).ack(local_iss + 1).payload("tiny"));
  f.expect_silence();
  const auto t0 = f.now;
  f.fire_next_timer();
  CHECK(f.now - t0 == f.cfg.delayed_ack);
  CHECK(f.poll_one().repr.ack == r + 2924);
}

TEST_CASE("ESTABLISHED: sent data is retransmitted on timeout and the RTO backs off") {
  fixture f;
  to_established(f);
  const std::string msg = "hello world";
  CHECK(f.conn.send(as_bytes(msg)) == msg.size());
  auto data = f.poll_one();
  CHECK(data.payload == msg);
  CHECK(data.repr.seq == local_iss + 1);
  CHECK(data.has(tcp_flag::psh));
  auto t0 = f.now;
  f.fire_next_timer();
  auto rtx = f.poll_one();
  CHECK(rtx.retransmission);
  CHECK(rtx.payload == msg);
  const auto first = f.now - t0;
  t0 = f.now;
  f.fire_next_timer();
  (void)f.poll_one();
  CHECK(f.now - t0 == 2 * first);
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1 + static_cast<std::uint32_t>(msg.size())));
  CHECK_FALSE(f.conn.next_deadline().has_value()); // all acknowledged: no timer (RFC 6298 §5.2)
  CHECK(f.conn.send_queued() == 0);
}

TEST_CASE("ESTABLISHED: data retransmissions run out and the connection times out") {
  tcp::config c = fixture::plain_config();
  c.max_retries = 3;
  fixture f{c};
  to_established(f);
  CHECK(f.conn.send(as_bytes(std::string_view{"x"})) == 1);
  (void)f.poll();
  for (int i = 0; i < 10 && f.state() != state::closed; ++i) {
    f.fire_next_timer();
    (void)f.poll();
  }
  CHECK(f.state() == state::closed);
  CHECK(f.conn.last_error() == tcp::error::timed_out);
  CHECK(f.shared.stats.retrans_segs == 3);
}

TEST_CASE("ESTABLISHED: never sends more than the peer's MSS or window") {
  fixture f;
  f.conn.listen();
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).mss(500).win(1200));
  (void)f.poll_one();
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1).win(1200));
  const std::string big(5000, 'z');
  CHECK(f.conn.send(as_bytes(big)) == 5000);
  auto out = f.poll();
  std::size_t total = 0;
  for (auto& s : out) {
    CHECK(s.payload.size() <= 500);
    total += s.payload.size();
  }
  // Two full segments; the 200-byte tail is held by sender SWS avoidance (RFC 1122 §4.2.3.4:
  // less than a full segment and less than half the peer's largest window).
  CHECK(total == 1000);
}

TEST_CASE("ESTABLISHED: Nagle holds a small segment while data is in flight, no-delay does not") {
  for (bool nodelay : {false, true}) {
    CAPTURE(nodelay);
    fixture f;
    to_established(f);
    f.conn.set_nodelay(nodelay);
    CHECK(f.conn.send(as_bytes(std::string_view{"a"})) == 1);
    CHECK(f.poll().size() == 1);
    CHECK(f.conn.send(as_bytes(std::string_view{"b"})) == 1);
    CHECK(f.poll().size() == (nodelay ? 1u : 0u));
    f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 2));
    CHECK(f.poll().size() == (nodelay ? 0u : 1u));
  }
}

TEST_CASE("zero window: the persist timer probes with backoff until the window opens") {
  fixture f;
  to_established(f);
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1).win(0));
  CHECK(f.conn.send(as_bytes(std::string_view{"data"})) == 4);
  f.expect_silence();
  auto t0 = f.now;
  f.fire_next_timer();
  auto probe = f.poll_one();
  CHECK(probe.repr.seq == local_iss); // SND.UNA - 1: outside the window, answered by an ACK
  CHECK(probe.payload.empty());
  const auto first = f.now - t0;
  t0 = f.now;
  f.fire_next_timer();
  (void)f.poll_one();
  CHECK(f.now - t0 == 2 * first);
  CHECK(f.shared.stats.zero_window_probes == 2);
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1).win(1000));
  auto data = f.poll_one();
  CHECK(data.payload == "data");
}

TEST_CASE("zero window: a configured user timeout ends a connection whose peer never opens") {
  tcp::config c = fixture::plain_config();
  c.user_timeout = 30s;
  fixture f{c};
  to_established(f);
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1).win(0));
  CHECK(f.conn.send(as_bytes(std::string_view{"data"})) == 4);
  f.expect_silence();
  for (int i = 0; i < 50 && f.state() != state::closed; ++i) {
    f.fire_next_timer();
    (void)f.poll();
    f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1).win(0)); // the peer answers every probe
  }
  CHECK(f.state() == state::closed);
  CHECK(f.conn.last_error() == tcp::error::timed_out);
}

TEST_CASE("receiver: the window shrinks as data waits and reopens with a window update") {
  tcp::config c = fixture::plain_config();
  c.recv_buffer = 4000;
  c.delayed_ack = 0s;
  fixture f{c};
  to_established(f);
  const std::string chunk(1000, 'q');
  for (int i = 0; i < 4; ++i) f.recv(seg{}.seq(remote_iss + 1 + 1000u * i).ack(local_iss + 1).payload(chunk));
  auto out = f.poll();
  REQUIRE(!out.empty());
  CHECK(out.back().repr.window == 0);
  // Data beyond a zero window is not acceptable: it is answered with an ACK and dropped.
  f.recv(seg{}.seq(remote_iss + 4001).ack(local_iss + 1).payload("overflow"));
  CHECK(f.poll_one().repr.ack == remote_iss + 4001);
  std::array<std::byte, 4000> buf{};
  CHECK(f.conn.recv(buf) == 4000);
  auto update = f.poll_one();
  CHECK(update.repr.window == 4000);
}

TEST_CASE("half-close: data still flows toward the side that sent FIN") {
  fixture g;
  to_established(g);
  g.conn.shutdown_write(g.now);
  CHECK(g.state() == state::fin_wait_1);
  (void)g.poll_one();
  g.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 2));
  CHECK(g.state() == state::fin_wait_2);
  g.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 2).payload("after our FIN"));
  std::array<std::byte, 32> buf{};
  CHECK(g.conn.recv(buf) == 13);
  CHECK(as_chars(bytes_view{buf}.first(13)) == "after our FIN");
  CHECK(g.state() == state::fin_wait_2);
}

TEST_CASE("close with unread data, or data after close, resets the connection (RFC 1122 §4.2.2.13)") {
  fixture f;
  to_established(f);
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1).payload("unread"));
  (void)f.poll();
  f.conn.close(f.now);
  CHECK(f.state() == state::closed);
  CHECK(f.poll_one().has(tcp_flag::rst));

  fixture g;
  to_fin_wait_2(g);
  g.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 2).payload("late"));
  CHECK(g.state() == state::closed);
  CHECK(g.poll_one().has(tcp_flag::rst));
  CHECK(g.shared.stats.data_after_close == 1);
}

TEST_CASE("RFC 5961: challenge ACKs are rate-limited per connection (and across the layer)") {
  fixture f;
  to_established(f);
  int acks = 0;
  for (int i = 0; i < 50; ++i) {
    f.recv(seg{}.flags(tcp_flag::rst).seq(remote_iss + 100 + i));
    acks += static_cast<int>(f.poll().size());
  }
  // One per challenge_ack_interval (500 ms) on a connection; the layer's budget is tested in
  // tests/sim/attack_test.cpp.
  CHECK(acks == 1);
  CHECK(f.state() == state::established);
  CHECK(f.shared.stats.challenge_acks_limited == 49);
  f.advance(400ms);
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss + 3));
  CHECK(f.poll().empty());
  f.advance(100ms);
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss + 3));
  CHECK(f.poll().size() == 1);
}

TEST_CASE("PAWS: a segment with an old timestamp is dropped and answered (RFC 7323 §5.3)") {
  tcp::config c = fixture::plain_config();
  c.timestamps = true;
  fixture f{c};
  f.conn.listen();
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).ts(1000, 0));
  (void)f.poll_one();
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1).ts(1001, 0));
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1).ts(2000, 0).payload("new"));
  (void)f.poll();
  f.recv(seg{}.seq(remote_iss + 4).ack(local_iss + 1).ts(1500, 0).payload("old"));
  CHECK(f.shared.stats.paws_rejected == 1);
  CHECK(f.conn.readable() == 3);
}

TEST_CASE("keep-alive: probes an idle connection and gives up after the configured count") {
  tcp::config c = fixture::plain_config();
  c.keepalive = true;
  c.keepalive_idle = 10s;
  c.keepalive_interval = 1s;
  c.keepalive_probes = 3;
  fixture f{c};
  to_established(f);
  const auto t0 = f.now;
  f.fire_next_timer();
  CHECK(f.now - t0 == 10s);
  auto probe = f.poll_one();
  CHECK(probe.repr.seq == local_iss); // SND.NXT - 1
  // An answer resets the count.
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1));
  for (int i = 0; i < 10 && f.state() != state::closed; ++i) {
    f.fire_next_timer();
    (void)f.poll();
  }
  CHECK(f.state() == state::closed);
  CHECK(f.conn.last_error() == tcp::error::timed_out);
  CHECK(f.shared.stats.keepalive_probes == 4);
}

TEST_CASE("sequence numbers wrap around 2^32 without harm") {
  fixture f;
  f.conn.listen();
  const seq_number near_wrap{0xfffffff0u};
  f.recv(seg{}.flags(tcp_flag::syn).seq(near_wrap));
  (void)f.poll_one();
  f.recv(seg{}.seq(near_wrap + 1).ack(local_iss + 1));
  REQUIRE(f.state() == state::established);
  const std::string a(40, 'a');
  f.recv(seg{}.seq(near_wrap + 1).ack(local_iss + 1).payload(a));
  (void)f.poll();
  CHECK(f.conn.readable() == 40);
  CHECK(f.conn.tcb().rcv_nxt == near_wrap + 41);
  CHECK(f.conn.tcb().rcv_nxt.raw() == 0x19u);
}

TEST_SUITE_END();
