// tests/sim/heap_counter.hpp: the live heap of the test_sim program, in bytes.
//
// heap_counter.cpp replaces the global operator new/delete of this test program (and only of
// this one) with versions that count malloc_usable_size of every live block: everything the
// TCP layers, the simulated wire, the hash tables and the timer heaps allocate goes through
// them. The soak and attack tests read it to show that memory stays bounded. mallinfo2()
// would not work under ASan, whose allocator replaces glibc's (tests/socket does the same).
#pragma once

#include <cstdint>

namespace test_sim {

/// Bytes in live blocks allocated with operator new, now.
auto heap_live_bytes() noexcept -> std::int64_t;

} // namespace test_sim
