// Tests for include/synack/tcp/congestion/new_reno.hpp: RFC 5681 and RFC 6582 windows by hand.
#include <doctest/doctest.h>

#include <vector>

#include "synack/tcp/congestion/new_reno.hpp"

using namespace std::chrono_literals;
using synack::instant;
using synack::tcp::congestion_config;
using synack::tcp::new_reno;
using synack::tcp::rfc6928_initial_window;
using synack::tcp::unlimited_window;

namespace {
constexpr std::size_t S = 1000; // SMSS in these tests
const instant t0 = instant::from_millis(1000);

auto config(std::size_t iw_segments = 10, std::size_t limit = 2) -> congestion_config {
  congestion_config c;
  c.smss = S;
  c.initial_window = iw_segments * S;
  c.slow_start_limit = limit;
  return c;
}

void ack(new_reno& r, std::size_t bytes, std::size_t in_flight = 0) { r.on_ack(t0, bytes, std::nullopt, in_flight); }
} // namespace

TEST_SUITE_BEGIN("tcp.congestion.new_reno");

TEST_CASE("RFC 6928 initial window: min(10*MSS, max(2*MSS, 14600))") {
  CHECK(rfc6928_initial_window(536) == 5360);
  CHECK(rfc6928_initial_window(1460) == 14600);
  CHECK(rfc6928_initial_window(1000) == 10000);
  CHECK(rfc6928_initial_window(4000) == 14600);
  CHECK(rfc6928_initial_window(9000) == 18000);
  congestion_config c;
  c.smss = 1460;
  new_reno r{c};
  CHECK(r.cwnd() == 14600);
  CHECK(r.ssthresh() == unlimited_window); // RFC 5681 §3.1: "arbitrarily high"
  CHECK(r.name() == "new_reno");
}

TEST_CASE("set_smss recomputes the initial window until the first ACK") {
  new_reno r{congestion_config{}}; // smss 536
  CHECK(r.cwnd() == 5360);
  r.set_smss(1460);
  CHECK(r.smss() == 1460);
  CHECK(r.cwnd() == 14600);
  ack(r, 1460);
  r.set_smss(1000);
  CHECK(r.cwnd() == 14600 + 1460); // no longer the initial window: kept in bytes
  r.set_smss(0);                   // ignored
  CHECK(r.smss() == 1000);
}

TEST_CASE("slow start: cwnd += min(N, L*SMSS) per ACK (RFC 5681 eq. 2, RFC 3465 L = 2)") {
  new_reno r{config()};
  CHECK(r.in_slow_start());
  std::vector<std::size_t> trajectory;
  for (int i = 0; i < 5; ++i) {
    ack(r, S);
    trajectory.push_back(r.cwnd());
  }
  CHECK(trajectory == std::vector<std::size_t>{11000, 12000, 13000, 14000, 15000});
  ack(r, 2 * S); // a delayed ACK covering two segments
  CHECK(r.cwnd() == 17000);
  ack(r, 5 * S); // a stretch ACK: at most L = 2 SMSS
  CHECK(r.cwnd() == 19000);
  ack(r, 300); // a small segment counts its bytes
  CHECK(r.cwnd() == 19300);
}

TEST_CASE("slow start with L = 1 is RFC 5681 eq. 2 exactly") {
  new_reno r{config(10, 1)};
  ack(r, 2 * S);
  CHECK(r.cwnd() == 11000);
  ack(r, 500);
  CHECK(r.cwnd() == 11500);
}

TEST_CASE("a whole window of ACKs doubles cwnd in slow start") {
  new_reno r{config()};
  for (int i = 0; i < 10; ++i) ack(r, S);
  CHECK(r.cwnd() == 20000);
  for (int i = 0; i < 20; ++i) ack(r, S);
  CHECK(r.cwnd() == 40000);
}

TEST_CASE("fast retransmit: ssthresh = max(FlightSize/2, 2*SMSS), cwnd = ssthresh (RFC 5681 eq. 4)") {
  new_reno r{config(20)};
  r.on_congestion_event(t0, 20000);
  CHECK(r.ssthresh() == 10000);
  CHECK(r.cwnd() == 10000);
  CHECK_FALSE(r.in_slow_start());
  // FlightSize, not cwnd: an application-limited sender halves what it had in flight.
  new_reno limited{config(20)};
  limited.on_congestion_event(t0, 6000);
  CHECK(limited.ssthresh() == 3000);
  // Never below 2*SMSS.
  new_reno tiny{config(20)};
  tiny.on_congestion_event(t0, 3000);
  CHECK(tiny.ssthresh() == 2000);
  CHECK(tiny.cwnd() == 2000);
}

TEST_CASE("congestion avoidance: one SMSS per cwnd of ACKed bytes (RFC 5681 §3.1, RFC 3465 §2.1)") {
  new_reno r{config(20)};
  r.on_congestion_event(t0, 20000); // ssthresh = cwnd = 10000
  r.on_recovery_exit(t0, 10000);    // min(10000, 10000 + 1000) = 10000
  REQUIRE(r.cwnd() == 10000);
  std::vector<std::size_t> per_rtt;
  for (int rtt = 0; rtt < 4; ++rtt) {
    const auto segments = r.cwnd() / S;
    for (std::size_t i = 0; i < segments; ++i) ack(r, S);
    per_rtt.push_back(r.cwnd());
  }
  CHECK(per_rtt == std::vector<std::size_t>{11000, 12000, 13000, 14000});
  // Byte counting carries the remainder: 14000 bytes needed, 7000 + 7000 in two big ACKs.
  ack(r, 7000);
  CHECK(r.cwnd() == 14000);
  ack(r, 7000);
  CHECK(r.cwnd() == 15000);
}

TEST_CASE("NewReno fast recovery: inflation, partial ACK deflation, exit (RFC 5681 §3.2, RFC 6582 §3.2)") {
  new_reno r{config(20)};
  r.on_congestion_event(t0, 20000); // ssthresh 10000
  // RFC 5681 step 3: cwnd = ssthresh + 3*SMSS, as three dup-ACK calls.
  for (int i = 0; i < 3; ++i) r.on_recovery_dup_ack(t0);
  CHECK(r.cwnd() == 13000);
  // Step 4: +SMSS per additional duplicate ACK.
  r.on_recovery_dup_ack(t0);
  r.on_recovery_dup_ack(t0);
  CHECK(r.cwnd() == 15000);
  // Partial ACK of 2500 bytes (>= SMSS): deflate by 2500, add back SMSS.
  r.on_partial_ack(t0, 2500);
  CHECK(r.cwnd() == 13500);
  // Partial ACK of 500 bytes (< SMSS): deflate only.
  r.on_partial_ack(t0, 500);
  CHECK(r.cwnd() == 13000);
  CHECK(r.ssthresh() == 10000); // recovery never touches ssthresh
  // Full ACK: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
  SUBCASE("with much outstanding, ssthresh") {
    r.on_recovery_exit(t0, 12000);
    CHECK(r.cwnd() == 10000);
  }
  SUBCASE("with little outstanding, FlightSize + SMSS (no burst)") {
    r.on_recovery_exit(t0, 3000);
    CHECK(r.cwnd() == 4000);
  }
  SUBCASE("with nothing outstanding, 2*SMSS") {
    r.on_recovery_exit(t0, 0);
    CHECK(r.cwnd() == 2000);
  }
}

TEST_CASE("partial ACK deflation keeps at least one SMSS") {
  new_reno r{config(20)};
  r.on_congestion_event(t0, 4000); // ssthresh = cwnd = 2000
  r.on_partial_ack(t0, 1500);      // 2000 - 1500 + 1000
  CHECK(r.cwnd() == 1500);
  r.on_partial_ack(t0, 900); // 1500 - 900 = 600 -> 1000
  CHECK(r.cwnd() == 1000);
}

TEST_CASE("timeout: ssthresh by eq. 4, cwnd = 1 SMSS, repeated timeouts hold ssthresh (RFC 5681 §3.1)") {
  new_reno r{config(40)};
  r.on_rto(t0, 40000);
  CHECK(r.ssthresh() == 20000);
  CHECK(r.cwnd() == 1000);
  // The same segment times out again (no ACK of new data in between): ssthresh is held, even
  // though FlightSize is now one segment.
  r.on_rto(t0 + 1s, 1000);
  CHECK(r.ssthresh() == 20000);
  CHECK(r.cwnd() == 1000);
  // Slow start back to ssthresh.
  ack(r, S);
  CHECK(r.cwnd() == 2000);
  CHECK(r.in_slow_start());
  // After new data was ACKed, a later timeout is a new loss: eq. 4 again.
  r.on_rto(t0 + 5s, 6000);
  CHECK(r.ssthresh() == 3000);
  CHECK(r.cwnd() == 1000);
}

TEST_CASE("slow start after a timeout ends at ssthresh, then congestion avoidance") {
  new_reno r{config(16)};
  r.on_rto(t0, 16000); // ssthresh 8000
  while (r.in_slow_start()) ack(r, S);
  CHECK(r.cwnd() == 8000);
  for (int i = 0; i < 8; ++i) ack(r, S);
  CHECK(r.cwnd() == 9000);
}

TEST_CASE("idle restart: cwnd = min(IW, cwnd) after more than an RTO idle (RFC 5681 §4.1)") {
  new_reno r{config()};
  for (int i = 0; i < 30; ++i) ack(r, S);
  REQUIRE(r.cwnd() == 40000);
  r.on_idle_restart(t0, 200ms, 300ms); // not longer than the RTO
  CHECK(r.cwnd() == 40000);
  r.on_idle_restart(t0, 301ms, 300ms);
  CHECK(r.cwnd() == 10000);
  // A cwnd already below IW stays.
  new_reno small{config()};
  small.on_rto(t0, 4000);
  small.on_idle_restart(t0, 10s, 1s);
  CHECK(small.cwnd() == 1000);
}

TEST_CASE("cwnd is bounded by max_cwnd") {
  auto c = config();
  c.max_cwnd = 12500;
  new_reno r{c};
  for (int i = 0; i < 10; ++i) ack(r, S);
  CHECK(r.cwnd() == 12500);
  for (int i = 0; i < 10; ++i) r.on_recovery_dup_ack(t0);
  CHECK(r.cwnd() == 12500);
}

TEST_SUITE_END();
