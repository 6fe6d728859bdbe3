// synack/link/error.hpp: why opening a link failed, as std::error_code values with messages
// that say what to do.
//
// The factories (`tun::open`, `af_packet::open`) never throw: they return
// `expected<link, std::error_code>`. The common failures have their own value in the
// `link_errc` category, whose message names the cause ("no /dev/net/tun: ..."), and each
// compares equal to the std::errc a caller would test for (`ec == std::errc::operation_not_permitted`).
// Anything else is passed through as the errno in std::system_category.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>

namespace synack::link {

enum class link_errc {
  /// /dev/net/tun does not exist or cannot be opened (no tun module, a container without it).
  no_tun_device = 1,
  /// Creating or configuring the device needs CAP_NET_ADMIN (tun) or CAP_NET_RAW (AF_PACKET).
  not_permitted,
  /// No network interface has the requested name.
  interface_not_found,
  /// The tun device exists and is held by another process (or create-only mode found it).
  device_busy,
  /// The interface exists but is of another kind (a tap where a tun was asked, not Ethernet).
  wrong_device_type,
  /// An option is out of range (a name longer than IFNAMSIZ - 1, an MTU below 68...).
  invalid_options,
  /// The kernel refused the address, peer, MTU or flags of the kernel side.
  kernel_config_failed,
  /// /dev/net/tun exists but this user may not open it (its mode is not 0666).
  tun_device_denied,
};

namespace detail {

class link_category_impl final : public std::error_category {
public:
  auto name() const noexcept -> const char* override { return "synack.link"; }
  auto message(int v) const -> std::string override {
    switch (static_cast<link_errc>(v)) {
      case link_errc::no_tun_device:
        return "no /dev/net/tun: load the tun module (modprobe tun) or give the container the device";
      case link_errc::not_permitted:
        return "not permitted: needs CAP_NET_ADMIN (tun) or CAP_NET_RAW (AF_PACKET); run as root or "
               "inside `unshare --user --map-root-user --net`";
      case link_errc::interface_not_found:
        return "no network interface with that name";
      case link_errc::device_busy:
        return "the device exists and is busy (held by another process, or create-only mode found it)";
      case link_errc::wrong_device_type:
        return "the interface is not of the expected type (tun vs tap, or not Ethernet)";
      case link_errc::invalid_options:
        return "invalid link options (interface name too long, MTU out of range, zero buffers...)";
      case link_errc::kernel_config_failed:
        return "the kernel refused the interface configuration (address, peer, MTU or flags)";
      case link_errc::tun_device_denied:
        return "cannot open /dev/net/tun: permission denied (the device node is not world-accessible here: run "
               "as root, or have an administrator make it 0666 as most distributions do)";
    }
    return "unknown link error";
  }
  auto default_error_condition(int v) const noexcept -> std::error_condition override {
    switch (static_cast<link_errc>(v)) {
      case link_errc::no_tun_device:
        return std::errc::no_such_device;
      case link_errc::not_permitted:
        return std::errc::operation_not_permitted;
      case link_errc::interface_not_found:
        return std::errc::no_such_device;
      case link_errc::device_busy:
        return std::errc::device_or_resource_busy;
      case link_errc::wrong_device_type:
        return std::errc::wrong_protocol_type;
      case link_errc::invalid_options:
        return std::errc::invalid_argument;
      case link_errc::kernel_config_failed:
        return std::errc::io_error;
      case link_errc::tun_device_denied:
        return std::errc::permission_denied;
    }
    return std::error_condition(v, *this);
  }
};

} // namespace detail

inline auto link_category() noexcept -> const std::error_category& {
  static const detail::link_category_impl instance;
  return instance;
}

inline auto make_error_code(link_errc e) noexcept -> std::error_code { return {static_cast<int>(e), link_category()}; }

/// An errno as an error_code; EPERM and EACCES become link_errc::not_permitted, whose message
/// says which capability is missing.
inline auto errno_code(int e) noexcept -> std::error_code {
  if (e == EPERM || e == EACCES) return make_error_code(link_errc::not_permitted);
  return {e, std::system_category()};
}

} // namespace synack::link

template <>
struct std::is_error_code_enum<synack::link::link_errc> : std::true_type {};
