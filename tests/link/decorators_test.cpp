// Tests for the link decorators: include/synack/link/tracer.hpp (one line per packet),
// pcap_writer.hpp (the file parsed back), fault_injector.hpp (statistics, reproducibility,
// one-bit corruption), and their composition.
#include <doctest/doctest.h>

#include <unistd.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "packets.hpp"
#include "synack/io/loop.hpp"
#include "synack/link/fault_injector.hpp"
#include "synack/link/pcap_writer.hpp"
#include "synack/link/sim_link.hpp"
#include "synack/link/tracer.hpp"

using namespace synack;
using namespace std::chrono_literals;
using link_test::fake_link;

namespace {

auto echo_request(std::uint16_t seq, std::string_view data = "abcdefgh") -> std::vector<std::byte> {
  std::vector<std::byte> p(link_test::echo_len(as_bytes(data)));
  link_test::write_echo_request(p, link_test::synack_ip, link_test::kernel_ip, 7, seq, as_bytes(data));
  return p;
}

auto fill_with(const std::vector<std::byte>& p) {
  return [&p](bytes_mut b) { std::memcpy(b.data(), p.data(), p.size()); };
}

/// A temporary file name, removed at the end of the scope.
struct temp_path {
  std::string path;
  temp_path() {
    char name[] = "/tmp/synack-link-test-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
  }
  ~temp_path() { std::remove(path.c_str()); }
};

auto read_file(const std::string& path) -> std::vector<std::byte> {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(c.size());
  std::memcpy(b.data(), c.data(), c.size());
  return b;
}

/// A classic pcap file, parsed independently of the writer.
struct pcap_record {
  std::uint32_t sec, usec, incl, orig;
  std::vector<std::byte> data;
};
struct pcap_contents {
  std::uint32_t magic = 0;
  std::uint16_t major = 0, minor = 0;
  std::uint32_t snaplen = 0, linktype = 0;
  std::vector<pcap_record> records;
};
auto parse_pcap(const std::vector<std::byte>& f) -> pcap_contents {
  auto u32 = [&](std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, f.data() + at, 4);
    return v;
  };
  auto u16 = [&](std::size_t at) {
    std::uint16_t v;
    std::memcpy(&v, f.data() + at, 2);
    return v;
  };
  pcap_contents c;
  REQUIRE(f.size() >= 24);
  c.magic = u32(0);
  c.major = u16(4);
  c.minor = u16(6);
  CHECK(u32(8) == 0);
  CHECK(u32(12) == 0);
  c.snaplen = u32(16);
  c.linktype = u32(20);
  std::size_t at = 24;
  while (at < f.size()) {
    REQUIRE(at + 16 <= f.size());
    pcap_record r{u32(at), u32(at + 4), u32(at + 8), u32(at + 12), {}};
    at += 16;
    REQUIRE(at + r.incl <= f.size());
    r.data.assign(f.begin() + static_cast<std::ptrdiff_t>(at), f.begin() + static_cast<std::ptrdiff_t>(at + r.incl));
    at += r.incl;
    c.records.push_back(std::move(r));
  }
  return c;
}

auto bits_different(bytes_view a, bytes_view b) -> int {
  if (a.size() != b.size()) return 1000;
  int n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += std::popcount(std::to_integer<unsigned>(a[i] ^ b[i]));
  return n;
}

} // namespace

static_assert(link::link<link::tracer<fake_link>>);
static_assert(link::link<link::tracer<fake_link&>>);
static_assert(link::link<link::pcap_writer<fake_link>>);
static_assert(link::link<link::fault_injector<fake_link&>>);
static_assert(link::link<link::tracer<link::pcap_writer<link::fault_injector<link::sim_link&>>>>);

namespace {
struct fake_ethernet_link : fake_link {
  auto mac() const noexcept -> wire::mac_address { return {2, 0, 0, 0, 0, 9}; }
};
template <class L>
concept has_mac = requires(const L& l) {
  l.mac();
};
} // namespace
// The MAC address shows through any stack of decorators, and only where the device has one.
static_assert(has_mac<link::tracer<link::pcap_writer<link::fault_injector<fake_ethernet_link>>>>);
static_assert(!has_mac<link::tracer<fake_link>>);

TEST_SUITE_BEGIN("link.decorators");

TEST_CASE("tracer: one line per packet, with the loop's time, the link's name and a summary") {
  sim_loop loop;
  std::vector<std::string> lines;
  link::tracer_options o;
  o.name = "tun0";
  o.clock = &loop;
  o.sink = [&](std::string_view l) { lines.emplace_back(l); };
  link::tracer t(fake_link{}, o);
  link_test::collector got;
  t.start(got.handler());

  const auto req = echo_request(1);
  CHECK(t.transmit(req.size(), fill_with(req)));
  t.inner().inject(req);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "0.000000s tun0 tx 36B 192.0.2.2 > 192.0.2.1 ICMP echo request id=7 seq=1 len=8");
  CHECK(lines[1] == "0.000000s tun0 rx 36B 192.0.2.2 > 192.0.2.1 ICMP echo request id=7 seq=1 len=8");
  CHECK(got.packets.size() == 1); // the handler still gets the packet
  CHECK(t.inner().sent.size() == 1);

  // A refused transmit prints nothing; a malformed packet prints what could be understood.
  t.inner().free = 0;
  CHECK_FALSE(t.transmit(req.size(), fill_with(req)));
  CHECK(lines.size() == 2);
  t.inner().inject(bytes_view{req}.first(10));
  REQUIRE(lines.size() == 3);
  CHECK(lines[2] == "0.000000s tun0 rx 10B IPv4 [truncated]");

  // Ethernet links are summarised from the Ethernet header; rx or tx can be silenced.
  fake_link eth_link;
  eth_link.caps.medium = link::medium::ethernet;
  link::tracer_options eo;
  eo.name = "veth0";
  eo.trace_rx = false;
  eo.sink = [&](std::string_view l) { lines.emplace_back(l); };
  link::tracer te(std::move(eth_link), eo);
  te.start(got.handler());
  std::vector<std::byte> frame(14 + req.size());
  wire::ethernet_frame<bytes_mut> f{frame};
  wire::ethernet_repr{{2, 0, 0, 0, 0, 2}, {2, 0, 0, 0, 0, 1}, wire::ethertype::ipv4}.emit(f);
  std::memcpy(frame.data() + 14, req.data(), req.size());
  te.transmit(frame.size(), fill_with(frame));
  te.inner().inject(frame);
  REQUIRE(lines.size() == 4);
  CHECK(lines[3] ==
        "veth0 tx 50B 02:00:00:00:00:02 > 02:00:00:00:00:01 192.0.2.2 > 192.0.2.1 ICMP echo request id=7 seq=1 len=8");
}

TEST_CASE("decorators forward the device's MAC address") {
  link::tracer t(link::fault_injector(fake_ethernet_link{}));
  CHECK(t.mac() == wire::mac_address{2, 0, 0, 0, 0, 9});
}

TEST_CASE("tracer: writes to a FILE when no sink is given") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  link::tracer_options o;
  o.file = f;
  link::tracer t(fake_link{}, o);
  t.start({});
  const auto req = echo_request(2);
  t.transmit(req.size(), fill_with(req));
  std::rewind(f);
  char buf[256] = {};
  REQUIRE(std::fgets(buf, sizeof buf, f) != nullptr);
  CHECK(std::string(buf) == "link tx 36B 192.0.2.2 > 192.0.2.1 ICMP echo request id=7 seq=2 len=8\n");
  std::fclose(f);
}

TEST_CASE("pcap_writer: a LINKTYPE_RAW file with every packet, both directions, parsed back") {
  sim_loop loop;
  temp_path tmp;
  const auto a = echo_request(1, "first");
  const auto b = echo_request(2, "second packet");
  {
    link::pcap_options o;
    o.timestamps = link::pcap_timestamps::loop;
    o.clock = &loop;
    auto w = link::pcap_writer<fake_link>::open(fake_link{}, tmp.path, o);
    REQUIRE(w);
    w->start({});
    CHECK(w->transmit(a.size(), fill_with(a)));
    loop.clock().advance(1500ms + 250us);
    loop.poll(); // now() follows the clock
    w->inner().inject(b);
    w->flush();
    CHECK(w->file().records() == 2);
    // Flushed: the file is complete while the writer is still open.
    const auto c = parse_pcap(read_file(tmp.path));
    CHECK(c.records.size() == 2);
  }
  const auto c = parse_pcap(read_file(tmp.path));
  CHECK(c.magic == 0xa1b2c3d4);
  CHECK(c.major == 2);
  CHECK(c.minor == 4);
  CHECK(c.snaplen == 65535);
  CHECK(c.linktype == 101);
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[0].sec == 0);
  CHECK(c.records[0].usec == 0);
  CHECK(c.records[0].incl == a.size());
  CHECK(c.records[0].orig == a.size());
  CHECK(c.records[0].data == a);
  CHECK(c.records[1].sec == 1);
  CHECK(c.records[1].usec == 500250);
  CHECK(c.records[1].data == b);
}

TEST_CASE("pcap_writer: Ethernet links get LINKTYPE_ETHERNET; snaplen cuts long packets") {
  temp_path tmp;
  fake_link l;
  l.caps.medium = link::medium::ethernet;
  {
    link::pcap_options o;
    o.snaplen = 20;
    auto w = link::pcap_writer<fake_link&>::open(l, tmp.path, o);
    REQUIRE(w);
    w->start({});
    const std::vector<std::byte> frame(60, std::byte{0xab});
    w->transmit(frame.size(), fill_with(frame));
  }
  const auto c = parse_pcap(read_file(tmp.path));
  CHECK(c.linktype == 1);
  CHECK(c.snaplen == 20);
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0].incl == 20);
  CHECK(c.records[0].orig == 60);
  CHECK(c.records[0].sec > 1'600'000'000u); // wall clock by default
  CHECK(l.sent.size() == 1);
}

TEST_CASE("pcap_writer: an unwritable path is an error code, not an exception") {
  auto w = link::pcap_writer<fake_link>::open(fake_link{}, "/nonexistent-dir/x.pcap");
  REQUIRE_FALSE(w);
  CHECK(w.error() == std::errc::no_such_file_or_directory);
}

TEST_CASE("fault_injector: loss, duplication and one-bit corruption at the configured rates, reproducibly") {
  link::fault_options o;
  o.seed = 99;
  o.tx = {0.10, 0.05, 0.02};
  o.rx = {0.20, 0.10, 0.05};
  const int n = 20000;
  const auto p = echo_request(3, "0123456789abcdef0123456789abcdef");

  auto run = [&](link::fault_injector<fake_link>& f, link_test::collector& got) {
    f.start(got.handler());
    int fills = 0;
    int accepted = 0;
    for (int i = 0; i < n; ++i) {
      accepted += f.transmit(p.size(), [&](bytes_mut b) {
        ++fills;
        std::memcpy(b.data(), p.data(), p.size());
      });
      f.inner().inject(p);
    }
    CHECK(accepted == n);
    CHECK(fills == n); // fill is called for every accepted packet, lost ones included
  };
  link::fault_injector<fake_link> f(fake_link{}, o);
  f.inner().free = 1'000'000;
  link_test::collector got;
  run(f, got);
  const auto& s = f.stats();
  // tx: every packet is counted once as lost, passed, corrupted (single copy) or duplicated.
  CHECK(s.tx.lost > n * 0.08);
  CHECK(s.tx.lost < n * 0.12);
  CHECK(s.tx.duplicated > n * 0.9 * 0.04);
  CHECK(s.tx.duplicated < n * 0.9 * 0.06);
  CHECK(f.inner().sent.size() == n - s.tx.lost + s.tx.duplicated);
  std::uint64_t corrupted = 0, worse = 0;
  for (const auto& frame : f.inner().sent) {
    const int d = bits_different(frame, p);
    worse += d > 1 ? 1 : 0;
    corrupted += d == 1 ? 1 : 0;
  }
  CHECK(worse == 0);
  CHECK(corrupted == s.tx.corrupted);
  CHECK(s.tx.corrupted > static_cast<double>(f.inner().sent.size()) * 0.015);
  CHECK(s.tx.corrupted < static_cast<double>(f.inner().sent.size()) * 0.025);
  // rx
  CHECK(s.rx.lost > n * 0.18);
  CHECK(s.rx.lost < n * 0.22);
  CHECK(got.packets.size() == n - s.rx.lost + s.rx.duplicated);
  corrupted = 0;
  for (const auto& packet : got.packets) {
    const int d = bits_different(packet, p);
    worse += d > 1 ? 1 : 0;
    corrupted += d == 1 ? 1 : 0;
  }
  CHECK(worse == 0);
  CHECK(corrupted == s.rx.corrupted);
  CHECK(s.rx.corrupted > static_cast<double>(got.packets.size()) * 0.04);
  CHECK(s.rx.corrupted < static_cast<double>(got.packets.size()) * 0.06);

  // The same seed gives the same faults.
  link::fault_injector<fake_link> again(fake_link{}, o);
  again.inner().free = 1'000'000;
  link_test::collector got2;
  run(again, got2);
  CHECK(again.stats().tx.lost == s.tx.lost);
  CHECK(again.stats().rx.corrupted == s.rx.corrupted);
  CHECK(again.inner().sent == f.inner().sent);
  CHECK(got2.packets == got.packets);
}

TEST_CASE("fault_injector: no faults configured means every packet passes untouched") {
  link::fault_injector f(fake_link{}, link::fault_options{});
  link_test::collector got;
  f.start(got.handler());
  const auto p = echo_request(4);
  for (int i = 0; i < 100; ++i) {
    f.transmit(p.size(), fill_with(p));
    f.inner().inject(p);
  }
  CHECK(f.stats().tx.passed == 100);
  CHECK(f.stats().rx.passed == 100);
  CHECK(f.inner().sent.size() == 100);
  CHECK(got.packets.size() == 100);
  // A refusal of the inner link is passed on.
  f.inner().free = 0;
  CHECK_FALSE(f.transmit(p.size(), fill_with(p)));
  // The settings of a simulated channel can be reused.
  link::sim_config sc;
  sc.loss = 0.1;
  sc.duplicate = 0.2;
  sc.corrupt = 0.3;
  const auto fc = link::fault_config::from(sc);
  CHECK(fc.loss == 0.1);
  CHECK(fc.duplicate == 0.2);
  CHECK(fc.corrupt == 0.3);
}

TEST_CASE("decorators stack over a sim_link: trace, capture and faults on a simulated wire") {
  sim_loop loop;
  link::sim_link_pair pair(loop);
  temp_path tmp;
  std::vector<std::string> lines;
  link::fault_options fo;
  fo.tx.loss = 0.5;
  fo.seed = 5;
  link::fault_injector<link::sim_link&> faulty(pair.a(), fo);
  auto cap = link::pcap_writer<link::fault_injector<link::sim_link&>&>::open(faulty, tmp.path);
  REQUIRE(cap);
  link::tracer_options to;
  to.sink = [&](std::string_view l) { lines.emplace_back(l); };
  link::tracer traced(*cap, to);
  link_test::collector at_b;
  pair.b().start(at_b.handler());
  traced.start({});
  for (std::uint16_t i = 0; i < 40; ++i) {
    const auto p = echo_request(i);
    traced.transmit(p.size(), fill_with(p));
  }
  traced.flush();
  loop.run();
  CHECK(lines.size() == 40);                              // the tracer sees every packet
  CHECK(cap->file().records() == 40);                     // so does the capture, above the faults
  CHECK(at_b.packets.size() == faulty.stats().tx.passed); // the wire gets what survived
  CHECK(faulty.stats().tx.lost > 10);
}

TEST_SUITE_END();
