// synack/core/detail/stop_callback_slot.hpp: an optional std::stop_callback that can sit in a
// movable awaitable.
//
// std::stop_callback is neither copyable nor movable, so std::optional<std::stop_callback>
// would make every awaitable that holds one immovable, and awaitables are returned by value
// and moved into with_timeout before they start. The slot is movable while empty (the only
// time awaitables are moved); moving an engaged slot is a bug and leaves the target empty.
// Registering does not allocate: std::stop_callback links itself into the stop state.
#pragma once

#include <new>
#include <stop_token>
#include <utility>

namespace synack::detail {

template <class F>
class stop_callback_slot {
public:
  stop_callback_slot() noexcept = default;
  stop_callback_slot(stop_callback_slot&&) noexcept {}
  stop_callback_slot(const stop_callback_slot&) = delete;
  auto operator=(const stop_callback_slot&) -> stop_callback_slot& = delete;
  ~stop_callback_slot() { reset(); }

  /// Registers `f` on `token`. If stop was already requested, `f` runs before this returns.
  void emplace(const std::stop_token& token, F f) {
    reset();
    ::new (static_cast<void*>(m_storage)) std::stop_callback<F>(token, std::move(f));
    m_engaged = true;
  }

  /// Unregisters the callback, if any.
  void reset() noexcept {
    if (m_engaged) {
      m_engaged = false;
      std::launder(reinterpret_cast<std::stop_callback<F>*>(m_storage))->~stop_callback();
    }
  }

  auto engaged() const noexcept -> bool { return m_engaged; }

private:
  alignas(std::stop_callback<F>) unsigned char m_storage[sizeof(std::stop_callback<F>)];
  bool m_engaged = false;
};

} // namespace synack::detail
