// examples/common/sha256.hpp: SHA-256 (FIPS 180-4), small and dependency-free, so the bulk
// transfer tool can print a digest of what it sent and received that `sha256sum` and Python's
// hashlib agree with. Tested against the FIPS 180-4 / NIST example vectors
// (examples/tests/sha256_test.cpp).
//
//   examples::sha256 h;
//   h.update(bytes);            // any number of times
//   std::string hex = h.hex();  // finishes; 64 lowercase hex digits
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace examples {

class sha256 {
public:
  using digest = std::array<std::uint8_t, 32>;

  void update(std::span<const std::byte> data) noexcept {
    const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
    std::size_t n = data.size();
    m_length += n;
    if (m_used > 0) { // top up a partial block first
      const std::size_t take = std::min(n, m_block.size() - m_used);
      std::memcpy(m_block.data() + m_used, p, take);
      m_used += take;
      p += take;
      n -= take;
      if (m_used < m_block.size()) return;
      compress(m_block.data());
      m_used = 0;
    }
    for (; n >= 64; p += 64, n -= 64) compress(p);
    std::memcpy(m_block.data(), p, n);
    m_used = n;
  }
  void update(std::string_view s) noexcept { update(std::as_bytes(std::span{s.data(), s.size()})); }

  /// Pads and returns the digest; the object must not be updated afterwards.
  auto finish() noexcept -> digest {
    const std::uint64_t bits = m_length * 8;
    m_block[m_used++] = 0x80;
    if (m_used > 56) {
      std::memset(m_block.data() + m_used, 0, 64 - m_used);
      compress(m_block.data());
      m_used = 0;
    }
    std::memset(m_block.data() + m_used, 0, 56 - m_used);
    for (int i = 0; i < 8; ++i) m_block[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    compress(m_block.data());
    digest d{};
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 4; ++j) d[4 * i + j] = static_cast<std::uint8_t>(m_h[i] >> (24 - 8 * j));
    return d;
  }
  /// finish() as 64 lowercase hex digits.
  auto hex() noexcept -> std::string {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (auto b : finish()) {
      s += digits[b >> 4];
      s += digits[b & 15];
    }
    return s;
  }

private:
  static constexpr std::array<std::uint32_t, 64> k = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

  void compress(const std::uint8_t* p) noexcept {
    std::array<std::uint32_t, 64> w{};
    for (int i = 0; i < 16; ++i)
      w[i] = std::uint32_t{p[4 * i]} << 24 | std::uint32_t{p[4 * i + 1]} << 16 | std::uint32_t{p[4 * i + 2]} << 8 |
             std::uint32_t{p[4 * i + 3]};
    for (int i = 16; i < 64; ++i) {
      const auto s0 = std::rotr(w[i - 15], 7) ^ std::rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const auto s1 = std::rotr(w[i - 2], 17) ^ std::rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    auto [a, b, c, d, e, f, g, h] = m_h;
    for (int i = 0; i < 64; ++i) {
      const auto t1 = h + (std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const auto t2 = (std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    const std::array<std::uint32_t, 8> add{a, b, c, d, e, f, g, h};
    for (int i = 0; i < 8; ++i) m_h[i] += add[i];
  }

  std::array<std::uint32_t, 8> m_h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<std::uint8_t, 64> m_block{};
  std::size_t m_used = 0;
  std::uint64_t m_length = 0;
};

} // namespace examples
