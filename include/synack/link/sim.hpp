// synack/link/sim.hpp: a simulated wire on virtual time, with seeded faults.
//
// `sim_channel` is one direction of a wire: a packet goes in with send(now, bytes) and comes out
// of deliver(now, f) at its delivery time. Between the two it may be lost (uniformly, or in
// bursts with a Gilbert-Elliott model), duplicated, reordered, corrupted (bit flips the
// checksums must catch), delayed with jitter, queued behind a bandwidth limit, or dropped for
// exceeding the MTU. `sim_wire` pairs two channels.
//
// Determinism: everything comes from one seeded generator (SplitMix64, implemented here, and
// integer-only probability tests), never from std::random distributions, whose output differs
// between standard libraries. The same seed and the same sequence of calls give the same run.
//
// The channel is sans-IO: it never reads a clock. Tests drive it directly with two stacks on a
// manual clock; the runtime adapter (`link::sim_link`, in link/sim_link.hpp) plugs it into the
// event loop.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "synack/time/instant.hpp"
#include "synack/util/bytes.hpp"

namespace synack::link {

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for fault injection.
class sim_random {
public:
  explicit sim_random(std::uint64_t seed = 1) noexcept : m_state(seed) {}
  auto next() noexcept -> std::uint64_t {
    std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// True with probability `p` (0..1), from the top 53 bits.
  auto chance(double p) noexcept -> bool {
    if (p <= 0.0) return false;
    if (p >= 1.0) return true;
    return static_cast<double>(next() >> 11) * 0x1.0p-53 < p;
  }
  /// Uniform in [0, n).
  auto below(std::uint64_t n) noexcept -> std::uint64_t { return n == 0 ? 0 : next() % n; }

private:
  std::uint64_t m_state;
};

struct sim_config {
  std::uint64_t seed = 1;
  /// Probability that a packet is lost (uniformly, independently).
  double loss = 0.0;
  /// Gilbert-Elliott bursty loss: per packet, the chance to enter the bad state, to leave it,
  /// and the loss probability while in it. Off when burst_enter is 0.
  double burst_enter = 0.0;
  double burst_exit = 0.25;
  double burst_loss = 0.9;
  /// Probability that a packet is delivered twice.
  double duplicate = 0.0;
  /// Probability that a packet is held back by reorder_delay (later packets overtake it).
  double reorder = 0.0;
  duration reorder_delay = std::chrono::milliseconds{3};
  /// Probability that a packet gets one random bit flipped. One flipped bit is always caught by
  /// the Internet checksum (RFC 1071's ones'-complement sum changes); two or more flips can
  /// cancel (a 0->1 and a 1->0 flip of the same bit in two words), which real links' CRCs
  /// catch before IP sees the packet, so the simulation does not produce them.
  double corrupt = 0.0;
  /// One-way latency, plus a uniform extra in [0, jitter] (jitter alone never reorders).
  duration delay = std::chrono::milliseconds{1};
  duration jitter = duration::zero();
  /// Bandwidth in bits per second (0: unlimited) and the queue in front of it, in bytes;
  /// a packet that does not fit the queue is dropped (drop-tail).
  std::uint64_t rate_bps = 0;
  std::size_t queue_bytes = 256 * 1024;
  /// Packets larger than this are dropped (counted as too_big).
  std::size_t mtu = 1500;
};

struct sim_stats {
  std::uint64_t sent = 0;       // packets handed to send()
  std::uint64_t delivered = 0;  // packets handed out by deliver() (duplicates included)
  std::uint64_t lost = 0;       // dropped by the loss models
  std::uint64_t burst_lost = 0; // ... of which in the bad state of the burst model
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t corrupted = 0;
  std::uint64_t too_big = 0;
  std::uint64_t queue_drops = 0;
  std::uint64_t bytes_delivered = 0;
};

class sim_channel {
public:
  explicit sim_channel(const sim_config& cfg = {}) : m_cfg(cfg), m_rng(cfg.seed) {}

  auto config() const noexcept -> const sim_config& { return m_cfg; }
  auto stats() const noexcept -> const sim_stats& { return m_stats; }
  auto in_flight() const noexcept -> std::size_t { return m_queue.size(); }

  /// Puts a packet on the wire at `now`.
  void send(instant now, bytes_view packet) {
    ++m_stats.sent;
    if (packet.size() > m_cfg.mtu) {
      ++m_stats.too_big;
      return;
    }
    // Bandwidth: the packet waits for the wire to be free, then takes size*8/rate to serialize.
    instant on_wire = now;
    if (m_cfg.rate_bps > 0) {
      const auto backlog = m_wire_free > now ? m_wire_free - now : duration::zero();
      const auto backlog_bytes = static_cast<std::uint64_t>(backlog.count()) * m_cfg.rate_bps / 8 / 1'000'000'000ull;
      if (backlog_bytes + packet.size() > m_cfg.queue_bytes) {
        ++m_stats.queue_drops;
        return;
      }
      const auto serialize = duration{static_cast<std::int64_t>(packet.size() * 8 * 1'000'000'000ull / m_cfg.rate_bps)};
      m_wire_free = std::max(m_wire_free, now) + serialize;
      on_wire = m_wire_free;
    }
    if (lose()) return;
    const int copies = m_rng.chance(m_cfg.duplicate) ? 2 : 1;
    if (copies == 2) ++m_stats.duplicated;
    for (int c = 0; c < copies; ++c) {
      auto at = on_wire + m_cfg.delay;
      if (m_cfg.jitter > duration::zero()) {
        at += duration{static_cast<std::int64_t>(m_rng.below(static_cast<std::uint64_t>(m_cfg.jitter.count()) + 1))};
      }
      // FIFO unless this packet is picked for reordering.
      at = std::max(at, m_last_fifo);
      if (m_rng.chance(m_cfg.reorder)) {
        ++m_stats.reordered;
        at += m_cfg.reorder_delay;
      } else {
        m_last_fifo = at;
      }
      packet_entry e{at, m_order++, take_buffer(packet)};
      if (m_rng.chance(m_cfg.corrupt)) {
        ++m_stats.corrupted;
        if (!e.bytes.empty()) {
          const auto bit = m_rng.below(e.bytes.size() * 8);
          e.bytes[bit / 8] ^= std::byte(1u << (bit % 8));
        }
      }
      m_queue.push(std::move(e));
    }
  }

  /// When the next packet comes out, if any is on the wire.
  auto next_delivery() const noexcept -> std::optional<instant> {
    if (m_queue.empty()) return std::nullopt;
    return m_queue.top().at;
  }

  /// Hands every packet due at `now` to `f(bytes_view)`, in delivery order; returns the count.
  /// `f` may call send() on this or any channel.
  template <class F>
  auto deliver(instant now, F&& f) -> std::size_t {
    std::size_t n = 0;
    while (!m_queue.empty() && m_queue.top().at <= now) {
      // Move the entry out before calling f, which may push new packets.
      auto e = std::move(const_cast<packet_entry&>(m_queue.top()));
      m_queue.pop();
      ++m_stats.delivered;
      m_stats.bytes_delivered += e.bytes.size();
      f(bytes_view{e.bytes});
      give_back(std::move(e.bytes));
      ++n;
    }
    return n;
  }

private:
  struct packet_entry {
    instant at;
    std::uint64_t order; // ties keep sending order
    std::vector<std::byte> bytes;
    friend auto operator>(const packet_entry& a, const packet_entry& b) noexcept -> bool {
      return a.at != b.at ? a.at > b.at : a.order > b.order;
    }
  };

  auto lose() -> bool {
    if (m_cfg.burst_enter > 0.0) {
      if (m_bad) {
        if (m_rng.chance(m_cfg.burst_exit)) m_bad = false;
      } else if (m_rng.chance(m_cfg.burst_enter)) {
        m_bad = true;
      }
      if (m_bad && m_rng.chance(m_cfg.burst_loss)) {
        ++m_stats.lost;
        ++m_stats.burst_lost;
        return true;
      }
    }
    if (m_rng.chance(m_cfg.loss)) {
      ++m_stats.lost;
      return true;
    }
    return false;
  }

  auto take_buffer(bytes_view data) -> std::vector<std::byte> {
    std::vector<std::byte> v;
    if (!m_pool.empty()) {
      v = std::move(m_pool.back());
      m_pool.pop_back();
    }
    v.assign(data.begin(), data.end());
    return v;
  }
  void give_back(std::vector<std::byte>&& v) {
    if (m_pool.size() < 4096) m_pool.push_back(std::move(v));
  }

  sim_config m_cfg;
  sim_random m_rng;
  sim_stats m_stats;
  std::priority_queue<packet_entry, std::vector<packet_entry>, std::greater<>> m_queue;
  std::vector<std::vector<std::byte>> m_pool;
  instant m_wire_free;
  instant m_last_fifo;
  std::uint64_t m_order = 0;
  bool m_bad = false;
};

/// A full-duplex simulated wire: a_to_b and b_to_a, each with its own seed.
struct sim_wire {
  sim_channel a_to_b;
  sim_channel b_to_a;
  explicit sim_wire(sim_config cfg = {}) : a_to_b(cfg), b_to_a(with_seed(cfg, cfg.seed * 0x9e3779b97f4a7c15ull + 1)) {}

private:
  static auto with_seed(sim_config c, std::uint64_t seed) -> sim_config {
    c.seed = seed;
    return c;
  }
};

} // namespace synack::link
