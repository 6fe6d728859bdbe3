// Tests for include/synack/tcp/rtt_estimator.hpp: RFC 6298 numbers worked out by hand.
#include <doctest/doctest.h>

#include "synack/tcp/rtt_estimator.hpp"

using namespace std::chrono_literals;
using synack::duration;
using synack::instant;
using synack::tcp::rtt_config;
using synack::tcp::rtt_estimator;
using synack::tcp::rtt_sampler;
using synack::wire::seq_number;

namespace {
// min_rto 0 exposes the raw RFC 6298 formula.
auto raw_config() -> rtt_config {
  rtt_config c;
  c.min_rto = 0ms;
  return c;
}
} // namespace

TEST_SUITE_BEGIN("tcp.rtt_estimator");

TEST_CASE("before any sample the RTO is 1 second (RFC 6298 2.1)") {
  rtt_estimator e;
  CHECK_FALSE(e.has_sample());
  CHECK(e.rto() == 1s);
  CHECK(e.srtt() == 0ms);
  CHECK(e.rttvar() == 0ms);
  CHECK(e.backoff() == 0);
}

TEST_CASE("defaults: min 200 ms, max 60 s, G 1 ms, K 4") {
  rtt_config c;
  CHECK(c.initial_rto == 1s);
  CHECK(c.min_rto == 200ms);
  CHECK(c.max_rto == 60s);
  CHECK(c.granularity == 1ms);
  CHECK(c.k == 4);
}

TEST_CASE("first sample: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4 RTTVAR) (RFC 6298 2.2)") {
  rtt_estimator e{raw_config()};
  e.on_sample(100ms);
  CHECK(e.has_sample());
  CHECK(e.srtt() == 100ms);
  CHECK(e.rttvar() == 50ms);
  CHECK(e.rto() == 300ms); // 100 + 4*50
}

TEST_CASE("later samples use alpha 1/8 and beta 1/4 with the old SRTT in RTTVAR (RFC 6298 2.3)") {
  rtt_estimator e{raw_config()};
  e.on_sample(100ms);
  e.on_sample(200ms);
  // RTTVAR = 3/4*50 + 1/4*|100-200| = 37.5 + 25 = 62.5 ms
  // SRTT   = 7/8*100 + 1/8*200     = 87.5 + 25 = 112.5 ms
  CHECK(e.rttvar() == 62500us);
  CHECK(e.srtt() == 112500us);
  CHECK(e.rto() == 362500us); // 112.5 + 4*62.5
  e.on_sample(50ms);
  // RTTVAR = 3/4*62.5 + 1/4*|112.5-50| = 46.875 + 15.625 = 62.5 ms
  // SRTT   = 7/8*112.5 + 1/8*50       = 98.4375 + 6.25 = 104.6875 ms
  CHECK(e.rttvar() == 62500us);
  CHECK(e.srtt() == 104687500ns);
  CHECK(e.rto() == 354687500ns);
}

TEST_CASE("the clock granularity G bounds the variance term") {
  auto c = raw_config();
  c.granularity = 10ms;
  rtt_estimator e{c};
  e.on_sample(40ms);
  for (int i = 0; i < 200; ++i) e.on_sample(40ms); // RTTVAR decays towards 0
  CHECK(e.srtt() == 40ms);
  CHECK(e.rttvar() < 2500us);
  CHECK(e.rto() == 50ms); // SRTT + G once 4*RTTVAR < G
}

TEST_CASE("the RTO is rounded up to the minimum (RFC 6298 2.4, here 200 ms)") {
  rtt_estimator e;
  e.on_sample(10ms);
  CHECK(e.rto() == 200ms); // 10 + 20 = 30 ms -> 200 ms
  rtt_config strict;
  strict.min_rto = 1s;
  rtt_estimator s{strict};
  s.on_sample(100ms);
  CHECK(s.rto() == 1s); // RFC 6298 as written
}

TEST_CASE("the RTO is capped at the maximum (RFC 6298 2.5)") {
  rtt_estimator e;
  e.on_sample(50s); // 50 + 100 s
  CHECK(e.rto() == 60s);
}

TEST_CASE("each expiry doubles the RTO up to the maximum (RFC 6298 5.5)") {
  rtt_estimator e{raw_config()};
  e.on_sample(100ms); // RTO 300 ms
  e.on_timeout();
  CHECK(e.backoff() == 1);
  CHECK(e.rto() == 600ms);
  e.on_timeout();
  CHECK(e.rto() == 1200ms);
  for (int i = 0; i < 6; ++i) e.on_timeout();
  CHECK(e.backoff() == 8);
  CHECK(e.rto() == 60s); // 300 ms * 256 = 76.8 s -> capped
  CHECK(e.base_rto() == 300ms);
}

TEST_CASE("backoff applies to the initial RTO too, and its count saturates") {
  rtt_estimator e;
  e.on_timeout();
  CHECK(e.rto() == 2s);
  e.on_timeout();
  e.on_timeout();
  CHECK(e.rto() == 8s);
  for (int i = 0; i < 1000; ++i) e.on_timeout();
  CHECK(e.backoff() == e.config().max_backoff);
  CHECK(e.rto() == 60s);
}

TEST_CASE("a new sample collapses the backoff (RFC 6298 §5)") {
  rtt_estimator e{raw_config()};
  e.on_sample(100ms);
  e.on_timeout();
  e.on_timeout();
  CHECK(e.rto() == 1200ms);
  e.on_sample(100ms);
  // RTTVAR = 3/4*50 + 0 = 37.5; SRTT = 100
  CHECK(e.backoff() == 0);
  CHECK(e.rto() == 250ms);
}

TEST_CASE("reset_backoff forgets the doubling without changing SRTT") {
  rtt_estimator e{raw_config()};
  e.on_sample(100ms);
  e.on_timeout();
  e.reset_backoff();
  CHECK(e.rto() == 300ms);
}

TEST_CASE("a SYN timeout re-initializes the RTO to 3 s when data transmission begins (RFC 6298 5.7)") {
  rtt_estimator e;
  e.on_timeout(); // SYN retransmitted: 2 s
  e.on_handshake_complete(true);
  CHECK(e.backoff() == 0);
  CHECK(e.rto() == 3s);
  e.on_timeout();
  CHECK(e.rto() == 6s);
  e.on_sample(100ms); // the next sample ends the 3 s floor
  CHECK(e.rto() == 300ms);

  rtt_estimator quiet;
  quiet.on_handshake_complete(false);
  CHECK(quiet.rto() == 1s);
}

TEST_CASE("negative samples are ignored") {
  rtt_estimator e;
  e.on_sample(-5ms);
  CHECK_FALSE(e.has_sample());
}

TEST_CASE("RFC 7323 Appendix G: ExpectedSamples = ceil(FlightSize / (2 SMSS))") {
  CHECK(rtt_estimator::expected_samples(0, 1000) == 1);
  CHECK(rtt_estimator::expected_samples(1000, 1000) == 1);
  CHECK(rtt_estimator::expected_samples(2000, 1000) == 1);
  CHECK(rtt_estimator::expected_samples(2001, 1000) == 2);
  CHECK(rtt_estimator::expected_samples(10000, 1000) == 5);
  CHECK(rtt_estimator::expected_samples(10000, 0) == 1);
}

TEST_CASE("RFC 7323 Appendix G: per-ACK samples use alpha/ExpectedSamples and beta/ExpectedSamples") {
  rtt_estimator e{raw_config()};
  e.on_sample(100ms, 5); // the first sample is still (2.2)
  CHECK(e.srtt() == 100ms);
  CHECK(e.rttvar() == 50ms);
  e.on_sample(180ms, 5);
  // beta' = 1/20: RTTVAR = 50 + (80 - 50)/20 = 51.5 ms; alpha' = 1/40: SRTT = 100 + 80/40 = 102 ms
  CHECK(e.rttvar() == 51500us);
  CHECK(e.srtt() == 102ms);
  // Five per-ACK samples move SRTT about as far as one per-RTT sample would.
  rtt_estimator once{raw_config()};
  once.on_sample(100ms);
  once.on_sample(180ms);
  rtt_estimator many{raw_config()};
  many.on_sample(100ms);
  for (int i = 0; i < 5; ++i) many.on_sample(180ms, 5);
  CHECK(once.srtt() == 110ms);
  CHECK(many.srtt() > 109ms);
  CHECK(many.srtt() < 110ms);
}

TEST_CASE("rtt_sampler times one segment and applies Karn's algorithm (RFC 6298 §3)") {
  rtt_sampler s;
  const auto t0 = instant::from_millis(1000);
  SUBCASE("a plain measurement") {
    s.on_send(seq_number{1100}, t0, false);
    CHECK(s.timing());
    s.on_send(seq_number{1200}, t0 + 5ms, false); // already timing one: ignored
    CHECK(s.timed_seq_end() == seq_number{1100});
    CHECK_FALSE(s.on_ack(seq_number{1050}, t0 + 30ms)); // does not cover it yet
    auto r = s.on_ack(seq_number{1100}, t0 + 40ms);
    REQUIRE(r);
    CHECK(*r == 40ms);
    CHECK_FALSE(s.timing());
    CHECK_FALSE(s.on_ack(seq_number{1200}, t0 + 50ms)); // no second sample from it
  }
  SUBCASE("a retransmission cancels the measurement") {
    s.on_send(seq_number{1100}, t0, false);
    s.on_send(seq_number{1100}, t0 + 1s, true);
    CHECK_FALSE(s.timing());
    CHECK_FALSE(s.on_ack(seq_number{1100}, t0 + 1040ms));
    // A retransmission never starts one either.
    s.on_send(seq_number{1100}, t0 + 2s, true);
    CHECK_FALSE(s.timing());
    // New data afterwards is timed again.
    s.on_send(seq_number{1300}, t0 + 3s, false);
    CHECK(s.on_ack(seq_number{1300}, t0 + 3100ms) == std::optional<duration>{100ms});
  }
  SUBCASE("across the sequence-number wrap") {
    s.on_send(seq_number{0x10}, t0, false);
    CHECK_FALSE(s.on_ack(seq_number{0xfffffff0u}, t0 + 1ms));
    CHECK(s.on_ack(seq_number{0x20}, t0 + 2ms) == std::optional<duration>{2ms});
  }
  SUBCASE("cancel") {
    s.on_send(seq_number{5}, t0, false);
    s.cancel();
    CHECK_FALSE(s.on_ack(seq_number{5}, t0 + 1ms));
  }
}

TEST_SUITE_END();
