// The Asio driver of one camera connection (STYLE.md 3.4): it owns the sockets (command, and for
// standard PTP/IP the event connection) and a small io_context run on the calling thread, writes
// the sans-I/O machines' pending_output(), feeds receive(), calls on_tick() when next_deadline()
// passes. It makes no protocol decisions. Reads and writes are asynchronous, but the io_context is
// only ever run from the thread that called the link (run_one_until in short slices of at most
// 200 ms), so the client code on top (camera_client.hpp) can be written as a plain sequence of
// transactions and the stop_token is looked at several times a second: a stop closes the sockets
// within that slice. Asio templates are instantiated in link.cpp only.
#pragma once

#include "ingest/ptpip/ptpip_plan.hpp"
#include "proto/ptpip/event_channel.hpp"
#include "proto/ptpip/session.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <deque>
#include <functional>
#include <optional>
#include <stop_token>
#include <system_error>
#include <vector>

namespace camrelay::ingest::ptpip
{

namespace pp = proto::ptpip;
namespace ptp = proto::ptp;
using pp::clock;

/// The pace an object's transfer must keep (hostile or broken cameras that trickle): at least
/// `min_rate` bytes/s averaged over each `window`, and done by `deadline`. Shared by the
/// transactions of one object (its GetPartialObject pieces).
struct pace
{
    clock::time_point deadline = clock::time_point::max();
    std::uint64_t min_rate = 0; ///< bytes per second; 0: no rate check
    clock::duration window{std::chrono::seconds(30)};
    clock::time_point window_start{};
    std::uint64_t window_bytes = 0;

    /// errc::timeout past the deadline, errc::too_slow when a whole window moved too little.
    std::error_code check(clock::time_point now);
};

/// Sockets + io_context for one camera connection (command, and for standard PTP/IP the event
/// connection). Feeds the sans-I/O machines; no protocol decisions.
class link
{
  public:
    explicit link(std::stop_token stop) : stop_(std::move(stop)) {}
    link(link const&) = delete;
    link& operator=(link const&) = delete;
    ~link() { shutdown(); }

    /// Connects the command socket and runs the init; waits for the ack (or the refusal).
    std::error_code open_command(ptpip::endpoint const& ep, pp::session_options opts);
    /// Standard PTP/IP: connects the event socket and waits for the Init Event Ack.
    std::error_code open_events(ptpip::endpoint const& ep, std::uint32_t connection_number);
    /// After init_failed: sends the init again on the same socket and waits for the answer.
    std::error_code retry_init();

    std::optional<pp::connected> const& ack() const { return ack_; }
    std::optional<pp::init_failed> const& refusal() const { return refusal_; }
    /// The command connection's TCP connect succeeded (a later failure is the peer's answer).
    bool reached() const { return reached_; }

    using data_fn = std::function<void(ptp::bytes_view)>;
    /// Runs one operation; data-in chunks go to `on_data` as they arrive. With `p`, the transfer
    /// keeps that pace; without, the whole transaction must end within dataset_deadline (plus the
    /// operation's own timeout). Breaking either drops the connection (the error is a timeout).
    result<pp::transaction_done> transact(pp::operation op, data_fn const& on_data = {},
                                          pace* p = nullptr);
    static constexpr clock::duration dataset_deadline = std::chrono::seconds(120);
    /// At most this many camera events are kept waiting; older ones are dropped (counted).
    static constexpr std::size_t max_camera_events = 4096;
    /// Lets time pass (answering probes, collecting events) until `d` has passed or, with
    /// `until_event`, a camera event arrived. Errors: the connection broke, stop requested.
    std::error_code wait(clock::duration d, bool until_event);
    std::deque<pp::camera_event>& camera_events() { return camera_events_; }
    /// What the event channel tolerated (odd-length events, extra parameters), by name.
    ptp::leniency_counters event_leniencies() const
    {
        return channel_ ? channel_->leniencies() : ptp::leniency_counters{};
    }

    /// CloseSession (+ Fuji goodbye), flushed within `grace`; then the sockets are closed.
    void close(clock::duration grace);
    bool broken() const { return static_cast<bool>(failed_); }

  private:
    struct io_state
    {
        std::vector<std::byte> rbuf = std::vector<std::byte>(256 * 1024);
        ptp::byte_vector wbuf;
        bool reading = false;
        bool writing = false;
    };

    std::error_code connect(boost::asio::ip::tcp::socket& s, ptpip::endpoint const& ep,
                            clock::duration timeout);
    std::error_code step(clock::time_point until);
    template <class Machine> void pump(boost::asio::ip::tcp::socket& s, io_state& st, Machine& m);
    void drain();
    void keep_event(pp::camera_event ev);
    void on_io_error(boost::system::error_code bec, bool command);
    void shutdown();

    std::stop_token stop_;
    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket cmd_{io_};
    boost::asio::ip::tcp::socket evt_{io_};
    io_state cmd_io_;
    io_state evt_io_;
    std::optional<pp::session> session_;
    std::optional<pp::event_channel> channel_;
    std::deque<pp::session_event> cmd_events_;
    std::deque<pp::camera_event> camera_events_;
    std::optional<pp::connected> ack_;
    std::optional<pp::init_failed> refusal_;
    bool channel_ready_ = false;
    bool closed_ = false;
    bool reached_ = false;
    std::error_code failed_;
    std::uint64_t dropped_events_ = 0;
};

} // namespace camrelay::ingest::ptpip
