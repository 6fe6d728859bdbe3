// Fuzz target: Ethernet II frames (wire/ethernet.hpp), MAC address text, and the tracer's
// one-line summary of a whole frame (wire/format.hpp), which walks every layer above.
// Properties: no crash or sanitizer report; parse agrees with check_len; an accepted header
// re-emits to the same 14 bytes.
#include <algorithm>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "fuzz_target.hpp"
#include "synack/wire/format.hpp"
#include "synack/wire/wire.hpp"

using namespace synack;
using namespace synack::wire;

SYNACK_FUZZ_TARGET(ethernet) {
  const bytes_view b{reinterpret_cast<const std::byte*>(data), size};
  const auto f = ethernet_frame<bytes_view>::checked(b);
  const auto r = ethernet_repr::parse(ethernet_frame<bytes_view>{b});
  SYNACK_FUZZ_CHECK(f || !r, "parse accepted what check_len refused");
  if (f) {
    (void)f->dst();
    (void)f->src();
    (void)f->ethertype();
    SYNACK_FUZZ_CHECK(f->payload().size() == size - 14, "payload length");
  }
  if (r) {
    SYNACK_FUZZ_CHECK(static_cast<std::uint16_t>(r->ethertype) >= 0x0600, "802.3 length accepted as a type");
    std::vector<std::byte> out(ethernet_repr::header_len());
    ethernet_frame<bytes_mut> o{bytes_mut{out}};
    r->emit(o);
    SYNACK_FUZZ_CHECK(std::equal(out.begin(), out.end(), b.begin()), "re-emitted header differs");
  }
  fmt::memory_buffer text;
  fmt::format_to(std::back_inserter(text), "{}", packet_summary{b, link_medium::ethernet});
  if (auto m = mac_address::parse(std::string_view(reinterpret_cast<const char*>(data), size))) {
    const auto again = mac_address::parse(fmt::format("{}", *m));
    SYNACK_FUZZ_CHECK(again && *again == *m, "MAC text does not round-trip");
  }
  return 0;
}
