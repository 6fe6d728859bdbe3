// Fuzz target: ICMPv4 messages (wire/icmpv4.hpp) and the quoted datagram of an error
// (parse_icmpv4_quote). Properties: no crash or sanitizer report; an accepted message re-emits
// to one that parses, checksum verified, to the same values; a quote's views stay in the buffer.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "fuzz_target.hpp"
#include "synack/wire/icmpv4.hpp"

using namespace synack;
using namespace synack::wire;

namespace {

void check_quote(bytes_view q) {
  const auto quote = parse_icmpv4_quote(q);
  if (!quote) return;
  SYNACK_FUZZ_CHECK(quote->header.size() >= 20 && quote->transport.size() >= 8, "quote lengths");
  SYNACK_FUZZ_CHECK(quote->header.data() == q.data() && quote->header.size() + quote->transport.size() == q.size(),
                    "quote views outside the buffer");
}

} // namespace

SYNACK_FUZZ_TARGET(icmpv4) {
  const bytes_view b{reinterpret_cast<const std::byte*>(data), size};
  const auto p = icmpv4_packet<bytes_view>::checked(b);
  const auto verified = icmpv4_repr::parse(icmpv4_packet<bytes_view>{b}, checksum_check::verify);
  const auto r = icmpv4_repr::parse(icmpv4_packet<bytes_view>{b}, checksum_check::skip);
  SYNACK_FUZZ_CHECK(p || !r, "parse accepted what check_len refused");
  SYNACK_FUZZ_CHECK(!verified || r, "accepted with the checksum verified but not without");
  if (r) {
    std::vector<std::byte> out(r->buffer_len());
    icmpv4_packet<bytes_mut> o{bytes_mut{out}};
    r->emit(o);
    const auto again = icmpv4_repr::parse(icmpv4_packet<bytes_view>{bytes_view{out}}, checksum_check::verify);
    SYNACK_FUZZ_CHECK(again && *again == *r, "re-emitted message parses differently");
    fmt::memory_buffer text;
    fmt::format_to(std::back_inserter(text), "{}", *r);
    check_quote(r->data);
  }
  check_quote(b);
  return 0;
}
