// synack/net/arp_cache.hpp: the ARP cache of an Ethernet interface (RFC 826, RFC 1122
// §2.3.2), sans-IO: entries, their states and deadlines, and the bounded queues of IPv4
// packets waiting for a resolution. net/ethernet.hpp drives it (sends the requests, replies
// and queued packets); this file only keeps the table.
//
// Contract:
// - At most `max_entries` entries and `max_queued_total` queued packets (of at most
//   `max_packet_len` bytes each, copied into a pool allocated once at construction), and at
//   most `max_queued_per_hop` per entry. Nothing allocates after construction.
// - States: `incomplete` (a resolution is running: broadcast requests `retry_interval` apart),
//   `reachable` (the mapping is trusted until `expires`), `probe` (the entry expired while in
//   use: packets still go to the known address while unicast requests check it, RFC 1122
//   §2.3.2.1 "Unicast Poll").
// - At most `max_incomplete` entries are incomplete: a new incomplete entry beyond that evicts
//   the least recently used incomplete one (abandoning its resolution, dropping its packets).
//   Otherwise a new entry in a full table evicts the least recently used resolved entry with no
//   packets waiting. So resolved entries are pushed out only by the churn of other resolved
//   ones, never by a flood of resolutions that do not complete: the max_entries -
//   max_incomplete most recently used resolved entries survive any such flood. Evictions are
//   counted (resolved and incomplete apart).
// - A full per-hop queue drops its oldest packet to make room for the new one: RFC 1122
//   §2.3.2.2 "The link layer SHOULD save (rather than discard) at least one (the latest)
//   packet of each set of packets destined to the same unresolved IP address". A full pool
//   drops the new packet.
// Lookups scan a flat array of 32-bit keys (a few hundred entries at most, and a one-entry
// memo catches the common case of one next hop, the gateway).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "synack/time/instant.hpp"
#include "synack/util/bytes.hpp"
#include "synack/wire/ethernet.hpp"
#include "synack/wire/ipv4_address.hpp"

namespace synack::net {

struct arp_config {
  /// How long a resolved mapping is trusted. RFC 1122 §2.3.2.1 requires entries to time out;
  /// Linux uses a randomised 15-45 s, and 60 s keeps requests rare on a quiet link.
  duration reachable_time = std::chrono::seconds{60};
  /// Time between requests for the same address. RFC 1122 §2.3.2.1: "The recommended maximum
  /// rate is 1 per second per destination."
  duration retry_interval = std::chrono::seconds{1};
  /// Requests sent for one resolution (or one unicast poll) before giving up; the queued
  /// packets are then dropped and counted.
  unsigned max_requests = 3;
  /// Entries in the cache.
  std::size_t max_entries = 256;
  /// Of them, at most this many incomplete (resolving; clamped below max_entries). A flood of
  /// packets to forged on-link next hops (SYN-ACKs to spoofed sources) makes one each: beyond
  /// this bound the least recently used incomplete entry is evicted, so they can never push
  /// out the max_entries - max_incomplete most recently used resolved entries (the gateway).
  std::size_t max_incomplete = 32;
  /// Packets waiting for one next hop, and for all of them together.
  std::size_t max_queued_per_hop = 8;
  std::size_t max_queued_total = 64;
  /// The largest IPv4 packet that can wait (the link MTU); larger ones are dropped.
  std::size_t max_packet_len = 1500;
  /// ARP replies waiting for a transmit buffer.
  std::size_t max_pending_replies = 16;
  /// RFC 5227 §2.3: a host "MUST then announce that it is commencing to use this address by
  /// broadcasting ANNOUNCE_NUM ARP Announcements, spaced ANNOUNCE_INTERVAL seconds apart"
  /// (§1.1: 2 and 2 seconds). 0 sends none.
  unsigned announcements = 2;
  duration announce_interval = std::chrono::seconds{2};
  /// RFC 5227 §2.4 (b): defend our address at most once per DEFEND_INTERVAL (10 s).
  duration defend_interval = std::chrono::seconds{10};
};

enum class arp_state : std::uint8_t {
  incomplete, ///< resolving: broadcast requests, packets queue
  reachable,  ///< resolved, trusted until `expires`
  probe,      ///< expired while in use: still used, checked with unicast requests
};

struct arp_entry {
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  wire::ipv4_address ip;
  wire::mac_address mac;
  arp_state state = arp_state::incomplete;
  /// Requests sent in the current resolution or probe.
  unsigned requests = 0;
  /// incomplete / probe: when the next request is due (or the resolution gives up).
  instant next_request;
  /// reachable / probe: until when the mapping was confirmed to hold.
  instant expires;
  /// The last time a packet was sent (or queued) through this entry: for LRU eviction.
  instant last_used;
  /// Resolved with packets still queued: the interface sends them at its next poll.
  bool flush_pending = false;
  // The waiting packets, a FIFO of pool slots.
  std::uint32_t queue_head = none;
  std::uint32_t queue_tail = none;
  std::uint32_t queued = 0;
};

class arp_cache {
public:
  enum class enqueue_result : std::uint8_t {
    queued,          ///< the packet waits
    replaced_oldest, ///< it waits; the hop's oldest packet was dropped for it
    dropped,         ///< no room in the pool, or larger than max_packet_len: dropped
  };

  explicit arp_cache(const arp_config& cfg = {})
      : m_cfg(cfg),
        m_entries(std::max<std::size_t>(cfg.max_entries, 1)),
        m_keys(m_entries.size(), 0),
        m_pool(new std::byte[std::max<std::size_t>(cfg.max_queued_total * cfg.max_packet_len, 1)]),
        m_next(cfg.max_queued_total, arp_entry::none),
        m_len(cfg.max_queued_total, 0) {
    m_free.reserve(cfg.max_queued_total);
    for (std::size_t i = cfg.max_queued_total; i-- > 0;) m_free.push_back(static_cast<std::uint32_t>(i));
  }

  auto config() const noexcept -> const arp_config& { return m_cfg; }
  auto size() const noexcept -> std::size_t { return m_size; }
  auto capacity() const noexcept -> std::size_t { return m_entries.size(); }
  /// Packets waiting, over all entries.
  auto queued_total() const noexcept -> std::size_t { return m_next.size() - m_free.size(); }

  /// The entry for `ip`, or nullptr.
  auto find(wire::ipv4_address ip) noexcept -> arp_entry* {
    const std::uint32_t key = ip.to_u32();
    if (key == 0) return nullptr;
    if (m_memo < m_keys.size() && m_keys[m_memo] == key) return &m_entries[m_memo];
    for (std::size_t i = 0; i < m_keys.size(); ++i) {
      if (m_keys[i] == key) {
        m_memo = i;
        return &m_entries[i];
      }
    }
    return nullptr;
  }
  auto find(wire::ipv4_address ip) const noexcept -> const arp_entry* { return const_cast<arp_cache*>(this)->find(ip); }

  /// A new entry for `ip` (which must not be in the cache) in `state`. Room is made by evicting:
  /// - for a new incomplete entry when max_incomplete() entries are incomplete already: the
  ///   least recently used incomplete entry (its resolution is abandoned, its packets dropped);
  /// - else, when the cache is full: the least recently used resolved entry with no packets
  ///   waiting, or (for a new incomplete entry, if there is none) the LRU incomplete one.
  /// nullptr if no room can be made (only for a resolved entry, when every other entry is
  /// incomplete or holds packets).
  auto insert(instant now, wire::ipv4_address ip, arp_state state = arp_state::incomplete) noexcept -> arp_entry* {
    constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
    std::size_t free_slot = npos, lru_incomplete = npos, lru_resolved = npos, incomplete = 0;
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
      if (m_keys[i] == 0) {
        if (free_slot == npos) free_slot = i;
        continue;
      }
      const arp_entry& e = m_entries[i];
      if (e.state == arp_state::incomplete) {
        ++incomplete;
        if (lru_incomplete == npos || e.last_used < m_entries[lru_incomplete].last_used) lru_incomplete = i;
      } else if (e.queued == 0) {
        if (lru_resolved == npos || e.last_used < m_entries[lru_resolved].last_used) lru_resolved = i;
      }
    }
    const bool new_incomplete = state == arp_state::incomplete;
    std::size_t slot = npos;
    if (new_incomplete && incomplete >= max_incomplete() && lru_incomplete != npos) {
      slot = lru_incomplete;
    } else if (free_slot != npos) {
      slot = free_slot;
    } else if (lru_resolved != npos) {
      slot = lru_resolved;
    } else if (new_incomplete && lru_incomplete != npos) {
      slot = lru_incomplete;
    } else {
      return nullptr;
    }
    if (m_keys[slot] != 0) {
      if (m_entries[slot].state == arp_state::incomplete) {
        ++m_incomplete_evictions;
        m_evicted_packets += remove_at(slot);
      } else {
        ++m_evictions;
        remove_at(slot);
      }
    }
    arp_entry& e = m_entries[slot];
    e = arp_entry{};
    e.ip = ip;
    e.state = state;
    e.next_request = now;
    e.expires = now;
    e.last_used = now;
    m_keys[slot] = ip.to_u32();
    m_memo = slot;
    ++m_size;
    return &e;
  }

  /// Removes `e`; returns how many queued packets it dropped.
  auto remove(arp_entry& e) noexcept -> std::size_t { return remove_at(index_of(e)); }

  /// Queues a packet of `len` bytes for `e`, written in place by fill(bytes_mut).
  template <class F>
  auto enqueue(arp_entry& e, std::size_t len, F&& fill) -> enqueue_result {
    if (len > m_cfg.max_packet_len || m_cfg.max_queued_total == 0 || m_cfg.max_queued_per_hop == 0)
      return enqueue_result::dropped;
    enqueue_result result = enqueue_result::queued;
    if (e.queued >= m_cfg.max_queued_per_hop) {
      pop(e);
      result = enqueue_result::replaced_oldest;
    }
    if (m_free.empty()) return enqueue_result::dropped;
    const std::uint32_t s = m_free.back();
    m_free.pop_back();
    fill(bytes_mut{slot_data(s), len});
    m_len[s] = static_cast<std::uint32_t>(len);
    m_next[s] = arp_entry::none;
    if (e.queue_tail == arp_entry::none)
      e.queue_head = s;
    else
      m_next[e.queue_tail] = s;
    e.queue_tail = s;
    ++e.queued;
    return result;
  }

  /// The oldest packet waiting for `e` (empty if none).
  auto front(const arp_entry& e) const noexcept -> bytes_view {
    if (e.queue_head == arp_entry::none) return {};
    return {slot_data(e.queue_head), m_len[e.queue_head]};
  }
  /// Drops the oldest packet waiting for `e`.
  void pop(arp_entry& e) noexcept {
    const std::uint32_t s = e.queue_head;
    if (s == arp_entry::none) return;
    e.queue_head = m_next[s];
    if (e.queue_head == arp_entry::none) e.queue_tail = arp_entry::none;
    --e.queued;
    m_free.push_back(s);
  }

  /// Calls f(arp_entry&) for every entry. f may remove the entry it is given.
  template <class F>
  void for_each(F&& f) {
    for (std::size_t i = 0; i < m_entries.size(); ++i)
      if (m_keys[i] != 0) f(m_entries[i]);
  }

  /// Resolved entries evicted to make room.
  auto evictions() const noexcept -> std::uint64_t { return m_evictions; }
  /// Incomplete entries evicted to make room (their resolutions abandoned), and the packets
  /// that were waiting on them.
  auto incomplete_evictions() const noexcept -> std::uint64_t { return m_incomplete_evictions; }
  auto evicted_packets() const noexcept -> std::uint64_t { return m_evicted_packets; }
  /// How many entries may be incomplete at once: arp_config::max_incomplete, clamped below the
  /// capacity so that a resolved entry always has a place (at least 1).
  auto max_incomplete() const noexcept -> std::size_t {
    return std::max<std::size_t>(1, std::min(m_cfg.max_incomplete, m_entries.size() - 1));
  }
  /// Incomplete entries now.
  auto incomplete() const noexcept -> std::size_t {
    std::size_t n = 0;
    for (std::size_t i = 0; i < m_entries.size(); ++i)
      if (m_keys[i] != 0 && m_entries[i].state == arp_state::incomplete) ++n;
    return n;
  }

private:
  auto index_of(const arp_entry& e) const noexcept -> std::size_t {
    return static_cast<std::size_t>(&e - m_entries.data());
  }
  auto slot_data(std::uint32_t s) const noexcept -> std::byte* {
    return m_pool.get() + static_cast<std::size_t>(s) * m_cfg.max_packet_len;
  }
  auto remove_at(std::size_t i) noexcept -> std::size_t {
    arp_entry& e = m_entries[i];
    const std::size_t dropped = e.queued;
    while (e.queued != 0) pop(e);
    m_keys[i] = 0;
    --m_size;
    return dropped;
  }

  arp_config m_cfg;
  std::vector<arp_entry> m_entries;
  std::vector<std::uint32_t> m_keys; // the entries' IPv4 addresses; 0 marks a free entry
  std::size_t m_size = 0;
  std::size_t m_memo = 0;
  std::uint64_t m_evictions = 0;
  std::uint64_t m_incomplete_evictions = 0;
  std::uint64_t m_evicted_packets = 0;
  std::unique_ptr<std::byte[]> m_pool;
  std::vector<std::uint32_t> m_next; // per pool slot: the next slot of the same queue
  std::vector<std::uint32_t> m_len;  // per pool slot: the packet length
  std::vector<std::uint32_t> m_free; // free pool slots
};

} // namespace synack::net
