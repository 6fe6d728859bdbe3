// synack/net/reassembly.hpp: IPv4 fragment reassembly with strict bounds (RFC 791 §3.2,
// RFC 815, RFC 1122 §3.3.2).
//
// A datagram is identified by (source, destination, protocol, identification) (RFC 791). Its
// fragments are copied into one buffer at their offsets; the received ranges are kept as at
// most `max_ranges` disjoint intervals (RFC 815's holes are the gaps between them). The
// datagram is complete when the fragment with MF = 0 has fixed its length and no gap remains.
//
// Bounds, all configurable, none growing with what a sender chooses:
//   - at most `max_datagrams` in reassembly at once;
//   - at most `max_datagram_bytes` per datagram (RFC 791: 65535 with the header) and
//     `max_total_bytes` of buffers over all of them (each buffer counted by its capacity: a
//     fragment at offset k makes a buffer of k bytes and more);
//   - at most `max_ranges` separate pieces per datagram;
//   - `timeout` after the first fragment (RFC 1122 §3.3.2: "The IP reassembly timeout value
//     SHOULD be a fixed value, not set from the remaining TTL"; Linux and we use 30 s).
// When a new datagram, or a datagram's growth, would pass max_datagrams or max_total_bytes,
// the oldest other datagrams (by their first fragment) are evicted to make room, and counted
// (`evictions()`). Refusing instead would let anyone who can send a few forged first fragments
// every 30 s lock every later datagram out (16 of them filled the table); with eviction a
// forger must send max_datagrams new datagrams between the first and the last fragment of a
// legitimate one to lose it. A datagram that could not fit alone is dropped and evicts nobody.
// Overlapping fragments drop the whole datagram (the teardrop and FragmentSmack attacks use
// them; RFC 5722 made the same rule for IPv6; Linux does it for IPv4 too). Exact duplicates
// are accepted.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "synack/time/instant.hpp"
#include "synack/util/bytes.hpp"
#include "synack/wire/ipv4.hpp"

namespace synack::net {

struct reassembly_config {
  bool enabled = true;
  std::size_t max_datagrams = 16;
  std::size_t max_datagram_bytes = 65535 - 20;
  std::size_t max_total_bytes = 256 * 1024;
  std::size_t max_ranges = 32;
  duration timeout = std::chrono::seconds{30};
};

class fragment_reassembler {
public:
  explicit fragment_reassembler(const reassembly_config& cfg = {}) : m_cfg(cfg) {}

  /// A fragment arrived (`ip.is_fragment()`); `payload` is its data. Returns the whole
  /// datagram's payload when this fragment completed it (valid until the next call).
  auto add(instant now, const wire::ipv4_repr& ip, bytes_view payload) -> std::optional<bytes_view> {
    expire(now);
    if (!m_cfg.enabled || m_cfg.max_datagrams == 0) return drop(1);
    const std::size_t offset = ip.fragment_offset;
    const std::size_t end = offset + payload.size();
    // RFC 791: every fragment but the last carries a multiple of 8 bytes.
    if (ip.more_fragments && (payload.empty() || payload.size() % 8 != 0)) return drop(1);
    if (end > m_cfg.max_datagram_bytes) return drop(1);

    auto* d = find(ip);
    if (!d) {
      // Make room by evicting the oldest datagram rather than refusing the new one (see the
      // header comment: refusing lets forged first fragments lock every later datagram out).
      while (m_datagrams.size() >= m_cfg.max_datagrams) evict(0);
      datagram fresh;
      fresh.src = ip.src;
      fresh.dst = ip.dst;
      fresh.protocol = ip.protocol;
      fresh.ident = ip.ident;
      fresh.deadline = now + m_cfg.timeout;
      m_datagrams.push_back(std::move(fresh));
      d = &m_datagrams.back();
    }
    if (d->length && (end > *d->length || (!ip.more_fragments && end != *d->length))) return drop_datagram(*d);
    if (!ip.more_fragments) {
      // The last fragment fixes the length; no data may lie beyond it.
      if (!d->ranges.empty() && d->ranges.back().second > end) return drop_datagram(*d);
      d->length = end;
    }
    // Overlap check: an exact duplicate is fine, any other overlap drops the datagram.
    for (const auto& [a, b] : d->ranges) {
      if (offset < b && a < end) {
        if (offset >= a && end <= b && std::memcmp(d->bytes.data() + offset, payload.data(), payload.size()) == 0) {
          return std::nullopt; // duplicate
        }
        return drop_datagram(*d);
      }
    }
    if (d->ranges.size() >= m_cfg.max_ranges) return drop_datagram(*d);
    if (end > d->bytes.capacity()) {
      // Grow geometrically (fragments usually come in order), up to the datagram bound; the
      // memory bound counts capacities, so every byte allocated here is counted.
      const std::size_t want =
          std::min({std::max(end, 2 * d->bytes.capacity()), m_cfg.max_datagram_bytes, m_cfg.max_total_bytes});
      if (want < end) return drop_datagram(*d); // it could not fit alone: evict nobody for it
      const std::size_t grow = want - d->bytes.capacity();
      if (m_total_bytes + grow > m_cfg.max_total_bytes) {
        // Evict the oldest other datagrams until the growth fits. `d` moves when an element
        // before it is erased: keep its index.
        auto i = index_of(*d);
        while (m_total_bytes + grow > m_cfg.max_total_bytes && m_datagrams.size() > 1) {
          const std::size_t victim = i == 0 ? 1 : 0;
          evict(victim);
          if (victim < i) --i;
        }
        d = &m_datagrams[i];
      }
      m_total_bytes -= d->bytes.capacity();
      d->bytes.reserve(want);
      m_total_bytes += d->bytes.capacity();
    }
    if (end > d->bytes.size()) d->bytes.resize(end);
    std::memcpy(d->bytes.data() + offset, payload.data(), payload.size());
    d->ranges.emplace_back(offset, end);
    std::sort(d->ranges.begin(), d->ranges.end());
    // Merge adjacent ranges.
    std::size_t w = 0;
    for (std::size_t r = 1; r < d->ranges.size(); ++r) {
      if (d->ranges[r].first == d->ranges[w].second)
        d->ranges[w].second = d->ranges[r].second;
      else
        d->ranges[++w] = d->ranges[r];
    }
    d->ranges.resize(w + 1);
    if (!d->length || d->ranges.size() != 1 || d->ranges[0].first != 0 || d->ranges[0].second != *d->length) {
      return std::nullopt;
    }
    // Complete: hand it out and forget it.
    m_total_bytes -= std::min(m_total_bytes, d->bytes.capacity());
    m_completed = std::move(d->bytes); // d->bytes is now empty: remove() subtracts nothing more
    remove(*d);
    return bytes_view{m_completed};
  }

  /// Drops datagrams whose timeout passed (RFC 1122 §3.3.2). An ICMP time exceeded
  /// (reassembly) is not sent: RFC 792 allows it only when fragment zero arrived, and hosts
  /// commonly omit it.
  void expire(instant now) {
    for (std::size_t i = 0; i < m_datagrams.size();) {
      if (m_datagrams[i].deadline <= now) {
        m_dropped += m_datagrams[i].ranges.empty() ? 1 : m_datagrams[i].ranges.size();
        ++m_timeouts;
        remove(m_datagrams[i]);
      } else {
        ++i;
      }
    }
  }

  auto pending() const noexcept -> std::size_t { return m_datagrams.size(); }
  /// Bytes of the datagrams' buffers (their capacity), at most max_total_bytes.
  auto bytes_held() const noexcept -> std::size_t { return m_total_bytes; }
  /// Fragments dropped so far (bounds, overlaps, timeouts, evictions).
  auto dropped() const noexcept -> std::uint64_t { return m_dropped; }
  auto timeouts() const noexcept -> std::uint64_t { return m_timeouts; }
  /// Datagrams evicted to make room for another (max_datagrams or max_total_bytes reached).
  auto evictions() const noexcept -> std::uint64_t { return m_evictions; }
  /// The earliest timeout, if any datagram is pending.
  auto next_deadline() const noexcept -> std::optional<instant> {
    std::optional<instant> d;
    for (const auto& g : m_datagrams)
      if (!d || g.deadline < *d) d = g.deadline;
    return d;
  }

private:
  struct datagram {
    wire::ipv4_address src;
    wire::ipv4_address dst;
    wire::ip_protocol protocol = wire::ip_protocol::tcp;
    std::uint16_t ident = 0;
    instant deadline;
    std::optional<std::size_t> length;
    std::vector<std::byte> bytes;
    std::vector<std::pair<std::size_t, std::size_t>> ranges; // sorted, disjoint, merged
  };

  auto find(const wire::ipv4_repr& ip) -> datagram* {
    for (auto& d : m_datagrams)
      if (d.src == ip.src && d.dst == ip.dst && d.protocol == ip.protocol && d.ident == ip.ident) return &d;
    return nullptr;
  }
  auto drop(std::uint64_t n) -> std::optional<bytes_view> {
    m_dropped += n;
    return std::nullopt;
  }
  auto drop_datagram(datagram& d) -> std::optional<bytes_view> {
    m_dropped += d.ranges.size() + 1;
    remove(d);
    return std::nullopt;
  }
  auto index_of(const datagram& d) const noexcept -> std::size_t {
    return static_cast<std::size_t>(&d - m_datagrams.data());
  }
  /// Evicts m_datagrams[i] (m_datagrams is in arrival order: 0 is the oldest).
  void evict(std::size_t i) {
    ++m_evictions;
    m_dropped += m_datagrams[i].ranges.empty() ? 1 : m_datagrams[i].ranges.size();
    remove(m_datagrams[i]);
  }
  void remove(datagram& d) {
    m_total_bytes -= std::min(m_total_bytes, d.bytes.capacity());
    m_datagrams.erase(m_datagrams.begin() + static_cast<std::ptrdiff_t>(index_of(d)));
  }

  reassembly_config m_cfg;
  std::vector<datagram> m_datagrams;
  std::vector<std::byte> m_completed;
  std::size_t m_total_bytes = 0;
  std::uint64_t m_dropped = 0;
  std::uint64_t m_timeouts = 0;
  std::uint64_t m_evictions = 0;
};

} // namespace synack::net
