// synack/link/tun.hpp: a tun device (IFF_TUN | IFF_NO_PI) as a synack link: the link carries
// bare IPv4 packets (medium::ip) between synack and the kernel's side of the device.
//
//   auto t = synack::link::tun::open(loop, {.name = "synack0"});   // expected<tun, error_code>
//   if (!t) fmt::print(stderr, "{}\n", t.error().message());
//
// `open` creates the device or attaches to an existing one (tun_mode), and by default
// configures the kernel side with ioctls, so nobody needs to run `ip`: address 192.0.2.1/24,
// peer 192.0.2.2 (synack's address; the kernel routes 192.0.2.0/24 into the device), MTU 1500,
// IPv6 off on the device (no router solicitations into an IPv4-only link), up. Without
// CAP_NET_ADMIN it returns link_errc::not_permitted; without /dev/net/tun, no_tun_device; when
// the device node may not be opened (mode 0600 and not root), tun_device_denied.
// A device created here is not persistent: it disappears when the link is destroyed.
//
// I/O (detail/fd_engine.hpp, device_io.hpp): a multishot read over a provided-buffer ring, or
// `rx_depth` plain reads; writes batched once per turn by flush(). The link owns its engine on
// the heap, so a tun can be moved (out of the expected) before start(); after start() the
// object that was started must stay where it is only if a decorator points at it.
// The link must be destroyed before its event loop.
//
// Offload (tun_options::offload, on by default): the device is opened with IFF_VNET_HDR, so a
// 10-byte virtio_net_hdr (detail/offload.hpp) travels in front of every packet, and
// TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4) tells the kernel that synack takes partial checksums
// and GRO-coalesced TCP segments of up to 64 KiB. Both ways:
//  - transmit: the stack writes only the pseudo-header sum into TCP checksums and may send TCP
//    super-segments of up to tso_max bytes; the kernel completes the checksums (or trusts them:
//    CHECKSUM_PARTIAL) and cuts super-segments into MSS-sized segments (capabilities()
//    tx_checksum_offload, tso_max);
//  - receive: segments the kernel made arrive with NEEDS_CSUM (no checksum to verify) and, from
//    a bulk sender, coalesced into packets larger than the MTU (rx_coalesced).
// This is what lets a userspace stack move 64 KiB per system call and per trip through its
// layers instead of 1.5 KB. When the kernel refuses TUNSETOFFLOAD, the device keeps the header
// and transmit offload (the kernel always accepts them from the user side) and receives plain
// MTU-sized packets with full checksums; offload_active() says what was granted. With
// `offload = false` the device carries bare packets, as before. Buffers grow to 64 KiB + the
// header each: tx_buffers and the receive ring cost 64 KiB a buffer (the pages of buffers never
// used are never touched).
#pragma once

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstddef>
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
#include "synack/wire/ipv4_address.hpp"

namespace synack::link {

enum class tun_mode : std::uint8_t {
  create_or_attach, ///< attach to the device if it exists, else create it
  create,           ///< create it; device_busy if it exists (IFF_TUN_EXCL)
  attach,           ///< attach to an existing device; interface_not_found if there is none
};

/// The kernel side of the device, set by open() when `tun_options::configure` is true.
struct tun_kernel_side {
  /// The kernel's address and prefix on the device (SIOCSIFADDR + SIOCSIFNETMASK).
  std::optional<wire::ipv4_cidr> address = wire::ipv4_cidr{wire::ipv4_address{192, 0, 2, 1}, 24};
  /// The far end, synack's own address (SIOCSIFDSTADDR).
  std::optional<wire::ipv4_address> peer = wire::ipv4_address{192, 0, 2, 2};
  /// Turn IPv6 off on the device (best effort, /proc/sys/net/ipv6/conf/<name>/disable_ipv6).
  bool disable_ipv6 = true;
  /// Set IFF_UP.
  bool up = true;
};

struct tun_options {
  /// The device name (at most 15 characters); a pattern such as "synack%d" lets the kernel
  /// pick a free number (name() says which).
  std::string name = "synack0";
  tun_mode mode = tun_mode::create_or_attach;
  /// Configure the kernel side (address, peer, MTU, IPv6 off, up) as `kernel` says.
  bool configure = true;
  tun_kernel_side kernel;
  /// The device MTU, set when `configure` is true; otherwise the device's MTU is read.
  std::size_t mtu = 1500;
  /// Checksum and segmentation offload through IFF_VNET_HDR (see the header comment).
  bool offload = true;
  device_io_options io;
};

class tun {
public:
  /// Opens the device as `options` says. Never throws; see the header comment for the errors.
  static auto open(event_loop_base& loop, const tun_options& options = {}) -> expected<tun, std::error_code> {
    if (options.configure && (options.mtu < 68 || options.mtu > 65535))
      return unexpected{make_error_code(link_errc::invalid_options)};
    auto req = detail::make_ifreq(options.name);
    if (!req) return unexpected{req.error()};
    if (options.mode == tun_mode::attach) {
      if (auto i = detail::interface_index(options.name); !i) return unexpected{i.error()};
    }
    const int raw = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (raw < 0) {
      const int e = errno;
      if (e == ENOENT || e == ENXIO || e == ENODEV) return unexpected{make_error_code(link_errc::no_tun_device)};
      if (e == EACCES || e == EPERM) return unexpected{make_error_code(link_errc::tun_device_denied)};
      return unexpected{errno_code(e)};
    }
    detail::unique_fd fd{raw};
    req->ifr_flags = IFF_TUN | IFF_NO_PI;
    if (options.offload) req->ifr_flags = static_cast<short>(req->ifr_flags | IFF_VNET_HDR);
    if (options.mode == tun_mode::create) req->ifr_flags = static_cast<short>(req->ifr_flags | IFF_TUN_EXCL);
    if (::ioctl(fd.get(), TUNSETIFF, &*req) < 0) {
      const int e = errno;
      if (e == EBUSY || e == EEXIST) return unexpected{make_error_code(link_errc::device_busy)};
      // EINVAL: the name belongs to a device of another kind (a tap, or flags that differ).
      if (e == EINVAL) return unexpected{make_error_code(link_errc::wrong_device_type)};
      return unexpected{errno_code(e)};
    }
    std::string name(req->ifr_name);

    auto ctl = detail::control_socket();
    if (!ctl) return unexpected{ctl.error()};
    std::size_t mtu = options.mtu;
    if (options.configure) {
      if (auto r = configure(ctl->get(), name, options); !r) return unexpected{r.error()};
    } else {
      auto m = detail::get_mtu(ctl->get(), name);
      if (!m) return unexpected{m.error()};
      mtu = *m;
    }

    offload_state offload;
    if (options.offload) {
      int hdr = static_cast<int>(detail::vnet_hdr_len);
      if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &hdr) < 0) return unexpected{errno_code(errno)};
      offload.tx = true;
      // What synack accepts from the kernel: partial checksums and TCPv4 GSO packets.
      offload.rx = ::ioctl(fd.get(), TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) == 0;
    }

    detail::fd_engine::config cfg;
    cfg.buffer_size = mtu + 64; // slack: a full buffer means a packet larger than the MTU
    if (offload.tx) {
      cfg.vnet_hdr = true;
      cfg.buffer_size = detail::vnet_hdr_len + max_super_segment;
      // Coalesced packets reach 64 KiB; the slack tells a full buffer from a whole packet.
      cfg.rx_buffer_size = offload.rx ? detail::vnet_hdr_len + max_super_segment + 64 : detail::vnet_hdr_len + mtu + 64;
    }
    cfg.io = options.io;
    auto engine = detail::fd_engine::create(loop, std::move(fd), cfg);
    if (!engine) return unexpected{engine.error()};
    return tun{std::move(*engine), std::move(name), mtu, offload};
  }

  tun(tun&&) noexcept = default;
  auto operator=(tun&&) noexcept -> tun& = default;

  // --- the link interface (link.hpp) ---------------------------------------------------
  auto capabilities() const noexcept -> link::capabilities {
    link::capabilities c;
    c.medium = medium::ip;
    c.mtu = m_mtu;
    c.tx_checksum_offload = m_offload.tx;
    c.tso_max = m_offload.tx ? max_super_segment : 0;
    c.rx_checksum_offload = m_offload.rx;
    c.rx_coalesced = m_offload.rx;
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
  /// What offload the kernel granted: `tx` (checksum and TSO on transmit: the device has
  /// IFF_VNET_HDR) and `rx` (TUNSETOFFLOAD accepted: partial checksums and coalesced segments).
  struct offload_state {
    bool tx = false;
    bool rx = false;
  };
  auto offload_active() const noexcept -> offload_state { return m_offload; }
  /// The largest IPv4 packet: a TSO super-segment sent or a coalesced one received.
  static constexpr std::size_t max_super_segment = 65535;

  /// The device name (as the kernel has it).
  auto name() const noexcept -> const std::string& { return m_name; }
  auto fd() const noexcept -> int { return m_engine->fd(); }
  auto counters() const noexcept -> const link_counters& { return m_engine->counters(); }
  /// multishot or plain: what `rx_mode::automatic` chose.
  auto active_rx_mode() const noexcept -> rx_mode { return m_engine->active_rx_mode(); }
  /// Set when reading stopped after repeated errors (the device went away).
  auto rx_error() const noexcept -> std::error_code { return m_engine->rx_error(); }
  /// errno of the last receive / send error (counted in the counters), 0 if none.
  auto last_rx_errno() const noexcept -> int { return m_engine->last_rx_errno(); }
  auto last_tx_errno() const noexcept -> int { return m_engine->last_tx_errno(); }
  /// True while reads or writes are in flight (after stop(), run the loop until false).
  auto busy() const noexcept -> bool { return m_engine->busy(); }

private:
  tun(std::unique_ptr<detail::fd_engine> e, std::string name, std::size_t mtu, offload_state offload) noexcept
      : m_engine(std::move(e)), m_name(std::move(name)), m_mtu(mtu), m_offload(offload) {}

  static auto configure(int ctl, const std::string& name, const tun_options& o) -> expected<void, std::error_code> {
    const auto failed = [](const std::error_code& ec) -> std::error_code {
      // Keep "not permitted" and "no such interface"; anything else the kernel refused is a
      // configuration failure (the errno is not more useful to a user than that).
      if (ec == link_errc::not_permitted || ec == link_errc::interface_not_found) return ec;
      return make_error_code(link_errc::kernel_config_failed);
    };
    if (o.kernel.disable_ipv6) detail::disable_ipv6(name);
    if (auto r = detail::set_mtu(ctl, name, o.mtu); !r) return unexpected{failed(r.error())};
    if (o.kernel.address) {
      if (auto r = detail::set_ipv4(ctl, name, SIOCSIFADDR, o.kernel.address->address()); !r)
        return unexpected{failed(r.error())};
      if (auto r = detail::set_ipv4(ctl, name, SIOCSIFNETMASK, o.kernel.address->netmask()); !r)
        return unexpected{failed(r.error())};
    }
    if (o.kernel.peer) {
      if (auto r = detail::set_ipv4(ctl, name, SIOCSIFDSTADDR, *o.kernel.peer); !r)
        return unexpected{failed(r.error())};
    }
    if (o.kernel.up) {
      if (auto r = detail::set_up(ctl, name); !r) return unexpected{failed(r.error())};
    }
    return {};
  }

  std::unique_ptr<detail::fd_engine> m_engine;
  std::string m_name;
  std::size_t m_mtu;
  offload_state m_offload;
};

static_assert(link<tun>);

} // namespace synack::link
