// The input path against single forged or out-of-window segments (issue 12): what a segment
// that is dropped may change (nothing but counters and the ACK it earns), timestamps on a
// timestamped connection (RFC 7323 §3.2, §4.3, §5.3), the window of a SYN (RFC 7323 §2.2), the
// advertised window as the acceptance limit (RFC 9293 §3.10.7.4), and the one place a
// handshake completes. One connection driven by hand (connection_fixture.hpp).
#include "connection_fixture.hpp"

#include <array>

using namespace test_tcp;

namespace {

constexpr std::uint32_t smss = 1460;

auto ts_config() -> tcp::config {
  auto c = fixture::plain_config();
  c.timestamps = true;
  c.delayed_ack = 0s;
  return c;
}

/// An established connection with timestamps (passive open); the peer's TSval is 1000, then
/// 1001 on its ACK. Returns the TSval of our SYN-ACK (what the peer echoes).
auto to_established_ts(fixture& f) -> std::uint32_t {
  f.conn.listen();
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).mss(1460).ts(1000, 0));
  const auto synack = f.poll_one();
  REQUIRE(synack.repr.options.timestamps);
  const auto ecr = synack.repr.options.timestamps->tsval;
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1).ts(1001, ecr));
  REQUIRE(f.state() == state::established);
  REQUIRE(f.conn.options().timestamps);
  return ecr;
}

auto ts_recent(const fixture& f) -> std::uint32_t {
  return static_cast<std::uint32_t>(*f.conn.snapshot().get("ts_recent"));
}

} // namespace

TEST_SUITE_BEGIN("tcp.hardening");

TEST_CASE("TS.Recent is taken only from a segment that passes every check (RFC 7323 §4.3, §5.3 R3; RFC 5961 §5.2)") {
  fixture f{ts_config()};
  const auto ecr = to_established_ts(f);
  const auto r1 = remote_iss + 1;
  const auto l1 = local_iss + 1;
  REQUIRE(ts_recent(f) == 1001);
  const std::uint32_t ahead = 1001 + (1u << 30); // far ahead: every real TSval after it fails PAWS

  SUBCASE("no ACK bit (RFC 9293 §3.10.7.4 fifth: dropped)") { f.recv(seg{}.seq(r1).ts(ahead, ecr).payload("evil")); }
  SUBCASE("an ACK beyond SND.NXT (RFC 5961 §5.2: discarded, challenge ACK)") {
    f.recv(seg{}.seq(r1).ack(l1 + 100000).ts(ahead, ecr).payload("evil"));
  }
  SUBCASE("an ACK far below SND.UNA - MAX.SND.WND (RFC 5961 §5.2)") {
    f.recv(seg{}.seq(r1).ack(l1 - (1u << 30)).ts(ahead, ecr));
  }
  SUBCASE("a SYN at RCV.NXT (RFC 5961 §4.2: challenge ACK)") {
    f.recv(seg{}.flags(tcp_flag::syn).seq(r1).ts(ahead, ecr));
  }
  SUBCASE("a RST in the window, not at RCV.NXT (RFC 5961 §3.2: challenge ACK)") {
    f.recv(seg{}.flags(tcp_flag::rst).seq(r1 + 1).ts(ahead, ecr));
  }
  CHECK(f.state() == state::established);
  CHECK(f.conn.readable() == 0);
  CHECK(ts_recent(f) == 1001);
  (void)f.poll();
  // The peer's real next segment still passes PAWS, is taken, and its TSval becomes TS.Recent.
  f.recv(seg{}.seq(r1).ack(l1).ts(1002, ecr).payload("real"));
  CHECK(f.conn.readable() == 4);
  CHECK(f.shared.stats.paws_rejected == 0);
  CHECK(ts_recent(f) == 1002);
  const auto reply = f.poll_one();
  REQUIRE(reply.repr.options.timestamps);
  CHECK(reply.repr.options.timestamps->tsecr == 1002);
  CHECK(reply.repr.ack == r1 + 4);
}

TEST_CASE(
    "a segment without timestamps on a timestamped connection is dropped and counted; a RST is not "
    "(RFC 7323 §3.2)") {
  fixture f{ts_config()};
  const auto ecr = to_established_ts(f);
  const auto r1 = remote_iss + 1;
  const auto l1 = local_iss + 1;
  const auto& st = f.shared.stats;
  // Data, a pure ACK of new data and a FIN, all without TSopt: silently dropped (no ACK), on
  // the fast path and on the general path alike.
  REQUIRE(f.conn.send(as_bytes(std::string_view{"hello"})) == 5);
  (void)f.poll_one();
  f.recv(seg{}.seq(r1).ack(l1).payload("evil"));
  f.recv(seg{}.seq(r1).ack(l1 + 5));
  f.recv(seg{}.flags(tcp_flag::fin).seq(r1).ack(l1 + 5));
  CHECK(st.no_timestamp_drops == 3);
  CHECK(f.conn.readable() == 0);
  CHECK(f.conn.tcb().snd_una == l1);
  CHECK(f.state() == state::established);
  f.expect_silence();
  // The same with the option: taken.
  f.recv(seg{}.seq(r1).ack(l1 + 5).ts(1002, ecr).payload("good"));
  CHECK(f.conn.readable() == 4);
  CHECK(f.conn.tcb().snd_una == l1 + 5);
  (void)f.poll();
  // "A received <RST> segment MUST NOT be silently dropped based solely on the lack of a TSopt."
  f.recv(seg{}.flags(tcp_flag::rst).seq(r1 + 4));
  CHECK(f.state() == state::closed);
  CHECK(f.conn.last_error() == tcp::error::connection_reset);
  CHECK(st.no_timestamp_drops == 3);
}

TEST_CASE(
    "answers to zero-length out-of-window and PAWS-rejected segments are rate-limited per connection (RFC "
    "5961 §7)") {
  fixture f{ts_config()};
  const auto ecr = to_established_ts(f);
  const auto r1 = remote_iss + 1;
  const auto l1 = local_iss + 1;
  const auto& st = f.shared.stats;
  // 50 zero-length segments out of the window and 50 with an old TSval, within 100 ms: one ACK.
  std::size_t acks = 0;
  for (int i = 0; i < 50; ++i) {
    f.recv(seg{}.seq(r1 + 1000000 + static_cast<std::uint32_t>(i)).ack(l1).ts(1002, ecr));
    acks += f.poll().size();
    f.recv(seg{}.seq(r1).ack(l1).ts(10, ecr));
    acks += f.poll().size();
    f.now += 1ms;
  }
  CHECK(acks == 1);
  CHECK(st.oow_acks == 1);
  CHECK(st.oow_acks_limited == 99);
  CHECK(st.out_of_window == 50);
  CHECK(st.paws_rejected == 50);
  // A segment with text (most often a retransmission of what we have) is answered at once, as
  // Linux does: its sender waits for that ACK.
  f.recv(seg{}.seq(r1 - 10).ack(l1).ts(1002, ecr).payload("old"));
  CHECK(f.poll().size() == 1);
  CHECK(st.oow_acks == 2);
  // After the interval, a zero-length one is answered again.
  f.now += 500ms;
  f.recv(seg{}.seq(r1 - 10).ack(l1).ts(1002, ecr));
  CHECK(f.poll().size() == 1);
  CHECK(st.oow_acks == 3);
}

TEST_CASE("with SACK, only an ACK that SACKs new data counts as a duplicate (RFC 6675 §2); without SACK, RFC 5681") {
  for (const bool sack : {true, false}) {
    CAPTURE(sack);
    auto c = fixture::plain_config();
    c.sack = sack;
    fixture f{c};
    to_listen(f);
    auto syn = seg{}.flags(tcp_flag::syn).seq(remote_iss).mss(1460);
    if (sack) syn.sack_permitted();
    f.recv(syn);
    (void)f.poll_one();
    const auto r1 = remote_iss + 1;
    const auto l1 = local_iss + 1;
    f.recv(seg{}.seq(r1).ack(l1));
    REQUIRE(f.state() == state::established);
    REQUIRE(f.conn.options().sack == sack);
    const std::string data(8 * smss, 'd');
    REQUIRE(f.conn.send(as_bytes(std::string_view{data})) == data.size());
    REQUIRE(f.poll().size() >= 8);
    // Three ACKs that repeat SND.UNA, with nothing SACKed.
    for (int i = 0; i < 3; ++i) f.recv(seg{}.seq(r1).ack(l1));
    CHECK(f.shared.stats.fast_retransmits == (sack ? 0u : 1u));
    CHECK(f.conn.in_recovery() == !sack);
    if (sack) {
      // Three that SACK new data: a loss, retransmitted at once.
      for (std::uint32_t i = 1; i <= 3; ++i) f.recv(seg{}.seq(r1).ack(l1).sack(l1 + smss, l1 + smss * (i + 1)));
      CHECK(f.shared.stats.fast_retransmits == 1);
      CHECK(f.conn.in_recovery());
      const auto out = f.poll();
      REQUIRE(!out.empty());
      CHECK(out[0].repr.seq == l1);
      CHECK(out[0].retransmission);
    }
  }
}

TEST_CASE("simultaneous open: the window of the peer's SYN-ACK is not scaled (RFC 7323 §2.2)") {
  auto c = fixture::plain_config();
  c.window_scaling = true;
  fixture f{c};
  to_syn_sent(f);
  // The peer's SYN crosses ours: SYN-SENT -> SYN-RECEIVED, and we answer with a SYN-ACK.
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).mss(1460).wscale(3).win(65535));
  REQUIRE(f.state() == state::syn_received);
  CHECK(f.conn.tcb().snd_wnd == 65535);
  REQUIRE(f.poll_one().flags() == (tcp_flag::syn | tcp_flag::ack));
  // The peer's SYN-ACK: "The window field in a segment where the SYN bit is set (i.e., a <SYN>
  // or <SYN,ACK>) MUST NOT be scaled."
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).ack(local_iss + 1).mss(1460).wscale(3).win(65535));
  REQUIRE(f.state() == state::established);
  CHECK(f.conn.options().snd_wscale == 3);
  CHECK(f.conn.tcb().snd_wnd == 65535);
  // The next window update is scaled.
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1).win(10000));
  CHECK(f.conn.tcb().snd_wnd == 80000);
}

TEST_CASE(
    "a probe into a zero window that SWS avoidance keeps closed is ACKed, not taken (RFC 9293 §3.10.7.4, "
    "RFC 1122 §4.2.3.3)") {
  auto c = fixture::plain_config();
  c.recv_buffer = 4096;
  c.delayed_ack = 0s;
  fixture f{c};
  to_established(f);
  const auto r1 = remote_iss + 1;
  const auto l1 = local_iss + 1;
  // The peer fills the 4096-byte window.
  const std::string data(4096, 'z');
  std::uint32_t off = 0;
  std::uint16_t last_window = 1;
  while (off < data.size()) {
    const auto n = std::min<std::uint32_t>(smss, static_cast<std::uint32_t>(data.size()) - off);
    f.recv(seg{}.seq(r1 + off).ack(l1).payload(std::string_view{data}.substr(off, n)));
    off += n;
    const auto ack = f.poll_one();
    CHECK(ack.repr.ack == r1 + off);
    last_window = ack.repr.window;
  }
  CHECK(last_window == 0);
  // The application reads 100 bytes: 100 bytes of buffer are free, but less than an MSS, so
  // receiver SWS avoidance keeps the window closed (no update).
  std::array<std::byte, 100> buf{};
  REQUIRE(f.conn.recv(buf) == 100);
  f.expect_silence();
  REQUIRE(f.conn.tcb().rcv_wnd == 0);
  // A one-byte zero-window probe at RCV.NXT: acceptable (RCV.WND = 0 and SEG.SEQ = RCV.NXT), but
  // its text lies beyond the window we advertised: ACKed, not taken.
  f.recv(seg{}.seq(r1 + 4096).ack(l1).payload("p"));
  const auto reply = f.poll_one();
  CHECK(reply.repr.ack == r1 + 4096);
  CHECK(reply.repr.window == 0);
  CHECK(f.conn.readable() == 3996);
  CHECK(f.conn.tcb().rcv_nxt == r1 + 4096);
  CHECK(f.shared.stats.rcv_window_trimmed == 1);
  // A segment that runs past the advertised edge is trimmed to it: once the reader frees a full
  // segment's worth, the window opens and only that much is taken.
  std::array<std::byte, 2000> big{};
  REQUIRE(f.conn.recv(big) == 2000);
  const auto update = f.poll_one();
  const auto window = update.repr.window;
  CHECK(window == 2100);
  const std::string more(3000, 'm');
  f.recv(seg{}.seq(r1 + 4096).ack(l1).payload(more));
  CHECK(f.conn.tcb().rcv_nxt == r1 + 4096 + window);
  CHECK(f.conn.readable() == 1996u + window);
}

TEST_CASE(
    "close() in SYN-RECEIVED: the ACK of our SYN completes the handshake in FIN-WAIT-1 (connected, the SACK "
    "scoreboard, RFC 6298 (5.7), RFC 5681 §3.1)") {
  auto c = fixture::plain_config();
  c.sack = true;
  fixture f{c};
  to_syn_sent(f);
  // Our SYN is lost once: the timer resends it.
  f.fire_next_timer();
  REQUIRE(f.poll_one().retransmission);
  // Simultaneous open: the peer's SYN crosses ours.
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).mss(1460).sack_permitted());
  REQUIRE(f.state() == state::syn_received);
  REQUIRE(f.poll_one().flags() == (tcp_flag::syn | tcp_flag::ack));
  (void)f.conn.take_events();
  // The application queues data and closes before the handshake completes.
  const std::string data(4 * smss, 'q');
  REQUIRE(f.conn.send(as_bytes(std::string_view{data})) == data.size());
  f.conn.close(f.now);
  REQUIRE(f.state() == state::fin_wait_1);
  (void)f.conn.take_events();
  // The peer's SYN-ACK acknowledges our SYN.
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).ack(local_iss + 1).mss(1460).sack_permitted());
  CHECK(f.state() == state::fin_wait_1);
  CHECK(has(f.conn.take_events(), event::connected));
  const auto snap = f.conn.snapshot();
  CHECK(*snap.get("syn_acked") == 1);
  CHECK(*snap.get("sb_high_ack") == (local_iss + 1).raw()); // the scoreboard starts at SND.UNA
  // RFC 6298 (5.7): "the RTO MUST be re-initialized to 3 seconds"; RFC 5681 §3.1: one segment.
  CHECK(f.conn.tcb().rto == 3s);
  CHECK(f.conn.tcb().cwnd == smss);
  auto out = f.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload.size() == smss);
  CHECK(out[0].repr.seq == local_iss + 1);
}

TEST_CASE(
    "TIME-WAIT restarts its 2 MSL timer only for a retransmission of the peer's FIN (RFC 9293 §3.10.7.4; "
    "found by the connection fuzzer)") {
  fixture f;
  to_time_wait(f);
  const auto r1 = remote_iss + 1; // the peer's FIN was at r1: RCV.NXT = r1 + 1
  const auto l2 = local_iss + 2;  // our FIN is acknowledged: SND.NXT
  const auto deadline = f.conn.next_deadline();
  REQUIRE(deadline);
  f.now += 10s;
  // Segments that are not the peer's FIN again, each dropped: no ACK bit, an ACK beyond SND.NXT,
  // a FIN at another sequence number, a FIN after data it does not follow.
  f.recv(seg{}.flags(tcp_flag::fin).seq(r1));
  f.recv(seg{}.flags(tcp_flag::fin).seq(r1).ack(l2 + 100000));
  f.recv(seg{}.flags(tcp_flag::fin).seq(r1 - 5000).ack(l2));
  f.recv(seg{}.flags(tcp_flag::fin).seq(r1 + 70000).ack(l2));
  f.recv(seg{}.flags(tcp_flag::fin).seq(r1 - 3).ack(l2).payload("ab"));
  CHECK(f.conn.next_deadline() == deadline);
  // The retransmitted FIN (alone, or with the data before it): ACKed, and the timer restarts.
  (void)f.poll();
  f.now += 10s;
  f.recv(seg{}.flags(tcp_flag::fin).seq(r1 - 3).ack(l2).payload("abc"));
  CHECK(f.conn.next_deadline() == f.now + 2 * f.cfg.msl);
  CHECK(f.poll_one().repr.ack == r1 + 1);
  f.now += 10s;
  f.recv(seg{}.flags(tcp_flag::fin).seq(r1).ack(l2));
  CHECK(f.conn.next_deadline() == f.now + 2 * f.cfg.msl);
  CHECK(f.poll_one().repr.ack == r1 + 1);
  CHECK(f.state() == state::time_wait);
}

TEST_SUITE_END();
