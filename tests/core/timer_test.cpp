// tests/core/timer_test.cpp: timer_node and timer_heap (core/timer.hpp) against a reference
// model, and 100,000 pending timers expiring in deadline order on virtual time.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "synack/core/sim_scheduler.hpp"
#include "synack/core/timer.hpp"

using synack::instant;
using synack::timer_heap;
using synack::timer_node;

TEST_SUITE_BEGIN("core.timer");

namespace {
struct probe : timer_node {
  int id = 0;
  std::vector<std::pair<int, instant>>* fired = nullptr;
  synack::scheduler* sched = nullptr;
  probe() : timer_node(&on_fire) {}
  static void on_fire(timer_node& n) {
    auto& self = static_cast<probe&>(n);
    self.fired->emplace_back(self.id, self.sched != nullptr ? self.sched->now() : instant{});
  }
};
} // namespace

TEST_CASE("heap: arm, re-arm, disarm and pop agree with a reference model") {
  timer_heap heap;
  std::vector<std::pair<int, instant>> fired;
  std::vector<probe> nodes(500);
  for (int i = 0; i < 500; ++i) {
    nodes[i].id = i;
    nodes[i].fired = &fired;
  }
  std::map<std::pair<std::int64_t, std::uint64_t>, int> model; // (deadline, seq) -> id
  std::vector<std::pair<std::int64_t, std::uint64_t>> key(500, {-1, 0});
  std::uint64_t seq = 0;
  std::mt19937 rng(1234);
  for (int step = 0; step < 20000; ++step) {
    const int i = static_cast<int>(rng() % 500);
    switch (rng() % 4) {
      case 0:
      case 1: { // arm or re-arm
        const auto d = static_cast<std::int64_t>(rng() % 1000);
        if (key[i].first >= 0) model.erase(key[i]);
        heap.arm(nodes[i], instant::from_nanos(d));
        key[i] = {d, seq++};
        model[key[i]] = i;
        break;
      }
      case 2: // disarm
        heap.disarm(nodes[i]);
        if (key[i].first >= 0) model.erase(key[i]);
        key[i] = {-1, 0};
        break;
      case 3: { // pop whatever is due at a random time
        const auto now = instant::from_nanos(static_cast<std::int64_t>(rng() % 1000));
        timer_node* n = heap.pop_due(now);
        if (model.empty() || model.begin()->first.first > now.nanos()) {
          CHECK(n == nullptr);
        } else {
          REQUIRE(n != nullptr);
          const int expect = model.begin()->second;
          CHECK(static_cast<probe*>(n)->id == expect);
          model.erase(model.begin());
          key[expect] = {-1, 0};
          CHECK_FALSE(n->armed());
        }
        break;
      }
    }
    REQUIRE(heap.size() == model.size());
    if (!model.empty()) {
      REQUIRE(heap.earliest().has_value());
      CHECK(heap.earliest()->nanos() == model.begin()->first.first);
    }
  }
  for (int i = 0; i < 500; ++i) CHECK(nodes[i].armed() == (key[i].first >= 0));
}

TEST_CASE("a destroyed armed node leaves the heap") {
  timer_heap heap;
  std::vector<std::pair<int, instant>> fired;
  {
    probe p;
    p.fired = &fired;
    heap.arm(p, instant::from_nanos(5));
    CHECK(heap.size() == 1);
  }
  CHECK(heap.empty());
  CHECK(heap.expire(instant::from_nanos(10)) == 0);
}

TEST_CASE("a callback that re-arms itself for now waits for the next pass") {
  timer_heap heap;
  struct again : timer_node {
    timer_heap* heap;
    int runs = 0;
    explicit again(timer_heap& h) : timer_node(&fire), heap(&h) {}
    static void fire(timer_node& n) {
      auto& self = static_cast<again&>(n);
      ++self.runs;
      self.heap->arm(self, instant::from_nanos(0));
    }
  } a(heap);
  heap.arm(a, instant::from_nanos(0));
  CHECK(heap.expire(instant::from_nanos(0)) == 1);
  CHECK(heap.expire(instant::from_nanos(0)) == 1);
  CHECK(a.runs == 2);
  heap.disarm(a);
}

TEST_CASE("100,000 pending timers fire in deadline order, each at its exact virtual time") {
  constexpr int count = 100'000;
  synack::sim_scheduler s;
  std::vector<std::pair<int, instant>> fired;
  fired.reserve(count);
  auto nodes = std::make_unique<probe[]>(count);
  std::mt19937_64 rng(42);
  std::vector<instant> deadline(count);
  s.reserve_timers(count);
  for (int i = 0; i < count; ++i) {
    nodes[i].id = i;
    nodes[i].fired = &fired;
    nodes[i].sched = &s;
    deadline[i] = instant::from_nanos(static_cast<std::int64_t>(rng() % 3'600'000'000'000)); // within an hour
    s.arm(nodes[i], deadline[i]);
  }
  // Disarm every 10th and move every 7th: the heap must honour both.
  int disarmed = 0;
  for (int i = 0; i < count; i += 10, ++disarmed) s.disarm(nodes[i]);
  for (int i = 3; i < count; i += 7) {
    if (!nodes[i].armed()) continue;
    deadline[i] = deadline[i] + std::chrono::seconds(1);
    s.arm(nodes[i], deadline[i]);
  }
  CHECK(s.pending_timers() == static_cast<std::size_t>(count - disarmed));
  s.run();
  REQUIRE(fired.size() == static_cast<std::size_t>(count - disarmed));
  int wrong_time = 0;
  int out_of_order = 0;
  for (std::size_t k = 0; k < fired.size(); ++k) {
    const auto [id, at] = fired[k];
    if (at != deadline[id]) ++wrong_time;
    if (k > 0 && fired[k - 1].second > at) ++out_of_order;
  }
  CHECK(wrong_time == 0);
  CHECK(out_of_order == 0);
  CHECK(s.pending_timers() == 0);
}

TEST_SUITE_END();
