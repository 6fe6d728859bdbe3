// synack/link/tracer.hpp: a link decorator that prints every packet in one line, with fmt and
// wire::packet_summary (smoltcp's phy::Tracer is the model).
//
//   synack::link::tracer traced(std::move(*tun), {.name = "tun0", .clock = &loop});
//   // 1.250000s tun0 rx 84B 192.0.2.1 > 192.0.2.2 ICMP echo request id=7 seq=1 len=56
//
// Contract:
// - `tracer<Inner>` is a link (same capabilities as Inner). Inner is held by value, or by
//   reference when Inner is an lvalue reference type (`tracer<sim_link&>`).
// - Received packets are traced before the handler sees them; transmitted packets after fill
//   has written them (the bytes that go to the device). Nothing is traced for refused transmits.
// - Lines go to `sink` if set, else to `file` (stderr by default), one per packet, without
//   checksum verification (a trace shows what was on the wire).
// - Costs nothing when not used: it is a separate type, and a stack over a plain link contains
//   no tracing code. When used, each line is formatted into a reused buffer.
// - start() hands Inner a handler pointing at this object: do not move the tracer after start().
#pragma once

#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "synack/core/scheduler.hpp"
#include "synack/link/detail/decorator.hpp"
#include "synack/link/link.hpp"
#include "synack/wire/format.hpp"

namespace synack::link {

struct tracer_options {
  /// Printed on each line after the time: which link this is.
  std::string name = "link";
  /// Receives each line (without a newline). If empty, lines are written to `file`.
  std::function<void(std::string_view)> sink;
  std::FILE* file = stderr;
  /// If set, each line starts with its now() (the loop's turn time).
  const scheduler* clock = nullptr;
  bool trace_rx = true;
  bool trace_tx = true;
};

template <class Inner>
requires detail::link_or_ref<Inner>
class tracer {
public:
  // type_identity: Inner is never deduced from this constructor, only from the guide below
  // (an lvalue gives a reference, an rvalue a value), the same with every compiler.
  explicit tracer(std::type_identity_t<Inner> inner, tracer_options options = {})
      : m_inner(std::forward<Inner>(inner)), m_options(std::move(options)) {}

  auto capabilities() const noexcept -> link::capabilities { return m_inner.capabilities(); }
  void start(rx_handler h) {
    m_handler = h;
    m_inner.start(rx_handler{&on_rx, this});
  }
  template <class F>
  auto transmit(std::size_t len, F&& fill, const tx_meta& meta = {}) -> bool {
    return m_inner.transmit(
        len,
        [&](bytes_mut b) {
          fill(b);
          if (m_options.trace_tx) trace("tx", b);
        },
        meta);
  }
  void flush() { m_inner.flush(); }
  void stop() { m_inner.stop(); }

  /// The inner link's MAC address, for links that have one (af_packet): the stack and
  /// net::ethernet_interface find it through any number of decorators.
  auto mac() const noexcept requires requires(const std::remove_reference_t<Inner>& i) { i.mac(); }
  { return m_inner.mac(); }
  auto inner() noexcept -> std::remove_reference_t<Inner>& { return m_inner; }
  auto inner() const noexcept -> const std::remove_reference_t<Inner>& { return m_inner; }
  auto options() const noexcept -> const tracer_options& { return m_options; }

private:
  static void on_rx(void* self, bytes_view packet, const rx_meta& meta) {
    auto& t = *static_cast<tracer*>(self);
    if (t.m_options.trace_rx) t.trace("rx", packet);
    if (t.m_handler.fn != nullptr) t.m_handler(packet, meta);
  }

  void trace(std::string_view direction, bytes_view packet) {
    m_line.clear();
    const auto medium =
        detail::is_ethernet(m_inner.capabilities()) ? wire::link_medium::ethernet : wire::link_medium::ip;
    if (m_options.clock != nullptr) fmt::format_to(std::back_inserter(m_line), "{} ", m_options.clock->now());
    fmt::format_to(std::back_inserter(m_line), "{} {} {}B {}", m_options.name, direction, packet.size(),
                   wire::packet_summary{packet, medium});
    const std::string_view line(m_line.data(), m_line.size());
    if (m_options.sink) {
      m_options.sink(line);
    } else if (m_options.file != nullptr) {
      m_line.push_back('\n');
      std::fwrite(m_line.data(), 1, m_line.size(), m_options.file);
    }
  }

  Inner m_inner;
  tracer_options m_options;
  rx_handler m_handler;
  fmt::memory_buffer m_line;
};

template <class L>
tracer(L&&, tracer_options = {})
    -> tracer<std::conditional_t<std::is_lvalue_reference_v<L>, L, std::remove_cvref_t<L>>>;

} // namespace synack::link
