// Tests for include/synack/wire/ipv4_address.hpp, endpoint.hpp and mac_address (ethernet.hpp).
#include <doctest/doctest.h>

#include <string>
#include <unordered_set>

#include "wire_test_util.hpp"

using namespace synack;
using namespace synack::wire;

TEST_SUITE_BEGIN("wire.address");

TEST_CASE("ipv4_address: construction, octets, predicates") {
  constexpr ipv4_address a{192, 0, 2, 1};
  static_assert(a.to_u32() == 0xc0000201u);
  static_assert(a.octets()[0] == 192 && a.octets()[3] == 1);
  static_assert(ipv4_address::from_u32(0xc0000201u) == a);
  static_assert(ipv4_address{} == ipv4_address::unspecified());
  static_assert(ipv4_address{192, 0, 2, 1} < ipv4_address{192, 0, 2, 2});
  CHECK(ipv4_address::unspecified().is_unspecified());
  CHECK(ipv4_address::broadcast().is_broadcast());
  CHECK_FALSE(ipv4_address::broadcast().is_unicast());
  CHECK(ipv4_address{224, 0, 0, 1}.is_multicast());
  CHECK(ipv4_address{239, 255, 255, 255}.is_multicast());
  CHECK_FALSE(ipv4_address{240, 0, 0, 1}.is_multicast());
  CHECK_FALSE(ipv4_address{223, 255, 255, 255}.is_multicast());
  CHECK(ipv4_address::loopback().is_loopback());
  CHECK(ipv4_address{127, 255, 0, 9}.is_loopback());
  CHECK_FALSE(ipv4_address{128, 0, 0, 1}.is_loopback());
  CHECK(ipv4_address{169, 254, 1, 1}.is_link_local());
  CHECK(a.is_unicast());
  std::byte buf[4];
  a.write_to(buf);
  CHECK(buf[0] == std::byte{192});
  CHECK(buf[3] == std::byte{1});
  CHECK(ipv4_address::from_bytes(buf) == a);
}

TEST_CASE("ipv4_address: parse and format") {
  CHECK(ipv4_address::parse("192.0.2.1").value() == ipv4_address{192, 0, 2, 1});
  CHECK(ipv4_address::parse("0.0.0.0").value() == ipv4_address{});
  CHECK(ipv4_address::parse("255.255.255.255").value() == ipv4_address::broadcast());
  for (const char* bad : {"", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "01.2.3.4", "1..3.4", "1.2.3.4.",
                          ".1.2.3", "1.2.3.-4", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1.2.3.0x4", "99999999999.1.1.1"}) {
    INFO(bad);
    auto r = ipv4_address::parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error() == wire_error::bad_syntax);
  }
  CHECK(fmt::format("{}", ipv4_address{192, 0, 2, 1}) == "192.0.2.1");
  CHECK(fmt::format("[{:>16}]", ipv4_address{10, 0, 0, 1}) == "[        10.0.0.1]");
  // Every address formats to something that parses back to it.
  for (std::uint32_t v : {0u, 1u, 0x7f000001u, 0xc0000201u, 0xffffffffu, 0x0a0b0c0du, 0x80000000u}) {
    auto a = ipv4_address::from_u32(v);
    CHECK(ipv4_address::parse(fmt::format("{}", a)).value() == a);
  }
}

TEST_CASE("ipv4_address: hashing") {
  std::unordered_set<ipv4_address> s{{192, 0, 2, 1}, {192, 0, 2, 2}, {192, 0, 2, 1}};
  CHECK(s.size() == 2);
  CHECK(s.count(ipv4_address{192, 0, 2, 2}) == 1);
}

TEST_CASE("ipv4_cidr: netmask, network, broadcast, contains, parse, format") {
  constexpr ipv4_cidr c{ipv4_address{192, 0, 2, 1}, 24};
  static_assert(c.netmask() == ipv4_address{255, 255, 255, 0});
  static_assert(c.network().address() == ipv4_address{192, 0, 2, 0});
  static_assert(c.broadcast() == ipv4_address{192, 0, 2, 255});
  static_assert(c.contains({192, 0, 2, 200}));
  static_assert(!c.contains({192, 0, 3, 1}));
  static_assert(ipv4_cidr{{}, 0}.netmask() == ipv4_address{});
  static_assert(ipv4_cidr{{}, 0}.contains({203, 0, 113, 9}));
  static_assert(ipv4_cidr{{198, 51, 100, 7}, 32}.netmask() == ipv4_address::broadcast());
  static_assert(ipv4_cidr{{198, 51, 100, 7}, 32}.contains({198, 51, 100, 7}));
  static_assert(!ipv4_cidr{{198, 51, 100, 7}, 32}.contains({198, 51, 100, 6}));
  static_assert(ipv4_cidr{{198, 51, 100, 7}, 40}.prefix_len() == 32);
  static_assert(ipv4_cidr{{10, 1, 2, 3}, 9}.netmask() == ipv4_address{255, 128, 0, 0});
  CHECK(ipv4_cidr::parse("192.0.2.1/24").value() == c);
  CHECK(ipv4_cidr::parse("0.0.0.0/0").value().prefix_len() == 0);
  for (const char* bad :
       {"192.0.2.1", "192.0.2.1/", "192.0.2.1/33", "192.0.2.1/024", "192.0.2/24", "/24", "1.2.3.4/x"}) {
    INFO(bad);
    auto r = ipv4_cidr::parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error() == wire_error::bad_syntax);
  }
  CHECK(fmt::format("{}", c) == "192.0.2.1/24");
}

TEST_CASE("endpoint: parse, format, compare, hash") {
  endpoint e{{192, 0, 2, 1}, 7788};
  CHECK(fmt::format("{}", e) == "192.0.2.1:7788");
  CHECK(endpoint::parse("192.0.2.1:7788").value() == e);
  CHECK(endpoint::parse("0.0.0.0:0").value() == endpoint{});
  CHECK(endpoint::parse("255.255.255.255:65535").value().port == 65535);
  for (const char* bad : {"192.0.2.1", "192.0.2.1:", "192.0.2.1:65536", "192.0.2.1:07788", ":80", "192.0.2:80",
                          "192.0.2.1:80:80", "host:80", "192.0.2.1:-1"}) {
    INFO(bad);
    auto r = endpoint::parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error() == wire_error::bad_syntax);
  }
  CHECK(endpoint{{192, 0, 2, 1}, 1} < endpoint{{192, 0, 2, 1}, 2});
  CHECK(endpoint{{192, 0, 2, 1}, 9} < endpoint{{192, 0, 2, 2}, 1});
  std::unordered_set<endpoint> s;
  for (std::uint16_t p = 0; p < 1000; ++p) s.insert({{192, 0, 2, 1}, p});
  s.insert({{192, 0, 2, 1}, 5});
  CHECK(s.size() == 1000);
  CHECK(std::hash<endpoint>{}({{192, 0, 2, 1}, 5}) != std::hash<endpoint>{}({{192, 0, 2, 1}, 6}));
}

TEST_CASE("mac_address: parse, format, predicates") {
  auto m = mac_address::parse("02:00:00:00:00:01").value();
  CHECK(m == mac_address{0x02, 0, 0, 0, 0, 0x01});
  CHECK(mac_address::parse("02-00-00-00-00-0A").value() == mac_address{0x02, 0, 0, 0, 0, 0x0a});
  CHECK(fmt::format("{}", mac_address{0xde, 0xad, 0xbe, 0xef, 0x00, 0x0a}) == "de:ad:be:ef:00:0a");
  CHECK(m.is_local());
  CHECK(m.is_unicast());
  CHECK(mac_address::broadcast().is_broadcast());
  CHECK(mac_address::broadcast().is_multicast());
  CHECK(mac_address{0x01, 0x00, 0x5e, 0, 0, 1}.is_multicast());
  CHECK(mac_address{}.is_zero());
  for (const char* bad : {"", "02:00:00:00:00", "02:00:00:00:00:001", "02:00:00:00:00:0g", "02:00-00:00:00:01",
                          "0200.0000.0001", "02:00:00:00:00:01:"}) {
    INFO(bad);
    auto r = mac_address::parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error() == wire_error::bad_syntax);
  }
  std::unordered_set<mac_address> s{m, mac_address::broadcast(), m};
  CHECK(s.size() == 2);
}

TEST_CASE("wire_error: distinct names") {
  std::unordered_set<std::string> names;
  for (auto e : {wire_error::truncated, wire_error::oversized, wire_error::bad_version, wire_error::bad_header_len,
                 wire_error::bad_total_len, wire_error::bad_fragment, wire_error::bad_checksum, wire_error::bad_option,
                 wire_error::unsupported, wire_error::bad_syntax})
    names.insert(fmt::format("{}", e));
  CHECK(names.size() == 10);
  CHECK(fmt::format("{}", wire_error::bad_checksum) == "bad checksum");
}

TEST_SUITE_END();
