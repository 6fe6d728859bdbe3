// synack/util/siphash.hpp: SipHash-2-4, a keyed pseudorandom function with 64-bit output.
//
// From the published algorithm: J.-P. Aumasson and D. J. Bernstein, "SipHash: a fast
// short-input PRF" (2012). 2 compression rounds per 8-byte word, 4 finalization rounds, a
// 128-bit key. The tests check the reference implementation's 64 test vectors (key 00..0f,
// messages 00, 00 01, ..., of length 0..63).
//
// synack uses it wherever a value must be unpredictable to someone who does not know a
// per-stack secret: ISNs (RFC 6528, tcp/isn.hpp), ephemeral ports (RFC 6056,
// tcp/port_allocator.hpp) and SYN cookies (RFC 4987, tcp/syn_cookie.hpp). It is not a
// general-purpose cryptographic hash (64-bit output, no collision resistance claims).
//
// `siphasher` is incremental (feed bytes or integers in any split, then finish()); it never
// allocates and is constexpr. Integers are fed in network (big-endian) order, so a hash over
// header fields matches a hash over the same bytes taken from the packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "synack/util/bytes.hpp"

namespace synack {

/// A 128-bit SipHash key, k0 and k1 being the key's bytes 0..7 and 8..15 read little-endian
/// (as in the reference implementation).
struct siphash_key {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;

  static constexpr auto from_bytes(std::span<const std::byte, 16> b) noexcept -> siphash_key {
    siphash_key k;
    for (int i = 7; i >= 0; --i) {
      k.k0 = k.k0 << 8 | static_cast<std::uint64_t>(b[static_cast<std::size_t>(i)]);
      k.k1 = k.k1 << 8 | static_cast<std::uint64_t>(b[static_cast<std::size_t>(i + 8)]);
    }
    return k;
  }
  friend constexpr auto operator==(const siphash_key&, const siphash_key&) noexcept -> bool = default;
};

class siphasher {
public:
  constexpr explicit siphasher(const siphash_key& key) noexcept
      : m_v0(key.k0 ^ 0x736f6d6570736575ull),
        m_v1(key.k1 ^ 0x646f72616e646f6dull),
        m_v2(key.k0 ^ 0x6c7967656e657261ull),
        m_v3(key.k1 ^ 0x7465646279746573ull) {}

  constexpr auto update(bytes_view data) noexcept -> siphasher& {
    for (auto b : data) push(static_cast<std::uint8_t>(b));
    return *this;
  }
  constexpr auto update_u8(std::uint8_t v) noexcept -> siphasher& {
    push(v);
    return *this;
  }
  /// Big-endian, like the field on the wire.
  constexpr auto update_u16(std::uint16_t v) noexcept -> siphasher& {
    push(static_cast<std::uint8_t>(v >> 8));
    push(static_cast<std::uint8_t>(v));
    return *this;
  }
  constexpr auto update_u32(std::uint32_t v) noexcept -> siphasher& {
    for (int s = 24; s >= 0; s -= 8) push(static_cast<std::uint8_t>(v >> s));
    return *this;
  }
  constexpr auto update_u64(std::uint64_t v) noexcept -> siphasher& {
    for (int s = 56; s >= 0; s -= 8) push(static_cast<std::uint8_t>(v >> s));
    return *this;
  }

  /// The 64-bit result. Does not change the hasher (finishing twice gives the same value).
  constexpr auto finish() const noexcept -> std::uint64_t {
    auto v0 = m_v0, v1 = m_v1, v2 = m_v2, v3 = m_v3;
    // Last block: the remaining 0..7 bytes, and the message length mod 256 in the top byte.
    const std::uint64_t b = static_cast<std::uint64_t>(m_len & 0xff) << 56 | m_tail;
    v3 ^= b;
    round(v0, v1, v2, v3);
    round(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    for (int i = 0; i < 4; ++i) round(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
  }

private:
  static constexpr auto rotl(std::uint64_t x, int b) noexcept -> std::uint64_t { return x << b | x >> (64 - b); }

  static constexpr void round(std::uint64_t& v0, std::uint64_t& v1, std::uint64_t& v2, std::uint64_t& v3) noexcept {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }

  constexpr void push(std::uint8_t byte) noexcept {
    // Message words are read little-endian.
    m_tail |= static_cast<std::uint64_t>(byte) << (8 * (m_len & 7));
    ++m_len;
    if ((m_len & 7) == 0) {
      m_v3 ^= m_tail;
      round(m_v0, m_v1, m_v2, m_v3);
      round(m_v0, m_v1, m_v2, m_v3);
      m_v0 ^= m_tail;
      m_tail = 0;
    }
  }

  std::uint64_t m_v0, m_v1, m_v2, m_v3;
  std::uint64_t m_tail = 0; // bytes of the current, incomplete word
  std::uint64_t m_len = 0;  // bytes hashed so far
};

/// SipHash-2-4 of `data` under `key`.
constexpr auto siphash24(const siphash_key& key, bytes_view data) noexcept -> std::uint64_t {
  return siphasher{key}.update(data).finish();
}

} // namespace synack
