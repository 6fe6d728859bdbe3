// synack/socket/stack.hpp: a host's TCP/IPv4 stack on one event loop: the layers composed.
//
//   synack::event_loop loop;
//   auto tun = synack::link::tun::open(loop, {});                       // or af_packet, sim_link
//   synack::stack<synack::link::tun> net{loop, std::move(*tun), {.address = ...}};
//   auto s = co_await net.connect({ip, port});
//
// The stack owns its link, the IPv4 interface (net/ipv4.hpp) and the TCP layer
// (tcp/layer.hpp), and drives them:
//   receive:  the link hands each packet to on_packet() from the loop's completion walk;
//             IPv4 validates it; TCP segments go to the TCP layer, echo requests are answered
//             at once (one copy, straight into a transmit buffer).
//   per turn: a turn hook runs once per loop turn, after the ready coroutines: it polls the
//             TCP layer (segments written in place behind an IPv4 header in the link's
//             transmit buffers; events wake the coroutines waiting on the streams), flushes
//             the link (one batch per turn), and arms one loop timer for the earliest TCP
//             deadline.
// Composition: `stack<Link, Policies>`; Policies is the TCP policy bundle (tcp/policies.hpp),
// so `stack<link::tun, tcp::cubic_policies>` swaps the congestion control in one place.
// Links of medium::ethernet (AF_PACKET) go through net::ethernet_interface: Ethernet framing,
// ARP resolution of the next hop (net/ipv4's route()), a gratuitous ARP at start.
#pragma once

#include <sys/random.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <stop_token>
#include <variant>

#include <fmt/format.h>

#include "synack/core/scheduler.hpp"
#include "synack/core/timer.hpp"
#include "synack/link/link.hpp"
#include "synack/net/ethernet.hpp"
#include "synack/net/ipv4.hpp"
#include "synack/socket/errors.hpp"
#include "synack/socket/tcp_listener.hpp"
#include "synack/socket/tcp_stream.hpp"
#include "synack/tcp/layer.hpp"
#include "synack/util/siphash.hpp"

namespace synack {

struct stack_options {
  /// Our address and network (192.0.2.2/24).
  wire::ipv4_cidr address{wire::ipv4_address{192, 0, 2, 2}, 24};
  /// Where packets for other networks go.
  std::optional<wire::ipv4_address> gateway;
  /// IP MTU; 0 takes the link's.
  std::size_t mtu = 0;
  /// Default send and receive buffer of each connection, in bytes.
  std::uint32_t send_buffer = 256 * 1024;
  std::uint32_t recv_buffer = 256 * 1024;
  /// Everything else about TCP (connection limit, SYN backlog, cookies, timers, options).
  tcp::layer_config tcp{};
  /// Answer pings.
  bool answer_ping = true;
  /// Ethernet links: our MAC address (default: the link's own, when it has a mac()).
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
  using tcp_layer = tcp::layer<Policies>;

  stack(event_loop_base& loop, Link link, const stack_options& options = {})
      : m_loop(&loop),
        m_link(std::forward<Link>(link)),
        m_options(options),
        m_ip(ip_config(options, m_link.capabilities())),
        m_tcp(tcp_config(options, m_ip.tcp_mss(), m_link.capabilities()), options.secret.value_or(random_key())),
        m_tx_checksum_offload(m_link.capabilities().tx_checksum_offload),
        m_hook(this),
        m_timer(this) {
    m_tcp.set_event_sink(&on_stream_events, this);
    m_tcp.set_accept_sink(&on_listener_ready, this);
    if (m_options.trace) {
      m_tcp.shared().on_state_change = &trace_state;
      m_tcp.shared().observer = this;
    }
    if (m_link.capabilities().medium == link::medium::ethernet) {
      net::ethernet_config e;
      e.address = options.address;
      if (options.mac) {
        e.mac = *options.mac;
      } else if constexpr (requires(const Link& l) { l.mac(); }) {
        e.mac = m_link.mac();
      }
      m_eth.emplace(e);
      m_eth->announce(); // RFC 5227 §2.3: announce our address (sent by the first turn hook)
    }
    m_loop->add_turn_hook(m_hook);
    m_link.start(link::rx_handler{&on_packet_thunk, this});
  }

  stack(const stack&) = delete;
  auto operator=(const stack&) -> stack& = delete;

  /// Streams, listeners and connect operations may outlive the stack: they are detached first,
  /// while the connections still exist, and what waits on them completes with not_connected
  /// through the loop's ready queue, never from inside this destructor (detail/socket_op.hpp,
  /// docs/api.md "Lifetimes"). The peers are not told (no RST): the link stops with the stack.
  ~stack() override {
    detach_all();
    m_hook.remove();
    m_loop->disarm(m_timer);
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
    auto id = m_tcp.listen(wire::endpoint{wire::ipv4_address{}, port}, backlog);
    if (!id) return unexpected(make_error(id.error()));
    return tcp_listener{std::make_unique<detail::listener_state>(service(), *id), port};
  }

  // ---------------------------------------------------------------------------------------
  // Introspection

  auto loop() noexcept -> event_loop_base& { return *m_loop; }
  auto link() noexcept -> Link& { return m_link; }
  auto ip() const noexcept -> const net::ipv4_interface& { return m_ip; }
  /// The Ethernet + ARP layer of an Ethernet link (nullptr on an IP link such as tun).
  auto ethernet() const noexcept -> const net::ethernet_interface* { return m_eth ? &*m_eth : nullptr; }
  auto tcp() noexcept -> tcp_layer& { return m_tcp; }
  auto address() const noexcept -> wire::ipv4_address { return m_ip.address(); }
  auto options() const noexcept -> const stack_options& { return m_options; }

  /// Every counter of the stack, like `netstat -s`: f(layer, name, value).
  template <class F>
  void for_each_counter(F&& f) const {
    if (m_eth)
      net::for_each_counter(m_eth->counters(), [&](std::string_view name, std::uint64_t v) { f("eth", name, v); });
    net::for_each_counter(m_ip.counters(), [&](std::string_view name, std::uint64_t v) { f("ip", name, v); });
    tcp::for_each_counter(m_tcp.stats(), [&](std::string_view name, std::uint64_t v) { f("tcp", name, v); });
    f("link", "packets dropped: no transmit buffer", m_tx_refused);
  }
  /// Prints the counters that are not zero, netstat -s style.
  void print_counters(std::FILE* out = stdout) const {
    for_each_counter([&](std::string_view layer, std::string_view name, std::uint64_t v) {
      if (v != 0) fmt::print(out, "{:>5}: {:>10} {}\n", layer, v, name);
    });
  }

private:
  friend class detail::connect_op;
  auto service() noexcept -> detail::stream_service& { return *this; }

  static auto ip_config(const stack_options& o, const link::capabilities& caps) -> net::ipv4_config {
    net::ipv4_config c;
    c.address = o.address;
    c.gateway = o.gateway;
    c.mtu = static_cast<std::uint16_t>(o.mtu != 0 ? std::min(o.mtu, caps.mtu) : caps.mtu);
    c.answer_echo = o.answer_ping;
    return c;
  }
  static auto tcp_config(const stack_options& o, std::uint16_t mss, const link::capabilities& caps)
      -> tcp::layer_config {
    auto c = o.tcp;
    // TSO: the link takes IPv4 packets up to tso_max; 40 bytes of it are the IPv4 and TCP
    // headers without options (the connection counts its options in).
    if (c.connection.tso_max == 0 && caps.tso_max > 40u + mss)
      c.connection.tso_max = static_cast<std::uint32_t>(caps.tso_max - 40);
    c.connection.mss = std::min(c.connection.mss == tcp::config{}.mss ? mss : c.connection.mss, mss);
    c.connection.send_buffer = o.send_buffer;
    c.connection.recv_buffer = o.recv_buffer;
    return c;
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
    static_cast<stack*>(self)->on_packet(packet, meta);
  }
  void on_packet(bytes_view frame, const link::rx_meta& meta) {
    const auto now = m_loop->now();
    bytes_view packet = frame;
    if (m_eth) {
      auto in = m_eth->receive(now, frame);
      auto* ip = std::get_if<net::ethernet_ipv4>(&in);
      if (!ip) return; // ARP, or dropped and counted
      packet = ip->packet;
    }
    const auto csum = meta.checksum_verified ? wire::checksum_check::skip : wire::checksum_check::verify;
    auto in = m_ip.receive(now, packet, csum);
    if (auto* t = std::get_if<net::ingress_tcp>(&in)) {
      m_tcp.on_segment(now, t->src, t->dst, t->seg);
    } else if (auto* e = std::get_if<net::ingress_echo>(&in)) {
      send_ip(now, e->src, m_ip.echo_reply_len(*e), [&](bytes_mut b) { m_ip.write_echo_reply(b, *e); });
    } else if (auto* err = std::get_if<net::ingress_icmp_error>(&in)) {
      on_icmp_error(now, *err);
    } else if (auto* u = std::get_if<net::ingress_unreachable>(&in)) {
      send_ip(now, u->to, m_ip.unreachable_len(*u), [&](bytes_mut b) { m_ip.write_unreachable(b, *u); });
    } else if (auto* pp = std::get_if<net::ingress_param_problem>(&in)) {
      send_ip(now, pp->to, m_ip.param_problem_len(*pp), [&](bytes_mut b) { m_ip.write_param_problem(b, *pp); });
    }
  }

  /// RFC 1122 §4.2.3.9: ICMP errors about our TCP segments go to their connection.
  void on_icmp_error(instant now, const net::ingress_icmp_error& e) {
    if (e.original_protocol != wire::ip_protocol::tcp || !e.original_tcp_seq) return;
    using kind = typename tcp_layer::connection_type::icmp_error_kind;
    auto k = kind::soft;
    if (e.type == wire::icmpv4_type::dest_unreachable) {
      const auto code = static_cast<wire::icmpv4_unreachable>(e.code);
      if (code == wire::icmpv4_unreachable::protocol || code == wire::icmpv4_unreachable::port) k = kind::hard;
      if (code == wire::icmpv4_unreachable::frag_needed) k = kind::frag_needed;
    }
    m_tcp.on_icmp_error(now, {e.original_src, e.original_src_port}, {e.original_dst, e.original_dst_port},
                        wire::seq_number{*e.original_tcp_seq}, k, e.next_hop_mtu);
  }

  /// Queues one IPv4 packet to `dst` of `len` bytes written by `fill`; on an Ethernet link,
  /// framed for the next hop (waiting for ARP if needed).
  template <class Fill>
  auto send_ip(instant now, wire::ipv4_address dst, std::size_t len, Fill&& fill, const link::tx_meta& meta = {})
      -> bool {
    bool ok = false;
    if (m_eth) {
      const auto hop = m_ip.route(dst);
      if (!hop) {
        m_ip.count_no_route();
        return true; // dropped and counted, like a packet lost on the way
      }
      ok = m_eth->send_ipv4(now, *hop, len, std::forward<Fill>(fill), m_link, meta);
    } else {
      ok = m_link.transmit(len, std::forward<Fill>(fill), meta);
    }
    if (!ok) ++m_tx_refused;
    return ok;
  }

  /// The offloads a packet to `dst` may use: on an Ethernet link, none while its next hop is
  /// unresolved (the packet waits in the ARP queue and leaves later as written, so it must be
  /// whole; a super-segment is then dropped there, counted, and TCP resends it in segments).
  auto offloads_to(wire::ipv4_address dst, const link::tx_meta& wanted) const noexcept -> link::tx_meta {
    if (!m_eth || (!wanted.tcp_checksum_partial && wanted.tso_segment_size == 0)) return wanted;
    const auto hop = m_ip.route(dst);
    return hop && m_eth->lookup(*hop) ? wanted : link::tx_meta{};
  }

  // ---- once per turn
  /// The turn hook and the TCP timer, each with a way back to the stack.
  struct stack_hook : turn_hook {
    explicit stack_hook(stack* s) noexcept : turn_hook(&run), self(s) {}
    static void run(turn_hook& h) { static_cast<stack_hook&>(h).self->on_turn(); }
    stack* self;
  };
  struct stack_timer : timer_node {
    explicit stack_timer(stack* s) noexcept : timer_node(&run), self(s) {}
    static void run(timer_node& n) {
      auto* s = static_cast<stack_timer&>(n).self;
      const auto now = s->m_loop->now();
      if (auto d = s->m_tcp.next_deadline(); d && *d <= now) s->m_tcp.on_timeout(now);
      // ARP timers are run by the turn hook's poll, which follows in this turn.
    }
    stack* self;
  };

  void on_turn() {
    const auto now = m_loop->now();
    if (m_tcp.has_pending()) {
      m_tcp.poll(now, [&](wire::ipv4_address src, wire::ipv4_address dst, const tcp::tx_segment& seg) {
        const auto tcp_len = seg.repr.header_len() + seg.payload_len();
        const link::tx_meta meta = offloads_to(dst, {m_tx_checksum_offload, seg.segment_size});
        const auto csum =
            meta.tcp_checksum_partial ? wire::checksum_fill::pseudo_header_only : wire::checksum_fill::full;
        return send_ip(
            now, dst, net::ipv4_interface::header_len + tcp_len,
            [&](bytes_mut b) {
              auto tcp_part = b.subspan(net::ipv4_interface::header_len);
              auto* at = tcp_part.data() + seg.repr.header_len();
              for (auto piece : seg.payload) {
                if (piece.empty()) continue; // an empty piece may have a null data(): no memcpy (UB)
                std::memcpy(at, piece.data(), piece.size());
                at += piece.size();
              }
              seg.repr.emit_header(tcp_part, seg.payload_len(), src, dst, csum);
              m_ip.write_header(b, wire::ip_protocol::tcp, src, dst, tcp_len);
            },
            meta);
      });
    }
    std::optional<instant> deadline = m_tcp.next_deadline();
    if (m_eth) {
      m_eth->poll(now, m_link);
      if (auto d = m_eth->next_deadline(); d && (!deadline || *d < *deadline)) deadline = d;
    }
    m_link.flush();
    if (deadline) {
      if (!m_timer.armed() || m_timer.deadline() != *deadline) m_loop->arm(m_timer, *deadline);
    } else {
      m_loop->disarm(m_timer);
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
    fmt::print(s->m_options.trace_file, "{} {} - {}  {} -> {}\n", s->m_loop->now(), t.local, t.remote, from, to);
  }

  // ---- detail::stream_service
  auto get_scheduler() noexcept -> scheduler& override { return *m_loop; }
  auto conn_state(tcp::conn_id id) noexcept -> tcp::state override {
    auto* c = m_tcp.find(id);
    return c ? c->state() : tcp::state::closed;
  }
  auto conn_error(tcp::conn_id id) noexcept -> std::error_code override {
    auto* c = m_tcp.find(id);
    return c ? to_error_code(c->last_error()) : make_error(std::errc::not_connected);
  }
  auto conn_can_send(tcp::conn_id id) noexcept -> bool override {
    auto* c = m_tcp.find(id);
    return c && c->can_send();
  }
  auto conn_send(tcp::conn_id id, bytes_view data) -> std::size_t override {
    auto* c = m_tcp.find(id);
    const auto n = c ? c->send(data) : 0;
    if (n > 0) m_tcp.touch(id);
    return n;
  }
  auto conn_recv(tcp::conn_id id, bytes_mut buf) -> std::size_t override {
    auto* c = m_tcp.find(id);
    const auto n = c ? c->recv(buf) : 0;
    if (n > 0) m_tcp.touch(id);
    return n;
  }
  void conn_post_read(tcp::conn_id id, bytes_mut buf) noexcept override {
    if (auto* c = m_tcp.find(id)) c->post_read(buf);
  }
  auto conn_take_placed(tcp::conn_id id) noexcept -> std::size_t override {
    auto* c = m_tcp.find(id);
    return c ? c->take_placed() : 0;
  }
  auto conn_at_eof(tcp::conn_id id) noexcept -> bool override {
    auto* c = m_tcp.find(id);
    return c && c->at_eof();
  }
  auto conn_readable(tcp::conn_id id) noexcept -> std::size_t override {
    auto* c = m_tcp.find(id);
    return c ? c->readable() : 0;
  }
  void conn_shutdown(tcp::conn_id id) override {
    if (auto* c = m_tcp.find(id)) {
      c->shutdown_write(m_loop->now());
      m_tcp.touch(id);
    }
  }
  void conn_close(tcp::conn_id id) override {
    if (auto* c = m_tcp.find(id)) {
      c->close(m_loop->now());
      m_tcp.touch(id);
    }
  }
  void conn_abort(tcp::conn_id id) override {
    if (auto* c = m_tcp.find(id)) {
      c->abort(m_loop->now());
      m_tcp.touch(id);
    }
  }
  void conn_release(tcp::conn_id id) override {
    if (auto* c = m_tcp.find(id)) (void)c->take_placed(); // no pointer into a reader's buffer outlives it
    m_tcp.release(m_loop->now(), id);
  }
  void conn_set_nodelay(tcp::conn_id id, bool on) override {
    if (auto* c = m_tcp.find(id)) {
      c->set_nodelay(on);
      m_tcp.touch(id);
    }
  }
  void conn_set_keepalive(tcp::conn_id id, bool on) override {
    if (auto* c = m_tcp.find(id)) {
      c->set_keepalive(on, m_loop->now());
      m_tcp.touch(id);
    }
  }
  auto conn_info(tcp::conn_id id) noexcept -> connection_info override {
    connection_info i;
    auto* c = m_tcp.find(id);
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
  void conn_attach(tcp::conn_id id, detail::stream_state* s) noexcept override { m_tcp.set_user(id, s); }
  auto listener_accept(tcp::listener_id id) -> std::optional<tcp::conn_id> override { return m_tcp.accept(id); }
  void listener_close(tcp::listener_id id) override { m_tcp.unlisten(m_loop->now(), id); }
  void listener_attach(tcp::listener_id id, detail::listener_state* s) noexcept override {
    m_tcp.set_listener_user(id, s);
  }

  event_loop_base* m_loop;
  Link m_link;
  stack_options m_options;
  net::ipv4_interface m_ip;
  tcp_layer m_tcp;
  bool m_tx_checksum_offload; // the link completes TCP checksums (link::tx_meta)
  std::optional<net::ethernet_interface> m_eth;
  stack_hook m_hook;
  stack_timer m_timer;
  std::uint64_t m_tx_refused = 0;
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
  if (!m_ip.reachable(remote.addr)) return detail::connect_op{service(), make_error(std::errc::network_unreachable)};
  auto cfg = m_tcp.config().connection;
  if (opts.nodelay) cfg.nodelay = *opts.nodelay;
  if (opts.keepalive) cfg.keepalive = *opts.keepalive;
  if (opts.send_buffer) cfg.send_buffer = *opts.send_buffer;
  if (opts.recv_buffer) cfg.recv_buffer = *opts.recv_buffer;
  if (opts.congestion) cfg.congestion = *opts.congestion;
  auto id = m_tcp.connect(m_loop->now(), m_ip.address(), remote, 0, &cfg);
  if (!id) return detail::connect_op{service(), make_error(id.error())};
  auto state = std::make_unique<detail::stream_state>(service(), *id);
  m_tcp.set_user(*id, state.get());
  return detail::connect_op{service(), std::move(state), std::move(token)};
}

} // namespace synack
