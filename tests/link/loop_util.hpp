// tests/link/loop_util.hpp: driving a real event loop in the link tests: run until a condition
// holds or a time limit passes (never hangs: a timer bounds every wait), a turn hook from a
// lambda (what the stack does each turn: poll, flush), and a pcap check with tshark.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <string>

#include <fmt/format.h>

#include "netns.hpp"
#include "synack/io/loop.hpp"

namespace link_test {

using namespace std::chrono_literals;

/// Runs `loop` until pred() or `limit` of real time has passed; returns pred().
template <class P>
auto run_until(synack::event_loop& loop, P&& pred, synack::duration limit = 5s) -> bool {
  synack::timer_node bound{[](synack::timer_node&) {}};
  const synack::instant end = loop.clock().now() + limit;
  loop.arm(bound, end);
  while (!pred() && loop.clock().now() < end) loop.run_once();
  loop.disarm(bound);
  return pred();
}

/// Calls f() once per loop turn while alive.
class each_turn {
public:
  each_turn(synack::event_loop_base& loop, std::function<void()> f) : m_hook(this), m_f(std::move(f)) {
    loop.add_turn_hook(m_hook);
  }
  each_turn(const each_turn&) = delete;
  auto operator=(const each_turn&) -> each_turn& = delete;

private:
  struct hook : synack::turn_hook {
    explicit hook(each_turn* o) : turn_hook(&run), owner(o) {}
    static void run(synack::turn_hook& h) { static_cast<hook&>(h).owner->m_f(); }
    each_turn* owner;
  };
  hook m_hook;
  std::function<void()> m_f;
};

/// Reads `pcap` with tshark (checksums verified) and checks that it has at least `min_packets`
/// packets (those matching the display filter `filter`, if given) and no malformed packet or
/// bad checksum. Returns false (with a message) if tshark is not installed.
inline auto check_with_tshark(const std::string& pcap, std::size_t min_packets, const std::string& filter = {})
    -> bool {
  if (!have_program("tshark")) {
    MESSAGE("tshark is not installed: the pcap file was not checked with it");
    return false;
  }
  std::string opts = "-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE";
  if (!filter.empty()) opts += fmt::format(" -Y '{}'", filter);
  const std::string count_cmd = fmt::format("tshark -r {} {} 2>/dev/null | wc -l", pcap, opts);
  std::FILE* p = ::popen(count_cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  unsigned long lines = 0;
  CHECK(std::fscanf(p, "%lu", &lines) == 1);
  ::pclose(p);
  CHECK(lines >= min_packets);
  const std::string bad = fmt::format(
      "tshark -r {} {} -V 2>&1 | grep -E -i 'malformed|\\[incorrect|Checksum Status: Bad|Expert Info \\(Error'", pcap,
      opts);
  INFO("tshark check (must find nothing): " << bad);
  CHECK(sh(bad + " >&2") != 0); // grep finds nothing
  return true;
}

} // namespace link_test
