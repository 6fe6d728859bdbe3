// 10,000 concurrent connections over the simulated wire, through the coroutine API: every
// client connects, exchanges a few bytes with the server and stays open until all 10,000 are
// open at the same moment; then the memory held per idle connection is measured, and all of
// them close (4-way close, TIME_WAIT, CLOSED) with nothing left behind.
//
// Memory is counted by this test binary's global operator new/delete (malloc_usable_size of
// every live block, so malloc's rounding is included and its 8-byte chunk headers are not):
// everything the stacks, the TCP layers, the hash tables, the timer heap and the tcp_stream
// handles allocate goes through it. mallinfo2() would not work under ASan, whose allocator
// replaces glibc's.
//
// SYNACK_TEST_SCALE scales the count (0.25 in the sanitizer build); 1 runs the full 10,000.
#include <doctest/doctest.h>
#include <malloc.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "synack/core/sim_scheduler.hpp"
#include "synack/core/sleep.hpp"
#include "synack/core/task.hpp"
#include "synack/link/sim_link.hpp"
#include "synack/socket/stack.hpp"

namespace {
std::atomic<std::int64_t> g_live_bytes{0};
std::atomic<std::int64_t> g_live_blocks{0};
} // namespace

// Counting replacements of the global allocation functions (the other forms, new[], nothrow
// and sized delete, call these by default).
auto operator new(std::size_t n) -> void* {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc{};
  g_live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  g_live_blocks.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  g_live_blocks.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

using namespace synack;
using namespace std::chrono_literals;

namespace {

auto test_scale() -> double {
  const char* s = std::getenv("SYNACK_TEST_SCALE");
  const double v = s ? std::atof(s) : 1.0;
  return v > 0 ? v : 1.0;
}

auto options_for(std::uint8_t host, std::size_t n) -> stack_options {
  stack_options o;
  o.address = wire::ipv4_cidr{wire::ipv4_address{192, 0, 2, host}, 24};
  o.secret = siphash_key{host, 4242};
  // Room for all of them at once: every SYN gets a real connection (no cookies needed).
  o.tcp.max_syn_backlog = n + 16;
  o.tcp.max_connections = 2 * n + 64;
  return o;
}

struct two_hosts {
  sim_scheduler loop;
  link::sim_link_pair wire;
  stack<link::sim_link&> client;
  stack<link::sim_link&> server;

  explicit two_hosts(std::size_t n)
      : wire(loop, link::sim_config{}),
        client(loop, wire.a(), options_for(1, n)),
        server(loop, wire.b(), options_for(2, n)) {}
};

auto message_for(std::size_t i) -> std::string { return fmt::format("hello {:05}", i); }

} // namespace

TEST_SUITE_BEGIN("socket.scale");

TEST_CASE("10,000 concurrent connections, each exchanging data; memory per idle connection") {
  const auto n = std::max<std::size_t>(200, static_cast<std::size_t>(10000 * test_scale()));
  CAPTURE(n);
  two_hosts h{n};
  auto listener = h.server.listen(7788, n + 16);
  REQUIRE(listener);
  // Let the stacks and the loop reach their steady state before the baseline (ring setup,
  // first allocations of the link and the layers).
  h.loop.run_until(sleep_for(h.loop, 10ms));
  const auto base_bytes = g_live_bytes.load();
  const auto base_blocks = g_live_blocks.load();
  const auto connections = static_cast<double>(2 * n); // one at each end of each pair
  std::size_t failures = 0;

  // One round: n clients connect at once and exchange a message with the server; all stay
  // open together; then all close. Returns the bytes held per idle connection.
  auto round = [&](int number) -> double {
    CAPTURE(number);
    std::vector<tcp_stream> client_streams(n);
    std::vector<tcp_stream> server_streams;
    server_streams.reserve(n);
    std::size_t connected = 0, served = 0;
    bool all_open = false;
    auto check_all_open = [&] { all_open = connected == n && served == n; };
    const auto vectors_bytes = g_live_bytes.load() - base_bytes;

    // The server accepts every connection and answers each on its own coroutine (an echo),
    // then keeps the stream open (moved out of the coroutine, which ends).
    auto handler = [&](tcp_stream s) -> task<void> {
      std::array<std::byte, 32> buf{};
      std::size_t got = 0;
      while (got < 11) {
        auto d = co_await s.recv(bytes_mut{buf}.subspan(got));
        if (!d || d->empty()) {
          ++failures;
          co_return;
        }
        got += d->size();
      }
      if (!co_await s.send(bytes_view{buf}.first(got))) ++failures;
      server_streams.push_back(std::move(s));
      ++served;
      check_all_open();
    };
    auto acceptor = [&]() -> task<void> {
      for (std::size_t i = 0; i < n; ++i) {
        auto a = co_await listener->accept();
        if (!a) {
          ++failures;
          co_return;
        }
        h.loop.spawn(handler(std::move(a->stream)));
      }
    };
    // The clients, all started at once.
    auto client = [&](std::size_t i) -> task<void> {
      auto s = co_await h.client.connect({wire::ipv4_address{192, 0, 2, 2}, 7788});
      if (!s) {
        ++failures;
        co_return;
      }
      const auto msg = message_for(i);
      if (!co_await s->send(as_bytes(std::string_view{msg}))) ++failures;
      std::array<std::byte, 32> buf{};
      std::size_t got = 0;
      while (got < msg.size()) {
        auto d = co_await s->recv(bytes_mut{buf}.subspan(got));
        if (!d || d->empty()) {
          ++failures;
          co_return;
        }
        got += d->size();
      }
      if (as_chars(bytes_view{buf}.first(got)) != msg) ++failures;
      client_streams[i] = std::move(*s);
      ++connected;
      check_all_open();
    };

    const auto t0 = h.loop.now();
    h.loop.spawn(acceptor());
    for (std::size_t i = 0; i < n; ++i) h.loop.spawn(client(i));
    REQUIRE(h.loop.run_until_done(all_open));
    CHECK(failures == 0);
    const auto open_time = h.loop.now() - t0;

    // All of them open at the same moment, on both sides.
    CHECK(h.client.tcp().connection_count() == n);
    CHECK(h.server.tcp().connection_count() == n);
    std::size_t established = 0;
    for (auto& s : client_streams) established += s.state() == tcp::state::established;
    for (auto& s : server_streams) established += s.state() == tcp::state::established;
    CHECK(established == 2 * n);
    CHECK(h.server.tcp().stats().syn_cookies_sent == 0);
    CHECK(h.server.tcp().stats().listen_drops == 0);

    // Idle: delayed ACKs out, nothing in flight, every byte read and acknowledged.
    h.loop.run_until(sleep_for(h.loop, 1s));
    CHECK(h.loop.spawned_count() == 0); // every client and handler coroutine has finished
    CHECK(h.wire.wire().a_to_b.in_flight() == 0);
    CHECK(h.wire.wire().b_to_a.in_flight() == 0);
    const auto idle_bytes = g_live_bytes.load() - base_bytes - vectors_bytes;
    const auto idle_blocks = g_live_blocks.load() - base_blocks;
    const auto per_connection = static_cast<double>(idle_bytes) / connections;
    if (number == 1) {
      MESSAGE(
          fmt::format("{} connections open at once ({} at each end) after {:.3f} s of virtual time; memory per "
                      "idle connection: {:.0f} bytes in {:.1f} heap blocks (the TCP layer's slot with the "
                      "connection inline, the 4-tuple index, shares of the timer heap and hash tables, the "
                      "tcp_stream handle; no buffers); sizeof(tcp::connection) = {} bytes",
                      2 * n, n, std::chrono::duration<double>(open_time).count(), per_connection,
                      static_cast<double>(idle_blocks) / connections, sizeof(tcp::connection<>)));
    }

    // Close them all: the clients first (FIN_WAIT -> TIME_WAIT); the server reads the end of
    // the stream and closes (CLOSE_WAIT -> LAST_ACK -> CLOSED).
    std::size_t clients_closed = 0, servers_closed = 0;
    bool all_closed = false;
    auto close_client = [&](tcp_stream& s) -> task<void> {
      auto r = co_await s.close();
      if (!r || s.state() != tcp::state::time_wait) ++failures;
      ++clients_closed;
      all_closed = clients_closed == n && servers_closed == n;
    };
    auto close_server = [&](tcp_stream& s) -> task<void> {
      std::array<std::byte, 8> buf{};
      auto d = co_await s.recv(buf);
      if (!d || !d->empty()) ++failures; // the end of the stream
      auto r = co_await s.close();
      if (!r || s.state() != tcp::state::closed) ++failures;
      ++servers_closed;
      all_closed = clients_closed == n && servers_closed == n;
    };
    for (auto& s : server_streams) h.loop.spawn(close_server(s));
    for (auto& s : client_streams) h.loop.spawn(close_client(s));
    REQUIRE(h.loop.run_until_done(all_closed));
    CHECK(failures == 0);
    client_streams.clear();
    server_streams.clear();
    CHECK(h.server.tcp().connection_count() == 0); // CLOSED and released
    CHECK(h.client.tcp().connection_count() == n); // in TIME_WAIT, 2 MSL
    h.loop.run_until(sleep_for(h.loop, 2 * tcp::config{}.msl + 1s));
    CHECK(h.client.tcp().connection_count() == 0);
    return per_connection;
  };

  const auto first = round(1);
  // Buffers are allocated lazily and released when empty: an idle connection holds none, so
  // it costs well under 4 KiB (one send or receive buffer alone would be 256 KiB).
  CHECK(first < 4096.0);
  CHECK(first > 1000.0); // sanity: the measurement sees the connections at all
  const auto after_first = g_live_bytes.load();
  // A second round reuses what the first one left (the layers keep their slots as a pool):
  // nothing grows, so nothing leaked.
  const auto second = round(2);
  CHECK(second < 256.0); // only the tcp_stream handles and index nodes are new: slots are reused
  CHECK(g_live_bytes.load() <= after_first + 64 * 1024);
  CHECK(h.client.tcp().stats().state_entered[tcp::index_of(tcp::state::time_wait)] == 2 * n);
  CHECK(h.server.tcp().stats().state_entered[tcp::index_of(tcp::state::last_ack)] == 2 * n);
  CHECK(h.client.tcp().stats().retrans_segs == 0);
  CHECK(h.server.tcp().stats().retrans_segs == 0);
}

TEST_SUITE_END();
