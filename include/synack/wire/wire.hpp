// synack/wire/wire.hpp: every wire format synack speaks (see docs/wire.md).
//
// Two levels per protocol (docs/wire.md, after smoltcp's src/wire): a zero-copy view
// `xxx_packet<Bytes>` / `ethernet_frame<Bytes>` over a span, with `checked()` / `check_len()`,
// getters and (on mutable spans) setters; and a plain `xxx_repr` value with `parse` and `emit`.
// Everything here is pure: no I/O, no clock, no allocation, no exceptions for bad input.
#pragma once

#include "synack/wire/arp.hpp"
#include "synack/wire/checksum.hpp"
#include "synack/wire/endpoint.hpp"
#include "synack/wire/error.hpp"
#include "synack/wire/ethernet.hpp"
#include "synack/wire/format.hpp"
#include "synack/wire/icmpv4.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv4_address.hpp"
#include "synack/wire/seq_number.hpp"
#include "synack/wire/tcp.hpp"
