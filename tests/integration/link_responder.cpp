// tests/integration/link_responder.cpp: synack's whole stack (socket/stack.hpp) on a real link,
// answering pings, for the integration scripts ping_tun.sh and ping_af_packet.sh.
//
//   synack_link_responder --link tun|af_packet [--ifname NAME] [--addr A.B.C.D/N]
//                         [--peer A.B.C.D] [--pcap FILE] [--seconds N] [--rx auto|multishot|plain]
//
// It opens the link (tun: creates the device and configures the kernel side, --peer being the
// kernel's address; af_packet: binds to --ifname), optionally records every packet with the
// pcap writer, prints "ready" on stdout, and runs until SIGINT/SIGTERM or --seconds (default
// 60: it always ends by itself). Then it prints the stack's and the link's counters and
// exits with 0. A link that cannot be opened prints one line and exits with 2.
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "synack/link/af_packet.hpp"
#include "synack/link/pcap_writer.hpp"
#include "synack/link/tun.hpp"
#include "synack/socket/stack.hpp"

using namespace synack;
using namespace std::chrono_literals;

namespace {

struct args {
  std::string link = "tun";
  std::string ifname;
  wire::ipv4_cidr addr{wire::ipv4_address{192, 0, 2, 2}, 24};
  wire::ipv4_address peer{192, 0, 2, 1};
  std::string pcap;
  int seconds = 60;
  link::rx_mode rx = link::rx_mode::automatic;
};

[[noreturn]] void usage(const char* why) {
  fmt::print(stderr,
             "synack_link_responder: {}\n"
             "usage: synack_link_responder --link tun|af_packet [--ifname NAME] [--addr A.B.C.D/N] "
             "[--peer A.B.C.D] [--pcap FILE] [--seconds N] [--rx auto|multishot|plain]\n",
             why);
  std::exit(64);
}

auto parse(int argc, char** argv) -> args {
  args a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view k = argv[i];
    if (i + 1 >= argc) usage("every option takes a value");
    const std::string_view v = argv[++i];
    if (k == "--link") {
      if (v != "tun" && v != "af_packet") usage("--link must be tun or af_packet");
      a.link = std::string(v);
    } else if (k == "--ifname") {
      a.ifname = std::string(v);
    } else if (k == "--addr") {
      auto c = wire::ipv4_cidr::parse(v);
      if (!c) usage("--addr: not A.B.C.D/N");
      a.addr = *c;
    } else if (k == "--peer") {
      auto p = wire::ipv4_address::parse(v);
      if (!p) usage("--peer: not an IPv4 address");
      a.peer = *p;
    } else if (k == "--pcap") {
      a.pcap = std::string(v);
    } else if (k == "--seconds") {
      a.seconds = std::atoi(std::string(v).c_str());
      if (a.seconds <= 0 || a.seconds > 3600) usage("--seconds: 1..3600");
    } else if (k == "--rx") {
      if (v == "auto")
        a.rx = link::rx_mode::automatic;
      else if (v == "multishot")
        a.rx = link::rx_mode::multishot;
      else if (v == "plain")
        a.rx = link::rx_mode::plain;
      else
        usage("--rx: auto, multishot or plain");
    } else {
      usage("unknown option");
    }
  }
  if (a.ifname.empty()) a.ifname = a.link == "tun" ? "synack0" : "veth0";
  return a;
}

/// Stops the loop on SIGINT/SIGTERM or when the time is up; looks every 50 ms.
class stopper {
public:
  stopper(event_loop& loop, int seconds) : m_loop(&loop), m_end(loop.clock().now() + std::chrono::seconds{seconds}) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    m_fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    loop.arm(m_timer, loop.now() + 50ms);
  }
  stopper(const stopper&) = delete;
  auto operator=(const stopper&) -> stopper& = delete;
  ~stopper() {
    m_loop->disarm(m_timer);
    if (m_fd >= 0) ::close(m_fd);
  }
  auto why() const -> const char* { return m_why; }

private:
  struct tick : timer_node {
    explicit tick(stopper* o) : timer_node(&run), owner(o) {}
    static void run(timer_node& n) { static_cast<tick&>(n).owner->check(); }
    stopper* owner;
  };
  void check() {
    signalfd_siginfo info{};
    if (m_fd >= 0 && ::read(m_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      m_why = "signal";
      m_loop->stop();
      return;
    }
    if (m_loop->now() >= m_end) {
      m_why = "time limit";
      m_loop->stop();
      return;
    }
    m_loop->arm(m_timer, m_loop->now() + 50ms);
  }

  event_loop* m_loop;
  instant m_end;
  int m_fd = -1;
  const char* m_why = "?";
  tick m_timer{this};
};

template <class Link>
auto serve(event_loop& loop, Link l, const args& a, const link::link_counters& (*counters)(const Link&)) -> int {
  stack_options o;
  o.address = a.addr;
  stack<Link> net{loop, std::move(l), o};
  stopper stop(loop, a.seconds);
  fmt::print("ready {} {}\n", a.link, a.ifname);
  std::fflush(stdout);
  loop.run();
  fmt::print("stopped by {}\n", stop.why());
  net.print_counters(stdout);
  link::for_each_counter(counters(net.link()), [](std::string_view name, std::uint64_t v) {
    if (v != 0) fmt::print("{:>5}: {:>10} {}\n", "dev", v, name);
  });
  std::fflush(stdout);
  return 0;
}

template <class Device>
auto serve_device(event_loop& loop, Device d, const args& a) -> int {
  if (a.pcap.empty()) {
    return serve<Device>(loop, std::move(d), a,
                         [](const Device& x) -> const link::link_counters& { return x.counters(); });
  }
  auto w = link::pcap_writer<Device>::open(std::move(d), a.pcap);
  if (!w) {
    fmt::print(stderr, "cannot write {}: {}\n", a.pcap, w.error().message());
    return 2;
  }
  using writer = link::pcap_writer<Device>;
  return serve<writer>(loop, std::move(*w), a,
                       [](const writer& x) -> const link::link_counters& { return x.inner().counters(); });
}

} // namespace

int main(int argc, char** argv) {
  const args a = parse(argc, argv);
  event_loop loop;
  if (a.link == "tun") {
    link::tun_options o;
    o.name = a.ifname;
    o.kernel.address = wire::ipv4_cidr{a.peer, a.addr.prefix_len()};
    o.kernel.peer = a.addr.address();
    o.io.rx = a.rx;
    auto t = link::tun::open(loop, o);
    if (!t) {
      fmt::print(stderr, "cannot open tun device {}: {}\n", a.ifname, t.error().message());
      return 2;
    }
    return serve_device(loop, std::move(*t), a);
  }
  link::af_packet_options o;
  o.interface = a.ifname;
  o.io.rx = a.rx;
  auto p = link::af_packet::open(loop, o);
  if (!p) {
    fmt::print(stderr, "cannot open AF_PACKET on {}: {}\n", a.ifname, p.error().message());
    return 2;
  }
  return serve_device(loop, std::move(*p), a);
}
