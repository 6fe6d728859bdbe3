// synack/net/ethernet.hpp: Ethernet and ARP for an IPv4 host on an L2 link (AF_PACKET),
// sans-IO (RFC 826, RFC 1122 §2.3.2, RFC 5227 announcements and defence).
//
// `ethernet_interface` has our MAC address and our IPv4 address. It
// - filters arriving frames (for our MAC or broadcast; not from ourselves), hands IPv4
//   payloads up, answers ARP requests for our address, learns from ARP (RFC 826's merge
//   algorithm), and counts every frame it does not hand up, by reason;
// - sends IPv4 packets to a next hop: with the next hop's MAC when resolved, else it copies
//   the packet into a bounded waiting queue and resolves the address (net/arp_cache.hpp has
//   the states, timeouts and bounds);
// - announces our address with gratuitous ARP at start (RFC 5227 §2.3) and defends it
//   (§2.4 (b)) when another host claims it.
//
// Driving it (what the stack does each loop turn, in this order):
//   receive(now, frame)          for each arriving frame: std::monostate (consumed or dropped,
//                                counted) or an ethernet_ipv4 with the IPv4 packet (a view into
//                                `frame`, padding included: IPv4 trims by its total length).
//                                ARP replies it owes are queued, not sent.
//   send_ipv4(now, hop, len, fill, link [, meta])
//                                writes the Ethernet header and fill()'s IPv4 packet straight
//                                into a link buffer (resolved), or into the waiting queue.
//                                `meta` (a link::tx_meta: offloads) goes to link.transmit with
//                                the frame; a queued packet is sent later without it, so the
//                                caller asks for offloads only when lookup(hop) resolves.
//                                Returns false only when the link refused (no buffer): try
//                                again later. A packet dropped by a bound is counted and
//                                reported as sent (true), as a kernel's neighbour queue does.
//   poll(now, link)              sends queued ARP replies, announcements, requests that are
//                                due (giving up after max_requests), and the packets whose
//                                next hop got resolved, in their order.
//   next_deadline()              when poll() must run again even if nothing arrives.
// `link` is anything with `transmit(len, fill) -> bool` (a link::link of medium::ethernet);
// this layer includes nothing from link/ or io/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <variant>
#include <vector>

#include "synack/net/arp_cache.hpp"
#include "synack/time/instant.hpp"
#include "synack/util/bytes.hpp"
#include "synack/wire/arp.hpp"
#include "synack/wire/ethernet.hpp"
#include "synack/wire/ipv4_address.hpp"

namespace synack::net {

/// What the Ethernet layer transmits through: `transmit(len, fill) -> bool`, with fill taking
/// the frame's bytes_mut (link::link satisfies it).
template <class L>
concept frame_transmitter = requires(L& l, std::size_t len) {
  {
    l.transmit(len, [](bytes_mut) {})
    } -> std::same_as<bool>;
};

struct ethernet_config {
  /// Our MAC address (af_packet::mac()).
  wire::mac_address mac{0x02, 0, 0, 0, 0, 0x02};
  /// Our IPv4 address and the prefix of the attached network (for its broadcast address).
  wire::ipv4_cidr address{wire::ipv4_address{192, 0, 2, 2}, 24};
  arp_config arp;
};

/// Counters, like `netstat -s` (ethernet: frames; arp: the resolution protocol).
struct ethernet_counters {
  std::uint64_t rx_frames = 0;       // every frame handed to receive()
  std::uint64_t rx_bad_frames = 0;   // shorter than a header, or a malformed ARP packet
  std::uint64_t rx_not_for_us = 0;   // another unicast destination, or multicast
  std::uint64_t rx_looped = 0;       // our own source MAC came back
  std::uint64_t rx_unsupported = 0;  // other EtherTypes (IPv6...), VLAN tags, 802.3 lengths, other ARP kinds
  std::uint64_t rx_ipv4 = 0;         // IPv4 packets handed up
  std::uint64_t tx_frames = 0;       // frames the link accepted (IPv4 and ARP)
  std::uint64_t tx_link_busy = 0;    // the link refused a frame (no buffer): tried again later
  std::uint64_t tx_bad_next_hop = 0; // send_ipv4 to 0.0.0.0: dropped

  std::uint64_t arp_rx_requests = 0;
  std::uint64_t arp_rx_replies = 0;
  std::uint64_t arp_rx_bad = 0;      // a sender address that cannot be (multicast MAC, ...)
  std::uint64_t arp_tx_requests = 0; // broadcast resolutions and unicast polls
  std::uint64_t arp_tx_replies = 0;
  std::uint64_t arp_tx_announcements = 0;     // gratuitous ARP (RFC 5227 announcements and defence)
  std::uint64_t arp_replies_dropped = 0;      // replies owed while the reply queue was full
  std::uint64_t arp_resolved = 0;             // resolutions that completed
  std::uint64_t arp_failures = 0;             // resolutions (or unicast polls) that gave up
  std::uint64_t arp_queued = 0;               // packets that waited for a resolution
  std::uint64_t arp_dropped_unresolved = 0;   // waiting packets dropped: a resolution failed or was evicted
  std::uint64_t arp_queue_overflows = 0;      // packets dropped by the queue bounds (oldest or new)
  std::uint64_t arp_cache_full = 0;           // packets dropped: no entry could be made
  std::uint64_t arp_evictions = 0;            // resolved entries evicted to make room
  std::uint64_t arp_incomplete_evictions = 0; // incomplete entries evicted (max_incomplete, or a full cache)
  std::uint64_t arp_address_conflicts = 0;    // another host claimed our address (RFC 5227 §2.4)
};

template <class F>
void for_each_counter(const ethernet_counters& c, F&& f) {
  f("ethernet: frames received", c.rx_frames);
  f("ethernet: bad frames", c.rx_bad_frames);
  f("ethernet: frames not for us", c.rx_not_for_us);
  f("ethernet: our own frames looped back", c.rx_looped);
  f("ethernet: unsupported frames", c.rx_unsupported);
  f("ethernet: IPv4 packets received", c.rx_ipv4);
  f("ethernet: frames sent", c.tx_frames);
  f("ethernet: frames refused by the link (retried)", c.tx_link_busy);
  f("ethernet: packets to an invalid next hop", c.tx_bad_next_hop);
  f("arp: requests received", c.arp_rx_requests);
  f("arp: replies received", c.arp_rx_replies);
  f("arp: bad packets", c.arp_rx_bad);
  f("arp: requests sent", c.arp_tx_requests);
  f("arp: replies sent", c.arp_tx_replies);
  f("arp: announcements sent", c.arp_tx_announcements);
  f("arp: replies not sent (queue full)", c.arp_replies_dropped);
  f("arp: addresses resolved", c.arp_resolved);
  f("arp: resolutions failed", c.arp_failures);
  f("arp: packets queued for resolution", c.arp_queued);
  f("arp: queued packets dropped (resolution failed or evicted)", c.arp_dropped_unresolved);
  f("arp: packets dropped (queue full)", c.arp_queue_overflows);
  f("arp: packets dropped (cache full)", c.arp_cache_full);
  f("arp: resolved entries evicted", c.arp_evictions);
  f("arp: incomplete entries evicted", c.arp_incomplete_evictions);
  f("arp: address conflicts", c.arp_address_conflicts);
}

/// An IPv4 packet that arrived in a frame for us.
struct ethernet_ipv4 {
  bytes_view packet;           ///< the frame's payload (may end with Ethernet padding)
  wire::mac_address src;       ///< the sender's MAC
  bool link_broadcast = false; ///< sent to ff:ff:ff:ff:ff:ff
};

/// What receive() found: nothing to hand up (consumed or dropped, and counted), or an IPv4 packet.
using ethernet_ingress = std::variant<std::monostate, ethernet_ipv4>;

class ethernet_interface {
public:
  static constexpr std::size_t header_len = wire::ethernet_frame<bytes_view>::header_len;
  static constexpr std::size_t arp_frame_len = header_len + wire::arp_packet<bytes_view>::packet_len;

  explicit ethernet_interface(const ethernet_config& cfg = {})
      : m_cfg(cfg), m_cache(cfg.arp), m_announce_left(cfg.arp.announcements) {
    m_replies.reserve(cfg.arp.max_pending_replies);
  }

  auto config() const noexcept -> const ethernet_config& { return m_cfg; }
  auto mac() const noexcept -> wire::mac_address { return m_cfg.mac; }
  auto address() const noexcept -> wire::ipv4_address { return m_cfg.address.address(); }
  auto counters() const noexcept -> const ethernet_counters& { return m_counters; }
  auto cache() noexcept -> arp_cache& { return m_cache; }
  auto cache() const noexcept -> const arp_cache& { return m_cache; }

  /// The MAC for `ip` if it is resolved (reachable or being probed).
  auto lookup(wire::ipv4_address ip) const noexcept -> std::optional<wire::mac_address> {
    const arp_entry* e = m_cache.find(ip);
    if (e == nullptr || e->state == arp_state::incomplete) return std::nullopt;
    return e->mac;
  }

  /// Sends the RFC 5227 announcements again (after the address changed, or a link came up).
  void announce() noexcept {
    m_announce_left = m_cfg.arp.announcements;
    m_announce_at.reset();
  }

  // --- receive ----------------------------------------------------------------------

  auto receive(instant now, bytes_view frame) -> ethernet_ingress {
    m_now = now;
    ++m_counters.rx_frames;
    auto f = wire::ethernet_frame<bytes_view>::checked(frame);
    if (!f) {
      ++m_counters.rx_bad_frames;
      return {};
    }
    auto eth = wire::ethernet_repr::parse(*f);
    if (!eth) {
      ++m_counters.rx_unsupported;
      return {};
    }
    if (eth->dst != m_cfg.mac && !eth->dst.is_broadcast()) {
      ++m_counters.rx_not_for_us; // other hosts' unicast; multicast groups we never join
      return {};
    }
    if (eth->src == m_cfg.mac) {
      ++m_counters.rx_looped;
      return {};
    }
    switch (eth->ethertype) {
      case wire::ethertype::ipv4:
        ++m_counters.rx_ipv4;
        return ethernet_ipv4{f->payload(), eth->src, eth->dst.is_broadcast()};
      case wire::ethertype::arp:
        receive_arp(now, f->payload());
        return {};
      default:
        ++m_counters.rx_unsupported;
        return {};
    }
  }

  // --- transmit ---------------------------------------------------------------------

  /// Sends an IPv4 packet of `len` bytes, written by fill(bytes_mut), to `next_hop` on this
  /// link. See the header comment for the return value.
  template <frame_transmitter Link, class F, class... Meta>
  auto send_ipv4(instant now, wire::ipv4_address next_hop, std::size_t len, F&& fill, Link& link, const Meta&... meta)
      -> bool {
    static_assert(sizeof...(Meta) <= 1, "at most one tx_meta");
    m_now = now;
    if (next_hop.is_unspecified()) {
      ++m_counters.tx_bad_next_hop;
      return true;
    }
    if (next_hop.is_broadcast() || (m_cfg.address.prefix_len() < 31 && next_hop == m_cfg.address.broadcast()))
      return send_frame(link, wire::mac_address::broadcast(), wire::ethertype::ipv4, len, fill);
    if (next_hop.is_multicast()) return send_frame(link, multicast_mac(next_hop), wire::ethertype::ipv4, len, fill);

    arp_entry* e = m_cache.find(next_hop);
    if (e != nullptr && e->state != arp_state::incomplete) {
      if (e->state == arp_state::reachable && now >= e->expires) {
        // RFC 1122 §2.3.2.1 "Unicast Poll": keep using the entry while unicast requests to
        // the known address check it; it is deleted if N successive polls go unanswered.
        e->state = arp_state::probe;
        e->requests = 0;
        e->next_request = now;
        note_request_due(now);
      }
      e->last_used = now;
      return send_frame(link, e->mac, wire::ethertype::ipv4, len, fill, meta...);
    }
    if (e == nullptr) {
      e = insert_entry(now, next_hop, arp_state::incomplete);
      if (e == nullptr) {
        ++m_counters.arp_cache_full;
        return true;
      }
    }
    e->last_used = now;
    switch (m_cache.enqueue(*e, len, fill)) {
      case arp_cache::enqueue_result::queued:
        ++m_counters.arp_queued;
        break;
      case arp_cache::enqueue_result::replaced_oldest:
        ++m_counters.arp_queued;
        ++m_counters.arp_queue_overflows;
        break;
      case arp_cache::enqueue_result::dropped:
        ++m_counters.arp_queue_overflows;
        break;
    }
    // The first request goes at once rather than at the next poll.
    if (e->requests == 0 && now >= e->next_request) send_request(now, *e, link);
    return true;
  }

  /// Sends what is due: replies, announcements, requests, resolved queues. Call every turn
  /// (after the turn's receive() and send_ipv4() calls, before the link's flush()).
  template <frame_transmitter Link>
  void poll(instant now, Link& link) {
    m_now = now;
    // ARP replies owed (RFC 826: "Send the packet to the (new) target hardware address").
    std::size_t sent = 0;
    for (; sent < m_replies.size(); ++sent) {
      const pending_reply& r = m_replies[sent];
      if (!send_arp(link, r.to, r.arp)) break;
      ++m_counters.arp_tx_replies;
    }
    m_replies.erase(m_replies.begin(), m_replies.begin() + static_cast<std::ptrdiff_t>(sent));

    // Announcements (RFC 5227 §2.3) and the defence of our address (§2.4 (b)).
    if (m_announce_left > 0 && (!m_announce_at || now >= *m_announce_at)) {
      if (send_arp(link, wire::mac_address::broadcast(), announcement())) {
        ++m_counters.arp_tx_announcements;
        --m_announce_left;
        m_announce_at = now + m_cfg.arp.announce_interval;
      }
    }
    if (m_defend_pending) {
      if (send_arp(link, wire::mac_address::broadcast(), announcement())) {
        ++m_counters.arp_tx_announcements;
        m_defend_pending = false;
      }
    }

    if (m_flush_pending == 0 && (!m_request_due || now < *m_request_due) && now < m_next_gc) return;
    m_request_due.reset();
    const bool gc = now >= m_next_gc;
    if (gc) m_next_gc = now + m_cfg.arp.reachable_time / 2;
    m_cache.for_each([&](arp_entry& e) {
      if (e.flush_pending) flush_queue(e, link);
      switch (e.state) {
        case arp_state::incomplete:
        case arp_state::probe:
          if (now >= e.next_request) {
            if (e.requests >= m_cfg.arp.max_requests) {
              give_up(e);
              return;
            }
            send_request(now, e, link);
          }
          note_request_due(e.next_request);
          break;
        case arp_state::reachable:
          // Unused for a whole extra period after expiring: forget it.
          if (gc && now >= e.expires + m_cfg.arp.reachable_time && !e.flush_pending) m_cache.remove(e);
          break;
      }
    });
  }

  /// When poll() must run next though nothing arrives: a request, announcement or queued
  /// transmission is due (a time at or before the last `now` means "at once").
  auto next_deadline() const noexcept -> std::optional<instant> {
    if (!m_replies.empty() || m_flush_pending != 0 || m_defend_pending) return m_now;
    std::optional<instant> d = m_request_due;
    if (m_announce_left > 0) {
      const instant a = m_announce_at.value_or(m_now);
      if (!d || a < *d) d = a;
    }
    return d;
  }

private:
  struct pending_reply {
    wire::mac_address to;
    wire::arp_repr arp;
  };

  /// RFC 1112 §6.4: an IPv4 multicast address maps to 01:00:5e plus its low 23 bits.
  static auto multicast_mac(wire::ipv4_address a) noexcept -> wire::mac_address {
    const auto o = a.octets();
    return {0x01, 0x00, 0x5e, static_cast<std::uint8_t>(o[1] & 0x7f), o[2], o[3]};
  }

  void note_request_due(instant t) noexcept {
    if (!m_request_due || t < *m_request_due) m_request_due = t;
  }

  template <class Link, class F, class... Meta>
  auto send_frame(Link& link, const wire::mac_address& dst, wire::ethertype type, std::size_t len, F&& fill,
                  const Meta&... meta) -> bool {
    const bool ok = link.transmit(
        header_len + len,
        [&](bytes_mut b) {
          wire::ethernet_frame<bytes_mut> f{b};
          wire::ethernet_repr{m_cfg.mac, dst, type}.emit(f);
          fill(b.subspan(header_len));
        },
        meta...);
    ++(ok ? m_counters.tx_frames : m_counters.tx_link_busy);
    return ok;
  }

  template <class Link>
  auto send_arp(Link& link, const wire::mac_address& dst, const wire::arp_repr& arp) -> bool {
    return send_frame(link, dst, wire::ethertype::arp, wire::arp_repr::buffer_len(), [&](bytes_mut b) {
      wire::arp_packet<bytes_mut> p{b};
      arp.emit(p);
    });
  }

  /// RFC 5227 §3: an ARP Announcement is a request whose sender and target IP addresses are
  /// both ours, target hardware address zero, broadcast.
  auto announcement() const noexcept -> wire::arp_repr {
    return wire::arp_repr{wire::arp_operation::request, m_cfg.mac, address(), wire::mac_address{}, address()};
  }

  /// Sends the next request of a resolution (broadcast) or probe (unicast to the known MAC).
  template <class Link>
  void send_request(instant now, arp_entry& e, Link& link) {
    const wire::arp_repr req{wire::arp_operation::request, m_cfg.mac, address(), wire::mac_address{}, e.ip};
    const wire::mac_address to = e.state == arp_state::probe ? e.mac : wire::mac_address::broadcast();
    if (!send_arp(link, to, req)) {
      note_request_due(now); // the link is busy: try at the next poll
      return;
    }
    ++m_counters.arp_tx_requests;
    ++e.requests;
    e.next_request = now + m_cfg.arp.retry_interval;
    note_request_due(e.next_request);
  }

  /// m_cache.insert, with its evictions counted.
  auto insert_entry(instant now, wire::ipv4_address ip, arp_state state) noexcept -> arp_entry* {
    const auto dropped = m_cache.evicted_packets();
    arp_entry* e = m_cache.insert(now, ip, state);
    m_counters.arp_dropped_unresolved += m_cache.evicted_packets() - dropped;
    m_counters.arp_evictions = m_cache.evictions();
    m_counters.arp_incomplete_evictions = m_cache.incomplete_evictions();
    return e;
  }

  void give_up(arp_entry& e) noexcept {
    ++m_counters.arp_failures;
    if (e.flush_pending) --m_flush_pending;
    m_counters.arp_dropped_unresolved += m_cache.remove(e);
  }

  /// Sends e's waiting packets in order; stops at the first the link refuses.
  template <class Link>
  void flush_queue(arp_entry& e, Link& link) {
    while (e.queued != 0) {
      const bytes_view p = m_cache.front(e);
      const bool ok = send_frame(link, e.mac, wire::ethertype::ipv4, p.size(),
                                 [&](bytes_mut b) { std::memcpy(b.data(), p.data(), p.size()); });
      if (!ok) return;
      m_cache.pop(e);
    }
    e.flush_pending = false;
    --m_flush_pending;
  }

  /// Marks `e` resolved to `mac` (and confirmed now).
  void confirm(instant now, arp_entry& e, const wire::mac_address& mac) noexcept {
    if (e.state == arp_state::incomplete) {
      ++m_counters.arp_resolved;
      if (e.queued != 0 && !e.flush_pending) {
        e.flush_pending = true;
        ++m_flush_pending;
      }
    }
    e.mac = mac;
    e.state = arp_state::reachable;
    e.requests = 0;
    e.expires = now + m_cfg.arp.reachable_time;
  }

  void receive_arp(instant now, bytes_view payload) {
    auto p = wire::arp_packet<bytes_view>::checked(payload);
    if (!p) {
      ++(p.error() == wire::wire_error::unsupported ? m_counters.rx_unsupported : m_counters.rx_bad_frames);
      return;
    }
    auto arp = wire::arp_repr::parse(*p);
    if (!arp) {
      ++m_counters.rx_unsupported;
      return;
    }
    const bool request = arp->operation == wire::arp_operation::request;
    ++(request ? m_counters.arp_rx_requests : m_counters.arp_rx_replies);
    if (!arp->sender_mac.is_unicast() || arp->sender_mac.is_zero() || arp->sender_ip.is_broadcast() ||
        arp->sender_ip.is_multicast()) {
      ++m_counters.arp_rx_bad;
      return;
    }
    if (arp->sender_mac == m_cfg.mac) {
      ++m_counters.rx_looped;
      return;
    }
    if (arp->sender_ip == address()) {
      // RFC 5227 §2.4: another host uses our address. (b): "if this is the first conflicting
      // ARP packet the host has seen, and the time recorded for ... the last defense is more
      // than DEFEND_INTERVAL seconds ago, then the host MAY elect to attempt to defend its
      // address by recording the time that the conflicting ARP packet was received, and then
      // broadcasting one single ARP Announcement".
      ++m_counters.arp_address_conflicts;
      if (!m_last_defence || now - *m_last_defence >= m_cfg.arp.defend_interval) {
        m_last_defence = now;
        m_defend_pending = true;
      }
      return;
    }
    // RFC 826, packet reception: "If the pair <protocol type, sender protocol address> is
    // already in my translation table, update the sender hardware address field of the entry
    // with the new information in the packet and set Merge_flag to true."
    // (An ARP Probe, RFC 5227 §2.1.1, has sender IP 0.0.0.0: nothing to learn from it.)
    const bool for_us = arp->target_ip == address();
    bool merged = false;
    if (!arp->sender_ip.is_unspecified()) {
      if (arp_entry* e = m_cache.find(arp->sender_ip)) {
        merged = true;
        if (for_us || e->state == arp_state::incomplete) {
          confirm(now, *e, arp->sender_mac);
        } else {
          e->mac = arp->sender_mac; // news about the address, not a confirmation that it answers
        }
      }
    }
    if (!for_us) return;
    // "?Am I the target protocol address? Yes: If Merge_flag is false, add the triplet
    // <protocol type, sender protocol address, sender hardware address> to the translation table."
    if (!merged && !arp->sender_ip.is_unspecified()) {
      if (arp_entry* e = insert_entry(now, arp->sender_ip, arp_state::reachable)) {
        ++m_counters.arp_resolved;
        confirm(now, *e, arp->sender_mac);
      }
    }
    // "?Is the opcode ares_op$REQUEST? Yes: Swap hardware and protocol fields, putting the
    // local hardware and protocol addresses in the sender fields. Set the ar$op field to
    // ares_op$REPLY. Send the packet to the (new) target hardware address".
    if (request) {
      if (m_replies.size() >= m_cfg.arp.max_pending_replies) {
        ++m_counters.arp_replies_dropped;
        return;
      }
      m_replies.push_back(pending_reply{arp->sender_mac, wire::arp_repr{wire::arp_operation::reply, m_cfg.mac,
                                                                        address(), arp->sender_mac, arp->sender_ip}});
    }
  }

  ethernet_config m_cfg;
  arp_cache m_cache;
  ethernet_counters m_counters;
  std::vector<pending_reply> m_replies; // reserved: never grows past max_pending_replies
  instant m_now;
  std::optional<instant> m_request_due; // the earliest next_request of an incomplete/probe entry
  instant m_next_gc;
  std::size_t m_flush_pending = 0; // entries resolved with packets waiting
  unsigned m_announce_left;
  std::optional<instant> m_announce_at;
  std::optional<instant> m_last_defence;
  bool m_defend_pending = false;
};

} // namespace synack::net
