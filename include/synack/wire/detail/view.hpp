// synack/wire/detail/view.hpp: what every packet view shares.
//
// A view is a span plus typed accessors at fixed offsets (docs/wire.md). `Bytes` is
// either `bytes_view` (read only) or `bytes_mut` (setters enabled through `requires`).
#pragma once

#include <concepts>
#include <cstdint>

#include "synack/util/bytes.hpp"
#include "synack/util/expected.hpp"
#include "synack/wire/error.hpp"

namespace synack::wire {

/// The two span types a view may hold.
template <class B>
concept byte_span = std::same_as<B, bytes_view> || std::same_as<B, bytes_mut>;

/// A span whose bytes may be written: views over it get setters.
template <class B>
concept mutable_byte_span = std::same_as<B, bytes_mut>;

namespace detail {

template <class T>
inline auto get(bytes_view b, field_range f) noexcept -> T {
  static_assert(sizeof(T) <= 8);
  return load_be<T>(b.data() + f.begin);
}

template <class T>
inline void set(bytes_mut b, field_range f, T v) noexcept {
  store_be<T>(b.data() + f.begin, v);
}

inline auto u8(bytes_view b, std::size_t at) noexcept -> std::uint8_t { return std::to_integer<std::uint8_t>(b[at]); }
inline void set_u8(bytes_mut b, std::size_t at, std::uint8_t v) noexcept { b[at] = std::byte{v}; }

/// The error result as an expected of any type.
inline auto fail(wire_error e) noexcept -> unexpected<wire_error> { return unexpected<wire_error>{e}; }

} // namespace detail
} // namespace synack::wire
