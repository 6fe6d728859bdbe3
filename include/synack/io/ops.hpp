// synack/io/ops.hpp: coroutine io_uring operations for the links and tests: read, write,
// readv, writev, recvmsg, sendmsg, poll, nop and cancel.
//
// Each factory returns an operation object (io/operation.hpp): `co_await` it for an
// `expected<T, std::error_code>`; errors compare equal to std::errc values. Each takes an
// optional std::stop_token as its last argument and satisfies `stoppable_awaitable`, so
// `with_timeout(io::read(loop, fd, buf), 1s)` works; `.or_throw()` yields T or throws a
// std::system_error (core/or_throw.hpp). Buffers, iovecs and msghdrs must stay
// valid until the operation completes (they live in the awaiting frame in normal use).
// Byte counts above 4 GiB - 1 are clamped (io_uring lengths are 32-bit).
#pragma once

#include <liburing.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stop_token>
#include <system_error>
#include <utility>

#include "synack/core/cancellation.hpp"
#include "synack/io/loop.hpp"
#include "synack/io/operation.hpp"
#include "synack/util/expected.hpp"

namespace synack::io {

/// Offset meaning "the file's current position" (and the only one pipes and sockets accept).
inline constexpr std::uint64_t current_position = std::numeric_limits<std::uint64_t>::max();

namespace detail {
inline auto clamp_len(std::size_t n) noexcept -> unsigned {
  return static_cast<unsigned>(std::min<std::size_t>(n, std::numeric_limits<unsigned>::max()));
}
} // namespace detail

using size_result = expected<std::size_t, std::error_code>;

/// IORING_OP_READ into `buffer`. Yields the number of bytes read (0 at end of file).
class [[nodiscard]] read_op final : public operation<read_op, size_result> {
public:
  static constexpr const char* operation_name = "synack: io::read";
  read_op(event_loop_base& loop, int fd, std::span<std::byte> buffer, std::uint64_t offset, std::stop_token t = {})
      : operation(loop, std::move(t)), m_fd(fd), m_buffer(buffer), m_offset(offset) {}
  void prepare(io_uring_sqe& sqe) noexcept {
    io_uring_prep_read(&sqe, m_fd, m_buffer.data(), detail::clamp_len(m_buffer.size()), m_offset);
  }
  auto make_result(std::int32_t res, std::uint32_t) const -> size_result { return static_cast<std::size_t>(res); }

private:
  int m_fd;
  std::span<std::byte> m_buffer;
  std::uint64_t m_offset;
};

/// IORING_OP_WRITE from `data`. Yields the number of bytes written.
class [[nodiscard]] write_op final : public operation<write_op, size_result> {
public:
  static constexpr const char* operation_name = "synack: io::write";
  write_op(event_loop_base& loop, int fd, std::span<const std::byte> data, std::uint64_t offset, std::stop_token t = {})
      : operation(loop, std::move(t)), m_fd(fd), m_data(data), m_offset(offset) {}
  void prepare(io_uring_sqe& sqe) noexcept {
    io_uring_prep_write(&sqe, m_fd, m_data.data(), detail::clamp_len(m_data.size()), m_offset);
  }
  auto make_result(std::int32_t res, std::uint32_t) const -> size_result { return static_cast<std::size_t>(res); }

private:
  int m_fd;
  std::span<const std::byte> m_data;
  std::uint64_t m_offset;
};

/// IORING_OP_READV into `iov`. Yields the number of bytes read.
class [[nodiscard]] readv_op final : public operation<readv_op, size_result> {
public:
  static constexpr const char* operation_name = "synack: io::readv";
  readv_op(event_loop_base& loop, int fd, std::span<const iovec> iov, std::uint64_t offset, std::stop_token t = {})
      : operation(loop, std::move(t)), m_fd(fd), m_iov(iov), m_offset(offset) {}
  void prepare(io_uring_sqe& sqe) noexcept {
    io_uring_prep_readv(&sqe, m_fd, m_iov.data(), detail::clamp_len(m_iov.size()), m_offset);
  }
  auto make_result(std::int32_t res, std::uint32_t) const -> size_result { return static_cast<std::size_t>(res); }

private:
  int m_fd;
  std::span<const iovec> m_iov;
  std::uint64_t m_offset;
};

/// IORING_OP_WRITEV from `iov`. Yields the number of bytes written.
class [[nodiscard]] writev_op final : public operation<writev_op, size_result> {
public:
  static constexpr const char* operation_name = "synack: io::writev";
  writev_op(event_loop_base& loop, int fd, std::span<const iovec> iov, std::uint64_t offset, std::stop_token t = {})
      : operation(loop, std::move(t)), m_fd(fd), m_iov(iov), m_offset(offset) {}
  void prepare(io_uring_sqe& sqe) noexcept {
    io_uring_prep_writev(&sqe, m_fd, m_iov.data(), detail::clamp_len(m_iov.size()), m_offset);
  }
  auto make_result(std::int32_t res, std::uint32_t) const -> size_result { return static_cast<std::size_t>(res); }

private:
  int m_fd;
  std::span<const iovec> m_iov;
  std::uint64_t m_offset;
};

/// IORING_OP_RECVMSG into `msg`. Yields the number of bytes received; msg_flags,
/// msg_namelen and msg_controllen are updated by the kernel.
class [[nodiscard]] recvmsg_op final : public operation<recvmsg_op, size_result> {
public:
  static constexpr const char* operation_name = "synack: io::recvmsg";
  recvmsg_op(event_loop_base& loop, int fd, msghdr& msg, unsigned flags, std::stop_token t = {})
      : operation(loop, std::move(t)), m_fd(fd), m_msg(&msg), m_flags(flags) {}
  void prepare(io_uring_sqe& sqe) noexcept { io_uring_prep_recvmsg(&sqe, m_fd, m_msg, m_flags); }
  auto make_result(std::int32_t res, std::uint32_t) const -> size_result { return static_cast<std::size_t>(res); }

private:
  int m_fd;
  msghdr* m_msg;
  unsigned m_flags;
};

/// IORING_OP_SENDMSG from `msg`. Yields the number of bytes sent.
class [[nodiscard]] sendmsg_op final : public operation<sendmsg_op, size_result> {
public:
  static constexpr const char* operation_name = "synack: io::sendmsg";
  sendmsg_op(event_loop_base& loop, int fd, const msghdr& msg, unsigned flags, std::stop_token t = {})
      : operation(loop, std::move(t)), m_fd(fd), m_msg(&msg), m_flags(flags) {}
  void prepare(io_uring_sqe& sqe) noexcept { io_uring_prep_sendmsg(&sqe, m_fd, m_msg, m_flags); }
  auto make_result(std::int32_t res, std::uint32_t) const -> size_result { return static_cast<std::size_t>(res); }

private:
  int m_fd;
  const msghdr* m_msg;
  unsigned m_flags;
};

/// IORING_OP_POLL_ADD (one shot). Yields the returned events (POLLIN, POLLOUT, POLLHUP...).
class [[nodiscard]] poll_op final : public operation<poll_op, expected<unsigned, std::error_code>> {
public:
  static constexpr const char* operation_name = "synack: io::poll";
  poll_op(event_loop_base& loop, int fd, unsigned events, std::stop_token t = {})
      : operation(loop, std::move(t)), m_fd(fd), m_events(events) {}
  void prepare(io_uring_sqe& sqe) noexcept { io_uring_prep_poll_add(&sqe, m_fd, m_events); }
  auto make_result(std::int32_t res, std::uint32_t) const -> expected<unsigned, std::error_code> {
    return static_cast<unsigned>(res);
  }

private:
  int m_fd;
  unsigned m_events;
};

/// IORING_OP_NOP: a round trip through the ring.
class [[nodiscard]] nop_op final : public operation<nop_op, expected<void, std::error_code>> {
public:
  static constexpr const char* operation_name = "synack: io::nop";
  explicit nop_op(event_loop_base& loop, std::stop_token t = {}) : operation(loop, std::move(t)) {}
  void prepare(io_uring_sqe& sqe) noexcept { io_uring_prep_nop(&sqe); }
  auto make_result(std::int32_t, std::uint32_t) const -> expected<void, std::error_code> { return {}; }
};

/// IORING_OP_ASYNC_CANCEL with IORING_ASYNC_CANCEL_ALL (kernel >= 5.19), keyed by user_data
/// or by file descriptor. Yields how many requests were found and cancelled.
class [[nodiscard]] cancel_op final : public operation<cancel_op, size_result> {
public:
  static constexpr const char* operation_name = "synack: io::cancel";
  enum class key { user_data, fd };
  cancel_op(event_loop_base& loop, key k, std::uint64_t target, std::stop_token t = {})
      : operation(loop, std::move(t)), m_key(k), m_target(target) {}
  void prepare(io_uring_sqe& sqe) noexcept {
    if (m_key == key::fd)
      io_uring_prep_cancel_fd(&sqe, static_cast<int>(m_target), IORING_ASYNC_CANCEL_ALL);
    else
      io_uring_prep_cancel64(&sqe, m_target, IORING_ASYNC_CANCEL_ALL);
  }
  auto make_result(std::int32_t res, std::uint32_t) const -> size_result { return static_cast<std::size_t>(res); }

private:
  key m_key;
  std::uint64_t m_target;
};

// --- factories ------------------------------------------------------------------------

/// Reads into `buffer` at the current position (pipes, sockets, tun devices).
inline auto read(event_loop_base& loop, int fd, std::span<std::byte> buffer, std::stop_token t = {}) -> read_op {
  return {loop, fd, buffer, current_position, std::move(t)};
}
/// Reads into `buffer` at `offset`.
inline auto read_at(event_loop_base& loop, int fd, std::span<std::byte> buffer, std::uint64_t offset,
                    std::stop_token t = {}) -> read_op {
  return {loop, fd, buffer, offset, std::move(t)};
}
/// Writes `data` at the current position.
inline auto write(event_loop_base& loop, int fd, std::span<const std::byte> data, std::stop_token t = {}) -> write_op {
  return {loop, fd, data, current_position, std::move(t)};
}
/// Writes `data` at `offset`.
inline auto write_at(event_loop_base& loop, int fd, std::span<const std::byte> data, std::uint64_t offset,
                     std::stop_token t = {}) -> write_op {
  return {loop, fd, data, offset, std::move(t)};
}
/// Scatter read at the current position.
inline auto readv(event_loop_base& loop, int fd, std::span<const iovec> iov, std::stop_token t = {}) -> readv_op {
  return {loop, fd, iov, current_position, std::move(t)};
}
/// Gather write at the current position.
inline auto writev(event_loop_base& loop, int fd, std::span<const iovec> iov, std::stop_token t = {}) -> writev_op {
  return {loop, fd, iov, current_position, std::move(t)};
}
/// recvmsg(2) on a socket.
inline auto recvmsg(event_loop_base& loop, int fd, msghdr& msg, unsigned flags = 0, std::stop_token t = {})
    -> recvmsg_op {
  return {loop, fd, msg, flags, std::move(t)};
}
/// sendmsg(2) on a socket.
inline auto sendmsg(event_loop_base& loop, int fd, const msghdr& msg, unsigned flags = 0, std::stop_token t = {})
    -> sendmsg_op {
  return {loop, fd, msg, flags, std::move(t)};
}
/// Waits until `fd` reports one of `events` (POLLIN, POLLOUT...).
inline auto poll(event_loop_base& loop, int fd, unsigned events, std::stop_token t = {}) -> poll_op {
  return {loop, fd, events, std::move(t)};
}
/// A no-op round trip through the ring.
inline auto nop(event_loop_base& loop, std::stop_token t = {}) -> nop_op { return nop_op{loop, std::move(t)}; }
/// Cancels every request whose user_data is `user_data` (e.g. `op.user_data()`).
inline auto cancel(event_loop_base& loop, std::uint64_t user_data, std::stop_token t = {}) -> cancel_op {
  return {loop, cancel_op::key::user_data, user_data, std::move(t)};
}
/// Cancels every request on file descriptor `fd`.
inline auto cancel_fd(event_loop_base& loop, int fd, std::stop_token t = {}) -> cancel_op {
  return {loop, cancel_op::key::fd, static_cast<std::uint64_t>(fd), std::move(t)};
}

static_assert(stoppable_awaitable<read_op>);
static_assert(stoppable_awaitable<nop_op>);

} // namespace synack::io
