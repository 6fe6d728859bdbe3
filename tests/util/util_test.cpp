// Tests for include/synack/util/ and include/synack/time/.
#include <doctest/doctest.h>

#include <string>
#include <system_error>

#include "synack/time/clock.hpp"
#include "synack/time/instant.hpp"
#include "synack/util/bytes.hpp"
#include "synack/util/expected.hpp"

using namespace synack;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("util");

TEST_CASE("load_be and store_be are big-endian and unaligned") {
  std::byte buf[9]{};
  store_be<std::uint16_t>(buf + 1, 0x1234);
  CHECK(buf[1] == std::byte{0x12});
  CHECK(buf[2] == std::byte{0x34});
  CHECK(load_be<std::uint16_t>(buf + 1) == 0x1234);
  store_be<std::uint32_t>(buf + 3, 0xdeadbeef);
  CHECK(buf[3] == std::byte{0xde});
  CHECK(buf[6] == std::byte{0xef});
  CHECK(load_be<std::uint32_t>(bytes_view{buf}, 3) == 0xdeadbeefu);
  store_be<std::uint64_t>(buf + 1, 0x0102030405060708ull);
  CHECK(buf[1] == std::byte{1});
  CHECK(buf[8] == std::byte{8});
  CHECK(load_be<std::uint64_t>(buf + 1) == 0x0102030405060708ull);
}

TEST_CASE("expected holds a value or an error") {
  expected<std::string, std::error_code> ok{"hi"};
  REQUIRE(ok.has_value());
  CHECK(*ok == "hi");
  CHECK(ok->size() == 2);
  expected<std::string, std::error_code> bad{unexpected{std::make_error_code(std::errc::timed_out)}};
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == std::errc::timed_out);
  CHECK(bad.value_or("dflt") == "dflt");
  CHECK_THROWS_AS(bad.value(), bad_expected_access<std::error_code>);
  auto copy = bad;
  CHECK(copy.error() == std::errc::timed_out);
  copy = ok;
  CHECK(*copy == "hi");

  expected<void, std::error_code> v;
  CHECK(v.has_value());
  expected<void, std::error_code> ve{unexpected{std::make_error_code(std::errc::connection_reset)}};
  CHECK_FALSE(ve);
  CHECK(ve.error() == std::errc::connection_reset);
}

TEST_CASE("instant arithmetic and formatting") {
  auto t = instant::from_millis(1500);
  CHECK((t + 500ms).millis() == 2000);
  CHECK((t - instant::from_millis(500)) == 1s);
  CHECK(t < instant::max());
  CHECK(fmt::format("{}", instant::from_micros(12000345)) == "12.000345s");
}

TEST_CASE("manual clock only moves forward when told") {
  manual_clock c{instant::from_millis(10)};
  CHECK(c.now() == instant::from_millis(10));
  c.advance(5ms);
  CHECK(c.now() == instant::from_millis(15));
  c.set(instant::from_millis(12));
  CHECK(c.now() == instant::from_millis(15));
  steady_clock s;
  auto a = s.now();
  CHECK(s.now() >= a);
}

TEST_SUITE_END();

#include "synack/wire/seq_number.hpp"

TEST_CASE("seq_number compares modulo 2^32 across the wrap") {
  using wire::seq_number;
  seq_number a{0xfffffff0u};
  seq_number b = a + 0x20;
  CHECK(b.raw() == 0x10u);
  CHECK(a < b);
  CHECK(b > a);
  CHECK(b - a == 0x20);
  CHECK(a - b == -0x20);
  CHECK(wire::max(a, b) == b);
  CHECK(wire::min(a, b) == a);
  CHECK(wire::in_range(a, a + 5, b));
  CHECK_FALSE(wire::in_range(a, b, b));
  CHECK(seq_number{5} <= seq_number{5});
  CHECK(fmt::format("{}", seq_number{42}) == "42");
}
