// Tests for include/synack/wire/ethernet.hpp and include/synack/wire/arp.hpp.
#include <doctest/doctest.h>

#include "captures.hpp"
#include "wire_test_util.hpp"

using namespace synack;
using namespace synack::wire;
using namespace synack::wire::test;

namespace {
const mac_address mac_a{0x02, 0, 0, 0, 0, 0x01};
const mac_address mac_b{0x02, 0, 0, 0, 0, 0x02};
const ipv4_address ip_a{192, 0, 2, 1};
const ipv4_address ip_b{192, 0, 2, 2};
} // namespace

TEST_SUITE_BEGIN("wire.ethernet");

TEST_CASE("Ethernet II header of a captured frame") {
  auto f = ethernet_frame<bytes_view>::checked(bytes_of(captures::tcp_syn));
  REQUIRE(f);
  CHECK(f->dst() == mac_b);
  CHECK(f->src() == mac_a);
  CHECK(f->ethertype() == ethertype::ipv4);
  CHECK(f->payload().size() == sizeof captures::tcp_syn - 14);
  auto r = ethernet_repr::parse(*f);
  REQUIRE(r);
  CHECK(*r == ethernet_repr{mac_a, mac_b, ethertype::ipv4});
  std::vector<std::byte> out(14);
  ethernet_frame<bytes_mut> o{out};
  r->emit(o);
  CHECK(same(out, bytes_of(captures::tcp_syn).first(14)));
}

TEST_CASE("Ethernet: truncations, 802.1Q, 802.3 length frames") {
  auto frame = bytes_of(captures::arp_request);
  for (std::size_t n = 0; n < 14; ++n) {
    auto f = ethernet_frame<bytes_view>::checked(frame.first(n));
    REQUIRE_FALSE(f);
    CHECK(f.error() == wire_error::truncated);
    CHECK(ethernet_repr::parse(ethernet_frame<bytes_view>{frame.first(n)}).error() == wire_error::truncated);
  }
  CHECK(ethernet_frame<bytes_view>::checked(frame.first(14))); // an empty payload is a frame
  auto v = to_vec(frame);
  ethernet_frame<bytes_mut> f{v};
  for (std::uint16_t t : std::initializer_list<std::uint16_t>{0x8100, 0x88a8, 0x0000, 0x05dc, 0x05ff}) {
    f.set_ethertype(static_cast<ethertype>(t));
    auto r = ethernet_repr::parse(f);
    REQUIRE_FALSE(r);
    CHECK(r.error() == wire_error::unsupported);
  }
  f.set_ethertype(ethertype::ipv6); // parsed (the layer above decides), not ours to reject
  CHECK(ethernet_repr::parse(f));
  f.set_ethertype(static_cast<ethertype>(0x0600));
  CHECK(ethernet_repr::parse(f));
}

TEST_CASE("ethertype formatting") {
  CHECK(fmt::format("{}", ethertype::arp) == "ARP");
  CHECK(fmt::format("{}", static_cast<ethertype>(0x88cc)) == "0x88cc");
  CHECK(fmt::format("{}", ethernet_repr{mac_a, mac_address::broadcast(), ethertype::arp}) ==
        "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP");
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("wire.arp");

TEST_CASE("captured ARP request and reply parse and re-emit byte for byte") {
  struct vec {
    bytes_view frame;
    arp_repr want;
  };
  for (auto [frame, want] :
       {vec{bytes_of(captures::arp_request), arp_repr{arp_operation::request, mac_a, ip_a, {}, ip_b}},
        vec{bytes_of(captures::arp_reply), arp_repr{arp_operation::reply, mac_b, ip_b, mac_a, ip_a}}}) {
    parsed p;
    REQUIRE(parse_frame(frame, p));
    REQUIRE(p.arp);
    CHECK(*p.arp == want);
    CHECK(p.eth->ethertype == ethertype::arp);
    CHECK(same(emit(p, true), frame));
    auto a = arp_packet<bytes_view>::checked(frame.subspan(14));
    REQUIRE(a);
    CHECK(a->htype() == 1);
    CHECK(a->ptype() == 0x0800);
    CHECK(a->hlen() == 6);
    CHECK(a->plen() == 4);
  }
}

TEST_CASE("ARP in a frame padded to the 60-byte minimum") {
  auto v = to_vec(bytes_of(captures::arp_reply));
  v.resize(ethernet_min_frame_len); // zeros, as a NIC pads
  parsed p;
  REQUIRE(parse_frame(v, p));
  CHECK(p.arp->target_mac == mac_a);
}

TEST_CASE("ARP: every truncation is `truncated`") {
  for (auto frame : {bytes_of(captures::arp_request), bytes_of(captures::arp_reply)}) {
    auto arp = frame.subspan(14);
    for (std::size_t n = 0; n < arp.size(); ++n) {
      auto a = arp_packet<bytes_view>::checked(arp.first(n));
      REQUIRE_FALSE(a);
      CHECK(a.error() == wire_error::truncated);
      CHECK(arp_repr::parse(arp_packet<bytes_view>{arp.first(n)}).error() == wire_error::truncated);
    }
    for (std::size_t n = 0; n < frame.size(); ++n) {
      parsed p;
      auto r = parse_frame(frame.first(n), p);
      REQUIRE_FALSE(r);
      CHECK(r.error() == wire_error::truncated);
    }
  }
}

TEST_CASE("ARP: other hardware/protocol types and operations are unsupported") {
  auto base = to_vec(bytes_of(captures::arp_request).subspan(14));
  auto check = [](std::vector<std::byte> v) {
    auto r = arp_repr::parse(arp_packet<bytes_view>{v});
    REQUIRE_FALSE(r);
    CHECK(r.error() == wire_error::unsupported);
    CHECK(arp_packet<bytes_view>::checked(v).error() == wire_error::unsupported);
  };
  auto v = base;
  arp_packet<bytes_mut> a{v};
  SUBCASE("htype 6 (IEEE 802)") {
    a.set_htype(6);
    check(v);
  }
  SUBCASE("ptype IPv6") {
    a.set_ptype(0x86dd);
    check(v);
  }
  SUBCASE("hlen 8") {
    a.set_hlen(8);
    check(v);
  }
  SUBCASE("plen 16") {
    a.set_plen(16);
    check(v);
  }
  SUBCASE("short packet of another type is unsupported, not truncated") {
    a.set_htype(0x0020);
    v.resize(8);
    check(v);
  }
  SUBCASE("RARP and other operations") {
    for (std::uint16_t op : std::initializer_list<std::uint16_t>{0, 3, 4, 8, 0xffff}) {
      a.set_operation(static_cast<arp_operation>(op));
      auto r = arp_repr::parse(arp_packet<bytes_view>{v});
      REQUIRE_FALSE(r);
      CHECK(r.error() == wire_error::unsupported);
      CHECK(arp_packet<bytes_view>::checked(v)); // the view itself is fine
    }
  }
}

TEST_CASE("arp_repr emits a request Linux would send") {
  arp_repr r{arp_operation::request, mac_a, ip_a, {}, ip_b};
  std::vector<std::byte> buf(14 + arp_repr::buffer_len());
  ethernet_frame<bytes_mut> f{buf};
  ethernet_repr{mac_a, mac_address::broadcast(), ethertype::arp}.emit(f);
  arp_packet<bytes_mut> a{f.payload()};
  r.emit(a);
  CHECK(same(buf, bytes_of(captures::arp_request)));
  CHECK(fmt::format("{}", r) == "ARP who-has 192.0.2.2 tell 192.0.2.1 (02:00:00:00:00:01)");
  CHECK(fmt::format("{}", arp_repr{arp_operation::reply, mac_b, ip_b, mac_a, ip_a}) ==
        "ARP 192.0.2.2 is-at 02:00:00:00:00:02 to 192.0.2.1 (02:00:00:00:00:01)");
}

TEST_SUITE_END();
