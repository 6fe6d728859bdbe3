// tests/link/packets.hpp: IPv4 packets for the link tests: ICMP echo requests written in
// place, UDP and ICMP recognised on the way in, and a link that records what it is given.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "synack/link/link.hpp"
#include "synack/wire/wire.hpp"

namespace link_test {

using namespace synack;

inline constexpr wire::ipv4_address kernel_ip{192, 0, 2, 1};
inline constexpr wire::ipv4_address synack_ip{192, 0, 2, 2};

inline auto bytes_of(std::string_view s) -> bytes_view { return as_bytes(s); }
inline auto vec(bytes_view b) -> std::vector<std::byte> { return {b.begin(), b.end()}; }

/// Length of an IPv4 + ICMP echo request carrying `data`.
inline auto echo_len(bytes_view data) -> std::size_t { return 20 + 8 + data.size(); }

/// Writes an IPv4 + ICMP echo request from `src` to `dst` into `out` (echo_len(data) bytes).
inline void write_echo_request(bytes_mut out, wire::ipv4_address src, wire::ipv4_address dst, std::uint16_t ident,
                               std::uint16_t seq, bytes_view data) {
  const auto icmp = wire::icmpv4_repr::echo_request(ident, seq, data);
  wire::ipv4_repr ip;
  ip.src = src;
  ip.dst = dst;
  ip.protocol = wire::ip_protocol::icmp;
  ip.payload_len = icmp.buffer_len();
  ip.ident = seq;
  wire::ipv4_packet<bytes_mut> p{out};
  ip.emit(p);
  wire::icmpv4_packet<bytes_mut> c{out.subspan(20, icmp.buffer_len())};
  icmp.emit(c);
}

struct udp_datagram {
  wire::ipv4_address src;
  wire::ipv4_address dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::string payload;
};

/// The UDP datagram in an IPv4 packet (header checksum verified), if it is one.
inline auto parse_udp(bytes_view packet) -> std::optional<udp_datagram> {
  auto v = wire::ipv4_packet<bytes_view>::checked(packet);
  if (!v) return std::nullopt;
  auto ip = wire::ipv4_repr::parse(*v);
  if (!ip || ip->protocol != wire::ip_protocol::udp) return std::nullopt;
  const bytes_view u = v->payload();
  if (u.size() < 8) return std::nullopt;
  udp_datagram d{ip->src, ip->dst, load_be<std::uint16_t>(u, 0), load_be<std::uint16_t>(u, 2), {}};
  d.payload.assign(as_chars(u.subspan(8)));
  return d;
}

struct icmp_message {
  wire::ipv4_address src;
  wire::ipv4_address dst;
  wire::icmpv4_type type;
  std::uint16_t ident = 0;
  std::uint16_t seq = 0;
  std::string data;
};

/// The ICMP message in an IPv4 packet (both checksums verified), if it is one.
inline auto parse_icmp(bytes_view packet) -> std::optional<icmp_message> {
  auto v = wire::ipv4_packet<bytes_view>::checked(packet);
  if (!v) return std::nullopt;
  auto ip = wire::ipv4_repr::parse(*v);
  if (!ip || ip->protocol != wire::ip_protocol::icmp) return std::nullopt;
  auto c = wire::icmpv4_packet<bytes_view>::checked(v->payload());
  if (!c) return std::nullopt;
  auto r = wire::icmpv4_repr::parse(*c);
  if (!r) return std::nullopt;
  return icmp_message{ip->src, ip->dst, r->type, r->ident, r->seq_no, std::string(as_chars(r->data))};
}

/// Collects the packets a link hands up (copies them: the views die with the call).
struct collector {
  std::vector<std::vector<std::byte>> packets;
  auto handler() -> link::rx_handler {
    return {[](void* self, bytes_view p, const link::rx_meta&) {
              static_cast<collector*>(self)->packets.push_back(vec(p));
            },
            this};
  }
};

/// A link that records what is transmitted and delivers what the test injects.
struct fake_link {
  link::capabilities caps{};
  link::rx_handler handler;
  std::vector<std::vector<std::byte>> sent;
  std::size_t free = 1000;
  std::size_t flushes = 0;
  bool stopped = false;

  auto capabilities() const noexcept -> link::capabilities { return caps; }
  void start(link::rx_handler h) { handler = h; }
  std::vector<link::tx_meta> sent_meta;
  template <class F>
  auto transmit(std::size_t len, F&& fill, const link::tx_meta& meta = {}) -> bool {
    if (free == 0) return false;
    sent_meta.push_back(meta);
    --free;
    std::vector<std::byte> b(len);
    fill(bytes_mut{b});
    sent.push_back(std::move(b));
    return true;
  }
  void flush() { ++flushes; }
  void stop() { stopped = true; }
  void inject(bytes_view p) { handler(p); }
};
static_assert(link::link<fake_link>);

} // namespace link_test
