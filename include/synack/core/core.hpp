// synack/core/core.hpp: the whole coroutine runtime without I/O (no liburing): task,
// sync_wait, when_all, scheduler, timers, sleep, events, cancellation, sim_scheduler.
#pragma once

#include "synack/core/cancellation.hpp"
#include "synack/core/concepts.hpp"
#include "synack/core/event.hpp"
#include "synack/core/scheduler.hpp"
#include "synack/core/sim_scheduler.hpp"
#include "synack/core/sleep.hpp"
#include "synack/core/sync_wait.hpp"
#include "synack/core/task.hpp"
#include "synack/core/timer.hpp"
#include "synack/core/when_all.hpp"
