// RFC 1122 §4.2.3.9: TCP acts on ICMP errors about its segments; RFC 5927: only when the
// quoted sequence number is one we have outstanding; RFC 1191: "fragmentation needed" lowers
// the MSS.
#include "connection_fixture.hpp"

#include "synack/net/ipv4.hpp"

using namespace test_tcp;
using kind = connection<>::icmp_error_kind;

TEST_SUITE_BEGIN("tcp.icmp");

TEST_CASE("port unreachable refuses a connection in SYN_SENT, when it quotes our SYN") {
  fixture f;
  to_syn_sent(f);
  CHECK_FALSE(f.conn.on_icmp_error(f.now, kind::hard, local_iss + 7, 0)); // a blind guess
  CHECK(f.state() == state::syn_sent);
  CHECK(f.conn.on_icmp_error(f.now, kind::hard, local_iss, 0));
  CHECK(f.state() == state::closed);
  CHECK(f.conn.last_error() == tcp::error::connection_refused);
}

TEST_CASE("hard and soft errors leave a synchronized connection alone (RFC 5461 §4)") {
  fixture f;
  to_established(f);
  CHECK(f.conn.send(as_bytes(std::string_view{"data"})) == 4);
  (void)f.poll();
  CHECK_FALSE(f.conn.on_icmp_error(f.now, kind::hard, local_iss + 1, 0));
  CHECK_FALSE(f.conn.on_icmp_error(f.now, kind::soft, local_iss + 1, 0));
  CHECK(f.state() == state::established);
}

TEST_CASE("fragmentation needed lowers the MSS and resends the segment that was too big") {
  fixture f;
  to_established(f);
  const std::string big(4000, 'b');
  CHECK(f.conn.send(as_bytes(big)) == big.size());
  auto first = f.poll();
  REQUIRE(!first.empty());
  CHECK(first.front().payload.size() == 1460);
  // An MTU we already respect, or below RFC 791's 68, changes nothing.
  CHECK_FALSE(f.conn.on_icmp_error(f.now, kind::frag_needed, local_iss + 1, 1500));
  CHECK_FALSE(f.conn.on_icmp_error(f.now, kind::frag_needed, local_iss + 1, 60));
  CHECK(f.conn.on_icmp_error(f.now, kind::frag_needed, local_iss + 1, 1000));
  CHECK(f.conn.options().send_mss == 960);
  auto again = f.poll();
  REQUIRE(!again.empty());
  CHECK(again.front().retransmission);
  CHECK(again.front().repr.seq == local_iss + 1);
  CHECK(again.front().payload.size() == 960);
  for (auto& s : again) CHECK(s.payload.size() <= 960);
}

TEST_CASE("the resend after fragmentation needed stays within SND.NXT and the peer's window") {
  // Found by fuzz_connection (tests/fuzz/corpus/connection/crash_rtx_beyond_snd_nxt): with a
  // window of 255 bytes only 255 bytes are in flight; the resend in the new MSS (1240) sent
  // 1240 bytes from SND.UNA, beyond SND.NXT and the window (RFC 5681 §3.1).
  fixture f;
  to_syn_sent(f);
  f.recv(seg{}.flags(tcp_flag::syn).seq(remote_iss).ack(local_iss + 1).win(255).mss(1460));
  REQUIRE(f.state() == state::established);
  (void)f.poll();
  const std::string big(5000, 'b');
  CHECK(f.conn.send(as_bytes(big)) == big.size());
  auto first = f.poll();
  REQUIRE(first.size() == 1);
  CHECK(first.front().payload.size() == 255);
  const auto snd_nxt = f.conn.tcb().snd_nxt;
  CHECK(snd_nxt == local_iss + 1 + 255);
  CHECK(f.conn.on_icmp_error(f.now, kind::frag_needed, local_iss + 1, 1280));
  auto again = f.poll();
  REQUIRE(again.size() == 1);
  CHECK(again.front().retransmission);
  CHECK(again.front().repr.seq == local_iss + 1);
  CHECK(again.front().payload.size() == 255);
  CHECK(f.conn.tcb().snd_nxt == snd_nxt);
}

TEST_CASE("an ICMP error quoting a sequence number not in flight is ignored and counted (RFC 5927 §4.1)") {
  fixture f;
  to_established(f);
  CHECK(f.conn.send(as_bytes(std::string_view{"data"})) == 4);
  (void)f.poll();
  for (auto k : {kind::hard, kind::soft, kind::frag_needed}) {
    CHECK_FALSE(f.conn.on_icmp_error(f.now, k, local_iss, 600));     // already acknowledged (the SYN)
    CHECK_FALSE(f.conn.on_icmp_error(f.now, k, local_iss + 5, 600)); // not sent yet (SND.NXT)
  }
  CHECK(f.shared.stats.icmp_out_of_window == 6);
  CHECK(f.conn.options().send_mss == 1460);
}

TEST_CASE("an ICMP error for a connection that is CLOSED changes nothing (no timer in CLOSED)") {
  // Found by fuzz_connection: "fragmentation needed" about data still counted in flight after an
  // ABORT armed the path MTU timer of a CLOSED connection.
  fixture f;
  to_established(f);
  const std::string big(2920, 'b');
  CHECK(f.conn.send(as_bytes(big)) == big.size());
  (void)f.poll();
  f.conn.abort(f.now);
  (void)f.poll();
  REQUIRE(f.state() == state::closed);
  CHECK_FALSE(f.conn.on_icmp_error(f.now, kind::frag_needed, local_iss + 1, 1000));
  CHECK_FALSE(f.conn.next_deadline().has_value());
  CHECK(f.shared.stats.pmtu_reductions == 0);
}

TEST_CASE("fragmentation needed below min_pmtu (552, Linux's) is raised to it: a forged MTU 108 gives an MSS of 512") {
  fixture f;
  to_established(f);
  const std::string big(4000, 'b');
  CHECK(f.conn.send(as_bytes(big)) == big.size());
  (void)f.poll();
  // RFC 1191 §3: never below 68.
  CHECK_FALSE(f.conn.on_icmp_error(f.now, kind::frag_needed, local_iss + 1, 67));
  CHECK(f.shared.stats.pmtu_clamped == 0);
  CHECK(f.conn.on_icmp_error(f.now, kind::frag_needed, local_iss + 1, 108));
  CHECK(f.conn.options().send_mss == 512);
  CHECK(f.shared.stats.pmtu_clamped == 1);
  CHECK(f.shared.stats.pmtu_reductions == 1);
  for (auto& s : f.poll()) CHECK(s.payload.size() <= 512);
  // Once at the floor, a lower claim changes nothing.
  CHECK_FALSE(f.conn.on_icmp_error(f.now, kind::frag_needed, local_iss + 1, 108));
  CHECK(f.shared.stats.pmtu_reductions == 1);
  SUBCASE("the floor is a setting") {
    tcp::config c = fixture::plain_config();
    c.min_pmtu = 68;
    fixture g{c};
    to_established(g);
    CHECK(g.conn.send(as_bytes(big)) == big.size());
    (void)g.poll();
    CHECK(g.conn.on_icmp_error(g.now, kind::frag_needed, local_iss + 1, 108));
    CHECK(g.conn.options().send_mss == 68);
  }
}

TEST_CASE("fragmentation needed must quote the oldest unacknowledged segment") {
  fixture f;
  to_established(f);
  const std::string big(4380, 'b'); // three full-sized segments
  CHECK(f.conn.send(as_bytes(big)) == big.size());
  REQUIRE(f.poll().size() == 3);
  // The second and third segments are in flight, but not the oldest: a blind attacker's guess
  // anywhere in the flight no longer works.
  CHECK_FALSE(f.conn.on_icmp_error(f.now, kind::frag_needed, local_iss + 1 + 1460, 1000));
  CHECK_FALSE(f.conn.on_icmp_error(f.now, kind::frag_needed, local_iss + 1 + 2920, 1000));
  CHECK(f.shared.stats.pmtu_not_oldest == 2);
  CHECK(f.conn.options().send_mss == 1460);
  // Anywhere within the oldest segment is fine (a partial acknowledgment moves SND.UNA into it).
  CHECK(f.conn.on_icmp_error(f.now, kind::frag_needed, local_iss + 1 + 700, 1000));
  CHECK(f.conn.options().send_mss == 960);
}

TEST_CASE("RFC 5927 §7.3: a claim contradicted by an acknowledged segment waits for the quoted segment to time out") {
  fixture f;
  to_established(f);
  const std::string big(2920, 'b'); // two full-sized segments
  CHECK(f.conn.send(as_bytes(big)) == big.size());
  REQUIRE(f.poll().size() == 2);
  // The first full-sized segment crossed the path: 1500-byte packets get through.
  f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1 + 1460));
  (void)f.poll();
  const auto una = local_iss + 1 + 1460;
  // "MTU 1000" about the next segment contradicts that; it is remembered, not acted on.
  CHECK_FALSE(f.conn.on_icmp_error(f.now, kind::frag_needed, una, 1000));
  CHECK(f.shared.stats.pmtu_deferred == 1);
  CHECK(f.conn.options().send_mss == 1460);
  SUBCASE("the quoted segment is acknowledged: the claim was false and is forgotten") {
    f.recv(seg{}.seq(remote_iss + 1).ack(local_iss + 1 + 2920));
    (void)f.poll();
    CHECK(f.conn.send(as_bytes(big)) == big.size());
    REQUIRE(f.poll().size() == 2);
    f.fire_next_timer(); // an RTO, about other data
    CHECK(f.conn.options().send_mss == 1460);
    CHECK(f.shared.stats.pmtu_reductions == 0);
  }
  SUBCASE("the quoted segment times out: it was really too big; the claim is applied before the retransmission") {
    f.fire_next_timer();
    CHECK(f.shared.stats.rto_expirations == 1);
    CHECK(f.conn.options().send_mss == 960);
    CHECK(f.shared.stats.pmtu_reductions == 1);
    auto again = f.poll();
    REQUIRE(!again.empty());
    CHECK(again.front().retransmission);
    CHECK(again.front().repr.seq == una);
    CHECK(again.front().payload.size() == 960);
  }
  SUBCASE("a partial acknowledgment covers the quoted bytes: they arrived, the claim is forgotten") {
    f.recv(seg{}.seq(remote_iss + 1).ack(una + 1000));
    (void)f.poll();
    f.fire_next_timer();
    CHECK(f.shared.stats.rto_expirations == 1);
    CHECK(f.conn.options().send_mss == 1460);
  }
}

TEST_CASE("RFC 1191 §6.3: a lowered path MTU is raised again after pmtu_expires (10 minutes) without a decrease") {
  fixture f;
  to_established(f);
  const std::string big(2920, 'b');
  CHECK(f.conn.send(as_bytes(big)) == big.size());
  (void)f.poll();
  REQUIRE(f.conn.on_icmp_error(f.now, kind::frag_needed, local_iss + 1, 1000));
  REQUIRE(f.conn.options().send_mss == 960);
  (void)f.poll();
  f.recv(seg{}.seq(remote_iss + 1).ack(f.conn.tcb().snd_nxt));
  (void)f.poll();
  f.advance(5min);
  // A further decrease restarts the wait. (Full 960-byte segments were acknowledged since the
  // last change, so "MTU 800" waits for the quoted segment to time out, RFC 5927 §7.3.)
  const std::string more(2880, 'm');
  CHECK(f.conn.send(as_bytes(more)) == more.size());
  (void)f.poll();
  CHECK_FALSE(f.conn.on_icmp_error(f.now, kind::frag_needed, f.conn.tcb().snd_una, 800));
  f.fire_next_timer();
  REQUIRE(f.conn.options().send_mss == 760);
  (void)f.poll();
  f.recv(seg{}.seq(remote_iss + 1).ack(f.conn.tcb().snd_nxt));
  REQUIRE(f.conn.tcb().snd_una == f.conn.tcb().snd_nxt);
  (void)f.poll();
  f.advance(10min - 2s);
  CHECK(f.conn.options().send_mss == 760);
  CHECK(f.shared.stats.pmtu_increases == 0);
  f.advance(3s);
  CHECK(f.conn.options().send_mss == 1460);
  CHECK(f.shared.stats.pmtu_increases == 1);
  CHECK(f.shared.stats.pmtu_reductions == 2);
  CHECK(f.conn.send(as_bytes(big)) == big.size());
  auto out = f.poll();
  REQUIRE(!out.empty());
  CHECK(out.front().payload.size() == 1460);
}

TEST_CASE("the IPv4 layer hands up the quoted TCP sequence number of an ICMP error") {
  net::ipv4_interface ip{net::ipv4_config{.address = wire::ipv4_cidr{wire::ipv4_address{192, 0, 2, 2}, 24}}};
  // Our SYN as a router would quote it: IPv4 header + the first 8 bytes of TCP.
  std::array<std::byte, 28> quote{};
  wire::ipv4_repr q;
  q.src = wire::ipv4_address{192, 0, 2, 2};
  q.dst = wire::ipv4_address{198, 51, 100, 9};
  q.payload_len = 20;
  wire::ipv4_packet<bytes_mut> qp{bytes_mut{quote}};
  q.emit(qp);
  store_be<std::uint16_t>(quote.data() + 20, 49152);
  store_be<std::uint16_t>(quote.data() + 22, 80);
  store_be<std::uint32_t>(quote.data() + 24, 0x01020304);
  const auto icmp = wire::icmpv4_repr::dest_unreachable(wire::icmpv4_unreachable::frag_needed, bytes_view{quote}, 1400);
  std::vector<std::byte> packet(20 + icmp.buffer_len());
  wire::ipv4_repr outer;
  outer.src = wire::ipv4_address{192, 0, 2, 1};
  outer.dst = wire::ipv4_address{192, 0, 2, 2};
  outer.protocol = wire::ip_protocol::icmp;
  outer.payload_len = icmp.buffer_len();
  wire::ipv4_packet<bytes_mut> op{bytes_mut{packet}};
  outer.emit(op);
  wire::icmpv4_packet<bytes_mut> ip_icmp{bytes_mut{packet}.subspan(20)};
  icmp.emit(ip_icmp);
  auto in = ip.receive(instant{}, bytes_view{packet});
  auto* err = std::get_if<net::ingress_icmp_error>(&in);
  REQUIRE(err != nullptr);
  CHECK(err->next_hop_mtu == 1400);
  CHECK(err->original_src_port == 49152);
  CHECK(err->original_dst_port == 80);
  REQUIRE(err->original_tcp_seq.has_value());
  CHECK(*err->original_tcp_seq == 0x01020304u);
}

TEST_SUITE_END();
