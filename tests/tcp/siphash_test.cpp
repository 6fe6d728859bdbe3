// Tests for include/synack/util/siphash.hpp (used by the TCP core for ISNs, ports and cookies).
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "synack/util/siphash.hpp"

using synack::siphash24;
using synack::siphash_key;
using synack::siphasher;

namespace {
// The 64 vectors of the SipHash reference implementation (vectors.h): key 00 01 .. 0f,
// message 00 01 .. (len-1) for len = 0..63, output read as a little-endian 64-bit number.
// (Cross-checked with OpenSSL's SIPHASH MAC.)
constexpr std::array<std::uint64_t, 64> reference = {
    0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull, 0x85676696d7fb7e2dull, 0xcf2794e0277187b7ull,
    0x18765564cd99a68dull, 0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull, 0x93f5f5799a932462ull, 0x9e0082df0ba9e4b0ull,
    0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull, 0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull,
    0xa129ca6149be45e5ull, 0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull, 0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull,
    0xbed65cf21aa2ee98ull, 0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull, 0xb8ad50c6f649af94ull,
    0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull, 0x2f2e6163076bcfadull, 0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull,
    0xad87a3535c49ef28ull, 0x32d892fad841c342ull, 0x7127512f72f27cceull, 0xa7f32346f95978e3ull, 0x12e0b01abb051238ull,
    0x15e034d40fa197aeull, 0x314dffbe0815a3b4ull, 0x027990f029623981ull, 0xcadcd4e59ef40c4dull, 0x9abfd8766a33735cull,
    0x0e3ea96b5304a7d0ull, 0xad0c42d6fc585992ull, 0x187306c89bc215a9ull, 0xd4a60abcf3792b95ull, 0xf935451de4f21df2ull,
    0xa9538f0419755787ull, 0xdb9acddff56ca510ull, 0xd06c98cd5c0975ebull, 0xe612a3cb9ecba951ull, 0xc766e62cfcadaf96ull,
    0xee64435a9752fe72ull, 0xa192d576b245165aull, 0x0a8787bf8ecb74b2ull, 0x81b3e73d20b49b6full, 0x7fa8220ba3b2eceaull,
    0x245731c13ca42499ull, 0xb78dbfaf3a8d83bdull, 0xea1ad565322a1a0bull, 0x60e61c23a3795013ull, 0x6606d7e446282b93ull,
    0x6ca4ecb15c5f91e1ull, 0x9f626da15c9625f3ull, 0xe51b38608ef25f57ull, 0x958a324ceb064572ull,
};

constexpr auto reference_key() -> siphash_key {
  std::array<std::byte, 16> k{};
  for (std::size_t i = 0; i < 16; ++i) k[i] = std::byte(static_cast<std::uint8_t>(i));
  return siphash_key::from_bytes(k);
}

auto message(std::size_t n) -> std::vector<std::byte> {
  std::vector<std::byte> m(n);
  for (std::size_t i = 0; i < n; ++i) m[i] = std::byte(static_cast<std::uint8_t>(i));
  return m;
}

// Usable at compile time: the paper's example (key 00..0f, 15-byte message 00..0e).
constexpr auto paper_example() -> std::uint64_t {
  std::array<std::byte, 15> m{};
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = std::byte(static_cast<std::uint8_t>(i));
  return siphash24(reference_key(), m);
}
static_assert(paper_example() == 0xa129ca6149be45e5ull);
} // namespace

TEST_SUITE_BEGIN("util.siphash");

TEST_CASE("the key is read little-endian") {
  const auto k = reference_key();
  CHECK(k.k0 == 0x0706050403020100ull);
  CHECK(k.k1 == 0x0f0e0d0c0b0a0908ull);
}

TEST_CASE("SipHash-2-4 reference vectors, lengths 0 to 63") {
  const auto key = reference_key();
  for (std::size_t n = 0; n < reference.size(); ++n) {
    CAPTURE(n);
    CHECK(siphash24(key, message(n)) == reference[n]);
  }
}

TEST_CASE("incremental hashing gives the same result for every split") {
  const auto key = reference_key();
  const auto m = message(63);
  for (std::size_t n = 0; n <= 63; n += 7) {
    for (std::size_t cut = 0; cut <= n; ++cut) {
      siphasher h{key};
      h.update(std::span<const std::byte>{m.data(), cut});
      h.update(std::span<const std::byte>{m.data() + cut, n - cut});
      CHECK(h.finish() == reference[n]);
      CHECK(h.finish() == reference[n]); // finish() does not consume
    }
  }
}

TEST_CASE("integers are hashed in network byte order") {
  const auto key = reference_key();
  // 00 01 02 03 04 05 06 07 fed as integers of several widths.
  siphasher h{key};
  h.update_u8(0x00).update_u16(0x0102).update_u32(0x03040506).update_u8(0x07);
  CHECK(h.finish() == reference[8]);
  siphasher g{key};
  g.update_u64(0x0001020304050607ull);
  CHECK(g.finish() == reference[8]);
}

TEST_CASE("a different key gives a different hash") {
  auto k = reference_key();
  k.k1 ^= 1;
  CHECK(siphash24(k, message(8)) != reference[8]);
}

TEST_SUITE_END();
