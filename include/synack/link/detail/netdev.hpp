// synack/link/detail/netdev.hpp: the network-device ioctls the links need (netdevice(7)):
// interface index, MTU, flags, hardware address, IPv4 address / netmask / peer, and an owned
// file descriptor. Setup-time only; every function returns an error_code instead of throwing.
//
// Why ioctls and not rtnetlink: the kernel side of a tun needs one address, one peer, an MTU
// and IFF_UP, which five ioctls on an AF_INET datagram socket express directly (the same calls
// ifconfig makes); rtnetlink would need a message builder for the same result.
#pragma once

#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "synack/link/error.hpp"
#include "synack/util/expected.hpp"
#include "synack/wire/ethernet.hpp"
#include "synack/wire/ipv4_address.hpp"

namespace synack::link::detail {

/// An owned file descriptor (closed on destruction).
class unique_fd {
public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : m_fd(fd) {}
  unique_fd(unique_fd&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
  auto operator=(unique_fd&& o) noexcept -> unique_fd& {
    if (this != &o) {
      reset();
      m_fd = std::exchange(o.m_fd, -1);
    }
    return *this;
  }
  ~unique_fd() { reset(); }
  auto get() const noexcept -> int { return m_fd; }
  explicit operator bool() const noexcept { return m_fd >= 0; }
  void reset() noexcept {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }

private:
  int m_fd = -1;
};

/// An ifreq naming `name`, or invalid_options if the name is empty or too long.
inline auto make_ifreq(std::string_view name) -> expected<ifreq, std::error_code> {
  ifreq r{};
  if (name.empty() || name.size() >= IFNAMSIZ) return unexpected{make_error_code(link_errc::invalid_options)};
  std::memcpy(r.ifr_name, name.data(), name.size());
  return r;
}

/// A datagram socket for the SIOC* ioctls (they act on the caller's network namespace).
inline auto control_socket() -> expected<unique_fd, std::error_code> {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unexpected{errno_code(errno)};
  return unique_fd{fd};
}

/// The interface index of `name`, or interface_not_found.
inline auto interface_index(std::string_view name) -> expected<int, std::error_code> {
  auto r = make_ifreq(name);
  if (!r) return unexpected{r.error()};
  const unsigned i = ::if_nametoindex(r->ifr_name);
  if (i == 0) return unexpected{make_error_code(link_errc::interface_not_found)};
  return static_cast<int>(i);
}

inline auto ioctl_ifreq(int sock, unsigned long request, ifreq& r) -> expected<void, std::error_code> {
  if (::ioctl(sock, request, &r) < 0) {
    const int e = errno;
    if (e == ENODEV) return unexpected{make_error_code(link_errc::interface_not_found)};
    return unexpected{errno_code(e)};
  }
  return {};
}

inline auto get_mtu(int sock, std::string_view name) -> expected<std::size_t, std::error_code> {
  auto r = make_ifreq(name);
  if (!r) return unexpected{r.error()};
  if (auto x = ioctl_ifreq(sock, SIOCGIFMTU, *r); !x) return unexpected{x.error()};
  return static_cast<std::size_t>(r->ifr_mtu);
}

inline auto set_mtu(int sock, std::string_view name, std::size_t mtu) -> expected<void, std::error_code> {
  auto r = make_ifreq(name);
  if (!r) return unexpected{r.error()};
  r->ifr_mtu = static_cast<int>(mtu);
  return ioctl_ifreq(sock, SIOCSIFMTU, *r);
}

/// Sets IFF_UP (and keeps the other flags).
inline auto set_up(int sock, std::string_view name) -> expected<void, std::error_code> {
  auto r = make_ifreq(name);
  if (!r) return unexpected{r.error()};
  if (auto x = ioctl_ifreq(sock, SIOCGIFFLAGS, *r); !x) return x;
  if ((r->ifr_flags & IFF_UP) != 0) return {};
  r->ifr_flags = static_cast<short>(r->ifr_flags | IFF_UP);
  return ioctl_ifreq(sock, SIOCSIFFLAGS, *r);
}

/// Sets the IPv4 address (SIOCSIFADDR), netmask (SIOCSIFNETMASK) or peer (SIOCSIFDSTADDR).
inline auto set_ipv4(int sock, std::string_view name, unsigned long request, wire::ipv4_address a)
    -> expected<void, std::error_code> {
  auto r = make_ifreq(name);
  if (!r) return unexpected{r.error()};
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(a.to_u32());
  static_assert(sizeof(sin) <= sizeof(r->ifr_addr));
  std::memcpy(&r->ifr_addr, &sin, sizeof(sin));
  return ioctl_ifreq(sock, request, *r);
}

/// The hardware address of an Ethernet interface; wrong_device_type for other kinds.
inline auto get_ethernet_mac(int sock, std::string_view name) -> expected<wire::mac_address, std::error_code> {
  auto r = make_ifreq(name);
  if (!r) return unexpected{r.error()};
  if (auto x = ioctl_ifreq(sock, SIOCGIFHWADDR, *r); !x) return unexpected{x.error()};
  if (r->ifr_hwaddr.sa_family != ARPHRD_ETHER) return unexpected{make_error_code(link_errc::wrong_device_type)};
  return wire::mac_address::from_bytes(reinterpret_cast<const std::byte*>(r->ifr_hwaddr.sa_data));
}

/// Writes "1" to /proc/sys/net/ipv6/conf/<name>/disable_ipv6 so the kernel side sends no router
/// solicitations or MLD reports into a link that carries IPv4 only. Best effort: false if the
/// file is missing or read-only (no IPv6, a read-only /proc/sys).
inline auto disable_ipv6(std::string_view name) noexcept -> bool {
  std::string path = "/proc/sys/net/ipv6/conf/";
  path.append(name);
  path.append("/disable_ipv6");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "1", 1) == 1;
  ::close(fd);
  return ok;
}

} // namespace synack::link::detail
