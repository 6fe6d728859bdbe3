// synack/tcp/sack_scoreboard.hpp: the RFC 6675 sender scoreboard, and RFC 5681's duplicate ACK.
//
// Read first: RFC 6675 (Conservative Loss Recovery Algorithm Based on SACK), RFC 2018 (SACK),
// RFC 5681 §2-§3.2.
//
// Conventions. RFC 6675 names bytes inclusively; here every edge is exclusive, like SND.NXT:
//   high_ack()          = SND.UNA     (RFC "HighACK + 1": the first unacknowledged byte)
//   HighData            = SND.NXT     (RFC "HighData + 1"; passed in as `snd_nxt`)
//   high_rxt()          = one past the highest byte retransmitted in this recovery
//   recovery_point()    = SND.NXT when recovery began (RFC "RecoveryPoint + 1"); recovery ends
//                         when an ACK reaches it
//   rescue_rxt()        = RFC RescueRxt + 1
// A SACK block is [left, right), right being RFC 2018 §3's "Right Edge of Block": "the
// sequence number immediately following the last sequence number of this block".
//
// Contract
// - The scoreboard remembers at most N SACKed ranges (template parameter, default 32), sorted
//   and disjoint, inline: no allocation, every operation O(N). When a new range would be the
//   (N+1)th, the range updated least recently is forgotten: those bytes look un-SACKed again,
//   which can only cause a spurious retransmission, never a stall. (Merging ranges to make room
//   would mark unreceived bytes as SACKed, and they would then never be retransmitted before an
//   RTO, so we never coarsen.) `dropped_ranges()` counts these events.
// - SACK blocks come from the network and are validated (RFC 2018 §3 semantics, and RFC 5961's
//   spirit of not trusting what an attacker can forge): at most 4 blocks per ACK are read
//   (40 option bytes hold 4), a block with left >= right or right > SND.NXT is rejected (the
//   receiver cannot have data we never sent), a block entirely below the cumulative ACK is
//   ignored (stale, or an RFC 2883 D-SACK, which we do not use), and a block straddling the
//   cumulative ACK is trimmed to it. Overlapping blocks merge.
// - SACKed data is advisory: RFC 6675 §4 Update(): "SACKed data MUST NOT be removed from the
//   TCP's retransmission buffer until the data is cumulatively acknowledged". The connection
//   keeps the bytes in its send buffer until SND.UNA passes them.
//
// Use in loss recovery (tcp/loss_recovery.hpp, the sender's side, SACK permitted)
//   auto r = sb.update(seg.ack, blocks, snd_nxt);       // every ACK (§5); r.left_recovery
//   if (!sb.in_recovery() && (dupacks >= 3 || sb.is_lost(sb.high_ack())) && sb.may_enter_recovery())
//     { cc.on_congestion_event(...); auto s = sb.enter_recovery(snd_nxt); send(s); }    // (4)
//   while (in recovery && cwnd - sb.pipe(snd_nxt) >= smss)                               // (C)
//     if (auto s = sb.next_seg(snd_nxt, sendable_new)) { send(*s); sb.on_sent(*s); } else break;
//   on RTO: sb.on_rto(snd_nxt)                                                           // §5.1
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "synack/wire/seq_number.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::tcp {

/// A SACK block [left, right) (RFC 2018 §3): the wire layer's type, so blocks parsed from an
/// ACK's options are passed as they are.
using sack_block = wire::sack_block;

/// What the connection knows about an incoming ACK, for RFC 5681 §2's definition.
struct dup_ack_facts {
  bool outstanding_data = false; // SND.NXT != SND.UNA (data, SYN or FIN not yet acknowledged)
  std::size_t seg_len = 0;       // payload bytes in the incoming segment
  bool syn = false;
  bool fin = false;
  wire::seq_number seg_ack;   // SEG.ACK
  wire::seq_number snd_una;   // the greatest acknowledgment received so far
  std::uint32_t seg_wnd = 0;  // window of this ACK (scaled or not, like last_wnd)
  std::uint32_t last_wnd = 0; // window of the previous incoming ACK
};

/// RFC 5681 §2: "An acknowledgment is considered a "duplicate" in the following algorithms when
/// (a) the receiver of the ACK has outstanding data, (b) the incoming acknowledgment carries no
/// data, (c) the SYN and FIN bits are both off, (d) the acknowledgment number is equal to the
/// greatest acknowledgment received on the given connection (TCP.UNA from [RFC793]) and (e) the
/// advertised window in the incoming acknowledgment equals the advertised window in the last
/// incoming acknowledgment."
/// With SACK, RFC 6675 §2 also counts an ACK whose SACK blocks cover new data (see
/// sack_update::newly_sacked) "even if it carries new data, changes the advertised window, or
/// moves the cumulative acknowledgment point".
constexpr auto is_duplicate_ack(const dup_ack_facts& f) noexcept -> bool {
  return f.outstanding_data && f.seg_len == 0 && !f.syn && !f.fin && f.seg_ack == f.snd_una && f.seg_wnd == f.last_wnd;
}

/// What one ACK did to the scoreboard.
struct sack_update {
  std::uint32_t newly_acked = 0;    // bytes SND.UNA advanced
  std::uint32_t newly_sacked = 0;   // bytes SACKed for the first time (RFC 6675 §2 duplicate if > 0)
  std::uint8_t accepted_blocks = 0; // blocks used
  std::uint8_t rejected_blocks = 0; // blocks refused as invalid (forged or broken)
  bool left_recovery = false;       // this ACK reached the recovery point (RFC 6675 §5 (A))

  /// RFC 6675 §2's duplicate acknowledgment: the ACK SACKed octets not SACKed before.
  constexpr auto is_rfc6675_duplicate() const noexcept -> bool { return newly_sacked > 0; }
};

/// A segment NextSeg() chose: [seq, seq + len), and which rule of RFC 6675 §4 chose it.
struct next_segment {
  wire::seq_number seq;
  std::uint32_t len = 0;
  std::uint8_t rule = 0; // 1: lost, 2: new data, 3: unSACKed but not yet lost, 4: rescue
  constexpr auto end() const noexcept -> wire::seq_number { return seq + len; }
  constexpr auto is_retransmission() const noexcept -> bool { return rule != 2; }
};

template <std::size_t N = 32>
class basic_sack_scoreboard {
  static_assert(N >= 1, "the scoreboard needs room for at least one range");

public:
  /// RFC 6675 §2: "DupThresh: The number of duplicate acknowledgments required to trigger a
  /// fast retransmission." It takes RFC 5681's value, 3 duplicate ACKs.
  static constexpr std::uint32_t dup_thresh = 3;
  /// SACK blocks read from one ACK: 40 option bytes hold at most 4 (RFC 2018 §3).
  static constexpr std::size_t max_blocks_per_ack = 4;
  static constexpr std::size_t max_ranges = N;

  explicit basic_sack_scoreboard(wire::seq_number snd_una = {}, std::uint32_t smss = 536) noexcept
      : m_una(snd_una), m_high_rxt(snd_una), m_smss(std::max<std::uint32_t>(smss, 1)) {}

  /// Starts over at `snd_una` (e.g. when the connection is established).
  void reset(wire::seq_number snd_una) noexcept { *this = basic_sack_scoreboard{snd_una, m_smss}; }
  void set_smss(std::uint32_t smss) noexcept { m_smss = std::max<std::uint32_t>(smss, 1); }

  /// RFC 6675 §4 Update(): "Given the information provided in an ACK, each octet that is
  /// cumulatively ACKed or SACKed should be marked accordingly in the scoreboard data
  /// structure, and the total number of octets SACKed should be recorded." Called for every
  /// acceptable ACK (SND.UNA <= ack <= SND.NXT, checked by the connection; an ACK beyond
  /// `snd_nxt` is ignored whole). Also ends recovery when the ACK reaches the recovery point.
  auto update(wire::seq_number ack, std::span<const sack_block> blocks, wire::seq_number snd_nxt) noexcept
      -> sack_update {
    sack_update r;
    if (ack > snd_nxt) {
      r.rejected_blocks = static_cast<std::uint8_t>(std::min(blocks.size(), max_blocks_per_ack));
      return r;
    }
    if (ack > m_una) {
      r.newly_acked = static_cast<std::uint32_t>(ack - m_una);
      advance(ack);
    }
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      if (i >= max_blocks_per_ack) {
        ++r.rejected_blocks;
        continue;
      }
      auto [left, right] = blocks[i];
      if (!(left < right) || right > snd_nxt) { // nonsense or beyond what we sent
        ++r.rejected_blocks;
        continue;
      }
      if (right <= m_una) continue; // stale (or D-SACK): nothing to learn
      left = wire::max(left, m_una);
      r.newly_sacked += insert(left, right);
      ++r.accepted_blocks;
    }
    // RFC 6675 §5 (A): "An incoming cumulative ACK for a sequence number greater than
    // RecoveryPoint signals the end of loss recovery, and the loss recovery phase MUST be
    // terminated. Any information contained in the scoreboard for sequence numbers greater
    // than the new value of HighACK SHOULD NOT be cleared when leaving the loss recovery phase."
    if (m_in_recovery && m_una >= m_recovery_point) {
      m_in_recovery = false;
      r.left_recovery = true;
    }
    // The hold after an RTO ends here too, while the comparison means something: a recovery
    // point left 2^31 bytes behind would compare as ahead again (sequence space is circular).
    if (m_rto_hold && m_una >= m_recovery_point) m_rto_hold = false;
    return r;
  }

  /// RFC 6675 §4 IsLost(SeqNum): "This routine returns whether the given sequence number is
  /// considered to be lost. The routine returns true when either DupThresh discontiguous SACKed
  /// sequences have arrived above 'SeqNum' or more than (DupThresh - 1) * SMSS bytes with
  /// sequence numbers greater than 'SeqNum' have been SACKed. Otherwise, the routine returns
  /// false." We read "discontiguous SACKed sequences" as our disjoint SACKed ranges above the
  /// byte (each one at least one segment the receiver got); small segments are also covered by
  /// the DupAcks >= DupThresh test of §5 step (1), which the connection does.
  auto is_lost(wire::seq_number s) const noexcept -> bool {
    std::size_t ranges_above = 0;
    std::uint64_t bytes_above = 0;
    for (std::size_t k = 0; k < m_count; ++k) {
      const auto& b = m_ranges[k];
      if (b.right <= s + 1) continue; // no byte greater than s
      if (b.left > s) ++ranges_above;
      bytes_above += static_cast<std::uint32_t>(b.right - wire::max(b.left, s + 1));
    }
    return ranges_above >= dup_thresh || bytes_above > std::uint64_t{dup_thresh - 1} * m_smss;
  }

  /// RFC 6675 §4 SetPipe(): "After initializing pipe to zero, the following steps are taken
  /// for each octet 'S1' in the sequence space between HighACK and HighData that has not been
  /// SACKed:
  ///   (a) If IsLost (S1) returns false: Pipe is incremented by 1 octet. ...
  ///   (b) If S1 <= HighRxt: Pipe is incremented by 1 octet. ...
  /// Note that octets retransmitted without being considered lost are counted twice by the
  /// above mechanism." IsLost is the same for every byte of one hole (no SACKed byte lies
  /// inside it), so this walks holes, not bytes: O(N).
  auto pipe(wire::seq_number snd_nxt) const noexcept -> std::uint32_t {
    std::uint64_t pipe = 0;
    for_each_hole(snd_nxt, [&](wire::seq_number a, wire::seq_number b, bool lost) {
      if (!lost) pipe += static_cast<std::uint32_t>(b - a);                                 // (a)
      if (a < m_high_rxt) pipe += static_cast<std::uint32_t>(wire::min(b, m_high_rxt) - a); // (b)
    });
    return static_cast<std::uint32_t>(pipe);
  }

  /// RFC 6675 §4 NextSeg(): the next segment to send during recovery, or nothing ("NextSeg ()
  /// MUST indicate failure, and no segment is returned"). `sendable_new` is how many bytes of
  /// new data could be sent now (unsent bytes, limited by the receiver's window). The
  /// connection checks "cwnd - pipe >= 1 SMSS" (§5 (C)) before asking. Segments never extend
  /// into SACKed data. Does not change state: call on_sent() after sending.
  ///  (1) "If there exists a smallest unSACKed sequence number 'S2' that meets the following
  ///      three criteria for determining loss, the sequence range of one segment of up to SMSS
  ///      octets starting with S2 MUST be returned.
  ///        (1.a) S2 is greater than HighRxt.
  ///        (1.b) S2 is less than the highest octet covered by any received SACK.
  ///        (1.c) IsLost (S2) returns true."
  ///  (2) "If no sequence number 'S2' per rule (1) exists but there exists available unsent data
  ///      and the receiver's advertised window allows, the sequence range of one segment of up
  ///      to SMSS octets of previously unsent data starting with sequence number HighData+1 MUST
  ///      be returned."
  ///  (3) "If the conditions for rules (1) and (2) fail, but there exists an unSACKed sequence
  ///      number 'S3' that meets the criteria for detecting loss given in steps (1.a) and (1.b)
  ///      above (specifically excluding step (1.c)), then one segment of up to SMSS octets
  ///      starting with S3 SHOULD be returned."
  ///  (4) "If the conditions for (1), (2), and (3) fail, but there exists outstanding unSACKed
  ///      data, we provide the opportunity for a single "rescue" retransmission per entry into
  ///      loss recovery. If HighACK is greater than RescueRxt (or RescueRxt is undefined), then
  ///      one segment of up to SMSS octets that MUST include the highest outstanding unSACKed
  ///      sequence number SHOULD be returned, and RescueRxt set to RecoveryPoint. HighRxt MUST
  ///      NOT be updated."  (Rule 4 is only offered in recovery.)
  auto next_seg(wire::seq_number snd_nxt, std::uint32_t sendable_new) const noexcept -> std::optional<next_segment> {
    const auto top = highest_sacked();
    std::optional<next_segment> rule3;
    std::optional<next_segment> found;
    for_each_hole(snd_nxt, [&](wire::seq_number a, wire::seq_number b, bool lost) {
      if (found) return;
      const auto s = wire::max(a, m_high_rxt);     // (1.a)
      if (!(s < b) || !top || !(s < *top)) return; // (1.b): holes below the highest SACK only
      const auto seg = next_segment{s, std::min(m_smss, static_cast<std::uint32_t>(b - s)), 1};
      if (lost) { // (1.c)
        found = seg;
      } else if (!rule3) {
        rule3 = next_segment{seg.seq, seg.len, 3};
      }
    });
    if (found) return found;
    if (sendable_new > 0) return next_segment{snd_nxt, std::min(m_smss, sendable_new), 2};
    if (rule3) return rule3;
    if (m_in_recovery && (!m_rescue_rxt || m_una > *m_rescue_rxt)) {
      // The highest outstanding unSACKed byte ends the last hole.
      std::optional<next_segment> last;
      for_each_hole(snd_nxt, [&](wire::seq_number a, wire::seq_number b, bool) {
        const auto len = std::min(m_smss, static_cast<std::uint32_t>(b - a));
        last = next_segment{b - len, len, 4};
      });
      if (last) return last;
    }
    return std::nullopt;
  }

  /// After sending what next_seg() (or enter_recovery()) returned. RFC 6675 §5 (C.2): "If any
  /// of the data octets sent in (C.1) are below HighData, HighRxt MUST be set to the highest
  /// sequence number of the retransmitted segment unless NextSeg () rule (4) was invoked for
  /// this retransmission." Rule (4) sets RescueRxt to RecoveryPoint instead. (C.3), HighData,
  /// is the connection's SND.NXT.
  void on_sent(const next_segment& s) noexcept {
    if (s.rule == 4) {
      m_rescue_rxt = m_recovery_point;
    } else if (s.rule == 1 || s.rule == 3) {
      m_high_rxt = wire::max(m_high_rxt, s.end());
    }
  }

  /// Whether a new recovery may start now: not already in one, and RFC 6675 §5.1: after an RTO
  /// "a new recovery phase (as described in Section 5) MUST NOT be initiated until HighACK is
  /// greater than or equal to the new value of RecoveryPoint."
  auto may_enter_recovery() const noexcept -> bool {
    return !m_in_recovery && (!m_rto_hold || m_una >= m_recovery_point);
  }

  /// RFC 6675 §5 step (4): enter loss recovery and return the first retransmission.
  ///  (4.1) "RecoveryPoint = HighData. When the TCP sender receives a cumulative ACK for this
  ///        data octet, the loss recovery phase is terminated."
  ///  (4.2) ssthresh and cwnd: the congestion controller's on_congestion_event().
  ///  (4.3) "Retransmit the first data segment presumed dropped -- the segment starting with
  ///        sequence number HighACK + 1. To prevent repeated retransmission of the same data or
  ///        a premature rescue retransmission, set both HighRxt and RescueRxt to the highest
  ///        sequence number in the retransmitted segment."
  /// The returned segment (rule 1) has already been accounted; do not call on_sent() for it.
  auto enter_recovery(wire::seq_number snd_nxt) noexcept -> next_segment {
    m_in_recovery = true;
    m_rto_hold = false;
    m_recovery_point = snd_nxt;
    auto end = snd_nxt;
    // Up to the first SACKed byte. (A range starting at SND.UNA itself contradicts the ACK;
    // then the segment at SND.UNA is sent whole, as (4.3) says.)
    if (m_count > 0 && m_una < m_ranges[0].left && m_ranges[0].left < end) end = m_ranges[0].left;
    const auto len = std::min(m_smss, static_cast<std::uint32_t>(end - m_una));
    const next_segment s{m_una, len, 1};
    m_high_rxt = s.end();
    m_rescue_rxt = s.end();
    return s;
  }

  /// Ends recovery without the recovery point being reached (the connection gave up on it).
  void exit_recovery() noexcept { m_in_recovery = false; }

  /// The retransmission timer expired. RFC 6675 §5.1: "If an RTO occurs during loss recovery as
  /// specified in this document, RecoveryPoint MUST be set to HighData. Further, the new value
  /// of RecoveryPoint MUST be preserved and the loss recovery algorithm outlined in this
  /// document MUST be terminated." We hold off the next recovery until SND.UNA reaches it in
  /// every case (not only during recovery), and forget all SACK information: after a timeout
  /// the receiver may have reneged (RFC 2018 §8 asks the sender to ignore earlier SACK
  /// information then; RFC 6675 §5.1 speaks of "SACK information was expunged due to the
  /// RTO"). ACKs after the RTO fill the scoreboard again (Update() "SHOULD continue to be used").
  void on_rto(wire::seq_number snd_nxt) noexcept {
    m_in_recovery = false;
    m_rto_hold = true;
    m_recovery_point = snd_nxt;
    m_count = 0;
    m_high_rxt = m_una;
    m_rescue_rxt.reset();
  }

  auto in_recovery() const noexcept -> bool { return m_in_recovery; }
  /// SND.UNA as the scoreboard last saw it (RFC HighACK + 1).
  auto high_ack() const noexcept -> wire::seq_number { return m_una; }
  auto high_rxt() const noexcept -> wire::seq_number { return m_high_rxt; }
  auto rescue_rxt() const noexcept -> std::optional<wire::seq_number> { return m_rescue_rxt; }
  auto recovery_point() const noexcept -> wire::seq_number { return m_recovery_point; }
  auto smss() const noexcept -> std::uint32_t { return m_smss; }

  /// The SACKed ranges above SND.UNA, sorted.
  auto ranges() const noexcept -> std::span<const sack_block> { return {m_ranges.data(), m_count}; }
  /// The end of the highest SACKed range, if any.
  auto highest_sacked() const noexcept -> std::optional<wire::seq_number> {
    if (m_count == 0) return std::nullopt;
    return m_ranges[m_count - 1].right;
  }
  /// Total SACKed bytes above SND.UNA.
  auto sacked_bytes() const noexcept -> std::uint32_t {
    std::uint32_t n = 0;
    for (std::size_t k = 0; k < m_count; ++k) n += static_cast<std::uint32_t>(m_ranges[k].right - m_ranges[k].left);
    return n;
  }
  /// Whether byte `s` has been SACKed.
  auto is_sacked(wire::seq_number s) const noexcept -> bool {
    for (std::size_t k = 0; k < m_count; ++k)
      if (m_ranges[k].left <= s && s < m_ranges[k].right) return true;
    return false;
  }
  /// How many times a range was forgotten because N were already held.
  auto dropped_ranges() const noexcept -> std::uint64_t { return m_dropped; }

private:
  // Cumulative ACK: forget everything below `ack`.
  void advance(wire::seq_number ack) noexcept {
    m_una = ack;
    std::size_t out = 0;
    for (std::size_t k = 0; k < m_count; ++k) {
      if (m_ranges[k].right <= ack) continue;
      m_ranges[out] = {wire::max(m_ranges[k].left, ack), m_ranges[k].right};
      m_stamps[out] = m_stamps[k];
      ++out;
    }
    m_count = out;
    if (m_high_rxt < ack) m_high_rxt = ack;
  }

  // Adds [left, right) (valid, above SND.UNA); returns the bytes that were not SACKed before.
  auto insert(wire::seq_number left, wire::seq_number right) noexcept -> std::uint32_t {
    // Ranges [i, j) overlap or touch the block.
    std::size_t i = 0;
    while (i < m_count && m_ranges[i].right < left) ++i;
    std::size_t j = i;
    std::uint32_t covered = 0;
    while (j < m_count && m_ranges[j].left <= right) {
      const auto lo = wire::max(left, m_ranges[j].left);
      const auto hi = wire::min(right, m_ranges[j].right);
      if (lo < hi) covered += static_cast<std::uint32_t>(hi - lo);
      ++j;
    }
    const auto fresh = static_cast<std::uint32_t>(right - left) - covered;
    const auto stamp = ++m_clock;
    if (i == j) {
      if (m_count == N) {
        drop_oldest();
        // The dropped range may have been before the insertion point.
        i = 0;
        while (i < m_count && m_ranges[i].right < left) ++i;
      }
      for (std::size_t k = m_count; k > i; --k) {
        m_ranges[k] = m_ranges[k - 1];
        m_stamps[k] = m_stamps[k - 1];
      }
      m_ranges[i] = {left, right};
      m_stamps[i] = stamp;
      ++m_count;
      return fresh;
    }
    m_ranges[i] = {wire::min(left, m_ranges[i].left), wire::max(right, m_ranges[j - 1].right)};
    m_stamps[i] = stamp;
    const auto removed = j - i - 1;
    for (std::size_t k = i + 1; k + removed < m_count; ++k) {
      m_ranges[k] = m_ranges[k + removed];
      m_stamps[k] = m_stamps[k + removed];
    }
    m_count -= removed;
    return fresh;
  }

  void drop_oldest() noexcept {
    std::size_t victim = 0;
    for (std::size_t k = 1; k < m_count; ++k)
      if (m_stamps[k] < m_stamps[victim]) victim = k;
    for (std::size_t k = victim + 1; k < m_count; ++k) {
      m_ranges[k - 1] = m_ranges[k];
      m_stamps[k - 1] = m_stamps[k];
    }
    --m_count;
    ++m_dropped;
  }

  // Calls f(a, b, lost) for each un-SACKed hole [a, b) between SND.UNA and snd_nxt, in order.
  // `lost` is IsLost() of the hole's bytes (the same for all of them).
  template <class F>
  void for_each_hole(wire::seq_number snd_nxt, F&& f) const noexcept {
    // Suffix counts: SACKed ranges and bytes at or above range k.
    std::array<std::uint64_t, N + 1> bytes_from{};
    for (std::size_t k = m_count; k > 0; --k)
      bytes_from[k - 1] = bytes_from[k] + static_cast<std::uint32_t>(m_ranges[k - 1].right - m_ranges[k - 1].left);
    const auto threshold = std::uint64_t{dup_thresh - 1} * m_smss;
    auto a = m_una;
    for (std::size_t k = 0; k <= m_count; ++k) {
      const auto b = k < m_count ? m_ranges[k].left : snd_nxt;
      if (a < b) {
        const auto ranges_above = m_count - k;
        const bool lost = ranges_above >= dup_thresh || bytes_from[k] > threshold;
        f(a, b, lost);
      }
      if (k < m_count) a = m_ranges[k].right;
    }
  }

  std::array<sack_block, N> m_ranges{};    // sorted, disjoint, non-adjacent, all above m_una
  std::array<std::uint64_t, N> m_stamps{}; // when each range was last touched
  std::size_t m_count = 0;
  std::uint64_t m_clock = 0;
  std::uint64_t m_dropped = 0;
  wire::seq_number m_una;                       // HighACK + 1
  wire::seq_number m_high_rxt;                  // HighRxt + 1
  wire::seq_number m_recovery_point;            // RecoveryPoint + 1
  std::optional<wire::seq_number> m_rescue_rxt; // RescueRxt + 1, undefined until set
  std::uint32_t m_smss;
  bool m_in_recovery = false;
  bool m_rto_hold = false;
};

/// The default scoreboard: 32 SACKed ranges (each 8 bytes plus a stamp: 512 bytes inline).
using sack_scoreboard = basic_sack_scoreboard<32>;

} // namespace synack::tcp
