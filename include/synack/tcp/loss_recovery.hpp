// synack/tcp/loss_recovery.hpp: a connection's loss recovery, as a component of its own.
//
// Read first: RFC 5681 §2 and §3.2 (duplicate ACKs, fast retransmit and fast recovery), RFC
// 6582 §3 (NewReno partial acknowledgments), RFC 6675 (SACK-based loss recovery), RFC 6298 §5
// (what a retransmission timeout does), RFC 2018 §8.
//
// Two halves, kept apart so that another detector (RACK-TLP, RFC 8985) can replace the first
// without touching the second:
//   - detection: which ACK is a duplicate (is_duplicate(): RFC 5681 §2 without SACK, RFC 6675
//     §2 with it) and when a loss is declared (loss_detected(): DupThresh duplicate ACKs, or
//     IsLost(SND.UNA) with SACK; RFC 6675 §5 step (1) and (4), RFC 5681 §3.2 step 2);
//   - response: what the sender does then, and what it sends again. The fast-recovery episode
//     (enter_recovery(), partial ACKs and the exit in on_new_ack(); RFC 6582 §3.2, RFC 6675 §5),
//     the go-back-N episode after a timeout (on_rto(); RFC 6298 §5.4, RFC 5681 §3.1), the
//     congestion controller's hooks in the order the RFCs call them (congestion/controller.hpp),
//     and, for the output path, which bytes to resend: head_retransmission() (the first
//     unacknowledged segment), next_go_back_n() and next_sack_segment() (RFC 6675 NextSeg()).
//
// It owns the state of both: the RFC 6675 scoreboard (which also holds the fast-recovery
// episode without SACK: its recovery point is RFC 6582's "recover"), the duplicate-ACK count,
// the go-back-N episode, the retransmission of the first unacknowledged segment that is due, and
// the count of timeouts in a row. It never sends and never reads a clock; the connection calls it
// from its input path (tcp/input.hpp) and asks it, in its output path (tcp/output.hpp), what to
// send again. It reads the sender's sequence space through `sender_state`, a view the connection
// builds for each call.
//
// Calls, in the connection:
//   handshake complete:        start(SND.UNA, SMSS)
//   every acceptable ACK:      auto u = update(SEG.ACK, sack_blocks, SND.NXT)      // RFC 6675 §4
//                              if SND.UNA advanced: on_new_ack(cc, now, s, acked, u.left_recovery)
//                              detect_loss(cc, now, s, is_duplicate(s.sack, u, rfc5681_duplicate))
//   the retransmission timer:  on_rto(cc, now, s, syn_acked)
//   poll_transmit:             head_retransmission(SMSS) / on_head_sent()
//                              next_go_back_n(s, cwnd) / on_go_back_n_sent(n)
//                              next_sack_segment(s, cwnd, sendable_new) / on_sack_segment_sent(seg, n)
//                              holds_new_data(sack, SND.NXT): new data waits while a resend is under way
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>

#include "synack/tcp/sack_scoreboard.hpp"
#include "synack/time/instant.hpp"
#include "synack/wire/seq_number.hpp"

namespace synack::tcp {

/// What loss recovery reads of the sender, filled in by the connection for each call.
struct sender_state {
  wire::seq_number snd_una; // SND.UNA (RFC 6675 HighACK + 1)
  wire::seq_number snd_nxt; // SND.NXT (RFC 6675 HighData + 1)
  std::uint32_t smss = 536; // the payload of a full-sized segment we send (Eff.snd.MSS)
  bool sack = false;        // SACK is in use (RFC 2018 §2): RFC 6675 recovery, else RFC 6582

  /// RFC 5681 §2 FlightSize: "The amount of data that has been sent but not yet cumulatively
  /// acknowledged."
  constexpr auto flight_size() const noexcept -> std::uint32_t { return static_cast<std::uint32_t>(snd_nxt - snd_una); }
};

/// A range of sequence space to send again: [seq, seq + len).
struct resend_range {
  wire::seq_number seq;
  std::uint32_t len = 0;
};

template <class Scoreboard = sack_scoreboard>
class loss_recovery {
public:
  using scoreboard_type = Scoreboard;
  /// RFC 5681 §3.2 and RFC 6675 §2 DupThresh: 3 duplicate ACKs.
  static constexpr std::uint32_t dup_thresh = Scoreboard::dup_thresh;

  // ---------------------------------------------------------------------------------------
  // Set-up

  /// The handshake completed: the scoreboard starts at SND.UNA, with the sender's SMSS.
  void start(wire::seq_number snd_una, std::uint32_t smss) noexcept {
    m_sb.reset(snd_una);
    m_sb.set_smss(smss);
  }
  /// The SMSS changed (the path MTU, RFC 1191): IsLost() and NextSeg() count in segments.
  void set_smss(std::uint32_t smss) noexcept { m_sb.set_smss(smss); }
  /// Where a go-back-N resend would start (a connection that starts synchronized, from a SYN
  /// cookie, sets it to its SND.UNA).
  void set_rtx_nxt(wire::seq_number s) noexcept { m_rtx_nxt = s; }

  // ---------------------------------------------------------------------------------------
  // Detection

  /// Whether an acceptable ACK is a duplicate ACK. Without SACK, RFC 5681 §2's five conditions
  /// (`rfc5681_duplicate`, see is_duplicate_ack() in tcp/sack_scoreboard.hpp). With SACK, RFC
  /// 6675 §2: "we define a "duplicate acknowledgment" as a segment that arrives carrying a SACK
  /// block that identifies previously unacknowledged and un-SACKed octets between HighACK and
  /// HighData. Note that an ACK which carries new SACK data is counted as a duplicate
  /// acknowledgment under this definition even if it carries new data, changes the advertised
  /// window, or moves the cumulative acknowledgment point, which is different from the
  /// definition of duplicate acknowledgment in [RFC5681]." An ACK that repeats SND.UNA with no
  /// new SACK information is none: a receiver with a hole SACKs what arrives above it, so such
  /// an ACK (a window update, the answer to an old duplicate or to a forged segment) says
  /// nothing about loss. Counted as duplicates, the answers a blind attacker draws from the
  /// peer made us fast-retransmit data the peer already had (tests/sim/attack_test.cpp).
  static constexpr auto is_duplicate(bool sack, const sack_update& u, bool rfc5681_duplicate) noexcept -> bool {
    return sack ? u.is_rfc6675_duplicate() : rfc5681_duplicate;
  }

  /// RFC 6675 §4 Update(), on every acceptable ACK: marks what the ACK acknowledges or SACKs,
  /// and ends a recovery whose point is reached (§5 (A)). `blocks` is empty without SACK.
  auto update(wire::seq_number ack, std::span<const sack_block> blocks, wire::seq_number snd_nxt) noexcept
      -> sack_update {
    return m_sb.update(ack, blocks, snd_nxt);
  }

  /// The loss signal: RFC 6675 §5 "(DupAcks >= DupThresh) or IsLost(HighACK + 1)" (with SACK),
  /// RFC 5681 §3.2 step 2 "When the third duplicate ACK is received" (without). This is the
  /// rule RACK-TLP (RFC 8985) replaces.
  auto loss_detected(const sender_state& s) const noexcept -> bool {
    return m_dup_acks >= dup_thresh || (s.sack && m_sb.is_lost(s.snd_una));
  }

  /// After an acceptable ACK was processed (SND.UNA, SND.NXT and the window are up to date):
  /// counts a duplicate ACK and starts a fast recovery when a loss is detected. Returns true
  /// when it did (a fast retransmit is due).
  template <class Congestion>
  auto detect_loss(Congestion& cc, instant now, const sender_state& s, bool dup_ack) -> bool {
    if (dup_ack) ++m_dup_acks;
    if (m_sb.in_recovery()) {
      // RFC 5681 §3.2 step 4 (which RFC 6582 keeps): "For each additional duplicate ACK
      // received (after the third), cwnd MUST be incremented by SMSS." With SACK, RFC 6675's
      // pipe replaces the inflation.
      if (dup_ack && !s.sack) cc.on_recovery_dup_ack(now);
      return false;
    }
    // Not during the go-back-N of a timeout (RFC 6582 §3.2 step 4's "recover", RFC 6675 §5.1),
    // and not with nothing outstanding (RFC 5681 §2 (a)).
    if (m_rto_recovery || s.flight_size() == 0) return false;
    // RFC 6675 §5: recovery starts "If no previous loss event has occurred on the connection or
    // the cumulative acknowledgment point is beyond the last value of RecoveryPoint"; RFC 6582
    // §3.2 step 2 guards with "recover" the same way (may_enter_recovery()).
    if (!loss_detected(s) || !m_sb.may_enter_recovery()) return false;
    enter_recovery(cc, now, s);
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Response, on the input path

  /// SND.UNA advanced by `acked` (> 0) to `s.snd_una`; `left_recovery`: update() saw this ACK
  /// reach the recovery point. Ends or continues the episodes, and calls the congestion
  /// controller's recovery hooks. Returns true when the ACK is outside any fast recovery: the
  /// caller grows the window (the controller's on_ack, RFC 5681 §3.1).
  template <class Congestion>
  auto on_new_ack(Congestion& cc, instant now, const sender_state& s, std::uint32_t acked, bool left_recovery) -> bool {
    if (m_rtx_nxt < s.snd_una) m_rtx_nxt = s.snd_una;
    m_retries = 0;
    m_dup_acks = 0;
    bool outside = false;
    if (left_recovery) {
      // RFC 6582 §3.2 step 3, "Full acknowledgments": "If this ACK acknowledges all of the data
      // up to and including recover, then ... Set cwnd to either (1) min (ssthresh,
      // max(FlightSize, SMSS) + SMSS) or (2) ssthresh"; RFC 6675 §5 (A) ends SACK recovery the
      // same way.
      cc.on_recovery_exit(now, s.flight_size());
    } else if (m_sb.in_recovery()) {
      if (!s.sack) {
        // RFC 6582 §3.2 step 3, "Partial acknowledgments": "retransmit the first unacknowledged
        // segment ... deflate the congestion window by the amount of new data acknowledged ...
        // If the partial ACK acknowledges at least one SMSS of new data, then add back SMSS
        // bytes"
        cc.on_partial_ack(now, acked);
        retransmit_head(s.smss);
      }
    } else {
      // The go-back-N of a timeout ends once SND.UNA reaches SND.NXT of the timeout.
      if (m_rto_recovery && s.snd_una >= m_rto_recover) m_rto_recovery = false;
      outside = true;
    }
    // Everything outstanding is acknowledged: nothing is left to resend.
    if (s.snd_una == s.snd_nxt) m_rto_recovery = false;
    return outside;
  }

  /// The retransmission timer expired and the connection goes on (RFC 6298 §5.4 - §5.6).
  /// Before the handshake completed (`syn_acked` false) the SYN is resent. After it, RFC 5681
  /// §3.1 eq. (4) "ssthresh = max (FlightSize / 2, 2*SMSS)" and "cwnd = 1 SMSS" (the
  /// controller's on_rto), and go-back-N from SND.UNA (RFC 6298 §5.4 "Retransmit the earliest
  /// segment that has not been acknowledged"), up to SND.NXT of now; RFC 6582 §3.2 step 4:
  /// recover = the highest sequence sent, so the duplicate ACKs of the resent window do not
  /// start a fast retransmit.
  template <class Congestion>
  void on_rto(Congestion& cc, instant now, const sender_state& s, bool syn_acked) {
    ++m_retries;
    if (!syn_acked) {
      m_rtx_due = true;
      return;
    }
    cc.on_rto(now, s.flight_size());
    m_rto_recovery = true;
    m_rtx_nxt = s.snd_una;
    m_rto_recover = s.snd_nxt;
    m_dup_acks = 0;
    // RFC 6675 §5.1: end any recovery, RecoveryPoint = HighData, and no new recovery before
    // SND.UNA reaches it; RFC 2018 §8: "after a retransmit timeout the data sender SHOULD turn
    // off all of the SACKed bits", since the receiver may have reneged.
    m_sb.on_rto(s.snd_nxt);
  }

  /// The first unacknowledged segment is to be sent again (the SYN or SYN-ACK, a segment the
  /// path MTU found too big), with at most `len` bytes of data (0: one SMSS).
  void retransmit_head(std::uint32_t len) noexcept {
    m_rtx_due = true;
    m_rtx_len = len;
  }
  /// The same, keeping the length asked for before (a SYN carries no data).
  void retransmit_head() noexcept { m_rtx_due = true; }
  /// Nothing is to be resent any more (the connection closed).
  void cancel_head() noexcept { m_rtx_due = false; }

  // ---------------------------------------------------------------------------------------
  // Response, on the output path: what to send again

  /// The first unacknowledged segment, when its retransmission is due: its data length at most.
  auto head_retransmission(std::uint32_t smss) const noexcept -> std::optional<std::uint32_t> {
    if (!m_rtx_due) return std::nullopt;
    return m_rtx_len ? m_rtx_len : smss;
  }
  void on_head_sent() noexcept {
    m_rtx_due = false;
    m_rtx_len = 0;
  }

  /// RFC 6298 §5.4 and RFC 5681 §3.1: after a timeout the window restarts from one segment and
  /// the unacknowledged data is sent again in order as the window opens (go-back-N), skipping
  /// what the receiver SACKed since. The next range, or nothing (no episode, all resent, or no
  /// room in `cwnd`).
  auto next_go_back_n(const sender_state& s, std::uint32_t cwnd) noexcept -> std::optional<resend_range> {
    if (!m_rto_recovery) return std::nullopt;
    m_rtx_nxt = skip_sacked(m_rtx_nxt);
    if (!(m_rtx_nxt < s.snd_nxt) || static_cast<std::uint32_t>(m_rtx_nxt - s.snd_una) >= cwnd) return std::nullopt;
    return resend_range{m_rtx_nxt, std::min<std::uint32_t>(s.smss, unsacked_run(m_rtx_nxt, s.snd_nxt))};
  }
  /// `n` bytes of sequence space from next_go_back_n() left.
  void on_go_back_n_sent(std::uint32_t n) noexcept { m_rtx_nxt += n; }

  /// RFC 6675 §5 step (C): "If cwnd - pipe >= 1 SMSS, the sender SHOULD transmit one or more
  /// segments as follows: (C.1) The scoreboard MUST be queried via NextSeg () for the sequence
  /// number range of the next segment to transmit (if any)". Only during SACK recovery (and not
  /// during go-back-N). `sendable_new`: bytes of new data the receiver's window allows (rule
  /// (2) of NextSeg is new data, which the caller sends without Nagle: recovery sends full
  /// segments).
  auto next_sack_segment(const sender_state& s, std::uint32_t cwnd, std::uint32_t sendable_new) const noexcept
      -> std::optional<next_segment> {
    if (m_rto_recovery || !sack_recovery(s.sack)) return std::nullopt;
    if (!(cwnd >= m_sb.pipe(s.snd_nxt) + s.smss)) return std::nullopt;
    return m_sb.next_seg(s.snd_nxt, sendable_new);
  }
  /// `n` bytes of sequence space of `seg` (from next_sack_segment()) left: (C.2) HighRxt, or
  /// RescueRxt for rule (4).
  void on_sack_segment_sent(next_segment seg, std::uint32_t n) noexcept {
    seg.len = std::min(seg.len, n);
    m_sb.on_sent(seg);
  }

  /// Whether new data must wait: during SACK recovery NextSeg() decides what is sent (new data
  /// included); during go-back-N the resend goes first, until it reaches SND.NXT.
  auto holds_new_data(bool sack, wire::seq_number snd_nxt) const noexcept -> bool {
    return sack_recovery(sack) || (m_rto_recovery && m_rtx_nxt < snd_nxt);
  }
  /// The data in the network, for the congestion window: RFC 6675 §4 SetPipe() during SACK
  /// recovery, FlightSize otherwise (RFC 5681 §3.1).
  auto in_flight(const sender_state& s) const noexcept -> std::uint32_t {
    return sack_recovery(s.sack) ? m_sb.pipe(s.snd_nxt) : s.flight_size();
  }
  /// A retransmission left (counted for connection::retransmissions()).
  void on_retransmission_sent() noexcept { ++m_retransmitted; }

  // ---------------------------------------------------------------------------------------
  // State

  /// A fast recovery (RFC 6582 or RFC 6675) is under way.
  auto in_recovery() const noexcept -> bool { return m_sb.in_recovery(); }
  auto sack_recovery(bool sack) const noexcept -> bool { return sack && m_sb.in_recovery(); }
  /// The go-back-N of a timeout is under way.
  auto rto_recovery() const noexcept -> bool { return m_rto_recovery; }
  auto rtx_due() const noexcept -> bool { return m_rtx_due; }
  auto rtx_len() const noexcept -> std::uint32_t { return m_rtx_len; }
  auto rtx_nxt() const noexcept -> wire::seq_number { return m_rtx_nxt; }
  auto rto_recover() const noexcept -> wire::seq_number { return m_rto_recover; }
  auto dup_acks() const noexcept -> std::uint32_t { return m_dup_acks; }
  /// Timeouts in a row (reset by an ACK of new data).
  auto retries() const noexcept -> std::uint8_t { return m_retries; }
  auto retransmitted() const noexcept -> std::uint64_t { return m_retransmitted; }
  auto scoreboard() const noexcept -> const Scoreboard& { return m_sb; }

private:
  /// RFC 6675 §5 step (4): "(4.1) RecoveryPoint = HighData", (4.2) the controller's
  /// on_congestion_event (RFC 5681 §3.2 step 2, eq. (4)), and (4.3) / RFC 5681 §3.2 step 2:
  /// retransmit the first segment presumed lost (up to the first SACKed byte).
  template <class Congestion>
  void enter_recovery(Congestion& cc, instant now, const sender_state& s) {
    cc.on_congestion_event(now, s.flight_size());
    // RFC 5681 §3.2 step 3: without SACK, "cwnd = ssthresh + 3*SMSS" inflates the window by
    // the three segments that left the network; RFC 6675's pipe accounts for them instead.
    if (!s.sack) {
      for (std::uint32_t i = 0; i < dup_thresh; ++i) cc.on_recovery_dup_ack(now);
    }
    const auto first = m_sb.enter_recovery(s.snd_nxt);
    retransmit_head(first.len);
  }

  /// The first byte at or after `s` the receiver has not SACKed (go-back-N skips SACKed data).
  auto skip_sacked(wire::seq_number s) const noexcept -> wire::seq_number {
    for (const auto& r : m_sb.ranges())
      if (r.left <= s && s < r.right) s = r.right;
    return s;
  }
  /// How many bytes from `s` can be resent before reaching SACKed data (or SND.NXT).
  auto unsacked_run(wire::seq_number s, wire::seq_number snd_nxt) const noexcept -> std::uint32_t {
    wire::seq_number end = snd_nxt;
    for (const auto& r : m_sb.ranges())
      if (s < r.left && r.left < end) end = r.left;
    return end > s ? static_cast<std::uint32_t>(end - s) : 0u;
  }

  // RFC 6675 scoreboard. It also keeps the fast-recovery episode for both SACK and NewReno
  // recovery: its recovery point is RFC 6582's "recover", and after an RTO it holds off a new
  // recovery until SND.UNA reaches SND.NXT of the RTO (RFC 6582 §3.2 step 4, RFC 6675 §5.1).
  Scoreboard m_sb;
  std::uint32_t m_dup_acks = 0;   // duplicate ACKs in a row (RFC 5681 §3.2, RFC 6675 DupAcks)
  bool m_rtx_due = false;         // the first unacknowledged segment is to be sent again
  std::uint32_t m_rtx_len = 0;    // ... with at most this much data (0: one SMSS)
  bool m_rto_recovery = false;    // go-back-N after a timeout: resending from m_rtx_nxt
  wire::seq_number m_rtx_nxt;     // the next sequence number go-back-N resends
  wire::seq_number m_rto_recover; // SND.NXT when the timer expired: go-back-N ends there
  std::uint8_t m_retries = 0;     // timeouts in a row
  std::uint64_t m_retransmitted = 0;
};

} // namespace synack::tcp
