// synack/wire/tcp.hpp: TCP headers and options (RFC 9293 §3.1, RFC 7323, RFC 2018).
//
//   0        2        4        8        12    13      14       16         18       20
//   | sport  | dport  | seq    | ack    |off|rs| flags | window | checksum | urgent | options ...
//
// Contract of `tcp_packet<Bytes>`: `check_len()` verifies, in this order,
//   buffer >= 20                            else truncated
//   buffer <= 65535                         else oversized (the pseudo header's TCP length is 16 bits)
//   data offset >= 5                        else bad_header_len
//   buffer >= data offset * 4               else truncated
// After it succeeded no accessor or setter reads or writes outside the buffer. The segment is the
// whole buffer (give the view exactly the IPv4 payload): payload() is [data offset*4, end) and
// the checksum covers the whole buffer. `set_header_len` invalidates check_len.
//
// `tcp_repr::parse` adds the checksum (pseudo header + segment; `bad_checksum` unless
// checksum_check::skip) and the options (`bad_option`, see `parse_tcp_options`). It does not
// judge the flags or the ports: which flag combinations are acceptable in which state is the
// TCP core's business (RFC 9293 §3.10.7), and so are options that only mean something on a SYN.
//
// Options emitted by `tcp_repr::emit` follow Linux's layout (tcp_options_write), each part a
// multiple of 4 bytes so no padding is ever needed:
//   MSS              02 04 mm mm
//   SACK_PERM + TS   04 02 08 0a <tsval> <tsecr>   (01 01 08 0a ... without SACK_PERM)
//   SACK_PERM alone  01 01 04 02                   (when there are no timestamps)
//   window scale     01 03 03 ss
//   SACK blocks      01 01 05 <2+8n> <blocks>      (as many as fit in the 40 bytes that are left)
// A SYN with MSS, SACK_PERM, TS and WS therefore takes 20 bytes of options, like Linux's, and a
// segment with timestamps carries at most 3 SACK blocks (4 without).
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "synack/wire/checksum.hpp"
#include "synack/wire/detail/view.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv4_address.hpp"
#include "synack/wire/seq_number.hpp"

namespace synack::wire {

// ---------------------------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------------------------

/// RFC 9293 §3.1 control bits (byte 13), with RFC 3168's ECE and CWR.
enum class tcp_flag : std::uint8_t {
  fin = 0x01,
  syn = 0x02,
  rst = 0x04,
  psh = 0x08,
  ack = 0x10,
  urg = 0x20,
  ece = 0x40,
  cwr = 0x80,
};

/// A set of tcp_flag. Formats as "SYN|ACK" ({}), or tcpdump's letters "S." ({:t}).
class tcp_flags {
public:
  constexpr tcp_flags() noexcept = default;
  constexpr tcp_flags(tcp_flag f) noexcept : m_bits(static_cast<std::uint8_t>(f)) {} // NOLINT: implicit on purpose

  static constexpr auto from_bits(std::uint8_t b) noexcept -> tcp_flags {
    tcp_flags f;
    f.m_bits = b;
    return f;
  }
  constexpr auto bits() const noexcept -> std::uint8_t { return m_bits; }

  constexpr auto has(tcp_flag f) const noexcept -> bool { return (m_bits & static_cast<std::uint8_t>(f)) != 0; }
  constexpr auto has_any(tcp_flags f) const noexcept -> bool { return (m_bits & f.m_bits) != 0; }
  constexpr auto has_all(tcp_flags f) const noexcept -> bool { return (m_bits & f.m_bits) == f.m_bits; }
  constexpr auto empty() const noexcept -> bool { return m_bits == 0; }

  constexpr auto set(tcp_flag f, bool on = true) noexcept -> tcp_flags& {
    if (on)
      m_bits = static_cast<std::uint8_t>(m_bits | static_cast<std::uint8_t>(f));
    else
      m_bits = static_cast<std::uint8_t>(m_bits & ~static_cast<std::uint8_t>(f));
    return *this;
  }
  constexpr auto clear(tcp_flag f) noexcept -> tcp_flags& { return set(f, false); }

  friend constexpr auto operator|(tcp_flags a, tcp_flags b) noexcept -> tcp_flags {
    return from_bits(a.m_bits | b.m_bits);
  }
  friend constexpr auto operator&(tcp_flags a, tcp_flags b) noexcept -> tcp_flags {
    return from_bits(a.m_bits & b.m_bits);
  }
  constexpr auto operator|=(tcp_flags o) noexcept -> tcp_flags& {
    m_bits = static_cast<std::uint8_t>(m_bits | o.m_bits);
    return *this;
  }
  friend constexpr auto operator==(tcp_flags, tcp_flags) noexcept -> bool = default;

private:
  std::uint8_t m_bits = 0;
};

constexpr auto operator|(tcp_flag a, tcp_flag b) noexcept -> tcp_flags { return tcp_flags{a} | tcp_flags{b}; }

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/// Option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018).
enum class tcp_option_kind : std::uint8_t {
  eol = 0,
  nop = 1,
  mss = 2,
  window_scale = 3,
  sack_permitted = 4,
  sack = 5,
  timestamps = 8,
};

/// RFC 7323 §3.2: "TSval (Timestamp Value) ... TSecr (Timestamp Echo Reply)".
struct tcp_timestamps {
  std::uint32_t tsval = 0;
  std::uint32_t tsecr = 0;
  friend constexpr auto operator==(const tcp_timestamps&, const tcp_timestamps&) noexcept -> bool = default;
};

/// RFC 2018 §3: a block of received data [left, right): "Right Edge of Block: ... the sequence
/// number immediately following the last sequence number of this block".
struct sack_block {
  seq_number left;
  seq_number right;
  friend constexpr auto operator==(const sack_block&, const sack_block&) noexcept -> bool = default;
};

/// RFC 7323 §2.3: "the shift count ... MUST be limited to 14". Parse keeps the raw value.
inline constexpr std::uint8_t tcp_max_window_scale = 14;
/// RFC 9293 §3.7.1: "the default MSS ... 536" when the peer sends none (IPv4).
inline constexpr std::uint16_t tcp_default_mss = 536;
/// Data offset is 4 bits of 32-bit words: at most 60 bytes of header, 40 of options.
inline constexpr std::size_t tcp_min_header_len = 20;
inline constexpr std::size_t tcp_max_header_len = 60;
inline constexpr std::size_t tcp_max_options_len = 40;
inline constexpr std::size_t tcp_max_sack_blocks = 4;

struct tcp_options {
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale; ///< shift count as received (the TCP core clamps to 14)
  bool sack_permitted = false;
  std::optional<tcp_timestamps> timestamps;
  std::array<sack_block, tcp_max_sack_blocks> sack{};
  std::uint8_t sack_count = 0;

  auto sack_blocks() const noexcept -> std::span<const sack_block> {
    return {sack.data(), std::min<std::size_t>(sack_count, tcp_max_sack_blocks)};
  }
  /// Appends a block if there is room (4 at most); returns whether it was added.
  constexpr auto add_sack(sack_block b) noexcept -> bool {
    if (sack_count >= tcp_max_sack_blocks) return false;
    sack[sack_count++] = b;
    return true;
  }

  /// How many SACK blocks emit writes: those that fit after the other options (see tcp.hpp's
  /// header comment), never more than 4.
  constexpr auto emitted_sack_blocks() const noexcept -> std::size_t {
    std::size_t room = tcp_max_options_len - fixed_len();
    if (room < 4 + 8) return 0;
    return std::min<std::size_t>({std::size_t{sack_count}, tcp_max_sack_blocks, (room - 4) / 8});
  }
  /// Bytes emit writes: a multiple of 4, at most 40.
  constexpr auto emit_len() const noexcept -> std::size_t {
    std::size_t n = emitted_sack_blocks();
    return fixed_len() + (n != 0 ? 4 + 8 * n : 0);
  }

  /// Writes emit_len() bytes at the start of `out` (which holds at least that many).
  void emit(bytes_mut out) const noexcept {
    assert(out.size() >= emit_len());
    std::byte* p = out.data();
    auto put8 = [&p](std::uint8_t v) { *p++ = std::byte{v}; };
    auto put16 = [&p](std::uint16_t v) {
      store_be<std::uint16_t>(p, v);
      p += 2;
    };
    auto put32 = [&p](std::uint32_t v) {
      store_be<std::uint32_t>(p, v);
      p += 4;
    };
    constexpr auto nop = static_cast<std::uint8_t>(tcp_option_kind::nop);
    if (mss) {
      put8(static_cast<std::uint8_t>(tcp_option_kind::mss));
      put8(4);
      put16(*mss);
    }
    if (timestamps) {
      if (sack_permitted) {
        put8(static_cast<std::uint8_t>(tcp_option_kind::sack_permitted));
        put8(2);
      } else {
        put8(nop);
        put8(nop);
      }
      put8(static_cast<std::uint8_t>(tcp_option_kind::timestamps));
      put8(10);
      put32(timestamps->tsval);
      put32(timestamps->tsecr);
    } else if (sack_permitted) {
      put8(nop);
      put8(nop);
      put8(static_cast<std::uint8_t>(tcp_option_kind::sack_permitted));
      put8(2);
    }
    if (window_scale) {
      put8(nop);
      put8(static_cast<std::uint8_t>(tcp_option_kind::window_scale));
      put8(3);
      put8(*window_scale);
    }
    if (std::size_t n = emitted_sack_blocks(); n != 0) {
      put8(nop);
      put8(nop);
      put8(static_cast<std::uint8_t>(tcp_option_kind::sack));
      put8(static_cast<std::uint8_t>(2 + 8 * n));
      for (std::size_t i = 0; i < n; ++i) {
        put32(sack[i].left.raw());
        put32(sack[i].right.raw());
      }
    }
  }

  friend auto operator==(const tcp_options& a, const tcp_options& b) noexcept -> bool {
    auto sa = a.sack_blocks(), sb = b.sack_blocks();
    return a.mss == b.mss && a.window_scale == b.window_scale && a.sack_permitted == b.sack_permitted &&
           a.timestamps == b.timestamps && std::equal(sa.begin(), sa.end(), sb.begin(), sb.end());
  }

private:
  constexpr auto fixed_len() const noexcept -> std::size_t {
    return (mss ? 4 : 0) + (timestamps ? 12 : (sack_permitted ? 4 : 0)) + (window_scale ? 4 : 0);
  }
};

/// Parses the option bytes of a header (bytes 20 .. data offset * 4).
///
/// RFC 9293 §3.1: "Case 1: A single octet of option-kind. Case 2: An octet of option-kind, an
/// octet of option-length, and the actual option-data octets. The option-length counts the two
/// octets of option-kind and option-length as well as the option-data octets." RFC 9293 §3.1:
/// "A TCP implementation MUST (MUST-6) ignore without error any TCP option it does not
/// implement, assuming that the option has a length field" and "MUST be prepared to handle an
/// illegal option length (e.g., zero)" (MUST-7).
///
/// Decisions: EOL ends the list (anything after it is padding and is not looked at). A NOP is
/// one byte. For any other kind, a missing length byte, a length below 2 or one running past
/// the options is `bad_option`, as is a known kind with a length its RFC does not allow (MSS 4,
/// WS 3, SACK_PERM 2, TS 10, SACK 2 + 8n with n >= 1). Unknown kinds are skipped, never
/// rejected. When an option appears twice the last one wins (as in Linux); SACK blocks beyond
/// the fourth are dropped (40 bytes cannot hold more than 4 anyway).
inline auto parse_tcp_options(bytes_view opts) noexcept -> expected<tcp_options, wire_error> {
  tcp_options o;
  std::size_t i = 0;
  while (i < opts.size()) {
    auto kind = static_cast<tcp_option_kind>(std::to_integer<std::uint8_t>(opts[i]));
    if (kind == tcp_option_kind::eol) break;
    if (kind == tcp_option_kind::nop) {
      ++i;
      continue;
    }
    if (i + 1 >= opts.size()) return unexpected{wire_error::bad_option};
    std::size_t len = std::to_integer<std::uint8_t>(opts[i + 1]);
    if (len < 2 || len > opts.size() - i) return unexpected{wire_error::bad_option};
    const std::byte* data = opts.data() + i + 2;
    switch (kind) {
      case tcp_option_kind::mss:
        // RFC 9293 §3.2: "Maximum Segment Size ... Length=4".
        if (len != 4) return unexpected{wire_error::bad_option};
        o.mss = load_be<std::uint16_t>(data);
        break;
      case tcp_option_kind::window_scale:
        // RFC 7323 §2.2: "Kind: 3 Length: 3 bytes".
        if (len != 3) return unexpected{wire_error::bad_option};
        o.window_scale = std::to_integer<std::uint8_t>(data[0]);
        break;
      case tcp_option_kind::sack_permitted:
        // RFC 2018 §2: "Kind: 4 Length: 2".
        if (len != 2) return unexpected{wire_error::bad_option};
        o.sack_permitted = true;
        break;
      case tcp_option_kind::sack: {
        // RFC 2018 §3: "Kind: 5 Length: Variable" -- 8 * n + 2 for n blocks.
        if (len < 10 || (len - 2) % 8 != 0) return unexpected{wire_error::bad_option};
        o.sack_count = 0;
        for (std::size_t b = 0; b < (len - 2) / 8; ++b)
          o.add_sack(
              {seq_number{load_be<std::uint32_t>(data + 8 * b)}, seq_number{load_be<std::uint32_t>(data + 8 * b + 4)}});
        break;
      }
      case tcp_option_kind::timestamps:
        // RFC 7323 §3.2: "Kind: 8 Length: 10 bytes".
        if (len != 10) return unexpected{wire_error::bad_option};
        o.timestamps = tcp_timestamps{load_be<std::uint32_t>(data), load_be<std::uint32_t>(data + 4)};
        break;
      default:
        break; // unknown: skipped by its length
    }
    i += len;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// View
// ---------------------------------------------------------------------------------------------

namespace tcp_field {
inline constexpr field_range src_port{0, 2};
inline constexpr field_range dst_port{2, 4};
inline constexpr field_range seq{4, 8};
inline constexpr field_range ack{8, 12};
inline constexpr field_range data_offset{12, 13}; ///< upper 4 bits; the lower 4 are reserved
inline constexpr field_range flags{13, 14};
inline constexpr field_range window{14, 16};
inline constexpr field_range checksum{16, 18};
inline constexpr field_range urgent{18, 20};
inline constexpr std::size_t options = 20;
} // namespace tcp_field

template <byte_span Bytes>
class tcp_packet {
public:
  constexpr explicit tcp_packet(Bytes b) noexcept : m_bytes(b) {}
  template <byte_span Other>
  requires(!std::same_as<Other, Bytes> &&
           std::convertible_to<Other, Bytes>) constexpr tcp_packet(const tcp_packet<Other>& o) noexcept
      : m_bytes(o.bytes()) {}

  static auto checked(Bytes b) noexcept -> expected<tcp_packet, wire_error> {
    tcp_packet p{b};
    if (auto r = p.check_len(); !r) return unexpected{r.error()};
    return p;
  }
  auto check_len() const noexcept -> expected<void, wire_error> {
    if (m_bytes.size() < tcp_min_header_len) return unexpected{wire_error::truncated};
    if (m_bytes.size() > 0xffff) return unexpected{wire_error::oversized};
    // RFC 9293 §3.1: "Data Offset: 4 bits ... The TCP header (even one including options) is an
    // integer multiple of 32 bits long." Below 5 words it cannot hold the fixed header.
    if (header_len() < tcp_min_header_len) return unexpected{wire_error::bad_header_len};
    if (m_bytes.size() < header_len()) return unexpected{wire_error::truncated};
    return {};
  }

  constexpr auto bytes() const noexcept -> Bytes { return m_bytes; }
  auto src_port() const noexcept -> std::uint16_t { return detail::get<std::uint16_t>(m_bytes, tcp_field::src_port); }
  auto dst_port() const noexcept -> std::uint16_t { return detail::get<std::uint16_t>(m_bytes, tcp_field::dst_port); }
  auto seq_no() const noexcept -> seq_number { return seq_number{detail::get<std::uint32_t>(m_bytes, tcp_field::seq)}; }
  auto ack_no() const noexcept -> seq_number { return seq_number{detail::get<std::uint32_t>(m_bytes, tcp_field::ack)}; }
  /// Data offset * 4, in bytes.
  auto header_len() const noexcept -> std::size_t { return static_cast<std::size_t>(detail::u8(m_bytes, 12) >> 4) * 4; }
  auto flags() const noexcept -> tcp_flags { return tcp_flags::from_bits(detail::u8(m_bytes, tcp_field::flags.begin)); }
  auto has(tcp_flag f) const noexcept -> bool { return flags().has(f); }
  /// The raw 16-bit window field (not scaled).
  auto window() const noexcept -> std::uint16_t { return detail::get<std::uint16_t>(m_bytes, tcp_field::window); }
  auto checksum() const noexcept -> std::uint16_t { return detail::get<std::uint16_t>(m_bytes, tcp_field::checksum); }
  auto urgent() const noexcept -> std::uint16_t { return detail::get<std::uint16_t>(m_bytes, tcp_field::urgent); }
  /// The option bytes [20, data offset * 4).
  auto options() const noexcept -> Bytes {
    return m_bytes.subspan(tcp_field::options, header_len() - tcp_field::options);
  }
  auto payload() const noexcept -> Bytes { return m_bytes.subspan(header_len()); }
  /// RFC 9293 §3.1: the checksum covers the pseudo header, the header and the data.
  auto verify_checksum(ipv4_address src, ipv4_address dst) const noexcept -> bool {
    auto ph = pseudo_header_sum(src, dst, ip_protocol::tcp, static_cast<std::uint16_t>(m_bytes.size()));
    return ones_add(ph, ones_sum(m_bytes)) == 0xffff;
  }

  void set_src_port(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, tcp_field::src_port, v);
  }
  void set_dst_port(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, tcp_field::dst_port, v);
  }
  void set_seq_no(seq_number s) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, tcp_field::seq, s.raw());
  }
  void set_ack_no(seq_number s) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, tcp_field::ack, s.raw());
  }
  /// Precondition: a multiple of 4 in [20, 60]. Clears the reserved bits.
  void set_header_len(std::size_t len) noexcept requires mutable_byte_span<Bytes> {
    detail::set_u8(m_bytes, tcp_field::data_offset.begin, static_cast<std::uint8_t>(((len / 4) & 0x0f) << 4));
  }
  void set_flags(tcp_flags f) noexcept requires mutable_byte_span<Bytes> {
    detail::set_u8(m_bytes, tcp_field::flags.begin, f.bits());
  }
  void set_window(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, tcp_field::window, v);
  }
  void set_checksum(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, tcp_field::checksum, v);
  }
  void set_urgent(std::uint16_t v) noexcept requires mutable_byte_span<Bytes> {
    detail::set(m_bytes, tcp_field::urgent, v);
  }
  /// Fills the checksum over the whole buffer as `fill` says (see checksum_fill).
  void fill_checksum(ipv4_address src, ipv4_address dst,
                     checksum_fill fill = checksum_fill::full) noexcept requires mutable_byte_span<Bytes> {
    set_checksum(0);
    if (fill == checksum_fill::none) return;
    auto ph = pseudo_header_sum(src, dst, ip_protocol::tcp, static_cast<std::uint16_t>(m_bytes.size()));
    if (fill == checksum_fill::pseudo_header_only)
      set_checksum(ph);
    else
      set_checksum(static_cast<std::uint16_t>(~ones_add(ph, ones_sum(m_bytes))));
  }

private:
  Bytes m_bytes;
};

tcp_packet(bytes_view)->tcp_packet<bytes_view>;
tcp_packet(bytes_mut)->tcp_packet<bytes_mut>;

// ---------------------------------------------------------------------------------------------
// Repr
// ---------------------------------------------------------------------------------------------

struct tcp_repr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  seq_number seq;
  seq_number ack; ///< meaningful when flags has ack (kept raw either way)
  tcp_flags flags;
  std::uint16_t window = 0; ///< the raw 16-bit header field (unscaled)
  std::uint16_t urgent = 0;
  tcp_options options;
  bytes_view payload;

  /// RFC 9293 §3.4 SEG.LEN: "the number of octets occupied by the data in the segment (counting
  /// SYN and FIN)".
  auto segment_len() const noexcept -> std::uint32_t {
    return static_cast<std::uint32_t>(payload.size()) + (flags.has(tcp_flag::syn) ? 1u : 0u) +
           (flags.has(tcp_flag::fin) ? 1u : 0u);
  }
  /// 20 + options (a multiple of 4, at most 60).
  auto header_len() const noexcept -> std::size_t { return tcp_min_header_len + options.emit_len(); }
  auto buffer_len() const noexcept -> std::size_t { return header_len() + payload.size(); }

  static auto parse(const tcp_packet<bytes_view>& p, ipv4_address src, ipv4_address dst,
                    checksum_check check = checksum_check::verify) noexcept -> expected<tcp_repr, wire_error> {
    if (auto r = p.check_len(); !r) return unexpected{r.error()};
    if (check == checksum_check::verify && !p.verify_checksum(src, dst)) return unexpected{wire_error::bad_checksum};
    auto opts = parse_tcp_options(p.options());
    if (!opts) return unexpected{opts.error()};
    tcp_repr r;
    r.src_port = p.src_port();
    r.dst_port = p.dst_port();
    r.seq = p.seq_no();
    r.ack = p.ack_no();
    r.flags = p.flags();
    r.window = p.window();
    r.urgent = p.urgent();
    r.options = *opts;
    r.payload = p.payload();
    return r;
  }

  /// Writes the header and options, copies `payload` after them (it may already be there: an
  /// overlapping copy is fine) and fills the checksum over header + payload. Precondition: the
  /// packet holds at least buffer_len() bytes; the checksum covers exactly buffer_len() bytes.
  void emit(tcp_packet<bytes_mut>& p, ipv4_address src, ipv4_address dst,
            checksum_fill fill = checksum_fill::full) const noexcept {
    assert(p.bytes().size() >= buffer_len());
    auto buf = p.bytes().first(buffer_len());
    if (!payload.empty() && buf.data() + header_len() != payload.data())
      std::memmove(buf.data() + header_len(), payload.data(), payload.size());
    emit_header(buf, payload.size(), src, dst, fill);
  }

  /// Writes the header and options into buf[0, header_len()) for a payload of `payload_len`
  /// bytes that already sits at buf[header_len(), header_len() + payload_len); the checksum
  /// covers both. `payload` is not looked at. Precondition: buf holds that many bytes.
  void emit_header(bytes_mut buf, std::size_t payload_len, ipv4_address src, ipv4_address dst,
                   checksum_fill fill = checksum_fill::full) const noexcept {
    assert(buf.size() >= header_len() + payload_len);
    tcp_packet<bytes_mut> p{buf.first(header_len() + payload_len)};
    p.set_src_port(src_port);
    p.set_dst_port(dst_port);
    p.set_seq_no(seq);
    p.set_ack_no(ack);
    p.set_header_len(header_len());
    p.set_flags(flags);
    p.set_window(window);
    p.set_urgent(urgent);
    options.emit(buf.subspan(tcp_field::options, header_len() - tcp_field::options));
    p.fill_checksum(src, dst, fill);
  }

  /// Field-wise equality, payload compared by content.
  friend auto operator==(const tcp_repr& a, const tcp_repr& b) noexcept -> bool {
    return a.src_port == b.src_port && a.dst_port == b.dst_port && a.seq == b.seq && a.ack == b.ack &&
           a.flags == b.flags && a.window == b.window && a.urgent == b.urgent && a.options == b.options &&
           std::equal(a.payload.begin(), a.payload.end(), b.payload.begin(), b.payload.end());
  }
};

/// A segment with its addresses, for one-line traces:
/// "192.0.2.1:5000 > 192.0.2.2:7788 [S] seq=... win=64240 opts=[mss 1460,sackOK,TS val 1 ecr 0,wscale 7] len=0".
struct tcp_summary {
  ipv4_address src;
  ipv4_address dst;
  const tcp_repr& tcp;
};

} // namespace synack::wire

/// "SYN|ACK" with {}, "S." with {:t} (tcpdump's letters: F S R P . U E W; "none" when empty).
template <>
struct fmt::formatter<synack::wire::tcp_flags> {
  bool m_letters = false;
  constexpr auto parse(format_parse_context& ctx) {
    auto it = ctx.begin();
    if (it != ctx.end() && *it == 't') {
      m_letters = true;
      ++it;
    }
    return it;
  }
  template <class Ctx>
  auto format(synack::wire::tcp_flags f, Ctx& ctx) const {
    static constexpr const char* names[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    static constexpr char letters[] = {'F', 'S', 'R', 'P', '.', 'U', 'E', 'W'};
    auto out = ctx.out();
    if (f.empty()) return fmt::format_to(out, "none");
    bool first = true;
    for (int i = 0; i < 8; ++i) {
      if ((f.bits() >> i & 1) == 0) continue;
      if (m_letters) {
        *out++ = letters[i];
      } else {
        if (!first) *out++ = '|';
        out = fmt::format_to(out, "{}", names[i]);
      }
      first = false;
    }
    return out;
  }
};

template <>
struct fmt::formatter<synack::wire::tcp_flag> : fmt::formatter<synack::wire::tcp_flags> {
  template <class Ctx>
  auto format(synack::wire::tcp_flag f, Ctx& ctx) const {
    return fmt::formatter<synack::wire::tcp_flags>::format(synack::wire::tcp_flags{f}, ctx);
  }
};

/// tcpdump's option list: "mss 1460,sackOK,TS val 1 ecr 0,wscale 7,sack 1 {100:200}" ("" if none).
template <>
struct fmt::formatter<synack::wire::tcp_options> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <class Ctx>
  auto format(const synack::wire::tcp_options& o, Ctx& ctx) const {
    auto out = ctx.out();
    bool first = true;
    auto sep = [&] {
      if (!first) *out++ = ',';
      first = false;
    };
    if (o.mss) {
      sep();
      out = fmt::format_to(out, "mss {}", *o.mss);
    }
    if (o.sack_permitted) {
      sep();
      out = fmt::format_to(out, "sackOK");
    }
    if (o.timestamps) {
      sep();
      out = fmt::format_to(out, "TS val {} ecr {}", o.timestamps->tsval, o.timestamps->tsecr);
    }
    if (o.window_scale) {
      sep();
      out = fmt::format_to(out, "wscale {}", *o.window_scale);
    }
    if (auto s = o.sack_blocks(); !s.empty()) {
      sep();
      out = fmt::format_to(out, "sack {} ", s.size());
      for (const auto& b : s) out = fmt::format_to(out, "{{{}:{}}}", b.left, b.right);
    }
    return out;
  }
};

namespace synack::wire::detail {
template <class Out>
auto format_tcp_tail(Out out, const tcp_repr& t) -> Out {
  out = fmt::format_to(out, " [{:t}] seq={}", t.flags, t.seq);
  if (t.flags.has(tcp_flag::ack)) out = fmt::format_to(out, " ack={}", t.ack);
  out = fmt::format_to(out, " win={}", t.window);
  if (t.flags.has(tcp_flag::urg)) out = fmt::format_to(out, " urg={}", t.urgent);
  const auto& o = t.options;
  if (o.mss || o.window_scale || o.sack_permitted || o.timestamps || o.sack_count != 0)
    out = fmt::format_to(out, " opts=[{}]", o);
  return fmt::format_to(out, " len={}", t.payload.size());
}
} // namespace synack::wire::detail

/// "5000 > 7788 [S] seq=1 win=64240 opts=[mss 1460] len=0"
template <>
struct fmt::formatter<synack::wire::tcp_repr> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <class Ctx>
  auto format(const synack::wire::tcp_repr& t, Ctx& ctx) const {
    return synack::wire::detail::format_tcp_tail(fmt::format_to(ctx.out(), "{} > {}", t.src_port, t.dst_port), t);
  }
};

/// "192.0.2.1:5000 > 192.0.2.2:7788 [S] seq=1 win=64240 opts=[mss 1460] len=0"
template <>
struct fmt::formatter<synack::wire::tcp_summary> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <class Ctx>
  auto format(const synack::wire::tcp_summary& s, Ctx& ctx) const {
    auto out = fmt::format_to(ctx.out(), "{}:{} > {}:{}", s.src, s.tcp.src_port, s.dst, s.tcp.dst_port);
    return synack::wire::detail::format_tcp_tail(out, s.tcp);
  }
};
