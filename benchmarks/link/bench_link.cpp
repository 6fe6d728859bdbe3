// bench_link: packets and bytes per second that synack moves through a tun device and through
// AF_PACKET on a veth pair, against a minimal io_uring program on the same device in the same
// run (the raw ceiling). The figure is the ratio synack / raw (the aim is >= 0.8: docs/links.md,
// "Tests and benchmarks").
//
//   bench_link [--runs N] [--seconds S] [--window W] [--links tun,af_packet] [--sizes 84,1500]
//              [--rx auto|multishot|plain] [--depth D] [--raw plain|multishot|both] [--no-pin]
//              [--qdisc-bypass]
//
// Workload: a bounded flood of ICMP echo requests from the kernel side (a raw ICMP socket,
// sendmmsg in batches, at most W requests outstanding so the device queue never overflows),
// answered by the responder, which runs in a child process. The flood of one run stops after
// S seconds (default 1.5); pps = echo replies the kernel received / elapsed time, bytes/s =
// pps x IP packet size. Each (link, size, responder) is run N times (default 5); the table
// shows the median and min..max. The responder is pinned to CPU 0 and the kernel-side sender
// to CPU 1 (different cores: the responder's own cost, not a cross-core ping-pong; the
// kernel's processing of the replies the responder writes runs on the responder's core).
//
// Responders:
// - raw: liburing only. D reads in flight on the device (or one multishot read over a
//   provided-buffer ring); each packet is turned into its echo reply in place without any
//   parsing or validation (swap the addresses, ICMP type 8 -> 0 with the checksum adjusted
//   incrementally, RFC 1624) and written back from the same buffer; the write's completion
//   re-arms the read. One io_uring_enter per batch. With --raw both, the better of the two
//   raw modes is the ceiling.
// - synack: the whole stack (socket/stack.hpp) on link::tun / link::af_packet: IPv4
//   validation, checksum verification, echo reply built by net::ipv4_interface, Ethernet and
//   ARP (net/ethernet.hpp) on AF_PACKET, batched transmission once per loop turn.
//
// Everything runs in network namespaces this program creates (it unshares its own at start;
// the kernel side of the veth pair lives in a second one): 192.0.2.1 is the kernel, 192.0.2.2
// the responder. Needs root (or CAP_NET_ADMIN in a user namespace); without it, says so and
// exits with 77.
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "synack/io/buffer_ring.hpp"
#include "synack/io/uring.hpp"
#include "synack/link/af_packet.hpp"
#include "synack/link/tun.hpp"
#include "synack/socket/stack.hpp"

using namespace synack;
using namespace std::chrono_literals;
using bench_clock = std::chrono::steady_clock;

namespace {

struct options {
  int runs = 5;
  double seconds = 1.5;
  int window = 256;
  std::vector<std::string> links{"tun", "af_packet"};
  std::vector<std::size_t> sizes{84, 1500};
  link::rx_mode rx = link::rx_mode::automatic;
  std::size_t depth = 8;
  std::string raw = "both";
  bool pin = true;
  bool qdisc_bypass = false;
};

constexpr wire::ipv4_address responder_ip{192, 0, 2, 2};

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_sigterm(int) { g_stop = 1; }

/// tun_options::offload (IFF_VNET_HDR), where the link has it, is turned off: the raw responder
/// reads and writes bare IP packets, and both responders must see the same device.
template <class O>
void no_offload(O& o) {
  if constexpr (requires { o.offload = false; }) o.offload = false;
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

auto split(std::string_view s) -> std::vector<std::string> {
  std::vector<std::string> v;
  while (!s.empty()) {
    const auto c = s.find(',');
    v.emplace_back(s.substr(0, c));
    if (c == std::string_view::npos) break;
    s.remove_prefix(c + 1);
  }
  return v;
}

// --- namespaces ---------------------------------------------------------------------------

/// A network namespace kept by a file descriptor (the thread stays where it is).
struct netns_fd {
  int fd = -1;
  static auto make() -> netns_fd {
    const int here = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (::unshare(CLONE_NEWNET) != 0) {
      ::close(here);
      return {};
    }
    netns_fd n{::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)};
    if (::setns(here, CLONE_NEWNET) != 0) std::abort();
    ::close(here);
    return n;
  }
  auto path() const -> std::string { return fmt::format("/proc/{}/fd/{}", ::getpid(), fd); }
  template <class F>
  auto enter(F&& f) const {
    const int here = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (::setns(fd, CLONE_NEWNET) != 0) std::abort();
    auto r = f();
    if (::setns(here, CLONE_NEWNET) != 0) std::abort();
    ::close(here);
    return r;
  }
};

auto run_cmd(const std::string& c) -> bool {
  const int r = std::system(c.c_str());
  if (r != 0) fmt::print(stderr, "bench_link: command failed: {}\n", c);
  return r == 0;
}

// --- the raw responder (liburing only) ------------------------------------------------------

/// Ones'-complement add (RFC 1071).
auto ones_add(std::uint32_t a, std::uint32_t b) -> std::uint16_t {
  std::uint32_t s = a + b;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

/// Turns an ICMP echo request (IPv4 at `ip`) into its reply in place: swap the addresses,
/// type 8 -> 0, checksum adjusted by RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). Nothing else is
/// looked at: this is the no-protocol-work ceiling, not a validating responder.
void reply_in_place(std::byte* ip) {
  std::byte tmp[4];
  std::memcpy(tmp, ip + 12, 4);
  std::memcpy(ip + 12, ip + 16, 4);
  std::memcpy(ip + 16, tmp, 4);
  std::byte* icmp = ip + (std::to_integer<unsigned>(ip[0]) & 0x0f) * 4;
  const std::uint16_t old_word = load_be<std::uint16_t>(icmp);
  icmp[0] = std::byte{0};
  const std::uint16_t new_word = load_be<std::uint16_t>(icmp);
  const std::uint16_t hc = load_be<std::uint16_t>(icmp + 2);
  const std::uint16_t sum =
      ones_add(ones_add(static_cast<std::uint16_t>(~hc), static_cast<std::uint16_t>(~old_word)), new_word);
  store_be<std::uint16_t>(icmp + 2, static_cast<std::uint16_t>(~sum));
}
void reply_frame_in_place(std::byte* frame) {
  std::byte tmp[6];
  std::memcpy(tmp, frame, 6);
  std::memcpy(frame, frame + 6, 6);
  std::memcpy(frame + 6, tmp, 6);
  reply_in_place(frame + 14);
}

/// Reads and writes `fd` until SIGTERM. `ethernet`: frames (AF_PACKET) instead of IP packets.
auto raw_responder(int fd, bool ethernet, bool multishot, std::size_t depth, int ready_fd) -> int {
  io_uring ring{};
  io_uring_params p{};
  p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  p.cq_entries = 4096;
  if (io_uring_queue_init_params(512, &ring, &p) != 0) {
    p.flags = IORING_SETUP_CQSIZE;
    if (io_uring_queue_init_params(512, &ring, &p) != 0) return 3;
  }
  constexpr std::size_t buf_len = 2048;
  constexpr std::uint64_t write_bit = 1ull << 63;
  constexpr std::uint64_t multishot_tag = 1ull << 62;
  // Plain: `depth` buffers, each read then written. Multishot: a ring of 256 provided buffers
  // plus 256 write buffers the packet is copied into (a provided buffer goes back at once).
  const std::size_t nbuf = multishot ? 256 : depth;
  std::vector<std::byte> mem(nbuf * buf_len);
  std::vector<std::uint32_t> free_tx;
  io_uring_buf_ring* br = nullptr;
  std::vector<std::byte> ring_mem;
  auto buf = [&](std::size_t i) { return mem.data() + i * buf_len; };
  auto arm_read = [&](std::size_t i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (sqe == nullptr) {
      io_uring_submit(&ring);
      sqe = io_uring_get_sqe(&ring);
    }
    io_uring_prep_read(sqe, fd, buf(i), buf_len, io::current_position);
    io_uring_sqe_set_data64(sqe, i);
  };
  auto arm_multishot = [&] {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io::prep_read_multishot(sqe, fd, 7);
    io_uring_sqe_set_data64(sqe, multishot_tag);
  };
  if (multishot) {
    // liburing 2.3 has no io_uring_setup_buf_ring: map and register the ring by hand.
    void* m = ::mmap(nullptr, 256 * sizeof(io_uring_buf), PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (m == MAP_FAILED) return 4;
    br = static_cast<io_uring_buf_ring*>(m);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uintptr_t>(br);
    reg.ring_entries = 256;
    reg.bgid = 7;
    if (io_uring_register_buf_ring(&ring, &reg, 0) != 0) return 4;
    io_uring_buf_ring_init(br);
    ring_mem.resize(256 * buf_len);
    for (unsigned i = 0; i < 256; ++i)
      io_uring_buf_ring_add(br, ring_mem.data() + i * buf_len, buf_len, static_cast<unsigned short>(i),
                            io_uring_buf_ring_mask(256), static_cast<int>(i));
    io_uring_buf_ring_advance(br, 256);
    for (std::uint32_t i = 0; i < nbuf; ++i) free_tx.push_back(i);
    arm_multishot();
  } else {
    for (std::size_t i = 0; i < depth; ++i) arm_read(i);
  }
  const char one = 1;
  if (::write(ready_fd, &one, 1) != 1) return 5;
  __kernel_timespec ts{0, 50'000'000};
  while (g_stop == 0) {
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, nullptr);
    unsigned head = 0, n = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++n;
      const std::uint64_t ud = cqe->user_data;
      const int res = cqe->res;
      if (ud == LIBURING_UDATA_TIMEOUT) continue;
      if (ud == multishot_tag) {
        if ((cqe->flags & IORING_CQE_F_BUFFER) != 0) {
          const auto id = static_cast<unsigned short>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
          std::byte* src = ring_mem.data() + id * buf_len;
          if (res > 0 && !free_tx.empty()) {
            const std::uint32_t t = free_tx.back();
            free_tx.pop_back();
            std::memcpy(buf(t), src, static_cast<std::size_t>(res));
            if (ethernet)
              reply_frame_in_place(buf(t));
            else
              reply_in_place(buf(t));
            io_uring_sqe* sqe = io_uring_get_sqe(&ring);
            if (sqe == nullptr) {
              io_uring_submit(&ring);
              sqe = io_uring_get_sqe(&ring);
            }
            io_uring_prep_write(sqe, fd, buf(t), static_cast<unsigned>(res), io::current_position);
            io_uring_sqe_set_data64(sqe, write_bit | t);
          }
          io_uring_buf_ring_add(br, src, buf_len, id, io_uring_buf_ring_mask(256), 0);
          io_uring_buf_ring_advance(br, 1);
        }
        if ((cqe->flags & IORING_CQE_F_MORE) == 0) arm_multishot();
        continue;
      }
      const std::size_t i = ud & ~write_bit;
      if ((ud & write_bit) != 0) {
        if (multishot)
          free_tx.push_back(static_cast<std::uint32_t>(i));
        else
          arm_read(i);
        continue;
      }
      if (res <= 0) {
        arm_read(i);
        continue;
      }
      if (ethernet)
        reply_frame_in_place(buf(i));
      else
        reply_in_place(buf(i));
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      if (sqe == nullptr) {
        io_uring_submit(&ring);
        sqe = io_uring_get_sqe(&ring);
      }
      io_uring_prep_write(sqe, fd, buf(i), static_cast<unsigned>(res), io::current_position);
      io_uring_sqe_set_data64(sqe, write_bit | i);
    }
    io_uring_cq_advance(&ring, n);
  }
  if (br != nullptr) io_uring_unregister_buf_ring(&ring, 7);
  io_uring_queue_exit(&ring);
  return 0;
}

// --- the synack responder -----------------------------------------------------------------

template <class Link>
auto synack_responder(event_loop& loop, Link l, int ready_fd) -> int {
  stack_options o;
  o.address = wire::ipv4_cidr{responder_ip, 24};
  stack<Link> net{loop, std::move(l), o};
  struct tick : timer_node {
    event_loop* loop;
    explicit tick(event_loop* lp) : timer_node(&run), loop(lp) {}
    static void run(timer_node& n) {
      auto& t = static_cast<tick&>(n);
      if (g_stop != 0)
        t.loop->stop();
      else
        t.loop->arm(t, t.loop->now() + 50ms);
    }
  } t(&loop);
  loop.arm(t, loop.now() + 50ms);
  const char one = 1;
  if (::write(ready_fd, &one, 1) != 1) return 5;
  loop.run();
  loop.disarm(t);
  return 0;
}

// --- one run ---------------------------------------------------------------------------------

struct run_result {
  bool ok = false;
  double pps = 0;
  std::uint64_t replies = 0;
  std::uint64_t lost = 0;
  /// The responder's CPU time (user + system, which includes the kernel's processing of the
  /// packets it writes) per reply, in microseconds.
  double cpu_us_per_packet = 0;
};

/// This process's user + system CPU time in microseconds.
auto cpu_us() -> std::int64_t {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1'000'000LL + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

/// The kernel side: floods echo requests of `ip_size` bytes (IP packet) from a raw ICMP socket
/// with at most `window` outstanding, for `seconds`; counts the replies.
auto flood(int sock, std::size_t ip_size, int window, double seconds) -> run_result {
  constexpr int batch = 64;
  const std::size_t icmp_len = ip_size - 20;
  const std::uint16_t ident = static_cast<std::uint16_t>(::getpid());
  std::vector<std::vector<std::byte>> req(batch, std::vector<std::byte>(icmp_len));
  std::vector<std::byte> pattern(icmp_len - 8);
  for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = std::byte(i);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(responder_ip.to_u32());
  std::vector<mmsghdr> out(batch);
  std::vector<iovec> out_iov(batch);
  // Replies: raw ICMP sockets deliver the IP header too.
  std::vector<std::vector<std::byte>> rbuf(batch, std::vector<std::byte>(ip_size + 64));
  std::vector<mmsghdr> in(batch);
  std::vector<iovec> in_iov(batch);
  for (int i = 0; i < batch; ++i) {
    in_iov[i] = {rbuf[i].data(), rbuf[i].size()};
    in[i].msg_hdr = msghdr{};
    in[i].msg_hdr.msg_iov = &in_iov[i];
    in[i].msg_hdr.msg_iovlen = 1;
  }
  std::uint16_t seq = 0;
  auto send_batch = [&](int n) -> int {
    for (int i = 0; i < n; ++i) {
      const auto r = wire::icmpv4_repr::echo_request(ident, seq++, pattern);
      wire::icmpv4_packet<bytes_mut> p{bytes_mut{req[i]}};
      r.emit(p);
      out_iov[i] = {req[i].data(), req[i].size()};
      out[i].msg_hdr = msghdr{};
      out[i].msg_hdr.msg_name = &to;
      out[i].msg_hdr.msg_namelen = sizeof to;
      out[i].msg_hdr.msg_iov = &out_iov[i];
      out[i].msg_hdr.msg_iovlen = 1;
    }
    const int s = ::sendmmsg(sock, out.data(), static_cast<unsigned>(n), 0);
    return s < 0 ? 0 : s;
  };
  auto is_reply = [&](const std::vector<std::byte>& b, std::size_t len) {
    if (len < 28) return false;
    const std::size_t ihl = (std::to_integer<unsigned>(b[0]) & 0x0f) * 4;
    return len >= ihl + 8 && b[ihl] == std::byte{0} && load_be<std::uint16_t>(b.data() + ihl + 4) == ident;
  };
  auto drain = [&](int timeout_ms) -> int {
    pollfd pfd{sock, POLLIN, 0};
    if (timeout_ms > 0 && ::poll(&pfd, 1, timeout_ms) <= 0) return -1;
    int got = 0;
    for (;;) {
      const int r = ::recvmmsg(sock, in.data(), batch, MSG_DONTWAIT, nullptr);
      if (r <= 0) break;
      for (int i = 0; i < r; ++i) got += is_reply(rbuf[i], in[i].msg_len) ? 1 : 0;
      if (r < batch) break;
    }
    return got;
  };

  run_result res;
  // Warm-up: one echo answered (ARP resolved both ways, caches warm), up to 3 s.
  bool warm = false;
  for (int attempt = 0; attempt < 30 && !warm; ++attempt) {
    send_batch(1);
    warm = drain(100) > 0;
  }
  if (!warm) return res;
  while (drain(20) > 0) {}

  long outstanding = 0;
  const auto t0 = bench_clock::now();
  const auto end = t0 + std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(seconds));
  while (bench_clock::now() < end) {
    while (outstanding + batch <= window) {
      const int s = send_batch(batch);
      if (s == 0) break;
      outstanding += s;
    }
    const int got = drain(outstanding >= window ? 200 : 0);
    if (got < 0) { // nothing for 200 ms: what is outstanding was lost
      res.lost += static_cast<std::uint64_t>(outstanding);
      outstanding = 0;
      continue;
    }
    res.replies += static_cast<std::uint64_t>(got);
    outstanding -= got;
    if (outstanding < 0) outstanding = 0;
  }
  const double elapsed = std::chrono::duration<double>(bench_clock::now() - t0).count();
  res.pps = static_cast<double>(res.replies) / elapsed;
  res.ok = true;
  return res;
}

/// Starts the responder in a child pinned to CPU 0, floods it from `kernel_ns` (or here), stops it.
auto one_run(const options& o, const std::string& link_name, const std::string& responder, std::size_t size,
             const netns_fd* kernel_ns) -> run_result {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return {};
  std::fflush(nullptr); // the child must not print our buffered output again
  const pid_t child = ::fork();
  if (child < 0) return {};
  if (child == 0) {
    ::close(ready[0]);
    if (o.pin) pin_to(0);
    std::signal(SIGTERM, on_sigterm);
    event_loop loop;
    const bool raw = responder.rfind("raw", 0) == 0;
    const bool raw_multishot = responder == "raw multishot";
    int rc = 1;
    std::int64_t cpu = 0;
    if (link_name == "tun") {
      link::tun_options t;
      t.io.rx = o.rx;
      t.io.rx_depth = o.depth;
      no_offload(t);
      auto dev = link::tun::open(loop, t);
      if (!dev) {
        fmt::print(stderr, "bench_link: tun: {}\n", dev.error().message());
        ::_exit(2);
      }
      const auto t0 = cpu_us();
      rc = raw ? raw_responder(dev->fd(), false, raw_multishot, o.depth, ready[1])
               : synack_responder(loop, std::move(*dev), ready[1]);
      cpu = cpu_us() - t0;
    } else {
      link::af_packet_options a;
      a.interface = "veth0";
      a.qdisc_bypass = o.qdisc_bypass;
      a.offload = false; // bare frames, as the raw responder reads and writes them (and as on tun)
      a.io.rx = o.rx;
      a.io.rx_depth = o.depth;
      auto dev = link::af_packet::open(loop, a);
      if (!dev) {
        fmt::print(stderr, "bench_link: af_packet: {}\n", dev.error().message());
        ::_exit(2);
      }
      const auto t0 = cpu_us();
      rc = raw ? raw_responder(dev->fd(), true, raw_multishot, o.depth, ready[1])
               : synack_responder(loop, std::move(*dev), ready[1]);
      cpu = cpu_us() - t0;
    }
    if (::write(ready[1], &cpu, sizeof cpu) != sizeof cpu) rc = 6;
    std::fflush(nullptr);
    ::_exit(rc);
  }
  ::close(ready[1]);
  run_result r;
  pollfd pfd{ready[0], POLLIN, 0};
  char c = 0;
  if (::poll(&pfd, 1, 5000) == 1 && ::read(ready[0], &c, 1) == 1) {
    auto make_socket = [] { return ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP); };
    const int sock = kernel_ns != nullptr ? kernel_ns->enter(make_socket) : make_socket();
    if (sock >= 0) {
      int big = 8 << 20;
      ::setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
      r = flood(sock, size, o.window, o.seconds);
      ::close(sock);
    }
  }
  ::kill(child, SIGTERM);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) r.ok = false;
  std::int64_t cpu = 0;
  if (::read(ready[0], &cpu, sizeof cpu) == sizeof cpu && r.replies > 0)
    r.cpu_us_per_packet = static_cast<double>(cpu) / static_cast<double>(r.replies);
  ::close(ready[0]);
  // The kernel deletes a closed tun device asynchronously: wait (bounded) before the next run
  // creates it again.
  for (int i = 0; i < 200 && link_name == "tun" && ::if_nametoindex("synack0") != 0; ++i) ::usleep(10'000);
  return r;
}

struct summary {
  double median = 0, min = 0, max = 0;
  double cpu_median = 0;
  std::uint64_t lost = 0;
  int failed = 0;
};
auto summarize(const std::vector<run_result>& rs) -> summary {
  std::vector<double> v;
  summary s;
  for (const auto& r : rs) {
    if (!r.ok) {
      ++s.failed;
      continue;
    }
    v.push_back(r.pps);
    s.lost += r.lost;
  }
  if (v.empty()) return s;
  std::vector<double> c;
  for (const auto& r : rs)
    if (r.ok) c.push_back(r.cpu_us_per_packet);
  std::sort(c.begin(), c.end());
  s.cpu_median = c.size() % 2 ? c[c.size() / 2] : (c[c.size() / 2 - 1] + c[c.size() / 2]) / 2;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return s;
}

[[noreturn]] void usage() {
  fmt::print(stderr,
             "usage: bench_link [--runs N] [--seconds S] [--window W] [--links tun,af_packet] [--sizes 84,1500]\n"
             "                  [--rx auto|multishot|plain] [--depth D] [--raw plain|multishot|both] [--no-pin]\n"
             "                  [--qdisc-bypass]\n");
  std::exit(64);
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view k = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (k == "--runs")
      o.runs = std::max(1, std::atoi(std::string(value()).c_str()));
    else if (k == "--seconds")
      o.seconds = std::clamp(std::atof(std::string(value()).c_str()), 0.1, 10.0);
    else if (k == "--window")
      o.window = std::clamp(std::atoi(std::string(value()).c_str()), 64, 400);
    else if (k == "--links")
      o.links = split(value());
    else if (k == "--sizes") {
      o.sizes.clear();
      for (const auto& s : split(value())) o.sizes.push_back(std::clamp<std::size_t>(std::stoul(s), 28, 1500));
    } else if (k == "--rx") {
      const auto v = value();
      o.rx = v == "multishot" ? link::rx_mode::multishot
             : v == "plain"   ? link::rx_mode::plain
                              : link::rx_mode::automatic;
    } else if (k == "--depth")
      o.depth = std::clamp<std::size_t>(std::stoul(std::string(value())), 1, 256);
    else if (k == "--raw")
      o.raw = std::string(value());
    else if (k == "--no-pin")
      o.pin = false;
    else if (k == "--qdisc-bypass")
      o.qdisc_bypass = true;
    else
      usage();
  }
  if (::unshare(CLONE_NEWNET) != 0) {
    fmt::print(stderr,
               "bench_link: SKIPPED: cannot create a network namespace ({}); run as root or inside "
               "`unshare --user --map-root-user --net`\n",
               std::strerror(errno));
    return 77;
  }
  run_cmd("ip link set lo up");
  if (o.pin && ::sysconf(_SC_NPROCESSORS_ONLN) < 2) o.pin = false;
  if (o.pin) pin_to(1);

  netns_fd kernel_side;
  const bool want_af_packet = std::find(o.links.begin(), o.links.end(), "af_packet") != o.links.end();
  if (want_af_packet) {
    kernel_side = netns_fd::make();
    const std::string in_b = fmt::format("nsenter --net={} ", kernel_side.path());
    bool ok = kernel_side.fd >= 0 &&
              run_cmd(fmt::format("ip link add veth0 type veth peer name veth1 netns {}", kernel_side.path())) &&
              run_cmd("sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1") &&
              run_cmd(in_b + "sysctl -qw net.ipv6.conf.veth1.disable_ipv6=1") && run_cmd(in_b + "ip link set lo up") &&
              run_cmd(in_b + "ip addr add 192.0.2.1/24 dev veth1") && run_cmd(in_b + "ip link set veth1 up") &&
              run_cmd("ip link set veth0 up");
    // The raw responder answers no ARP: give the kernel side synack's MAC for good (both
    // responders then see the same kernel-side work). Wait until veth1 is really up.
    ok = ok &&
         run_cmd(in_b + "sh -c \"ip neigh replace 192.0.2.2 dev veth1 nud permanent lladdr $(nsenter --net=/proc/" +
                 std::to_string(::getpid()) + "/ns/net ip -br link show veth0 | awk '{print $3}')\"") &&
         run_cmd(in_b +
                 "sh -c 'for i in $(seq 100); do ip -o link show veth1 | grep -q \"state UP\" && exit 0; "
                 "sleep 0.02; done; exit 1'");
    if (!ok) {
      fmt::print(stderr, "bench_link: cannot set up the veth pair\n");
      return 1;
    }
  }

  std::vector<std::string> raws;
  if (o.raw == "both" || o.raw == "plain") raws.push_back("raw plain");
  if (o.raw == "both" || o.raw == "multishot") raws.push_back("raw multishot");

  fmt::print(
      "bench_link: ICMP echo flood from the kernel side, window {}, {} runs of {:.1f} s; responder on CPU 0, "
      "kernel sender on CPU 1{}\n",
      o.window, o.runs, o.seconds, o.pin ? "" : " (not pinned)");
  fmt::print("synack: rx {} (depth {} when plain); AF_PACKET qdisc bypass {}\n\n", to_string(o.rx), o.depth,
             o.qdisc_bypass ? "on" : "off");
  fmt::print("{:<10} {:>5}  {:<14} {:>10} {:>17} {:>7}  {:<17} {:>8}  {:<17} {}\n", "link", "bytes", "responder",
             "pps median", "min..max", "Gbit/s", "pps ratio", "cpu us/p", "cpu ratio", "lost");
  auto median_of = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  auto ratio_text = [&](const std::vector<double>& v) {
    if (v.empty()) return std::string{};
    return fmt::format("{:.2f} ({:.2f}..{:.2f})", median_of(v), *std::min_element(v.begin(), v.end()),
                       *std::max_element(v.begin(), v.end()));
  };
  for (const auto& ln : o.links) {
    for (const std::size_t size : o.sizes) {
      std::vector<std::string> responders = raws;
      responders.push_back("synack");
      // Interleaved: run r of every responder, then run r + 1, so that a shared machine's
      // load drifts over all of them alike; each run's ratios use that round's raw figures.
      std::vector<std::vector<run_result>> results(responders.size());
      std::vector<double> pps_ratios;
      std::vector<double> cpu_ratios;
      for (int r = 0; r < o.runs; ++r) {
        double raw_best = 0;
        double raw_cpu = 0;
        for (std::size_t k = 0; k < responders.size(); ++k) {
          const run_result x = one_run(o, ln, responders[k], size, ln == "af_packet" ? &kernel_side : nullptr);
          results[k].push_back(x);
          if (!x.ok) continue;
          if (responders[k] != "synack") {
            raw_best = std::max(raw_best, x.pps);
            if (x.cpu_us_per_packet > 0 && (raw_cpu == 0 || x.cpu_us_per_packet < raw_cpu))
              raw_cpu = x.cpu_us_per_packet;
          } else {
            if (raw_best > 0) pps_ratios.push_back(x.pps / raw_best);
            if (raw_cpu > 0 && x.cpu_us_per_packet > 0) cpu_ratios.push_back(raw_cpu / x.cpu_us_per_packet);
          }
        }
      }
      for (std::size_t k = 0; k < responders.size(); ++k) {
        const summary s = summarize(results[k]);
        const bool is_raw = responders[k] != "synack";
        const double gbps = s.median * static_cast<double>(size) * 8 / 1e9;
        fmt::print("{:<10} {:>5}  {:<14} {:>10.0f} {:>17} {:>7.2f}  {:<17} {:>8.2f}  {:<17} {}{}\n", ln, size,
                   responders[k], s.median, fmt::format("{:.0f}..{:.0f}", s.min, s.max), gbps,
                   is_raw ? "" : ratio_text(pps_ratios), s.cpu_median, is_raw ? "" : ratio_text(cpu_ratios), s.lost,
                   s.failed != 0 ? fmt::format("  ({} runs failed)", s.failed) : "");
      }
      std::fflush(stdout);
    }
  }
  fmt::print(
      "\npps ratio: per round, synack's pps / the better raw responder's pps; median (min..max) over the rounds.\n"
      "cpu us/p: the responder's CPU time (user + system, the kernel's handling of its reads and writes included)\n"
      "per echo reply; cpu ratio: the cheaper raw responder's / synack's, per round (1.0: synack costs no more).\n");
  return 0;
}
