// synack/tcp/congestion/new_reno.hpp: Reno congestion control with NewReno recovery.
//
// RFC 5681 (slow start, congestion avoidance, fast retransmit / fast recovery) with RFC 6582's
// partial-ACK handling, and RFC 3465 appropriate byte counting. The connection's loss recovery
// (tcp/loss_recovery.hpp) runs the recovery episode (recover point, partial ACKs, or RFC 6675
// with SACK) and calls the hooks;
// see congestion/controller.hpp for who does what, and docs/congestion.md.
//
// cwnd trajectory (SMSS = S, L = slow_start_limit):
//   slow start (cwnd < ssthresh):      cwnd += min(acked, L*S) per ACK
//   congestion avoidance:              cwnd += S each time a cwnd's worth of bytes is ACKed
//   fast retransmit (3 dup ACKs/SACK): ssthresh = max(FlightSize/2, 2S); cwnd = ssthresh
//   NewReno recovery (no SACK):        +S per dup ACK (3 at entry), partial ACK deflation
//   recovery exit:                     cwnd = min(ssthresh, max(FlightSize, S) + S)
//   timeout:                           ssthresh = max(FlightSize/2, 2S) (first RTO); cwnd = S
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string_view>

#include "synack/tcp/congestion/controller.hpp"

namespace synack::tcp {

class new_reno : public detail::window_base {
public:
  explicit new_reno(const congestion_config& config = {}) noexcept : window_base(config) {}

  /// New data ACKed outside recovery.
  void on_ack(instant, std::size_t acked, std::optional<duration>, std::size_t) noexcept {
    acked_new_data();
    if (acked == 0) return;
    if (in_slow_start()) {
      slow_start(acked);
      return;
    }
    // RFC 5681 §3.1: "the RECOMMENDED way to increase cwnd during congestion avoidance is to
    // count the number of bytes that have been acknowledged by ACKs for new data. ... When the
    // number of bytes acknowledged reaches cwnd, then cwnd can be incremented by up to SMSS
    // bytes." RFC 3465 §2.1: "When bytes_acked becomes greater than or equal to the value of
    // the congestion window, bytes_acked is reduced by the value of cwnd. Next, cwnd is
    // incremented by a full-sized segment (SMSS)."
    m_bytes_acked += acked;
    if (m_bytes_acked >= m_cwnd) {
      m_bytes_acked -= m_cwnd;
      set_cwnd(m_cwnd + m_smss);
    }
  }

  /// RFC 5681 §3.2 step 2: "When the third duplicate ACK is received, a TCP MUST set ssthresh
  /// to no more than the value given in equation (4)", eq. (4): "ssthresh = max (FlightSize /
  /// 2, 2*SMSS)". cwnd = ssthresh: RFC 6675 (4.2) for SACK; without SACK the connection adds
  /// step 3's 3*SMSS through on_recovery_dup_ack().
  void on_congestion_event(instant, std::size_t in_flight) noexcept {
    m_ssthresh = reno_ssthresh(in_flight);
    set_cwnd(m_ssthresh);
    m_bytes_acked = 0;
  }

  /// RFC 5681 §3.1 (see window_base::timeout): ssthresh by eq. (4) on the first timeout for a
  /// segment, then cwnd = LW = 1 SMSS.
  void on_rto(instant, std::size_t in_flight) noexcept { timeout(reno_ssthresh(in_flight)); }

  void on_idle_restart(instant, duration idle, duration rto) noexcept { restart_window(idle, rto); }

  static constexpr auto name() noexcept -> std::string_view { return "new_reno"; }

private:
  auto reno_ssthresh(std::size_t flight) const noexcept -> std::size_t { return std::max(flight / 2, 2 * m_smss); }
};

static_assert(check_congestion_controller<new_reno>());

} // namespace synack::tcp
