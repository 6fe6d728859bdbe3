// A minimal link pair for socket tests: two endpoints over one link::sim_wire, on an event
// loop's timers (virtual time with sim_loop). It satisfies the link concept.
#pragma once

#include <memory>
#include <vector>

#include "synack/core/scheduler.hpp"
#include "synack/link/link.hpp"
#include "synack/link/sim.hpp"

namespace test_socket {

using namespace synack;

struct shared_wire {
  explicit shared_wire(const link::sim_config& c) : wire(c) {}
  link::sim_wire wire;
};

class pipe_link {
public:
  pipe_link(scheduler& s, std::shared_ptr<shared_wire> w, bool a_side, std::size_t mtu = 1500)
      : m_sched(&s), m_wire(std::move(w)), m_a(a_side), m_mtu(mtu), m_timer(this) {}
  pipe_link(pipe_link&& o) noexcept
      : m_sched(o.m_sched), m_wire(std::move(o.m_wire)), m_a(o.m_a), m_mtu(o.m_mtu), m_timer(this) {}
  ~pipe_link() { stop(); }

  auto capabilities() const -> link::capabilities { return {link::medium::ip, m_mtu, false, false, 0}; }
  void start(link::rx_handler h) { m_rx = h; }
  template <class Fill>
  auto transmit(std::size_t len, Fill&& fill) -> bool {
    m_buf.resize(len);
    fill(bytes_mut{m_buf});
    out().send(m_sched->now(), bytes_view{m_buf});
    ++m_sent;
    return true;
  }
  void flush() { arm_peer(); }
  void stop() {
    if (m_sched) m_sched->disarm(m_timer);
    m_rx = {};
  }
  /// The peer endpoint must be told to check its incoming channel; the tests link them.
  void set_peer(pipe_link* p) { m_peer = p; }
  auto sent() const { return m_sent; }

private:
  struct wake : timer_node {
    explicit wake(pipe_link* l) : timer_node(&run), self(l) {}
    static void run(timer_node& n) { static_cast<wake&>(n).self->deliver(); }
    pipe_link* self;
  };
  auto out() -> link::sim_channel& { return m_a ? m_wire->wire.a_to_b : m_wire->wire.b_to_a; }
  auto in() -> link::sim_channel& { return m_a ? m_wire->wire.b_to_a : m_wire->wire.a_to_b; }
  void arm_peer() {
    if (m_peer) m_peer->arm();
  }
  void arm() {
    if (auto t = in().next_delivery()) m_sched->arm(m_timer, *t);
  }
  void deliver() {
    in().deliver(m_sched->now(), [&](bytes_view p) {
      if (m_rx.fn) m_rx(p);
    });
    arm();
  }

  scheduler* m_sched;
  std::shared_ptr<shared_wire> m_wire;
  bool m_a;
  std::size_t m_mtu;
  wake m_timer;
  link::rx_handler m_rx{};
  pipe_link* m_peer = nullptr;
  std::vector<std::byte> m_buf;
  std::uint64_t m_sent = 0;
};

static_assert(link::link<pipe_link>);

} // namespace test_socket
