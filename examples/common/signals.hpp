// examples/common/signals.hpp: SIGINT and SIGTERM as a stop request, through a signalfd
// polled on the io_uring, so a server shuts down gracefully from inside its event loop.
#pragma once

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <stop_token>

#include "synack/synack.hpp"

namespace examples {

class stop_on_signals {
public:
  stop_on_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    // Block them so they are only seen through the signalfd.
    sigprocmask(SIG_BLOCK, &set, nullptr);
    m_fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  }
  ~stop_on_signals() {
    if (m_fd >= 0) ::close(m_fd);
  }
  stop_on_signals(const stop_on_signals&) = delete;
  auto operator=(const stop_on_signals&) -> stop_on_signals& = delete;

  auto token() const noexcept -> std::stop_token { return m_source.get_token(); }
  /// Waits for SIGINT or SIGTERM (or `until`), then requests stop.
  auto watch(synack::event_loop_base& loop, std::stop_token until = {}) -> synack::task<> {
    if (m_fd < 0) co_return;
    auto r = co_await synack::io::poll(loop, m_fd, POLLIN, std::move(until));
    if (r) {
      signalfd_siginfo info{};
      (void)::read(m_fd, &info, sizeof info);
      m_source.request_stop();
    }
  }

private:
  int m_fd = -1;
  std::stop_source m_source;
};

} // namespace examples
