// synack/link/fault_injector.hpp: a link decorator that loses, duplicates and corrupts
// packets on a real link, seeded and reproducible (smoltcp's phy::FaultInjector is the model).
// The machines here have no sch_netem, so this is how a test puts faults between synack and
// the kernel. Delay and reordering are left to link::sim.
//
//   synack::link::fault_injector lossy(std::move(*tun), {.seed = 3, .rx = {.loss = 0.05}});
//
// Contract:
// - Decisions come from sim.hpp's `sim_random` (SplitMix64, one generator per injector), so
//   a seed and a sequence of packets give the same faults on every machine. Per packet and
//   direction, in this order: lost with probability `loss`; otherwise sent or delivered twice
//   with probability `duplicate`; each copy independently gets one random bit flipped with
//   probability `corrupt` (one flipped bit is always caught by the Internet checksum, as in
//   sim_config::corrupt).
// - Receive: a corrupted copy is made in a scratch buffer (the device's buffer is read-only);
//   a lost packet never reaches the handler.
// - Transmit: `fill` is always called when transmit returns true, also for a lost packet (it
//   is written into the scratch buffer and discarded), so callers see the same side effects
//   whatever the fault. A duplicate is written once into the scratch buffer, then copied into
//   two of the inner link's buffers; if the inner link refuses the second, the duplicate is
//   dropped. Corruption of a sent packet happens in the inner link's buffer after fill.
// - Counters per direction: passed (untouched), lost, duplicated, corrupted.
// - start() hands Inner a handler pointing at this object: do not move it after start().
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "synack/link/detail/decorator.hpp"
#include "synack/link/link.hpp"
#include "synack/link/sim.hpp"

namespace synack::link {

/// The faults of one direction (probabilities in 0..1).
struct fault_config {
  double loss = 0.0;
  double duplicate = 0.0;
  double corrupt = 0.0;
  /// The same faults as a simulated channel's (its delay, reordering and rate do not apply).
  static auto from(const sim_config& c) noexcept -> fault_config { return {c.loss, c.duplicate, c.corrupt}; }
};

struct fault_options {
  std::uint64_t seed = 1;
  fault_config rx;
  fault_config tx;
};

struct fault_counters {
  std::uint64_t passed = 0;     // packets with no fault
  std::uint64_t lost = 0;       // packets dropped
  std::uint64_t duplicated = 0; // packets sent or delivered twice
  std::uint64_t corrupted = 0;  // copies with one bit flipped
};

struct fault_stats {
  fault_counters rx;
  fault_counters tx;
};

template <class F>
void for_each_counter(const fault_stats& s, F&& f) {
  f("faults: rx packets passed", s.rx.passed);
  f("faults: rx packets lost", s.rx.lost);
  f("faults: rx packets duplicated", s.rx.duplicated);
  f("faults: rx copies corrupted", s.rx.corrupted);
  f("faults: tx packets passed", s.tx.passed);
  f("faults: tx packets lost", s.tx.lost);
  f("faults: tx packets duplicated", s.tx.duplicated);
  f("faults: tx copies corrupted", s.tx.corrupted);
}

template <class Inner>
requires detail::link_or_ref<Inner>
class fault_injector {
public:
  explicit fault_injector(std::type_identity_t<Inner> inner, const fault_options& options = {})
      : m_inner(std::forward<Inner>(inner)), m_options(options), m_rng(options.seed) {
    // An Ethernet header fits in the slack. Two buffers: an rx handler may transmit while it
    // holds a corrupted copy.
    m_rx_scratch.resize(m_inner.capabilities().mtu + 64);
    m_tx_scratch.resize(m_inner.capabilities().mtu + 64);
  }

  /// The inner link's, without transmit offloads: a corrupted packet must reach the wire with
  /// the checksum of its uncorrupted bytes, which only the stack can compute.
  auto capabilities() const noexcept -> link::capabilities {
    auto c = m_inner.capabilities();
    c.tx_checksum_offload = false;
    c.tso_max = 0;
    return c;
  }
  void start(rx_handler h) {
    m_handler = h;
    m_inner.start(rx_handler{&on_rx, this});
  }

  template <class F>
  auto transmit(std::size_t len, F&& fill, const tx_meta& = {}) -> bool { // offloads masked above
    const fault_config& c = m_options.tx;
    if (m_rng.chance(c.loss)) {
      fill(scratch(m_tx_scratch, len));
      ++m_stats.tx.lost;
      return true;
    }
    if (!m_rng.chance(c.duplicate)) {
      bool corrupted = false;
      const bool sent = m_inner.transmit(len, [&](bytes_mut b) {
        fill(b);
        corrupted = maybe_corrupt(c, b);
      });
      if (sent) ++(corrupted ? m_stats.tx.corrupted : m_stats.tx.passed);
      return sent;
    }
    const bytes_mut first = scratch(m_tx_scratch, len);
    fill(first);
    const bool sent = m_inner.transmit(len, [&](bytes_mut b) {
      std::memcpy(b.data(), first.data(), len);
      if (maybe_corrupt(c, b)) ++m_stats.tx.corrupted;
    });
    if (!sent) return false;
    ++m_stats.tx.duplicated;
    m_inner.transmit(len, [&](bytes_mut b) {
      std::memcpy(b.data(), first.data(), len);
      if (maybe_corrupt(c, b)) ++m_stats.tx.corrupted;
    });
    return true;
  }
  void flush() { m_inner.flush(); }
  void stop() { m_inner.stop(); }

  /// The inner link's MAC address, for links that have one (af_packet): the stack and
  /// net::ethernet_interface find it through any number of decorators.
  auto mac() const noexcept requires requires(const std::remove_reference_t<Inner>& i) { i.mac(); }
  { return m_inner.mac(); }
  auto inner() noexcept -> std::remove_reference_t<Inner>& { return m_inner; }
  auto inner() const noexcept -> const std::remove_reference_t<Inner>& { return m_inner; }
  auto stats() const noexcept -> const fault_stats& { return m_stats; }
  auto options() const noexcept -> const fault_options& { return m_options; }

private:
  static auto scratch(std::vector<std::byte>& v, std::size_t len) -> bytes_mut {
    if (v.size() < len) v.resize(len);
    return {v.data(), len};
  }

  /// Flips one random bit of `b` with probability c.corrupt; true if it did.
  auto maybe_corrupt(const fault_config& c, bytes_mut b) noexcept -> bool {
    if (b.empty() || !m_rng.chance(c.corrupt)) return false;
    const auto bit = m_rng.below(b.size() * 8);
    b[bit / 8] ^= std::byte(1u << (bit % 8));
    return true;
  }

  static void on_rx(void* self, bytes_view packet, const rx_meta& meta) {
    static_cast<fault_injector*>(self)->receive(packet, meta);
  }

  void receive(bytes_view packet, const rx_meta& meta) {
    if (m_handler.fn == nullptr) return;
    const fault_config& c = m_options.rx;
    if (m_rng.chance(c.loss)) {
      ++m_stats.rx.lost;
      return;
    }
    const int copies = m_rng.chance(c.duplicate) ? 2 : 1;
    if (copies == 2) ++m_stats.rx.duplicated;
    for (int i = 0; i < copies; ++i) {
      if (!packet.empty() && m_rng.chance(c.corrupt)) {
        bytes_mut copy = scratch(m_rx_scratch, packet.size());
        std::memcpy(copy.data(), packet.data(), packet.size());
        const auto bit = m_rng.below(copy.size() * 8);
        copy[bit / 8] ^= std::byte(1u << (bit % 8));
        ++m_stats.rx.corrupted;
        m_handler(copy, meta);
      } else {
        if (copies == 1) ++m_stats.rx.passed;
        m_handler(packet, meta);
      }
    }
  }

  Inner m_inner;
  fault_options m_options;
  sim_random m_rng;
  fault_stats m_stats;
  rx_handler m_handler;
  std::vector<std::byte> m_rx_scratch;
  std::vector<std::byte> m_tx_scratch;
};

template <class L>
fault_injector(L&&, const fault_options& = {})
    -> fault_injector<std::conditional_t<std::is_lvalue_reference_v<L>, L, std::remove_cvref_t<L>>>;

} // namespace synack::link
