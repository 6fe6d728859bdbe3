// tests/core/counted.hpp: an object that counts its constructions and destructions, to
// prove that coroutine frames release what they hold (after cppcoro's test/counted.hpp).
#pragma once

struct counted {
  static inline int constructions = 0;
  static inline int destructions = 0;
  static void reset() { constructions = destructions = 0; }
  static auto alive() -> int { return constructions - destructions; }

  int id = 0;
  counted() { ++constructions; }
  explicit counted(int i) : id(i) { ++constructions; }
  counted(const counted& o) : id(o.id) { ++constructions; }
  counted(counted&& o) noexcept : id(o.id) { ++constructions; }
  auto operator=(const counted&) -> counted& = default;
  auto operator=(counted&&) noexcept -> counted& = default;
  ~counted() { ++destructions; }
};
