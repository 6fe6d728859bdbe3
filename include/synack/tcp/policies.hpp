// synack/tcp/policies.hpp: the compile-time choices of a TCP layer, bundled in one struct.
//
// A stack is a type composed from its parts (docs/architecture.md, "Composition"); the TCP
// layer takes one `Policies` parameter. Changing the congestion control
// is a one-line change:
//
//     struct my_policies : synack::tcp::default_policies {
//       using congestion = synack::tcp::cubic;
//     };
//
// Only choices that change types or bounds are here. Runtime settings (buffer sizes, MSS,
// timers, options to offer) are in tcp/config.hpp. `tcp_policies` checks a bundle; a wrong
// congestion policy fails with the name of the member it lacks (congestion/controller.hpp).
#pragma once

#include "synack/tcp/assembler.hpp"
#include "synack/tcp/congestion/any_controller.hpp"
#include "synack/tcp/congestion/controller.hpp"
#include "synack/tcp/congestion/cubic.hpp"
#include "synack/tcp/congestion/new_reno.hpp"
#include "synack/tcp/congestion/none.hpp"
#include "synack/tcp/sack_scoreboard.hpp"

namespace synack::tcp {

struct default_policies {
  /// Congestion control: none, new_reno, cubic, or any_controller (chosen per connection at
  /// run time). NewReno is the default: the RFC 5681 baseline every TCP must be fair to, and
  /// the easiest to follow in a trace. Linux's default is CUBIC (`cubic_policies`).
  using congestion = new_reno;
  /// Out-of-order reassembly: at most 32 holes per connection (tcp/assembler.hpp).
  using reassembly = assembler;
  /// RFC 6675 scoreboard: at most 32 SACKed ranges per connection (tcp/sack_scoreboard.hpp).
  using scoreboard = sack_scoreboard;
};

/// default_policies with CUBIC (RFC 9438), as Linux.
struct cubic_policies : default_policies {
  using congestion = cubic;
};

/// default_policies with the congestion control chosen per connection at run time.
struct dynamic_policies : default_policies {
  using congestion = any_controller;
};

/// What a TCP layer needs from its policy bundle.
template <class P>
concept tcp_policies = requires {
  typename P::congestion;
  typename P::reassembly;
  typename P::scoreboard;
}
&&congestion_controller<typename P::congestion>;

static_assert(tcp_policies<default_policies>);
static_assert(tcp_policies<cubic_policies>);
static_assert(tcp_policies<dynamic_policies>);

} // namespace synack::tcp
