// Tests for include/synack/wire/checksum.hpp.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "captures.hpp"
#include "wire_test_util.hpp"

using namespace synack;
using namespace synack::wire;
using namespace synack::wire::test;

namespace {

/// The textbook RFC 1071 §4.1 loop, one 16-bit word at a time, with a 32-bit accumulator.
auto reference_sum(bytes_view d) -> std::uint16_t {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < d.size(); i += 2)
    sum += std::to_integer<std::uint32_t>(d[i]) << 8 | std::to_integer<std::uint32_t>(d[i + 1]);
  if (i < d.size()) sum += std::to_integer<std::uint32_t>(d[i]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

} // namespace

TEST_SUITE_BEGIN("wire.checksum");

TEST_CASE("RFC 1071 §3 numerical example") {
  // "Consider the eight-byte sequence 00 01 f2 03 f4 f5 f6 f7 ... the sum is ddf2 ... checksum 220d".
  auto d = to_vec({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7});
  CHECK(ones_sum(d) == 0xddf2);
  CHECK(internet_checksum(d) == 0x220d);
  // Storing the checksum and summing again verifies (0xffff).
  d.push_back(std::byte{0x22});
  d.push_back(std::byte{0x0d});
  CHECK(ones_sum(d) == 0xffff);
}

TEST_CASE("empty, one byte, all ones, carries") {
  CHECK(ones_sum({}) == 0);
  CHECK(internet_checksum({}) == 0xffff);
  CHECK(ones_sum(to_vec({0xab})) == 0xab00);
  CHECK(ones_sum(to_vec({0xff, 0xff, 0xff, 0xff})) == 0xffff);
  CHECK(ones_sum(to_vec({0x80, 0x00, 0x80, 0x00})) == 0x0001); // end-around carry
  std::vector<std::byte> ff(4096, std::byte{0xff});
  CHECK(ones_sum(ff) == 0xffff);
  CHECK(ones_sum(bytes_view{ff}.first(4095)) == reference_sum(bytes_view{ff}.first(4095)));
}

TEST_CASE("a real IPv4 header checksum (veth capture, frame 3)") {
  auto ip = bytes_of(captures::tcp_syn).subspan(14, 20);
  CHECK(load_be<std::uint16_t>(ip, 10) == 0xd5a5); // as tshark shows it
  CHECK(ones_sum(ip) == 0xffff);
  auto copy = to_vec(ip);
  copy[10] = copy[11] = std::byte{0};
  CHECK(internet_checksum(copy) == 0xd5a5);
}

TEST_CASE("real TCP and ICMP checksums (veth capture)") {
  struct vec {
    bytes_view frame;
    std::uint16_t checksum;
  };
  // Checksum values as tshark reports them.
  for (auto [frame, expected_checksum] :
       {vec{bytes_of(captures::tcp_syn), 0xd4bd}, vec{bytes_of(captures::tcp_data), 0x840b},
        vec{bytes_of(captures::tcp_rst), 0xdc05}}) {
    auto ip = frame.subspan(14);
    auto seg = ip.subspan(20);
    auto src = ipv4_address::from_bytes(ip.data() + 12), dst = ipv4_address::from_bytes(ip.data() + 16);
    CHECK(load_be<std::uint16_t>(seg, 16) == expected_checksum);
    checksum_accumulator acc;
    acc.add_sum(pseudo_header_sum(src, dst, ip_protocol::tcp, static_cast<std::uint16_t>(seg.size())));
    acc.add(seg);
    CHECK(acc.verifies());
    auto copy = to_vec(seg);
    copy[16] = copy[17] = std::byte{0};
    checksum_accumulator acc2;
    acc2.add_sum(pseudo_header_sum(src, dst, 6, static_cast<std::uint16_t>(seg.size())));
    acc2.add(copy);
    CHECK(acc2.checksum() == expected_checksum);
  }
  auto icmp = bytes_of(captures::icmp_echo_request).subspan(34);
  CHECK(load_be<std::uint16_t>(icmp, 2) == 0xf17e);
  CHECK(ones_sum(icmp) == 0xffff);
}

TEST_CASE("pseudo_header_only matches Linux CHECKSUM_PARTIAL (loopback capture)") {
  // On lo the kernel leaves the folded pseudo-header sum in the field (tshark: 0xfe31 for a
  // 40-byte segment 127.0.0.2 > 127.0.0.1); the device would add the segment's sum.
  auto seg = bytes_of(captures::lo_syn_partial).subspan(34);
  CHECK(load_be<std::uint16_t>(seg, 16) == 0xfe31);
  CHECK(pseudo_header_sum(ipv4_address{127, 0, 0, 2}, ipv4_address{127, 0, 0, 1}, ip_protocol::tcp,
                          static_cast<std::uint16_t>(seg.size())) == 0xfe31);
  // Completing it the way a device does (sum from the TCP header on, complement) verifies.
  auto copy = to_vec(seg);
  auto full = static_cast<std::uint16_t>(~ones_sum(copy));
  store_be<std::uint16_t>(copy.data() + 16, full);
  tcp_packet<bytes_view> p{copy};
  CHECK(p.verify_checksum({127, 0, 0, 2}, {127, 0, 0, 1}));
}

TEST_CASE("the wide sum equals the byte-by-byte reference for every length 0..2000 and start offset 0..7") {
  std::mt19937_64 rng{1071};
  std::vector<std::byte> buf(2000 + 8 + 8);
  for (auto& b : buf) b = std::byte{static_cast<std::uint8_t>(rng())};
  for (std::size_t off = 0; off < 8; ++off) {
    for (std::size_t len = 0; len <= 2000; ++len) {
      bytes_view d{buf.data() + off, len};
      auto want = reference_sum(d);
      if (ones_sum(d) != want) {
        FAIL("mismatch at offset ", off, " length ", len);
      }
    }
  }
  // And with long runs of 0xff, which exercise every carry.
  std::fill(buf.begin(), buf.end(), std::byte{0xff});
  for (std::size_t off = 0; off < 8; ++off)
    for (std::size_t len = 0; len <= 300; ++len)
      REQUIRE(ones_sum(bytes_view{buf.data() + off, len}) == reference_sum(bytes_view{buf.data() + off, len}));
}

TEST_CASE("checksum_accumulator gives the same sum for any split, odd pieces included") {
  std::mt19937_64 rng{1624};
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::byte> buf(rng() % 300);
    for (auto& b : buf) b = std::byte{static_cast<std::uint8_t>(rng())};
    checksum_accumulator acc;
    std::size_t at = 0;
    while (at < buf.size()) {
      std::size_t n = std::min<std::size_t>(buf.size() - at, rng() % 12);
      acc.add(bytes_view{buf}.subspan(at, n));
      at += n;
    }
    REQUIRE(acc.sum() == reference_sum(buf));
  }
  checksum_accumulator a;
  a.add_u16(0x1234);
  a.add_u32(0x89abcdef);
  CHECK(a.sum() == reference_sum(to_vec({0x12, 0x34, 0x89, 0xab, 0xcd, 0xef})));
  // add_sum after an odd piece is rotated like the bytes would be.
  checksum_accumulator b;
  b.add(to_vec({0x01}));
  b.add_sum(ones_sum(to_vec({0x02, 0x03})));
  CHECK(b.sum() == reference_sum(to_vec({0x01, 0x02, 0x03})));
}

TEST_CASE("RFC 1624 incremental update equals a full recomputation") {
  SUBCASE("RFC 1624 §4 example: a 16-bit field 0x5555 -> 0x3285, HC 0xdd2f -> 0x0000") {
    // "Consider an input HC of 0xdd2f, m of 0x5555 and m' of 0x3285 ... eqn. 3 ... 0x0000".
    CHECK(checksum_update16(0xdd2f, 0x5555, 0x3285) == 0x0000);
  }
  SUBCASE("TTL decrement on a real IPv4 header") {
    auto ip = to_vec(bytes_of(captures::tcp_syn).subspan(14, 20));
    ipv4_packet<bytes_mut> p{ip};
    for (int i = 0; i < 64; ++i) {
      p.decrement_ttl();
      CHECK(p.verify_checksum());
    }
    CHECK(p.ttl() == 0);
  }
  SUBCASE("random 16- and 32-bit changes in random headers") {
    std::mt19937_64 rng{42};
    for (int round = 0; round < 20000; ++round) {
      std::vector<std::byte> h(6 + 2 * (rng() % 30));
      for (auto& b : h) b = std::byte{static_cast<std::uint8_t>(rng())};
      h[0] = std::byte{0x45}; // never all zero (RFC 1624 §3's only difference from recomputation)
      h[2] = h[3] = std::byte{0};
      store_be<std::uint16_t>(h.data() + 2, internet_checksum(h));
      std::size_t at = 4 + 2 * (rng() % ((h.size() - 4) / 2));
      auto hc = load_be<std::uint16_t>(h.data() + 2);
      if (rng() % 2 == 0 || at + 4 > h.size()) {
        auto old_word = load_be<std::uint16_t>(h.data() + at);
        auto new_word = static_cast<std::uint16_t>(rng());
        store_be<std::uint16_t>(h.data() + at, new_word);
        store_be<std::uint16_t>(h.data() + 2, checksum_update16(hc, old_word, new_word));
      } else {
        auto old_value = load_be<std::uint32_t>(h.data() + at);
        auto new_value = static_cast<std::uint32_t>(rng());
        store_be<std::uint32_t>(h.data() + at, new_value);
        store_be<std::uint16_t>(h.data() + 2, checksum_update32(hc, old_value, new_value));
      }
      auto updated = load_be<std::uint16_t>(h.data() + 2);
      h[2] = h[3] = std::byte{0};
      REQUIRE(updated == internet_checksum(h));
    }
  }
}

TEST_SUITE_END();
