// synack/core/detail/result_slot.hpp: where sync_wait and when_all keep the outcome of awaiting
// something: nothing yet, a value (or the address of an lvalue result), or an exception.
//
// A result of type R is stored as: nothing for void, a pointer for an lvalue reference, and a
// value of remove_cvref_t<R> otherwise (so an rvalue-reference result is moved into the slot
// before the temporary it refers to dies). `take()` rethrows a stored exception.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace synack::detail {

template <class R>
using slot_value_t = std::conditional_t<std::is_lvalue_reference_v<R>, R, std::remove_cvref_t<R>>;

template <class R>
class result_slot {
public:
  using value_type = slot_value_t<R>;

  template <class U>
  void set(U&& v) {
    if constexpr (std::is_lvalue_reference_v<R>)
      m_value = std::addressof(v);
    else
      m_value.emplace(std::forward<U>(v));
  }
  void set_exception(std::exception_ptr e) noexcept { m_exception = std::move(e); }
  auto has_exception() const noexcept -> bool { return static_cast<bool>(m_exception); }
  void rethrow_if_exception() const {
    if (m_exception) std::rethrow_exception(m_exception);
  }
  auto take() -> value_type {
    rethrow_if_exception();
    if constexpr (std::is_lvalue_reference_v<R>)
      return *m_value;
    else
      return std::move(*m_value);
  }

private:
  std::conditional_t<std::is_lvalue_reference_v<R>, std::remove_reference_t<R>*, std::optional<value_type>> m_value{};
  std::exception_ptr m_exception;
};

template <>
class result_slot<void> {
public:
  using value_type = void;
  void set_exception(std::exception_ptr e) noexcept { m_exception = std::move(e); }
  auto has_exception() const noexcept -> bool { return static_cast<bool>(m_exception); }
  void rethrow_if_exception() const {
    if (m_exception) std::rethrow_exception(m_exception);
  }
  void take() const { rethrow_if_exception(); }

private:
  std::exception_ptr m_exception;
};

} // namespace synack::detail
