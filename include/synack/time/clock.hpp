// synack/time/clock.hpp: the clock concept, the steady clock and the manual clock.
//
// A clock is anything with `now() -> instant`. The runtime reads it once per loop turn.
// `manual_clock` only moves when told to: with it, the event loop jumps virtual time to the
// next timer deadline instead of sleeping, so simulations of minutes run in milliseconds.
#pragma once

#include <chrono>
#include <concepts>

#include "synack/time/instant.hpp"

namespace synack {

/// A source of `instant`s. `is_virtual` says whether time only moves when the program moves
/// it (then the loop advances it to the next deadline instead of waiting).
template <class C>
concept clock = requires(C& c) {
  { c.now() } -> std::same_as<instant>;
  { C::is_virtual } -> std::convertible_to<bool>;
};

/// CLOCK_MONOTONIC, via std::chrono::steady_clock.
class steady_clock {
public:
  static constexpr bool is_virtual = false;
  auto now() const noexcept -> instant {
    const auto d = std::chrono::steady_clock::now().time_since_epoch();
    return instant::from_nanos(std::chrono::duration_cast<duration>(d).count());
  }
};

/// A clock that only moves when `advance` or `set` is called. Starts at `start`.
class manual_clock {
public:
  static constexpr bool is_virtual = true;
  constexpr explicit manual_clock(instant start = instant::from_nanos(0)) noexcept : m_now(start) {}
  constexpr auto now() const noexcept -> instant { return m_now; }
  constexpr void advance(duration d) noexcept { m_now += d; }
  /// Moves the clock to `t`; time never goes backwards, so an earlier `t` is ignored.
  constexpr void set(instant t) noexcept {
    if (t > m_now) m_now = t;
  }

private:
  instant m_now;
};

static_assert(clock<steady_clock>);
static_assert(clock<manual_clock>);

} // namespace synack
