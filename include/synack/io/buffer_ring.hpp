// synack/io/buffer_ring.hpp: a provided-buffer ring (IORING_REGISTER_PBUF_RING, kernel 5.19)
// for requests with IOSQE_BUFFER_SELECT: multishot reads and receives pick a buffer when data
// arrives instead of holding one per request.
//
// Contract: `count` buffers of `buffer_size` bytes, ids 0..count-1, all given to the kernel at
// construction. A CQE with IORING_CQE_F_BUFFER names the buffer it filled
// (`buffer_id(flags)`); the buffer then belongs to the program until `recycle(id)` gives it
// back. Memory comes from two anonymous mappings (no per-buffer allocation). The ring must be
// destroyed before its loop, and after the requests that select from it have ended.
// Single-threaded.
#pragma once

#include <liburing.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <system_error>

#include "synack/io/loop.hpp"

namespace synack::io {

class buffer_ring {
public:
  /// Registers group `group` with `count` (a power of two, at most 32768) buffers of
  /// `buffer_size` bytes. Throws std::system_error if the kernel refuses.
  buffer_ring(event_loop_base& loop, std::uint16_t group, std::uint16_t count, std::uint32_t buffer_size)
      : m_loop(&loop), m_group(group), m_count(count), m_buffer_size(buffer_size) {
    if (count == 0 || (count & (count - 1)) != 0 || count > 32768)
      throw std::invalid_argument("synack: buffer_ring count must be a power of two <= 32768");
    m_ring_bytes = static_cast<std::size_t>(count) * sizeof(io_uring_buf);
    m_data_bytes = static_cast<std::size_t>(count) * buffer_size;
    void* ring = ::mmap(nullptr, m_ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (ring == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "synack: buffer_ring mmap");
    void* data = ::mmap(nullptr, m_data_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (data == MAP_FAILED) {
      const int e = errno;
      ::munmap(ring, m_ring_bytes);
      throw std::system_error(e, std::generic_category(), "synack: buffer_ring mmap");
    }
    m_ring = static_cast<io_uring_buf_ring*>(ring);
    m_data = static_cast<std::byte*>(data);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uintptr_t>(m_ring);
    reg.ring_entries = count;
    reg.bgid = group;
    if (const int r = io_uring_register_buf_ring(&loop.native_handle(), &reg, 0); r < 0) {
      release();
      throw std::system_error(-r, std::generic_category(), "synack: io_uring_register_buf_ring");
    }
    io_uring_buf_ring_init(m_ring);
    for (std::uint16_t i = 0; i < count; ++i)
      io_uring_buf_ring_add(m_ring, m_data + static_cast<std::size_t>(i) * buffer_size, buffer_size, i, mask(), i);
    io_uring_buf_ring_advance(m_ring, count);
  }
  buffer_ring(const buffer_ring&) = delete;
  auto operator=(const buffer_ring&) -> buffer_ring& = delete;
  ~buffer_ring() {
    io_uring_unregister_buf_ring(&m_loop->native_handle(), m_group);
    release();
  }

  auto group() const noexcept -> std::uint16_t { return m_group; }
  auto count() const noexcept -> std::uint16_t { return m_count; }
  auto buffer_size() const noexcept -> std::uint32_t { return m_buffer_size; }

  /// The whole of buffer `id` (a CQE's res says how much of it was filled).
  auto buffer(std::uint16_t id) const noexcept -> std::span<std::byte> {
    return {m_data + static_cast<std::size_t>(id) * m_buffer_size, m_buffer_size};
  }

  /// Gives buffer `id` back to the kernel.
  void recycle(std::uint16_t id) noexcept {
    io_uring_buf_ring_add(m_ring, buffer(id).data(), m_buffer_size, id, mask(), 0);
    io_uring_buf_ring_advance(m_ring, 1);
  }

  /// The buffer id a CQE carries, if it carries one (IORING_CQE_F_BUFFER).
  static auto buffer_id(std::uint32_t cqe_flags) noexcept -> std::optional<std::uint16_t> {
    if ((cqe_flags & IORING_CQE_F_BUFFER) == 0) return std::nullopt;
    return static_cast<std::uint16_t>(cqe_flags >> IORING_CQE_BUFFER_SHIFT);
  }

private:
  auto mask() const noexcept -> int { return io_uring_buf_ring_mask(m_count); }
  void release() noexcept {
    ::munmap(m_data, m_data_bytes);
    ::munmap(m_ring, m_ring_bytes);
  }

  event_loop_base* m_loop;
  std::uint16_t m_group;
  std::uint16_t m_count;
  std::uint32_t m_buffer_size;
  std::size_t m_ring_bytes = 0;
  std::size_t m_data_bytes = 0;
  io_uring_buf_ring* m_ring = nullptr;
  std::byte* m_data = nullptr;
};

} // namespace synack::io
