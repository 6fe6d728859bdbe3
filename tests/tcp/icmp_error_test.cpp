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
