// Tests for include/synack/util/ring_buffer.hpp.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "synack/util/ring_buffer.hpp"

using synack::bytes_mut;
using synack::bytes_view;
using synack::ring_buffer;

namespace {

auto make_bytes(std::size_t n, std::uint8_t first) -> std::vector<std::byte> {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<std::uint8_t>(first + i));
  return v;
}

template <class T>
auto flatten(synack::ring_spans<T> r) -> std::vector<std::byte> {
  std::vector<std::byte> v(r.first.begin(), r.first.end());
  v.insert(v.end(), r.second.begin(), r.second.end());
  return v;
}

// Moves the ring's read position to `head` (mod capacity) and leaves it empty.
void rotate_to(ring_buffer& rb, std::size_t head) {
  rb.clear();
  auto filler = make_bytes(head, 0xee);
  REQUIRE(rb.enqueue(filler) == head);
  REQUIRE(rb.discard(head) == head);
  REQUIRE(rb.empty());
}

} // namespace

TEST_SUITE_BEGIN("util.ring_buffer");

TEST_CASE("a new ring is empty, bounded and unallocated") {
  ring_buffer rb{16};
  CHECK(rb.size() == 0);
  CHECK(rb.capacity() == 16);
  CHECK(rb.free_space() == 16);
  CHECK(rb.empty());
  CHECK_FALSE(rb.full());
  CHECK_FALSE(rb.allocated());
  // Reading never allocates.
  std::array<std::byte, 4> out{};
  CHECK(rb.dequeue(out) == 0);
  CHECK(rb.peek(0, out) == 0);
  CHECK(rb.readable().empty());
  CHECK(rb.discard(3) == 0);
  CHECK(rb.commit(3) == 0);
  CHECK_FALSE(rb.allocated());
  // The first write does.
  CHECK(rb.enqueue(make_bytes(1, 1)) == 1);
  CHECK(rb.allocated());
}

TEST_CASE("capacity 0 moves nothing and never allocates") {
  ring_buffer rb;
  CHECK(rb.capacity() == 0);
  CHECK(rb.full());
  CHECK(rb.empty());
  CHECK(rb.enqueue(make_bytes(5, 0)) == 0);
  CHECK(rb.write_at(0, make_bytes(5, 0)) == 0);
  CHECK(rb.writable().empty());
  CHECK_FALSE(rb.allocated());
}

TEST_CASE("enqueue and dequeue are bounded by capacity and size") {
  ring_buffer rb{8};
  CHECK(rb.enqueue(make_bytes(5, 10)) == 5);
  CHECK(rb.enqueue(make_bytes(5, 15)) == 3); // only 3 fit
  CHECK(rb.full());
  CHECK(rb.free_space() == 0);
  CHECK(rb.enqueue(make_bytes(1, 0)) == 0);
  std::array<std::byte, 3> small{};
  CHECK(rb.dequeue(small) == 3);
  CHECK(small[0] == std::byte{10});
  CHECK(small[2] == std::byte{12});
  std::array<std::byte, 16> big{};
  CHECK(rb.dequeue(big) == 5);
  CHECK(big[0] == std::byte{13});
  CHECK(big[4] == std::byte{17});
  CHECK(rb.empty());
  CHECK(rb.capacity() == 8); // never grows
}

TEST_CASE("enqueue, peek, readable and dequeue wrap around at every read position") {
  constexpr std::size_t cap = 7;
  ring_buffer rb{cap};
  for (std::size_t head = 0; head < cap; ++head) {
    for (std::size_t len = 0; len <= cap; ++len) {
      CAPTURE(head);
      CAPTURE(len);
      rotate_to(rb, head);
      const auto data = make_bytes(len, static_cast<std::uint8_t>(head * 16));
      REQUIRE(rb.enqueue(data) == len);
      CHECK(rb.size() == len);
      CHECK(rb.full() == (len == cap));
      // Whole readable region as two spans: the split is where the storage wraps.
      const auto all = rb.readable();
      CHECK(flatten(all) == data);
      CHECK(all.first.size() == std::min(len, cap - head));
      // peek at every offset and length.
      for (std::size_t off = 0; off <= len; ++off) {
        for (std::size_t n = 0; n <= len - off + 1; ++n) {
          std::vector<std::byte> out(n, std::byte{0xff});
          const auto got = rb.peek(off, out);
          CHECK(got == std::min(n, len - off));
          for (std::size_t i = 0; i < got; ++i) CHECK(out[i] == data[off + i]);
          CHECK(flatten(rb.readable(off, n)) == std::vector<std::byte>(data.begin() + static_cast<long>(off),
                                                                       data.begin() + static_cast<long>(off + got)));
        }
      }
      // dequeue in two pieces.
      std::vector<std::byte> a(len / 2), b(len);
      CHECK(rb.dequeue(a) == len / 2);
      CHECK(rb.dequeue(b) == len - len / 2);
      a.insert(a.end(), b.begin(), b.begin() + static_cast<long>(len - len / 2));
      CHECK(a == data);
      CHECK(rb.empty());
    }
  }
}

TEST_CASE("write_at stores out-of-order bytes that commit makes readable, at every position") {
  constexpr std::size_t cap = 6;
  ring_buffer rb{cap};
  for (std::size_t head = 0; head < cap; ++head) {
    for (std::size_t in_order = 0; in_order <= cap; ++in_order) {
      for (std::size_t off = 0; off <= cap; ++off) {
        CAPTURE(head);
        CAPTURE(in_order);
        CAPTURE(off);
        rotate_to(rb, head);
        const auto first = make_bytes(in_order, 0x10);
        REQUIRE(rb.enqueue(first) == in_order);
        // Out-of-order piece at `off` past the end, then the hole [0, off) filled in.
        const auto piece = make_bytes(cap, 0x80);
        const auto room = cap - in_order;
        const auto wrote = rb.write_at(off, piece);
        CHECK(wrote == (off < room ? room - off : 0));
        CHECK(rb.size() == in_order); // nothing became readable
        const auto hole = make_bytes(std::min(off, room), 0x40);
        CHECK(rb.write_at(0, hole) == hole.size());
        CHECK(rb.commit(off + wrote) == std::min(off + wrote, room));
        auto expect = first;
        expect.insert(expect.end(), hole.begin(), hole.end());
        expect.insert(expect.end(), piece.begin(), piece.begin() + static_cast<long>(wrote));
        CHECK(flatten(rb.readable()) == expect);
        CHECK(rb.size() == expect.size());
      }
    }
  }
}

TEST_CASE("out-of-order bytes survive the application draining the in-order bytes") {
  ring_buffer rb{8};
  rotate_to(rb, 5);
  CHECK(rb.enqueue(make_bytes(2, 1)) == 2);
  CHECK(rb.write_at(2, make_bytes(3, 50)) == 3); // bytes at offsets 2..4 past the end
  std::array<std::byte, 2> out{};
  CHECK(rb.dequeue(out) == 2); // ring now empty, out-of-order bytes still stored
  CHECK(rb.empty());
  CHECK(rb.write_at(0, make_bytes(2, 30)) == 2); // the hole
  CHECK(rb.commit(5) == 5);
  CHECK(flatten(rb.readable()) ==
        std::vector<std::byte>{std::byte{30}, std::byte{31}, std::byte{50}, std::byte{51}, std::byte{52}});
}

TEST_CASE("writable exposes the free space as two spans; commit makes written bytes readable") {
  constexpr std::size_t cap = 5;
  ring_buffer rb{cap};
  for (std::size_t head = 0; head < cap; ++head) {
    for (std::size_t len = 0; len <= cap; ++len) {
      CAPTURE(head);
      CAPTURE(len);
      rotate_to(rb, head);
      REQUIRE(rb.enqueue(make_bytes(len, 0)) == len);
      const auto w = rb.writable();
      CHECK(w.size() == cap - len);
      const auto tail_index = (head + len) % cap;
      if (len < cap) CHECK(w.first.size() == std::min(cap - len, cap - tail_index));
      std::uint8_t v = 100;
      for (auto& b : w.first) b = std::byte{v++};
      for (auto& b : w.second) b = std::byte{v++};
      CHECK(rb.commit(cap) == cap - len);
      CHECK(rb.full());
      const auto all = flatten(rb.readable());
      for (std::size_t i = len; i < cap; ++i) CHECK(all[i] == std::byte(static_cast<std::uint8_t>(100 + i - len)));
      // writable at an offset skips that many free bytes.
      rb.discard(cap);
      CHECK(rb.writable(2).size() == cap - 2);
      CHECK(rb.writable(cap).empty());
    }
  }
}

TEST_CASE("discard is bounded by size") {
  ring_buffer rb{4};
  rb.enqueue(make_bytes(3, 7));
  CHECK(rb.discard(2) == 2);
  CHECK(rb.size() == 1);
  CHECK(rb.discard(10) == 1);
  CHECK(rb.empty());
}

TEST_CASE("commit is bounded by free space") {
  ring_buffer rb{4};
  rb.enqueue(make_bytes(3, 7));
  CHECK(rb.commit(10) == 1);
  CHECK(rb.full());
  CHECK(rb.commit(1) == 0);
}

TEST_CASE("release frees the storage only when empty") {
  ring_buffer rb{4};
  rb.enqueue(make_bytes(2, 0));
  CHECK_FALSE(rb.release());
  CHECK(rb.allocated());
  rb.discard(2);
  CHECK(rb.release());
  CHECK_FALSE(rb.allocated());
  CHECK(rb.enqueue(make_bytes(4, 9)) == 4); // allocated again on demand
  std::array<std::byte, 4> out{};
  CHECK(rb.dequeue(out) == 4);
  CHECK(out[3] == std::byte{12});
}

TEST_CASE("moved-from ring buffers keep working") {
  ring_buffer a{4};
  a.enqueue(make_bytes(3, 1));
  ring_buffer b = std::move(a);
  CHECK(b.size() == 3);
  std::array<std::byte, 3> out{};
  CHECK(b.dequeue(out) == 3);
  CHECK(out[2] == std::byte{3});
}

TEST_CASE("random operations match a deque model") {
  std::mt19937 rng{12345};
  constexpr std::size_t cap = 13;
  ring_buffer rb{cap};
  std::deque<std::byte> model;
  std::uint8_t next = 0;
  for (int step = 0; step < 20000; ++step) {
    const auto n = static_cast<std::size_t>(rng() % (cap + 3));
    switch (rng() % 4) {
      case 0: {
        auto data = make_bytes(n, next);
        const auto got = rb.enqueue(data);
        REQUIRE(got == std::min(n, cap - model.size()));
        for (std::size_t i = 0; i < got; ++i) model.push_back(data[i]);
        next = static_cast<std::uint8_t>(next + got);
        break;
      }
      case 1: {
        std::vector<std::byte> out(n);
        const auto got = rb.dequeue(out);
        REQUIRE(got == std::min(n, model.size()));
        for (std::size_t i = 0; i < got; ++i) {
          REQUIRE(out[i] == model.front());
          model.pop_front();
        }
        break;
      }
      case 2: {
        const auto off = static_cast<std::size_t>(rng() % (cap + 1));
        std::vector<std::byte> out(n);
        const auto got = rb.peek(off, out);
        REQUIRE(got == (off < model.size() ? std::min(n, model.size() - off) : 0));
        for (std::size_t i = 0; i < got; ++i) REQUIRE(out[i] == model[off + i]);
        break;
      }
      default: {
        const auto got = rb.discard(n);
        REQUIRE(got == std::min(n, model.size()));
        model.erase(model.begin(), model.begin() + static_cast<long>(got));
      }
    }
    REQUIRE(rb.size() == model.size());
  }
}

TEST_SUITE_END();
