// Tests for include/synack/wire/icmpv4.hpp.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "captures.hpp"
#include "wire_test_util.hpp"

using namespace synack;
using namespace synack::wire;
using namespace synack::wire::test;

namespace {
auto icmp_of(bytes_view frame) -> bytes_view { return frame.subspan(34); }
auto parse_icmp(bytes_view b, checksum_check c = checksum_check::verify) {
  return icmpv4_repr::parse(icmpv4_packet<bytes_view>{b}, c);
}
} // namespace

TEST_SUITE_BEGIN("wire.icmpv4");

TEST_CASE("captured echo request and reply (veth and loopback)") {
  struct vec {
    bytes_view frame;
    icmpv4_type type;
    std::uint16_t ident;
  };
  for (auto [frame, type, ident] : {vec{bytes_of(captures::icmp_echo_request), icmpv4_type::echo_request, 5085},
                                    vec{bytes_of(captures::icmp_echo_reply), icmpv4_type::echo_reply, 5085},
                                    vec{bytes_of(captures::icmp_echo_ttl1), icmpv4_type::echo_request, 5086},
                                    vec{bytes_of(captures::lo_echo_request), icmpv4_type::echo_request, 4549},
                                    vec{bytes_of(captures::lo_echo_reply), icmpv4_type::echo_reply, 4549}}) {
    parsed p;
    REQUIRE(parse_frame(frame, p));
    REQUIRE(p.icmp);
    CHECK(p.icmp->type == type);
    CHECK(p.icmp->code == 0);
    CHECK(p.icmp->ident == ident);
    CHECK(p.icmp->seq_no == 1);
    CHECK(p.icmp->data.size() == 56);
    CHECK(p.icmp->is_echo());
    CHECK_FALSE(p.icmp->is_error());
    // ping -p 73796e61636b fills the data after its timestamp with "synack" repeated (the
    // TTL-1 ping ran without -p: its data counts up from 0x10).
    if (frame.data() != bytes_of(captures::icmp_echo_ttl1).data())
      CHECK(as_chars(p.icmp->data).find("synacksynack") != std::string_view::npos);
    CHECK(same(emit(p, true), frame));
  }
  // The reply carries the request's data (RFC 792).
  auto req = parse_icmp(icmp_of(bytes_of(captures::icmp_echo_request)));
  auto rep = parse_icmp(icmp_of(bytes_of(captures::icmp_echo_reply)));
  REQUIRE(req);
  REQUIRE(rep);
  CHECK(same(req->data, rep->data));
  CHECK(icmpv4_repr::echo_reply(req->ident, req->seq_no, req->data) == *rep);
  CHECK(fmt::format("{}", *req) == "ICMP echo request id=5085 seq=1 len=56");
}

TEST_CASE("captured destination unreachable (port) quotes the UDP datagram") {
  auto frame = bytes_of(captures::icmp_port_unreachable);
  parsed p;
  REQUIRE(parse_frame(frame, p));
  REQUIRE(p.icmp);
  CHECK(p.icmp->type == icmpv4_type::dest_unreachable);
  CHECK(p.icmp->code == static_cast<std::uint8_t>(icmpv4_unreachable::port));
  CHECK(p.icmp->is_error());
  CHECK(p.icmp->next_hop_mtu == 0);
  // Linux quotes the whole offending datagram: the UDP packet of frame 14.
  CHECK(same(p.icmp->data, bytes_of(captures::udp).subspan(14)));
  auto q = parse_icmpv4_quote(p.icmp->data);
  REQUIRE(q);
  CHECK(q->src == ipv4_address{192, 0, 2, 1});
  CHECK(q->dst == ipv4_address{192, 0, 2, 2});
  CHECK(q->protocol == ip_protocol::udp);
  CHECK(q->src_port == 5002);
  CHECK(q->dst_port == 9);
  CHECK(q->header.size() == 20);
  CHECK(q->transport.size() == 15);
  CHECK(same(emit(p, true), frame));
  CHECK(fmt::format("{}", *p.icmp) == "ICMP dest unreachable port len=35");
}

TEST_CASE("captured time exceeded quotes the TTL-1 echo request") {
  auto frame = bytes_of(captures::icmp_time_exceeded);
  parsed p;
  REQUIRE(parse_frame(frame, p));
  REQUIRE(p.icmp);
  CHECK(p.icmp->type == icmpv4_type::time_exceeded);
  CHECK(p.icmp->code == static_cast<std::uint8_t>(icmpv4_time_exceeded::ttl));
  CHECK(same(p.icmp->data, bytes_of(captures::icmp_echo_ttl1).subspan(14)));
  auto q = parse_icmpv4_quote(p.icmp->data);
  REQUIRE(q);
  CHECK(q->dst == ipv4_address{198, 51, 100, 1});
  CHECK(q->protocol == ip_protocol::icmp);
  CHECK(same(emit(p, true), frame));
  CHECK(fmt::format("{}", *p.icmp) == "ICMP time exceeded in transit len=84");
}

// ICMP has no length field: alone, it sees a cut only through the checksum, and a cut that
// removes bytes summing to -0 goes unnoticed. The time-exceeded capture shows the classic case:
// cut right after the quoted IPv4 header, whose own valid checksum makes it sum to 0xffff.
// Within a packet, IPv4's total length catches every cut.
TEST_CASE("ICMP: every truncation is truncated (below 8 bytes or in a packet) or fails the checksum") {
  for (auto frame : {bytes_of(captures::icmp_echo_request), bytes_of(captures::icmp_port_unreachable),
                     bytes_of(captures::icmp_time_exceeded)}) {
    auto icmp = icmp_of(frame);
    for (std::size_t n = 0; n < icmp.size(); ++n) {
      auto r = parse_icmp(icmp.first(n));
      if (n < 8) {
        CHECK(icmpv4_packet<bytes_view>::checked(icmp.first(n)).error() == wire_error::truncated);
        REQUIRE_FALSE(r);
        CHECK(r.error() == wire_error::truncated);
      } else if (ones_sum(icmp.first(n)) == 0xffff) {
        CHECK(r); // undetectable without the IP total length, see above
      } else {
        CHECK(r.error() == wire_error::bad_checksum);
      }
    }
    for (std::size_t n = 0; n < frame.size(); ++n) {
      parsed p;
      auto r = parse_frame(frame.first(n), p);
      REQUIRE_FALSE(r);
      CHECK(r.error() == wire_error::truncated); // IPv4's total length sees it
    }
  }
}

TEST_CASE("ICMP: checksum") {
  auto v = to_vec(icmp_of(bytes_of(captures::icmp_echo_request)));
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto w = v;
    w[i] ^= std::byte{0x10};
    CHECK(parse_icmp(w).error() == wire_error::bad_checksum);
    CHECK(parse_icmp(w, checksum_check::skip));
  }
}

TEST_CASE("ICMP: other types parse as raw messages and re-emit byte for byte") {
  // A redirect (type 5, code 1) to gateway 192.0.2.254, a parameter problem (type 12, pointer
  // 8), a timestamp request (type 13), and an unassigned type 200.
  for (auto [type, code, rest] : {std::tuple{5, 1, 0xc00002feu}, std::tuple{12, 0, 0x08000000u},
                                  std::tuple{13, 0, 0x12340001u}, std::tuple{200, 7, 0xdeadbeefu}}) {
    icmpv4_repr r;
    r.type = static_cast<icmpv4_type>(type);
    r.code = static_cast<std::uint8_t>(code);
    r.rest_of_header = rest;
    auto body = bytes_of(captures::udp).subspan(14, 28);
    r.data = body;
    std::vector<std::byte> buf(r.buffer_len());
    icmpv4_packet<bytes_mut> p{buf};
    r.emit(p);
    CHECK(p.verify_checksum());
    CHECK(p.rest_of_header() == rest);
    auto back = parse_icmp(buf);
    REQUIRE(back);
    CHECK(*back == r);
    CHECK_FALSE(back->is_decoded());
    std::vector<std::byte> again(back->buffer_len());
    icmpv4_packet<bytes_mut> p2{again};
    back->emit(p2);
    CHECK(same(again, buf));
  }
  icmpv4_repr odd;
  odd.type = static_cast<icmpv4_type>(200);
  odd.code = 7;
  CHECK(fmt::format("{}", odd) == "ICMP type=200 code=7 len=0");
}

TEST_CASE("ICMP: fragmentation needed carries the next-hop MTU (RFC 1191)") {
  auto quote = bytes_of(captures::tcp_data).subspan(14, 28);
  auto r = icmpv4_repr::dest_unreachable(icmpv4_unreachable::frag_needed, quote, 1400);
  std::vector<std::byte> buf(r.buffer_len());
  icmpv4_packet<bytes_mut> p{buf};
  r.emit(p);
  CHECK(p.next_hop_mtu() == 1400);
  CHECK(p.rest_of_header() == 1400);
  auto back = parse_icmp(buf);
  REQUIRE(back);
  CHECK(*back == r);
  CHECK(fmt::format("{}", r) == "ICMP dest unreachable frag needed mtu=1400 len=28");
  auto q = parse_icmpv4_quote(back->data);
  REQUIRE(q);
  CHECK(q->protocol == ip_protocol::tcp);
  CHECK(q->src_port == 5000);
  CHECK(q->dst_port == 7788);
  CHECK(q->tcp_seq == seq_number{3488770552u});
}

TEST_CASE("ICMP: parameter problem points at the bad octet of the quoted header (RFC 792)") {
  auto quote = bytes_of(captures::tcp_data).subspan(14, 28);
  auto r = icmpv4_repr::parameter_problem(21, quote);
  CHECK(r.type == icmpv4_type::parameter_problem);
  CHECK(r.code == 0);
  CHECK(r.param_pointer() == 21);
  std::vector<std::byte> buf(r.buffer_len());
  icmpv4_packet<bytes_mut> p{buf};
  r.emit(p);
  // RFC 792: type 12, code 0, checksum, "Pointer" in the first octet of the rest, 3 unused.
  CHECK(hex(bytes_view{buf}.first(8)).substr(0, 4) == "0c00");
  CHECK(hex(bytes_view{buf}.subspan(4, 4)) == "15000000");
  CHECK(p.verify_checksum());
  auto back = parse_icmp(buf);
  REQUIRE(back);
  CHECK(*back == r);
  CHECK(back->is_error());
  CHECK(back->param_pointer() == 21);
  CHECK(same(back->data, quote));
  CHECK(fmt::format("{}", r) == "ICMP parameter problem pointer=21 len=28");
}

TEST_CASE("ICMP: emit with the data already in place, and checksum_fill") {
  auto src = to_vec(icmp_of(bytes_of(captures::icmp_echo_request)));
  auto r = parse_icmp(src);
  REQUIRE(r);
  auto buf = src;
  buf[2] = buf[3] = std::byte{0};
  icmpv4_repr in_place = *r;
  in_place.data = bytes_view{buf}.subspan(8);
  icmpv4_packet<bytes_mut> p{buf};
  in_place.emit(p);
  CHECK(same(buf, src));
  in_place.emit(p, checksum_fill::pseudo_header_only);
  CHECK(p.checksum() == 0);
  in_place.emit(p, checksum_fill::none);
  CHECK(p.checksum() == 0);
}

TEST_CASE("parse_icmpv4_quote rejects what it cannot read") {
  auto ip = to_vec(bytes_of(captures::tcp_data).subspan(14));
  for (std::size_t n = 0; n < 28; ++n) {
    auto q = parse_icmpv4_quote(bytes_view{ip}.first(n));
    REQUIRE_FALSE(q);
    CHECK(q.error() == wire_error::truncated);
  }
  CHECK(parse_icmpv4_quote(bytes_view{ip}.first(28)));
  auto v = ip;
  v[0] = std::byte{0x65};
  CHECK(parse_icmpv4_quote(v).error() == wire_error::bad_version);
  v[0] = std::byte{0x44};
  CHECK(parse_icmpv4_quote(v).error() == wire_error::bad_header_len);
  v[0] = std::byte{0x4f}; // 60-byte header: needs 68 bytes
  v.resize(68);
  CHECK(parse_icmpv4_quote(bytes_view{v}.first(67)).error() == wire_error::truncated);
  CHECK(parse_icmpv4_quote(bytes_view{v}.first(68)));
}

TEST_SUITE_END();

TEST_CASE("ICMP emit: data that sits where the header goes is moved first") {
  // An echo reply built in a buffer whose first bytes hold the data to return.
  std::string text = "0123456789abcdef";
  std::vector<std::byte> buf(8 + text.size());
  std::memcpy(buf.data(), text.data(), text.size());
  auto r = icmpv4_repr::echo_reply(7, 9, bytes_view{buf}.first(text.size()));
  icmpv4_packet<bytes_mut> p{buf};
  r.emit(p);
  auto back = icmpv4_repr::parse(icmpv4_packet<bytes_view>{buf});
  REQUIRE(back);
  CHECK(as_chars(back->data) == text);
  CHECK(back->ident == 7);
  CHECK(back->seq_no == 9);
}
