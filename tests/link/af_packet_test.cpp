// Tests for include/synack/link/af_packet.hpp, with net/ethernet.hpp on top. The root tests
// create two network namespaces joined by a veth pair (tests/link/netns.hpp): synack's end
// (veth0, no kernel address) in the first, the kernel's end (veth1, 192.0.2.1/24) in the
// second. The kernel resolves synack's address with ARP and sends UDP; synack resolves the
// kernel's address and pings it; a pcap of synack's side is read back by tshark.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "loop_util.hpp"
#include "netns.hpp"
#include "packets.hpp"
#include "synack/io/uring.hpp"
#include "synack/link/af_packet.hpp"
#include "synack/link/pcap_writer.hpp"
#include "synack/net/ethernet.hpp"

using namespace synack;
using namespace link_test;

namespace {

struct temp_pcap {
  std::string path = fmt::format("/tmp/synack-af-packet-test-{}.pcap", ::getpid());
  ~temp_pcap() {
    if (std::getenv("SYNACK_KEEP_PCAP") == nullptr) std::remove(path.c_str());
  }
};

/// veth0 (here) <-> veth1 (in `peer`, 192.0.2.1/24), both up, IPv6 off. Returns once the
/// kernel has finished bringing veth1 up: until its link watch has run, veth1 drops what it
/// sends (and the kernel would not resend UDP).
void make_veth(const spare_netns& peer) {
  must(fmt::format("ip link add veth0 type veth peer name veth1 netns {}", peer.path()));
  sh("sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1");
  peer.in("sysctl -qw net.ipv6.conf.veth1.disable_ipv6=1");
  peer.must_in("ip addr add 192.0.2.1/24 dev veth1");
  peer.must_in("ip link set veth1 up");
  must("ip link set veth0 up");
  // Bounded: 100 x 20 ms.
  peer.must_in(
      "sh -c 'for i in $(seq 100); do ip -o link show veth1 | grep -q \"state UP\" && exit 0; "
      "sleep 0.02; done; exit 1'");
}

/// A host on the link: the Ethernet interface and the IPv4 packets it handed up.
struct host {
  event_loop* loop;
  net::ethernet_interface eth;
  std::vector<std::vector<std::byte>> ipv4;
  std::vector<bool> verified; // rx_meta::checksum_verified of each IPv4 packet
  static void rx(void* self, bytes_view frame, const link::rx_meta& meta) {
    auto* h = static_cast<host*>(self);
    auto in = h->eth.receive(h->loop->now(), frame);
    if (auto* p = std::get_if<net::ethernet_ipv4>(&in)) {
      h->ipv4.push_back(vec(p->packet));
      h->verified.push_back(meta.checksum_verified);
    }
  }
  auto udp_count() const -> std::size_t {
    std::size_t n = 0;
    for (const auto& p : ipv4) n += parse_udp(p).has_value() ? 1 : 0;
    return n;
  }
  auto echo_replies() const -> std::vector<icmp_message> {
    std::vector<icmp_message> v;
    for (const auto& p : ipv4)
      if (auto m = parse_icmp(p); m && m->type == wire::icmpv4_type::echo_reply) v.push_back(*m);
    return v;
  }
};

} // namespace

TEST_SUITE_BEGIN("link.af_packet");

TEST_CASE("af_packet (root): ARP both ways, UDP from the kernel, echo requests answered by the kernel") {
  link::rx_mode mode = link::rx_mode::multishot;
  bool bypass = false;
  bool offload = true;
  SUBCASE("multishot read, offload") { mode = link::rx_mode::multishot; }
  SUBCASE("plain reads, qdisc bypass, no offload") {
    mode = link::rx_mode::plain;
    bypass = true;
    offload = false;
  }
  netns_scope ns;
  if (!ns) {
    skip_root_test(ns.error());
    return;
  }
  spare_netns peer;
  make_veth(peer);
  event_loop loop;
  if (mode == link::rx_mode::multishot && !loop.opcode_supported(io::op_read_multishot)) return;

  link::af_packet_options o;
  o.interface = "veth0";
  o.qdisc_bypass = bypass;
  o.offload = offload;
  o.io.rx = mode;
  auto l = link::af_packet::open(loop, o);
  REQUIRE_MESSAGE(l, "af_packet::open: " << (l ? "" : l.error().message()));
  CHECK(l->capabilities().medium == link::medium::ethernet);
  CHECK(l->capabilities().mtu == 1500);
  // PACKET_VNET_HDR, granted by this kernel (6.x): TCP checksums and TSO left to the kernel.
  CHECK(l->offload_active() == offload);
  CHECK(l->capabilities().tx_checksum_offload == offload);
  CHECK(l->capabilities().tso_max == (offload ? 65521u : 0u));
  CHECK(l->active_rx_mode() == mode);
  CHECK(l->mac().is_unicast());

  temp_pcap pcap;
  auto w = link::pcap_writer<link::af_packet&>::open(*l, pcap.path);
  REQUIRE(w);
  net::ethernet_config ec;
  ec.mac = l->mac();
  ec.address = wire::ipv4_cidr{synack_ip, 24};
  ec.arp.announcements = 1;
  host h{&loop, net::ethernet_interface(ec), {}};
  w->start({&host::rx, &h});
  timer_node wake{[](timer_node&) {}};
  each_turn driver(loop, [&] {
    h.eth.poll(loop.now(), *w);
    w->flush();
    if (auto d = h.eth.next_deadline()) loop.arm(wake, std::max(*d, loop.now() + 1ms));
  });

  // Kernel -> synack: the kernel resolves 192.0.2.2 (we answer its ARP request), then sends.
  const int udp = peer.enter([] { return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  REQUIRE(udp >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  to.sin_addr.s_addr = htonl(synack_ip.to_u32());
  for (int i = 0; i < 5; ++i) {
    const auto text = fmt::format("hello {}", i);
    CHECK(::sendto(udp, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
          static_cast<ssize_t>(text.size()));
  }
  const bool udp_arrived = run_until(loop, [&] { return h.udp_count() == 5; });
  if (!udp_arrived) {
    sh("ip -s link show veth0 >&2");
    peer.in("sh -c 'ip -s link show veth1; ip neigh; tc -s qdisc show dev veth1; ip route' >&2");
    net::for_each_counter(h.eth.counters(), [](const char* n, std::uint64_t v) {
      if (v != 0) MESSAGE(std::string(n) << ": " << v);
    });
    link::for_each_counter(l->counters(), [](const char* n, std::uint64_t v) {
      if (v != 0) MESSAGE(std::string(n) << ": " << v);
    });
  }
  REQUIRE(udp_arrived);
  ::close(udp);
  int i = 0;
  for (std::size_t k = 0; k < h.ipv4.size(); ++k) {
    if (auto d = parse_udp(h.ipv4[k])) {
      CHECK(d->payload == fmt::format("hello {}", i++));
      // veth: the kernel left the UDP checksum to "hardware" (CHECKSUM_PARTIAL); AF_PACKET says so.
      CHECK(h.verified[k]);
    }
  }
  CHECK(h.eth.counters().arp_rx_requests >= 1);
  // RFC 826: its request taught us the kernel's address.
  CHECK(h.eth.lookup(kernel_ip).has_value());

  // Synack -> kernel: echo requests through the ARP cache; the kernel answers.
  const std::string data = "synack af_packet test";
  for (std::uint16_t seq = 1; seq <= 3; ++seq) {
    CHECK(h.eth.send_ipv4(
        loop.now(), kernel_ip, echo_len(as_bytes(data)),
        [&](bytes_mut b) { write_echo_request(b, synack_ip, kernel_ip, 0x77, seq, as_bytes(data)); }, *w));
  }
  REQUIRE(run_until(loop, [&] { return h.echo_replies().size() == 3; }));
  std::uint16_t seq = 1;
  for (const auto& r : h.echo_replies()) {
    CHECK(r.src == kernel_ip);
    CHECK(r.ident == 0x77);
    CHECK(r.seq == seq++);
    CHECK(r.data == data);
  }
  CHECK(h.eth.counters().arp_tx_replies >= 1);
  CHECK(peer.in(fmt::format("ip neigh show 192.0.2.2 dev veth1 | grep -q -i {}", l->mac())) == 0);
  CHECK(l->counters().tx_errors == 0);
  CHECK_MESSAGE(l->counters().rx_errors == 0, "last receive error: " << std::string(std::strerror(l->last_rx_errno())));
  CHECK(l->kernel_stats().drops == 0);
  CHECK(h.eth.counters().arp_tx_announcements == 1);

  w->stop();
  loop.disarm(wake);
  CHECK(run_until(loop, [&] { return !l->busy(); }));
  // What synack sent: the announcement, the ARP reply, 3 echo requests (the kernel's UDP shows
  // partial checksums, as it would in tcpdump on veth0).
  check_with_tshark(pcap.path, 5, fmt::format("eth.src == {}", l->mac()));
}

TEST_CASE("af_packet (root): our own MAC address puts the interface in promiscuous mode") {
  netns_scope ns;
  if (!ns) {
    skip_root_test(ns.error());
    return;
  }
  spare_netns peer;
  make_veth(peer);
  event_loop loop;
  link::af_packet_options o;
  o.interface = "veth0";
  o.mac = wire::mac_address{0x02, 0x53, 0x59, 0x4e, 0x41, 0x4b};
  auto l = link::af_packet::open(loop, o);
  REQUIRE(l);
  CHECK(l->mac() == *o.mac);
  CHECK(sh("ip -d link show veth0 | grep -q 'promiscuity 1'") == 0);
  net::ethernet_config ec;
  ec.mac = l->mac();
  ec.address = wire::ipv4_cidr{synack_ip, 24};
  host h{&loop, net::ethernet_interface(ec), {}};
  l->start({&host::rx, &h});
  each_turn driver(loop, [&] {
    h.eth.poll(loop.now(), *l);
    l->flush();
  });
  // The kernel pings us: the ARP reply carries our chosen MAC, and frames to it reach us.
  const pid_t ping = ::fork();
  REQUIRE(ping >= 0);
  if (ping == 0) {
    const int r = peer.in("ping -c 2 -i 0.2 -W 1 -q 192.0.2.2 >/dev/null");
    ::_exit(r);
  }
  // Nobody answers the pings (no IPv4 layer here): wait for the two requests.
  auto echo_requests = [&] {
    std::size_t n = 0;
    for (const auto& p : h.ipv4)
      if (auto m = parse_icmp(p); m && m->type == wire::icmpv4_type::echo_request) ++n;
    return n;
  };
  CHECK(run_until(loop, [&] { return echo_requests() == 2; }));
  int status = 0;
  ::waitpid(ping, &status, 0);
  CHECK(peer.in(fmt::format("ip neigh show 192.0.2.2 dev veth1 | grep -q -i {}", l->mac())) == 0);
  l->stop();
  run_until(loop, [&] { return !l->busy(); });
}

TEST_CASE("af_packet (root): errors") {
  netns_scope ns;
  if (!ns) {
    skip_root_test(ns.error());
    return;
  }
  event_loop loop;
  SUBCASE("no such interface") {
    link::af_packet_options o;
    o.interface = "nosuch0";
    auto l = link::af_packet::open(loop, o);
    REQUIRE_FALSE(l);
    CHECK(l.error() == link::link_errc::interface_not_found);
  }
  SUBCASE("not an Ethernet interface (loopback)") {
    link::af_packet_options o;
    o.interface = "lo";
    auto l = link::af_packet::open(loop, o);
    REQUIRE_FALSE(l);
    CHECK(l.error() == link::link_errc::wrong_device_type);
  }
  SUBCASE("without CAP_NET_RAW") {
    spare_netns peer;
    make_veth(peer);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
      event_loop child_loop;
      link::af_packet_options o;
      o.interface = "veth0";
      auto l = link::af_packet::open(child_loop, o);
      ::_exit(!l && l.error() == link::link_errc::not_permitted ? 0 : 1);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 2) {
      MESSAGE("cannot become an unprivileged user here (a user namespace maps only root): not checked");
    } else {
      CHECK(WEXITSTATUS(status) == 0);
    }
  }
}

TEST_SUITE_END();
