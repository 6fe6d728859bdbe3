// Tests for include/synack/net/ethernet.hpp and include/synack/net/arp_cache.hpp: hand-built
// frames in, frames captured by a fake link out, on a manual clock.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "synack/net/ethernet.hpp"
#include "synack/wire/wire.hpp"

using namespace synack;
using namespace synack::net;
using namespace std::chrono_literals;
using wire::arp_operation;
using wire::arp_repr;
using wire::ipv4_address;
using wire::mac_address;

namespace {

const mac_address our_mac{0x02, 0, 0, 0, 0, 0x02};
const ipv4_address our_ip{192, 0, 2, 2};
const mac_address peer_mac{0x02, 0, 0, 0, 0, 0x01};
const ipv4_address peer_ip{192, 0, 2, 1};
const mac_address other_mac{0x02, 0, 0, 0, 0, 0x03};
const ipv4_address other_ip{192, 0, 2, 3};

auto at(std::int64_t ms) -> instant { return instant::from_millis(ms); }

/// A link that keeps what it is given, and can refuse.
struct capture_link {
  std::vector<std::vector<std::byte>> frames;
  std::size_t free = 1000; // buffers left
  template <class F>
  auto transmit(std::size_t len, F&& fill) -> bool {
    if (free == 0) return false;
    --free;
    std::vector<std::byte> b(len);
    fill(bytes_mut{b});
    frames.push_back(std::move(b));
    return true;
  }
  auto take() -> std::vector<std::vector<std::byte>> { return std::exchange(frames, {}); }
};
static_assert(frame_transmitter<capture_link>);

auto config() -> ethernet_config {
  ethernet_config c;
  c.mac = our_mac;
  c.address = wire::ipv4_cidr{our_ip, 24};
  c.arp.announcements = 0; // most tests do not want the start-up announcements
  return c;
}

auto eth_frame(const mac_address& src, const mac_address& dst, wire::ethertype type, bytes_view payload)
    -> std::vector<std::byte> {
  std::vector<std::byte> f(14 + payload.size());
  wire::ethernet_frame<bytes_mut> v{f};
  wire::ethernet_repr{src, dst, type}.emit(v);
  std::memcpy(f.data() + 14, payload.data(), payload.size());
  return f;
}

auto arp_frame(const mac_address& eth_dst, const arp_repr& a) -> std::vector<std::byte> {
  std::vector<std::byte> p(28);
  wire::arp_packet<bytes_mut> v{p};
  a.emit(v);
  auto f = eth_frame(a.sender_mac, eth_dst, wire::ethertype::arp, p);
  f.resize(60); // padded as on a real wire
  return f;
}

auto request(const mac_address& from_mac, ipv4_address from_ip, ipv4_address target) -> std::vector<std::byte> {
  return arp_frame(mac_address::broadcast(), arp_repr{arp_operation::request, from_mac, from_ip, {}, target});
}
auto reply(const mac_address& from_mac, ipv4_address from_ip, const mac_address& to_mac, ipv4_address to_ip)
    -> std::vector<std::byte> {
  return arp_frame(to_mac, arp_repr{arp_operation::reply, from_mac, from_ip, to_mac, to_ip});
}

struct parsed {
  wire::ethernet_repr eth;
  std::optional<arp_repr> arp;
  bytes_view payload;
};
auto parse(const std::vector<std::byte>& f) -> parsed {
  auto v = wire::ethernet_frame<bytes_view>::checked(f);
  REQUIRE(v);
  auto e = wire::ethernet_repr::parse(*v);
  REQUIRE(e);
  parsed p{*e, std::nullopt, v->payload()};
  if (e->ethertype == wire::ethertype::arp) {
    auto a = wire::arp_packet<bytes_view>::checked(v->payload());
    REQUIRE(a);
    auto r = arp_repr::parse(*a);
    REQUIRE(r);
    p.arp = *r;
  }
  return p;
}

/// fill() for an "IPv4 packet" whose bytes are all `tag` (the Ethernet layer does not look).
auto packet_of(std::uint8_t tag) {
  return [tag](bytes_mut b) { std::memset(b.data(), tag, b.size()); };
}
auto tag_of(const std::vector<std::byte>& frame) -> unsigned { return std::to_integer<unsigned>(frame.at(14)); }

auto counter_lines(const ethernet_counters& c) -> std::vector<std::string> {
  std::vector<std::string> v;
  for_each_counter(c, [&](const char* name, std::uint64_t value) { v.push_back(fmt::format("{}: {}", name, value)); });
  return v;
}

} // namespace

TEST_SUITE_BEGIN("net.ethernet");

TEST_CASE("an ARP request for our address is answered to the requester, and the requester is learned") {
  ethernet_interface eth(config());
  capture_link link;
  CHECK(std::holds_alternative<std::monostate>(eth.receive(at(0), request(peer_mac, peer_ip, our_ip))));
  CHECK(eth.counters().arp_rx_requests == 1);
  CHECK(link.frames.empty()); // replies are queued, sent by poll()
  REQUIRE(eth.next_deadline());
  CHECK(*eth.next_deadline() <= at(0));
  eth.poll(at(0), link);
  auto out = link.take();
  REQUIRE(out.size() == 1);
  const auto p = parse(out[0]);
  CHECK(p.eth == wire::ethernet_repr{our_mac, peer_mac, wire::ethertype::arp});
  REQUIRE(p.arp);
  CHECK(*p.arp == arp_repr{arp_operation::reply, our_mac, our_ip, peer_mac, peer_ip});
  CHECK(eth.counters().arp_tx_replies == 1);
  // RFC 826: the target learns the sender.
  CHECK(eth.lookup(peer_ip) == peer_mac);
  CHECK_FALSE(eth.next_deadline());
}

TEST_CASE("ARP requests for other addresses are not answered and teach nothing new") {
  ethernet_interface eth(config());
  capture_link link;
  eth.receive(at(0), request(peer_mac, peer_ip, other_ip));
  eth.poll(at(0), link);
  CHECK(link.frames.empty());
  CHECK_FALSE(eth.lookup(peer_ip));
  CHECK(eth.counters().arp_rx_requests == 1);
  CHECK(eth.counters().arp_tx_replies == 0);
}

TEST_CASE("an ARP probe (sender 0.0.0.0) for our address is answered; the prober is not learned") {
  ethernet_interface eth(config());
  capture_link link;
  eth.receive(at(0), request(peer_mac, ipv4_address{}, our_ip));
  eth.poll(at(0), link);
  auto out = link.take();
  REQUIRE(out.size() == 1);
  CHECK(*parse(out[0]).arp == arp_repr{arp_operation::reply, our_mac, our_ip, peer_mac, ipv4_address{}});
  CHECK(eth.cache().size() == 0);
}

TEST_CASE("a packet to an unresolved next hop waits; the reply sends the waiting packets in order") {
  ethernet_interface eth(config());
  capture_link link;
  CHECK(eth.send_ipv4(at(0), peer_ip, 40, packet_of(1), link));
  CHECK(eth.send_ipv4(at(0), peer_ip, 40, packet_of(2), link));
  CHECK(eth.send_ipv4(at(1), peer_ip, 40, packet_of(3), link));
  auto out = link.take();
  REQUIRE(out.size() == 1); // one broadcast request, sent at once
  const auto p = parse(out[0]);
  CHECK(p.eth.dst == mac_address::broadcast());
  CHECK(*p.arp == arp_repr{arp_operation::request, our_mac, our_ip, mac_address{}, peer_ip});
  CHECK(eth.counters().arp_queued == 3);
  CHECK(eth.cache().queued_total() == 3);
  CHECK(eth.next_deadline() == at(1000));

  eth.receive(at(5), reply(peer_mac, peer_ip, our_mac, our_ip));
  CHECK(eth.lookup(peer_ip) == peer_mac);
  CHECK(eth.counters().arp_resolved == 1);
  CHECK(*eth.next_deadline() <= at(5));
  eth.poll(at(5), link);
  out = link.take();
  REQUIRE(out.size() == 3);
  for (unsigned i = 0; i < 3; ++i) {
    const auto q = parse(out[i]);
    CHECK(q.eth == wire::ethernet_repr{our_mac, peer_mac, wire::ethertype::ipv4});
    CHECK(q.payload.size() == 40);
    CHECK(tag_of(out[i]) == i + 1);
  }
  CHECK(eth.cache().queued_total() == 0);
  // Resolved: the next packet goes straight out.
  CHECK(eth.send_ipv4(at(6), peer_ip, 20, packet_of(4), link));
  out = link.take();
  REQUIRE(out.size() == 1);
  CHECK(tag_of(out[0]) == 4);
  CHECK(out[0].size() == 34);
  CHECK_FALSE(eth.next_deadline());
}

TEST_CASE("requests are retried 1 s apart, 3 times; then the waiting packets are dropped and counted") {
  ethernet_interface eth(config());
  capture_link link;
  eth.send_ipv4(at(0), peer_ip, 40, packet_of(1), link);
  eth.send_ipv4(at(0), peer_ip, 40, packet_of(2), link);
  CHECK(link.take().size() == 1);
  eth.poll(at(999), link);
  CHECK(link.take().empty());
  CHECK(eth.next_deadline() == at(1000));
  eth.poll(at(1000), link);
  CHECK(link.take().size() == 1);
  CHECK(eth.next_deadline() == at(2000));
  eth.poll(at(2000), link);
  CHECK(link.take().size() == 1);
  CHECK(eth.counters().arp_tx_requests == 3);
  CHECK(eth.next_deadline() == at(3000));
  eth.poll(at(3000), link); // no fourth request: give up
  CHECK(link.take().empty());
  CHECK(eth.counters().arp_failures == 1);
  CHECK(eth.counters().arp_dropped_unresolved == 2);
  CHECK(eth.cache().size() == 0);
  CHECK(eth.cache().queued_total() == 0);
  CHECK_FALSE(eth.next_deadline());
  // A new packet starts a new resolution.
  eth.send_ipv4(at(4000), peer_ip, 40, packet_of(3), link);
  CHECK(link.take().size() == 1);
  CHECK(eth.counters().arp_tx_requests == 4);
}

TEST_CASE("queue bounds: the oldest packet of a hop makes room; a full pool drops the new one") {
  auto cfg = config();
  cfg.arp.max_queued_per_hop = 3;
  cfg.arp.max_queued_total = 4;
  ethernet_interface eth(cfg);
  capture_link link;
  for (std::uint8_t i = 1; i <= 5; ++i) CHECK(eth.send_ipv4(at(0), peer_ip, 30, packet_of(i), link));
  CHECK(eth.counters().arp_queue_overflows == 2);
  CHECK(eth.cache().queued_total() == 3);
  // Another hop takes the last slot of the pool; its second packet finds the pool full.
  CHECK(eth.send_ipv4(at(0), other_ip, 30, packet_of(10), link));
  CHECK(eth.send_ipv4(at(0), other_ip, 30, packet_of(11), link));
  CHECK(eth.counters().arp_queue_overflows == 3);
  CHECK(eth.cache().queued_total() == 4);
  // Too big for a slot: dropped.
  CHECK(eth.send_ipv4(at(0), other_ip, cfg.arp.max_packet_len + 1, packet_of(12), link));
  CHECK(eth.counters().arp_queue_overflows == 4);
  link.take();
  eth.receive(at(1), reply(peer_mac, peer_ip, our_mac, our_ip));
  eth.receive(at(1), reply(other_mac, other_ip, our_mac, our_ip));
  eth.poll(at(1), link);
  std::vector<unsigned> tags;
  for (auto& f : link.take()) tags.push_back(tag_of(f));
  // RFC 1122 §2.3.2.2: the latest packets of a hop are kept.
  CHECK(tags == std::vector<unsigned>{3, 4, 5, 10});
}

TEST_CASE("cache bounds: a full cache evicts the LRU resolved entry; past max_incomplete, the LRU incomplete one") {
  auto cfg = config();
  cfg.arp.max_entries = 3;
  cfg.arp.max_incomplete = 1;
  ethernet_interface eth(cfg);
  capture_link link;
  auto ip = [](std::uint8_t n) { return ipv4_address{192, 0, 2, n}; };
  auto mac = [](std::uint8_t n) { return mac_address{0x02, 0, 0, 0, 1, n}; };
  // Three hosts resolve (they ask for us), used in the order 12, 10, 11.
  for (std::uint8_t n = 10; n < 13; ++n) eth.receive(at(0), request(mac(n), ip(n), our_ip));
  eth.poll(at(0), link);
  link.take();
  CHECK(eth.cache().size() == 3);
  eth.send_ipv4(at(1), ip(12), 20, packet_of(1), link);
  eth.send_ipv4(at(2), ip(10), 20, packet_of(1), link);
  eth.send_ipv4(at(3), ip(11), 20, packet_of(1), link);
  link.take();
  // A fourth host evicts .12, the least recently used.
  eth.send_ipv4(at(4), ip(20), 20, packet_of(2), link);
  CHECK(eth.cache().size() == 3);
  CHECK_FALSE(eth.lookup(ip(12)));
  CHECK(eth.lookup(ip(10)));
  CHECK(eth.cache().evictions() == 1);
  CHECK(eth.counters().arp_evictions == 1);
  CHECK(eth.cache().incomplete() == 1);
  // More unresolved hosts: max_incomplete is reached, so each evicts the previous incomplete
  // entry (and its waiting packet) instead of a resolved one.
  eth.send_ipv4(at(5), ip(21), 20, packet_of(3), link);
  eth.send_ipv4(at(6), ip(22), 20, packet_of(4), link);
  CHECK(eth.cache().size() == 3);
  CHECK(eth.cache().incomplete() == 1);
  CHECK(eth.lookup(ip(10)));
  CHECK(eth.lookup(ip(11)));
  CHECK(eth.cache().find(ip(20)) == nullptr);
  CHECK(eth.cache().find(ip(21)) == nullptr);
  CHECK(eth.cache().find(ip(22)) != nullptr);
  CHECK(eth.counters().arp_incomplete_evictions == 2);
  CHECK(eth.counters().arp_dropped_unresolved == 2);
  CHECK(eth.counters().arp_cache_full == 0);
  // The last one still resolves and sends its packet.
  eth.receive(at(7), reply(mac(22), ip(22), our_mac, our_ip));
  eth.poll(at(7), link);
  auto out = link.take();
  REQUIRE_FALSE(out.empty());
  CHECK(parse(out.back()).eth.dst == mac(22));
  CHECK(tag_of(out.back()) == 4);
  // max_incomplete is clamped below max_entries: a resolved entry always keeps a place.
  auto all = config();
  all.arp.max_entries = 4;
  all.arp.max_incomplete = 100;
  arp_cache cache(all.arp);
  CHECK(cache.max_incomplete() == 3);
}

TEST_CASE("attack: a flood of incomplete entries neither evicts the gateway in use nor blocks new resolutions") {
  // SYNs from 100,000 forged on-link sources on a /16: the stack must resolve each SYN-ACK's
  // next hop, so each one makes an incomplete entry. Before, incomplete entries could not be
  // evicted: the table filled with them, the gateway entry (the only resolved one) was evicted
  // as least recently used, and could not come back (arp: packets dropped (cache full)).
  auto cfg = config();
  cfg.address = wire::ipv4_cidr{our_ip, 16};
  ethernet_interface eth(cfg);
  capture_link link;
  link.free = std::numeric_limits<std::size_t>::max();
  const ipv4_address gateway = peer_ip;
  const mac_address gateway_mac = peer_mac;
  // The gateway resolves, and carries our traffic.
  eth.send_ipv4(at(0), gateway, 40, packet_of(1), link);
  eth.receive(at(0), reply(gateway_mac, gateway, our_mac, our_ip));
  eth.poll(at(0), link);
  link.take();
  REQUIRE(eth.lookup(gateway) == gateway_mac);

  constexpr std::uint32_t flood = 100000;
  std::size_t max_incomplete = 0, max_queued = 0;
  std::uint64_t gateway_sent = 0, gateway_direct = 0, gateway_requests = 0;
  const ipv4_address newcomer{192, 0, 1, 1}; // outside the forged range
  const mac_address newcomer_mac{0x02, 0, 0, 0, 9, 9};
  bool newcomer_reached = false;
  for (std::uint32_t i = 0; i < flood; ++i) {
    const auto now = at(static_cast<std::int64_t>(i / 2)); // 2000 forged sources a second: 50 s
    // A forged on-link source in 192.0.0.0/16 (never ours, the gateway's, or a broadcast).
    const std::uint32_t host = 256 * 3 + i % (65536 - 1024);
    const ipv4_address forged{192, 0, static_cast<std::uint8_t>(host >> 8), static_cast<std::uint8_t>(host)};
    eth.send_ipv4(now, forged, 40, packet_of(2), link); // the SYN-ACK
    if (i % 100 == 0) {
      ++gateway_sent;
      const auto before = link.frames.size();
      eth.send_ipv4(now, gateway, 40, packet_of(3), link);
      if (link.frames.size() == before + 1 && parse(link.frames.back()).eth.dst == gateway_mac &&
          tag_of(link.frames.back()) == 3)
        ++gateway_direct;
    }
    if (i == flood / 2) eth.send_ipv4(now, newcomer, 40, packet_of(4), link); // a real on-link host
    if (i == flood / 2 + 1) eth.receive(now, reply(newcomer_mac, newcomer, our_mac, our_ip));
    eth.poll(now, link);
    for (const auto& fr : link.take()) {
      const auto p = parse(fr);
      if (p.arp && p.arp->target_ip == gateway) ++gateway_requests;
      if (!p.arp && p.eth.dst == newcomer_mac && tag_of(fr) == 4) newcomer_reached = true;
    }
    max_incomplete = std::max(max_incomplete, eth.cache().incomplete());
    max_queued = std::max(max_queued, eth.cache().queued_total());
  }
  const auto& c = eth.counters();
  MESSAGE("flood of " << flood << " forged on-link next hops over 50 s: " << gateway_direct << "/" << gateway_sent
                      << " packets to the gateway sent at once, " << gateway_requests
                      << " ARP requests for the gateway; incomplete entries at most " << max_incomplete << " (bound "
                      << eth.cache().max_incomplete() << "), queued packets at most " << max_queued << " (bound "
                      << cfg.arp.max_queued_total << "); " << c.arp_incomplete_evictions << " incomplete evicted, "
                      << c.arp_evictions << " resolved evicted, " << c.arp_cache_full << " dropped (cache full)");
  CHECK(gateway_direct == gateway_sent);
  CHECK(gateway_requests == 0);
  CHECK(eth.lookup(gateway) == gateway_mac);
  CHECK(max_incomplete <= cfg.arp.max_incomplete);
  CHECK(max_queued <= cfg.arp.max_queued_total);
  CHECK(c.arp_cache_full == 0);
  CHECK(c.arp_evictions == 0);
  CHECK(c.arp_incomplete_evictions > 0);
  CHECK(newcomer_reached);
  CHECK(eth.cache().size() <= cfg.arp.max_entries);
}

TEST_CASE("gratuitous ARP at start: RFC 5227 announcements, 2 s apart") {
  auto cfg = config();
  cfg.arp.announcements = 2;
  ethernet_interface eth(cfg);
  capture_link link;
  REQUIRE(eth.next_deadline());
  eth.poll(at(100), link);
  auto out = link.take();
  REQUIRE(out.size() == 1);
  auto p = parse(out[0]);
  CHECK(p.eth.dst == mac_address::broadcast());
  CHECK(*p.arp == arp_repr{arp_operation::request, our_mac, our_ip, mac_address{}, our_ip});
  CHECK(eth.next_deadline() == at(2100));
  eth.poll(at(2000), link);
  CHECK(link.take().empty());
  eth.poll(at(2100), link);
  CHECK(link.take().size() == 1);
  CHECK(eth.counters().arp_tx_announcements == 2);
  CHECK_FALSE(eth.next_deadline());
  eth.poll(at(10000), link);
  CHECK(link.take().empty());
  eth.announce(); // e.g. the link came back up
  eth.poll(at(10001), link);
  CHECK(link.take().size() == 1);
}

TEST_CASE("an entry that expires while in use is probed by unicast; silence removes it") {
  auto cfg = config();
  cfg.arp.reachable_time = 10s;
  ethernet_interface eth(cfg);
  capture_link link;
  eth.receive(at(0), request(peer_mac, peer_ip, our_ip));
  eth.poll(at(0), link);
  link.take();
  // Before expiry: straight out, no request.
  eth.send_ipv4(at(9999), peer_ip, 20, packet_of(1), link);
  CHECK(link.take().size() == 1);
  // After expiry: still straight out to the known MAC, plus a unicast request at the next poll.
  eth.send_ipv4(at(10000), peer_ip, 20, packet_of(2), link);
  auto out = link.take();
  REQUIRE(out.size() == 1);
  CHECK(parse(out[0]).eth.dst == peer_mac);
  eth.poll(at(10000), link);
  out = link.take();
  REQUIRE(out.size() == 1);
  auto p = parse(out[0]);
  CHECK(p.eth.dst == peer_mac); // RFC 1122 §2.3.2.1 unicast poll
  CHECK(*p.arp == arp_repr{arp_operation::request, our_mac, our_ip, mac_address{}, peer_ip});

  SUBCASE("an answer makes it reachable again") {
    eth.receive(at(10100), reply(peer_mac, peer_ip, our_mac, our_ip));
    eth.poll(at(11000), link);
    CHECK(link.take().empty());
    CHECK_FALSE(eth.next_deadline());
    CHECK(eth.cache().find(peer_ip)->state == arp_state::reachable);
  }
  SUBCASE("three unanswered polls remove it") {
    eth.poll(at(11000), link);
    eth.poll(at(12000), link);
    CHECK(link.take().size() == 2);
    eth.poll(at(13000), link);
    CHECK(eth.counters().arp_failures == 1);
    CHECK_FALSE(eth.lookup(peer_ip));
  }
}

TEST_CASE("unused expired entries are forgotten by the periodic clean-up") {
  auto cfg = config();
  cfg.arp.reachable_time = 10s;
  ethernet_interface eth(cfg);
  capture_link link;
  eth.receive(at(0), request(peer_mac, peer_ip, our_ip));
  eth.poll(at(0), link);
  eth.poll(at(15000), link);
  CHECK(eth.lookup(peer_ip));
  eth.poll(at(25000), link);
  CHECK_FALSE(eth.lookup(peer_ip));
}

TEST_CASE("RFC 826 merge: news about a known address updates it; a reply resolves") {
  ethernet_interface eth(config());
  capture_link link;
  eth.receive(at(0), request(peer_mac, peer_ip, our_ip));
  // The peer moved to another MAC and says so in a gratuitous ARP (not addressed to us).
  eth.receive(at(1), request(other_mac, peer_ip, peer_ip));
  CHECK(eth.lookup(peer_ip) == other_mac);
  // A gratuitous ARP about an address we do not know teaches nothing.
  eth.receive(at(2), request(other_mac, other_ip, other_ip));
  CHECK_FALSE(eth.lookup(other_ip));
  eth.poll(at(2), link);
  CHECK(link.take().size() == 1); // only the reply to the first request
}

TEST_CASE("RFC 5227 §2.4: a conflict on our address is counted and defended once per 10 s") {
  ethernet_interface eth(config());
  capture_link link;
  eth.receive(at(0), request(other_mac, our_ip, peer_ip));
  CHECK(eth.counters().arp_address_conflicts == 1);
  eth.poll(at(0), link);
  auto out = link.take();
  REQUIRE(out.size() == 1);
  CHECK(*parse(out[0]).arp == arp_repr{arp_operation::request, our_mac, our_ip, mac_address{}, our_ip});
  eth.receive(at(5000), request(other_mac, our_ip, peer_ip));
  eth.poll(at(5000), link);
  CHECK(link.take().empty());
  eth.receive(at(10000), request(other_mac, our_ip, peer_ip));
  eth.poll(at(10000), link);
  CHECK(link.take().size() == 1);
  CHECK(eth.counters().arp_address_conflicts == 3);
  CHECK_FALSE(eth.lookup(our_ip));
}

TEST_CASE("frames are filtered and every drop is counted by reason") {
  ethernet_interface eth(config());
  std::vector<std::byte> ip_payload(46, std::byte{0x45});
  // For us: handed up with the payload (padding included).
  auto in = eth.receive(at(0), eth_frame(peer_mac, our_mac, wire::ethertype::ipv4, ip_payload));
  REQUIRE(std::holds_alternative<ethernet_ipv4>(in));
  CHECK(std::get<ethernet_ipv4>(in).packet.size() == 46);
  CHECK(std::get<ethernet_ipv4>(in).src == peer_mac);
  CHECK_FALSE(std::get<ethernet_ipv4>(in).link_broadcast);
  in = eth.receive(at(0), eth_frame(peer_mac, mac_address::broadcast(), wire::ethertype::ipv4, ip_payload));
  REQUIRE(std::holds_alternative<ethernet_ipv4>(in));
  CHECK(std::get<ethernet_ipv4>(in).link_broadcast);
  // Not for us: another unicast MAC, a multicast group.
  eth.receive(at(0), eth_frame(peer_mac, other_mac, wire::ethertype::ipv4, ip_payload));
  eth.receive(at(0), eth_frame(peer_mac, mac_address{0x01, 0, 0x5e, 0, 0, 1}, wire::ethertype::ipv4, ip_payload));
  // Looped: our own source.
  eth.receive(at(0), eth_frame(our_mac, mac_address::broadcast(), wire::ethertype::ipv4, ip_payload));
  // Unsupported: IPv6, a VLAN tag, an 802.3 length, ARP for another hardware type.
  eth.receive(at(0), eth_frame(peer_mac, our_mac, wire::ethertype::ipv6, ip_payload));
  eth.receive(at(0), eth_frame(peer_mac, our_mac, wire::ethertype::vlan, ip_payload));
  eth.receive(at(0), eth_frame(peer_mac, our_mac, static_cast<wire::ethertype>(46), ip_payload));
  auto arp_other = request(peer_mac, peer_ip, our_ip);
  arp_other[14 + 1] = std::byte{6}; // htype 6 (IEEE 802)
  eth.receive(at(0), arp_other);
  // Bad: shorter than a header; an ARP packet cut short.
  eth.receive(at(0), bytes_view{ip_payload}.first(13));
  auto arp_short = request(peer_mac, peer_ip, our_ip);
  arp_short.resize(14 + 20);
  eth.receive(at(0), arp_short);
  // Bad ARP sender: a multicast MAC.
  eth.receive(at(0), request(mac_address{0x03, 0, 0, 0, 0, 9}, peer_ip, our_ip));
  const auto& c = eth.counters();
  CHECK(c.rx_frames == 12);
  CHECK(c.rx_ipv4 == 2);
  CHECK(c.rx_not_for_us == 2);
  CHECK(c.rx_looped == 1);
  CHECK(c.rx_unsupported == 4);
  CHECK(c.rx_bad_frames == 2);
  CHECK(c.arp_rx_bad == 1);
  CHECK(eth.cache().size() == 0);
}

TEST_CASE("broadcast and multicast next hops need no resolution") {
  ethernet_interface eth(config());
  capture_link link;
  eth.send_ipv4(at(0), ipv4_address::broadcast(), 20, packet_of(1), link);
  eth.send_ipv4(at(0), ipv4_address{192, 0, 2, 255}, 20, packet_of(2), link);
  eth.send_ipv4(at(0), ipv4_address{224, 129, 2, 3}, 20, packet_of(3), link);
  eth.send_ipv4(at(0), ipv4_address{}, 20, packet_of(4), link);
  auto out = link.take();
  REQUIRE(out.size() == 3);
  CHECK(parse(out[0]).eth.dst == mac_address::broadcast());
  CHECK(parse(out[1]).eth.dst == mac_address::broadcast());
  CHECK(parse(out[2]).eth.dst == mac_address{0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}); // RFC 1112 §6.4
  CHECK(eth.counters().tx_bad_next_hop == 1);
  CHECK(eth.cache().size() == 0);
}

TEST_CASE("a busy link: send_ipv4 reports it; queued packets and replies wait for the next poll") {
  ethernet_interface eth(config());
  capture_link link;
  link.free = 0;
  eth.send_ipv4(at(0), peer_ip, 20, packet_of(1), link); // the request could not go
  CHECK(eth.counters().tx_link_busy == 1);
  CHECK(eth.counters().arp_tx_requests == 0);
  CHECK(eth.next_deadline() == at(0));
  link.free = 1;
  eth.poll(at(1), link);
  CHECK(eth.counters().arp_tx_requests == 1);
  link.take();
  eth.receive(at(2), request(peer_mac, peer_ip, our_ip)); // resolves; a reply is owed
  link.free = 1;
  eth.poll(at(2), link); // the reply goes; the queued packet does not fit
  CHECK(link.take().size() == 1);
  CHECK(*eth.next_deadline() <= at(2));
  link.free = 10;
  eth.poll(at(3), link);
  auto out = link.take();
  REQUIRE(out.size() == 1);
  CHECK(tag_of(out[0]) == 1);
  link.free = 0;
  CHECK_FALSE(eth.send_ipv4(at(4), peer_ip, 20, packet_of(2), link)); // resolved, refused: retry
}

TEST_CASE("counters print like netstat -s") {
  ethernet_interface eth(config());
  eth.receive(at(0), request(peer_mac, peer_ip, our_ip));
  const auto lines = counter_lines(eth.counters());
  CHECK(lines.size() == 25);
  CHECK(lines.front() == "ethernet: frames received: 1");
  CHECK(std::find(lines.begin(), lines.end(), "arp: requests received: 1") != lines.end());
}

TEST_CASE("arp_cache: per-hop FIFO over a shared pool") {
  arp_config cfg;
  cfg.max_entries = 4;
  cfg.max_queued_total = 3;
  cfg.max_queued_per_hop = 2;
  cfg.max_packet_len = 8;
  arp_cache cache(cfg);
  auto* a = cache.insert(at(0), peer_ip);
  auto* b = cache.insert(at(0), other_ip);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(cache.find(peer_ip) == a);
  CHECK(cache.find(ipv4_address{}) == nullptr);
  using r = arp_cache::enqueue_result;
  CHECK(cache.enqueue(*a, 4, packet_of(1)) == r::queued);
  CHECK(cache.enqueue(*b, 8, packet_of(2)) == r::queued);
  CHECK(cache.enqueue(*a, 4, packet_of(3)) == r::queued);
  CHECK(cache.enqueue(*b, 4, packet_of(4)) == r::dropped); // pool full
  CHECK(cache.enqueue(*a, 4, packet_of(5)) == r::replaced_oldest);
  CHECK(cache.enqueue(*a, 9, packet_of(6)) == r::dropped); // too big
  CHECK(std::to_integer<unsigned>(cache.front(*a)[0]) == 3);
  cache.pop(*a);
  CHECK(std::to_integer<unsigned>(cache.front(*a)[0]) == 5);
  CHECK(cache.queued_total() == 2);
  CHECK(cache.remove(*b) == 1);
  CHECK(cache.queued_total() == 1);
  CHECK(cache.size() == 1);
  CHECK(cache.find(other_ip) == nullptr);
}

TEST_SUITE_END();
