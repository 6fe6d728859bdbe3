// tests/io/io_support.hpp: helpers for the io_uring tests: skip (exit 77) when io_uring is
// refused, pipes and socket pairs that close themselves, byte views of strings.
#pragma once

#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace io_test {

/// Exits with 77 (CTest: skipped) if this process may not create an io_uring (seccomp,
/// kernel.io_uring_disabled, an old kernel). Runs once, before doctest's main.
inline auto check_io_uring_or_skip() -> bool {
  io_uring ring{};
  const int r = io_uring_queue_init(8, &ring, 0);
  if (r < 0) {
    std::fprintf(stderr, "test_io: io_uring setup refused (%s); skipping the io tests\n", std::strerror(-r));
    std::fflush(stderr);
    std::_Exit(77);
  }
  io_uring_queue_exit(&ring);
  return true;
}
inline const bool io_uring_available = check_io_uring_or_skip();

struct fd_pair {
  int a = -1;
  int b = -1;
  fd_pair() = default;
  fd_pair(fd_pair&& o) noexcept : a(o.a), b(o.b) { o.a = o.b = -1; }
  fd_pair(const fd_pair&) = delete;
  auto operator=(const fd_pair&) -> fd_pair& = delete;
  ~fd_pair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
};

/// A pipe: `a` is the read end, `b` the write end.
inline auto make_pipe() -> fd_pair {
  fd_pair p;
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe");
  p.a = fds[0];
  p.b = fds[1];
  return p;
}

/// A connected AF_UNIX socket pair of `type` (SOCK_STREAM or SOCK_DGRAM).
inline auto make_socketpair(int type) -> fd_pair {
  fd_pair p;
  int fds[2];
  if (::socketpair(AF_UNIX, type, 0, fds) != 0) throw std::runtime_error("socketpair");
  p.a = fds[0];
  p.b = fds[1];
  return p;
}

inline auto bytes_of(std::string_view s) -> std::span<const std::byte> { return std::as_bytes(std::span(s)); }
inline auto string_of(std::span<const std::byte> b) -> std::string {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

} // namespace io_test
