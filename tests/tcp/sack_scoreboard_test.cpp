// Tests for include/synack/tcp/sack_scoreboard.hpp: RFC 6675 worked examples, hostile SACK
// blocks, bounds, and a byte-by-byte model of IsLost / SetPipe / NextSeg.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "synack/tcp/sack_scoreboard.hpp"

using synack::tcp::basic_sack_scoreboard;
using synack::tcp::dup_ack_facts;
using synack::tcp::is_duplicate_ack;
using synack::tcp::next_segment;
using synack::tcp::sack_block;
using synack::tcp::sack_scoreboard;
using synack::wire::seq_number;

namespace {
auto sq(std::uint32_t v) -> seq_number { return seq_number{v}; }
auto blk(std::uint32_t l, std::uint32_t r) -> sack_block { return {seq_number{l}, seq_number{r}}; }
auto blocks(std::initializer_list<sack_block> b) -> std::vector<sack_block> { return b; }

void check_seg(const std::optional<next_segment>& s, std::uint32_t seq, std::uint32_t len, int rule) {
  REQUIRE(s);
  CHECK(s->seq == sq(seq));
  CHECK(s->len == len);
  CHECK(s->rule == rule);
}
} // namespace

TEST_SUITE_BEGIN("tcp.sack_scoreboard");

TEST_CASE("RFC 5681 §2 duplicate ACK: all five conditions") {
  dup_ack_facts f;
  f.outstanding_data = true;
  f.seg_ack = sq(1000);
  f.snd_una = sq(1000);
  f.seg_wnd = 65535;
  f.last_wnd = 65535;
  CHECK(is_duplicate_ack(f));
  auto g = f;
  g.outstanding_data = false; // (a)
  CHECK_FALSE(is_duplicate_ack(g));
  g = f;
  g.seg_len = 1; // (b)
  CHECK_FALSE(is_duplicate_ack(g));
  g = f;
  g.syn = true; // (c)
  CHECK_FALSE(is_duplicate_ack(g));
  g = f;
  g.fin = true; // (c)
  CHECK_FALSE(is_duplicate_ack(g));
  g = f;
  g.seg_ack = sq(1001); // (d)
  CHECK_FALSE(is_duplicate_ack(g));
  g = f;
  g.seg_wnd = 65000; // (e): a window update is not a duplicate
  CHECK_FALSE(is_duplicate_ack(g));
}

TEST_CASE("worked example: one lost segment, SACKs accumulate until IsLost") {
  sack_scoreboard sb{sq(1000), 100}; // SMSS 100, data 1000..1999 outstanding
  const auto nxt = sq(2000);
  auto r = sb.update(sq(1000), blocks({blk(1100, 1200)}), nxt);
  CHECK(r.newly_sacked == 100);
  CHECK(r.is_rfc6675_duplicate());
  CHECK_FALSE(sb.is_lost(sq(1000))); // 100 bytes above: not more than 2*SMSS
  sb.update(sq(1000), blocks({blk(1100, 1300)}), nxt);
  CHECK_FALSE(sb.is_lost(sq(1000))); // 200 bytes: still not *more than* 200
  r = sb.update(sq(1000), blocks({blk(1100, 1400)}), nxt);
  CHECK(r.newly_sacked == 100);
  CHECK(sb.is_lost(sq(1000))); // 300 bytes above
  CHECK(sb.is_lost(sq(1099)));
  CHECK_FALSE(sb.is_lost(sq(1400))); // nothing SACKed above
  CHECK(sb.ranges().size() == 1);
  CHECK(sb.sacked_bytes() == 300);
  CHECK(sb.highest_sacked() == sq(1400));
  // SetPipe: [1000,1100) lost -> 0; [1400,2000) not lost -> 600.
  CHECK(sb.pipe(nxt) == 600);
  // NextSeg rule (1): the lost hole.
  check_seg(sb.next_seg(nxt, 0), 1000, 100, 1);
  // Enter recovery: (4.1) RecoveryPoint = HighData; (4.3) first segment, HighRxt, RescueRxt.
  REQUIRE(sb.may_enter_recovery());
  const auto first = sb.enter_recovery(nxt);
  CHECK(first.seq == sq(1000));
  CHECK(first.len == 100);
  CHECK(sb.in_recovery());
  CHECK(sb.recovery_point() == nxt);
  CHECK(sb.high_rxt() == sq(1100));
  CHECK(sb.rescue_rxt() == sq(1100));
  CHECK_FALSE(sb.may_enter_recovery());
  // SetPipe (b): the retransmitted hole counts again.
  CHECK(sb.pipe(nxt) == 700);
  // Nothing else to retransmit; no new data; rescue not yet allowed (HighACK <= RescueRxt).
  CHECK_FALSE(sb.next_seg(nxt, 0));
  // Rule (2): new data when there is some.
  check_seg(sb.next_seg(nxt, 250), 2000, 100, 2);
  check_seg(sb.next_seg(nxt, 40), 2000, 40, 2);
  // The retransmission arrives: the cumulative ACK jumps to 1400; recovery continues.
  r = sb.update(sq(1400), {}, nxt);
  CHECK(r.newly_acked == 400);
  CHECK_FALSE(r.left_recovery);
  CHECK(sb.ranges().empty());
  CHECK(sb.pipe(nxt) == 600);
  // An ACK for everything ends recovery (RFC 6675 §5 (A)).
  r = sb.update(sq(2000), {}, nxt);
  CHECK(r.left_recovery);
  CHECK_FALSE(sb.in_recovery());
  CHECK(sb.may_enter_recovery());
}

TEST_CASE("worked example: three holes, IsLost by count of SACKed ranges, rules (1) and (3)") {
  sack_scoreboard sb{sq(1000), 100};
  const auto nxt = sq(2000);
  sb.update(sq(1000), blocks({blk(1500, 1600), blk(1300, 1400), blk(1100, 1200)}), nxt);
  CHECK(sb.ranges().size() == 3);
  CHECK(sb.is_lost(sq(1000)));       // 3 discontiguous SACKed ranges above
  CHECK_FALSE(sb.is_lost(sq(1200))); // 2 ranges, 200 bytes
  CHECK_FALSE(sb.is_lost(sq(1400)));
  // Pipe: [1000,1100) lost 0, [1200,1300) 100, [1400,1500) 100, [1600,2000) 400.
  CHECK(sb.pipe(nxt) == 600);
  const auto first = sb.enter_recovery(nxt);
  CHECK(first.len == 100);
  CHECK(sb.pipe(nxt) == 700);
  // No other lost hole: no new data -> rule (3), the first unSACKed byte above HighRxt.
  auto s = sb.next_seg(nxt, 0);
  check_seg(s, 1200, 100, 3);
  CHECK(s->is_retransmission());
  sb.on_sent(*s);
  CHECK(sb.high_rxt() == sq(1300));
  CHECK(sb.pipe(nxt) == 800); // [1200,1300) counted twice now (not lost, and retransmitted)
  // New data is preferred over rule (3).
  check_seg(sb.next_seg(nxt, 1000), 2000, 100, 2);
  // More SACK information makes [1200,1300) and [1400,1500) lost.
  sb.update(sq(1000), blocks({blk(1700, 1800)}), nxt);
  CHECK(sb.is_lost(sq(1200)));       // 3 ranges above: [1300,1400) [1500,1600) [1700,1800)
  CHECK_FALSE(sb.is_lost(sq(1400))); // 2 ranges and 200 bytes above
  // [1200,1300) is lost but already retransmitted (below HighRxt): rule (3) goes on to 1400.
  check_seg(sb.next_seg(nxt, 0), 1400, 100, 3);
}

TEST_CASE("IsLost boundaries: bytes rule is strictly more than (DupThresh-1)*SMSS") {
  sack_scoreboard sb{sq(0), 100};
  sb.update(sq(0), blocks({blk(100, 300)}), sq(1000));
  CHECK_FALSE(sb.is_lost(sq(0))); // exactly 200
  sb.update(sq(0), blocks({blk(300, 301)}), sq(1000));
  CHECK(sb.is_lost(sq(0))); // 201
  CHECK(sb.is_lost(sq(99)));
  CHECK_FALSE(sb.is_lost(sq(100))); // 200 bytes greater than 100
}

TEST_CASE("rescue retransmission, once per recovery (rule 4)") {
  sack_scoreboard sb{sq(1000), 100};
  const auto nxt = sq(1500);
  sb.update(sq(1000), blocks({blk(1100, 1400)}), nxt); // [1400,1500) was lost too
  REQUIRE(sb.is_lost(sq(1000)));
  sb.enter_recovery(nxt);
  CHECK_FALSE(sb.next_seg(nxt, 0)); // HighACK (1000) not above RescueRxt (1100)
  sb.update(sq(1400), {}, nxt);     // partial ACK after the retransmission
  CHECK(sb.in_recovery());
  auto s = sb.next_seg(nxt, 0);
  check_seg(s, 1400, 100, 4); // includes the highest unSACKed byte, 1499
  const auto high_rxt = sb.high_rxt();
  sb.on_sent(*s);
  CHECK(sb.rescue_rxt() == nxt); // RescueRxt = RecoveryPoint
  CHECK(sb.high_rxt() == high_rxt);
  CHECK_FALSE(sb.next_seg(nxt, 0)); // only one rescue
  // Outside recovery there is no rescue.
  sack_scoreboard idle{sq(1000), 100};
  CHECK_FALSE(idle.next_seg(nxt, 0));
}

TEST_CASE("rule 4 takes the end of the highest hole when the tail is SACKed") {
  sack_scoreboard sb{sq(1000), 100};
  const auto nxt = sq(1600);
  sb.update(sq(1000), blocks({blk(1300, 1600)}), nxt);
  sb.enter_recovery(nxt); // retransmits [1000,1100)
  sb.update(sq(1100), {}, nxt);
  // Rules 1 and 3 both see [1100,1300): 300 bytes SACKed above, so it is lost.
  check_seg(sb.next_seg(nxt, 0), 1100, 100, 1);
}

TEST_CASE("a segment never extends into SACKed data") {
  sack_scoreboard sb{sq(1000), 1000};
  const auto nxt = sq(5000);
  sb.update(sq(1000), blocks({blk(1300, 4000)}), nxt);
  check_seg(sb.next_seg(nxt, 0), 1000, 300, 1);
  const auto s = sb.enter_recovery(nxt);
  CHECK(s.len == 300);
}

TEST_CASE("hostile and broken SACK blocks are rejected or trimmed") {
  sack_scoreboard sb{sq(1000), 100};
  const auto nxt = sq(2000);
  SUBCASE("left >= right") {
    auto r = sb.update(sq(1000), blocks({blk(1500, 1500), blk(1600, 1500)}), nxt);
    CHECK(r.rejected_blocks == 2);
    CHECK(sb.ranges().empty());
  }
  SUBCASE("beyond SND.NXT: data we never sent") {
    auto r = sb.update(sq(1000), blocks({blk(1900, 2001), blk(5000, 6000)}), nxt);
    CHECK(r.rejected_blocks == 2);
    CHECK(sb.ranges().empty());
  }
  SUBCASE("a huge block wrapping the sequence space") {
    auto r = sb.update(sq(1000), blocks({blk(1500, 1400)}), nxt);
    CHECK(r.rejected_blocks == 1);
    r = sb.update(sq(1000), blocks({blk(1000 + 0x80000000u, 1500)}), nxt);
    CHECK(r.rejected_blocks == 1);
    CHECK(sb.ranges().empty());
  }
  SUBCASE("entirely below the cumulative ACK: ignored (stale or D-SACK)") {
    auto r = sb.update(sq(1000), blocks({blk(900, 1000)}), nxt);
    CHECK(r.rejected_blocks == 0);
    CHECK(r.accepted_blocks == 0);
    CHECK(sb.ranges().empty());
  }
  SUBCASE("straddling the cumulative ACK: trimmed") {
    auto r = sb.update(sq(1000), blocks({blk(900, 1200)}), nxt);
    CHECK(r.accepted_blocks == 1);
    REQUIRE(sb.ranges().size() == 1);
    CHECK(sb.ranges()[0] == blk(1000, 1200));
  }
  SUBCASE("more than four blocks: the rest are not read") {
    auto r = sb.update(
        sq(1000), blocks({blk(1100, 1110), blk(1200, 1210), blk(1300, 1310), blk(1400, 1410), blk(1500, 1510)}), nxt);
    CHECK(r.accepted_blocks == 4);
    CHECK(r.rejected_blocks == 1);
    CHECK(sb.ranges().size() == 4);
    CHECK_FALSE(sb.is_sacked(sq(1500)));
  }
  SUBCASE("an ACK beyond SND.NXT is ignored whole") {
    auto r = sb.update(sq(3000), blocks({blk(1100, 1200)}), nxt);
    CHECK(r.newly_acked == 0);
    CHECK(r.rejected_blocks == 1);
    CHECK(sb.high_ack() == sq(1000));
    CHECK(sb.ranges().empty());
  }
  SUBCASE("overlapping blocks in one ACK merge") {
    auto r = sb.update(sq(1000), blocks({blk(1100, 1300), blk(1200, 1400), blk(1150, 1160)}), nxt);
    CHECK(r.accepted_blocks == 3);
    CHECK(r.newly_sacked == 300);
    REQUIRE(sb.ranges().size() == 1);
    CHECK(sb.ranges()[0] == blk(1100, 1400));
  }
  SUBCASE("an old ACK does not move SND.UNA back") {
    sb.update(sq(1500), {}, nxt);
    auto r = sb.update(sq(1200), blocks({blk(1300, 1400)}), nxt);
    CHECK(r.newly_acked == 0);
    CHECK(sb.high_ack() == sq(1500));
    CHECK(sb.ranges().empty()); // the block is below SND.UNA
  }
}

TEST_CASE("newly_sacked counts only bytes not SACKed before") {
  sack_scoreboard sb{sq(0), 100};
  const auto nxt = sq(1000);
  CHECK(sb.update(sq(0), blocks({blk(100, 200)}), nxt).newly_sacked == 100);
  CHECK(sb.update(sq(0), blocks({blk(100, 200)}), nxt).newly_sacked == 0); // repeated block
  CHECK_FALSE(sb.update(sq(0), blocks({blk(100, 200)}), nxt).is_rfc6675_duplicate());
  CHECK(sb.update(sq(0), blocks({blk(150, 250)}), nxt).newly_sacked == 50);
  CHECK(sb.update(sq(0), blocks({blk(300, 400), blk(50, 450)}), nxt).newly_sacked == 100 + 150);
}

TEST_CASE("cumulative ACKs drop and trim ranges") {
  sack_scoreboard sb{sq(0), 100};
  const auto nxt = sq(1000);
  sb.update(sq(0), blocks({blk(100, 200), blk(300, 400), blk(500, 600)}), nxt);
  auto r = sb.update(sq(350), {}, nxt);
  CHECK(r.newly_acked == 350);
  REQUIRE(sb.ranges().size() == 2);
  CHECK(sb.ranges()[0] == blk(350, 400));
  CHECK(sb.ranges()[1] == blk(500, 600));
  sb.update(sq(1000), {}, nxt);
  CHECK(sb.ranges().empty());
  CHECK(sb.pipe(nxt) == 0);
}

TEST_CASE("the number of ranges is bounded: the least recently updated one is forgotten") {
  basic_sack_scoreboard<4> sb{sq(0), 10};
  const auto nxt = sq(10000);
  for (std::uint32_t k = 0; k < 4; ++k) sb.update(sq(0), blocks({blk(100 + 100 * k, 110 + 100 * k)}), nxt);
  sb.update(sq(0), blocks({blk(100, 120)}), nxt); // refreshes the first range
  CHECK(sb.dropped_ranges() == 0);
  auto r = sb.update(sq(0), blocks({blk(900, 910)}), nxt);
  CHECK(r.newly_sacked == 10);
  CHECK(sb.dropped_ranges() == 1);
  CHECK(sb.ranges().size() == 4);
  CHECK(sb.is_sacked(sq(100)));       // refreshed: kept
  CHECK_FALSE(sb.is_sacked(sq(200))); // oldest: forgotten (it looks un-SACKed: safe)
  CHECK(sb.is_sacked(sq(900)));
  for (std::uint32_t k = 0; k < 100; ++k) sb.update(sq(0), blocks({blk(2000 + 20 * k, 2010 + 20 * k)}), nxt);
  CHECK(sb.ranges().size() == 4);
  CHECK(sb.dropped_ranges() == 101);
}

TEST_CASE("RTO: SACK information is expunged and a new recovery waits for RecoveryPoint (RFC 6675 §5.1)") {
  sack_scoreboard sb{sq(1000), 100};
  auto nxt = sq(2000);
  sb.update(sq(1000), blocks({blk(1100, 1500)}), nxt);
  sb.enter_recovery(nxt);
  nxt = sq(2500); // new data sent during recovery
  sb.on_rto(nxt);
  CHECK_FALSE(sb.in_recovery());
  CHECK(sb.ranges().empty());
  CHECK(sb.recovery_point() == sq(2500));
  CHECK(sb.high_rxt() == sq(1000));
  CHECK_FALSE(sb.rescue_rxt());
  // Update() keeps working after the RTO.
  sb.update(sq(1500), blocks({blk(1600, 2000)}), nxt);
  CHECK(sb.is_lost(sq(1500)));
  CHECK_FALSE(sb.may_enter_recovery()); // HighACK < RecoveryPoint
  sb.update(sq(2500), {}, nxt);
  CHECK(sb.may_enter_recovery());
}

TEST_CASE("sequence numbers wrap around 2^32") {
  const std::uint32_t base = 0xffffff00u;
  sack_scoreboard sb{sq(base), 100};
  const auto nxt = sq(base + 1000); // 0x2e8
  sb.update(sq(base), blocks({blk(base + 100, base + 400)}), nxt);
  CHECK(sb.is_lost(sq(base)));
  CHECK(sb.pipe(nxt) == 600);
  check_seg(sb.next_seg(nxt, 0), base, 100, 1);
  auto r = sb.update(sq(base + 300), {}, nxt);
  CHECK(r.newly_acked == 300);
  REQUIRE(sb.ranges().size() == 1);
  CHECK(sb.ranges()[0] == blk(base + 300, base + 400));
}

TEST_CASE("IsLost, SetPipe and NextSeg match a byte-by-byte model on random scoreboards") {
  std::mt19937 rng{2024};
  constexpr std::uint32_t smss = 10;
  constexpr std::uint32_t space = 200;
  for (int round = 0; round < 400; ++round) {
    const auto base = static_cast<std::uint32_t>(rng()); // any starting point, including near the wrap
    basic_sack_scoreboard<8> sb{sq(base), smss};
    const auto nxt = sq(base + space);
    std::vector<bool> sacked(space, false);
    const int nblocks = static_cast<int>(rng() % 7);
    for (int i = 0; i < nblocks; ++i) {
      const auto l = static_cast<std::uint32_t>(rng() % space);
      const auto len = static_cast<std::uint32_t>(1 + rng() % 30);
      const auto r = std::min<std::uint32_t>(space, l + len);
      sb.update(sq(base), blocks({blk(base + l, base + r)}), nxt);
      for (auto k = l; k < r; ++k) sacked[k] = true;
    }
    REQUIRE(sb.dropped_ranges() == 0); // at most 6 blocks: never over 8 ranges
    const bool recovering = rng() % 2 == 0;
    if (recovering && sb.is_lost(sq(base))) sb.enter_recovery(nxt);
    const std::uint32_t high_rxt = static_cast<std::uint32_t>(sb.high_rxt() - sq(base));

    // Model: runs of SACKed bytes and bytes strictly above each offset.
    // (Only asked for un-SACKed bytes s, so every run starting above s lies wholly above it.)
    auto lost = [&](std::uint32_t s) {
      std::uint32_t runs = 0, bytes = 0;
      for (std::uint32_t k = s + 1; k < space; ++k) {
        if (!sacked[k]) continue;
        ++bytes;
        if (!sacked[k - 1]) ++runs;
      }
      return runs >= 3 || bytes > 2 * smss;
    };
    std::uint32_t model_pipe = 0;
    for (std::uint32_t s = 0; s < space; ++s) {
      if (!sacked[s]) {
        REQUIRE(sb.is_lost(sq(base + s)) == lost(s));
        if (!lost(s)) ++model_pipe;
        if (s < high_rxt) ++model_pipe;
      }
    }
    REQUIRE(sb.pipe(nxt) == model_pipe);
    // NextSeg rules (1) and (3) (no new data available).
    std::uint32_t highest = 0;
    for (std::uint32_t s = 0; s < space; ++s)
      if (sacked[s]) highest = s + 1;
    std::optional<std::uint32_t> r1, r3;
    for (std::uint32_t s = high_rxt; s < highest; ++s) {
      if (sacked[s]) continue;
      if (!r3) r3 = s;
      if (lost(s)) {
        r1 = s;
        break;
      }
    }
    const auto got = sb.next_seg(nxt, 0);
    if (r1) {
      REQUIRE(got);
      CHECK(got->rule == 1);
      CHECK(got->seq == sq(base + *r1));
    } else if (r3) {
      REQUIRE(got);
      CHECK(got->rule == 3);
      CHECK(got->seq == sq(base + *r3));
    } else if (got) {
      CHECK(got->rule == 4);
    }
    if (got) {
      // Never into SACKed data, at most one SMSS.
      CHECK(got->len <= smss);
      CHECK(got->len >= 1);
      for (std::uint32_t k = 0; k < got->len; ++k)
        CHECK_FALSE(sacked[static_cast<std::uint32_t>(got->seq - sq(base)) + k]);
    }
  }
}

TEST_SUITE_END();
