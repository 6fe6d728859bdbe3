// synack/tcp/congestion/any_controller.hpp: a congestion controller chosen at run time.
//
// `any_controller` holds one of none / new_reno / cubic in a std::variant (no allocation) and
// forwards every hook to it, so it is itself a `congestion_controller`: a stack built with
// `using congestion = any_controller;` lets each connection pick its algorithm (the analogue
// of Linux's TCP_CONGESTION socket option). Compile-time choice (policies.hpp) costs nothing
// and is the default; this costs one branch per hook.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "synack/tcp/congestion/controller.hpp"
#include "synack/tcp/congestion/cubic.hpp"
#include "synack/tcp/congestion/new_reno.hpp"
#include "synack/tcp/congestion/none.hpp"

namespace synack::tcp {

enum class congestion_kind : std::uint8_t { none, new_reno, cubic };

/// "none", "new_reno" or "cubic" -> the kind; anything else -> nullopt.
constexpr auto parse_congestion_kind(std::string_view s) noexcept -> std::optional<congestion_kind> {
  if (s == "none") return congestion_kind::none;
  if (s == "new_reno" || s == "newreno" || s == "reno") return congestion_kind::new_reno;
  if (s == "cubic") return congestion_kind::cubic;
  return std::nullopt;
}

class any_controller {
public:
  /// NewReno, the default of default_policies.
  explicit any_controller(const congestion_config& config = {}) noexcept : m_impl(new_reno{config}) {}
  any_controller(congestion_kind kind, const congestion_config& config) noexcept : m_impl(make(kind, config)) {}

  auto kind() const noexcept -> congestion_kind { return static_cast<congestion_kind>(m_impl.index()); }
  /// The concrete controller, if it is a `C` (e.g. to read cubic's W_max in a trace).
  template <class C>
  auto get_if() noexcept -> C* {
    return std::get_if<C>(&m_impl);
  }
  template <class C>
  auto get_if() const noexcept -> const C* {
    return std::get_if<C>(&m_impl);
  }

  void on_ack(instant now, std::size_t acked, std::optional<duration> rtt, std::size_t in_flight) noexcept {
    std::visit([&](auto& c) { c.on_ack(now, acked, rtt, in_flight); }, m_impl);
  }
  void on_congestion_event(instant now, std::size_t in_flight) noexcept {
    std::visit([&](auto& c) { c.on_congestion_event(now, in_flight); }, m_impl);
  }
  void on_recovery_dup_ack(instant now) noexcept {
    std::visit([&](auto& c) { c.on_recovery_dup_ack(now); }, m_impl);
  }
  void on_partial_ack(instant now, std::size_t acked) noexcept {
    std::visit([&](auto& c) { c.on_partial_ack(now, acked); }, m_impl);
  }
  void on_recovery_exit(instant now, std::size_t in_flight) noexcept {
    std::visit([&](auto& c) { c.on_recovery_exit(now, in_flight); }, m_impl);
  }
  void on_rto(instant now, std::size_t in_flight) noexcept {
    std::visit([&](auto& c) { c.on_rto(now, in_flight); }, m_impl);
  }
  void on_idle_restart(instant now, duration idle, duration rto) noexcept {
    std::visit([&](auto& c) { c.on_idle_restart(now, idle, rto); }, m_impl);
  }
  void set_smss(std::size_t smss) noexcept {
    std::visit([&](auto& c) { c.set_smss(smss); }, m_impl);
  }
  auto cwnd() const noexcept -> std::size_t {
    return std::visit([](const auto& c) { return c.cwnd(); }, m_impl);
  }
  auto ssthresh() const noexcept -> std::size_t {
    return std::visit([](const auto& c) { return c.ssthresh(); }, m_impl);
  }
  auto name() const noexcept -> std::string_view {
    return std::visit([](const auto& c) -> std::string_view { return c.name(); }, m_impl);
  }

private:
  // The order matches congestion_kind.
  using variant = std::variant<none, new_reno, cubic>;

  static auto make(congestion_kind kind, const congestion_config& config) noexcept -> variant {
    switch (kind) {
      case congestion_kind::none:
        return none{config};
      case congestion_kind::cubic:
        return cubic{config};
      case congestion_kind::new_reno:
        break;
    }
    return new_reno{config};
  }

  variant m_impl;
};

static_assert(check_congestion_controller<any_controller>());

} // namespace synack::tcp
