// synack/io/io.hpp: the io_uring runtime: the core runtime plus the event loop, the
// coroutine operations, provided-buffer rings and the liburing gap fillers.
#pragma once

#include "synack/core/core.hpp"
#include "synack/io/buffer_ring.hpp"
#include "synack/io/loop.hpp"
#include "synack/io/operation.hpp"
#include "synack/io/ops.hpp"
#include "synack/io/uring.hpp"
