// synack/tcp/layer.hpp: all TCP connections of one host, sans-IO.
//
// The layer owns the connections and the listeners:
//   - demultiplexing by 4-tuple in a hash table keyed with the stack's secret (SipHash), so a
//     peer cannot choose tuples that collide; listeners by port;
//   - RFC 9293 §3.10.7.1: a segment for no connection gets the prescribed RST;
//   - passive opens: one connection per SYN, in LISTEN then SYN_RCVD, counted against the
//     listener's SYN backlog; once ESTABLISHED it waits in the listener's accept queue
//     (bounded by the backlog given to listen());
//   - RFC 4987 SYN cookies when the SYN backlog (or the connection limit) is full;
//   - active opens with RFC 6528 ISNs and RFC 6056 ephemeral ports;
//   - one timer per connection in a heap, re-armed lazily (a deadline that moves later is
//     left in place and re-armed when it comes up), so restarting the retransmission timer on
//     every ACK costs nothing here;
//   - bounded everything: connections, SYN backlog, accept queues, the queue of stateless
//     replies (RSTs and cookie SYN-ACKs), orphans (released connections still closing).
//
// Driving it: on_segment(now, ...) for each arriving segment, on_timeout(now) when
// next_deadline() passes, and poll(now, emit) once per turn: it sends what the touched
// connections want to send and reports their events (data, space, connected, closed) to the
// event sink. Application calls (send, recv, close on a connection from find()) must be
// followed by touch(id), so the next poll sees them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "synack/tcp/connection.hpp"
#include "synack/tcp/handshake.hpp"
#include "synack/tcp/isn.hpp"
#include "synack/tcp/port_allocator.hpp"
#include "synack/tcp/syn_cookie.hpp"
#include "synack/time/timer_heap.hpp"
#include "synack/util/expected.hpp"
#include "synack/util/siphash.hpp"

namespace synack::tcp {

struct layer_config {
  /// Settings of every new connection (the stack sets mss from the interface MTU).
  tcp::config connection;
  /// All connections in any state, orphans in TIME_WAIT included.
  std::size_t max_connections = 65536;
  /// SYN_RCVD connections per listener; beyond it, SYNs are answered with cookies.
  std::size_t max_syn_backlog = 256;
  /// RFC 4987: answer SYNs statelessly when the SYN backlog is full. Off: such SYNs are dropped.
  bool syn_cookies = true;
  syn_cookie_config cookies;
  /// Ephemeral ports for connect() (RFC 6056 §2.1 suggests 49152-65535).
  port_range ephemeral_ports{};
  /// Stateless replies (RSTs, cookie SYN-ACKs) queued between two polls; more are dropped.
  std::size_t max_pending_replies = 1024;
  /// Orphans (connections the application released that are still closing, TIME_WAIT not
  /// included) at most; when one more would exceed it, the oldest orphan is reset first
  /// (counters::orphans_dropped), so a peer that keeps windows closed (Sockstress) cannot pin
  /// every connection slot. 0: half of max_connections, as Linux's tcp_max_orphans is half its
  /// connection hash. Each orphan is also bounded in time (tcp::config::orphan_retries).
  std::size_t max_orphans = 0;
};

/// A connection of the layer: its slot and the slot's generation (a stale id finds nothing).
struct conn_id {
  static constexpr std::uint32_t invalid = 0xffffffffu;
  std::uint32_t slot = invalid;
  std::uint32_t generation = 0;
  explicit operator bool() const noexcept { return slot != invalid; }
  friend constexpr auto operator==(conn_id, conn_id) noexcept -> bool = default;
};

/// A listener of the layer.
struct listener_id {
  static constexpr std::uint32_t invalid = 0xffffffffu;
  std::uint32_t index = invalid;
  std::uint32_t generation = 0;
  explicit operator bool() const noexcept { return index != invalid; }
  friend constexpr auto operator==(listener_id, listener_id) noexcept -> bool = default;
};

/// Hashes a 4-tuple with a secret key: lookups stay O(1) whatever tuples a peer sends.
struct keyed_tuple_hash {
  siphash_key key;
  auto operator()(const four_tuple& t) const noexcept -> std::size_t {
    return static_cast<std::size_t>(detail::hash_tuple(key, 'H', t.local, t.remote).finish());
  }
};

/// `c` with its connections' derived settings filled in (tcp::with_defaults).
inline auto with_defaults(layer_config c) noexcept -> layer_config {
  c.connection = with_defaults(c.connection);
  return c;
}

template <class Policies = default_policies>
class layer {
public:
  using connection_type = connection<Policies>;
  /// Called from poll() for each connection the application holds whose events changed:
  /// (context, id, events, the pointer given to set_user()).
  using event_sink = void (*)(void* context, conn_id id, event_set events, void* user);
  /// Called from poll() when a listener's accept queue becomes non-empty: (context, id, user).
  using accept_sink = void (*)(void* context, listener_id id, void* user);

  layer(const layer_config& cfg, const siphash_key& secret)
      : m_cfg(with_defaults(cfg)),
        m_isn(secret),
        m_ports(secret, cfg.ephemeral_ports),
        m_cookies(secret, cfg.cookies),
        m_by_tuple(64, keyed_tuple_hash{secret}) {
    // The challenge-ACK budget's randomness must be unknown to a peer (CVE-2016-5696).
    m_shared.challenge_rng = detail::hash_tuple(secret, 'C', {}, {}).finish();
  }

  layer(const layer&) = delete;
  auto operator=(const layer&) -> layer& = delete;

  auto config() const noexcept -> const layer_config& { return m_cfg; }
  auto shared() noexcept -> shared_context& { return m_shared; }
  auto stats() const noexcept -> const counters& { return m_shared.stats; }
  /// Connections in any state (including orphans finishing their close, and CLOSED ones the
  /// application has not released yet).
  auto connection_count() const noexcept -> std::size_t { return m_slots.size() - m_free.size(); }
  /// Orphans: connections released by the application and still closing (not in TIME_WAIT).
  auto orphan_count() const noexcept -> std::size_t { return m_orphans; }

  void set_event_sink(event_sink sink, void* context) noexcept {
    m_event_sink = sink;
    m_event_context = context;
  }
  void set_accept_sink(accept_sink sink, void* context) noexcept {
    m_accept_sink = sink;
    m_accept_context = context;
  }

  // ---------------------------------------------------------------------------------------
  // The application's side

  /// Passive OPEN on `local` (an unspecified address listens on every address of ours).
  /// `backlog`: established connections waiting for accept(), at most.
  auto listen(wire::endpoint local, std::size_t backlog) -> expected<listener_id, std::errc> {
    if (local.port == 0) return unexpected{std::errc::invalid_argument};
    if (m_listener_by_port.contains(local.port)) return unexpected{std::errc::address_in_use};
    std::uint32_t index = 0;
    while (index < m_listeners.size() && m_listeners[index].active) ++index;
    if (index == m_listeners.size()) m_listeners.emplace_back();
    auto& l = m_listeners[index];
    l.active = true;
    ++l.generation;
    l.local = local;
    l.backlog = std::clamp<std::size_t>(backlog, 1, 65535);
    l.embryos = 0;
    l.ready.clear();
    l.user = nullptr;
    m_listener_by_port[local.port] = index;
    return listener_id{index, l.generation};
  }

  /// Stops listening: connections not yet accepted are reset.
  void unlisten(instant now, listener_id id) {
    auto* l = find_listener(id);
    if (!l) return;
    for (auto& s : m_slots) {
      if (s && s->conn && s->listener == id.index) {
        s->conn->abort(now);
        s->listener = conn_id::invalid;
        mark_dirty(*s);
      }
    }
    l->ready.clear();
    l->active = false;
    m_listener_by_port.erase(l->local.port);
  }

  /// An established connection from the accept queue, if any. The application now holds it
  /// and must release() it when done.
  auto accept(listener_id id) -> std::optional<conn_id> {
    auto* l = find_listener(id);
    if (!l) return std::nullopt;
    while (!l->ready.empty()) {
      const auto index = l->ready.front();
      l->ready.pop_front();
      auto& s = *m_slots[index];
      s.queued = false;
      s.listener = conn_id::invalid;
      if (!s.conn) continue;
      s.held = true;
      return conn_id{index, s.generation};
    }
    return std::nullopt;
  }
  auto pending_accepts(listener_id id) const noexcept -> std::size_t {
    const auto* l = find_listener(id);
    return l ? l->ready.size() : 0;
  }
  void set_listener_user(listener_id id, void* user) noexcept {
    if (auto* l = find_listener(id)) l->user = user;
  }

  /// Active OPEN from `local_addr` to `remote`. Port 0 picks an ephemeral port (RFC 6056).
  /// Errors: address_in_use (the 4-tuple exists), address_not_available (no free port),
  /// no_buffer_space (the connection limit).
  auto connect(instant now, wire::ipv4_address local_addr, wire::endpoint remote, std::uint16_t local_port = 0,
               const tcp::config* settings = nullptr) -> expected<conn_id, std::errc> {
    if (remote.port == 0 || remote.addr.is_unspecified()) return unexpected{std::errc::invalid_argument};
    if (connection_count() >= m_cfg.max_connections) return unexpected{std::errc::no_buffer_space};
    if (local_port == 0) {
      auto port = m_ports.allocate(local_addr, remote, [&](std::uint16_t p) {
        return m_by_tuple.contains(four_tuple{{local_addr, p}, remote}) || m_listener_by_port.contains(p);
      });
      if (!port) return unexpected{std::errc::address_not_available};
      local_port = *port;
    } else if (m_by_tuple.contains(four_tuple{{local_addr, local_port}, remote})) {
      return unexpected{std::errc::address_in_use};
    }
    const four_tuple t{{local_addr, local_port}, remote};
    auto& s = new_slot(t, now, settings);
    s.conn->open(now);
    s.held = true;
    mark_dirty(s);
    return conn_id{s.index, s.generation};
  }

  /// The connection behind `id`, or nullptr when the id is stale.
  auto find(conn_id id) noexcept -> connection_type* {
    if (id.slot >= m_slots.size() || !m_slots[id.slot]) return nullptr;
    auto& s = *m_slots[id.slot];
    return s.generation == id.generation && s.conn ? &*s.conn : nullptr;
  }
  void set_user(conn_id id, void* user) noexcept {
    if (find(id)) m_slots[id.slot]->user = user;
  }

  /// After an application call on the connection: the next poll sends what it wants to.
  void touch(conn_id id) {
    if (find(id)) mark_dirty(*m_slots[id.slot]);
  }

  /// The application lets go of the connection (`id` is stale from now on). An open one is
  /// closed gracefully (FIN) and finishes in the background, as an orphan, bounded by the
  /// timers (connection::orphan(): config::orphan_retries) and in number (max_orphans); a
  /// closed one is freed.
  void release(instant now, conn_id id) {
    auto* c = find(id);
    if (!c) return;
    auto& s = *m_slots[id.slot];
    s.held = false;
    s.user = nullptr;
    if (c->state() != tcp::state::closed) {
      // CLOSE (RFC 9293 §3.10.4) unless the close is already under way. After a half-close
      // (FIN_WAIT_1/2) it still matters: the full close starts the FIN_WAIT_2 timeout, without
      // which an orphan whose peer never sends its FIN would live forever.
      if (in_state(c->state(), tcp::state::syn_sent | tcp::state::syn_received | tcp::state::established |
                                   tcp::state::close_wait | tcp::state::fin_wait_1 | tcp::state::fin_wait_2))
        c->close(now);
      ++s.generation; // an orphan: the application's id finds nothing any more
      mark_dirty(s);
      c->orphan();
      if (!in_state(c->state(), tcp::state::closed | tcp::state::time_wait)) add_orphan(s);
    } else if (c->wants_poll()) {
      ++s.generation;
      mark_dirty(s); // a RST is still to be sent: poll() frees it afterwards
    } else {
      free_slot(s);
    }
  }

  // ---------------------------------------------------------------------------------------
  // The network's side

  /// A segment from `src` to `dst` arrived (its checksum was verified by the IP layer).
  void on_segment(instant now, wire::ipv4_address src, wire::ipv4_address dst, const wire::tcp_repr& seg) {
    using wire::tcp_flag;
    const four_tuple t{{dst, seg.dst_port}, {src, seg.src_port}};
    auto index = lookup(t);
    if (index && m_slots[*index]->conn->state() == tcp::state::closed) {
      // RFC 9293 §3.10.7.1: a CLOSED connection has no TCB ("delete the TCB"); one the
      // application still holds (to read its error) must not answer for the 4-tuple, or a new
      // SYN from the same port would get its RST instead of reaching the listener.
      unindex(*m_slots[*index]);
      index.reset();
    }
    if (index) {
      auto& s = *m_slots[*index];
      auto& c = *s.conn;
      // RFC 9293 §3.10.7.4 (TIME-WAIT) with RFC 6191 / RFC 1122 §4.2.2.13: a new SYN for a
      // 4-tuple in TIME_WAIT may start a new connection when its sequence number is beyond the
      // old connection's (so no old duplicate can be mistaken for new data).
      const bool reopen = c.state() == tcp::state::time_wait && seg.flags.has(tcp_flag::syn) &&
                          !seg.flags.has(tcp_flag::ack) && seg.seq > c.tcb().rcv_nxt &&
                          listener_for(dst, seg.dst_port) != nullptr;
      if (!reopen) {
        c.on_segment(now, seg);
        mark_dirty(s);
        return;
      }
      // RFC 1122 §4.2.2.13 (1): the new incarnation "assigns its initial sequence number for
      // the new connection to be larger than the largest sequence number it used on the
      // previous connection incarnation". The clock-driven ISN (RFC 6528) usually is, but not
      // when the old connection sent faster than the 4 µs clock ran: then, like Linux, start
      // a window's worth beyond the old SND.NXT.
      const auto old_snd_nxt = c.tcb().snd_nxt;
      free_slot(s);
      auto* l = listener_for(dst, seg.dst_port);
      on_listener_segment(now, *l, t, seg, old_snd_nxt);
      return;
    }
    auto* l = listener_for(dst, seg.dst_port);
    if (!l) {
      ++m_shared.stats.no_port;
      ++m_shared.stats.in_segs;
      queue_reset(dst, src, seg);
      return;
    }
    on_listener_segment(now, *l, t, seg);
  }

  /// An ICMP error quoted a TCP segment we sent from `local` to `remote` with sequence number
  /// `seq` (see connection::on_icmp_error for what it does). Returns whether it was acted on.
  auto on_icmp_error(instant now, wire::endpoint local, wire::endpoint remote, seq_number seq,
                     typename connection_type::icmp_error_kind kind, std::uint16_t next_hop_mtu) -> bool {
    auto it = m_by_tuple.find(four_tuple{local, remote});
    if (it == m_by_tuple.end()) return false;
    auto& s = *m_slots[it->second];
    if (!s.conn || !s.conn->on_icmp_error(now, kind, seq, next_hop_mtu)) return false;
    mark_dirty(s);
    return true;
  }

  /// Runs the connection timers due at `now`.
  void on_timeout(instant now) {
    m_heap.expire(now); // the callbacks collect the slots in m_expired
    for (const auto index : m_expired) {
      auto& s = *m_slots[index];
      if (!s.conn) continue;
      s.conn->on_timeout(now);
      mark_dirty(s);
    }
    m_expired.clear();
  }

  /// The next connection deadline, if any.
  auto next_deadline() const noexcept -> std::optional<instant> { return m_heap.earliest(); }
  /// Whether poll() has work (touched connections or stateless replies).
  auto has_pending() const noexcept -> bool { return !m_dirty.empty() || !m_replies.empty(); }

  /// Sends what the touched connections want to send, through `emit(src, dst, const
  /// tx_segment&) -> bool` (false: no buffer now; the connection is polled again next time),
  /// reports their events and re-arms their timers. Frees connections that reached CLOSED
  /// with nobody holding them.
  template <class Emit>
  void poll(instant now, Emit&& emit) {
    if (!send_replies(emit)) return;
    // The event sink runs from here, and what the application does in it (a send waiting for
    // space queues more data, a close) touches connections again. Poll those too, a few rounds
    // at most, so their segments leave now: with nothing in flight, the next poll could be far
    // away (the next packet or timer of any connection).
    constexpr int max_rounds = 4;
    for (int round = 0; round < max_rounds && !m_dirty.empty(); ++round) {
      bool refused_any = false;
      m_polling.swap(m_dirty);
      for (const auto index : m_polling) {
        auto& s = *m_slots[index];
        s.dirty = false;
        if (!s.conn) continue;
        auto& c = *s.conn;
        bool refused = false;
        c.poll_transmit(now, [&](const tx_segment& seg) {
          if (emit(c.tuple().local.addr, c.tuple().remote.addr, seg)) return true;
          refused = true;
          return false;
        });
        after_activity(now, s);
        if (refused && s.conn) mark_dirty(s);
        refused_any = refused_any || refused;
      }
      m_polling.clear();
      if (refused_any) break; // no buffer now: the rest waits for the next poll
    }
    // Replies queued by the connections just polled (a RST for an accept queue that filled
    // up during the handshake) leave now, not whenever the next poll happens.
    (void)send_replies(emit);
  }

private:
  struct slot : timer_node {
    layer* owner = nullptr;
    std::uint32_t index = 0;
    std::uint32_t generation = 0;
    // The list of orphans, oldest first (add_orphan): neighbours' indexes, or conn_id::invalid.
    bool orphan = false;
    std::uint32_t orphan_prev = conn_id::invalid;
    std::uint32_t orphan_next = conn_id::invalid;
    std::optional<connection_type> conn;
    std::uint32_t listener = conn_id::invalid; // passive and not yet accepted: its listener
    void* user = nullptr;
    bool dirty = false;
    bool held = false;    // the application holds an id
    bool queued = false;  // waiting in its listener's accept queue
    bool indexed = false; // in m_by_tuple (a CLOSED connection the application holds is not)

    slot() : timer_node(&on_timer) {}
    static void on_timer(timer_node& n) {
      auto& s = static_cast<slot&>(n);
      s.owner->m_expired.push_back(s.index);
    }
  };

  struct listener_entry {
    bool active = false;
    std::uint32_t generation = 0;
    wire::endpoint local;
    std::size_t backlog = 0;
    std::size_t embryos = 0;         // SYN_RCVD connections
    std::deque<std::uint32_t> ready; // established, not accepted yet
    void* user = nullptr;
  };

  struct reply {
    wire::ipv4_address src;
    wire::ipv4_address dst;
    wire::tcp_repr repr;
  };

  /// Sends the queued stateless replies; false when `emit` refused one (no buffer now).
  template <class Emit>
  auto send_replies(Emit& emit) -> bool {
    while (!m_replies.empty()) {
      const auto& r = m_replies.front();
      if (!emit(r.src, r.dst, tx_segment{r.repr, {}, false})) return false;
      if (r.repr.flags.has(wire::tcp_flag::rst)) ++m_shared.stats.out_rsts;
      m_replies.pop_front();
    }
    return true;
  }

  auto find_listener(listener_id id) noexcept -> listener_entry* {
    if (id.index >= m_listeners.size()) return nullptr;
    auto& l = m_listeners[id.index];
    return l.active && l.generation == id.generation ? &l : nullptr;
  }
  auto find_listener(listener_id id) const noexcept -> const listener_entry* {
    return const_cast<layer*>(this)->find_listener(id);
  }
  auto listener_for(wire::ipv4_address dst, std::uint16_t port) noexcept -> listener_entry* {
    auto it = m_listener_by_port.find(port);
    if (it == m_listener_by_port.end()) return nullptr;
    auto& l = m_listeners[it->second];
    if (!l.local.addr.is_unspecified() && l.local.addr != dst) return nullptr;
    return &l;
  }
  auto listener_index(const listener_entry& l) const noexcept -> std::uint32_t {
    return static_cast<std::uint32_t>(&l - m_listeners.data());
  }

  /// A slot with a new connection for `t`. `iss_above`: the ISS must be beyond this sequence
  /// number (a reopened TIME_WAIT, see on_segment).
  auto new_slot(const four_tuple& t, instant now, const tcp::config* settings = nullptr,
                std::optional<seq_number> iss_above = std::nullopt) -> slot& {
    std::uint32_t index;
    if (!m_free.empty()) {
      index = m_free.back();
      m_free.pop_back();
    } else {
      index = static_cast<std::uint32_t>(m_slots.size());
      m_slots.push_back(std::make_unique<slot>());
      m_slots.back()->owner = this;
      m_slots.back()->index = index;
    }
    auto& s = *m_slots[index];
    auto iss = m_isn(now, t.local, t.remote);
    if (iss_above && !(iss > *iss_above)) iss = *iss_above + 65535 + 2;
    s.conn.emplace(m_shared, settings ? *settings : m_cfg.connection, t, iss,
                   m_isn.timestamp_offset(t.local, t.remote));
    s.listener = conn_id::invalid;
    s.user = nullptr;
    s.held = false;
    s.queued = false;
    m_by_tuple.emplace(t, index);
    s.indexed = true;
    return s;
  }

  void free_slot(slot& s) {
    if (!s.conn) return;
    if (s.listener != conn_id::invalid) {
      auto& l = m_listeners[s.listener];
      if (s.queued) {
        std::erase(l.ready, s.index);
      } else if (l.embryos > 0) {
        --l.embryos;
      }
    }
    unindex(s);
    remove_orphan(s);
    m_heap.disarm(s);
    s.conn.reset();
    s.listener = conn_id::invalid;
    s.user = nullptr;
    s.held = false;
    s.queued = false;
    ++s.generation;
    m_free.push_back(s.index);
  }

  /// Removes the connection from the 4-tuple index (it stays in its slot).
  void unindex(slot& s) {
    if (!s.indexed) return;
    m_by_tuple.erase(s.conn->tuple());
    s.indexed = false;
    if (m_last_hit && m_last_hit->second == s.index) m_last_hit.reset();
  }

  /// The slot of the connection with 4-tuple `t`, if one is indexed. Header prediction's first
  /// half (RFC 9293 §3.10, Van Jacobson's "the segment is for the connection that got the last
  /// one"): a bulk transfer's segments all go to one connection, so the last hit is tried first
  /// and a keyed hash (SipHash) is computed only when the tuple changes.
  auto lookup(const four_tuple& t) -> std::optional<std::uint32_t> {
    if (m_last_hit && m_last_hit->first == t) return m_last_hit->second;
    const auto it = m_by_tuple.find(t);
    if (it == m_by_tuple.end()) return std::nullopt;
    m_last_hit.emplace(t, it->second);
    return it->second;
  }

  /// The orphan limit in force (layer_config::max_orphans).
  auto max_orphans() const noexcept -> std::size_t {
    return std::max<std::size_t>(m_cfg.max_orphans ? m_cfg.max_orphans : m_cfg.max_connections / 2, 1);
  }

  /// `s` just became an orphan: it joins the list (the newest), after the oldest orphans beyond
  /// the limit were reset. Oldest first: the orphans a peer has held longest (with windows kept
  /// closed, the likeliest to be stuck) are reclaimed, and a new orphan (often a response still
  /// draining) gets its chance. Linux resets the new one instead; either way the number is
  /// bounded.
  void add_orphan(slot& s) {
    if (s.orphan) return;
    while (m_orphans >= max_orphans() && m_orphan_head != conn_id::invalid) {
      auto& old = *m_slots[m_orphan_head];
      remove_orphan(old);
      if (!old.conn || in_state(old.conn->state(), tcp::state::closed | tcp::state::time_wait)) continue;
      old.conn->reset_orphan(); // RST now, CLOSED; poll() sends it and frees the slot
      mark_dirty(old);
    }
    s.orphan = true;
    s.orphan_prev = m_orphan_tail;
    s.orphan_next = conn_id::invalid;
    if (m_orphan_tail != conn_id::invalid)
      m_slots[m_orphan_tail]->orphan_next = s.index;
    else
      m_orphan_head = s.index;
    m_orphan_tail = s.index;
    ++m_orphans;
  }

  /// `s` is no orphan any more (freed, or it reached TIME_WAIT or CLOSED).
  void remove_orphan(slot& s) {
    if (!s.orphan) return;
    if (s.orphan_prev != conn_id::invalid)
      m_slots[s.orphan_prev]->orphan_next = s.orphan_next;
    else
      m_orphan_head = s.orphan_next;
    if (s.orphan_next != conn_id::invalid)
      m_slots[s.orphan_next]->orphan_prev = s.orphan_prev;
    else
      m_orphan_tail = s.orphan_prev;
    s.orphan = false;
    s.orphan_prev = s.orphan_next = conn_id::invalid;
    --m_orphans;
  }

  void mark_dirty(slot& s) {
    if (s.dirty) return;
    s.dirty = true;
    m_dirty.push_back(s.index);
  }

  /// After the connection did something: move a passive connection that just completed its
  /// handshake to the accept queue, free what is closed and unheld, report events, re-arm.
  void after_activity(instant now, slot& s) {
    auto& c = *s.conn;
    const auto events = c.take_events();
    if (s.listener != conn_id::invalid && !s.queued && has(events, event::connected)) {
      auto& l = m_listeners[s.listener];
      if (l.embryos > 0) --l.embryos;
      if (l.ready.size() >= l.backlog) {
        // The accept queue filled up during the handshake: refuse the connection.
        ++m_shared.stats.listen_drops;
        c.abort(now);
        (void)c.poll_transmit(now, [&](const tx_segment& seg) {
          queue_reply(c.tuple().local.addr, c.tuple().remote.addr, seg.repr);
          return true;
        });
        s.listener = conn_id::invalid;
      } else {
        s.queued = true;
        l.ready.push_back(s.index);
        if (m_accept_sink) m_accept_sink(m_accept_context, listener_id{s.listener, l.generation}, l.user);
      }
    }
    // An orphan in TIME_WAIT is bounded by 2*MSL and holds no buffers: no longer counted.
    if (s.orphan && c.state() == tcp::state::time_wait) remove_orphan(s);
    if (c.state() == tcp::state::closed) {
      if (!s.held) {
        free_slot(s);
        return;
      }
      unindex(s); // held for its error and data only: the 4-tuple is free (see on_segment)
    }
    if (events != 0 && s.held && m_event_sink)
      m_event_sink(m_event_context, conn_id{s.index, s.generation}, events, s.user);
    if (!s.conn) return; // the sink released it
    // Lazy re-arm: only an earlier deadline moves the heap entry.
    if (const auto d = c.next_deadline()) {
      if (!s.armed() || *d < s.deadline()) m_heap.arm(s, *d);
    }
  }

  void on_listener_segment(instant now, listener_entry& l, const four_tuple& t, const wire::tcp_repr& seg,
                           std::optional<seq_number> iss_above = std::nullopt) {
    using wire::tcp_flag;
    ++m_shared.stats.in_segs;
    // §3.10.7.2 LISTEN (check_listen in tcp/handshake.hpp; the connection runs it too).
    switch (check_listen(seg)) {
      case listen_action::drop:
        return;
      case listen_action::reset:
        // Maybe the final ACK of a handshake we answered with a cookie.
        if (!seg.flags.has(tcp_flag::syn) && cookies_recently_sent(now) && accept_cookie(now, l, t, seg)) return;
        // "second check for an ACK ... <SEQ=SEG.ACK><CTL=RST>"
        queue_reset(t.local.addr, t.remote.addr, seg);
        return;
      case listen_action::syn:
        break;
    }
    if (l.ready.size() >= l.backlog) {
      // The accept queue is full: drop the SYN (the peer retries), as Linux does.
      ++m_shared.stats.listen_drops;
      return;
    }
    if (l.embryos >= m_cfg.max_syn_backlog || connection_count() >= m_cfg.max_connections) {
      if (m_cfg.syn_cookies)
        send_cookie(now, t, seg);
      else
        ++m_shared.stats.listen_drops;
      return;
    }
    auto& s = new_slot(t, now, nullptr, iss_above);
    s.listener = listener_index(l);
    ++l.embryos;
    s.conn->listen();
    // The connection counts this segment itself; undo the layer's count.
    --m_shared.stats.in_segs;
    s.conn->on_segment(now, seg);
    mark_dirty(s);
  }

  /// RFC 4987 §3.6: answer the SYN statelessly; the ISS encodes what the final ACK must prove.
  void send_cookie(instant now, const four_tuple& t, const wire::tcp_repr& syn) {
    const auto& cfg = m_cfg.connection;
    // What a connection would agree on (tcp/handshake.hpp); the cookie keeps it.
    const auto peer = negotiate_syn(cfg, syn.options);
    const auto mss = std::min(peer.peer_mss, cfg.mss);
    const bool ts = peer.timestamps;
    // Without timestamps the cookie cannot remember window scale or SACK, so we offer them
    // only with timestamps (RFC 7323: scaling is off unless both SYNs carry the option).
    cookie_ts_options opts;
    if (ts && peer.window_scaling) opts.window_scale = peer.snd_wscale;
    opts.sack_permitted = ts && peer.sack;
    std::optional<std::uint32_t> ts_now;
    if (ts) ts_now = static_cast<std::uint32_t>(now.millis()) + m_isn.timestamp_offset(t.local, t.remote);
    auto cookie = m_cookies.make(now, t.local, t.remote, syn.seq, mss, ts_now, opts);
    if (!cookie) {
      ++m_shared.stats.listen_drops;
      return;
    }
    wire::tcp_repr r{};
    r.src_port = t.local.port;
    r.dst_port = t.remote.port;
    r.seq = cookie->isn;
    r.ack = syn.seq + 1;
    r.flags = wire::tcp_flag::syn | wire::tcp_flag::ack;
    r.window = syn_window(cfg.recv_buffer);
    r.options = syn_options(
        cfg, opts.window_scale.has_value(), opts.sack_permitted,
        ts ? std::optional{wire::tcp_timestamps{*cookie->tsval, syn.options.timestamps->tsval}} : std::nullopt);
    if (queue_reply(t.local.addr, t.remote.addr, r)) {
      ++m_shared.stats.syn_cookies_sent;
      m_last_cookie = now;
      m_cookies_used = true;
    }
  }

  auto accept_cookie(instant now, listener_entry& l, const four_tuple& t, const wire::tcp_repr& ack) -> bool {
    std::optional<std::uint32_t> tsecr;
    if (ack.options.timestamps) tsecr = ack.options.timestamps->tsecr;
    auto st = m_cookies.check(now, t.local, t.remote, ack.seq, ack.ack, tsecr);
    if (!st) {
      ++m_shared.stats.syn_cookies_failed;
      return false;
    }
    if (l.ready.size() >= l.backlog || connection_count() >= m_cfg.max_connections) {
      ++m_shared.stats.listen_drops;
      return true; // valid, but no room: drop the ACK; the peer will retransmit
    }
    ++m_shared.stats.syn_cookies_ok;
    auto& s = new_slot(t, now);
    s.listener = listener_index(l);
    ++l.embryos; // after_activity moves it to the accept queue
    s.conn->accept_cookie(now, ack, st->mss, st->timestamps, st->options.window_scale, st->options.sack_permitted);
    mark_dirty(s);
    return true;
  }

  auto cookies_recently_sent(instant now) const noexcept -> bool {
    return m_cookies_used && now - m_last_cookie <= m_cfg.cookies.period * m_cfg.cookies.max_age;
  }

  void queue_reset(wire::ipv4_address local, wire::ipv4_address remote, const wire::tcp_repr& seg) {
    if (auto r = reset_reply_for(seg)) queue_reply(local, remote, *r);
  }
  auto queue_reply(wire::ipv4_address src, wire::ipv4_address dst, const wire::tcp_repr& r) -> bool {
    if (m_replies.size() >= m_cfg.max_pending_replies) return false;
    m_replies.push_back(reply{src, dst, r});
    return true;
  }

  layer_config m_cfg;
  shared_context m_shared;
  isn_generator m_isn;
  port_allocator m_ports;
  syn_cookies m_cookies;
  std::vector<std::unique_ptr<slot>> m_slots;
  std::vector<std::uint32_t> m_free;
  std::unordered_map<four_tuple, std::uint32_t, keyed_tuple_hash> m_by_tuple;
  std::optional<std::pair<four_tuple, std::uint32_t>> m_last_hit; // lookup()'s cache: always indexed
  std::vector<listener_entry> m_listeners;
  std::unordered_map<std::uint16_t, std::uint32_t> m_listener_by_port;
  timer_heap m_heap;
  std::vector<std::uint32_t> m_expired;
  std::vector<std::uint32_t> m_dirty;
  std::vector<std::uint32_t> m_polling;
  std::deque<reply> m_replies;
  event_sink m_event_sink = nullptr;
  void* m_event_context = nullptr;
  accept_sink m_accept_sink = nullptr;
  void* m_accept_context = nullptr;
  instant m_last_cookie;
  bool m_cookies_used = false;
  // Orphans, oldest first (add_orphan): a list through the slots.
  std::uint32_t m_orphan_head = conn_id::invalid;
  std::uint32_t m_orphan_tail = conn_id::invalid;
  std::size_t m_orphans = 0;
};

} // namespace synack::tcp
