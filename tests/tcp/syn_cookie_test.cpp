// Tests for include/synack/tcp/syn_cookie.hpp (RFC 4987 §3.6).
#include <doctest/doctest.h>

#include <random>

#include "synack/tcp/syn_cookie.hpp"

using namespace std::chrono_literals;
using synack::instant;
using synack::siphash_key;
using synack::tcp::cookie_error;
using synack::tcp::cookie_ts_options;
using synack::tcp::syn_cookie_config;
using synack::tcp::syn_cookies;
using synack::wire::endpoint;
using synack::wire::ipv4_address;
using synack::wire::seq_number;

namespace {
const siphash_key key{0xa5a5a5a5deadbeefull, 0x0badc0de12345678ull};
const endpoint local{ipv4_address{192, 0, 2, 1}, 7788};
const endpoint remote{ipv4_address{203, 0, 113, 9}, 41000};
const seq_number peer_isn{0x89abcdefu};
const instant t0 = instant::from_millis(1'000'000);
} // namespace

TEST_SUITE_BEGIN("tcp.syn_cookie");

TEST_CASE("a cookie round-trips: ISS, IRS and MSS come back from the final ACK") {
  const syn_cookies c{key};
  const auto made = c.make(t0, local, remote, peer_isn, 1460, std::nullopt);
  REQUIRE(made);
  CHECK(made->mss == 1460);
  CHECK_FALSE(made->tsval);
  // The final ACK: SEG.SEQ = peer ISN + 1, SEG.ACK = our ISN + 1.
  const auto got = c.check(t0 + 2s, local, remote, peer_isn + 1, made->isn + 1, std::nullopt);
  REQUIRE(got);
  CHECK(got->iss == made->isn);
  CHECK(got->irs == peer_isn);
  CHECK(got->mss == 1460);
  CHECK_FALSE(got->timestamps);
  CHECK_FALSE(got->options.window_scale);
  CHECK_FALSE(got->options.sack_permitted);
}

TEST_CASE("the MSS is the largest table entry not above the one asked for") {
  const syn_cookies c{key};
  struct {
    std::uint16_t asked, encoded;
  } cases[] = {{536, 536},   {1000, 536},  {1200, 1200}, {1399, 1300}, {1452, 1452},
               {1460, 1460}, {1500, 1460}, {9000, 8960}, {65495, 8960}};
  for (auto [asked, encoded] : cases) {
    CAPTURE(asked);
    const auto made = c.make(t0, local, remote, peer_isn, asked, std::nullopt);
    REQUIRE(made);
    CHECK(made->mss == encoded);
    const auto got = c.check(t0, local, remote, peer_isn + 1, made->isn + 1, std::nullopt);
    REQUIRE(got);
    CHECK(got->mss == encoded);
  }
  // Below 536 a cookie cannot promise a small enough MSS.
  const auto tiny = c.make(t0, local, remote, peer_isn, 500, std::nullopt);
  REQUIRE_FALSE(tiny);
  CHECK(tiny.error() == cookie_error::mss_too_small);
}

TEST_CASE("with timestamps, window scale and SACK-permitted ride in TSval's low bits") {
  const syn_cookies c{key};
  const std::uint32_t ts_now = 0x12345678;
  for (std::optional<std::uint8_t> ws : {std::optional<std::uint8_t>{}, std::optional<std::uint8_t>{0},
                                         std::optional<std::uint8_t>{7}, std::optional<std::uint8_t>{14}}) {
    for (bool sack : {false, true}) {
      CAPTURE(ws.value_or(255));
      CAPTURE(sack);
      const auto made = c.make(t0, local, remote, peer_isn, 1460, ts_now, cookie_ts_options{ws, sack});
      REQUIRE(made);
      REQUIRE(made->tsval);
      // TSval never runs ahead of our clock and lags it by less than 64 ticks.
      CHECK(static_cast<std::int32_t>(*made->tsval - ts_now) <= 0);
      CHECK(ts_now - *made->tsval < 64);
      const auto got = c.check(t0 + 1s, local, remote, peer_isn + 1, made->isn + 1, made->tsval);
      REQUIRE(got);
      CHECK(got->timestamps);
      CHECK(got->options.window_scale == ws);
      CHECK(got->options.sack_permitted == sack);
    }
  }
}

TEST_CASE("a shift count above 14 is encoded as 14 (RFC 7323 §2.3)") {
  const syn_cookies c{key};
  const auto made = c.make(t0, local, remote, peer_isn, 1460, 1000u, cookie_ts_options{std::uint8_t{20}, false});
  REQUIRE(made);
  const auto got = c.check(t0, local, remote, peer_isn + 1, made->isn + 1, made->tsval);
  REQUIRE(got);
  CHECK(got->options.window_scale == std::uint8_t{14});
}

TEST_CASE("the TSval near the clock's low bits steps back instead of ahead") {
  const syn_cookies c{key};
  // ts_now's low 6 bits are 0: the options (0x1f) would put TSval ahead, so it steps back 64.
  const auto made = c.make(t0, local, remote, peer_isn, 1460, 0x1000u, cookie_ts_options{std::nullopt, true});
  REQUIRE(made);
  CHECK(*made->tsval == 0x1000u - 64 + 0x1f);
  // Across zero too.
  const auto wrap = c.make(t0, local, remote, peer_isn, 1460, 0u, cookie_ts_options{std::nullopt, true});
  CHECK(*wrap->tsval == 0xffffffc0u + 0x1f);
  CHECK(c.check(t0, local, remote, peer_isn + 1, wrap->isn + 1, wrap->tsval));
}

TEST_CASE("cookies expire after the counter window, and future ones are refused") {
  syn_cookie_config cfg; // 64 s periods, 2 accepted
  const syn_cookies c{key, cfg};
  // Start at the beginning of a period so the window is exact.
  const auto start = instant::from_nanos(std::int64_t{1000} * 64'000'000'000);
  const auto made = c.make(start, local, remote, peer_isn, 1460, std::nullopt);
  REQUIRE(made);
  auto at = [&](synack::duration d) {
    return c.check(start + d, local, remote, peer_isn + 1, made->isn + 1, std::nullopt);
  };
  CHECK(at(0s));
  CHECK(at(63s));
  CHECK(at(127s)); // previous counter value: still accepted ("within 2 minutes")
  const auto late = at(128s);
  REQUIRE_FALSE(late);
  CHECK(late.error() == cookie_error::expired);
  CHECK_FALSE(at(1h));
  // A cookie made "in the future" (clock skew or forgery) is refused.
  const auto early = c.check(start - 1s, local, remote, peer_isn + 1, made->isn + 1, std::nullopt);
  REQUIRE_FALSE(early);
  CHECK(early.error() == cookie_error::expired);
  // After the 5-bit counter wraps (32 periods), the MAC (over the full counter) still refuses.
  const auto wrapped = at(32 * 64s);
  REQUIRE_FALSE(wrapped);
  CHECK(wrapped.error() == cookie_error::bad_mac);
}

TEST_CASE("tampered cookies are rejected: every single-bit change of the ACK number") {
  const syn_cookies c{key};
  const auto made = c.make(t0, local, remote, peer_isn, 1300, std::nullopt);
  REQUIRE(made);
  for (int bit = 0; bit < 32; ++bit) {
    CAPTURE(bit);
    const auto forged = seq_number{(made->isn + 1).raw() ^ (1u << bit)};
    CHECK_FALSE(c.check(t0, local, remote, peer_isn + 1, forged, std::nullopt));
  }
}

TEST_CASE("a cookie is bound to its 4-tuple, the peer's ISN, the key and the options") {
  const syn_cookies c{key};
  const auto made = c.make(t0, local, remote, peer_isn, 1460, 5000u, cookie_ts_options{std::uint8_t{7}, true});
  REQUIRE(made);
  const auto ack = made->isn + 1;
  CHECK(c.check(t0, local, remote, peer_isn + 1, ack, made->tsval));
  auto r2 = remote;
  r2.port = 41001;
  CHECK_FALSE(c.check(t0, local, r2, peer_isn + 1, ack, made->tsval));
  r2 = remote;
  r2.addr = ipv4_address{203, 0, 113, 10};
  CHECK_FALSE(c.check(t0, local, r2, peer_isn + 1, ack, made->tsval));
  auto l2 = local;
  l2.port = 7789;
  CHECK_FALSE(c.check(t0, l2, remote, peer_isn + 1, ack, made->tsval));
  // Another SEG.SEQ means another SYN (peer ISN).
  CHECK_FALSE(c.check(t0, local, remote, peer_isn + 2, ack, made->tsval));
  // Another stack's key.
  const syn_cookies other{siphash_key{key.k0, key.k1 ^ 0x100}};
  CHECK_FALSE(other.check(t0, local, remote, peer_isn + 1, ack, made->tsval));
  // Tampered option bits in TSecr (e.g. a bigger window scale), or timestamps dropped.
  for (std::uint32_t flip = 1; flip < 64; flip <<= 1) {
    const auto got = c.check(t0, local, remote, peer_isn + 1, ack, *made->tsval ^ flip);
    REQUIRE_FALSE(got);
    CHECK(got.error() == cookie_error::bad_mac);
  }
  CHECK_FALSE(c.check(t0, local, remote, peer_isn + 1, ack, std::nullopt));
  // The upper TSecr bits are not part of the cookie (only the low 6 carry options).
  CHECK(c.check(t0, local, remote, peer_isn + 1, ack, *made->tsval + 64));
}

TEST_CASE("random ACKs do not pass as cookies") {
  const syn_cookies c{key};
  std::mt19937 rng{4987};
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    const seq_number ack{static_cast<std::uint32_t>(rng())};
    const seq_number seq{static_cast<std::uint32_t>(rng())};
    if (c.check(t0, local, remote, seq, ack, std::nullopt)) ++accepted;
  }
  CHECK(accepted == 0); // expected about 200000 * 2/32 * 2^-24 = 0.0007
}

TEST_CASE("cookies for different connections look unrelated") {
  const syn_cookies c{key};
  const auto a = c.make(t0, local, remote, peer_isn, 1460, std::nullopt);
  auto r2 = remote;
  r2.port = 41001;
  const auto b = c.make(t0, local, r2, peer_isn, 1460, std::nullopt);
  // The per-4-tuple base hides the counter and MSS bits: the top bytes differ.
  CHECK((a->isn.raw() >> 24) != (b->isn.raw() >> 24));
}

TEST_SUITE_END();
