// Tests for include/synack/wire/tcp.hpp.
#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "captures.hpp"
#include "wire_test_util.hpp"

using namespace synack;
using namespace synack::wire;
using namespace synack::wire::test;

namespace {
const ipv4_address ip_a{192, 0, 2, 1};
const ipv4_address ip_b{192, 0, 2, 2};

auto seg_of(bytes_view frame) -> bytes_view { return frame.subspan(34); }
auto src_of(bytes_view frame) -> ipv4_address { return ipv4_address::from_bytes(frame.data() + 26); }
auto dst_of(bytes_view frame) -> ipv4_address { return ipv4_address::from_bytes(frame.data() + 30); }

auto parse_seg(bytes_view frame) -> expected<tcp_repr, wire_error> {
  return tcp_repr::parse(tcp_packet<bytes_view>{seg_of(frame)}, src_of(frame), dst_of(frame));
}

/// Emits `r` into a fresh buffer with a full checksum.
auto emit_seg(const tcp_repr& r, ipv4_address src = ip_a, ipv4_address dst = ip_b) -> std::vector<std::byte> {
  std::vector<std::byte> buf(r.buffer_len());
  tcp_packet<bytes_mut> p{buf};
  r.emit(p, src, dst);
  return buf;
}

/// A segment 192.0.2.1:5000 > 192.0.2.2:7788 with the given option bytes (padded with EOL to a
/// multiple of 4) and a valid checksum.
auto segment_with_options(std::initializer_list<std::uint8_t> opts) -> std::vector<std::byte> {
  std::size_t olen = (opts.size() + 3) / 4 * 4;
  std::vector<std::byte> v(20 + olen + 3);
  tcp_packet<bytes_mut> p{v};
  p.set_src_port(5000);
  p.set_dst_port(7788);
  p.set_seq_no(seq_number{1000});
  p.set_ack_no(seq_number{2000});
  p.set_header_len(20 + olen);
  p.set_flags(tcp_flag::ack);
  p.set_window(512);
  std::size_t i = 20;
  for (auto b : opts) v[i++] = std::byte{b};
  v[v.size() - 3] = std::byte{'a'};
  v[v.size() - 2] = std::byte{'b'};
  v[v.size() - 1] = std::byte{'c'};
  p.fill_checksum(ip_a, ip_b);
  return v;
}

auto parse_with_options(std::initializer_list<std::uint8_t> opts) -> expected<tcp_repr, wire_error> {
  auto v = segment_with_options(opts);
  auto p = tcp_packet<bytes_view>::checked(v);
  if (!p) return unexpected{p.error()};
  auto r = tcp_repr::parse(*p, ip_a, ip_b);
  if (r) r->payload = {}; // v dies here
  return r;
}

auto opts_bytes(const tcp_options& o) -> std::vector<std::byte> {
  std::vector<std::byte> v(o.emit_len());
  o.emit(v);
  return v;
}
} // namespace

TEST_SUITE_BEGIN("wire.tcp");

TEST_CASE("captured SYN: fields as tshark shows them, options, round trip") {
  auto frame = bytes_of(captures::tcp_syn);
  auto p = tcp_packet<bytes_view>::checked(seg_of(frame));
  REQUIRE(p);
  CHECK(p->src_port() == 5000);
  CHECK(p->dst_port() == 7788);
  CHECK(p->seq_no() == seq_number{3488770551u});
  CHECK(p->ack_no() == seq_number{0});
  CHECK(p->header_len() == 40);
  CHECK(p->flags() == tcp_flags{tcp_flag::syn});
  CHECK(p->window() == 64240);
  CHECK(p->checksum() == 0xd4bd);
  CHECK(p->urgent() == 0);
  CHECK(p->options().size() == 20);
  CHECK(p->payload().empty());
  CHECK(p->verify_checksum(ip_a, ip_b));
  CHECK_FALSE(p->verify_checksum(ip_a, ipv4_address{192, 0, 2, 3}));
  auto r = tcp_repr::parse(*p, ip_a, ip_b, checksum_check::verify);
  REQUIRE(r);
  CHECK(r->options.mss == 1460);
  CHECK(r->options.window_scale == 10);
  CHECK(r->options.sack_permitted);
  REQUIRE(r->options.timestamps);
  CHECK(r->options.timestamps->tsval == 3823150219u);
  CHECK(r->options.timestamps->tsecr == 0);
  CHECK(r->options.sack_count == 0);
  CHECK(r->segment_len() == 1);
  // Linux's SYN layout: MSS, SACK_PERM+TS, NOP+WS in 20 bytes; our emit gives the same bytes.
  CHECK(r->header_len() == 40);
  CHECK(same(emit_seg(*r), seg_of(frame)));
  parsed pp;
  REQUIRE(parse_frame(frame, pp));
  CHECK(same(emit(pp, true), frame));
}

TEST_CASE("every captured TCP segment: expected fields and a byte-identical round trip") {
  struct vec {
    bytes_view frame;
    std::uint16_t sport, dport;
    std::uint32_t seq, ack;
    tcp_flags flags;
    std::uint16_t window;
    std::uint32_t tsval, tsecr; // 0, 0: no timestamps
    std::size_t len;
    std::uint32_t seg_len;
  };
  const vec vecs[] = {
      {bytes_of(captures::tcp_syn), 5000, 7788, 3488770551u, 0, tcp_flag::syn, 64240, 3823150219u, 0, 0, 1},
      {bytes_of(captures::tcp_syn_ack), 7788, 5000, 2891021631u, 3488770552u, tcp_flag::syn | tcp_flag::ack, 65160,
       1234721841u, 3823150219u, 0, 1},
      {bytes_of(captures::tcp_ack), 5000, 7788, 3488770552u, 2891021632u, tcp_flag::ack, 63, 3823150219u, 1234721841u,
       0, 0},
      {bytes_of(captures::tcp_data), 5000, 7788, 3488770552u, 2891021632u, tcp_flag::psh | tcp_flag::ack, 63,
       3823150319u, 1234721841u, 14, 14},
      {bytes_of(captures::tcp_data_ack), 7788, 5000, 2891021632u, 3488770566u, tcp_flag::ack, 64, 1234721941u,
       3823150319u, 0, 0},
      {bytes_of(captures::tcp_fin), 7788, 5000, 2891021632u, 3488770566u, tcp_flag::fin | tcp_flag::ack, 64,
       1234722141u, 3823150319u, 0, 1},
      {bytes_of(captures::tcp_fin_ack), 5000, 7788, 3488770566u, 2891021633u, tcp_flag::ack, 63, 3823150523u,
       1234722141u, 0, 0},
      {bytes_of(captures::tcp_fin2), 5000, 7788, 3488770566u, 2891021633u, tcp_flag::fin | tcp_flag::ack, 63,
       3823150819u, 1234722141u, 0, 1},
      {bytes_of(captures::tcp_last_ack), 7788, 5000, 2891021633u, 3488770567u, tcp_flag::ack, 64, 1234722441u,
       3823150819u, 0, 0},
      {bytes_of(captures::tcp_syn_closed), 5001, 7789, 1704769587u, 0, tcp_flag::syn, 64240, 2652115383u, 0, 0, 1},
      {bytes_of(captures::tcp_rst), 7789, 5001, 0, 1704769588u, tcp_flag::rst | tcp_flag::ack, 0, 0, 0, 0, 0},
      {bytes_of(captures::lo_rst), 7789, 5001, 0, 2063990186u, tcp_flag::rst | tcp_flag::ack, 0, 0, 0, 0, 0},
  };
  for (const auto& v : vecs) {
    INFO(fmt::format("{}", packet_summary{v.frame, link_medium::ethernet}));
    parsed p;
    REQUIRE(parse_frame(v.frame, p));
    REQUIRE(p.tcp);
    const auto& t = *p.tcp;
    CHECK(t.src_port == v.sport);
    CHECK(t.dst_port == v.dport);
    CHECK(t.seq == seq_number{v.seq});
    CHECK(t.ack == seq_number{v.ack});
    CHECK(t.flags == v.flags);
    CHECK(t.window == v.window);
    if (v.tsval != 0) {
      REQUIRE(t.options.timestamps);
      CHECK(t.options.timestamps->tsval == v.tsval);
      CHECK(t.options.timestamps->tsecr == v.tsecr);
    } else {
      CHECK_FALSE(t.options.timestamps);
    }
    CHECK(t.payload.size() == v.len);
    CHECK(t.segment_len() == v.seg_len);
    CHECK(t.header_len() == tcp_packet<bytes_view>{seg_of(v.frame)}.header_len());
    // The whole frame, rebuilt from the reprs, is the captured frame.
    CHECK(same(emit(p, true), v.frame));
    // emit_header with the payload already in place gives the same segment.
    auto seg = seg_of(v.frame);
    std::vector<std::byte> buf(seg.size());
    std::copy(seg.begin() + t.header_len(), seg.end(), buf.begin() + t.header_len());
    t.emit_header(buf, t.payload.size(), src_of(v.frame), dst_of(v.frame), checksum_fill::full);
    CHECK(same(buf, seg));
  }
  auto data = parse_seg(bytes_of(captures::tcp_data));
  REQUIRE(data);
  CHECK(as_chars(data->payload) == "hello, synack\n");
}

TEST_CASE("checksum_fill::pseudo_header_only reproduces Linux's CHECKSUM_PARTIAL segments on lo") {
  for (auto frame : {bytes_of(captures::lo_syn_partial), bytes_of(captures::lo_data_partial)}) {
    auto seg = seg_of(frame);
    auto src = src_of(frame), dst = dst_of(frame);
    CHECK(src == ipv4_address{127, 0, 0, 2});
    // The checksum does not verify as it is: skip it, as a driver with rx offload would.
    auto p = tcp_packet<bytes_view>::checked(seg);
    REQUIRE(p);
    CHECK(tcp_repr::parse(*p, src, dst).error() == wire_error::bad_checksum);
    auto r = tcp_repr::parse(*p, src, dst, checksum_check::skip);
    REQUIRE(r);
    std::vector<std::byte> out(r->buffer_len());
    tcp_packet<bytes_mut> o{out};
    r->emit(o, src, dst, checksum_fill::pseudo_header_only);
    CHECK(same(out, seg));
    r->emit(o, src, dst, checksum_fill::full);
    CHECK(o.verify_checksum(src, dst));
    r->emit(o, src, dst, checksum_fill::none);
    CHECK(o.checksum() == 0);
  }
  auto lo_syn =
      tcp_repr::parse(tcp_packet<bytes_view>{seg_of(bytes_of(captures::lo_syn_partial))}, {}, {}, checksum_check::skip);
  REQUIRE(lo_syn);
  CHECK(lo_syn->options.mss == 65495); // lo's MTU 65536 - 40
}

TEST_CASE("TCP: truncations") {
  for (auto frame : {bytes_of(captures::tcp_syn), bytes_of(captures::tcp_data), bytes_of(captures::tcp_fin),
                     bytes_of(captures::tcp_rst)}) {
    auto seg = seg_of(frame);
    std::size_t hl = tcp_packet<bytes_view>{seg}.header_len();
    for (std::size_t n = 0; n < seg.size(); ++n) {
      auto c = tcp_packet<bytes_view>::checked(seg.first(n));
      auto r = tcp_repr::parse(tcp_packet<bytes_view>{seg.first(n)}, src_of(frame), dst_of(frame));
      REQUIRE_FALSE(r);
      if (n < hl) {
        REQUIRE_FALSE(c);
        CHECK(c.error() == wire_error::truncated);
        CHECK(r.error() == wire_error::truncated);
      } else {
        // TCP has no length field: a cut payload is caught by the checksum (the pseudo
        // header's length changes too), and in a packet by IPv4's total length.
        CHECK(c);
        CHECK(r.error() == wire_error::bad_checksum);
      }
    }
    for (std::size_t n = 0; n < frame.size(); ++n) {
      parsed p;
      auto r = parse_frame(frame.first(n), p);
      REQUIRE_FALSE(r);
      CHECK(r.error() == wire_error::truncated);
    }
  }
}

TEST_CASE("TCP: header length, oversize and checksum errors") {
  auto base = to_vec(seg_of(bytes_of(captures::tcp_data)));
  SUBCASE("data offset 0..4 is bad_header_len") {
    for (std::size_t words = 0; words < 5; ++words) {
      auto v = base;
      tcp_packet<bytes_mut>{v}.set_header_len(words * 4);
      CHECK(tcp_packet<bytes_view>::checked(v).error() == wire_error::bad_header_len);
      CHECK(tcp_repr::parse(tcp_packet<bytes_view>{v}, ip_a, ip_b).error() == wire_error::bad_header_len);
    }
  }
  SUBCASE("data offset past the buffer is truncated") {
    auto v = base;
    v.resize(40);
    tcp_packet<bytes_mut>{v}.set_header_len(44);
    CHECK(tcp_packet<bytes_view>::checked(v).error() == wire_error::truncated);
  }
  SUBCASE("a buffer over 65535 bytes is oversized") {
    std::vector<std::byte> v(65536);
    std::copy(base.begin(), base.end(), v.begin());
    CHECK(tcp_packet<bytes_view>::checked(v).error() == wire_error::oversized);
    v.resize(65535);
    CHECK(tcp_packet<bytes_view>::checked(v));
  }
  SUBCASE("any bit flip fails the checksum; skip accepts it") {
    for (std::size_t i = 0; i < base.size(); ++i) {
      auto v = base;
      v[i] ^= std::byte{0x01}; // in byte 12 this is a reserved bit, not the data offset
      CHECK(tcp_repr::parse(tcp_packet<bytes_view>{v}, ip_a, ip_b).error() == wire_error::bad_checksum);
      auto skipped = tcp_repr::parse(tcp_packet<bytes_view>{v}, ip_a, ip_b, checksum_check::skip);
      if (i >= 20 && i < 32) // a flipped option length is still a bad option
        CHECK((skipped || skipped.error() == wire_error::bad_option));
      else
        CHECK(skipped);
    }
  }
  SUBCASE("the pseudo header is covered: other addresses fail") {
    CHECK(tcp_repr::parse(tcp_packet<bytes_view>{base}, ip_b, ip_a).has_value() == true); // swapped: same sum!
    CHECK(tcp_repr::parse(tcp_packet<bytes_view>{base}, ip_a, ipv4_address{192, 0, 2, 3}).error() ==
          wire_error::bad_checksum);
  }
}

TEST_CASE("TCP options: malformed lengths are bad_option") {
  auto bad = [](std::initializer_list<std::uint8_t> o) {
    auto r = parse_with_options(o);
    REQUIRE_FALSE(r);
    CHECK(r.error() == wire_error::bad_option);
  };
  SUBCASE("length 0 and 1, known and unknown kinds") {
    for (std::uint8_t kind : std::initializer_list<std::uint8_t>{2, 3, 4, 5, 8, 30, 99, 253}) {
      INFO("kind ", int{kind});
      bad({kind, 0, 0, 0});
      bad({kind, 1, 0, 0});
    }
  }
  SUBCASE("a kind without its length byte at the end") {
    bad({1, 1, 1, 2}); // NOP NOP NOP then MSS with no length
    bad({1, 1, 1, 99});
  }
  SUBCASE("length running past the options") {
    bad({2, 8, 0, 0});
    bad({99, 5, 0, 0});
    bad({1, 1, 8, 10, 0, 0, 0, 0}); // TS of 10 in 6 bytes
    bad({99, 255, 0, 0});
  }
  SUBCASE("wrong length for MSS, WS, SACK_PERM, TS") {
    bad({2, 3, 5, 1});
    bad({2, 5, 5, 180, 0, 0, 0, 0});
    bad({2, 2, 1, 1});
    bad({3, 2, 1, 1});
    bad({3, 4, 7, 0});
    bad({4, 3, 0, 1});
    bad({4, 4, 0, 0});
    bad({8, 8, 0, 0, 0, 1, 0, 0});
    bad({8, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0});
    bad({8, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0});
  }
  SUBCASE("SACK with a length not 2 + 8n (n >= 1)") {
    bad({1, 1, 5, 2});
    bad({5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0});
    bad({5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0});
    bad({5, 17, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0});
  }
}

TEST_CASE("TCP options: unknown kinds skipped, EOL ends, NOP pads, duplicates") {
  SUBCASE("unknown kinds are skipped by their length") {
    // TFO cookie (34, len 10), MPTCP (30, len 4), an empty unknown (99, len 2), then MSS.
    auto r = parse_with_options({34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 30, 4, 0, 0, 99, 2, 2, 4, 5, 180});
    REQUIRE(r);
    CHECK(r->options.mss == 1460);
  }
  SUBCASE("EOL ends the list: what follows is not looked at") {
    auto r = parse_with_options({3, 3, 7, 0, 2, 0, 0xff, 0xff});
    REQUIRE(r);
    CHECK(r->options.window_scale == 7);
    CHECK_FALSE(r->options.mss);
    auto e = parse_with_options({0, 2, 1, 0});
    REQUIRE(e);
    CHECK(e->options == tcp_options{});
  }
  SUBCASE("NOPs anywhere") {
    auto r = parse_with_options({1, 1, 1, 4, 2, 1, 1, 1, 1, 3, 3, 14});
    REQUIRE(r);
    CHECK(r->options.sack_permitted);
    CHECK(r->options.window_scale == 14);
    auto n = parse_with_options({1, 1, 1, 1});
    REQUIRE(n);
    CHECK(n->options == tcp_options{});
  }
  SUBCASE("window scale above 14 is kept raw (the core clamps)") {
    auto r = parse_with_options({1, 3, 3, 200});
    REQUIRE(r);
    CHECK(r->options.window_scale == 200);
  }
  SUBCASE("SACK blocks, one to four") {
    auto r = parse_with_options(
        {1, 1, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8});
    REQUIRE(r);
    REQUIRE(r->options.sack_count == 4);
    CHECK(r->options.sack[0] == sack_block{seq_number{1}, seq_number{2}});
    CHECK(r->options.sack[3] == sack_block{seq_number{7}, seq_number{8}});
    auto one = parse_with_options({1, 1, 5, 10, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10});
    REQUIRE(one);
    REQUIRE(one->options.sack_count == 1);
    CHECK(one->options.sack[0].left == seq_number{0xfffffff0u});
    CHECK(one->options.sack[0].right == seq_number{0x10}); // wraps: right is still after left
    CHECK(one->options.sack[0].left < one->options.sack[0].right);
  }
  SUBCASE("a repeated option: the last one wins") {
    auto r = parse_with_options({2, 4, 1, 0, 2, 4, 2, 0});
    REQUIRE(r);
    CHECK(r->options.mss == 512);
  }
  SUBCASE("the full 40 bytes") {
    auto r = parse_with_options({2, 4, 5, 180, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 18,
                                 0, 0, 0, 1,   0, 0, 0, 2,  0, 0, 0, 3, 0, 0, 0, 4, 1, 3, 3, 7});
    REQUIRE(r);
    CHECK(r->options.mss == 1460);
    CHECK(r->options.sack_count == 2);
    CHECK(r->options.window_scale == 7);
    CHECK(r->options.timestamps == tcp_timestamps{1, 2});
  }
}

TEST_CASE("TCP options emit: Linux's layouts, and SACK blocks that fit") {
  tcp_options syn;
  syn.mss = 1460;
  syn.sack_permitted = true;
  syn.timestamps = tcp_timestamps{0x01020304, 0};
  syn.window_scale = 7;
  CHECK(syn.emit_len() == 20);
  CHECK(same(opts_bytes(syn), to_vec({2, 4, 5, 180, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7})));

  tcp_options o;
  CHECK(o.emit_len() == 0);
  o.sack_permitted = true;
  CHECK(same(opts_bytes(o), to_vec({1, 1, 4, 2})));
  o = {};
  o.timestamps = tcp_timestamps{5, 6};
  CHECK(same(opts_bytes(o), to_vec({1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6})));
  o = {};
  o.window_scale = 0;
  CHECK(same(opts_bytes(o), to_vec({1, 3, 3, 0})));
  o = {};
  o.mss = 536;
  CHECK(same(opts_bytes(o), to_vec({2, 4, 2, 24})));

  tcp_options sack;
  for (std::uint32_t i = 0; i < 4; ++i) CHECK(sack.add_sack({seq_number{100 * i}, seq_number{100 * i + 50}}));
  CHECK_FALSE(sack.add_sack({}));
  CHECK(sack.emitted_sack_blocks() == 4);
  CHECK(sack.emit_len() == 36);
  sack.timestamps = tcp_timestamps{1, 2};
  CHECK(sack.emitted_sack_blocks() == 3); // 12 + 4 + 24 = 40
  CHECK(sack.emit_len() == 40);
  auto bytes = opts_bytes(sack);
  CHECK(same(bytes_view{bytes}.first(16), to_vec({1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 26})));
  auto back = parse_tcp_options(bytes);
  REQUIRE(back);
  CHECK(back->sack_count == 3);
  CHECK(back->sack[2] == sack.sack[2]);

  // Every combination stays within 40 bytes, is a multiple of 4, and parses back to itself
  // (with the SACK blocks that fitted).
  for (int mask = 0; mask < 32; ++mask) {
    for (std::uint8_t n = 0; n <= 4; ++n) {
      tcp_options x;
      if (mask & 1) x.mss = 1400;
      if (mask & 2) x.window_scale = 9;
      if (mask & 4) x.sack_permitted = true;
      if (mask & 8) x.timestamps = tcp_timestamps{7, 8};
      for (std::uint32_t i = 0; i < n; ++i) x.add_sack({seq_number{i}, seq_number{i + 1}});
      INFO("mask ", mask, " blocks ", int{n});
      CHECK(x.emit_len() <= 40);
      CHECK(x.emit_len() % 4 == 0);
      auto b = opts_bytes(x);
      auto p = parse_tcp_options(b);
      REQUIRE(p);
      auto want = x;
      want.sack_count = static_cast<std::uint8_t>(x.emitted_sack_blocks());
      CHECK(*p == want);
      if (mask & 16) CHECK(x.emitted_sack_blocks() <= n);
    }
  }
  // The biggest fixed part: a SYN carrying everything still leaves room for 2 blocks.
  syn.add_sack({seq_number{1}, seq_number{2}});
  syn.add_sack({seq_number{3}, seq_number{4}});
  syn.add_sack({seq_number{5}, seq_number{6}});
  CHECK(syn.emitted_sack_blocks() == 2);
  CHECK(syn.emit_len() == 40);
}

TEST_CASE("tcp_repr: build, emit, parse; payload copied or already in place") {
  tcp_repr r;
  r.src_port = 49152;
  r.dst_port = 80;
  r.seq = seq_number{0xfffffff0u};
  r.ack = seq_number{12345};
  r.flags = tcp_flag::psh | tcp_flag::ack;
  r.window = 1024;
  r.options.timestamps = tcp_timestamps{100, 200};
  r.options.add_sack({seq_number{1}, seq_number{2}});
  std::string text = "GET / HTTP/1.0\r\n\r\n";
  r.payload = as_bytes(text);
  CHECK(r.header_len() == 20 + 12 + 12);
  CHECK(r.buffer_len() == 44 + text.size());
  CHECK(r.segment_len() == text.size());
  auto v = emit_seg(r);
  auto back = tcp_repr::parse(tcp_packet<bytes_view>{v}, ip_a, ip_b);
  REQUIRE(back);
  CHECK(*back == r);
  // emit with the payload already at its place (the zero-copy transmit path).
  std::vector<std::byte> buf(r.buffer_len());
  std::copy(r.payload.begin(), r.payload.end(), buf.begin() + static_cast<std::ptrdiff_t>(r.header_len()));
  auto in_place = r;
  in_place.payload = bytes_view{buf}.subspan(r.header_len());
  tcp_packet<bytes_mut> p{buf};
  in_place.emit(p, ip_a, ip_b);
  CHECK(same(buf, v));
  // A larger buffer: emit writes and checksums exactly buffer_len() bytes.
  std::vector<std::byte> big(r.buffer_len() + 100, std::byte{0xee});
  tcp_packet<bytes_mut> pb{big};
  r.emit(pb, ip_a, ip_b);
  CHECK(same(bytes_view{big}.first(r.buffer_len()), v));
  CHECK(big[r.buffer_len()] == std::byte{0xee});
  // SYN and FIN count in SEG.LEN.
  tcp_repr s;
  s.flags = tcp_flag::syn | tcp_flag::fin;
  CHECK(s.segment_len() == 2);
  CHECK(s.header_len() == 20);
  // URG and the urgent pointer survive.
  tcp_repr u;
  u.flags = tcp_flag::urg | tcp_flag::ack | tcp_flag::ece | tcp_flag::cwr;
  u.urgent = 7;
  auto uv = emit_seg(u);
  auto ub = tcp_repr::parse(tcp_packet<bytes_view>{uv}, ip_a, ip_b);
  REQUIRE(ub);
  CHECK(ub->urgent == 7);
  CHECK(ub->flags == u.flags);
}

TEST_CASE("tcp_flags") {
  tcp_flags f = tcp_flag::syn | tcp_flag::ack;
  static_assert((tcp_flag::syn | tcp_flag::ack).bits() == 0x12);
  CHECK(f.has(tcp_flag::syn));
  CHECK(f.has(tcp_flag::ack));
  CHECK_FALSE(f.has(tcp_flag::fin));
  CHECK(f.has_all(tcp_flag::syn | tcp_flag::ack));
  CHECK_FALSE(f.has_all(tcp_flag::syn | tcp_flag::fin));
  CHECK(f.has_any(tcp_flag::syn | tcp_flag::fin));
  f.set(tcp_flag::fin).clear(tcp_flag::syn);
  CHECK(f == (tcp_flag::fin | tcp_flag::ack));
  f |= tcp_flag::psh;
  CHECK(f.bits() == 0x19);
  CHECK((f & tcp_flag::psh) == tcp_flags{tcp_flag::psh});
  CHECK(tcp_flags{}.empty());
  CHECK(fmt::format("{}", tcp_flag::syn | tcp_flag::ack) == "SYN|ACK");
  CHECK(fmt::format("{:t}", tcp_flag::syn | tcp_flag::ack) == "S.");
  CHECK(fmt::format("{}", tcp_flags::from_bits(0xff)) == "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR");
  CHECK(fmt::format("{:t}", tcp_flags::from_bits(0xff)) == "FSRP.UEW");
  CHECK(fmt::format("{}", tcp_flags{}) == "none");
  CHECK(fmt::format("{}", tcp_flag::rst) == "RST");
}

TEST_CASE("one-line summaries") {
  auto syn = parse_seg(bytes_of(captures::tcp_syn));
  REQUIRE(syn);
  CHECK(fmt::format("{}", tcp_summary{ip_a, ip_b, *syn}) ==
        "192.0.2.1:5000 > 192.0.2.2:7788 [S] seq=3488770551 win=64240 opts=[mss 1460,sackOK,TS val 3823150219 ecr "
        "0,wscale 10] len=0");
  auto data = parse_seg(bytes_of(captures::tcp_data));
  REQUIRE(data);
  CHECK(fmt::format("{}", *data) ==
        "5000 > 7788 [P.] seq=3488770552 ack=2891021632 win=63 opts=[TS val 3823150319 ecr 1234721841] len=14");
  auto rst = parse_seg(bytes_of(captures::tcp_rst));
  REQUIRE(rst);
  CHECK(fmt::format("{}", *rst) == "7789 > 5001 [R.] seq=0 ack=1704769588 win=0 len=0");
  tcp_options o;
  o.add_sack({seq_number{100}, seq_number{200}});
  o.add_sack({seq_number{300}, seq_number{400}});
  CHECK(fmt::format("{}", o) == "sack 2 {100:200}{300:400}");
}

TEST_SUITE_END();

TEST_CASE("tcp_repr emit: a payload that overlaps the header's place is moved first") {
  std::string text = "payload that starts at byte 0 of the buffer";
  tcp_repr r;
  r.src_port = 1;
  r.dst_port = 2;
  r.flags = tcp_flag::ack;
  r.options.timestamps = tcp_timestamps{1, 2};
  std::vector<std::byte> buf(r.header_len() + text.size());
  std::memcpy(buf.data() + 4, text.data(), text.size()); // overlapping both header and payload areas
  r.payload = bytes_view{buf}.subspan(4, text.size());
  tcp_packet<bytes_mut> p{buf};
  r.emit(p, ip_a, ip_b);
  auto back = tcp_repr::parse(tcp_packet<bytes_view>{buf}, ip_a, ip_b);
  REQUIRE(back);
  CHECK(as_chars(back->payload) == text);
}
