// Tests for include/synack/wire/ipv4.hpp.
#include <doctest/doctest.h>

#include "captures.hpp"
#include "wire_test_util.hpp"

using namespace synack;
using namespace synack::wire;
using namespace synack::wire::test;

namespace {
const ipv4_address ip_a{192, 0, 2, 1};
const ipv4_address ip_b{192, 0, 2, 2};

auto ip_of(bytes_view frame) -> bytes_view { return frame.subspan(14); }

/// Rewrites a header's checksum after a test changed it.
void refill(std::vector<std::byte>& v) {
  ipv4_packet<bytes_mut> p{v};
  p.fill_checksum();
}
} // namespace

TEST_SUITE_BEGIN("wire.ipv4");

TEST_CASE("IPv4 header of a captured SYN: fields as tshark shows them") {
  auto p = ipv4_packet<bytes_view>::checked(ip_of(bytes_of(captures::tcp_syn)));
  REQUIRE(p);
  CHECK(p->version() == 4);
  CHECK(p->header_len() == 20);
  CHECK(p->total_len() == 60);
  CHECK(p->ident() == 0xe112);
  CHECK(p->dont_fragment());
  CHECK_FALSE(p->more_fragments());
  CHECK(p->fragment_offset() == 0);
  CHECK(p->ttl() == 64);
  CHECK(p->protocol() == ip_protocol::tcp);
  CHECK(p->checksum() == 0xd5a5);
  CHECK(p->src() == ip_a);
  CHECK(p->dst() == ip_b);
  CHECK(p->options().empty());
  CHECK(p->payload().size() == 40);
  CHECK(p->verify_checksum());
  auto r = ipv4_repr::parse(*p);
  REQUIRE(r);
  ipv4_repr want;
  want.src = ip_a;
  want.dst = ip_b;
  want.protocol = ip_protocol::tcp;
  want.ttl = 64;
  want.payload_len = 40;
  want.ident = 0xe112;
  want.dont_fragment = true;
  CHECK(*r == want);
  CHECK(fmt::format("{}", *r) == "192.0.2.1 > 192.0.2.2 TCP ttl=64 id=57618 DF len=40");
}

TEST_CASE("IPv4 headers of every captured packet re-emit byte for byte") {
  for (auto frame :
       {bytes_of(captures::tcp_syn), bytes_of(captures::tcp_syn_ack), bytes_of(captures::tcp_data),
        bytes_of(captures::tcp_fin), bytes_of(captures::tcp_rst), bytes_of(captures::udp),
        bytes_of(captures::icmp_port_unreachable), bytes_of(captures::icmp_echo_request),
        bytes_of(captures::icmp_echo_reply), bytes_of(captures::icmp_echo_ttl1), bytes_of(captures::icmp_time_exceeded),
        bytes_of(captures::lo_rst), bytes_of(captures::lo_echo_reply)}) {
    auto ip = ip_of(frame);
    auto p = ipv4_packet<bytes_view>::checked(ip);
    REQUIRE(p);
    auto r = ipv4_repr::parse(*p);
    REQUIRE(r);
    CHECK(r->buffer_len() == ip.size());
    std::vector<std::byte> out(r->buffer_len());
    ipv4_packet<bytes_mut> o{out};
    r->emit(o);
    CHECK(same(bytes_view{out}.first(20), ip.first(20)));
  }
}

TEST_CASE("IPv4: DSCP/ECN, DF unset, TTL 1 from the captures") {
  auto unreachable = ipv4_repr::parse(ipv4_packet<bytes_view>{ip_of(bytes_of(captures::icmp_port_unreachable))});
  REQUIRE(unreachable);
  CHECK(unreachable->dscp_ecn == 0xc0); // Linux sends ICMP errors with precedence "internetwork control"
  CHECK_FALSE(unreachable->dont_fragment);
  auto ttl1 = ipv4_repr::parse(ipv4_packet<bytes_view>{ip_of(bytes_of(captures::icmp_echo_ttl1))});
  REQUIRE(ttl1);
  CHECK(ttl1->ttl == 1);
  CHECK(ttl1->dst == ipv4_address{198, 51, 100, 1});
}

TEST_CASE("IPv4: Ethernet padding after total length is ignored") {
  auto v = to_vec(ip_of(bytes_of(captures::tcp_rst))); // 40 bytes, a frame of 54: NICs pad to 60
  v.resize(v.size() + 6);
  auto p = ipv4_packet<bytes_view>::checked(v);
  REQUIRE(p);
  CHECK(p->payload().size() == 20);
  parsed out;
  REQUIRE(parse_ip(v, out));
  CHECK(out.tcp->payload.empty());
}

TEST_CASE("IPv4: every truncation of every captured packet is `truncated`") {
  for (auto frame :
       {bytes_of(captures::tcp_syn), bytes_of(captures::tcp_data), bytes_of(captures::tcp_rst),
        bytes_of(captures::icmp_echo_request), bytes_of(captures::icmp_time_exceeded), bytes_of(captures::udp)}) {
    auto ip = ip_of(frame);
    for (std::size_t n = 0; n < ip.size(); ++n) {
      auto p = ipv4_packet<bytes_view>::checked(ip.first(n));
      REQUIRE_FALSE(p);
      CHECK(p.error() == wire_error::truncated);
      // parse() re-checks the length itself: an unchecked view is safe too.
      auto r = ipv4_repr::parse(ipv4_packet<bytes_view>{ip.first(n)});
      REQUIRE_FALSE(r);
      CHECK(r.error() == wire_error::truncated);
    }
  }
}

TEST_CASE("IPv4: each inconsistency has its own error") {
  auto base = to_vec(ip_of(bytes_of(captures::tcp_data)));
  auto v = base;
  ipv4_packet<bytes_mut> p{v};
  auto err = [&]() {
    auto r = ipv4_repr::parse(ipv4_packet<bytes_view>{v});
    REQUIRE_FALSE(r);
    return r.error();
  };
  SUBCASE("version 6") {
    p.set_version(6);
    refill(v);
    CHECK(err() == wire_error::bad_version);
  }
  SUBCASE("version 0") {
    p.set_version(0);
    CHECK(err() == wire_error::bad_version);
  }
  SUBCASE("IHL 0..4") {
    for (std::size_t ihl = 0; ihl < 5; ++ihl) {
      p.set_header_len(ihl * 4);
      CHECK(err() == wire_error::bad_header_len);
    }
  }
  SUBCASE("IHL beyond the buffer") {
    v.resize(24);
    p = ipv4_packet<bytes_mut>{v};
    p.set_header_len(28);
    CHECK(err() == wire_error::truncated);
  }
  SUBCASE("total length below the header length") {
    for (std::uint16_t t : std::initializer_list<std::uint16_t>{0, 1, 19}) {
      p.set_total_len(t);
      refill(v);
      CHECK(err() == wire_error::bad_total_len);
    }
    p.set_header_len(24);
    p.set_total_len(20);
    CHECK(err() == wire_error::bad_total_len);
  }
  SUBCASE("total length beyond the buffer") {
    p.set_total_len(static_cast<std::uint16_t>(v.size() + 1));
    refill(v);
    CHECK(err() == wire_error::truncated);
    p.set_total_len(0xffff);
    CHECK(err() == wire_error::truncated);
  }
  SUBCASE("header checksum") {
    for (std::size_t i = 0; i < 20; ++i) {
      auto w = base;
      w[i] ^= std::byte{0x01};
      auto r = ipv4_repr::parse(ipv4_packet<bytes_view>{w});
      REQUIRE_FALSE(r);
      // Flipping a bit in version/IHL or the lengths trips the length checks first.
      if (i == 0 || i == 2 || i == 3)
        CHECK(r.error() != wire_error::bad_checksum);
      else
        CHECK(r.error() == wire_error::bad_checksum);
    }
    v[10] ^= std::byte{0xff};
    CHECK(err() == wire_error::bad_checksum);
    CHECK(ipv4_repr::parse(ipv4_packet<bytes_view>{v}, checksum_check::skip)); // offload: trust the device
  }
  SUBCASE("payload bytes are not covered by the header checksum") {
    v.back() ^= std::byte{0xff};
    CHECK(ipv4_repr::parse(ipv4_packet<bytes_view>{v}));
  }
  SUBCASE("fragment reaching past 65535 (ping of death)") {
    p.set_flags_frag(false, false, 65528); // offset 8191 * 8
    refill(v);
    CHECK(err() == wire_error::bad_fragment);
    p.set_flags_frag(false, true, static_cast<std::uint16_t>(65535 - v.size() + 1 + 7) & ~7);
    refill(v);
    CHECK(err() == wire_error::bad_fragment);
    p.set_flags_frag(false, true, static_cast<std::uint16_t>((65535 - v.size()) & ~7u));
    refill(v);
    auto r = ipv4_repr::parse(ipv4_packet<bytes_view>{v});
    REQUIRE(r);
    CHECK(r->more_fragments);
    CHECK(r->is_fragment());
    CHECK(r->fragment_offset == ((65535 - v.size()) & ~7u));
  }
}

namespace {
/// The captured data segment with `options` (a multiple of 4 bytes) inserted after its fixed
/// header: IHL, total length and checksum rewritten.
auto with_options(const std::vector<std::uint8_t>& options) -> std::vector<std::byte> {
  auto base = ip_of(bytes_of(captures::tcp_data));
  std::vector<std::byte> v(base.begin(), base.begin() + 20);
  for (std::uint8_t b : options) v.push_back(std::byte{b});
  v.insert(v.end(), base.begin() + 20, base.end());
  ipv4_packet<bytes_mut> p{v};
  p.set_header_len(20 + options.size());
  p.set_total_len(static_cast<std::uint16_t>(v.size()));
  refill(v);
  return v;
}
} // namespace

TEST_CASE("IPv4: well-formed options are skipped by IHL, never interpreted") {
  auto base = ip_of(bytes_of(captures::tcp_data));
  // RFC 791 §3.1: one octet for EOL (0) and NOP (1); every other option is type, length
  // (counting both), data. What follows an EOL is padding.
  const std::vector<std::pair<const char*, std::vector<std::uint8_t>>> good = {
      {"NOPs and an EOL", {0x01, 0x01, 0x01, 0x00}},
      {"EOL then anything (padding)", {0x00, 0xff, 0x00, 0x05}},
      {"Router Alert (RFC 2113)", {0x94, 0x04, 0x00, 0x00}},
      {"record route, one empty slot", {0x07, 0x07, 0x04, 0, 0, 0, 0, 0x00}},
      {"record route, full (pointer past the length)", {0x07, 0x07, 0x08, 1, 2, 3, 4, 0x00}},
      {"timestamp, one empty slot", {0x44, 0x08, 0x05, 0x00, 0, 0, 0, 0}},
      {"loose source route", {0x83, 0x07, 0x04, 192, 0, 2, 9, 0x01}},
      {"unknown kind, length 2", {0x99, 0x02, 0x01, 0x00}},
      {"unknown kind filling the options exactly", {0x99, 0x04, 0xaa, 0xbb}},
      {"Router Alert, NOP, unknown, EOL", {0x94, 0x04, 0x00, 0x00, 0x01, 0x99, 0x02, 0x00}},
  };
  for (const auto& [name, options] : good) {
    CAPTURE(name);
    auto v = with_options(options);
    auto c = ipv4_packet<bytes_view>::checked(v);
    REQUIRE(c);
    CHECK(c->options().size() == options.size());
    CHECK_FALSE(c->bad_option_octet());
    CHECK(same(c->payload(), base.subspan(20)));
    parsed out;
    REQUIRE(parse_ip(v, out));
    CHECK(out.ip->payload_len == base.size() - 20);
    CHECK(out.tcp->payload.size() == 14);
    // The emitted header has no options: the round trip goes back to the captured packet.
    CHECK(same(emit(out, false), base));
  }
  // Maximum IHL (60 bytes of header, 40 of options: zeros, an EOL and its padding) with every
  // truncation of it; and one option of 40 bytes.
  std::vector<std::byte> big(60 + 4);
  ipv4_packet<bytes_mut> b{big};
  ipv4_repr r{ip_a, ip_b, ip_protocol::udp, 64, 4};
  r.emit(b);
  b.set_header_len(60);
  b.set_total_len(64);
  b.fill_checksum();
  REQUIRE(ipv4_repr::parse(ipv4_packet<bytes_view>{big}));
  for (std::size_t n = 0; n < big.size(); ++n)
    CHECK(ipv4_packet<bytes_view>::checked(bytes_view{big}.first(n)).error() == wire_error::truncated);
  big[20] = std::byte{0x99};
  big[21] = std::byte{40};
  b.fill_checksum();
  CHECK(ipv4_repr::parse(ipv4_packet<bytes_view>{big}));
  big[21] = std::byte{41};
  b.fill_checksum();
  CHECK(ipv4_repr::parse(ipv4_packet<bytes_view>{big}).error() == wire_error::bad_option);
}

TEST_CASE("IPv4: a malformed option is `bad_option`, and the bad octet is found (RFC 1122 §3.2.1.8, RFC 792)") {
  // The offset is from the start of the header: what an ICMP parameter problem points at.
  struct bad_case {
    const char* name;
    std::vector<std::uint8_t> options;
    std::size_t octet;
  };
  const std::vector<bad_case> bad = {
      {"length 0", {0x99, 0x00, 0x00, 0x00}, 21},
      {"length 1", {0x01, 0x99, 0x01, 0x00}, 22},
      {"length 0 after a good option", {0x94, 0x04, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00}, 25},
      {"length past the header", {0x99, 0x05, 0x00, 0x00}, 21},
      {"length far past the header", {0x01, 0x99, 0xff, 0x00}, 22},
      {"no room for the length octet", {0x01, 0x01, 0x01, 0x99}, 23},
      {"record route without a pointer (length 2)", {0x07, 0x02, 0x00, 0x00}, 21},
      {"record route, pointer 3 (RFC 791: the smallest legal value is 4)", {0x07, 0x07, 0x03, 0, 0, 0, 0, 0}, 22},
      {"strict source route, pointer 0", {0x89, 0x07, 0x00, 0, 0, 0, 0, 0}, 22},
      {"timestamp, length 3", {0x44, 0x03, 0x05, 0x00}, 21},
      {"timestamp, pointer 4 (the smallest legal value is 5)", {0x44, 0x08, 0x04, 0x00, 0, 0, 0, 0}, 22},
  };
  for (const auto& [name, options, octet] : bad) {
    CAPTURE(name);
    auto v = with_options(options);
    auto c = ipv4_packet<bytes_view>::checked(v);
    REQUIRE(c); // the lengths are consistent: only the options are wrong
    CHECK(c->bad_option_octet() == std::optional<std::size_t>{octet});
    auto r = ipv4_repr::parse(*c);
    REQUIRE_FALSE(r);
    CHECK(r.error() == wire_error::bad_option);
    // The header checksum is checked first: a damaged header is a checksum error.
    v[10] ^= std::byte{0x01};
    CHECK(ipv4_repr::parse(ipv4_packet<bytes_view>{v}).error() == wire_error::bad_checksum);
    CHECK(ipv4_repr::parse(ipv4_packet<bytes_view>{v}, checksum_check::skip).error() == wire_error::bad_option);
  }
  // The walker alone, on option bytes (offsets from the first option octet).
  CHECK_FALSE(find_bad_ipv4_option(bytes_view{}));
  CHECK(find_bad_ipv4_option(bytes_view{to_vec({0x99})}) == std::optional<std::size_t>{0});
  CHECK(find_bad_ipv4_option(bytes_view{to_vec({0x01, 0x99, 0x02})}) == std::optional<std::size_t>{});
}

TEST_CASE("ipv4_repr::emit: fields, flags, fragment offset, checksum_fill::none") {
  ipv4_repr r;
  r.src = ip_a;
  r.dst = ipv4_address{198, 51, 100, 9};
  r.protocol = ip_protocol::icmp;
  r.ttl = 17;
  r.payload_len = 100;
  r.dscp_ecn = 0xb8;
  r.ident = 0xbeef;
  r.dont_fragment = false;
  r.more_fragments = true;
  r.fragment_offset = 1480;
  std::vector<std::byte> buf(r.buffer_len());
  ipv4_packet<bytes_mut> p{buf};
  r.emit(p);
  CHECK(p.verify_checksum());
  CHECK(p.dscp() == 46); // EF
  CHECK(p.ecn() == 0);
  auto back = ipv4_repr::parse(p);
  REQUIRE(back);
  CHECK(*back == r);
  CHECK(fmt::format("{}", r) == "192.0.2.1 > 198.51.100.9 ICMP ttl=17 id=48879 tos=0xb8 MF off=1480 len=100");
  r.emit(p, checksum_fill::none);
  CHECK(p.checksum() == 0);
  CHECK(ipv4_repr::parse(p).error() == wire_error::bad_checksum);
  r.emit(p, checksum_fill::pseudo_header_only); // no pseudo header here: computed in full
  CHECK(p.verify_checksum());
}

TEST_CASE("ip_protocol formatting") {
  CHECK(fmt::format("{}", ip_protocol::tcp) == "TCP");
  CHECK(fmt::format("{}", static_cast<ip_protocol>(47)) == "proto 47");
}

TEST_SUITE_END();
