// The input format of the structured connection fuzzer (fuzz_connection.cpp), and an encoder
// for it (corpus_gen.cpp writes real conversations with it).
//
//   byte 0: the config       bit 0 window scaling, 1 timestamps, 2 SACK, 3 small buffers
//                            (4 KiB), 4 no-delay, 5 keep-alive (10 s idle, 1 s interval, 3
//                            probes), 6 no delayed ACK, 7 a 5 s user timeout
//   byte 1: the start        bit 0: active OPEN (else passive: LISTEN); bit 1: our MSS is 536;
//                            bit 2: header prediction off (the general input path only)
//   then operations, each one byte `op` and its arguments; kind = op & 15, and bit 4 (0x10)
//   means "do not poll the connection after this one" (so several inputs share a poll):
//     0 segment   u8 flags | u8 seq mode, i16 delta (mode 3: u32) | u8 ack mode, i16 delta
//                 (mode 3: u32) | u16 window | u8 options [bit 0: u16 MSS; 1: u8 WS;
//                 2: SACK-permitted; 3: i16 TSval delta; 4: u8 n, then n x (u16 left, u16
//                 len) SACK blocks from SND.UNA] | u16 payload length (% 2048)
//                 seq modes: 0 RCV.NXT + delta, 1 RCV.NXT + RCV.WND + delta, 2 peer ISS +
//                 delta, 3 raw. ack modes: 0 SND.UNA + delta, 1 SND.NXT + delta, 2 ISS +
//                 delta, 3 raw. The payload is the peer's pattern at its sequence numbers.
//     1 send      u16 n: the application queues n bytes of its pattern
//     2 recv      u16 n: the application reads up to n bytes
//     3 close     4 shutdown_write     5 abort
//     6 advance   u16 v: the clock moves v ms (op bit 5: v seconds), timers run as they come due
//     7 timer     the clock jumps to the next deadline and it runs
//     8 icmp      u8 kind (% 3: hard, frag needed, soft) | u8 mode, i16 delta (as ack) | u16 MTU
//     9 options   u8 bits: bit 0 no-delay, bit 1 keep-alive
//    10 consume   u16 n: zero-copy read of up to n bytes (readable_spans + consume)
//    11 post      u16 n: the application waits to read n bytes (post_read: direct placement);
//                 the placed bytes are taken and checked by the next recv, consume or post
//    12 forged    a segment that must be dropped (issue 12: RFC 7323 §3.2, §4.3, §5.3; RFC 5961
//                 §5.2, §7; RFC 9293 §3.10.7.4): u8 what | u8 flags | u8 ts mode, u16 ts delta |
//                 u16 seq delta | u16 ack delta | u16 payload length (% 2048).
//                 what % 3: 0 no ACK bit, SEQ = RCV.NXT + (i16) delta; 1 an unacceptable ACK
//                 (what bit 7 clear: SND.NXT + 1 + delta, set: SND.UNA - MAX.SND.WND - 1 - delta),
//                 SEQ = RCV.NXT + (i16) delta; 2 out of the window (bit 7 clear: from the right
//                 edge + delta, set: ending delta + 1 before RCV.NXT), ACK bit as in flags with
//                 SND.UNA + (i16) delta. SYN and RST are never set. (None of these is a
//                 retransmission of the peer's FIN, which restarts TIME-WAIT's timer.)
//                 ts mode % 4: 0 no TSopt, 1 TSval 2^30 + delta ahead of the peer's, 2 the peer's
//                 + (i16) delta, 3 delta << 16. Checked: the connection's snapshot() is unchanged but for
//                 the ACK it owes, the challenge-ACK timer and a RST answer (the counters are
//                 not in it); in particular TS.Recent.
#pragma once

#include <cstdint>
#include <vector>

namespace synack_fuzz::conn_ops {

enum kind : std::uint8_t {
  segment = 0,
  send = 1,
  recv = 2,
  close = 3,
  shutdown = 4,
  abort = 5,
  advance = 6,
  timer = 7,
  icmp = 8,
  options = 9,
  consume = 10,
  post = 11,
  forged = 12,
};
inline constexpr std::uint8_t no_poll = 0x10;
inline constexpr std::uint8_t in_seconds = 0x20;

enum cfg_bits : std::uint8_t {
  cfg_wscale = 1,
  cfg_ts = 2,
  cfg_sack = 4,
  cfg_small = 8,
  cfg_nodelay = 16,
  cfg_keepalive = 32,
  cfg_no_delack = 64,
  cfg_user_timeout = 128,
};
enum seq_mode : std::uint8_t { rel_rcv_nxt = 0, rel_rcv_edge = 1, rel_peer_iss = 2, raw_seq = 3 };
enum forged_what : std::uint8_t { no_ack_bit = 0, bad_ack = 1, out_of_window = 2, other_side = 0x80 };
enum forged_ts : std::uint8_t { ts_none = 0, ts_far_ahead = 1, ts_near = 2, ts_raw = 3 };
enum ack_mode : std::uint8_t { rel_snd_una = 0, rel_snd_nxt = 1, rel_iss = 2, raw_ack = 3 };

/// The peer's payload byte at sequence number `seq`: data is checked wherever it lands.
constexpr auto peer_byte(std::uint32_t seq) noexcept -> std::uint8_t {
  return static_cast<std::uint8_t>((seq * 0x9e3779b1u) >> 24);
}
/// Our application's byte at stream offset `k`.
constexpr auto app_byte(std::uint64_t k) noexcept -> std::uint8_t {
  return static_cast<std::uint8_t>(((k + 7) * 0x85ebca77u) >> 24);
}

/// Writes operations in the format above.
struct encoder {
  std::vector<std::uint8_t> bytes;

  encoder(std::uint8_t cfg, std::uint8_t start) { bytes = {cfg, start}; }
  void u8(std::uint8_t v) { bytes.push_back(v); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void op(kind k, std::uint8_t extra = 0) { u8(static_cast<std::uint8_t>(k | extra)); }
  /// A SEQ or ACK argument: an i16 delta, or in a raw mode the value as a u32.
  void number(bool raw, std::int16_t v) {
    if (raw) u16(static_cast<std::uint16_t>(static_cast<std::uint32_t>(static_cast<std::int32_t>(v)) >> 16));
    u16(static_cast<std::uint16_t>(v));
  }

  struct seg_options {
    std::uint16_t mss = 0; // 0: none
    int wscale = -1;       // <0: none
    bool sack_permitted = false;
    bool ts = false;
    std::int16_t ts_delta = 1;
    std::vector<std::pair<std::uint16_t, std::uint16_t>> sack; // (left, len) from SND.UNA
  };
  /// A segment; in the raw modes (3) the delta is the number itself, written as a u32.
  void seg(std::uint8_t flags, seq_mode sm, std::int16_t sd, ack_mode am, std::int16_t ad, std::uint16_t window,
           const seg_options& o, std::uint16_t payload, std::uint8_t extra = 0) {
    op(segment, extra);
    u8(flags);
    u8(sm);
    number(sm == raw_seq, sd);
    u8(am);
    number(am == raw_ack, ad);
    u16(window);
    std::uint8_t bits = (o.mss ? 1 : 0) | (o.wscale >= 0 ? 2 : 0) | (o.sack_permitted ? 4 : 0) | (o.ts ? 8 : 0) |
                        (o.sack.empty() ? 0 : 16);
    u8(bits);
    if (o.mss) u16(o.mss);
    if (o.wscale >= 0) u8(static_cast<std::uint8_t>(o.wscale));
    if (o.ts) u16(static_cast<std::uint16_t>(o.ts_delta));
    if (!o.sack.empty()) {
      u8(static_cast<std::uint8_t>(o.sack.size()));
      for (auto [l, n] : o.sack) {
        u16(l);
        u16(n);
      }
    }
    u16(payload);
  }
  /// A forged segment (op 12) that must be dropped.
  void forged_seg(std::uint8_t what, std::uint8_t flags, std::uint8_t ts_mode, std::uint16_t ts_delta,
                  std::uint16_t seq_delta, std::uint16_t ack_delta, std::uint16_t payload, std::uint8_t extra = 0) {
    op(forged, extra);
    u8(what);
    u8(flags);
    u8(ts_mode);
    u16(ts_delta);
    u16(seq_delta);
    u16(ack_delta);
    u16(payload);
  }
  void app_send(std::uint16_t n) {
    op(send);
    u16(n);
  }
  void app_recv(std::uint16_t n) {
    op(recv);
    u16(n);
  }
  void wait_ms(std::uint16_t ms) {
    op(advance);
    u16(ms);
  }
};

} // namespace synack_fuzz::conn_ops
