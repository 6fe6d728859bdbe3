// tcp_server: the seed's Python TCP server, on synack.
//
// Like the seed: bind port 7788, listen with a backlog of 128, accept a client, receive up to
// 1024 bytes, print them, send "thank you !", close. It serves one client and exits;
// --count N serves N clients, --count 0 serves until SIGINT or SIGTERM, which shut it down
// gracefully.
//
//   tcp_server --trace          (then, from the kernel side: python3 client.py 192.0.2.2 7788 hi)
#include <array>
#include <string>

#include "common/net_setup.hpp"
#include "common/signals.hpp"

using namespace synack;

namespace {

struct server_args {
  std::uint16_t port = 7788;
  std::size_t backlog = 128;
  std::uint64_t count = 1;
};

/// One client, as the seed's server serves it.
auto serve(tcp_stream client, wire::endpoint peer) -> task<void> {
  // recv_data = client_socket.recv(1024)
  std::array<std::byte, 1024> buf{};
  auto data = co_await client.recv(buf);
  if (!data) {
    fmt::print(stderr, "recv from {}: {}\n", peer, data.error().message());
    co_return;
  }
  fmt::print("received from {}: {}\n", peer, as_chars(*data));
  // client_socket.send("thank you !".encode(...))
  if (auto sent = co_await client.send(as_bytes("thank you !")); !sent) {
    fmt::print(stderr, "send to {}: {}\n", peer, sent.error().message());
    co_return;
  }
  // client_socket.close()
  if (auto closed = co_await client.close(); !closed)
    fmt::print(stderr, "close {}: {}\n", peer, closed.error().message());
}

template <class Net>
auto run_server(Net& net, event_loop& loop, const server_args& args) -> task<int> {
  examples::stop_on_signals signals;
  std::stop_source done;
  loop.spawn(signals.watch(loop, done.get_token()));
  // tcp_server_socket.bind(('', 7788)); tcp_server_socket.listen(128)
  auto listener = net.listen(args.port, args.backlog);
  if (!listener) {
    fmt::print(stderr, "listen on port {}: {}\n", args.port, listener.error().message());
    done.request_stop();
    co_return 1;
  }
  fmt::print("listening on {}:{}\n", net.address(), args.port);
  std::fflush(stdout);
  int status = 0;
  for (std::uint64_t served = 0; args.count == 0 || served < args.count; ++served) {
    // client_socket, clientAddr = tcp_server_socket.accept()
    auto a = co_await listener->accept(signals.token());
    if (!a) {
      if (a.error() != std::errc::operation_canceled) {
        fmt::print(stderr, "accept: {}\n", a.error().message());
        status = 1;
      }
      break;
    }
    if (args.count == 1) {
      co_await serve(std::move(a->stream), a->peer); // the seed serves one client in line
    } else {
      loop.spawn(serve(std::move(a->stream), a->peer));
    }
  }
  listener->close();
  done.request_stop();
  // Let spawned clients finish their close.
  while (loop.spawned_count() > 0) co_await sleep_for(loop, std::chrono::milliseconds{10});
  co_return status;
}

} // namespace

int main(int argc, char** argv) {
  examples::link_args link;
  server_args args;
  examples::cli cli{
      "tcp_server",
      "The seed's TCP server on synack: accept, receive up to 1024 bytes, print, answer \"thank you !\", close."};
  cli.option("port", "N", "the port to listen on (7788)",
             [&](std::string_view v) { return examples::parse_number<std::uint16_t>(v, args.port, 1, 65535); });
  cli.option("backlog", "N", "connections waiting to be accepted, at most (128)",
             [&](std::string_view v) { return examples::parse_number<std::size_t>(v, args.backlog, 1, 65535); });
  cli.option("count", "N", "clients to serve before exiting (1); 0 serves until SIGINT or SIGTERM",
             [&](std::string_view v) { return examples::parse_number<std::uint64_t>(v, args.count, 0, UINT64_MAX); });
  examples::add_link_options(cli, link);
  cli.parse(argc, argv);

  event_loop loop{examples::loop_options_from(link)};
  return examples::with_stack(loop, link, [&](auto& net) { return loop.run_until(run_server(net, loop, args)); });
}
