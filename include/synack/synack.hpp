// synack/synack.hpp: everything an application needs, in one include.
//
//   #include <synack/synack.hpp>
//
// The runtime (task, event_loop, timers, cancellation), the links (tun, af_packet, sim and the
// decorators), and the socket API (stack, tcp_stream, tcp_listener). The sans-IO layers
// (wire, net, tcp) come with it; include them one by one to use them alone (synack::core).
#pragma once

#include "synack/version.hpp"

#include "synack/core/cancellation.hpp"
#include "synack/core/event.hpp"
#include "synack/core/sleep.hpp"
#include "synack/core/sync_wait.hpp"
#include "synack/core/task.hpp"
#include "synack/core/when_all.hpp"
#include "synack/io/loop.hpp"
#include "synack/io/ops.hpp"
#include "synack/link/af_packet.hpp"
#include "synack/link/any_link.hpp"
#include "synack/link/fault_injector.hpp"
#include "synack/link/link.hpp"
#include "synack/link/pcap_writer.hpp"
#include "synack/link/sim_link.hpp"
#include "synack/link/tracer.hpp"
#include "synack/link/tun.hpp"
#include "synack/socket/errors.hpp"
#include "synack/socket/stack.hpp"
#include "synack/socket/tcp_listener.hpp"
#include "synack/socket/tcp_stream.hpp"
