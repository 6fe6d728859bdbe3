// synack/tcp/isn.hpp: initial sequence numbers, RFC 6528.
//
// RFC 6528 §3: "ISN = M + F(localip, localport, remoteip, remoteport, secretkey)" where "M is
// the 4 microsecond timer, and F() is a pseudorandom function (PRF) of the connection-id. F()
// MUST NOT be computable from the outside, or an attacker could still guess at sequence
// numbers from the ISN used for some other connection." F here is SipHash-2-4
// (util/siphash.hpp) keyed with a 128-bit secret: "Key lengths of 128 bits should be adequate."
//
// Contract
// - Pure: the caller passes `now`; the key comes from the stack, which fills it from
//   getrandom(2) once at construction (tests pass fixed keys). One key per stack; the
//   generator mixes in a domain tag, so the same key can also serve the port allocator and
//   SYN cookies without their outputs being related.
// - For one 4-tuple, ISNs advance with time at 250,000 per second (one per 4 µs, the clock of
//   RFC 9293 §3.4.1; 2^32 ticks take about 4.8 hours), so a new incarnation of a connection
//   starts above the old one's sequence numbers; for different 4-tuples the offsets are
//   unrelated and unpredictable without the key.
#pragma once

#include <cstdint>

#include "synack/time/instant.hpp"
#include "synack/util/siphash.hpp"
#include "synack/wire/endpoint.hpp"
#include "synack/wire/seq_number.hpp"

namespace synack::tcp {

namespace detail {
/// Hashes a domain tag and a connection-id (both endpoints, network byte order).
inline auto hash_tuple(const siphash_key& key, std::uint8_t tag, const wire::endpoint& local,
                       const wire::endpoint& remote) noexcept -> siphasher {
  siphasher h{key};
  h.update_u8(tag).update_u32(local.addr.to_u32()).update_u16(local.port);
  h.update_u32(remote.addr.to_u32()).update_u16(remote.port);
  return h;
}
/// Domain tags: one per use of the stack's key.
inline constexpr std::uint8_t tag_isn = 'I';
inline constexpr std::uint8_t tag_ts_offset = 'T';
inline constexpr std::uint8_t tag_port_offset = 'P';
inline constexpr std::uint8_t tag_port_index = 'Q';
inline constexpr std::uint8_t tag_port_table = 'R';
inline constexpr std::uint8_t tag_cookie_base = 'C';
inline constexpr std::uint8_t tag_cookie_mac = 'D';
} // namespace detail

class isn_generator {
public:
  explicit isn_generator(const siphash_key& key) noexcept : m_key(key) {}

  /// The ISN for a connection from `local` to `remote` opened at `now`: M + F.
  auto operator()(instant now, const wire::endpoint& local, const wire::endpoint& remote) const noexcept
      -> wire::seq_number {
    return wire::seq_number{timer(now) + f(local, remote)};
  }

  /// M: RFC 6528 §3 "the 4 microsecond timer", i.e. now in units of 4 µs, modulo 2^32.
  static constexpr auto timer(instant now) noexcept -> std::uint32_t {
    auto q = now.nanos() / 4000;
    if (now.nanos() % 4000 < 0) --q; // floor, for instants before the clock's epoch
    return static_cast<std::uint32_t>(q);
  }

  /// F: the keyed PRF of the connection-id.
  auto f(const wire::endpoint& local, const wire::endpoint& remote) const noexcept -> std::uint32_t {
    return static_cast<std::uint32_t>(detail::hash_tuple(m_key, detail::tag_isn, local, remote).finish());
  }

  /// A per-connection offset for the TCP timestamp clock (RFC 7323 recommends randomizing the
  /// TSval start per connection, so that TSval reveals neither the host's uptime nor which
  /// connections share a host clock; Linux's secure_tcp_ts_off does the same).
  auto timestamp_offset(const wire::endpoint& local, const wire::endpoint& remote) const noexcept -> std::uint32_t {
    return static_cast<std::uint32_t>(detail::hash_tuple(m_key, detail::tag_ts_offset, local, remote).finish());
  }

private:
  siphash_key m_key;
};

} // namespace synack::tcp
