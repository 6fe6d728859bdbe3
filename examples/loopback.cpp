// loopback: a client and a server on two synack stacks in one process, joined by a simulated
// wire, in virtual time. No tun device, no root, no io_uring: the first thing to run.
//
// Like the seed's two programs: the server listens on 7788; the client connects (the 3-way
// handshake), sends --bytes bytes and half-closes; the server reads them to the end, answers
// with what it received ("thank you ! N bytes, sha256 ..."), and both close (the 4-way close).
// The client checks the answer against what it sent. Then each side prints the states its
// connection went through (the 11 states of RFC 9293 §3.3.2).
//
//   loopback                              1 MiB over a clean wire
//   loopback --bytes 100 --trace          every segment of a short exchange, and each state change
//   loopback --loss 5 --seed 7            5 % of the packets lost: retransmissions repair them
//
// The wire (link/sim.hpp) delays each packet by 1 ms; --loss drops packets at random (seeded,
// so a run is repeatable). The stacks and their scheduler (core/sim_scheduler.hpp) jump from
// one event to the next, so a simulated second costs only the work its packets take.
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/cli.hpp"
#include "common/sha256.hpp"
#include "synack/core/sim_scheduler.hpp"
#include "synack/core/task.hpp"
#include "synack/core/when_all.hpp"
#include "synack/link/sim_link.hpp"
#include "synack/link/tracer.hpp"
#include "synack/socket/stack.hpp"

using namespace synack;

namespace {

struct args {
  std::uint64_t bytes = 1 << 20;
  double loss_percent = 0;
  std::uint64_t seed = 1;
  bool trace = false;
};

/// The byte at `offset` of what the client sends.
auto pattern(std::uint64_t offset) -> std::byte {
  return static_cast<std::byte>((offset * 131 + (offset >> 8)) & 0xff);
}

/// Records the states one stack's connections went through (tcp::shared_context's observer).
struct state_log {
  std::string name;
  std::vector<tcp::state> states;
  bool trace = false;
  const scheduler* clock = nullptr;

  static void record(void* self, const tcp::four_tuple& t, tcp::state from, tcp::state to) {
    auto* log = static_cast<state_log*>(self);
    if (log->states.empty()) log->states.push_back(from);
    log->states.push_back(to);
    if (log->trace) fmt::print("{} {} {} - {}  {} -> {}\n", log->clock->now(), log->name, t.local, t.remote, from, to);
  }
  void print() const {
    fmt::print("{:>6}:", name);
    for (std::size_t i = 0; i < states.size(); ++i) fmt::print("{}{}", i == 0 ? " " : " -> ", states[i]);
    fmt::print("\n");
  }
};

using sim_stack = stack<link::tracer<link::sim_link&>&>;

auto serve(sim_stack& net, std::string& answer_sent) -> task<void> {
  // tcp_server_socket.bind(('', 7788)); tcp_server_socket.listen(128)
  auto listener = net.listen(7788, 128).value(); // throws std::system_error with the reason
  // client_socket, clientAddr = tcp_server_socket.accept()
  auto [client, peer] = co_await listener.accept().or_throw();
  examples::sha256 digest;
  std::uint64_t received = 0;
  std::vector<std::byte> buf(64 * 1024);
  while (true) {
    auto data = co_await client.recv(buf).or_throw();
    if (data.empty()) break; // the client's FIN: everything arrived
    digest.update(data);
    received += data.size();
  }
  answer_sent = fmt::format("thank you ! {} bytes, sha256 {}", received, digest.hex());
  co_await client.send(as_bytes(answer_sent)).or_throw();
  co_await client.close().or_throw();
}

auto connect_and_send(sim_stack& net, const args& a, std::string& answer) -> task<void> {
  // tcp_client_socket.connect((server_ip, 7788))
  auto s = co_await net.connect({wire::ipv4_address{192, 0, 2, 2}, 7788}).or_throw();
  std::vector<std::byte> chunk(64 * 1024);
  for (std::uint64_t sent = 0; sent < a.bytes;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), a.bytes - sent));
    for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern(sent + i);
    co_await s.send(bytes_view{chunk}.first(n)).or_throw();
    sent += n;
  }
  s.shutdown().value(); // our FIN: the server reads to the end
  std::vector<std::byte> buf(1024);
  while (true) {
    auto data = co_await s.recv(buf).or_throw();
    if (data.empty()) break;
    answer.append(as_chars(data));
  }
  co_await s.close().or_throw();
}

} // namespace

int main(int argc, char** argv) {
  args a;
  examples::cli cli("loopback",
                    "a client and a server on two synack stacks joined by a simulated wire, in "
                    "virtual time (no device, no root)");
  cli.option("bytes", "N", "bytes the client sends (default 1048576)",
             [&](std::string_view v) { return examples::parse_number<std::uint64_t>(v, a.bytes, 0, 1ull << 40); });
  cli.option("loss", "PERCENT", "packets the wire loses, in percent, 0 to 50 (default 0)", [&](std::string_view v) {
    std::string text{v};
    char* end = nullptr;
    const double p = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !(p >= 0 && p <= 50))
      return std::string{"must be a number from 0 to 50"};
    a.loss_percent = p;
    return std::string{};
  });
  cli.option("seed", "N", "seed of the wire's randomness (default 1)",
             [&](std::string_view v) { return examples::parse_number<std::uint64_t>(v, a.seed, 0, ~0ull); });
  cli.flag("trace", "print every segment and every state change", a.trace);
  cli.parse(argc, argv);

  sim_scheduler sched;
  link::sim_config wire_cfg;
  wire_cfg.seed = a.seed;
  wire_cfg.loss = a.loss_percent / 100.0;
  link::sim_link_pair wire(sched, wire_cfg);
  // The tracer prints both directions from the client's side (it sees every packet once).
  link::tracer<link::sim_link&> client_link(
      wire.a(), {.name = "wire", .clock = &sched, .trace_rx = a.trace, .trace_tx = a.trace});
  link::tracer<link::sim_link&> server_link(wire.b(), {.trace_rx = false, .trace_tx = false});

  stack_options co;
  co.address = wire::ipv4_cidr{wire::ipv4_address{192, 0, 2, 1}, 24};
  stack_options so;
  so.address = wire::ipv4_cidr{wire::ipv4_address{192, 0, 2, 2}, 24};
  sim_stack client(sched, client_link, co);
  sim_stack server(sched, server_link, so);
  state_log client_log{"client", {}, a.trace, &sched};
  state_log server_log{"server", {}, a.trace, &sched};
  for (auto [net, log] : {std::pair{&client, &client_log}, std::pair{&server, &server_log}}) {
    net->tcp().shared().on_state_change = &state_log::record;
    net->tcp().shared().observer = log;
  }

  std::string answer;
  std::string answer_sent;
  try {
    sched.run_until(when_all(serve(server, answer_sent), connect_and_send(client, a, answer)));
  } catch (const std::system_error& e) {
    fmt::print(stderr, "loopback: {}\n", e.what());
    return 1;
  }

  examples::sha256 expected;
  std::vector<std::byte> chunk(64 * 1024);
  for (std::uint64_t done = 0; done < a.bytes;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), a.bytes - done));
    for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern(done + i);
    expected.update(bytes_view{chunk}.first(n));
    done += n;
  }
  const auto want = fmt::format("thank you ! {} bytes, sha256 {}", a.bytes, expected.hex());
  const auto stats = client.tcp().stats();
  const auto server_stats = server.tcp().stats();
  fmt::print("client sent {} bytes; the server answered: {}\n", a.bytes, answer);
  fmt::print("{:.3f} s of virtual time; {} packets lost on the wire, {} + {} segments retransmitted\n",
             std::chrono::duration<double>(sched.now() - instant{}).count(),
             wire.wire().a_to_b.stats().lost + wire.wire().b_to_a.stats().lost, stats.retrans_segs,
             server_stats.retrans_segs);
  client_log.print();
  server_log.print();
  if (answer != want) {
    fmt::print(stderr, "loopback: the answer does not match what was sent (expected: {})\n", want);
    return 1;
  }
  fmt::print("ok: the bytes arrived intact, and both sides closed\n");
  return 0;
}
