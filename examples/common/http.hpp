// examples/common/http.hpp: the small HTTP/1.1 request parser and response writer behind
// examples/http_server.cpp (RFC 9110 semantics, RFC 9112 message syntax), sans-IO and tested on
// its own (examples/tests/http_test.cpp).
//
//   auto r = examples::http::parse(buffered_bytes, limits);
//   r.status: incomplete (read more), complete (r.request, r.consumed header bytes; then
//   r.request.content_length body bytes follow), or error (r.error: the status to answer with,
//   after which the connection is closed: the framing is lost).
//
// Bounds (all configurable in `limits`): request line 8 KiB (414), header section 8 KiB and
// 100 fields (431), body 1 MiB (413; bodies are skipped, never buffered). Transfer-Encoding is
// not implemented (501). HTTP/1.1 needs exactly one Host (400). Only HTTP/1.0 and 1.1 (505).
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace examples::http {

struct limits {
  std::size_t max_request_line = 8192;
  std::size_t max_header_bytes = 8192; // request line + fields + the empty line
  std::size_t max_fields = 100;
  std::size_t max_body = 1 << 20;
};

struct request {
  std::string_view method;
  std::string_view target; // as sent
  std::string_view path;   // origin-form path without the query
  int minor_version = 1;   // HTTP/1.<minor>
  bool keep_alive = true;  // after this request
  std::size_t content_length = 0;
};

enum class parse_status { incomplete, complete, error };

struct parse_result {
  parse_status status = parse_status::incomplete;
  std::size_t consumed = 0; // complete: bytes of the request line and header section
  request req;
  int error = 0; // error: 400, 413, 414, 431, 501 or 505
};

namespace detail {

inline auto is_tchar(char c) -> bool {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}
inline auto is_token(std::string_view s) -> bool { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }
inline auto iequals(std::string_view a, std::string_view b) -> bool {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}
inline auto trim(std::string_view s) -> std::string_view {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
/// Field values: visible ASCII, obs-text, SP and HTAB (no CR, LF or NUL).
inline auto valid_value(std::string_view s) -> bool {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}
/// A request-target: visible ASCII only.
inline auto valid_target(std::string_view s) -> bool {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

} // namespace detail

/// Parses the request at the start of `in`. See the header comment.
inline auto parse(std::string_view in, const limits& lim = {}) -> parse_result {
  using namespace detail;
  parse_result r;
  auto fail = [&](int status) {
    r.status = parse_status::error;
    r.error = status;
    return r;
  };
  // RFC 9112 §2.2: ignore empty lines before the request line.
  std::size_t pos = 0;
  while (pos < in.size() && (in[pos] == '\r' || in[pos] == '\n')) {
    if (in[pos] == '\r' && pos + 1 < in.size() && in[pos + 1] != '\n') return fail(400);
    ++pos;
  }
  const std::size_t start = pos;
  // Reads the next line (LF, optionally preceded by CR); false when it is not all here.
  auto next_line = [&](std::string_view& line) {
    const auto lf = in.find('\n', pos);
    if (lf == std::string_view::npos) return false;
    line = in.substr(pos, lf - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = lf + 1;
    return true;
  };

  std::string_view line;
  if (!next_line(line)) {
    if (in.size() - start > lim.max_request_line) return fail(414);
    return r; // incomplete
  }
  if (line.size() > lim.max_request_line) return fail(414);
  // request-line = method SP request-target SP HTTP-version
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return fail(400);
  auto& q = r.req;
  q.method = line.substr(0, sp1);
  q.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = line.substr(sp2 + 1);
  if (!is_token(q.method) || !valid_target(q.target)) return fail(400);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return fail(400);
  if (version[5] != '1') return fail(505);
  q.minor_version = version[7] - '0';
  // The path: origin-form, or absolute-form (RFC 9112 §3.2.2) whose authority we skip.
  std::string_view path = q.target;
  if (path.substr(0, 7) == "http://" || path.substr(0, 8) == "https://") {
    const auto slash = path.find('/', path.find("//") + 2);
    path = slash == std::string_view::npos ? std::string_view{"/"} : path.substr(slash);
  }
  q.path = path.substr(0, path.find('?'));

  bool close = false;
  bool keep_alive_token = false;
  bool has_length = false;
  std::size_t hosts = 0;
  std::size_t fields = 0;
  for (;;) {
    if (!next_line(line)) {
      if (in.size() - start > lim.max_header_bytes) return fail(431);
      return r; // incomplete
    }
    if (pos - start > lim.max_header_bytes) return fail(431);
    if (line.empty()) break;
    if (++fields > lim.max_fields) return fail(431);
    if (line.front() == ' ' || line.front() == '\t') return fail(400); // obs-fold (RFC 9112 §5.2)
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return fail(400);
    const auto name = line.substr(0, colon); // no whitespace before the colon (§5.1)
    const auto value = trim(line.substr(colon + 1));
    if (!is_token(name) || !valid_value(value)) return fail(400);
    if (iequals(name, "content-length")) {
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || p != value.data() + value.size()) return fail(400); // digits only
      if (ec == std::errc::result_out_of_range) return fail(413);
      if (has_length && n != q.content_length) return fail(400);
      has_length = true;
      q.content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      return fail(501);
    } else if (iequals(name, "host")) {
      ++hosts;
    } else if (iequals(name, "connection")) {
      std::string_view rest = value;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        const auto opt = trim(rest.substr(0, comma));
        if (iequals(opt, "close")) close = true;
        if (iequals(opt, "keep-alive")) keep_alive_token = true;
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    }
  }
  if (q.minor_version >= 1 && hosts != 1) return fail(400); // RFC 9112 §3.2
  if (hosts > 1) return fail(400);
  if (q.content_length > lim.max_body) return fail(413);
  // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
  q.keep_alive = !close && (q.minor_version >= 1 || keep_alive_token);
  r.status = parse_status::complete;
  r.consumed = pos;
  return r;
}

inline auto reason(int status) -> std::string_view {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

/// The IMF-fixdate of now (RFC 9110 §5.6.7), cached for the second.
inline auto date_now() -> std::string_view {
  static std::time_t cached_at = -1;
  static char text[64] = {};
  const std::time_t t = std::time(nullptr);
  if (t != cached_at) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_at = t;
  }
  return text;
}

struct response {
  int status = 200;
  std::string_view content_type = "text/plain; charset=utf-8";
  std::string_view body;
  bool head = false;      // HEAD: headers only, Content-Length of the body GET would get
  bool keep_alive = true; // false: "Connection: close", and the server closes after it
  bool http10 = false;    // the request was HTTP/1.0: say "keep-alive" when persisting
  std::string_view extra; // more header lines, each ending in \r\n
};

/// Appends the response to `out`.
inline void write(std::string& out, const response& r) {
  fmt::format_to(std::back_inserter(out),
                 "HTTP/1.1 {} {}\r\nServer: synack-http_server\r\nDate: {}\r\nContent-Type: {}\r\n"
                 "Content-Length: {}\r\n{}{}\r\n",
                 r.status, reason(r.status), date_now(), r.content_type, r.body.size(),
                 !r.keep_alive ? "Connection: close\r\n"
                 : r.http10    ? "Connection: keep-alive\r\n"
                               : "",
                 r.extra);
  if (!r.head) out.append(r.body);
}

} // namespace examples::http
