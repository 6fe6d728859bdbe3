// Object lifetimes across the socket API (docs/api.md, "Lifetimes"): a stack destroyed before
// its streams, listeners and pending operations detaches them. Operations waiting on it
// complete with not_connected, through the ready queue (never from inside the stack's
// destructor); later calls fail with not_connected; the objects are destroyed (or moved) after
// the stack, and even after the loop, without touching it. Run under ASan (SYNACK_SANITIZE):
// without the detaching, each case here is a use-after-free or a coroutine that never resumes.
#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "synack/core/cancellation.hpp"
#include "synack/core/sim_scheduler.hpp"
#include "synack/core/sleep.hpp"
#include "synack/core/task.hpp"
#include "synack/core/when_all.hpp"
#include "synack/link/sim_link.hpp"
#include "synack/socket/stack.hpp"

using namespace synack;
using namespace std::chrono_literals;

namespace {

auto options_for(std::uint8_t host) -> stack_options {
  stack_options o;
  o.address = wire::ipv4_cidr{wire::ipv4_address{192, 0, 2, host}, 24};
  o.secret = siphash_key{host, 7};
  return o;
}

using sim_stack = stack<link::sim_link&>;

/// A client (192.0.2.1) and a server (192.0.2.2) on one simulated wire; either stack can be
/// destroyed (reset) while the loop and the other stack live on.
struct hosts {
  sim_scheduler loop;
  link::sim_link_pair wire;
  std::unique_ptr<sim_stack> client; // on the heap, so that ASan sees any use after the reset
  std::unique_ptr<sim_stack> server;

  explicit hosts(link::sim_config c = {}, stack_options co = options_for(1), stack_options so = options_for(2))
      : wire(loop, c) {
    client = std::make_unique<sim_stack>(loop, wire.a(), co);
    server = std::make_unique<sim_stack>(loop, wire.b(), so);
  }
  static auto server_ep(std::uint16_t port = 7788) -> wire::endpoint {
    return {wire::ipv4_address{192, 0, 2, 2}, port};
  }
  /// Runs the loop for `d` of virtual time.
  void run_for(duration d) { loop.run_until(sleep_for(loop, d)); }
};

/// The error of a finished operation (none: it succeeded).
template <class T>
auto error_of(const result<T>& r) -> std::error_code {
  return r ? std::error_code{} : r.error();
}

const std::error_code not_connected = make_error(std::errc::not_connected);

/// Every call on a detached stream: not_connected, or a harmless no-op.
auto check_detached(tcp_stream& s) -> task<void> {
  CHECK(s);
  CHECK(s.state() == tcp::state::closed);
  CHECK(s.info().state == tcp::state::closed);
  CHECK(s.readable() == 0);
  CHECK(s.local_endpoint() == wire::endpoint{});
  s.set_nodelay(true);
  s.set_keepalive(true);
  s.abort();
  CHECK(error_of(s.shutdown()) == not_connected);
  std::array<std::byte, 8> buf{};
  CHECK(error_of(co_await s.recv(buf)) == not_connected);
  CHECK(error_of(co_await s.send(as_bytes("late"))) == not_connected);
  CHECK(s.last_send_queued() == 0);
  CHECK(error_of(co_await s.close()) == not_connected);
  CHECK(error_of(co_await with_timeout(s.recv(buf), 1s)) == not_connected);
}

} // namespace

TEST_SUITE_BEGIN("socket.lifetime");

TEST_CASE("a recv waiting when its stack is destroyed resumes with not_connected, after the destructor returned") {
  hosts h;
  auto l = h.server->listen(7788, 8);
  REQUIRE(l);
  bool stack_gone = false;
  bool resumed = false;
  auto server = [&]() -> task<void> {
    auto [c, peer] = co_await l->accept().or_throw();
    std::array<std::byte, 16> buf{};
    auto r = co_await c.recv(buf);
    resumed = true;
    // Woken through the ready queue once ~stack had returned, not from inside it.
    CHECK(stack_gone);
    CHECK(error_of(r) == not_connected);
    co_await check_detached(c);
    // c, a detached stream, is destroyed here: after its stack.
  };
  auto client = [&]() -> task<void> {
    auto s = co_await h.client->connect(h.server_ep()).or_throw();
    co_await sleep_for(h.loop, 10ms); // the server's recv is waiting
    CHECK_FALSE(resumed);
    h.server.reset(); // from inside a coroutine: the loop is in its ready queue
    stack_gone = true;
    co_await sleep_for(h.loop, 10ms);
    CHECK(resumed);
  };
  h.loop.run_until(when_all(server(), client()));
  CHECK(resumed);
  // The listener is destroyed after its stack, and works as a detached listener until then.
  CHECK(error_of(h.loop.run_until(l->accept())) == not_connected);
}

TEST_CASE("an accept waiting when its stack is destroyed resumes with not_connected; the listener outlives the stack") {
  hosts h;
  auto l = h.server->listen(7788, 8);
  REQUIRE(l);
  std::optional<std::error_code> err;
  auto acceptor = [&]() -> task<void> { err = error_of(co_await l->accept()); };
  h.loop.spawn(acceptor());
  h.run_for(100ms);
  CHECK_FALSE(err);
  h.server.reset(); // from outside the loop, between runs
  CHECK_FALSE(err); // not resumed by the destructor
  h.run_for(10ms);
  REQUIRE(err);
  CHECK(*err == not_connected);
  CHECK(error_of(h.loop.run_until(l->accept())) == not_connected);
  tcp_listener moved = std::move(*l);
  CHECK_FALSE(*l);
  CHECK(moved.port() == 7788);
  moved.close();
  CHECK_FALSE(moved);
  CHECK(h.loop.spawned_count() == 0);
}

TEST_CASE("a connect waiting when its stack is destroyed resumes with not_connected") {
  link::sim_config lossy;
  lossy.loss = 1.0; // the SYNs never arrive: the connect waits
  hosts h{lossy};
  std::optional<std::error_code> err;
  std::optional<std::error_code> timed_err;
  auto connector = [&]() -> task<void> { err = error_of(co_await h.client->connect(h.server_ep())); };
  auto timed_connector = [&]() -> task<void> {
    timed_err = error_of(co_await with_timeout(h.client->connect(h.server_ep(7789)), 10s));
  };
  h.loop.spawn(connector());
  h.loop.spawn(timed_connector());
  h.run_for(100ms);
  CHECK_FALSE(err);
  CHECK_FALSE(timed_err);
  // Operations created while the stack lives, awaited or destroyed after it is gone.
  auto never_awaited = h.client->connect(h.server_ep(7790));
  auto awaited_later = h.client->connect(h.server_ep(7791));
  auto failed_at_once = h.client->connect({wire::ipv4_address{198, 51, 100, 1}, 80}); // no route
  h.client.reset();
  h.run_for(20s); // past the with_timeout deadline: its timer must not fire into anything freed
  CHECK(err == not_connected);
  CHECK(timed_err == not_connected); // the stack went first: not timed_out
  CHECK(error_of(h.loop.run_until(std::move(awaited_later))) == not_connected);
  CHECK(error_of(h.loop.run_until(std::move(failed_at_once))) == std::errc::network_unreachable);
  CHECK(h.loop.spawned_count() == 0);
}

TEST_CASE("a send waiting for buffer space when its stack is destroyed resumes with not_connected") {
  stack_options co = options_for(1);
  co.tcp.connection.recv_buffer = 16 * 1024;
  stack_options so = options_for(2);
  so.tcp.connection.send_buffer = 16 * 1024;
  hosts h{{}, co, so};
  auto l = h.server->listen(7788, 8);
  std::vector<std::byte> big(1 << 20, std::byte{0x5a});
  std::optional<std::error_code> err;
  std::size_t queued = 0;
  tcp_stream client_side; // connected, never read: the server's send fills its buffer and waits
  auto sender = [&]() -> task<void> {
    auto [c, peer] = co_await l->accept().or_throw();
    auto r = co_await c.send(big);
    err = error_of(r);
    queued = c.last_send_queued();
  };
  auto connector = [&]() -> task<void> { client_side = co_await h.client->connect(h.server_ep()).or_throw(); };
  h.loop.spawn(sender());
  h.loop.spawn(connector());
  h.run_for(500ms);
  REQUIRE(client_side);
  CHECK_FALSE(err);
  h.server.reset();
  h.run_for(10ms);
  CHECK(err == not_connected);
  CHECK(queued > 0); // what the send had queued before the stack went
  CHECK(queued < big.size());
}

TEST_CASE("a close in progress when its stack is destroyed resumes with not_connected") {
  hosts h;
  auto l = h.server->listen(7788, 8);
  std::optional<std::error_code> err;
  tcp::state before = tcp::state::closed;
  tcp_stream client_side; // never closes: the server's close waits in FIN_WAIT_2
  std::optional<tcp_stream> server_side;
  auto closer = [&]() -> task<void> {
    auto a = co_await l->accept().or_throw();
    server_side.emplace(std::move(a.stream));
    err = error_of(co_await server_side->close());
  };
  auto connector = [&]() -> task<void> { client_side = co_await h.client->connect(h.server_ep()).or_throw(); };
  h.loop.spawn(closer());
  h.loop.spawn(connector());
  h.run_for(100ms);
  CHECK_FALSE(err);
  REQUIRE(server_side);
  before = server_side->state();
  CHECK(before == tcp::state::fin_wait_2);
  h.server.reset();
  h.run_for(10ms);
  CHECK(err == not_connected);
  CHECK(server_side->state() == tcp::state::closed);
  server_side.reset(); // destroyed after the stack, outside any coroutine
}

TEST_CASE("with_timeout around a waiting recv: the stack going first gives not_connected, and the timer is harmless") {
  hosts h;
  auto l = h.server->listen(7788, 8);
  std::optional<std::error_code> err;
  tcp_stream client_side;
  auto reader = [&]() -> task<void> {
    auto [c, peer] = co_await l->accept().or_throw();
    std::array<std::byte, 16> buf{};
    err = error_of(co_await with_timeout(c.recv(buf), 5s));
    // A with_timeout around an operation on the detached stream completes at once.
    const auto t0 = h.loop.now();
    CHECK(error_of(co_await with_timeout(c.recv(buf), 5s)) == not_connected);
    CHECK(error_of(co_await with_timeout(c.send(as_bytes("x")), 5s)) == not_connected);
    CHECK(error_of(co_await with_timeout(c.close(), 5s)) == not_connected);
    CHECK(h.loop.now() == t0);
  };
  auto connector = [&]() -> task<void> { client_side = co_await h.client->connect(h.server_ep()).or_throw(); };
  h.loop.spawn(reader());
  h.loop.spawn(connector());
  h.run_for(100ms);
  CHECK_FALSE(err);
  h.server.reset();
  h.run_for(10s); // past the deadline
  CHECK(err == not_connected);
  CHECK(h.loop.spawned_count() == 0);
}

TEST_CASE("streams and listeners, moved or not, destroyed after their stack and after the loop") {
  tcp_stream outlives_loop;
  tcp_listener listener_outlives_loop;
  {
    hosts h;
    auto l = h.server->listen(7788, 8);
    REQUIRE(l);
    auto connector = [&]() -> task<tcp_stream> { co_return co_await h.client->connect(h.server_ep()).or_throw(); };
    auto c = h.loop.run_until(connector());
    auto a = h.loop.run_until(l->accept()).value();
    auto recv_not_awaited = std::array<std::byte, 4>{};
    auto pending = c.recv(recv_not_awaited); // created while the stack lives, awaited after
    h.client.reset();
    h.server.reset();
    CHECK(error_of(h.loop.run_until(std::move(pending))) == not_connected);

    // Moves of detached objects, and moved-from objects.
    tcp_stream moved = std::move(c);
    CHECK_FALSE(c);
    CHECK_THROWS_AS((void)c.recv(recv_not_awaited), std::system_error); // an empty stream, as before
    CHECK(c.state() == tcp::state::closed);
    moved = std::move(a.stream); // move-assigning over a detached stream releases it
    CHECK(moved);
    h.loop.run_until(check_detached(moved));
    outlives_loop = std::move(moved);
    listener_outlives_loop = std::move(*l);
    CHECK_FALSE(*l);
  }
  // The loop, the wire and both stacks are gone.
  CHECK(outlives_loop.state() == tcp::state::closed);
  CHECK(outlives_loop.readable() == 0);
  CHECK(error_of(outlives_loop.shutdown()) == not_connected);
  outlives_loop.abort();
  CHECK(listener_outlives_loop);
  listener_outlives_loop.close();
}

TEST_CASE("a coroutine still waiting in recv when the stack and then the loop are destroyed") {
  std::optional<std::error_code> err;
  bool destroyed_with_stream = false;
  {
    hosts h;
    auto l = h.server->listen(7788, 8);
    tcp_stream client_side;
    struct on_destroy {
      bool* flag;
      ~on_destroy() { *flag = true; }
    };
    auto reader = [&]() -> task<void> {
      on_destroy guard{&destroyed_with_stream};
      auto [c, peer] = co_await l->accept().or_throw();
      std::array<std::byte, 16> buf{};
      err = error_of(co_await c.recv(buf));
    };
    auto connector = [&]() -> task<void> { client_side = co_await h.client->connect(h.server_ep()).or_throw(); };
    h.loop.spawn(reader());
    h.loop.spawn(connector());
    h.run_for(100ms);
    CHECK_FALSE(err);
    h.server.reset();
    // The loop is destroyed without running another turn: its shutdown drains the ready
    // queue (the reader resumes, with not_connected) and destroys what is left.
  }
  CHECK(destroyed_with_stream);
  CHECK(err == not_connected);
}

// A waiting recv's buffer is posted to the connection (direct placement): data may be copied
// into it in the same turn as, but before, the stack goes. Bytes placed are the reader's: the
// recv completes with them, not with not_connected.
TEST_CASE("the stack destroyed around the moment data arrives: the recv gets the data or not_connected") {
  int data_won = 0;
  int detach_won = 0;
  int placed_then_detached = 0; // placed in the buffer, the reader not yet woken, then the stack went
  for (int step = 0; step <= 40; ++step) {
    CAPTURE(step);
    link::sim_config wire_cfg;
    wire_cfg.delay = 100us;
    hosts h{wire_cfg};
    auto l = h.server->listen(7788, 8);
    const auto destroy_after = std::chrono::microseconds{step * 5};
    bool done = false;
    bool placed = false;
    std::string data;
    std::error_code err;
    auto reader = [&]() -> task<void> {
      auto [c, peer] = co_await l->accept().or_throw();
      std::array<std::byte, 64> buf{};
      auto r = co_await c.recv(buf);
      if (r) data = std::string{as_chars(*r)};
      err = error_of(r);
      done = true;
    };
    auto writer = [&]() -> task<void> {
      auto s = co_await h.client->connect(h.server_ep()).or_throw();
      co_await sleep_for(h.loop, 10ms);
      co_await s.send(as_bytes("0123456789")).or_throw();
      // The segment reaches the server about 100 µs from now; its stack goes 0..200 µs later.
      co_await sleep_for(h.loop, destroy_after);
      placed = h.server->tcp().stats().direct_placed > 0;
      if (placed && !done) ++placed_then_detached;
      h.server.reset();
      co_await sleep_for(h.loop, 1ms);
    };
    h.loop.run_until(when_all(reader(), writer()));
    REQUIRE(done);
    if (placed) CHECK(data == "0123456789"); // the bytes placed before the stack went
    if (!err) {
      CHECK(data == "0123456789");
      ++data_won;
    } else {
      CHECK(err == not_connected);
      ++detach_won;
    }
  }
  CHECK(data_won > 0);
  CHECK(detach_won > 0);
  CHECK(placed_then_detached > 0); // the sweep hit the window between placement and wake-up
}

TEST_CASE("a send waiting on a stream destroyed meanwhile resumes with operation_canceled") {
  stack_options co = options_for(1);
  co.tcp.connection.recv_buffer = 16 * 1024;
  stack_options so = options_for(2);
  so.tcp.connection.send_buffer = 16 * 1024;
  hosts h{{}, co, so};
  auto l = h.server->listen(7788, 8);
  std::vector<std::byte> big(1 << 20, std::byte{0x5a});
  std::optional<tcp_stream> server_side;
  std::optional<std::error_code> err;
  tcp_stream client_side;
  auto sender = [&]() -> task<void> {
    auto a = co_await l->accept().or_throw();
    server_side.emplace(std::move(a.stream));
    err = error_of(co_await server_side->send(big));
  };
  auto connector = [&]() -> task<void> { client_side = co_await h.client->connect(h.server_ep()).or_throw(); };
  h.loop.spawn(sender());
  h.loop.spawn(connector());
  h.run_for(500ms);
  CHECK_FALSE(err);
  server_side.reset(); // the stream goes while its send waits (the stack stays)
  h.run_for(10ms);
  CHECK(err == std::errc::operation_canceled);
}

TEST_SUITE_END();
