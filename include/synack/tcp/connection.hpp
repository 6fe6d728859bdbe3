// synack/tcp/connection.hpp: one TCP connection, as a sans-IO state machine.
//
// Heads up! Before working on this file, read RFC 9293 (at least §3.3 to §3.10), RFC 1122
// §4.2, RFC 6298, RFC 5681, RFC 7323 and RFC 5961. The code follows RFC 9293 §3.10's event
// processing step by step and quotes it: each step of §3.10.7.4 is a function of tcp/input.hpp
// named after it, each step of the output one of tcp/output.hpp; loss recovery is a component
// of its own (tcp/loss_recovery.hpp), and the setup rules shared with tcp::layer are in
// tcp/handshake.hpp. docs/tcp.md lists where is what.
//
// The connection never does I/O and never reads a clock (it is sans-IO, docs/architecture.md:
// every function takes `now`). Its owner drives it:
//   - user calls: open() / listen() (§3.10.1), send() (§3.10.2), recv() (§3.10.3),
//     shutdown_write() / close() (§3.10.4), abort() (§3.10.5);
//   - on_segment(now, seg) for every segment of this 4-tuple (tcp/input.hpp);
//   - on_timeout(now) once now >= next_deadline() (tcp/output.hpp);
//   - poll_transmit(now, emit) after any of the above, which hands every segment the
//     connection wants to send to `emit` (tcp/output.hpp).
// After each call, take_events() says what changed for the application (data to read, space
// to write, connected, closed), so the owner can wake the coroutines waiting on it.
//
// The TCB variables carry RFC 9293's names (§3.3.1): snd_una, snd_nxt, snd_wnd, snd_wl1,
// snd_wl2, iss, rcv_nxt, rcv_wnd, irs. The send sequence space is laid out as
//     iss (the SYN) | data bytes [iss+1, iss+1+N) | the FIN (when closing)
// and every segment is built from a range of that space, so a retransmitted SYN, a data
// segment and a FIN are produced by the same code.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "synack/tcp/assembler.hpp"
#include "synack/tcp/config.hpp"
#include "synack/tcp/handshake.hpp"
#include "synack/tcp/loss_recovery.hpp"
#include "synack/tcp/policies.hpp"
#include "synack/tcp/rtt_estimator.hpp"
#include "synack/tcp/sack_scoreboard.hpp"
#include "synack/tcp/state.hpp"
#include "synack/tcp/timers.hpp"
#include "synack/time/instant.hpp"
#include "synack/util/bytes.hpp"
#include "synack/util/ring_buffer.hpp"
#include "synack/wire/endpoint.hpp"
#include "synack/wire/seq_number.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::tcp {

using wire::seq_number;

/// The identity of a connection: our endpoint and the peer's.
struct four_tuple {
  wire::endpoint local;
  wire::endpoint remote;
  friend constexpr auto operator==(const four_tuple&, const four_tuple&) -> bool = default;
};

/// One segment the connection wants sent: its header fields, and its payload in up to two
/// pieces (the send ring may wrap). `repr.payload` is left empty: the emitter writes the
/// header with `repr.emit_header(buf, payload_len(), ...)` and copies the pieces after it.
struct tx_segment {
  wire::tcp_repr repr;
  std::array<bytes_view, 2> payload{};
  bool retransmission = false;
  /// A TSO super-segment (config::tso_max): the link cuts the payload into segments of this
  /// many bytes. 0 when the payload fits one segment.
  std::uint16_t segment_size = 0;
  auto payload_len() const noexcept -> std::size_t { return payload[0].size() + payload[1].size(); }
};

/// State shared by all connections of one TCP layer: counters, the challenge-ACK budget of
/// RFC 5961 §7, and an optional observer of state changes (the --trace option prints them).
struct shared_context {
  counters stats;
  /// RFC 5961 §7: "An implementation SHOULD include an ACK throttling mechanism". Two limits,
  /// as in Linux: one per connection (below) and a budget for the whole layer of about this
  /// many challenge ACKs per second (Linux's tcp_challenge_ack_limit).
  std::uint32_t challenge_ack_limit = 1000;
  /// Per connection, at most one challenge ACK per interval (Linux's tcp_invalid_ratelimit,
  /// 500 ms). Without it, a blind flood of in-window RSTs or SYNs spends the whole layer's
  /// budget on one connection: 1000 challenge ACKs a second reach the real peer, each a
  /// duplicate ACK (RFC 5681 §2), and make it fast-retransmit and halve its window over and
  /// over (tests/sim/attack_test.cpp: an 8 MiB exchange took 70 s instead of 1 s).
  duration challenge_ack_interval = std::chrono::milliseconds{500};
  /// The layer's budget: what is left in the current one-second window.
  instant challenge_window;
  std::uint32_t challenge_budget = 0;
  bool challenge_window_open = false;
  /// Seeds the budget's randomness (the layer seeds it from its secret key).
  std::uint64_t challenge_rng = 0x853c49e6748fea9bull;
  /// Called on every state change when set: (observer, tuple, from, to).
  void (*on_state_change)(void* observer, const four_tuple&, state from, state to) = nullptr;
  void* observer = nullptr;

  /// Takes one challenge ACK from the layer's budget (the connection checked its own limit).
  /// `sent` and `limited` are the counters to bump (the answers to unacceptable segments share
  /// the budget, with counters of their own).
  /// CVE-2016-5696 (Cao et al., "Off-Path TCP Exploits: Global Rate Limit Considered
  /// Dangerous", USENIX Security 2016): a fixed budget shared by all connections is a side
  /// channel. An off-path attacker spends it with its own connection and counts the challenge
  /// ACKs it gets back: one missing means a spoofed segment hit a real connection, which
  /// reveals 4-tuples and then sequence numbers. Like Linux since 4.7, each second's budget is
  /// random in [limit/2, limit/2 + limit); with the per-connection limit, one attacker
  /// connection observes at most two a second whatever happens elsewhere.
  auto allow_challenge_ack(instant now, std::uint64_t counters::*sent = &counters::challenge_acks,
                           std::uint64_t counters::*limited = &counters::challenge_acks_limited) noexcept -> bool {
    if (!challenge_window_open || now - challenge_window >= std::chrono::seconds{1}) {
      challenge_window_open = true;
      challenge_window = now;
      const auto half = (challenge_ack_limit + 1) / 2;
      challenge_budget =
          half + (challenge_ack_limit > 0 ? static_cast<std::uint32_t>(next_random() % challenge_ack_limit) : 0u);
    }
    if (challenge_budget == 0) {
      ++(stats.*limited);
      return false;
    }
    --challenge_budget;
    ++(stats.*sent);
    return true;
  }

private:
  /// SplitMix64 (Steele, Lea, Flood 2014): unpredictable enough once seeded with a secret.
  auto next_random() noexcept -> std::uint64_t {
    std::uint64_t z = (challenge_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

/// What changed for the application since the last take_events().
enum class event : std::uint8_t {
  readable = 1u << 0,  // data or the end of the stream (or an error) can be read
  writable = 1u << 1,  // send space was freed (or an error ended sending)
  connected = 1u << 2, // the handshake completed (SYN_SENT or SYN_RCVD -> ESTABLISHED)
  closed = 1u << 3,    // the connection reached CLOSED (or TIME_WAIT: the user is done)
  state = 1u << 4,     // the state changed
};
using event_set = std::uint8_t;
constexpr auto has(event_set set, event e) noexcept -> bool { return (set & static_cast<std::uint8_t>(e)) != 0; }

template <class Policies = default_policies>
class connection {
public:
  using policies = Policies;
  using congestion_type = typename Policies::congestion;

  /// A connection in CLOSED. `iss` is its initial send sequence number (RFC 6528, chosen by the
  /// owner) and `ts_offset` the random offset of its timestamp clock (RFC 7323 §5.4).
  connection(shared_context& shared, const config& cfg, const four_tuple& tuple, seq_number iss,
             std::uint32_t ts_offset = 0)
      : m_shared(&shared),
        m_cfg(with_defaults(cfg)),
        m_tuple(tuple),
        m_iss(iss),
        m_snd_una(iss),
        m_snd_nxt(iss),
        m_snd_buf_seq(iss + 1),
        m_ts_offset(ts_offset),
        m_sndbuf(cfg.send_buffer),
        m_rcvbuf(cfg.recv_buffer),
        m_rtt(make_rtt_config(cfg)),
        m_cc(make_controller(cfg, congestion_config{.smss = effective_mss_base()})) {
    m_cfg.delayed_ack = std::min(m_cfg.delayed_ack, duration{std::chrono::milliseconds{500}});
  }

  connection(const connection&) = delete;
  auto operator=(const connection&) -> connection& = delete;
  connection(connection&&) noexcept = default;
  auto operator=(connection&&) noexcept -> connection& = default;

  // ---------------------------------------------------------------------------------------
  // User calls (RFC 9293 §3.10.1 - §3.10.5)

  /// Active OPEN (§3.10.1): CLOSED -> SYN_SENT. The SYN leaves on the next poll_transmit.
  void open(instant now) {
    if (m_state != tcp::state::closed) return;
    m_active_open = true;
    ++m_shared->stats.active_opens;
    m_rcv_wscale = m_cfg.window_scaling ? rcv_wscale_for(m_cfg.recv_buffer) : 0;
    set_state(tcp::state::syn_sent);
    // "A SYN segment of the form <SEQ=ISS><CTL=SYN> is sent. Set SND.UNA to ISS, SND.NXT to
    //  ISS+1, enter SYN-SENT state, and return." SND.NXT moves when the SYN is emitted.
    m_snd_una = m_iss;
    m_syn_acked = false;
    m_snd_nxt = m_iss;
    m_user_timer_start = now;
  }

  /// Passive OPEN (§3.10.1): CLOSED -> LISTEN. The owner's listener creates one connection
  /// per arriving SYN and hands it the SYN in LISTEN; see tcp/layer.hpp.
  void listen() {
    if (m_state != tcp::state::closed) return;
    m_active_open = false;
    set_state(tcp::state::listen);
  }

  /// RFC 4987 §3.6: the final ACK of a handshake answered with a SYN cookie arrived and its
  /// cookie checked out (tcp/syn_cookie.hpp). The connection is created here, CLOSED, and goes
  /// straight to ESTABLISHED with what the cookie carried: our ISS, the peer's ISN, the MSS,
  /// and (when the handshake used timestamps) window scale and SACK. Then the ACK itself is
  /// processed like any other segment (it may carry data).
  void accept_cookie(instant now, const wire::tcp_repr& ack, std::uint16_t mss, bool timestamps,
                     std::optional<std::uint8_t> peer_wscale, bool sack_permitted) {
    if (m_state != tcp::state::closed) return;
    m_active_open = false;
    m_iss = ack.ack - 1;
    m_snd_una = ack.ack;
    m_syn_acked = true;
    m_snd_nxt = ack.ack;
    m_snd_buf_seq = ack.ack;
    m_recovery.set_rtx_nxt(ack.ack);
    m_irs = ack.seq - 1;
    m_rcv_nxt = ack.seq;
    m_last_ack_sent = ack.seq;
    // The options of the peer's SYN, as the cookie kept them (the timestamps are this ACK's),
    // negotiated as any SYN's are.
    wire::tcp_options syn{};
    syn.mss = mss;
    syn.window_scale = peer_wscale;
    syn.sack_permitted = sack_permitted;
    if (timestamps) syn.timestamps = ack.options.timestamps;
    take_syn_options(syn);
    if (m_ts_ok) m_ts_recent_time = now;
    m_snd_wnd = std::uint32_t{ack.window} << m_snd_wscale;
    m_max_snd_wnd = m_snd_wnd;
    m_snd_wl1 = ack.seq;
    m_snd_wl2 = ack.ack;
    // The SYN-ACK advertised min(buffer, 65535) unscaled; that is the edge the peer knows.
    m_rcv_adv = m_rcv_nxt + syn_window(rcv_space());
    ++m_shared->stats.passive_opens;
    set_state(tcp::state::syn_received);
    complete_handshake(now);
    process_text(now, ack, ack.seq, ack.payload);
  }

  /// SEND (§3.10.2): queues as much of `data` as the send buffer holds; returns the count
  /// (0 when full: wait for event::writable). Returns 0 once the sending side is closed.
  auto send(bytes_view data) -> std::size_t {
    if (!can_send()) return 0;
    const auto n = m_sndbuf.enqueue(data);
    return n;
  }

  /// Whether send() can still queue data: the connection is open (or opening) and our side
  /// has not sent (or queued) a FIN.
  auto can_send() const noexcept -> bool {
    return in_state(m_state, tcp::state::syn_sent | tcp::state::syn_received | tcp::state::established |
                                 tcp::state::close_wait) &&
           !m_fin_queued;
  }
  auto send_space() const noexcept -> std::size_t { return can_send() ? m_sndbuf.free_space() : 0; }
  /// Bytes queued and not yet acknowledged.
  auto send_queued() const noexcept -> std::size_t { return m_sndbuf.size(); }

  /// RECEIVE (§3.10.3): moves up to out.size() in-order bytes to `out`; returns the count.
  /// 0 with at_eof() means the peer closed its side and everything was read.
  auto recv(bytes_mut out) -> std::size_t {
    const auto n = m_rcvbuf.dequeue(out);
    if (n > 0) {
      // The window may have opened enough for an update (RFC 1122 §4.2.3.3); output decides.
      m_window_update_check = true;
      if (m_rcvbuf.empty() && m_ooo.empty()) m_rcvbuf.release();
    }
    return n;
  }
  /// Direct placement: the application waits to read into `out` (nothing is readable now).
  /// In-order data that arrives while the receive buffer is empty is copied straight into
  /// `out`, once, instead of into the receive buffer and out again; it raises
  /// event::readable like any data. take_placed() returns how many bytes were placed (at the
  /// front of `out`, in order, before anything recv() returns next) and forgets `out`. The
  /// caller must call it before `out` goes away or stops being the reader's buffer.
  void post_read(bytes_mut out) noexcept {
    m_posted = out;
    m_placed = 0;
  }
  auto take_placed() noexcept -> std::size_t {
    m_posted = {};
    return std::exchange(m_placed, 0);
  }
  /// Bytes placed in the posted buffer so far.
  auto placed() const noexcept -> std::size_t { return m_placed; }
  /// Zero-copy read: the readable bytes (up to two spans); consume(n) drops n of them.
  auto readable_spans() const noexcept { return m_rcvbuf.readable(); }
  void consume(std::size_t n) noexcept {
    if (m_rcvbuf.discard(n) > 0) m_window_update_check = true;
  }
  auto readable() const noexcept -> std::size_t { return m_rcvbuf.size(); }
  /// The peer's FIN arrived and every byte before it was read.
  auto at_eof() const noexcept -> bool { return m_fin_received && m_rcvbuf.empty(); }

  /// Half-close (shutdown of writes): FIN after all queued data; data still flows to us.
  void shutdown_write(instant now) { close_impl(now, false); }

  /// CLOSE (§3.10.4): FIN after all queued data, and we read no more. RFC 1122 §4.2.2.13: "If
  /// such a host issues a CLOSE call while received data is still pending in TCP, or if new
  /// data is received after CLOSE is called, its TCP SHOULD send a RST to show that data was
  /// lost." We do (as Linux does).
  void close(instant now) { close_impl(now, true); }

  /// ABORT (§3.10.5): "<SEQ=SND.NXT><CTL=RST>" in the synchronized states; then CLOSED.
  void abort(instant now) {
    (void)now;
    if (in_state(m_state, tcp::state::syn_received | tcp::state::established | tcp::state::fin_wait_1 |
                              tcp::state::fin_wait_2 | tcp::state::close_wait)) {
      queue_rst(m_snd_nxt, std::nullopt);
    }
    // LISTEN, SYN_SENT: "delete the TCB"; CLOSING, LAST_ACK, TIME_WAIT: "respond with ok and
    // delete the TCB" — no RST.
    enter_closed(m_state == tcp::state::closed ? error::none : error::connection_aborted);
  }

  /// The application let go of the connection while it still closes (tcp::layer::release): an
  /// orphan. Nobody will read or write it again, so RFC 9293 §3.8.6.1's "the sending TCP peer
  /// MUST allow the connection to stay open" while the peer answers zero-window probes serves
  /// no one, and a peer that keeps its window closed would hold the connection and its send
  /// buffer forever (Sockstress). As Linux does since 2014 ("tcp: abort orphan sockets stalling
  /// on zero window probes"), an orphan is reset after config::orphan_retries zero-window
  /// probes in a row, and gives up after orphan_retries retransmissions rather than
  /// max_retries (Linux's tcp_orphan_retries). RFC 6429 lets a sender close a connection stuck
  /// in the persist condition for resource management. The layer also caps their number.
  void orphan() noexcept { m_orphan = true; }
  auto orphaned() const noexcept -> bool { return m_orphan; }
  /// The layer has too many orphans and gives this one up (layer_config::max_orphans): the peer
  /// is told with a RST (Linux's tcp_out_of_resources does the same), and the connection is
  /// CLOSED.
  void reset_orphan() {
    ++m_shared->stats.orphans_dropped;
    give_up_orphan(error::connection_aborted);
  }

  // ---------------------------------------------------------------------------------------
  // Driving (definitions in tcp/input.hpp and tcp/output.hpp)

  /// A segment of this connection arrived (RFC 9293 §3.10.7 SEGMENT ARRIVES).
  void on_segment(instant now, const wire::tcp_repr& seg);

  /// What an ICMP error about one of our segments means for TCP.
  enum class icmp_error_kind : std::uint8_t {
    hard,        // destination unreachable: protocol or port unreachable (RFC 1122 §4.2.3.9)
    frag_needed, // destination unreachable, fragmentation needed and DF set (RFC 1191)
    soft,        // everything else: net/host unreachable, time exceeded, ...
  };
  /// RFC 1122 §4.2.3.9: "TCP MUST act on an ICMP error message passed up from the IP layer,
  /// directing it to the connection that created the error." `quoted_seq` is the sequence
  /// number of the segment the error quotes: as RFC 5927 §4.1 advises, an error whose sequence
  /// number is not in [SND.UNA, SND.NXT) is ignored (and counted, icmp_out_of_window), so a
  /// blind attacker must guess one in flight. Hard errors refuse a connection still opening
  /// (SYN_SENT), as Linux does; in the synchronized states they are treated as soft, as RFC
  /// 5461 §4 recommends; soft errors change nothing. "Fragmentation needed" lowers the path MTU
  /// (RFC 1191), within the bounds on_frag_needed() sets against forged messages.
  /// Returns true when the message changed the connection now.
  auto on_icmp_error(instant now, icmp_error_kind kind, seq_number quoted_seq, std::uint16_t next_hop_mtu) -> bool {
    // No connection to act on (as Linux: CLOSED and TIME_WAIT ignore them; LISTEN sent nothing).
    if (in_state(m_state, tcp::state::closed | tcp::state::listen | tcp::state::time_wait)) return false;
    if (!(m_snd_una <= quoted_seq && quoted_seq < m_snd_nxt)) {
      ++m_shared->stats.icmp_out_of_window;
      return false;
    }
    switch (kind) {
      case icmp_error_kind::hard:
        if (m_state != tcp::state::syn_sent) return false;
        ++m_shared->stats.attempt_fails;
        enter_closed(error::connection_refused);
        return true;
      case icmp_error_kind::frag_needed:
        return on_frag_needed(now, quoted_seq, next_hop_mtu);
      case icmp_error_kind::soft:
        return false;
    }
    return false;
  }
  /// Runs the timers that are due at `now`.
  void on_timeout(instant now);
  /// Hands each segment to send to `emit(const tx_segment&) -> bool`; stops early when emit
  /// returns false (no buffer: the segment counts as not sent). Returns the number emitted.
  template <class Emit>
  auto poll_transmit(instant now, Emit&& emit) -> std::size_t;
  /// When on_timeout must next be called, if ever.
  auto next_deadline() const noexcept -> std::optional<instant> { return m_timers.next(); }

  // ---------------------------------------------------------------------------------------
  // Status

  auto state() const noexcept -> tcp::state { return m_state; }
  auto last_error() const noexcept -> error { return m_error; }
  auto tuple() const noexcept -> const four_tuple& { return m_tuple; }
  auto passive() const noexcept -> bool { return !m_active_open; }
  /// What changed since the last call (a set of `event` bits), and clears it.
  auto take_events() noexcept -> event_set { return std::exchange(m_events, 0); }
  /// True when output may be pending (the owner polls such connections first).
  auto wants_poll() const noexcept -> bool {
    return m_ack_now || m_reply.has_value() || has_unsent() || m_recovery.rtx_due();
  }
  /// Whether a fast recovery (RFC 6582 / RFC 6675) is in progress.
  auto in_recovery() const noexcept -> bool { return m_recovery.in_recovery(); }

  /// What the handshake negotiated (for tests, `ss -tin`-like printing and the trace).
  struct negotiated {
    std::uint16_t peer_mss = 0;
    std::uint16_t send_mss = 0; // payload per segment we send (peer MSS minus our options)
    std::uint8_t snd_wscale = 0;
    std::uint8_t rcv_wscale = 0;
    bool window_scaling = false;
    bool sack = false;
    bool timestamps = false;
  };
  auto options() const noexcept -> negotiated {
    return negotiated{m_peer_mss, effective_mss_base(), m_snd_wscale, m_rcv_wscale, m_wscale_ok, m_sack_ok, m_ts_ok};
  }
  struct tcb_view {
    seq_number iss, irs, snd_una, snd_nxt, rcv_nxt;
    std::uint32_t snd_wnd, rcv_wnd, cwnd, ssthresh;
    duration srtt, rto;
  };
  /// A snapshot of the TCB's main variables.
  auto tcb() const noexcept -> tcb_view {
    return tcb_view{m_iss,        m_irs,      m_snd_una,
                    m_snd_nxt,    m_rcv_nxt,  m_snd_wnd,
                    rcv_wnd(),    cwnd(),     clamp32(m_cc.ssthresh()),
                    m_rtt.srtt(), m_rtt.rto()};
  }
  /// Every variable of the TCB as (name, value) pairs: tests and the connection fuzzer compare
  /// two of them (docs/fuzzing.md: a dropped segment changes no field but the counters and the
  /// ACK and challenge-ACK state). Buffer contents are summed up by their sizes.
  struct tcb_snapshot {
    static constexpr std::size_t capacity = 96;
    std::array<std::string_view, capacity> names{};
    std::array<std::uint64_t, capacity> values{};
    std::size_t count = 0;

    auto get(std::string_view name) const noexcept -> std::optional<std::uint64_t> {
      for (std::size_t i = 0; i < count; ++i)
        if (names[i] == name) return values[i];
      return std::nullopt;
    }
    /// The names of the fields that differ from `o`, except those in `ignore`.
    auto diff(const tcb_snapshot& o, std::initializer_list<std::string_view> ignore = {}) const -> std::string {
      std::string out;
      for (std::size_t i = 0; i < count && i < o.count; ++i) {
        if (values[i] == o.values[i] || std::find(ignore.begin(), ignore.end(), names[i]) != ignore.end()) continue;
        if (!out.empty()) out += ", ";
        out += names[i];
      }
      return out;
    }
    friend auto operator==(const tcb_snapshot& a, const tcb_snapshot& b) noexcept -> bool {
      return a.count == b.count && a.values == b.values;
    }
  };
  auto snapshot() const -> tcb_snapshot {
    tcb_snapshot s;
    auto f = [&](std::string_view name, auto v) {
      if (s.count == tcb_snapshot::capacity) return;
      s.names[s.count] = name;
      s.values[s.count++] = as_u64(v);
    };
    f("state", static_cast<std::uint64_t>(index_of(m_state)));
    f("error", static_cast<std::uint64_t>(m_error));
    f("events", m_events);
    f("active_open", m_active_open);
    f("iss", m_iss);
    f("syn_acked", m_syn_acked);
    f("snd_una", m_snd_una);
    f("snd_nxt", m_snd_nxt);
    f("snd_wl1", m_snd_wl1);
    f("snd_wl2", m_snd_wl2);
    f("snd_wnd", m_snd_wnd);
    f("max_snd_wnd", m_max_snd_wnd);
    f("snd_buf_seq", m_snd_buf_seq);
    f("irs", m_irs);
    f("rcv_nxt", m_rcv_nxt);
    f("rcv_adv", m_rcv_adv);
    f("ooo_fin", m_ooo_fin);
    f("peer_mss", m_peer_mss);
    f("path_mss", m_path_mss);
    f("snd_wscale", m_snd_wscale);
    f("rcv_wscale", m_rcv_wscale);
    f("wscale_ok", m_wscale_ok);
    f("sack_ok", m_sack_ok);
    f("ts_ok", m_ts_ok);
    f("ts_recent", m_ts_recent);
    f("ts_recent_time", m_ts_recent_time);
    f("last_ack_sent", m_last_ack_sent);
    f("sndbuf_size", m_sndbuf.size());
    f("rcvbuf_size", m_rcvbuf.size());
    f("ooo_ranges", m_ooo.size());
    f("placed", m_placed);
    f("fin_queued", m_fin_queued);
    f("fin_received", m_fin_received);
    f("read_closed", m_read_closed);
    f("ack_now", m_ack_now);
    f("window_update_check", m_window_update_check);
    f("rtx_due", m_recovery.rtx_due());
    f("syn_rtx_due", m_syn_rtx_due);
    f("reply", m_reply ? m_reply->seq : std::optional<seq_number>{});
    f("srtt", m_rtt.srtt());
    f("rttvar", m_rtt.rttvar());
    f("rto", m_rtt.rto());
    f("retries", m_recovery.retries());
    f("rtt_timing", m_sampler.timing());
    f("rtt_timed_end", m_sampler.timed_seq_end());
    f("syn_timed_out", m_syn_timed_out);
    f("rtx_nxt", m_recovery.rtx_nxt());
    f("rto_recover", m_recovery.rto_recover());
    f("rto_recovery", m_recovery.rto_recovery());
    f("rtx_len", m_recovery.rtx_len());
    f("dup_acks", m_recovery.dup_acks());
    const auto& sb = m_recovery.scoreboard();
    f("in_recovery", sb.in_recovery());
    f("sb_high_ack", sb.high_ack());
    f("sb_high_rxt", sb.high_rxt());
    f("sb_recovery_point", sb.recovery_point());
    f("sb_sacked_bytes", sb.sacked_bytes());
    f("sb_ranges", sb.ranges().size());
    f("cwnd", m_cc.cwnd());
    f("ssthresh", m_cc.ssthresh());
    f("retransmitted", m_recovery.retransmitted());
    f("unacked_bytes", m_unacked_bytes);
    f("rcv_mss", m_rcv_mss);
    f("timer_retransmit", m_timers.at(timer_kind::retransmit));
    f("timer_delayed_ack", m_timers.at(timer_kind::delayed_ack));
    f("timer_persist", m_timers.at(timer_kind::persist));
    f("timer_keepalive", m_timers.at(timer_kind::keepalive));
    f("timer_close", m_timers.at(timer_kind::close));
    f("timer_pmtu", m_timers.at(timer_kind::pmtu));
    f("orphan", m_orphan);
    f("pmtu_acked", m_pmtu_acked);
    f("pmtu_pending_mss", m_pmtu_pending_mss);
    f("pmtu_pending_seq", m_pmtu_pending_seq);
    f("last_send", m_last_send);
    f("user_timer_start", m_user_timer_start);
    f("persist_backoff", m_persist_backoff);
    f("keepalive_sent", m_keepalive_sent);
    f("last_challenge_ack", m_last_challenge_ack);
    f("persist_probe_due", m_persist_probe_due);
    f("zero_window_probe_due", m_zero_window_probe_due);
    f("keepalive_probe_due", m_keepalive_probe_due);
    return s;
  }
  auto config() const noexcept -> const tcp::config& { return m_cfg; }
  auto congestion() const noexcept -> const congestion_type& { return m_cc; }
  auto congestion() noexcept -> congestion_type& { return m_cc; }
  /// Runtime options (TCP_NODELAY, SO_KEEPALIVE).
  void set_nodelay(bool on) noexcept { m_cfg.nodelay = on; }
  void set_keepalive(bool on, instant now) noexcept {
    m_cfg.keepalive = on;
    if (on && in_state(m_state, synchronized_states)) m_timers.set(timer_kind::keepalive, now + m_cfg.keepalive_idle);
    if (!on) m_timers.clear(timer_kind::keepalive);
  }
  /// Segments retransmitted by this connection.
  auto retransmissions() const noexcept -> std::uint64_t { return m_recovery.retransmitted(); }

private:
  // For snapshot(): every field as a number (an absent optional is 0, a present one 1 + value).
  static constexpr auto as_u64(bool v) noexcept -> std::uint64_t { return v ? 1 : 0; }
  template <class T>
  requires std::is_integral_v<T>
  static constexpr auto as_u64(T v) noexcept -> std::uint64_t { return static_cast<std::uint64_t>(v); }
  static constexpr auto as_u64(seq_number v) noexcept -> std::uint64_t { return v.raw(); }
  static constexpr auto as_u64(instant v) noexcept -> std::uint64_t { return static_cast<std::uint64_t>(v.nanos()); }
  static constexpr auto as_u64(duration v) noexcept -> std::uint64_t { return static_cast<std::uint64_t>(v.count()); }
  template <class T>
  static constexpr auto as_u64(const std::optional<T>& v) noexcept -> std::uint64_t {
    return v ? 1 + as_u64(*v) : 0;
  }

  // -------- helpers shared by input and output
  void set_state(tcp::state s) {
    if (s == m_state) return;
    const auto from = m_state;
    m_state = s;
    m_events |= static_cast<std::uint8_t>(event::state);
    ++m_shared->stats.state_entered[index_of(s)];
    if (m_shared->on_state_change) m_shared->on_state_change(m_shared->observer, m_tuple, from, s);
  }
  void raise(event e) noexcept { m_events |= static_cast<std::uint8_t>(e); }

  /// Enters CLOSED, releasing the buffers; `e` says why when it was not a normal close.
  void enter_closed(error e) {
    if (e != error::none && m_error == error::none) m_error = e;
    m_timers.clear_all();
    m_ack_now = false;
    m_recovery.cancel_head();
    set_state(tcp::state::closed);
    raise(event::closed);
    raise(event::readable);
    raise(event::writable);
    if (e != error::none) {
      // Nothing more will be read or sent: drop the buffers now.
      m_sndbuf.clear();
      m_sndbuf.release();
    }
    if (m_rcvbuf.empty() || e != error::none) {
      m_rcvbuf.clear();
      m_rcvbuf.release();
    }
    m_ooo.clear();
  }

  void close_impl(instant now, bool full) {
    if (full) m_read_closed = true;
    switch (m_state) {
      case tcp::state::closed:
      case tcp::state::listen:
      case tcp::state::syn_sent:
        // "Delete the TCB, enter CLOSED state, and return."
        enter_closed(error::none);
        return;
      default:
        break;
    }
    if (full && !m_rcvbuf.empty()) {
      // RFC 1122 §4.2.2.13: unread data at CLOSE -> RST.
      ++m_shared->stats.data_after_close;
      abort(now);
      return;
    }
    if (m_fin_queued) {
      // "error: connection closing". A full close after a half-close: now that nobody will
      // read, FIN_WAIT_2 must not wait for the peer's FIN forever (the FIN_WAIT_2 timeout
      // starts here if that state was entered before).
      if (full && m_state == tcp::state::fin_wait_2 && !m_timers.is_set(timer_kind::close))
        start_fin_wait_2_timeout(now);
      return;
    }
    switch (m_state) {
      case tcp::state::syn_received:
      case tcp::state::established:
        // §3.10.4 ESTABLISHED: "Queue this until all preceding SENDs have been segmentized, then
        // form a FIN segment and send it. In any case, enter FIN-WAIT-1 state." SYN_RCVD: the
        // diagram's "CLOSE / snd FIN" arrow; our SYN, if unacknowledged, is resent with it.
        m_fin_queued = true;
        set_state(tcp::state::fin_wait_1);
        break;
      case tcp::state::close_wait:
        // §3.10.4 CLOSE-WAIT: "Queue this request until all preceding SENDs have been
        // segmentized; then send a FIN segment, enter LAST-ACK state."
        m_fin_queued = true;
        set_state(tcp::state::last_ack);
        break;
      default:
        break; // FIN_WAIT_*, CLOSING, LAST_ACK, TIME_WAIT: already closing.
    }
  }

  /// Enters TIME-WAIT (RFC 9293 §3.10.7.4, from CLOSING, FIN-WAIT-1 or FIN-WAIT-2): "start the
  /// time-wait timer, turn off the other timers". For the application the connection is over.
  void enter_time_wait(instant now) {
    m_timers.clear_all();
    restart_time_wait(now);
    set_state(tcp::state::time_wait);
    raise(event::closed);
  }
  /// TIME-WAIT: "Restart the 2 MSL time-wait timeout" (the peer's FIN was retransmitted).
  void restart_time_wait(instant now) { m_timers.set(timer_kind::close, now + 2 * m_cfg.msl); }
  /// FIN-WAIT-2 after a full CLOSE: nobody will read what the peer sends, so the peer's FIN is
  /// not waited for forever (config::fin_wait_2_timeout, Linux's tcp_fin_timeout).
  void start_fin_wait_2_timeout(instant now) { m_timers.set(timer_kind::close, now + m_cfg.fin_wait_2_timeout); }
  /// RFC 9293 §3.10.8 "USER TIMEOUT" (config::user_timeout, RFC 5482's value): data has waited
  /// unacknowledged, or on a closed window, for longer than the user allows.
  auto user_timeout_expired(instant now) const noexcept -> bool {
    return m_cfg.user_timeout > duration::zero() && m_user_timer_start != instant{} &&
           now - m_user_timer_start >= m_cfg.user_timeout;
  }
  /// RFC 7323 §4.3 (2): "SEG.TSval is copied to TS.Recent" (rule R3 of §5.3), and when (for
  /// PAWS' 24-day rule, §5.5).
  void update_ts_recent(instant now, std::uint32_t tsval) noexcept {
    m_ts_recent = tsval;
    m_ts_recent_time = now;
  }
  /// An acceptable segment shows the peer is alive (RFC 1122 §4.2.3.6): the keep-alive count
  /// starts over, and the idle time.
  void note_peer_alive(instant now) {
    m_keepalive_sent = 0;
    if (m_cfg.keepalive) m_timers.set(timer_kind::keepalive, now + m_cfg.keepalive_idle);
  }

  /// Queues a RST (sent by the next poll_transmit): <SEQ=seq><CTL=RST> or, with an ack,
  /// <SEQ=seq><ACK=ack><CTL=RST,ACK>.
  void queue_rst(seq_number seq, std::optional<seq_number> ack) { m_reply = control_reply{seq, ack}; }

  /// Ends an orphan (reset_orphan(), or the orphan_retries limit): a RST in every state where
  /// the peer still has the connection open, so it frees its side too; then CLOSED. TIME_WAIT
  /// just goes (RFC 9293 §3.10.5 ABORT: "respond with ok and delete the TCB").
  void give_up_orphan(error e) {
    if (in_state(m_state, tcp::state::syn_received | synchronized_states) && m_state != tcp::state::time_wait)
      queue_rst(m_snd_nxt, std::nullopt);
    enter_closed(e);
  }

  // Path MTU (RFC 1191), hardened against forged "fragmentation needed" (RFC 5927 §7).
  /// Whether `seq` lies in the oldest unacknowledged segment, [SND.UNA, SND.UNA + SMSS).
  auto in_oldest_segment(seq_number seq) const noexcept -> bool {
    return m_snd_una <= seq && seq < m_snd_nxt && static_cast<std::uint32_t>(seq - m_snd_una) < effective_mss_base();
  }
  /// "Fragmentation needed" quoting `quoted_seq` (in flight) with `next_hop_mtu`.
  auto on_frag_needed(instant now, seq_number quoted_seq, std::uint16_t next_hop_mtu) -> bool {
    // RFC 1191 §3: "A host MUST never reduce its estimate of the Path MTU below 68 octets."
    if (next_hop_mtu < 68) return false;
    // The floor: Linux's min_pmtu (552). A next-hop MTU below it is raised to it (as Linux
    // does), so a forged "MTU 108" (an MSS of 64, 25 times the segments) costs at most an MSS
    // of 512. RFC 8201 §4 sets the same kind of floor for IPv6: "A node MUST NOT reduce its
    // estimate of the Path MTU below the IPv6 minimum link MTU."
    auto mtu = next_hop_mtu;
    if (mtu < m_cfg.min_pmtu) {
      ++m_shared->stats.pmtu_clamped;
      mtu = std::max<std::uint16_t>(m_cfg.min_pmtu, 68);
    }
    const auto mss = static_cast<std::uint16_t>(mtu - 40);
    // RFC 1191 §3: "A host MUST not increase its estimate of the Path MTU in response to the
    // contents of a Datagram Too Big message"; one we already respect changes nothing.
    if (mss >= mss_cap()) return false;
    // The quoted segment must be the oldest one unacknowledged, not any in flight (RFC 5927
    // §4.1 checks only [SND.UNA, SND.NXT), which Linux does too): when a path's MTU drops,
    // every segment in flight is too big and the first message a router sends quotes the
    // oldest, so a real reduction is not missed (a later quote is ignored, and the oldest
    // segment's retransmission brings a message that qualifies), while a blind attacker must
    // now guess SND.UNA within one segment instead of anywhere in the flight.
    if (!in_oldest_segment(quoted_seq)) {
      ++m_shared->stats.pmtu_not_oldest;
      return false;
    }
    // RFC 5927 §7.3, the counter-measure to the PMTUD attack (OpenBSD's and NetBSD's
    // TF_PMTUD_PEND): when an acknowledgment since the last change covered more data than one
    // segment under the claimed MTU carries (a larger segment crossed the path), the claim
    // contradicts what the path just carried. It is then not acted on at once but remembered,
    // and applied only if the quoted segment times out (really lost); if that segment is
    // acknowledged, the claim was false and is forgotten. A claim consistent with what was
    // acknowledged (nothing yet, at the start of a flight, or only smaller segments) is applied
    // at once, like Linux's "fast" path MTU discovery.
    const auto payload = static_cast<std::uint16_t>(mss - (m_ts_ok ? 12 : 0));
    if (payload < m_pmtu_acked) {
      // Several claims: keep the one about the oldest segment (OpenBSD), the smaller MTU on a tie.
      if (m_pmtu_pending_mss == 0 || quoted_seq < m_pmtu_pending_seq ||
          (quoted_seq == m_pmtu_pending_seq && mss < m_pmtu_pending_mss)) {
        m_pmtu_pending_seq = quoted_seq;
        m_pmtu_pending_mss = mss;
      }
      ++m_shared->stats.pmtu_deferred;
      return false;
    }
    lower_path_mss(now, mss);
    m_recovery.retransmit_head(effective_mss_base()); // the segment that was too big, in the new size
    return true;
  }
  /// RFC 1191 §6.1: the MSS follows the path MTU (minus 40 bytes of IPv4 and TCP headers).
  void lower_path_mss(instant now, std::uint16_t mss) {
    m_path_mss = mss;
    m_pmtu_acked = 0;
    m_pmtu_pending_mss = 0;
    m_cc.set_smss(effective_mss_base());
    m_recovery.set_smss(effective_mss_base());
    ++m_shared->stats.pmtu_reductions;
    // RFC 1191 §6.3: "When a PMTU value has not been decreased for a while (on the order of 10
    // minutes), the PMTU estimate should be set to the first-hop data-link MTU, and the
    // packetization layers should be notified of the change." Each decrease restarts the wait.
    if (m_cfg.pmtu_expires > duration::zero()) m_timers.set(timer_kind::pmtu, now + m_cfg.pmtu_expires);
  }
  /// The pmtu timer expired (RFC 1191 §6.3, above): back to the link's MTU; if the path is still
  /// narrow, the next "fragmentation needed" lowers it again.
  void raise_path_mss() {
    if (m_path_mss == 0xffff) return;
    m_path_mss = 0xffff;
    m_pmtu_acked = 0;
    m_pmtu_pending_mss = 0;
    m_cc.set_smss(effective_mss_base());
    m_recovery.set_smss(effective_mss_base());
    ++m_shared->stats.pmtu_increases;
  }
  /// SND.UNA advanced by `acked` bytes (tcp/input.hpp on_new_ack): the largest segment known to
  /// have crossed the path since the last change, and a deferred claim about a segment that was
  /// acknowledged is forgotten (it was false).
  void pmtu_on_ack(std::uint32_t acked) noexcept {
    m_pmtu_acked = static_cast<std::uint16_t>(
        std::max<std::uint32_t>(m_pmtu_acked, std::min<std::uint32_t>(acked, effective_mss_base())));
    if (m_pmtu_pending_mss != 0 && m_pmtu_pending_seq < m_snd_una) m_pmtu_pending_mss = 0;
  }
  /// The retransmission timer expired: a deferred claim about the segment that timed out was
  /// perhaps true after all (RFC 5927 §7.3); it is applied before the retransmission.
  void pmtu_on_rto(instant now) {
    if (m_pmtu_pending_mss == 0) return;
    const auto mss = std::exchange(m_pmtu_pending_mss, 0);
    if (in_oldest_segment(m_pmtu_pending_seq) && mss < mss_cap()) lower_path_mss(now, mss);
  }

  // Sequence space helpers.
  /// Sequence number just past the last data byte queued by the application.
  auto data_end() const noexcept -> seq_number { return m_snd_buf_seq + static_cast<std::uint32_t>(m_sndbuf.size()); }
  /// The FIN's sequence number (valid when m_fin_queued).
  auto fin_seq() const noexcept -> seq_number { return data_end(); }
  /// One past the last sequence number that can be sent (SYN, data, FIN).
  auto send_end() const noexcept -> seq_number { return m_fin_queued ? fin_seq() + 1 : data_end(); }
  auto has_unsent() const noexcept -> bool { return m_snd_nxt < send_end(); }
  /// Our SYN is acknowledged. A flag, not `SND.UNA > ISS`: sequence numbers compare only within
  /// 2^31 of each other, so after 2 GiB that comparison turned false and the connection stopped
  /// sending (found by the bulk benchmark at 2,147 MB).
  auto syn_acked() const noexcept -> bool { return m_syn_acked; }
  auto fin_acked() const noexcept -> bool { return m_fin_queued && m_snd_una == fin_seq() + 1; }
  auto flight_size() const noexcept -> std::uint32_t { return static_cast<std::uint32_t>(m_snd_nxt - m_snd_una); }
  /// What loss recovery reads of the sender (tcp/loss_recovery.hpp).
  auto sender() const noexcept -> sender_state {
    return sender_state{m_snd_una, m_snd_nxt, effective_mss_base(), m_sack_ok};
  }

  /// The receive window we can offer: free space in the receive buffer.
  auto rcv_space() const noexcept -> std::uint32_t { return static_cast<std::uint32_t>(m_rcvbuf.free_space()); }
  /// RCV.WND as the peer sees it: the window we advertised last.
  auto rcv_wnd() const noexcept -> std::uint32_t {
    return m_rcv_adv > m_rcv_nxt ? static_cast<std::uint32_t>(m_rcv_adv - m_rcv_nxt) : 0;
  }
  /// The largest segment (payload + TCP options) we may send: the peer's MSS (RFC 9293 §3.7.1
  /// SendMSS; ours until its SYN arrived), our own (the link MTU's), and the path's (RFC 1191),
  /// whichever is smallest.
  auto mss_cap() const noexcept -> std::uint16_t {
    const std::uint16_t peer = m_peer_mss ? m_peer_mss : m_cfg.mss;
    return std::min({peer, m_cfg.mss, m_path_mss});
  }
  /// Payload per full-sized segment we send (RFC 5681's SMSS): RFC 9293 §3.7.1 "Eff.snd.MSS =
  /// min(SendMSS+20, MMS_S) - TCPhdrsize - IPoptionsize", with the timestamp option counted in
  /// TCPhdrsize (a segment that carries SACK blocks too is cut shorter by emit_range); at least
  /// 64.
  auto effective_mss_base() const noexcept -> std::uint16_t {
    const auto mss = mss_cap();
    const std::uint16_t ts = m_ts_ok ? 12 : 0;
    return static_cast<std::uint16_t>(std::max<int>(mss - ts, 64));
  }
  /// The congestion controller: of the policy's type, or of the configured kind when the policy
  /// chooses at run time (any_controller).
  static auto make_controller(const tcp::config& cfg, const congestion_config& cc) -> congestion_type {
    if constexpr (std::is_same_v<congestion_type, any_controller>) {
      return any_controller{cfg.congestion, cc};
    } else {
      return congestion_type{cc};
    }
  }
  static auto make_rtt_config(const tcp::config& cfg) noexcept -> rtt_config {
    rtt_config r;
    r.initial_rto = cfg.rto_initial;
    r.min_rto = cfg.rto_min;
    r.max_rto = cfg.rto_max;
    return r;
  }
  static constexpr auto clamp32(std::size_t v) noexcept -> std::uint32_t {
    return static_cast<std::uint32_t>(std::min<std::size_t>(v, 0xffffffffu));
  }
  /// The congestion window in bytes (a `none` controller's "unlimited" becomes 4 GiB - 1).
  auto cwnd() const noexcept -> std::uint32_t { return clamp32(m_cc.cwnd()); }
  /// Our SYN has just been acknowledged (SND.UNA and the send window are set): the one place a
  /// handshake completes, whichever way it went: the SYN-ACK in SYN-SENT (RFC 9293 §3.10.7.3),
  /// the ACK in SYN-RECEIVED (§3.10.7.4), a SYN cookie's ACK (accept_cookie), or the ACK that
  /// reaches FIN-WAIT-1 after a CLOSE in SYN-RECEIVED (§3.10.4; the state stays FIN-WAIT-1).
  /// Enters ESTABLISHED from SYN-SENT or SYN-RECEIVED; anchors the SACK scoreboard at SND.UNA;
  /// RFC 6298 (5.7) and RFC 5681 §3.1 "If the SYN or SYN/ACK is lost, the initial window used by
  /// a sender after a correctly transmitted SYN MUST be one segment consisting of at most SMSS
  /// bytes."; signals "connected"; starts the keep-alive timer.
  void complete_handshake(instant now) {
    if (in_state(m_state, tcp::state::syn_sent | tcp::state::syn_received)) set_state(tcp::state::established);
    m_recovery.start(m_snd_una, effective_mss_base());
    m_rtt.on_handshake_complete(m_syn_timed_out);
    if (m_syn_timed_out) {
      m_cc = make_controller(m_cfg,
                             congestion_config{.smss = effective_mss_base(), .initial_window = effective_mss_base()});
    }
    raise(event::connected);
    raise(event::writable);
    if (m_cfg.keepalive) m_timers.set(timer_kind::keepalive, now + m_cfg.keepalive_idle);
  }
  /// RFC 5961 §5.2: "the ACK value is considered acceptable only if it is in the range of
  /// ((SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT)".
  auto ack_acceptable(const wire::tcp_repr& seg) const noexcept -> bool {
    return !(seg.ack > m_snd_nxt || seg.ack < m_snd_una - m_max_snd_wnd);
  }
  /// RFC 7323 §5.5: "an implementation of PAWS [must] include a mechanism to "invalidate" the
  /// TS.Recent value when a connection is idle for more than 24 days".
  auto ts_recent_valid(instant now) const noexcept -> bool {
    return now - m_ts_recent_time <= std::chrono::hours{24 * 24};
  }
  auto tsval(instant now) const noexcept -> std::uint32_t {
    return static_cast<std::uint32_t>(now.millis()) + m_ts_offset;
  }

  // Input (tcp/input.hpp)
  void on_segment_listen(instant now, const wire::tcp_repr& seg);
  void on_segment_syn_sent(instant now, const wire::tcp_repr& seg);
  void on_segment_synchronized(instant now, const wire::tcp_repr& seg, bool syn_window = false);
  auto try_fast_path(instant now, const wire::tcp_repr& seg) -> bool;
  void deliver_in_order(instant now, bytes_view payload);
  /// The peer's segment size estimate (for the delayed-ACK rule) follows the largest text seen.
  void note_segment_size(std::size_t len) noexcept {
    m_rcv_mss = std::max<std::uint16_t>(m_rcv_mss, static_cast<std::uint16_t>(std::min<std::size_t>(len, m_cfg.mss)));
  }
  auto enqueue_in_order(bytes_view payload) -> std::size_t;
  // RFC 9293 §3.10.7.4's steps (and RFC 7323's checks before them), in order.
  auto check_timestamp_present(const wire::tcp_repr& seg) -> bool;
  auto take_syn_ack_in_syn_received(instant now, const wire::tcp_repr& seg) -> bool;
  auto check_paws(instant now, const wire::tcp_repr& seg) -> bool;
  auto first_check_sequence_number(instant now, const wire::tcp_repr& seg) -> bool;
  auto segment_acceptable(const wire::tcp_repr& seg) const -> bool;
  auto ts_recent_update_allowed(instant now, const wire::tcp_repr& seg) const -> bool;
  auto second_check_rst(instant now, const wire::tcp_repr& seg) -> bool;
  auto fourth_check_syn(instant now, const wire::tcp_repr& seg) -> bool;
  auto fifth_check_ack(instant now, const wire::tcp_repr& seg, bool syn_window) -> bool;
  auto ack_of_syn(instant now, const wire::tcp_repr& seg, bool syn_window) -> bool;
  void ack_established(instant now, const wire::tcp_repr& seg);
  auto ack_of_fin(instant now) -> bool;
  void process_text(instant now, const wire::tcp_repr& seg, seq_number seq, bytes_view payload);
  auto text_allowed() const noexcept -> bool;
  auto seventh_process_text(instant now, seq_number seq, bytes_view payload) -> bool;
  void eighth_check_fin(instant now, bool fin, seq_number text_end);
  void take_syn(instant now, const wire::tcp_repr& syn, seq_number wl2);
  void take_syn_options(const wire::tcp_options& syn);
  void process_fin(instant now);
  void update_send_window(const wire::tcp_repr& seg);
  void on_new_ack(instant now, const wire::tcp_repr& seg, std::uint32_t acked, bool left_recovery);
  void detect_loss(instant now, bool dup_ack);
  auto take_rtt_sample(instant now, const wire::tcp_repr& seg) -> std::optional<duration>;
  void send_limited_ack(instant now, bool challenge);
  void send_challenge_ack(instant now) { send_limited_ack(now, true); }
  void send_oow_ack(instant now, const wire::tcp_repr& seg);
  void schedule_ack(instant now, std::size_t payload_len, bool in_order);

  // Output (tcp/output.hpp): poll_transmit's steps, in order.
  template <class Emit>
  auto transmit_reset(Emit& emit, std::size_t& sent) -> bool;
  template <class Emit>
  auto retransmit_first_segment(instant now, Emit& emit, std::size_t& sent) -> bool;
  template <class Emit>
  auto retransmit_go_back_n(instant now, Emit& emit, std::size_t& sent) -> bool;
  template <class Emit>
  auto transmit_sack_recovery(instant now, Emit& emit, std::size_t& sent) -> bool;
  template <class Emit>
  auto transmit_new_data(instant now, Emit& emit, std::size_t& sent) -> bool;
  auto small_segment_allowed(std::uint32_t len, std::uint32_t unsent) const noexcept -> bool;
  void arm_persist_timer(instant now);
  template <class Emit>
  auto transmit_probes(instant now, Emit& emit, std::size_t& sent) -> bool;
  template <class Emit>
  void transmit_ack(instant now, Emit& emit, std::size_t& sent);
  template <class Emit>
  auto emit_range(instant now, Emit& emit, seq_number from, std::uint32_t max_len, bool rtx) -> std::uint32_t;
  template <class Emit>
  auto emit_ack(instant now, Emit& emit, seq_number seq) -> bool;
  auto build_header(instant now, seq_number seq, bool syn, bool fin) -> wire::tcp_repr;
  auto window_field() -> std::uint16_t;
  auto new_data_allowance(instant now) const -> std::uint32_t;
  auto should_send_window_update() const -> bool;
  void arm_retransmit(instant now);
  void on_retransmit_timeout(instant now);
  void on_persist_timeout(instant now);
  void on_keepalive_timeout(instant now);

  struct control_reply {
    seq_number seq;
    std::optional<seq_number> ack;
  };

  // -------- the TCB
  shared_context* m_shared;
  tcp::config m_cfg;
  four_tuple m_tuple;
  tcp::state m_state = tcp::state::closed;
  error m_error = error::none;
  event_set m_events = 0;
  bool m_active_open = false;

  // Send sequence variables (RFC 9293 §3.3.1).
  seq_number m_iss;
  bool m_syn_acked = false; // SND.UNA has passed ISS (see syn_acked())
  seq_number m_snd_una;
  seq_number m_snd_nxt;            // next sequence number to send for the first time (the highest sent + 1)
  seq_number m_snd_wl1;            // segment sequence number used for the last window update
  seq_number m_snd_wl2;            // segment acknowledgment number used for the last window update
  std::uint32_t m_snd_wnd = 0;     // the peer's window, scaled
  std::uint32_t m_max_snd_wnd = 0; // RFC 5961 §5.2 MAX.SND.WND; RFC 1122 §4.2.3.4 max window
  seq_number m_snd_buf_seq;        // sequence number of the first byte in m_sndbuf

  // Receive sequence variables.
  seq_number m_irs;
  seq_number m_rcv_nxt;
  seq_number m_rcv_adv;                // right edge of the window we advertised last (RCV.NXT + RCV.WND)
  std::optional<seq_number> m_ooo_fin; // a FIN that arrived beyond a hole

  // Options (RFC 9293 §3.7.1, RFC 7323, RFC 2018).
  std::uint16_t m_peer_mss = 0;
  std::uint16_t m_path_mss = 0xffff; // from "fragmentation needed" (RFC 1191)
  std::uint8_t m_snd_wscale = 0;     // applied to windows we receive
  std::uint8_t m_rcv_wscale = 0;     // applied to windows we send
  bool m_wscale_ok = false;
  bool m_sack_ok = false;
  bool m_ts_ok = false;
  std::uint32_t m_ts_offset;
  std::uint32_t m_ts_recent = 0; // RFC 7323 §4.3 TS.Recent
  instant m_ts_recent_time;      // when TS.Recent was set (PAWS' 24-day rule, §5.5)
  seq_number m_last_ack_sent;    // RFC 7323 §4.3 Last.ACK.sent

  // Path MTU discovery against forged "fragmentation needed" (RFC 5927 §7.3, on_frag_needed).
  std::uint16_t m_pmtu_acked = 0;       // most data one ACK covered since the path MTU last changed, up to a segment
  std::uint16_t m_pmtu_pending_mss = 0; // a deferred claim's MSS, or 0
  seq_number m_pmtu_pending_seq;        // ... and the sequence number it quoted

  // Buffers.
  ring_buffer m_sndbuf;
  ring_buffer m_rcvbuf;
  typename Policies::reassembly m_ooo;
  bytes_mut m_posted{};     // a waiting reader's buffer (post_read), or empty
  std::size_t m_placed = 0; // bytes of m_posted filled

  // Flags.
  bool m_fin_queued = false;   // the application closed its sending side
  bool m_fin_received = false; // the peer's FIN was processed (in order)
  bool m_read_closed = false;  // close() was called: no more reading
  bool m_orphan = false;       // released by the application (orphan())
  bool m_ack_now = false;      // an ACK must go out on the next poll
  bool m_window_update_check = false;
  bool m_syn_rtx_due = false; // the SYN (SYN-ACK) must be (re)sent
  std::optional<control_reply> m_reply;

  // Retransmission timer (RFC 6298), loss recovery (RFC 5681, 6582, 6675; tcp/loss_recovery.hpp)
  // and congestion control (tcp/congestion/).
  rtt_estimator m_rtt;
  rtt_sampler m_sampler;        // Karn: times one segment at a time
  bool m_syn_timed_out = false; // our SYN (SYN-ACK) was retransmitted by the timer
  loss_recovery<typename Policies::scoreboard> m_recovery;
  congestion_type m_cc;

  // Delayed ACK and receive-side estimates.
  std::uint32_t m_unacked_bytes = 0; // received in order since our last ACK
  std::uint16_t m_rcv_mss = 536;     // estimate of the peer's segment size

  // Timers.
  timer_table m_timers;
  instant m_last_send;        // last time data was sent (RFC 5681 §4.1 idle restart)
  instant m_user_timer_start; // when unacknowledged data / zero window began (user timeout)
  std::uint8_t m_persist_backoff = 0;
  std::uint8_t m_keepalive_sent = 0;
  std::optional<instant> m_last_challenge_ack; // RFC 5961 §7: the per-connection limit
  bool m_persist_probe_due = false;            // the SWS override timer fired: send what the window allows
  bool m_zero_window_probe_due = false;
  bool m_keepalive_probe_due = false;
};

} // namespace synack::tcp

#include "synack/tcp/input.hpp"
#include "synack/tcp/output.hpp"
