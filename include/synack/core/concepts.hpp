// synack/core/concepts.hpp: what "awaiter" and "awaitable" mean in synack.
//
// An *awaiter* is the object the compiler talks to during `co_await`: it has
// `await_ready()` (true: don't suspend), `await_suspend(handle)` (returning void, bool or a
// coroutine handle to transfer to) and `await_resume()` (the result of the co_await).
// An *awaitable* is anything `co_await` accepts: an awaiter itself, or a type whose member or
// free `operator co_await` returns an awaiter. `get_awaiter(x)` applies that rule (without
// a promise's await_transform, which synack's promise types don't have), and
// `await_result_t<A>` is the type a `co_await` of an `A` produces.
//
// Awaiters whose await_suspend only accepts a specific promise type's handle do not satisfy
// these concepts; synack's own awaiters all accept `std::coroutine_handle<>`.
#pragma once

#include <concepts>
#include <coroutine>
#include <type_traits>
#include <utility>

namespace synack {

namespace detail {
template <class T>
struct is_coroutine_handle : std::false_type {};
template <class P>
struct is_coroutine_handle<std::coroutine_handle<P>> : std::true_type {};
} // namespace detail

/// The three forms await_suspend may return: void, bool or a coroutine handle.
template <class T>
concept await_suspend_result = std::same_as<T, void> || std::same_as<T, bool> || detail::is_coroutine_handle<T>::value;

/// An object that `co_await` can talk to directly.
template <class A>
concept awaiter = requires(A& a, std::coroutine_handle<> h) {
  { a.await_ready() } -> std::convertible_to<bool>;
  { a.await_suspend(h) } -> await_suspend_result;
  a.await_resume();
};

namespace detail {
template <class T>
concept has_member_co_await = requires(T&& t) {
  std::forward<T>(t).operator co_await();
};
template <class T>
concept has_free_co_await = requires(T&& t) {
  operator co_await(std::forward<T>(t));
};
} // namespace detail

/// The awaiter that `co_await t` uses (member operator co_await, free operator co_await, or
/// `t` itself).
template <class T>
decltype(auto) get_awaiter(T&& t) {
  if constexpr (detail::has_member_co_await<T>) {
    return std::forward<T>(t).operator co_await();
  } else if constexpr (detail::has_free_co_await<T>) {
    return operator co_await(std::forward<T>(t));
  } else {
    return std::forward<T>(t);
  }
}

/// Anything `co_await` accepts (in a coroutine without await_transform).
template <class T>
concept awaitable = requires(T&& t) {
  { synack::get_awaiter(std::forward<T>(t)) } -> awaiter;
};

/// The type of `co_await std::declval<T>()`.
template <awaitable T>
using await_result_t = decltype(synack::get_awaiter(std::declval<T>()).await_resume());

} // namespace synack
