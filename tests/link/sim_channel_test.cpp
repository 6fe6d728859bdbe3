// The simulated wire (link/sim.hpp): its statistics match its settings over many seeds, each
// fault does what it says, and a seed reproduces its run exactly.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "synack/link/sim.hpp"

using namespace synack;
using namespace std::chrono_literals;

namespace {

/// Sends `n` distinct packets of `size` bytes 10 µs apart and collects what comes out.
struct run_out {
  std::vector<std::vector<std::byte>> delivered;
  std::vector<instant> at;
  link::sim_stats stats;
};

/// Packet `i`: its number twice (bytes 0-3 and 4-7), then a pattern that depends on it.
auto numbered(std::uint32_t i, std::size_t size) -> std::vector<std::byte> {
  std::vector<std::byte> p(size);
  for (std::size_t k = 0; k < size; ++k) p[k] = std::byte((i * 131 + k * 7) & 0xff);
  store_be<std::uint32_t>(p.data(), i);
  store_be<std::uint32_t>(p.data() + 4, i);
  return p;
}

/// How many bits of `p` differ from the packet it was sent as (a flip may hit either copy of
/// the number, so both are tried).
auto flipped_bits(bytes_view p) -> int {
  int best = 1 << 30;
  for (std::size_t at : {std::size_t{0}, std::size_t{4}}) {
    const auto orig = numbered(load_be<std::uint32_t>(p.data() + at), p.size());
    int bits = 0;
    for (std::size_t k = 0; k < p.size(); ++k) bits += std::popcount(std::to_integer<unsigned>(p[k] ^ orig[k]));
    best = std::min(best, bits);
  }
  return best;
}

auto run(const link::sim_config& cfg, std::uint32_t n, std::size_t size = 200) -> run_out {
  link::sim_channel ch{cfg};
  run_out r;
  instant now = instant::from_millis(1);
  auto drain = [&](instant t) {
    ch.deliver(t, [&](bytes_view p) {
      r.delivered.emplace_back(p.begin(), p.end());
      r.at.push_back(t);
    });
  };
  for (std::uint32_t i = 0; i < n; ++i) {
    auto p = numbered(i, size);
    ch.send(now, bytes_view{p});
    now += 10us;
    while (auto t = ch.next_delivery()) {
      if (*t > now) break;
      drain(*t);
    }
  }
  while (auto t = ch.next_delivery()) drain(*t);
  r.stats = ch.stats();
  return r;
}

auto seeds() -> std::uint64_t {
  const char* s = std::getenv("SYNACK_TEST_SCALE");
  const double scale = s ? std::atof(s) : 1.0;
  return std::max<std::uint64_t>(10, static_cast<std::uint64_t>(100 * (scale > 0 ? scale : 1.0)));
}

} // namespace

TEST_SUITE_BEGIN("link.sim_channel");

TEST_CASE("over many seeds, loss, duplication, reordering and corruption match their settings") {
  link::sim_config c;
  c.loss = 0.05;
  c.duplicate = 0.02;
  c.reorder = 0.03;
  c.corrupt = 0.01;
  c.delay = 1ms;
  std::uint64_t sent = 0, lost = 0, dups = 0, reordered = 0, corrupted = 0, flipped_one_bit = 0;
  for (std::uint64_t seed = 1; seed <= seeds(); ++seed) {
    c.seed = seed;
    const auto r = run(c, 5000);
    sent += r.stats.sent;
    lost += r.stats.lost;
    dups += r.stats.duplicated;
    reordered += r.stats.reordered;
    corrupted += r.stats.corrupted;
    CHECK(r.stats.delivered == r.stats.sent - r.stats.lost + r.stats.duplicated);
    // Every corrupted packet differs from what was sent in exactly one bit.
    for (const auto& p : r.delivered) {
      const auto bits = flipped_bits(bytes_view{p});
      if (bits == 1) ++flipped_one_bit;
      CHECK(bits <= 1);
    }
  }
  const auto rate = [&](std::uint64_t n) { return static_cast<double>(n) / static_cast<double>(sent); };
  MESSAGE("loss " << rate(lost) << ", duplicate " << rate(dups) << ", reorder " << rate(reordered) << ", corrupt "
                  << rate(corrupted) << " over " << sent << " packets");
  CHECK(std::abs(rate(lost) - 0.05) < 0.005);
  // Duplication, reordering and corruption are drawn for packets that were not lost.
  CHECK(std::abs(rate(dups) - 0.02 * 0.95) < 0.003);
  CHECK(std::abs(rate(reordered) / (1.0 - 0.05 + 0.02 * 0.95) - 0.03) < 0.004);
  CHECK(std::abs(rate(corrupted) / (1.0 - 0.05 + 0.02 * 0.95) - 0.01) < 0.003);
  // Every corruption reached the receiver as exactly one flipped bit (a corrupted packet that
  // was duplicated is corrupted in that copy only, so the counts match).
  CHECK(flipped_one_bit == corrupted);
}

TEST_CASE("bursty loss follows the Gilbert-Elliott model's stationary loss rate") {
  link::sim_config c;
  c.burst_enter = 0.02;
  c.burst_exit = 0.25;
  c.burst_loss = 0.8;
  std::uint64_t sent = 0, lost = 0, runs = 0, run_len = 0;
  for (std::uint64_t seed = 1; seed <= seeds(); ++seed) {
    c.seed = seed;
    const auto r = run(c, 5000);
    sent += r.stats.sent;
    lost += r.stats.burst_lost;
    CHECK(r.stats.lost == r.stats.burst_lost);
    // Losses come in runs: count gaps in the delivered numbering.
    std::uint32_t expect = 0;
    for (const auto& p : r.delivered) {
      const auto i = load_be<std::uint32_t>(p.data());
      if (i > expect) {
        ++runs;
        run_len += i - expect;
      }
      expect = i + 1;
    }
  }
  // Stationary probability of the bad state: enter / (enter + exit); loss = that * burst_loss.
  const double expected = 0.02 / (0.02 + 0.25) * 0.8;
  const double measured = static_cast<double>(lost) / static_cast<double>(sent);
  const double mean_run = static_cast<double>(run_len) / static_cast<double>(runs);
  MESSAGE("burst loss " << measured << " (model " << expected << "), mean run " << mean_run);
  CHECK(std::abs(measured - expected) < 0.01);
  CHECK(mean_run > 2.0); // uniform loss at this rate would give runs of about 1.06
}

TEST_CASE("delay, jitter, bandwidth and MTU") {
  SUBCASE("delay and jitter bound every delivery; jitter alone keeps the order") {
    link::sim_config c;
    c.delay = 5ms;
    c.jitter = 2ms;
    c.seed = 9;
    link::sim_channel ch{c};
    const instant t0 = instant::from_millis(100);
    for (std::uint32_t i = 0; i < 1000; ++i) {
      auto p = numbered(i, 64);
      ch.send(t0 + duration{i * 1000}, bytes_view{p});
    }
    std::uint32_t next = 0;
    while (auto t = ch.next_delivery()) {
      ch.deliver(*t, [&](bytes_view p) {
        const auto i = load_be<std::uint32_t>(p.data());
        CHECK(i == next++);
        const auto sent_at = t0 + duration{i * 1000};
        CHECK(*t - sent_at >= 5ms);
        CHECK(*t - sent_at <= 7ms + duration{i * 1000}); // FIFO may hold it behind a slower one
      });
    }
    CHECK(next == 1000);
  }
  SUBCASE("a bandwidth limit spaces packets by their serialization time and drops what the queue cannot hold") {
    link::sim_config c;
    c.delay = 0ms;
    c.rate_bps = 8'000'000; // 1 byte per µs
    c.queue_bytes = 10'000;
    link::sim_channel ch{c};
    const instant t0 = instant::from_millis(1);
    for (int i = 0; i < 20; ++i) {
      auto p = numbered(static_cast<std::uint32_t>(i), 1000);
      ch.send(t0, bytes_view{p});
    }
    CHECK(ch.stats().queue_drops == 10);
    std::vector<instant> at;
    while (auto t = ch.next_delivery()) ch.deliver(*t, [&](bytes_view) { at.push_back(*t); });
    REQUIRE(at.size() == 10);
    for (std::size_t i = 0; i < at.size(); ++i) CHECK(at[i] - t0 == std::chrono::microseconds{1000 * (i + 1)});
  }
  SUBCASE("packets above the MTU are dropped and counted") {
    link::sim_config c;
    c.mtu = 1500;
    link::sim_channel ch{c};
    auto big = numbered(1, 1501);
    auto ok = numbered(2, 1500);
    ch.send(instant{}, bytes_view{big});
    ch.send(instant{}, bytes_view{ok});
    CHECK(ch.stats().too_big == 1);
    CHECK(ch.in_flight() == 1);
  }
}

TEST_CASE("the same seed gives the same run, another seed another one") {
  link::sim_config c;
  c.loss = 0.1;
  c.duplicate = 0.05;
  c.reorder = 0.05;
  c.corrupt = 0.05;
  c.jitter = 1ms;
  c.seed = 1234;
  const auto a = run(c, 3000);
  const auto b = run(c, 3000);
  CHECK(a.delivered == b.delivered);
  CHECK(a.at == b.at);
  c.seed = 1235;
  const auto d = run(c, 3000);
  CHECK(a.delivered != d.delivered);
}

TEST_SUITE_END();
