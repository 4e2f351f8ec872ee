// The PTP/IP command-connection state machine, sans I/O (nghttp2 shape, STYLE.md §3.4): bytes in,
// bytes out, time passed in. One class serves standard PTP/IP (port 15740) and the Fujifilm variant
// (port 55740: 82-byte init, then PTP USB containers); `dialect` picks the wire format.
//
// Driver contract (the Asio client in src/ingest/ptpip/, or a test):
//   * construct with options and `now`; the init packet is queued at once;
//   * write pending_output() to the socket, then consume_output(bytes written);
//   * feed every byte read to receive(); then call on_tick(now) (it re-arms inactivity deadlines
//   and
//     releases time-gated output); also call on_tick when next_deadline() passes;
//   * drain next_event() after receive()/on_tick();
//   * begin(op) queues a PTP operation and returns its transaction id at once; operations run one
//   at
//     a time in order (PTP allows one transaction per session); the first waits for the Init Ack;
//   * close() queues CloseSession (and Fuji's goodbye); when state() is `closed` and
//     pending_output() is empty, close the socket. On `failed`, close the socket.
// The standard PTP/IP event connection is a separate `event_channel` (event_channel.hpp); the
// driver opens it after the `connected` event and should begin OpenSession once it is ready.
// Data-in arrives as data_started + data_received chunks (never the whole object in one event
// unless the camera sends it so, as Fuji does: one data container per transaction, bounded by
// max_packet_size — use GetPartialObject for large files there).
// Not thread-safe: call from one thread (the network thread). No exceptions on input.
#pragma once

#include "core/error.hpp"
#include "proto/ptp/codes.hpp"
#include "proto/ptp/quirks.hpp"
#include "proto/ptpip/framer.hpp"
#include "proto/ptpip/packet.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace camrelay::proto::ptpip
{

using transaction_id = std::uint32_t;
using clock = std::chrono::steady_clock;

/// Which wire format the connection speaks.
enum class dialect
{
    ptpip, ///< CIPA DC-X005 PTP/IP (typed packets, StartData/Data/EndData)
    fuji,  ///< Fujifilm X Wi-Fi: 82-byte init, then USB containers, one data container per phase
};

/// One PTP operation to run.
struct operation
{
    std::uint16_t code = 0;
    std::vector<std::uint32_t> params; ///< 0..5
    std::optional<ptp::byte_vector>
        data_out; ///< set = data-out phase with these bytes (may be empty)
    /// Inactivity limit for this transaction instead of session_options::response_timeout (a Fuji
    /// SetDevicePropValue(0xDF01) waits for the user to answer a dialog on the camera).
    std::optional<std::chrono::milliseconds> timeout;
    /// Most data-in bytes this operation may receive (declared by StartData or sent); more is
    /// errc::data_phase_too_long and the session fails. Unset: session_options::max_data_in. The
    /// builders below set the bound of each dataset kind (dataset_limit, handle_list_limit) and of
    /// GetPartialObject (the requested length); a GetObject caller sets the declared size.
    std::optional<std::uint64_t> max_data_in;
};

/// Data-in bounds by kind: one dataset (DeviceInfo, ObjectInfo, StorageInfo, a property
/// description or value, a Fuji property list), and the handle or storage-id list of a huge card
/// (4 M handles).
inline constexpr std::uint64_t dataset_limit = 1u << 20;
inline constexpr std::uint64_t handle_list_limit = 16u << 20;

/// Builders for the operations the clients use (ISO 15740 §10.4; Fuji §2.A).
namespace ops
{
operation open_session(std::uint32_t session_id = 1);
operation close_session();
operation get_device_info();
operation get_storage_ids();
operation get_storage_info(std::uint32_t storage_id);
operation get_num_objects(std::uint32_t storage_id = ptp::all_storages, std::uint32_t format = 0,
                          std::uint32_t parent = 0);
operation get_object_handles(std::uint32_t storage_id = ptp::all_storages, std::uint32_t format = 0,
                             std::uint32_t parent = ptp::root_parent);
operation get_object_info(std::uint32_t handle);
operation get_object(std::uint32_t handle);
operation get_thumb(std::uint32_t handle);
/// Response Param1 = bytes actually sent.
operation get_partial_object(std::uint32_t handle, std::uint32_t offset, std::uint32_t max_bytes);
/// 0x95C1: a 64-bit offset (params handle, offset low, offset high, max bytes).
operation get_partial_object_64(std::uint32_t handle, std::uint64_t offset,
                                std::uint32_t max_bytes);
/// 0x9803 MTP GetObjectPropValue: one property value (a dataset; ObjectSize is a UINT64).
operation get_object_prop_value(std::uint32_t handle, ptp::object_prop prop);
operation get_device_prop_desc(ptp::device_prop prop);
operation get_device_prop_value(ptp::device_prop prop);
operation set_device_prop_value(ptp::device_prop prop, ptp::byte_vector value);
operation set_device_prop_value_u16(ptp::device_prop prop, std::uint16_t value);
operation set_device_prop_value_u32(ptp::device_prop prop, std::uint32_t value);
operation initiate_open_capture(std::uint32_t storage_id = 0, std::uint32_t format = 0);
operation terminate_open_capture(transaction_id of_initiate);
operation fuji_get_device_info(); ///< 0x902B: list of DevicePropDesc
} // namespace ops

struct session_options
{
    dialect wire = dialect::ptpip;
    guid initiator_guid{};                  ///< persist one per installation (vendors pair by GUID)
    std::string friendly_name = "camrelay"; ///< shown by the camera; Fuji: at most 26 chars
    std::size_t max_packet_size = framer::default_max_packet_size;
    std::size_t data_out_chunk = 64 * 1024; ///< standard data-out: Data packets of this size
    std::chrono::milliseconds init_timeout{10'000};
    std::chrono::milliseconds response_timeout{10'000}; ///< inactivity limit of a transaction
    std::chrono::milliseconds post_init_delay{50};      ///< with quirk::wait_after_init_ack
    /// Data-in bound of an operation that sets none (operation::max_data_in).
    std::uint64_t max_data_in = handle_list_limit;
    ptp::quirk_set quirks;
};

/// The Init Ack arrived: the connection is usable.
struct connected
{
    std::uint32_t connection_number = 0; ///< for the event connection's Init Event Request
    guid responder_guid{};
    std::string responder_name; ///< camera's friendly name ("X-T5"; standard: e.g. the model)
    std::uint32_t protocol_version = 0; ///< 0 for Fuji (not in its ack)
};

/// Init Fail: the camera refused this client. Fuji: reason 0x2019 (busy: confirm/"Change" on the
/// camera, then retry_init()) or 0x201D (wrong magic). The session waits in state init_refused.
struct init_failed
{
    std::uint32_t reason = 0;
    bool retryable = false; ///< standard BUSY, Fuji 0x2019
};

/// A data-in phase began (standard: StartData; Fuji: the data container arrived).
struct data_started
{
    transaction_id tid = 0;
    std::optional<std::uint64_t> total; ///< unknown for StartData(0xFFFFFFFFFFFFFFFF)
};

/// The next chunk of a data-in phase, in order.
struct data_received
{
    transaction_id tid = 0;
    ptp::byte_vector bytes;
};

/// The Operation Response arrived; the transaction is over.
struct transaction_done
{
    transaction_id tid = 0;
    std::uint16_t operation = 0;
    std::uint16_t response = 0; ///< ptp::response_code; OK = 0x2001
    std::vector<std::uint32_t> params;
    std::uint64_t data_bytes = 0; ///< data-in bytes received
    bool ok() const { return response == ptp::to_underlying(ptp::response_code::ok); }
};

/// A PTP event (event connection; tolerated on the command connection too).
struct camera_event
{
    std::uint16_t code = 0; ///< ptp::event_code
    transaction_id tid = 0;
    std::vector<std::uint32_t> params;
};

/// The event connection finished its handshake (event_channel only).
struct event_channel_ready
{
};

/// The session stopped; close the connection. `error` is a camrelay.ptpip code.
struct session_failed
{
    std::error_code error;
};

/// close() completed: CloseSession answered (and goodbye queued); close the socket after
/// pending_output() drained.
struct session_closed
{
};

using session_event =
    std::variant<connected, init_failed, data_started, data_received, transaction_done,
                 camera_event, event_channel_ready, session_failed, session_closed>;

/// What receive() did: bytes taken and, on failure, why (also reported as session_failed).
struct feed_result
{
    std::size_t consumed = 0;
    std::error_code error;
    explicit operator bool() const noexcept { return !error; }
};

class session
{
  public:
    enum class state
    {
        initializing, ///< init sent, waiting for the ack
        init_refused, ///< Init Fail received; retry_init() or give up
        ready,        ///< running operations (or idle)
        closing,      ///< close() called; draining the queue and CloseSession
        closed,       ///< done; close the socket once output is drained
        failed,       ///< protocol error or timeout; close the socket
    };

    session(session_options options, clock::time_point now);

    /// Feeds bytes read from the socket. Consumes everything unless the stream is bad.
    feed_result receive(ptp::bytes_view in);
    /// Bytes the driver must write, in order.
    ptp::bytes_view pending_output() const noexcept;
    void consume_output(std::size_t n) noexcept;
    std::optional<session_event> next_event();

    /// Queues an operation; returns its transaction id (OpenSession always gets 0, the others
    /// count from 1). Errors: session_closed after close()/failure, too_many_params.
    result<transaction_id> begin(operation op);
    /// Time passes: timeouts fire here and time-gated output is released.
    void on_tick(clock::time_point now);
    /// When on_tick must be called next at the latest (nullopt: only after I/O).
    std::optional<clock::time_point> next_deadline() const noexcept;

    /// After init_failed: send the init again on the same connection (libgphoto2/fudge behaviour).
    void retry_init();
    /// Ends the session politely after the queued operations: CloseSession if one was opened or
    /// is queued, then Fuji's goodbye (quirk::send_goodbye). Before the ack with nothing queued, or
    /// after init_failed, the session is closed at once.
    void close();

    state current_state() const noexcept { return state_; }
    bool session_open() const noexcept { return session_open_; }
    /// The transaction in progress, if any.
    std::optional<transaction_id> current_transaction() const noexcept;
    session_options const& options() const noexcept { return options_; }

  private:
    struct queued
    {
        transaction_id tid = 0;
        operation op;
        bool internal_close = false; ///< queued by close()
    };
    enum class phase
    {
        awaiting_data_or_response, ///< request sent (data-out sent too)
        data_in,                   ///< standard: StartData seen, Data/EndData expected
        awaiting_response,         ///< standard: EndData seen
    };

    void queue_init();
    void send_next();
    void send_request(queued const& q);
    void handle_frame(ptp::bytes_view frame);
    void handle_init_reply(ptp::bytes_view frame);
    void handle_standard(packet&& p);
    void handle_fuji(ptp::bytes_view frame);
    void on_data(transaction_id tid, ptp::byte_vector&& bytes);
    /// The data-in bound of the current transaction.
    std::uint64_t data_limit() const noexcept;
    void finish(std::uint16_t response, transaction_id tid, std::vector<std::uint32_t>&& params);
    void fail(std::error_code ec);
    void start_closing();
    void arm(std::chrono::milliseconds limit);

    session_options options_;
    framer framer_;
    state state_ = state::initializing;
    ptp::byte_vector out_;
    std::size_t out_pos_ = 0;
    std::deque<session_event> events_;
    std::deque<queued> queue_;
    std::optional<queued> current_;
    phase phase_ = phase::awaiting_data_or_response;
    std::optional<std::uint64_t> data_total_;
    std::uint64_t data_seen_ = 0;
    transaction_id next_tid_ = 1;
    bool session_open_ = false;
    bool close_requested_ = false;
    bool close_session_sent_ = false;
    std::error_code error_;

    clock::time_point now_;
    std::optional<clock::time_point> deadline_;
    std::chrono::milliseconds deadline_limit_{0};
    bool progress_ = false;
    bool gate_pending_ = false; ///< post-init delay not yet started
    std::optional<clock::time_point> gate_until_;
};

} // namespace camrelay::proto::ptpip
