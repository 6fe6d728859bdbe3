// tests/io/docs_examples_test.cpp: the examples of docs/runtime.md, compiled and run. Keep
// the two in sync: each block between "// doc:" markers appears verbatim in the document.
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <system_error>
#include <vector>

#include "io/io_support.hpp"
#include "synack/io/io.hpp"

TEST_SUITE_BEGIN("io.docs");

// doc: first-program
using namespace std::chrono_literals;
using synack::task;

task<std::string> echo_once(synack::event_loop& loop, int in, int out) {
  std::byte buf[64];
  auto n = co_await synack::io::read(loop, in, buf); // expected<size_t, error_code>
  if (!n) throw std::system_error(n.error());
  co_await synack::io::write(loop, out, std::span(buf, *n));
  co_return std::string(reinterpret_cast<const char*>(buf), *n);
}
// end doc

TEST_CASE("first program") {
  auto in = io_test::make_pipe();
  auto out = io_test::make_pipe();
  CHECK(::write(in.b, "ping", 4) == 4);
  // doc: first-program-run
  synack::event_loop loop;
  std::string got = loop.run_until(echo_once(loop, in.a, out.b));
  // end doc
  CHECK(got == "ping");
}

// doc: virtual-time
task<> nap(synack::sim_loop& loop) { co_await synack::sleep_for(loop, 1h); }

auto one_hour_in_no_time() -> synack::duration {
  synack::sim_loop loop; // manual clock
  const synack::instant start = loop.now();
  loop.run_until(nap(loop)); // returns at once...
  return loop.now() - start; // ...with exactly 1h of virtual time gone
}
// end doc

TEST_CASE("virtual time") { CHECK(one_hour_in_no_time() == 1h); }

// doc: spawn
task<> worker(synack::event_loop& loop) {
  co_await synack::sleep_for(loop, 10ms);
  throw std::runtime_error("worker failed");
}

auto spawn_and_report() -> std::vector<std::string> {
  synack::event_loop loop;
  std::vector<std::string> errors;
  loop.set_error_reporter([&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      errors.push_back(x.what());
    }
  });
  loop.spawn(worker(loop)); // detached; starts from the ready queue
  loop.run();               // until nothing is ready, armed or in flight
  return errors;            // {"worker failed"}
}
// end doc

TEST_CASE("spawn") { CHECK(spawn_and_report() == std::vector<std::string>{"worker failed"}); }

// doc: timeout
task<std::error_code> read_with_deadline(synack::event_loop& loop, int fd, std::stop_token stop) {
  std::byte buf[16];
  auto r = co_await synack::with_timeout(synack::io::read(loop, fd, buf, stop), 50ms);
  if (r) co_return std::error_code{};
  co_return r.error(); // timed_out if 50 ms passed, operation_canceled if `stop` was requested
}
// end doc

TEST_CASE("timeout") {
  synack::event_loop loop;
  auto p = io_test::make_pipe();
  std::stop_source never;
  CHECK(loop.run_until(read_with_deadline(loop, p.a, never.get_token())) == std::errc::timed_out);
}

// doc: events
struct mailbox {
  explicit mailbox(synack::scheduler& s) : ready(s) {}
  std::vector<int> items;
  synack::single_event ready; // one consumer; auto-reset

  void put(int v) { // callable from packet processing: never resumes the consumer inline
    items.push_back(v);
    ready.set();
  }
  task<int> take() {
    while (items.empty()) co_await ready.wait(); // wake-ups may be stale: loop
    int v = items.front();
    items.erase(items.begin());
    co_return v;
  }
};
// end doc

TEST_CASE("events") {
  synack::sim_loop loop;
  mailbox box(loop);
  auto producer = [](synack::sim_loop& l, mailbox& b) -> task<> {
    for (int i = 1; i <= 3; ++i) {
      co_await synack::sleep_for(l, 1s);
      b.put(i);
    }
  };
  auto consumer = [](mailbox& b) -> task<int> {
    int sum = 0;
    for (int i = 0; i < 3; ++i) sum += co_await b.take();
    co_return sum;
  };
  loop.spawn(producer(loop, box));
  CHECK(loop.run_until(consumer(box)) == 6);
}

// doc: turn-hook
struct transmit_batcher : synack::turn_hook {
  std::vector<std::string> queued; // filled by connections during the turn
  int batches = 0;
  transmit_batcher() : turn_hook(&flush) {}
  static void flush(turn_hook& h) { // once per turn, after the ready queue drained
    auto& self = static_cast<transmit_batcher&>(h);
    if (self.queued.empty()) return;
    ++self.batches; // here: one writev / sendmsg batch for the whole turn
    self.queued.clear();
  }
};
// end doc

TEST_CASE("turn hook") {
  synack::event_loop loop;
  transmit_batcher batcher;
  loop.add_turn_hook(batcher);
  auto sender = [](synack::event_loop& l, transmit_batcher& b) -> task<> {
    for (int turn = 0; turn < 3; ++turn) {
      b.queued.push_back("a");
      b.queued.push_back("b");
      co_await synack::io::nop(l);
    }
  };
  loop.run_until(sender(loop, batcher));
  CHECK(batcher.batches == 3);
}

// doc: timer-node
struct retransmit_timer : synack::timer_node {
  synack::event_loop_base* loop;
  int fired = 0;
  explicit retransmit_timer(synack::event_loop_base& l) : timer_node(&on_expiry), loop(&l) {}
  static void on_expiry(timer_node& n) {
    auto& self = static_cast<retransmit_timer&>(n);
    ++self.fired; // runs in the loop's turn; loop->now() is the turn's time
  }
};

void arm_a_timer(synack::event_loop_base& loop, retransmit_timer& t) {
  loop.arm(t, loop.now() + 200ms); // re-arming moves it; loop.disarm(t) cancels it;
} // destroying an armed node disarms it
// end doc

TEST_CASE("timer node") {
  synack::sim_loop loop;
  retransmit_timer t(loop);
  arm_a_timer(loop, t);
  loop.run();
  CHECK(t.fired == 1);
  CHECK(loop.now() == synack::instant{} + 200ms);
}

// doc: completion
struct link_reader : synack::io_completion {
  std::byte buf[2048];
  std::vector<std::size_t> frames;
  link_reader() : io_completion(&on_cqe) {}

  void arm(synack::event_loop_base& loop, int fd) {
    io_uring_sqe* sqe = loop.get_sqe(); // nullptr once the loop is shutting down
    if (sqe == nullptr) return;
    io_uring_prep_read(sqe, fd, buf, sizeof buf, synack::io::current_position);
    loop.attach(sqe, *this); // user_data = this; counted in flight until the CQE
  }
  static void on_cqe(io_completion& c, std::int32_t res, std::uint32_t /*flags*/) noexcept {
    auto& self = static_cast<link_reader&>(c);
    if (res > 0) self.frames.push_back(static_cast<std::size_t>(res)); // hand it up; re-arm
  }
};
// end doc

TEST_CASE("completion") {
  synack::event_loop loop;
  auto p = io_test::make_pipe();
  link_reader r;
  r.arm(loop, p.a);
  CHECK(::write(p.b, "frame", 5) == 5);
  while (r.frames.empty() && loop.run_once()) {}
  CHECK(r.frames == std::vector<std::size_t>{5});
}

TEST_SUITE_END();
