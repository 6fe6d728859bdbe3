// run_until must return as soon as its awaitable completes, even when other I/O stays in
// flight (a link's reads always are): the turn that completes it must not block in the kernel.
#include <doctest/doctest.h>

#include <unistd.h>

#include <array>
#include <chrono>

#include "synack/core/task.hpp"
#include "synack/io/loop.hpp"
#include "synack/io/ops.hpp"

using namespace synack;

TEST_CASE("run_until returns when its task completes while a read stays in flight") {
  event_loop loop;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::array<std::byte, 16> buf{};
  bool read_done = false;
  // A read that never completes (nobody writes to the pipe until the end).
  loop.spawn([](event_loop& l, int fd, std::span<std::byte> b, bool& done) -> task<> {
    (void)co_await io::read(l, fd, b);
    done = true;
  }(loop, fds[0], buf, read_done));
  auto quick = [](event_loop& l) -> task<int> {
    co_await io::nop(l); // completes in the kernel; the task then finishes in a later turn
    co_return 7;
  };
  const auto start = std::chrono::steady_clock::now();
  CHECK(loop.run_until(quick(loop)) == 7);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds{2});
  CHECK_FALSE(read_done);
  ::close(fds[1]); // EOF completes the read; shutdown has nothing to wait for then
  loop.run_until(io::nop(loop));
  ::close(fds[0]);
}
