// synack/tcp/syn_cookie.hpp: SYN cookies, RFC 4987 §3.6.
//
// Read first: RFC 4987 (TCP SYN Flooding Attacks and Common Mitigations) §3.6. With cookies, a
// listener whose SYN backlog is full answers a SYN without keeping any state: everything it
// must remember is encoded in the ISN of its SYN-ACK (and, with timestamps, in the TSval), and
// is recovered from the ACK that completes the handshake (SEG.ACK - 1 is our ISN, TSecr echoes
// our TSval). RFC 4987 §3.6 describes the encoding as a slowly increasing time counter, an
// encoded MSS, and a secret function of the addresses, ports and counter.
//
// Our ISN layout (32 bits), after subtracting a keyed per-4-tuple base B (so that cookies,
// like ordinary ISNs, look random across connections, as in Linux):
//
//     ISN - B = | t mod 32 (5 bits) | MSS index (3 bits) | MAC (24 bits) |
//
//   t    floor(now / period), period 64 s (RFC 4987 §3.6's counter); a cookie is accepted
//        while the counter has advanced by less than `max_age` (default 2: 64 to 128 s).
//   MSS  index into `mss_table` (8 common values); the largest entry <= the MSS to use.
//   MAC  the low 24 bits of SipHash-2-4(key, 4-tuple, the peer's ISN, the full t, the MSS
//        index, the option bits below). Including the peer's ISN ties the cookie to that SYN
//        (the final ACK must carry SEG.SEQ = peer ISN + 1); including the MSS index and option
//        bits makes tampering with them fail the MAC.
// When the SYN carried timestamps (RFC 7323), the low 6 bits of our TSval carry the options
// that the ISN has no room for, as Linux does: bits 0-3 the peer's window scale shift (15 = no
// window scale option), bit 4 SACK permitted, bit 5 reserved (0). TSval keeps its upper bits
// from our timestamp clock and never runs ahead of it. Without timestamps a cookie connection
// has neither window scaling nor SACK (RFC 4987 §3.6 notes this loss of options).
//
// A forged ACK passes with probability about 2^-24 per try (the MAC), and only within the
// counter window. `check` rejects expired, forged and tampered cookies with a reason.
// Pure: the caller passes `now` and its timestamp clock value; the key is the stack's.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "synack/tcp/isn.hpp"
#include "synack/time/instant.hpp"
#include "synack/util/expected.hpp"
#include "synack/util/siphash.hpp"
#include "synack/wire/endpoint.hpp"
#include "synack/wire/seq_number.hpp"

namespace synack::tcp {

enum class cookie_error : std::uint8_t {
  mss_too_small, // make(): the MSS is below the smallest table entry (536); answer without a cookie
  expired,       // check(): the counter is older than max_age (or from the future)
  bad_mac,       // check(): not a cookie of ours for this 4-tuple and peer ISN (forged, tampered)
};

struct syn_cookie_config {
  /// The counter period: 64 s, the slowly increasing counter of RFC 4987 §3.6's encoding.
  duration period = std::chrono::seconds{64};
  /// Counter values accepted: the current one and max_age - 1 before it.
  std::uint32_t max_age = 2;
};

/// The peer's options a cookie can carry when the SYN had timestamps.
struct cookie_ts_options {
  std::optional<std::uint8_t> window_scale; // the peer's shift count (0..14), if it sent the option
  bool sack_permitted = false;
};

/// What make() produced for the SYN-ACK.
struct syn_cookie {
  wire::seq_number isn;               // our ISS
  std::uint16_t mss = 0;              // the MSS encoded (<= the MSS asked for): use it from now on
  std::optional<std::uint32_t> tsval; // our TSval, when the SYN had timestamps
};

/// What check() recovered from the final ACK.
struct cookie_state {
  wire::seq_number iss;      // our ISS (SEG.ACK - 1)
  wire::seq_number irs;      // the peer's ISN (SEG.SEQ - 1)
  std::uint16_t mss = 0;     // from the table
  bool timestamps = false;   // the handshake used timestamps
  cookie_ts_options options; // window scale and SACK (only with timestamps)
};

class syn_cookies {
public:
  /// The MSS values a cookie can express (3 bits), ascending: RFC 9293's default 536, common
  /// tunnel/VPN and PPPoE sizes, Ethernet's 1460, and a 9000-byte jumbo frame's 8960.
  static constexpr std::array<std::uint16_t, 8> mss_table{536, 1200, 1300, 1400, 1440, 1452, 1460, 8960};

  explicit syn_cookies(const siphash_key& key, const syn_cookie_config& config = {}) noexcept
      : m_key(key), m_config(config) {
    if (m_config.period <= duration::zero()) m_config.period = std::chrono::seconds{64};
    m_config.max_age = std::clamp<std::uint32_t>(m_config.max_age, 1, 31);
  }

  /// A SYN from `remote` to `local` with sequence number `peer_isn` arrived at `now`. `mss` is
  /// the MSS the connection would use (min of the peer's MSS option, or 536 without one, and
  /// ours). `ts_now` is our timestamp clock if the SYN carried timestamps (nullopt otherwise),
  /// and `options` the peer's window scale / SACK-permitted options (kept only with timestamps).
  auto make(instant now, const wire::endpoint& local, const wire::endpoint& remote, wire::seq_number peer_isn,
            std::uint16_t mss, std::optional<std::uint32_t> ts_now,
            const cookie_ts_options& options = {}) const noexcept -> expected<syn_cookie, cookie_error> {
    if (mss < mss_table[0]) return unexpected{cookie_error::mss_too_small};
    std::uint32_t index = 0;
    while (index + 1 < mss_table.size() && mss_table[index + 1] <= mss) ++index;
    const auto t = counter(now);
    std::uint32_t opts = no_timestamps;
    std::optional<std::uint32_t> tsval;
    if (ts_now) {
      opts = encode_options(options);
      auto v = (*ts_now & ~ts_mask) | opts;
      // Never ahead of our clock: step back one 64-tick slot (modular comparison, like TSval).
      if (static_cast<std::int32_t>(v - *ts_now) > 0) v -= ts_mask + 1;
      tsval = v;
    }
    const auto mac = this->mac(local, remote, peer_isn, t, index, opts);
    const auto raw = (t % 32) << 27 | index << 24 | mac;
    return syn_cookie{wire::seq_number{base(local, remote) + raw}, mss_table[index], tsval};
  }

  /// The ACK completing the handshake arrived at `now`: SEG.SEQ `seg_seq`, SEG.ACK `seg_ack`,
  /// and TSecr if it carried timestamps. Returns the connection's state or why it is refused.
  auto check(instant now, const wire::endpoint& local, const wire::endpoint& remote, wire::seq_number seg_seq,
             wire::seq_number seg_ack, std::optional<std::uint32_t> tsecr) const noexcept
      -> expected<cookie_state, cookie_error> {
    const auto iss = seg_ack - 1;
    const auto irs = seg_seq - 1;
    const auto raw = iss.raw() - base(local, remote);
    const auto t_now = counter(now);
    const auto age = (t_now - (raw >> 27)) % 32;
    if (age >= m_config.max_age) return unexpected{cookie_error::expired};
    const auto t = t_now - age;
    const auto index = raw >> 24 & 7;
    const auto opts = tsecr ? (*tsecr & ts_mask) : no_timestamps;
    if ((raw & mac_mask) != mac(local, remote, irs, t, index, opts)) return unexpected{cookie_error::bad_mac};
    cookie_state s{iss, irs, mss_table[index], tsecr.has_value(), {}};
    if (tsecr) s.options = decode_options(opts);
    return s;
  }

  /// The cookie counter t at `now` (floor(now / period)).
  auto counter(instant now) const noexcept -> std::uint32_t {
    auto q = now.nanos() / m_config.period.count();
    if (now.nanos() % m_config.period.count() < 0) --q;
    return static_cast<std::uint32_t>(q);
  }
  auto config() const noexcept -> const syn_cookie_config& { return m_config; }

private:
  static constexpr std::uint32_t mac_mask = (1u << 24) - 1;
  static constexpr std::uint32_t ts_mask = 63;    // TSval bits carrying options
  static constexpr std::uint32_t no_wscale = 0xf; // window scale field: "no option"
  static constexpr std::uint32_t sack_bit = 1u << 4;
  static constexpr std::uint32_t no_timestamps = 1u << 6; // MAC input when there is no TSval

  static auto encode_options(const cookie_ts_options& o) noexcept -> std::uint32_t {
    std::uint32_t v = o.window_scale ? std::min<std::uint32_t>(*o.window_scale, 14) : no_wscale;
    if (o.sack_permitted) v |= sack_bit;
    return v;
  }
  static auto decode_options(std::uint32_t v) noexcept -> cookie_ts_options {
    cookie_ts_options o;
    if ((v & 0xf) != no_wscale) o.window_scale = static_cast<std::uint8_t>(v & 0xf);
    o.sack_permitted = (v & sack_bit) != 0;
    return o;
  }

  auto base(const wire::endpoint& local, const wire::endpoint& remote) const noexcept -> std::uint32_t {
    return static_cast<std::uint32_t>(detail::hash_tuple(m_key, detail::tag_cookie_base, local, remote).finish());
  }

  auto mac(const wire::endpoint& local, const wire::endpoint& remote, wire::seq_number peer_isn, std::uint32_t t,
           std::uint32_t index, std::uint32_t opts) const noexcept -> std::uint32_t {
    auto h = detail::hash_tuple(m_key, detail::tag_cookie_mac, local, remote);
    h.update_u32(peer_isn.raw()).update_u32(t).update_u8(static_cast<std::uint8_t>(index));
    h.update_u8(static_cast<std::uint8_t>(opts));
    return static_cast<std::uint32_t>(h.finish()) & mac_mask;
  }

  siphash_key m_key;
  syn_cookie_config m_config;
};

} // namespace synack::tcp
