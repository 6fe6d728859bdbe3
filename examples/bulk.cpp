// bulk: moves a known amount of data over one synack connection and prints the SHA-256 of
// what it sent and of what it received, so a script can compare them with the peer's
// (sha256sum, Python's hashlib). The peer is usually the Linux kernel's TCP.
//
//   bulk send --connect 192.0.2.1:5001 --bytes 50M     sends 50 MiB (pseudo-random), then FIN
//   bulk recv --listen 5001                              receives until the peer's FIN
//   bulk echo --listen 5001                              sends back what it receives
//
// Closing: --close first sends our FIN as soon as our part is done (send: all bytes sent;
// recv and echo: --bytes received), then reads to the peer's FIN: we pass FIN_WAIT_1,
// FIN_WAIT_2 and TIME_WAIT. --close wait (the default for recv and echo) waits for the
// peer's FIN first, then closes: CLOSE_WAIT and LAST_ACK.
//
// Output, one fact a line, for scripts:
//   connected 192.0.2.2:40000 -> 192.0.2.1:5001
//   info: mss=1448 peer_mss=1460 wscale=1 snd_wscale=7 rcv_wscale=7 sack=1 ts=1 ...   (--info)
//   sent 52428800 bytes sha256=<64 hex digits>
//   received 0 bytes sha256=<64 hex digits>
//   closed TIME_WAIT in 0.412 s (127.3 MB/s)
// --counters also prints the stack's counters (every drop by reason) after the transfer.
// An error prints `bulk: error: <what>: <name> (<message>)`, e.g. connection_reset, and the
// status is 1; bad options print one line and the status is 2.
#include <array>
#include <chrono>
#include <optional>
#include <string>

#include "common/errors.hpp"
#include "common/net_setup.hpp"
#include "common/sha256.hpp"

using namespace synack;

namespace {

enum class mode { send, recv, echo };
enum class close_policy { first, wait };

struct bulk_args {
  mode what = mode::send;
  std::optional<wire::endpoint> connect;
  std::optional<std::uint16_t> listen;
  std::optional<std::uint64_t> bytes;
  std::optional<close_policy> close;
  std::size_t chunk = 65536;
  std::uint32_t timeout_s = 30;
  std::uint64_t seed = 1;
  bool info = false;
  bool nodelay = false;
  bool counters = false;
};

/// Sizes like 1000, 64K, 50M, 1G (powers of 1024).
auto parse_size(std::string_view v, std::uint64_t& out) -> std::string {
  std::uint64_t mult = 1;
  if (!v.empty()) {
    switch (v.back()) {
      case 'K':
      case 'k':
        mult = 1ull << 10;
        break;
      case 'M':
      case 'm':
        mult = 1ull << 20;
        break;
      case 'G':
      case 'g':
        mult = 1ull << 30;
        break;
      default:
        break;
    }
    if (mult != 1) v.remove_suffix(1);
  }
  std::uint64_t n = 0;
  if (auto e = examples::parse_number<std::uint64_t>(v, n, 0, (1ull << 40) / mult); !e.empty()) return e;
  out = n * mult;
  return {};
}

/// xorshift64*: the data we send, deterministic per --seed and cheap to make.
struct pattern {
  std::uint64_t state;
  void fill(std::span<std::byte> out) {
    for (std::size_t i = 0; i < out.size(); i += 8) {
      state ^= state >> 12;
      state ^= state << 25;
      state ^= state >> 27;
      const std::uint64_t v = state * 0x2545F4914F6CDD1Dull;
      for (std::size_t j = 0; j < 8 && i + j < out.size(); ++j) out[i + j] = static_cast<std::byte>(v >> (8 * j));
    }
  }
};

void print_info(std::string_view label, const connection_info& i) {
  using namespace std::chrono;
  fmt::print(
      "{}: state={} mss={} peer_mss={} wscale={} snd_wscale={} rcv_wscale={} sack={} ts={} snd_wnd={} "
      "rcv_wnd={} cwnd={} ssthresh={} srtt_us={} rto_ms={} retransmissions={}\n",
      label, i.state, i.send_mss, i.peer_mss, int{i.window_scaling}, i.snd_wscale, i.rcv_wscale, int{i.sack},
      int{i.timestamps}, i.snd_wnd, i.rcv_wnd, i.cwnd, i.ssthresh, duration_cast<microseconds>(i.srtt).count(),
      duration_cast<milliseconds>(i.rto).count(), i.retransmissions);
}

class transfer {
public:
  transfer(tcp_stream& s, const bulk_args& a) : m_s(s), m_args(a) {}

  /// Both directions at once; returns the first error.
  auto run() -> task<std::optional<std::string>> {
    if (m_args.what == mode::echo) {
      co_await echo_loop();
    } else {
      co_await when_all(send_part(), recv_part());
    }
    co_return m_error;
  }

  examples::sha256 tx_hash, rx_hash;
  std::uint64_t sent = 0, received = 0;

private:
  auto policy() const {
    return m_args.close.value_or(m_args.what == mode::send ? close_policy::first : close_policy::wait);
  }
  auto limit() const { return std::chrono::seconds{m_args.timeout_s}; }

  void fail(std::string_view what, std::error_code ec) {
    if (!m_error) m_error = fmt::format("{}: {}", what, examples::describe(ec));
    m_stop.request_stop(); // the other direction gives up too
  }
  /// --close first: our FIN now (the peer's comes later).
  void finish_our_side() {
    if (policy() == close_policy::first && !m_fin_sent) {
      m_fin_sent = true;
      if (auto r = m_s.shutdown(); !r) fail("shutdown", r.error());
    }
  }

  auto send_part() -> task<void> {
    if (m_args.what != mode::send) co_return;
    std::vector<std::byte> chunk(m_args.chunk);
    pattern p{m_args.seed * 0x9E3779B97F4A7C15ull | 1};
    const std::uint64_t total = m_args.bytes.value_or(0);
    while (sent < total && !m_stop.stop_requested()) {
      auto piece = std::span{chunk}.first(std::min<std::uint64_t>(chunk.size(), total - sent));
      p.fill(piece);
      tx_hash.update(piece);
      auto r = co_await with_timeout(m_s.send(piece, m_stop.get_token()), limit());
      if (!r) {
        if (r.error() != std::errc::operation_canceled) fail("send", r.error());
        co_return;
      }
      sent += piece.size();
    }
    finish_our_side();
  }

  auto recv_part() -> task<void> {
    std::vector<std::byte> buf(m_args.chunk);
    for (;;) {
      auto r = co_await with_timeout(m_s.recv(buf, m_stop.get_token()), limit());
      if (!r) {
        if (r.error() != std::errc::operation_canceled) fail("recv", r.error());
        co_return;
      }
      if (r->empty()) co_return; // the peer's FIN
      rx_hash.update(*r);
      received += r->size();
      if (m_args.what == mode::recv && m_args.bytes && received >= *m_args.bytes) finish_our_side();
    }
  }

  auto echo_loop() -> task<void> {
    std::vector<std::byte> buf(m_args.chunk);
    for (;;) {
      auto r = co_await with_timeout(m_s.recv(buf), limit());
      if (!r) co_return fail("recv", r.error());
      if (r->empty()) co_return;
      rx_hash.update(*r);
      tx_hash.update(*r);
      received += r->size();
      if (auto w = co_await with_timeout(m_s.send(*r), limit()); !w) co_return fail("send", w.error());
      sent += r->size();
      if (m_args.bytes && received >= *m_args.bytes) finish_our_side();
    }
  }

  tcp_stream& m_s;
  const bulk_args& m_args;
  std::stop_source m_stop;
  std::optional<std::string> m_error;
  bool m_fin_sent = false;
};

template <class Net>
auto run(Net& net, const bulk_args& args) -> task<int> {
  using clock = std::chrono::steady_clock;
  const auto limit = std::chrono::seconds{args.timeout_s};
  stream_options so;
  if (args.nodelay) so.nodelay = true;
  tcp_stream s;
  if (args.connect) {
    auto c = co_await with_timeout(net.connect(*args.connect, so), limit);
    if (!c) {
      fmt::print("bulk: error: connect to {}: {}\n", *args.connect, examples::describe(c.error()));
      co_return 1;
    }
    s = std::move(*c);
  } else {
    auto l = net.listen(*args.listen, 1);
    if (!l) {
      fmt::print("bulk: error: listen on port {}: {}\n", *args.listen, examples::describe(l.error()));
      co_return 1;
    }
    fmt::print("listening on {}:{}\n", net.address(), *args.listen);
    std::fflush(stdout);
    auto a = co_await with_timeout(l->accept(), limit);
    if (!a) {
      fmt::print("bulk: error: accept: {}\n", examples::describe(a.error()));
      co_return 1;
    }
    s = std::move(a->stream);
    if (args.nodelay) s.set_nodelay(true);
  }
  const auto start = clock::now();
  fmt::print("connected {} -> {}\n", s.local_endpoint(), s.remote_endpoint());
  if (args.info) print_info("info", s.info());
  std::fflush(stdout);

  transfer t{s, args};
  auto error = co_await t.run();
  if (args.info) print_info("final", s.info());
  if (args.counters) net.print_counters(stdout);
  fmt::print("sent {} bytes sha256={}\n", t.sent, t.tx_hash.hex());
  fmt::print("received {} bytes sha256={}\n", t.received, t.rx_hash.hex());
  if (error) {
    fmt::print("bulk: error: {}\n", *error);
    co_return 1;
  }
  if (auto c = co_await with_timeout(s.close(), limit); !c) {
    fmt::print("bulk: error: close: {}\n", examples::describe(c.error()));
    co_return 1;
  }
  const double secs = std::chrono::duration<double>(clock::now() - start).count();
  fmt::print("closed {} in {:.3f} s ({:.1f} MB/s)\n", s.state(), secs,
             static_cast<double>(std::max(t.sent, t.received)) / 1e6 / std::max(secs, 1e-9));
  co_return 0;
}

} // namespace

int main(int argc, char** argv) {
  examples::link_args link;
  bulk_args args;
  examples::cli cli{"bulk",
                    "Bulk transfer over synack with SHA-256 digests of both directions.\n"
                    "  send: sends --bytes of data; recv: receives; echo: sends back what it receives."};
  cli.usage("bulk send|recv|echo (--connect A.B.C.D:PORT | --listen PORT) [--bytes N] [options]");
  if (argc > 1 && argv[1][0] != '-') { // the mode comes first
    std::string_view m = argv[1];
    if (m == "send")
      args.what = mode::send;
    else if (m == "recv")
      args.what = mode::recv;
    else if (m == "echo")
      args.what = mode::echo;
    else
      cli.fail(fmt::format("unknown mode '{}' (send, recv or echo)", m));
    argv[1] = argv[0];
    ++argv;
    --argc;
  } else if (argc == 1 || (std::string_view{argv[1]} != "--help" && std::string_view{argv[1]} != "-h")) {
    cli.fail("the mode comes first: send, recv or echo (see --help)");
  }
  cli.option("connect", "A.B.C.D:PORT", "connect to this endpoint", [&](std::string_view v) -> std::string {
    auto r = wire::endpoint::parse(v);
    if (!r || r->port == 0) return "not an address:port";
    args.connect = *r;
    return {};
  });
  cli.option("listen", "PORT", "accept one connection on this port", [&](std::string_view v) -> std::string {
    std::uint16_t p = 0;
    if (auto e = examples::parse_number<std::uint16_t>(v, p, 1, 65535); !e.empty()) return e;
    args.listen = p;
    return {};
  });
  cli.option("bytes", "N[K|M|G]", "send: bytes to send (needed); recv, echo: close first after this many",
             [&](std::string_view v) -> std::string {
               std::uint64_t n = 0;
               if (auto e = parse_size(v, n); !e.empty()) return e;
               args.bytes = n;
               return {};
             });
  cli.option("close", "first|wait", "send our FIN first, or wait for the peer's (send: first; recv, echo: wait)",
             [&](std::string_view v) -> std::string {
               if (v == "first")
                 args.close = close_policy::first;
               else if (v == "wait")
                 args.close = close_policy::wait;
               else
                 return "must be first or wait";
               return {};
             });
  cli.option("chunk", "N[K|M]", "bytes per send and recv call (64K)", [&](std::string_view v) -> std::string {
    std::uint64_t n = 0;
    if (auto e = parse_size(v, n); !e.empty()) return e;
    if (n == 0 || n > (64ull << 20)) return "must be between 1 and 64M";
    args.chunk = n;
    return {};
  });
  cli.option("timeout", "SECONDS", "give up when connecting, accepting or any transfer step takes longer (30)",
             [&](std::string_view v) { return examples::parse_number<std::uint32_t>(v, args.timeout_s, 1, 3600); });
  cli.option("seed", "N", "the data pattern (1)",
             [&](std::string_view v) { return examples::parse_number<std::uint64_t>(v, args.seed, 0, UINT64_MAX); });
  cli.flag("info", "print the negotiated options (MSS, window scale, SACK, timestamps) and the final state", args.info);
  cli.flag("nodelay", "turn Nagle's algorithm off", args.nodelay);
  cli.flag("counters", "print the stack's counters (netstat -s style) after the transfer", args.counters);
  examples::add_link_options(cli, link);
  cli.parse(argc, argv);
  if (args.connect.has_value() == args.listen.has_value()) cli.fail("give exactly one of --connect and --listen");
  if (args.what == mode::send && !args.bytes) cli.fail("send needs --bytes");
  if (args.what != mode::send && args.close == close_policy::first && !args.bytes)
    cli.fail("--close first needs --bytes in recv and echo modes (when to close)");

  event_loop loop{examples::loop_options_from(link)};
  return examples::with_stack(loop, link, [&](auto& net) { return loop.run_until(run(net, args)); });
}
