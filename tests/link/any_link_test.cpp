// link::any_link: a link chosen at run time, forwarding everything to the link it owns.
#include <doctest/doctest.h>

#include <vector>

#include "synack/core/sleep.hpp"
#include "synack/io/loop.hpp"
#include "synack/link/any_link.hpp"
#include "synack/link/sim_link.hpp"
#include "synack/link/tracer.hpp"

using namespace synack;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("link.any_link");

TEST_CASE("any_link forwards capabilities, receive, transmit and mac") {
  sim_loop loop;
  link::sim_link_pair pair{loop, link::sim_config{.delay = 1ms}, link::medium::ethernet};
  std::vector<std::string> lines;
  link::tracer_options t;
  t.sink = [&](std::string_view l) { lines.emplace_back(l); };
  link::any_link a{link::tracer<link::sim_link&>{pair.a(), t}};
  link::any_link b{pair.b()};
  CHECK(a.capabilities().medium == link::medium::ethernet);
  CHECK(a.mac() == wire::mac_address{}); // sim_link has no MAC of its own
  std::vector<std::string> got;
  b.start(link::rx_handler{[](void* ctx, bytes_view p, const link::rx_meta&) {
                             static_cast<std::vector<std::string>*>(ctx)->emplace_back(as_chars(p));
                           },
                           &got});
  a.start(link::rx_handler{});
  const std::string frame(64, 'f');
  CHECK(a.transmit(frame.size(), [&](bytes_mut buf) { std::memcpy(buf.data(), frame.data(), frame.size()); }));
  a.flush();
  loop.run_until(sleep_for(loop, 2ms));
  REQUIRE(got.size() == 1);
  CHECK(got[0] == frame);
  CHECK(lines.size() == 1); // the tracer inside saw the transmit
  a.stop();
  b.stop();
}

TEST_SUITE_END();
