// Tests for include/synack/tcp/isn.hpp (RFC 6528).
#include <doctest/doctest.h>

#include <set>

#include "synack/tcp/isn.hpp"

using namespace std::chrono_literals;
using synack::instant;
using synack::siphash_key;
using synack::tcp::isn_generator;
using synack::wire::endpoint;
using synack::wire::ipv4_address;
using synack::wire::seq_number;

namespace {
const siphash_key key{0x0123456789abcdefull, 0xfedcba9876543210ull};
const endpoint local{ipv4_address{192, 0, 2, 1}, 7788};
const endpoint remote{ipv4_address{198, 51, 100, 7}, 50000};
} // namespace

TEST_SUITE_BEGIN("tcp.isn");

TEST_CASE("M is a 4-microsecond timer") {
  CHECK(isn_generator::timer(instant::from_nanos(0)) == 0);
  CHECK(isn_generator::timer(instant::from_nanos(3999)) == 0);
  CHECK(isn_generator::timer(instant::from_micros(4)) == 1);
  CHECK(isn_generator::timer(instant::from_millis(1000)) == 250000);
  // Modulo 2^32: 2^32 ticks of 4 µs later it is back where it started.
  const auto t = instant::from_micros(123456);
  CHECK(isn_generator::timer(t + std::chrono::microseconds{4ll << 32}) == isn_generator::timer(t));
  CHECK(isn_generator::timer(instant::from_nanos(-1)) == 0xffffffffu);
}

TEST_CASE("ISN = M + F: it advances with time for one 4-tuple") {
  const isn_generator gen{key};
  const auto t0 = instant::from_millis(5000);
  const auto a = gen(t0, local, remote);
  CHECK(a == seq_number{isn_generator::timer(t0) + gen.f(local, remote)});
  CHECK(gen(t0 + 4us, local, remote) - a == 1);
  CHECK(gen(t0 + 1s, local, remote) - a == 250000);
  CHECK(gen(t0 + 1ms, local, remote) > a);
  CHECK(gen(t0, local, remote) == a); // deterministic
}

TEST_CASE("F changes with every part of the 4-tuple") {
  const isn_generator gen{key};
  const auto t = instant::from_millis(1);
  const auto base = gen(t, local, remote);
  auto l2 = local;
  l2.port = 7789;
  CHECK(gen(t, l2, remote) != base);
  l2 = local;
  l2.addr = ipv4_address{192, 0, 2, 2};
  CHECK(gen(t, l2, remote) != base);
  auto r2 = remote;
  r2.port = 50001;
  CHECK(gen(t, local, r2) != base);
  r2 = remote;
  r2.addr = ipv4_address{198, 51, 100, 8};
  CHECK(gen(t, local, r2) != base);
  // Direction matters: the peer's view of the connection is a different connection-id.
  CHECK(gen(t, remote, local) != base);
}

TEST_CASE("F depends on the secret key") {
  const isn_generator a{key};
  const isn_generator b{siphash_key{key.k0, key.k1 + 1}};
  CHECK(a.f(local, remote) != b.f(local, remote));
}

TEST_CASE("F spreads 4-tuples over the sequence space") {
  const isn_generator gen{key};
  std::set<std::uint32_t> seen;
  std::uint32_t high_bit = 0;
  for (std::uint16_t p = 0; p < 2000; ++p) {
    const auto f = gen.f(local, endpoint{remote.addr, static_cast<std::uint16_t>(40000 + p)});
    seen.insert(f);
    high_bit += f >> 31;
  }
  CHECK(seen.size() >= 1999); // a collision among 2000 32-bit values is unlikely (p < 0.05%)
  CHECK(high_bit > 850);      // about half have the top bit set
  CHECK(high_bit < 1150);
}

TEST_CASE("the timestamp offset is keyed per connection and differs from F") {
  const isn_generator gen{key};
  CHECK(gen.timestamp_offset(local, remote) != gen.f(local, remote));
  auto r2 = remote;
  r2.port = 50001;
  CHECK(gen.timestamp_offset(local, remote) != gen.timestamp_offset(local, r2));
  CHECK(gen.timestamp_offset(local, remote) == gen.timestamp_offset(local, remote));
}

TEST_SUITE_END();
