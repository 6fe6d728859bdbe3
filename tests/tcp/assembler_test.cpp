// Tests for include/synack/tcp/assembler.hpp.
#include <doctest/doctest.h>

#include <array>
#include <bitset>
#include <random>
#include <vector>

#include "synack/tcp/assembler.hpp"

using synack::tcp::add_result;
using synack::tcp::assembler;
using synack::tcp::basic_assembler;
using synack::wire::seq_number;

namespace {

using range = assembler::range;

template <std::size_t N>
auto ranges_of(const basic_assembler<N>& a) -> std::vector<typename basic_assembler<N>::range> {
  return {a.ranges().begin(), a.ranges().end()};
}

template <std::size_t N>
auto recent_of(const basic_assembler<N>& a, std::size_t k) -> std::vector<typename basic_assembler<N>::range> {
  std::vector<typename basic_assembler<N>::range> out(k);
  out.resize(a.recent(out));
  return out;
}

struct block {
  seq_number left;
  seq_number right;
};

} // namespace

TEST_SUITE_BEGIN("tcp.assembler");

TEST_CASE("a new assembler holds nothing") {
  assembler a;
  CHECK(a.empty());
  CHECK(a.size() == 0);
  CHECK(a.front() == 0);
  CHECK(a.remove_front() == 0);
  CHECK(a.ranges().empty());
  CHECK(assembler::max_ranges == 32);
}

TEST_CASE("in-order data is available at once") {
  assembler a;
  CHECK(a.add(0, 100) == add_result::added);
  CHECK(a.front() == 100);
  CHECK(a.remove_front() == 100);
  CHECK(a.empty());
}

TEST_CASE("zero-length adds change nothing") {
  assembler a;
  CHECK(a.add(50, 0) == add_result::added);
  CHECK(a.empty());
}

TEST_CASE("disjoint ranges stay sorted by offset") {
  assembler a;
  CHECK(a.add(300, 10) == add_result::added);
  CHECK(a.add(100, 10) == add_result::added);
  CHECK(a.add(200, 10) == add_result::added);
  CHECK(ranges_of(a) == std::vector<range>{{100, 10}, {200, 10}, {300, 10}});
  CHECK(a.front() == 0);
  CHECK(a.contains(105));
  CHECK_FALSE(a.contains(110));
  CHECK_FALSE(a.contains(99));
}

TEST_CASE("overlapping and adjacent ranges merge") {
  assembler a;
  a.add(100, 10); // [100,110)
  SUBCASE("adjacent on the right") {
    a.add(110, 5);
    CHECK(ranges_of(a) == std::vector<range>{{100, 15}});
  }
  SUBCASE("adjacent on the left") {
    a.add(90, 10);
    CHECK(ranges_of(a) == std::vector<range>{{90, 20}});
  }
  SUBCASE("overlapping both ends") {
    a.add(95, 30);
    CHECK(ranges_of(a) == std::vector<range>{{95, 30}});
  }
  SUBCASE("contained (duplicate data)") {
    a.add(102, 3);
    CHECK(ranges_of(a) == std::vector<range>{{100, 10}});
  }
  SUBCASE("bridging several ranges") {
    a.add(120, 10);
    a.add(140, 10);
    a.add(160, 10);
    CHECK(a.size() == 4);
    a.add(105, 40); // [105,145) covers [100,110) [120,130) and touches into [140,150)
    CHECK(ranges_of(a) == std::vector<range>{{100, 50}, {160, 10}});
  }
  SUBCASE("bridging exactly the gap") {
    a.add(120, 10);
    a.add(110, 10);
    CHECK(ranges_of(a) == std::vector<range>{{100, 30}});
  }
}

TEST_CASE("filling the hole at the front makes everything contiguous available") {
  assembler a;
  a.add(10, 10);
  a.add(30, 10);
  a.add(20, 10);
  CHECK(a.front() == 0);
  a.add(0, 10);
  CHECK(a.front() == 40);
  CHECK(a.remove_front() == 40);
  CHECK(a.empty());
}

TEST_CASE("remove_front shifts the remaining offsets") {
  assembler a;
  a.add(0, 10);
  a.add(15, 5);
  a.add(40, 10);
  CHECK(a.remove_front() == 10);
  CHECK(ranges_of(a) == std::vector<range>{{5, 5}, {30, 10}});
  CHECK(a.remove_front() == 0); // hole [0,5)
  a.add(0, 5);
  CHECK(a.remove_front() == 10);
  CHECK(ranges_of(a) == std::vector<range>{{20, 10}});
}

TEST_CASE("the number of ranges is bounded; a refused add changes nothing") {
  basic_assembler<4> a;
  for (std::size_t k = 0; k < 4; ++k) REQUIRE(a.add(100 + 20 * k, 10) == add_result::added);
  const auto before = ranges_of(a);
  CHECK(a.add(500, 10) == add_result::dropped); // a 5th disjoint range
  CHECK(a.add(50, 10) == add_result::dropped);
  CHECK(ranges_of(a) == before);
  // Merging never needs a new range, so it is still accepted when full.
  CHECK(a.add(105, 10) == add_result::added);
  CHECK(a.add(150, 5) == add_result::added); // touches [140,150)
  CHECK(a.size() == 4);
  CHECK(a.add(110, 10) == add_result::added); // bridges [100,115) and [120,130): frees a slot
  CHECK(a.size() == 3);
  CHECK(a.add(500, 10) == add_result::added);
  CHECK(a.size() == 4);
}

TEST_CASE("in-order data is accepted even when the ranges are full") {
  basic_assembler<2> a;
  a.add(100, 10);
  a.add(200, 10);
  CHECK(a.add(300, 10) == add_result::dropped);
  CHECK(a.add(0, 50) == add_result::added); // spare slot
  CHECK(a.size() == 3);
  CHECK(a.add(300, 10) == add_result::dropped); // the spare is not for out-of-order data
  CHECK(a.add(60, 5) == add_result::dropped);
  CHECK(a.remove_front() == 50);
  CHECK(ranges_of(a) == std::vector<basic_assembler<2>::range>{{50, 10}, {150, 10}});
}

TEST_CASE("adds whose end overflows are refused") {
  assembler a;
  CHECK(a.add(std::numeric_limits<std::size_t>::max() - 5, 10) == add_result::dropped);
  CHECK(a.empty());
}

TEST_CASE("recent() lists the range of the latest segment first, then newest to oldest (RFC 2018 §4)") {
  assembler a;
  a.add(100, 10); // A
  a.add(200, 10); // B
  a.add(300, 10); // C
  CHECK(recent_of(a, 4) == std::vector<range>{{300, 10}, {200, 10}, {100, 10}});
  a.add(110, 10); // extends A: A is now the newest
  CHECK(recent_of(a, 4) == std::vector<range>{{100, 20}, {300, 10}, {200, 10}});
  a.add(205, 2); // duplicate inside B: the segment that triggered this ACK is in B
  CHECK(recent_of(a, 4) == std::vector<range>{{200, 10}, {100, 20}, {300, 10}});
  a.add(400, 10); // D
  a.add(500, 10); // E
  // Only k blocks fit in the option: the k newest.
  CHECK(recent_of(a, 3) == std::vector<range>{{500, 10}, {400, 10}, {200, 10}});
  // Merging two ranges gives the merged block the newest stamp.
  a.add(410, 90);
  CHECK(recent_of(a, 2) == std::vector<range>{{400, 110}, {200, 10}});
}

TEST_CASE("sack_blocks converts to sequence numbers, across the 2^32 wrap") {
  assembler a;
  a.add(10, 10);
  a.add(30, 5);
  const seq_number rcv_nxt{0xfffffff0u};
  std::array<block, 3> out{};
  REQUIRE(a.sack_blocks(rcv_nxt, std::span<block>{out}) == 2);
  CHECK(out[0].left == seq_number{0x0000000eu}); // 0xfffffff0 + 30 wraps
  CHECK(out[0].right == seq_number{0x00000013u});
  CHECK(out[1].left == seq_number{0xfffffffau});
  CHECK(out[1].right == seq_number{0x00000004u});
  // Fewer slots than ranges: only the newest.
  std::array<block, 1> one{};
  CHECK(a.sack_blocks(rcv_nxt, std::span<block>{one}) == 1);
  CHECK(one[0].left == seq_number{0x0000000eu});
}

TEST_CASE("clear forgets everything") {
  assembler a;
  a.add(10, 10);
  a.clear();
  CHECK(a.empty());
}

TEST_CASE("random segments match a bitmap model") {
  std::mt19937 rng{7};
  constexpr std::size_t window = 256;
  for (int round = 0; round < 60; ++round) {
    basic_assembler<6> a;
    std::bitset<window> got;
    std::size_t delivered = 0; // RCV.NXT relative to the start of the round
    for (int step = 0; step < 60; ++step) {
      const auto off = static_cast<std::size_t>(rng() % 64);
      const auto len = static_cast<std::size_t>(1 + rng() % 16);
      if (delivered + off + len > window) break;
      const auto r = a.add(off, len);
      if (r == add_result::added)
        for (std::size_t k = 0; k < len; ++k) got.set(delivered + off + k);
      const auto n = a.remove_front();
      // Check: the model's contiguous run at `delivered` is exactly n.
      std::size_t run = 0;
      while (delivered + run < window && got.test(delivered + run)) ++run;
      REQUIRE(n == run);
      delivered += n;
      // Check every byte in the window against the ranges.
      for (std::size_t k = 0; k + delivered < window; ++k) REQUIRE(a.contains(k) == got.test(delivered + k));
      // Ranges are sorted, disjoint, non-adjacent and bounded.
      const auto rs = a.ranges();
      REQUIRE(rs.size() <= 6);
      for (std::size_t k = 1; k < rs.size(); ++k) REQUIRE(rs[k - 1].end() < rs[k].offset);
    }
  }
}

TEST_SUITE_END();
