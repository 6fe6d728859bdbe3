// tests/core/when_all_test.cpp: when_all over tuples and vectors (core/when_all.hpp).
#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "core/counted.hpp"
#include "synack/core/event.hpp"
#include "synack/core/sim_scheduler.hpp"
#include "synack/core/sleep.hpp"
#include "synack/core/sync_wait.hpp"
#include "synack/core/task.hpp"
#include "synack/core/when_all.hpp"

using namespace std::chrono_literals;
using synack::sim_scheduler;
using synack::task;

TEST_SUITE_BEGIN("core.when_all");

TEST_CASE("synchronous tasks: results in argument order, void as monostate") {
  auto num = [](int v) -> task<int> { co_return v; };
  auto str = []() -> task<std::string> { co_return "s"; };
  auto nothing = []() -> task<> { co_return; };
  auto all = [&]() -> task<int> {
    auto [a, b, c] = co_await synack::when_all(num(1), str(), nothing());
    static_assert(std::is_same_v<decltype(c), std::monostate>);
    co_return a + static_cast<int>(b.size());
  };
  CHECK(synack::sync_wait(all()) == 2);
}

TEST_CASE("concurrent sleepers: completes when the slowest does") {
  sim_scheduler s;
  auto nap = [&](std::chrono::milliseconds d) -> task<synack::instant> {
    co_await synack::sleep_for(s, d);
    co_return s.now();
  };
  auto all = [&]() -> task<std::vector<synack::instant>> {
    std::vector<task<synack::instant>> naps;
    for (int i = 1; i <= 10; ++i) naps.push_back(nap(std::chrono::milliseconds(i * 10)));
    co_return co_await synack::when_all(std::move(naps));
  };
  const auto times = s.run_until(all());
  REQUIRE(times.size() == 10);
  for (int i = 0; i < 10; ++i) CHECK(times[i] == synack::instant{} + std::chrono::milliseconds((i + 1) * 10));
  CHECK(s.now() == synack::instant{} + 100ms);
}

TEST_CASE("lvalue arguments are awaited in place") {
  sim_scheduler s;
  synack::event ev(s);
  auto all = [&]() -> task<int> {
    task<int> t = [](synack::event& e) -> task<int> {
      co_await e.wait();
      co_return 5;
    }(ev);
    auto setter = [&]() -> task<> {
      ev.set();
      co_return;
    };
    auto [r, unit] = co_await synack::when_all(t, setter());
    static_assert(std::is_same_v<decltype(r), int&>);
    (void)unit;
    co_return r;
  };
  CHECK(s.run_until(all()) == 5);
}

TEST_CASE("every child finishes before the first exception is rethrown") {
  sim_scheduler s;
  counted::reset();
  bool slow_done = false;
  auto slow = [&](counted) -> task<int> {
    co_await synack::sleep_for(s, 1s);
    slow_done = true;
    co_return 1;
  };
  auto fails = [](const char* m) -> task<int> {
    throw std::runtime_error(m);
    co_return 0;
  };
  auto all = [&]() -> task<> { co_await synack::when_all(fails("first"), slow(counted{}), fails("second")); };
  CHECK_THROWS_WITH_AS(s.run_until(all()), "first", std::runtime_error);
  CHECK(slow_done);
  CHECK(counted::alive() == 0);
}

TEST_CASE("a wide fan-out of synchronous children does not grow the stack") {
  auto one = []() -> task<int> { co_return 1; };
  auto all = [&]() -> task<long> {
    std::vector<task<int>> ts;
    for (int i = 0; i < 100'000; ++i) ts.push_back(one());
    auto rs = co_await synack::when_all(std::move(ts));
    long sum = 0;
    for (int r : rs) sum += r;
    co_return sum;
  };
  CHECK(synack::sync_wait(all()) == 100'000);
}

TEST_CASE("empty when_all completes at once") {
  auto all = []() -> task<std::size_t> {
    auto r = co_await synack::when_all(std::vector<task<int>>{});
    co_await synack::when_all();
    co_return r.size();
  };
  CHECK(synack::sync_wait(all()) == 0);
}

TEST_SUITE_END();
