// synack/util/ring_buffer.hpp: a fixed-capacity byte ring for TCP send and receive buffers.
//
// Contract
// - The capacity is fixed at construction and never grows: a peer can never make a buffer
//   bigger than the connection configured (bounded memory). Capacity 0 is allowed; then every
//   operation moves 0 bytes.
// - The storage is allocated once, lazily, by the first operation that writes bytes
//   (enqueue, write_at, writable). An idle connection's buffers cost only this object.
//   `release()` gives the storage back while the ring is empty (e.g. in TIME-WAIT).
// - The ring holds `size()` readable bytes starting at the read position. Offsets passed to
//   `peek`, `discard`, `readable` count from the read position (the oldest byte).
// - `write_at(offset, bytes)` writes into the free space *beyond* the readable bytes, at
//   `offset` bytes past their end, without making anything readable; `commit(n)` then makes the
//   first n bytes past the end readable. This is how the receive buffer stores out-of-order
//   data (see tcp/assembler.hpp, which tracks which of those bytes have arrived).
// - No operation throws except the one-time allocation (std::bad_alloc). Every operation that
//   is handed more than fits moves what fits and returns how many bytes it moved.
//
// Use in TCP
// - Send buffer: bytes from SND.UNA on. `enqueue` appends application data, `peek(offset, ..)`
//   or `readable(offset, len)` reads a (re)transmission at `offset = seq - SND.UNA`, and
//   `discard(n)` drops bytes when an ACK advances SND.UNA by n.
// - Receive buffer: in-order bytes are readable; a segment at `seq` beyond RCV.NXT is stored
//   with `write_at(seq - RCV.NXT, payload)`; when the assembler reports n contiguous bytes at
//   RCV.NXT, `commit(n)` makes them readable and `dequeue` hands them to the application.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

#include "synack/util/bytes.hpp"

namespace synack {

/// A region of a ring seen as at most two contiguous spans, `first` then `second`.
/// `second` is non-empty only when the region wraps around the end of the storage.
template <class T>
struct ring_spans {
  std::span<T> first;
  std::span<T> second;

  constexpr auto size() const noexcept -> std::size_t { return first.size() + second.size(); }
  constexpr auto empty() const noexcept -> bool { return size() == 0; }
};

class ring_buffer {
public:
  /// An empty ring of `capacity` bytes; no memory is allocated until bytes are written.
  explicit ring_buffer(std::size_t capacity = 0) noexcept : m_capacity(capacity) {}

  ring_buffer(ring_buffer&&) noexcept = default;
  auto operator=(ring_buffer&&) noexcept -> ring_buffer& = default;
  ring_buffer(const ring_buffer&) = delete;
  auto operator=(const ring_buffer&) -> ring_buffer& = delete;

  /// Readable bytes.
  auto size() const noexcept -> std::size_t { return m_size; }
  auto capacity() const noexcept -> std::size_t { return m_capacity; }
  /// Bytes that can still be enqueued (or written at offsets 0 .. free_space()-1 past the end).
  auto free_space() const noexcept -> std::size_t { return m_capacity - m_size; }
  auto empty() const noexcept -> bool { return m_size == 0; }
  auto full() const noexcept -> bool { return m_size == m_capacity; }
  /// Whether the storage has been allocated.
  auto allocated() const noexcept -> bool { return m_storage != nullptr; }

  /// Appends as much of `data` as fits; returns the number of bytes appended.
  auto enqueue(bytes_view data) -> std::size_t {
    const auto n = write_at(0, data);
    m_size += n;
    return n;
  }

  /// Moves up to `out.size()` readable bytes into `out`; returns how many.
  auto dequeue(bytes_mut out) noexcept -> std::size_t {
    const auto n = peek(0, out);
    discard(n);
    return n;
  }

  /// Copies up to `out.size()` readable bytes starting `offset` bytes after the read position
  /// into `out`, without consuming them; returns how many (0 if offset >= size()).
  auto peek(std::size_t offset, bytes_mut out) const noexcept -> std::size_t {
    const auto r = readable(offset, out.size());
    copy_out(r, out);
    return r.size();
  }

  /// Drops up to `n` readable bytes from the front; returns how many were dropped.
  auto discard(std::size_t n) noexcept -> std::size_t {
    n = std::min(n, m_size);
    m_head = wrap(m_head + n);
    m_size -= n;
    // The read position is not moved back to index 0 when the ring empties: out-of-order bytes
    // written past the end with write_at must stay where they are.
    return n;
  }

  /// Writes `data` into the free space `offset` bytes past the end of the readable bytes,
  /// without making it readable. Writes what fits below the capacity; returns the number of
  /// bytes written (0 if `offset >= free_space()`). Bytes already there are overwritten.
  auto write_at(std::size_t offset, bytes_view data) -> std::size_t {
    if (offset >= free_space() || data.empty()) return 0;
    const auto n = std::min(data.size(), free_space() - offset);
    ensure_storage();
    const auto start = wrap(m_head + m_size + offset);
    const auto first = std::min(n, m_capacity - start);
    std::memcpy(m_storage.get() + start, data.data(), first);
    std::memcpy(m_storage.get(), data.data() + first, n - first);
    return n;
  }

  /// Makes the first `n` bytes past the end readable (bytes previously placed there by
  /// `write_at` or through `writable()`). Returns how many were committed (at most free_space()).
  auto commit(std::size_t n) noexcept -> std::size_t {
    n = std::min(n, free_space());
    if (n > 0 && !allocated()) return 0; // nothing was ever written; cannot be readable
    m_size += n;
    return n;
  }

  /// Zero-copy read access: the readable bytes [offset, offset + len) (clipped to size()).
  auto readable(std::size_t offset, std::size_t len) const noexcept -> ring_spans<const std::byte> {
    if (offset >= m_size || len == 0) return {};
    len = std::min(len, m_size - offset);
    const auto start = wrap(m_head + offset);
    const auto first = std::min(len, m_capacity - start);
    const std::byte* base = m_storage.get();
    return {{base + start, first}, {base, len - first}};
  }
  /// All readable bytes.
  auto readable() const noexcept -> ring_spans<const std::byte> { return readable(0, m_size); }

  /// Zero-copy write access: the free space starting `offset` bytes past the end of the
  /// readable bytes, up to the capacity. Write into it, then `commit` (for offset 0) the bytes
  /// that were written in order. Allocates the storage if needed.
  auto writable(std::size_t offset = 0) -> ring_spans<std::byte> {
    if (offset >= free_space()) return {};
    ensure_storage();
    const auto len = free_space() - offset;
    const auto start = wrap(m_head + m_size + offset);
    const auto first = std::min(len, m_capacity - start);
    std::byte* base = m_storage.get();
    return {{base + start, first}, {base, len - first}};
  }

  /// Drops all bytes (keeps the storage).
  void clear() noexcept {
    m_head = 0;
    m_size = 0;
  }

  /// Frees the storage if the ring is empty (it is allocated again on the next write).
  /// Returns whether the ring is now unallocated. Out-of-order bytes written with `write_at`
  /// but not committed are lost, so the receive side releases only with an empty assembler.
  auto release() noexcept -> bool {
    if (m_size != 0) return false;
    m_storage.reset();
    m_head = 0;
    return true;
  }

private:
  // `i < 2 * capacity` always holds for the indices computed above.
  auto wrap(std::size_t i) const noexcept -> std::size_t { return i >= m_capacity ? i - m_capacity : i; }

  void ensure_storage() {
    if (!m_storage && m_capacity > 0) m_storage = std::make_unique_for_overwrite<std::byte[]>(m_capacity);
  }

  static void copy_out(ring_spans<const std::byte> r, bytes_mut out) noexcept {
    if (!r.first.empty()) std::memcpy(out.data(), r.first.data(), r.first.size());
    if (!r.second.empty()) std::memcpy(out.data() + r.first.size(), r.second.data(), r.second.size());
  }

  std::unique_ptr<std::byte[]> m_storage;
  std::size_t m_capacity = 0;
  std::size_t m_head = 0; // index of the oldest readable byte
  std::size_t m_size = 0; // readable bytes
};

} // namespace synack
