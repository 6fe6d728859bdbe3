// http_server: a small HTTP/1.1 server on synack that curl and wrk can talk to.
//
//   GET / (or /index.html)  a small page          GET /stats  the stack's counters (text)
//   HEAD of both; anything else 404; methods other than GET and HEAD 405.
//
// A coroutine per connection. Connections persist (HTTP/1.1 keep-alive; HTTP/1.0 with
// "Connection: keep-alive"); "Connection: close" is honoured. Pipelined requests are answered
// in order. Memory per connection is bounded: a 16 KiB request buffer (request line and header
// section at most 8 KiB: 414 and 431), bodies up to 1 MiB are skipped, never stored (413
// beyond), and responses are sent in batches of at most 64 KiB. Malformed requests get 400 and
// the connection is closed. Idle connections are closed after --idle-timeout seconds.
// SIGINT or SIGTERM: stop accepting, finish the requests in progress, close, exit 0.
//
//   http_server --port 8080     then, from the kernel side: curl http://192.0.2.2:8080/
#include <array>
#include <chrono>
#include <cstring>
#include <string>

#include "common/errors.hpp"
#include "common/http.hpp"
#include "common/net_setup.hpp"
#include "common/signals.hpp"

using namespace synack;
namespace http = examples::http;

namespace {

struct server_args {
  std::uint16_t port = 8080;
  std::size_t backlog = 1024;
  std::uint64_t max_connections = 4096;
  std::uint32_t idle_seconds = 60;
  bool verbose = false;
};

struct server_stats {
  std::uint64_t accepted = 0;
  std::uint64_t active = 0;
  std::uint64_t requests = 0;
  std::uint64_t refused = 0;               // over --max-connections: answered 503 and closed
  std::array<std::uint64_t, 6> by_class{}; // responses by status / 100
};

constexpr std::string_view page =
    "<!doctype html>\n<html><head><title>synack</title></head>\n<body>\n"
    "<h1>Hello from synack</h1>\n"
    "<p>This page came through a userspace TCP/IPv4 stack (io_uring + C++20 coroutines).</p>\n"
    "<p>See <a href=\"/stats\">/stats</a> for its counters.</p>\n</body></html>\n";

template <class Net>
class server {
public:
  server(Net& net, event_loop& loop, const server_args& args) : m_net(net), m_loop(loop), m_args(args) {}

  auto run() -> task<int> {
    examples::stop_on_signals signals;
    std::stop_source done;
    m_loop.spawn(signals.watch(m_loop, done.get_token()));
    auto listener = m_net.listen(m_args.port, m_args.backlog);
    if (!listener) {
      fmt::print(stderr, "http_server: listen on port {}: {}\n", m_args.port, examples::describe(listener.error()));
      done.request_stop();
      co_return 1;
    }
    fmt::print("http_server: listening on http://{}:{}/\n", m_net.address(), m_args.port);
    std::fflush(stdout);
    int status = 0;
    for (;;) {
      auto a = co_await listener->accept(signals.token());
      if (!a) {
        if (a.error() != std::errc::operation_canceled) {
          fmt::print(stderr, "http_server: accept: {}\n", examples::describe(a.error()));
          status = 1;
        }
        break;
      }
      ++m_stats.accepted;
      m_loop.spawn(connection(std::move(a->stream), a->peer, signals.token()));
    }
    // Graceful shutdown: no new connections; those open finish their request and close.
    listener->close();
    done.request_stop();
    fmt::print("http_server: shutting down ({} connections open)\n", m_stats.active);
    std::fflush(stdout);
    while (m_loop.spawned_count() > 0) co_await sleep_for(m_loop, std::chrono::milliseconds{10});
    fmt::print("http_server: {} connections, {} requests served\n", m_stats.accepted, m_stats.requests);
    co_return status;
  }

private:
  auto connection(tcp_stream s, wire::endpoint peer, std::stop_token stop) -> task<void> {
    ++m_stats.active;
    std::array<char, 16384> in{}; // > limits::max_header_bytes, so 431 is always detected
    std::size_t used = 0;
    std::size_t skip = 0; // body bytes of the last request still to arrive (discarded)
    std::string out;
    bool open = true;
    if (m_stats.active > m_args.max_connections) {
      ++m_stats.refused;
      respond(out, http::response{.status = 503, .body = "too many connections\n", .keep_alive = false});
      open = false;
    }
    for (;;) {
      // Answer the complete requests in the buffer, in order (pipelining), 64 KiB at a time.
      while (open && skip == 0 && out.size() < 65536) {
        auto r = http::parse(std::string_view{in.data(), used}, m_limits);
        if (r.status == http::parse_status::incomplete) break;
        std::size_t consumed = used;
        if (r.status == http::parse_status::error) {
          respond(out, http::response{.status = r.error,
                                      .body = fmt::format("{} {}\n", r.error, http::reason(r.error)),
                                      .keep_alive = false});
          open = false; // the framing is lost
        } else {
          ++m_stats.requests;
          const std::size_t body_here = std::min(r.req.content_length, used - r.consumed);
          consumed = r.consumed + body_here;
          skip = r.req.content_length - body_here; // nonzero only when the buffer is all consumed
          open = r.req.keep_alive && !stop.stop_requested();
          handle(out, r.req, open);
        }
        std::memmove(in.data(), in.data() + consumed, used - consumed);
        used -= consumed;
      }
      if (!out.empty()) {
        auto sent = co_await s.send(as_bytes(out));
        out.clear();
        if (!sent) {
          log_error(peer, "send", sent.error());
          break;
        }
      }
      if (!open) break;
      if (used > 0 && skip == 0 &&
          http::parse(std::string_view{in.data(), used}, m_limits).status != http::parse_status::incomplete)
        continue; // more complete requests than one batch held
      // Shutting down: an idle connection closes now; a request in progress may finish.
      const bool idle = used == 0 && skip == 0;
      if (stop.stop_requested() && idle) break;
      auto timeout = std::chrono::seconds{stop.stop_requested() ? std::min<std::uint32_t>(m_args.idle_seconds, 5)
                                                                : m_args.idle_seconds};
      // (The token is chosen outside the co_await: g++ 12 evaluates and destroys both arms of
      // a ?: whose operands are class temporaries inside a co_await operand.)
      const std::stop_token token = idle ? stop : std::stop_token{};
      auto got = co_await with_timeout(s.recv(std::as_writable_bytes(std::span{in}.subspan(used)), token), timeout);
      if (!got) {
        if (got.error() != std::errc::operation_canceled && got.error() != std::errc::timed_out)
          log_error(peer, "recv", got.error());
        break;
      }
      if (got->empty()) break; // the client closed its side
      std::size_t n = got->size();
      if (skip > 0) { // used == 0 here: drop the body's bytes, keep what follows it
        const auto drop = std::min(skip, n);
        skip -= drop;
        n -= drop;
        std::memmove(in.data(), in.data() + drop, n);
      }
      used += n;
    }
    if (auto closed = co_await with_timeout(s.close(), std::chrono::seconds{10}); !closed) {
      if (closed.error() != std::errc::timed_out) log_error(peer, "close", closed.error());
      s.abort();
    }
    --m_stats.active;
  }

  void handle(std::string& out, const http::request& q, bool keep_alive) {
    const bool head = q.method == "HEAD";
    http::response r{.head = head, .keep_alive = keep_alive, .http10 = q.minor_version == 0};
    std::string body;
    if (q.method != "GET" && !head) {
      r.status = 405;
      r.extra = "Allow: GET, HEAD\r\n";
      r.body = "405 Method Not Allowed\n";
    } else if (q.path == "/" || q.path == "/index.html") {
      r.content_type = "text/html; charset=utf-8";
      r.body = page;
    } else if (q.path == "/stats") {
      body = stats_text();
      r.body = body;
    } else {
      r.status = 404;
      r.body = "404 Not Found\n";
    }
    respond(out, r);
  }

  void respond(std::string& out, const http::response& r) {
    ++m_stats.by_class[std::min<std::size_t>(r.status / 100, 5)];
    http::write(out, r);
  }

  auto stats_text() const -> std::string {
    std::string t =
        fmt::format("http: {} connections accepted, {} open, {} requests, responses 2xx {} 4xx {} 5xx {}, {} refused\n",
                    m_stats.accepted, m_stats.active, m_stats.requests, m_stats.by_class[2], m_stats.by_class[4],
                    m_stats.by_class[5], m_stats.refused);
    // Connections in any state (SYN_RCVD and TIME_WAIT included): bounded under a SYN flood.
    fmt::format_to(std::back_inserter(t), "{:>5}: {:>10} {}\n", "tcp", m_net.tcp().connection_count(),
                   "connections in the table");
    m_net.for_each_counter([&](std::string_view layer, std::string_view name, std::uint64_t v) {
      if (v != 0) fmt::format_to(std::back_inserter(t), "{:>5}: {:>10} {}\n", layer, v, name);
    });
    return t;
  }

  void log_error(wire::endpoint peer, std::string_view what, std::error_code ec) const {
    if (m_args.verbose || ec != std::errc::connection_reset)
      fmt::print(stderr, "http_server: {} {}: {}\n", peer, what, examples::describe(ec));
  }

  Net& m_net;
  event_loop& m_loop;
  server_args m_args;
  http::limits m_limits{};
  server_stats m_stats{};
};

} // namespace

int main(int argc, char** argv) {
  examples::link_args link;
  server_args args;
  examples::cli cli{"http_server", "A small HTTP/1.1 server on synack: GET/HEAD / and /stats, keep-alive, pipelining."};
  cli.option("port", "N", "the port to listen on (8080)",
             [&](std::string_view v) { return examples::parse_number<std::uint16_t>(v, args.port, 1, 65535); });
  cli.option("backlog", "N", "connections waiting to be accepted, at most (1024)",
             [&](std::string_view v) { return examples::parse_number<std::size_t>(v, args.backlog, 1, 65535); });
  cli.option("max-connections", "N", "open connections at most; more are answered 503 (4096)", [&](std::string_view v) {
    return examples::parse_number<std::uint64_t>(v, args.max_connections, 1, 65536);
  });
  cli.option("idle-timeout", "SECONDS", "close a connection idle this long (60)",
             [&](std::string_view v) { return examples::parse_number<std::uint32_t>(v, args.idle_seconds, 1, 86400); });
  cli.flag("verbose", "also report connections reset by clients", args.verbose);
  examples::add_link_options(cli, link);
  cli.parse(argc, argv);

  event_loop loop{examples::loop_options_from(link)};
  return examples::with_stack(loop, link, [&](auto& net) {
    server<std::remove_cvref_t<decltype(net)>> srv{net, loop, args};
    return loop.run_until(srv.run());
  });
}
