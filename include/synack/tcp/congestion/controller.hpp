// synack/tcp/congestion/controller.hpp: the congestion-control policy concept and its config.
//
// Read first: RFC 5681 (TCP Congestion Control), RFC 6582 (NewReno), RFC 6675 (SACK loss
// recovery), RFC 9438 (CUBIC), RFC 6928 (initial window). docs/congestion.md explains the design
// and how to add a policy.
//
// Division of labour
// - The CONNECTION's loss recovery (loss_recovery.hpp) detects loss and runs the recovery
//   episode: it counts duplicate ACKs, keeps the SACK scoreboard (sack_scoreboard.hpp) and RFC
//   6675's pipe, or, without SACK, RFC 6582's `recover` point and partial ACKs. It decides
//   *when* each recovery hook below is called; the connection calls on_ack, on_idle_restart
//   and set_smss.
// - The CONTROLLER owns cwnd and ssthresh and decides *by how much* they change. It never sees
//   segments, sequence numbers or timers, and it never reads a clock: every hook takes `now`.
//
// The hooks (all byte counts are bytes; FlightSize = SND.NXT - SND.UNA as RFC 5681 §2 defines it)
//   on_ack(now, acked, rtt, in_flight)   an ACK advanced SND.UNA by `acked` bytes OUTSIDE
//                                        recovery: slow start or congestion avoidance. `rtt` is
//                                        the RTT sample this ACK produced, if any; `in_flight`
//                                        is FlightSize when the ACK arrived (before it is
//                                        applied; for cwnd-validation style policies).
//   on_congestion_event(now, in_flight)  loss detected by duplicate ACKs or SACK: entering fast
//                                        recovery. `in_flight` is FlightSize when the loss was
//                                        detected (RFC 5681 eq. (4): without Limited Transmit
//                                        segments). Sets ssthresh and cwnd = ssthresh, without
//                                        inflation (that is RFC 6675's value).
//   on_recovery_dup_ack(now)             non-SACK (NewReno) recovery only: one duplicate ACK,
//                                        cwnd += SMSS (RFC 5681 §3.2 steps 3 and 4). Loss
//                                        recovery calls it DupThresh (3) times right after
//                                        on_congestion_event (step 3's "+ 3*SMSS") and once per
//                                        further duplicate ACK (step 4).
//   on_partial_ack(now, acked)           non-SACK (NewReno) recovery only: a partial ACK
//                                        (RFC 6582 §3.2) advanced SND.UNA by `acked`: deflate.
//   on_recovery_exit(now, in_flight)     the ACK covering the recovery point arrived (both
//                                        SACK and non-SACK recovery): deflate to
//                                        min(ssthresh, max(FlightSize, SMSS) + SMSS).
//   on_rto(now, in_flight)               the retransmission timer expired (RFC 5681 §3.1,
//                                        RFC 9438 §4.8). Also ends any recovery.
//   on_idle_restart(now, idle, rto)      about to send after `idle` without sending; RFC 5681
//                                        §4.1 restart window when idle > rto.
//   set_smss(bytes)                      the SMSS is known (after the handshake) or changed.
//   cwnd(), ssthresh(), name()
// A controller is constructible from `congestion_config`. RFC 5681 §3.1: "If the SYN or
// SYN/ACK is lost, the initial window used by a sender after a correctly transmitted SYN MUST
// be one segment consisting of at most SMSS bytes." The connection does that by constructing
// its controller with `initial_window = smss` once the handshake completes.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "synack/time/instant.hpp"

namespace synack::tcp {

/// The window of a controller that does not limit sending (`none`); also "no ssthresh yet".
inline constexpr std::size_t unlimited_window = std::numeric_limits<std::size_t>::max();

/// RFC 6928 §2: "IW = min (10*MSS, max (2*MSS, 14600))" (MSS here is the SMSS).
constexpr auto rfc6928_initial_window(std::size_t smss) noexcept -> std::size_t {
  return std::min(10 * smss, std::max(2 * smss, std::size_t{14600}));
}

struct congestion_config {
  /// Sender maximum segment size (RFC 5681 §2 SMSS). The connection calls set_smss() once the
  /// peer's MSS option is known; 536 is RFC 9293 §3.7.1's default when there is none.
  std::size_t smss = 536;
  /// Initial window in bytes; 0 means RFC 6928's formula from smss (recomputed by set_smss()
  /// until the first ACK). A connection whose SYN was lost passes smss (RFC 5681 §3.1).
  std::size_t initial_window = 0;
  /// RFC 3465 appropriate byte counting limit L in slow start, in segments: cwnd grows by at
  /// most L*SMSS per ACK. RFC 5681 §3.1 eq. (2) is L = 1 ("cwnd += min (N, SMSS)"); RFC 3465
  /// §2.2 allows up to L = 2*SMSS, which compensates for delayed ACKs. Default 2.
  std::size_t slow_start_limit = 2;
  /// Upper bound on cwnd: the largest window a peer can advertise with window scaling
  /// (RFC 7323 §2.3: shift at most 14, so 65535 << 14 < 2^30). Keeps growth bounded when the
  /// application, not the network, limits sending.
  std::size_t max_cwnd = std::size_t{1} << 30;
  /// CUBIC only: RFC 9438 §4.7 fast convergence.
  bool cubic_fast_convergence = true;

  constexpr auto iw() const noexcept -> std::size_t {
    return initial_window != 0 ? initial_window : rfc6928_initial_window(smss);
  }
};

namespace detail {
// One concept per member, so that a failed check names the member that is missing.
template <class C>
concept cc_constructible_from_config = std::constructible_from<C, const congestion_config&>;
template <class C>
concept cc_has_on_ack = requires(C& c, instant now, std::size_t n, std::optional<duration> rtt) {
  { c.on_ack(now, n, rtt, n) } -> std::same_as<void>;
};
template <class C>
concept cc_has_on_congestion_event = requires(C& c, instant now, std::size_t n) {
  { c.on_congestion_event(now, n) } -> std::same_as<void>;
};
template <class C>
concept cc_has_on_recovery_dup_ack = requires(C& c, instant now) {
  { c.on_recovery_dup_ack(now) } -> std::same_as<void>;
};
template <class C>
concept cc_has_on_partial_ack = requires(C& c, instant now, std::size_t n) {
  { c.on_partial_ack(now, n) } -> std::same_as<void>;
};
template <class C>
concept cc_has_on_recovery_exit = requires(C& c, instant now, std::size_t n) {
  { c.on_recovery_exit(now, n) } -> std::same_as<void>;
};
template <class C>
concept cc_has_on_rto = requires(C& c, instant now, std::size_t n) {
  { c.on_rto(now, n) } -> std::same_as<void>;
};
template <class C>
concept cc_has_on_idle_restart = requires(C& c, instant now, duration d) {
  { c.on_idle_restart(now, d, d) } -> std::same_as<void>;
};
template <class C>
concept cc_has_set_smss = requires(C& c, std::size_t n) {
  { c.set_smss(n) } -> std::same_as<void>;
};
template <class C>
concept cc_has_cwnd = requires(const C& c) {
  { c.cwnd() } -> std::same_as<std::size_t>;
};
template <class C>
concept cc_has_ssthresh = requires(const C& c) {
  { c.ssthresh() } -> std::same_as<std::size_t>;
};
template <class C>
concept cc_has_name = requires(const C& c) {
  { c.name() } -> std::convertible_to<std::string_view>;
};
} // namespace detail

/// A congestion-control policy (see the hook list at the top of this file).
template <class C>
concept congestion_controller =
    detail::cc_constructible_from_config<C> && detail::cc_has_on_ack<C> && detail::cc_has_on_congestion_event<C> &&
    detail::cc_has_on_recovery_dup_ack<C> && detail::cc_has_on_partial_ack<C> && detail::cc_has_on_recovery_exit<C> &&
    detail::cc_has_on_rto<C> && detail::cc_has_on_idle_restart<C> && detail::cc_has_set_smss<C> &&
    detail::cc_has_cwnd<C> && detail::cc_has_ssthresh<C> && detail::cc_has_name<C>;

/// `static_assert(check_congestion_controller<C>())` reports each missing member in one line.
/// (The concept alone also names it: "the required expression 'c.on_rto(now, n)' is invalid".)
template <class C>
consteval auto check_congestion_controller() -> bool {
  static_assert(detail::cc_constructible_from_config<C>,
                "congestion controller: needs a constructor C(const congestion_config&)");
  static_assert(
      detail::cc_has_on_ack<C>,
      "congestion controller: missing void on_ack(instant, size_t acked, optional<duration> rtt, size_t in_flight)");
  static_assert(detail::cc_has_on_congestion_event<C>,
                "congestion controller: missing void on_congestion_event(instant, size_t in_flight)");
  static_assert(detail::cc_has_on_recovery_dup_ack<C>,
                "congestion controller: missing void on_recovery_dup_ack(instant)");
  static_assert(detail::cc_has_on_partial_ack<C>,
                "congestion controller: missing void on_partial_ack(instant, size_t acked)");
  static_assert(detail::cc_has_on_recovery_exit<C>,
                "congestion controller: missing void on_recovery_exit(instant, size_t in_flight)");
  static_assert(detail::cc_has_on_rto<C>, "congestion controller: missing void on_rto(instant, size_t in_flight)");
  static_assert(detail::cc_has_on_idle_restart<C>,
                "congestion controller: missing void on_idle_restart(instant, duration idle, duration rto)");
  static_assert(detail::cc_has_set_smss<C>, "congestion controller: missing void set_smss(size_t)");
  static_assert(detail::cc_has_cwnd<C>, "congestion controller: missing size_t cwnd() const");
  static_assert(detail::cc_has_ssthresh<C>, "congestion controller: missing size_t ssthresh() const");
  static_assert(detail::cc_has_name<C>, "congestion controller: missing name() const (convertible to string_view)");
  return congestion_controller<C>;
}

namespace detail {

/// State and rules shared by the loss-based controllers (new_reno, cubic): cwnd, ssthresh,
/// SMSS, slow start, the NewReno recovery hooks and the restart window. Not a policy itself.
class window_base {
public:
  explicit window_base(const congestion_config& config) noexcept
      : m_config(config), m_smss(std::max<std::size_t>(config.smss, 1)), m_cwnd(config.iw()) {}

  auto cwnd() const noexcept -> std::size_t { return m_cwnd; }
  auto ssthresh() const noexcept -> std::size_t { return m_ssthresh; }
  auto smss() const noexcept -> std::size_t { return m_smss; }
  auto config() const noexcept -> const congestion_config& { return m_config; }
  /// Whether the next ACK does slow start. RFC 5681 §3.1: "The slow start algorithm is used
  /// when cwnd < ssthresh, while the congestion avoidance algorithm is used when cwnd >
  /// ssthresh. When cwnd and ssthresh are equal, the sender may use either" (we use CA).
  auto in_slow_start() const noexcept -> bool { return m_cwnd < m_ssthresh; }

  void set_smss(std::size_t smss) noexcept {
    if (smss == 0) return;
    m_smss = smss;
    m_config.smss = smss;
    // Before the first ACK cwnd is still the initial window: recompute it for the new SMSS.
    if (m_cwnd_is_initial) m_cwnd = std::min(m_config.iw(), m_config.max_cwnd);
  }

  /// RFC 5681 §3.2 step 4: "For each additional duplicate ACK received (after the third),
  /// cwnd MUST be incremented by SMSS. This artificially inflates the congestion window in
  /// order to reflect the additional segment that has left the network." Step 3's
  /// "cwnd = ssthresh + 3*SMSS" is three of these calls (see the file comment).
  void on_recovery_dup_ack(instant) noexcept { set_cwnd(m_cwnd + m_smss); }

  /// RFC 6582 §3.2, "Partial acknowledgment": "Deflate the congestion window by the amount of
  /// new data acknowledged by the Cumulative Acknowledgment field. If the partial ACK
  /// acknowledges at least one SMSS of new data, then add back SMSS bytes to the congestion
  /// window." cwnd never drops below one SMSS.
  void on_partial_ack(instant, std::size_t acked) noexcept {
    auto w = m_cwnd > acked ? m_cwnd - acked : 0;
    if (acked >= m_smss) w += m_smss;
    set_cwnd(std::max(w, m_smss));
  }

  /// RFC 6582 §3.2, "Full acknowledgment": "Set cwnd to either (1) min (ssthresh,
  /// max(FlightSize, SMSS) + SMSS) or (2) ssthresh, where ssthresh is the value set when fast
  /// retransmit was entered, and where FlightSize in (1) is the amount of data presently
  /// outstanding." We take option (1), which avoids a burst when little data is outstanding
  /// (the RFC asks option (2) users to take "measures to avoid a possible burst"). For SACK
  /// recovery (RFC 6675) cwnd is ssthresh during recovery, and (1) only trims a burst likewise.
  void on_recovery_exit(instant, std::size_t in_flight) noexcept {
    set_cwnd(std::min(m_ssthresh, std::max(in_flight, m_smss) + m_smss));
    m_bytes_acked = 0;
  }

  /// RFC 5681 §4.1: "Therefore, a TCP SHOULD set cwnd to no more than RW before beginning
  /// transmission if the TCP has not sent data in an interval exceeding the retransmission
  /// timeout." with "RW = min(IW,cwnd)".
  /// Returns whether the restart window was applied.
  auto restart_window(duration idle, duration rto) noexcept -> bool {
    if (idle <= rto) return false;
    set_cwnd(std::min(m_config.iw(), m_cwnd));
    return true;
  }

protected:
  /// RFC 5681 §3.1 eq. (2) with RFC 3465's limit L: "cwnd += min (N, SMSS)" per ACK, where N
  /// is "the number of previously unacknowledged bytes acknowledged in the incoming ACK".
  void slow_start(std::size_t acked) noexcept {
    set_cwnd(m_cwnd + std::min(acked, m_config.slow_start_limit * m_smss));
  }

  /// RFC 5681 §3.1 eq. (4): "ssthresh = max (FlightSize / 2, 2*SMSS)" for Reno; CUBIC
  /// passes its own value. RFC 5681 §3.1: "When a TCP sender detects segment loss using the
  /// retransmission timer and the given segment has not yet been resent by way of the
  /// retransmission timer, the value of ssthresh MUST be set to no more than the value given in
  /// equation (4)", and "If the segment has already been retransmitted by the retransmission
  /// timer at least once, the value of ssthresh is held constant". A second RTO before any ACK
  /// of new data is for the same segment (SND.UNA has not moved), so `m_rto_pending` tells.
  /// Then: "Furthermore, upon a timeout ... cwnd MUST be set to no more than the loss window,
  /// LW, which equals 1 full-sized segment (regardless of the value of IW)."
  /// Returns whether this is the first timeout for the segment (ssthresh was set).
  auto timeout(std::size_t new_ssthresh) noexcept -> bool {
    const bool first = !m_rto_pending;
    if (first) m_ssthresh = new_ssthresh;
    m_rto_pending = true;
    set_cwnd(m_smss);
    m_bytes_acked = 0;
    return first;
  }

  /// Called by every ACK of new data outside recovery.
  void acked_new_data() noexcept {
    m_rto_pending = false;
    m_cwnd_is_initial = false;
  }

  void set_cwnd(std::size_t w) noexcept {
    m_cwnd = std::min(w, m_config.max_cwnd);
    m_cwnd_is_initial = false;
  }

  congestion_config m_config;
  std::size_t m_smss;
  std::size_t m_cwnd;
  /// RFC 5681 §3.1: "The initial value of ssthresh SHOULD be set arbitrarily high (e.g., to
  /// the size of the largest possible advertised window)".
  std::size_t m_ssthresh = unlimited_window;
  /// RFC 3465 §2.1 byte counter for congestion avoidance.
  std::size_t m_bytes_acked = 0;
  bool m_rto_pending = false;
  bool m_cwnd_is_initial = true;
};

} // namespace detail
} // namespace synack::tcp
