// The example policy of docs/congestion.md ("How to add a congestion policy"), compiled and
// exercised here. The block between the markers must match the document byte for byte; the
// last test case checks that, so the document cannot drift from code that compiles.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>

#include "synack/tcp/connection.hpp"

// [example-begin]
#include <algorithm>
#include <cstddef>
#include <optional>
#include <string_view>

#include "synack/tcp/congestion/controller.hpp"
#include "synack/tcp/policies.hpp"

namespace my {

using synack::duration;
using synack::instant;
using synack::tcp::congestion_config;

// AIMD(1, 0.8): Reno's additive increase, a gentler decrease on loss.
class gentle_aimd {
public:
  explicit gentle_aimd(const congestion_config& c) noexcept
      : m_smss(c.smss), m_iw(c.iw()), m_cwnd(c.iw()), m_max(c.max_cwnd) {}

  // New data ACKed outside recovery: slow start, then one SMSS per cwnd of ACKed bytes.
  void on_ack(instant, std::size_t acked, std::optional<duration>, std::size_t) noexcept {
    if (m_cwnd < m_ssthresh) {
      grow(std::min(acked, 2 * m_smss));
    } else if ((m_acked += acked) >= m_cwnd) {
      m_acked -= m_cwnd;
      grow(m_smss);
    }
  }
  // Loss found by duplicate ACKs or SACK: keep 80% of what was in flight.
  void on_congestion_event(instant, std::size_t in_flight) noexcept {
    m_ssthresh = std::max(in_flight / 5 * 4, 2 * m_smss);
    m_cwnd = m_ssthresh;
    m_acked = 0;
  }
  // NewReno recovery without SACK (the connection calls these; see the hook table).
  void on_recovery_dup_ack(instant) noexcept { grow(m_smss); }
  void on_partial_ack(instant, std::size_t acked) noexcept {
    m_cwnd = std::max(m_cwnd > acked ? m_cwnd - acked : 0, m_smss) + (acked >= m_smss ? m_smss : 0);
  }
  void on_recovery_exit(instant, std::size_t in_flight) noexcept {
    m_cwnd = std::min(m_ssthresh, std::max(in_flight, m_smss) + m_smss);
  }
  // Timeout: RFC 5681's loss window of one segment.
  void on_rto(instant, std::size_t in_flight) noexcept {
    m_ssthresh = std::max(in_flight / 2, 2 * m_smss);
    m_cwnd = m_smss;
    m_acked = 0;
  }
  void on_idle_restart(instant, duration idle, duration rto) noexcept {
    if (idle > rto) m_cwnd = std::min(m_cwnd, m_iw);
  }
  void set_smss(std::size_t smss) noexcept {
    if (smss > 0) m_smss = smss;
  }

  auto cwnd() const noexcept -> std::size_t { return m_cwnd; }
  auto ssthresh() const noexcept -> std::size_t { return m_ssthresh; }
  static constexpr auto name() noexcept -> std::string_view { return "gentle_aimd"; }

private:
  void grow(std::size_t n) noexcept { m_cwnd = std::min(m_cwnd + n, m_max); }

  std::size_t m_smss, m_iw, m_cwnd, m_max;
  std::size_t m_ssthresh = synack::tcp::unlimited_window;
  std::size_t m_acked = 0;
};

// Checked where it is defined: a missing hook is reported by name, here.
static_assert(synack::tcp::check_congestion_controller<gentle_aimd>());

// The one-line change: a policy bundle with the new controller.
struct policies : synack::tcp::default_policies {
  using congestion = gentle_aimd;
};

} // namespace my
// [example-end]

static_assert(synack::tcp::tcp_policies<my::policies>);
static_assert(std::is_same_v<synack::tcp::connection<my::policies>::congestion_type, my::gentle_aimd>);

TEST_SUITE_BEGIN("tcp.congestion.example");

TEST_CASE("the documented example policy behaves as described") {
  synack::tcp::congestion_config c;
  c.smss = 1000;
  my::gentle_aimd g{c};
  const auto now = synack::instant::from_millis(1);
  CHECK(g.name() == "gentle_aimd");
  CHECK(g.cwnd() == 10000);
  g.on_ack(now, 1000, std::nullopt, 0);
  CHECK(g.cwnd() == 11000);
  g.on_congestion_event(now, 10000);
  CHECK(g.ssthresh() == 8000);
  CHECK(g.cwnd() == 8000);
  for (int i = 0; i < 8; ++i) g.on_ack(now, 1000, std::nullopt, 0);
  CHECK(g.cwnd() == 9000);
  g.on_rto(now, 9000);
  CHECK(g.cwnd() == 1000);
  CHECK(g.ssthresh() == 4500);
}

TEST_CASE("docs/congestion.md shows exactly the example compiled here") {
  const std::string self = __FILE__;
  const auto slash = self.rfind("/tests/tcp/");
  if (slash == std::string::npos) {
    MESSAGE("source path not absolute; doc comparison skipped");
    return;
  }
  auto slurp = [](const std::string& path) {
    std::ifstream in{path};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const auto source = slurp(self);
  const auto doc = slurp(self.substr(0, slash) + "/docs/congestion.md");
  REQUIRE_FALSE(doc.empty());
  const std::string begin_marker = "// [example-begin]\n";
  const std::string end_marker = "// [example-end]\n";
  const auto b = source.find(begin_marker);
  const auto e = source.find(end_marker);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  const auto example = source.substr(b + begin_marker.size(), e - b - begin_marker.size());
  CHECK(doc.find(example) != std::string::npos);
}

TEST_SUITE_END();
