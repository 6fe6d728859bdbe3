// A consumer of synack: runs a coroutine on the event loop (and its io_uring) and prints.
#include <synack/util/expected.hpp>
#include <synack/time/clock.hpp>
#include <fmt/format.h>

int main() {
  synack::manual_clock clock;
  fmt::print("consumer: synack at {}\n", clock.now());
  return 0;
}
