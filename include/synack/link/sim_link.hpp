// synack/link/sim_link.hpp: the runtime adapter of the simulated wire: two link endpoints
// joined by a `sim_wire` (link/sim.hpp), driven by a scheduler's timers.
//
//   synack::sim_scheduler sched;                   // or event_loop, or sim_loop
//   synack::link::sim_link_pair pair(sched, {.seed = 7, .loss = 0.01});
//   synack::stack<synack::link::sim_link&> a{sched, pair.a(), {.address = ...}};
//   synack::stack<synack::link::sim_link&> b{sched, pair.b(), {.address = ...}};
// (each endpoint is a link; examples/loopback.cpp is a whole program)
//
// Contract:
// - `a()` sends on wire.a_to_b and receives from wire.b_to_a; `b()` the other way round.
// - transmit(len, fill) fills a scratch buffer and puts the packet on the channel at the
//   scheduler's now() (the channel copies it; it applies loss, delay, reordering... as its
//   sim_config says); it never refuses (returns true). flush() has nothing left to do.
// - Each channel has a timer_node armed at its next delivery. When it fires, every packet due
//   is handed to the receiving endpoint's rx handler (from the timer callback, a view valid
//   during the call), and the timer is re-armed. With a virtual clock (sim_loop,
//   sim_scheduler) time jumps from one delivery to the next, so a simulated second costs what
//   its packets cost.
// - An endpoint that has not started, or has stopped, drops what reaches it (rx_dropped).
// - The pair is neither copyable nor movable (the timers and endpoints point into it); destroy
//   it before the scheduler. Single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "synack/core/scheduler.hpp"
#include "synack/core/timer.hpp"
#include "synack/link/link.hpp"
#include "synack/link/sim.hpp"
#include "synack/util/bytes.hpp"
#include "synack/wire/ethernet.hpp"

namespace synack::link {

class sim_link_pair;

/// Counters of one endpoint (the channels keep the wire's own: sim_channel::stats()).
struct sim_link_counters {
  std::uint64_t rx_packets = 0; // handed to the rx handler
  std::uint64_t rx_bytes = 0;
  std::uint64_t rx_dropped = 0; // arrived before start() or after stop()
  std::uint64_t tx_packets = 0; // put on the wire (the wire may still lose them)
  std::uint64_t tx_bytes = 0;
};

template <class F>
void for_each_counter(const sim_link_counters& c, F&& f) {
  f("sim link: packets received", c.rx_packets);
  f("sim link: bytes received", c.rx_bytes);
  f("sim link: packets dropped (not started or stopped)", c.rx_dropped);
  f("sim link: packets sent", c.tx_packets);
  f("sim link: bytes sent", c.tx_bytes);
}

/// One end of a simulated wire. Obtained from a sim_link_pair.
class sim_link {
public:
  sim_link(const sim_link&) = delete;
  auto operator=(const sim_link&) -> sim_link& = delete;

  // --- the link interface (link.hpp) ---------------------------------------------------
  auto capabilities() const noexcept -> link::capabilities {
    link::capabilities c;
    c.medium = m_medium;
    const std::size_t header = m_medium == medium::ethernet ? wire::ethernet_frame<bytes_view>::header_len : 0;
    c.mtu = m_out->config().mtu > header ? m_out->config().mtu - header : 0;
    return c;
  }
  void start(rx_handler h) noexcept {
    m_handler = h;
    m_started = true;
  }
  template <class F>
  auto transmit(std::size_t len, F&& fill, const tx_meta& = {}) -> bool { // no offloads offered
    if (m_scratch.size() < len) m_scratch.resize(len);                    // grows to the largest packet once
    bytes_mut b{m_scratch.data(), len};
    fill(b);
    ++m_counters.tx_packets;
    m_counters.tx_bytes += len;
    m_out->send(m_scheduler->now(), b);
    m_delivery.rearm();
    return true;
  }
  void flush() noexcept {}
  void stop() noexcept {
    m_started = false;
    m_handler = {};
  }

  // --- more -------------------------------------------------------------------------
  auto counters() const noexcept -> const sim_link_counters& { return m_counters; }
  /// The channel this endpoint sends on, and the one it receives from.
  auto outgoing() noexcept -> sim_channel& { return *m_out; }
  auto incoming() noexcept -> sim_channel& { return *m_in; }

private:
  friend class sim_link_pair;

  /// The timer that delivers `channel`'s packets to `to`.
  struct delivery_timer : timer_node {
    explicit delivery_timer(sim_link* to_, sim_channel* ch, scheduler* s) noexcept
        : timer_node(&fire), to(to_), channel(ch), sched(s) {}
    sim_link* to;
    sim_channel* channel;
    scheduler* sched;
    void rearm() {
      const auto next = channel->next_delivery();
      if (!next) {
        sched->disarm(*this);
      } else if (!armed() || deadline() != *next) {
        sched->arm(*this, *next);
      }
    }
    static void fire(timer_node& n) {
      auto& t = static_cast<delivery_timer&>(n);
      t.channel->deliver(t.sched->now(), [&](bytes_view p) { t.to->receive(p); });
      t.rearm();
    }
  };

  sim_link(scheduler& s, sim_channel& out, sim_channel& in, sim_link* peer, medium m) noexcept
      : m_scheduler(&s), m_out(&out), m_in(&in), m_medium(m), m_delivery(peer, &out, &s) {}

  void receive(bytes_view p) {
    if (!m_started || m_handler.fn == nullptr) {
      ++m_counters.rx_dropped;
      return;
    }
    ++m_counters.rx_packets;
    m_counters.rx_bytes += p.size();
    m_handler(p, rx_meta{});
  }

  scheduler* m_scheduler;
  sim_channel* m_out;
  sim_channel* m_in;
  medium m_medium;
  rx_handler m_handler;
  bool m_started = false;
  sim_link_counters m_counters;
  std::vector<std::byte> m_scratch;
  delivery_timer m_delivery; // delivers m_out's packets to the peer
};

static_assert(link<sim_link>);

/// Two sim_link endpoints over one sim_wire. See the header comment.
class sim_link_pair {
public:
  /// `medium` says what the endpoints carry (IPv4 packets, or Ethernet frames for testing
  /// net::ethernet_interface); the wire's sim_config::mtu bounds the whole packet or frame.
  explicit sim_link_pair(scheduler& s, const sim_config& cfg = {}, medium m = medium::ip)
      : m_wire(cfg), m_a(s, m_wire.a_to_b, m_wire.b_to_a, &m_b, m), m_b(s, m_wire.b_to_a, m_wire.a_to_b, &m_a, m) {}
  sim_link_pair(const sim_link_pair&) = delete;
  auto operator=(const sim_link_pair&) -> sim_link_pair& = delete;

  auto a() noexcept -> sim_link& { return m_a; }
  auto b() noexcept -> sim_link& { return m_b; }
  auto wire() noexcept -> sim_wire& { return m_wire; }

private:
  sim_wire m_wire;
  sim_link m_a;
  sim_link m_b;
};

} // namespace synack::link
