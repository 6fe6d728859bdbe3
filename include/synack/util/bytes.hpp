// synack/util/bytes.hpp: byte spans and big-endian (network order) loads and stores.
//
// Packet bytes are never overlaid with structs (docs/wire.md): every field is read and
// written through load_be / store_be at a fixed offset.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

namespace synack {

using bytes_view = std::span<const std::byte>;
using bytes_mut = std::span<std::byte>;

/// A half-open range [begin, end) of byte offsets inside a header; used for field tables.
struct field_range {
  std::size_t begin;
  std::size_t end;
  constexpr auto size() const noexcept -> std::size_t { return end - begin; }
};

template <class T>
requires std::is_integral_v<T>
constexpr auto byteswap_if_little(T v) noexcept -> T {
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) {
    if constexpr (sizeof(T) == 2)
      return static_cast<T>(__builtin_bswap16(static_cast<std::uint16_t>(v)));
    else if constexpr (sizeof(T) == 4)
      return static_cast<T>(__builtin_bswap32(static_cast<std::uint32_t>(v)));
    else
      return static_cast<T>(__builtin_bswap64(static_cast<std::uint64_t>(v)));
  } else {
    return v;
  }
}

/// Reads a big-endian T at `p`. `p` needs no alignment.
template <class T>
requires std::is_integral_v<T>
inline auto load_be(const std::byte* p) noexcept -> T {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return byteswap_if_little(v);
}

/// Writes `v` big-endian at `p`. `p` needs no alignment.
template <class T>
requires std::is_integral_v<T>
inline void store_be(std::byte* p, T v) noexcept {
  v = byteswap_if_little(v);
  std::memcpy(p, &v, sizeof(T));
}

template <class T>
requires std::is_integral_v<T>
inline auto load_be(bytes_view b, std::size_t offset) noexcept -> T { return load_be<T>(b.data() + offset); }

template <class T>
requires std::is_integral_v<T>
inline void store_be(bytes_mut b, std::size_t offset, T v) noexcept { store_be<T>(b.data() + offset, v); }

/// Views a string's characters as bytes (no copy).
inline auto as_bytes(std::string_view s) noexcept -> bytes_view {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

/// Views bytes as characters (no copy).
inline auto as_chars(bytes_view b) noexcept -> std::string_view {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

} // namespace synack
