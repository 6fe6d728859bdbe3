// synack/link/device_io.hpp: what the device links (tun, af_packet) share: their I/O options
// and counters.
//
// Receive: either one IORING_OP_READ_MULTISHOT request selecting buffers from a provided-buffer
// ring (kernel 6.7; `rx_mode::multishot`), or `rx_depth` plain IORING_OP_READ requests, each
// with its own buffer, re-armed as each completes (`rx_mode::plain`). `rx_mode::automatic`
// takes multishot when the kernel has the opcode and plain reads otherwise.
// Transmit: `tx_buffers` buffers allocated once; transmit() fills one, flush() queues one
// IORING_OP_WRITE per packet, and the write's completion gives the buffer back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

namespace synack::link {

/// How a device link keeps reads in flight.
enum class rx_mode : std::uint8_t {
  automatic, ///< multishot if the kernel supports IORING_OP_READ_MULTISHOT, else plain
  multishot, ///< one multishot read over a provided-buffer ring (fails to open without it)
  plain,     ///< rx_depth plain reads, one buffer each
};

/// The I/O part of a device link's options.
struct device_io_options {
  rx_mode rx = rx_mode::automatic;
  /// Plain reads kept in flight (rx_mode::plain, or automatic without multishot).
  std::size_t rx_depth = 8;
  /// Buffers in the provided-buffer ring of a multishot read: a power of two, at most 32768.
  /// A burst larger than this ends the multishot request with ENOBUFS; it is re-armed at once
  /// and counted in rx_rearms.
  std::uint16_t rx_ring_buffers = 256;
  /// Transmit buffers; transmit() returns false while all of them are queued or being written.
  std::size_t tx_buffers = 256;
};

/// Counters of a device link (all monotonic).
struct link_counters {
  std::uint64_t rx_packets = 0;   // packets handed to the rx handler
  std::uint64_t rx_bytes = 0;     // ... and their bytes
  std::uint64_t rx_errors = 0;    // read completions with an error (not counting cancellation)
  std::uint64_t rx_truncated = 0; // reads that filled the whole buffer (the packet may be cut)
  std::uint64_t rx_rearms = 0;    // multishot reads re-armed (provided buffers ran out)
  std::uint64_t rx_dropped = 0;   // packets read after stop() (not delivered)
  std::uint64_t tx_packets = 0;   // write completions that succeeded
  std::uint64_t tx_bytes = 0;     // ... and their bytes
  std::uint64_t tx_errors = 0;    // write completions with an error
  std::uint64_t tx_no_buffer = 0; // transmit() refused: every buffer busy
  std::uint64_t tx_too_big = 0;   // transmit() of a packet larger than a buffer: dropped
  std::uint64_t tx_dropped = 0;   // queued packets dropped by stop() or a closing loop
};

/// Calls f(description, value) for each counter, like `netstat -s`.
template <class F>
void for_each_counter(const link_counters& c, F&& f) {
  f("link: packets received", c.rx_packets);
  f("link: bytes received", c.rx_bytes);
  f("link: receive errors", c.rx_errors);
  f("link: packets that filled a whole buffer (maybe truncated)", c.rx_truncated);
  f("link: multishot reads re-armed", c.rx_rearms);
  f("link: packets received after stop", c.rx_dropped);
  f("link: packets sent", c.tx_packets);
  f("link: bytes sent", c.tx_bytes);
  f("link: send errors", c.tx_errors);
  f("link: transmits refused (no free buffer)", c.tx_no_buffer);
  f("link: packets too big for a buffer (dropped)", c.tx_too_big);
  f("link: queued packets dropped by stop", c.tx_dropped);
}

inline constexpr auto to_string(rx_mode m) noexcept -> std::string_view {
  switch (m) {
    case rx_mode::automatic:
      return "automatic";
    case rx_mode::multishot:
      return "multishot";
    case rx_mode::plain:
      return "plain";
  }
  return "?";
}

} // namespace synack::link

template <>
struct fmt::formatter<synack::link::rx_mode> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(synack::link::rx_mode m, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(synack::link::to_string(m), ctx);
  }
};
