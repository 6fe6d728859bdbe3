// Tests for include/synack/link/sim_link.hpp: deliveries at the right virtual times on a
// sim_loop (and a sim_scheduler), faults from the channel, stop(), and two Ethernet/ARP
// interfaces (net/ethernet.hpp) resolving each other over a lossy simulated wire.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "packets.hpp"
#include "synack/core/sim_scheduler.hpp"
#include "synack/io/loop.hpp"
#include "synack/link/sim_link.hpp"
#include "synack/net/ethernet.hpp"

using namespace synack;
using namespace std::chrono_literals;
using link_test::bytes_of;
using link_test::vec;

namespace {

struct timed_packet {
  instant at;
  std::string text;
};

/// Records (time, text) for each packet an endpoint receives.
struct timed_collector {
  scheduler* sched;
  std::vector<timed_packet> got;
  auto handler() -> link::rx_handler {
    return {[](void* self, bytes_view p, const link::rx_meta&) {
              auto* c = static_cast<timed_collector*>(self);
              c->got.push_back({c->sched->now(), std::string(as_chars(p))});
            },
            this};
  }
};

auto send_text(link::sim_link& l, std::string_view s) -> bool {
  return l.transmit(s.size(), [&](bytes_mut b) { std::memcpy(b.data(), s.data(), s.size()); });
}

} // namespace

TEST_SUITE_BEGIN("link.sim_link");

TEST_CASE("sim_link on a sim_loop: packets arrive after the wire's delay, in virtual time") {
  sim_loop loop;
  link::sim_config cfg;
  cfg.delay = 10ms;
  link::sim_link_pair pair(loop, cfg);
  CHECK(pair.a().capabilities().medium == link::medium::ip);
  CHECK(pair.a().capabilities().mtu == 1500);
  timed_collector at_b{&loop, {}};
  timed_collector at_a{&loop, {}};
  pair.a().start({});
  pair.b().start(at_b.handler());
  pair.a().start(at_a.handler());

  const instant t0 = loop.now();
  CHECK(send_text(pair.a(), "one"));
  CHECK(send_text(pair.a(), "two"));
  loop.run();
  REQUIRE(at_b.got.size() == 2);
  CHECK(at_b.got[0].text == "one");
  CHECK(at_b.got[1].text == "two");
  CHECK(at_b.got[0].at == t0 + 10ms);
  CHECK(at_b.got[1].at == t0 + 10ms);
  CHECK(loop.now() == t0 + 10ms); // time jumped straight to the delivery

  // The other direction, sent at 10 ms, arrives at 20 ms; b answers each packet from its
  // handler, so the answers arrive at 30 ms.
  at_b.got.clear();
  struct echo {
    link::sim_link* back;
    scheduler* sched;
    std::vector<instant> seen;
  } e{&pair.b(), &loop, {}};
  pair.b().start({[](void* self, bytes_view p, const link::rx_meta&) {
                    auto* x = static_cast<echo*>(self);
                    x->seen.push_back(x->sched->now());
                    x->back->transmit(p.size(), [&](bytes_mut b) { std::memcpy(b.data(), p.data(), p.size()); });
                  },
                  &e});
  CHECK(send_text(pair.a(), "ping"));
  loop.run();
  REQUIRE(e.seen.size() == 1);
  CHECK(e.seen[0] == t0 + 20ms);
  REQUIRE(at_a.got.size() == 1);
  CHECK(at_a.got[0].text == "ping");
  CHECK(at_a.got[0].at == t0 + 30ms);
  CHECK(pair.a().counters().tx_packets == 3);
  CHECK(pair.b().counters().rx_packets == 3);
  CHECK(pair.wire().a_to_b.stats().delivered == 3);
}

TEST_CASE("sim_link: bandwidth spaces deliveries; the timer follows the earliest one") {
  sim_loop loop;
  link::sim_config cfg;
  cfg.delay = 1ms;
  cfg.rate_bps = 8'000'000; // 1 byte per microsecond
  link::sim_link_pair pair(loop, cfg);
  timed_collector at_b{&loop, {}};
  pair.b().start(at_b.handler());
  const instant t0 = loop.now();
  const std::string big(1000, 'x');
  for (int i = 0; i < 3; ++i) send_text(pair.a(), big);
  loop.run();
  REQUIRE(at_b.got.size() == 3);
  // Serialisation: 1000 us each, then the 1 ms delay.
  CHECK(at_b.got[0].at == t0 + 1000us + 1ms);
  CHECK(at_b.got[1].at == t0 + 2000us + 1ms);
  CHECK(at_b.got[2].at == t0 + 3000us + 1ms);
}

TEST_CASE("sim_link: losses come from the channel; a stopped endpoint drops what reaches it") {
  sim_loop loop;
  link::sim_config cfg;
  cfg.seed = 42;
  cfg.loss = 0.25;
  link::sim_link_pair pair(loop, cfg);
  link_test::collector got;
  pair.b().start(got.handler());
  for (int i = 0; i < 400; ++i) send_text(pair.a(), "x");
  loop.run();
  const auto& st = pair.wire().a_to_b.stats();
  CHECK(st.sent == 400);
  CHECK(st.lost + st.delivered == 400);
  CHECK(got.packets.size() == st.delivered);
  CHECK(st.lost > 60);
  CHECK(st.lost < 140);

  pair.b().stop();
  send_text(pair.a(), "late");
  loop.run();
  CHECK(pair.b().counters().rx_dropped == 1);
  CHECK(got.packets.size() == st.delivered - 1);
}

TEST_CASE("sim_link runs on a sim_scheduler too (no io_uring)") {
  sim_scheduler sched;
  link::sim_config cfg;
  cfg.delay = 5ms;
  link::sim_link_pair pair(sched, cfg);
  timed_collector at_b{&sched, {}};
  pair.b().start(at_b.handler());
  send_text(pair.a(), "hello");
  while (sched.run_once()) {}
  REQUIRE(at_b.got.size() == 1);
  CHECK(at_b.got[0].at == instant{} + 5ms);
}

TEST_CASE("two Ethernet interfaces resolve each other over a lossy sim wire and exchange packets") {
  sim_loop loop;
  link::sim_config cfg;
  cfg.seed = 7;
  cfg.loss = 0.3;
  cfg.delay = 2ms;
  cfg.mtu = 1514;
  link::sim_link_pair pair(loop, cfg, link::medium::ethernet);
  CHECK(pair.a().capabilities().mtu == 1500);

  net::ethernet_config ca;
  ca.mac = wire::mac_address{0x02, 0, 0, 0, 0, 0x01};
  ca.address = wire::ipv4_cidr{link_test::kernel_ip, 24};
  ca.arp.announcements = 1;
  net::ethernet_config cb = ca;
  cb.mac = wire::mac_address{0x02, 0, 0, 0, 0, 0x02};
  cb.address = wire::ipv4_cidr{link_test::synack_ip, 24};
  net::ethernet_interface eth_a(ca);
  net::ethernet_interface eth_b(cb);

  struct host {
    net::ethernet_interface* eth;
    link::sim_link* link;
    scheduler* sched;
    std::vector<std::vector<std::byte>> ipv4;
    timer_node timer{&on_timer};
    static void on_timer(timer_node&) {}
    static void rx(void* self, bytes_view frame, const link::rx_meta&) {
      auto* h = static_cast<host*>(self);
      auto in = h->eth->receive(h->sched->now(), frame);
      if (auto* p = std::get_if<net::ethernet_ipv4>(&in)) h->ipv4.push_back(vec(p->packet));
    }
    void poll() {
      eth->poll(sched->now(), *link);
      if (auto d = eth->next_deadline()) sched->arm(timer, std::max(*d, sched->now() + 1us));
    }
  };
  host ha{&eth_a, &pair.a(), &loop, {}};
  host hb{&eth_b, &pair.b(), &loop, {}};
  pair.a().start({&host::rx, &ha});
  pair.b().start({&host::rx, &hb});
  struct hook_t : turn_hook {
    host* a;
    host* b;
    hook_t(host* x, host* y) : turn_hook(&run), a(x), b(y) {}
    static void run(turn_hook& h) {
      auto& self = static_cast<hook_t&>(h);
      self.a->poll();
      self.b->poll();
    }
  } hook(&ha, &hb);
  loop.add_turn_hook(hook);

  // a sends 20 packets to b, one every 100 ms; with 30 % loss the ARP exchange may need retries.
  for (int i = 0; i < 20; ++i) {
    const std::string text = "packet " + std::to_string(i);
    eth_a.send_ipv4(
        loop.now(), link_test::synack_ip, text.size(),
        [&](bytes_mut b) { std::memcpy(b.data(), text.data(), text.size()); }, pair.a());
    const instant until = loop.now() + 100ms;
    timer_node wake{[](timer_node&) {}};
    loop.arm(wake, until);
    while (loop.now() < until && loop.run_once()) {}
  }
  loop.disarm(hook.a->timer);
  loop.disarm(hook.b->timer);
  hook.remove();
  CHECK(eth_a.lookup(link_test::synack_ip) == cb.mac);
  CHECK(eth_a.counters().arp_resolved == 1);
  // Packets reach b in order (the wire does not reorder); the losses are the wire's.
  const auto& st = pair.wire().a_to_b.stats();
  CHECK(st.lost > 0);
  CHECK(hb.ipv4.size() > 5);
  std::size_t last = 0;
  for (const auto& p : hb.ipv4) {
    const std::string s(as_chars(p));
    REQUIRE(s.rfind("packet ", 0) == 0);
    const auto n = std::stoul(s.substr(7));
    CHECK(n >= last);
    last = n;
  }
}

TEST_SUITE_END();
