// bench_tcp_sink: the raw tun ceiling of a bulk TCP transfer into a userspace reader
// (docs/benchmarks.md: a kernel TCP sender into a tun whose reader only ACKs). A minimal TCP
// receiver with no protocol work beyond what keeps the kernel's sender going: it answers the
// SYN, ACKs what arrives in order (one ACK per batch of completions: per io_uring_enter),
// never verifies a checksum, keeps no buffer, and answers the FIN.
// I/O as a tuned raw reader does it: one multishot read over 64 provided buffers (in order:
// measured here, many plain reads in flight on a tun with IFF_VNET_HDR reorder
// segments), ACKs written from a pool, one io_uring_enter per batch. The kernel's client is
// `bench_net kernel-client send` in the same namespace.
//
//   bench_tcp_sink [--offload 0|1] [--port P] [--timeout S] [--ifname NAME]
//
// The device is created by synack's link::tun::open (address 192.0.2.1 for the kernel,
// 192.0.2.2 for the sink, MTU 1500); with --offload 1 it has IFF_VNET_HDR and
// TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4): the kernel sends TSO/GRO packets of up to 64 KiB.
// The sink offers MSS 1460, window scale 7 and a window of 65535 << 7 (8 MiB), no SACK and no
// timestamps. Prints {"event":"ready"}, then one JSON line for the connection: bytes, seconds
// (first data .. FIN), Gbit/s, packets read, ACKs written, CPU seconds. Bounded by --timeout.
// Needs root (or CAP_NET_ADMIN): without it, says so and exits with 77.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "raw_tcp.hpp"
#include "synack/io/loop.hpp"
#include "synack/link/detail/offload.hpp"
#include "synack/link/tun.hpp"
#include "synack/wire/checksum.hpp"
#include "synack/wire/ipv4.hpp"

using namespace synack;
using namespace raw_tcp;

namespace {

/// Writes an IPv4 + TCP segment from the sink (192.0.2.2:port) to the kernel's `to` (address
/// and port as received) into `out`; returns its length. SYN-ACKs carry MSS and window scale.
auto build(std::byte* out, const std::byte* in_ip, std::size_t in_ihl, std::uint32_t seq, std::uint32_t ack_no,
           std::uint8_t flags) -> std::size_t {
  const std::size_t opt = (flags & syn) != 0 ? 8 : 0; // MSS (4) + NOP + window scale (3)
  const std::size_t len = 20 + 20 + opt;
  std::memset(out, 0, len);
  out[0] = std::byte{0x45};
  store16(out + 2, static_cast<std::uint16_t>(len));
  out[6] = std::byte{0x40}; // DF
  out[8] = std::byte{64};
  out[9] = std::byte{6};
  std::memcpy(out + 12, in_ip + 16, 4); // our address: the packet's destination
  std::memcpy(out + 16, in_ip + 12, 4);
  store16(out + 10, wire::internet_checksum(bytes_view{out, 20}));
  std::byte* t = out + 20;
  std::memcpy(t, in_ip + in_ihl + 2, 2); // source port: the packet's destination port
  std::memcpy(t + 2, in_ip + in_ihl, 2);
  store32(t + 4, seq);
  store32(t + 8, ack_no);
  t[12] = std::byte(static_cast<std::uint8_t>((20 + opt) / 4) << 4);
  t[13] = std::byte{flags};
  store16(t + 14, 65535); // << 7 once scaling is on: 8 MiB
  if (opt != 0) {
    t[20] = std::byte{2};
    t[21] = std::byte{4};
    store16(t + 22, 1460);
    t[24] = std::byte{1};
    t[25] = std::byte{3};
    t[26] = std::byte{3};
    t[27] = std::byte{7};
  }
  const auto ph =
      wire::pseudo_header_sum(wire::ipv4_address::from_bytes(out + 12), wire::ipv4_address::from_bytes(out + 16),
                              wire::ip_protocol::tcp, static_cast<std::uint16_t>(20 + opt));
  store16(t + 16, static_cast<std::uint16_t>(~wire::ones_add(ph, wire::ones_sum(bytes_view{t, 20 + opt}))));
  return len;
}

} // namespace

int main(int argc, char** argv) {
  bool offload = false;
  int port = 5001;
  double timeout = 60;
  std::string ifname = "synack0";
  for (int i = 1; i < argc; ++i) {
    const std::string_view k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "bench_tcp_sink: {} needs a value\n", k);
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--offload")
      offload = value() != "0";
    else if (k == "--port")
      port = std::stoi(value());
    else if (k == "--timeout")
      timeout = std::stod(value());
    else if (k == "--ifname")
      ifname = value();
    else {
      fmt::print(stderr, "usage: bench_tcp_sink [--offload 0|1] [--port P] [--timeout S] [--ifname NAME]\n");
      return 2;
    }
  }

  event_loop loop;
  auto dev = open_tun(loop, "bench_tcp_sink", ifname, offload);
  if (!dev) return 77;
  const int fd = dev->fd();
  const std::size_t hdr = offload ? link::detail::vnet_hdr_len : 0;

  // One multishot read over 64 provided buffers, ACKs written from a pool (raw_tcp.hpp).
  constexpr unsigned nring = 64;
  const std::size_t buf_len = hdr + (offload ? 65535 + 64 : 2048);
  raw_tcp::ring r;
  if (!r.init(fd, nring, buf_len)) return 3;
  constexpr std::size_t ack_len = 128, nack = 256;
  std::vector<std::byte> ack_mem(nack * ack_len);
  std::vector<std::uint32_t> free_ack;
  for (std::uint32_t i = 0; i < nack; ++i) free_ack.push_back(i);
  fmt::print("{{\"event\": \"ready\"}}\n");
  std::fflush(stdout);

  const auto start = std::chrono::steady_clock::now();
  std::uint32_t rcv_nxt = 0;
  const std::uint32_t iss = 0x5a5a0000;
  bool established = false, done = false;
  std::uint64_t bytes = 0, packets = 0, acks = 0;
  std::chrono::steady_clock::time_point first{}, last{};
  const double cpu0 = cpu_seconds();
  __kernel_timespec ts{0, 50'000'000};
  // One packet: returns the flags of the reply it needs (0: none) and its sequence number.
  auto on_packet = [&](const std::byte* ip, std::size_t len, std::uint32_t& reply_seq) -> std::uint8_t {
    const std::size_t ihl = (static_cast<unsigned>(ip[0]) & 0x0f) * 4u;
    if (len < ihl + 20 || static_cast<unsigned>(ip[9]) != 6 || load16(ip + ihl + 2) != port) return 0;
    const auto* t = ip + ihl;
    const auto flags = static_cast<std::uint8_t>(t[13]);
    const std::uint32_t seq = load32(t + 4);
    const std::size_t thl = (static_cast<unsigned>(t[12]) >> 4) * 4u;
    const std::size_t total = std::min<std::size_t>(load16(ip + 2), len);
    const std::size_t payload = total > ihl + thl ? total - ihl - thl : 0;
    ++packets;
    reply_seq = iss + 1;
    if ((flags & rst) != 0) {
      done = true;
      return 0;
    }
    if ((flags & syn) != 0) {
      rcv_nxt = seq + 1;
      established = true;
      reply_seq = iss;
      return syn | ack;
    }
    if (!established) return 0;
    if (seq != rcv_nxt) return payload > 0 ? ack : 0; // out of order: a duplicate ACK
    if (payload > 0) {
      if (bytes == 0) first = std::chrono::steady_clock::now();
      bytes += payload;
      rcv_nxt += static_cast<std::uint32_t>(payload);
      last = std::chrono::steady_clock::now();
    }
    if ((flags & fin) != 0) {
      rcv_nxt += 1;
      return fin | ack;
    }
    if (payload > 0) return ack; // sent once per batch (below)
    return 0;
  };
  std::byte last_ip[60 + 20]{}; // the IP and TCP headers of the last packet a pending ACK answers
  bool ack_pending = false;
  auto send_reply = [&](const std::byte* ip, std::uint32_t reply_seq, std::uint8_t reply) {
    if (free_ack.empty()) return;
    const std::uint32_t a = free_ack.back();
    free_ack.pop_back();
    std::byte* out = ack_mem.data() + a * ack_len;
    std::memset(out, 0, hdr); // our writes ask for no offload
    const auto w = build(out + hdr, ip, (static_cast<unsigned>(ip[0]) & 0x0f) * 4u, reply_seq, rcv_nxt, reply);
    io_uring_sqe* s = r.sqe();
    io_uring_prep_write(s, fd, out, static_cast<unsigned>(hdr + w), io::current_position);
    io_uring_sqe_set_data64(s, a);
    ++acks;
    if ((reply & fin) != 0) done = true;
  };
  while (!done && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < timeout) {
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(&r.uring, &cqe, 1, &ts, nullptr);
    unsigned head = 0, n = 0;
    io_uring_for_each_cqe(&r.uring, head, cqe) {
      ++n;
      const std::uint64_t ud = cqe->user_data;
      if (ud == LIBURING_UDATA_TIMEOUT) continue;
      if (ud != raw_tcp::ring::read_tag) { // an ACK written
        free_ack.push_back(static_cast<std::uint32_t>(ud));
        continue;
      }
      std::size_t got = 0;
      if (std::byte* src = r.packet(cqe, got)) {
        std::uint32_t reply_seq = 0;
        const std::uint8_t reply = got > hdr ? on_packet(src + hdr, got - hdr, reply_seq) : 0;
        if (reply == ack) {
          // A plain ACK waits for the end of the batch: one ACK per io_uring_enter, as a
          // reader that batches its transmissions (synack) sends it.
          const std::size_t ihl = (static_cast<unsigned>(src[hdr]) & 0x0f) * 4u;
          std::memcpy(last_ip, src + hdr, std::min<std::size_t>(ihl + 20, sizeof last_ip));
          ack_pending = true;
        } else if (reply != 0) {
          send_reply(src + hdr, reply_seq, reply);
          ack_pending = false;
        }
        r.recycle(cqe);
      }
      if ((cqe->flags & IORING_CQE_F_MORE) == 0) r.arm_read();
    }
    io_uring_cq_advance(&r.uring, n);
    if (ack_pending) {
      send_reply(last_ip, iss + 1, ack);
      ack_pending = false;
    }
  }
  io_uring_submit(&r.uring); // the last ACK
  const double secs = std::chrono::duration<double>(last - first).count();
  fmt::print(
      "{{\"event\": \"result\", \"side\": \"raw-sink\", \"offload\": {}, \"bytes\": {}, \"seconds\": {:.6f}, "
      "\"gbps\": {:.4f}, \"packets\": {}, \"acks\": {}, \"cpu_s\": {:.4f}}}\n",
      offload ? 1 : 0, bytes, secs, secs > 0 ? static_cast<double>(bytes) * 8 / secs / 1e9 : 0.0, packets, acks,
      cpu_seconds() - cpu0);
  return bytes > 0 ? 0 : 1;
}
