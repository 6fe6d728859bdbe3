// synack/core/timer.hpp: the intrusive timers (`timer_node`, `timer_heap`) now live in
// synack/time/timer_heap.hpp, beside `instant`: they are sans-IO and the TCP layer uses them.
#pragma once

#include "synack/time/timer_heap.hpp"
