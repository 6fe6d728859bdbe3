// Random input for every parser in include/synack/wire/: seeded, deterministic, and run under
// ASan/UBSan in the sanitizer build. Each buffer is a heap allocation of exactly its length, so
// a read one byte past the end is reported. Properties: nothing crashes; whatever is accepted
// re-emits to bytes that parse again (with checksums verified) to the same values.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "captures.hpp"
#include "wire_test_util.hpp"

using namespace synack;
using namespace synack::wire;
using namespace synack::wire::test;

namespace {

struct fuzz_stats {
  std::size_t accepted_frames = 0, accepted_ip = 0, accepted_tcp = 0, accepted_icmp = 0, accepted_arp = 0,
              accepted_options = 0;
};

auto ip_fields_equal(ipv4_repr a, ipv4_repr b) -> bool {
  a.payload_len = b.payload_len = 0; // L4 emission normalises TCP options, so the length may change
  return a == b;
}

auto tcp_normalised(tcp_repr t) -> tcp_repr {
  t.options.sack_count = static_cast<std::uint8_t>(t.options.emitted_sack_blocks());
  return t;
}

/// Parses `bytes` through every layer it reaches; if accepted, re-emits and parses again.
void check_pipeline(bytes_view bytes, bool ethernet, fuzz_stats& st) {
  parsed p;
  auto r = ethernet ? parse_frame(bytes, p, checksum_check::skip) : parse_ip(bytes, p, checksum_check::skip);
  if (!r) return;
  if (ethernet) ++st.accepted_frames;
  if (p.ip) ++st.accepted_ip;
  if (p.tcp) ++st.accepted_tcp;
  if (p.icmp) ++st.accepted_icmp;
  if (p.arp) ++st.accepted_arp;
  if (ethernet && !p.arp && !p.ip) return; // another ethertype: nothing to re-emit above L2
  auto out = emit(p, ethernet);
  parsed q;
  auto r2 = ethernet ? parse_frame(out, q) : parse_ip(out, q);
  REQUIRE_MESSAGE(r2, "re-emitted packet does not parse: ", hex(out), " from ", hex(bytes));
  if (ethernet) CHECK(*q.eth == *p.eth);
  if (p.arp) CHECK(*q.arp == *p.arp);
  if (p.ip) CHECK(ip_fields_equal(*q.ip, *p.ip));
  if (p.tcp) CHECK(*q.tcp == tcp_normalised(*p.tcp));
  if (p.icmp) CHECK(*q.icmp == *p.icmp);
}

/// Every view and repr parser on its own, including the ones the pipeline does not reach.
void check_each(bytes_view b, fuzz_stats& st) {
  (void)ethernet_repr::parse(ethernet_frame<bytes_view>{b});
  if (auto a = arp_packet<bytes_view>::checked(b)) {
    (void)a->sender_mac();
    (void)a->target_ip();
    (void)arp_repr::parse(*a);
  }
  if (auto ip = ipv4_packet<bytes_view>::checked(b)) {
    (void)ip->options();
    (void)ip->payload();
    (void)ip->verify_checksum();
    (void)ipv4_repr::parse(*ip);
  }
  (void)ipv4_repr::parse(ipv4_packet<bytes_view>{b}, checksum_check::skip);
  if (auto t = tcp_packet<bytes_view>::checked(b)) {
    (void)t->options();
    (void)t->verify_checksum(ipv4_address{192, 0, 2, 1}, ipv4_address{192, 0, 2, 2});
    if (auto tr = tcp_repr::parse(*t, {}, {}, checksum_check::skip)) {
      ++st.accepted_tcp;
      std::vector<std::byte> out(tr->buffer_len());
      tcp_packet<bytes_mut> o{out};
      tr->emit(o, {192, 0, 2, 1}, {192, 0, 2, 2});
      auto again = tcp_repr::parse(tcp_packet<bytes_view>{out}, {192, 0, 2, 1}, {192, 0, 2, 2});
      REQUIRE(again);
      CHECK(*again == tcp_normalised(*tr));
    }
  }
  (void)tcp_repr::parse(tcp_packet<bytes_view>{b}, {}, {}, checksum_check::skip);
  if (auto c = icmpv4_repr::parse(icmpv4_packet<bytes_view>{b}, checksum_check::skip)) {
    ++st.accepted_icmp;
    std::vector<std::byte> out(c->buffer_len());
    icmpv4_packet<bytes_mut> o{out};
    c->emit(o);
    auto again = icmpv4_repr::parse(icmpv4_packet<bytes_view>{out});
    REQUIRE(again);
    CHECK(*again == *c);
  }
  (void)parse_icmpv4_quote(b);
  if (auto o = parse_tcp_options(b.first(std::min<std::size_t>(b.size(), tcp_max_options_len)))) {
    ++st.accepted_options;
    std::vector<std::byte> out(o->emit_len());
    o->emit(out);
    auto again = parse_tcp_options(out);
    REQUIRE(again);
    auto want = *o;
    want.sack_count = static_cast<std::uint8_t>(o->emitted_sack_blocks());
    CHECK(*again == want);
  }
}

/// Random bytes, sometimes shaped like the start of a real header so the parsers get deeper.
auto random_buffer(std::mt19937_64& rng) -> std::vector<std::byte> {
  std::size_t len = rng() % 4 == 0 ? rng() % 128 : rng() % 1600;
  std::vector<std::byte> v(len);
  for (auto& b : v) b = std::byte{static_cast<std::uint8_t>(rng())};
  switch (rng() % 6) {
    case 0:
      if (len > 0) v[0] = std::byte{static_cast<std::uint8_t>(0x40 | (rng() % 16))}; // IPv4, any IHL
      if (len > 3) store_be<std::uint16_t>(v.data() + 2, static_cast<std::uint16_t>(rng() % (len + 8)));
      if (len > 9) v[9] = std::byte{static_cast<std::uint8_t>(rng() % 2 ? 6 : 1)};
      break;
    case 1:
      if (len > 12) v[12] = std::byte{static_cast<std::uint8_t>((5 + rng() % 11) << 4)}; // TCP data offset 5..15
      break;
    case 2:
      if (len > 13) store_be<std::uint16_t>(v.data() + 12, rng() % 2 ? 0x0800 : 0x0806); // Ethernet IPv4 / ARP
      if (len > 14) v[14] = std::byte{0x45};
      if (len > 21) {
        store_be<std::uint32_t>(v.data() + 14, 0x00010800);
        store_be<std::uint16_t>(v.data() + 18, 0x0604);
        store_be<std::uint16_t>(v.data() + 20, static_cast<std::uint16_t>(1 + rng() % 3));
      }
      break;
    default:
      break;
  }
  return v;
}

const bytes_view all_captures[] = {
    bytes_of(captures::arp_request),
    bytes_of(captures::arp_reply),
    bytes_of(captures::tcp_syn),
    bytes_of(captures::tcp_syn_ack),
    bytes_of(captures::tcp_ack),
    bytes_of(captures::tcp_data),
    bytes_of(captures::tcp_data_ack),
    bytes_of(captures::tcp_fin),
    bytes_of(captures::tcp_fin_ack),
    bytes_of(captures::tcp_fin2),
    bytes_of(captures::tcp_last_ack),
    bytes_of(captures::tcp_syn_closed),
    bytes_of(captures::tcp_rst),
    bytes_of(captures::udp),
    bytes_of(captures::icmp_port_unreachable),
    bytes_of(captures::icmp_echo_request),
    bytes_of(captures::icmp_echo_reply),
    bytes_of(captures::icmp_echo_ttl1),
    bytes_of(captures::icmp_time_exceeded),
    bytes_of(captures::lo_syn_partial),
    bytes_of(captures::lo_data_partial),
    bytes_of(captures::lo_rst),
    bytes_of(captures::lo_echo_request),
    bytes_of(captures::lo_echo_reply),
};

} // namespace

TEST_SUITE_BEGIN("wire.fuzz");

TEST_CASE("100,000 random buffers through every parser") {
  std::mt19937_64 rng{0x5eed'0001};
  fuzz_stats st;
  const auto rounds = static_cast<std::size_t>(100'000 * test_scale());
  for (std::size_t i = 0; i < rounds; ++i) {
    auto v = random_buffer(rng);
    check_pipeline(v, true, st);
    check_pipeline(v, false, st);
    check_each(v, st);
  }
  MESSAGE("accepted: frames ", st.accepted_frames, ", ip ", st.accepted_ip, ", tcp ", st.accepted_tcp, ", icmp ",
          st.accepted_icmp, ", arp ", st.accepted_arp, ", option lists ", st.accepted_options);
  CHECK(st.accepted_tcp > 0);
  CHECK(st.accepted_icmp > 0);
  CHECK(st.accepted_options > 0);
}

TEST_CASE("random mutations of the captured vectors") {
  std::mt19937_64 rng{0x5eed'0002};
  fuzz_stats st;
  const auto rounds = static_cast<std::size_t>(100'000 * test_scale());
  for (std::size_t i = 0; i < rounds; ++i) {
    auto src = all_captures[rng() % std::size(all_captures)];
    std::vector<std::byte> v(src.begin(), src.end());
    switch (rng() % 4) {
      case 0: // flip 1..4 random bytes
        for (std::size_t k = 1 + rng() % 4; k > 0; --k)
          v[rng() % v.size()] = std::byte{static_cast<std::uint8_t>(rng())};
        break;
      case 1: // flip bits in the headers, where the length fields are
        for (std::size_t k = 1 + rng() % 3; k > 0; --k)
          v[rng() % std::min<std::size_t>(v.size(), 74)] ^= std::byte{static_cast<std::uint8_t>(1u << (rng() % 8))};
        break;
      case 2: // cut or extend
        v.resize(rng() % (v.size() + 16));
        break;
      default: // overwrite the TCP option area (or whatever sits there) with random bytes
        for (std::size_t at = 54; at < std::min<std::size_t>(v.size(), 74); ++at)
          if (rng() % 2) v[at] = std::byte{static_cast<std::uint8_t>(rng() % 12)};
        break;
    }
    std::vector<std::byte> exact(v.begin(), v.end()); // exact-size heap allocation for ASan
    check_pipeline(exact, true, st);
    if (exact.size() >= 14) {
      std::vector<std::byte> l3(exact.begin() + 14, exact.end());
      check_pipeline(l3, false, st);
      check_each(l3, st);
      if (l3.size() >= 20) {
        std::vector<std::byte> l4(l3.begin() + 20, l3.end());
        check_each(l4, st);
      }
    }
  }
  MESSAGE("accepted: frames ", st.accepted_frames, ", ip ", st.accepted_ip, ", tcp ", st.accepted_tcp, ", icmp ",
          st.accepted_icmp, ", arp ", st.accepted_arp, ", option lists ", st.accepted_options);
  CHECK(st.accepted_tcp > 1000);
  CHECK(st.accepted_arp > 100);
}

TEST_CASE("random option lists of up to 40 bytes") {
  std::mt19937_64 rng{0x5eed'0003};
  fuzz_stats st;
  const auto rounds = static_cast<std::size_t>(100'000 * test_scale());
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < rounds; ++i) {
    std::vector<std::byte> v(rng() % 41);
    // Mostly known kinds with plausible lengths, so both outcomes are common.
    for (std::size_t at = 0; at < v.size(); ++at) {
      static constexpr std::uint8_t alphabet[] = {0, 1, 1, 2, 3, 4, 5, 8, 10, 2, 3, 4, 18, 26, 34, 30, 99};
      v[at] = std::byte{rng() % 3 == 0 ? static_cast<std::uint8_t>(rng()) : alphabet[rng() % std::size(alphabet)]};
    }
    check_each(v, st);
    if (!parse_tcp_options(v)) ++rejected;
  }
  MESSAGE("option lists accepted ", st.accepted_options, ", rejected ", rejected);
  CHECK(st.accepted_options > rounds / 20);
  CHECK(rejected > rounds / 20);
}

TEST_CASE("random text for the address parsers") {
  std::mt19937_64 rng{0x5eed'0004};
  static constexpr char alphabet[] = "0123456789.:/-abcdefABCDEF x";
  const auto rounds = static_cast<std::size_t>(100'000 * test_scale());
  std::size_t ok = 0;
  for (std::size_t i = 0; i < rounds; ++i) {
    std::string s(rng() % 24, ' ');
    for (auto& c : s) c = alphabet[rng() % (sizeof alphabet - 1)];
    if (rng() % 4 == 0)
      s = fmt::format("{}.{}.{}.{}", rng() % 300, rng() % 300, rng() % 260, rng() % 256) + s.substr(0, rng() % 3);
    if (auto a = ipv4_address::parse(s)) {
      ++ok;
      CHECK(fmt::format("{}", *a) == s); // only the canonical form is accepted
    }
    if (auto c = ipv4_cidr::parse(s)) CHECK(fmt::format("{}", *c) == s);
    if (auto e = endpoint::parse(s)) CHECK(fmt::format("{}", *e) == s);
    if (auto m = mac_address::parse(s)) CHECK(mac_address::parse(fmt::format("{}", *m)).value() == *m);
  }
  CHECK(ok > 0);
}

TEST_SUITE_END();
