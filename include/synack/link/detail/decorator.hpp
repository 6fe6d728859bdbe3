// synack/link/detail/decorator.hpp: what the link decorators (tracer, pcap_writer,
// fault_injector) share: the kind of link they may wrap, held by value (`tracer<tun>`) or by
// reference (`tracer<sim_link&>`, for links that cannot move). Each one installs its own rx
// handler on the wrapped link and passes the packets on to the stack's.
#pragma once

#include <type_traits>

#include "synack/link/link.hpp"

namespace synack::link::detail {

/// A link type, or an lvalue reference to one.
template <class Inner>
concept link_or_ref = link<std::remove_cvref_t<Inner>> &&(!std::is_rvalue_reference_v<Inner>);

/// Whether the link carries Ethernet frames (else IPv4 packets): how a decorator reads them.
inline constexpr auto is_ethernet(const capabilities& c) noexcept -> bool { return c.medium == medium::ethernet; }

} // namespace synack::link::detail
