// Orphans that never die (Sockstress): a connection the application released (tcp::layer::
// release, what the tcp_stream destructor does) finishes its close in the background. When its
// peer keeps its receive window at zero and answers every zero-window probe, the close never
// ends: the orphan holds a connection slot and its send buffer forever, and a peer that repeats
// this pins every slot. RFC 9293 §3.8.6.1 (RFC 1122 §4.2.2.17) lets a window stay closed
// indefinitely for a connection someone still uses; nobody uses an orphan. As Linux does
// (tcp_orphan_retries, tcp_max_orphans), orphans are bounded in time and in number. These tests
// run two sans-IO hosts on the simulated wire and virtual time: host a plays the peer (its
// connections never read, so their window closes), host b the server that writes a response
// and lets go of the connection.
#include <chrono>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "heap_counter.hpp"
#include "sim_network.hpp"

using namespace test_sim;

namespace {

/// Two hosts like test_sim::network, each with its own layer configuration.
struct two_hosts {
  instant now = instant::from_millis(1);
  link::sim_wire wire;
  sim_host<> a;
  sim_host<> b;
  bool a_silent = false; // drop everything a sends (the peer vanished)

  two_hosts(const tcp::layer_config& cfg_a, const tcp::layer_config& cfg_b, std::uint64_t seed)
      : wire(link::sim_config{.seed = seed}),
        a(wire::ipv4_cidr{wire::ipv4_address{192, 0, 2, 1}, 24}, cfg_a, seed * 2 + 1, wire.a_to_b),
        b(wire::ipv4_cidr{wire::ipv4_address{192, 0, 2, 2}, 24}, cfg_b, seed * 2 + 2, wire.b_to_a) {}

  /// Advances to the next event (but not beyond `limit`) and processes what is due then.
  /// Returns false when nothing is scheduled at all.
  auto step(instant limit = instant::max()) -> bool {
    a.poll(now);
    b.poll(now);
    std::optional<instant> t;
    auto take = [&](std::optional<instant> x) {
      if (x && (!t || *x < *t)) t = x;
    };
    take(wire.a_to_b.next_delivery());
    take(wire.b_to_a.next_delivery());
    take(a.tcp.next_deadline());
    take(b.tcp.next_deadline());
    if (a.tcp.has_pending() || b.tcp.has_pending()) take(now);
    if (!t) return false;
    if (*t > limit) {
      now = std::max(now, limit);
      return true;
    }
    if (*t > now) now = *t;
    wire.a_to_b.deliver(now, [&](bytes_view p) {
      if (!a_silent) b.receive(now, p);
    });
    wire.b_to_a.deliver(now, [&](bytes_view p) { a.receive(now, p); });
    if (auto d = a.tcp.next_deadline(); d && *d <= now) a.tcp.on_timeout(now);
    if (auto d = b.tcp.next_deadline(); d && *d <= now) b.tcp.on_timeout(now);
    return true;
  }
  /// Runs until `until` (or until nothing is scheduled).
  void run_until(instant until) {
    while (now < until && step(until)) {}
    now = std::max(now, until);
  }
};

/// The peer's connections: a receive buffer of 4 KiB that is never read, so the window they
/// advertise closes after the first 4 KiB and stays closed; every probe is answered.
auto peer_settings() -> tcp::config {
  tcp::config c;
  c.recv_buffer = 4096;
  return c;
}

/// b serves `n` connections from a: each gets `response` bytes written, then (unless
/// `keep_last`) is released at once, as a server that writes a response and closes does. The
/// peer never reads. Returns a's connection ids (in the order b released them).
struct sockstress {
  two_hosts net;
  tcp::listener_id listener;
  std::vector<tcp::conn_id> peer;   // a's side
  std::vector<tcp::conn_id> server; // b's side, as accepted (stale once released)
  std::int64_t heap_before = 0;

  sockstress(const tcp::layer_config& cfg_b, std::size_t n, std::size_t response = 64 * 1024)
      : net(tcp::layer_config{}, cfg_b, 41) {
    listener = *net.b.tcp.listen({wire::ipv4_address{}, 80}, 1024);
    heap_before = heap_live_bytes();
    const auto settings = peer_settings();
    for (std::size_t i = 0; i < n; ++i) {
      auto id = net.a.tcp.connect(net.now, net.a.addr(), {net.b.addr(), 80}, 0, &settings);
      REQUIRE(id);
      peer.push_back(*id);
    }
    const std::vector<std::byte> data(response, std::byte{0x5a});
    const auto deadline = net.now + std::chrono::seconds{10};
    while (server.size() < n && net.now < deadline) {
      while (auto id = net.b.tcp.accept(listener)) {
        auto* c = net.b.tcp.find(*id);
        REQUIRE(c->send(bytes_view{data}) == data.size());
        net.b.tcp.touch(*id);
        server.push_back(*id);
      }
      if (!net.step()) break;
    }
    REQUIRE(server.size() == n);
    // Let the windows close: the peer's 4 KiB fill up, then b probes.
    net.run_until(net.now + std::chrono::seconds{5});
    if (response <= peer_settings().recv_buffer) return;
    for (auto id : server) {
      auto* c = net.b.tcp.find(id);
      REQUIRE(c != nullptr);
      CHECK(c->tcb().snd_wnd == 0);
      CHECK(c->send_queued() > 0);
    }
  }

  void release(std::size_t i) { net.b.tcp.release(net.now, server[i]); }
  auto peer_conn(std::size_t i) -> const tcp::layer<>::connection_type* { return net.a.tcp.find(peer[i]); }
  auto heap_kib() const -> double { return static_cast<double>(heap_live_bytes() - heap_before) / 1024.0; }
};

auto hours(duration d) -> double { return std::chrono::duration<double, std::ratio<3600>>(d).count(); }
auto secs_of(duration d) -> double { return std::chrono::duration<double>(d).count(); }

} // namespace

TEST_CASE("Sockstress: an orphan whose peer keeps its window at zero is reset (FIN_WAIT_1 with unsent data)") {
  tcp::layer_config cfg;
  sockstress s{cfg, 1};
  s.release(0);
  CHECK(s.net.b.tcp.orphan_count() == 1);
  const auto released = s.net.now;
  const auto end = released + std::chrono::hours{4};
  std::optional<instant> gone;
  while (s.net.now < end) {
    if (!gone && s.net.b.tcp.connection_count() == 0) gone = s.net.now;
    if (!s.net.step(end)) break;
  }
  if (!gone && s.net.b.tcp.connection_count() == 0) gone = s.net.now;
  s.net.now = std::max(s.net.now, end);
  const auto& st = s.net.b.tcp.stats();
  MESSAGE(
      fmt::format("orphan with a zero window, after {:.0f} virtual hours: {} connections, heap {:.0f} KiB above "
                  "the start; {}; zero-window probes sent {}, orphans timed out {}",
                  hours(s.net.now - released), s.net.b.tcp.connection_count(), s.heap_kib(),
                  gone ? fmt::format("reset {:.0f} s after the close", secs_of(*gone - released)) : "never reset",
                  st.zero_window_probes, st.orphans_timed_out));
  CHECK(st.state_entered[tcp::index_of(tcp::state::fin_wait_1)] >= 1);
  REQUIRE(gone);
  CHECK(*gone - released < std::chrono::minutes{5});
  CHECK(s.net.b.tcp.connection_count() == 0);
  CHECK(s.net.b.tcp.orphan_count() == 0);
  CHECK(st.orphans_timed_out == 1);
  // The peer was told: its connection got the RST.
  REQUIRE(s.peer_conn(0) != nullptr);
  CHECK(s.peer_conn(0)->state() == tcp::state::closed);
  CHECK(s.peer_conn(0)->last_error() == tcp::error::connection_reset);
}

TEST_CASE("Sockstress, repeated: orphans beyond the cap are reset oldest first, and a new client still gets a slot") {
  // b has 33 connection slots. A peer opens 33 connections and keeps every window at zero; b
  // answers each and lets 32 of them go (it still holds the last one). Without a cap the 32
  // orphans and the held connection pin every slot.
  tcp::layer_config cfg;
  cfg.max_connections = 33; // max_orphans 0: half of it, 16
  constexpr std::size_t n = 33;
  constexpr std::size_t orphans = 32;
  sockstress s{cfg, n};
  for (std::size_t i = 0; i < orphans; ++i) {
    s.release(i);
    s.net.run_until(s.net.now + std::chrono::milliseconds{10});
  }
  s.net.run_until(s.net.now + std::chrono::seconds{1});
  const auto after_release = s.net.b.tcp.connection_count();
  const auto orphans_after_release = s.net.b.tcp.orphan_count();
  const auto heap_after_release = s.heap_kib();
  std::size_t peers_reset = 0;
  std::vector<bool> reset_first(n);
  for (std::size_t i = 0; i < n; ++i) {
    reset_first[i] = s.peer_conn(i)->last_error() == tcp::error::connection_reset;
    if (s.peer_conn(i)->state() == tcp::state::closed) ++peers_reset;
  }

  // A new client connects: b must accept it.
  auto legit = s.net.a.tcp.connect(s.net.now, s.net.a.addr(), {s.net.b.addr(), 80});
  REQUIRE(legit);
  std::optional<tcp::conn_id> accepted;
  const auto deadline = s.net.now + std::chrono::seconds{30};
  while (!accepted && s.net.now < deadline && s.net.step(deadline)) accepted = s.net.b.tcp.accept(s.listener);

  // After a few virtual hours nothing is left of the orphans; the connection b holds is still
  // open, its window still closed (RFC 9293 §3.8.6.1).
  s.net.run_until(s.net.now + std::chrono::hours{4});
  const auto& st = s.net.b.tcp.stats();
  MESSAGE(
      fmt::format("{} orphans (+1 held) in {} slots: right after the releases {} connections, {} orphans, {:.0f} KiB "
                  "of heap, {} peers reset; new client {}; after 4 virtual hours {} connections, {:.0f} KiB of "
                  "heap; orphans dropped {}, timed out {}",
                  orphans, cfg.max_connections, after_release, orphans_after_release, heap_after_release, peers_reset,
                  accepted ? "accepted" : "NOT accepted within 30 s", s.net.b.tcp.connection_count(), s.heap_kib(),
                  st.orphans_dropped, st.orphans_timed_out));
  CHECK(orphans_after_release == orphans / 2);
  CHECK(after_release == orphans / 2 + 1);
  CHECK(st.orphans_dropped == orphans / 2);
  CHECK(accepted);
  // Oldest first: the peers of the first half were reset, those of the second half not (yet:
  // the time bound resets them later), nor the held one.
  CHECK(peers_reset == orphans / 2);
  for (std::size_t i = 0; i < n; ++i) CHECK(reset_first[i] == (i < orphans / 2));
  // Four hours later: the held connection and the new client's, nothing else.
  CHECK(s.net.b.tcp.connection_count() == 2);
  CHECK(s.net.b.tcp.orphan_count() == 0);
  CHECK(st.orphans_timed_out == orphans / 2);
  auto* held = s.net.b.tcp.find(s.server[n - 1]);
  REQUIRE(held != nullptr);
  CHECK(held->state() == tcp::state::established);
  CHECK(held->tcb().snd_wnd == 0);
  CHECK(s.peer_conn(n - 1)->state() == tcp::state::established);
}

TEST_CASE("every orphan state is bounded: LAST_ACK and CLOSING with unsent data, FIN_WAIT_1 with a silent peer") {
  tcp::layer_config cfg;
  auto run = [](sockstress& s, const char* what) {
    const auto start = s.net.now;
    std::optional<instant> gone;
    while (true) {
      if (s.net.b.tcp.connection_count() == 0) {
        gone = s.net.now;
        break;
      }
      if (s.net.now >= start + std::chrono::hours{4} || !s.net.step()) break;
    }
    if (!gone && s.net.b.tcp.connection_count() == 0) gone = s.net.now; // freed by the last step
    MESSAGE(fmt::format(
        "{}: {}", what,
        gone ? fmt::format("gone {:.0f} s after the close", secs_of(*gone - start))
             : fmt::format("still alive after 4 virtual hours ({} connections)", s.net.b.tcp.connection_count())));
    return gone ? std::optional<duration>{*gone - start} : std::nullopt;
  };
  SUBCASE("LAST_ACK: the peer closed first, b's response cannot leave") {
    sockstress s{cfg, 1};
    auto* p = s.net.a.tcp.find(s.peer[0]);
    p->shutdown_write(s.net.now);
    s.net.a.tcp.touch(s.peer[0]);
    s.net.run_until(s.net.now + std::chrono::milliseconds{100});
    REQUIRE(s.net.b.tcp.find(s.server[0])->state() == tcp::state::close_wait);
    s.release(0);
    const auto t = run(s, "orphan in LAST_ACK with unsent data");
    CHECK(s.net.b.tcp.stats().state_entered[tcp::index_of(tcp::state::last_ack)] == 1);
    REQUIRE(t);
    CHECK(*t < std::chrono::minutes{5});
    CHECK(s.net.b.tcp.stats().orphans_timed_out == 1);
  }
  SUBCASE("CLOSING: b closed first with unsent data, then the peer's FIN arrived") {
    sockstress s{cfg, 1};
    s.release(0);
    s.net.run_until(s.net.now + std::chrono::milliseconds{100});
    auto* p = s.net.a.tcp.find(s.peer[0]);
    p->shutdown_write(s.net.now);
    s.net.a.tcp.touch(s.peer[0]);
    const auto t = run(s, "orphan in CLOSING with unsent data");
    CHECK(s.net.b.tcp.stats().state_entered[tcp::index_of(tcp::state::closing)] == 1);
    REQUIRE(t);
    CHECK(*t < std::chrono::minutes{5});
    CHECK(s.net.b.tcp.stats().orphans_timed_out == 1);
  }
  SUBCASE("FIN_WAIT_1: everything sent, the peer vanished (nothing comes back)") {
    sockstress s{cfg, 1, 2048}; // the response fits the peer's window: only the FIN is left
    s.net.a_silent = true;
    s.release(0);
    const auto t = run(s, "orphan in FIN_WAIT_1 whose peer is silent");
    REQUIRE(t);
    // tcp::config::orphan_retries (8) retransmissions, not max_retries (15): about 100 s.
    CHECK(*t < std::chrono::minutes{4});
    CHECK(s.net.b.tcp.stats().orphans_timed_out == 1);
    CHECK(s.net.b.tcp.stats().state_entered[tcp::index_of(tcp::state::fin_wait_2)] == 0);
  }
}
