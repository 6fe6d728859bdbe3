// Tests for include/synack/tcp/congestion/{controller,none,any_controller}.hpp.
#include <doctest/doctest.h>

#include "synack/tcp/congestion/any_controller.hpp"
#include "synack/tcp/congestion/controller.hpp"
#include "synack/tcp/congestion/cubic.hpp"
#include "synack/tcp/congestion/new_reno.hpp"
#include "synack/tcp/congestion/none.hpp"

using namespace std::chrono_literals;
using synack::duration;
using synack::instant;
using namespace synack::tcp;

namespace {

// A policy that forgot on_rto: the concept rejects it and names the member.
struct missing_on_rto {
  explicit missing_on_rto(const congestion_config&) {}
  void on_ack(instant, std::size_t, std::optional<duration>, std::size_t) {}
  void on_congestion_event(instant, std::size_t) {}
  void on_recovery_dup_ack(instant) {}
  void on_partial_ack(instant, std::size_t) {}
  void on_recovery_exit(instant, std::size_t) {}
  void on_idle_restart(instant, duration, duration) {}
  void set_smss(std::size_t) {}
  auto cwnd() const -> std::size_t { return 0; }
  auto ssthresh() const -> std::size_t { return 0; }
  auto name() const -> std::string_view { return "broken"; }
};

// cwnd() returning the wrong type is also caught.
struct wrong_cwnd_type : missing_on_rto {
  using missing_on_rto::missing_on_rto;
  void on_rto(instant, std::size_t) {}
  auto cwnd() const -> int { return 0; }
};

} // namespace

static_assert(congestion_controller<none>);
static_assert(congestion_controller<new_reno>);
static_assert(congestion_controller<cubic>);
static_assert(congestion_controller<any_controller>);
static_assert(!congestion_controller<missing_on_rto>);
static_assert(!detail::cc_has_on_rto<missing_on_rto>);
static_assert(detail::cc_has_on_ack<missing_on_rto>);
static_assert(!congestion_controller<wrong_cwnd_type>);
static_assert(!detail::cc_has_cwnd<wrong_cwnd_type>);
static_assert(!congestion_controller<int>);

TEST_SUITE_BEGIN("tcp.congestion");

TEST_CASE("config: the initial window follows RFC 6928 unless set") {
  congestion_config c;
  CHECK(c.smss == 536);
  CHECK(c.iw() == 5360);
  c.smss = 1460;
  CHECK(c.iw() == 14600);
  c.initial_window = 1460; // e.g. after a lost SYN (RFC 5681 §3.1)
  CHECK(c.iw() == 1460);
  CHECK(c.slow_start_limit == 2);
  CHECK(c.max_cwnd == std::size_t{1} << 30);
}

TEST_CASE("none never limits sending and ignores every event") {
  none n{congestion_config{}};
  const auto now = instant::from_millis(5);
  n.on_ack(now, 1000, 10ms, 0);
  n.on_congestion_event(now, 100000);
  n.on_rto(now, 100000);
  n.on_recovery_dup_ack(now);
  n.on_partial_ack(now, 10);
  n.on_recovery_exit(now, 0);
  n.on_idle_restart(now, 10s, 1s);
  n.set_smss(1460);
  CHECK(n.cwnd() == unlimited_window);
  CHECK(n.ssthresh() == unlimited_window);
  CHECK(n.name() == "none");
}

TEST_CASE("any_controller forwards to the chosen algorithm") {
  congestion_config c;
  c.smss = 1000;
  const auto now = instant::from_millis(5);
  SUBCASE("default is NewReno") {
    any_controller a{c};
    CHECK(a.kind() == congestion_kind::new_reno);
    CHECK(a.name() == "new_reno");
    CHECK(a.cwnd() == 10000);
    a.on_ack(now, 1000, std::nullopt, 0);
    CHECK(a.cwnd() == 11000);
    a.on_congestion_event(now, 11000);
    CHECK(a.ssthresh() == 5500);
    CHECK(a.get_if<new_reno>() != nullptr);
    CHECK(a.get_if<cubic>() == nullptr);
  }
  SUBCASE("cubic") {
    any_controller a{congestion_kind::cubic, c};
    CHECK(a.name() == "cubic");
    a.on_congestion_event(now, 10000);
    CHECK(a.ssthresh() == 7000);
    REQUIRE(a.get_if<cubic>() != nullptr);
    CHECK(*a.get_if<cubic>()->w_max() == 10.0);
    a.on_rto(now, 7000);
    CHECK(a.cwnd() == 1000);
    a.set_smss(500);
    a.on_recovery_dup_ack(now);
    CHECK(a.cwnd() == 1500);
  }
  SUBCASE("none") {
    any_controller a{congestion_kind::none, c};
    CHECK(a.cwnd() == unlimited_window);
    a.on_idle_restart(now, 5s, 1s);
    a.on_partial_ack(now, 5);
    a.on_recovery_exit(now, 5);
    CHECK(a.kind() == congestion_kind::none);
  }
}

TEST_CASE("congestion kinds parse from their names") {
  CHECK(parse_congestion_kind("cubic") == congestion_kind::cubic);
  CHECK(parse_congestion_kind("new_reno") == congestion_kind::new_reno);
  CHECK(parse_congestion_kind("reno") == congestion_kind::new_reno);
  CHECK(parse_congestion_kind("none") == congestion_kind::none);
  CHECK_FALSE(parse_congestion_kind("bbr"));
}

TEST_SUITE_END();
