// Soak: 1,000 concurrent connections between two sans-IO hosts over the simulated wire with
// 5 % loss, 5 % reordering and 5 % duplication, for one virtual hour (SYNACK_TEST_SCALE scales
// the duration; the sanitizer build runs a quarter of it), opening a new connection whenever
// one finishes. Every connection moves a random amount of pattern data both ways, checked
// byte for byte; half of them are closed by the client first, half by the server first
// (after a half-close), each after a random idle time. At the end no new connection is
// opened and the run goes on until both layers are empty: every connection reached CLOSED
// (TIME_WAIT included) without an error. The live heap is sampled every 10 virtual seconds:
// the peak of the second half must not exceed the first half's by more than 10 % (memory is
// flat once the population is steady); the peak and the totals are printed.
#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <queue>

#include <fmt/format.h>

#include "heap_counter.hpp"
#include "sim_network.hpp"

using namespace test_sim;

namespace {

// The pattern: byte `off` of stream (serial, direction) is table[(off + key) % period], so a
// span of the stream is one memcpy / memcmp of the table (which repeats the period twice).
constexpr std::size_t period = 65521; // prime: a misplaced span never lines up by chance
constexpr std::size_t max_chunk = 32 * 1024;

struct pattern_table {
  std::vector<std::byte> bytes = std::vector<std::byte>(2 * period);
  pattern_table() {
    link::sim_random rng{0x5eed};
    for (std::size_t i = 0; i < period; ++i) bytes[i] = bytes[i + period] = static_cast<std::byte>(rng.next() >> 56);
  }
  static auto key(std::uint64_t serial, int direction) -> std::size_t {
    link::sim_random r{serial * 2 + static_cast<std::uint64_t>(direction) + 17};
    return static_cast<std::size_t>(r.next() % period);
  }
  /// The stream's bytes [off, off + n), n <= max_chunk.
  auto span(std::uint64_t serial, int direction, std::uint64_t off, std::size_t n) const -> bytes_view {
    const auto start = static_cast<std::size_t>((off + key(serial, direction)) % period);
    return bytes_view{bytes}.subspan(start, n);
  }
};

/// What one connection does, derived from its serial number (the server learns the serial from
/// the first 8 bytes the client sends).
struct plan {
  std::uint64_t up = 0;   // client -> server bytes (after the 8-byte serial)
  std::uint64_t down = 0; // server -> client bytes
  bool server_closes_first = false;
  duration hold{}; // idle time before the close
};

auto plan_for(std::uint64_t serial, double mean_hold_s) -> plan {
  link::sim_random r{serial * 0x9e3779b97f4a7c15ull + 5};
  auto size = [&] {
    // Mostly small exchanges, one in eight a bulk transfer of up to 256 KiB (a full window).
    return r.below(8) == 0 ? r.below(256 * 1024 + 1) : r.below(16 * 1024 + 1);
  };
  plan p;
  p.up = size();
  p.down = size();
  p.server_closes_first = r.below(2) == 0;
  const auto max_hold_ms = static_cast<std::uint64_t>(2 * mean_hold_s * 1000);
  p.hold = std::chrono::milliseconds{static_cast<std::int64_t>(r.below(max_hold_ms + 1))};
  return p;
}

struct soak_settings {
  std::size_t concurrent = 1000;
  duration length = std::chrono::hours{1};
  double mean_hold_s = 60;
  std::uint64_t seed = 1;
};

struct soak_result {
  std::string failure;
  std::uint64_t opened = 0;
  std::uint64_t completed = 0;
  std::uint64_t bytes = 0; // payload delivered and checked, both directions
  std::size_t max_open = 0;
  std::size_t max_table = 0; // connections in the busier layer's table (TIME_WAIT included)
  std::int64_t heap_start = 0;
  std::int64_t peak_first_half = 0;
  std::int64_t peak_second_half = 0;
  std::int64_t heap_end = 0;
  duration virtual_time{};
  link::sim_stats a_to_b, b_to_a;
  tcp::counters client, server;
};

class soak {
public:
  using layer_t = tcp::layer<>;

  soak(const soak_settings& s, const link::sim_config& sim, const tcp::layer_config& cfg)
      : m_set(s), m_net(sim, cfg, s.seed) {
    m_net.a.tcp.set_event_sink(&on_event, &m_events);
    m_net.b.tcp.set_event_sink(&on_event, &m_events);
    m_net.b.tcp.set_accept_sink([](void* self, tcp::listener_id, void*) { *static_cast<bool*>(self) = true; },
                                &m_accept_ready);
  }

  auto run() -> soak_result {
    auto l = m_net.b.tcp.listen({wire::ipv4_address{}, 7788}, 4096);
    REQUIRE(l);
    m_listener = *l;
    const auto start = m_net.now;
    const auto end = start + m_set.length;
    const auto give_up = end + std::chrono::minutes{15};
    auto next_sample = start;
    std::vector<std::pair<instant, std::int64_t>> samples;
    m_result.heap_start = heap_live_bytes();

    while (m_result.failure.empty()) {
      const auto now = m_net.now;
      if (now >= next_sample && now < end) {
        samples.emplace_back(now, heap_live_bytes());
        next_sample += std::chrono::seconds{10};
      }
      // The application: closes due now, new connections, and whatever the events ask for,
      // then the hosts send; repeat while polling raised new events.
      while (!m_holds.empty() && m_holds.top().first <= now) {
        const auto index = m_holds.top().second;
        m_holds.pop();
        close_client(index);
      }
      while (now < end && m_open < m_set.concurrent) open_client();
      do {
        dispatch();
        m_net.flush();
      } while (!m_events.empty() || m_accept_ready);
      if (!m_result.failure.empty()) break;
      m_result.max_open = std::max(m_result.max_open, m_open);
      m_result.max_table =
          std::max({m_result.max_table, m_net.a.tcp.connection_count(), m_net.b.tcp.connection_count()});

      if (now >= end && m_open == 0 && m_net.a.tcp.connection_count() == 0 && m_net.b.tcp.connection_count() == 0)
        break; // drained
      auto t = m_net.next_event();
      if (!m_holds.empty() && (!t || m_holds.top().first < *t)) t = m_holds.top().first;
      if (now < end && (!t || next_sample < *t)) t = next_sample;
      if (!t) {
        m_result.failure = fmt::format("nothing scheduled with {} connections open", m_open);
        break;
      }
      if (*t > m_net.now) m_net.now = *t;
      if (m_net.now > give_up) {
        m_result.failure = fmt::format("not drained 15 virtual minutes after the end: {} open, tables {} / {}", m_open,
                                       m_net.a.tcp.connection_count(), m_net.b.tcp.connection_count());
        break;
      }
      m_net.wire.a_to_b.deliver(m_net.now, [&](bytes_view p) { m_net.b.receive(m_net.now, p); });
      m_net.wire.b_to_a.deliver(m_net.now, [&](bytes_view p) { m_net.a.receive(m_net.now, p); });
      if (auto d = m_net.a.tcp.next_deadline(); d && *d <= m_net.now) m_net.a.tcp.on_timeout(m_net.now);
      if (auto d = m_net.b.tcp.next_deadline(); d && *d <= m_net.now) m_net.b.tcp.on_timeout(m_net.now);
    }

    m_result.virtual_time = m_net.now - start;
    m_result.heap_end = heap_live_bytes();
    const auto half = start + m_set.length / 2;
    for (const auto& [t, bytes] : samples) {
      auto& peak = t < half ? m_result.peak_first_half : m_result.peak_second_half;
      peak = std::max(peak, bytes);
    }
    m_result.a_to_b = m_net.wire.a_to_b.stats();
    m_result.b_to_a = m_net.wire.b_to_a.stats();
    m_result.client = m_net.a.tcp.stats();
    m_result.server = m_net.b.tcp.stats();
    return m_result;
  }

private:
  struct endpoint {
    bool in_use = false;
    bool server = false;
    tcp::conn_id id;
    std::uint64_t serial = 0;
    bool known = false; // server: the serial arrived
    plan p;
    std::uint64_t to_send = 0; // bytes of our stream (the client's includes the serial)
    std::uint64_t to_recv = 0;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    std::array<std::byte, 8> header{}; // server: the serial, as it arrives
    bool shut = false;
    bool close_scheduled = false;
    bool close_called = false;
  };
  struct pending_event {
    void* user;
    tcp::event_set events;
  };

  static void on_event(void* context, tcp::conn_id, tcp::event_set events, void* user) {
    static_cast<std::vector<pending_event>*>(context)->push_back({user, events});
  }
  static auto user_of(std::size_t index) -> void* { return reinterpret_cast<void*>(index + 1); }
  static auto index_of_user(void* user) -> std::size_t { return reinterpret_cast<std::uintptr_t>(user) - 1; }

  auto layer_of(const endpoint& e) -> layer_t& { return e.server ? m_net.b.tcp : m_net.a.tcp; }

  auto new_endpoint() -> std::size_t {
    std::size_t index;
    if (!m_free.empty()) {
      index = m_free.back();
      m_free.pop_back();
    } else {
      index = m_eps.size();
      m_eps.emplace_back();
    }
    m_eps[index] = endpoint{};
    m_eps[index].in_use = true;
    return index;
  }

  void fail(std::string why) {
    if (m_result.failure.empty()) m_result.failure = std::move(why);
  }

  void open_client() {
    auto id = m_net.a.tcp.connect(m_net.now, m_net.a.addr(), {m_net.b.addr(), 7788});
    if (!id) {
      fail(fmt::format("connect #{} failed: {}", m_next_serial, std::make_error_code(id.error()).message()));
      m_open = m_set.concurrent; // stop opening
      return;
    }
    const auto index = new_endpoint();
    auto& e = m_eps[index];
    e.id = *id;
    e.serial = m_next_serial++;
    e.p = plan_for(e.serial, m_set.mean_hold_s);
    e.to_send = 8 + e.p.up;
    e.to_recv = e.p.down;
    for (int i = 0; i < 8; ++i) e.header[i] = static_cast<std::byte>(e.serial >> (8 * i));
    m_net.a.tcp.set_user(*id, user_of(index));
    ++m_open;
    ++m_result.opened;
    work(index, 0);
  }

  void dispatch() {
    if (m_accept_ready) {
      m_accept_ready = false;
      while (auto id = m_net.b.tcp.accept(m_listener)) {
        const auto index = new_endpoint();
        auto& e = m_eps[index];
        e.server = true;
        e.id = *id;
        m_net.b.tcp.set_user(*id, user_of(index));
        work(index, 0);
      }
    }
    // Handle the events of this round (work() may release connections, whose stale events
    // of this round are then ignored: their endpoint is no longer in use or was reused).
    m_handling.swap(m_events);
    for (const auto& ev : m_handling) work(index_of_user(ev.user), ev.events);
    m_handling.clear();
  }

  void close_client(std::size_t index) {
    auto& e = m_eps[index];
    auto* c = m_net.a.tcp.find(e.id);
    if (!e.in_use || !c) return;
    e.close_called = true;
    c->close(m_net.now);
    m_net.a.tcp.touch(e.id);
  }

  void work(std::size_t index, tcp::event_set events) {
    auto& e = m_eps[index];
    if (!e.in_use) return;
    auto& layer = layer_of(e);
    auto* c = layer.find(e.id);
    if (!c) return;
    const auto now = m_net.now;
    const int my_dir = e.server ? 1 : 0;
    bool touched = false;

    // Receive and check.
    while (true) {
      const auto n = c->recv(bytes_mut{m_buf});
      if (n == 0) break;
      touched = true;
      bytes_view got = bytes_view{m_buf}.first(n);
      if (e.server && !e.known) {
        const auto take = std::min<std::size_t>(got.size(), 8 - e.received);
        std::memcpy(e.header.data() + e.received, got.data(), take);
        e.received += take;
        got = got.subspan(take);
        if (e.received == 8) {
          e.known = true;
          for (int i = 0; i < 8; ++i) e.serial |= std::uint64_t(std::to_integer<std::uint8_t>(e.header[i])) << (8 * i);
          e.p = plan_for(e.serial, m_set.mean_hold_s);
          e.to_send = e.p.down;
          e.to_recv = 8 + e.p.up;
        }
      }
      if (got.empty()) continue;
      const auto stream_off = e.server ? e.received - 8 : e.received;
      if (e.received + got.size() > (e.known || !e.server ? e.to_recv : 8)) {
        return fail(fmt::format("connection #{}: {} received more than the {} bytes sent", e.serial,
                                e.server ? "server" : "client", e.to_recv));
      }
      for (std::size_t done = 0; done < got.size();) {
        const auto n2 = std::min(max_chunk, got.size() - done);
        const auto want = m_pattern.span(e.serial, 1 - my_dir, stream_off + done, n2);
        if (std::memcmp(want.data(), got.data() + done, n2) != 0) {
          return fail(fmt::format("connection #{}: the {} received a wrong byte in [{}, {})", e.serial,
                                  e.server ? "server" : "client", stream_off + done, stream_off + done + n2));
        }
        done += n2;
      }
      e.received += got.size();
      m_result.bytes += got.size();
    }

    // Send.
    if (e.known || !e.server) {
      while (e.sent < e.to_send && c->can_send()) {
        const auto space = c->send_space();
        if (space == 0) break;
        bytes_view chunk;
        if (!e.server && e.sent < 8) {
          chunk = bytes_view{e.header}.subspan(static_cast<std::size_t>(e.sent));
        } else {
          const auto off = e.server ? e.sent : e.sent - 8;
          const auto n = static_cast<std::size_t>(std::min<std::uint64_t>({space, e.to_send - e.sent, max_chunk}));
          chunk = m_pattern.span(e.serial, my_dir, off, n);
        }
        const auto q = c->send(chunk);
        e.sent += q;
        touched = true;
        if (q < chunk.size()) break;
      }
    }

    const bool done_data = (e.known || !e.server) && e.sent == e.to_send && e.received == e.to_recv;
    if (e.server) {
      if (e.known && e.sent == e.to_send && e.p.server_closes_first && !e.shut && c->can_send()) {
        c->shutdown_write(now);
        e.shut = true;
        touched = true;
      }
      // The client closes first (or after our FIN): close once its FIN arrived.
      if (done_data && c->at_eof() && !e.close_called) {
        c->close(now);
        e.close_called = true;
        touched = true;
      }
    } else if (done_data && !e.close_scheduled && (!e.p.server_closes_first || c->at_eof())) {
      e.close_scheduled = true;
      m_holds.emplace(now + e.p.hold, index);
    }
    if (touched) layer.touch(e.id);

    const bool finished =
        tcp::has(events, tcp::event::closed) || c->state() == tcp::state::closed || c->state() == tcp::state::time_wait;
    if (finished) {
      if (c->last_error() != tcp::error::none)
        return fail(fmt::format("connection #{} ({}) ended with {}", e.serial, e.server ? "server" : "client",
                                c->last_error()));
      if (c->state() != tcp::state::closed && c->state() != tcp::state::time_wait)
        return fail(fmt::format("connection #{}: closed event in {}", e.serial, c->state()));
      if (!done_data || !e.close_called)
        return fail(fmt::format("connection #{} ({}) ended early: sent {}/{} received {}/{}", e.serial,
                                e.server ? "server" : "client", e.sent, e.to_send, e.received, e.to_recv));
      // Hand it to the layer: TIME_WAIT finishes as an orphan; CLOSED is freed now.
      layer.release(now, e.id);
      e.in_use = false;
      m_free.push_back(index);
      if (!e.server) {
        --m_open;
        ++m_result.completed;
      }
    }
  }

  soak_settings m_set;
  network<> m_net;
  tcp::listener_id m_listener;
  std::deque<endpoint> m_eps;
  std::vector<std::size_t> m_free;
  std::vector<pending_event> m_events;
  std::vector<pending_event> m_handling;
  bool m_accept_ready = false;
  using hold = std::pair<instant, std::size_t>;
  std::priority_queue<hold, std::vector<hold>, std::greater<>> m_holds;
  std::size_t m_open = 0;
  std::uint64_t m_next_serial = 1;
  pattern_table m_pattern;
  std::vector<std::byte> m_buf = std::vector<std::byte>(64 * 1024);
  soak_result m_result;
};

auto mib(std::int64_t bytes) -> double { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

} // namespace

TEST_CASE("soak: 1000 concurrent connections, 5 % loss, reordering and duplication, one virtual hour") {
  soak_settings s;
  s.length = std::chrono::duration_cast<duration>(std::chrono::duration<double>(3600.0 * test_scale()));
  link::sim_config sim;
  sim.seed = 20240601;
  sim.loss = 0.05;
  sim.reorder = 0.05;
  sim.duplicate = 0.05;
  sim.delay = std::chrono::milliseconds{10};
  sim.reorder_delay = std::chrono::milliseconds{15};
  tcp::layer_config cfg;
  cfg.max_syn_backlog = 2048;

  const auto heap_before = heap_live_bytes();
  const auto wall_start = std::chrono::steady_clock::now();
  auto test = std::make_unique<soak>(s, sim, cfg);
  const auto r = test->run();
  test.reset(); // the hosts, the wire and the tables: everything goes back
  const auto heap_after = heap_live_bytes();
  const auto wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  MESSAGE(fmt::format(
      "soak: {} connections ({} at once at most, {} in a table with TIME_WAIT), {:.0f} virtual s, {:.1f} MiB checked, "
      "{:.1f} s wall; heap {:.1f} MiB at start, peak {:.1f} MiB (first half) / {:.1f} MiB (second half), {:.2f} MiB "
      "after the drain ({} B after the hosts are gone); wire a->b {} sent {} lost {} duplicated {} reordered; "
      "retransmitted {} / {} segments; "
      "timeouts {} / {}; RSTs sent {} / {}, segments for no connection {} / {}",
      r.completed, r.max_open, r.max_table, std::chrono::duration<double>(r.virtual_time).count(), mib(r.bytes), wall,
      mib(r.heap_start), mib(r.peak_first_half), mib(r.peak_second_half), mib(r.heap_end), heap_after - heap_before,
      r.a_to_b.sent, r.a_to_b.lost, r.a_to_b.duplicated, r.a_to_b.reordered, r.client.retrans_segs,
      r.server.retrans_segs, r.client.timeouts, r.server.timeouts, r.client.out_rsts, r.server.out_rsts,
      r.client.no_port, r.server.no_port));
  REQUIRE_MESSAGE(r.failure.empty(), r.failure);
  CHECK(r.completed == r.opened);
  CHECK(r.max_open == s.concurrent);
  CHECK(r.client.timeouts == 0);
  CHECK(r.server.timeouts == 0);
  CHECK(r.client.estab_resets + r.server.estab_resets == 0);
  // (RSTs are sent: duplicated segments that arrive after their connection was deleted get the
  // RST of RFC 9293 §3.10.7.1; they reach nothing alive.)
  // Every connection entered CLOSED on both sides.
  CHECK(r.client.state_entered[tcp::index_of(tcp::state::closed)] >= r.opened);
  CHECK(r.server.state_entered[tcp::index_of(tcp::state::closed)] >= r.opened);
  // Flat memory: the second half never needs more than the first half's peak plus 10 %.
  CHECK(r.peak_second_half <= r.peak_first_half + r.peak_first_half / 10);
  // After the drain only capacity stays: the layers' connection slots (one per connection that
  // was ever in the table at once) and the wire's packet buffer pool.
  CHECK(r.heap_end <= r.peak_second_half);
  // Nothing is left once the hosts are gone (LeakSanitizer checks the same in its build).
  CHECK(heap_after == heap_before);
}
