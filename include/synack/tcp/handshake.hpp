// synack/tcp/handshake.hpp: the rules of connection setup that tcp::layer (listeners, SYN
// cookies) and tcp::connection share, each written once.
//
//   reset_reply_for()  RFC 9293 §3.10.7.1: the RST answering a segment that reaches no connection
//   check_listen()     RFC 9293 §3.10.7.2: the checks of a segment that reaches a LISTEN
//   peer_mss()         RFC 9293 §3.7.1: the MSS we send to (536 without the option, at least 64)
//   rcv_wscale_for()   RFC 7323 §2.3: the window-scale shift we announce for a receive buffer
//   negotiate_syn()    what the peer's SYN and our configuration agree on (MSS, window scaling,
//                      SACK, timestamps: RFC 7323 §2.2 and §3.2, RFC 2018 §2)
//   syn_options()      the options of a SYN or SYN-ACK we send
//   syn_window()       the window field of a SYN or SYN-ACK (never scaled, RFC 7323 §2.2)
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "synack/tcp/config.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::tcp {

/// RFC 9293 §3.10.7.1, the reply to a segment that reaches no connection: "If the ACK bit is
/// off, sequence number zero is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. If the ACK
/// bit is on, <SEQ=SEG.ACK><CTL=RST>". Nothing answers a RST.
inline auto reset_reply_for(const wire::tcp_repr& seg) -> std::optional<wire::tcp_repr> {
  using wire::tcp_flag;
  if (seg.flags.has(tcp_flag::rst)) return std::nullopt;
  wire::tcp_repr r{};
  r.src_port = seg.dst_port;
  r.dst_port = seg.src_port;
  if (seg.flags.has(tcp_flag::ack)) {
    r.seq = seg.ack;
    r.flags = wire::tcp_flags{tcp_flag::rst};
  } else {
    r.seq = wire::seq_number{0};
    r.ack = seg.seq + seg.segment_len();
    r.flags = wire::tcp_flags{tcp_flag::rst} | tcp_flag::ack;
  }
  return r;
}

/// What a LISTEN does with a segment (check_listen).
enum class listen_action : std::uint8_t {
  drop,  // ignore it
  reset, // answer <SEQ=SEG.ACK><CTL=RST> (reset_reply_for gives exactly that)
  syn,   // a SYN: start a connection (SYN-RECEIVED)
};

/// RFC 9293 §3.10.7.2, a segment that reaches a LISTEN: "first check for a RST: An incoming RST
/// should be ignored. Return." "second check for an ACK: Any acknowledgment is bad if it arrives
/// on a connection still in the LISTEN state. An acceptable reset segment should be formed for
/// any arriving ACK-bearing segment. The RST should be formatted as follows:
/// <SEQ=SEG.ACK><CTL=RST>" "third check for a SYN" ... "fourth, other data or control ... drop
/// the segment, and return." (A SYN cookie's final ACK is an ACK-bearing segment too: the layer
/// checks its cookie before it answers with the RST.)
constexpr auto check_listen(const wire::tcp_repr& seg) noexcept -> listen_action {
  using wire::tcp_flag;
  if (seg.flags.has(tcp_flag::rst)) return listen_action::drop;
  if (seg.flags.has(tcp_flag::ack)) return listen_action::reset;
  return seg.flags.has(tcp_flag::syn) ? listen_action::syn : listen_action::drop;
}

/// RFC 9293 §3.7.1: "If an MSS Option is not received at connection setup, TCP implementations
/// MUST assume a default send MSS of 536 (576 - 40) for IPv4".
inline constexpr std::uint16_t default_peer_mss = 536;
/// The smallest peer MSS honoured: a tiny MSS would make us send floods of tiny segments
/// (CVE-2019-11479); like Linux, it is clamped to 64.
inline constexpr std::uint16_t min_peer_mss = 64;
/// RFC 7323 §2.3: "If a Window Scale option is received with a shift.cnt value larger than 14,
/// the TCP SHOULD log the error but MUST use 14 instead of the specified value."
inline constexpr std::uint8_t max_wscale = 14;

/// The MSS of a peer whose SYN carried `mss` (or none): 536 without the option, at least 64.
constexpr auto peer_mss(std::optional<std::uint16_t> mss) noexcept -> std::uint16_t {
  return std::max<std::uint16_t>(mss.value_or(default_peer_mss), min_peer_mss);
}

/// RFC 7323 §2.3: the shift that makes a receive buffer of `recv_buffer` bytes fit the 16-bit
/// window field (at most 14).
constexpr auto rcv_wscale_for(std::uint32_t recv_buffer) noexcept -> std::uint8_t {
  std::uint8_t s = 0;
  while (s < max_wscale && (std::uint64_t{recv_buffer} >> s) > 65535) ++s;
  return s;
}

/// What the two SYNs agree on.
struct syn_agreement {
  std::uint16_t peer_mss = default_peer_mss; // the peer's MSS (peer_mss())
  bool window_scaling = false;
  std::uint8_t snd_wscale = 0; // the peer's shift, applied to the windows it sends
  bool sack = false;
  bool timestamps = false;
};

/// What our configuration and the options of the peer's SYN agree on: RFC 9293 §3.7.1 (MSS,
/// peer_mss()); RFC 7323 §2.2, window scaling "is in effect" only when both SYNs carried the
/// option, with the peer's shift at most 14 (§2.3); RFC 2018 §2, SACK when both sent
/// SACK-permitted; RFC 7323 §3.2, timestamps when both SYNs carried them. A SYN cookie's final
/// ACK restores the options the SYN carried (tcp/syn_cookie.hpp) and is judged the same way.
constexpr auto negotiate_syn(const config& cfg, const wire::tcp_options& peer) noexcept -> syn_agreement {
  syn_agreement a;
  a.peer_mss = peer_mss(peer.mss);
  a.window_scaling = cfg.window_scaling && peer.window_scale.has_value();
  a.snd_wscale = a.window_scaling ? std::min<std::uint8_t>(*peer.window_scale, max_wscale) : 0;
  a.sack = cfg.sack && peer.sack_permitted;
  a.timestamps = cfg.timestamps && peer.timestamps.has_value();
  return a;
}

/// The options of a SYN or SYN-ACK we send: our MSS (RFC 9293 §3.7.1), and the options asked
/// for. A SYN offers what the configuration enables; a SYN-ACK answers only what the peer's SYN
/// offered: RFC 7323 §2.2 "It MAY send a WSopt option in a <SYN,ACK> segment only if it
/// received a WSopt option in the initial <SYN> segment", the same for TSopt (§3.2) and RFC 2018
/// §2 for SACK-permitted. The shift we announce is rcv_wscale_for() of our receive buffer.
constexpr auto syn_options(const config& cfg, bool window_scale, bool sack_permitted,
                           std::optional<wire::tcp_timestamps> timestamps) noexcept -> wire::tcp_options {
  wire::tcp_options o{};
  o.mss = cfg.mss;
  if (window_scale) o.window_scale = rcv_wscale_for(cfg.recv_buffer);
  o.sack_permitted = sack_permitted;
  o.timestamps = timestamps;
  return o;
}

/// The window field of a SYN or SYN-ACK offering `space` bytes: RFC 7323 §2.2 "The window field
/// in a segment where the SYN bit is set (i.e., a <SYN> or <SYN,ACK>) MUST NOT be scaled", so at
/// most 65535. It is also the right edge the peer knows once it has our SYN.
constexpr auto syn_window(std::uint64_t space) noexcept -> std::uint16_t {
  return static_cast<std::uint16_t>(std::min<std::uint64_t>(space, 65535));
}

} // namespace synack::tcp
