// synack/socket/detail/socket_op.hpp: the machinery behind the socket awaitables.
//
// A socket operation (recv, send, connect, accept, close) is an awaiter object that follows
// core/cancellation.hpp's stoppable protocol and allocates nothing:
//   - await_ready() tries to finish at once (data already there, space free, ...);
//   - otherwise await_suspend() registers the operation in its socket's slot for that kind
//     (one reader, one writer, one state waiter per stream; one acceptor per listener);
//   - the stack's event sink calls on_event() when the connection's events say something
//     changed; the operation tries again and, when it is done, leaves its slot and puts its
//     coroutine on the ready queue (never resumed inline);
//   - a stop request leaves the slot and resumes it once with operation_canceled;
//   - destroying a suspended operation (its frame destroyed) leaves the slot.
//
// `stream_service` is what streams and listeners need from their stack: a few calls, one per
// thing an operation does (read, write, status, request). stack<Link, P> implements it with
// tcp::handle, so tcp_stream and tcp_listener are plain types, not templates over the stack,
// and every call that may make a connection send marks it for the next poll by itself.
//
// Lifetimes (docs/api.md, "Lifetimes"): the service keeps an intrusive list of the live
// stream_state and listener_state objects. The stack's destructor detaches them all first,
// while its TCP layer still exists: each state's `service` becomes null, and each operation
// waiting on it gets on_event(), sees the detached state, completes with not_connected and is
// put on the ready queue like any other completion. Nothing is resumed from inside the
// destructor, so no coroutine runs inside a half-destroyed stack; when they run (the loop may
// go on after the stack is gone), they see only detached states. Every operation, stream and
// listener checks for a null `service` before using it, so later calls fail with
// not_connected and the objects can be destroyed or moved after the stack (and the loop).
#pragma once

#include <coroutine>
#include <cstddef>
#include <optional>
#include <stop_token>
#include <system_error>

#include "synack/core/cancellation.hpp"
#include "synack/core/detail/intrusive_list.hpp"
#include "synack/core/detail/stop_callback_slot.hpp"
#include "synack/core/scheduler.hpp"
#include "synack/tcp/connection.hpp"
#include "synack/tcp/layer.hpp"
#include "synack/util/bytes.hpp"
#include "synack/util/expected.hpp"

namespace synack {

/// A snapshot of a connection for diagnostics (`ss -tin`-like).
struct connection_info {
  tcp::state state = tcp::state::closed;
  wire::endpoint local;
  wire::endpoint remote;
  std::uint16_t peer_mss = 0;
  std::uint16_t send_mss = 0;
  std::uint8_t snd_wscale = 0;
  std::uint8_t rcv_wscale = 0;
  bool window_scaling = false;
  bool sack = false;
  bool timestamps = false;
  std::uint32_t snd_wnd = 0;
  std::uint32_t rcv_wnd = 0;
  std::uint32_t cwnd = 0;
  std::uint32_t ssthresh = 0;
  duration srtt{};
  duration rto{};
  std::uint64_t retransmissions = 0;
  /// The congestion control algorithm ("new_reno", "cubic", "none").
  std::string_view congestion;
};

/// Per-connection settings chosen at connect() or listen() time.
struct stream_options {
  std::optional<bool> nodelay;
  std::optional<bool> keepalive;
  std::optional<std::uint32_t> send_buffer;
  std::optional<std::uint32_t> recv_buffer;
  /// The congestion control, on a stack whose policy chooses it at run time
  /// (stack<Link, tcp::dynamic_policies>); ignored otherwise.
  std::optional<tcp::congestion_kind> congestion;
};

namespace detail {

class socket_op;
struct stream_state;
struct listener_state;

/// What a read found: bytes (placed directly and copied), or the end of the stream, or the
/// error that ended the connection; none of these: nothing yet.
struct read_outcome {
  std::size_t bytes = 0;
  bool eof = false;
  std::error_code error;
  auto done() const noexcept -> bool { return bytes > 0 || eof || error; }
};

/// The connection's state; once it is CLOSED, why (no error: a normal close).
struct conn_status {
  tcp::state state = tcp::state::closed;
  std::error_code error;
  bool can_send = false; // SEND is still allowed (RFC 9293 §3.10.2)
};

/// The calls on a connection that take no data.
enum class conn_request : std::uint8_t {
  shutdown,      // half-close: our FIN after the queued data
  close,         // CLOSE (RFC 9293 §3.10.4)
  abort,         // ABORT (§3.10.5)
  nodelay_on,    // TCP_NODELAY
  nodelay_off,   //
  keepalive_on,  // SO_KEEPALIVE (RFC 1122 §4.2.3.6)
  keepalive_off, //
};

/// What streams and listeners need from their stack: one call per thing an operation does,
/// so a woken operation makes one virtual call (a recv's read, a send's write, a connect's or
/// close's status). The stack implements each with a tcp::handle, which marks the connection
/// for the next poll by itself whenever the call may give it something to send.
class stream_service {
public:
  virtual ~stream_service() = default;
  virtual auto get_scheduler() noexcept -> scheduler& = 0;

  /// RECEIVE: the bytes placed straight into `buf` since it was posted, then readable bytes
  /// behind them; else the end of the stream or the error that ended the connection. When
  /// there is none of these and `post`, `buf` (not empty) is posted for direct placement
  /// (tcp::connection::post_read) until the next read() or take_placed().
  virtual auto read(tcp::conn_id, bytes_mut buf, bool post) -> read_outcome = 0;
  /// Takes a posted buffer back; returns the bytes placed in it.
  virtual auto take_placed(tcp::conn_id) noexcept -> std::size_t = 0;
  /// SEND: queues what fits of `data` and returns the count (0: wait for space), or the error
  /// once sending is over (the connection's error, else broken_pipe).
  virtual auto write(tcp::conn_id, bytes_view data) -> expected<std::size_t, std::error_code> = 0;
  virtual auto status(tcp::conn_id) noexcept -> conn_status = 0;
  virtual void request(tcp::conn_id, conn_request) = 0;
  virtual auto readable(tcp::conn_id) noexcept -> std::size_t = 0;
  virtual auto info(tcp::conn_id) noexcept -> connection_info = 0;
  /// Where the connection's events go (nullptr: nowhere).
  virtual void attach(tcp::conn_id, stream_state*) noexcept = 0;
  /// The stream lets go of the connection (an open one closes in the background).
  virtual void release(tcp::conn_id) = 0;

  virtual auto accept(tcp::listener_id) -> std::optional<tcp::conn_id> = 0;
  virtual void close_listener(tcp::listener_id) = 0;
  virtual void attach_listener(tcp::listener_id, listener_state*) noexcept = 0;

protected:
  /// Detaches every live stream and listener (see the header comment). The stack calls it
  /// first in its destructor, while the connections still exist.
  inline void detach_all() noexcept;

private:
  friend struct stream_state;
  friend struct listener_state;
  intrusive_list<stream_state> m_streams;     // every stream_state of this service
  intrusive_list<listener_state> m_listeners; // every listener_state of this service
};

/// What a tcp_stream owns: its connection and the operations waiting on it. Heap-allocated
/// once per connection so its address is stable (the stack points at it). Linked into its
/// service's list of streams while both live.
struct stream_state : private list_node {
  stream_service* service = nullptr; // null once detached: the stack is gone
  scheduler* sched = nullptr;        // the stack's loop, for operations created after that
  tcp::conn_id id;
  socket_op* reader = nullptr;
  socket_op* writer = nullptr;
  socket_op* state_waiter = nullptr;
  std::size_t last_send = 0; // bytes the last send() queued, also when it failed

  stream_state(stream_service& s, tcp::conn_id c) noexcept : service(&s), sched(&s.get_scheduler()), id(c) {
    s.m_streams.push_back(*this);
  }
  stream_state(const stream_state&) = delete;
  auto operator=(const stream_state&) -> stream_state& = delete;
  ~stream_state();
  /// Called by the stack with the connection's new events.
  void notify(tcp::event_set events);
  /// The stack is going away: forget it and complete the waiting operations (not_connected).
  void detach() noexcept;

private:
  friend class intrusive_list<stream_state>;
};

/// What a tcp_listener owns. Linked into its service's list of listeners while both live.
struct listener_state : private list_node {
  stream_service* service = nullptr; // null once detached: the stack is gone
  scheduler* sched = nullptr;
  tcp::listener_id id;
  socket_op* acceptor = nullptr;

  listener_state(stream_service& s, tcp::listener_id l) noexcept : service(&s), sched(&s.get_scheduler()), id(l) {
    s.m_listeners.push_back(*this);
  }
  listener_state(const listener_state&) = delete;
  auto operator=(const listener_state&) -> listener_state& = delete;
  ~listener_state();
  void notify();
  void detach() noexcept;

private:
  friend class intrusive_list<listener_state>;
};

/// The base of every socket operation (see the header comment).
class socket_op {
public:
  socket_op(const socket_op&) = delete;
  auto operator=(const socket_op&) -> socket_op& = delete;

  /// Something changed on the socket: try to finish.
  virtual void on_event() = 0;

  void set_stop_token(std::stop_token t) noexcept { m_token = std::move(t); }
  auto get_stop_token() const noexcept -> std::stop_token { return m_token; }
  auto get_scheduler() const noexcept -> scheduler& { return *m_scheduler; }

  /// Completes a suspended operation with operation_canceled (its socket is going away).
  void abandon() noexcept {
    m_abandoned = true;
    cancel();
  }
  /// Called on a waiting operation just before its socket is detached from the stack, while
  /// the connection still exists (a recv takes back its posted buffer here); then on_event().
  virtual void on_detach() noexcept {}

protected:
  socket_op(scheduler& s, std::stop_token t) noexcept : m_scheduler(&s), m_token(std::move(t)) {}
  // Moved only before it starts (returned by value, moved into with_timeout).
  socket_op(socket_op&& o) noexcept : m_scheduler(o.m_scheduler), m_token(std::move(o.m_token)) {}
  virtual ~socket_op() { leave(); }
  /// Called when the operation leaves its slot (done, stopped or abandoned); not from the
  /// destructor, where a derived operation cleans up in its own destructor.
  virtual void on_leave() noexcept {}

  /// Registers in `slot` and arranges for stop requests. Returns false (without suspending
  /// semantics) when the slot is taken by another operation.
  auto wait_in(socket_op*& slot, std::coroutine_handle<> h) -> bool {
    if (slot != nullptr) return false;
    slot = this;
    m_slot = &slot;
    m_node.set_handle(h);
    if (m_token.stop_possible()) m_stop.emplace(m_token, on_stop{this});
    return true;
  }
  /// Leaves the slot and resumes the coroutine through the ready queue.
  void finish() noexcept {
    if (!m_slot) return;
    leave();
    on_leave();
    m_scheduler->schedule(m_node);
  }
  /// Leaves the slot without resuming (the operation is being destroyed).
  void detach_now() noexcept { leave(); }
  /// Whether the operation was stopped (checked in await_resume).
  auto canceled() const noexcept -> bool { return m_canceled; }
  /// Whether its socket was destroyed while it waited: await_resume must not touch it.
  auto abandoned() const noexcept -> bool { return m_abandoned; }
  /// Call first in await_resume: drops the stop callback.
  void resumed() noexcept { m_stop.reset(); }
  /// True when stop was requested before the operation could start.
  auto stop_requested_early() noexcept -> bool {
    if (m_token.stop_requested()) m_canceled = true;
    return m_canceled;
  }

private:
  struct on_stop {
    socket_op* self;
    void operator()() const noexcept { self->cancel(); }
  };
  void cancel() noexcept {
    if (!m_slot) return;
    m_canceled = true;
    leave();
    on_leave();
    m_scheduler->schedule(m_node);
  }
  void leave() noexcept {
    if (m_slot) {
      if (*m_slot == this) *m_slot = nullptr;
      m_slot = nullptr;
    }
  }

  scheduler* m_scheduler;
  std::stop_token m_token;
  stop_callback_slot<on_stop> m_stop;
  ready_node m_node{std::coroutine_handle<>{}};
  socket_op** m_slot = nullptr;
  bool m_canceled = false;
  bool m_abandoned = false;
};

inline void stream_state::notify(tcp::event_set events) {
  using tcp::event;
  const bool ended = tcp::has(events, event::closed);
  if (reader && (tcp::has(events, event::readable) || ended)) reader->on_event();
  if (writer && (tcp::has(events, event::writable) || ended)) writer->on_event();
  if (state_waiter && (tcp::has(events, event::state) || tcp::has(events, event::connected) || ended)) {
    state_waiter->on_event();
  }
}

inline stream_state::~stream_state() {
  for (auto* op : {reader, writer, state_waiter})
    if (op) op->abandon();
}

inline void stream_state::detach() noexcept {
  unlink();
  socket_op* const waiting[] = {reader, writer, state_waiter};
  for (auto* op : waiting)
    if (op) op->on_detach();
  service = nullptr;
  // Each operation sees the detached state, completes with not_connected and is queued on
  // the ready queue (socket_op::finish): nothing is resumed here.
  for (auto* op : waiting)
    if (op) op->on_event();
}

inline void listener_state::notify() {
  if (acceptor) acceptor->on_event();
}

inline listener_state::~listener_state() {
  if (acceptor) acceptor->abandon();
}

inline void listener_state::detach() noexcept {
  unlink();
  service = nullptr;
  if (acceptor) acceptor->on_event();
}

inline void stream_service::detach_all() noexcept {
  while (listener_state* l = m_listeners.front()) l->detach();
  while (stream_state* s = m_streams.front()) s->detach();
}

} // namespace detail
} // namespace synack
