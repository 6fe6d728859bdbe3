// tests/io/lowlevel_test.cpp: the callback path for links (io/loop.hpp io_completion,
// get_sqe/attach), several reads in flight, a multishot read into a provided-buffer ring
// (io/uring.hpp, io/buffer_ring.hpp), and opcode probing.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "io/io_support.hpp"
#include "synack/core/task.hpp"
#include "synack/io/buffer_ring.hpp"
#include "synack/io/loop.hpp"
#include "synack/io/ops.hpp"
#include "synack/io/uring.hpp"

using synack::event_loop;
using synack::io_completion;
using synack::task;

TEST_SUITE_BEGIN("io.lowlevel");

namespace {
/// A read with a callback, re-armed by its owner: what a link keeps several of.
struct read_slot : io_completion {
  std::vector<std::string>* got;
  std::vector<std::int32_t>* results;
  char buf[8]{};
  read_slot(std::vector<std::string>& g, std::vector<std::int32_t>& r) : io_completion(&done), got(&g), results(&r) {}
  static void done(io_completion& c, std::int32_t res, std::uint32_t) noexcept {
    auto& self = static_cast<read_slot&>(c);
    self.results->push_back(res);
    if (res > 0) self.got->emplace_back(self.buf, static_cast<std::size_t>(res));
  }
  void start(synack::event_loop_base& loop, int fd) {
    io_uring_sqe* sqe = loop.get_sqe();
    REQUIRE(sqe != nullptr);
    io_uring_prep_read(sqe, fd, buf, sizeof buf, synack::io::current_position);
    loop.attach(sqe, *this);
  }
};
} // namespace

TEST_CASE("several callback reads in flight complete in order, without coroutines") {
  event_loop loop;
  auto p = io_test::make_pipe();
  std::vector<std::string> got;
  std::vector<std::int32_t> results;
  std::vector<read_slot> slots(4, read_slot(got, results));
  for (auto& s : slots) s.start(loop, p.a);
  CHECK(loop.in_flight() == 4);
  loop.poll(); // submits them; nothing to read: they wait in the kernel
  const char* messages[] = {"one", "two", "three", "four"};
  for (std::size_t i = 0; i < 4; ++i) {
    const std::size_t len = std::strlen(messages[i]);
    CHECK(::write(p.b, messages[i], len) == static_cast<ssize_t>(len));
    while (got.size() < i + 1 && loop.run_once()) {}
  }
  CHECK(got == std::vector<std::string>{"one", "two", "three", "four"});
  CHECK(loop.in_flight() == 0);
}

TEST_CASE("destroying an in-flight io_completion cancels it and never calls it") {
  event_loop loop;
  auto p = io_test::make_pipe();
  std::vector<std::string> got;
  std::vector<std::int32_t> results;
  {
    read_slot s(got, results);
    s.start(loop, p.a);
    loop.submit();
    CHECK(s.in_flight());
  }
  CHECK(loop.in_flight() == 0);
  CHECK(results.empty());
  CHECK(::write(p.b, "kept", 4) == 4);
  char buf[8];
  CHECK(::read(p.a, buf, sizeof buf) == 4);
}

TEST_CASE("shutdown cancels callback requests: their callback gets -ECANCELED once") {
  auto p = io_test::make_pipe();
  std::vector<std::string> got;
  std::vector<std::int32_t> results;
  read_slot s(got, results);
  {
    event_loop loop;
    s.start(loop, p.a);
    loop.poll();
    loop.shutdown();
    CHECK_FALSE(s.in_flight());
    CHECK(loop.get_sqe() == nullptr);
  }
  CHECK(results == std::vector<std::int32_t>{-ECANCELED});
}

TEST_CASE("opcode probing") {
  event_loop loop;
  CHECK(loop.opcode_supported(IORING_OP_READ));
  CHECK(loop.opcode_supported(IORING_OP_SENDMSG));
  CHECK_FALSE(loop.opcode_supported(255));
  CHECK(synack::io::kernel_supports(IORING_OP_NOP));
  CHECK(synack::io::kernel_supports(synack::io::op_read_multishot) ==
        loop.opcode_supported(synack::io::op_read_multishot));
  MESSAGE("IORING_OP_READ_MULTISHOT supported: " << loop.opcode_supported(synack::io::op_read_multishot));
}

namespace {
struct multishot_reader : io_completion {
  synack::io::buffer_ring* ring;
  std::string data;
  std::vector<std::uint32_t> flags;
  std::int32_t final_res = 1;
  bool finished = false;
  explicit multishot_reader(synack::io::buffer_ring& r) : io_completion(&on_cqe), ring(&r) {}
  static void on_cqe(io_completion& c, std::int32_t res, std::uint32_t f) noexcept {
    auto& self = static_cast<multishot_reader&>(c);
    self.flags.push_back(f);
    if (res > 0) {
      const auto id = synack::io::buffer_ring::buffer_id(f);
      if (id) {
        self.data += io_test::string_of(self.ring->buffer(*id).first(static_cast<std::size_t>(res)));
        self.ring->recycle(*id);
      }
    }
    if ((f & IORING_CQE_F_MORE) == 0) {
      self.finished = true;
      self.final_res = res;
    }
  }
};
} // namespace

TEST_CASE("multishot read into a provided-buffer ring, with callbacks") {
  event_loop loop;
  if (!loop.opcode_supported(synack::io::op_read_multishot)) {
    MESSAGE("kernel lacks IORING_OP_READ_MULTISHOT (6.7+): skipped");
    return;
  }
  auto p = io_test::make_pipe();
  synack::io::buffer_ring ring(loop, /*group=*/7, /*count=*/8, /*buffer_size=*/64);
  multishot_reader reader(ring);
  io_uring_sqe* sqe = loop.get_sqe();
  synack::io::prep_read_multishot(sqe, p.a, ring.group());
  loop.attach(sqe, reader);
  loop.submit();
  std::string sent;
  for (int i = 0; i < 20; ++i) { // more reads than buffers: recycling keeps it armed
    const std::string chunk = "chunk" + std::to_string(i) + ";";
    sent += chunk;
    CHECK(::write(p.b, chunk.data(), chunk.size()) == static_cast<ssize_t>(chunk.size()));
    while (reader.data.size() < sent.size() && loop.run_once()) {}
  }
  CHECK(reader.data == sent);
  CHECK_FALSE(reader.finished);
  CHECK(reader.in_flight());
  REQUIRE_FALSE(reader.flags.empty());
  CHECK((reader.flags.front() & IORING_CQE_F_MORE) != 0);
  CHECK((reader.flags.front() & IORING_CQE_F_BUFFER) != 0);
  loop.cancel(reader);
  while (reader.in_flight() && loop.run_once()) {}
  CHECK(reader.finished);
  CHECK(reader.final_res == -ECANCELED);
  CHECK(loop.in_flight() == 0);
}

TEST_SUITE_END();
