// Fuzz target: TCP headers and options (wire/tcp.hpp). The input is a TCP segment (header,
// options, payload) between two fixed addresses; the whole input is also parsed as a bare
// option list. Properties: no crash or sanitizer report; an accepted segment re-emits (options
// in Linux's layout, SACK blocks that fit) to one that parses, checksum verified, to the same
// values; emitted options never exceed 40 bytes.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "fuzz_target.hpp"
#include "synack/wire/tcp.hpp"

using namespace synack;
using namespace synack::wire;

namespace {

constexpr ipv4_address src{192, 0, 2, 1};
constexpr ipv4_address dst{192, 0, 2, 2};

void check_options(const tcp_options& o) {
  SYNACK_FUZZ_CHECK(o.sack_count <= tcp_max_sack_blocks, "more SACK blocks than fit");
  SYNACK_FUZZ_CHECK(o.emit_len() <= tcp_max_options_len && o.emit_len() % 4 == 0, "emitted options length");
  std::vector<std::byte> out(o.emit_len());
  o.emit(bytes_mut{out});
  auto again = parse_tcp_options(bytes_view{out});
  SYNACK_FUZZ_CHECK(again.has_value(), "emitted options do not parse");
  auto expected = o;
  expected.sack_count = static_cast<std::uint8_t>(o.emitted_sack_blocks());
  SYNACK_FUZZ_CHECK(*again == expected, "emitted options parse differently");
}

} // namespace

SYNACK_FUZZ_TARGET(tcp) {
  const bytes_view b{reinterpret_cast<const std::byte*>(data), size};
  if (auto o = parse_tcp_options(b)) check_options(*o);

  const auto p = tcp_packet<bytes_view>::checked(b);
  const auto verified = tcp_repr::parse(tcp_packet<bytes_view>{b}, src, dst, checksum_check::verify);
  const auto r = tcp_repr::parse(tcp_packet<bytes_view>{b}, src, dst, checksum_check::skip);
  SYNACK_FUZZ_CHECK(p || !r, "parse accepted what check_len refused");
  SYNACK_FUZZ_CHECK(!verified || r, "accepted with the checksum verified but not without");
  if (p) {
    SYNACK_FUZZ_CHECK(p->header_len() >= 20 && p->header_len() <= 60 && p->header_len() <= size, "header length");
    (void)p->options();
    (void)p->verify_checksum(src, dst);
  }
  if (!r) return 0;
  check_options(r->options);
  SYNACK_FUZZ_CHECK(r->payload.size() == size - p->header_len(), "payload length");
  auto expected = *r;
  expected.options.sack_count = static_cast<std::uint8_t>(r->options.emitted_sack_blocks());
  SYNACK_FUZZ_CHECK(r->header_len() <= tcp_max_header_len, "emitted header length");
  std::vector<std::byte> out(r->buffer_len());
  tcp_packet<bytes_mut> o{bytes_mut{out}};
  r->emit(o, src, dst);
  const auto again = tcp_repr::parse(tcp_packet<bytes_view>{bytes_view{out}}, src, dst, checksum_check::verify);
  SYNACK_FUZZ_CHECK(again && *again == expected, "re-emitted segment parses differently");
  fmt::memory_buffer text;
  fmt::format_to(std::back_inserter(text), "{}", tcp_summary{src, dst, *r});
  return 0;
}
