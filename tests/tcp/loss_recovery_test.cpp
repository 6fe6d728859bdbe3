// Tests for include/synack/tcp/loss_recovery.hpp, driven directly (no connection): the
// scenarios of RFC 5681 §3.2 (fast retransmit and fast recovery), RFC 6582 §3.2 (NewReno
// partial and full acknowledgments, "recover" after a timeout), RFC 6675 §5 (SACK recovery:
// IsLost, NextSeg, pipe) and RFC 6298 §5.4 (go-back-N after a timeout), with the NewReno
// controller reacting as those RFCs say. The harness calls the component as tcp/input.hpp and
// tcp/output.hpp do.
#include <doctest/doctest.h>

#include <initializer_list>
#include <optional>
#include <vector>

#include "synack/tcp/congestion/new_reno.hpp"
#include "synack/tcp/loss_recovery.hpp"

using synack::instant;
using synack::tcp::congestion_config;
using synack::tcp::loss_recovery;
using synack::tcp::new_reno;
using synack::tcp::sack_block;
using synack::tcp::sender_state;
using synack::wire::seq_number;

namespace {

constexpr std::uint32_t S = 1000; // SMSS in these tests
auto sq(std::uint32_t v) -> seq_number { return seq_number{v}; }
auto blk(std::uint32_t l, std::uint32_t r) -> sack_block { return {sq(l), sq(r)}; }

/// A sender around the component: SND.UNA, SND.NXT, a NewReno controller, and the calls the
/// connection makes for each ACK.
struct sender {
  loss_recovery<> lr;
  new_reno cc;
  seq_number una = sq(1000);
  seq_number nxt = sq(1000);
  bool sack;
  instant now = instant::from_millis(1000);
  int fast_retransmits = 0;

  explicit sender(bool with_sack) : cc(config()), sack(with_sack) { lr.start(una, S); }

  static auto config() -> congestion_config {
    congestion_config c;
    c.smss = S;
    c.initial_window = 10 * S;
    return c;
  }
  auto state() const -> sender_state { return sender_state{una, nxt, S, sack}; }
  void send(std::uint32_t segments) { nxt += segments * S; }

  /// An ACK at `ack` (SND.UNA or beyond) with SACK blocks, processed as tcp/input.hpp does.
  /// `rfc5681_dup`: it meets RFC 5681 §2's five conditions (used without SACK). Returns
  /// whether the ACK was outside any fast recovery (the controller's on_ack ran).
  auto ack(seq_number a, std::initializer_list<sack_block> blocks = {}, bool rfc5681_dup = false) -> bool {
    const std::vector<sack_block> b(blocks);
    const auto u = lr.update(a, sack ? std::span<const sack_block>{b} : std::span<const sack_block>{}, nxt);
    bool outside = false;
    if (a > una) {
      const auto acked = static_cast<std::uint32_t>(a - una);
      una = a;
      outside = lr.on_new_ack(cc, now, state(), acked, u.left_recovery);
      if (outside) cc.on_ack(now, acked, std::nullopt, state().flight_size());
    }
    if (lr.detect_loss(cc, now, state(), loss_recovery<>::is_duplicate(sack, u, rfc5681_dup))) ++fast_retransmits;
    return outside;
  }
  /// A duplicate ACK in RFC 5681 §2's sense (no data, SND.UNA again, same window).
  void dup_ack(std::initializer_list<sack_block> blocks = {}) { ack(una, blocks, una != nxt); }
};

void check_range(const std::optional<synack::tcp::resend_range>& r, std::uint32_t seq, std::uint32_t len) {
  REQUIRE(r);
  CHECK(r->seq == sq(seq));
  CHECK(r->len == len);
}

} // namespace

TEST_SUITE_BEGIN("tcp.loss_recovery");

TEST_CASE("RFC 5681 §3.2: the third duplicate ACK starts fast retransmit; more inflate cwnd") {
  sender s{false};
  s.send(10); // FlightSize 10 SMSS, cwnd the initial 10 SMSS
  s.dup_ack();
  s.dup_ack();
  CHECK(s.lr.dup_acks() == 2);
  CHECK_FALSE(s.lr.in_recovery());
  CHECK_FALSE(s.lr.head_retransmission(S));
  // Step 2: "When the third duplicate ACK is received, a TCP MUST set ssthresh to no more than
  // the value given in equation (4)" and "retransmit the lost segment"; step 3: "cwnd =
  // ssthresh + 3*SMSS".
  s.dup_ack();
  CHECK(s.fast_retransmits == 1);
  CHECK(s.lr.in_recovery());
  CHECK(s.lr.head_retransmission(S) == S); // the segment at SND.UNA
  CHECK(s.cc.ssthresh() == 5 * S);         // max(FlightSize / 2, 2*SMSS)
  CHECK(s.cc.cwnd() == 8 * S);
  s.lr.on_head_sent();
  CHECK_FALSE(s.lr.head_retransmission(S));
  // Step 4: "For each additional duplicate ACK received (after the third), cwnd MUST be
  // incremented by SMSS." No second fast retransmit.
  s.dup_ack();
  s.dup_ack();
  CHECK(s.cc.cwnd() == 10 * S);
  CHECK(s.fast_retransmits == 1);
  CHECK_FALSE(s.lr.head_retransmission(S));
}

TEST_CASE("RFC 5681 §2 (a): duplicate ACKs without outstanding data start nothing") {
  sender s{false};
  for (int i = 0; i < 5; ++i) s.ack(s.una, {}, true); // a peer repeating its ACK, nothing in flight
  CHECK(s.lr.dup_acks() == 5);
  CHECK(s.fast_retransmits == 0);
  CHECK_FALSE(s.lr.in_recovery());
  // The first ACK of new data starts the count over.
  s.send(4);
  s.ack(s.una + S);
  CHECK(s.lr.dup_acks() == 0);
}

TEST_CASE("RFC 6582 §3.2: a partial ACK resends the next segment and deflates; the full ACK ends recovery") {
  sender s{false};
  s.send(10); // [1000, 11000): recover will be 11000
  for (int i = 0; i < 3; ++i) s.dup_ack();
  REQUIRE(s.lr.in_recovery());
  CHECK(s.lr.scoreboard().recovery_point() == sq(11000));
  s.lr.on_head_sent();
  CHECK(s.cc.cwnd() == 8 * S);
  // Step 3, "Partial acknowledgments: If this ACK does *not* acknowledge all of the data up to
  // and including recover, then this is a partial ACK. In this case, retransmit the first
  // unacknowledged segment. Deflate the congestion window by the amount of new data
  // acknowledged by the Cumulative Acknowledgment field. If the partial ACK acknowledges at
  // least one SMSS of new data, then add back SMSS bytes to the congestion window."
  CHECK_FALSE(s.ack(sq(3000)));
  CHECK(s.lr.in_recovery());
  CHECK(s.lr.head_retransmission(S) == S);
  CHECK(s.cc.cwnd() == 8 * S - 2 * S + S);
  CHECK(s.lr.dup_acks() == 0);
  s.lr.on_head_sent();
  // "Full acknowledgments: If this ACK acknowledges all of the data up to and including recover,
  // then set cwnd to ... (1) min (ssthresh, max(FlightSize, SMSS) + SMSS)". Nothing is
  // outstanding here: 2 SMSS.
  CHECK_FALSE(s.ack(sq(11000)));
  CHECK_FALSE(s.lr.in_recovery());
  CHECK_FALSE(s.lr.head_retransmission(S));
  CHECK(s.cc.cwnd() == 2 * S);
  // The next ACK of new data is outside recovery again: the window grows (RFC 5681 §3.1).
  s.send(2);
  CHECK(s.ack(sq(12000)));
}

TEST_CASE("RFC 6582 §3.2 step 4 and RFC 6298 §5.4: after a timeout, go-back-N, and no fast retransmit before recover") {
  sender s{false};
  s.send(10); // [1000, 11000)
  s.lr.on_rto(s.cc, s.now, s.state(), true);
  CHECK(s.lr.retries() == 1);
  CHECK(s.lr.rto_recovery());
  CHECK(s.lr.rto_recover() == sq(11000)); // "record the highest sequence number transmitted"
  // RFC 5681 §3.1: ssthresh by eq. (4), cwnd = LW = 1 SMSS.
  CHECK(s.cc.ssthresh() == 5 * S);
  CHECK(s.cc.cwnd() == S);
  // RFC 6298 §5.4: "Retransmit the earliest segment that has not been acknowledged": go-back-N
  // within cwnd, and new data waits.
  const auto cwnd = [&] { return static_cast<std::uint32_t>(s.cc.cwnd()); };
  check_range(s.lr.next_go_back_n(s.state(), cwnd()), 1000, S);
  s.lr.on_go_back_n_sent(S);
  CHECK_FALSE(s.lr.next_go_back_n(s.state(), cwnd()));
  CHECK(s.lr.holds_new_data(false, s.nxt));
  // The duplicate ACKs the resent window draws start no fast retransmit (RFC 6582 §3.2 step 4:
  // the sender "does not enter fast retransmit" while the ACK does not cover "recover").
  for (int i = 0; i < 4; ++i) s.dup_ack();
  CHECK(s.fast_retransmits == 0);
  CHECK_FALSE(s.lr.in_recovery());
  // An ACK of new data: slow start opens the window (cwnd 2 SMSS), go-back-N goes on.
  CHECK(s.ack(sq(2000)));
  CHECK(s.lr.retries() == 0);
  CHECK(s.cc.cwnd() == 2 * S);
  check_range(s.lr.next_go_back_n(s.state(), cwnd()), 2000, S);
  s.lr.on_go_back_n_sent(S);
  check_range(s.lr.next_go_back_n(s.state(), cwnd()), 3000, S);
  s.lr.on_go_back_n_sent(S);
  CHECK_FALSE(s.lr.next_go_back_n(s.state(), cwnd()));
  // SND.UNA reaches recover: the episode ends, new data may go.
  s.ack(sq(11000));
  CHECK_FALSE(s.lr.rto_recovery());
  CHECK_FALSE(s.lr.holds_new_data(false, s.nxt));
  CHECK_FALSE(s.lr.next_go_back_n(s.state(), cwnd()));
  // Three duplicate ACKs now start a fast retransmit again.
  s.send(10);
  for (int i = 0; i < 3; ++i) s.dup_ack();
  CHECK(s.fast_retransmits == 1);
}

TEST_CASE("RFC 6675 §2: with SACK, a duplicate ACK is one that SACKs new data") {
  sender s{true};
  s.send(10);
  s.dup_ack({blk(2000, 3000)});
  CHECK(s.lr.dup_acks() == 1);
  // The same information again (a window update, the answer to a forged segment): no duplicate.
  s.dup_ack({blk(2000, 3000)});
  s.dup_ack();
  CHECK(s.lr.dup_acks() == 1);
  s.dup_ack({blk(2000, 3500)});
  CHECK(s.lr.dup_acks() == 2);
  CHECK(s.fast_retransmits == 0);
  // "an ACK which carries new SACK data is counted as a duplicate acknowledgment under this
  // definition even if it ... moves the cumulative acknowledgment point": the count restarts at
  // the new SND.UNA, then this ACK counts.
  s.ack(sq(1500), {blk(2000, 4000)});
  CHECK(s.lr.dup_acks() == 1);
}

TEST_CASE("RFC 6675 §5: IsLost(HighACK + 1) starts recovery before DupThresh duplicate ACKs") {
  sender s{true};
  s.send(10); // [1000, 11000)
  // One ACK SACKs three segments above a one-segment hole: more than (DupThresh - 1) * SMSS
  // bytes above SND.UNA are SACKed, so IsLost(SND.UNA) is true after one duplicate ACK.
  s.dup_ack({blk(2000, 5000)});
  CHECK(s.lr.dup_acks() == 1);
  CHECK(s.lr.loss_detected(s.state()));
  CHECK(s.fast_retransmits == 1);
  CHECK(s.lr.in_recovery());
  CHECK(s.lr.sack_recovery(true));
  // (4.2) cwnd = ssthresh (RFC 6675's pipe, not RFC 5681's inflation, counts what left).
  CHECK(s.cc.ssthresh() == 5 * S);
  CHECK(s.cc.cwnd() == 5 * S);
  // (4.3) "Retransmit the first data segment presumed dropped": [1000, 2000), up to the SACK.
  CHECK(s.lr.head_retransmission(S) == S);
  CHECK(s.lr.scoreboard().high_rxt() == sq(2000));
}

TEST_CASE("RFC 6675 §5 (C): NextSeg() resends the lost holes, then new data, while cwnd - pipe >= SMSS") {
  sender s{true};
  s.send(10);                                // [1000, 11000)
  s.dup_ack({blk(3000, 11000)});             // [1000, 3000) lost, the rest SACKed
  REQUIRE(s.lr.in_recovery());               // IsLost(1000): 8 SMSS SACKed above it
  REQUIRE(s.lr.head_retransmission(S) == S); // [1000, 2000) by (4.3)
  s.lr.on_head_sent();
  const auto cwnd = static_cast<std::uint32_t>(s.cc.cwnd()); // 5 SMSS
  // SetPipe(): the hole is lost, only the retransmitted [1000, 2000) is in the network.
  CHECK(s.lr.in_flight(s.state()) == S);
  // Rule (1): the rest of the lost hole.
  auto next = s.lr.next_sack_segment(s.state(), cwnd, 5 * S);
  REQUIRE(next);
  CHECK(next->seq == sq(2000));
  CHECK(next->len == S);
  CHECK(next->rule == 1);
  s.lr.on_sack_segment_sent(*next, S);
  CHECK(s.lr.scoreboard().high_rxt() == sq(3000));
  CHECK(s.lr.in_flight(s.state()) == 2 * S);
  // Rule (2): new data, as long as cwnd - pipe >= 1 SMSS: three segments.
  int fresh = 0;
  while (auto n = s.lr.next_sack_segment(s.state(), cwnd, 5 * S)) {
    CHECK(n->rule == 2);
    CHECK(n->seq == s.nxt);
    s.nxt += n->len; // the caller advances SND.NXT over new data
    s.lr.on_sack_segment_sent(*n, n->len);
    ++fresh;
    REQUIRE(fresh <= 10);
  }
  CHECK(fresh == 3);
  CHECK(s.lr.in_flight(s.state()) == 5 * S);
  CHECK(s.lr.holds_new_data(true, s.nxt)); // outside NextSeg, new data waits for the recovery
  // (A): the cumulative ACK of RecoveryPoint (11000) ends recovery: cwnd = min(ssthresh,
  // max(FlightSize, SMSS) + SMSS) with 3 SMSS still outstanding.
  CHECK_FALSE(s.ack(sq(11000)));
  CHECK_FALSE(s.lr.in_recovery());
  CHECK(s.cc.cwnd() == 4 * S);
  CHECK_FALSE(s.lr.next_sack_segment(s.state(), cwnd, 5 * S));
  CHECK(s.lr.in_flight(s.state()) == 3 * S); // FlightSize again
}

TEST_CASE("RFC 6298 §5.4 with SACK: go-back-N forgets the SACKs before the timeout and skips those after it") {
  sender s{true};
  s.send(10); // [1000, 11000)
  s.dup_ack({blk(5000, 6000)});
  REQUIRE_FALSE(s.lr.in_recovery());
  s.lr.on_rto(s.cc, s.now, s.state(), true);
  // RFC 2018 §8: "after a retransmit timeout the data sender SHOULD turn off all of the SACKed
  // bits".
  CHECK(s.lr.scoreboard().ranges().empty());
  check_range(s.lr.next_go_back_n(s.state(), 10 * S), 1000, S);
  s.lr.on_go_back_n_sent(S);
  // What the receiver SACKs after the timeout is skipped; a resend stops at SACKed data.
  s.dup_ack({blk(2000, 4000), blk(4500, 6000)});
  CHECK(s.fast_retransmits == 0); // no fast retransmit during go-back-N
  check_range(s.lr.next_go_back_n(s.state(), 10 * S), 4000, 500);
  s.lr.on_go_back_n_sent(500);
  check_range(s.lr.next_go_back_n(s.state(), 10 * S), 6000, S);
  // RFC 6675 §5.1: no new recovery before SND.UNA reaches RecoveryPoint = HighData of the RTO.
  CHECK_FALSE(s.lr.scoreboard().may_enter_recovery());
}

TEST_CASE("go-back-N resumes at SND.UNA when an ACK covers more than was resent") {
  sender s{false};
  s.send(10); // [1000, 11000)
  s.lr.on_rto(s.cc, s.now, s.state(), true);
  check_range(s.lr.next_go_back_n(s.state(), 10 * S), 1000, S);
  s.lr.on_go_back_n_sent(S);
  // The receiver had [2000, 6000) out of order: the resend of [1000, 2000) fills the hole and
  // its ACK covers all of it. Nothing below SND.UNA is resent.
  s.ack(sq(6000));
  CHECK(s.lr.rtx_nxt() == sq(6000));
  check_range(s.lr.next_go_back_n(s.state(), 10 * S), 6000, S);
}

TEST_CASE("a timeout before the handshake completed resends the SYN; an ACK of new data resets the count") {
  sender s{false};
  s.nxt = s.una + 1; // the SYN
  s.lr.on_rto(s.cc, s.now, s.state(), false);
  s.lr.on_rto(s.cc, s.now, s.state(), false);
  CHECK(s.lr.retries() == 2);
  CHECK_FALSE(s.lr.rto_recovery()); // nothing to go back over: the SYN alone is resent
  CHECK(s.lr.head_retransmission(S) == S);
  CHECK(s.cc.cwnd() == 10 * S); // the controller's on_rto is for data (RFC 5681 §3.1)
  s.lr.on_head_sent();
  s.ack(s.una + 1);
  CHECK(s.lr.retries() == 0);
}

TEST_CASE("the first unacknowledged segment: a length asked for is kept until it is sent") {
  loss_recovery<> lr;
  CHECK_FALSE(lr.head_retransmission(S));
  lr.retransmit_head(500); // "fragmentation needed": one segment in the new size
  lr.retransmit_head();    // and the SYN-ACK owed again: the same request
  CHECK(lr.head_retransmission(S) == 500u);
  lr.on_head_sent();
  CHECK_FALSE(lr.head_retransmission(S));
  CHECK(lr.rtx_len() == 0);
  lr.retransmit_head();
  CHECK(lr.head_retransmission(S) == S);
  lr.cancel_head();
  CHECK_FALSE(lr.head_retransmission(S));
  lr.on_retransmission_sent();
  CHECK(lr.retransmitted() == 1);
}

TEST_SUITE_END();
