// synack/link/detail/offload.hpp: what the links need for checksum and segmentation offload:
// the virtio-net header a tun device with IFF_VNET_HDR, or a packet socket with
// PACKET_VNET_HDR, puts in front of every packet (Linux's include/uapi/linux/virtio_net.h, the
// virtio 1.x spec §5.1.6), and completing a checksum the stack left to the device
// (CHECKSUM_PARTIAL) where a copy must be whole (pcap files). Offsets in the header count from
// the start of what the link carries: the IPv4 header on a tun, the Ethernet header on a
// packet socket (`l3_offset` 14).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "synack/link/link.hpp"
#include "synack/util/bytes.hpp"
#include "synack/wire/checksum.hpp"

namespace synack::link::detail {

/// struct virtio_net_hdr, without num_buffers (not a mergeable-buffers device). Spelled out
/// here because <linux/virtio_net.h> does not compile as C++ (a member named `class`).
struct virtio_net_hdr {
  std::uint8_t flags;
  std::uint8_t gso_type;
  std::uint16_t hdr_len;     // little-endian, as all virtio fields below
  std::uint16_t gso_size;    // payload bytes per segment
  std::uint16_t csum_start;  // where the checksummed part starts
  std::uint16_t csum_offset; // where in it the checksum goes
};
inline constexpr std::uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
inline constexpr std::uint8_t VIRTIO_NET_HDR_F_DATA_VALID = 2;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_TCPV4 = 1;

/// The header's size.
inline constexpr std::size_t vnet_hdr_len = sizeof(virtio_net_hdr);
static_assert(vnet_hdr_len == 10 && std::endian::native == std::endian::little,
              "virtio fields are little-endian; a big-endian host needs TUNSETVNETLE and byte swaps");

/// The IPv4 header length of `packet` (IHL * 4), or 0 if it is not an IPv4 TCP packet with a
/// whole IPv4 header and the 20 bytes of a TCP header after it.
inline auto ipv4_tcp_offset(bytes_view packet) noexcept -> std::size_t {
  if (packet.size() < 40) return 0;
  const auto b0 = static_cast<std::uint8_t>(packet[0]);
  const std::size_t ihl = (b0 & 0x0fu) * 4u;
  if ((b0 >> 4) != 4 || ihl < 20 || packet.size() < ihl + 20 || static_cast<std::uint8_t>(packet[9]) != 6) return 0;
  return ihl;
}

/// Where the TCP header of the IPv4 packet at `l3_offset` of `frame` starts, or 0 (as
/// ipv4_tcp_offset).
inline auto tcp_offset(bytes_view frame, std::size_t l3_offset) noexcept -> std::size_t {
  if (frame.size() < l3_offset) return 0;
  const std::size_t ihl = ipv4_tcp_offset(frame.subspan(l3_offset));
  return ihl == 0 ? 0 : l3_offset + ihl;
}

/// Writes the virtio-net header for one packet written by the stack (`frame`, after the
/// header's room; its IPv4 header at `l3_offset`) as `meta` asks: NEEDS_CSUM with the TCP
/// checksum's place, and TCPV4 segmentation with the segment size and the length of the
/// headers copied into each segment. Virtio fields are little-endian (VIRTIO_F_VERSION_1; the
/// default of tun and packet sockets on little-endian hosts).
inline void write_vnet_hdr(std::byte* hdr, bytes_view frame, const tx_meta& meta, std::size_t l3_offset = 0) noexcept {
  virtio_net_hdr h{};
  const std::size_t l4 = meta.tcp_checksum_partial || meta.tso_segment_size != 0 ? tcp_offset(frame, l3_offset) : 0;
  if (l4 != 0) {
    if (meta.tcp_checksum_partial) {
      h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
      h.csum_start = static_cast<std::uint16_t>(l4);
      h.csum_offset = 16; // the TCP checksum field
    }
    const std::size_t tcp_hlen = (static_cast<std::uint8_t>(frame[l4 + 12]) >> 4) * 4u;
    if (meta.tso_segment_size != 0 && frame.size() > l4 + tcp_hlen + meta.tso_segment_size) {
      h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
      h.gso_size = meta.tso_segment_size;
      h.hdr_len = static_cast<std::uint16_t>(l4 + tcp_hlen);
    }
  }
  std::memcpy(hdr, &h, sizeof h);
}

/// rx_meta from the virtio-net header of a received packet: NEEDS_CSUM (made on this machine,
/// CHECKSUM_PARTIAL: no checksum to verify) or DATA_VALID (verified) both mean "trusted".
inline auto read_vnet_hdr(const std::byte* hdr) noexcept -> rx_meta {
  virtio_net_hdr h;
  std::memcpy(&h, hdr, sizeof h);
  rx_meta m;
  m.checksum_verified = (h.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) != 0;
  if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0) {
    m.partial_csum_start = h.csum_start;
    m.partial_csum_offset = h.csum_offset;
  }
  return m;
}

/// Completes a checksum left to the device (CHECKSUM_PARTIAL): the field at start + offset
/// holds the pseudo-header sum; the checksum covers everything from `start` to the end.
inline void complete_checksum(bytes_mut packet, std::size_t start, std::size_t offset) noexcept {
  if (start + offset + 2 > packet.size()) return;
  const auto sum = wire::internet_checksum(packet.subspan(start));
  packet[start + offset] = std::byte(sum >> 8);
  packet[start + offset + 1] = std::byte(sum & 0xff);
}

/// Completes the TCP checksum of an IPv4 packet (at `l3_offset` of `frame`) the stack wrote
/// with wire::checksum_fill::pseudo_header_only: what the device writes.
inline void complete_tcp_checksum(bytes_mut frame, std::size_t l3_offset = 0) noexcept {
  if (const std::size_t l4 = tcp_offset(frame, l3_offset)) complete_checksum(frame, l4, 16);
}

} // namespace synack::link::detail
