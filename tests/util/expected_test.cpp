// Tests for include/synack/util/expected.hpp: value() on an error says what the error was.
#include <doctest/doctest.h>

#include <cstring>
#include <exception>
#include <ostream>
#include <string>
#include <system_error>

#include "synack/link/error.hpp"
#include "synack/util/expected.hpp"

using namespace synack;

TEST_SUITE_BEGIN("util");

namespace {

/// What value() threw, caught as `Catch`; empty if it did not throw.
template <class Catch, class F>
auto what_thrown(F&& f) -> std::string {
  try {
    f();
  } catch (const Catch& e) {
    return e.what();
  }
  return {};
}

} // namespace

TEST_CASE("value() on an error throws bad_expected_access whose what() is the error's message") {
  const auto ec = std::make_error_code(std::errc::connection_refused);
  expected<int, std::error_code> bad{unexpected{ec}};
  CHECK_THROWS_AS(bad.value(), bad_expected_access<std::error_code>);
  CHECK(what_thrown<bad_expected_access<std::error_code>>([&] { (void)bad.value(); }) == ec.message());
  // It is a std::system_error, as or_throw() throws: one catch clause serves both, and code() is the error.
  CHECK(what_thrown<std::system_error>([&] { (void)bad.value(); }) == ec.message());
  CHECK(what_thrown<std::exception>([&] { (void)bad.value(); }) == ec.message());
  try {
    (void)std::move(bad).value();
    FAIL("value() did not throw");
  } catch (const std::system_error& e) {
    CHECK(e.code() == ec);
  }
  try {
    (void)std::as_const(bad).value();
    FAIL("value() did not throw");
  } catch (const bad_expected_access<std::error_code>& e) {
    CHECK(e.error() == ec);
    CHECK(e.code() == ec);
  }

  expected<void, std::error_code> vbad{unexpected{std::make_error_code(std::errc::timed_out)}};
  CHECK(what_thrown<std::system_error>([&] { vbad.value(); }) == std::make_error_code(std::errc::timed_out).message());
}

TEST_CASE("value() on a link error carries the synack.link message (tun::open without CAP_NET_ADMIN)") {
  // What tun::open returns when TUNSETIFF fails with EPERM (link/error.hpp: errno_code).
  const auto ec = link::errno_code(EPERM);
  REQUIRE(ec.category() == link::link_category());
  expected<int, std::error_code> bad{unexpected{ec}};
  const auto what = what_thrown<bad_expected_access<std::error_code>>([&] { (void)bad.value(); });
  CHECK(what == ec.message());
  CHECK(what.find("not permitted: needs CAP_NET_ADMIN") != std::string::npos);
  CHECK(ec == std::errc::operation_not_permitted);

  const auto busy = make_error_code(link::link_errc::device_busy);
  expected<int, std::error_code> b{unexpected{busy}};
  CHECK(what_thrown<std::system_error>([&] { (void)b.value(); }).find("the device exists and is busy") !=
        std::string::npos);
}

TEST_CASE("value() with another error type still throws bad_expected_access<E>") {
  expected<int, int> bad{unexpected{42}};
  try {
    (void)bad.value();
    FAIL("value() did not throw");
  } catch (const bad_expected_access<int>& e) {
    CHECK(e.error() == 42);
    CHECK(std::strlen(e.what()) > 0);
  }
}

TEST_SUITE_END();
