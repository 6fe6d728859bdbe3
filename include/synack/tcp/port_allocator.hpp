// synack/tcp/port_allocator.hpp: ephemeral port selection, RFC 6056 Algorithm 4.
//
// RFC 6056 §3.3.4 "Algorithm 4: Double-Hash Port Selection Algorithm":
//     for(i = 0; i < TABLE_LENGTH; i++) table[i] = random() % 65536;     /* at boot */
//     num_ephemeral = max_ephemeral - min_ephemeral + 1;
//     offset = F(local_IP, remote_IP, remote_port, secret_key1);
//     index = G(local_IP, remote_IP, remote_port, secret_key2);
//     count = num_ephemeral;
//     do {
//         port = min_ephemeral + (offset + table[index]) % num_ephemeral;
//         table[index]++;
//         if(check_suitable_port(port)) return port;
//         count--;
//     } while (count > 0);
//     return ERROR;
//
// Why Algorithm 4 (also Linux's choice): like Algorithm 3 it gives each destination its own
// unpredictable sequence of ports (F keyed with a secret), so an off-path attacker cannot guess
// the port of a connection to someone else; unlike Algorithm 3's single global counter, the
// per-bucket counters `table[index]` do not let an attacker who connects to its own server
// learn how many connections we made to other destinations in between, and ports to one
// destination still advance sequentially, which keeps reuse of a recently used 4-tuple rare.
//
// Contract
// - F and G are SipHash-2-4 (util/siphash.hpp) with the stack's 128-bit key and distinct domain
//   tags; the table is also filled from the key, so tests are deterministic.
// - `allocate` tries every port of the range at most once (count = num_ephemeral) and returns
//   the first one the caller's predicate `in_use(port)` rejects; nullopt when all are taken.
//   The counters are kept modulo the range size, so the walk always covers the whole range.
// - The range defaults to IANA's dynamic ports 49152-65535 (RFC 6335 §6). RFC 6056 §3.2
//   suggests using all of 1024-65535 for more entropy; Linux uses 32768-60999. Configurable.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "synack/tcp/isn.hpp"
#include "synack/util/siphash.hpp"
#include "synack/wire/endpoint.hpp"
#include "synack/wire/ipv4_address.hpp"

namespace synack::tcp {

struct port_range {
  std::uint16_t first = 49152;
  std::uint16_t last = 65535;
  constexpr auto size() const noexcept -> std::uint32_t { return std::uint32_t{last} - first + 1; }
  constexpr auto contains(std::uint16_t p) const noexcept -> bool { return first <= p && p <= last; }
};

class port_allocator {
public:
  /// RFC 6056 §3.3.4's TABLE_LENGTH (the RFC leaves the size open; 256 counters = 1 KiB).
  static constexpr std::size_t table_length = 256;

  /// `range` must be non-empty and must not include port 0 (a range with first > last or
  /// first == 0 is corrected to the default).
  explicit port_allocator(const siphash_key& key, port_range range = {}) noexcept : m_key(key), m_range(range) {
    if (m_range.first == 0 || m_range.first > m_range.last) m_range = port_range{};
    const auto n = m_range.size();
    for (std::size_t i = 0; i < table_length; ++i) {
      // "table[i] = random() % 65536": pseudorandom from the key, kept modulo the range size.
      const auto r =
          siphasher{m_key}.update_u8(detail::tag_port_table).update_u32(static_cast<std::uint32_t>(i)).finish();
      m_table[i] = static_cast<std::uint32_t>(r % n);
    }
  }

  /// An ephemeral port for a connection from `local_addr` to `remote`, or nullopt if every
  /// port of the range is in use. `in_use(port)` says whether the caller cannot use `port`
  /// (RFC 6056's check_suitable_port() negated: e.g. the 4-tuple exists, or the port is bound
  /// by a listener). Tries each port at most once.
  template <class InUse>
  requires std::predicate<InUse&, std::uint16_t>
  auto allocate(wire::ipv4_address local_addr, const wire::endpoint& remote, InUse&& in_use)
      -> std::optional<std::uint16_t> {
    const auto n = m_range.size();
    const auto offset = static_cast<std::uint32_t>(hash(detail::tag_port_offset, local_addr, remote) % n);
    auto& counter = m_table[hash(detail::tag_port_index, local_addr, remote) % table_length];
    for (std::uint32_t count = n; count > 0; --count) {
      const auto port = static_cast<std::uint16_t>(m_range.first + (offset + counter) % n);
      counter = (counter + 1) % n; // "table[index]++"
      if (!in_use(port)) return port;
    }
    return std::nullopt;
  }

  auto range() const noexcept -> port_range { return m_range; }

private:
  // F and G: keyed hashes of (local IP, remote IP, remote port), as RFC 6056 specifies.
  auto hash(std::uint8_t tag, wire::ipv4_address local_addr, const wire::endpoint& remote) const noexcept
      -> std::uint64_t {
    return siphasher{m_key}
        .update_u8(tag)
        .update_u32(local_addr.to_u32())
        .update_u32(remote.addr.to_u32())
        .update_u16(remote.port)
        .finish();
  }

  siphash_key m_key;
  port_range m_range;
  std::array<std::uint32_t, table_length> m_table{};
};

} // namespace synack::tcp
