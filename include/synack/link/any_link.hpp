// synack/link/any_link.hpp: any link, chosen at run time.
//
//   synack::link::any_link l = use_tun ? any_link{std::move(*tun)} : any_link{std::move(*pkt)};
//   synack::stack<synack::link::any_link> net{loop, std::move(l)};
//
// `any_link` owns a link of any type (tun, af_packet, sim_link&, decorated or not) behind one
// virtual call per operation, so a program that picks its link from the command line
// instantiates the stack once instead of once per combination (the examples do this). The cost
// is a virtual call per packet and per turn, small next to the syscall each packet already
// costs; a stack over a concrete link type pays nothing.
//
// Contract: everything link.hpp says, forwarded; `mac()` is the wrapped link's (a zero
// address when it has none). A link given as an rvalue is moved to the heap, so moving an
// any_link never moves the link itself (a started link may be moved through it); a link given
// as an lvalue is held by reference.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "synack/link/link.hpp"
#include "synack/wire/ethernet.hpp"

namespace synack::link {

class any_link {
public:
  /// An rvalue link is moved in; an lvalue is held by reference and must outlive the any_link.
  template <class L>
  requires(!std::is_same_v<std::remove_cvref_t<L>, any_link> && link<std::remove_cvref_t<L>>) explicit any_link(L&& l)
      : m_impl(std::make_unique<model<std::conditional_t<std::is_lvalue_reference_v<L>, L, std::remove_cvref_t<L>>>>(
            std::forward<L>(l))) {}

  any_link(any_link&&) noexcept = default;
  auto operator=(any_link&&) noexcept -> any_link& = default;

  auto capabilities() const -> link::capabilities { return m_impl->capabilities(); }
  void start(rx_handler h) { m_impl->start(h); }
  template <class F>
  auto transmit(std::size_t len, F&& fill, const tx_meta& meta = {}) -> bool {
    auto thunk = [](void* f, bytes_mut b) { (*static_cast<std::remove_reference_t<F>*>(f))(b); };
    return m_impl->transmit(len, fill_ref{&fill, thunk}, meta);
  }
  void flush() { m_impl->flush(); }
  void stop() { m_impl->stop(); }
  auto mac() const -> wire::mac_address { return m_impl->mac(); }

private:
  /// A non-owning reference to the caller's fill callable.
  struct fill_ref {
    void* callable;
    void (*call)(void*, bytes_mut);
    void operator()(bytes_mut b) const { call(callable, b); }
  };

  struct base {
    virtual ~base() = default;
    virtual auto capabilities() const -> link::capabilities = 0;
    virtual void start(rx_handler h) = 0;
    virtual auto transmit(std::size_t len, fill_ref fill, const tx_meta& meta) -> bool = 0;
    virtual void flush() = 0;
    virtual void stop() = 0;
    virtual auto mac() const -> wire::mac_address = 0;
  };

  template <class L>
  struct model final : base {
    template <class A>
    explicit model(A&& a) : inner(std::forward<A>(a)) {}
    auto capabilities() const -> link::capabilities override { return inner.capabilities(); }
    void start(rx_handler h) override { inner.start(h); }
    auto transmit(std::size_t len, fill_ref fill, const tx_meta& meta) -> bool override {
      return inner.transmit(len, fill, meta);
    }
    void flush() override { inner.flush(); }
    void stop() override { inner.stop(); }
    auto mac() const -> wire::mac_address override {
      if constexpr (requires(const std::remove_reference_t<L>& l) { l.mac(); }) {
        return inner.mac();
      } else {
        return wire::mac_address{};
      }
    }
    L inner;
  };

  std::unique_ptr<base> m_impl;
};

static_assert(link<any_link>);

} // namespace synack::link
