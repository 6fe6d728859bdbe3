// synack/link/af_packet.hpp: an AF_PACKET socket bound to one interface as a synack link: the
// link carries whole Ethernet II frames (medium::ethernet, without FCS).
//
//   auto l = synack::link::af_packet::open(loop, {.interface = "veth0"});
//
// The socket is SOCK_RAW with protocol 0 at creation (so it queues nothing before the bind),
// then bound to the interface with ETH_P_ALL. Options set at open():
// - PACKET_IGNORE_OUTGOING: frames the kernel itself sends on the interface are not looped
//   back to us (ours never are).
// - PACKET_QDISC_BYPASS (off by default): writes go straight to the driver, skipping the
//   qdisc layer. On a veth (whose default qdisc is noqueue) it saves little, and bypassed frames
//   are invisible to other packet sockets on the interface (tcpdump would not see what synack
//   sends); see docs/links.md for the measurements.
// - SO_RCVBUF: the kernel queue of received frames (rcvbuf_bytes); a burst larger than it is
//   dropped by the kernel and shows in kernel_drops().
// - promiscuous mode (PACKET_MR_PROMISC) when `mac` differs from the interface's address or
//   `promiscuous` is set: the NIC must accept unicast frames for an address it does not own.
// - the interface is set up (IFF_UP) unless `set_up` is false.
// - PACKET_AUXDATA: each frame comes with its tp_status. A frame the kernel made on this
//   machine and passed through a veth (the kernel side's TCP and UDP, with checksum offload)
//   carries only a partial checksum (TP_STATUS_CSUMNOTREADY): on the wire it would be wrong,
//   but it never crossed a wire. Such frames, and those whose checksum a NIC verified
//   (TP_STATUS_CSUM_VALID), are handed up with rx_meta::checksum_verified, so the stack does
//   not drop them as corrupt. (A pcap of the receiving side shows their checksums as bad,
//   as tcpdump on the veth would.)
// - PACKET_VNET_HDR (`offload`, on by default): a virtio_net_hdr (detail/offload.hpp) travels
//   in front of every frame, as on a tun with IFF_VNET_HDR. Sending, the stack writes only the
//   pseudo-header sum into TCP checksums and sends TCP super-segments of up to tso_max bytes:
//   the kernel builds one GSO skb of the frame, which a veth hands to its peer whole (the
//   kernel's TCP there takes it as a coalesced packet) and a NIC without TSO has cut into
//   segments in software by the kernel: either way one system call and one trip through the
//   stack per 64 KiB instead of per 1.5 KB. Receiving, the header's NEEDS_CSUM and DATA_VALID
//   flags add to PACKET_AUXDATA's status. A kernel that refuses the option leaves the socket
//   without offload (offload_active() says which).
// Frames shorter than 60 bytes are padded with zeros (IEEE 802.3 minimum frame size, FCS
// excluded; wire/ethernet.hpp leaves padding to the link).
// Errors: interface_not_found, not_permitted (CAP_NET_RAW), wrong_device_type (not Ethernet).
//
// I/O as in tun.hpp (detail/fd_engine.hpp): IORING_OP_RECVMSG on the bound socket, multishot
// over a provided-buffer ring (IORING_RECV_MULTISHOT) or rx_depth plain requests, and
// IORING_OP_WRITE per frame (write(2) on a bound packet socket sends on its interface),
// batched by flush(). Must be destroyed before its event loop.
#pragma once

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "synack/io/loop.hpp"
#include "synack/link/detail/fd_engine.hpp"
#include "synack/link/detail/netdev.hpp"
#include "synack/link/device_io.hpp"
#include "synack/link/error.hpp"
#include "synack/link/link.hpp"
#include "synack/util/expected.hpp"
#include "synack/wire/ethernet.hpp"

namespace synack::link {

struct af_packet_options {
  /// The interface to bind to (a veth end in tests).
  std::string interface;
  /// Our MAC address; by default the interface's own.
  std::optional<wire::mac_address> mac;
  /// PACKET_QDISC_BYPASS (see the header comment).
  bool qdisc_bypass = false;
  /// Put the interface in promiscuous mode (done anyway when `mac` is not the interface's).
  bool promiscuous = false;
  /// Set IFF_UP on the interface.
  bool set_up = true;
  /// SO_RCVBUF(FORCE) in bytes; 0 keeps the kernel default (net.core.rmem_default).
  int rcvbuf_bytes = 4 << 20;
  /// Checksum and segmentation offload through PACKET_VNET_HDR (see the header comment).
  bool offload = true;
  device_io_options io;
};

/// The socket's PACKET_STATISTICS, accumulated (the kernel resets them on each read).
struct af_packet_kernel_stats {
  std::uint64_t packets = 0; // frames the socket received
  std::uint64_t drops = 0;   // frames the kernel dropped: the receive queue was full
};

class af_packet {
public:
  static auto open(event_loop_base& loop, const af_packet_options& options) -> expected<af_packet, std::error_code> {
    auto index = detail::interface_index(options.interface);
    if (!index) return unexpected{index.error()};
    auto ctl = detail::control_socket();
    if (!ctl) return unexpected{ctl.error()};
    auto hw = detail::get_ethernet_mac(ctl->get(), options.interface);
    if (!hw) return unexpected{hw.error()};
    auto mtu = detail::get_mtu(ctl->get(), options.interface);
    if (!mtu) return unexpected{mtu.error()};
    const wire::mac_address mac = options.mac.value_or(*hw);
    if (!mac.is_unicast() || mac.is_zero()) return unexpected{make_error_code(link_errc::invalid_options)};

    // Up before the bind: binding to a down interface leaves ENETDOWN pending on the socket.
    if (options.set_up) {
      if (auto r = detail::set_up(ctl->get(), options.interface); !r) return unexpected{r.error()};
    }
    const int raw = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (raw < 0) return unexpected{errno_code(errno)};
    detail::unique_fd fd{raw};
    const int one = 1;
    // Linux 4.20; ignoring failure on older kernels costs only the kernel's own frames.
    ::setsockopt(fd.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    // tp_status with each frame: the checksums' state (see the header comment).
    if (::setsockopt(fd.get(), SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0) return unexpected{errno_code(errno)};
    if (options.qdisc_bypass && ::setsockopt(fd.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0)
      return unexpected{errno_code(errno)};
    // Before the bind: the option may not change once frames are queued (or a ring exists).
    const bool offload = options.offload && ::setsockopt(fd.get(), SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) == 0;
    if (options.rcvbuf_bytes > 0) {
      // FORCE lifts net.core.rmem_max for CAP_NET_ADMIN; otherwise the clamped size will do.
      if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &options.rcvbuf_bytes, sizeof(int)) < 0)
        ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &options.rcvbuf_bytes, sizeof(int));
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = *index;
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sll), sizeof sll) < 0) {
      const int e = errno;
      if (e == ENODEV) return unexpected{make_error_code(link_errc::interface_not_found)};
      return unexpected{errno_code(e)};
    }
    int pending = 0; // clears the ENETDOWN a down interface leaves (it starts receiving when up)
    socklen_t pending_len = sizeof pending;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &pending, &pending_len);
    if (options.promiscuous || mac != *hw) {
      packet_mreq mr{};
      mr.mr_ifindex = *index;
      mr.mr_type = PACKET_MR_PROMISC;
      if (::setsockopt(fd.get(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
        return unexpected{errno_code(errno)};
    }

    constexpr std::size_t eth_hlen = wire::ethernet_frame<bytes_view>::header_len;
    const std::size_t prefix = offload ? detail::vnet_hdr_len : 0;
    detail::fd_engine::config cfg;
    cfg.vnet_hdr = offload;
    cfg.l3_offset = eth_hlen;
    cfg.buffer_size = prefix + (offload ? max_super_segment : *mtu) + eth_hlen + 64; // slack as in tun
    // Received frames are seen after GRO (and, from a veth peer, with TSO): an IPv4 packet of
    // up to 64 KiB in one frame. A smaller buffer would cut them and lose the data.
    cfg.rx_buffer_size = std::max<std::size_t>(cfg.buffer_size, prefix + 65535 + eth_hlen + 64);
    cfg.tx_min_len = wire::ethernet_min_frame_len;
    cfg.call = detail::rx_call::recvmsg_auxdata;
    cfg.io = options.io;
    auto engine = detail::fd_engine::create(loop, std::move(fd), cfg);
    if (!engine) return unexpected{engine.error()};
    return af_packet{std::move(*engine), options.interface, *index, mac, *mtu, offload};
  }

  af_packet(af_packet&&) noexcept = default;
  auto operator=(af_packet&&) noexcept -> af_packet& = default;

  // --- the link interface (link.hpp) ---------------------------------------------------
  auto capabilities() const noexcept -> link::capabilities {
    link::capabilities c;
    c.medium = medium::ethernet;
    c.mtu = m_mtu;
    c.tx_checksum_offload = m_offload;
    c.tso_max = m_offload ? max_super_segment : 0;
    c.rx_checksum_offload = true; // PACKET_AUXDATA, and the virtio-net header with offload
    c.rx_coalesced = true;        // frames come after GRO, and whole from a veth peer's TSO
    return c;
  }
  void start(rx_handler h) { m_engine->start(h); }
  template <class F>
  auto transmit(std::size_t len, F&& fill, const tx_meta& meta = {}) -> bool {
    return m_engine->transmit(len, std::forward<F>(fill), meta);
  }
  void flush() { m_engine->flush(); }
  void stop() noexcept { m_engine->stop(); }

  // --- more -------------------------------------------------------------------------
  /// Whether PACKET_VNET_HDR is on: checksum offload and TSO on transmit.
  auto offload_active() const noexcept -> bool { return m_offload; }
  /// The largest IPv4 packet sent as a TSO super-segment: the frame (with its Ethernet header)
  /// stays below the 64 KiB a device takes as one GSO packet (gso_max_size).
  static constexpr std::size_t max_super_segment = 65535 - wire::ethernet_frame<bytes_view>::header_len;
  /// Our MAC address (for net::ethernet_interface).
  auto mac() const noexcept -> wire::mac_address { return m_mac; }
  auto interface() const noexcept -> const std::string& { return m_interface; }
  auto interface_index() const noexcept -> int { return m_index; }
  auto fd() const noexcept -> int { return m_engine->fd(); }
  auto counters() const noexcept -> const link_counters& { return m_engine->counters(); }
  auto active_rx_mode() const noexcept -> rx_mode { return m_engine->active_rx_mode(); }
  auto rx_error() const noexcept -> std::error_code { return m_engine->rx_error(); }
  /// errno of the last receive / send error (counted in the counters), 0 if none.
  auto last_rx_errno() const noexcept -> int { return m_engine->last_rx_errno(); }
  auto last_tx_errno() const noexcept -> int { return m_engine->last_tx_errno(); }
  auto busy() const noexcept -> bool { return m_engine->busy(); }

  /// Reads (and accumulates) the socket's PACKET_STATISTICS: one getsockopt, not for the hot path.
  auto kernel_stats() -> af_packet_kernel_stats {
    tpacket_stats st{};
    socklen_t len = sizeof st;
    if (::getsockopt(m_engine->fd(), SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
      m_kernel.packets += st.tp_packets;
      m_kernel.drops += st.tp_drops;
    }
    return m_kernel;
  }

private:
  af_packet(std::unique_ptr<detail::fd_engine> e, std::string interface, int index, wire::mac_address mac,
            std::size_t mtu, bool offload) noexcept
      : m_engine(std::move(e)),
        m_interface(std::move(interface)),
        m_index(index),
        m_mac(mac),
        m_mtu(mtu),
        m_offload(offload) {}

  std::unique_ptr<detail::fd_engine> m_engine;
  std::string m_interface;
  int m_index;
  wire::mac_address m_mac;
  std::size_t m_mtu;
  bool m_offload;
  af_packet_kernel_stats m_kernel;
};

static_assert(link<af_packet>);

} // namespace synack::link
