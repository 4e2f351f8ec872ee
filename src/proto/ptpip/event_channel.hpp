// The event connection, sans I/O. Standard PTP/IP: Init Event Request(connection number) -> Init
// Event Ack, then Event packets; Probe Requests are answered at once (§1.1). Fuji (port 55741): no
// handshake (plain TCP connect after InitiateOpenCapture), then event containers with up to 4
// params (§1.3.3). Same driver contract as `session` (session.hpp). Not thread-safe.
//
// Event payloads are read tolerantly (proto/ptp/leniency.hpp): parameter bytes that are not a
// multiple of 4 (event_odd_length) or more than 5 parameters (event_too_many_params) keep the
// whole parameters that fit instead of failing the channel; counted in leniencies().
#pragma once

#include "proto/ptp/leniency.hpp"
#include "proto/ptpip/session.hpp"

namespace camrelay::proto::ptpip
{

struct event_channel_options
{
    dialect wire = dialect::ptpip;
    std::uint32_t connection_number = 0; ///< from the `connected` event of the command session
    std::size_t max_packet_size = 64 * 1024;
    std::chrono::milliseconds init_timeout{10'000};
};

class event_channel
{
  public:
    event_channel(event_channel_options options, clock::time_point now);

    /// Emits event_channel_ready, camera_event, init_failed, session_failed.
    feed_result receive(ptp::bytes_view in);
    ptp::bytes_view pending_output() const noexcept;
    void consume_output(std::size_t n) noexcept;
    std::optional<session_event> next_event();
    void on_tick(clock::time_point now);
    std::optional<clock::time_point> next_deadline() const noexcept;

    bool ready() const noexcept { return ready_; }
    bool failed() const noexcept { return static_cast<bool>(error_); }
    /// Deviations tolerated in event payloads since construction.
    ptp::leniency_counters const& leniencies() const noexcept { return lenient_; }

  private:
    void fail(std::error_code ec);
    void handle(ptp::bytes_view frame);
    /// An event frame the strict decoder refused: read code, tid and whole parameters from
    /// `params_at` on. False when even the head is missing.
    bool lenient_event(ptp::bytes_view frame, std::size_t params_at);

    event_channel_options options_;
    framer framer_;
    ptp::byte_vector out_;
    std::size_t out_pos_ = 0;
    std::deque<session_event> events_;
    bool ready_ = false;
    bool progress_ = false;
    std::error_code error_;
    ptp::leniency_counters lenient_;
    clock::time_point now_;
    std::optional<clock::time_point> deadline_;
};

} // namespace camrelay::proto::ptpip
