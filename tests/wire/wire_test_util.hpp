// Helpers shared by the tests of include/synack/wire/.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "synack/wire/wire.hpp"

namespace synack::wire::test {

template <std::size_t N>
inline auto bytes_of(const std::uint8_t (&a)[N]) -> bytes_view {
  return std::as_bytes(std::span<const std::uint8_t, N>{a});
}

inline auto to_vec(bytes_view b) -> std::vector<std::byte> { return {b.begin(), b.end()}; }
inline auto to_vec(std::initializer_list<std::uint8_t> l) -> std::vector<std::byte> {
  std::vector<std::byte> v;
  for (auto x : l) v.push_back(std::byte{x});
  return v;
}

inline auto same(bytes_view a, bytes_view b) -> bool { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

inline auto hex(bytes_view b) -> std::string {
  std::string s;
  for (auto x : b) s += fmt::format("{:02x}", std::to_integer<unsigned>(x));
  return s;
}

/// SYNACK_TEST_SCALE (default 1): the sanitizer build may run smaller matrices.
inline auto test_scale() -> double {
  if (const char* s = std::getenv("SYNACK_TEST_SCALE")) {
    double v = std::atof(s);
    if (v > 0) return v;
  }
  return 1.0;
}

/// Every layer of a frame or packet, as far as it parsed.
struct parsed {
  std::optional<ethernet_repr> eth;
  std::optional<arp_repr> arp;
  std::optional<ipv4_repr> ip;
  std::optional<tcp_repr> tcp;
  std::optional<icmpv4_repr> icmp;
};

/// The full receive pipeline: Ethernet -> ARP | IPv4 -> TCP | ICMP, with checksums verified.
/// Returns the first error.
inline auto parse_ip(bytes_view bytes, parsed& out, checksum_check check = checksum_check::verify)
    -> expected<void, wire_error> {
  auto ip = ipv4_packet<bytes_view>::checked(bytes);
  if (!ip) return unexpected{ip.error()};
  auto ipr = ipv4_repr::parse(*ip, check);
  if (!ipr) return unexpected{ipr.error()};
  out.ip = *ipr;
  if (ipr->protocol == ip_protocol::tcp) {
    auto t = tcp_packet<bytes_view>::checked(ip->payload());
    if (!t) return unexpected{t.error()};
    auto tr = tcp_repr::parse(*t, ipr->src, ipr->dst, check);
    if (!tr) return unexpected{tr.error()};
    out.tcp = *tr;
  } else if (ipr->protocol == ip_protocol::icmp) {
    auto c = icmpv4_packet<bytes_view>::checked(ip->payload());
    if (!c) return unexpected{c.error()};
    auto cr = icmpv4_repr::parse(*c, check);
    if (!cr) return unexpected{cr.error()};
    out.icmp = *cr;
  }
  return {};
}

inline auto parse_frame(bytes_view bytes, parsed& out, checksum_check check = checksum_check::verify)
    -> expected<void, wire_error> {
  auto f = ethernet_frame<bytes_view>::checked(bytes);
  if (!f) return unexpected{f.error()};
  auto er = ethernet_repr::parse(*f);
  if (!er) return unexpected{er.error()};
  out.eth = *er;
  if (er->ethertype == ethertype::arp) {
    auto a = arp_packet<bytes_view>::checked(f->payload());
    if (!a) return unexpected{a.error()};
    auto ar = arp_repr::parse(*a);
    if (!ar) return unexpected{ar.error()};
    out.arp = *ar;
    return {};
  }
  if (er->ethertype == ethertype::ipv4) return parse_ip(f->payload(), out, check);
  return {};
}

/// Emits what parse_frame / parse_ip produced into a fresh buffer (the inverse of the pipeline).
inline auto emit(const parsed& p, bool with_ethernet) -> std::vector<std::byte> {
  std::size_t l3 = 0;
  if (p.arp) l3 = arp_repr::buffer_len();
  if (p.ip) {
    std::size_t l4 = p.tcp ? p.tcp->buffer_len() : p.icmp ? p.icmp->buffer_len() : p.ip->payload_len;
    l3 = ipv4_repr::header_len() + l4;
  }
  std::size_t off = with_ethernet ? ethernet_repr::header_len() : 0;
  std::vector<std::byte> buf(off + l3);
  bytes_mut b{buf};
  if (with_ethernet) {
    ethernet_frame<bytes_mut> f{b};
    p.eth->emit(f);
  }
  if (p.arp) {
    arp_packet<bytes_mut> a{b.subspan(off)};
    p.arp->emit(a);
  }
  if (p.ip) {
    auto ipr = *p.ip;
    ipr.payload_len = l3 - ipv4_repr::header_len();
    ipv4_packet<bytes_mut> ip{b.subspan(off)};
    ipr.emit(ip);
    auto l4 = b.subspan(off + ipv4_repr::header_len());
    if (p.tcp) {
      tcp_packet<bytes_mut> t{l4};
      p.tcp->emit(t, ipr.src, ipr.dst);
    } else if (p.icmp) {
      icmpv4_packet<bytes_mut> c{l4};
      p.icmp->emit(c);
    }
  }
  return buf;
}

} // namespace synack::wire::test

namespace doctest {
template <>
struct StringMaker<synack::wire::wire_error> {
  static auto convert(synack::wire::wire_error e) -> String { return String(to_string(e).data()); }
};
} // namespace doctest
