// The coroutine socket API over two stacks on the simulated wire, in virtual time (sim_scheduler: no io_uring):
// the seed's client and server, every error the API promises, cancellation and timeouts,
// and object lifetimes.
#include <doctest/doctest.h>

#include <array>
#include <string>

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
  o.secret = siphash_key{host, 42};
  return o;
}

/// A client host (192.0.2.1) and a server host (192.0.2.2) on one simulated wire.
struct two_hosts {
  sim_scheduler loop;
  link::sim_link_pair wire;
  stack<link::sim_link&> client;
  stack<link::sim_link&> server;

  explicit two_hosts(link::sim_config c = {}, stack_options co = options_for(1), stack_options so = options_for(2))
      : wire(loop, c), client(loop, wire.a(), co), server(loop, wire.b(), so) {}
  auto server_ep(std::uint16_t port = 7788) const -> wire::endpoint { return {wire::ipv4_address{192, 0, 2, 2}, port}; }
};

} // namespace

TEST_SUITE_BEGIN("socket.stack");

TEST_CASE("the seed's programs: the client sends, the server answers \"thank you !\", both close") {
  two_hosts h;
  auto server = [&]() -> task<std::string> {
    auto l = h.server.listen(7788, 128);
    REQUIRE(l);
    auto [client, peer] = co_await l->accept().or_throw();
    CHECK(peer.addr == wire::ipv4_address{192, 0, 2, 1});
    std::array<std::byte, 1024> buf{};
    auto data = co_await client.recv(buf).or_throw();
    std::string got{as_chars(data)};
    co_await client.send(as_bytes("thank you !")).or_throw();
    co_await client.close().or_throw();
    CHECK(client.state() == tcp::state::time_wait);
    co_return got;
  };
  auto client = [&]() -> task<std::string> {
    auto s = co_await h.client.connect(h.server_ep()).or_throw();
    CHECK(s.state() == tcp::state::established);
    CHECK(s.remote_endpoint() == h.server_ep());
    co_await s.send(as_bytes("hello from the seed")).or_throw();
    std::array<std::byte, 1024> buf{};
    std::string got;
    while (true) {
      auto data = co_await s.recv(buf).or_throw();
      if (data.empty()) break; // the server closed: EOF
      got += as_chars(data);
    }
    co_await s.close().or_throw();
    CHECK(s.state() == tcp::state::closed); // we were the passive closer: LAST_ACK -> CLOSED
    co_return got;
  };
  auto [at_server, at_client] = h.loop.run_until(when_all(server(), client()));
  CHECK(at_server == "hello from the seed");
  CHECK(at_client == "thank you !");
  // The state machine visited the handshake and close states on both sides.
  const auto& cs = h.client.tcp().stats().state_entered;
  const auto& ss = h.server.tcp().stats().state_entered;
  CHECK(cs[tcp::index_of(tcp::state::syn_sent)] == 1);
  CHECK(cs[tcp::index_of(tcp::state::close_wait)] == 1);
  CHECK(cs[tcp::index_of(tcp::state::last_ack)] == 1);
  CHECK(ss[tcp::index_of(tcp::state::syn_received)] == 1);
  CHECK(ss[tcp::index_of(tcp::state::fin_wait_1)] == 1);
  CHECK(ss[tcp::index_of(tcp::state::fin_wait_2)] == 1);
  CHECK(ss[tcp::index_of(tcp::state::time_wait)] == 1);
}

TEST_CASE("connect to a port nobody listens on: connection_refused") {
  two_hosts h;
  auto r = h.loop.run_until(h.client.connect(h.server_ep(9)));
  REQUIRE_FALSE(r);
  CHECK(r.error() == std::errc::connection_refused);
  CHECK_THROWS_AS(h.loop.run_until(h.client.connect(h.server_ep(9)).or_throw()), std::system_error);
}

TEST_CASE("connect without a route: network_unreachable, at once") {
  two_hosts h;
  auto r = h.loop.run_until(h.client.connect({wire::ipv4_address{198, 51, 100, 7}, 80}));
  REQUIRE_FALSE(r);
  CHECK(r.error() == std::errc::network_unreachable);
}

TEST_CASE("listen twice on a port: address_in_use") {
  two_hosts h;
  auto a = h.server.listen(7788, 8);
  REQUIRE(a);
  auto b = h.server.listen(7788, 8);
  REQUIRE_FALSE(b);
  CHECK(b.error() == std::errc::address_in_use);
  a->close();
  CHECK(h.server.listen(7788, 8));
}

TEST_CASE("a peer that never answers: with_timeout gives timed_out, and retries exhaust into timed_out") {
  link::sim_config lossy;
  lossy.loss = 1.0; // nothing gets through
  two_hosts h{lossy};
  const auto start = h.loop.now();
  auto r = h.loop.run_until(with_timeout(h.client.connect(h.server_ep()), 3s));
  REQUIRE_FALSE(r);
  CHECK(r.error() == std::errc::timed_out);
  CHECK(h.loop.now() - start == 3s);
  CHECK(h.client.tcp().connection_count() == 0); // the abandoned attempt is gone
  auto r2 = h.loop.run_until(h.client.connect(h.server_ep()));
  REQUIRE_FALSE(r2);
  CHECK(r2.error() == std::errc::timed_out); // SYN retries (6, backed off) ran out
}

TEST_CASE("with_timeout(op, d).or_throw() on the socket's operations: timed_out as a system_error") {
  two_hosts h;
  auto l = h.server.listen(7788, 8);
  REQUIRE(l);
  std::error_code accept_timeout, recv_timeout;
  std::stop_source stop;
  auto server = [&]() -> task<void> {
    try {
      (void)co_await with_timeout(l->accept(), 1s).or_throw(); // nobody connects yet
    } catch (const std::system_error& e) {
      accept_timeout = e.code();
    }
    auto [c, peer] = co_await with_timeout(l->accept(), 10s).or_throw();
    std::array<std::byte, 16> buf{};
    try {
      (void)co_await with_timeout(c.recv(buf), 2s).or_throw(); // the client sends nothing
    } catch (const std::system_error& e) {
      recv_timeout = e.code();
    }
    // A token as the last argument, as on every operation.
    auto r = co_await with_timeout(c.recv(buf), 1h, stop.get_token());
    CHECK(r.error() == std::errc::operation_canceled);
    auto data = co_await with_timeout(c.recv(buf), 10s).or_throw();
    CHECK(as_chars(data) == "late");
    co_await with_timeout(c.close(), 10s).or_throw();
  };
  auto client = [&]() -> task<void> {
    co_await sleep_for(h.loop, 2s);
    auto s = co_await with_timeout(h.client.connect(h.server_ep()), 10s).or_throw();
    co_await sleep_for(h.loop, 3s);
    stop.request_stop();
    co_await with_timeout(s.send(as_bytes("late")), 10s).or_throw();
    co_await with_timeout(s.close(), 10s).or_throw();
  };
  h.loop.run_until(when_all(server(), client()));
  CHECK(accept_timeout == std::errc::timed_out);
  CHECK(recv_timeout == std::errc::timed_out);
}

TEST_CASE("a stop token cancels a waiting recv exactly once, and the stream still works") {
  two_hosts h;
  auto l = h.server.listen(7788, 8);
  std::stop_source stop;
  auto server = [&]() -> task<void> {
    auto [c, peer] = co_await l->accept().or_throw();
    std::array<std::byte, 16> buf{};
    auto r = co_await c.recv(buf, stop.get_token());
    CHECK(r.error() == std::errc::operation_canceled);
    auto data = co_await c.recv(buf).or_throw();
    CHECK(as_chars(data) == "late");
  };
  auto client = [&]() -> task<void> {
    auto s = co_await h.client.connect(h.server_ep()).or_throw();
    co_await sleep_for(h.loop, 100ms);
    stop.request_stop();
    co_await sleep_for(h.loop, 100ms);
    co_await s.send(as_bytes("late")).or_throw();
    co_await s.close().or_throw();
  };
  h.loop.run_until(when_all(server(), client()));
}

TEST_CASE("abort resets the peer: its recv fails with connection_reset") {
  two_hosts h;
  auto l = h.server.listen(7788, 8);
  auto server = [&]() -> task<void> {
    auto [c, peer] = co_await l->accept().or_throw();
    std::array<std::byte, 16> buf{};
    auto r = co_await c.recv(buf);
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::connection_reset);
    CHECK(c.state() == tcp::state::closed);
  };
  auto client = [&]() -> task<void> {
    auto s = co_await h.client.connect(h.server_ep()).or_throw();
    co_await sleep_for(h.loop, 10ms);
    s.abort();
    CHECK(s.state() == tcp::state::closed);
    std::array<std::byte, 16> buf{};
    auto r = co_await s.recv(buf);
    CHECK(r.error() == std::errc::connection_aborted);
  };
  h.loop.run_until(when_all(server(), client()));
}

TEST_CASE("send waits for window space and moves a large buffer intact") {
  stack_options small = options_for(1);
  small.tcp.connection.send_buffer = 16 * 1024;
  stack_options small_server = options_for(2);
  small_server.tcp.connection.recv_buffer = 16 * 1024;
  two_hosts h{link::sim_config{}, small, small_server};
  auto l = h.server.listen(7788, 8);
  std::vector<std::byte> big(1 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = std::byte(i * 7 + (i >> 11));
  auto server = [&]() -> task<std::vector<std::byte>> {
    auto [c, peer] = co_await l->accept().or_throw();
    std::vector<std::byte> got;
    std::array<std::byte, 3000> buf{};
    while (true) {
      auto d = co_await c.recv(buf).or_throw();
      if (d.empty()) break;
      got.insert(got.end(), d.begin(), d.end());
    }
    co_await c.close().or_throw();
    co_return got;
  };
  auto client = [&]() -> task<void> {
    auto s = co_await h.client.connect(h.server_ep()).or_throw();
    auto n = co_await s.send(big).or_throw();
    CHECK(n == big.size());
    co_await s.close().or_throw();
  };
  auto [got, none] = h.loop.run_until(when_all(server(), client()));
  CHECK(got == big);
  // The server's recv waited with its buffer posted: data went straight into it.
  CHECK(h.server.tcp().stats().direct_placed > 0);
}

// A waiting recv's buffer is posted to the connection (direct placement): data may land in it
// before the coroutine resumes. A stop request at any moment around the data's arrival must
// give either the data or operation_canceled with the data still readable: never lose it.
TEST_CASE("a stop racing with arriving data never loses a byte") {
  int data_won = 0;
  int stop_won = 0;
  for (int step = 0; step <= 40; ++step) {
    CAPTURE(step);
    link::sim_config wire_cfg;
    wire_cfg.delay = 100us;
    two_hosts h{wire_cfg};
    auto l = h.server.listen(7788, 8);
    std::stop_source stop;
    const auto stop_after = std::chrono::microseconds{step * 5};
    auto server = [&]() -> task<std::string> {
      auto [c, peer] = co_await l->accept().or_throw();
      std::array<std::byte, 64> buf{};
      std::string got;
      auto r = co_await c.recv(buf, stop.get_token());
      if (r) {
        got += as_chars(*r);
        ++data_won;
      } else {
        CHECK(r.error() == std::errc::operation_canceled);
        ++stop_won;
      }
      while (true) {
        auto d = co_await c.recv(buf).or_throw();
        if (d.empty()) break;
        got += as_chars(d);
      }
      co_await c.close().or_throw();
      co_return got;
    };
    auto client = [&]() -> task<void> {
      auto s = co_await h.client.connect(h.server_ep()).or_throw();
      co_await sleep_for(h.loop, 10ms);
      co_await s.send(as_bytes("0123456789")).or_throw();
      // The segment reaches the server about 100 µs from now; the stop comes 0..200 µs later.
      co_await sleep_for(h.loop, stop_after);
      stop.request_stop();
      co_await s.close().or_throw();
    };
    auto [got, none] = h.loop.run_until(when_all(server(), client()));
    CHECK(got == "0123456789");
  }
  // Both outcomes happened: the sweep crossed the moment of arrival.
  CHECK(data_won > 0);
  CHECK(stop_won > 0);
}

TEST_CASE("destroying streams and listeners mid-operation neither leaks nor hangs") {
  two_hosts h;
  {
    auto l = h.server.listen(7788, 8);
    auto client = [&]() -> task<void> {
      auto s = co_await h.client.connect(h.server_ep()).or_throw();
      co_await s.send(as_bytes("x")).or_throw();
      // s is destroyed here without close(): a graceful close happens in the background.
    };
    h.loop.run_until(client());
    // The listener goes away with one unaccepted connection: it is reset.
  }
  // Everything winds down by itself: run the loop until the stacks hold no connection.
  for (int i = 0; i < 1000 && (h.client.tcp().connection_count() || h.server.tcp().connection_count()); ++i) {
    h.loop.run_until(sleep_for(h.loop, 1s));
  }
  CHECK(h.client.tcp().connection_count() == 0);
  CHECK(h.server.tcp().connection_count() == 0);
}

TEST_CASE("a second recv while one waits: operation_in_progress") {
  two_hosts h;
  auto l = h.server.listen(7788, 8);
  auto server = [&]() -> task<void> {
    auto [c, peer] = co_await l->accept().or_throw();
    std::array<std::byte, 16> a{}, b{};
    auto [ra, rb] = co_await when_all(c.recv(a), c.recv(b));
    CHECK(ra);
    REQUIRE_FALSE(rb);
    CHECK(rb.error() == std::errc::operation_in_progress);
  };
  auto client = [&]() -> task<void> {
    auto s = co_await h.client.connect(h.server_ep()).or_throw();
    co_await sleep_for(h.loop, 10ms);
    co_await s.send(as_bytes("hi")).or_throw();
    co_await s.close().or_throw();
  };
  h.loop.run_until(when_all(server(), client()));
}

TEST_SUITE_END();

TEST_CASE("on a stack with dynamic_policies each connection picks its congestion control") {
  sim_scheduler loop;
  link::sim_link_pair wire{loop, link::sim_config{}};
  stack<link::sim_link&, tcp::dynamic_policies> client{loop, wire.a(), options_for(1)};
  stack_options so = options_for(2);
  so.tcp.connection.congestion = tcp::congestion_kind::cubic; // the listener's connections
  stack<link::sim_link&, tcp::dynamic_policies> server{loop, wire.b(), so};
  auto l = server.listen(7788, 8);
  auto run = [&]() -> task<void> {
    stream_options opts;
    opts.congestion = tcp::congestion_kind::none;
    auto s = co_await client.connect({wire::ipv4_address{192, 0, 2, 2}, 7788}, opts).or_throw();
    auto [peer_side, addr] = co_await l->accept().or_throw();
    CHECK(s.info().congestion == "none");
    CHECK(peer_side.info().congestion == "cubic");
    auto d = co_await client.connect({wire::ipv4_address{192, 0, 2, 2}, 7788}).or_throw();
    CHECK(d.info().congestion == "new_reno"); // the default
    s.abort();
    d.abort();
  };
  loop.run_until(run());
}
