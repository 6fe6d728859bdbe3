// What every fuzz target under tests/fuzz/ shares: the entry-point macro, a check that aborts
// (so libFuzzer and the corpus replay both report it), and a reader of fuzzer bytes.
//
// A target is written once:
//     SYNACK_FUZZ_TARGET(ethernet) { ... use data, size ...; return 0; }
// With clang and -fsanitize=fuzzer (SYNACK_BUILD_FUZZERS) it is libFuzzer's
// LLVMFuzzerTestOneInput, one program per target. Built with SYNACK_FUZZ_REPLAY (every build),
// it registers itself under its name, and `fuzz_replay` (replay_main.cpp) runs the files of
// tests/fuzz/corpus/<name>/ through it: the CTest test `fuzz.corpus`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "synack/util/bytes.hpp"

namespace synack_fuzz {

using target_fn = int (*)(const std::uint8_t* data, std::size_t size);

struct registered_target {
  std::string_view name;
  target_fn fn;
};

inline auto targets() -> std::vector<registered_target>& {
  static std::vector<registered_target> all;
  return all;
}

inline auto register_target(std::string_view name, target_fn fn) -> bool {
  targets().push_back({name, fn});
  return true;
}

/// A property failed: print it and abort (libFuzzer saves the input as a crash).
[[noreturn]] inline void fail(const char* file, int line, const char* what, const char* detail) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s%s%s\n", file, line, what, detail[0] ? ": " : "", detail);
  std::fflush(stderr);
  std::abort();
}

/// Reads the fuzzer's bytes front to back; past the end every read yields zeros.
class reader {
public:
  reader(const std::uint8_t* data, std::size_t size) noexcept : m_p(data), m_n(size) {}

  auto empty() const noexcept -> bool { return m_n == 0; }
  auto remaining() const noexcept -> std::size_t { return m_n; }
  auto u8() noexcept -> std::uint8_t {
    if (m_n == 0) return 0;
    --m_n;
    return *m_p++;
  }
  auto u16() noexcept -> std::uint16_t { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
  auto u32() noexcept -> std::uint32_t { return std::uint32_t{u16()} << 16 | u16(); }
  auto i16() noexcept -> std::int16_t { return static_cast<std::int16_t>(u16()); }
  auto flag() noexcept -> bool { return (u8() & 1) != 0; }
  /// Up to `n` bytes (fewer at the end).
  auto bytes(std::size_t n) noexcept -> synack::bytes_view {
    n = n < m_n ? n : m_n;
    synack::bytes_view b{reinterpret_cast<const std::byte*>(m_p), n};
    m_p += n;
    m_n -= n;
    return b;
  }

private:
  const std::uint8_t* m_p;
  std::size_t m_n;
};

} // namespace synack_fuzz

#define SYNACK_FUZZ_CHECK(cond, detail)                                  \
  do {                                                                   \
    if (!(cond)) ::synack_fuzz::fail(__FILE__, __LINE__, #cond, detail); \
  } while (0)

#ifdef SYNACK_FUZZ_REPLAY
#define SYNACK_FUZZ_TARGET(name)                                             \
  static int synack_fuzz_##name(const std::uint8_t* data, std::size_t size); \
  [[maybe_unused]] static const bool synack_fuzz_registered_##name =         \
      ::synack_fuzz::register_target(#name, &synack_fuzz_##name);            \
  static int synack_fuzz_##name(const std::uint8_t* data, std::size_t size)
#else
#define SYNACK_FUZZ_TARGET(name) extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
#endif
