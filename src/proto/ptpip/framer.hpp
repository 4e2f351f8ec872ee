// Cuts a byte stream into length-prefixed packets: standard PTP/IP packets, Fuji containers and
// Fuji live-view frames all start with `u32 Length (including itself)`.
//
// Tri-state, bytes-consumed (like Asio's request_parser): feed() takes bytes until one packet is
// complete and reports how many it took, so the caller loops over its buffer with any chunking:
//
//     while (!in.empty()) {
//         auto r = f.feed(in);
//         in = in.subspan(r.consumed);
//         if (r.status == frame_status::packet) handle(f.packet());
//         else if (r.status == frame_status::error) { /* r.error; drop the connection */ break; }
//     }
//
// The length is checked as soon as its 4 bytes are in (errors: bad_length below the minimum,
// packet_too_large above the limit), so a hostile length never makes the framer allocate. Errors
// are sticky until reset(). Copies each packet once into an internal buffer. Not thread-safe; no
// I/O.
#pragma once

#include "proto/ptp/byte_io.hpp"
#include "proto/ptpip/error.hpp"

#include <cstddef>
#include <system_error>

namespace camrelay::proto::ptpip
{

enum class frame_status
{
    need_more, ///< every byte was consumed and no packet is complete yet
    packet,    ///< one packet is complete: read it with framer::packet()
    error,     ///< the stream is unusable (see `error`); nothing more will be framed
};

struct frame_result
{
    frame_status status = frame_status::need_more;
    std::size_t consumed = 0; ///< bytes of the input taken by this call
    std::error_code error;
};

class framer
{
  public:
    /// Large enough for a Fuji 1 MiB GetPartialObject chunk or a full JPEG GetObject; bounds the
    /// memory one connection can make us hold.
    static constexpr std::size_t default_max_packet_size = 32u << 20;
    /// The smallest frame: 8 bytes (PTP/IP header, Fuji goodbye).
    static constexpr std::size_t default_min_packet_size = 8;

    explicit framer(std::size_t max_packet_size = default_max_packet_size,
                    std::size_t min_packet_size = default_min_packet_size) noexcept
        : max_(max_packet_size), min_(min_packet_size < 4 ? 4 : min_packet_size)
    {
    }

    /// Takes bytes until one packet is complete (see the file comment).
    frame_result feed(ptp::bytes_view in);

    /// The complete packet (length field included); valid after frame_status::packet until the
    /// next feed() or reset().
    ptp::bytes_view packet() const noexcept
    {
        return ready_ ? ptp::bytes_view(buffer_) : ptp::bytes_view{};
    }

    /// Bytes held of an incomplete packet.
    std::size_t buffered() const noexcept { return ready_ ? 0 : buffer_.size(); }
    std::size_t max_packet_size() const noexcept { return max_; }
    /// Forgets buffered bytes and a sticky error.
    void reset() noexcept;

  private:
    std::size_t max_;
    std::size_t min_;
    ptp::byte_vector buffer_;
    std::size_t expected_ = 0; ///< length of the packet being assembled, 0 until known
    bool ready_ = false;
    std::error_code error_;
};

} // namespace camrelay::proto::ptpip
