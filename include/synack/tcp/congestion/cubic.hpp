// synack/tcp/congestion/cubic.hpp: CUBIC congestion control, RFC 9438.
//
// Read first: RFC 9438 §4 (the algorithm) and §5.
//
// What is implemented
// - §4.2 the window function W_cubic(t) = C*(t - K)^3 + W_max (eq. 1) with
//   K = cubic_root((W_max - cwnd_epoch)/C) (eq. 2), C = 0.4, beta_cubic = 0.7, and the per-ACK
//   increase (target - cwnd)/cwnd toward target = W_cubic(t + RTT) clamped to [cwnd, 1.5*cwnd].
// - §4.3 the Reno-friendly region (W_est, alpha_cubic = 3(1 - beta)/(1 + beta), switching to
//   alpha 1 once W_est reaches cwnd_prior), §4.4 concave and §4.5 convex regions.
// - §4.6 multiplicative decrease from FlightSize, §4.7 fast convergence (configurable),
//   §4.8 timeouts, §4.10 the first congestion avoidance without a W_max.
// - Slow start is RFC 5681's (with RFC 3465's L); recovery hooks are shared with new_reno.
// Not implemented: HyStart++ (RFC 9406), §4.9 spurious-congestion undo, and RFC 7661
// (cwnd validation for application-limited flows; cwnd is bounded by max_cwnd instead).
//
// Units: RFC 9438 states W in segments and t in seconds; cwnd is kept in bytes (what the
// connection compares with the bytes in flight), W_max/W_est/K in segments and seconds as
// doubles. The arithmetic is IEEE double, so it is deterministic for given inputs; ssthresh
// uses the exact integer product FlightSize * 7 / 10. Increases smaller than a byte accumulate
// in a remainder instead of being lost.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string_view>

#include "synack/tcp/congestion/controller.hpp"

namespace synack::tcp {

class cubic : public detail::window_base {
public:
  /// RFC 9438's C = 0.4 (segments / s^3), the aggressiveness of the window increase.
  static constexpr double c = 0.4;
  /// RFC 9438 §4.6: beta_cubic = 0.7, the multiplicative decrease factor.
  static constexpr double beta = 0.7;
  /// RFC 9438 §4.3: alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic) (about 0.529), the
  /// Reno-friendly additive increase that gives the same average rate as AIMD(1, 0.5).
  static constexpr double alpha_reno_friendly = 3.0 * (1.0 - beta) / (1.0 + beta);

  explicit cubic(const congestion_config& config = {}) noexcept : window_base(config) {}

  /// New data ACKed outside recovery: slow start, or one step of §4.2-§4.5.
  void on_ack(instant now, std::size_t acked, std::optional<duration> rtt, std::size_t) noexcept {
    acked_new_data();
    if (rtt && *rtt >= duration::zero()) {
      // The RTT in W_cubic(t + RTT): a smoothed RTT, RFC 6298's SRTT over the samples we see.
      m_srtt = m_has_srtt ? m_srtt + (*rtt - m_srtt) / 8 : *rtt;
      m_has_srtt = true;
    }
    if (acked == 0 || m_cwnd == 0) return;
    if (in_slow_start()) {
      // RFC 9438 §4.10: "When cwnd is no more than ssthresh, CUBIC MUST employ a slow-start
      // algorithm." We use RFC 5681's.
      slow_start(acked);
      return;
    }
    if (!m_in_epoch) start_epoch(now);

    const double smss = static_cast<double>(m_smss);
    const double cw = static_cast<double>(m_cwnd) / smss; // segments
    const double t = seconds(now - m_epoch);

    // §4.3: on every ACK, W_est = W_est + alpha_cubic * segments_acked / cwnd; once W_est has
    // reached cwnd_prior (cwnd when ssthresh was last set), alpha_cubic becomes 1 so that the
    // estimate grows as fast as Reno.
    m_w_est += m_alpha * (static_cast<double>(acked) / smss) / cw;
    if (m_w_est * smss >= static_cast<double>(m_cwnd_prior)) m_alpha = 1.0;

    if (w_cubic_at(t) < m_w_est) {
      // §4.3: when W_cubic(t) < W_est, CUBIC is in the Reno-friendly region and cwnd is set to
      // W_est on each new ACK. (We never shrink cwnd here: cwnd > W_est can only be a
      // transient left by the previous target step.)
      const auto w = static_cast<std::size_t>(m_w_est * smss);
      if (w > m_cwnd) set_cwnd(w);
      return;
    }
    // §4.4 (concave, cwnd < W_max) and §4.5 (convex): cwnd grows by (target - cwnd) / cwnd
    // segments for each new ACK, with §4.2's
    //   target = cwnd          if W_cubic(t + RTT) < cwnd
    //          = 1.5 * cwnd    if W_cubic(t + RTT) > 1.5 * cwnd
    //          = W_cubic(t + RTT) otherwise.
    // Per ACK of `acked` bytes (acked / SMSS segments) that is (target - cwnd)/cwnd * acked bytes.
    const double target = std::clamp(w_cubic_at(t + seconds(m_srtt)), cw, 1.5 * cw);
    m_remainder += (target - cw) / cw * static_cast<double>(acked);
    const double whole = std::floor(m_remainder);
    m_remainder -= whole;
    if (whole >= 1.0) set_cwnd(m_cwnd + static_cast<std::size_t>(whole));
  }

  /// Loss detected by duplicate ACKs or SACK. RFC 9438 §4.7 then §4.6:
  ///   if (cwnd < W_max and fast convergence) W_max = cwnd * (1 + beta_cubic) / 2
  ///   else                                   W_max = cwnd
  ///   ssthresh = flight_size * beta_cubic;  cwnd_prior = cwnd
  ///   cwnd = max(ssthresh, 2);  ssthresh = max(ssthresh, 2)     (segments)
  /// §4.6 uses flight_size: "Some implementations of CUBIC currently use cwnd instead of
  /// flight_size when calculating a new ssthresh. Implementations that use cwnd MUST use
  /// other measures to prevent cwnd from growing when the volume of bytes in flight is smaller
  /// than cwnd." We use flight_size.
  void on_congestion_event(instant, std::size_t in_flight) noexcept {
    const double cw = static_cast<double>(m_cwnd) / static_cast<double>(m_smss);
    if (m_config.cubic_fast_convergence && m_w_max && cw < *m_w_max)
      m_w_max = cw * (1.0 + beta) / 2.0;
    else
      m_w_max = cw;
    m_cwnd_prior = m_cwnd;
    m_ssthresh = cubic_ssthresh(in_flight);
    set_cwnd(m_ssthresh);
    end_epoch();
    m_after_rto = false;
  }

  /// RFC 9438 §4.8: "In the case of a timeout, CUBIC follows Reno to reduce cwnd [RFC5681] but
  /// sets ssthresh using beta_cubic (same as in Section 4.6)". "During the first congestion
  /// avoidance stage after a timeout, CUBIC increases its congestion window size using
  /// Figure 1, where t is the elapsed time since the beginning of the current congestion
  /// avoidance stage, K is set to 0, and W_max is set to the congestion window size at the
  /// beginning of the current congestion avoidance stage. In addition, for the Reno-friendly
  /// region, W_est SHOULD be set to the congestion window size at the beginning of the current
  /// congestion avoidance stage." (RFC 5681's rule for repeated timeouts holds ssthresh.)
  void on_rto(instant, std::size_t in_flight) noexcept {
    const auto before = m_cwnd;
    if (timeout(cubic_ssthresh(in_flight))) m_cwnd_prior = before;
    end_epoch();
    m_after_rto = true;
  }

  /// RFC 5681 §4.1's restart window; and the idle time is taken out of t, since RFC 9438
  /// requires that t not include periods when cwnd was not updated because the flow was
  /// application-limited (§5.8), such as idle periods. Call it whenever sending starts with
  /// nothing in flight; `idle` is the time since the last transmission.
  void on_idle_restart(instant, duration idle, duration rto) noexcept {
    if (m_in_epoch && idle > duration::zero()) m_epoch += idle;
    restart_window(idle, rto);
  }

  static constexpr auto name() noexcept -> std::string_view { return "cubic"; }

  // Introspection (tests, tracing).
  /// W_max in segments (nullopt before the first congestion event).
  auto w_max() const noexcept -> std::optional<double> { return m_w_max; }
  /// K in seconds for the current epoch.
  auto k() const noexcept -> double { return m_k; }
  /// W_est in segments.
  auto w_est() const noexcept -> double { return m_w_est; }
  /// alpha_cubic currently applied to W_est.
  auto alpha() const noexcept -> double { return m_alpha; }
  auto cwnd_prior() const noexcept -> std::size_t { return m_cwnd_prior; }
  /// Start of the current congestion avoidance epoch (t = 0), if one is running.
  auto epoch_start() const noexcept -> std::optional<instant> {
    return m_in_epoch ? std::optional<instant>{m_epoch} : std::nullopt;
  }
  /// RFC 9438 eq. (1), W_cubic(t) in segments for the current epoch, t in seconds.
  auto w_cubic(double t) const noexcept -> double { return w_cubic_at(t); }
  auto srtt() const noexcept -> duration { return m_srtt; }

private:
  static auto seconds(duration d) noexcept -> double { return std::chrono::duration<double>(d).count(); }

  auto w_cubic_at(double t) const noexcept -> double {
    // RFC 9438 eq. (1): "W_cubic(t) = C * (t - K)^3 + W_max"
    const double d = t - m_k;
    return c * d * d * d + m_w_max.value_or(0.0);
  }

  /// RFC 9438 §4.6 with the exact product: ssthresh = max(FlightSize * 7/10, 2*SMSS).
  auto cubic_ssthresh(std::size_t flight) const noexcept -> std::size_t {
    return std::max(flight / 10 * 7 + flight % 10 * 7 / 10, 2 * m_smss);
  }

  void start_epoch(instant now) noexcept {
    m_epoch = now;
    m_in_epoch = true;
    m_remainder = 0.0;
    const double cw_epoch = static_cast<double>(m_cwnd) / static_cast<double>(m_smss);
    if (!m_w_max || m_after_rto) {
      // §4.8 (after a timeout, quoted at on_rto) and §4.10 (slow start ended without any
      // loss, so W_max is undefined: cwnd_prior = cwnd, K = 0 and W_max = the cwnd at the
      // beginning of this congestion avoidance stage).
      if (m_cwnd_prior == 0) m_cwnd_prior = m_cwnd; // never set: no loss so far
      m_w_max = cw_epoch;
      m_k = 0.0;
    } else {
      // RFC 9438 eq. (2): "K = cubic_root((W_max - cwnd_epoch) / C)". A negative difference
      // (cwnd above W_max) gives a negative K and W_cubic(0) = cwnd_epoch all the same.
      m_k = std::cbrt((*m_w_max - cw_epoch) / c);
    }
    // §4.3: W_est starts each congestion avoidance stage at cwnd_epoch.
    m_w_est = cw_epoch;
    m_alpha = alpha_reno_friendly;
    m_after_rto = false;
  }

  void end_epoch() noexcept {
    m_in_epoch = false;
    m_remainder = 0.0;
  }

  instant m_epoch;               // t_epoch, valid while m_in_epoch
  std::optional<double> m_w_max; // segments
  double m_k = 0.0;              // seconds
  double m_w_est = 0.0;          // segments
  double m_alpha = alpha_reno_friendly;
  double m_remainder = 0.0;     // fractional bytes of cwnd increase not yet applied
  std::size_t m_cwnd_prior = 0; // bytes: cwnd when ssthresh was last set
  duration m_srtt{0};
  bool m_has_srtt = false;
  bool m_after_rto = false;
  bool m_in_epoch = false;
};

static_assert(check_congestion_controller<cubic>());

} // namespace synack::tcp
