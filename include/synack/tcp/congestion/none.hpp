// synack/tcp/congestion/none.hpp: no congestion control (an unbounded window).
//
// For tests and for links the stack owns end to end (e.g. link::sim without loss): sending is
// limited only by the peer's receive window. Never use it on a shared network: RFC 5681 §3
// makes congestion control a MUST for TCP on the Internet. Every hook is a no-op; cwnd() and
// ssthresh() are `unlimited_window`, so the connection's min(cwnd, SND.WND) is SND.WND.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "synack/tcp/congestion/controller.hpp"

namespace synack::tcp {

class none {
public:
  explicit none(const congestion_config& = {}) noexcept {}

  void on_ack(instant, std::size_t, std::optional<duration>, std::size_t) noexcept {}
  void on_congestion_event(instant, std::size_t) noexcept {}
  void on_recovery_dup_ack(instant) noexcept {}
  void on_partial_ack(instant, std::size_t) noexcept {}
  void on_recovery_exit(instant, std::size_t) noexcept {}
  void on_rto(instant, std::size_t) noexcept {}
  void on_idle_restart(instant, duration, duration) noexcept {}
  void set_smss(std::size_t) noexcept {}

  auto cwnd() const noexcept -> std::size_t { return unlimited_window; }
  auto ssthresh() const noexcept -> std::size_t { return unlimited_window; }
  static constexpr auto name() noexcept -> std::string_view { return "none"; }
};

static_assert(check_congestion_controller<none>());

} // namespace synack::tcp
