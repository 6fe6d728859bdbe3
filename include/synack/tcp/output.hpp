// synack/tcp/output.hpp: the output path and the timers of a connection.
//
// poll_transmit() decides, in this order, what leaves now, one function per step:
//   1. transmit_reset: a queued RST (ABORT, or the answer to a segment that gets one);
//   2. retransmit_first_segment: the first unacknowledged segment (fast retransmit, partial
//      ACK, the SYN or SYN-ACK, a segment too big for the path);
//   3. retransmit_go_back_n: go-back-N after an RTO (RFC 6298 §5.4);
//   4. transmit_sack_recovery: RFC 6675 NextSeg() during SACK recovery;
//   5. transmit_new_data: new sequence space (the SYN, data, the FIN) within min(cwnd, peer
//      window), with Nagle's algorithm and sender-side silly window avoidance (RFC 1122
//      §4.2.3.4);
//   6. arm_persist_timer: the persist timer for data held back by the window;
//   7. transmit_probes: zero-window and keep-alive probes;
//   8. transmit_ack: an ACK, when one is owed and no segment above carried it.
// Loss recovery (tcp/loss_recovery.hpp) decides what steps 2-4 resend. Every segment is built
// from a range of the send sequence space by emit_range(), so the SYN, data and the FIN share
// one code path; emit_ack() builds segments without text. The timers are at the end.
#pragma once

#include "synack/tcp/connection.hpp"

namespace synack::tcp {

/// What leaves now, in this order (each step stops the poll when `emit` refuses a segment: the
/// link is full, and the next poll goes on from there).
template <class P>
template <class Emit>
auto connection<P>::poll_transmit(instant now, Emit&& emit) -> std::size_t {
  std::size_t sent = 0;
  if (!transmit_reset(emit, sent)) return sent;
  if (in_state(m_state, tcp::state::closed | tcp::state::listen)) return sent;
  if (!retransmit_first_segment(now, emit, sent)) return sent;
  if (!retransmit_go_back_n(now, emit, sent)) return sent;
  if (!transmit_sack_recovery(now, emit, sent)) return sent;
  if (!transmit_new_data(now, emit, sent)) return sent;
  arm_persist_timer(now);
  if (!transmit_probes(now, emit, sent)) return sent;
  transmit_ack(now, emit, sent);
  return sent;
}

/// 1. A queued RST: ABORT's "<SEQ=SND.NXT><CTL=RST>" (RFC 9293 §3.10.5), the reset of RFC 9293
/// §3.10.7 for a segment in CLOSED, LISTEN or SYN-SENT or a bad ACK in SYN-RECEIVED, data after
/// CLOSE (RFC 1122 §4.2.2.13). It leaves in any state, CLOSED included.
template <class P>
template <class Emit>
auto connection<P>::transmit_reset(Emit& emit, std::size_t& sent) -> bool {
  if (!m_reply) return true;
  wire::tcp_repr r{};
  r.src_port = m_tuple.local.port;
  r.dst_port = m_tuple.remote.port;
  r.seq = m_reply->seq;
  r.flags = wire::tcp_flags{wire::tcp_flag::rst};
  if (m_reply->ack) {
    r.flags = r.flags | wire::tcp_flag::ack;
    r.ack = *m_reply->ack;
  }
  if (!emit(tx_segment{r, {}, false})) return false;
  ++m_shared->stats.out_rsts;
  ++sent;
  m_reply.reset();
  return true;
}

/// 2. The first unacknowledged segment, when loss recovery asks for it (tcp/loss_recovery.hpp):
/// after three duplicate ACKs, RFC 5681 §3.2 step 2 "retransmit the lost segment"; a partial
/// ACK, RFC 6582 §3.2 step 3 "retransmit the first unacknowledged segment"; a SYN-ACK owed again
/// or an RTO of the SYN, RFC 6298 §5.4 "Retransmit the earliest segment that has not been
/// acknowledged"; a segment too big for the path (RFC 1191).
template <class P>
template <class Emit>
auto connection<P>::retransmit_first_segment(instant now, Emit& emit, std::size_t& sent) -> bool {
  const auto len = m_recovery.head_retransmission(effective_mss_base());
  if (!len) return true;
  const auto n = emit_range(now, emit, m_snd_una, *len, true);
  if (n == 0 && m_snd_una != m_snd_nxt) return false; // the link is full: try again later
  m_recovery.on_head_sent();
  if (n > 0) ++sent;
  return true;
}

/// 3. After an RTO, RFC 6298 §5.4 and RFC 5681 §3.1: the window restarts from one segment and
/// the unacknowledged data is sent again in order as the window opens (go-back-N), skipping
/// what the receiver SACKed since (loss_recovery::next_go_back_n).
template <class P>
template <class Emit>
auto connection<P>::retransmit_go_back_n(instant now, Emit& emit, std::size_t& sent) -> bool {
  while (const auto r = m_recovery.next_go_back_n(sender(), cwnd())) {
    const auto n = emit_range(now, emit, r->seq, r->len, true);
    if (n == 0) return false;
    m_recovery.on_go_back_n_sent(n);
    ++sent;
  }
  return true;
}

/// 4. During SACK recovery, RFC 6675 §5 step (C): "If cwnd - pipe >= 1 SMSS, the sender SHOULD
/// transmit one or more segments as follows: (C.1) The scoreboard MUST be queried via NextSeg ()
/// for the sequence number range of the next segment to transmit (if any)"
/// (loss_recovery::next_sack_segment). Rule (2) of NextSeg is new data, sent here too, within
/// the peer's window and without Nagle (recovery sends full segments).
template <class P>
template <class Emit>
auto connection<P>::transmit_sack_recovery(instant now, Emit& emit, std::size_t& sent) -> bool {
  while (true) {
    const auto window_end = m_snd_una + m_snd_wnd;
    const auto wnd_avail = window_end > m_snd_nxt ? static_cast<std::uint32_t>(window_end - m_snd_nxt) : 0u;
    const auto sendable_new = std::min(wnd_avail, static_cast<std::uint32_t>(send_end() - m_snd_nxt));
    const auto next = m_recovery.next_sack_segment(sender(), cwnd(), sendable_new);
    if (!next) return true;
    const bool fresh = next->rule == 2;
    const auto n = emit_range(now, emit, next->seq, next->len, !fresh);
    if (n == 0) return false;
    if (fresh) m_snd_nxt += n;
    m_recovery.on_sack_segment_sent(*next, n); // (C.2) HighRxt, or RescueRxt for rule (4)
    ++sent;
  }
}

/// 5. New sequence space: our SYN (RFC 9293 §3.10.1 OPEN: "A SYN segment of the form
/// <SEQ=ISS><CTL=SYN> is sent"), data (§3.10.2 SEND), and the FIN (§3.10.4 CLOSE), within
/// min(cwnd, the peer's window) (new_data_allowance), in segments of the MSS or TSO
/// super-segments, small ones only as Nagle and sender silly-window avoidance allow
/// (small_segment_allowed). Not while loss recovery resends (loss_recovery::holds_new_data).
template <class P>
template <class Emit>
auto connection<P>::transmit_new_data(instant now, Emit& emit, std::size_t& sent) -> bool {
  const auto mss = effective_mss_base();
  // With TSO, up to a super-segment of whole segments at once (emit_range cuts it to them).
  const auto burst = std::max<std::uint32_t>(mss, m_cfg.tso_max);
  while (has_unsent() && !m_recovery.holds_new_data(m_sack_ok, m_snd_nxt)) {
    const auto allowance = new_data_allowance(now);
    const auto unsent = static_cast<std::uint32_t>(send_end() - m_snd_nxt);
    auto len = std::min({unsent, allowance, burst});
    if (len == 0) break;
    if (syn_acked() && len < mss && !small_segment_allowed(len, unsent)) break;
    if (m_snd_nxt == m_snd_una && m_last_send != instant{} && now - m_last_send > m_rtt.rto()) {
      // RFC 5681 §4.1: "a TCP SHOULD set cwnd to no more than RW before beginning transmission
      // if the TCP has not sent data in an interval exceeding the retransmission timeout."
      m_cc.on_idle_restart(now, now - m_last_send, m_rtt.rto());
      len = std::min(len, new_data_allowance(now));
      if (len == 0) break;
    }
    const bool first_flight = m_snd_nxt == m_snd_una;
    const auto n = emit_range(now, emit, m_snd_nxt, len, false);
    if (n == 0) return false;
    if (first_flight && m_user_timer_start == instant{}) m_user_timer_start = now;
    m_snd_nxt += n;
    ++sent;
  }
  return true;
}

/// Whether a segment of `len` bytes, less than a full one, may leave now (`unsent`: all that is
/// queued). RFC 1122 §4.2.3.4: send "(a) if a maximum-sized segment can be sent; (b) if data is
/// pushed and all queued data can be sent now; or (c) if at least a fraction Fs of the maximum
/// window can be sent" (Fs = 1/2), and Nagle's algorithm: "If there is unacknowledged data ...,
/// the sending TCP buffers all user data ... until the outstanding data has been acknowledged
/// or until the TCP can send a full-sized segment". A queued FIN turns Nagle off for the last
/// segment, as in Linux. "(d) ... the override timeout occurs": when the persist timer fires,
/// send what the window allows even if it is less than all that is queued. Without it, a peer
/// whose window stays at a few bytes (its buffer full, SWS avoidance keeping the edge) was
/// never probed at all: a lost window update stalled the connection forever.
template <class P>
auto connection<P>::small_segment_allowed(std::uint32_t len, std::uint32_t unsent) const noexcept -> bool {
  if (len == unsent) {
    const bool in_flight = m_snd_nxt != m_snd_una;
    return m_cfg.nodelay || !in_flight || m_fin_queued || m_persist_probe_due;
  }
  return len >= m_max_snd_wnd / 2 || m_persist_probe_due;
}

/// 6. The persist timer: data waiting on a zero (or too small) window with nothing in flight
/// must move eventually. RFC 9293 §3.8.6.1: "The sending TCP peer must regularly transmit at
/// least one octet of new data (if available), or retransmit to the receiving TCP peer even if
/// the send window is zero, in order to "probe" the window"; RFC 1122 §4.2.3.4 (d), the SWS
/// override. Its timeout (on_persist_timeout) asks for the probe; this poll's SWS override is
/// used up.
template <class P>
void connection<P>::arm_persist_timer(instant now) {
  if (syn_acked() && has_unsent() && m_snd_nxt == m_snd_una && !m_timers.is_set(timer_kind::persist)) {
    const auto backoff = m_rtt.rto() * (1 << std::min<int>(m_persist_backoff, 10));
    m_timers.set(timer_kind::persist, now + std::clamp<duration>(backoff, m_cfg.rto_min, m_cfg.rto_max));
    if (m_user_timer_start == instant{}) m_user_timer_start = now;
  }
  m_persist_probe_due = false;
}

/// 7. Probes: a zero-window probe (RFC 9293 §3.8.6.1) and a keep-alive (RFC 1122 §4.2.3.6: "a
/// segment with sequence number SEG.SEQ = SND.NXT-1"), both "<SEQ=SND.UNA-1><ACK=RCV.NXT>" with
/// no data: outside the peer's window, so it answers with an ACK that carries its current
/// window (Linux probes a zero window the same way).
template <class P>
template <class Emit>
auto connection<P>::transmit_probes(instant now, Emit& emit, std::size_t& sent) -> bool {
  if (m_zero_window_probe_due) {
    if (!emit_ack(now, emit, m_snd_una - 1)) return false;
    m_zero_window_probe_due = false;
    ++m_shared->stats.zero_window_probes;
    ++sent;
  }
  if (m_keepalive_probe_due) {
    if (!emit_ack(now, emit, m_snd_una - 1)) return false;
    m_keepalive_probe_due = false;
    ++m_shared->stats.keepalive_probes;
    ++sent;
  }
  return true;
}

/// 8. An ACK still owed, "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>" (RFC 9293 §3.10.7.4), when no
/// segment above carried it: for text or a FIN (at once or when the delayed-ACK timer ran, RFC
/// 1122 §4.2.3.2), an unacceptable segment, a window update after reading (RFC 1122 §4.2.3.3,
/// should_send_window_update). In SYN-RECEIVED with our SYN unacknowledged the ACK we owe is
/// the SYN-ACK itself.
template <class P>
template <class Emit>
void connection<P>::transmit_ack(instant now, Emit& emit, std::size_t& sent) {
  if (m_window_update_check) {
    m_window_update_check = false;
    if (should_send_window_update()) m_ack_now = true;
  }
  if (!m_ack_now || !in_state(m_state, tcp::state::syn_received | synchronized_states)) return;
  if (m_state == tcp::state::syn_received && !syn_acked()) {
    if (emit_range(now, emit, m_iss, 0, true) > 0) ++sent;
  } else if (emit_ack(now, emit, m_snd_nxt)) {
    ++sent;
  }
}

/// Builds and emits the segment starting at `from` with at most `max_len` bytes of data (the
/// SYN or FIN is added when the range reaches it). Returns the sequence space it covered
/// (0 when there was nothing to send or `emit` refused it).
template <class P>
template <class Emit>
auto connection<P>::emit_range(instant now, Emit& emit, seq_number from, std::uint32_t max_len, bool rtx)
    -> std::uint32_t {
  const bool syn = from == m_iss && !syn_acked();
  const seq_number data_from = syn ? from + 1 : from;
  const auto available = data_end() > data_from ? static_cast<std::uint32_t>(data_end() - data_from) : 0u;
  std::uint32_t len = syn ? 0 : std::min(available, max_len); // no data rides on our SYN
  // A retransmission resends sequence space already sent, never beyond SND.NXT: new data waits
  // for the windows (RFC 5681 §3.1: "The minimum of cwnd and rwnd governs data transmission"),
  // and SND.NXT must cover everything sent. (A resend asked for one full segment, after
  // "fragmentation needed" or a partial ACK, may find less than that in flight.)
  const auto sent = m_snd_nxt > data_from ? static_cast<std::uint32_t>(m_snd_nxt - data_from) : 0u;
  if (rtx && !syn) len = std::min(len, sent);
  bool fin = !syn && m_fin_queued && data_from + len == fin_seq() && (!rtx || fin_seq() < m_snd_nxt);
  if (!syn && len == 0 && !fin) return 0;

  tx_segment seg;
  seg.repr = build_header(now, from, syn, fin);
  // Never exceed the peer's MSS: "Eff.snd.MSS" counts the options this segment carries.
  const auto mss = mss_cap();
  const auto options = static_cast<std::uint32_t>(seg.repr.header_len() - 20);
  const auto max_payload = mss > options ? mss - options : 1u;
  // TSO (config::tso_max): new data may leave as a super-segment of whole segments, which the
  // link cuts into segments of max_payload bytes, each with these headers. Whole segments only:
  // a short tail goes on as a segment of its own, under Nagle and SWS avoidance (RFC 1122
  // §4.2.3.4), as if it had been sent without offload.
  std::uint32_t limit = max_payload;
  if (!rtx && !syn && len > max_payload && m_cfg.tso_max >= 2 * max_payload + options) {
    limit = std::min(len, (m_cfg.tso_max - options) / max_payload * max_payload);
    limit -= limit % max_payload;
  }
  if (len > limit) {
    len = limit;
    fin = false;
    seg.repr.flags.clear(wire::tcp_flag::fin);
  }
  if (len > max_payload) seg.segment_size = static_cast<std::uint16_t>(max_payload);
  if (len > 0) {
    const auto spans = m_sndbuf.readable(static_cast<std::size_t>(data_from - m_snd_buf_seq), len);
    seg.payload = {bytes_view{spans.first}, bytes_view{spans.second}};
    // PSH on the segment that empties what we have to send (as BSD and Linux do).
    if (data_from + len == data_end()) seg.repr.flags = seg.repr.flags | wire::tcp_flag::psh;
  }
  seg.retransmission = rtx;
  if (!emit(static_cast<const tx_segment&>(seg))) return 0;

  const auto seg_len = len + (syn ? 1u : 0u) + (fin ? 1u : 0u);
  m_sampler.on_send(from + seg_len, now, rtx);
  if (rtx) {
    ++m_shared->stats.retrans_segs;
    m_recovery.on_retransmission_sent();
  } else {
    m_shared->stats.out_segs += seg.segment_size != 0 ? (len + seg.segment_size - 1) / seg.segment_size : 1;
  }
  if (seg.repr.flags.has(wire::tcp_flag::ack)) {
    m_last_ack_sent = m_rcv_nxt;
    m_ack_now = false;
    m_unacked_bytes = 0;
    m_timers.clear(timer_kind::delayed_ack);
  }
  if (len > 0) m_last_send = now;
  // RFC 6298 §5.1: "Every time a packet containing data is sent (including a retransmission),
  // if the timer is not running, start it running so that it will expire after RTO seconds".
  if (!m_timers.is_set(timer_kind::retransmit)) arm_retransmit(now);
  m_timers.clear(timer_kind::persist);
  return seg_len;
}

template <class P>
template <class Emit>
auto connection<P>::emit_ack(instant now, Emit& emit, seq_number seq) -> bool {
  tx_segment seg;
  seg.repr = build_header(now, seq, false, false);
  if (!emit(static_cast<const tx_segment&>(seg))) return false;
  ++m_shared->stats.out_segs;
  m_last_ack_sent = m_rcv_nxt;
  m_ack_now = false;
  m_unacked_bytes = 0;
  m_timers.clear(timer_kind::delayed_ack);
  return true;
}

/// The header of a segment at `seq`: ACK (once we know IRS), window, and options.
template <class P>
auto connection<P>::build_header(instant now, seq_number seq, bool syn, bool fin) -> wire::tcp_repr {
  wire::tcp_repr r{};
  r.src_port = m_tuple.local.port;
  r.dst_port = m_tuple.remote.port;
  r.seq = seq;
  wire::tcp_flags flags{};
  if (m_state != tcp::state::syn_sent) {
    flags = flags | wire::tcp_flag::ack;
    r.ack = m_rcv_nxt;
  }
  if (syn) {
    flags = flags | wire::tcp_flag::syn;
    // Our SYN offers what the config enables; a SYN-ACK answers only what the peer offered
    // (syn_options in tcp/handshake.hpp, which SYN cookies use too).
    if (m_state == tcp::state::syn_sent) {
      r.options = syn_options(m_cfg, m_cfg.window_scaling, m_cfg.sack,
                              m_cfg.timestamps ? std::optional{wire::tcp_timestamps{tsval(now), 0u}} : std::nullopt);
    } else {
      r.options = syn_options(m_cfg, m_wscale_ok, m_sack_ok,
                              m_ts_ok ? std::optional{wire::tcp_timestamps{tsval(now), m_ts_recent}} : std::nullopt);
    }
    // RFC 7323 §2.2: the window in a SYN is never scaled.
    r.window = syn_window(rcv_space());
  } else {
    r.window = window_field();
    if (m_ts_ok) r.options.timestamps = wire::tcp_timestamps{tsval(now), m_ts_recent};
    if (m_sack_ok && !m_ooo.empty()) {
      // RFC 2018 §4: the first block reports the most recently received segment; with
      // timestamps at most three blocks fit.
      const std::size_t max_blocks = m_ts_ok ? 3 : 4;
      const auto n = m_ooo.sack_blocks(m_rcv_nxt, std::span<wire::sack_block>{r.options.sack.data(), max_blocks});
      r.options.sack_count = static_cast<std::uint8_t>(n);
    }
  }
  if (fin) flags = flags | wire::tcp_flag::fin;
  r.flags = flags;
  return r;
}

/// The window field of a segment, and the new right edge it advertises.
/// RFC 1122 §4.2.3.3 (receiver SWS avoidance): "keep RCV.NXT+RCV.WND fixed until the reduction
/// satisfies: RCV.BUFF - RCV.USER - RCV.WND >= min( Fr * RCV.BUFF, Eff.snd.MSS )" (Fr = 1/2),
/// a closed window included: it reopens by at least that much, never by a few bytes. RFC 9293
/// §3.8.6.2.2: the edge is never moved back (no shrinking), even when window-scale rounding
/// would. Text is taken only up to this edge (process_text); a FIN, which needs no buffer, may
/// sit at it and leave RCV.NXT one beyond: the window is then zero.
template <class P>
auto connection<P>::window_field() -> std::uint16_t {
  const auto space = rcv_space();
  seq_number edge = m_rcv_nxt + space;
  const seq_number kept = m_rcv_adv > m_rcv_nxt ? m_rcv_adv : m_rcv_nxt;
  if (edge > kept) {
    const auto threshold = std::min<std::uint32_t>(m_cfg.recv_buffer / 2, m_rcv_mss);
    if (static_cast<std::uint32_t>(edge - kept) < threshold) edge = kept;
  }
  if (edge < m_rcv_adv) edge = m_rcv_adv;
  const auto wnd = static_cast<std::uint32_t>(edge - m_rcv_nxt);
  auto field = std::min<std::uint32_t>(wnd >> m_rcv_wscale, 65535);
  if (m_rcv_nxt + (field << m_rcv_wscale) < m_rcv_adv && field < 65535) ++field; // rounding must not shrink
  m_rcv_adv = m_rcv_nxt + (field << m_rcv_wscale);
  return static_cast<std::uint16_t>(field);
}

/// Whether reading opened the window enough to tell the peer now (RFC 1122 §4.2.3.3), rather
/// than waiting for the next segment: the edge moves by the SWS threshold, and the window we
/// last advertised is less than half of what we could offer (as Linux decides).
template <class P>
auto connection<P>::should_send_window_update() const -> bool {
  if (!in_state(m_state, tcp::state::established | tcp::state::fin_wait_1 | tcp::state::fin_wait_2)) return false;
  const auto current = rcv_wnd();
  // What the 16-bit field can carry at most (RFC 7323 §2.3): space beyond it cannot be
  // advertised, and an "update" that repeats the last ACK and window is a duplicate ACK to the
  // peer (RFC 5681 §2), three of which make it retransmit for nothing.
  const auto possible =
      static_cast<std::uint32_t>(std::min<std::uint64_t>(rcv_space(), std::uint64_t{65535} << m_rcv_wscale));
  if (possible <= current) return false;
  const auto threshold = std::min<std::uint32_t>(m_cfg.recv_buffer / 2, m_rcv_mss);
  return possible - current >= threshold && current <= possible / 2;
}

/// Bytes of new sequence space we may send now: min(cwnd - flight, SND.UNA + SND.WND -
/// SND.NXT) (RFC 5681 §3.1, RFC 9293 §3.8.6). Before our SYN is acknowledged only the SYN.
template <class P>
auto connection<P>::new_data_allowance(instant now) const -> std::uint32_t {
  (void)now;
  if (!syn_acked()) return m_snd_nxt == m_iss ? 1u : 0u;
  const auto window_end = m_snd_una + m_snd_wnd;
  const auto wnd_avail = window_end > m_snd_nxt ? static_cast<std::uint32_t>(window_end - m_snd_nxt) : 0u;
  const auto flight = m_recovery.in_flight(sender());
  const auto cw = cwnd();
  const auto cwnd_avail = cw > flight ? cw - flight : 0u;
  auto allowance = std::min(wnd_avail, cwnd_avail);
  // The FIN needs one sequence number but no window space.
  if (allowance == 0 && m_fin_queued && m_snd_nxt == fin_seq() && cwnd_avail > 0) allowance = 1;
  if (m_persist_probe_due && allowance == 0 && wnd_avail > 0) allowance = wnd_avail; // SWS override
  return allowance;
}

template <class P>
void connection<P>::arm_retransmit(instant now) {
  m_timers.set(timer_kind::retransmit, now + m_rtt.rto());
}

// -----------------------------------------------------------------------------------------
// Timers

template <class P>
void connection<P>::on_timeout(instant now) {
  if (m_timers.take_expired(timer_kind::close, now)) {
    // TIME_WAIT: "If the time-wait timeout expires on a connection, delete the TCB, enter the
    // CLOSED state, and return." Also the FIN_WAIT_2 timeout.
    enter_closed(error::none);
    return;
  }
  if (m_timers.take_expired(timer_kind::retransmit, now)) on_retransmit_timeout(now);
  if (m_state == tcp::state::closed) return;
  if (m_timers.take_expired(timer_kind::pmtu, now)) raise_path_mss();
  if (m_timers.take_expired(timer_kind::delayed_ack, now)) m_ack_now = true;
  if (m_timers.take_expired(timer_kind::persist, now)) on_persist_timeout(now);
  if (m_state == tcp::state::closed) return;
  if (m_timers.take_expired(timer_kind::keepalive, now)) on_keepalive_timeout(now);
}

/// RFC 6298 §5.4 - §5.6 and RFC 5681 §3.1 on a retransmission timeout.
template <class P>
void connection<P>::on_retransmit_timeout(instant now) {
  if (m_snd_una == m_snd_nxt) return;
  ++m_shared->stats.rto_expirations;
  pmtu_on_rto(now);
  // An orphan gives up after orphan_retries (Linux's tcp_orphan_retries; see orphan()).
  const auto retries = m_orphan ? std::min(m_cfg.max_retries, m_cfg.orphan_retries) : m_cfg.max_retries;
  const auto limit = syn_acked() ? retries : m_cfg.syn_retries;
  if (m_recovery.retries() >= limit || user_timeout_expired(now)) {
    ++m_shared->stats.timeouts;
    if (!syn_acked()) ++m_shared->stats.attempt_fails;
    if (m_orphan && m_recovery.retries() >= limit) ++m_shared->stats.orphans_timed_out;
    enter_closed(error::timed_out);
    return;
  }
  // (5.4) "Retransmit the earliest segment that has not been acknowledged": go-back-N after the
  // handshake, with RFC 5681 §3.1's loss window (tcp/loss_recovery.hpp), or the SYN.
  m_recovery.on_rto(m_cc, now, sender(), syn_acked());
  // (5.5) "The host MUST set RTO <- RTO * 2 ("back off the timer")."
  m_rtt.on_timeout();
  m_sampler.cancel();
  // A SYN resent by the timer: (5.7) "If the timer expires awaiting the ACK of a SYN segment ...
  // the RTO MUST be re-initialized to 3 seconds when data transmission begins" and RFC 5681
  // §3.1 "If the SYN or SYN/ACK is lost, the initial window ... MUST be one segment"
  // (complete_handshake).
  if (!syn_acked()) m_syn_timed_out = true;
  // (5.6) "Start the retransmission timer, such that it expires after RTO seconds (for the
  // value of RTO after the doubling operation outlined in 5.5)."
  arm_retransmit(now);
}

template <class P>
void connection<P>::on_persist_timeout(instant now) {
  if (!has_unsent() || m_snd_nxt != m_snd_una) return;
  if (user_timeout_expired(now)) {
    ++m_shared->stats.timeouts;
    enter_closed(error::timed_out);
    return;
  }
  if (m_orphan && m_persist_backoff >= m_cfg.orphan_retries) {
    // An orphan whose peer kept its window closed through orphan_retries probes in a row
    // (see orphan()): reset it, telling the peer.
    ++m_shared->stats.timeouts;
    ++m_shared->stats.orphans_timed_out;
    give_up_orphan(error::timed_out);
    return;
  }
  if (m_persist_backoff < 255) ++m_persist_backoff; // probes in a row (the interval caps at 2^10)
  if (m_snd_wnd == 0) {
    m_zero_window_probe_due = true;
  } else {
    m_persist_probe_due = true; // RFC 1122 §4.2.3.4 (d): the SWS override timeout
  }
  // poll_transmit re-arms the timer while data still waits.
}

template <class P>
void connection<P>::on_keepalive_timeout(instant now) {
  if (!m_cfg.keepalive || !in_state(m_state, tcp::state::established | tcp::state::close_wait)) return;
  if (m_snd_una != m_snd_nxt || has_unsent()) {
    // Not idle: the retransmission timer watches the peer.
    m_timers.set(timer_kind::keepalive, now + m_cfg.keepalive_idle);
    return;
  }
  if (m_keepalive_sent >= m_cfg.keepalive_probes) {
    // Like Linux, tell the peer (if it is still there) with a RST.
    ++m_shared->stats.timeouts;
    queue_rst(m_snd_nxt, std::nullopt);
    enter_closed(error::timed_out);
    return;
  }
  ++m_keepalive_sent;
  m_keepalive_probe_due = true;
  m_timers.set(timer_kind::keepalive, now + m_cfg.keepalive_interval);
}

} // namespace synack::tcp
