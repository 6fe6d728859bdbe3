// A consumer of synack: runs a coroutine on the event loop (its io_uring does a NOP round
// trip and a timer fires), then builds a stack type and checks the API compiles, as a user's
// project would.
#include <synack/synack.hpp>

#include <chrono>

#include <fmt/format.h>

namespace {

auto work(synack::event_loop& loop) -> synack::task<int> {
  auto nop = co_await synack::io::nop(loop);
  if (!nop) co_return 1;
  co_await synack::sleep_for(loop, std::chrono::milliseconds{1});
  co_return 42;
}

} // namespace

int main() {
  synack::event_loop loop;
  const int v = loop.run_until(work(loop));
  // The socket API composes with any link; the type alone proves the headers are complete.
  using net_type = synack::stack<synack::link::tun>;
  static_assert(sizeof(net_type) > 0);
  fmt::print("consumer: synack {}.{}.{} ran a task: {}\n", synack::version_major, synack::version_minor,
             synack::version_patch, v);
  return v == 42 ? 0 : 1;
}
