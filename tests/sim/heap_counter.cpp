// Counting replacements of the global allocation functions for test_sim (see heap_counter.hpp).
// The other forms (new[], nothrow, aligned-less sized delete) call these by default.
#include "heap_counter.hpp"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<std::int64_t> g_live_bytes{0};
} // namespace

auto operator new(std::size_t n) -> void* {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc{};
  g_live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

auto test_sim::heap_live_bytes() noexcept -> std::int64_t { return g_live_bytes.load(std::memory_order_relaxed); }
