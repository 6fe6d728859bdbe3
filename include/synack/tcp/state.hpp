// synack/tcp/state.hpp: the 11 TCP connection states of RFC 9293 §3.3.2.
//
// Each state is one bit, so predicates read like the RFC: `in_state(s, established | close_wait)`
// (Seastar's tcp_state does the same). Names print as in the seed's table of 11 states
// (`SYN_RCVD`, `FIN_WAIT_1`, ...).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

namespace synack::tcp {

enum class state : std::uint16_t {
  closed = 1u << 0,       // no connection
  listen = 1u << 1,       // waiting for a SYN
  syn_sent = 1u << 2,     // sent a SYN, waiting for the SYN-ACK
  syn_received = 1u << 3, // got a SYN, sent a SYN-ACK, waiting for its ACK
  established = 1u << 4,  // open, data flows both ways
  fin_wait_1 = 1u << 5,   // we sent a FIN, not yet acknowledged
  fin_wait_2 = 1u << 6,   // our FIN is acknowledged, waiting for the peer's FIN
  close_wait = 1u << 7,   // the peer sent a FIN, waiting for our application to close
  closing = 1u << 8,      // both sent FINs at once; waiting for the ACK of ours
  last_ack = 1u << 9,     // we sent our FIN after the peer's; waiting for its ACK
  time_wait = 1u << 10,   // both FINs acknowledged; waiting 2*MSL for stray segments
};

inline constexpr std::size_t state_count = 11;

/// A set of states, for `in_state(s, a | b)`.
class state_set {
public:
  constexpr state_set(state s) noexcept : m_bits(static_cast<std::uint16_t>(s)) {}
  constexpr explicit state_set(std::uint16_t bits) noexcept : m_bits(bits) {}
  constexpr auto contains(state s) const noexcept -> bool { return (m_bits & static_cast<std::uint16_t>(s)) != 0; }
  constexpr auto bits() const noexcept -> std::uint16_t { return m_bits; }
  friend constexpr auto operator|(state_set a, state_set b) noexcept -> state_set {
    return state_set{std::uint16_t(a.m_bits | b.m_bits)};
  }

private:
  std::uint16_t m_bits;
};

constexpr auto operator|(state a, state b) noexcept -> state_set { return state_set{a} | state_set{b}; }
constexpr auto in_state(state s, state_set set) noexcept -> bool { return set.contains(s); }

/// The position of a state in RFC 9293's order (CLOSED = 0 ... TIME_WAIT = 10).
constexpr auto index_of(state s) noexcept -> std::size_t {
  return static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(s)));
}
constexpr auto state_at(std::size_t index) noexcept -> state { return static_cast<state>(1u << index); }

/// The name of a state as in the seed's table (`SYN_RCVD`, `FIN_WAIT_1`, ...).
constexpr auto name(state s) noexcept -> std::string_view {
  constexpr std::array<std::string_view, state_count> names{"CLOSED",      "LISTEN",     "SYN_SENT",   "SYN_RCVD",
                                                            "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
                                                            "CLOSING",     "LAST_ACK",   "TIME_WAIT"};
  return names[index_of(s)];
}

/// RFC 9293 §3.3.2: the synchronized states, where every segment must carry an ACK.
inline constexpr state_set synchronized_states = state::established | state::fin_wait_1 | state::fin_wait_2 |
                                                 state::close_wait | state::closing | state::last_ack |
                                                 state::time_wait;

} // namespace synack::tcp

template <>
struct fmt::formatter<synack::tcp::state> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(synack::tcp::state s, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(synack::tcp::name(s), ctx);
  }
};
