// synack/wire/format.hpp: one-line, tcpdump-like summaries of whole packets, for the tracer.
//
// Every repr has its own fmt::formatter next to it (ethernet_repr, arp_repr, ipv4_repr,
// icmpv4_repr, tcp_repr / tcp_summary, tcp_flags, the address types). This header adds
// `packet_summary`, which parses a raw buffer layer by layer and prints what it finds, never
// failing: a layer that does not parse is printed as "[<error>]" after what was understood.
//
//   fmt::print("{}\n", packet_summary{frame, link_medium::ethernet});
//   02:00:00:00:00:01 > 02:00:00:00:00:02 IPv4 192.0.2.1:5000 > 192.0.2.2:7788 [S] seq=... len=0
//
// Checksums are not verified here (checksum_check::skip): a trace shows what was on the wire.
#pragma once

#include <fmt/format.h>

#include "synack/wire/arp.hpp"
#include "synack/wire/ethernet.hpp"
#include "synack/wire/icmpv4.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::wire {

/// What the first byte of a buffer is.
enum class link_medium : std::uint8_t {
  ethernet, ///< an Ethernet II frame (AF_PACKET)
  ip,       ///< an IPv4 packet (tun)
};

struct packet_summary {
  bytes_view bytes;
  link_medium medium = link_medium::ip;
};

namespace detail {

template <class Out>
auto format_ipv4_summary(Out out, bytes_view bytes) -> Out {
  auto ip = ipv4_packet<bytes_view>::checked(bytes);
  if (!ip) return fmt::format_to(out, "IPv4 [{}]", ip.error());
  auto ipr = ipv4_repr::parse(*ip, checksum_check::skip);
  if (!ipr) return fmt::format_to(out, "IPv4 {} > {} [{}]", ip->src(), ip->dst(), ipr.error());
  if (ipr->is_fragment() && ipr->fragment_offset != 0) return fmt::format_to(out, "{}", *ipr);
  switch (ipr->protocol) {
    case ip_protocol::tcp: {
      auto t = tcp_packet<bytes_view>::checked(ip->payload());
      if (!t) return fmt::format_to(out, "{} [TCP {}]", *ipr, t.error());
      auto tr = tcp_repr::parse(*t, ipr->src, ipr->dst, checksum_check::skip);
      if (!tr) return fmt::format_to(out, "{} [TCP {}]", *ipr, tr.error());
      return fmt::format_to(out, "{}", tcp_summary{ipr->src, ipr->dst, *tr});
    }
    case ip_protocol::icmp: {
      auto c = icmpv4_packet<bytes_view>::checked(ip->payload());
      if (!c) return fmt::format_to(out, "{} [ICMP {}]", *ipr, c.error());
      auto cr = icmpv4_repr::parse(*c, checksum_check::skip);
      if (!cr) return fmt::format_to(out, "{} [ICMP {}]", *ipr, cr.error());
      return fmt::format_to(out, "{} > {} {}", ipr->src, ipr->dst, *cr);
    }
    default:
      return fmt::format_to(out, "{}", *ipr);
  }
}

} // namespace detail
} // namespace synack::wire

template <>
struct fmt::formatter<synack::wire::packet_summary> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <class Ctx>
  auto format(const synack::wire::packet_summary& s, Ctx& ctx) const {
    namespace w = synack::wire;
    auto out = ctx.out();
    if (s.medium == w::link_medium::ip) return w::detail::format_ipv4_summary(out, s.bytes);
    auto f = w::ethernet_frame<synack::bytes_view>::checked(s.bytes);
    if (!f) return fmt::format_to(out, "Ethernet [{}]", f.error());
    auto er = w::ethernet_repr::parse(*f);
    if (!er) return fmt::format_to(out, "{} > {} {} [{}]", f->src(), f->dst(), f->ethertype(), er.error());
    out = fmt::format_to(out, "{} > {} ", er->src, er->dst);
    switch (er->ethertype) {
      case w::ethertype::ipv4:
        return w::detail::format_ipv4_summary(out, f->payload());
      case w::ethertype::arp: {
        auto a = w::arp_packet<synack::bytes_view>::checked(f->payload());
        if (!a) return fmt::format_to(out, "ARP [{}]", a.error());
        auto ar = w::arp_repr::parse(*a);
        if (!ar) return fmt::format_to(out, "ARP [{}]", ar.error());
        return fmt::format_to(out, "{}", *ar);
      }
      default:
        return fmt::format_to(out, "{} len={}", er->ethertype, f->payload().size());
    }
  }
};
