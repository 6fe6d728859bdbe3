// synack/link/detail/fd_engine.hpp: the io_uring engine under tun and af_packet. It reads and
// writes whole packets on one file descriptor (a tun device or a bound AF_PACKET socket).
//
// Contract:
// - Created once per link on the heap (`create`), so its io_completions keep their addresses
//   while the link object itself moves. Every buffer is allocated in `create`; the hot path
//   allocates nothing and makes no system call of its own (the loop's one io_uring_enter per
//   turn submits the reads and writes and reaps their completions).
// - Receive (see device_io.hpp): one multishot request over a provided-buffer ring, or
//   rx_depth plain requests. The request is IORING_OP_READ(_MULTISHOT) for a tun, and
//   IORING_OP_RECVMSG (multishot with IORING_RECV_MULTISHOT) for a packet socket with
//   PACKET_AUXDATA (`rx_call::recvmsg_auxdata`): its tp_status tells whether the kernel
//   already validated the checksums (TP_STATUS_CSUM_VALID) or never computed them because the
//   packet was made on this machine (TP_STATUS_CSUMNOTREADY: a veth peer's CHECKSUM_PARTIAL
//   skb); either sets rx_meta::checksum_verified. Each completed read is handed to the rx handler from inside the
//   loop's completion dispatch, as a view valid only during the call; the buffer then goes back to the kernel
//   (recycled, or re-read into). A multishot request that ends (ENOBUFS after a burst) is re-armed at once. If a
//   multishot read fails with EINVAL before it has delivered anything (the file does not support it) and the mode was
//   `automatic`, the engine switches to plain reads, allocating their buffers then. After 64 consecutive read errors
//   the engine stops reading and keeps the error (`rx_error()`): a deleted device must not spin the loop.
// - With config::vnet_hdr (a tun with IFF_VNET_HDR, a packet socket with PACKET_VNET_HDR),
//   every read and write starts with a virtio_net_hdr (detail/offload.hpp): reads hand up the
//   packet after it, with rx_meta taken from it (and from PACKET_AUXDATA on a packet socket);
//   writes get one filled from the tx_meta passed to transmit(), its offsets counted from the
//   start of the frame (`l3_offset`: where the IPv4 header is).
// - Transmit: transmit(len, fill) takes a free buffer, lets `fill` write the packet into it
//   (pads with zeros up to `tx_min_len`) and queues it; flush() prepares one IORING_OP_WRITE
//   per queued packet. A write's completion returns its buffer to the free list. It returns
//   false (fill not called) when every buffer is busy or after stop(); a packet larger than a
//   buffer is dropped and counted (tx_too_big): it returns true without calling fill, since
//   trying again could not help.
// - stop(): no more reads are armed, those in flight are cancelled, queued packets are dropped
//   (tx_dropped). Destruction cancels what is still in flight and waits for it (io_completion's
//   destructor), calling no handler, then closes the descriptor. The engine (and so the link)
//   must be destroyed before its event loop: the provided-buffer ring unregisters from it.
// - Single-threaded, like the loop.
#pragma once

#include <liburing.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <system_error>
#include <utility>
#include <vector>

#include "synack/io/buffer_ring.hpp"
#include "synack/io/loop.hpp"
#include "synack/io/ops.hpp"
#include "synack/io/uring.hpp"
#include "synack/link/detail/netdev.hpp"
#include "synack/link/detail/offload.hpp"
#include "synack/link/device_io.hpp"
#include "synack/link/error.hpp"
#include "synack/link/link.hpp"
#include "synack/util/expected.hpp"

namespace synack::link::detail {

/// Provided-buffer group ids for the links' rings; distinct per process so that several links
/// can share a loop. Starts high to stay clear of ids that tests and applications pick by hand.
inline auto next_buffer_group() noexcept -> std::uint16_t {
  static std::atomic<std::uint16_t> next{0x5a00};
  return next.fetch_add(1, std::memory_order_relaxed);
}

/// Rounds `n` up to a multiple of 64 (cache-line aligned buffers).
constexpr auto round_up_64(std::size_t n) noexcept -> std::size_t { return (n + 63) & ~std::size_t{63}; }

/// How the engine receives.
enum class rx_call : std::uint8_t {
  read,            ///< read(2) semantics: a tun device
  recvmsg_auxdata, ///< recvmsg(2) with a PACKET_AUXDATA control message: a packet socket
};

class fd_engine {
public:
  struct config {
    rx_call call = rx_call::read;
    /// Bytes per transmit buffer (the largest packet the link carries, plus slack), and per
    /// receive buffer unless rx_buffer_size says otherwise.
    std::size_t buffer_size = 2048;
    /// Bytes per receive buffer; 0: buffer_size. A packet socket receives frames after GRO, and
    /// from a veth peer with TSO, so its frames can be up to 64 KiB whatever the MTU.
    std::size_t rx_buffer_size = 0;
    /// Shorter transmitted packets are padded with zeros to this length (Ethernet: 60).
    std::size_t tx_min_len = 0;
    /// Every packet read and written starts with a virtio_net_hdr (a tun with IFF_VNET_HDR):
    /// reads hand up the packet after it with rx_meta from it, writes fill it from tx_meta.
    /// buffer_size and rx_buffer_size include it.
    bool vnet_hdr = false;
    /// Where the IPv4 header starts in a transmitted packet (14 after an Ethernet header).
    std::size_t l3_offset = 0;
    device_io_options io;
  };

  /// Validates `cfg`, allocates every buffer and, for multishot, registers the provided-buffer
  /// ring. Takes ownership of `fd`.
  static auto create(event_loop_base& loop, unique_fd fd, const config& cfg)
      -> expected<std::unique_ptr<fd_engine>, std::error_code> {
    if (cfg.buffer_size == 0 || cfg.buffer_size > (1u << 20) || cfg.rx_buffer_size > (1u << 20) ||
        cfg.io.tx_buffers == 0 || cfg.io.tx_buffers > (1u << 20) || cfg.io.rx_depth > 4096)
      return unexpected{make_error_code(link_errc::invalid_options)};
    bool multishot = false;
    switch (cfg.io.rx) {
      case rx_mode::multishot:
        if (!loop.opcode_supported(io::op_read_multishot))
          return unexpected{std::make_error_code(std::errc::operation_not_supported)};
        multishot = true;
        break;
      case rx_mode::automatic:
        multishot = loop.opcode_supported(io::op_read_multishot);
        break;
      case rx_mode::plain:
        break;
    }
    const std::uint16_t ring_n = cfg.io.rx_ring_buffers;
    if (multishot && (ring_n == 0 || (ring_n & (ring_n - 1)) != 0 || ring_n > 32768))
      return unexpected{make_error_code(link_errc::invalid_options)};
    if (!multishot && cfg.io.rx_depth == 0) return unexpected{make_error_code(link_errc::invalid_options)};
    std::unique_ptr<fd_engine> e;
    try {
      e.reset(new fd_engine(loop, std::move(fd), cfg));
      e->allocate_tx();
      if (multishot) {
        std::error_code ec = e->register_ring();
        if (ec && cfg.io.rx == rx_mode::multishot) return unexpected{ec};
        if (ec) multishot = false; // automatic: plain reads instead
      }
      if (!multishot) e->allocate_plain_rx();
    } catch (const std::bad_alloc&) {
      return unexpected{std::make_error_code(std::errc::not_enough_memory)};
    }
    return e;
  }

  fd_engine(const fd_engine&) = delete;
  auto operator=(const fd_engine&) -> fd_engine& = delete;
  ~fd_engine() {
    // Deliver nothing more and re-arm nothing; the completions' destructors (members below)
    // cancel what is in flight and wait for it.
    m_stopping = true;
    m_handler = {};
  }

  auto fd() const noexcept -> int { return m_fd.get(); }
  auto counters() const noexcept -> const link_counters& { return m_counters; }
  auto buffer_size() const noexcept -> std::size_t { return m_cfg.buffer_size; }
  /// The receive mode in use (multishot or plain; never automatic).
  auto active_rx_mode() const noexcept -> rx_mode { return m_ring ? rx_mode::multishot : rx_mode::plain; }
  /// The error that made the engine stop reading (64 consecutive read errors), if any.
  auto rx_error() const noexcept -> std::error_code { return m_rx_error; }
  /// The errno of the last read error (counted in rx_errors), 0 if none.
  auto last_rx_errno() const noexcept -> int { return m_last_rx_error; }
  /// The errno of the last write error (counted in tx_errors), 0 if none.
  auto last_tx_errno() const noexcept -> int { return m_last_tx_error; }
  /// How many transmit buffers are free.
  auto tx_free() const noexcept -> std::size_t { return m_free.size(); }

  /// Starts receiving into `h`. Call once.
  void start(rx_handler h) {
    m_handler = h;
    m_stopping = false;
    if (m_ring) {
      arm_multishot();
    } else {
      for (std::size_t i = 0; i < m_rx_count; ++i) arm_read(m_rx_slots[i]);
    }
  }

  template <class F>
  auto transmit(std::size_t len, F&& fill, const tx_meta& meta = {}) -> bool {
    if (m_stopping) {
      ++m_counters.tx_dropped;
      return false;
    }
    const std::size_t prefix = m_cfg.vnet_hdr ? vnet_hdr_len : 0;
    if (len + prefix > m_cfg.buffer_size) {
      ++m_counters.tx_too_big;
      return true;
    }
    if (m_free.empty()) {
      ++m_counters.tx_no_buffer;
      return false;
    }
    const std::uint32_t i = m_free.back();
    m_free.pop_back();
    std::byte* buf = tx_buffer(i);
    struct give_back { // keeps the buffer if fill throws
      fd_engine* e;
      std::uint32_t i;
      ~give_back() {
        if (e != nullptr) e->m_free.push_back(i);
      }
    } guard{this, i};
    fill(bytes_mut{buf + prefix, len});
    guard.e = nullptr;
    if (prefix != 0) write_vnet_hdr(buf, bytes_view{buf + prefix, len}, meta, m_cfg.l3_offset);
    if (len < m_cfg.tx_min_len) { // the padding belongs to the frame, after the header
      std::memset(buf + prefix + len, 0, m_cfg.tx_min_len - len);
      len = m_cfg.tx_min_len;
    }
    m_tx_slots[i].len = static_cast<std::uint32_t>(prefix + len);
    m_pending.push_back(i); // capacity tx_buffers: never allocates
    return true;
  }

  /// Prepares one write per queued packet (and re-arms reads that found the SQ full).
  void flush() {
    for (const std::uint32_t i : m_pending) {
      tx_slot& s = m_tx_slots[i];
      io_uring_sqe* sqe = m_loop->get_sqe();
      if (sqe == nullptr) { // the loop is shutting down
        ++m_counters.tx_dropped;
        m_free.push_back(i);
        continue;
      }
      io_uring_prep_write(sqe, m_fd.get(), tx_buffer(i), s.len, io::current_position);
      m_loop->attach(sqe, s);
    }
    m_pending.clear();
    if (!m_rearm.empty() && !m_stopping) {
      const std::size_t n = m_rearm.size();
      for (std::size_t k = 0; k < n; ++k) {
        const std::uint32_t r = m_rearm[k];
        if (r == multishot_index)
          arm_multishot();
        else
          arm_read(m_rx_slots[r]);
      }
      m_rearm.erase(m_rearm.begin(), m_rearm.begin() + static_cast<std::ptrdiff_t>(n));
    }
  }

  /// Stops receiving, cancels reads and writes in flight, drops queued packets.
  void stop() noexcept {
    if (m_stopping) return;
    m_stopping = true;
    m_rearm.clear();
    if (m_multishot.in_flight()) m_loop->cancel(m_multishot);
    for (std::size_t i = 0; i < m_rx_count; ++i)
      if (m_rx_slots[i].in_flight()) m_loop->cancel(m_rx_slots[i]);
    for (std::size_t i = 0; i < m_cfg.io.tx_buffers; ++i)
      if (m_tx_slots[i].in_flight()) m_loop->cancel(m_tx_slots[i]);
    for (const std::uint32_t i : m_pending) {
      ++m_counters.tx_dropped;
      m_free.push_back(i);
    }
    m_pending.clear();
  }

  /// True while a read or write of this engine is in flight.
  auto busy() const noexcept -> bool {
    if (m_multishot.in_flight()) return true;
    for (std::size_t i = 0; i < m_rx_count; ++i)
      if (m_rx_slots[i].in_flight()) return true;
    return m_free.size() + m_pending.size() != m_cfg.io.tx_buffers;
  }

private:
  static constexpr std::uint32_t multishot_index = 0xffffffffu;
  static constexpr unsigned max_consecutive_errors = 64;

  /// Room for one PACKET_AUXDATA control message.
  static constexpr std::size_t control_len = CMSG_SPACE(sizeof(tpacket_auxdata));

  struct rx_slot : io_completion {
    rx_slot() noexcept : io_completion(&on_read) {}
    fd_engine* owner = nullptr;
    std::byte* buffer = nullptr;
    std::uint32_t index = 0;
    // recvmsg_auxdata only
    msghdr msg{};
    iovec iov{};
    alignas(cmsghdr) unsigned char control[control_len]{};
  };
  struct tx_slot : io_completion {
    tx_slot() noexcept : io_completion(&on_write) {}
    fd_engine* owner = nullptr;
    std::uint32_t index = 0;
    std::uint32_t len = 0;
  };
  struct multishot_request : io_completion {
    explicit multishot_request(fd_engine* o) noexcept : io_completion(&on_multishot), owner(o) {}
    fd_engine* owner;
  };

  fd_engine(event_loop_base& loop, unique_fd fd, const config& cfg)
      : m_loop(&loop), m_fd(std::move(fd)), m_cfg(cfg), m_multishot(this) {
    m_cfg.buffer_size = round_up_64(cfg.buffer_size);
    m_cfg.rx_buffer_size = round_up_64(cfg.rx_buffer_size != 0 ? cfg.rx_buffer_size : cfg.buffer_size);
    m_multishot_msg.msg_controllen = control_len; // only the lengths matter to the kernel
  }

  /// A provided buffer: the packet, after io_uring_recvmsg_out and the control message room
  /// for multishot recvmsg.
  auto ring_buffer_size() const noexcept -> std::size_t {
    if (m_cfg.call == rx_call::read) return m_cfg.rx_buffer_size;
    return round_up_64(m_cfg.rx_buffer_size + sizeof(io_uring_recvmsg_out) + control_len);
  }

  /// rx_meta from a PACKET_AUXDATA control message.
  static auto meta_from(const cmsghdr* c) noexcept -> rx_meta {
    rx_meta m;
    if (c != nullptr && c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
        c->cmsg_len >= CMSG_LEN(sizeof(tpacket_auxdata))) {
      tpacket_auxdata aux;
      std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
      m.checksum_verified = (aux.tp_status & (TP_STATUS_CSUMNOTREADY | TP_STATUS_CSUM_VALID)) != 0;
    }
    return m;
  }

  void allocate_tx() {
    const std::size_t n = m_cfg.io.tx_buffers;
    m_tx_memory.reset(new (std::align_val_t{64}) std::byte[n * m_cfg.buffer_size]);
    m_free.reserve(n);
    m_pending.reserve(n);
    m_tx_slots = std::make_unique<tx_slot[]>(n);
    for (std::size_t i = 0; i < n; ++i) {
      m_tx_slots[i].owner = this;
      m_tx_slots[i].index = static_cast<std::uint32_t>(i);
      m_free.push_back(static_cast<std::uint32_t>(n - 1 - i));
    }
  }

  void allocate_plain_rx() {
    const std::size_t n = m_cfg.io.rx_depth;
    m_rx_memory.reset(new (std::align_val_t{64}) std::byte[n * m_cfg.rx_buffer_size]);
    m_rx_slots = std::make_unique<rx_slot[]>(n);
    m_rearm.reserve(n + 1);
    for (std::size_t i = 0; i < n; ++i) {
      m_rx_slots[i].owner = this;
      m_rx_slots[i].buffer = m_rx_memory.get() + i * m_cfg.rx_buffer_size;
      m_rx_slots[i].index = static_cast<std::uint32_t>(i);
    }
    m_rx_count = n;
  }

  auto register_ring() -> std::error_code {
    m_rearm.reserve(1);
    std::error_code last;
    for (int attempt = 0; attempt < 8; ++attempt) { // skip group ids someone else registered
      try {
        m_ring = std::make_unique<io::buffer_ring>(*m_loop, next_buffer_group(), m_cfg.io.rx_ring_buffers,
                                                   static_cast<std::uint32_t>(ring_buffer_size()));
        return {};
      } catch (const std::system_error& x) {
        last = x.code();
        if (last != std::errc::file_exists) break;
      }
    }
    return last;
  }

  auto tx_buffer(std::uint32_t i) const noexcept -> std::byte* {
    return m_tx_memory.get() + static_cast<std::size_t>(i) * m_cfg.buffer_size;
  }

  /// An SQE, or nullptr (loop closing, or the SQ full and unsubmittable: then `rearm` is
  /// remembered and retried at the next flush()).
  auto sqe_or_defer(std::uint32_t rearm) noexcept -> io_uring_sqe* {
    try {
      if (io_uring_sqe* sqe = m_loop->get_sqe()) return sqe;
      return nullptr;
    } catch (...) {
      m_rearm.push_back(rearm); // reserved: never allocates
      return nullptr;
    }
  }

  void arm_read(rx_slot& s) noexcept {
    if (m_stopping || m_rx_error) return;
    io_uring_sqe* sqe = sqe_or_defer(s.index);
    if (sqe == nullptr) return;
    if (m_cfg.call == rx_call::read) {
      io_uring_prep_read(sqe, m_fd.get(), s.buffer, static_cast<unsigned>(m_cfg.rx_buffer_size), io::current_position);
    } else {
      s.iov = {s.buffer, m_cfg.rx_buffer_size};
      s.msg = msghdr{};
      s.msg.msg_iov = &s.iov;
      s.msg.msg_iovlen = 1;
      s.msg.msg_control = s.control;
      s.msg.msg_controllen = sizeof s.control;
      io_uring_prep_recvmsg(sqe, m_fd.get(), &s.msg, 0);
    }
    m_loop->attach(sqe, s);
  }

  void arm_multishot() noexcept {
    if (m_stopping || m_rx_error) return;
    io_uring_sqe* sqe = sqe_or_defer(multishot_index);
    if (sqe == nullptr) return;
    if (m_cfg.call == rx_call::read) {
      io::prep_read_multishot(sqe, m_fd.get(), m_ring->group());
    } else {
      io_uring_prep_recvmsg_multishot(sqe, m_fd.get(), &m_multishot_msg, 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = m_ring->group();
    }
    m_loop->attach(sqe, m_multishot);
  }

  void deliver(std::byte* data, std::size_t len, const rx_meta& meta, bool truncated) noexcept {
    m_consecutive_errors = 0;
    if (m_handler.fn == nullptr || m_stopping) {
      ++m_counters.rx_dropped;
      return;
    }
    ++m_counters.rx_packets;
    m_counters.rx_bytes += len;
    if (truncated) ++m_counters.rx_truncated;
    m_handler(bytes_view{data, len}, meta);
  }

  /// A read(2) of a tun, or the data of a recvmsg(2) (with `aux`, what PACKET_AUXDATA said):
  /// the packet, after its virtio-net header if the device has one.
  void deliver_read(std::byte* data, std::size_t res, bool truncated, const rx_meta& aux = {}) noexcept {
    if (!m_cfg.vnet_hdr) return deliver(data, res, aux, truncated);
    if (res <= vnet_hdr_len) {
      read_error(EBADMSG); // a device with IFF_VNET_HDR (PACKET_VNET_HDR) always writes the header
      return;
    }
    auto meta = read_vnet_hdr(data);
    meta.checksum_verified = meta.checksum_verified || aux.checksum_verified;
    deliver(data + vnet_hdr_len, res - vnet_hdr_len, meta, truncated);
  }

  /// Hands up what a read completion or a provided buffer holds (`res` bytes at `data`).
  void deliver_slot(rx_slot& s, std::size_t res) noexcept {
    if (m_cfg.call == rx_call::read) {
      deliver_read(s.buffer, res, res >= m_cfg.rx_buffer_size);
    } else {
      deliver_read(s.buffer, res, (s.msg.msg_flags & MSG_TRUNC) != 0, meta_from(CMSG_FIRSTHDR(&s.msg)));
    }
  }
  void deliver_provided(std::byte* data, std::size_t res) noexcept {
    if (m_cfg.call == rx_call::read) {
      deliver_read(data, res, res >= ring_buffer_size());
      return;
    }
    io_uring_recvmsg_out* o = io_uring_recvmsg_validate(data, static_cast<int>(res), &m_multishot_msg);
    if (o == nullptr) {
      read_error(EBADMSG);
      return;
    }
    const unsigned len = io_uring_recvmsg_payload_length(o, static_cast<int>(res), &m_multishot_msg);
    deliver_read(static_cast<std::byte*>(io_uring_recvmsg_payload(o, &m_multishot_msg)), len,
                 (o->flags & MSG_TRUNC) != 0, meta_from(io_uring_recvmsg_cmsg_firsthdr(o, &m_multishot_msg)));
  }

  /// Counts a read error; true if reading should go on.
  auto read_error(int err) noexcept -> bool {
    m_last_rx_error = err;
    ++m_counters.rx_errors;
    if (++m_consecutive_errors >= max_consecutive_errors) {
      m_rx_error = std::error_code(err, std::system_category());
      return false;
    }
    return true;
  }

  static void on_read(io_completion& c, std::int32_t res, std::uint32_t) noexcept {
    auto& s = static_cast<rx_slot&>(c);
    fd_engine& e = *s.owner;
    if (res > 0) {
      e.deliver_slot(s, static_cast<std::size_t>(res));
    } else if (res == -ECANCELED || e.m_stopping) {
      return;
    } else if (res != -EAGAIN && res != -EINTR) {
      if (!e.read_error(res == 0 ? EIO : -res)) return;
    }
    e.arm_read(s);
  }

  static void on_multishot(io_completion& c, std::int32_t res, std::uint32_t flags) noexcept {
    fd_engine& e = *static_cast<multishot_request&>(c).owner;
    if (const auto id = io::buffer_ring::buffer_id(flags)) {
      if (res > 0) {
        e.m_multishot_delivered = true;
        e.deliver_provided(e.m_ring->buffer(*id).data(), static_cast<std::size_t>(res));
      }
      e.m_ring->recycle(*id);
    }
    if ((flags & IORING_CQE_F_MORE) != 0) return;
    // The request has ended.
    if (res == -ECANCELED || e.m_stopping) return;
    if (res == -ENOBUFS) {
      ++e.m_counters.rx_rearms;
    } else if (res == -EINVAL && !e.m_multishot_delivered && e.m_cfg.io.rx == rx_mode::automatic) {
      e.fall_back_to_plain();
      return;
    } else if (res < 0 && res != -EAGAIN && res != -EINTR) {
      if (!e.read_error(-res)) return;
    }
    e.arm_multishot();
  }

  void fall_back_to_plain() noexcept {
    try {
      allocate_plain_rx();
    } catch (...) {
      m_rx_error = std::make_error_code(std::errc::not_enough_memory);
      return;
    }
    // The ring stays registered (its memory is small next to the buffers) until destruction.
    m_ring_retired = std::move(m_ring);
    for (std::size_t i = 0; i < m_rx_count; ++i) arm_read(m_rx_slots[i]);
  }

  static void on_write(io_completion& c, std::int32_t res, std::uint32_t) noexcept {
    auto& s = static_cast<tx_slot&>(c);
    fd_engine& e = *s.owner;
    if (res == -ECANCELED) {
      ++e.m_counters.tx_dropped; // cancelled by stop()
    } else if (res < 0) {
      ++e.m_counters.tx_errors;
      e.m_last_tx_error = -res;
    } else {
      ++e.m_counters.tx_packets;
      const auto prefix = e.m_cfg.vnet_hdr ? vnet_hdr_len : 0; // counted: the packets' bytes
      const auto written = static_cast<std::uint64_t>(res);
      e.m_counters.tx_bytes += written - std::min<std::uint64_t>(prefix, written);
    }
    e.m_free.push_back(s.index); // reserved: never allocates
  }

  // Declaration order matters for destruction (reverse): the completions go first (their
  // destructors cancel and wait), then the ring and the buffers they point into, then the fd.
  event_loop_base* m_loop;
  unique_fd m_fd;
  config m_cfg;
  link_counters m_counters;
  rx_handler m_handler;
  std::error_code m_rx_error;
  int m_last_tx_error = 0;
  int m_last_rx_error = 0;
  msghdr m_multishot_msg{}; // multishot recvmsg: the name and control lengths
  unsigned m_consecutive_errors = 0;
  bool m_stopping = false;
  bool m_multishot_delivered = false;
  std::size_t m_rx_count = 0;
  struct aligned_delete {
    void operator()(std::byte* p) const noexcept { ::operator delete[](p, std::align_val_t{64}); }
  };
  std::unique_ptr<std::byte[], aligned_delete> m_tx_memory;
  std::unique_ptr<std::byte[], aligned_delete> m_rx_memory;
  std::unique_ptr<io::buffer_ring> m_ring;
  std::unique_ptr<io::buffer_ring> m_ring_retired;
  std::vector<std::uint32_t> m_free;
  std::vector<std::uint32_t> m_pending;
  std::vector<std::uint32_t> m_rearm;
  std::unique_ptr<tx_slot[]> m_tx_slots;
  std::unique_ptr<rx_slot[]> m_rx_slots;
  multishot_request m_multishot;
};

} // namespace synack::link::detail
