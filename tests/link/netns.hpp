// tests/link/netns.hpp: network namespaces for the root tests of the links (the rules of
// docs/examples.md, "The integration tests").
//
// - `netns_scope` moves the calling thread into a new network namespace (unshare(CLONE_NEWNET))
//   and back on destruction, also when a CHECK fails or an exception passes: every device the
//   test creates inside goes away with the namespace once the test's sockets and devices close.
//   Nothing is ever sent outside it; addresses are 192.0.2.0/24 only.
// - `spare_netns` is a second namespace kept alive by a file descriptor (the far end of a veth
//   pair); `in()` runs a shell command in it with nsenter, `enter()` switches this thread to it
//   for a moment (to open a socket there).
// - Without the privilege to create a namespace (not root, no CAP_NET_ADMIN, no user
//   namespaces), `skip_root_test(reason)` says so once and the program ends with 77 (CTest:
//   skipped) if nothing failed: root tests are never reported as passed when they did not run.
#pragma once

#include <doctest/doctest.h>

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace link_test {

/// Set by skip_root_test(); the listener in root_support.cpp turns a clean run into exit 77.
inline bool root_tests_skipped = false;

inline void skip_root_test(const std::string& why) {
  if (!root_tests_skipped)
    fmt::print(stderr,
               "test_link: SKIPPING the root tests: {} (they need root or CAP_NET_ADMIN: run as root, or "
               "inside `unshare --user --map-root-user --net`)\n",
               why);
  root_tests_skipped = true;
  MESSAGE("skipped: " << why);
}

/// Runs `cmd` with /bin/sh; returns its exit status (or -1). The command's output goes to the
/// test's stderr.
inline auto sh(const std::string& cmd) -> int {
  const int r = std::system(cmd.c_str());
  if (r == -1 || !WIFEXITED(r)) return -1;
  return WEXITSTATUS(r);
}

/// Runs `cmd` and fails the test if it does not exit with 0.
inline void must(const std::string& cmd) {
  INFO("command: " << cmd);
  REQUIRE(sh(cmd) == 0);
}

/// Sets IFF_UP on `name` in the current namespace.
inline auto set_up(const char* name) -> bool {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  ifreq r{};
  std::snprintf(r.ifr_name, IFNAMSIZ, "%s", name);
  bool ok = ::ioctl(s, SIOCGIFFLAGS, &r) == 0;
  if (ok) {
    r.ifr_flags = static_cast<short>(r.ifr_flags | IFF_UP);
    ok = ::ioctl(s, SIOCSIFFLAGS, &r) == 0;
  }
  ::close(s);
  return ok;
}

class netns_scope {
public:
  netns_scope() {
    m_saved = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (m_saved < 0) {
      m_error = fmt::format("cannot open /proc/thread-self/ns/net: {}", std::strerror(errno));
      return;
    }
    if (::unshare(CLONE_NEWNET) != 0) {
      m_error = fmt::format("unshare(CLONE_NEWNET): {}", std::strerror(errno));
      ::close(m_saved);
      m_saved = -1;
      return;
    }
    m_self = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    set_up("lo");
  }
  netns_scope(const netns_scope&) = delete;
  auto operator=(const netns_scope&) -> netns_scope& = delete;
  ~netns_scope() {
    if (m_saved >= 0) {
      if (::setns(m_saved, CLONE_NEWNET) != 0) std::abort(); // never run the rest in the test namespace
      ::close(m_saved);
    }
    if (m_self >= 0) ::close(m_self);
  }

  explicit operator bool() const noexcept { return m_saved >= 0; }
  auto error() const -> const std::string& { return m_error; }
  /// A path naming this namespace (for `ip link set X netns PATH` and nsenter).
  auto path() const -> std::string { return fmt::format("/proc/{}/fd/{}", ::getpid(), m_self); }

private:
  int m_saved = -1;
  int m_self = -1;
  std::string m_error;
};

/// A second namespace, alive while this object is; the thread stays where it was.
class spare_netns {
public:
  spare_netns() {
    const int here = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    REQUIRE(here >= 0);
    REQUIRE(::unshare(CLONE_NEWNET) == 0);
    m_fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    set_up("lo");
    if (::setns(here, CLONE_NEWNET) != 0) std::abort();
    ::close(here);
    REQUIRE(m_fd >= 0);
  }
  spare_netns(const spare_netns&) = delete;
  auto operator=(const spare_netns&) -> spare_netns& = delete;
  ~spare_netns() {
    if (m_fd >= 0) ::close(m_fd);
  }

  auto path() const -> std::string { return fmt::format("/proc/{}/fd/{}", ::getpid(), m_fd); }
  /// Runs `cmd` inside this namespace.
  auto in(const std::string& cmd) const -> int { return sh(fmt::format("nsenter --net={} {}", path(), cmd)); }
  void must_in(const std::string& cmd) const {
    INFO("command in the peer namespace: " << cmd);
    REQUIRE(in(cmd) == 0);
  }
  /// Calls f() with this thread in the namespace (sockets opened there stay there).
  template <class F>
  auto enter(F&& f) const {
    const int here = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (here < 0 || ::setns(m_fd, CLONE_NEWNET) != 0) std::abort();
    struct back {
      int fd;
      ~back() {
        if (::setns(fd, CLONE_NEWNET) != 0) std::abort();
        ::close(fd);
      }
    } guard{here};
    return f();
  }

private:
  int m_fd = -1;
};

/// True if a program is on the PATH.
inline auto have_program(const char* name) -> bool {
  return sh(fmt::format("command -v {} >/dev/null 2>&1", name)) == 0;
}

} // namespace link_test
