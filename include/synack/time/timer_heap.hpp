// synack/time/timer_heap.hpp: intrusive timers (`timer_node`) and the structure that keeps them
// (`timer_heap`, a 4-ary min-heap).
//
// Contract:
// - A `timer_node` carries a callback and, while armed, its deadline and its index in the
//   heap. Arming an armed node re-arms it (moves its deadline). Destroying an armed node
//   disarms it. Nodes are never owned by the heap.
// - Timers with equal deadlines expire in the order they were (last) armed: each arm takes a
//   sequence number, and the heap orders by (deadline, sequence). Simulations depend on this.
// - Costs with n armed timers: arm, re-arm and disarm O(log4 n); earliest deadline O(1);
//   popping the earliest O(4 log4 n). Storage is one vector of 24-byte entries
//   (deadline, sequence, node) so comparisons never touch the nodes: 100,000 pending timers
//   take 2.4 MB and one arm/expire costs ~8 levels of sifting.
// Why a heap and not a timer wheel: deadlines are exact instants (nanoseconds), which virtual
// time needs (a wheel rounds to its tick), the earliest deadline is needed every turn to
// size the one io_uring wait, and the TCP layer re-arms lazily (the per-ACK restart of the
// retransmission timer only records a new deadline in the connection; the heap is touched
// when the old deadline comes up), so the heap sees few operations per segment.
// Single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "synack/time/instant.hpp"

namespace synack {

class timer_heap;

/// An intrusive timer. Derive from it (or embed it and recover the owner) and give it a
/// callback; arm it through `scheduler::arm` (or a `timer_heap`). The callback runs from the
/// loop when the deadline has passed; it may arm or disarm any timer, including itself.
class timer_node {
public:
  using callback = void (*)(timer_node&);
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

  explicit timer_node(callback fn) noexcept : m_callback(fn) {}
  /// Copies have the same callback and are not armed.
  timer_node(const timer_node& o) noexcept : m_callback(o.m_callback) {}
  auto operator=(const timer_node&) -> timer_node& = delete;
  ~timer_node();

  auto armed() const noexcept -> bool { return m_heap != nullptr; }
  /// The deadline of the last arm (meaningful while armed).
  auto deadline() const noexcept -> instant { return m_deadline; }

private:
  friend class timer_heap;
  callback m_callback;
  timer_heap* m_heap = nullptr;
  std::size_t m_index = npos;
  instant m_deadline{};
};

/// A 4-ary min-heap of armed `timer_node`s ordered by (deadline, arm sequence).
class timer_heap {
public:
  timer_heap() = default;
  timer_heap(const timer_heap&) = delete;
  auto operator=(const timer_heap&) -> timer_heap& = delete;
  ~timer_heap() { clear(); }

  /// Arms `n` for `deadline`, or moves its deadline if it is armed here already.
  /// Allocates only when the heap grows past its capacity.
  void arm(timer_node& n, instant deadline) {
    if (n.m_heap != nullptr && n.m_heap != this) n.m_heap->disarm(n);
    n.m_deadline = deadline;
    const entry e{deadline, m_sequence++, &n};
    if (n.m_heap == this) {
      const std::size_t i = n.m_index;
      const bool earlier = before(e, m_entries[i]);
      m_entries[i] = e;
      if (earlier)
        sift_up(i);
      else
        sift_down(i);
      return;
    }
    m_entries.push_back(e);
    n.m_heap = this;
    sift_up(m_entries.size() - 1);
  }

  /// Disarms `n` if it is armed here.
  void disarm(timer_node& n) noexcept {
    if (n.m_heap != this) return;
    remove_at(n.m_index);
  }

  auto empty() const noexcept -> bool { return m_entries.empty(); }
  auto size() const noexcept -> std::size_t { return m_entries.size(); }

  /// The earliest deadline, if any timer is armed.
  auto earliest() const noexcept -> std::optional<instant> {
    if (m_entries.empty()) return std::nullopt;
    return m_entries.front().deadline;
  }

  /// The sequence number the next arm will take. Timers armed from now on have a sequence
  /// at least this large.
  auto next_sequence() const noexcept -> std::uint64_t { return m_sequence; }

  /// Disarms and returns the earliest timer if its deadline is at or before `now` and it was
  /// armed before sequence `limit`; otherwise nullptr.
  auto pop_due(instant now, std::uint64_t limit = std::numeric_limits<std::uint64_t>::max()) noexcept -> timer_node* {
    if (m_entries.empty()) return nullptr;
    const entry& top = m_entries.front();
    if (top.deadline > now || top.sequence >= limit) return nullptr;
    timer_node* n = top.node;
    remove_at(0);
    return n;
  }

  /// Runs the callback of every timer due at `now` that was armed before this call began;
  /// returns how many ran. Timers armed by the callbacks (even for `now`) wait for the next
  /// call, so a callback that re-arms itself for "now" cannot loop forever.
  auto expire(instant now) -> std::size_t {
    const std::uint64_t limit = m_sequence;
    std::size_t count = 0;
    while (timer_node* n = pop_due(now, limit)) {
      ++count;
      n->m_callback(*n);
    }
    return count;
  }

  /// Disarms every timer.
  void clear() noexcept {
    for (const entry& e : m_entries) {
      e.node->m_heap = nullptr;
      e.node->m_index = timer_node::npos;
    }
    m_entries.clear();
  }

  /// Reserves room for `n` timers.
  void reserve(std::size_t n) { m_entries.reserve(n); }

private:
  static constexpr std::size_t arity = 4;

  struct entry {
    instant deadline;
    std::uint64_t sequence;
    timer_node* node;
  };

  static auto before(const entry& a, const entry& b) noexcept -> bool {
    return a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence);
  }

  void place(std::size_t i, const entry& e) noexcept {
    m_entries[i] = e;
    e.node->m_index = i;
  }

  void sift_up(std::size_t i) noexcept {
    const entry e = m_entries[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / arity;
      if (!before(e, m_entries[parent])) break;
      place(i, m_entries[parent]);
      i = parent;
    }
    place(i, e);
  }

  void sift_down(std::size_t i) noexcept {
    const entry e = m_entries[i];
    const std::size_t n = m_entries.size();
    for (;;) {
      const std::size_t first = i * arity + 1;
      if (first >= n) break;
      const std::size_t last = first + arity < n ? first + arity : n;
      std::size_t best = first;
      for (std::size_t c = first + 1; c < last; ++c)
        if (before(m_entries[c], m_entries[best])) best = c;
      if (!before(m_entries[best], e)) break;
      place(i, m_entries[best]);
      i = best;
    }
    place(i, e);
  }

  void remove_at(std::size_t i) noexcept {
    timer_node* n = m_entries[i].node;
    n->m_heap = nullptr;
    n->m_index = timer_node::npos;
    const std::size_t last = m_entries.size() - 1;
    if (i != last) {
      const entry moved = m_entries[last];
      m_entries.pop_back();
      const bool up = i > 0 && before(moved, m_entries[(i - 1) / arity]);
      m_entries[i] = moved;
      if (up)
        sift_up(i);
      else
        sift_down(i);
    } else {
      m_entries.pop_back();
    }
  }

  std::vector<entry> m_entries;
  std::uint64_t m_sequence = 0;
};

inline timer_node::~timer_node() {
  if (m_heap != nullptr) m_heap->disarm(*this);
}

} // namespace synack
