// The HTTP/1.1 request parser and response writer of examples/http_server.cpp
// (examples/common/http.hpp): framing, keep-alive rules, pipelining, and every error status.
#include <doctest/doctest.h>

#include <string>

#include "common/http.hpp"

using namespace examples::http;

namespace {
auto error_of(std::string_view in, const limits& l = {}) -> int {
  auto r = parse(in, l);
  return r.status == parse_status::error ? r.error : 0;
}
} // namespace

TEST_CASE("http: a complete GET, and the same bytes arriving one at a time") {
  const std::string req = "GET /stats?x=1 HTTP/1.1\r\nHost: 192.0.2.2\r\nUser-Agent: t\r\n\r\n";
  auto r = parse(req);
  REQUIRE(r.status == parse_status::complete);
  CHECK(r.consumed == req.size());
  CHECK(r.req.method == "GET");
  CHECK(r.req.target == "/stats?x=1");
  CHECK(r.req.path == "/stats");
  CHECK(r.req.minor_version == 1);
  CHECK(r.req.keep_alive);
  CHECK(r.req.content_length == 0);
  for (std::size_t n = 0; n < req.size(); ++n)
    CHECK(parse(std::string_view{req}.substr(0, n)).status == parse_status::incomplete);
}

TEST_CASE("http: keep-alive rules (RFC 9112 §9.3)") {
  CHECK_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").req.keep_alive);
  CHECK_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n").req.keep_alive);
  CHECK_FALSE(parse("GET / HTTP/1.0\r\n\r\n").req.keep_alive);
  CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").req.keep_alive);
  CHECK(parse("GET / HTTP/1.1\r\nhost: a\r\n\r\n").req.keep_alive);
}

TEST_CASE("http: pipelined requests are parsed one after the other; bodies are framed by Content-Length") {
  const std::string two =
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET";
  auto a = parse(two);
  REQUIRE(a.status == parse_status::complete);
  CHECK(a.req.path == "/a");
  auto rest = std::string_view{two}.substr(a.consumed);
  auto b = parse(rest);
  REQUIRE(b.status == parse_status::complete);
  CHECK(b.req.method == "POST");
  CHECK(b.req.content_length == 5);
  CHECK(rest.substr(b.consumed, 5) == "hello");
  CHECK(parse(rest.substr(b.consumed + 5)).status == parse_status::incomplete);
}

TEST_CASE("http: bare LF line ends, leading empty lines, absolute-form targets") {
  auto r = parse("\r\n\nGET http://192.0.2.2:8080/stats HTTP/1.1\nHost: x\n\n");
  REQUIRE(r.status == parse_status::complete);
  CHECK(r.req.path == "/stats");
  CHECK(parse("GET http://host HTTP/1.1\r\nHost: x\r\n\r\n").req.path == "/");
}

TEST_CASE("http: malformed requests are 400") {
  CHECK(error_of("GET / HTTP/1.1\r\n\r\n") == 400);                       // no Host in 1.1
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400); // two Hosts
  CHECK(error_of("GET /  HTTP/1.1\r\nHost: a\r\n\r\n") == 400);           // two spaces
  CHECK(error_of("GET/ HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(error_of("G(T / HTTP/1.1\r\nHost: a\r\n\r\n") == 400); // not a token
  CHECK(error_of("GET / HTTX/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(error_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == 400);           // space before the colon
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n") == 400); // obs-fold
  CHECK(error_of("GET / HTTP/1.1\r\nHost a\r\n\r\n") == 400);             // no colon
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n") == 400);
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400);
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n") == 400);
  CHECK(error_of("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(error_of(std::string_view{"GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", 31}) == 400);
}

TEST_CASE("http: size bounds: 414, 431, 413; versions: 505; Transfer-Encoding: 501") {
  limits l;
  const std::string long_target = "GET /" + std::string(l.max_request_line, 'x');
  CHECK(error_of(long_target) == 414); // before its end arrives
  CHECK(error_of(long_target + " HTTP/1.1\r\n") == 414);
  std::string big = "GET / HTTP/1.1\r\nHost: a\r\n";
  while (big.size() <= l.max_header_bytes) big += "X-Filler: 0123456789012345678901234567890123456789\r\n";
  CHECK(error_of(big) == 431); // incomplete but already too big
  CHECK(error_of(big + "\r\n") == 431);
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (std::size_t i = 0; i < l.max_fields; ++i) many += "A: b\r\n";
  CHECK(error_of(many + "\r\n") == 431);
  CHECK(error_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n") == 413);
  CHECK(error_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n") == 413);
  CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n").status == parse_status::complete);
  CHECK(error_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 505);
  CHECK(error_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") == 501);
}

TEST_CASE("http: responses carry Content-Length; HEAD has no body; close and 1.0 keep-alive are said") {
  std::string out;
  write(out, response{.status = 200, .body = "hello", .keep_alive = true});
  CHECK(out.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(out.find("Content-Length: 5\r\n") != std::string::npos);
  CHECK(out.find("Connection:") == std::string::npos);
  CHECK(out.ends_with("\r\n\r\nhello"));
  out.clear();
  write(out, response{.status = 404, .body = "nope", .head = true, .keep_alive = false});
  CHECK(out.starts_with("HTTP/1.1 404 Not Found\r\n"));
  CHECK(out.find("Content-Length: 4\r\n") != std::string::npos);
  CHECK(out.find("Connection: close\r\n") != std::string::npos);
  CHECK(out.ends_with("\r\n\r\n"));
  out.clear();
  write(out, response{.status = 200, .body = "", .http10 = true});
  CHECK(out.find("Connection: keep-alive\r\n") != std::string::npos);
}
