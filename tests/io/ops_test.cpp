// tests/io/ops_test.cpp: the coroutine io_uring operations (io/ops.hpp) on pipes, eventfds
// and socket pairs: read, write, readv, writev, recvmsg, sendmsg, poll, nop, cancel.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "io/io_support.hpp"
#include "synack/core/task.hpp"
#include "synack/core/when_all.hpp"
#include "synack/io/loop.hpp"
#include "synack/io/ops.hpp"

using synack::event_loop;
using synack::task;
namespace io = synack::io;

TEST_SUITE_BEGIN("io.ops");

TEST_CASE("write then read on a pipe") {
  event_loop loop;
  auto p = io_test::make_pipe();
  auto job = [](event_loop& l, int r, int w) -> task<std::string> {
    auto wn = co_await io::write(l, w, io_test::bytes_of("hello, ring"));
    REQUIRE(wn.has_value());
    CHECK(*wn == 11);
    std::array<std::byte, 64> buf{};
    auto rn = co_await io::read(l, r, buf);
    REQUIRE(rn.has_value());
    co_return io_test::string_of(std::span(buf).first(*rn));
  };
  CHECK(loop.run_until(job(loop, p.a, p.b)) == "hello, ring");
}

TEST_CASE("read reports end of file as 0 and errors as std::errc") {
  event_loop loop;
  auto p = io_test::make_pipe();
  ::close(p.b);
  p.b = -1;
  auto job = [](event_loop& l, int r) -> task<> {
    std::byte buf[4];
    auto eof = co_await io::read(l, r, buf);
    REQUIRE(eof.has_value());
    CHECK(*eof == 0);
    auto bad = co_await io::read(l, 1'000'000, buf);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error() == std::errc::bad_file_descriptor);
  };
  loop.run_until(job(loop, p.a));
}

TEST_CASE("eventfd: a read waits for the write and returns the counter") {
  event_loop loop;
  const int efd = ::eventfd(0, 0);
  REQUIRE(efd >= 0);
  auto reader = [](event_loop& l, int fd) -> task<std::uint64_t> {
    std::uint64_t v = 0;
    auto r = co_await io::read(l, fd, std::as_writable_bytes(std::span(&v, 1)));
    REQUIRE(r.has_value());
    CHECK(*r == sizeof v);
    co_return v;
  };
  auto writer = [](event_loop& l, int fd) -> task<> {
    const std::uint64_t v = 5;
    auto w = co_await io::write(l, fd, std::as_bytes(std::span(&v, 1)));
    CHECK(w.has_value());
  };
  auto both = [&]() -> task<std::uint64_t> {
    auto [v, unit] = co_await synack::when_all(reader(loop, efd), writer(loop, efd));
    (void)unit;
    co_return v;
  };
  CHECK(loop.run_until(both()) == 5);
  ::close(efd);
}

TEST_CASE("writev gathers and readv scatters") {
  event_loop loop;
  auto p = io_test::make_pipe();
  auto job = [](event_loop& l, int r, int w) -> task<> {
    char a[] = "abc";
    char b[] = "defgh";
    const std::array<iovec, 2> out{iovec{a, 3}, iovec{b, 5}};
    auto wn = co_await io::writev(l, w, out);
    REQUIRE(wn.has_value());
    CHECK(*wn == 8);
    char x[2];
    char y[6];
    const std::array<iovec, 2> in{iovec{x, sizeof x}, iovec{y, sizeof y}};
    auto rn = co_await io::readv(l, r, in);
    REQUIRE(rn.has_value());
    CHECK(*rn == 8);
    CHECK(std::string(x, 2) == "ab");
    CHECK(std::string(y, 6) == "cdefgh");
  };
  loop.run_until(job(loop, p.a, p.b));
}

TEST_CASE("sendmsg and recvmsg on a datagram socket pair keep message boundaries") {
  event_loop loop;
  auto sp = io_test::make_socketpair(SOCK_DGRAM);
  auto job = [](event_loop& l, int s1, int s2) -> task<> {
    for (const char* text : {"first", "second message"}) {
      iovec out{const_cast<char*>(text), std::strlen(text)};
      msghdr m{};
      m.msg_iov = &out;
      m.msg_iovlen = 1;
      auto sn = co_await io::sendmsg(l, s1, m);
      REQUIRE(sn.has_value());
      CHECK(*sn == std::strlen(text));
    }
    for (const char* expect : {"first", "second message"}) {
      char buf[64];
      iovec in{buf, sizeof buf};
      msghdr m{};
      m.msg_iov = &in;
      m.msg_iovlen = 1;
      auto rn = co_await io::recvmsg(l, s2, m);
      REQUIRE(rn.has_value());
      CHECK(std::string(buf, *rn) == expect);
      CHECK((m.msg_flags & MSG_TRUNC) == 0);
    }
  };
  loop.run_until(job(loop, sp.a, sp.b));
}

TEST_CASE("poll reports readiness") {
  event_loop loop;
  auto sp = io_test::make_socketpair(SOCK_STREAM);
  auto job = [](event_loop& l, int s1, int s2) -> task<> {
    auto w = co_await io::poll(l, s1, POLLOUT);
    REQUIRE(w.has_value());
    CHECK((*w & POLLOUT) != 0);
    CHECK(::write(s2, "!", 1) == 1);
    auto r = co_await io::poll(l, s1, POLLIN);
    REQUIRE(r.has_value());
    CHECK((*r & POLLIN) != 0);
  };
  loop.run_until(job(loop, sp.a, sp.b));
}

TEST_CASE("nop round trips, many in one turn are submitted together") {
  event_loop loop;
  auto job = [](event_loop& l) -> task<std::size_t> {
    std::vector<io::nop_op> ops;
    for (int i = 0; i < 64; ++i) ops.push_back(io::nop(l));
    auto rs = co_await synack::when_all(std::move(ops));
    std::size_t ok = 0;
    for (auto& r : rs) ok += r.has_value() ? 1 : 0;
    co_return ok;
  };
  const auto turns_before = loop.turn_count();
  CHECK(loop.run_until(job(loop)) == 64);
  CHECK(loop.turn_count() - turns_before <= 3); // one batch out, one batch back
}

TEST_CASE("more operations in one turn than SQ entries: get_sqe submits the full queue and retries") {
  synack::loop_options small;
  small.entries = 8;
  event_loop loop(small);
  auto job = [](event_loop& l) -> task<std::size_t> {
    std::vector<io::nop_op> ops;
    for (int i = 0; i < 100; ++i) ops.push_back(io::nop(l));
    auto rs = co_await synack::when_all(std::move(ops));
    std::size_t ok = 0;
    for (auto& r : rs) ok += r.has_value() ? 1 : 0;
    co_return ok;
  };
  CHECK(loop.run_until(job(loop)) == 100);
  CHECK(loop.in_flight() == 0);
}

TEST_CASE("cancel and cancel_fd operations cancel requests in the kernel") {
  event_loop loop;
  auto p = io_test::make_pipe();
  auto job = [](event_loop& l, int r) -> task<> {
    std::byte b1[4];
    std::byte b2[4];
    auto read1 = io::read(l, r, b1);
    auto read2 = io::read(l, r, b2);
    auto canceller = [](event_loop& lp, std::uint64_t target, int fd) -> task<std::pair<std::size_t, std::size_t>> {
      auto one = co_await io::cancel(lp, target);
      REQUIRE(one.has_value());
      auto rest = co_await io::cancel_fd(lp, fd);
      REQUIRE(rest.has_value());
      co_return std::pair{*one, *rest};
    };
    // Operations passed as lvalues are awaited in place, so read1.user_data() names it.
    auto [r1, r2, counts] = co_await synack::when_all(read1, read2, canceller(l, read1.user_data(), r));
    CHECK(counts.first == 1);  // read1, by user_data
    CHECK(counts.second == 1); // read2, by file descriptor
    REQUIRE_FALSE(r1.has_value());
    CHECK(r1.error() == std::errc::operation_canceled);
    REQUIRE_FALSE(r2.has_value());
    CHECK(r2.error() == std::errc::operation_canceled);
    CHECK(l.in_flight() == 0);
  };
  loop.run_until(job(loop, p.a));
}

TEST_SUITE_END();
