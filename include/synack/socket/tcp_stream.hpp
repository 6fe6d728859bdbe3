// synack/socket/tcp_stream.hpp: a TCP connection as the application sees it.
//
//   auto s = co_await net.connect({ip, port});          // result<tcp_stream>
//   co_await s->send(as_bytes("hello"));                // result<size_t>: all bytes queued
//   auto data = co_await s->recv(buffer);               // result<span>: the filled part, empty at EOF
//   co_await s->close();                                // FIN, then the 4-way close
//
// Every operation returns result<T> (expected<T, std::error_code>); `.or_throw()` gives T or
// throws std::system_error. Every operation takes an optional std::stop_token and works with
// with_timeout(op, d). One recv, one send and one close/connect may wait on a stream at a
// time; a second one of the same kind completes at once with operation_in_progress.
//
// Destroying a tcp_stream never blocks: an open connection is closed gracefully (FIN after
// the queued data) and finishes in the background, bounded by the TCP timers; a closed one is
// freed at once. A stream may outlive its stack: the stack's destructor detaches it, its
// waiting operations complete with not_connected, and every later call fails with
// not_connected (see detail/socket_op.hpp and docs/api.md, "Lifetimes").
#pragma once

#include <memory>
#include <span>
#include <stop_token>
#include <system_error>

#include "synack/socket/detail/socket_op.hpp"
#include "synack/socket/errors.hpp"

namespace synack {

class tcp_stream;

namespace detail {

/// Awaits data: completes with the filled part of the buffer, an empty span at EOF, or an error.
/// While it waits, its buffer is posted to the connection (direct placement: in-order data is
/// copied straight into it, see tcp::connection::post_read); it is taken back whenever the
/// operation wakes, leaves its slot or is destroyed. Data placed before a stop request is
/// returned, not dropped: a stopped recv that got data completes with the data.
class [[nodiscard]] recv_op final : public socket_op {
public:
  recv_op(stream_state& s, bytes_mut buf, std::stop_token t) noexcept
      : socket_op(*s.sched, std::move(t)), m_state(&s), m_buf(buf) {}
  recv_op(recv_op&&) noexcept = default; // only before it starts (nothing posted yet)
  ~recv_op() override { unpost(); }
  recv_op(const recv_op&) = delete;
  auto operator=(const recv_op&) -> recv_op& = delete;
  auto operator=(recv_op&&) -> recv_op& = delete;

  auto await_ready() -> bool {
    if (m_state->reader) {
      m_result = unexpected(make_error(std::errc::operation_in_progress));
      return true;
    }
    return try_now(false) || stop_requested_early();
  }
  void await_suspend(std::coroutine_handle<> h) {
    wait_in(m_state->reader, h);
    if (try_now(true)) finish(); // nothing arrived since await_ready: this posts the buffer
  }
  auto await_resume() -> result<std::span<std::byte>> {
    resumed();
    if (canceled()) {
      if (m_placed > 0) return m_buf.first(m_placed);
      return unexpected(operation_canceled_error());
    }
    return std::move(m_result);
  }
  void on_event() override {
    if (try_now(true)) finish();
  }
  void on_leave() noexcept override { unpost(); }
  void on_detach() noexcept override { unpost(); } // bytes already placed are returned
  auto or_throw() && { return synack::or_throw(std::move(*this), "synack: recv"); }

private:
  void unpost() noexcept {
    if (!m_posted) return;
    m_posted = false;
    if (m_state->service) m_placed += m_state->service->take_placed(m_state->id);
  }
  /// One read: placed bytes first, then what the receive buffer holds (service::read). With
  /// `post`, a read that finds nothing leaves the buffer posted for direct placement.
  auto try_now(bool post) -> bool {
    if (m_buf.empty()) {
      m_result = std::span<std::byte>{};
      return true;
    }
    if (!m_state->service) {
      // Detached (the stack is gone): what was placed before it went, else not_connected.
      if (m_placed > 0)
        m_result = m_buf.first(m_placed);
      else
        m_result = unexpected(make_error(std::errc::not_connected));
      return true;
    }
    m_posted = false; // read() takes a posted buffer back first
    const auto r = m_state->service->read(m_state->id, m_buf, post);
    if (r.bytes > 0) {
      m_result = m_buf.first(r.bytes);
    } else if (r.eof) {
      m_result = std::span<std::byte>{};
    } else if (r.error) {
      m_result = unexpected(r.error);
    } else {
      m_posted = post;
      return false;
    }
    return true;
  }
  stream_state* m_state;
  bytes_mut m_buf;
  std::size_t m_placed = 0; // bytes placed in m_buf directly, taken back when it stopped waiting
  bool m_posted = false;    // m_buf is posted to the connection
  result<std::span<std::byte>> m_result{std::span<std::byte>{}};
};

/// Queues all of `data`, waiting for send-buffer space as needed. On error the stream's
/// last_send_queued() tells how much was queued.
class [[nodiscard]] send_op final : public socket_op {
public:
  send_op(stream_state& s, bytes_view data, std::stop_token t) noexcept
      : socket_op(*s.sched, std::move(t)), m_state(&s), m_data(data) {}
  send_op(send_op&&) noexcept = default;

  auto await_ready() -> bool {
    if (m_state->writer) {
      m_result = unexpected(make_error(std::errc::operation_in_progress));
      return true;
    }
    return try_now() || stop_requested_early();
  }
  void await_suspend(std::coroutine_handle<> h) { wait_in(m_state->writer, h); }
  auto await_resume() -> result<std::size_t> {
    resumed();
    if (!abandoned()) m_state->last_send = m_sent; // abandoned: the stream is gone
    if (canceled()) return unexpected(operation_canceled_error());
    return std::move(m_result);
  }
  void on_event() override {
    if (try_now()) finish();
  }
  auto or_throw() && { return synack::or_throw(std::move(*this), "synack: send"); }

private:
  auto try_now() -> bool {
    if (!m_state->service) {
      m_result = unexpected(make_error(std::errc::not_connected));
      return true;
    }
    const auto n = m_state->service->write(m_state->id, m_data.subspan(m_sent));
    if (!n) {
      m_result = unexpected(n.error());
      return true;
    }
    m_sent += *n;
    if (m_sent == m_data.size()) {
      m_result = m_sent;
      return true;
    }
    return false;
  }
  stream_state* m_state;
  bytes_view m_data;
  std::size_t m_sent = 0;
  result<std::size_t> m_result{std::size_t{0}};
};

/// CLOSE: sends our FIN after the queued data and completes when the 4-way close is done on
/// our side (TIME_WAIT or CLOSED), or with the error that ended the connection.
class [[nodiscard]] close_op final : public socket_op {
public:
  close_op(stream_state& s, std::stop_token t) noexcept : socket_op(*s.sched, std::move(t)), m_state(&s) {}
  close_op(close_op&&) noexcept = default;

  auto await_ready() -> bool {
    if (m_state->state_waiter) {
      m_result = unexpected(make_error(std::errc::operation_in_progress));
      return true;
    }
    if (m_state->service) m_state->service->request(m_state->id, conn_request::close);
    return try_now() || stop_requested_early();
  }
  void await_suspend(std::coroutine_handle<> h) { wait_in(m_state->state_waiter, h); }
  auto await_resume() -> result<void> {
    resumed();
    if (canceled()) return unexpected(operation_canceled_error());
    return std::move(m_result);
  }
  void on_event() override {
    if (try_now()) finish();
  }
  auto or_throw() && { return synack::or_throw(std::move(*this), "synack: close"); }

private:
  auto try_now() -> bool {
    if (!m_state->service) {
      m_result = unexpected(make_error(std::errc::not_connected));
      return true;
    }
    const auto s = m_state->service->status(m_state->id);
    if (s.state == tcp::state::time_wait) return true;
    if (s.state == tcp::state::closed) {
      if (s.error) m_result = unexpected(s.error);
      return true;
    }
    return false;
  }
  stream_state* m_state;
  result<void> m_result{};
};

} // namespace detail

class tcp_stream {
public:
  tcp_stream() = default;
  explicit tcp_stream(std::unique_ptr<detail::stream_state> s) noexcept : m_state(std::move(s)) {
    if (auto* svc = service()) svc->attach(m_state->id, m_state.get());
  }
  tcp_stream(tcp_stream&&) noexcept = default;
  auto operator=(tcp_stream&& o) noexcept -> tcp_stream& {
    if (this != &o) {
      reset();
      m_state = std::move(o.m_state);
    }
    return *this;
  }
  ~tcp_stream() { reset(); }

  /// Whether this object holds a connection (also one its stack detached when it went away).
  explicit operator bool() const noexcept { return m_state != nullptr; }

  /// RECEIVE: waits for data; the result is the filled part of `buffer` (empty at EOF).
  auto recv(bytes_mut buffer, std::stop_token token = {}) -> detail::recv_op {
    return {st(), buffer, std::move(token)};
  }
  /// SEND: completes when every byte of `data` is queued (the send buffer holds it until
  /// acknowledged). `data` must stay alive until then.
  auto send(bytes_view data, std::stop_token token = {}) -> detail::send_op { return {st(), data, std::move(token)}; }
  /// CLOSE: FIN after the queued data; completes when the close finished on our side.
  auto close(std::stop_token token = {}) -> detail::close_op { return {st(), std::move(token)}; }
  /// Half-close: our FIN after the queued data; we can still receive.
  auto shutdown() -> result<void> {
    auto* svc = st().service;
    if (!svc || !svc->status(m_state->id).can_send) return unexpected(make_error(std::errc::not_connected));
    svc->request(m_state->id, detail::conn_request::shutdown);
    return {};
  }
  /// ABORT: RST, and the connection is gone (RFC 9293 §3.10.5).
  void abort() {
    if (auto* svc = service()) svc->request(m_state->id, detail::conn_request::abort);
  }

  /// One of the 11 states.
  auto state() const -> tcp::state {
    auto* svc = service();
    return svc ? svc->status(m_state->id).state : tcp::state::closed;
  }
  auto info() const -> connection_info {
    auto* svc = service();
    return svc ? svc->info(m_state->id) : connection_info{};
  }
  auto local_endpoint() const -> wire::endpoint { return info().local; }
  auto remote_endpoint() const -> wire::endpoint { return info().remote; }
  /// Bytes queued by the last send(), also when it failed or was cancelled.
  auto last_send_queued() const noexcept -> std::size_t { return m_state ? m_state->last_send : 0; }
  /// Bytes that can be read without waiting.
  auto readable() const -> std::size_t {
    auto* svc = service();
    return svc ? svc->readable(m_state->id) : 0;
  }
  /// TCP_NODELAY: turns Nagle's algorithm off (RFC 1122 §4.2.3.4).
  void set_nodelay(bool on) {
    using detail::conn_request;
    if (auto* svc = service()) svc->request(m_state->id, on ? conn_request::nodelay_on : conn_request::nodelay_off);
  }
  /// SO_KEEPALIVE: probe an idle connection (RFC 1122 §4.2.3.6).
  void set_keepalive(bool on) {
    using detail::conn_request;
    if (auto* svc = service()) svc->request(m_state->id, on ? conn_request::keepalive_on : conn_request::keepalive_off);
  }

private:
  /// The stack, or nullptr for an empty stream or one its stack detached.
  auto service() const noexcept -> detail::stream_service* { return m_state ? m_state->service : nullptr; }
  auto st() const -> detail::stream_state& {
    if (!m_state) throw std::system_error(make_error(std::errc::not_connected), "synack: empty tcp_stream");
    return *m_state;
  }
  void reset() noexcept {
    if (!m_state) return;
    auto s = std::move(m_state);
    if (auto* svc = s->service) { // else detached: its connection went with the stack
      svc->attach(s->id, nullptr);
      svc->release(s->id);
    }
  }
  std::unique_ptr<detail::stream_state> m_state;
};

} // namespace synack

namespace synack::detail {

/// Awaits the end of an active open: a tcp_stream once the connection is established, or the
/// error that ended the attempt. Cancelling (or destroying) it aborts the attempt. If the
/// stack goes first, it completes with not_connected.
class [[nodiscard]] connect_op final : public socket_op {
public:
  connect_op(stream_service& svc, std::unique_ptr<stream_state> s, std::stop_token t) noexcept
      : socket_op(svc.get_scheduler(), std::move(t)), m_state(std::move(s)) {}
  connect_op(stream_service& svc, std::error_code failed) noexcept
      : socket_op(svc.get_scheduler(), {}), m_error(failed) {}
  connect_op(connect_op&&) noexcept = default;
  ~connect_op() override {
    detach_now();
    if (m_state && m_state->service) {
      // Not handed to a tcp_stream: the attempt is abandoned.
      auto& svc = *m_state->service;
      const auto id = m_state->id;
      svc.attach(id, nullptr);
      svc.request(id, conn_request::abort);
      svc.release(id);
    }
    m_state.reset();
  }

  auto await_ready() -> bool {
    if (m_error || !m_state) return true;
    if (m_state->state_waiter) {
      m_error = make_error(std::errc::operation_in_progress);
      return true;
    }
    return try_now() || stop_requested_early();
  }
  void await_suspend(std::coroutine_handle<> h) { wait_in(m_state->state_waiter, h); }
  auto await_resume() -> result<tcp_stream> {
    resumed();
    if (canceled()) return unexpected(operation_canceled_error());
    if (m_error) return unexpected(m_error);
    if (!m_state) return unexpected(make_error(std::errc::not_connected));
    return tcp_stream{std::move(m_state)};
  }
  void on_event() override {
    if (try_now()) finish();
  }
  auto or_throw() && { return synack::or_throw(std::move(*this), "synack: connect"); }

private:
  auto try_now() -> bool {
    if (!m_state->service) {
      m_error = make_error(std::errc::not_connected);
      return true;
    }
    const auto s = m_state->service->status(m_state->id);
    switch (s.state) {
      case tcp::state::syn_sent:
      case tcp::state::syn_received:
        return false;
      case tcp::state::closed:
        m_error = s.error ? s.error : make_error(std::errc::connection_refused);
        return true;
      default:
        return true; // established (or already past it)
    }
  }
  std::unique_ptr<stream_state> m_state; // its service is null once the stack is gone
  std::error_code m_error;
};

} // namespace synack::detail
