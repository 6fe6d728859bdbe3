// synack/tcp/timers.hpp: a connection's timers, as data (deadlines, not callbacks: the TCP core
// is sans-IO, docs/architecture.md "time").
//
// Each timer is a deadline or nothing; `next()` is the earliest. The connection never reads a
// clock: it sets deadlines from the `now` it is given, and its owner calls on_timeout(now) once
// `now >= next()`. Restarting a timer is a store, so the per-ACK restart of the retransmission
// timer costs O(1); the owner's timer structure only needs the earliest deadline.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "synack/time/instant.hpp"

namespace synack::tcp {

enum class timer_kind : std::uint8_t {
  retransmit,  // RFC 6298: the oldest unacknowledged segment (also SYN and SYN-ACK)
  delayed_ack, // RFC 1122 §4.2.3.2
  persist,     // RFC 9293 §3.8.6.1 zero-window probing; RFC 1122 §4.2.3.4 (d) SWS override
  keepalive,   // RFC 1122 §4.2.3.6
  close,       // TIME_WAIT's 2*MSL, or the FIN_WAIT_2 timeout
  pmtu,        // RFC 1191 §6.3: a lowered path MTU is raised again (config::pmtu_expires)
  count_,
};

class timer_table {
public:
  static constexpr std::size_t size = static_cast<std::size_t>(timer_kind::count_);

  constexpr void set(timer_kind k, instant at) noexcept { m_at[idx(k)] = at; }
  constexpr void clear(timer_kind k) noexcept { m_at[idx(k)] = instant::max(); }
  constexpr void clear_all() noexcept { m_at.fill(instant::max()); }
  constexpr auto is_set(timer_kind k) const noexcept -> bool { return m_at[idx(k)] != instant::max(); }
  constexpr auto at(timer_kind k) const noexcept -> instant { return m_at[idx(k)]; }
  /// True (and the timer is cleared) when `k` is set and due at `now`.
  constexpr auto take_expired(timer_kind k, instant now) noexcept -> bool {
    if (m_at[idx(k)] <= now) {
      m_at[idx(k)] = instant::max();
      return true;
    }
    return false;
  }
  /// The earliest deadline, or nothing when no timer is set.
  constexpr auto next() const noexcept -> std::optional<instant> {
    instant m = instant::max();
    for (auto t : m_at) m = t < m ? t : m;
    if (m == instant::max()) return std::nullopt;
    return m;
  }

private:
  static constexpr auto idx(timer_kind k) noexcept -> std::size_t { return static_cast<std::size_t>(k); }
  std::array<instant, size> m_at = [] {
    std::array<instant, size> a{};
    a.fill(instant::max());
    return a;
  }();
};

} // namespace synack::tcp
