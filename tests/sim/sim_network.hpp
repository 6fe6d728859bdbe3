// Two hosts (host/host.hpp: IPv4 and TCP each) joined by a simulated wire, on virtual time (quinn's
// `Pair::step/drive` is the model). Everything is sans-IO and deterministic: a run is a function
// of its seed.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "synack/host/host.hpp"
#include "synack/link/sim.hpp"

namespace test_sim {

using namespace synack;
using namespace std::chrono_literals;

/// SYNACK_TEST_SCALE (set by CTest; 0.25 in the sanitizer build) scales seed counts and volumes.
inline auto test_scale() -> double {
  const char* s = std::getenv("SYNACK_TEST_SCALE");
  const double v = s ? std::atof(s) : 1.0;
  return v > 0 ? v : 1.0;
}
inline auto scaled(std::size_t n, std::size_t min = 1) -> std::size_t {
  return std::max(min, static_cast<std::size_t>(static_cast<double>(n) * test_scale()));
}

inline auto make_key(std::uint64_t seed) -> siphash_key {
  siphash_key k;
  k.k0 = seed * 0x9e3779b97f4a7c15ull + 1;
  k.k1 = seed ^ 0x0123456789abcdefull;
  return k;
}

/// One host (host/host.hpp: IPv4 with ICMP, and TCP) on one end of a simulated wire. `ip`
/// and `tcp` are its layers; what it sends goes on `out`, through a sink that hashes it.
template <class Policies = tcp::default_policies>
struct sim_host {
  synack::host<Policies> stack;
  net::ipv4_interface& ip;
  tcp::layer<Policies>& tcp;

  sim_host(wire::ipv4_cidr address, const tcp::layer_config& cfg, std::uint64_t seed, link::sim_channel& out)
      : stack(config_for(address, cfg), make_key(seed)), ip(stack.ip()), tcp(stack.tcp()), m_out(&out) {}
  sim_host(const sim_host&) = delete;
  auto operator=(const sim_host&) -> sim_host& = delete;

  auto addr() const -> wire::ipv4_address { return ip.address(); }

  /// Sends everything the host has for the wire.
  void poll(instant now) {
    sink s{this, now};
    stack.poll_transmit(now, s);
  }

  /// A packet arrived from the wire.
  void receive(instant now, bytes_view packet) {
    sink s{this, now};
    stack.receive(now, packet, {}, s);
  }

  /// A hash of every packet this host sent and when: two runs that put the same packets on the
  /// wire at the same times have the same digest.
  std::uint64_t digest = 0xcbf29ce484222325ull;

private:
  static auto config_for(wire::ipv4_cidr address, const tcp::layer_config& cfg) -> host_config {
    host_config c;
    c.link.mtu = 1500;
    c.ip.address = address;
    c.tcp = cfg;
    return c;
  }
  /// The link the host sends through: a scratch buffer, hashed, then copied onto the wire.
  struct sink {
    sim_host* self;
    instant now;
    template <class Fill>
    auto transmit(std::size_t len, Fill&& fill, const link::tx_meta& = {}) -> bool {
      auto& buf = self->m_buf;
      buf.resize(len);
      fill(bytes_mut{buf});
      const auto t = now.nanos();
      self->digest = fnv1a(fnv1a(self->digest, bytes_view{buf}), std::as_bytes(std::span{&t, 1}));
      self->m_out->send(now, buf);
      return true;
    }
  };
  static auto fnv1a(std::uint64_t h, bytes_view b) -> std::uint64_t {
    for (auto x : b) h = (h ^ static_cast<std::uint8_t>(x)) * 0x100000001b3ull;
    return h;
  }
  link::sim_channel* m_out;
  std::vector<std::byte> m_buf;
};

/// Two hosts on one wire: a = 192.0.2.1, b = 192.0.2.2.
template <class Policies = tcp::default_policies>
struct network {
  instant now = instant::from_millis(1);
  link::sim_wire wire;
  sim_host<Policies> a;
  sim_host<Policies> b;

  network(const link::sim_config& sim, const tcp::layer_config& cfg, std::uint64_t seed)
      : wire(sim),
        a(wire::ipv4_cidr{wire::ipv4_address{192, 0, 2, 1}, 24}, cfg, seed * 2 + 1, wire.a_to_b),
        b(wire::ipv4_cidr{wire::ipv4_address{192, 0, 2, 2}, 24}, cfg, seed * 2 + 2, wire.b_to_a) {}

  /// The next instant something happens, if anything is scheduled.
  auto next_event() const -> std::optional<instant> {
    std::optional<instant> t;
    auto take = [&](std::optional<instant> x) {
      if (x && (!t || *x < *t)) t = x;
    };
    take(wire.a_to_b.next_delivery());
    take(wire.b_to_a.next_delivery());
    take(a.tcp.next_deadline());
    take(b.tcp.next_deadline());
    if (a.tcp.has_pending() || b.tcp.has_pending()) take(now);
    return t;
  }

  /// Advances to the next event and processes everything due then. Returns false when nothing
  /// is scheduled at all.
  auto step() -> bool {
    const auto t = next_event();
    if (!t) return false;
    if (*t > now) now = *t;
    wire.a_to_b.deliver(now, [&](bytes_view p) { b.receive(now, p); });
    wire.b_to_a.deliver(now, [&](bytes_view p) { a.receive(now, p); });
    if (auto d = a.tcp.next_deadline(); d && *d <= now) a.tcp.on_timeout(now);
    if (auto d = b.tcp.next_deadline(); d && *d <= now) b.tcp.on_timeout(now);
    return true;
  }

  /// Sends what both hosts have to send.
  void flush() {
    a.poll(now);
    b.poll(now);
  }
};

/// The byte at `offset` of the stream a side sends: depends on the seed and the direction, so
/// misplaced or duplicated data never passes by chance.
inline auto pattern(std::uint64_t seed, int direction, std::uint64_t offset) -> std::byte {
  std::uint64_t x =
      offset * 0x9e3779b97f4a7c15ull + seed * 0xbf58476d1ce4e5b9ull + static_cast<std::uint64_t>(direction);
  x ^= x >> 29;
  return static_cast<std::byte>((x * 0x94d049bb133111ebull) >> 56);
}

/// One side of a bulk transfer: sends `total` bytes of its pattern, checks the peer's, then
/// half-closes, and closes once the peer's FIN arrived.
template <class Layer>
struct bulk_endpoint {
  Layer* layer = nullptr;
  tcp::conn_id id;
  std::uint64_t seed = 0;
  int direction = 0; // 0: a -> b, 1: b -> a
  std::uint64_t total = 0;
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  bool shut = false;
  bool closed = false;
  bool corrupt = false;
  std::uint64_t first_bad = 0;
  std::vector<std::byte> buf = std::vector<std::byte>(64 * 1024);

  /// Does what the connection allows now; `now` for the close calls.
  void work(instant now) {
    auto* c = layer->find(id);
    if (!c) return;
    bool touched = false;
    while (sent < total) {
      const auto space = c->send_space();
      if (space == 0) break;
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>({space, total - sent, buf.size()}));
      for (std::size_t i = 0; i < n; ++i) buf[i] = pattern(seed, direction, sent + i);
      const auto q = c->send(bytes_view{buf}.first(n));
      sent += q;
      touched = true;
      if (q < n) break;
    }
    while (true) {
      const auto n = c->recv(bytes_mut{buf});
      if (n == 0) break;
      for (std::size_t i = 0; i < n && !corrupt; ++i) {
        if (buf[i] != pattern(seed, 1 - direction, received + i)) {
          corrupt = true;
          first_bad = received + i;
        }
      }
      received += n;
      touched = true;
    }
    // A half-close before the handshake completed would delete the connection with its data
    // queued (RFC 9293 §3.10.4: CLOSE in SYN-SENT "Delete the TCB"): wait for ESTABLISHED.
    if (sent == total && !shut && c->state() != tcp::state::closed && c->state() != tcp::state::syn_sent) {
      c->shutdown_write(now);
      shut = true;
      touched = true;
    }
    if (shut && !closed && c->at_eof()) {
      c->close(now);
      closed = true;
      touched = true;
    }
    if (touched) layer->touch(id);
  }
};

} // namespace test_sim
