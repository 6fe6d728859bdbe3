// bench_tcp_source: the raw tun ceiling of a bulk TCP transfer from a userspace writer into the
// kernel's TCP: the other direction of bench_tcp_sink. A minimal TCP sender with no protocol
// work beyond what keeps the kernel's receiver taking data: it opens the connection, then
// writes MSS-sized segments of zeros (their checksum is the header's alone) as far as the
// kernel's window allows (and at most 256 KiB in flight, synack's send buffer), with no
// congestion control, no timers beyond a go-back-N restart
// after 100 ms without progress, and no copy; it closes with a FIN. Everything the kernel
// does for those segments (tun_get_user, IP and TCP receive, the ACKs) runs in its thread, as
// it does in synack's, so this is what synack→kernel over tun can reach without offload.
// I/O as in bench_tcp_sink (raw_tcp.hpp): one multishot read for the ACKs, one write per
// segment from a pool of buffers, one io_uring_enter per batch.
//
//   bench_tcp_source --connect A.B.C.D:P [--seconds S] [--ifname NAME]
//
// The device is created by synack's link::tun::open without offload (192.0.2.1 for the kernel,
// 192.0.2.2 for the source, MTU 1500). The source offers MSS 1460 and window scale 7, no SACK
// and no timestamps. The receiver is `bench_net kernel-server sink`, which reports the rate.
// Prints {"event":"ready"} and, at the end, one JSON line: bytes acknowledged, seconds, Gbit/s
// (first data .. last ACK), segments written, go-back-N restarts, CPU seconds. Needs root (or
// CAP_NET_ADMIN): without it, says so and exits with 77.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "raw_tcp.hpp"
#include "synack/io/loop.hpp"
#include "synack/link/tun.hpp"
#include "synack/wire/checksum.hpp"
#include "synack/wire/endpoint.hpp"
#include "synack/wire/ipv4.hpp"

using namespace synack;
using namespace raw_tcp;

namespace {

constexpr std::size_t mss = 1460;
/// At most this much in flight: synack's default send buffer. With no limit but the kernel's
/// window, bursts of several MiB outran the receiver's memory accounting (tcp_prune_queue
/// dropped out-of-order data) and the go-back-N restarts dominated.
constexpr std::uint32_t max_flight = 256 * 1024;
constexpr std::uint16_t local_port = 40001;

struct flow {
  wire::ipv4_address src{192, 0, 2, 2};
  wire::ipv4_address dst;
  std::uint16_t dport = 0;

  /// Writes a segment (IPv4 + TCP, `payload` bytes of zeros after the header) into `out`;
  /// returns its length. A SYN carries MSS and window scale.
  auto build(std::byte* out, std::uint32_t seq, std::uint32_t ack_no, std::uint8_t flags, std::size_t payload) const
      -> std::size_t {
    const std::size_t opt = (flags & syn) != 0 ? 8 : 0;
    const std::size_t thl = 20 + opt;
    const std::size_t len = 20 + thl + payload;
    std::memset(out, 0, 20 + thl); // the payload stays zero in every buffer (written once)
    out[0] = std::byte{0x45};
    store16(out + 2, static_cast<std::uint16_t>(len));
    out[6] = std::byte{0x40}; // DF
    out[8] = std::byte{64};
    out[9] = std::byte{6};
    store32(out + 12, src.to_u32());
    store32(out + 16, dst.to_u32());
    store16(out + 10, wire::internet_checksum(bytes_view{out, 20}));
    std::byte* t = out + 20;
    store16(t, local_port);
    store16(t + 2, dport);
    store32(t + 4, seq);
    store32(t + 8, ack_no);
    t[12] = std::byte(static_cast<std::uint8_t>(thl / 4) << 4);
    t[13] = std::byte{flags};
    store16(t + 14, 65535);
    if (opt != 0) {
      t[20] = std::byte{2};
      t[21] = std::byte{4};
      store16(t + 22, mss);
      t[24] = std::byte{1};
      t[25] = std::byte{3};
      t[26] = std::byte{3};
      t[27] = std::byte{7};
    }
    // Zeros add nothing to the sum: the header and the pseudo-header are the whole checksum.
    const auto ph =
        wire::pseudo_header_sum(src, dst, wire::ip_protocol::tcp, static_cast<std::uint16_t>(thl + payload));
    store16(t + 16, static_cast<std::uint16_t>(~wire::ones_add(ph, wire::ones_sum(bytes_view{t, thl}))));
    return len;
  }
};

} // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  std::string ifname = "synack0";
  std::optional<wire::endpoint> peer;
  for (int i = 1; i < argc; ++i) {
    const std::string_view k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "bench_tcp_source: {} needs a value\n", k);
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--connect") {
      auto e = wire::endpoint::parse(value());
      if (!e) {
        fmt::print(stderr, "bench_tcp_source: --connect wants A.B.C.D:P\n");
        return 2;
      }
      peer = *e;
    } else if (k == "--seconds") {
      seconds = std::stod(value());
    } else if (k == "--ifname") {
      ifname = value();
    } else {
      fmt::print(stderr, "usage: bench_tcp_source --connect A.B.C.D:P [--seconds S] [--ifname NAME]\n");
      return 2;
    }
  }
  if (!peer) {
    fmt::print(stderr, "bench_tcp_source: --connect A.B.C.D:P is required\n");
    return 2;
  }

  event_loop loop;
  auto dev = open_tun(loop, "bench_tcp_source", ifname, false);
  if (!dev) return 77;
  const int fd = dev->fd();
  raw_tcp::ring r;
  if (!r.init(fd, 64, 2048)) return 3;
  constexpr std::size_t seg_len = 2048, nseg = 512;
  std::vector<std::byte> seg_mem(nseg * seg_len); // zeros: every payload
  std::vector<bool> dirty(nseg);                  // buffers whose payload bytes are not all zero
  std::vector<std::uint32_t> free_seg;
  for (std::uint32_t i = 0; i < nseg; ++i) free_seg.push_back(nseg - 1 - i);
  flow f{.dst = peer->addr, .dport = peer->port};
  fmt::print("{{\"event\": \"ready\"}}\n");
  std::fflush(stdout);

  const std::uint32_t iss = 0x6b6b0000;
  std::uint32_t snd_una = iss, snd_nxt = iss, rcv_nxt = 0, snd_wnd = 0;
  unsigned wscale = 0;
  bool established = false, fin_sent = false, fin_acked = false, peer_fin = false, reset = false;
  std::uint64_t segments = 0, restarts = 0;
  const auto start = std::chrono::steady_clock::now();
  auto now = [] { return std::chrono::steady_clock::now(); };
  auto elapsed = [&] { return std::chrono::duration<double>(now() - start).count(); };
  std::chrono::steady_clock::time_point first{}, last_progress = start, data_end{};
  std::uint32_t fin_seq = 0;
  const double cpu0 = cpu_seconds();

  auto send = [&](std::uint32_t seq, std::uint8_t flags, std::size_t payload) -> bool {
    if (free_seg.empty()) return false;
    const std::uint32_t i = free_seg.back();
    free_seg.pop_back();
    std::byte* out = seg_mem.data() + i * seg_len;
    if (dirty[i]) { // it held a SYN: its options sit where a payload goes
      std::memset(out, 0, seg_len);
      dirty[i] = false;
    }
    const auto len = f.build(out, seq, rcv_nxt, flags, payload);
    if ((flags & syn) != 0) dirty[i] = true;
    io_uring_sqe* s = r.sqe();
    io_uring_prep_write(s, fd, out, static_cast<unsigned>(len), io::current_position);
    io_uring_sqe_set_data64(s, i);
    if (payload > 0) ++segments;
    return true;
  };
  auto on_packet = [&](const std::byte* ip, std::size_t len) {
    const std::size_t ihl = (static_cast<unsigned>(ip[0]) & 0x0f) * 4u;
    if (len < ihl + 20 || static_cast<unsigned>(ip[9]) != 6 || load16(ip + ihl + 2) != local_port) return;
    const auto* t = ip + ihl;
    const auto flags = static_cast<std::uint8_t>(t[13]);
    const std::size_t thl = (static_cast<unsigned>(t[12]) >> 4) * 4u;
    if ((flags & rst) != 0) {
      reset = true;
      return;
    }
    if ((flags & syn) != 0 && (flags & ack) != 0 && !established) {
      rcv_nxt = load32(t + 4) + 1;
      for (std::size_t k = 20; k + 1 < thl;) { // the kernel's window scale
        const auto kind = static_cast<unsigned>(t[k]);
        if (kind == 0) break;
        if (kind == 1) {
          ++k;
          continue;
        }
        const auto l = static_cast<unsigned>(t[k + 1]);
        if (l < 2) break;
        if (kind == 3 && l == 3) wscale = static_cast<unsigned>(t[k + 2]);
        k += l;
      }
      snd_una = snd_nxt = iss + 1;
      snd_wnd = load16(t + 14); // unscaled in a SYN
      established = true;
      (void)send(snd_nxt, ack, 0);
      first = last_progress = now();
      return;
    }
    if (!established || (flags & ack) == 0) return;
    const std::uint32_t a = load32(t + 8);
    if (static_cast<std::int32_t>(a - snd_una) > 0 && static_cast<std::int32_t>(a - snd_nxt) <= 0) {
      snd_una = a;
      last_progress = now();
    }
    snd_wnd = std::uint32_t{load16(t + 14)} << wscale;
    if (fin_sent && snd_una == fin_seq + 1) fin_acked = true;
    if ((flags & fin) != 0 && !peer_fin) {
      const std::size_t total = std::min<std::size_t>(load16(ip + 2), len);
      rcv_nxt = load32(t + 4) + static_cast<std::uint32_t>(total - ihl - thl) + 1;
      peer_fin = true;
      (void)send(snd_nxt, ack, 0);
    }
  };

  (void)send(iss, syn, 0);
  snd_nxt = iss + 1;
  __kernel_timespec ts{0, 10'000'000};
  while (!reset && !(fin_acked && peer_fin) && elapsed() < seconds + 10) {
    if (established && !fin_sent) {
      if (elapsed() >= seconds) {
        if (data_end == std::chrono::steady_clock::time_point{}) data_end = now();
        if (snd_una == snd_nxt) { // everything acknowledged: FIN
          fin_seq = snd_nxt;
          if (send(snd_nxt, fin | ack, 0)) {
            fin_sent = true;
            snd_nxt += 1;
          }
        }
      } else {
        // As far as the window allows, and at most max_flight in flight.
        const std::uint32_t limit = std::min<std::uint32_t>(snd_wnd, max_flight);
        while (static_cast<std::uint32_t>(snd_nxt - snd_una) + mss <= limit && send(snd_nxt, ack | psh, mss))
          snd_nxt += static_cast<std::uint32_t>(mss);
      }
      if (snd_nxt != snd_una && now() - last_progress > std::chrono::milliseconds(100)) {
        snd_nxt = snd_una; // go-back-N; an unacknowledged FIN goes again too
        fin_sent = false;
        last_progress = now();
        ++restarts;
      }
    } else if (!established && now() - last_progress > std::chrono::seconds(1)) {
      (void)send(iss, syn, 0); // the SYN was lost (the kernel's address was not up yet)
      last_progress = now();
      ++restarts;
    }
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(&r.uring, &cqe, 1, &ts, nullptr);
    unsigned head = 0, n = 0;
    io_uring_for_each_cqe(&r.uring, head, cqe) {
      ++n;
      const std::uint64_t ud = cqe->user_data;
      if (ud == LIBURING_UDATA_TIMEOUT) continue;
      if (ud != raw_tcp::ring::read_tag) { // a segment written
        free_seg.push_back(static_cast<std::uint32_t>(ud));
        continue;
      }
      std::size_t got = 0;
      if (std::byte* p = r.packet(cqe, got)) {
        on_packet(p, got);
        r.recycle(cqe);
      }
      if ((cqe->flags & IORING_CQE_F_MORE) == 0) r.arm_read();
    }
    io_uring_cq_advance(&r.uring, n);
  }
  io_uring_submit(&r.uring);
  const auto bytes = static_cast<std::uint64_t>(static_cast<std::uint32_t>((fin_sent ? fin_seq : snd_una) - iss - 1));
  const double secs =
      std::chrono::duration<double>((data_end != decltype(data_end){} ? data_end : now()) - first).count();
  fmt::print(
      "{{\"event\": \"result\", \"side\": \"raw-source\", \"bytes\": {}, \"seconds\": {:.6f}, \"gbps\": {:.4f}, "
      "\"segments\": {}, \"restarts\": {}, \"closed\": {}, \"cpu_s\": {:.4f}}}\n",
      bytes, secs, secs > 0 ? static_cast<double>(bytes) * 8 / secs / 1e9 : 0.0, segments, restarts,
      fin_acked && peer_fin ? "true" : "false", cpu_seconds() - cpu0);
  return bytes > 0 && !reset ? 0 : 1;
}
