// synack/socket/stack.hpp: the socket API over a host, driven on a scheduler.
//
//   synack::event_loop loop;                                     // or sim_scheduler, sim_loop
//   auto tun = synack::link::tun::open(loop, {});                // or af_packet, link::sim_link
//   synack::stack<synack::link::tun> net{loop, std::move(*tun), {.address = ...}};
//   auto s = co_await net.connect({ip, port});
//
// The protocols live in the sans-IO host (host/host.hpp): Ethernet and ARP on Ethernet links,
// IPv4 with ICMP, TCP. The stack is a thin driver that feeds it from a link on a scheduler:
//   receive:  the link hands each packet to on_packet() (from the loop's completion walk, or a
//             simulated wire's timer); the host takes it and answers what cannot wait.
//   per turn: a turn hook runs once per scheduler turn, after the ready coroutines: the host
//             polls what the connections send (their events wake the coroutines waiting on
//             the streams), the link flushes (one batch per turn), and one timer is armed for
//             the host's next deadline.
// It needs only what any scheduler offers (now, turn hooks, timers: core/scheduler.hpp): on
// the io_uring event_loop it runs over tun or AF_PACKET; on sim_scheduler, over link::sim_link
// in virtual time, with no io_uring and no privileges (examples/loopback.cpp).
// Composition: `stack<Link, Policies>`; Policies is the TCP policy bundle (tcp/policies.hpp),
// so `stack<link::tun, tcp::cubic_policies>` swaps the congestion control in one place.
#pragma once

#include <sys/random.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>

#include <fmt/format.h>

#include "synack/core/scheduler.hpp"
#include "synack/core/timer.hpp"
#include "synack/host/host.hpp"
#include "synack/link/link.hpp"
#include "synack/socket/errors.hpp"
#include "synack/socket/tcp_listener.hpp"
#include "synack/socket/tcp_stream.hpp"
#include "synack/tcp/handle.hpp"
#include "synack/util/siphash.hpp"

namespace synack {

/// A stack's settings. Each has one place: TCP's (buffers, MSS, timers, limits) are in `tcp`.
struct stack_options {
  /// Our address and network (192.0.2.2/24).
  wire::ipv4_cidr address{wire::ipv4_address{192, 0, 2, 2}, 24};
  /// Where packets for other networks go.
  std::optional<wire::ipv4_address> gateway;
  /// IP MTU; 0 takes the link's. Larger than the link's is an error.
  std::size_t mtu = 0;
  /// TCP: the connection limit, SYN backlog, cookies, and each connection's settings
  /// (`tcp.connection`: send and receive buffers, MSS, timers, options).
  tcp::layer_config tcp{};
  /// Answer pings.
  bool answer_ping = true;
  /// Ethernet links: our MAC address (default: the link's own when it has a mac(), else
  /// 02:00:00:00:00:02).
  std::optional<wire::mac_address> mac;
  /// Print each connection state change (the tracer link decorator prints the segments).
  bool trace = false;
  std::FILE* trace_file = stderr;
  /// The secret behind ISNs, ephemeral ports, SYN cookies and the connection table's hash.
  /// Default: 16 random bytes from getrandom(2).
  std::optional<siphash_key> secret;
};

namespace detail {
class connect_op;
}

template <link::link Link, class Policies = tcp::default_policies>
class stack final : private detail::stream_service {
public:
  using link_type = Link;
  using host_type = synack::host<Policies>;
  using tcp_layer = tcp::layer<Policies>;

  /// Throws std::invalid_argument when the options conflict (an MTU larger than the link's, an
  /// MSS the MTU cannot carry).
  stack(scheduler& sched, Link link, const stack_options& options = {})
      : m_sched(&sched),
        m_link(std::forward<Link>(link)),
        m_options(options),
        m_host(host_config_for(options, m_link), options.secret.value_or(random_key())),
        m_hook(this),
        m_timer(this) {
    auto& t = m_host.tcp();
    t.set_event_sink(&on_stream_events, this);
    t.set_accept_sink(&on_listener_ready, this);
    if (m_options.trace) {
      t.shared().on_state_change = &trace_state;
      t.shared().observer = this;
    }
    m_sched->add_turn_hook(m_hook);
    m_link.start(link::rx_handler{&on_packet_thunk, this});
  }

  stack(const stack&) = delete;
  auto operator=(const stack&) -> stack& = delete;

  /// Streams, listeners and connect operations may outlive the stack: they are detached first,
  /// while the connections still exist, and what waits on them completes with not_connected
  /// through the scheduler's ready queue, never from inside this destructor
  /// (detail/socket_op.hpp, docs/api.md "Lifetimes"). The peers are not told (no RST): the
  /// link stops with the stack.
  ~stack() override {
    detach_all();
    m_hook.remove();
    m_sched->disarm(m_timer);
    m_link.stop();
  }

  // ---------------------------------------------------------------------------------------
  // The socket API

  /// Active open to `remote` (RFC 9293 §3.10.1): completes once the connection is
  /// ESTABLISHED, or with connection_refused, timed_out, network_unreachable, ...
  auto connect(wire::endpoint remote, std::stop_token token = {}) -> detail::connect_op;
  auto connect(wire::endpoint remote, const stream_options& opts, std::stop_token token = {}) -> detail::connect_op;

  /// Passive open on `port` (any of our addresses) with room for `backlog` connections
  /// waiting to be accepted.
  auto listen(std::uint16_t port, std::size_t backlog = 128) -> result<tcp_listener> {
    auto id = m_host.tcp().listen(wire::endpoint{wire::ipv4_address{}, port}, backlog);
    if (!id) return unexpected(make_error(id.error()));
    return tcp_listener{std::make_unique<detail::listener_state>(service(), *id), port};
  }

  // ---------------------------------------------------------------------------------------
  // Introspection

  /// The scheduler the stack runs on (an event_loop, a sim_scheduler, ...).
  auto loop() noexcept -> scheduler& { return *m_sched; }
  auto link() noexcept -> Link& { return m_link; }
  /// The sans-IO host: its layers, counters and configuration.
  auto host() noexcept -> host_type& { return m_host; }
  auto host() const noexcept -> const host_type& { return m_host; }
  auto ip() const noexcept -> const net::ipv4_interface& { return m_host.ip(); }
  /// The Ethernet + ARP layer of an Ethernet link (nullptr on an IP link such as tun).
  auto ethernet() const noexcept -> const net::ethernet_interface* { return m_host.ethernet(); }
  auto tcp() noexcept -> tcp_layer& { return m_host.tcp(); }
  auto address() const noexcept -> wire::ipv4_address { return m_host.address(); }
  auto options() const noexcept -> const stack_options& { return m_options; }

  /// Every counter of the stack, like `netstat -s`: f(layer, name, value).
  template <class F>
  void for_each_counter(F&& f) const {
    m_host.for_each_counter(f);
  }
  /// Prints the counters that are not zero, netstat -s style.
  void print_counters(std::FILE* out = stdout) const {
    for_each_counter([&](std::string_view layer, std::string_view name, std::uint64_t v) {
      if (v != 0) fmt::print(out, "{:>8}: {:>10} {}\n", layer, v, name);
    });
  }

private:
  friend class detail::connect_op;
  auto service() noexcept -> detail::stream_service& { return *this; }

  /// The host's configuration from the stack's options and the link: the link says what it
  /// carries and offers, the options what the user chose; where they conflict, the host's
  /// constructor says so.
  static auto host_config_for(const stack_options& o, const Link& l) -> host_config {
    host_config h;
    h.link = l.capabilities();
    h.ip.address = o.address;
    h.ip.gateway = o.gateway;
    if (o.mtu > 0xffff)
      throw std::invalid_argument(fmt::format("synack: the MTU {} is larger than IPv4 allows", o.mtu));
    h.ip.mtu = static_cast<std::uint16_t>(o.mtu != 0 ? o.mtu : std::min<std::size_t>(h.link.mtu, 0xffff));
    h.ip.answer_echo = o.answer_ping;
    h.tcp = o.tcp;
    if (h.link.medium == link::medium::ethernet) {
      if (o.mac) {
        h.mac = *o.mac;
      } else if constexpr (requires(const Link& x) { x.mac(); }) {
        h.mac = l.mac();
      } else {
        h.mac = net::ethernet_config{}.mac;
      }
    }
    return h;
  }
  static auto random_key() -> siphash_key {
    std::array<std::byte, 16> b{};
    std::size_t got = 0;
    while (got < b.size()) {
      const auto n = ::getrandom(b.data() + got, b.size() - got, 0);
      if (n <= 0) throw std::system_error(errno, std::generic_category(), "synack: getrandom");
      got += static_cast<std::size_t>(n);
    }
    return siphash_key::from_bytes(std::span<const std::byte, 16>{b});
  }

  // ---- receive path
  static void on_packet_thunk(void* self, bytes_view packet, const link::rx_meta& meta) {
    auto* s = static_cast<stack*>(self);
    s->m_host.receive(s->m_sched->now(), packet, meta, s->m_link);
  }

  // ---- once per turn
  /// The turn hook and the host's timer, each with a way back to the stack.
  struct stack_hook : turn_hook {
    explicit stack_hook(stack* s) noexcept : turn_hook(&run), self(s) {}
    static void run(turn_hook& h) { static_cast<stack_hook&>(h).self->on_turn(); }
    stack* self;
  };
  struct stack_timer : timer_node {
    explicit stack_timer(stack* s) noexcept : timer_node(&run), self(s) {}
    static void run(timer_node& n) {
      auto* s = static_cast<stack_timer&>(n).self;
      s->m_host.on_timeout(s->m_sched->now()); // ARP's timers run in the turn hook's poll, which follows
    }
    stack* self;
  };

  void on_turn() {
    const auto now = m_sched->now();
    m_host.poll_transmit(now, m_link);
    m_link.flush();
    if (const auto deadline = m_host.next_deadline()) {
      if (!m_timer.armed() || m_timer.deadline() != *deadline) m_sched->arm(m_timer, *deadline);
    } else {
      m_sched->disarm(m_timer);
    }
  }

  // ---- events from the TCP layer
  static void on_stream_events(void*, tcp::conn_id, tcp::event_set events, void* user) {
    if (user) static_cast<detail::stream_state*>(user)->notify(events);
  }
  static void on_listener_ready(void*, tcp::listener_id, void* user) {
    if (user) static_cast<detail::listener_state*>(user)->notify();
  }
  static void trace_state(void* self, const tcp::four_tuple& t, tcp::state from, tcp::state to) {
    auto* s = static_cast<stack*>(self);
    fmt::print(s->m_options.trace_file, "{} {} - {}  {} -> {}\n", s->m_sched->now(), t.local, t.remote, from, to);
  }

  // ---- detail::stream_service, each call through a tcp::handle (which marks the connection
  // for the next poll whenever the call may give it something to send)
  auto handle(tcp::conn_id id) noexcept -> tcp::handle<Policies> { return {m_host.tcp(), id}; }
  static auto ended(const typename tcp_layer::connection_type& c) -> std::error_code {
    const auto ec = to_error_code(c.last_error());
    return ec ? ec : make_error(std::errc::not_connected);
  }

  auto get_scheduler() noexcept -> scheduler& override { return *m_sched; }
  auto read(tcp::conn_id id, bytes_mut buf, bool post) -> detail::read_outcome override {
    auto h = handle(id);
    const auto* c = h.get();
    detail::read_outcome r;
    if (!c) {
      r.error = make_error(std::errc::not_connected);
      return r;
    }
    r.bytes = h.take_placed(); // placed bytes come first, in order
    r.bytes += h.recv(buf.subspan(r.bytes));
    if (r.bytes > 0) return r;
    if (c->at_eof()) {
      r.eof = true;
    } else if (c->state() == tcp::state::closed) {
      r.error = ended(*c);
    } else if (post && !buf.empty()) {
      h.post_read(buf);
    }
    return r;
  }
  auto take_placed(tcp::conn_id id) noexcept -> std::size_t override { return handle(id).take_placed(); }
  auto write(tcp::conn_id id, bytes_view data) -> expected<std::size_t, std::error_code> override {
    auto h = handle(id);
    const auto* c = h.get();
    if (!c) return unexpected(make_error(std::errc::not_connected));
    if (!c->can_send()) {
      const auto ec = to_error_code(c->last_error());
      return unexpected(ec ? ec : make_error(std::errc::broken_pipe));
    }
    return h.send(data);
  }
  auto status(tcp::conn_id id) noexcept -> detail::conn_status override {
    const auto* c = handle(id).get();
    if (!c) return {tcp::state::closed, make_error(std::errc::not_connected), false};
    return {c->state(), to_error_code(c->last_error()), c->can_send()};
  }
  void request(tcp::conn_id id, detail::conn_request r) override {
    using detail::conn_request;
    auto h = handle(id);
    const auto now = m_sched->now();
    switch (r) {
      case conn_request::shutdown:
        return h.shutdown_write(now);
      case conn_request::close:
        return h.close(now);
      case conn_request::abort:
        return h.abort(now);
      case conn_request::nodelay_on:
      case conn_request::nodelay_off:
        return h.set_nodelay(r == conn_request::nodelay_on);
      case conn_request::keepalive_on:
      case conn_request::keepalive_off:
        return h.set_keepalive(r == conn_request::keepalive_on, now);
    }
  }
  auto readable(tcp::conn_id id) noexcept -> std::size_t override { return handle(id).readable(); }
  auto info(tcp::conn_id id) noexcept -> connection_info override {
    connection_info i;
    const auto* c = handle(id).get();
    if (!c) return i;
    const auto o = c->options();
    const auto t = c->tcb();
    i.state = c->state();
    i.local = c->tuple().local;
    i.remote = c->tuple().remote;
    i.peer_mss = o.peer_mss;
    i.send_mss = o.send_mss;
    i.snd_wscale = o.snd_wscale;
    i.rcv_wscale = o.rcv_wscale;
    i.window_scaling = o.window_scaling;
    i.sack = o.sack;
    i.timestamps = o.timestamps;
    i.snd_wnd = t.snd_wnd;
    i.rcv_wnd = t.rcv_wnd;
    i.cwnd = t.cwnd;
    i.ssthresh = t.ssthresh;
    i.srtt = t.srtt;
    i.rto = t.rto;
    i.retransmissions = c->retransmissions();
    i.congestion = c->congestion().name();
    return i;
  }
  void attach(tcp::conn_id id, detail::stream_state* s) noexcept override { m_host.tcp().set_user(id, s); }
  void release(tcp::conn_id id) override { handle(id).release(m_sched->now()); }
  auto accept(tcp::listener_id id) -> std::optional<tcp::conn_id> override { return m_host.tcp().accept(id); }
  void close_listener(tcp::listener_id id) override { m_host.tcp().unlisten(m_sched->now(), id); }
  void attach_listener(tcp::listener_id id, detail::listener_state* s) noexcept override {
    m_host.tcp().set_listener_user(id, s);
  }

  scheduler* m_sched;
  Link m_link;
  stack_options m_options;
  host_type m_host;
  stack_hook m_hook;
  stack_timer m_timer;
};

} // namespace synack

namespace synack {

template <link::link Link, class Policies>
auto stack<Link, Policies>::connect(wire::endpoint remote, std::stop_token token) -> detail::connect_op {
  return connect(remote, stream_options{}, std::move(token));
}

template <link::link Link, class Policies>
auto stack<Link, Policies>::connect(wire::endpoint remote, const stream_options& opts, std::stop_token token)
    -> detail::connect_op {
  // RFC 1122 §3.3.1: a destination with no route fails at once.
  if (!m_host.ip().reachable(remote.addr))
    return detail::connect_op{service(), make_error(std::errc::network_unreachable)};
  auto& tcp = m_host.tcp();
  auto cfg = tcp.config().connection;
  if (opts.nodelay) cfg.nodelay = *opts.nodelay;
  if (opts.keepalive) cfg.keepalive = *opts.keepalive;
  if (opts.send_buffer) cfg.send_buffer = *opts.send_buffer;
  if (opts.recv_buffer) cfg.recv_buffer = *opts.recv_buffer;
  if (opts.congestion) cfg.congestion = *opts.congestion;
  auto id = tcp.connect(m_sched->now(), m_host.address(), remote, 0, &cfg);
  if (!id) return detail::connect_op{service(), make_error(id.error())};
  auto state = std::make_unique<detail::stream_state>(service(), *id);
  tcp.set_user(*id, state.get());
  return detail::connect_op{service(), std::move(state), std::move(token)};
}

} // namespace synack
