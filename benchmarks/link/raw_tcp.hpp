// benchmarks/link/raw_tcp.hpp: what the raw TCP ceilings (bench_tcp_sink, bench_tcp_source)
// share: big-endian loads and stores, the process's CPU time, opening the tun, and the
// io_uring set-up of a well-tuned raw tun program: one multishot read over a ring of provided buffers (packets
// come in order, many per io_uring_enter), writes from a pool, one io_uring_enter per batch.
#pragma once

#include <liburing.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "synack/io/loop.hpp"
#include "synack/io/uring.hpp"
#include "synack/link/tun.hpp"

namespace raw_tcp {

inline constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10;

inline auto load16(const std::byte* p) -> std::uint16_t {
  return static_cast<std::uint16_t>(static_cast<unsigned>(p[0]) << 8 | static_cast<unsigned>(p[1]));
}
inline auto load32(const std::byte* p) -> std::uint32_t { return std::uint32_t{load16(p)} << 16 | load16(p + 2); }
inline void store16(std::byte* p, std::uint16_t v) {
  p[0] = std::byte(v >> 8);
  p[1] = std::byte(v & 0xff);
}
inline void store32(std::byte* p, std::uint32_t v) {
  store16(p, static_cast<std::uint16_t>(v >> 16));
  store16(p + 2, static_cast<std::uint16_t>(v & 0xffff));
}

/// User + system CPU seconds of this process.
inline auto cpu_seconds() -> double {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// The tun device of a raw program (`prog` names it in messages): synack's link::tun::open
/// with its default addresses (192.0.2.1 for the kernel, 192.0.2.2 for us, MTU 1500). nullopt
/// after printing "SKIPPED" when it cannot be opened (no root: the caller exits with 77).
inline auto open_tun(synack::event_loop& loop, const char* prog, const std::string& ifname, bool offload)
    -> std::optional<synack::link::tun> {
  synack::link::tun_options o;
  o.name = ifname;
  o.offload = offload;
  auto dev = synack::link::tun::open(loop, o);
  if (!dev) {
    fmt::print(stderr, "{}: SKIPPED: cannot open tun: {}\n", prog, dev.error().message());
    return std::nullopt;
  }
  return std::move(*dev);
}

/// An io_uring with one multishot read of `fd` over `nring` provided buffers of `buf_len`
/// bytes (buffer group 7). Completions of the read carry `read_tag`.
struct ring {
  static constexpr std::uint64_t read_tag = 1ull << 62;
  io_uring uring{};
  io_uring_buf_ring* br = nullptr;
  unsigned nring = 0;
  std::size_t buf_len = 0;
  std::vector<std::byte> mem;
  int fd = -1;

  /// False when io_uring or the buffer ring cannot be set up.
  auto init(int device, unsigned n, std::size_t len) -> bool {
    fd = device;
    nring = n;
    buf_len = len;
    io_uring_params p{};
    p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
    p.cq_entries = 4096;
    if (io_uring_queue_init_params(512, &uring, &p) != 0) {
      p.flags = IORING_SETUP_CQSIZE;
      if (io_uring_queue_init_params(512, &uring, &p) != 0) return false;
    }
    void* m = ::mmap(nullptr, n * sizeof(io_uring_buf), PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (m == MAP_FAILED) return false;
    br = static_cast<io_uring_buf_ring*>(m);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uintptr_t>(br);
    reg.ring_entries = n;
    reg.bgid = 7;
    if (io_uring_register_buf_ring(&uring, &reg, 0) != 0) return false;
    io_uring_buf_ring_init(br);
    mem.resize(n * len);
    for (unsigned i = 0; i < n; ++i)
      io_uring_buf_ring_add(br, mem.data() + i * len, static_cast<unsigned>(len), static_cast<unsigned short>(i),
                            io_uring_buf_ring_mask(n), static_cast<int>(i));
    io_uring_buf_ring_advance(br, n);
    arm_read();
    return true;
  }
  auto sqe() -> io_uring_sqe* {
    io_uring_sqe* s = io_uring_get_sqe(&uring);
    if (s == nullptr) {
      io_uring_submit(&uring);
      s = io_uring_get_sqe(&uring);
    }
    return s;
  }
  void arm_read() {
    io_uring_sqe* s = sqe();
    synack::io::prep_read_multishot(s, fd, 7);
    io_uring_sqe_set_data64(s, read_tag);
  }
  /// The packet of a read completion (nullptr if it carries none).
  auto packet(const io_uring_cqe* c, std::size_t& len) -> std::byte* {
    if ((c->flags & IORING_CQE_F_BUFFER) == 0 || c->res <= 0) return nullptr;
    const auto id = static_cast<unsigned short>(c->flags >> IORING_CQE_BUFFER_SHIFT);
    len = static_cast<std::size_t>(c->res);
    return mem.data() + id * buf_len;
  }
  /// Gives a packet's buffer back to the ring.
  void recycle(const io_uring_cqe* c) {
    const auto id = static_cast<unsigned short>(c->flags >> IORING_CQE_BUFFER_SHIFT);
    io_uring_buf_ring_add(br, mem.data() + id * buf_len, static_cast<unsigned>(buf_len), id,
                          io_uring_buf_ring_mask(nring), 0);
    io_uring_buf_ring_advance(br, 1);
  }
};

} // namespace raw_tcp
