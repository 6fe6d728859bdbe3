// Forged ICMP "fragmentation needed" (the PMTUD attack of RFC 5927 §7, CVE-2004-1060): a
// blind attacker who knows the 4-tuple and a sequence number in flight claims a next-hop MTU of
// 108 bytes. Without a floor the MSS falls to 64 and every byte costs 25 times the segments;
// without an expiry it never rises again. Two sans-IO hosts on the simulated wire; the attacker's
// ICMP is handed to host a's TCP layer the way the stack does (socket/stack.hpp on_icmp_error).
#include <algorithm>
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "sim_network.hpp"

using namespace test_sim;

namespace {

using kind = tcp::layer<>::connection_type::icmp_error_kind;

/// One connection a -> b that moves data on demand and stays open in between.
struct pmtu_run {
  network<> net;
  tcp::listener_id listener;
  tcp::conn_id client;
  tcp::conn_id server;
  std::vector<std::byte> buf = std::vector<std::byte>(64 * 1024, std::byte{0x42});
  std::uint16_t min_send_mss = 0xffff;

  explicit pmtu_run(std::uint64_t seed) : net(sim_config(seed), tcp::layer_config{}, seed) {
    listener = *net.b.tcp.listen({wire::ipv4_address{}, 7788}, 4);
    client = *net.a.tcp.connect(net.now, net.a.addr(), {net.b.addr(), 7788});
    std::optional<tcp::conn_id> s;
    for (int i = 0; i < 100 && !s; ++i) {
      net.flush();
      if (!net.step()) break;
      s = net.b.tcp.accept(listener);
    }
    REQUIRE(s);
    server = *s;
  }

  static auto sim_config(std::uint64_t seed) -> link::sim_config {
    link::sim_config sim;
    sim.seed = seed;
    sim.delay = std::chrono::milliseconds{5};
    sim.rate_bps = 50'000'000;
    return sim;
  }

  auto c() -> tcp::layer<>::connection_type& { return *net.a.tcp.find(client); }
  auto segments_sent() const -> std::uint64_t { return net.a.tcp.stats().out_segs + net.a.tcp.stats().retrans_segs; }

  /// Sends `bytes` from a to b (b reads everything), calling `attack(now)` every 100 virtual ms.
  /// Returns the virtual time it took.
  template <class Attack>
  auto transfer(std::uint64_t bytes, Attack&& attack) -> duration {
    const auto start = net.now;
    std::uint64_t sent = 0, received = 0;
    instant next_tick = net.now;
    while (received < bytes) {
      auto& cc = c();
      while (sent < bytes) {
        const auto n =
            cc.send(bytes_view{buf}.first(static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), bytes - sent))));
        if (n == 0) break;
        sent += n;
        net.a.tcp.touch(client);
      }
      auto* sc = net.b.tcp.find(server);
      while (const auto n = sc->recv(bytes_mut{buf})) {
        received += n;
        net.b.tcp.touch(server);
      }
      min_send_mss = std::min(min_send_mss, cc.options().send_mss);
      net.flush();
      if (net.now >= next_tick) {
        attack(net.now);
        next_tick = net.now + std::chrono::milliseconds{100};
      }
      auto t = net.next_event();
      if (!t || next_tick < *t) t = next_tick;
      net.now = std::max(net.now, *t);
      net.wire.a_to_b.deliver(net.now, [&](bytes_view p) { net.b.receive(net.now, p); });
      net.wire.b_to_a.deliver(net.now, [&](bytes_view p) { net.a.receive(net.now, p); });
      if (auto d = net.a.tcp.next_deadline(); d && *d <= net.now) net.a.tcp.on_timeout(net.now);
      if (auto d = net.b.tcp.next_deadline(); d && *d <= net.now) net.b.tcp.on_timeout(net.now);
      REQUIRE(net.now - start < std::chrono::minutes{5});
    }
    return net.now - start;
  }
  auto transfer(std::uint64_t bytes) -> duration {
    return transfer(bytes, [](instant) {});
  }

  /// The forged ICMP: "fragmentation needed, next-hop MTU `mtu`", quoting sequence `seq` of a's
  /// connection. Returns whether TCP acted on it.
  auto forge(std::uint16_t mtu, wire::seq_number seq) -> bool {
    const auto& t = c().tuple();
    return net.a.tcp.on_icmp_error(net.now, t.local, t.remote, seq, kind::frag_needed, mtu);
  }

  /// Lets virtual time pass with the connection idle.
  void idle(duration d) {
    const auto end = net.now + d;
    while (net.now < end) {
      net.flush();
      auto t = net.next_event();
      if (!t || *t > end) {
        net.now = end;
        break;
      }
      (void)net.step();
    }
    net.flush();
  }
};

auto secs(duration d) -> double { return std::chrono::duration<double>(d).count(); }

constexpr std::uint64_t bulk = 8 << 20;

} // namespace

TEST_CASE("forged ICMP fragmentation needed (MTU 108) during a transfer: the MSS stays up") {
  pmtu_run clean{5};
  const auto clean_time = clean.transfer(bulk);
  const auto clean_segs = clean.segments_sent();

  pmtu_run r{5};
  link::sim_random rng{77};
  std::uint64_t forged = 0, acted = 0;
  const auto before = r.segments_sent();
  // Once the transfer is under way (1 MiB acknowledged), every 100 ms the attacker quotes a
  // sequence number in flight: the oldest unacknowledged one every other time, the strongest
  // guess there is.
  const auto start_una = r.c().tcb().snd_una;
  const auto t = r.transfer(bulk, [&](instant) {
    const auto tcb = r.c().tcb();
    const auto flight = static_cast<std::uint32_t>(tcb.snd_nxt - tcb.snd_una);
    if (flight == 0 || static_cast<std::uint32_t>(tcb.snd_una - start_una) < (1u << 20)) return;
    const auto seq = forged % 2 == 0 ? tcb.snd_una : tcb.snd_una + static_cast<std::uint32_t>(rng.below(flight));
    ++forged;
    if (r.forge(108, seq)) ++acted;
  });
  const auto segs = r.segments_sent() - before;
  const auto& st = r.net.a.tcp.stats();
  MESSAGE(
      fmt::format("forged frag-needed (MTU 108) x{} during an 8 MiB transfer: {} acted on ({} deferred, then "
                  "forgotten; {} not quoting the oldest segment); {} segments in {:.2f} virtual s (clean run: {} "
                  "segments in {:.2f} s, {:.1f}x); smallest MSS {}",
                  forged, acted, st.pmtu_deferred, st.pmtu_not_oldest, segs, secs(t), clean_segs, secs(clean_time),
                  static_cast<double>(segs) / static_cast<double>(clean_segs), r.min_send_mss));
  CHECK(forged > 5);
  CHECK(st.pmtu_deferred > 0);
  CHECK(st.pmtu_not_oldest > 0);
  CHECK(st.pmtu_reductions == 0);
  // RFC 5927 §7.3: the segments quoted were acknowledged, so the claims were false.
  CHECK(acted == 0);
  CHECK(r.min_send_mss == clean.c().options().send_mss);
  CHECK(segs <= clean_segs + clean_segs / 10);
}

TEST_CASE(
    "forged ICMP fragmentation needed (MTU 108) before anything is acknowledged: floored, and raised after 10 "
    "minutes") {
  pmtu_run clean{6};
  const auto full_mss = clean.c().options().send_mss;
  (void)clean.transfer(bulk);
  const auto clean_segs = clean.segments_sent();

  pmtu_run r{6};
  // The first flight leaves; before any of it is acknowledged the attacker strikes, quoting the
  // oldest unacknowledged sequence number (the strongest blind guess there is).
  const auto before = r.segments_sent();
  bool struck = false;
  const auto t = r.transfer(bulk, [&](instant) {
    if (struck) return;
    const auto tcb = r.c().tcb();
    if (tcb.snd_nxt == tcb.snd_una) return;
    struck = true;
    (void)r.forge(108, tcb.snd_una);
  });
  REQUIRE(struck);
  const auto segs = r.segments_sent() - before;
  const auto lowered = r.c().options().send_mss;
  // RFC 1191 §6.3: after 10 minutes without a further decrease the estimate is raised again.
  r.idle(std::chrono::minutes{10} + std::chrono::seconds{1});
  const auto raised = r.c().options().send_mss;
  const auto before2 = r.segments_sent();
  const auto t2 = r.transfer(bulk);
  const auto segs2 = r.segments_sent() - before2;
  MESSAGE(
      fmt::format("forged frag-needed (MTU 108) on the first flight: MSS {} -> {} (smallest {}), 8 MiB in {} "
                  "segments, {:.2f} virtual s (clean run: {} segments); after 10 idle minutes MSS {}, the next 8 "
                  "MiB in {} segments, {:.2f} s",
                  full_mss, lowered, r.min_send_mss, segs, secs(t), clean_segs, raised, segs2, secs(t2)));
  // Linux's min_pmtu: 552 bytes, so an MSS of 512 (500 with the timestamp option).
  CHECK(r.min_send_mss >= 552 - 40 - 12);
  CHECK(lowered == 552 - 40 - 12);
  const auto& st = r.net.a.tcp.stats();
  CHECK(st.pmtu_clamped == 1);
  CHECK(st.pmtu_reductions == 1);
  CHECK(st.pmtu_increases == 1);
  CHECK(raised == full_mss);
  CHECK(segs2 <= clean_segs + clean_segs / 10);
}
