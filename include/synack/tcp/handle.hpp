// synack/tcp/handle.hpp: the application's side of one connection of a tcp::layer.
//
//   auto h = tcp::handle{layer, id};
//   h.send(data);          // queued; the layer's next poll() sends it
//   h.recv(buffer);        // the window may open: the next poll() may update it
//   h.close(now);
//
// A handle names a connection by its id (a stale id names nothing: every call then does
// nothing and the state reads CLOSED). Every call that may give the connection something to
// send marks it for the layer's next poll() by itself (layer::touch), so no caller can forget
// to; this is the seam the socket API (socket/stack.hpp) and the simulation tests use. A handle
// is two words, cheap to copy; it stays valid as long as the layer.
#pragma once

#include <cstddef>

#include "synack/tcp/layer.hpp"

namespace synack::tcp {

template <class Policies = default_policies>
class handle {
public:
  using layer_type = layer<Policies>;
  using connection_type = typename layer_type::connection_type;

  handle() = default;
  handle(layer_type& l, conn_id id) noexcept : m_layer(&l), m_id(id) {}

  auto id() const noexcept -> conn_id { return m_id; }
  /// The connection, read-only, or nullptr once the id is stale (released, or never valid).
  auto get() const noexcept -> const connection_type* { return m_layer ? m_layer->find(m_id) : nullptr; }
  explicit operator bool() const noexcept { return get() != nullptr; }

  // --- reading the connection (no effect on what it sends)
  auto state() const noexcept -> tcp::state {
    const auto* c = get();
    return c ? c->state() : tcp::state::closed;
  }
  auto last_error() const noexcept -> error {
    const auto* c = get();
    return c ? c->last_error() : error::none;
  }
  auto can_send() const noexcept -> bool {
    const auto* c = get();
    return c && c->can_send();
  }
  auto send_space() const noexcept -> std::size_t {
    const auto* c = get();
    return c ? c->send_space() : 0;
  }
  auto readable() const noexcept -> std::size_t {
    const auto* c = get();
    return c ? c->readable() : 0;
  }
  auto at_eof() const noexcept -> bool {
    const auto* c = get();
    return c && c->at_eof();
  }

  // --- calls that may make the connection send: each marks it for the next poll()
  /// SEND (RFC 9293 §3.10.2): queues what fits; returns the count (marked when not 0).
  auto send(bytes_view data) -> std::size_t {
    auto* c = mut();
    return c ? mark_if(c->send(data)) : 0;
  }
  /// RECEIVE (§3.10.3): moves readable bytes to `out`; returns the count. When it is not 0
  /// the window opened, and the next poll() may say so.
  auto recv(bytes_mut out) -> std::size_t {
    auto* c = mut();
    return c ? mark_if(c->recv(out)) : 0;
  }
  /// Half-close: our FIN after the queued data.
  void shutdown_write(instant now) {
    act([&](connection_type& c) { c.shutdown_write(now); });
  }
  /// CLOSE (§3.10.4).
  void close(instant now) {
    act([&](connection_type& c) { c.close(now); });
  }
  /// ABORT (§3.10.5): a RST, and the connection is CLOSED.
  void abort(instant now) {
    act([&](connection_type& c) { c.abort(now); });
  }
  void set_nodelay(bool on) {
    act([&](connection_type& c) { c.set_nodelay(on); });
  }
  void set_keepalive(bool on, instant now) {
    act([&](connection_type& c) { c.set_keepalive(on, now); });
  }

  // --- direct placement (connection::post_read): nothing to send either way
  void post_read(bytes_mut out) noexcept {
    if (auto* c = mut()) c->post_read(out);
  }
  auto take_placed() noexcept -> std::size_t {
    auto* c = mut();
    return c ? c->take_placed() : 0;
  }

  /// Lets go of the connection (layer::release): an open one closes in the background. The
  /// handle (and every copy of it) names nothing afterwards.
  void release(instant now) {
    if (auto* c = mut()) (void)c->take_placed(); // no pointer into a reader's buffer outlives it
    if (m_layer) m_layer->release(now, m_id);
  }

private:
  auto mut() const noexcept -> connection_type* { return m_layer ? m_layer->find(m_id) : nullptr; }
  auto mark_if(std::size_t n) -> std::size_t {
    if (n > 0) m_layer->touch(m_id);
    return n;
  }
  template <class F>
  void act(F&& f) {
    if (auto* c = mut()) {
      f(*c);
      m_layer->touch(m_id);
    }
  }

  layer_type* m_layer = nullptr;
  conn_id m_id;
};

template <class P>
handle(layer<P>&, conn_id) -> handle<P>;

} // namespace synack::tcp
