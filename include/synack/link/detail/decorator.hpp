// synack/link/detail/decorator.hpp: what the link decorators (tracer, pcap_writer,
// fault_injector) share: they wrap a link held by value (`tracer<tun>`) or by reference
// (`tracer<sim_link&>`, for links that cannot move), and intercept its rx handler.
#pragma once

#include <type_traits>

#include "synack/link/link.hpp"

namespace synack::link::detail {

/// A link type, or an lvalue reference to one.
template <class Inner>
concept link_or_ref = link<std::remove_cvref_t<Inner>> &&(!std::is_rvalue_reference_v<Inner>);

/// wire::link_medium for a link medium (the tracer's packet_summary wants it).
inline constexpr auto is_ethernet(const capabilities& c) noexcept -> bool { return c.medium == medium::ethernet; }

} // namespace synack::link::detail
