// synack/wire/checksum.hpp: the Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// Conventions. A "sum" is the folded 16-bit ones-complement sum of the data read as big-endian
// 16-bit words (an odd last byte is padded with a zero byte on the right), returned as a host
// number: the value `load_be<uint16_t>` would read if it were stored in a packet. A "checksum" is
// the complement of a sum, the value stored in a header field. A received header verifies when
// the sum over it (checksum field included, plus any pseudo header) is 0xffff.
//
// Speed. RFC 1071 §2 (B), byte order independence: "the sum of 16-bit integers can be computed in
// either byte order". So the data is summed as native-endian 64-bit words (8-byte memcpy loads,
// no alignment needed), with the end-around carry added back at each step (a 64-bit
// ones-complement sum), then folded to 16 bits (§2 (C) "parallel summation") and byte-swapped
// once on little-endian hosts. Two accumulators run side by side over 32-byte blocks.
//
// Chunks. `checksum_accumulator` sums data that arrives in pieces (pseudo header, header,
// payload). A piece that starts at an odd offset of the logical message has its sum
// byte-swapped before it is added (RFC 1071 §2 (B) again), so any split gives the same result.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "synack/util/bytes.hpp"
#include "synack/wire/ipv4_address.hpp"

namespace synack::wire {

/// Which checksums a parser verifies.
enum class checksum_check : std::uint8_t {
  verify, ///< recompute and compare (the default for software links)
  skip,   ///< the device already verified it (rx checksum offload)
};

/// What an emitter writes into a checksum field.
enum class checksum_fill : std::uint8_t {
  full,               ///< the complete checksum
  pseudo_header_only, ///< CHECKSUM_PARTIAL offload (virtio_net_hdr): the field holds the folded
                      ///< pseudo-header sum, not complemented; the device adds the rest. For
                      ///< headers without a pseudo header (ICMP) that sum is 0; the IPv4 header
                      ///< checksum is never offloaded this way and is computed in full.
  none,               ///< leave the field 0 (the device computes everything)
};

namespace detail {

/// Adds two 16-bit values in ones-complement arithmetic (end-around carry).
constexpr auto ones_add16(std::uint32_t a, std::uint32_t b) noexcept -> std::uint16_t {
  std::uint32_t s = a + b;
  return static_cast<std::uint16_t>((s & 0xffffu) + (s >> 16));
}

/// Folds a 64-bit ones-complement sum to 16 bits.
constexpr auto fold64(std::uint64_t s) noexcept -> std::uint16_t {
  s = (s & 0xffffffffu) + (s >> 32); // <= 0x1'ffff'fffe
  s = (s & 0xffffffffu) + (s >> 32); // <= 0xffff'ffff
  s = (s & 0xffffu) + (s >> 16);     // <= 0x1'fffe
  s = (s & 0xffffu) + (s >> 16);     // <= 0xffff
  return static_cast<std::uint16_t>(s);
}

inline auto load_native64(const std::byte* p) noexcept -> std::uint64_t {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

/// 64-bit ones-complement sum of `n` bytes at `p`, as native-endian 64-bit words.
inline auto sum_native(const std::byte* p, std::size_t n) noexcept -> std::uint64_t {
  std::uint64_t a = 0, b = 0;
  // a += w with the carry out of bit 63 added back in (end-around carry).
  auto add = [](std::uint64_t& acc, std::uint64_t w) noexcept {
    acc += w;
    acc += static_cast<std::uint64_t>(acc < w);
  };
  for (; n >= 32; p += 32, n -= 32) {
    add(a, load_native64(p));
    add(b, load_native64(p + 8));
    add(a, load_native64(p + 16));
    add(b, load_native64(p + 24));
  }
  for (; n >= 8; p += 8, n -= 8) add(a, load_native64(p));
  if (n != 0) {
    // The tail keeps its place in the word stream: bytes go to the same positions they would
    // occupy in a full 8-byte load, the missing ones are zero (RFC 1071 §4.1's odd byte rule).
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    add(a, w);
  }
  add(a, b);
  return a;
}

} // namespace detail

/// RFC 1071 sum (folded, not complemented) of `data`, which starts at an even offset of its message.
inline auto ones_sum(bytes_view data) noexcept -> std::uint16_t {
  std::uint16_t s = detail::fold64(detail::sum_native(data.data(), data.size()));
  if constexpr (std::endian::native == std::endian::little) s = __builtin_bswap16(s);
  return s;
}

/// Ones-complement addition of two sums.
constexpr auto ones_add(std::uint16_t a, std::uint16_t b) noexcept -> std::uint16_t { return detail::ones_add16(a, b); }

/// RFC 1071 checksum of `data`: the complement of its sum. Over a header whose checksum field
/// is zero, this is the value to store there.
inline auto internet_checksum(bytes_view data) noexcept -> std::uint16_t {
  return static_cast<std::uint16_t>(~ones_sum(data));
}

/// Sums a message that arrives in pieces of any length (see the header comment).
class checksum_accumulator {
public:
  /// Adds the next `data.size()` bytes of the message.
  void add(bytes_view data) noexcept {
    std::uint16_t s = ones_sum(data);
    if (m_odd) s = static_cast<std::uint16_t>(s << 8 | s >> 8);
    m_sum = ones_add(m_sum, s);
    m_odd ^= (data.size() & 1) != 0;
  }
  /// Adds a 16-bit word (two bytes of the message, big-endian).
  void add_u16(std::uint16_t w) noexcept {
    std::byte b[2];
    store_be<std::uint16_t>(b, w);
    add(bytes_view{b, 2});
  }
  /// Adds a 32-bit word (four bytes of the message, big-endian).
  void add_u32(std::uint32_t w) noexcept {
    std::byte b[4];
    store_be<std::uint32_t>(b, w);
    add(bytes_view{b, 4});
  }
  /// Adds an already folded sum of a separate message part of even length (e.g. a pseudo header).
  void add_sum(std::uint16_t s) noexcept {
    m_sum = ones_add(m_sum, m_odd ? static_cast<std::uint16_t>(s << 8 | s >> 8) : s);
  }

  /// The folded sum so far.
  auto sum() const noexcept -> std::uint16_t { return m_sum; }
  /// The checksum of everything added: ~sum().
  auto checksum() const noexcept -> std::uint16_t { return static_cast<std::uint16_t>(~m_sum); }
  /// Whether a received message (checksum field included) verifies.
  auto verifies() const noexcept -> bool { return m_sum == 0xffff; }

private:
  std::uint16_t m_sum = 0;
  bool m_odd = false;
};

/// The folded sum of the TCP/UDP pseudo header over IPv4 (RFC 9293 §3.1: "the source address,
/// the destination address, ... zero, the protocol, and the TCP length"). `length` is the
/// length of the TCP header plus data in bytes.
constexpr auto pseudo_header_sum(ipv4_address src, ipv4_address dst, std::uint8_t protocol,
                                 std::uint16_t length) noexcept -> std::uint16_t {
  std::uint64_t s = std::uint64_t{src.to_u32() >> 16} + (src.to_u32() & 0xffffu) + (dst.to_u32() >> 16) +
                    (dst.to_u32() & 0xffffu) + protocol + length;
  return detail::fold64(s);
}

/// RFC 1624 §3, eqn. 3: the new checksum after one 16-bit word of the covered data changes
/// from `old_word` to `new_word`: HC' = ~(~HC + ~m + m'). (Eqn. 2, HC' = HC - ~m - m', is the
/// one RFC 1624 shows to give -0 where a full recomputation gives +0.)
constexpr auto checksum_update16(std::uint16_t checksum, std::uint16_t old_word, std::uint16_t new_word) noexcept
    -> std::uint16_t {
  std::uint16_t s = ones_add(static_cast<std::uint16_t>(~checksum), static_cast<std::uint16_t>(~old_word));
  s = ones_add(s, new_word);
  return static_cast<std::uint16_t>(~s);
}

/// RFC 1624 eqn. 3 for a 32-bit field (an address or a sequence number) at an even offset.
constexpr auto checksum_update32(std::uint16_t checksum, std::uint32_t old_value, std::uint32_t new_value) noexcept
    -> std::uint16_t {
  checksum = checksum_update16(checksum, static_cast<std::uint16_t>(old_value >> 16),
                               static_cast<std::uint16_t>(new_value >> 16));
  return checksum_update16(checksum, static_cast<std::uint16_t>(old_value), static_cast<std::uint16_t>(new_value));
}

} // namespace synack::wire
