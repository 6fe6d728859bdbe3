// echo_server: sends every byte it receives back (RFC 862's echo service), to many clients at
// once: a coroutine per client. When a client closes its side, the server closes too.
//
// --count N serves N clients and exits once they are done (0, the default: until SIGINT or
// SIGTERM, which stop accepting and close every connection gracefully).
//
//   echo_server --port 7      then, from the kernel side:
//   python3 -c "import socket; s=socket.create_connection(('192.0.2.2',7)); s.send(b'hi'); print(s.recv(9))"
#include <array>
#include <chrono>

#include "common/errors.hpp"
#include "common/net_setup.hpp"
#include "common/signals.hpp"

using namespace synack;

namespace {

struct server_args {
  std::uint16_t port = 7;
  std::size_t backlog = 128;
  std::uint64_t count = 0;
  bool quiet = false;
};

/// One client: echo until it closes its side (or the server stops), then close.
auto echo(tcp_stream s, wire::endpoint peer, std::stop_token stop, bool quiet, std::size_t& active) -> task<void> {
  std::array<std::byte, 16384> buf{};
  std::uint64_t total = 0;
  std::error_code error;
  for (;;) {
    auto got = co_await s.recv(buf, stop);
    if (!got) {
      if (got.error() != std::errc::operation_canceled) error = got.error();
      break;
    }
    if (got->empty()) break; // EOF: the client is done
    if (auto sent = co_await s.send(*got); !sent) {
      error = sent.error();
      break;
    }
    total += got->size();
  }
  if (!error) {
    if (auto closed = co_await with_timeout(s.close(), std::chrono::seconds{30}); !closed) {
      error = closed.error();
      s.abort();
    }
  }
  if (error) {
    fmt::print(stderr, "echo_server: {}: {} after {} bytes\n", peer, examples::describe(error), total);
  } else if (!quiet) {
    fmt::print("echo_server: {} echoed {} bytes, closed\n", peer, total);
  }
  --active;
}

template <class Net>
auto run(Net& net, event_loop& loop, const server_args& args) -> task<int> {
  examples::stop_on_signals signals;
  std::stop_source done;
  loop.spawn(signals.watch(loop, done.get_token()));
  auto listener = net.listen(args.port, args.backlog);
  if (!listener) {
    fmt::print(stderr, "echo_server: listen on port {}: {}\n", args.port, examples::describe(listener.error()));
    done.request_stop();
    co_return 1;
  }
  fmt::print("echo_server: listening on {}:{}\n", net.address(), args.port);
  std::fflush(stdout);
  int status = 0;
  std::size_t active = 0; // clients being served
  for (std::uint64_t served = 0; args.count == 0 || served < args.count; ++served) {
    auto a = co_await listener->accept(signals.token());
    if (!a) {
      if (a.error() != std::errc::operation_canceled) {
        fmt::print(stderr, "echo_server: accept: {}\n", examples::describe(a.error()));
        status = 1;
      }
      break;
    }
    if (!args.quiet) fmt::print("echo_server: {} connected\n", a->peer);
    ++active; // the client's coroutine decrements it when done
    loop.spawn(echo(std::move(a->stream), a->peer, signals.token(), args.quiet, active));
  }
  listener->close();
  // Clients still connected finish (after a signal, their recv is cancelled and they close).
  while (active > 0) co_await sleep_for(loop, std::chrono::milliseconds{10});
  done.request_stop();
  while (loop.spawned_count() > 0) co_await sleep_for(loop, std::chrono::milliseconds{10});
  co_return status;
}

} // namespace

int main(int argc, char** argv) {
  examples::link_args link;
  server_args args;
  examples::cli cli{"echo_server", "Echoes every byte back to each client (RFC 862), many clients at once, on synack."};
  cli.option("port", "N", "the port to listen on (7)",
             [&](std::string_view v) { return examples::parse_number<std::uint16_t>(v, args.port, 1, 65535); });
  cli.option("backlog", "N", "connections waiting to be accepted, at most (128)",
             [&](std::string_view v) { return examples::parse_number<std::size_t>(v, args.backlog, 1, 65535); });
  cli.option("count", "N", "clients to serve before exiting; 0 (default) serves until SIGINT or SIGTERM",
             [&](std::string_view v) { return examples::parse_number<std::uint64_t>(v, args.count, 0, UINT64_MAX); });
  cli.flag("quiet", "print errors only, not one line per client", args.quiet);
  examples::add_link_options(cli, link);
  cli.parse(argc, argv);

  event_loop loop{examples::loop_options_from(link)};
  return examples::with_stack(loop, link, [&](auto& net) { return loop.run_until(run(net, loop, args)); });
}
