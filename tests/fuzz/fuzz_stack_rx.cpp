// Fuzz target: the whole receive path of a host (stack_host.hpp): bytes in -> Ethernet/ARP ->
// IPv4 (validation, reassembly, ICMP) -> the TCP layer (demux, listener, SYN cookies, the
// established connection) -> whatever the host sends back.
//
// Input: one mode byte (bit 0: Ethernet frames, else IPv4 packets; bit 1: checksums verified,
// else the TCP checksum skipped as a device with rx offload would: the IPv4 header checksum is
// verified either way; bit 2: the harness writes each packet's IPv4 header checksum, so that
// mutated headers reach the checks behind it: options, reassembly, ICMP, TCP), then records
// until the input ends:
//   u8 op   bits 0-5: advance the clock by (op & 63)^2 * 10 ms first (timers run);
//           bit 6: the application sends 1000 bytes; bit 7: it closes the connection
//   u16 n   then n bytes: one frame or packet (cut at the end of the input)
// Properties: no crash, sanitizer report or unbounded growth, and everything the host sends
// parses with its checksums verified (stack_host::check_output).
#include "fuzz_target.hpp"
#include "stack_host.hpp"

using namespace synack;
using namespace synack_fuzz;

namespace {
/// Writes the header checksum of the IPv4 packet in `b` (after the Ethernet header if `ethernet`),
/// if there is one with its whole header in the buffer.
void fill_ipv4_checksum(bytes_mut b, bool ethernet) {
  const std::size_t l2 = ethernet ? 14 : 0;
  if (b.size() < l2 + wire::ipv4_min_header_len) return;
  if (ethernet && (b[12] != std::byte{0x08} || b[13] != std::byte{0x00})) return;
  wire::ipv4_packet<bytes_mut> ip{b.subspan(l2)};
  if (ip.version() != 4 || ip.header_len() < wire::ipv4_min_header_len || ip.header_len() > b.size() - l2) return;
  ip.fill_checksum();
}
} // namespace

SYNACK_FUZZ_TARGET(stack_rx) {
  reader in{data, size};
  const auto mode = in.u8();
  const bool ethernet = (mode & 1) != 0;
  const auto csum = (mode & 2) != 0 ? wire::checksum_check::verify : wire::checksum_check::skip;
  stack_host host{ethernet};
  while (!in.empty()) {
    const auto op = in.u8();
    const auto len = in.u16();
    const auto packet = in.bytes(len);
    // The packet in a buffer of exactly its size (the sanitizer sees reads past its end).
    std::vector<std::byte> exact(packet.begin(), packet.end());
    if ((mode & 4) != 0) fill_ipv4_checksum(bytes_mut{exact}, ethernet);
    host.process_record(op, bytes_view{exact}, csum);
  }
  return 0;
}
