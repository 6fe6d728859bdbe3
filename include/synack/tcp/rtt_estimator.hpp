// synack/tcp/rtt_estimator.hpp: the retransmission timeout, RFC 6298 complete.
//
// Read first: RFC 6298 (Computing TCP's Retransmission Timer), RFC 7323 §4 and Appendix G
// (RTT measurement with timestamps), RFC 8961 (requirements for time-based loss detection).
//
// Contract
// - `rtt_estimator` holds SRTT, RTTVAR and the backoff count and computes the RTO from them.
//   It is pure arithmetic on durations (integer nanoseconds, deterministic): it never reads a
//   clock, and it does not own the retransmission timer. The connection arms its timer at
//   `now + rto()` (RFC 6298 (5.1), (5.3), (5.6)), calls `on_timeout()` when the timer
//   expires (5.5), and feeds it RTT samples.
// - Samples come from one of two places:
//   * without timestamps, `rtt_sampler` (below) times one segment at a time and applies
//     Karn's algorithm (RFC 6298 §3): no sample from a retransmitted segment;
//   * with timestamps (RFC 7323 §4), the connection measures on every ACK that advances
//     SND.UNA from TSecr and calls `on_sample(r, rtt_estimator::expected_samples(flight, smss))`
//     so that taking a sample per ACK does not shorten the estimator's history (Appendix G).
// - Counting retransmissions and giving up ("retries") is the connection's job; the
//   estimator only counts backoffs, saturating at `max_backoff`.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "synack/time/instant.hpp"
#include "synack/wire/seq_number.hpp"

namespace synack::tcp {

struct rtt_config {
  /// RFC 6298 (2.1): "Until a round-trip time (RTT) measurement has been made for a segment
  /// sent between the sender and receiver, the sender SHOULD set RTO <- 1 second, though the
  /// "backing off" on repeated retransmission discussed in (5.5) still applies."
  duration initial_rto = std::chrono::seconds{1};
  /// RFC 6298 (2.4): "Whenever RTO is computed, if it is less than 1 second, then the RTO
  /// SHOULD be rounded up to 1 second." The RFC chose 1 s to stay conservative with the coarse
  /// clocks of the time ("a large minimum RTO is needed to keep TCP conservative and avoid
  /// spurious retransmissions"), and says research may later show a smaller one acceptable.
  /// We follow Linux (TCP_RTO_MIN = 200 ms), which has run the Internet with 200 ms for
  /// decades, and RFC 8961, which states the requirements for timeout-based loss detection
  /// without mandating the 1 s floor. A 1 s floor would stall every tail loss on a LAN for
  /// thousands of RTTs. Set 1 s here for strict RFC 6298 behaviour.
  duration min_rto = std::chrono::milliseconds{200};
  /// RFC 6298 (2.5): "A maximum value MAY be placed on RTO provided it is at least 60
  /// seconds." (Linux uses 120 s; 60 s retries sooner after a long outage.)
  duration max_rto = std::chrono::seconds{60};
  /// RFC 6298 §2: G, the clock granularity. Our instants are nanoseconds and the timer wheel
  /// of the runtime fires with millisecond precision, so G = 1 ms.
  duration granularity = std::chrono::milliseconds{1};
  /// RFC 6298 §2: "K = 4".
  std::uint32_t k = 4;
  /// Backoffs counted at most (the RTO itself stops doubling at max_rto long before).
  std::uint32_t max_backoff = 32;
};

class rtt_estimator {
public:
  explicit rtt_estimator(const rtt_config& config = {}) noexcept : m_config(config) {}

  /// An RTT measurement R. RFC 6298 §2 (2.2) for the first and (2.3) for later ones; also
  /// collapses any backoff: RFC 6298 §5: "once a new RTT measurement is obtained ... the
  /// computations outlined in Section 2 are performed, including the computation of RTO,
  /// which may result in "collapsing" RTO back down after it has been subsequently increased
  /// by the exponential backoff." Negative samples (a broken TSecr) are ignored.
  void on_sample(duration r) noexcept { on_sample(r, 1); }

  /// An RTT measurement taken when several samples arrive per RTT (timestamps, RFC 7323
  /// Appendix G): alpha and beta are divided by `expected_samples` (see expected_samples()).
  ///   RFC 7323 Appendix G: "alpha' = alpha / ExpectedSamples", "beta' = beta / ExpectedSamples"
  ///   "RTTVAR <- (1 - beta') * RTTVAR + beta' * |SRTT - R'|"
  ///   "SRTT <- (1 - alpha') * SRTT + alpha' * R'"
  /// expected_samples == 1 is exactly RFC 6298 (2.3). The first sample is always (2.2).
  void on_sample(duration r, std::size_t expected_samples) noexcept {
    if (r < duration::zero()) return;
    const auto n = static_cast<duration::rep>(std::max<std::size_t>(expected_samples, 1));
    if (!m_has_sample) {
      // RFC 6298 (2.2): "When the first RTT measurement R is made, the host MUST set
      //   SRTT <- R
      //   RTTVAR <- R/2
      //   RTO <- SRTT + max (G, K*RTTVAR)"
      m_srtt = r;
      m_rttvar = r / 2;
      m_has_sample = true;
    } else {
      // RFC 6298 (2.3): "When a subsequent RTT measurement R' is made, a host MUST set
      //   RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|
      //   SRTT <- (1 - alpha) * SRTT + alpha * R'
      // The value of SRTT used in the update to RTTVAR is its value before updating SRTT
      // itself using the second assignment." ... "using alpha=1/8 and beta=1/4"
      // Written as X += (target - X) * w, which is the same with integer nanoseconds.
      const auto err = m_srtt > r ? m_srtt - r : r - m_srtt;
      m_rttvar += (err - m_rttvar) / (4 * n);
      m_srtt += (r - m_srtt) / (8 * n);
    }
    m_backoff = 0;
    m_floor.reset();
  }

  /// RFC 7323 Appendix G: "ExpectedSamples = ceiling(FlightSize / (SMSS * 2))" ("the factor 2
  /// in ExpectedSamples is due to "Delayed ACKs""), at least 1. FlightSize is the data
  /// outstanding when the sample was taken.
  static constexpr auto expected_samples(std::size_t flight_size, std::size_t smss) noexcept -> std::size_t {
    if (smss == 0) return 1;
    const auto per = 2 * smss;
    return std::max<std::size_t>(1, (flight_size + per - 1) / per);
  }

  /// The retransmission timer expired. RFC 6298 (5.5): "The host MUST set RTO <- RTO * 2
  /// ("back off the timer"). The maximum value discussed in (2.5) above may be used to
  /// provide an upper bound to this doubling operation." The connection then retransmits the
  /// earliest unacknowledged segment (5.4) and restarts the timer with the new rto() (5.6).
  void on_timeout() noexcept {
    if (m_backoff < m_config.max_backoff) ++m_backoff;
  }

  /// The handshake completed (data transmission begins). RFC 6298 (5.7): "If the timer
  /// expires awaiting the ACK of a SYN segment and the TCP implementation is using an RTO less
  /// than 3 seconds, the RTO MUST be re-initialized to 3 seconds when data transmission begins
  /// (i.e., after the three-way handshake completes)." `syn_timed_out` says whether our SYN (or
  /// SYN-ACK) was retransmitted by the timer. The 3 s floor holds until the next sample.
  void on_handshake_complete(bool syn_timed_out) noexcept {
    m_backoff = 0;
    if (syn_timed_out && base_rto() < handshake_rto) m_floor = handshake_rto;
  }

  /// Forgets the backoff (e.g. when the connection decides, per Karn, that the path is fine
  /// again without a sample). RFC 6298 collapses the backoff only on a new sample, which
  /// on_sample() does.
  void reset_backoff() noexcept { m_backoff = 0; }

  /// The current RTO: the base RTO doubled once per backoff, capped at max_rto.
  auto rto() const noexcept -> duration {
    auto r = base_rto();
    for (std::uint32_t i = 0; i < m_backoff && r < m_config.max_rto; ++i) r = std::min(r * 2, m_config.max_rto);
    return r;
  }

  /// The RTO before backoff: SRTT + max(G, K*RTTVAR) (or the initial RTO before the first
  /// sample), clamped to [min_rto, max_rto].
  auto base_rto() const noexcept -> duration {
    duration r = m_config.initial_rto;
    if (m_has_sample) {
      // RFC 6298 (2.2)/(2.3): "RTO <- SRTT + max (G, K*RTTVAR)"
      r = m_srtt + std::max(m_config.granularity, m_rttvar * static_cast<duration::rep>(m_config.k));
    }
    if (m_floor) r = std::max(r, *m_floor);
    // (2.4) the lower bound (see rtt_config::min_rto), (2.5) the upper bound.
    return std::clamp(r, m_config.min_rto, std::max(m_config.min_rto, m_config.max_rto));
  }

  /// Whether an RTT sample has been taken. Before that srtt() and rttvar() are zero.
  auto has_sample() const noexcept -> bool { return m_has_sample; }
  auto srtt() const noexcept -> duration { return m_srtt; }
  auto rttvar() const noexcept -> duration { return m_rttvar; }
  /// How many times the RTO has been doubled since the last sample (or reset).
  auto backoff() const noexcept -> std::uint32_t { return m_backoff; }
  auto config() const noexcept -> const rtt_config& { return m_config; }

  /// RFC 6298 (5.7)'s value.
  static constexpr duration handshake_rto = std::chrono::seconds{3};

private:
  rtt_config m_config;
  duration m_srtt{0};
  duration m_rttvar{0};
  std::optional<duration> m_floor; // RFC 6298 (5.7) until the next sample
  std::uint32_t m_backoff = 0;
  bool m_has_sample = false;
};

/// Times one segment at a time, for connections without timestamps, applying Karn's algorithm.
///
/// RFC 6298 §3: "RTT samples MUST NOT be made using segments that were retransmitted (and thus
/// for which it is ambiguous whether the reply was for the first instance of the packet or a
/// later instance). The only case when TCP can safely take RTT samples from retransmitted
/// segments is when the TCP timestamp option [JBB92] is employed, since the timestamp option
/// removes the ambiguity regarding which instance of the data segment triggered the
/// acknowledgment." and "a TCP implementation MUST take at least one RTT measurement per RTT
/// (unless that is not possible per Karn's algorithm)": timing the next new segment as soon as
/// the previous measurement completes gives one sample per RTT.
///
/// Any retransmission cancels the measurement in progress (as BSD does): an ACK that follows
/// the repair of a hole below the timed segment would also overstate its RTT.
class rtt_sampler {
public:
  /// A segment ending just before `seq_end` (SEG.SEQ + SEG.LEN) was sent at `now`. New data
  /// starts a measurement if none is running; a retransmission cancels the running one.
  void on_send(wire::seq_number seq_end, instant now, bool retransmission) noexcept {
    if (retransmission) {
      m_timing = false;
      return;
    }
    if (!m_timing) {
      m_timing = true;
      m_seq_end = seq_end;
      m_sent_at = now;
    }
  }

  /// An ACK for `ack` arrived at `now`: returns an RTT sample if it covers the timed segment.
  auto on_ack(wire::seq_number ack, instant now) noexcept -> std::optional<duration> {
    if (!m_timing || ack < m_seq_end) return std::nullopt;
    m_timing = false;
    return now - m_sent_at;
  }

  /// Whether a segment is being timed, and which (its end).
  auto timing() const noexcept -> bool { return m_timing; }
  auto timed_seq_end() const noexcept -> wire::seq_number { return m_seq_end; }
  /// Stops timing (e.g. on RTO: RFC 6298 §3, the timed segment will be retransmitted).
  void cancel() noexcept { m_timing = false; }

private:
  wire::seq_number m_seq_end;
  instant m_sent_at;
  bool m_timing = false;
};

} // namespace synack::tcp
