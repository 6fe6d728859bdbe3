// tests/core/task_test.cpp: task<T> — laziness, results, exceptions, frame lifetime, and
// stack depth for long chains of already-complete tasks (core/task.hpp, core/sync_wait.hpp).
#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "core/counted.hpp"
#include "synack/core/event.hpp"
#include "synack/core/sim_scheduler.hpp"
#include "synack/core/sync_wait.hpp"
#include "synack/core/task.hpp"

using synack::sync_wait;
using synack::task;

TEST_SUITE_BEGIN("core.task");

namespace {

auto constant(int v) -> task<int> { co_return v; }

auto sum_sequential(int n) -> task<long> {
  long s = 0;
  for (int i = 0; i < n; ++i) s += co_await constant(1);
  co_return s;
}

auto nested(int depth) -> task<int> {
  if (depth == 0) co_return 0;
  co_return 1 + co_await nested(depth - 1);
}

auto nested_void(int depth, int& leaves) -> task<> {
  if (depth == 0) {
    ++leaves;
    co_return;
  }
  co_await nested_void(depth - 1, leaves);
}

auto thrower(std::string msg) -> task<int> {
  throw std::runtime_error(msg);
  co_return 0;
}

} // namespace

TEST_CASE("a task is lazy: nothing runs until it is awaited") {
  bool started = false;
  auto make = [&]() -> task<int> {
    started = true;
    co_return 7;
  };
  task<int> t = make();
  CHECK_FALSE(started);
  CHECK_FALSE(t.done());
  CHECK(sync_wait(std::move(t)) == 7);
  CHECK(started);
}

TEST_CASE("results: value, void, reference, move-only") {
  CHECK(sync_wait(constant(42)) == 42);

  int x = 1;
  auto ref = [&]() -> task<int&> { co_return x; };
  int& r = sync_wait(ref());
  CHECK(&r == &x);

  auto move_only = []() -> task<std::unique_ptr<int>> { co_return std::make_unique<int>(5); };
  auto p = sync_wait(move_only());
  REQUIRE(p);
  CHECK(*p == 5);

  bool ran = false;
  auto v = [&]() -> task<> {
    ran = true;
    co_return;
  };
  sync_wait(v());
  CHECK(ran);
}

TEST_CASE("awaiting an lvalue task yields a reference into its frame") {
  auto outer = []() -> task<int> {
    task<int> t = constant(3);
    int& a = co_await t;
    a += 1;
    CHECK(t.done());
    co_return co_await t; // awaiting a finished task does not suspend
  };
  CHECK(sync_wait(outer()) == 4);
}

TEST_CASE("exceptions propagate to the awaiter, through several levels") {
  auto middle = []() -> task<int> { co_return co_await thrower("boom") + 1; };
  auto top = [&]() -> task<std::string> {
    try {
      co_await middle();
    } catch (const std::runtime_error& e) {
      co_return std::string("caught ") + e.what();
    }
    co_return "not thrown";
  };
  CHECK(sync_wait(top()) == "caught boom");
  CHECK_THROWS_WITH_AS(sync_wait(thrower("direct")), "direct", std::runtime_error);
  auto void_thrower = []() -> task<> {
    throw std::logic_error("void");
    co_return;
  };
  CHECK_THROWS_AS(sync_wait(void_thrower()), std::logic_error);
}

TEST_CASE("awaiting an empty task throws") {
  auto outer = []() -> task<int> {
    task<int> empty;
    co_return co_await std::move(empty);
  };
  CHECK_THROWS_AS(sync_wait(outer()), std::logic_error);
}

TEST_CASE("frames never leak: parameters and locals are destroyed in every path") {
  counted::reset();
  auto holder = [](counted param) -> task<int> {
    counted local{2};
    co_return param.id + local.id;
  };
  SUBCASE("completed") {
    CHECK(sync_wait(holder(counted{1})) == 3);
    CHECK(counted::alive() == 0);
  }
  SUBCASE("never started") {
    {
      task<int> t = holder(counted{1});
      CHECK(counted::alive() == 1); // the parameter copy lives in the frame
    }
    CHECK(counted::alive() == 0);
  }
  SUBCASE("threw") {
    auto throwing = [](counted) -> task<int> {
      counted local;
      throw std::runtime_error("x");
      co_return 0;
    };
    CHECK_THROWS(sync_wait(throwing(counted{})));
    CHECK(counted::alive() == 0);
  }
  SUBCASE("moved tasks") {
    task<int> a = holder(counted{1});
    task<int> b = std::move(a);
    CHECK_FALSE(a.valid());
    a = holder(counted{4});
    a = std::move(b); // destroys the frame a held
    CHECK(counted::alive() == 1);
    CHECK(sync_wait(std::move(a)) == 3);
    CHECK(counted::alive() == 1); // a still owns the finished frame
  }
  CHECK(counted::alive() == 0);
  CHECK(counted::constructions > 0);
}

TEST_CASE("destroying a suspended chain destroys every frame and unregisters the waiter") {
  counted::reset();
  synack::sim_scheduler s;
  synack::single_event ev(s);
  auto leaf = [&](counted) -> task<int> {
    counted local;
    co_await ev.wait();
    co_return 1;
  };
  auto root = [&](counted) -> task<int> {
    counted local;
    co_return co_await leaf(counted{});
  };
  // The loop runs out of work while the chain waits on the event: sync_wait destroys the
  // root frame, which destroys the leaf frame, whose awaiter leaves the event.
  CHECK_THROWS_AS(s.run_until(root(counted{})), std::runtime_error);
  CHECK(counted::alive() == 0);
  CHECK_FALSE(ev.has_waiter());
  ev.set(); // nobody to wake: remembered
  CHECK(ev.is_set());
}

TEST_CASE("a million awaits of already-complete tasks in a row do not overflow the stack") {
  CHECK(sync_wait(sum_sequential(1'000'000)) == 1'000'000);
}

TEST_CASE("a chain of a million nested awaits does not overflow the stack") {
  CHECK(sync_wait(nested(1'000'000)) == 1'000'000);
  int leaves = 0;
  sync_wait(nested_void(1'000'000, leaves));
  CHECK(leaves == 1);
}

TEST_CASE("the same million-await chain on a scheduler") {
  synack::sim_scheduler s;
  CHECK(s.run_until(sum_sequential(1'000'000)) == 1'000'000);
  CHECK(s.run_until(nested(1'000'000)) == 1'000'000);
}

TEST_CASE("sync_wait without a loop refuses to block on something only a loop can resume") {
  synack::sim_scheduler s;
  synack::single_event ev(s);
  counted::reset();
  auto waits = [&](counted) -> task<> { co_await ev.wait(); };
  CHECK_THROWS_AS(sync_wait(waits(counted{})), std::logic_error);
  CHECK(counted::alive() == 0);
  CHECK_FALSE(ev.has_waiter());
}

TEST_SUITE_END();
