// synack/time/instant.hpp: `instant` (a point in time) and `duration`.
//
// An instant counts nanoseconds since an arbitrary epoch chosen by the clock that produced it
// (smoltcp's `Instant` is the model). Nothing in wire/, net/ or tcp/ reads a clock: the
// runtime reads its clock once per loop turn and passes `now` down.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

namespace synack {

/// A span of time. std::chrono's nanoseconds, so `200ms` and `std::chrono::seconds{1}` work.
using duration = std::chrono::nanoseconds;

/// A point in time: nanoseconds since the epoch of the clock that produced it.
class instant {
public:
  constexpr instant() noexcept = default;
  static constexpr auto from_nanos(std::int64_t ns) noexcept -> instant { return instant{ns}; }
  static constexpr auto from_micros(std::int64_t us) noexcept -> instant { return instant{us * 1000}; }
  static constexpr auto from_millis(std::int64_t ms) noexcept -> instant { return instant{ms * 1000000}; }
  /// The latest representable instant; used as "never".
  static constexpr auto max() noexcept -> instant { return instant{std::numeric_limits<std::int64_t>::max()}; }

  constexpr auto nanos() const noexcept -> std::int64_t { return m_ns; }
  constexpr auto micros() const noexcept -> std::int64_t { return m_ns / 1000; }
  constexpr auto millis() const noexcept -> std::int64_t { return m_ns / 1000000; }
  constexpr auto since_epoch() const noexcept -> duration { return duration{m_ns}; }

  friend constexpr auto operator+(instant t, duration d) noexcept -> instant { return instant{t.m_ns + d.count()}; }
  friend constexpr auto operator+(duration d, instant t) noexcept -> instant { return t + d; }
  friend constexpr auto operator-(instant t, duration d) noexcept -> instant { return instant{t.m_ns - d.count()}; }
  friend constexpr auto operator-(instant a, instant b) noexcept -> duration { return duration{a.m_ns - b.m_ns}; }
  constexpr auto operator+=(duration d) noexcept -> instant& {
    m_ns += d.count();
    return *this;
  }
  constexpr auto operator-=(duration d) noexcept -> instant& {
    m_ns -= d.count();
    return *this;
  }
  friend constexpr auto operator<=>(instant, instant) noexcept = default;
  friend constexpr auto operator==(instant, instant) noexcept -> bool = default;

private:
  constexpr explicit instant(std::int64_t ns) noexcept : m_ns(ns) {}
  std::int64_t m_ns = 0;
};

} // namespace synack

/// Prints an instant as seconds with microsecond precision, e.g. `12.000345s`.
template <>
struct fmt::formatter<synack::instant> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(synack::instant t, Ctx& ctx) const {
    const auto us = t.micros();
    const auto sign = us < 0 ? "-" : "";
    const auto a = us < 0 ? -us : us;
    return fmt::format_to(ctx.out(), "{}{}.{:06}s", sign, a / 1000000, a % 1000000);
  }
};
