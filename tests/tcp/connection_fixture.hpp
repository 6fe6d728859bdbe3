// Test helpers for one sans-IO connection driven by hand (smoltcp's tcp.rs tests are the model):
// a fixture that owns the connection and a virtual `now`, a segment builder, and fixture
// constructors that bring a connection into each of the 11 states.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "synack/tcp/connection.hpp"

namespace test_tcp {

using namespace synack;
using namespace synack::tcp;
using namespace std::chrono_literals;
using wire::seq_number;
using wire::tcp_flag;
using wire::tcp_flags;

inline const wire::endpoint local_ep{wire::ipv4_address{192, 0, 2, 2}, 7788};
inline const wire::endpoint remote_ep{wire::ipv4_address{192, 0, 2, 1}, 49152};
inline constexpr seq_number local_iss{10000};
inline constexpr seq_number remote_iss{20000};

/// A segment the connection emitted, with its payload copied out.
struct sent_segment {
  wire::tcp_repr repr;
  std::string payload;
  bool retransmission = false;

  auto has(tcp_flag f) const -> bool { return repr.flags.has(f); }
  auto flags() const -> tcp_flags { return repr.flags; }
};

/// Builds a segment from the peer (remote -> local).
struct seg {
  wire::tcp_repr r{};
  std::string data; // owns the payload

  seg() {
    r.src_port = remote_ep.port;
    r.dst_port = local_ep.port;
    r.window = 64000;
  }
  auto flags(tcp_flags f) -> seg& {
    r.flags = f;
    return *this;
  }
  auto seq(seq_number s) -> seg& {
    r.seq = s;
    return *this;
  }
  auto ack(seq_number a) -> seg& {
    r.ack = a;
    r.flags |= tcp_flag::ack;
    return *this;
  }
  auto win(std::uint16_t w) -> seg& {
    r.window = w;
    return *this;
  }
  auto payload(std::string_view p) -> seg& {
    data = std::string(p);
    return *this;
  }
  auto mss(std::uint16_t m) -> seg& {
    r.options.mss = m;
    return *this;
  }
  auto wscale(std::uint8_t s) -> seg& {
    r.options.window_scale = s;
    return *this;
  }
  auto sack_permitted() -> seg& {
    r.options.sack_permitted = true;
    return *this;
  }
  auto ts(std::uint32_t val, std::uint32_t ecr) -> seg& {
    r.options.timestamps = wire::tcp_timestamps{val, ecr};
    return *this;
  }
  auto sack(seq_number l, seq_number rr) -> seg& {
    r.options.add_sack({l, rr});
    return *this;
  }
  /// The repr, with its payload pointing at `data` (valid while this builder lives).
  auto repr() -> const wire::tcp_repr& {
    r.payload = as_bytes(std::string_view{data});
    return r;
  }
};

/// A connection plus a virtual clock. All addresses are fixed: we are local_ep, the peer is
/// remote_ep.
struct fixture {
  shared_context shared;
  tcp::config cfg;
  connection<> conn;
  instant now = instant::from_millis(1000);

  explicit fixture(tcp::config c = plain_config())
      : cfg(c), conn(shared, c, four_tuple{local_ep, remote_ep}, local_iss) {}

  /// No window scaling, timestamps or SACK: segment numbers stay easy to read.
  static auto plain_config() -> tcp::config {
    tcp::config c;
    c.window_scaling = false;
    c.timestamps = false;
    c.sack = false;
    c.send_buffer = 64 * 1024;
    c.recv_buffer = 64 * 1024;
    return c;
  }

  void recv(seg& s) { conn.on_segment(now, s.repr()); }
  void recv(seg&& s) { recv(s); }

  /// Everything the connection sends now.
  auto poll() -> std::vector<sent_segment> {
    std::vector<sent_segment> out;
    conn.poll_transmit(now, [&](const tx_segment& t) {
      sent_segment s{t.repr, {}, t.retransmission};
      for (auto piece : t.payload) s.payload += std::string(as_chars(piece));
      s.repr.payload = {};
      out.push_back(std::move(s));
      return true;
    });
    return out;
  }
  /// Exactly one segment is sent now; returns it.
  auto poll_one() -> sent_segment {
    auto v = poll();
    REQUIRE_MESSAGE(v.size() == 1, "expected exactly one segment, got " << v.size());
    return v.front();
  }
  void expect_silence() {
    auto v = poll();
    CHECK_MESSAGE(v.empty(), "expected no segment, got " << v.size());
  }

  /// Moves virtual time forward by `d`, running the connection's timers as they come due.
  void advance(duration d) {
    const auto end = now + d;
    while (true) {
      auto next = conn.next_deadline();
      if (!next || *next > end) break;
      now = std::max(now, *next);
      conn.on_timeout(now);
    }
    now = end;
  }
  /// Runs until the next deadline and fires it.
  void fire_next_timer() {
    auto next = conn.next_deadline();
    REQUIRE(next.has_value());
    now = std::max(now, *next);
    conn.on_timeout(now);
  }

  auto state() const -> tcp::state { return conn.state(); }
};

// ---- Fixture constructors, one per state (each checks the segments of the way there).

inline void to_listen(fixture& f) {
  f.conn.listen();
  REQUIRE(f.state() == state::listen);
}

inline void to_syn_received(fixture& f) {
  to_listen(f);
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).mss(1460));
  REQUIRE(f.state() == state::syn_received);
  auto synack = f.poll_one();
  REQUIRE(synack.flags() == (tcp_flag::syn | tcp_flag::ack));
  REQUIRE(synack.repr.seq == local_iss);
  REQUIRE(synack.repr.ack == remote_iss + 1);
}

inline void to_syn_sent(fixture& f) {
  f.conn.open(f.now);
  REQUIRE(f.state() == state::syn_sent);
  auto syn = f.poll_one();
  REQUIRE(syn.flags() == tcp_flags{tcp_flag::syn});
  REQUIRE(syn.repr.seq == local_iss);
}

inline void to_established(fixture& f) {
  to_syn_received(f);
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1));
  REQUIRE(f.state() == state::established);
  f.expect_silence();
}

inline void to_fin_wait_1(fixture& f) {
  to_established(f);
  f.conn.close(f.now);
  REQUIRE(f.state() == state::fin_wait_1);
  auto fin = f.poll_one();
  REQUIRE(fin.flags() == (tcp_flag::fin | tcp_flag::ack));
  REQUIRE(fin.repr.seq == local_iss + 1);
}

inline void to_fin_wait_2(fixture& f) {
  to_fin_wait_1(f);
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 2));
  REQUIRE(f.state() == state::fin_wait_2);
  f.expect_silence();
}

inline void to_close_wait(fixture& f) {
  to_established(f);
  f.recv(seg{}.flags(tcp_flag::fin).seq(remote_iss + 1).ack(local_iss + 1));
  REQUIRE(f.state() == state::close_wait);
  auto ack = f.poll_one();
  REQUIRE(ack.flags() == tcp_flags{tcp_flag::ack});
  REQUIRE(ack.repr.ack == remote_iss + 2);
}

inline void to_closing(fixture& f) {
  to_fin_wait_1(f);
  // The peer's FIN crosses ours: it does not acknowledge our FIN.
  f.recv(seg{}.flags(tcp_flag::fin).seq(remote_iss + 1).ack(local_iss + 1));
  REQUIRE(f.state() == state::closing);
  auto ack = f.poll_one();
  REQUIRE(ack.repr.ack == remote_iss + 2);
}

inline void to_last_ack(fixture& f) {
  to_close_wait(f);
  f.conn.close(f.now);
  REQUIRE(f.state() == state::last_ack);
  auto fin = f.poll_one();
  REQUIRE(fin.flags() == (tcp_flag::fin | tcp_flag::ack));
  REQUIRE(fin.repr.seq == local_iss + 1);
}

inline void to_time_wait(fixture& f) {
  to_fin_wait_2(f);
  f.recv(seg{}.flags(tcp_flag::fin).seq(remote_iss + 1).ack(local_iss + 2));
  REQUIRE(f.state() == state::time_wait);
  auto ack = f.poll_one();
  REQUIRE(ack.repr.ack == remote_iss + 2);
}

} // namespace test_tcp
