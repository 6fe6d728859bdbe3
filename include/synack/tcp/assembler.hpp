// synack/tcp/assembler.hpp: out-of-order reassembly bookkeeping for the receive side.
//
// The assembler remembers which byte ranges beyond RCV.NXT have arrived; the bytes themselves
// live in the receive ring buffer (util/ring_buffer.hpp, `write_at`). Offsets are relative to
// RCV.NXT: offset 0 is the next byte the application will read in order.
//
// Contract
// - At most N disjoint, non-adjacent ranges are kept, sorted by offset (N is the template
//   parameter, default 32). Storage is inline: no allocation ever, and every operation is
//   O(N). A peer that sends many small out-of-order pieces cannot make it grow.
// - add(offset, len) merges the new range with every range it overlaps or touches. When the
//   new range would be an (N+1)th disjoint range, it is refused (`add_result::dropped`) and
//   nothing changes: the connection drops that segment (and counts it); the peer retransmits.
//   Exception: a range at offset 0 (in-order data) is always accepted, in a spare slot, because
//   refusing in-order data could stall the connection forever; the caller consumes it at once
//   with remove_front().
// - remove_front() returns the length of the range at offset 0 (0 if there is none), removes
//   it, and shifts the remaining offsets down by that length: RCV.NXT advances by that much.
// - Recency for SACK: each range remembers when a segment last landed in it (a merge takes the
//   newest stamp). `recent()` / `sack_blocks()` list ranges newest first.
//
// Use in the connection (receive path)
//     ring.write_at(seq - rcv_nxt, payload);           // store the bytes (any offset)
//     if (asm.add(seq - rcv_nxt, len) == add_result::dropped) { count; drop; }
//     auto n = asm.remove_front();                     // bytes now in order
//     ring.commit(n); rcv_nxt += n;
//     asm.sack_blocks(rcv_nxt, blocks);                // after remove_front (RFC 2018 §4)
// The caller trims the segment to the receive window first, so offset + len <= free space.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "synack/wire/seq_number.hpp"

namespace synack::tcp {

/// What add() did.
enum class add_result : std::uint8_t {
  added,   // recorded (possibly merged with, or already covered by, existing ranges)
  dropped, // refused: it would need more than N ranges (or offset + len overflows)
};

template <std::size_t N = 32>
class basic_assembler {
  static_assert(N >= 1, "an assembler needs room for at least one range");

public:
  /// A received range [offset, offset + length) relative to RCV.NXT.
  struct range {
    std::size_t offset = 0;
    std::size_t length = 0;
    constexpr auto end() const noexcept -> std::size_t { return offset + length; }
    friend constexpr auto operator==(const range&, const range&) noexcept -> bool = default;
  };

  static constexpr std::size_t max_ranges = N;

  /// Records that bytes [offset, offset + length) have arrived. length 0 is a no-op (added).
  auto add(std::size_t offset, std::size_t length) noexcept -> add_result {
    if (length == 0) return add_result::added;
    if (length > std::numeric_limits<std::size_t>::max() - offset) return add_result::dropped;
    const auto end = offset + length;

    // Ranges [i, j) overlap or touch [offset, end); all ranges before i end before `offset`,
    // all from j on start after `end`.
    std::size_t i = 0;
    while (i < m_count && m_ranges[i].end() < offset) ++i;
    std::size_t j = i;
    while (j < m_count && m_ranges[j].offset <= end) ++j;

    if (i == j) {
      // A new disjoint range. The spare slot (index N) is only for in-order data.
      if (m_count >= N && !(offset == 0 && m_count == N)) return add_result::dropped;
      for (std::size_t k = m_count; k > i; --k) {
        m_ranges[k] = m_ranges[k - 1];
        m_stamps[k] = m_stamps[k - 1];
      }
      m_ranges[i] = range{offset, length};
      m_stamps[i] = ++m_clock;
      ++m_count;
      return add_result::added;
    }

    // Merge [i, j) and the new range into slot i, then close the gap.
    const auto lo = std::min(offset, m_ranges[i].offset);
    const auto hi = std::max(end, m_ranges[j - 1].end());
    m_ranges[i] = range{lo, hi - lo};
    m_stamps[i] = ++m_clock; // RFC 2018 §4: this block holds the most recently received segment
    const auto removed = j - i - 1;
    for (std::size_t k = i + 1; k + removed < m_count; ++k) {
      m_ranges[k] = m_ranges[k + removed];
      m_stamps[k] = m_stamps[k + removed];
    }
    m_count -= removed;
    return add_result::added;
  }

  /// Removes the range at offset 0 and returns its length (the bytes that are now in order);
  /// shifts the other ranges down by that length. Returns 0 if nothing is at offset 0.
  auto remove_front() noexcept -> std::size_t {
    if (m_count == 0 || m_ranges[0].offset != 0) return 0;
    const auto n = m_ranges[0].length;
    for (std::size_t k = 1; k < m_count; ++k) {
      m_ranges[k - 1] = range{m_ranges[k].offset - n, m_ranges[k].length};
      m_stamps[k - 1] = m_stamps[k];
    }
    --m_count;
    return n;
  }

  /// Contiguous bytes available at offset 0 (what remove_front() would return).
  auto front() const noexcept -> std::size_t { return m_count > 0 && m_ranges[0].offset == 0 ? m_ranges[0].length : 0; }

  /// Whether no out-of-order data is held.
  auto empty() const noexcept -> bool { return m_count == 0; }
  /// Number of ranges held (at most N, or N + 1 right after in-order data was added).
  auto size() const noexcept -> std::size_t { return m_count; }
  /// The ranges, sorted by offset.
  auto ranges() const noexcept -> std::span<const range> { return {m_ranges.data(), m_count}; }
  /// Whether byte `offset` has arrived.
  auto contains(std::size_t offset) const noexcept -> bool {
    for (std::size_t k = 0; k < m_count; ++k)
      if (m_ranges[k].offset <= offset && offset < m_ranges[k].end()) return true;
    return false;
  }

  /// Writes up to out.size() ranges into `out`, the one most recently added to first, then the
  /// others from newest to oldest; returns how many were written.
  ///
  /// RFC 2018 §4: "The first SACK block (i.e., the one immediately following the kind and
  /// length fields in the option) MUST specify the contiguous block of data containing the
  /// segment which triggered this ACK, unless that segment advanced the Acknowledgment Number
  /// field in the header." and "The SACK option SHOULD be filled out by repeating the most
  /// recently reported SACK blocks (based on first SACK blocks in previous SACK options) that
  /// are not subsets of a SACK block already included in the SACK option being constructed."
  /// A range's stamp is the time a segment last landed in it, i.e. the last ACK that would
  /// have reported it first, so newest-stamp order is that order. Ranges are disjoint, so no
  /// block is a subset of another.
  auto recent(std::span<range> out) const noexcept -> std::size_t {
    std::array<std::size_t, N + 1> order{};
    for (std::size_t k = 0; k < m_count; ++k) order[k] = k;
    const auto n = std::min(out.size(), m_count);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n),
                      order.begin() + static_cast<std::ptrdiff_t>(m_count),
                      [this](std::size_t a, std::size_t b) { return m_stamps[a] > m_stamps[b]; });
    for (std::size_t k = 0; k < n; ++k) out[k] = m_ranges[order[k]];
    return n;
  }

  /// Like recent(), as sequence-number blocks [rcv_nxt + offset, rcv_nxt + end) for the SACK
  /// option: `Block` is any aggregate `{left, right}` of wire::seq_number (e.g. tcp::sack_block).
  /// Call it after remove_front(). At most out.size() blocks (4, or 3 with timestamps).
  template <class Block>
  auto sack_blocks(wire::seq_number rcv_nxt, std::span<Block> out) const noexcept -> std::size_t {
    std::array<range, N + 1> tmp{};
    const auto n = recent(std::span<range>{tmp.data(), std::min(out.size(), tmp.size())});
    for (std::size_t k = 0; k < n; ++k)
      out[k] = Block{rcv_nxt + static_cast<std::uint32_t>(tmp[k].offset),
                     rcv_nxt + static_cast<std::uint32_t>(tmp[k].end())};
    return n;
  }

  /// Forgets everything (e.g. on RST or when the connection is reset).
  void clear() noexcept { m_count = 0; }

private:
  std::array<range, N + 1> m_ranges{};         // sorted by offset; slot N is the in-order spare
  std::array<std::uint64_t, N + 1> m_stamps{}; // recency of each range (larger = newer)
  std::size_t m_count = 0;
  std::uint64_t m_clock = 0;
};

/// The default receive-side assembler: 32 out-of-order ranges (Linux keeps no fixed limit
/// but prunes its out-of-order queue under memory pressure; 32 holes in one window is far
/// beyond any realistic loss pattern and bounds the work per segment).
using assembler = basic_assembler<32>;

} // namespace synack::tcp
