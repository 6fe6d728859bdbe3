// Fuzz target: IPv4 headers (wire/ipv4.hpp), address / CIDR / endpoint text, and the tracer's
// summary of an IP packet. Properties: no crash or sanitizer report; the checks run in the
// documented order (a view that parses passed check_len); the option walker stays inside the
// options and agrees with parse (a header with a malformed option is `bad_option` whatever the
// checksum check, and an accepted one has none); an accepted header re-emits (20 bytes, no
// options) to a packet that parses, checksum verified, to the same values.
#include <algorithm>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "fuzz_target.hpp"
#include "synack/wire/endpoint.hpp"
#include "synack/wire/format.hpp"
#include "synack/wire/ipv4.hpp"

using namespace synack;
using namespace synack::wire;

SYNACK_FUZZ_TARGET(ipv4) {
  const bytes_view b{reinterpret_cast<const std::byte*>(data), size};
  const auto p = ipv4_packet<bytes_view>::checked(b);
  const auto verified = ipv4_repr::parse(ipv4_packet<bytes_view>{b}, checksum_check::verify);
  const auto r = ipv4_repr::parse(ipv4_packet<bytes_view>{b}, checksum_check::skip);
  SYNACK_FUZZ_CHECK(p || !r, "parse accepted what check_len refused");
  SYNACK_FUZZ_CHECK(!verified || r, "accepted with the checksum verified but not without");
  if (p) {
    SYNACK_FUZZ_CHECK(p->header_len() >= 20 && p->header_len() <= p->total_len() && p->total_len() <= size, "lengths");
    (void)p->options();
    (void)p->verify_checksum();
    SYNACK_FUZZ_CHECK(p->payload().size() == std::size_t{p->total_len()} - p->header_len(), "payload length");
    SYNACK_FUZZ_CHECK(p->payload().data() + p->payload().size() <= b.data() + size, "payload past the buffer");
    if (const auto bad = p->bad_option_octet()) {
      SYNACK_FUZZ_CHECK(*bad >= 20 && *bad < p->header_len(), "the bad option octet is outside the options");
      SYNACK_FUZZ_CHECK(!r && r.error() == wire_error::bad_option, "a malformed option was not bad_option");
      SYNACK_FUZZ_CHECK(!verified, "a malformed option was accepted with the checksum verified");
    }
  }
  if (r) SYNACK_FUZZ_CHECK(!p->bad_option_octet(), "accepted with a malformed option");
  // The walker alone on any bytes: stays inside them.
  if (const auto at = find_bad_ipv4_option(b.first(std::min<std::size_t>(size, 40))))
    SYNACK_FUZZ_CHECK(*at < std::min<std::size_t>(size, 40), "the walker pointed past the options");
  if (r) {
    SYNACK_FUZZ_CHECK(std::size_t{r->fragment_offset} + r->payload_len + 20 <= ipv4_max_total_len, "ping of death");
    std::vector<std::byte> out(r->buffer_len());
    ipv4_packet<bytes_mut> o{bytes_mut{out}};
    r->emit(o);
    const auto payload = p->payload();
    std::copy(payload.begin(), payload.end(), out.begin() + 20);
    const auto again = ipv4_repr::parse(ipv4_packet<bytes_view>{bytes_view{out}}, checksum_check::verify);
    SYNACK_FUZZ_CHECK(again && *again == *r, "re-emitted header parses differently");
  }
  fmt::memory_buffer text;
  fmt::format_to(std::back_inserter(text), "{}", packet_summary{b, link_medium::ip});

  const std::string_view s(reinterpret_cast<const char*>(data), size);
  if (auto a = ipv4_address::parse(s)) {
    const auto again = ipv4_address::parse(fmt::format("{}", *a));
    SYNACK_FUZZ_CHECK(again && *again == *a, "address text does not round-trip");
  }
  if (auto c = ipv4_cidr::parse(s)) {
    const auto again = ipv4_cidr::parse(fmt::format("{}", *c));
    SYNACK_FUZZ_CHECK(again && *again == *c, "CIDR text does not round-trip");
  }
  if (auto e = endpoint::parse(s)) {
    const auto again = endpoint::parse(fmt::format("{}", *e));
    SYNACK_FUZZ_CHECK(again && *again == *e, "endpoint text does not round-trip");
  }
  return 0;
}
