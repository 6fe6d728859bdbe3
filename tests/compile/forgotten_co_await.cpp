// tests/compile/forgotten_co_await.cpp: a forgotten `co_await` must not compile quietly.
//
// Every awaitable synack returns is [[nodiscard]]: `s.send(bytes);` without `co_await` would
// build an operation and drop it, sending nothing. tests/compile/run.sh compiles this file
// twice with -Werror: as it is, every line marked `forgotten` must get a "nodiscard"
// diagnostic (and the compile must fail); with -DSYNACK_AWAIT, where each of those lines is
// awaited, it must compile cleanly (the control: the failure is the forgotten co_await, not
// a mistake in this file).
#include <array>
#include <chrono>
#include <cstddef>

#include <synack/synack.hpp>

#ifdef SYNACK_AWAIT
#define CHECKED(...) (void)co_await __VA_ARGS__
#else
#define CHECKED(...) __VA_ARGS__
#endif

using namespace synack;
using namespace std::chrono_literals;

namespace {

auto helper() -> task<int> { co_return 1; }

auto body(event_loop& loop, stack<link::sim_link&>& net, tcp_listener& l, tcp_stream& s, event& ev) -> task<> {
  std::array<std::byte, 16> buf{};
  const wire::endpoint ep{wire::ipv4_address{192, 0, 2, 1}, 7788};
  CHECKED(s.send(as_bytes("x")));                     // forgotten: send
  CHECKED(s.recv(buf));                               // forgotten: recv
  CHECKED(s.close());                                 // forgotten: close
  CHECKED(net.connect(ep));                           // forgotten: connect
  CHECKED(l.accept());                                // forgotten: accept
  CHECKED(s.send(as_bytes("x")).or_throw());          // forgotten: or_throw member
  CHECKED(or_throw(s.close()));                       // forgotten: or_throw function
  CHECKED(with_timeout(s.recv(buf), 1s));             // forgotten: with_timeout
  CHECKED(with_deadline(ev.wait(), loop.now() + 1s)); // forgotten: with_deadline
  CHECKED(with_timeout(s.recv(buf), 1s).or_throw());  // forgotten: with_timeout or_throw
  CHECKED(sleep_for(loop, 1s));                       // forgotten: sleep_for
  CHECKED(sleep_until(loop, loop.now() + 1s));        // forgotten: sleep_until
  CHECKED(ev.wait());                                 // forgotten: event wait
  CHECKED(loop.yield());                              // forgotten: yield
  CHECKED(io::read(loop, 0, buf));                    // forgotten: io::read
  CHECKED(io::nop(loop));                             // forgotten: io::nop
  CHECKED(io::nop(loop).or_throw());                  // forgotten: io or_throw
  CHECKED(helper());                                  // forgotten: task
  CHECKED(when_all(helper(), helper()));              // forgotten: when_all
  co_return;
}

} // namespace

int main() {
  event_loop loop;
  link::sim_link_pair pair{loop};
  stack<link::sim_link&> net{loop, pair.a()};
  auto l = net.listen(7788).value();
  tcp_stream s;
  event ev{loop};
  loop.spawn(body(loop, net, l, s, ev));
}
