// Tests for include/synack/tcp/port_allocator.hpp (RFC 6056 Algorithm 4).
#include <doctest/doctest.h>

#include <random>
#include <set>

#include "synack/tcp/port_allocator.hpp"

using synack::siphash_key;
using synack::tcp::port_allocator;
using synack::tcp::port_range;
using synack::wire::endpoint;
using synack::wire::ipv4_address;

namespace {
const siphash_key key{0x1111222233334444ull, 0x5555666677778888ull};
const ipv4_address local{10, 0, 0, 1};
const endpoint server{ipv4_address{93, 184, 216, 34}, 80};
auto nothing_in_use = [](std::uint16_t) { return false; };
} // namespace

TEST_SUITE_BEGIN("tcp.port_allocator");

TEST_CASE("the default range is IANA's dynamic ports 49152-65535") {
  port_allocator a{key};
  CHECK(a.range().first == 49152);
  CHECK(a.range().last == 65535);
  CHECK(a.range().size() == 16384);
  for (int i = 0; i < 1000; ++i) {
    const auto p = a.allocate(local, server, nothing_in_use);
    REQUIRE(p);
    CHECK(a.range().contains(*p));
  }
}

TEST_CASE("an invalid range falls back to the default") {
  CHECK(port_allocator{key, port_range{100, 50}}.range().first == 49152);
  CHECK(port_allocator{key, port_range{0, 50}}.range().first == 49152);
  CHECK(port_allocator{key, port_range{5000, 5000}}.range().size() == 1);
}

TEST_CASE("ports to one destination advance by one (table[index]++)") {
  port_allocator a{key};
  const auto p1 = *a.allocate(local, server, nothing_in_use);
  const auto p2 = *a.allocate(local, server, nothing_in_use);
  const auto p3 = *a.allocate(local, server, nothing_in_use);
  auto next = [](std::uint16_t p) { return p == 65535 ? std::uint16_t{49152} : static_cast<std::uint16_t>(p + 1); };
  CHECK(p2 == next(p1));
  CHECK(p3 == next(p2));
}

TEST_CASE("the sequence depends on the destination and on the key") {
  port_allocator a{key};
  port_allocator b{key};
  port_allocator c{siphash_key{key.k0 + 1, key.k1}};
  const endpoint other{ipv4_address{93, 184, 216, 35}, 80};
  const auto pa = *a.allocate(local, server, nothing_in_use);
  CHECK(*b.allocate(local, server, nothing_in_use) == pa); // deterministic for a key
  CHECK(*c.allocate(local, server, nothing_in_use) != pa);
  // Another destination starts elsewhere (it may share the counter bucket, but not the offset).
  port_allocator d{key};
  CHECK(*d.allocate(local, other, nothing_in_use) != pa);
}

TEST_CASE("a port in use is never returned") {
  std::mt19937 rng{99};
  port_allocator a{key, port_range{20000, 20999}};
  std::set<std::uint16_t> used;
  for (int i = 0; i < 1000; ++i) {
    const auto p = a.allocate(local, server, [&](std::uint16_t q) { return used.count(q) > 0; });
    REQUIRE(p);
    CHECK(used.count(*p) == 0);
    CHECK(a.range().contains(*p));
    used.insert(*p);
    if (rng() % 3 == 0) used.erase(used.begin()); // some connections close
  }
}

TEST_CASE("every port of the range is tried: the last free one is found, then none") {
  port_allocator a{key, port_range{1000, 1099}};
  std::set<std::uint16_t> used;
  for (int i = 0; i < 100; ++i) {
    const auto p = a.allocate(local, server, [&](std::uint16_t q) { return used.count(q) > 0; });
    REQUIRE(p);
    used.insert(*p);
  }
  CHECK(used.size() == 100); // all 100 ports handed out, each once
  int calls = 0;
  const auto none = a.allocate(local, server, [&](std::uint16_t) {
    ++calls;
    return true;
  });
  CHECK_FALSE(none);
  CHECK(calls == 100); // each port tried exactly once
  // Free one port anywhere: it is found whatever the current counter.
  for (std::uint16_t free_port : {std::uint16_t{1000}, std::uint16_t{1057}, std::uint16_t{1099}}) {
    const auto p = a.allocate(local, server, [&](std::uint16_t q) { return q != free_port; });
    REQUIRE(p);
    CHECK(*p == free_port);
  }
}

TEST_CASE("the full default range is covered") {
  port_allocator a{key};
  std::set<std::uint16_t> tried;
  const auto r = a.allocate(local, server, [&](std::uint16_t q) {
    tried.insert(q);
    return true;
  });
  CHECK_FALSE(r);
  CHECK(tried.size() == 16384);
  CHECK(*tried.begin() == 49152);
  CHECK(*tried.rbegin() == 65535);
}

TEST_SUITE_END();
