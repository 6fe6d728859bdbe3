// Fuzz target: ARP packets (wire/arp.hpp). Properties: no crash or sanitizer report; parse
// agrees with check_len; an accepted packet re-emits to the same 28 bytes.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "fuzz_target.hpp"
#include "synack/wire/arp.hpp"

using namespace synack;
using namespace synack::wire;

SYNACK_FUZZ_TARGET(arp) {
  const bytes_view b{reinterpret_cast<const std::byte*>(data), size};
  const auto p = arp_packet<bytes_view>::checked(b);
  const auto r = arp_repr::parse(arp_packet<bytes_view>{b});
  SYNACK_FUZZ_CHECK(p || !r, "parse accepted what check_len refused");
  if (p) {
    (void)p->sender_mac();
    (void)p->sender_ip();
    (void)p->target_mac();
    (void)p->target_ip();
    (void)p->operation();
  }
  if (r) {
    std::vector<std::byte> out(arp_repr::buffer_len());
    arp_packet<bytes_mut> o{bytes_mut{out}};
    r->emit(o);
    SYNACK_FUZZ_CHECK(std::equal(out.begin(), out.end(), b.begin()), "re-emitted packet differs");
    const auto again = arp_repr::parse(arp_packet<bytes_view>{bytes_view{out}});
    SYNACK_FUZZ_CHECK(again && *again == *r, "re-emitted packet parses differently");
    fmt::memory_buffer text;
    fmt::format_to(std::back_inserter(text), "{}", *r);
  }
  return 0;
}
