// synack/wire/seq_number.hpp: TCP sequence numbers with modular (mod 2^32) arithmetic.
//
// RFC 9293 §3.4: "It is essential to remember that the actual sequence number space is
// finite, though very large ... all arithmetic dealing with sequence numbers must be
// performed modulo 2**32." Comparison is therefore `a < b  <=>  (int32_t)(a - b) < 0`
// (as Seastar's tcp_seq and smoltcp's SeqNumber do), valid while the two numbers are less
// than 2^31 apart, which the window sizes guarantee.
#pragma once

#include <compare>
#include <cstdint>

#include <fmt/format.h>

namespace synack::wire {

class seq_number {
public:
  constexpr seq_number() noexcept = default;
  constexpr explicit seq_number(std::uint32_t raw) noexcept : m_raw(raw) {}

  constexpr auto raw() const noexcept -> std::uint32_t { return m_raw; }

  friend constexpr auto operator+(seq_number s, std::uint32_t n) noexcept -> seq_number {
    return seq_number{s.m_raw + n};
  }
  friend constexpr auto operator-(seq_number s, std::uint32_t n) noexcept -> seq_number {
    return seq_number{s.m_raw - n};
  }
  /// Signed distance b -> a (a - b), meaningful while |a - b| < 2^31.
  friend constexpr auto operator-(seq_number a, seq_number b) noexcept -> std::int32_t {
    return static_cast<std::int32_t>(a.m_raw - b.m_raw);
  }
  constexpr auto operator+=(std::uint32_t n) noexcept -> seq_number& {
    m_raw += n;
    return *this;
  }
  constexpr auto operator-=(std::uint32_t n) noexcept -> seq_number& {
    m_raw -= n;
    return *this;
  }

  friend constexpr auto operator==(seq_number a, seq_number b) noexcept -> bool { return a.m_raw == b.m_raw; }
  friend constexpr auto operator<=>(seq_number a, seq_number b) noexcept -> std::strong_ordering {
    return (a - b) <=> 0;
  }

private:
  std::uint32_t m_raw = 0;
};

/// Larger of two sequence numbers under modular comparison.
constexpr auto max(seq_number a, seq_number b) noexcept -> seq_number { return a < b ? b : a; }
/// Smaller of two sequence numbers under modular comparison.
constexpr auto min(seq_number a, seq_number b) noexcept -> seq_number { return a < b ? a : b; }

/// RFC 9293 §3.4 acceptability tests: `lo <= s < hi` in modular arithmetic.
constexpr auto in_range(seq_number lo, seq_number s, seq_number hi) noexcept -> bool { return lo <= s && s < hi; }

} // namespace synack::wire

template <>
struct fmt::formatter<synack::wire::seq_number> : fmt::formatter<std::uint32_t> {
  template <class Ctx>
  auto format(synack::wire::seq_number s, Ctx& ctx) const {
    return fmt::formatter<std::uint32_t>::format(s.raw(), ctx);
  }
};
