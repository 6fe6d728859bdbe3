// synack/io/uring.hpp: what liburing 2.3 lacks for a 6.x kernel: opcodes newer than its
// headers, prepared by hand, and probes to check that the running kernel has them.
//
// liburing 2.3's enum stops at IORING_OP_SENDMSG_ZC (48); the kernel numbers opcodes in a
// stable ABI order, so newer ones are plain constants here. Before using one, check
// `loop.opcode_supported(op)` (probed once when the loop starts) or `kernel_supports(op)`
// (creates a throwaway ring). Preparing an unsupported opcode makes its CQE fail with
// -EINVAL.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <optional>

namespace synack::io {

/// IORING_OP_READ_MULTISHOT (kernel 6.7): repeated reads into provided buffers, one CQE per
/// read with IORING_CQE_F_MORE while it stays armed.
inline constexpr std::uint8_t op_read_multishot = 49;
/// IORING_OP_WAITID (6.7), IORING_OP_FUTEX_WAIT/WAKE/WAITV (6.7), IORING_OP_FIXED_FD_INSTALL
/// (6.8), IORING_OP_FTRUNCATE (6.9), IORING_OP_BIND/LISTEN (6.11): listed for probing.
inline constexpr std::uint8_t op_waitid = 50;
inline constexpr std::uint8_t op_futex_wait = 51;
inline constexpr std::uint8_t op_futex_wake = 52;
inline constexpr std::uint8_t op_futex_waitv = 53;
inline constexpr std::uint8_t op_fixed_fd_install = 54;
inline constexpr std::uint8_t op_ftruncate = 55;
inline constexpr std::uint8_t op_bind = 56;
inline constexpr std::uint8_t op_listen = 57;

/// Prepares IORING_OP_READ_MULTISHOT on `fd` (which must be pollable: a pipe, socket, tun
/// device) selecting buffers from provided-buffer group `buffer_group` (see buffer_ring).
/// `max_len` 0 means "a whole buffer" (kernels before 6.10 accept only 0). Each CQE carries
/// the buffer id (buffer_ring::buffer_id(flags)) and the byte count in res; the request
/// stays armed while IORING_CQE_F_MORE is set and ends with a CQE without it (an error such
/// as -ENOBUFS when the group ran dry, or -ECANCELED).
inline void prep_read_multishot(io_uring_sqe* sqe, int fd, std::uint16_t buffer_group, unsigned max_len = 0,
                                std::uint64_t offset = 0) noexcept {
  io_uring_prep_rw(op_read_multishot, sqe, fd, nullptr, max_len, offset);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffer_group;
}

/// True if the running kernel supports opcode `op` (probes with a throwaway ring; prefer
/// event_loop_base::opcode_supported when a loop exists).
inline auto kernel_supports(unsigned op) noexcept -> bool {
  struct free_probe {
    void operator()(io_uring_probe* p) const noexcept { io_uring_free_probe(p); }
  };
  std::unique_ptr<io_uring_probe, free_probe> probe(io_uring_get_probe());
  return probe && io_uring_opcode_supported(probe.get(), static_cast<int>(op)) != 0;
}

} // namespace synack::io
