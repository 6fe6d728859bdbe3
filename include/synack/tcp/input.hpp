// synack/tcp/input.hpp: the input path of a connection, RFC 9293 §3.10.7 SEGMENT ARRIVES.
//
// on_segment() dispatches by state: CLOSED (§3.10.7.1), on_segment_listen() (§3.10.7.2),
// on_segment_syn_sent() (§3.10.7.3), and on_segment_synchronized() (§3.10.7.4) for
// SYN-RECEIVED and the synchronized states, which runs RFC 7323's timestamp checks and then
// the RFC's steps in order, one function each:
//   check_timestamp_present, take_syn_ack_in_syn_received, check_paws (RFC 7323 §3.2, §5.3)
//   first_check_sequence_number   "first check sequence number"
//   second_check_rst              "second check the RST bit" (RFC 5961 §3)
//   (third, security: not implemented)
//   fourth_check_syn              "fourth, check the SYN bit" (RFC 5961 §4)
//   fifth_check_ack               "fifth, check the ACK field": ack_of_syn, ack_established
//                                 (with loss recovery, tcp/loss_recovery.hpp), ack_of_fin
//   (sixth, URG: urgent data is delivered inline)
//   seventh_process_text          "seventh, process the segment text"
//   eighth_check_fin              "eighth, check the FIN bit" -> process_fin()
// try_fast_path() is header prediction: the same updates for the common segments of an
// ESTABLISHED connection, without the checks. Each step quotes the rule it implements. Input
// never sends: it updates the TCB and sets flags (m_ack_now, the retransmission loss recovery
// asks for, m_reply), and poll_transmit (tcp/output.hpp) builds the segments.
#pragma once

#include "synack/tcp/connection.hpp"

namespace synack::tcp {

template <class P>
void connection<P>::on_segment(instant now, const wire::tcp_repr& seg) {
  ++m_shared->stats.in_segs;
  if (m_state == tcp::state::established && m_cfg.header_prediction && try_fast_path(now, seg)) return;
  switch (m_state) {
    case tcp::state::closed:
      // §3.10.7.1: "An incoming segment not containing a RST causes a RST to be sent in response."
      if (auto r = reset_reply_for(seg))
        queue_rst(r->seq, r->flags.has(wire::tcp_flag::ack) ? std::optional{r->ack} : std::nullopt);
      return;
    case tcp::state::listen:
      on_segment_listen(now, seg);
      return;
    case tcp::state::syn_sent:
      on_segment_syn_sent(now, seg);
      return;
    default:
      on_segment_synchronized(now, seg);
      return;
  }
}

// -----------------------------------------------------------------------------------------
// §3.10.7.2 LISTEN

template <class P>
void connection<P>::on_segment_listen(instant now, const wire::tcp_repr& seg) {
  // "first check for a RST", "second check for an ACK", "third check for a SYN", "fourth,
  // other data or control" (check_listen in tcp/handshake.hpp, which tcp::layer's listeners run
  // too).
  switch (check_listen(seg)) {
    case listen_action::drop:
      return;
    case listen_action::reset:
      queue_rst(seg.ack, std::nullopt); // <SEQ=SEG.ACK><CTL=RST>
      return;
    case listen_action::syn:
      break;
  }
  // "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ, and any other control or text should be
  //  queued for processing later. ISS should be selected and a SYN segment sent of the form:
  //  <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. SND.NXT is set to ISS+1 and SND.UNA to ISS. The
  //  connection state should be changed to SYN-RECEIVED." Data carried by the SYN is not
  //  acknowledged and so will be sent again by the peer (we do not implement TCP Fast Open).
  take_syn(now, seg, m_iss);
  m_snd_una = m_iss;
  m_syn_acked = false;
  m_snd_nxt = m_iss; // the SYN-ACK goes out on the next poll_transmit, which moves SND.NXT
  m_user_timer_start = now;
  ++m_shared->stats.passive_opens;
  set_state(tcp::state::syn_received);
}

// -----------------------------------------------------------------------------------------
// §3.10.7.3 SYN-SENT

template <class P>
void connection<P>::on_segment_syn_sent(instant now, const wire::tcp_repr& seg) {
  using wire::tcp_flag;
  const bool has_ack = seg.flags.has(tcp_flag::ack);
  const bool rst = seg.flags.has(tcp_flag::rst);
  // "first check the ACK bit: If the ACK bit is set, If SEG.ACK =< ISS or SEG.ACK > SND.NXT,
  //  send a reset (unless the RST bit is set, if so drop the segment and return)
  //  <SEQ=SEG.ACK><CTL=RST> and discard the segment. Return. If SND.UNA < SEG.ACK =< SND.NXT,
  //  then the ACK is acceptable."
  if (has_ack && (seg.ack <= m_iss || seg.ack > m_snd_nxt)) {
    if (!rst) queue_rst(seg.ack, std::nullopt);
    return;
  }
  // "second check the RST bit: ... If the ACK was acceptable, then signal to the user "error:
  //  connection reset", drop the segment, enter CLOSED state, delete TCB, and return.
  //  Otherwise (no ACK), drop the segment and return." (RFC 5961 §3.2 agrees: in SYN-SENT a RST
  //  is valid when it acknowledges the SYN.)
  if (rst) {
    if (has_ack) {
      ++m_shared->stats.attempt_fails;
      enter_closed(error::connection_refused);
    }
    return;
  }
  // "fourth check the SYN bit" (the third, security, is not implemented: RFC 9293 §3.10.7.3
  //  makes the IP security option check optional and no current network uses it.)
  if (!seg.flags.has(tcp_flag::syn)) return; // "fifth, if neither of the SYN or RST bits is set ... drop"
  // "RCV.NXT is set to SEG.SEQ+1, IRS is set to SEG.SEQ. SND.UNA should be advanced to equal
  //  SEG.ACK (if there is an ACK), and any segments on the retransmission queue that are
  //  thereby acknowledged should be removed."
  take_syn(now, seg, seg.ack);
  if (has_ack) on_new_ack(now, seg, static_cast<std::uint32_t>(seg.ack - m_snd_una), false);
  if (syn_acked()) {
    // "If SND.UNA > ISS (our SYN has been ACKed), change the connection state to ESTABLISHED,
    //  form an ACK segment <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it. Data or controls
    //  that were queued for transmission MAY be included. ... If there are other controls or
    //  text in the segment, then continue processing at the sixth step below where the URG
    //  bit is checked; otherwise, return."
    complete_handshake(now);
    m_ack_now = true;
    process_text(now, seg, seg.seq + 1, seg.payload);
  } else {
    // Simultaneous open: "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment
    //  <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it. Set the variables: SND.WND <- SEG.WND,
    //  SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK." Text in the SYN is dropped (see LISTEN).
    set_state(tcp::state::syn_received);
    m_recovery.retransmit_head();
  }
}

/// The peer's SYN, in LISTEN or SYN-SENT: "RCV.NXT is set to SEG.SEQ+1, IRS is set to SEG.SEQ"
/// (§3.10.7.2, §3.10.7.3), its options, and the send window it offers: RFC 7323 §2.2 "The
/// Window field in a segment where the SYN bit is set (i.e., a <SYN> or <SYN,ACK>) MUST NOT be
/// scaled", with "SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK" (`wl2`). The right
/// edge of our window is then what our SYN-ACK (or SYN) offers, unscaled.
template <class P>
void connection<P>::take_syn(instant now, const wire::tcp_repr& syn, seq_number wl2) {
  m_irs = syn.seq;
  m_rcv_nxt = syn.seq + 1;
  take_syn_options(syn.options);
  m_ts_recent_time = now;
  m_snd_wnd = syn.window;
  m_max_snd_wnd = m_snd_wnd;
  m_snd_wl1 = syn.seq;
  m_snd_wl2 = wl2;
  m_rcv_adv = m_rcv_nxt + syn_window(rcv_space());
}

/// Takes the options of the peer's SYN: MSS, window scaling, SACK and timestamps are what both
/// sides agree on (negotiate_syn in tcp/handshake.hpp: RFC 9293 §3.7.1, RFC 7323 §2.2-§3.2, RFC
/// 2018 §2), and TS.Recent starts at the SYN's TSval (RFC 7323 §4.3).
template <class P>
void connection<P>::take_syn_options(const wire::tcp_options& syn) {
  const auto a = negotiate_syn(m_cfg, syn);
  m_peer_mss = a.peer_mss;
  m_wscale_ok = a.window_scaling;
  m_snd_wscale = a.snd_wscale;
  m_rcv_wscale = m_wscale_ok ? rcv_wscale_for(m_cfg.recv_buffer) : 0;
  m_sack_ok = a.sack;
  m_ts_ok = a.timestamps;
  if (m_ts_ok) m_ts_recent = syn.timestamps->tsval;
  m_cc.set_smss(effective_mss_base());
}

// -----------------------------------------------------------------------------------------
// §3.10.7.4 Other states (SYN-RECEIVED and the synchronized states)

/// "There are four cases for the acceptability test for an incoming segment:
///   Segment Length  Receive Window  Test
///   0               0               SEG.SEQ = RCV.NXT
///   0               >0              RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
///   >0              0               not acceptable
///   >0              >0              RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
///                                   or RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND"
/// and "If the RCV.WND is zero, no segments will be acceptable, but special allowance should be
/// made to accept valid ACKs, URGs, and RSTs": a segment at exactly RCV.NXT passes, and its
/// text is trimmed away later.
template <class P>
auto connection<P>::segment_acceptable(const wire::tcp_repr& seg) const -> bool {
  const auto len = seg.segment_len();
  const auto wnd = rcv_wnd();
  if (wnd == 0) return seg.seq == m_rcv_nxt;
  const auto end = m_rcv_nxt + wnd;
  if (len == 0) return wire::in_range(m_rcv_nxt, seg.seq, end);
  return wire::in_range(m_rcv_nxt, seg.seq, end) || wire::in_range(m_rcv_nxt, seg.seq + (len - 1), end);
}

/// Header prediction (V. Jacobson, "4BSD header prediction", 1990; Linux's tcp_rcv_established
/// fast path): on an ESTABLISHED connection most segments are either the next in-order data
/// (which may acknowledge new data too) or a pure ACK of new data, with no control bit but ACK
/// (and PSH), no SACK blocks, a timestamp that passes PAWS, and no recovery in progress. For
/// such a segment the steps of RFC 9293 §3.10.7.4 reduce to a few assignments: it is acceptable
/// (SEG.SEQ = RCV.NXT and RCV.WND > 0), carries no RST or SYN, its ACK lies in
/// SND.UNA..SND.NXT, and its text fits the advertised window and the receive buffer whole.
/// Returns false, having changed nothing, for any other segment: the general path handles it
/// (and drops what must be dropped). What the fast path does is
/// exactly what the general path would do, without the checks (tests/sim/tcp_transfer_test.cpp
/// requires identical wire traces with and without it).
template <class P>
auto connection<P>::try_fast_path(instant now, const wire::tcp_repr& seg) -> bool {
  using wire::tcp_flag;
  constexpr auto ack_psh = wire::tcp_flags{tcp_flag::ack} | tcp_flag::psh;
  if (!seg.flags.has(tcp_flag::ack) || (seg.flags.bits() & ~ack_psh.bits()) != 0) return false;
  if (seg.seq != m_rcv_nxt || m_recovery.in_recovery() || m_ooo_fin) return false;
  if (m_sack_ok && !seg.options.sack_blocks().empty()) return false;
  // RFC 7323 §5.3 R1 (PAWS) must pass; a segment without the option when timestamps are in use
  // goes the general way, which drops it (§3.2: "If a non-<RST> segment is received without a
  // TSopt, a TCP SHOULD silently drop the segment").
  const auto* ts = seg.options.timestamps ? &*seg.options.timestamps : nullptr;
  if (m_ts_ok && (!ts || static_cast<std::int32_t>(ts->tsval - m_ts_recent) < 0)) return false;
  const bool data = !seg.payload.empty();
  if (data) {
    // In-order text (which may acknowledge new data too): it must fit whole (no trimming) in
    // the window we advertised and in the buffer, with no out-of-order data to merge and a
    // reader still there (RFC 1122 §4.2.2.13).
    if (!(m_snd_una <= seg.ack && seg.ack <= m_snd_nxt) || seg.payload.size() > rcv_wnd() ||
        seg.payload.size() > m_rcvbuf.free_space() || !m_ooo.empty() || m_read_closed)
      return false;
  } else if (!(m_snd_una < seg.ack && seg.ack <= m_snd_nxt)) {
    return false; // a duplicate ACK, or one the general path must judge (RFC 5961 §5.2)
  }

  // "fifth, check the ACK field" (ack_established, without the range checks of
  // fifth_check_ack): neither kind of segment is a duplicate ACK (RFC 5681 §2: data, or a new
  // SEG.ACK; RFC 6675 §2: no SACK blocks).
  ack_established(now, seg);
  // RFC 7323 §4.3 (2), R3: the segment passed every check above (SEG.TSval >= TS.Recent
  // included) and is processed, so it may update TS.Recent (ts_recent_update_allowed).
  if (m_ts_ok && seg.seq <= m_last_ack_sent) update_ts_recent(now, ts->tsval);
  note_peer_alive(now);
  // "seventh, process the segment text" (process_text, in order, untrimmed, no FIN).
  if (data) {
    note_segment_size(seg.payload.size());
    deliver_in_order(now, seg.payload);
    ++m_shared->stats.predicted_data;
  } else {
    ++m_shared->stats.predicted_acks;
  }
  return true;
}

/// RFC 9293 §3.10.7.4, SEGMENT ARRIVES in SYN-RECEIVED and the synchronized states: RFC 7323's
/// timestamp checks, then the RFC's steps in order, each a function that returns false when it
/// ended the processing of the segment (dropped, answered, or the connection closed).
template <class P>
void connection<P>::on_segment_synchronized(instant now, const wire::tcp_repr& seg, bool syn_window) {
  if (!check_timestamp_present(seg)) return;
  if (take_syn_ack_in_syn_received(now, seg)) return;
  if (!check_paws(now, seg)) return;
  if (!first_check_sequence_number(now, seg)) return;
  // TS.Recent is decided here and updated only once the segment passed every check.
  const bool take_ts = ts_recent_update_allowed(now, seg);
  if (!second_check_rst(now, seg)) return;
  // "third check security": not implemented (see SYN-SENT).
  if (!fourth_check_syn(now, seg)) return;
  if (!fifth_check_ack(now, seg, syn_window)) return;
  if (take_ts) update_ts_recent(now, seg.options.timestamps->tsval);
  note_peer_alive(now);
  // "sixth, check the URG bit": urgent data is delivered inline and the pointer is ignored
  // (RFC 6093 §6: "new applications SHOULD NOT employ the TCP urgent mechanism").
  // "seventh, process the segment text" and "eighth, check the FIN bit".
  process_text(now, seg, seg.seq, seg.payload);
}

/// RFC 7323 §3.2: "Once TSopt has been successfully negotiated, that is both <SYN> and
/// <SYN,ACK> contain TSopt, the TSopt MUST be sent in every non-<RST> segment for the duration
/// of the connection ... If a non-<RST> segment is received without a TSopt, a TCP SHOULD
/// silently drop the segment. A received <RST> segment MUST NOT be silently dropped based
/// solely on the lack of a TSopt." (Linux accepts such segments; docs/tcp.md.)
template <class P>
auto connection<P>::check_timestamp_present(const wire::tcp_repr& seg) -> bool {
  if (!m_ts_ok || seg.options.timestamps || seg.flags.has(wire::tcp_flag::rst)) return true;
  ++m_shared->stats.no_timestamp_drops;
  return false;
}

/// RFC 9293 §3.5 Figure 7, simultaneous open, line 6: "ESTABLISHED <--
/// <SEQ=300><ACK=101><CTL=SYN,ACK>": in SYN-RECEIVED, the peer's SYN-ACK that acknowledges our
/// SYN completes the handshake. Its SYN (at IRS, so below RCV.NXT) was taken already, which
/// would make the segment unacceptable and, answered with our SYN-ACK again, start a SYN-ACK
/// ping-pong between two such peers. Process the rest of it as the ACK at IRS + 1 (Linux does
/// the same), whose window is still a SYN's: never scaled (RFC 7323 §2.2). The same holds
/// after a CLOSE in SYN-RECEIVED (FIN-WAIT-1 with our SYN not yet acknowledged). Returns true
/// when the segment was such a SYN-ACK (and is processed).
template <class P>
auto connection<P>::take_syn_ack_in_syn_received(instant now, const wire::tcp_repr& seg) -> bool {
  using wire::tcp_flag;
  if (syn_acked() || !in_state(m_state, tcp::state::syn_received | tcp::state::fin_wait_1)) return false;
  if (!seg.flags.has(tcp_flag::syn) || seg.flags.has(tcp_flag::rst) || !seg.flags.has(tcp_flag::ack)) return false;
  if (!(seg.seq == m_irs && m_snd_una < seg.ack && seg.ack <= m_snd_nxt)) return false;
  wire::tcp_repr rest = seg;
  rest.flags.clear(tcp_flag::syn);
  rest.seq = seg.seq + 1;
  on_segment_synchronized(now, rest, true);
  return true;
}

/// RFC 7323 §5.3 PAWS, R1: "If there is a Timestamps option in the arriving segment,
/// SEG.TSval < TS.Recent, TS.Recent is valid (see later discussion), and the RST bit is not
/// set, then treat the arriving segment as not acceptable: Send an acknowledgment in reply as
/// specified in [RFC0793], page 69 and drop the segment." §5.5: TS.Recent is invalid after 24
/// days of idleness. The acknowledgment is rate-limited like the one of the first check.
template <class P>
auto connection<P>::check_paws(instant now, const wire::tcp_repr& seg) -> bool {
  const auto* ts = seg.options.timestamps ? &*seg.options.timestamps : nullptr;
  if (!m_ts_ok || !ts || seg.flags.has(wire::tcp_flag::rst)) return true;
  const auto behind = static_cast<std::int32_t>(ts->tsval - m_ts_recent) < 0;
  if (!behind || !ts_recent_valid(now)) return true;
  ++m_shared->stats.paws_rejected;
  send_oow_ack(now, seg);
  return false;
}

/// "first check sequence number" (segment_acceptable(): the four cases). "If an incoming
/// segment is not acceptable, an acknowledgment should be sent in reply (unless the RST bit is
/// set, if so drop the segment and return): <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. After sending
/// the acknowledgment, drop the unacceptable segment and return."
template <class P>
auto connection<P>::first_check_sequence_number(instant now, const wire::tcp_repr& seg) -> bool {
  using wire::tcp_flag;
  if (segment_acceptable(seg)) return true;
  ++m_shared->stats.out_of_window;
  if (seg.flags.has(tcp_flag::rst)) return false;
  const bool syn = seg.flags.has(tcp_flag::syn);
  if (m_state == tcp::state::syn_received && syn && seg.seq == m_irs) {
    // The peer did not get our SYN-ACK and sent its SYN again: send the SYN-ACK again
    // (an ACK alone would not carry our SYN).
    m_recovery.retransmit_head();
    return false;
  }
  if (syn) {
    // RFC 5961 §4.2: "If the SYN bit is set, irrespective of the sequence number, TCP MUST
    // send an ACK (also referred to as challenge ACK) to the remote peer" — rate-limited
    // like every challenge ACK (§7). An unthrottled ACK here let a blind flood of SYNs with
    // random sequence numbers reflect every one of them to the real peer as a duplicate
    // ACK (tests/sim/attack_test.cpp).
    send_challenge_ack(now);
    return false;
  }
  if (m_state == tcp::state::time_wait && seg.flags.has(tcp_flag::fin) && seg.flags.has(tcp_flag::ack) &&
      seg.seq + static_cast<std::uint32_t>(seg.payload.size()) + 1 == m_rcv_nxt && ack_acceptable(seg)) {
    // §3.10.7.4 TIME-WAIT: "The only thing that can arrive in this state is a
    // retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout." Only
    // that: the FIN we took (at RCV.NXT - 1), with the ACK bit and an acceptable ACK (RFC 5961
    // §5.2). Any FIN used to restart the timer, so forged ones (no ACK bit, any sequence
    // number) could hold TIME-WAIT for ever (found by the connection fuzzer).
    restart_time_wait(now);
  }
  send_oow_ack(now, seg);
  return false;
}

/// RFC 7323 §4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent then SEG.TSval is
/// copied to TS.Recent; otherwise, it is ignored." (R3 in §5.3.) §5.5: "If TS.Recent is found to
/// be invalid, then the segment is accepted, regardless of the failure of the timestamp check,
/// and rule R3 updates TS.Recent with the TSval from the new segment" (else we would echo the
/// stale value forever, and the peer would take it for its RTT). The copy waits until the
/// segment has passed every later check (RST, SYN, the ACK bit, RFC 5961 §5.2's ACK range) and
/// is processed: taken at once, a forged segment at RCV.NXT with a TSval far ahead and no ACK
/// bit (or an unacceptable ACK) was dropped but moved TS.Recent, and every real segment failed
/// PAWS from then on (tests/sim/attack_test.cpp: a 4 MiB transfer stopped at 1 MB). Never from
/// a RST or a SYN: both end before the copy.
template <class P>
auto connection<P>::ts_recent_update_allowed(instant now, const wire::tcp_repr& seg) const -> bool {
  const auto* ts = seg.options.timestamps ? &*seg.options.timestamps : nullptr;
  return m_ts_ok && ts && seg.seq <= m_last_ack_sent &&
         (static_cast<std::int32_t>(ts->tsval - m_ts_recent) >= 0 || !ts_recent_valid(now));
}

/// "second check the RST bit". RFC 5961 §3.2: "1) If the RST bit is set and the sequence
/// number is outside the current receive window, silently drop the segment." (the first check)
/// "2) If the RST bit is set and the sequence number exactly matches the next expected
/// sequence number (RCV.NXT), then TCP MUST reset the connection. 3) If the RST bit is set and
/// the sequence number does not exactly match the next expected sequence value, yet is within
/// the current receive window, TCP MUST send an acknowledgment (challenge ACK)".
template <class P>
auto connection<P>::second_check_rst(instant now, const wire::tcp_repr& seg) -> bool {
  if (!seg.flags.has(wire::tcp_flag::rst)) return true;
  if (seg.seq != m_rcv_nxt) {
    send_challenge_ack(now);
    return false;
  }
  switch (m_state) {
    case tcp::state::syn_received:
      // "If this connection was initiated with a passive OPEN (i.e., came from the LISTEN
      //  state), then return this connection to LISTEN state and return. ... If this
      //  connection was initiated with an active OPEN (i.e., came from SYN-SENT state), then
      //  the connection was refused; signal the user "connection refused"." Our listener
      //  stays in LISTEN by itself; this embryonic connection just ends.
      ++m_shared->stats.attempt_fails;
      enter_closed(m_active_open ? error::connection_refused : error::none);
      return false;
    case tcp::state::established:
    case tcp::state::fin_wait_1:
    case tcp::state::fin_wait_2:
    case tcp::state::close_wait:
      // "If the RST bit is set, then any outstanding RECEIVEs and SEND should receive "reset"
      //  responses. All segment queues should be flushed. Users should also receive an
      //  unsolicited general "connection reset" signal. Enter the CLOSED state, delete the
      //  TCB, and return."
      ++m_shared->stats.estab_resets;
      enter_closed(error::connection_reset);
      return false;
    default:
      // CLOSING, LAST-ACK, TIME-WAIT: "If the RST bit is set, then enter the CLOSED state,
      // delete the TCB, and return." (RFC 1337's TIME-WAIT assassination hazard is accepted,
      // as in RFC 9293 and Linux's default.)
      enter_closed(error::none);
      return false;
  }
}

/// "fourth, check the SYN bit". SYN-RECEIVED: "If the connection was initiated with a passive
/// OPEN, then return this connection to the LISTEN state and return." (The listener is still
/// listening; this embryo ends.) Otherwise, RFC 5961 §4.2 (RFC 9293's synchronized states): "If
/// the SYN bit is set, irrespective of the sequence number, TCP endpoints MUST send a
/// "challenge ACK" to the remote peer".
template <class P>
auto connection<P>::fourth_check_syn(instant now, const wire::tcp_repr& seg) -> bool {
  if (!seg.flags.has(wire::tcp_flag::syn)) return true;
  if (m_state == tcp::state::syn_received && !m_active_open) {
    enter_closed(error::none);
    return false;
  }
  send_challenge_ack(now);
  return false;
}

/// The answer to an unacceptable or PAWS-rejected segment: RFC 9293 §3.10.7.4 "an
/// acknowledgment should be sent in reply", RFC 7323 §5.3 R1 "Send an acknowledgment in reply".
/// When the segment occupies no sequence space (no text, no FIN; a SYN earns a challenge ACK
/// instead) the answer is rate-limited with the challenge ACKs (RFC 5961 §7). Unthrottled, a
/// blind attacker who knows only the 4-tuple made us send one duplicate ACK to the real peer
/// per forged segment, and the peer fast-retransmitted on them (tests/sim/attack_test.cpp: 8 MiB
/// over a 50 ms path took 158 s instead of 1.9 s at 200 forged segments a second). A segment
/// with text or a FIN is answered at once, as Linux does (tcp_oow_rate_limited: "Data packets
/// without SYNs are not likely part of an ACK loop"): it is most often a retransmission of what
/// we have, whose sender waits for this ACK (throttled too, the simulated loss matrix took 8 %
/// longer). Such forged segments are answered, but with SACK the answers are no duplicate ACKs
/// (RFC 6675 §2, loss_recovery::is_duplicate).
template <class P>
void connection<P>::send_oow_ack(instant now, const wire::tcp_repr& seg) {
  if (seg.segment_len() > 0) {
    ++m_shared->stats.oow_acks;
    m_ack_now = true;
    return;
  }
  send_limited_ack(now, false);
}

/// RFC 5961 §7: "An implementation SHOULD include an ACK throttling mechanism": at most one
/// limited ACK per challenge_ack_interval on this connection, and the layer's budget (see
/// shared_context). Two kinds share the limit: challenge ACKs (RFC 5961 §3.2, §4.2, §5.2), and
/// the ACKs that answer an unacceptable or PAWS-rejected segment (send_oow_ack).
template <class P>
void connection<P>::send_limited_ack(instant now, bool challenge) {
  const auto sent = challenge ? &counters::challenge_acks : &counters::oow_acks;
  const auto limited = challenge ? &counters::challenge_acks_limited : &counters::oow_acks_limited;
  if (m_last_challenge_ack && now - *m_last_challenge_ack < m_shared->challenge_ack_interval) {
    ++(m_shared->stats.*limited);
    return;
  }
  if (!m_shared->allow_challenge_ack(now, sent, limited)) return;
  m_last_challenge_ack = now;
  m_ack_now = true;
}

/// "fifth, check the ACK field": "if the ACK bit is off, drop the segment and return"; then by
/// state: SYN-RECEIVED (ack_of_syn), ESTABLISHED and the states that do "the same processing as
/// for the ESTABLISHED state" (ack_established, within RFC 5961 §5.2's range), and what
/// FIN-WAIT-1, CLOSING and LAST-ACK add (ack_of_fin). Returns false when the segment must be
/// dropped (or the connection ended). `syn_window`: the segment is the rest of a SYN-ACK (see
/// take_syn_ack_in_syn_received), whose window is not scaled.
template <class P>
auto connection<P>::fifth_check_ack(instant now, const wire::tcp_repr& seg, bool syn_window) -> bool {
  if (!seg.flags.has(wire::tcp_flag::ack)) return false;
  if (!syn_acked()) return ack_of_syn(now, seg, syn_window);
  // RFC 5961 §5.2: "All incoming segments whose ACK value doesn't satisfy the above condition
  // MUST be discarded and an ACK sent back." The ACK is a challenge ACK, rate-limited by §7.
  if (!ack_acceptable(seg)) {
    ++m_shared->stats.bad_acks;
    send_challenge_ack(now);
    return false;
  }
  ack_established(now, seg);
  return ack_of_fin(now);
}

/// "SYN-RECEIVED STATE: If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state and
/// continue processing with the variables below set to: SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ,
/// SND.WL2 <- SEG.ACK. If the segment acknowledgment is not acceptable, form a reset segment
/// <SEQ=SEG.ACK><CTL=RST> and send it." Also FIN-WAIT-1 entered by a CLOSE in SYN-RECEIVED (RFC
/// 9293 §3.10.4), whose SYN is not yet acknowledged either: the same acknowledgment completes
/// the handshake there, and the state stays FIN-WAIT-1.
template <class P>
auto connection<P>::ack_of_syn(instant now, const wire::tcp_repr& seg, bool syn_window) -> bool {
  if (!(m_snd_una < seg.ack && seg.ack <= m_snd_nxt)) {
    queue_rst(seg.ack, std::nullopt);
    return false;
  }
  on_new_ack(now, seg, static_cast<std::uint32_t>(seg.ack - m_snd_una), false);
  // RFC 7323 §2.2: "The window field in a segment where the SYN bit is set (i.e., a <SYN> or
  // <SYN,ACK>) MUST NOT be scaled." Scaled, the SYN-ACK of a simultaneous open advertised
  // 524,280 bytes for 65,535 with a shift of 3.
  m_snd_wnd = syn_window ? std::uint32_t{seg.window} : std::uint32_t{seg.window} << m_snd_wscale;
  m_max_snd_wnd = std::max(m_max_snd_wnd, m_snd_wnd);
  m_snd_wl1 = seg.seq;
  m_snd_wl2 = seg.ack;
  complete_handshake(now);
  return true;
}

/// "ESTABLISHED STATE: If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK. Any
/// segments on the retransmission queue that are thereby entirely acknowledged are removed.
/// Users should receive positive acknowledgments for buffers that have been SENT and fully
/// acknowledged" (on_new_ack). "If the ACK is a duplicate (SEG.ACK =< SND.UNA), it can be
/// ignored" by this step; loss recovery counts it (RFC 5681 §3.2). Then the send window
/// (update_send_window). The ACK is acceptable (RFC 5961 §5.2, checked by the caller).
template <class P>
void connection<P>::ack_established(instant now, const wire::tcp_repr& seg) {
  // RFC 5681 §2's five conditions of a "DUPLICATE ACKNOWLEDGMENT" (is_duplicate_ack in
  // tcp/sack_scoreboard.hpp), judged before this ACK is applied. Used only when SACK is not in
  // use (below).
  const bool rfc5681_dup_ack = is_duplicate_ack(dup_ack_facts{.outstanding_data = flight_size() > 0,
                                                              .seg_len = seg.payload.size(),
                                                              .syn = seg.flags.has(wire::tcp_flag::syn),
                                                              .fin = seg.flags.has(wire::tcp_flag::fin),
                                                              .seg_ack = seg.ack,
                                                              .snd_una = m_snd_una,
                                                              .seg_wnd = std::uint32_t{seg.window} << m_snd_wscale,
                                                              .last_wnd = m_snd_wnd});
  // RFC 6675 §4 Update() on every acceptable ACK; it also ends a recovery whose point is
  // reached. Blocks are only read when SACK was negotiated.
  const auto blocks = m_sack_ok ? seg.options.sack_blocks() : std::span<const wire::sack_block>{};
  const auto update = m_recovery.update(seg.ack, blocks, m_snd_nxt);
  if (seg.ack > m_snd_una) {
    on_new_ack(now, seg, static_cast<std::uint32_t>(seg.ack - m_snd_una), update.left_recovery);
  }
  update_send_window(seg);
  // With SACK, RFC 6675 §2's duplicate ACK (an ACK that SACKs octets not SACKed before); without,
  // RFC 5681's (loss_recovery::is_duplicate).
  detect_loss(now, decltype(m_recovery)::is_duplicate(m_sack_ok, update, rfc5681_dup_ack));
}

/// What the fifth step adds, "In addition to the processing for the ESTABLISHED state", in the
/// states where our FIN is out. Returns false when the connection ended.
template <class P>
auto connection<P>::ack_of_fin(instant now) -> bool {
  switch (m_state) {
    case tcp::state::fin_wait_1:
      // "FIN-WAIT-1 STATE: ... if the FIN segment is now acknowledged, then enter FIN-WAIT-2
      //  and continue processing in that state."
      if (fin_acked()) {
        set_state(tcp::state::fin_wait_2);
        if (m_read_closed) start_fin_wait_2_timeout(now);
      }
      return true;
    case tcp::state::closing:
      // "CLOSING STATE: ... if the ACK acknowledges our FIN, then enter the TIME-WAIT state;
      //  otherwise, ignore the segment."
      if (fin_acked()) enter_time_wait(now);
      return true;
    case tcp::state::last_ack:
      // "LAST-ACK STATE: The only thing that can arrive in this state is an acknowledgment of
      //  our FIN. If our FIN is now acknowledged, delete the TCB, enter the CLOSED state, and
      //  return."
      if (fin_acked()) {
        enter_closed(error::none);
        return false;
      }
      return true;
    default:
      // TIME-WAIT: "The only thing that can arrive in this state is a retransmission of the
      // remote FIN. Acknowledge it, and restart the 2 MSL timeout." (The eighth step does.)
      return true;
  }
}

/// SND.UNA advanced by `acked` (> 0): drop acknowledged bytes, sample the RTT, run congestion
/// control, and restart or stop the retransmission timer.
template <class P>
void connection<P>::on_new_ack(instant now, const wire::tcp_repr& seg, std::uint32_t acked, bool left_recovery) {
  const auto rtt_sample = take_rtt_sample(now, seg);
  const auto new_una = seg.ack;
  if (new_una > m_snd_buf_seq) {
    const auto n = std::min<std::size_t>(static_cast<std::size_t>(new_una - m_snd_buf_seq), m_sndbuf.size());
    m_sndbuf.discard(n);
    m_snd_buf_seq += static_cast<std::uint32_t>(n);
    if (n > 0) raise(event::writable);
    if (m_sndbuf.empty()) m_sndbuf.release();
  }
  const bool covers_syn = !m_syn_acked; // any new ACK covers ISS first (RFC 9293 §3.10.7.3)
  m_syn_acked = true;
  m_snd_una = new_una;
  pmtu_on_ack(acked);
  // Loss recovery goes on or ends (RFC 6582 §3.2 step 3, RFC 6675 §5 (A): tcp/loss_recovery.hpp).
  // Outside a fast recovery, RFC 5681 §3.1 grows cwnd by the "previously unacknowledged bytes"
  // of data an ACK covers: our SYN and FIN occupy sequence numbers but are not data.
  if (m_recovery.on_new_ack(m_cc, now, sender(), acked, left_recovery) && syn_acked() && acked > 0) {
    const bool covers_fin = m_fin_queued && new_una - acked <= fin_seq() && fin_seq() < new_una;
    const auto data_acked = acked - (covers_syn ? 1u : 0u) - (covers_fin ? 1u : 0u);
    m_cc.on_ack(now, data_acked, rtt_sample, flight_size());
  }

  // RFC 6298 §5.2: "When all outstanding data has been acknowledged, turn off the
  // retransmission timer." §5.3: "When an ACK is received that acknowledges new data, restart
  // the retransmission timer so that it will expire after RTO seconds".
  if (m_snd_una == m_snd_nxt) {
    m_timers.clear(timer_kind::retransmit);
    m_user_timer_start = instant{};
  } else {
    arm_retransmit(now);
    m_user_timer_start = now;
  }
}

/// RFC 6298 §3 / Karn's algorithm: "RTT samples MUST NOT be made using segments that were
/// retransmitted (and thus for which it is ambiguous whether the reply was for the first
/// instance of the packet or a later instance)." One segment is timed at a time; any
/// retransmission cancels the measurement.
template <class P>
auto connection<P>::take_rtt_sample(instant now, const wire::tcp_repr& seg) -> std::optional<duration> {
  const auto sample = m_sampler.on_ack(seg.ack, now);
  if (sample) m_rtt.on_sample(*sample);
  return sample;
}

/// §3.10.7.4 ESTABLISHED, fifth step: "If SND.UNA =< SEG.ACK =< SND.NXT, the send window
/// should be updated. If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)),
/// set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK."
template <class P>
void connection<P>::update_send_window(const wire::tcp_repr& seg) {
  if (!(m_snd_una <= seg.ack && seg.ack <= m_snd_nxt)) return;
  if (!(m_snd_wl1 < seg.seq || (m_snd_wl1 == seg.seq && m_snd_wl2 <= seg.ack))) return;
  m_snd_wnd = std::uint32_t{seg.window} << m_snd_wscale;
  m_max_snd_wnd = std::max(m_max_snd_wnd, m_snd_wnd);
  m_snd_wl1 = seg.seq;
  m_snd_wl2 = seg.ack;
  if (m_snd_wnd > 0 && m_timers.is_set(timer_kind::persist)) {
    m_timers.clear(timer_kind::persist);
    m_persist_backoff = 0;
  }
}

/// After an acceptable ACK: loss detection and the start of a fast recovery (RFC 5681 §3.2,
/// RFC 6582, RFC 6675 §5; tcp/loss_recovery.hpp), counted.
template <class P>
void connection<P>::detect_loss(instant now, bool dup_ack) {
  if (dup_ack) ++m_shared->stats.dup_acks_in;
  if (m_recovery.detect_loss(m_cc, now, sender(), dup_ack)) ++m_shared->stats.fast_retransmits;
}

/// "seventh, process the segment text" and "eighth, check the FIN bit". `seq` is the sequence
/// number of payload[0] (after a SYN it is SEG.SEQ + 1).
template <class P>
void connection<P>::process_text(instant now, const wire::tcp_repr& seg, seq_number seq, bytes_view payload) {
  // The sequence number just past the text; the FIN, if any, sits there.
  const seq_number text_end = seq + static_cast<std::uint32_t>(payload.size());
  if (!seventh_process_text(now, seq, payload)) return;
  eighth_check_fin(now, seg.flags.has(wire::tcp_flag::fin), text_end);
}

/// Whether the state takes text: "ESTABLISHED STATE, FIN-WAIT-1 STATE, FIN-WAIT-2 STATE: ...
/// deliver segment text to user RECEIVE buffers." "CLOSE-WAIT STATE, CLOSING STATE, LAST-ACK
/// STATE, TIME-WAIT STATE: This should not occur since a FIN has been received from the remote
/// side. Ignore the segment text."
template <class P>
auto connection<P>::text_allowed() const noexcept -> bool {
  return in_state(m_state, tcp::state::established | tcp::state::fin_wait_1 | tcp::state::fin_wait_2);
}

/// "seventh, process the segment text": in order, it is delivered; out of order, kept for
/// later; old, acknowledged. Returns false when the connection ended (data after CLOSE).
template <class P>
auto connection<P>::seventh_process_text(instant now, seq_number seq, bytes_view payload) -> bool {
  if (payload.empty() || !text_allowed()) return true;
  if (m_read_closed) {
    // RFC 1122 §4.2.2.13: data after CLOSE -> RST.
    ++m_shared->stats.data_after_close;
    queue_rst(m_snd_nxt, std::nullopt);
    enter_closed(error::connection_aborted);
    return false;
  }
  // Trim what we already have (a retransmission overlapping RCV.NXT).
  if (seq < m_rcv_nxt) {
    const auto skip = static_cast<std::size_t>(m_rcv_nxt - seq);
    payload = skip >= payload.size() ? bytes_view{} : payload.subspan(skip);
    seq = m_rcv_nxt;
  }
  if (payload.empty()) {
    // Only old data: acknowledge at once so the sender learns (RFC 5681 §4.2: "an immediate
    // ACK" for out-of-order or duplicate data).
    ++m_shared->stats.dup_data_in;
    m_ack_now = true;
    return true;
  }
  note_segment_size(payload.size());
  const auto offset = static_cast<std::size_t>(seq - m_rcv_nxt);
  // RFC 9293 §3.10.7.4: "In the following it is assumed that the segment is the idealized
  // segment that begins at RCV.NXT and does not exceed the window. One could tailor actual
  // segments to fit this assumption by trimming off any portions that lie outside the
  // window". The window is the one we advertised (RCV.NXT to m_rcv_adv), not the free space
  // of the buffer: receiver silly-window avoidance (RFC 1122 §4.2.3.3) may advertise zero
  // while a few bytes are free, and a probe into that zero window is acknowledged, not
  // taken. (The window can exceed the buffer by window-scale rounding: the buffer bounds
  // too.)
  const auto space = std::min<std::size_t>(rcv_wnd(), m_rcvbuf.free_space());
  if (offset + payload.size() > space) ++m_shared->stats.rcv_window_trimmed;
  if (offset >= space) {
    m_ack_now = true; // nothing of it fits: answer at once (a window probe)
    return true;
  }
  payload = payload.first(std::min(payload.size(), space - offset));
  if (offset == 0) {
    deliver_in_order(now, payload);
    return true;
  }
  // Out of order: keep it (bounded by the buffer and the assembler's range count) and
  // send a duplicate ACK at once, with SACK blocks (RFC 5681 §4.2, RFC 2018 §4).
  const auto written = m_rcvbuf.write_at(offset, payload);
  if (m_ooo.add(offset, written) == add_result::added) {
    ++m_shared->stats.ooo_segs_in;
  } else {
    ++m_shared->stats.ooo_dropped;
  }
  m_ack_now = true;
  return true;
}

/// "eighth, check the FIN bit": a FIN counts only when everything before it has arrived
/// (`text_end`, the sequence number just past the text, is where it sits); one beyond a hole
/// is remembered until the hole fills.
template <class P>
void connection<P>::eighth_check_fin(instant now, bool fin, seq_number text_end) {
  if (fin && in_state(m_state, tcp::state::syn_received | synchronized_states)) {
    if (text_end == m_rcv_nxt) {
      process_fin(now);
    } else if (text_end > m_rcv_nxt && text_allowed()) {
      m_ooo_fin = text_end; // processed once the hole before it fills
      m_ack_now = true;
    }
  }
  if (m_ooo_fin && *m_ooo_fin == m_rcv_nxt && !m_fin_received) process_fin(now);
}

/// Text at RCV.NXT, trimmed to the window we advertised and the free space of the receive
/// buffer: stored, acknowledged (now or delayed), made readable; out-of-order data that is now
/// contiguous follows it.
template <class P>
void connection<P>::deliver_in_order(instant now, bytes_view payload) {
  const auto n = enqueue_in_order(payload);
  std::size_t extra = 0;
  if (!m_ooo.empty()) {
    (void)m_ooo.add(0, n);
    const auto total = m_ooo.remove_front();
    extra = total > n ? total - n : 0;
    m_rcvbuf.commit(extra);
    // RFC 5681 §4.2: "an immediate ACK ... when the incoming segment fills in all or part of a
    // gap in the sequence space."
    m_ack_now = true;
  }
  m_rcv_nxt += static_cast<std::uint32_t>(n + extra);
  raise(event::readable);
  schedule_ack(now, n, true);
}

/// Stores in-order text: straight into a waiting reader's buffer while the receive buffer is
/// empty (direct placement, see post_read), the rest into the receive buffer. Returns the
/// bytes stored (all of `payload`, which the caller trimmed to the window and the free space).
template <class P>
auto connection<P>::enqueue_in_order(bytes_view payload) -> std::size_t {
  std::size_t placed = 0;
  if (m_placed < m_posted.size() && m_rcvbuf.empty() && m_ooo.empty()) {
    placed = std::min(payload.size(), m_posted.size() - m_placed);
    std::memcpy(m_posted.data() + m_placed, payload.data(), placed);
    m_placed += placed;
    m_shared->stats.direct_placed += placed;
  }
  return placed + m_rcvbuf.enqueue(payload.subspan(placed));
}

/// "If the FIN bit is set, signal the user "connection closing" and return any pending
/// RECEIVEs with same message, advance RCV.NXT over the FIN, and send an acknowledgment for the
/// FIN."
template <class P>
void connection<P>::process_fin(instant now) {
  if (!m_fin_received) {
    m_rcv_nxt += 1;
    m_fin_received = true;
    m_ooo_fin.reset();
    raise(event::readable);
  }
  m_ack_now = true;
  switch (m_state) {
    case tcp::state::syn_received:
    case tcp::state::established:
      // "Enter the CLOSE-WAIT state."
      set_state(tcp::state::close_wait);
      break;
    case tcp::state::fin_wait_1:
      // "If our FIN has been ACKed (perhaps in this segment), then enter TIME-WAIT, start the
      //  time-wait timer, turn off the other timers; otherwise, enter the CLOSING state."
      if (fin_acked()) {
        enter_time_wait(now);
      } else {
        set_state(tcp::state::closing);
      }
      break;
    case tcp::state::fin_wait_2:
      // "Enter the TIME-WAIT state. Start the time-wait timer, turn off the other timers."
      enter_time_wait(now);
      break;
    case tcp::state::time_wait:
      // "Remain in the TIME-WAIT state. Restart the 2 MSL time-wait timeout."
      restart_time_wait(now);
      break;
    default:
      break; // CLOSE-WAIT, CLOSING, LAST-ACK: "Remain in the ... state."
  }
}

/// Delayed ACKs: RFC 5681 §4.2 "an ACK SHOULD be generated for at least every second
/// full-sized segment, and MUST be generated within 500 ms of the arrival of the first
/// unacknowledged packet."
template <class P>
void connection<P>::schedule_ack(instant now, std::size_t payload_len, bool in_order) {
  m_unacked_bytes += static_cast<std::uint32_t>(payload_len);
  if (!in_order || m_cfg.delayed_ack == duration::zero() || m_unacked_bytes >= 2u * m_rcv_mss) {
    m_ack_now = true;
    return;
  }
  if (!m_timers.is_set(timer_kind::delayed_ack)) m_timers.set(timer_kind::delayed_ack, now + m_cfg.delayed_ack);
}

} // namespace synack::tcp
