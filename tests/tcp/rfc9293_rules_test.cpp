// RFC 9293 §3.10 rules that state_machine_test.cpp does not cover, and the recovery rules of
// RFC 5681, RFC 6582, RFC 6675, RFC 6298, RFC 7323 and RFC 5961, one connection driven by hand
// (and, for simultaneous open and close, two connections wired back to back).
#include "connection_fixture.hpp"

#include <algorithm>
#include <array>
#include <set>

using namespace test_tcp;

namespace {

constexpr std::uint32_t smss = 1460;

/// `n` distinct bytes, so a misplaced byte never passes by chance.
auto text(std::size_t n, char seed = 'a') -> std::string {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + (i * 7 + i / 251) % 26);
  return s;
}

/// A pure ACK from the peer at RCV side `rseq` acknowledging `ack`.
auto ack_of(seq_number rseq, seq_number ack, std::uint16_t win = 64000) -> seg {
  return std::move(seg{}.seq(rseq).ack(ack).win(win));
}

/// Two connections wired back to back: what one sends, the other receives (a lossless wire
/// that the test can also intercept).
struct duo {
  shared_context shared_a, shared_b;
  connection<> a;
  connection<> b;
  instant now = instant::from_millis(1000);

  explicit duo(tcp::config c = fixture::plain_config())
      : a(shared_a, c, four_tuple{local_ep, remote_ep}, local_iss),
        b(shared_b, c, four_tuple{remote_ep, local_ep}, remote_iss) {}

  static auto take(connection<>& c, instant now) -> std::vector<sent_segment> {
    std::vector<sent_segment> out;
    c.poll_transmit(now, [&](const tx_segment& t) {
      sent_segment s{t.repr, {}, t.retransmission};
      for (auto piece : t.payload) s.payload += std::string(as_chars(piece));
      out.push_back(std::move(s));
      return true;
    });
    return out;
  }
  static void give(connection<>& c, instant now, sent_segment& s) {
    s.repr.payload = as_bytes(std::string_view{s.payload});
    c.on_segment(now, s.repr);
  }
  /// Exchanges segments until both are quiet; returns how many segments crossed (bounded, so a
  /// ping-pong shows up as a large count rather than a hang).
  auto exchange(std::size_t limit = 100) -> std::size_t {
    std::size_t crossed = 0;
    while (crossed < limit) {
      auto from_a = take(a, now);
      auto from_b = take(b, now);
      if (from_a.empty() && from_b.empty()) break;
      for (auto& s : from_a) give(b, now, s);
      for (auto& s : from_b) give(a, now, s);
      crossed += from_a.size() + from_b.size();
    }
    return crossed;
  }
};

} // namespace

TEST_SUITE_BEGIN("tcp.rfc9293");

// =========================================================================================
// Opening

TEST_CASE("simultaneous open: both SYN_RCVD, the crossing SYN-ACKs complete both (RFC 9293 §3.5 Figure 7)") {
  duo d;
  d.a.open(d.now);
  d.b.open(d.now);
  auto syn_a = duo::take(d.a, d.now);
  auto syn_b = duo::take(d.b, d.now);
  REQUIRE(syn_a.size() == 1);
  REQUIRE(syn_b.size() == 1);
  // The SYNs cross: each side goes SYN_SENT -> SYN_RCVD and answers with a SYN-ACK.
  duo::give(d.b, d.now, syn_a[0]);
  duo::give(d.a, d.now, syn_b[0]);
  CHECK(d.a.state() == state::syn_received);
  CHECK(d.b.state() == state::syn_received);
  auto synack_a = duo::take(d.a, d.now);
  auto synack_b = duo::take(d.b, d.now);
  REQUIRE(synack_a.size() == 1);
  REQUIRE(synack_b.size() == 1);
  CHECK(synack_a[0].flags() == (tcp_flag::syn | tcp_flag::ack));
  CHECK(synack_a[0].repr.seq == local_iss);
  CHECK(synack_a[0].repr.ack == remote_iss + 1);
  // Figure 7 line 6: "ESTABLISHED <-- <SEQ=300><ACK=101><CTL=SYN,ACK>" - the SYN-ACK that
  // acknowledges our SYN completes SYN-RECEIVED.
  duo::give(d.b, d.now, synack_a[0]);
  duo::give(d.a, d.now, synack_b[0]);
  CHECK(d.a.state() == state::established);
  CHECK(d.b.state() == state::established);
  // And the two are quiet afterwards (no SYN-ACK ping-pong), then carry data.
  CHECK(d.exchange() <= 2);
  CHECK(d.a.send(as_bytes(std::string_view{"ping"})) == 4);
  d.exchange();
  std::array<std::byte, 8> buf{};
  REQUIRE(d.b.recv(buf) == 4);
  CHECK(as_chars(bytes_view{buf}.first(4)) == "ping");
}

TEST_CASE(
    "SYN lost once: RTO re-initialized to 3 s and initial window of one segment (RFC 6298 (5.7), RFC 5681 §3.1)") {
  fixture f;
  to_syn_sent(f);
  f.fire_next_timer(); // the SYN times out and is sent again
  auto again = f.poll_one();
  CHECK(again.flags() == tcp_flags{tcp_flag::syn});
  CHECK(again.retransmission);
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).ack(local_iss + 1).mss(1460));
  REQUIRE(f.state() == state::established);
  (void)f.poll();
  // "the RTO MUST be re-initialized to 3 seconds when data transmission begins"
  CHECK(f.conn.tcb().rto == 3s);
  // "the initial window used by a sender after a correctly transmitted SYN MUST be one segment"
  CHECK(f.conn.tcb().cwnd == smss);
  const auto data = text(4 * smss);
  CHECK(f.conn.send(as_bytes(data)) == data.size());
  auto out = f.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload.size() == smss);
  const auto t0 = f.now;
  f.fire_next_timer();
  CHECK(f.now - t0 == 3s);
}

TEST_SUITE_END();
