// Fuzz target: one tcp::connection<> driven through a conversation the fuzzer chooses (the
// format is in connection_ops.hpp): segments whose numbers are relative to the connection's own
// (so they are often in the window), application calls, clock steps and ICMP errors. After
// every step the TCB invariants are checked:
//   - SND.UNA =< SND.NXT, and SND.NXT - SND.UNA within the send buffer (+ SYN and FIN);
//   - SND.UNA and RCV.NXT only move forward (modulo 2^32) once set;
//   - the buffers stay within their bounds, and the window we offer fits the receive buffer;
//   - every state change is an arrow of RFC 9293 §3.3.2's diagram (or to CLOSED: RST, ABORT,
//     a timeout), seen through shared_context::on_state_change;
//   - CLOSED keeps no timer; TIME-WAIT has one; unacknowledged data has a retransmission
//     timer (RFC 6298 §5.1); a timer that ran is not due again at once (no busy loop);
//   - every segment sent parses (checksum verified), carries an ACK unless it is our first SYN
//     or a RST, stays in [ISS, SND.NXT], fits the MSS (RFC 9293 §3.7.1), and carries exactly
//     the bytes the application queued at those sequence numbers;
//   - the bytes the application reads are exactly the peer's bytes at those sequence numbers;
//   - a forged segment built to be dropped (op 12: no ACK bit, an unacceptable ACK, or out of the
//     window, with any timestamp) changes no field of the TCB but the ACK it owes, the
//     challenge-ACK timer and a RST answer (tcp::connection::snapshot()).
#include <algorithm>
#include <array>
#include <vector>

#include <fmt/format.h>

#include "connection_ops.hpp"
#include "fuzz_target.hpp"
#include "synack/tcp/connection.hpp"

using namespace synack;
using namespace synack::tcp;
using namespace std::chrono_literals;
using namespace synack_fuzz;
using namespace synack_fuzz::conn_ops;
using wire::seq_number;
using wire::tcp_flag;

namespace {

constexpr wire::endpoint local_ep{wire::ipv4_address{192, 0, 2, 2}, 7788};
constexpr wire::endpoint remote_ep{wire::ipv4_address{192, 0, 2, 1}, 49152};
constexpr seq_number local_iss{0xfffff000}; // close to the wrap: modular arithmetic is exercised
constexpr seq_number peer_iss{0x7ffff800};

/// RFC 9293 §3.3.2 Figure 5, one entry per arrow. Any state may also go to CLOSED (RST, ABORT,
/// the retransmission or user timeout), checked separately.
constexpr std::array<std::pair<state, state>, 18> legal_arrows{{
    {state::closed, state::listen},            // passive OPEN
    {state::closed, state::syn_sent},          // active OPEN / snd SYN
    {state::listen, state::syn_received},      // rcv SYN / snd SYN,ACK
    {state::listen, state::syn_sent},          // SEND / snd SYN
    {state::syn_sent, state::syn_received},    // rcv SYN / snd SYN,ACK (simultaneous open)
    {state::syn_sent, state::established},     // rcv SYN,ACK / snd ACK
    {state::syn_received, state::established}, // rcv ACK of SYN
    {state::syn_received, state::fin_wait_1},  // CLOSE / snd FIN
    {state::syn_received, state::listen},      // rcv RST (passive)
    {state::established, state::fin_wait_1},   // CLOSE / snd FIN
    {state::established, state::close_wait},   // rcv FIN / snd ACK
    {state::fin_wait_1, state::fin_wait_2},    // rcv ACK of FIN
    {state::fin_wait_1, state::closing},       // rcv FIN / snd ACK
    {state::fin_wait_2, state::time_wait},     // rcv FIN / snd ACK
    {state::closing, state::time_wait},        // rcv ACK of FIN
    {state::close_wait, state::last_ack},      // CLOSE / snd FIN
    {state::last_ack, state::closed},          // rcv ACK of FIN
    {state::time_wait, state::closed},         // timeout = 2MSL
}};

auto legal(state from, state to) -> bool {
  if (to == state::closed) return true;
  return std::any_of(legal_arrows.begin(), legal_arrows.end(),
                     [&](const auto& a) { return a.first == from && a.second == to; });
}

struct driver {
  shared_context shared;
  tcp::config cfg;
  connection<> conn;
  instant now = instant::from_millis(1000);
  bool active = false;
  // Tracking for the invariants.
  bool una_known = false, rcv_known = false;
  seq_number last_una, last_rcv_nxt;
  std::uint64_t app_queued = 0; // bytes the application queued so far (our stream offset)
  bool rx_known = false;
  bool edge_known = false;
  seq_number last_edge; // the right edge of the window we advertised last
  seq_number rx_seq;    // sequence number of the next byte the application reads
  std::uint32_t peer_ts = 1000, last_tsval = 0;
  std::vector<std::byte> scratch = std::vector<std::byte>(64 * 1024);
  std::vector<std::byte> posted_buf = std::vector<std::byte>(64 * 1024); // a posted read (op 11)
  std::size_t posted_len = 0;
  bool posted = false;
  std::vector<std::byte> payload_buf;
  std::string why;

  driver(const tcp::config& c) : cfg(c), conn(shared, c, four_tuple{local_ep, remote_ep}, local_iss, 12345) {
    shared.observer = this;
    shared.on_state_change = [](void*, const four_tuple&, state from, state to) {
      if (!legal(from, to)) {
        const auto msg = fmt::format("{} -> {}", from, to);
        fail(__FILE__, __LINE__, "a state change that is not an arrow of RFC 9293 §3.3.2", msg.c_str());
      }
    };
  }

  auto synchronized() const -> bool { return in_state(conn.state(), state::syn_received | synchronized_states); }

  /// Poll and check every segment sent.
  void poll() {
    struct sent {
      seq_number seq;
      std::uint32_t len;
      bool rst;
    };
    std::vector<sent> segs;
    conn.poll_transmit(now, [&](const tx_segment& t) {
      check_segment(t);
      segs.push_back({t.repr.seq, t.repr.segment_len() + static_cast<std::uint32_t>(t.payload_len()),
                      t.repr.flags.has(tcp_flag::rst)});
      return true;
    });
    const auto tcb = conn.tcb();
    for (const auto& s : segs) {
      if (s.rst) continue;
      const auto where = fmt::format("seq={} len={} SND.UNA={} SND.NXT={} ISS={} {}", s.seq, s.len, tcb.snd_una,
                                     tcb.snd_nxt, local_iss, conn.state());
      // SND.UNA - 1: zero-window and keep-alive probes (RFC 1122 §4.2.3.6).
      SYNACK_FUZZ_CHECK(seq_number{tcb.snd_una - 1} <= s.seq, where.c_str());
      SYNACK_FUZZ_CHECK(s.seq + s.len <= tcb.snd_nxt, where.c_str());
    }
    check_invariants();
    // RFC 6298 §5.1: data in flight always has a retransmission timer.
    if (in_state(conn.state(), state::syn_sent | state::syn_received | state::established | state::fin_wait_1 |
                                   state::close_wait | state::closing | state::last_ack) &&
        tcb.snd_una != tcb.snd_nxt)
      SYNACK_FUZZ_CHECK(conn.next_deadline().has_value(), "data in flight without a retransmission timer");
  }

  void check_segment(const tx_segment& t) {
    const auto& r = t.repr;
    SYNACK_FUZZ_CHECK(r.header_len() <= wire::tcp_max_header_len, "options too long");
    // It parses, checksum verified, to what was meant.
    std::vector<std::byte> bytes(r.header_len() + t.payload_len());
    auto at = bytes.data() + r.header_len();
    for (auto piece : t.payload) {
      if (piece.empty()) continue;
      std::memcpy(at, piece.data(), piece.size());
      at += piece.size();
    }
    r.emit_header(bytes_mut{bytes}, t.payload_len(), local_ep.addr, remote_ep.addr);
    auto p = wire::tcp_repr::parse(wire::tcp_packet<bytes_view>{bytes_view{bytes}}, local_ep.addr, remote_ep.addr);
    SYNACK_FUZZ_CHECK(p.has_value(), "a segment we sent does not parse");
    SYNACK_FUZZ_CHECK(p->seq == r.seq && p->flags == r.flags && p->window == r.window, "parses differently");
    SYNACK_FUZZ_CHECK(r.src_port == local_ep.port && r.dst_port == remote_ep.port, "ports");
    if (r.flags.has(tcp_flag::rst)) {
      SYNACK_FUZZ_CHECK(t.payload_len() == 0 && !r.flags.has(tcp_flag::syn) && !r.flags.has(tcp_flag::fin),
                        "a RST with data, SYN or FIN");
      return;
    }
    SYNACK_FUZZ_CHECK(!in_state(conn.state(), state::closed | state::listen),
                      "a segment other than RST from "
                      "CLOSED or LISTEN");
    const bool syn = r.flags.has(tcp_flag::syn);
    // RFC 9293 §3.10.7.4: once synchronized every segment carries an ACK; only the active SYN has none.
    SYNACK_FUZZ_CHECK(r.flags.has(tcp_flag::ack) || (syn && conn.state() == state::syn_sent), "no ACK bit");
    if (syn) {
      SYNACK_FUZZ_CHECK(r.seq == local_iss && t.payload_len() == 0, "a SYN not at ISS, or with data");
      SYNACK_FUZZ_CHECK(r.window <= 65535, "window");
    }
    SYNACK_FUZZ_CHECK(local_iss <= r.seq || r.seq == local_iss - 1, "a segment before ISS");
    if (r.options.timestamps) last_tsval = r.options.timestamps->tsval;
    if (r.flags.has(tcp_flag::ack)) {
      // We acknowledge exactly what we have: RCV.NXT (RFC 9293 §3.10.7.4, <ACK=RCV.NXT>).
      const auto tcb = conn.tcb();
      SYNACK_FUZZ_CHECK(r.ack == tcb.rcv_nxt, "an ACK other than RCV.NXT");
      if (!syn) {
        // RFC 9293 §3.8.6.2.2 and RFC 7323 §2.4: the right edge of the window we offer never
        // moves back ("shrinking the window" is strongly discouraged; synack never does it).
        const auto o = conn.options();
        const auto edge = r.ack + (std::uint32_t{r.window} << (o.window_scaling ? o.rcv_wscale : 0));
        if (edge_known) {
          const auto where = fmt::format("edge {} after {}", edge, last_edge);
          SYNACK_FUZZ_CHECK(last_edge <= edge, where.c_str());
        }
        last_edge = edge;
        edge_known = true;
      }
    }
    // RFC 9293 §3.7.1: never more than the MSS (payload + options); a tiny MSS is clamped to 64.
    const auto o = conn.options();
    const auto our_mss = conn.config().mss; // cfg's, with what it leaves to a host filled in
    const std::uint32_t mss = std::min<std::uint32_t>(o.peer_mss ? o.peer_mss : our_mss, our_mss);
    const auto opt_len = static_cast<std::uint32_t>(r.header_len() - 20);
    if (t.payload_len() > 1)
      SYNACK_FUZZ_CHECK(t.payload_len() + opt_len <= std::max<std::uint32_t>(mss, 64), "a segment over the MSS");
    // The payload is what the application queued at those sequence numbers.
    if (t.payload_len() > 0) {
      const auto offset = static_cast<std::uint32_t>(r.seq - (local_iss + 1));
      std::size_t i = 0;
      for (auto piece : t.payload)
        for (auto b : piece) {
          SYNACK_FUZZ_CHECK(std::to_integer<std::uint8_t>(b) == app_byte(std::uint64_t{offset} + i),
                            "we sent bytes the application did not queue there");
          ++i;
        }
      SYNACK_FUZZ_CHECK(std::uint64_t{offset} + i <= app_queued, "we sent bytes past what was queued");
    }
  }

  void check_invariants() {
    const auto s = conn.state();
    const auto t = conn.tcb();
    if (s != state::closed || una_known) {
      SYNACK_FUZZ_CHECK(t.snd_una <= t.snd_nxt, "SND.UNA > SND.NXT");
      SYNACK_FUZZ_CHECK(static_cast<std::uint32_t>(t.snd_nxt - t.snd_una) <= cfg.send_buffer + 2,
                        "more in flight than the send buffer");
    }
    if (una_known) SYNACK_FUZZ_CHECK(last_una <= t.snd_una, "SND.UNA moved back");
    if (s != state::closed && s != state::listen) {
      last_una = t.snd_una;
      una_known = true;
    }
    if (rcv_known) SYNACK_FUZZ_CHECK(last_rcv_nxt <= t.rcv_nxt, "RCV.NXT moved back");
    if (synchronized()) {
      if (rcv_known)
        SYNACK_FUZZ_CHECK(static_cast<std::uint32_t>(t.rcv_nxt - last_rcv_nxt) <= cfg.recv_buffer + 1,
                          "RCV.NXT moved by more than the buffer");
      last_rcv_nxt = t.rcv_nxt;
      rcv_known = true;
      if (!rx_known) {
        rx_seq = t.irs + 1;
        rx_known = true;
      }
    }
    SYNACK_FUZZ_CHECK(conn.readable() <= cfg.recv_buffer, "receive buffer over its size");
    SYNACK_FUZZ_CHECK(conn.send_queued() <= cfg.send_buffer, "send buffer over its size");
    if (s != state::closed) {
      // The window we offer fits the receive buffer (the window field is rounded up to the
      // scale: at most 2^14 - 1 more).
      SYNACK_FUZZ_CHECK(std::uint64_t{t.rcv_wnd} + conn.readable() <= std::uint64_t{cfg.recv_buffer} + (1u << 14),
                        "a window beyond the receive buffer");
      if (rx_known)
        SYNACK_FUZZ_CHECK(rx_seq + static_cast<std::uint32_t>(conn.placed() + conn.readable()) <= t.rcv_nxt,
                          "readable bytes beyond RCV.NXT");
    }
    if (s == state::closed) SYNACK_FUZZ_CHECK(!conn.next_deadline(), "a timer in CLOSED");
    if (s == state::time_wait) SYNACK_FUZZ_CHECK(conn.next_deadline().has_value(), "TIME-WAIT without its timer");
  }

  /// Takes back a posted read buffer and checks what the connection placed in it.
  void take_placed() {
    if (!posted) return;
    posted = false;
    const auto n = conn.take_placed();
    SYNACK_FUZZ_CHECK(n <= posted_len, "placed more than the posted buffer holds");
    for (std::size_t i = 0; i < n; ++i) check_read_byte(posted_buf[i]);
  }
  void post(std::size_t n) {
    take_placed();
    posted_len = std::min(n, posted_buf.size());
    conn.post_read(bytes_mut{posted_buf}.first(posted_len));
    posted = true;
  }

  void read(std::size_t n, bool zero_copy) {
    take_placed(); // placed bytes come before what the receive buffer holds
    if (zero_copy) {
      auto spans = conn.readable_spans();
      std::size_t k = 0;
      for (auto piece : {bytes_view{spans.first}, bytes_view{spans.second}})
        for (auto b : piece) {
          if (k == n) break;
          check_read_byte(b);
          ++k;
        }
      conn.consume(k);
      return;
    }
    n = std::min(n, scratch.size());
    const auto got = conn.recv(bytes_mut{scratch}.first(n));
    for (std::size_t i = 0; i < got; ++i) check_read_byte(scratch[i]);
  }
  void check_read_byte(std::byte b) {
    SYNACK_FUZZ_CHECK(rx_known, "data read before the connection was synchronized");
    SYNACK_FUZZ_CHECK(std::to_integer<std::uint8_t>(b) == peer_byte(rx_seq.raw()),
                      "read a byte the peer did not send at that sequence number");
    rx_seq += 1;
  }

  void app_send(std::size_t n) {
    payload_buf.resize(n);
    for (std::size_t i = 0; i < n; ++i) payload_buf[i] = std::byte{app_byte(app_queued + i)};
    app_queued += conn.send(bytes_view{payload_buf});
  }

  /// Runs the timers due by `end` (each deadline in turn, polling after each, as the stack does).
  void advance_to(instant end) {
    for (int i = 0; i < 256; ++i) {
      const auto next = conn.next_deadline();
      if (!next || *next > end) break;
      now = std::max(now, *next);
      conn.on_timeout(now);
      poll();
      const auto again = conn.next_deadline();
      SYNACK_FUZZ_CHECK(!again || *again > now, "a timer still due right after it ran (busy loop)");
    }
    now = std::max(now, end);
  }

  auto rcv_base() const -> seq_number { return rcv_known ? conn.tcb().rcv_nxt : peer_iss + 1; }

  auto read_seq(reader& in) -> seq_number {
    const auto mode = in.u8() & 3;
    if (mode == raw_seq) return seq_number{in.u32()};
    const auto d = static_cast<std::uint32_t>(static_cast<std::int32_t>(in.i16()));
    switch (mode) {
      case rel_rcv_nxt:
        return rcv_base() + d;
      case rel_rcv_edge:
        return rcv_base() + conn.tcb().rcv_wnd + d;
      default:
        return peer_iss + d;
    }
  }
  auto read_ack(reader& in) -> seq_number {
    const auto mode = in.u8() & 3;
    if (mode == raw_ack) return seq_number{in.u32()};
    const auto d = static_cast<std::uint32_t>(static_cast<std::int32_t>(in.i16()));
    const auto t = conn.tcb();
    switch (mode) {
      case rel_snd_una:
        return t.snd_una + d;
      case rel_snd_nxt:
        return t.snd_nxt + d;
      default:
        return local_iss + d;
    }
  }

  void peer_segment(reader& in) {
    wire::tcp_repr r{};
    r.src_port = remote_ep.port;
    r.dst_port = local_ep.port;
    r.flags = wire::tcp_flags::from_bits(in.u8());
    r.seq = read_seq(in);
    r.ack = read_ack(in);
    r.window = in.u16();
    const auto bits = in.u8();
    if (bits & 1) r.options.mss = in.u16();
    if (bits & 2) r.options.window_scale = in.u8();
    if (bits & 4) r.options.sack_permitted = true;
    if (bits & 8) {
      const auto d = in.i16();
      const auto tsval = peer_ts + static_cast<std::uint32_t>(static_cast<std::int32_t>(d));
      if (d > 0) peer_ts = tsval;
      r.options.timestamps = wire::tcp_timestamps{tsval, last_tsval};
    }
    if (bits & 16) {
      const auto n = std::min<int>(in.u8(), 4);
      const auto una = conn.tcb().snd_una;
      for (int i = 0; i < n; ++i) {
        const auto left = una + in.u16();
        r.options.add_sack({left, left + in.u16()});
      }
    }
    const std::size_t len = in.u16() % 2048u;
    const auto first = r.seq + (r.flags.has(tcp_flag::syn) ? 1u : 0u);
    payload_buf.resize(len);
    for (std::size_t i = 0; i < len; ++i)
      payload_buf[i] = std::byte{peer_byte((first + static_cast<std::uint32_t>(i)).raw())};
    r.payload = bytes_view{payload_buf};
    conn.on_segment(now, r);
  }

  /// Op 12: a forged segment built to be dropped (connection_ops.hpp). Nothing of the TCB may
  /// change but the ACK it owes, the challenge-ACK timer and a RST answer: in particular not
  /// TS.Recent (RFC 7323 §4.3, §5.3 R3: a dropped segment with a TSval far ahead poisoned it, and
  /// every real segment failed PAWS after it).
  void forged_segment(reader& in) {
    const auto what = in.u8();
    auto flags = static_cast<std::uint8_t>(in.u8() & ~0x06); // never SYN or RST
    const auto ts_mode = in.u8() & 3;
    const auto ts_delta = in.u16();
    const auto seq_delta = in.u16();
    const auto ack_delta = in.u16();
    const std::size_t len = in.u16() % 2048u;
    const auto before = conn.snapshot();
    const auto t = conn.tcb();
    const bool other_side = (what & conn_ops::other_side) != 0;
    wire::tcp_repr r{};
    r.src_port = remote_ep.port;
    r.dst_port = local_ep.port;
    r.window = 1000;
    const auto nxt = rcv_base();
    switch ((what & 0x7f) % 3) {
      case conn_ops::no_ack_bit:
        flags = static_cast<std::uint8_t>(flags & ~0x10);
        r.seq = nxt + static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int16_t>(seq_delta)));
        break;
      case conn_ops::bad_ack: {
        flags = static_cast<std::uint8_t>(flags | 0x10);
        r.seq = nxt + static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int16_t>(seq_delta)));
        const auto max_wnd = static_cast<std::uint32_t>(*before.get("max_snd_wnd"));
        r.ack = other_side ? t.snd_una - max_wnd - 1u - ack_delta : t.snd_nxt + 1u + ack_delta;
        break;
      }
      default: {
        const auto seg_len = static_cast<std::uint32_t>(len) + ((flags & 0x01) ? 1u : 0u);
        r.seq = other_side ? nxt - seg_len - 1u - seq_delta : nxt + t.rcv_wnd + (t.rcv_wnd == 0 ? 1u : 0u) + seq_delta;
        r.ack = t.snd_una + static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int16_t>(ack_delta)));
        break;
      }
    }
    r.flags = wire::tcp_flags::from_bits(flags);
    switch (ts_mode) {
      case conn_ops::ts_far_ahead:
        r.options.timestamps = wire::tcp_timestamps{peer_ts + (1u << 30) + ts_delta, last_tsval};
        break;
      case conn_ops::ts_near:
        r.options.timestamps = wire::tcp_timestamps{
            peer_ts + static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int16_t>(ts_delta))),
            last_tsval};
        break;
      case conn_ops::ts_raw:
        r.options.timestamps = wire::tcp_timestamps{std::uint32_t{ts_delta} << 16, last_tsval};
        break;
      default:
        break;
    }
    payload_buf.resize(len);
    for (std::size_t i = 0; i < len; ++i)
      payload_buf[i] = std::byte{peer_byte((r.seq + static_cast<std::uint32_t>(i)).raw())};
    r.payload = bytes_view{payload_buf};
    conn.on_segment(now, r);
    const auto changed = before.diff(conn.snapshot(), {"ack_now", "last_challenge_ack", "reply"});
    if (!changed.empty()) {
      const auto where = fmt::format("forged {} in {}: seq={} ack={} flags={:#x} ts mode {}; changed: {}", what,
                                     conn.state(), r.seq, r.ack, flags, ts_mode, changed);
      SYNACK_FUZZ_CHECK(changed.empty(), where.c_str());
    }
  }

  void run(reader& in) {
    if (active)
      conn.open(now);
    else
      conn.listen();
    check_invariants();
    poll();
    for (int steps = 0; !in.empty() && steps < 4096; ++steps) {
      const auto op = in.u8();
      switch (op & 15) {
        case conn_ops::segment:
          peer_segment(in);
          break;
        case conn_ops::send:
          app_send(in.u16());
          break;
        case conn_ops::recv:
          read(in.u16(), false);
          break;
        case conn_ops::close:
          conn.close(now);
          break;
        case conn_ops::shutdown:
          conn.shutdown_write(now);
          break;
        case conn_ops::abort:
          conn.abort(now);
          break;
        case conn_ops::advance: {
          const auto v = in.u16();
          advance_to(now + ((op & conn_ops::in_seconds) ? duration{std::chrono::seconds{v}}
                                                        : duration{std::chrono::milliseconds{v}}));
          break;
        }
        case conn_ops::timer:
          if (auto d = conn.next_deadline()) advance_to(*d);
          break;
        case conn_ops::icmp: {
          const auto k = static_cast<connection<>::icmp_error_kind>(in.u8() % 3);
          const auto seq = read_ack(in);
          conn.on_icmp_error(now, k, seq, in.u16());
          break;
        }
        case conn_ops::options: {
          const auto b = in.u8();
          conn.set_nodelay((b & 1) != 0);
          conn.set_keepalive((b & 2) != 0, now);
          break;
        }
        case conn_ops::consume:
          read(in.u16(), true);
          break;
        case conn_ops::post:
          post(in.u16());
          break;
        case conn_ops::forged:
          forged_segment(in);
          break;
        default:
          break;
      }
      (void)conn.take_events();
      check_invariants();
      if ((op & conn_ops::no_poll) == 0) poll();
    }
  }
};

auto make_config(std::uint8_t b, std::uint8_t start) -> tcp::config {
  tcp::config c;
  c.window_scaling = (b & cfg_wscale) != 0;
  c.timestamps = (b & cfg_ts) != 0;
  c.sack = (b & cfg_sack) != 0;
  c.send_buffer = c.recv_buffer = (b & cfg_small) != 0 ? 4096 : 64 * 1024;
  c.nodelay = (b & cfg_nodelay) != 0;
  c.keepalive = (b & cfg_keepalive) != 0;
  c.keepalive_idle = 10s;
  c.keepalive_interval = 1s;
  c.keepalive_probes = 3;
  if (b & cfg_no_delack) c.delayed_ack = 0ms;
  if (b & cfg_user_timeout) c.user_timeout = 5s;
  if (start & 2) c.mss = 536;
  if (start & 4) c.header_prediction = false;
  return c;
}

} // namespace

SYNACK_FUZZ_TARGET(connection) {
  reader in{data, size};
  const auto cfg = in.u8();
  const auto start = in.u8();
  driver d{make_config(cfg, start)};
  d.active = (start & 1) != 0;
  d.run(in);
  return 0;
}
