// synack/core/detail/intrusive_list.hpp: a circular doubly-linked intrusive list.
//
// Contract: a `list_node` is in at most one list at a time and unlinks itself when it is
// destroyed, so an object that dies while queued (a coroutine frame destroyed at shutdown, an
// awaiter whose frame is destroyed) leaves every list consistent. Copying a node yields an
// unlinked node; this lets awaitables that embed nodes be moved before they are started.
// Push, pop, unlink and splice are O(1) and never allocate. The list does not know its size.
// Single-threaded.
#pragma once

namespace synack::detail {

template <class T>
class intrusive_list;

/// A hook for `intrusive_list`. Unlinks itself on destruction.
class list_node {
public:
  list_node() noexcept = default;
  list_node(const list_node&) noexcept {}
  auto operator=(const list_node&) noexcept -> list_node& { return *this; }
  ~list_node() { unlink(); }

  /// True while the node is in a list.
  auto linked() const noexcept -> bool { return m_next != nullptr; }

  /// Removes the node from its list, if any.
  void unlink() noexcept {
    if (m_next != nullptr) {
      m_prev->m_next = m_next;
      m_next->m_prev = m_prev;
      m_prev = nullptr;
      m_next = nullptr;
    }
  }

private:
  template <class>
  friend class intrusive_list;
  list_node* m_prev = nullptr;
  list_node* m_next = nullptr;
};

/// A FIFO of `T`s, where `T` derives (possibly privately, with this class as a friend) from
/// `list_node`. Destroying the list unlinks its nodes; it never destroys them.
template <class T>
class intrusive_list {
public:
  intrusive_list() noexcept { m_head.m_prev = m_head.m_next = &m_head; }
  intrusive_list(const intrusive_list&) = delete;
  auto operator=(const intrusive_list&) -> intrusive_list& = delete;
  ~intrusive_list() {
    clear();
    m_head.m_prev = m_head.m_next = nullptr;
  }

  auto empty() const noexcept -> bool { return m_head.m_next == &m_head; }

  /// Appends `n`, which must not be linked.
  void push_back(T& n) noexcept {
    list_node& x = n;
    x.m_prev = m_head.m_prev;
    x.m_next = &m_head;
    m_head.m_prev->m_next = &x;
    m_head.m_prev = &x;
  }

  /// The first node, or nullptr.
  auto front() noexcept -> T* { return empty() ? nullptr : static_cast<T*>(m_head.m_next); }

  /// Unlinks and returns the first node, or nullptr.
  auto pop_front() noexcept -> T* {
    if (empty()) return nullptr;
    list_node* n = m_head.m_next;
    n->unlink();
    return static_cast<T*>(n);
  }

  /// Moves every node of `other` to the back of this list, in order.
  void splice_back(intrusive_list& other) noexcept {
    if (other.empty()) return;
    list_node* first = other.m_head.m_next;
    list_node* last = other.m_head.m_prev;
    other.m_head.m_prev = other.m_head.m_next = &other.m_head;
    first->m_prev = m_head.m_prev;
    last->m_next = &m_head;
    m_head.m_prev->m_next = first;
    m_head.m_prev = last;
  }

  /// Unlinks every node.
  void clear() noexcept {
    while (!empty()) m_head.m_next->unlink();
  }

  /// Calls `f(T&)` for each node. `f` must not unlink nodes other than the one it is given.
  template <class F>
  void for_each(F&& f) {
    for (list_node* n = m_head.m_next; n != &m_head;) {
      list_node* next = n->m_next;
      f(*static_cast<T*>(n));
      n = next;
    }
  }

private:
  list_node m_head;
};

} // namespace synack::detail
