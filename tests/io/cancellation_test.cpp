// tests/io/cancellation_test.cpp: cancelling io_uring operations through stop tokens and
// timeouts (io/operation.hpp, core/cancellation.hpp): exactly one resume, the kernel request
// really gone, timed_out vs operation_canceled, frames destroyed mid-operation.
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <stop_token>
#include <string>
#include <system_error>

#include "io/io_support.hpp"
#include "synack/core/cancellation.hpp"
#include "synack/core/sleep.hpp"
#include "synack/core/task.hpp"
#include "synack/io/loop.hpp"
#include "synack/io/ops.hpp"

using namespace std::chrono_literals;
using synack::event_loop;
using synack::sim_loop;
using synack::task;
namespace io = synack::io;

TEST_SUITE_BEGIN("io.cancellation");

namespace {
auto drain_one(int fd) -> std::string {
  char buf[64];
  const auto n = ::read(fd, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}
} // namespace

TEST_CASE("a stop request cancels a blocked read in the kernel; it resumes exactly once") {
  event_loop loop;
  auto p = io_test::make_pipe();
  std::stop_source stop;
  int resumes = 0;
  std::error_code result;
  auto reader = [&](event_loop& l) -> task<> {
    std::byte buf[16];
    auto r = co_await io::read(l, p.a, buf, stop.get_token());
    ++resumes;
    result = r ? std::error_code{} : r.error();
  };
  auto stopper = [&](event_loop& l) -> task<> {
    co_await io::nop(l); // the read is in the kernel by now
    CHECK(l.in_flight() == 1);
    stop.request_stop();
    stop.request_stop(); // a second request changes nothing
  };
  loop.spawn(reader(loop));
  loop.spawn(stopper(loop));
  loop.run();
  CHECK(resumes == 1);
  CHECK(result == std::errc::operation_canceled);
  CHECK(loop.in_flight() == 0);
  // The request is gone: what is written now stays in the pipe for the next reader.
  CHECK(::write(p.b, "after", 5) == 5);
  CHECK(drain_one(p.a) == "after");
}

TEST_CASE("a token stopped before the operation starts completes it at once, nothing submitted") {
  event_loop loop;
  auto p = io_test::make_pipe();
  std::stop_source stop;
  stop.request_stop();
  auto job = [&](event_loop& l) -> task<std::error_code> {
    std::byte buf[4];
    auto r = co_await io::read(l, p.a, buf, stop.get_token());
    CHECK(l.in_flight() == 0);
    co_return r ? std::error_code{} : r.error();
  };
  CHECK(loop.run_until(job(loop)) == std::errc::operation_canceled);
}

TEST_CASE("with_timeout on a read that never completes yields timed_out after the timeout") {
  event_loop loop;
  auto p = io_test::make_pipe();
  auto job = [&](event_loop& l) -> task<std::error_code> {
    std::byte buf[4];
    auto r = co_await synack::with_timeout(io::read(l, p.a, buf), 30ms);
    co_return r ? std::error_code{} : r.error();
  };
  const auto wall = std::chrono::steady_clock::now();
  CHECK(loop.run_until(job(loop)) == std::errc::timed_out);
  CHECK(std::chrono::steady_clock::now() - wall >= 30ms);
  CHECK(loop.in_flight() == 0);
  CHECK(loop.pending_timers() == 0);
  CHECK(::write(p.b, "k", 1) == 1);
  CHECK(drain_one(p.a) == "k");
}

TEST_CASE("with_timeout on a fast operation yields its value and disarms the timer") {
  event_loop loop;
  auto p = io_test::make_pipe();
  CHECK(::write(p.b, "ready", 5) == 5);
  auto job = [&](event_loop& l) -> task<std::string> {
    std::byte buf[16];
    auto r = co_await synack::with_timeout(io::read(l, p.a, buf), 10s);
    REQUIRE(r.has_value());
    auto n = co_await synack::with_timeout(io::nop(l), 10s);
    CHECK(n.has_value());
    co_return io_test::string_of(std::span(buf, *r));
  };
  const auto wall = std::chrono::steady_clock::now();
  CHECK(loop.run_until(job(loop)) == "ready");
  CHECK(std::chrono::steady_clock::now() - wall < 5s);
  CHECK(loop.pending_timers() == 0);
}

TEST_CASE("sim_loop: a timeout on a stuck read fires at exactly the virtual deadline") {
  sim_loop loop;
  auto p = io_test::make_pipe();
  auto job = [&](sim_loop& l) -> task<std::error_code> {
    std::byte buf[4];
    auto r = co_await synack::with_timeout(io::read(l, p.a, buf), 90s);
    co_return r ? std::error_code{} : r.error();
  };
  CHECK(loop.run_until(job(loop)) == std::errc::timed_out);
  CHECK(loop.now() == synack::instant{} + 90s);
  CHECK(loop.in_flight() == 0);
}

TEST_CASE("with_timeout keeps the operation's own token: a user stop stays operation_canceled") {
  event_loop loop;
  auto p = io_test::make_pipe();
  std::stop_source user;
  auto job = [&](event_loop& l) -> task<std::error_code> {
    std::byte buf[4];
    auto r = co_await synack::with_timeout(io::read(l, p.a, buf, user.get_token()), 10s);
    co_return r ? std::error_code{} : r.error();
  };
  auto stopper = [&](event_loop& l) -> task<> {
    co_await synack::sleep_for(l, 5ms);
    user.request_stop();
  };
  loop.spawn(stopper(loop));
  CHECK(loop.run_until(job(loop)) == std::errc::operation_canceled);
}

TEST_CASE("destroying a frame suspended on a read cancels the request and waits for it") {
  event_loop loop;
  auto p = io_test::make_pipe();
  bool resumed = false;
  auto reader = [&](event_loop& l) -> task<> {
    std::byte buf[4];
    co_await io::read(l, p.a, buf);
    resumed = true;
  };
  task<> t = reader(loop);
  t.handle().resume(); // start it by hand: it suspends on the read
  loop.submit();       // hand the read to the kernel now
  CHECK(loop.in_flight() == 1);
  t = {}; // destroy the suspended frame
  CHECK(loop.in_flight() == 0);
  CHECK_FALSE(resumed);
  CHECK_FALSE(loop.run_once()); // nothing left to do
  CHECK_FALSE(resumed);
  CHECK(::write(p.b, "q", 1) == 1);
  CHECK(drain_one(p.a) == "q");
}

TEST_SUITE_END();

TEST_CASE("io operations have or_throw, also under with_timeout: what() names the operation") {
  sim_loop loop;
  auto p = io_test::make_pipe();
  auto job = [&](sim_loop& l) -> task<std::string> {
    std::string out;
    std::byte buf[4];
    co_await io::nop(l).or_throw();
    try {
      (void)co_await io::read(l, 1'000'000, buf).or_throw();
    } catch (const std::system_error& e) {
      CHECK(e.code() == std::errc::bad_file_descriptor);
      out += e.what();
      out += '\n';
    }
    try {
      (void)co_await synack::with_timeout(io::read(l, p.a, buf), 90s).or_throw();
    } catch (const std::system_error& e) {
      CHECK(e.code() == std::errc::timed_out);
      out += e.what();
    }
    co_return out;
  };
  const auto what = loop.run_until(job(loop));
  CHECK(what.find("synack: io::read: " + std::make_error_code(std::errc::bad_file_descriptor).message()) == 0);
  CHECK(what.find("synack: with_timeout: " + std::make_error_code(std::errc::timed_out).message()) !=
        std::string::npos);
  CHECK(loop.now() == synack::instant{} + 90s);
  CHECK(loop.in_flight() == 0);
}
