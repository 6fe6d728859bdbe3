// examples/common/net_setup.hpp: the link options every example accepts, and the code that
// turns them into a running synack stack.
//
//   --link tun|af_packet   --ifname NAME   --addr A.B.C.D/PREFIX   --peer A.B.C.D
//   --gateway A.B.C.D      --mac MAC       --mtu N                 --pcap FILE     --trace
//   --no-offload           --busy-poll US
//
// with_stack(loop, args, body) opens the link (creating and configuring the tun device, or
// binding the AF_PACKET socket), wraps it in the tracer (always; silent without --trace) and,
// with --pcap, the pcap writer, builds the stack and calls body(stack). The link is chosen at
// run time, so the stack is a `stack<link::any_link>`: one instantiation for every choice.
// Errors (no /dev/net/tun, no permission, unknown interface) print one line and return 1.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "cli.hpp"
#include "synack/synack.hpp"

namespace examples {

struct link_args {
  std::string link = "tun";
  std::string ifname = "synack0";
  synack::wire::ipv4_cidr addr{synack::wire::ipv4_address{192, 0, 2, 2}, 24};
  synack::wire::ipv4_address peer{192, 0, 2, 1};
  bool peer_given = false; // --peer was on the command line (not the default)
  std::optional<synack::wire::ipv4_address> gateway;
  std::optional<synack::wire::mac_address> mac;
  std::size_t mtu = 1500;
  std::string pcap;
  bool trace = false;
  bool no_offload = false;
  unsigned busy_poll_us = 0;
};

/// The options that do not fit together, as one line (or "" when they do).
inline auto check_link_args(const link_args& a) -> std::string {
  const auto net = a.addr.network();
  if (a.gateway) {
    if (*a.gateway == a.addr.address())
      return fmt::format("--gateway {} is synack's own address (--addr {})", *a.gateway, a.addr);
    if (!a.addr.contains(*a.gateway))
      return fmt::format("--gateway {} is not in synack's network {} (--addr {}): the next hop must be on the link",
                         *a.gateway, net, a.addr);
  }
  if (a.link == "tun") {
    const auto peer = a.peer_given ? fmt::format("--peer {}", a.peer) : fmt::format("--peer {} (the default)", a.peer);
    if (a.peer == a.addr.address())
      return fmt::format(
          "{} is synack's own address (--addr {}): the kernel's side of the tun device needs another one", peer,
          a.addr);
    if (!a.addr.contains(a.peer) && !a.gateway)
      return fmt::format(
          "{} is not in synack's network {} (--addr {}) and there is no --gateway: synack could not "
          "reach the kernel's side; give a --peer in {}",
          peer, net, a.addr, net);
  }
  return {};
}

inline void add_link_options(cli& c, link_args& a) {
  c.option("link", "tun|af_packet", "how packets move: a tun device (default) or AF_PACKET on an interface",
           [&](std::string_view v) -> std::string {
             if (v != "tun" && v != "af_packet") return "must be tun or af_packet";
             a.link = std::string(v);
             return {};
           });
  c.option("ifname", "NAME", "the tun device to create or attach to, or the interface for af_packet (synack0)",
           [&](std::string_view v) -> std::string {
             if (v.empty() || v.size() > 15) return "must be 1 to 15 characters";
             a.ifname = std::string(v);
             return {};
           });
  c.option("addr", "A.B.C.D/PREFIX", "synack's own address and network (192.0.2.2/24)",
           [&](std::string_view v) -> std::string {
             auto r = synack::wire::ipv4_cidr::parse(v);
             if (!r) return "not an address/prefix";
             a.addr = *r;
             return {};
           });
  c.option("peer", "A.B.C.D", "tun: the kernel side's address, configured on the device (192.0.2.1)",
           [&](std::string_view v) -> std::string {
             auto r = synack::wire::ipv4_address::parse(v);
             if (!r) return "not an IPv4 address";
             a.peer = *r;
             a.peer_given = true;
             return {};
           });
  c.option("gateway", "A.B.C.D", "where packets for other networks go", [&](std::string_view v) -> std::string {
    auto r = synack::wire::ipv4_address::parse(v);
    if (!r) return "not an IPv4 address";
    a.gateway = *r;
    return {};
  });
  c.option("mac", "MAC", "af_packet: synack's own MAC address (default: the interface's)",
           [&](std::string_view v) -> std::string {
             auto r = synack::wire::mac_address::parse(v);
             if (!r) return "not a MAC address (aa:bb:cc:dd:ee:ff)";
             a.mac = *r;
             return {};
           });
  c.option("mtu", "N", "IP MTU (1500)",
           [&](std::string_view v) { return parse_number<std::size_t>(v, a.mtu, 576, 65535); });
  c.option("pcap", "FILE", "write every packet to a pcap file (tshark and Wireshark read it)",
           [&](std::string_view v) -> std::string {
             if (v.empty()) return "empty file name";
             a.pcap = std::string(v);
             return {};
           });
  c.flag("trace", "print every segment and every state change as it happens", a.trace);
  c.option("busy-poll", "US", "poll for completions this long before sleeping (0: never; trades a core for latency)",
           [&](std::string_view v) { return parse_number<unsigned>(v, a.busy_poll_us, 0, 1000000); });
  c.flag("no-offload",
         "no checksum or segmentation offload (tun: IFF_VNET_HDR off; af_packet: PACKET_VNET_HDR off): "
         "MTU-sized packets both ways",
         a.no_offload);
  c.check([&a] { return check_link_args(a); });
}

/// The event loop's options for these arguments (busy polling).
inline auto loop_options_from(const link_args& a) -> synack::loop_options {
  synack::loop_options o;
  o.busy_poll = std::chrono::microseconds(a.busy_poll_us);
  return o;
}

inline auto stack_options_from(const link_args& a, std::optional<synack::wire::mac_address> mac)
    -> synack::stack_options {
  synack::stack_options o;
  o.mac = mac;
  o.address = a.addr;
  o.gateway = a.gateway;
  o.mtu = a.mtu;
  o.trace = a.trace;
  o.trace_file = stdout;
  return o;
}

namespace detail {

/// The stack every example runs on: its link is chosen at run time.
using example_stack = synack::stack<synack::link::any_link>;

template <class Link, class Body>
auto run_with_link(synack::event_loop& loop, Link& link, const link_args& a, Body& body) -> int {
  std::optional<synack::wire::mac_address> mac;
  if constexpr (requires { link.mac(); }) mac = link.mac(); // af_packet: the interface's, or --mac
  synack::link::tracer_options t;
  t.name = a.ifname;
  t.file = stdout;
  t.clock = &loop;
  t.trace_rx = t.trace_tx = a.trace;
  std::optional<synack::link::any_link> chosen;
  if (!a.pcap.empty()) {
    auto pcap = synack::link::pcap_writer<Link&>::open(link, a.pcap, synack::link::pcap_options{});
    if (!pcap) {
      fmt::print(stderr, "cannot write {}: {}\n", a.pcap, pcap.error().message());
      return 1;
    }
    chosen.emplace(synack::link::tracer<synack::link::pcap_writer<Link&>>{std::move(*pcap), std::move(t)});
  } else {
    chosen.emplace(synack::link::tracer<Link&>{link, std::move(t)});
  }
  example_stack net{loop, std::move(*chosen), stack_options_from(a, mac)};
  return body(net);
}

} // namespace detail

/// Opens the link `a` describes and runs body(stack&) on it; returns body's status, or 1 with
/// a one-line message when the link cannot be opened.
template <class Body>
auto with_stack(synack::event_loop& loop, const link_args& a, Body&& body) -> int {
  if (a.link == "tun") {
    synack::link::tun_options o;
    o.name = a.ifname;
    o.mtu = a.mtu;
    o.offload = !a.no_offload;
    o.kernel.address = synack::wire::ipv4_cidr{a.peer, a.addr.prefix_len()};
    o.kernel.peer = a.addr.address();
    auto tun = synack::link::tun::open(loop, o);
    if (!tun) {
      fmt::print(stderr, "cannot open tun device {}: {}\n", a.ifname, tun.error().message());
      return 1;
    }
    return detail::run_with_link(loop, *tun, a, body);
  }
  synack::link::af_packet_options o;
  o.interface = a.ifname;
  o.mac = a.mac;
  o.offload = !a.no_offload;
  auto pkt = synack::link::af_packet::open(loop, o);
  if (!pkt) {
    fmt::print(stderr, "cannot open AF_PACKET on {}: {}\n", a.ifname, pkt.error().message());
    return 1;
  }
  return detail::run_with_link(loop, *pkt, a, body);
}

} // namespace examples
