// synack/tcp/config.hpp: per-connection settings, the connection's error codes, and the
// counters a TCP layer keeps (readable like `netstat -s`).
//
// Defaults follow the RFCs, and Linux where an RFC leaves a choice (each says which).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "synack/tcp/congestion/any_controller.hpp"
#include "synack/tcp/state.hpp"
#include "synack/time/instant.hpp"

namespace synack::tcp {

using namespace std::chrono_literals;

struct config {
  /// Our MSS: the largest segment payload we can receive, sent in the SYN. 0 (the default):
  /// the host derives it from the interface's MTU, MTU - 40 (RFC 9293 §3.7.1); a connection or
  /// layer used on its own, without a host, takes default_mss. A value set here is used as it
  /// is (the host refuses one its MTU cannot carry).
  std::uint16_t mss = 0;
  /// Segmentation offload (TSO): the largest TCP payload plus options the link cuts into
  /// segments for us, so new data leaves in super-segments of whole segments (each wire segment
  /// still within the MSS, RFC 9293 §3.7.1). 0: every segment leaves as it is. Set by the stack
  /// from link::capabilities::tso_max; retransmissions always go one segment at a time.
  std::uint32_t tso_max = 0;
  /// Send and receive buffer sizes in bytes. Allocated on first use, so an idle connection
  /// costs none of it. The receive buffer bounds the window and the out-of-order data.
  std::uint32_t send_buffer = 256 * 1024;
  std::uint32_t recv_buffer = 256 * 1024;
  /// RFC 7323 window scaling and timestamps, RFC 2018 SACK: offered in our SYN, used when
  /// the peer agrees.
  bool window_scaling = true;
  bool timestamps = true;
  bool sack = true;
  /// Disables Nagle's algorithm (RFC 1122 §4.2.3.4, TCP_NODELAY).
  bool nodelay = false;
  /// RFC 1122 §4.2.3.2: "the delay MUST be less than 0.5 seconds"; RFC 5681 §4.2 asks for an
  /// ACK at least every second full-sized segment. Linux delays 40 ms at least; so do we.
  /// Zero acknowledges every segment at once.
  duration delayed_ack = 40ms;
  /// RFC 6298 timer bounds. (2.1) sets the initial RTO to 1 s; (2.4) asks for a 1 s minimum,
  /// but like Linux (and RFC 8961's allowance) we use 200 ms, since 1 s stalls every loss on
  /// a LAN for far longer than its RTT. (2.5) allows a maximum of at least 60 s.
  duration rto_initial = 1s;
  duration rto_min = 200ms;
  duration rto_max = 60s;
  /// Retransmissions of a SYN or SYN-ACK before the connection fails with timed_out
  /// (Linux tcp_syn_retries = 6: about 127 s with a 1 s initial RTO).
  std::uint8_t syn_retries = 6;
  /// Retransmissions of data before the connection fails (RFC 1122 §4.2.3.5 R2, at least
  /// 100 s; Linux tcp_retries2 = 15).
  std::uint8_t max_retries = 15;
  /// RFC 9293 §3.4.2: Maximum Segment Lifetime. TIME_WAIT lasts 2*MSL (Linux: 60 s in all).
  duration msl = 30s;
  /// How long a connection may stay in FIN_WAIT_2 after our application closed it fully
  /// (Linux tcp_fin_timeout). Not used after a half-close (shutdown of writes only).
  duration fin_wait_2_timeout = 60s;
  /// RFC 1122 §4.2.3.6 keep-alives: off by default; idle time before the first probe, interval
  /// between probes, and unanswered probes before the connection fails with timed_out.
  bool keepalive = false;
  duration keepalive_idle = 2h;
  duration keepalive_interval = 75s;
  std::uint8_t keepalive_probes = 9;
  /// RFC 5482 / Linux TCP_USER_TIMEOUT: fail with timed_out when sent data stays
  /// unacknowledged, or the peer's window stays zero, for this long. Zero disables it (RFC
  /// 1122 §4.2.2.17: a receiver "MAY keep its offered receive window closed indefinitely").
  duration user_timeout = 0s;
  /// The congestion control of this connection, when the stack's policy chooses it at run
  /// time (tcp::dynamic_policies, whose controller is any_controller; TCP_CONGESTION in Linux).
  /// Ignored by policies that fix the algorithm in the type.
  congestion_kind congestion = congestion_kind::new_reno;
  /// Header prediction (tcp/input.hpp, try_fast_path): the common in-order segment of an
  /// ESTABLISHED connection skips the general checks. Off only to compare the two paths.
  bool header_prediction = true;
  /// Orphans (connections the application released with tcp::layer::release, still closing
  /// in the background): how many zero-window probes in a row (the window never opening), or
  /// retransmissions of the same data, an orphan gets before it is reset. Linux's
  /// tcp_orphan_retries (whose default 0 means 8). A connection the application still holds is
  /// never affected (RFC 9293 §3.8.6.1 lets it wait for a closed window indefinitely).
  std::uint8_t orphan_retries = 8;
  /// RFC 1191 path MTU discovery: the smallest path MTU a "fragmentation needed" message can
  /// set; a smaller next-hop MTU is raised to it (Linux's net.ipv4.route.min_pmtu, 552 = 512 +
  /// 40: an MSS of 512). A forged message can then cost at most a factor of about 3 in segments.
  std::uint16_t min_pmtu = 552;
  /// RFC 1191 §6.3: a lowered path MTU is raised back to the link's after this long without a
  /// further decrease ("on the order of 10 minutes"; Linux's net.ipv4.route.mtu_expires, 600 s).
  /// Zero keeps a lowered path MTU for the life of the connection.
  duration pmtu_expires = 10min;
};

/// The MSS of a connection or layer used without a host: Ethernet's MTU, 1500, less the IPv4
/// and TCP headers (RFC 9293 §3.7.1).
inline constexpr std::uint16_t default_mss = 1460;

/// `c` with its derived settings filled in where it leaves them to the host (mss 0), for a
/// connection or layer used on its own.
constexpr auto with_defaults(config c) noexcept -> config {
  if (c.mss == 0) c.mss = default_mss;
  return c;
}

/// How a connection ended, when it did not end by the normal close.
enum class error : std::uint8_t {
  none = 0,
  connection_refused, // RST in answer to our SYN
  connection_reset,   // RST on an open connection
  timed_out,          // retransmissions, keep-alives or the user timeout ran out
  connection_aborted, // our own application aborted it
};

constexpr auto name(error e) noexcept -> std::string_view {
  switch (e) {
    case error::none:
      return "none";
    case error::connection_refused:
      return "connection refused";
    case error::connection_reset:
      return "connection reset";
    case error::timed_out:
      return "timed out";
    case error::connection_aborted:
      return "connection aborted";
  }
  return "unknown";
}

/// TCP counters, named after RFC 4022's TCP-MIB where one exists (netstat -s prints these).
struct counters {
  std::uint64_t active_opens = 0;           // tcpActiveOpens: CLOSED -> SYN_SENT
  std::uint64_t passive_opens = 0;          // tcpPassiveOpens: LISTEN -> SYN_RCVD
  std::uint64_t attempt_fails = 0;          // tcpAttemptFails
  std::uint64_t estab_resets = 0;           // tcpEstabResets
  std::uint64_t in_segs = 0;                // tcpInSegs
  std::uint64_t out_segs = 0;               // tcpOutSegs (excluding retransmissions)
  std::uint64_t retrans_segs = 0;           // tcpRetransSegs
  std::uint64_t out_rsts = 0;               // tcpOutRsts
  std::uint64_t in_errs = 0;                // tcpInErrs (bad checksum, malformed)
  std::uint64_t rto_expirations = 0;        // retransmission timer expirations
  std::uint64_t fast_retransmits = 0;       // recoveries entered on duplicate ACKs / SACK
  std::uint64_t dup_acks_in = 0;            // duplicate ACKs received
  std::uint64_t ooo_segs_in = 0;            // out-of-order segments queued
  std::uint64_t ooo_dropped = 0;            // out-of-order data dropped (reassembly full)
  std::uint64_t dup_data_in = 0;            // segments carrying only old data
  std::uint64_t out_of_window = 0;          // unacceptable segments (RFC 9293 §3.10.7.4 step 1)
  std::uint64_t paws_rejected = 0;          // RFC 7323 §5 PAWS drops
  std::uint64_t challenge_acks = 0;         // RFC 5961 challenge ACKs sent
  std::uint64_t challenge_acks_limited = 0; // ... and suppressed by the rate limit
  std::uint64_t bad_acks = 0;               // ACKs outside the acceptable range (RFC 5961 §5)
  std::uint64_t zero_window_probes = 0;     // persist-timer probes sent
  std::uint64_t keepalive_probes = 0;       // keep-alive probes sent
  std::uint64_t timeouts = 0;               // connections ended with timed_out
  std::uint64_t syn_cookies_sent = 0;       // RFC 4987
  std::uint64_t syn_cookies_ok = 0;
  std::uint64_t syn_cookies_failed = 0;
  std::uint64_t listen_drops = 0;     // SYNs dropped: backlog or connection limit
  std::uint64_t no_port = 0;          // segments for no connection and no listener
  std::uint64_t data_after_close = 0; // RFC 1122 §4.2.2.13: data after CLOSE, answered with RST
  std::uint64_t predicted_acks = 0;   // header prediction hits: pure ACKs of new data (Linux TCPHPAcks)
  std::uint64_t predicted_data = 0;   // header prediction hits: in-order data (Linux TCPHPHits)
  std::uint64_t direct_placed = 0;    // bytes copied straight into a waiting reader's buffer

  // Orphans (tcp::layer::release) and the path MTU (RFC 1191) against forged ICMP (RFC 5927).
  std::uint64_t orphans_timed_out = 0;  // orphans reset after orphan_retries probes or retransmissions
  std::uint64_t orphans_dropped = 0;    // orphans reset, oldest first, beyond max_orphans (Linux TCPAbortOnMemory)
  std::uint64_t icmp_out_of_window = 0; // ICMP errors quoting no sequence number in flight (Linux OutOfWindowIcmps)
  std::uint64_t pmtu_not_oldest = 0;    // "fragmentation needed" not quoting the oldest unacknowledged segment
  std::uint64_t pmtu_clamped = 0;       // "fragmentation needed" below min_pmtu, raised to it
  std::uint64_t pmtu_deferred = 0;      // held until the quoted segment times out (RFC 5927 §7.3)
  std::uint64_t pmtu_reductions = 0;    // path MTU lowered (the MSS with it)
  std::uint64_t pmtu_increases = 0;     // path MTU raised again after pmtu_expires (RFC 1191 §6.3)
  std::uint64_t no_timestamp_drops = 0; // RFC 7323 §3.2: non-RST segments without TSopt on a timestamped connection
  std::uint64_t oow_acks = 0;           // ACKs owed in answer to unacceptable or PAWS-rejected segments
  std::uint64_t oow_acks_limited = 0;   // ... and suppressed by the per-connection rate limit (RFC 5961 §7)
  std::uint64_t rcv_window_trimmed = 0; // segments whose text went past the window we advertised (or the buffer)
  /// How many times each of the 11 states was entered (index_of(state)).
  std::array<std::uint64_t, state_count> state_entered{};
};

/// Calls `f(name, value)` for every counter, for printing like netstat -s.
template <class F>
void for_each_counter(const counters& c, F&& f) {
  f("active connection openings", c.active_opens);
  f("passive connection openings", c.passive_opens);
  f("failed connection attempts", c.attempt_fails);
  f("connection resets received", c.estab_resets);
  f("segments received", c.in_segs);
  f("segments sent out", c.out_segs);
  f("segments retransmitted", c.retrans_segs);
  f("resets sent", c.out_rsts);
  f("bad segments received", c.in_errs);
  f("retransmission timeouts", c.rto_expirations);
  f("fast retransmits", c.fast_retransmits);
  f("duplicate acks received", c.dup_acks_in);
  f("out-of-order segments queued", c.ooo_segs_in);
  f("out-of-order segments dropped", c.ooo_dropped);
  f("segments with only old data", c.dup_data_in);
  f("segments outside the window", c.out_of_window);
  f("segments rejected by PAWS", c.paws_rejected);
  f("challenge acks sent", c.challenge_acks);
  f("challenge acks rate-limited", c.challenge_acks_limited);
  f("acks outside the acceptable range", c.bad_acks);
  f("zero window probes sent", c.zero_window_probes);
  f("keep-alive probes sent", c.keepalive_probes);
  f("connections timed out", c.timeouts);
  f("SYN cookies sent", c.syn_cookies_sent);
  f("SYN cookies accepted", c.syn_cookies_ok);
  f("SYN cookies rejected", c.syn_cookies_failed);
  f("SYNs dropped (backlog or connection limit)", c.listen_drops);
  f("segments for no connection", c.no_port);
  f("resets for data after close", c.data_after_close);
  f("predicted acknowledgments", c.predicted_acks);
  f("predicted data segments", c.predicted_data);
  f("bytes placed directly in a reader's buffer", c.direct_placed);
  f("orphans reset after too many probes or retransmissions", c.orphans_timed_out);
  f("orphans reset because there were too many", c.orphans_dropped);
  f("ICMP errors for sequence numbers not in flight", c.icmp_out_of_window);
  f("fragmentation needed ignored (not the oldest segment)", c.pmtu_not_oldest);
  f("fragmentation needed below the minimum path MTU", c.pmtu_clamped);
  f("fragmentation needed deferred until a timeout", c.pmtu_deferred);
  f("path MTU reductions", c.pmtu_reductions);
  f("path MTU increases after the expiry", c.pmtu_increases);
  f("segments without a timestamp dropped", c.no_timestamp_drops);
  f("acks sent to unacceptable segments", c.oow_acks);
  f("acks to unacceptable segments rate-limited", c.oow_acks_limited);
  f("segments trimmed to the advertised window", c.rcv_window_trimmed);
}

} // namespace synack::tcp

template <>
struct fmt::formatter<synack::tcp::error> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(synack::tcp::error e, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(synack::tcp::name(e), ctx);
  }
};
