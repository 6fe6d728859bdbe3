// Tests for include/synack/tcp/congestion/cubic.hpp against RFC 9438's formulas.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "synack/tcp/congestion/cubic.hpp"

using namespace std::chrono_literals;
using synack::duration;
using synack::instant;
using synack::tcp::congestion_config;
using synack::tcp::cubic;

namespace {
constexpr std::size_t S = 1000;
const instant t0 = instant::from_millis(10000);

auto config(std::size_t iw_segments) -> congestion_config {
  congestion_config c;
  c.smss = S;
  c.initial_window = iw_segments * S;
  return c;
}

auto segments(const cubic& c) -> double { return static_cast<double>(c.cwnd()) / S; }

// One RTT of an ACK clock: cwnd/SMSS ACKs of one SMSS each, spread evenly over `rtt`, each
// carrying an RTT sample. Returns the time after the round.
auto run_round(cubic& c, instant now, duration rtt) -> instant {
  const auto n = c.cwnd() / S;
  const auto step = rtt / static_cast<duration::rep>(n);
  for (std::size_t i = 0; i < n; ++i) {
    now += step;
    c.on_ack(now, S, rtt, c.cwnd());
  }
  return now;
}

// A controller at 100 segments that just had a loss: W_max = 100, cwnd = ssthresh = 70.
auto after_loss_at_100(congestion_config cfg = config(100)) -> cubic {
  cubic c{cfg};
  c.on_congestion_event(t0, 100 * S);
  c.on_recovery_exit(t0, 100 * S);
  return c;
}
} // namespace

TEST_SUITE_BEGIN("tcp.congestion.cubic");

TEST_CASE("constants: C = 0.4, beta = 0.7, alpha = 3(1-beta)/(1+beta)") {
  CHECK(cubic::c == 0.4);
  CHECK(cubic::beta == 0.7);
  CHECK(cubic::alpha_reno_friendly == doctest::Approx(0.9 / 1.7));
  CHECK(cubic{congestion_config{}}.name() == "cubic");
}

TEST_CASE("congestion event: W_max = cwnd, ssthresh = 0.7 FlightSize, cwnd = ssthresh (RFC 9438 §4.6)") {
  cubic c{config(100)};
  CHECK_FALSE(c.w_max());
  c.on_congestion_event(t0, 100 * S);
  REQUIRE(c.w_max());
  CHECK(*c.w_max() == 100.0);
  CHECK(c.ssthresh() == 70 * S);
  CHECK(c.cwnd() == 70 * S);
  CHECK(c.cwnd_prior() == 100 * S);
  // ssthresh is the exact integer FlightSize * 7 / 10, at least 2 SMSS.
  cubic d{config(100)};
  d.on_congestion_event(t0, 12345);
  CHECK(d.ssthresh() == 8641);
  cubic e{config(100)};
  e.on_congestion_event(t0, 2000);
  CHECK(e.ssthresh() == 2 * S);
  CHECK(e.cwnd() == 2 * S);
}

TEST_CASE("K = cubic_root((W_max - cwnd_epoch)/C) and W_cubic(t) = C(t-K)^3 + W_max (RFC 9438 eqs. 1, 2)") {
  auto c = after_loss_at_100();
  CHECK_FALSE(c.epoch_start());
  c.on_ack(t0, S, 100ms, 70 * S); // first ACK in congestion avoidance starts the epoch
  REQUIRE(c.epoch_start());
  CHECK(*c.epoch_start() == t0);
  const double k = std::cbrt((100.0 - 70.0) / 0.4); // 4.2172 s
  CHECK(c.k() == doctest::Approx(k).epsilon(1e-12));
  CHECK(c.k() == doctest::Approx(4.2171633).epsilon(1e-6));
  CHECK(c.w_cubic(0.0) == doctest::Approx(70.0));
  CHECK(c.w_cubic(k) == doctest::Approx(100.0));
  for (double t : {0.5, 1.0, 2.0, 3.0, 5.0, 8.0})
    CHECK(c.w_cubic(t) == doctest::Approx(0.4 * std::pow(t - k, 3) + 100.0));
}

TEST_CASE("concave then convex: cwnd tracks W_cubic(t + RTT) over an ACK clock (RFC 9438 §4.4, §4.5)") {
  auto c = after_loss_at_100();
  const auto rtt = 100ms;
  instant now = t0;
  c.on_ack(now, S, rtt, 70 * S);
  const instant epoch = *c.epoch_start();
  const double k = c.k();
  double prev = segments(c);
  bool crossed_w_max = false;
  while (now - epoch < 5500ms) {
    now = run_round(c, now, rtt);
    const double t = std::chrono::duration<double>(now - epoch).count();
    const double w_t = 0.4 * std::pow(t - k, 3) + 100.0;
    const double w_next = 0.4 * std::pow(t + 0.1 - k, 3) + 100.0;
    CAPTURE(t);
    // After each round, cwnd sits between W_cubic(t) and W_cubic(t + RTT) (+ rounding).
    CHECK(segments(c) >= w_t - 1.0);
    CHECK(segments(c) <= w_next + 1.0);
    // The Reno-friendly estimate stays below W_cubic here (RTT 100 ms).
    CHECK(c.w_est() < w_t);
    CHECK(segments(c) >= prev);                  // never shrinks without a loss
    if (t < k - 0.5) CHECK(segments(c) < 100.0); // concave: approaching W_max from below
    if (t > k + 1.0) crossed_w_max = true;
    prev = segments(c);
  }
  CHECK(crossed_w_max);
  CHECK(segments(c) > 100.0); // convex: probing above W_max
  // The increase per RTT is small near the plateau and larger away from it.
  CHECK(c.w_cubic(k + 0.1) - c.w_cubic(k) < 0.01);
}

TEST_CASE("Reno-friendly region: with a short RTT cwnd follows W_est (RFC 9438 §4.3)") {
  auto c = after_loss_at_100();
  const auto rtt = 1ms;
  instant now = t0;
  c.on_ack(now, S, rtt, 70 * S);
  const instant epoch = *c.epoch_start();
  CHECK(c.alpha() == doctest::Approx(cubic::alpha_reno_friendly));
  // 10 rounds: W_est grows by about alpha_cubic per RTT.
  for (int i = 0; i < 10; ++i) now = run_round(c, now, rtt);
  const double t = std::chrono::duration<double>(now - epoch).count();
  CHECK(c.w_cubic(t) < c.w_est()); // in the Reno-friendly region
  CHECK(c.w_est() == doctest::Approx(70.0 + 10 * cubic::alpha_reno_friendly).epsilon(0.01));
  CHECK(segments(c) == doctest::Approx(c.w_est()).epsilon(0.001));
  // Once W_est reaches cwnd_prior (100 segments), alpha becomes 1: Reno's rate.
  while (c.w_est() < 100.0) now = run_round(c, now, rtt);
  CHECK(c.alpha() == 1.0);
  const double before = c.w_est();
  for (int i = 0; i < 5; ++i) now = run_round(c, now, rtt);
  CHECK(c.w_est() - before == doctest::Approx(5.0).epsilon(0.02));
}

TEST_CASE("fast convergence lowers W_max when a loss comes below the previous W_max (RFC 9438 §4.7)") {
  auto c = after_loss_at_100(); // W_max 100, cwnd 70
  c.on_congestion_event(t0 + 1s, 70 * S);
  CHECK(*c.w_max() == doctest::Approx(70.0 * 1.7 / 2.0)); // 59.5
  CHECK(c.ssthresh() == 49 * S);

  auto cfg = config(100);
  cfg.cubic_fast_convergence = false;
  auto d = after_loss_at_100(cfg);
  d.on_congestion_event(t0 + 1s, 70 * S);
  CHECK(*d.w_max() == doctest::Approx(70.0));

  // A loss above the previous W_max just records cwnd.
  auto e = after_loss_at_100();
  instant now = t0;
  e.on_ack(now, S, 100ms, 70 * S);
  while (segments(e) <= 110.0) now = run_round(e, now, 100ms);
  const double w = segments(e);
  e.on_congestion_event(now, e.cwnd());
  CHECK(*e.w_max() == doctest::Approx(w));
}

TEST_CASE("timeout: ssthresh = 0.7 FlightSize, cwnd = 1 SMSS, then K = 0 and W_max = cwnd_epoch (RFC 9438 §4.8)") {
  cubic c{config(100)};
  c.on_rto(t0, 100 * S);
  CHECK(c.ssthresh() == 70 * S);
  CHECK(c.cwnd() == S);
  CHECK(c.cwnd_prior() == 100 * S);
  // RFC 5681: a repeated timeout for the same segment holds ssthresh.
  c.on_rto(t0 + 1s, S);
  CHECK(c.ssthresh() == 70 * S);
  // Slow start (RFC 5681, L = 2) up to ssthresh.
  instant now = t0 + 2s;
  while (c.in_slow_start()) {
    now += 1ms;
    c.on_ack(now, S, 50ms, S);
  }
  CHECK(c.cwnd() == 70 * S);
  CHECK_FALSE(c.epoch_start());
  c.on_ack(now, S, 50ms, 70 * S);
  REQUIRE(c.epoch_start());
  CHECK(c.k() == 0.0);
  CHECK(*c.w_max() == doctest::Approx(70.0));
  CHECK(c.cwnd_prior() == 100 * S); // the window before the timeout
  CHECK(c.alpha() == doctest::Approx(cubic::alpha_reno_friendly));
  CHECK(c.w_est() >= 70.0);
  CHECK(c.w_est() < 70.1);
  CHECK(c.w_cubic(0.0) == doctest::Approx(70.0));
  CHECK(c.w_cubic(1.0) == doctest::Approx(70.4));
}

TEST_CASE("recovery hooks are shared with NewReno") {
  auto c = cubic{config(100)};
  c.on_congestion_event(t0, 100 * S);
  for (int i = 0; i < 3; ++i) c.on_recovery_dup_ack(t0);
  CHECK(c.cwnd() == 73 * S);
  c.on_partial_ack(t0, 2 * S);
  CHECK(c.cwnd() == 72 * S);
  c.on_recovery_exit(t0, 10 * S);
  CHECK(c.cwnd() == 11 * S);
}

TEST_CASE("idle time is taken out of t, and the restart window applies (RFC 5681 §4.1)") {
  auto c = after_loss_at_100();
  instant now = t0;
  c.on_ack(now, S, 100ms, 70 * S);
  const auto epoch = *c.epoch_start();
  const auto before = c.cwnd();
  c.on_idle_restart(now + 2s, 2s, 300ms);
  CHECK(*c.epoch_start() == epoch + 2s);
  CHECK(c.cwnd() == before); // IW here is 100 segments: min(IW, cwnd) = cwnd
  auto small_iw = config(100);
  small_iw.initial_window = 10 * S;
  cubic d{small_iw};
  d.on_congestion_event(t0, 100 * S);
  d.on_idle_restart(t0 + 5s, 5s, 1s);
  CHECK(d.cwnd() == 10 * S);
}

TEST_CASE("deterministic: the same inputs give the same windows") {
  auto run = [] {
    auto c = after_loss_at_100();
    std::vector<std::size_t> out;
    instant now = t0;
    for (int i = 0; i < 60; ++i) {
      now = run_round(c, now, 37ms);
      out.push_back(c.cwnd());
      if (i == 30) c.on_congestion_event(now, c.cwnd());
    }
    return out;
  };
  CHECK(run() == run());
}

TEST_SUITE_END();
