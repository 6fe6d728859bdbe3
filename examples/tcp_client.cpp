// tcp_client: the seed's Python TCP client, on synack.
//
// Like the seed: ask for the server's IP, port and the data to send (or take --ip --port
// --data), connect, send, receive up to 1024 bytes, print them, close.
//
//   tcp_client --ip 192.0.2.1 --port 7788 --data "hello" --trace
#include <array>
#include <iostream>
#include <optional>
#include <string>

#include "common/net_setup.hpp"

using namespace synack;

namespace {

struct client_args {
  std::optional<wire::ipv4_address> ip;
  std::optional<std::uint16_t> port;
  std::optional<std::string> data;
};

/// Prints `prompt` and reads one line; at the end of input (Ctrl-D, or a closed pipe) there is
/// no answer, which the caller reports as such, not as a bad one.
auto ask(const char* prompt) -> std::optional<std::string> {
  std::string line;
  fmt::print("{}", prompt);
  std::fflush(stdout);
  if (!std::getline(std::cin, line)) {
    fmt::print("\n"); // the prompt's line ends here
    return std::nullopt;
  }
  return line;
}

template <class Net>
auto run_client(Net& net, wire::endpoint server, std::string data) -> task<int> {
  // tcp_client_socket.connect((server_ip, server_port))
  auto s = co_await net.connect(server);
  if (!s) {
    fmt::print(stderr, "connect to {}: {}\n", server, s.error().message());
    co_return 1;
  }
  // tcp_client_socket.send(send_data.encode(...))
  if (auto sent = co_await s->send(as_bytes(data)); !sent) {
    fmt::print(stderr, "send: {}\n", sent.error().message());
    co_return 1;
  }
  // recvData = tcp_client_socket.recv(1024)
  std::array<std::byte, 1024> buf{};
  auto got = co_await s->recv(buf);
  if (!got) {
    fmt::print(stderr, "recv: {}\n", got.error().message());
    co_return 1;
  }
  fmt::print("received: {}\n", as_chars(*got));
  // tcp_client_socket.close()
  if (auto closed = co_await s->close(); !closed) {
    fmt::print(stderr, "close: {}\n", closed.error().message());
    co_return 1;
  }
  co_return 0;
}

} // namespace

int main(int argc, char** argv) {
  examples::link_args link;
  link.addr = wire::ipv4_cidr{wire::ipv4_address{192, 0, 2, 2}, 24};
  client_args args;
  examples::cli cli{"tcp_client",
                    "The seed's TCP client on synack: connect, send, receive up to 1024 bytes, print, close."};
  cli.option("ip", "A.B.C.D", "the server's address (asked for when missing)", [&](std::string_view v) -> std::string {
    auto r = wire::ipv4_address::parse(v);
    if (!r) return "not an IPv4 address";
    args.ip = *r;
    return {};
  });
  cli.option("port", "N", "the server's port (asked for when missing)", [&](std::string_view v) -> std::string {
    std::uint16_t p = 0;
    if (auto e = examples::parse_number<std::uint16_t>(v, p, 1, 65535); !e.empty()) return e;
    args.port = p;
    return {};
  });
  cli.option("data", "TEXT", "what to send (asked for when missing)", [&](std::string_view v) -> std::string {
    args.data = std::string(v);
    return {};
  });
  examples::add_link_options(cli, link);
  cli.parse(argc, argv);

  // server_ip = input(...); server_port = int(input(...)); send_data = input(...)
  // At the end of input the question has no answer: say so (and how to give it), and stop.
  const auto answer = [&](const char* prompt, const char* option) -> std::string {
    auto line = ask(prompt);
    if (!line) cli.fail(fmt::format("{}no answer (end of input); give it with {}", prompt, option));
    return *line;
  };
  if (!args.ip) {
    const auto line = answer("server ip: ", "--ip");
    auto r = wire::ipv4_address::parse(line);
    if (!r) cli.fail(fmt::format("server ip: '{}' is not an IPv4 address (A.B.C.D)", line));
    args.ip = *r;
  }
  if (!args.port) {
    const auto line = answer("server port: ", "--port");
    std::uint16_t p = 0;
    if (auto e = examples::parse_number<std::uint16_t>(line, p, 1, 65535); !e.empty()) {
      cli.fail(fmt::format("server port: '{}': {}", line, e));
    }
    args.port = p;
  }
  if (!args.data) args.data = answer("data to send: ", "--data");

  event_loop loop{examples::loop_options_from(link)};
  return examples::with_stack(loop, link, [&](auto& net) {
    return loop.run_until(run_client(net, wire::endpoint{*args.ip, *args.port}, *args.data));
  });
}
