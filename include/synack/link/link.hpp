// synack/link/link.hpp: what a link is (docs/links.md; smoltcp's phy::Device is the model).
//
// A link moves whole packets: IPv4 packets (medium::ip, tun) or Ethernet frames
// (medium::ethernet, AF_PACKET). It has one small interface, which the stack drives:
//
//   capabilities()        medium, MTU, checksum and segmentation offloads
//   start(handler)        begin receiving; every received packet is passed to handler.fn(ctx,
//                         packet, meta) from inside the event loop's completion processing. The
//                         bytes are valid only during the call (the buffer is recycled after).
//   transmit(len, fill, meta = {})
//                         reserve a buffer of `len` bytes, call fill(bytes_mut) to write the
//                         packet into it, and queue it. `meta` (tx_meta) asks for the offloads
//                         the link's capabilities() offer: a checksum the device completes, a
//                         TSO super-segment it cuts into segments; links without offloads ignore
//                         it (the stack never asks them for one). Returns false (and does not call fill)
//                         when no buffer is free: the caller tries again on a later turn. A
//                         packet larger than the link can ever carry is dropped and counted:
//                         transmit returns true without calling fill (retrying cannot help).
//   flush()               hand the queued packets to the device: called once per loop turn
//                         (the stack's turn hook), so a turn's packets leave in one batch.
//   stop()                stop receiving and cancel what is in flight; the link can be
//                         destroyed after the loop has drained the cancellations.
//
// Optional extras a link may have, which the decorators forward: `mac()` (the link's own MAC
// address, on Ethernet links; the stack uses it for ARP when stack_options::mac is unset).
//
// Decorators (tracer, pcap_writer, fault_injector) wrap any link and are links themselves.
// Links that do I/O are built on an event loop (io/loop.hpp) and report setup failures as
// std::error_code; they never throw from the receive path.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "synack/util/bytes.hpp"

namespace synack::link {

enum class medium : std::uint8_t {
  ip,       // the link carries IPv4 packets (tun)
  ethernet, // the link carries Ethernet II frames (AF_PACKET, tap)
};

struct capabilities {
  link::medium medium = link::medium::ip;
  /// The largest IPv4 packet the link carries (the IP MTU, without any Ethernet header).
  std::size_t mtu = 1500;
  /// Received packets whose TCP checksum the device verified may be flagged in rx_meta.
  bool rx_checksum_offload = false;
  /// The device fills TCP checksums of transmitted packets (the stack writes the pseudo-header
  /// sum only; see wire::checksum_fill::pseudo_header_only).
  bool tx_checksum_offload = false;
  /// The largest IPv4 packet (headers included) the device accepts as a TCP super-segment and
  /// cuts into MTU-sized segments for us (TSO); 0 when it does not.
  std::size_t tso_max = 0;
  /// Received TCP packets may be larger than the MTU: the device coalesced segments (GRO).
  bool rx_coalesced = false;
};

/// Facts the device told us about a received packet.
struct rx_meta {
  /// The L4 checksum needs no check: the device verified it (virtio-net
  /// VIRTIO_NET_HDR_F_DATA_VALID, TP_STATUS_CSUM_VALID), or the packet was made on this machine
  /// and never had one computed (VIRTIO_NET_HDR_F_NEEDS_CSUM, TP_STATUS_CSUMNOTREADY).
  bool checksum_verified = false;
  /// NEEDS_CSUM: the L4 checksum field (at partial_csum_start + partial_csum_offset) holds only
  /// the pseudo-header sum; a copy that must be whole (a pcap file) completes it. 0: not partial.
  std::uint16_t partial_csum_start = 0;
  std::uint16_t partial_csum_offset = 0;
};

/// What the stack asks of the device for one transmitted IPv4 packet (only what capabilities()
/// offers; a default tx_meta asks for nothing: the packet is complete as written).
struct tx_meta {
  /// The TCP checksum field holds only the pseudo-header sum (wire::checksum_fill::
  /// pseudo_header_only): the device sums the segment (capabilities::tx_checksum_offload).
  bool tcp_checksum_partial = false;
  /// A TCP super-segment (capabilities::tso_max): the device cuts its payload into segments of
  /// this many bytes, each with copies of the headers (RFC 9293 §3.7.1's MSS per segment); 0 for
  /// a packet sent as it is.
  std::uint16_t tso_segment_size = 0;
};

/// Where a link delivers received packets.
struct rx_handler {
  void (*fn)(void* context, bytes_view packet, const rx_meta& meta) = nullptr;
  void* context = nullptr;
  explicit operator bool() const noexcept { return fn != nullptr; }
  /// Delivers a packet; a handler without a function drops it.
  void operator()(bytes_view packet, const rx_meta& meta = {}) const {
    if (fn) fn(context, packet, meta);
  }
};

/// The link interface. `fill` is any callable taking bytes_mut.
template <class L>
concept link = requires(L& l, const L& cl, rx_handler h, std::size_t len) {
  { cl.capabilities() } -> std::same_as<capabilities>;
  {l.start(h)};
  {
    l.transmit(len, [](bytes_mut) {})
    } -> std::same_as<bool>;
  {
    l.transmit(
        len, [](bytes_mut) {}, tx_meta{})
    } -> std::same_as<bool>;
  {l.flush()};
  {l.stop()};
};

} // namespace synack::link
