// synack/socket/tcp_listener.hpp: a listening port (`net.listen(7788, 128)`).
//
//   auto l = net.listen(7788, 128);                 // result<tcp_listener>
//   auto [client, peer] = co_await l->accept().or_throw();
//
// accept() completes with an established connection and the peer's endpoint, in the order
// the handshakes completed; at most `backlog` wait to be accepted (more SYNs are dropped and
// the peers retry). Destroying the listener stops listening and resets the connections
// nobody accepted. A listener may outlive its stack: the stack's destructor detaches it, a
// waiting accept() completes with not_connected, and so does every later one.
#pragma once

#include <memory>
#include <stop_token>

#include "synack/socket/tcp_stream.hpp"

namespace synack {

/// A connection accept() returned, and who is at the other end.
struct accepted {
  tcp_stream stream;
  wire::endpoint peer;
};

namespace detail {

class [[nodiscard]] accept_op final : public socket_op {
public:
  accept_op(listener_state& l, std::stop_token t) noexcept : socket_op(*l.sched, std::move(t)), m_listener(&l) {}
  accept_op(accept_op&&) noexcept = default;

  auto await_ready() -> bool {
    if (m_listener->acceptor) {
      m_result = unexpected(make_error(std::errc::operation_in_progress));
      return true;
    }
    return try_now() || stop_requested_early();
  }
  void await_suspend(std::coroutine_handle<> h) { wait_in(m_listener->acceptor, h); }
  auto await_resume() -> result<accepted> {
    resumed();
    if (canceled()) return unexpected(operation_canceled_error());
    return std::move(m_result);
  }
  void on_event() override {
    if (try_now()) finish();
  }
  auto or_throw() && { return synack::or_throw(std::move(*this), "synack: accept"); }

private:
  auto try_now() -> bool {
    if (!m_listener->service) {
      m_result = unexpected(make_error(std::errc::not_connected));
      return true;
    }
    auto& svc = *m_listener->service;
    auto id = svc.accept(m_listener->id);
    if (!id) return false;
    const auto peer = svc.info(*id).remote;
    m_result = accepted{tcp_stream{std::make_unique<stream_state>(svc, *id)}, peer};
    return true;
  }
  listener_state* m_listener;
  result<accepted> m_result{unexpected(make_error(std::errc::operation_canceled))};
};

} // namespace detail

class tcp_listener {
public:
  tcp_listener() = default;
  explicit tcp_listener(std::unique_ptr<detail::listener_state> s, std::uint16_t port) noexcept
      : m_state(std::move(s)), m_port(port) {
    if (m_state && m_state->service) m_state->service->attach_listener(m_state->id, m_state.get());
  }
  tcp_listener(tcp_listener&&) noexcept = default;
  auto operator=(tcp_listener&& o) noexcept -> tcp_listener& {
    if (this != &o) {
      reset();
      m_state = std::move(o.m_state);
      m_port = o.m_port;
    }
    return *this;
  }
  ~tcp_listener() { reset(); }

  explicit operator bool() const noexcept { return m_state != nullptr; }
  /// Waits for the next established connection.
  auto accept(std::stop_token token = {}) -> detail::accept_op {
    if (!m_state) throw std::system_error(make_error(std::errc::not_connected), "synack: empty tcp_listener");
    return {*m_state, std::move(token)};
  }
  auto port() const noexcept -> std::uint16_t { return m_port; }
  /// Stops listening now (the destructor does the same).
  void close() noexcept { reset(); }

private:
  void reset() noexcept {
    if (!m_state) return;
    auto s = std::move(m_state);
    if (auto* svc = s->service) { // else detached: the listening port went with the stack
      svc->attach_listener(s->id, nullptr);
      svc->close_listener(s->id);
    }
  }
  std::unique_ptr<detail::listener_state> m_state;
  std::uint16_t m_port = 0;
};

} // namespace synack
