// synack/link/pcap_writer.hpp: a link decorator that records every packet into a classic
// libpcap file that tcpdump, tshark and Wireshark open (smoltcp's phy::PcapWriter is the model).
//
//   auto w = synack::link::pcap_writer<synack::link::tun>::open(std::move(*tun), "run.pcap");
//
// File format (https://www.tcpdump.org/manpages/pcap-savefile.5.html, also
// draft-ietf-opsawg-pcap): a 24-byte header (magic 0xa1b2c3d4 in the writer's byte order:
// microsecond timestamps; version 2.4; snaplen; link type), then per packet a 16-byte record
// header (seconds, microseconds, captured length, original length) and the captured bytes.
// Link type: LINKTYPE_RAW (101: the packet starts with the IPv4 header) for medium::ip links
// such as tun, LINKTYPE_ETHERNET (1) for medium::ethernet links such as af_packet.
//
// Contract:
// - `pcap_file` writes the format to a FILE*; `pcap_writer<Inner>` is a link that writes each
//   received packet (before the handler sees it) and each transmitted packet (after fill) to
//   one. Packets longer than snaplen are cut to it (the record keeps the original length).
// - Timestamps: the wall clock (CLOCK_REALTIME via the vDSO: no system call) by default, or
//   the loop's now() (`pcap_timestamps::loop`: virtual time in simulations, so files are
//   reproducible).
// - Writes go through a 256 KiB stdio buffer; flush() (once per turn) flushes the file if
//   anything was written, so the file is readable while the program runs. Write errors are
//   counted (write_errors()), never thrown from the packet path.
// - start() hands Inner a handler pointing at this object: do not move it after start().
#pragma once

#include <time.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "synack/core/scheduler.hpp"
#include "synack/link/detail/decorator.hpp"
#include "synack/link/detail/offload.hpp"
#include "synack/link/link.hpp"
#include "synack/util/expected.hpp"
#include "synack/wire/ethernet.hpp"

namespace synack::link {

/// pcap link types (https://www.tcpdump.org/linktypes.html).
enum class pcap_linktype : std::uint32_t {
  ethernet = 1, ///< LINKTYPE_ETHERNET: IEEE 802.3 / Ethernet II frames
  raw = 101,    ///< LINKTYPE_RAW: raw IP, the version nibble says IPv4 or IPv6
};

enum class pcap_timestamps : std::uint8_t {
  wall, ///< CLOCK_REALTIME when the packet passes
  loop, ///< the scheduler's now() (pcap_options::clock must be set)
};

struct pcap_options {
  /// The most bytes kept of each packet.
  std::uint32_t snaplen = 65535;
  pcap_timestamps timestamps = pcap_timestamps::wall;
  /// The scheduler whose now() stamps packets with pcap_timestamps::loop.
  const scheduler* clock = nullptr;
  bool capture_rx = true;
  bool capture_tx = true;
};

/// The classic pcap format over a FILE*.
class pcap_file {
public:
  static constexpr std::uint32_t magic_micros = 0xa1b2c3d4;
  static constexpr std::size_t file_header_len = 24;
  static constexpr std::size_t record_header_len = 16;

  /// Creates (truncates) `path` and writes the file header.
  static auto create(const std::string& path, pcap_linktype type, std::uint32_t snaplen = 65535)
      -> expected<pcap_file, std::error_code> {
    std::FILE* f = std::fopen(path.c_str(), "wbe"); // 'e': O_CLOEXEC
    if (f == nullptr) return unexpected{std::error_code(errno, std::system_category())};
    pcap_file p(f, true, type, snaplen);
    if (p.m_errors != 0) return unexpected{std::make_error_code(std::errc::io_error)};
    return p;
  }
  /// Writes to `f`, which stays the caller's (it is not closed).
  pcap_file(std::FILE* f, pcap_linktype type, std::uint32_t snaplen = 65535) : pcap_file(f, false, type, snaplen) {}

  pcap_file(pcap_file&& o) noexcept
      : m_file(std::exchange(o.m_file, nullptr)),
        m_owned(o.m_owned),
        m_buffer(std::move(o.m_buffer)),
        m_snaplen(o.m_snaplen),
        m_records(o.m_records),
        m_errors(o.m_errors),
        m_dirty(o.m_dirty) {}
  auto operator=(pcap_file&&) -> pcap_file& = delete;
  ~pcap_file() {
    if (m_file == nullptr) return;
    std::fflush(m_file);
    if (m_owned)
      std::fclose(m_file);
    else
      std::setvbuf(m_file, nullptr, _IOFBF, BUFSIZ); // the caller's FILE outlives our buffer
  }

  /// Appends one record stamped `seconds` + `micros`.
  void write(std::int64_t seconds, std::uint32_t micros, bytes_view packet) noexcept {
    const auto captured = static_cast<std::uint32_t>(packet.size() < m_snaplen ? packet.size() : m_snaplen);
    const std::uint32_t header[4] = {static_cast<std::uint32_t>(seconds), micros, captured,
                                     static_cast<std::uint32_t>(packet.size())};
    if (std::fwrite(header, sizeof header, 1, m_file) != 1) ++m_errors;
    if (captured != 0 && std::fwrite(packet.data(), captured, 1, m_file) != 1) ++m_errors;
    ++m_records;
    m_dirty = true;
  }

  /// Flushes the stdio buffer to the file if anything was written since the last flush.
  void flush() noexcept {
    if (!m_dirty) return;
    m_dirty = false;
    if (std::fflush(m_file) != 0) ++m_errors;
  }

  auto records() const noexcept -> std::uint64_t { return m_records; }
  auto write_errors() const noexcept -> std::uint64_t { return m_errors; }

private:
  pcap_file(std::FILE* f, bool owned, pcap_linktype type, std::uint32_t snaplen)
      : m_file(f), m_owned(owned), m_buffer(new char[buffer_len]), m_snaplen(snaplen) {
    std::setvbuf(m_file, m_buffer.get(), _IOFBF, buffer_len);
    // Native byte order: readers recognise the magic either way round.
    unsigned char bytes[file_header_len];
    const auto put = [&bytes](std::size_t at, auto v) { std::memcpy(bytes + at, &v, sizeof v); };
    put(0, magic_micros);
    put(4, std::uint16_t{2}); // version 2.4
    put(6, std::uint16_t{4});
    put(8, std::uint32_t{0}); // thiszone (GMT) and sigfigs: always 0
    put(12, std::uint32_t{0});
    put(16, snaplen);
    put(20, static_cast<std::uint32_t>(type));
    if (std::fwrite(bytes, sizeof bytes, 1, m_file) != 1) ++m_errors;
    m_dirty = true;
  }

  static constexpr std::size_t buffer_len = 256 * 1024;
  std::FILE* m_file;
  bool m_owned;
  std::unique_ptr<char[]> m_buffer;
  std::uint32_t m_snaplen;
  std::uint64_t m_records = 0;
  std::uint64_t m_errors = 0;
  bool m_dirty = false;
};

template <class Inner>
requires detail::link_or_ref<Inner>
class pcap_writer {
public:
  /// Wraps `inner`, writing to a new file at `path`.
  static auto open(Inner inner, const std::string& path, const pcap_options& options = {})
      -> expected<pcap_writer, std::error_code> {
    const auto type = detail::is_ethernet(inner.capabilities()) ? pcap_linktype::ethernet : pcap_linktype::raw;
    auto f = pcap_file::create(path, type, options.snaplen);
    if (!f) return unexpected{f.error()};
    return pcap_writer(std::forward<Inner>(inner), std::move(*f), options);
  }
  /// Wraps `inner`, writing to `file` (whose link type must match Inner's medium).
  pcap_writer(std::type_identity_t<Inner> inner, pcap_file file, const pcap_options& options = {})
      : m_inner(std::forward<Inner>(inner)), m_file(std::move(file)), m_options(options) {}
  pcap_writer(pcap_writer&&) = default;

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
          if (m_options.capture_tx) record(b, meta);
        },
        meta);
  }
  void flush() {
    m_inner.flush();
    m_file.flush();
  }
  void stop() {
    m_inner.stop();
    m_file.flush();
  }

  /// The inner link's MAC address, for links that have one (af_packet): the stack and
  /// net::ethernet_interface find it through any number of decorators.
  auto mac() const noexcept requires requires(const std::remove_reference_t<Inner>& i) { i.mac(); }
  { return m_inner.mac(); }
  auto inner() noexcept -> std::remove_reference_t<Inner>& { return m_inner; }
  auto inner() const noexcept -> const std::remove_reference_t<Inner>& { return m_inner; }
  auto file() noexcept -> pcap_file& { return m_file; }

private:
  static void on_rx(void* self, bytes_view packet, const rx_meta& meta) {
    auto& w = *static_cast<pcap_writer*>(self);
    if (w.m_options.capture_rx) w.record_rx(packet, meta);
    if (w.m_handler.fn != nullptr) w.m_handler(packet, meta);
  }

  /// Records a received packet; a checksum the sender left partial is completed in a copy.
  void record_rx(bytes_view packet, const rx_meta& meta) noexcept {
    if (meta.partial_csum_start == 0) return record(packet);
    auto copy = scratch_copy(packet);
    if (copy.empty()) return record(packet);
    detail::complete_checksum(copy, meta.partial_csum_start, meta.partial_csum_offset);
    record(copy);
  }

  /// A copy of `packet` in the scratch buffer (empty when there is no memory for it).
  auto scratch_copy(bytes_view packet) noexcept -> bytes_mut {
    try {
      if (m_scratch.size() < packet.size()) m_scratch.resize(packet.size()); // grows once
    } catch (...) {
      return {};
    }
    bytes_mut copy{m_scratch.data(), packet.size()};
    if (!packet.empty()) std::memcpy(copy.data(), packet.data(), packet.size());
    return copy;
  }

  /// Records a transmitted packet; a checksum left to the device is completed in a copy, so the
  /// file shows what the wire carries (a TSO super-segment stays one record, as tcpdump shows it
  /// on a host with offloads).
  void record(bytes_view packet, const tx_meta& meta) noexcept {
    if (!meta.tcp_checksum_partial) return record(packet);
    auto copy = scratch_copy(packet);
    if (copy.empty()) return record(packet);
    // The IPv4 packet follows the Ethernet header on an Ethernet link.
    constexpr std::size_t eth_hlen = wire::ethernet_frame<bytes_view>::header_len;
    detail::complete_tcp_checksum(copy, detail::is_ethernet(m_inner.capabilities()) ? eth_hlen : 0);
    record(copy);
  }

  void record(bytes_view packet) noexcept {
    std::int64_t ns = 0;
    if (m_options.timestamps == pcap_timestamps::loop && m_options.clock != nullptr) {
      ns = m_options.clock->now().nanos();
    } else {
      timespec ts{};
      ::clock_gettime(CLOCK_REALTIME, &ts);
      ns = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
    m_file.write(ns / 1'000'000'000, static_cast<std::uint32_t>((ns % 1'000'000'000) / 1000), packet);
  }

  Inner m_inner;
  pcap_file m_file;
  pcap_options m_options;
  rx_handler m_handler;
  std::vector<std::byte> m_scratch;
};

template <class L>
pcap_writer(L&&, pcap_file, const pcap_options& = {})
    -> pcap_writer<std::conditional_t<std::is_lvalue_reference_v<L>, L, std::remove_cvref_t<L>>>;

} // namespace synack::link
