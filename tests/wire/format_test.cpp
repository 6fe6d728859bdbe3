// Tests for include/synack/wire/format.hpp: one-line summaries of whole packets for the tracer.
#include <doctest/doctest.h>

#include "captures.hpp"
#include "wire_test_util.hpp"

using namespace synack;
using namespace synack::wire;
using namespace synack::wire::test;

TEST_SUITE_BEGIN("wire.format");

TEST_CASE("packet_summary of captured frames") {
  auto line = [](bytes_view b, link_medium m = link_medium::ethernet) {
    return fmt::format("{}", packet_summary{b, m});
  };
  CHECK(line(bytes_of(captures::arp_request)) ==
        "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP who-has 192.0.2.2 tell 192.0.2.1 (02:00:00:00:00:01)");
  CHECK(line(bytes_of(captures::tcp_syn_ack)) ==
        "02:00:00:00:00:02 > 02:00:00:00:00:01 192.0.2.2:7788 > 192.0.2.1:5000 [S.] seq=2891021631 ack=3488770552 "
        "win=65160 opts=[mss 1460,sackOK,TS val 1234721841 ecr 3823150219,wscale 10] len=0");
  CHECK(line(bytes_of(captures::tcp_fin).subspan(14), link_medium::ip) ==
        "192.0.2.2:7788 > 192.0.2.1:5000 [F.] seq=2891021632 ack=3488770566 win=64 opts=[TS val 1234722141 ecr "
        "3823150319] len=0");
  CHECK(line(bytes_of(captures::icmp_echo_request).subspan(14), link_medium::ip) ==
        "192.0.2.1 > 192.0.2.2 ICMP echo request id=5085 seq=1 len=56");
  CHECK(line(bytes_of(captures::udp).subspan(14), link_medium::ip) ==
        "192.0.2.1 > 192.0.2.2 UDP ttl=64 id=57919 DF len=15");
}

TEST_CASE("packet_summary never fails: it says where parsing stopped") {
  auto line = [](bytes_view b, link_medium m = link_medium::ip) { return fmt::format("{}", packet_summary{b, m}); };
  CHECK(line({}, link_medium::ethernet) == "Ethernet [truncated]");
  CHECK(line({}) == "IPv4 [truncated]");
  auto syn = bytes_of(captures::tcp_syn).subspan(14);
  CHECK(line(syn.first(30)) == "IPv4 [truncated]");
  auto v = to_vec(syn);
  v[36] ^= std::byte{0xff}; // the TCP checksum: not verified in traces
  CHECK(line(v).find("[S] seq=3488770551") != std::string::npos);
  v[40] = std::byte{2};
  v[41] = std::byte{0}; // MSS with length 0
  CHECK(line(v) == "192.0.2.1 > 192.0.2.2 TCP ttl=64 id=57618 DF len=40 [TCP bad option]");
  auto vlan = to_vec(bytes_of(captures::arp_request));
  vlan[12] = std::byte{0x81};
  vlan[13] = std::byte{0x00};
  CHECK(line(vlan, link_medium::ethernet) == "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff 802.1Q [unsupported]");
  auto v6 = to_vec(bytes_of(captures::arp_request));
  v6[12] = std::byte{0x86};
  v6[13] = std::byte{0xdd};
  CHECK(line(v6, link_medium::ethernet) == "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff IPv6 len=28");
}

TEST_SUITE_END();
