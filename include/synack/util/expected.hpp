// synack/util/expected.hpp: `expected<T, E>`, a value or an error.
//
// A small implementation with std::expected's names and the subset of its interface synack
// uses: construction from a value or from `unexpected<E>`, has_value / operator bool, value()
// (throws bad_expected_access), error(), operator* / operator->, value_or, and the void
// specialisation. It is the non-throwing result type of the whole library.
//
// It is synack's own even where the standard library has std::expected (C++23), for one
// difference: value() on an error must say what the error was. std::bad_expected_access's
// what() is a fixed "bad access to std::expected without expected value"; here
// `bad_expected_access<std::error_code>` is a std::system_error whose what() is the error's
// message (as `std::system_error(ec)` gives it) and whose code() is the error, so
// `tun::open(loop).value()` without CAP_NET_ADMIN ends the program with "not permitted:
// needs CAP_NET_ADMIN ..." rather than "bad expected access". Catching either
// `bad_expected_access<std::error_code>` or `std::system_error` (what or_throw() throws) works.
#pragma once

#include <exception>
#include <new>
#include <system_error>
#include <type_traits>
#include <utility>

namespace synack {

template <class E>
class unexpected {
public:
  constexpr explicit unexpected(const E& e) : m_error(e) {}
  constexpr explicit unexpected(E&& e) : m_error(std::move(e)) {}
  constexpr auto error() const& noexcept -> const E& { return m_error; }
  constexpr auto error() & noexcept -> E& { return m_error; }
  constexpr auto error() && noexcept -> E&& { return std::move(m_error); }
  friend constexpr auto operator==(const unexpected& a, const unexpected& b) -> bool { return a.m_error == b.m_error; }

private:
  E m_error;
};
template <class E>
unexpected(E) -> unexpected<E>;

struct unexpect_t {
  explicit unexpect_t() = default;
};
inline constexpr unexpect_t unexpect{};

/// Thrown by value() on an error. For error types other than std::error_code, what() is a
/// fixed text and error() is the error.
template <class E>
class bad_expected_access : public std::exception {
public:
  explicit bad_expected_access(E e) : m_error(std::move(e)) {}
  auto what() const noexcept -> const char* override { return "bad expected access (value() on an error)"; }
  auto error() const noexcept -> const E& { return m_error; }

private:
  E m_error;
};

/// Thrown by value() on an `expected<T, std::error_code>` holding an error: a std::system_error
/// whose what() is the error's message and code() the error (see the header comment).
template <>
class bad_expected_access<std::error_code> : public std::system_error {
public:
  explicit bad_expected_access(std::error_code e) : std::system_error(e) {}
  auto error() const noexcept -> const std::error_code& { return code(); }
};

template <class T, class E>
class expected {
public:
  using value_type = T;
  using error_type = E;

  constexpr expected() requires std::is_default_constructible_v<T> : m_has(true) { new (&m_val) T(); }
  template <class U = T>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, expected> &&
           !std::is_same_v<std::remove_cvref_t<U>, unexpected<E>>) constexpr expected(U&& v)
      : m_has(true) {
    new (&m_val) T(std::forward<U>(v));
  }
  template <class G>
  constexpr expected(const unexpected<G>& u) : m_has(false) {
    new (&m_err) E(u.error());
  }
  template <class G>
  constexpr expected(unexpected<G>&& u) : m_has(false) {
    new (&m_err) E(std::move(u.error()));
  }
  template <class... A>
  constexpr explicit expected(unexpect_t, A&&... a) : m_has(false) {
    new (&m_err) E(std::forward<A>(a)...);
  }

  expected(const expected& o) : m_has(o.m_has) {
    if (m_has)
      new (&m_val) T(o.m_val);
    else
      new (&m_err) E(o.m_err);
  }
  expected(expected&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : m_has(o.m_has) {
    if (m_has)
      new (&m_val) T(std::move(o.m_val));
    else
      new (&m_err) E(std::move(o.m_err));
  }
  auto operator=(const expected& o) -> expected& {
    if (this != &o) {
      destroy();
      m_has = o.m_has;
      if (m_has)
        new (&m_val) T(o.m_val);
      else
        new (&m_err) E(o.m_err);
    }
    return *this;
  }
  auto operator=(expected&& o) noexcept(std::is_nothrow_move_constructible_v<T>) -> expected& {
    if (this != &o) {
      destroy();
      m_has = o.m_has;
      if (m_has)
        new (&m_val) T(std::move(o.m_val));
      else
        new (&m_err) E(std::move(o.m_err));
    }
    return *this;
  }
  ~expected() { destroy(); }

  constexpr auto has_value() const noexcept -> bool { return m_has; }
  constexpr explicit operator bool() const noexcept { return m_has; }

  constexpr auto value() & -> T& {
    check();
    return m_val;
  }
  constexpr auto value() const& -> const T& {
    check();
    return m_val;
  }
  constexpr auto value() && -> T&& {
    check();
    return std::move(m_val);
  }
  constexpr auto error() const& noexcept -> const E& { return m_err; }
  constexpr auto error() & noexcept -> E& { return m_err; }
  constexpr auto operator*() & noexcept -> T& { return m_val; }
  constexpr auto operator*() const& noexcept -> const T& { return m_val; }
  constexpr auto operator*() && noexcept -> T&& { return std::move(m_val); }
  constexpr auto operator->() noexcept -> T* { return &m_val; }
  constexpr auto operator->() const noexcept -> const T* { return &m_val; }
  template <class U>
  constexpr auto value_or(U&& d) const& -> T {
    return m_has ? m_val : static_cast<T>(std::forward<U>(d));
  }

private:
  void check() const {
    if (!m_has) throw bad_expected_access<E>(m_err);
  }
  void destroy() noexcept {
    if (m_has)
      m_val.~T();
    else
      m_err.~E();
  }
  union {
    T m_val;
    E m_err;
  };
  bool m_has;
};

template <class E>
class expected<void, E> {
public:
  using value_type = void;
  using error_type = E;

  constexpr expected() noexcept : m_err(), m_has(true) {}
  template <class G>
  constexpr expected(const unexpected<G>& u) : m_err(u.error()), m_has(false) {}
  template <class G>
  constexpr expected(unexpected<G>&& u) : m_err(std::move(u.error())), m_has(false) {}
  template <class... A>
  constexpr explicit expected(unexpect_t, A&&... a) : m_err(std::forward<A>(a)...), m_has(false) {}

  constexpr auto has_value() const noexcept -> bool { return m_has; }
  constexpr explicit operator bool() const noexcept { return m_has; }
  constexpr void value() const {
    if (!m_has) throw bad_expected_access<E>(m_err);
  }
  constexpr void operator*() const noexcept {}
  constexpr auto error() const& noexcept -> const E& { return m_err; }

private:
  E m_err; // E must be default-constructible here; synack's error types are.
  bool m_has;
};

} // namespace synack
