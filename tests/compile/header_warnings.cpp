// tests/compile/header_warnings.cpp: a user's program, compiled by tests/compile/run.sh with
// -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror -O2 (g++ and clang++): a header-only
// library must compile warning-free in its users' builds, where its headers are included
// with -I, not as system headers. It instantiates what a program typically does: stacks over
// tun, AF_PACKET, any_link and the simulated link with each decorator and congestion policy,
// every socket operation with timeouts and or_throw, and the runtime's awaitables.
#include <array>
#include <chrono>
#include <cstddef>
#include <string>

#include <synack/synack.hpp>

using namespace synack;
using namespace std::chrono_literals;

namespace {

template <class Net>
auto client(Net& net) -> task<> {
  auto s = co_await net.connect({wire::ipv4_address{192, 0, 2, 1}, 7788}).or_throw();
  co_await s.send(as_bytes("hello")).or_throw();
  std::array<std::byte, 1024> buf{};
  auto data = co_await with_timeout(s.recv(buf), 1s);
  if (data) fmt::print("received: {} ({})\n", as_chars(*data), s.info().srtt.count());
  co_await with_timeout(s.close(), 5s).or_throw();
}

template <class Net>
auto server(Net& net, scheduler& loop) -> task<int> {
  auto l = net.listen(7788, 128);
  if (!l) co_return 1;
  auto a = co_await with_timeout(l->accept(), 10s);
  if (!a) co_return 1;
  std::array<std::byte, 1024> buf{};
  auto [n, slept] = co_await when_all(a->stream.recv(buf), sleep_for(loop, 1ms));
  if (n && slept) co_await a->stream.send(*n).or_throw();
  net.print_counters(stdout);
  co_return 0;
}

auto io_ops(event_loop& loop) -> task<> {
  std::array<std::byte, 16> buf{};
  std::stop_source stop;
  co_await io::nop(loop).or_throw();
  auto r = co_await with_timeout(io::read(loop, 0, buf, stop.get_token()), 1s);
  if (!r) fmt::print("{}\n", r.error().message());
  event ev{loop};
  ev.set();
  co_await ev.wait().or_throw();
  co_await loop.yield();
}

} // namespace

int main() {
  event_loop loop;
  auto tun = link::tun::open(loop);
  if (!tun) {
    fmt::print(stderr, "cannot open the tun device: {}\n", tun.error().message());
    return 1;
  }
  stack net{loop, std::move(*tun)};
  loop.run_until(client(net));

  auto pkt = link::af_packet::open(loop, link::af_packet_options{});
  if (!pkt) return 1;
  stack<link::any_link, tcp::cubic_policies> any{loop, link::any_link{link::tracer<link::af_packet&>{*pkt}}};
  (void)loop.run_until(server(any, loop));

  sim_loop sim;
  link::sim_link_pair pair{sim};
  auto pcap = link::pcap_writer<link::sim_link&>::open(pair.a(), "/dev/null");
  if (!pcap) return 1;
  stack<link::pcap_writer<link::sim_link&>, tcp::dynamic_policies> a{sim, std::move(*pcap)};
  stack<link::fault_injector<link::sim_link&>> b{sim, link::fault_injector<link::sim_link&>{pair.b()}};
  sim.spawn(client(a));
  (void)sim.run_until(server(b, sim));
  loop.run_until(io_ops(loop));
  return 0;
}
