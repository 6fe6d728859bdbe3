// bench_net: the workloads of the benchmark suite (benchmarks/run.sh), each side of each test
// as a subcommand, so the suite can put the two sides in different network namespaces and on
// different cores. Every subcommand prints its results as one JSON object per line on stdout
// (servers first print {"event":"ready"} once they accept connections).
//
//   bench_net kernel-server sink|echo|http  [--port P] [--timeout S]
//   bench_net kernel-client send|pingpong|connect|hold --connect A.B.C.D:P [--seconds S]
//                           [--conns N] [--size B]
//   bench_net synack-server sink|echo  [link options] [--port P] [--hold N] [--timeout S]
//   bench_net synack-client send|pingpong --connect A.B.C.D:P [link options] [--seconds S]
//   bench_net sim [--seconds S] [--delay-us D]
//
// Link options (synack side): --link tun|af_packet, --ifname NAME, --addr A.B.C.D/N (synack),
// --peer A.B.C.D (tun: the kernel side), --mtu N, --rx auto|multishot|plain, --rx-depth N,
// --rx-ring N (provided buffers of a multishot read),
// --tx-buffers N, --offload 0|1 (tun: IFF_VNET_HDR, TSO and GRO; af_packet: PACKET_VNET_HDR,
// checksum offload and TSO; 1 by default, as in the library), --busy-poll US (loop_options::busy_poll), --rps-cpus MASK
// (tun: Receive Packet Steering of what synack writes, to the CPUs in MASK), --qdisc-bypass,
// --cc new_reno|cubic|none, --sndbuf N, --rcvbuf N.
//
// Workloads:
// - sink / send: one connection; the client sends 64 KiB writes for --seconds, then closes;
//   the server reads to EOF and reports bytes / (accept .. EOF).
// - echo / pingpong: the client sends --size bytes (64) and waits for them back, for
//   --seconds; the server echoes. RTT percentiles and transactions per second.
// - echo / connect: --conns concurrent clients (kernel sockets, one epoll thread), each
//   connect, send 64 B, read 64 B, close, again, for --seconds.
// - echo --hold N / hold: N clients connect, exchange 16 B, and stay open; the synack server
//   reports its RSS and heap (mallinfo2) growth per connection when all N are open.
// - http: a single-threaded epoll HTTP server sending the same bytes as examples/http_server's
//   GET / (wrk with "Connection: close" is the client).
// - sim: two synack stacks in this process over link::sim_link_pair (virtual clock, no
//   device): one connection moves data for --seconds of wall time; Gbit/s per CPU second.
//
// Every loop is bounded by --seconds or --timeout. Nothing here creates namespaces: run.sh
// does, and runs each side inside them.
#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common/http.hpp"
#include "common/signals.hpp"
#include "synack/link/any_link.hpp"
#include "synack/link/sim_link.hpp"
#include "synack/synack.hpp"

using namespace synack;
using namespace std::chrono_literals;
using bench_clock = std::chrono::steady_clock;

namespace {

// --- small helpers ---------------------------------------------------------------------------

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_signal(int) { g_stop = 1; }

auto seconds_since(bench_clock::time_point t0) -> double {
  return std::chrono::duration<double>(bench_clock::now() - t0).count();
}

/// This process's user + system CPU time in seconds.
auto cpu_seconds() -> double {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

auto rss_bytes() -> std::int64_t {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * ::sysconf(_SC_PAGESIZE) : 0;
}

/// Bytes malloc has handed out and not got back (arena chunks in use + mmapped blocks).
auto heap_bytes() -> std::int64_t {
  const struct mallinfo2 m = ::mallinfo2();
  return static_cast<std::int64_t>(m.uordblks + m.hblkhd);
}

/// One JSON object on one line.
class json {
public:
  auto add(std::string_view k, double v) -> json& {
    if (!std::isfinite(v)) v = 0;
    return raw(k, fmt::format("{}", v));
  }
  auto add(std::string_view k, std::int64_t v) -> json& { return raw(k, fmt::format("{}", v)); }
  auto add(std::string_view k, std::uint64_t v) -> json& { return raw(k, fmt::format("{}", v)); }
  auto add(std::string_view k, int v) -> json& { return raw(k, fmt::format("{}", v)); }
  auto add(std::string_view k, std::size_t v, int) -> json& { return raw(k, fmt::format("{}", v)); }
  auto add(std::string_view k, std::string_view v) -> json& {
    std::string q = "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') q += '\\';
      if (static_cast<unsigned char>(c) >= 0x20) q += c;
    }
    q += '"';
    return raw(k, q);
  }
  auto add(std::string_view k, const char* v) -> json& { return add(k, std::string_view{v}); }
  auto raw(std::string_view k, std::string_view v) -> json& {
    m_s += m_s.empty() ? "{" : ", ";
    m_s += fmt::format("\"{}\": {}", k, v);
    return *this;
  }
  void print() {
    fmt::print("{}}}\n", m_s.empty() ? "{" : m_s);
    std::fflush(stdout);
  }

private:
  std::string m_s;
};

void print_ready() { json{}.add("event", "ready").print(); }

struct args {
  std::string command, mode;
  std::map<std::string, std::string, std::less<>> kv;
  std::vector<std::string> flags;

  auto get(std::string_view k, std::string_view def) const -> std::string {
    auto it = kv.find(k);
    return it == kv.end() ? std::string(def) : it->second;
  }
  auto num(std::string_view k, double def) const -> double {
    auto it = kv.find(k);
    return it == kv.end() ? def : std::atof(it->second.c_str());
  }
  auto has(std::string_view f) const -> bool { return std::find(flags.begin(), flags.end(), f) != flags.end(); }
};

[[noreturn]] void usage() {
  fmt::print(stderr,
             "usage: bench_net kernel-server sink|echo|http [--port P] [--timeout S]\n"
             "       bench_net kernel-client send|pingpong|connect|hold --connect A.B.C.D:P [--seconds S] "
             "[--conns N] [--size B]\n"
             "       bench_net synack-server sink|echo [link options] [--port P] [--hold N] [--timeout S]\n"
             "       bench_net synack-client send|pingpong --connect A.B.C.D:P [link options] [--seconds S]\n"
             "       bench_net sim [--seconds S] [--delay-us D]\n"
             "(see the header comment of benchmarks/net/bench_net.cpp)\n");
  std::exit(2);
}

auto parse_args(int argc, char** argv) -> args {
  args a;
  if (argc < 2) usage();
  a.command = argv[1];
  int i = 2;
  if (a.command != "sim") {
    if (argc < 3) usage();
    a.mode = argv[2];
    i = 3;
  }
  static constexpr std::string_view flags[] = {"--qdisc-bypass"};
  for (; i < argc; ++i) {
    std::string_view k = argv[i];
    if (k.substr(0, 2) != "--") usage();
    if (std::find(std::begin(flags), std::end(flags), k) != std::end(flags)) {
      a.flags.emplace_back(k.substr(2));
      continue;
    }
    if (i + 1 >= argc) usage();
    a.kv[std::string(k.substr(2))] = argv[++i];
  }
  return a;
}

auto percentile(std::vector<double>& v, double p) -> double {
  if (v.empty()) return 0;
  const auto k =
      static_cast<std::size_t>(std::min<double>(static_cast<double>(v.size() - 1), p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

/// RTT statistics of a ping-pong run, added to `j`.
void add_rtts(json& j, std::vector<double>& rtt_us, double elapsed, std::uint64_t count) {
  j.add("transactions", count).add("seconds", elapsed);
  j.add("tps", static_cast<double>(count) / std::max(elapsed, 1e-9));
  double sum = 0;
  for (double r : rtt_us) sum += r;
  j.add("rtt_mean_us", rtt_us.empty() ? 0.0 : sum / static_cast<double>(rtt_us.size()));
  const double p99 = percentile(rtt_us, 0.99);
  const double p50 = percentile(rtt_us, 0.50);
  j.add("rtt_p50_us", p50).add("rtt_p99_us", p99);
}

constexpr std::size_t bulk_chunk = 64 * 1024;
constexpr std::size_t max_rtt_samples = 4'000'000;

/// The response of examples/http_server to GET / with "Connection: close" (the Date header
/// is made once: the same length as the one http_server sends).
constexpr std::string_view http_page =
    "<!doctype html>\n<html><head><title>synack</title></head>\n<body>\n"
    "<h1>Hello from synack</h1>\n"
    "<p>This page came through a userspace TCP/IPv4 stack (io_uring + C++20 coroutines).</p>\n"
    "<p>See <a href=\"/stats\">/stats</a> for its counters.</p>\n</body></html>\n";

auto http_response(bool keep_alive) -> std::string {
  std::string out;
  examples::http::write(out,
                        examples::http::response{
                            .content_type = "text/html; charset=utf-8", .body = http_page, .keep_alive = keep_alive});
  return out;
}

// --- kernel sockets ----------------------------------------------------------------------------

auto parse_endpoint(const std::string& s) -> sockaddr_in {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  const auto colon = s.rfind(':');
  if (colon == std::string::npos) usage();
  if (::inet_pton(AF_INET, s.substr(0, colon).c_str(), &a.sin_addr) != 1) usage();
  a.sin_port = htons(static_cast<std::uint16_t>(std::atoi(s.c_str() + colon + 1)));
  return a;
}

void set_nodelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

auto set_nonblocking(int fd) -> void { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

/// Raises RLIMIT_NOFILE to at least n.
void raise_nofile(rlim_t n) {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur >= n) return;
  r.rlim_cur = n;
  r.rlim_max = std::max(r.rlim_max, n);
  if (::setrlimit(RLIMIT_NOFILE, &r) != 0) fmt::print(stderr, "bench_net: cannot raise RLIMIT_NOFILE to {}\n", n);
}

auto kernel_listen(std::uint16_t port) -> int {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4096) != 0) {
    fmt::print(stderr, "bench_net: listen on port {}: {}\n", port, std::strerror(errno));
    std::exit(1);
  }
  return fd;
}

/// Waits (bounded) until `fd` is readable; false on timeout or stop.
auto wait_readable(int fd, bench_clock::time_point deadline) -> bool {
  while (g_stop == 0 && bench_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) return true;
  }
  return false;
}

auto kernel_server(const args& a) -> int {
  const auto port = static_cast<std::uint16_t>(a.num("port", 5001));
  const auto deadline = bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(
                                                 std::chrono::duration<double>(a.num("timeout", 60)));
  const int lfd = kernel_listen(port);
  print_ready();
  if (a.mode == "sink") {
    if (!wait_readable(lfd, deadline)) return 1;
    const int c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return 1;
    const auto t0 = bench_clock::now();
    const double cpu0 = cpu_seconds();
    std::vector<char> buf(256 * 1024);
    std::uint64_t bytes = 0;
    timeval tv{1, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (;;) {
      const ssize_t n = ::read(c, buf.data(), buf.size());
      if (n > 0) {
        bytes += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR) && g_stop == 0 && bench_clock::now() < deadline) continue;
      break;
    }
    const double secs = seconds_since(t0);
    const double cpu = cpu_seconds() - cpu0;
    ::close(c);
    json{}
        .add("event", "result")
        .add("side", "kernel-server")
        .add("bytes", bytes)
        .add("seconds", secs)
        .add("gbps", static_cast<double>(bytes) * 8 / 1e9 / std::max(secs, 1e-9))
        .add("cpu_s", cpu)
        .print();
    return 0;
  }
  const bool http = a.mode == "http";
  if (!http && a.mode != "echo") usage();
  const std::string response_close = http_response(false);
  const std::string response_keep = http_response(true);
  raise_nofile(70000);
  set_nonblocking(lfd);
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::vector<std::string> pending(1024); // http: the request bytes so far, by fd
  std::vector<char> buf(64 * 1024);
  std::uint64_t accepted = 0, requests = 0;
  const double cpu0 = cpu_seconds();
  std::vector<epoll_event> events(256);
  while (g_stop == 0 && bench_clock::now() < deadline) {
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == lfd) {
        for (;;) {
          const int c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
          if (c < 0) break;
          ++accepted;
          set_nodelay(c);
          if (static_cast<std::size_t>(c) >= pending.size()) pending.resize(static_cast<std::size_t>(c) * 2);
          pending[static_cast<std::size_t>(c)].clear();
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
        }
        continue;
      }
      const ssize_t r = ::read(fd, buf.data(), buf.size());
      if (r < 0 && errno == EAGAIN) continue;
      if (r <= 0) {
        ::close(fd); // EOF or error; the epoll registration goes with the descriptor
        continue;
      }
      if (!http) {
        // Echo; a small message never writes partially on a fresh socket, but be exact.
        std::size_t off = 0;
        while (off < static_cast<std::size_t>(r)) {
          const ssize_t w = ::write(fd, buf.data() + off, static_cast<std::size_t>(r) - off);
          if (w > 0) {
            off += static_cast<std::size_t>(w);
          } else if (w < 0 && errno == EAGAIN) {
            pollfd p{fd, POLLOUT, 0};
            ::poll(&p, 1, 100);
          } else {
            break;
          }
        }
        continue;
      }
      auto& req = pending[static_cast<std::size_t>(fd)];
      req.append(buf.data(), static_cast<std::size_t>(r));
      bool close_it = false;
      for (;;) {
        const auto end = req.find("\r\n\r\n");
        if (end == std::string::npos) break;
        std::string head = req.substr(0, end);
        req.erase(0, end + 4);
        std::transform(head.begin(), head.end(), head.begin(),
                       [](char c) { return static_cast<char>(std::tolower(c)); });
        const bool close_req = head.find("connection: close") != std::string::npos;
        const std::string& resp = close_req ? response_close : response_keep;
        ++requests;
        if (::write(fd, resp.data(), resp.size()) != static_cast<ssize_t>(resp.size())) close_it = true;
        if (close_req) close_it = true;
        if (close_it) break;
      }
      if (req.size() > 16384) close_it = true;
      if (close_it) ::close(fd);
    }
  }
  json{}
      .add("event", "result")
      .add("side", "kernel-server")
      .add("accepted", accepted)
      .add("requests", requests)
      .add("cpu_s", cpu_seconds() - cpu0)
      .print();
  return 0;
}

auto kernel_connect(const sockaddr_in& to) -> int {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) return fd;
    if (errno != ECONNREFUSED && errno != ENETUNREACH && errno != EHOSTUNREACH) break;
    ::usleep(100'000);
  }
  fmt::print(stderr, "bench_net: connect: {}\n", std::strerror(errno));
  std::exit(1);
}

auto kernel_client(const args& a) -> int {
  const sockaddr_in to = parse_endpoint(a.get("connect", ""));
  const double seconds = a.num("seconds", 2);
  const auto dur = std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(seconds));
  if (a.mode == "send") {
    const int fd = kernel_connect(to);
    std::vector<char> chunk(bulk_chunk, 'x');
    const auto t0 = bench_clock::now();
    const double cpu0 = cpu_seconds();
    std::uint64_t bytes = 0;
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    while (bench_clock::now() - t0 < dur && g_stop == 0) {
      const ssize_t n = ::write(fd, chunk.data(), chunk.size());
      if (n <= 0) break;
      bytes += static_cast<std::uint64_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    while (::read(fd, &c, 1) > 0) {} // the server's FIN after it read everything
    const double secs = seconds_since(t0);
    const double cpu = cpu_seconds() - cpu0;
    ::close(fd);
    json{}
        .add("event", "result")
        .add("side", "kernel-client")
        .add("bytes", bytes)
        .add("seconds", secs)
        .add("gbps", static_cast<double>(bytes) * 8 / 1e9 / std::max(secs, 1e-9))
        .add("cpu_s", cpu)
        .print();
    return 0;
  }
  if (a.mode == "pingpong") {
    const auto size = static_cast<std::size_t>(std::clamp(a.num("size", 64), 1.0, 65536.0));
    const int fd = kernel_connect(to);
    set_nodelay(fd);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::vector<char> msg(size, 'p'), in(size);
    auto round_trip = [&]() -> bool {
      if (::write(fd, msg.data(), size) != static_cast<ssize_t>(size)) return false;
      std::size_t got = 0;
      while (got < size) {
        const ssize_t n = ::read(fd, in.data() + got, size - got);
        if (n <= 0) return false;
        got += static_cast<std::size_t>(n);
      }
      return true;
    };
    for (int i = 0; i < 200; ++i)
      if (!round_trip()) return 1;
    std::vector<double> rtt;
    rtt.reserve(1 << 20);
    std::uint64_t count = 0;
    const double cpu0 = cpu_seconds();
    const auto t0 = bench_clock::now();
    auto t = t0;
    while (t - t0 < dur && g_stop == 0) {
      if (!round_trip()) return 1;
      const auto t2 = bench_clock::now();
      if (rtt.size() < max_rtt_samples) rtt.push_back(std::chrono::duration<double, std::micro>(t2 - t).count());
      ++count;
      t = t2;
    }
    const double elapsed = std::chrono::duration<double>(t - t0).count();
    ::close(fd);
    json j;
    j.add("event", "result").add("side", "kernel-client");
    add_rtts(j, rtt, elapsed, count);
    j.add("cpu_s", cpu_seconds() - cpu0).print();
    return 0;
  }
  if (a.mode == "connect" || a.mode == "hold") {
    // Connection slots driven by one epoll: connect, send `size` bytes, read them back, then
    // (connect) close and start again, or (hold) keep the connection open.
    const bool hold = a.mode == "hold";
    const auto conns = static_cast<std::size_t>(std::max(1.0, a.num("conns", hold ? 10000 : 1)));
    const auto size = static_cast<std::size_t>(hold ? 16 : std::clamp(a.num("size", 64), 1.0, 4096.0));
    const std::size_t parallel = hold ? std::min<std::size_t>(conns, 256) : conns;
    raise_nofile(conns + 1024);
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    enum class st { connecting, reading };
    struct slot {
      int fd = -1;
      st state = st::connecting;
      std::size_t got = 0;
    };
    std::vector<slot> slots(parallel);
    std::vector<int> held;
    std::vector<char> msg(size, 'c'), in(4096);
    std::uint64_t done = 0, errors = 0, started = 0;
    auto start = [&](std::size_t i) -> bool {
      if (hold && started >= conns) return false;
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0) {
        ++errors;
        return false;
      }
      set_nodelay(fd);
      ++started;
      slots[i] = slot{fd, st::connecting, 0};
      const int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
      if (r != 0 && errno != EINPROGRESS) {
        ++errors;
        ::close(fd);
        slots[i].fd = -1;
        return false;
      }
      epoll_event e{};
      e.events = EPOLLOUT;
      e.data.u64 = i;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
      return true;
    };
    const auto t0 = bench_clock::now();
    const double cpu0 = cpu_seconds();
    const auto limit =
        hold ? std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(a.num("timeout", 60)))
             : dur;
    for (std::size_t i = 0; i < parallel; ++i) start(i);
    std::vector<epoll_event> events(256);
    std::size_t active = parallel;
    while (bench_clock::now() - t0 < limit && g_stop == 0 && active > 0) {
      const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
      for (int k = 0; k < n; ++k) {
        const std::size_t i = events[k].data.u64;
        slot& s = slots[i];
        if (s.fd < 0) continue;
        bool restart = false;
        if ((events[k].events & (EPOLLERR | EPOLLHUP)) != 0 && s.state == st::connecting) {
          ++errors;
          restart = true;
        } else if (s.state == st::connecting) {
          if (::write(s.fd, msg.data(), size) != static_cast<ssize_t>(size)) {
            ++errors;
            restart = true;
          } else {
            s.state = st::reading;
            epoll_event e{};
            e.events = EPOLLIN;
            e.data.u64 = i;
            ::epoll_ctl(ep, EPOLL_CTL_MOD, s.fd, &e);
          }
        } else {
          const ssize_t r = ::read(s.fd, in.data(), in.size());
          if (r < 0 && errno == EAGAIN) continue;
          if (r <= 0) {
            ++errors;
            restart = true;
          } else {
            s.got += static_cast<std::size_t>(r);
            if (s.got >= size) {
              ++done;
              if (hold) {
                ::epoll_ctl(ep, EPOLL_CTL_DEL, s.fd, nullptr);
                held.push_back(s.fd);
                s.fd = -1;
                if (!start(i)) --active;
                continue;
              }
              restart = true;
              ::close(s.fd);
              s.fd = -1;
            }
          }
        }
        if (restart) {
          if (s.fd >= 0) ::close(s.fd);
          s.fd = -1;
          if (bench_clock::now() - t0 >= limit || !start(i)) --active;
        }
      }
      if (hold && held.size() >= conns) break;
    }
    const double elapsed = seconds_since(t0);
    json j;
    j.add("event", hold ? "held" : "result").add("side", "kernel-client");
    j.add("completed", done)
        .add("errors", errors)
        .add("seconds", elapsed)
        .add("conns", static_cast<std::uint64_t>(conns));
    if (!hold) j.add("rate", static_cast<double>(done) / std::max(elapsed, 1e-9));
    j.add("cpu_s", cpu_seconds() - cpu0).print();
    if (hold) { // keep them open until told to stop (bounded)
      const auto hold_until = bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(
                                                       std::chrono::duration<double>(a.num("hold-seconds", 30)));
      while (g_stop == 0 && bench_clock::now() < hold_until) ::usleep(20'000);
      for (int fd : held) ::close(fd);
    }
    for (auto& s : slots)
      if (s.fd >= 0) ::close(s.fd);
    return 0;
  }
  usage();
}

// --- synack -------------------------------------------------------------------------------------

using bench_stack = stack<link::any_link, tcp::dynamic_policies>;

/// The event loop of a synack side: --busy-poll US (loop_options::busy_poll; 0 by default).
auto make_loop_options(const args& a) -> loop_options {
  loop_options o;
  o.busy_poll = std::chrono::microseconds(static_cast<long>(a.num("busy-poll", 0)));
  return o;
}

void add_counters(json& j, const bench_stack& net, const link::link_counters* lc) {
  const auto& t = const_cast<bench_stack&>(net).tcp().stats();
  j.add("retrans_segs", t.retrans_segs)
      .add("rto_expirations", t.rto_expirations)
      .add("fast_retransmits", t.fast_retransmits)
      .add("out_segs", t.out_segs)
      .add("in_segs", t.in_segs)
      .add("ooo_segs_in", t.ooo_segs_in)
      .add("dup_acks_in", t.dup_acks_in)
      .add("listen_drops", t.listen_drops);
  if (lc != nullptr) {
    j.add("link_rx_packets", lc->rx_packets)
        .add("link_tx_packets", lc->tx_packets)
        .add("link_rx_rearms", lc->rx_rearms)
        .add("link_tx_no_buffer", lc->tx_no_buffer)
        .add("link_tx_errors", lc->tx_errors)
        .add("link_tx_too_big", lc->tx_too_big);
  }
  std::uint64_t refused = 0;
  net.for_each_counter([&](std::string_view layer, std::string_view name, std::uint64_t v) {
    if (layer == "link" && name == "packets dropped: no transmit buffer") refused = v;
  });
  j.add("stack_tx_refused", refused);
}

auto stack_options_from(const args& a) -> stack_options {
  stack_options o;
  if (auto r = wire::ipv4_cidr::parse(a.get("addr", "192.0.2.2/24"))) o.address = *r;
  o.mtu = static_cast<std::size_t>(a.num("mtu", 1500));
  if (auto k = tcp::parse_congestion_kind(a.get("cc", "cubic"))) o.tcp.connection.congestion = *k;
  o.tcp.connection.send_buffer = static_cast<std::uint32_t>(a.num("sndbuf", 256 * 1024));
  o.tcp.connection.recv_buffer = static_cast<std::uint32_t>(a.num("rcvbuf", 256 * 1024));
  o.tcp.max_syn_backlog = 4096;
  return o;
}

auto io_options_from(const args& a) -> link::device_io_options {
  link::device_io_options io;
  const auto rx = a.get("rx", "auto");
  io.rx = rx == "multishot" ? link::rx_mode::multishot
          : rx == "plain"   ? link::rx_mode::plain
                            : link::rx_mode::automatic;
  io.rx_depth = static_cast<std::size_t>(a.num("rx-depth", 8));
  io.tx_buffers = static_cast<std::size_t>(a.num("tx-buffers", 256));
  io.rx_ring_buffers = static_cast<std::uint16_t>(a.num("rx-ring", 256));
  return io;
}

/// --rps-cpus MASK: Receive Packet Steering for what synack writes into the tun. A write to a
/// tun runs the kernel's receive path (IP, TCP, the socket) in the writer's thread; with RPS the
/// device queues each packet to a CPU in MASK, whose softirq does that work instead (as the
/// kernel's own sender does over veth, on its own core). Needs sysfs of this namespace
/// (`ip netns exec` mounts it); a failure is reported and the run goes on without it.
void set_rps_cpus(const std::string& ifname, const std::string& mask) {
  const auto path = fmt::format("/sys/class/net/{}/queues/rx-0/rps_cpus", ifname);
  std::FILE* f = std::fopen(path.c_str(), "w");
  const bool ok = f != nullptr && std::fputs(mask.c_str(), f) >= 0;
  if (f != nullptr && std::fclose(f) != 0) return void(fmt::print(stderr, "bench_net: {}: write failed\n", path));
  if (!ok) fmt::print(stderr, "bench_net: cannot set {} (RPS off)\n", path);
}

/// Opens the link the options describe and calls body(stack&, link counters).
template <class Body>
auto with_stack(event_loop& loop, const args& a, Body&& body) -> int {
  const auto opts = stack_options_from(a);
  if (a.get("link", "tun") == "tun") {
    link::tun_options o;
    o.name = a.get("ifname", "synack0");
    o.mtu = opts.mtu;
    auto peer = wire::ipv4_address::parse(a.get("peer", "192.0.2.1"));
    o.kernel.address = wire::ipv4_cidr{peer.value_or(wire::ipv4_address{192, 0, 2, 1}), opts.address.prefix_len()};
    o.kernel.peer = opts.address.address();
    o.offload = a.num("offload", 1) != 0; // the library's default: IFF_VNET_HDR offload on
    o.io = io_options_from(a);
    auto t = link::tun::open(loop, o);
    if (!t) {
      fmt::print(stderr, "bench_net: tun {}: {}\n", o.name, t.error().message());
      return 1;
    }
    if (a.has("rps-cpus")) set_rps_cpus(t->name(), a.get("rps-cpus", ""));
    const link::link_counters* lc = &t->counters(); // the engine stays where it is
    bench_stack net{loop, link::any_link{std::move(*t)}, opts};
    return body(net, lc);
  }
  link::af_packet_options o;
  o.interface = a.get("ifname", "veth0");
  o.qdisc_bypass = a.has("qdisc-bypass");
  o.offload = a.num("offload", 1) != 0; // the library's default: PACKET_VNET_HDR offload on
  o.io = io_options_from(a);
  auto p = link::af_packet::open(loop, o);
  if (!p) {
    fmt::print(stderr, "bench_net: af_packet {}: {}\n", o.interface, p.error().message());
    return 1;
  }
  auto o2 = opts;
  o2.mac = p->mac();
  const link::link_counters* lc = &p->counters();
  bench_stack net{loop, link::any_link{std::move(*p)}, o2};
  return body(net, lc);
}

struct server_state {
  std::uint64_t accepted = 0;
  std::uint64_t echoed = 0;
  std::size_t hold = 0; // > 0: keep connections open after one echo, report memory at `hold`
  std::vector<tcp_stream> held;
  std::int64_t rss0 = 0, heap0 = 0;
  const bench_stack* net = nullptr;
  event_loop* loop = nullptr;
};

auto echo_connection(tcp_stream s, server_state& st, std::size_t bufsize) -> task<void> {
  std::vector<std::byte> buf(bufsize);
  for (;;) {
    auto r = co_await with_timeout(s.recv(buf), 30s);
    if (!r || r->empty()) break;
    const auto got = *r;
    if (!(co_await with_timeout(s.send(got), 30s))) break;
    ++st.echoed;
    if (st.hold > 0) {
      st.held.push_back(std::move(s));
      if (st.held.size() == st.hold) {
        // The last echoes' send buffers go back once the clients' (delayed) ACKs arrive.
        co_await sleep_for(*st.loop, 300ms);
        const auto rss = rss_bytes();
        const auto heap = heap_bytes();
        const double n = static_cast<double>(st.hold);
        json{}
            .add("event", "held")
            .add("side", "synack-server")
            .add("conns", static_cast<std::uint64_t>(st.hold))
            .add("rss_before", st.rss0)
            .add("rss_after", rss)
            .add("heap_before", st.heap0)
            .add("heap_after", heap)
            .add("rss_per_conn", static_cast<double>(rss - st.rss0) / n)
            .add("heap_per_conn", static_cast<double>(heap - st.heap0) / n)
            .add("connections_in_table",
                 static_cast<std::uint64_t>(const_cast<bench_stack*>(st.net)->tcp().connection_count()))
            .print();
      }
      co_return;
    }
  }
  if (auto c = co_await with_timeout(s.close(), 5s); !c) s.abort();
}

auto synack_server(const args& a) -> int {
  event_loop loop{make_loop_options(a)};
  return with_stack(loop, a, [&](bench_stack& net, const link::link_counters* lc) -> int {
    const auto port = static_cast<std::uint16_t>(a.num("port", 5001));
    const double timeout = a.num("timeout", 60);
    auto l = net.listen(port, 4096);
    if (!l) {
      fmt::print(stderr, "bench_net: listen: {}\n", l.error().message());
      return 1;
    }
    if (a.mode == "sink") {
      auto run = [&]() -> task<int> {
        print_ready();
        auto acc = co_await with_timeout(l->accept(),
                                         std::chrono::duration_cast<duration>(std::chrono::duration<double>(timeout)));
        if (!acc) co_return 1;
        tcp_stream s = std::move(acc->stream);
        const auto t0 = bench_clock::now();
        const double cpu0 = cpu_seconds();
        std::vector<std::byte> buf(bulk_chunk);
        std::uint64_t bytes = 0;
        for (;;) {
          auto r = co_await with_timeout(s.recv(buf), 5s);
          if (!r || r->empty()) break;
          bytes += r->size();
        }
        const double secs = seconds_since(t0);
        const double cpu = cpu_seconds() - cpu0;
        co_await with_timeout(s.close(), 5s);
        json j;
        j.add("event", "result")
            .add("side", "synack-server")
            .add("bytes", bytes)
            .add("seconds", secs)
            .add("gbps", static_cast<double>(bytes) * 8 / 1e9 / std::max(secs, 1e-9))
            .add("cpu_s", cpu);
        add_counters(j, net, lc);
        j.print();
        co_return 0;
      };
      return loop.run_until(run());
    }
    if (a.mode != "echo") usage();
    server_state st;
    st.net = &net;
    st.loop = &loop;
    st.hold = static_cast<std::size_t>(a.num("hold", 0));
    st.held.reserve(st.hold);
    const auto bufsize = static_cast<std::size_t>(a.num("buf", st.hold > 0 ? 64 : 4096));
    auto run = [&]() -> task<int> {
      examples::stop_on_signals signals;
      std::stop_source done;
      loop.spawn(signals.watch(loop, done.get_token()));
      co_await sleep_for(loop, 10ms); // let the link and the loop reach their steady state
      st.rss0 = rss_bytes();
      st.heap0 = heap_bytes();
      const double cpu0 = cpu_seconds();
      print_ready();
      const auto deadline = bench_clock::now() +
                            std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(timeout));
      while (bench_clock::now() < deadline) {
        auto acc = co_await with_timeout(l->accept(signals.token()), 200ms);
        if (!acc) {
          if (acc.error() == std::errc::timed_out) continue;
          break;
        }
        ++st.accepted;
        acc->stream.set_nodelay(true);
        loop.spawn(echo_connection(std::move(acc->stream), st, bufsize));
      }
      json j;
      j.add("event", "result")
          .add("side", "synack-server")
          .add("accepted", st.accepted)
          .add("echoed", st.echoed)
          .add("cpu_s", cpu_seconds() - cpu0);
      add_counters(j, net, lc);
      j.print();
      done.request_stop();
      std::fflush(nullptr);
      ::_exit(0); // connections still open are not waited for
      co_return 0;
    };
    return loop.run_until(run());
  });
}

auto synack_client(const args& a) -> int {
  auto to = wire::endpoint::parse(a.get("connect", ""));
  if (!to) usage();
  const double seconds = a.num("seconds", 2);
  const auto dur = std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(seconds));
  event_loop loop{make_loop_options(a)};
  return with_stack(loop, a, [&](bench_stack& net, const link::link_counters* lc) -> int {
    auto run = [&]() -> task<int> {
      stream_options so;
      so.nodelay = a.mode == "pingpong";
      result<tcp_stream> c = unexpected(std::make_error_code(std::errc::timed_out));
      for (int attempt = 0; attempt < 20; ++attempt) { // the kernel side may still be starting
        c = co_await with_timeout(net.connect(*to, so), 2s);
        if (c) break;
        co_await sleep_for(loop, 100ms);
      }
      if (!c) {
        fmt::print(stderr, "bench_net: connect to {}: {}\n", *to, c.error().message());
        co_return 1;
      }
      tcp_stream s = std::move(*c);
      json j;
      j.add("event", "result").add("side", "synack-client");
      if (a.mode == "send") {
        std::vector<std::byte> chunk(bulk_chunk, std::byte{'x'});
        std::uint64_t bytes = 0;
        const auto t0 = bench_clock::now();
        const double cpu0 = cpu_seconds();
        while (bench_clock::now() - t0 < dur) {
          auto r = co_await with_timeout(s.send(chunk), 5s);
          if (!r) break;
          bytes += *r;
        }
        auto closed = co_await with_timeout(s.close(), 10s);
        const double secs = seconds_since(t0);
        j.add("bytes", bytes)
            .add("seconds", secs)
            .add("gbps", static_cast<double>(bytes) * 8 / 1e9 / std::max(secs, 1e-9))
            .add("cpu_s", cpu_seconds() - cpu0)
            .add("closed", closed ? 1 : 0);
      } else if (a.mode == "pingpong") {
        const auto size = static_cast<std::size_t>(std::clamp(a.num("size", 64), 1.0, 65536.0));
        std::vector<std::byte> msg(size, std::byte{'p'}), in(size);
        bool ok = true;
        auto round_trip = [&]() -> task<bool> {
          if (!(co_await with_timeout(s.send(msg), 2s))) co_return false;
          std::size_t got = 0;
          while (got < size) {
            auto r = co_await with_timeout(s.recv(std::span{in}.subspan(got)), 2s);
            if (!r || r->empty()) co_return false;
            got += r->size();
          }
          co_return true;
        };
        for (int i = 0; i < 200 && ok; ++i) ok = co_await round_trip();
        std::vector<double> rtt;
        rtt.reserve(1 << 20);
        std::uint64_t count = 0;
        const double cpu0 = cpu_seconds();
        const auto t0 = bench_clock::now();
        auto t = t0;
        while (ok && t - t0 < dur) {
          ok = co_await round_trip();
          const auto t2 = bench_clock::now();
          if (rtt.size() < max_rtt_samples) rtt.push_back(std::chrono::duration<double, std::micro>(t2 - t).count());
          ++count;
          t = t2;
        }
        if (!ok) co_return 1;
        add_rtts(j, rtt, std::chrono::duration<double>(t - t0).count(), count);
        j.add("cpu_s", cpu_seconds() - cpu0);
        co_await with_timeout(s.close(), 5s);
      } else {
        usage();
      }
      add_counters(j, net, lc);
      j.print();
      co_return 0;
    };
    return loop.run_until(run());
  });
}

// --- the stack alone: two stacks over the simulated wire -----------------------------------------

auto sim_bench(const args& a) -> int {
  const double seconds = a.num("seconds", 2);
  const auto dur = std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(seconds));
  sim_loop loop;
  link::sim_config wire;
  wire.delay = std::chrono::microseconds{static_cast<long>(a.num("delay-us", 20))};
  wire.queue_bytes = 16 << 20;
  link::sim_link_pair pair(loop, wire);
  auto opts = [&](std::uint8_t host) {
    stack_options o = stack_options_from(a);
    o.address = wire::ipv4_cidr{wire::ipv4_address{192, 0, 2, host}, 24};
    return o;
  };
  bench_stack client{loop, link::any_link{pair.a()}, opts(1)};
  bench_stack server{loop, link::any_link{pair.b()}, opts(2)};
  auto l = server.listen(5001, 16);
  if (!l) return 1;
  std::uint64_t received = 0, sent = 0;
  double cpu = 0, wall = 0;
  const auto vt0 = loop.now();
  auto receiver = [&]() -> task<void> {
    auto acc = co_await l->accept();
    if (!acc) co_return;
    tcp_stream s = std::move(acc->stream);
    std::vector<std::byte> buf(bulk_chunk);
    for (;;) {
      auto r = co_await s.recv(buf);
      if (!r || r->empty()) break;
      received += r->size();
    }
    co_await s.close();
  };
  auto sender = [&]() -> task<void> {
    auto c = co_await client.connect(wire::endpoint{wire::ipv4_address{192, 0, 2, 2}, 5001});
    if (!c) co_return;
    tcp_stream s = std::move(*c);
    std::vector<std::byte> chunk(bulk_chunk, std::byte{'s'});
    const auto t0 = bench_clock::now();
    const double cpu0 = cpu_seconds();
    while (bench_clock::now() - t0 < dur) {
      auto r = co_await s.send(chunk);
      if (!r) break;
      sent += *r;
    }
    co_await s.close();
    cpu = cpu_seconds() - cpu0;
    wall = seconds_since(t0);
  };
  try {
    loop.run_until(when_all(receiver(), sender()));
  } catch (const std::exception& e) { // a stall: nothing left to run, the transfer unfinished
    json{}
        .add("event", "error")
        .add("side", "sim")
        .add("what", e.what())
        .add("sent", sent)
        .add("received", received)
        .add("virtual_seconds", std::chrono::duration<double>(loop.now() - vt0).count())
        .print();
    client.print_counters(stderr);
    server.print_counters(stderr);
    return 1;
  }
  const double virt = std::chrono::duration<double>(loop.now() - vt0).count();
  json j;
  j.add("event", "result")
      .add("side", "sim")
      .add("bytes", received)
      .add("sent", sent)
      .add("seconds", wall)
      .add("cpu_s", cpu)
      .add("virtual_seconds", virt)
      .add("gbps_per_core", static_cast<double>(received) * 8 / 1e9 / std::max(cpu, 1e-9))
      .add("retrans_segs", client.tcp().stats().retrans_segs)
      .add("out_segs", client.tcp().stats().out_segs);
  j.print();
  return received == sent && received > 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  const args a = parse_args(argc, argv);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  if (a.command == "kernel-server") return kernel_server(a);
  if (a.command == "kernel-client") return kernel_client(a);
  if (a.command == "synack-server") return synack_server(a);
  if (a.command == "synack-client") return synack_client(a);
  if (a.command == "sim") return sim_bench(a);
  usage();
}
