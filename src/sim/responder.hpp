// A simulated Wi-Fi camera, sans-I/O: bytes in, bytes out (shared/protocols/ptpip-fuji.md).
//
// One `responder` serves one TCP connection of either flavour:
//  * standard PTP/IP (§1.1): the first packet decides the role: an Init Command Request makes it
//    the command/data connection, an Init Event Request the event connection (both arrive on the
//    same port). Data-in phases are StartData + Data* + EndData + OperationResponse.
//  * Fuji X Wi-Fi (§1.3, §2.A browse and §2.B remote sequences): the 82-byte init with its magic,
//    then PTP USB containers; a data phase is one type-2 container.
//
// The driver loops: `receive(bytes)`; then while `pending_output()` is not empty, writes it and
// calls `consume_output(n)`; closes the socket once `done()`. Object content is read from the
// files in bounded chunks (`options::chunk_size`) as output is consumed, so a multi-GB file never
// sits in memory; small transfers come out as one span (StartData+Data/EndData+Response in one
// write, which libgphoto2 needs to avoid Nagle stalls, shared/TESTING.md). While a transfer is
// streaming, further input is held (bounded) and handled after it.
//
// Not thread-safe: one responder per connection, all on the simulator's I/O thread. Errors from
// the peer (garbage, oversized packets, protocol violations) end the connection: `done()` becomes
// true and `close_reason()` says why. Logs through core/log with tag "sim".
#pragma once

#include "proto/ptp/byte_io.hpp"
#include "proto/ptpip/framer.hpp"
#include "proto/ptpip/packet.hpp"
#include "sim/object_store.hpp"
#include "sim/quirks.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace camrelay::sim
{

enum class flavor
{
    ptpip, ///< standard PTP/IP (CIPA DC-X005), port 15740
    fuji,  ///< Fujifilm X Wi-Fi, ports 55740 (command) / 55741 (events)
};

/// State shared by every connection to one simulated camera.
struct camera
{
    camera(std::filesystem::path dir, flavor f) : store(std::move(dir)), kind(f) {}
    camera(std::vector<std::filesystem::path> roots, flavor f) : store(std::move(roots)), kind(f) {}

    object_store store;
    flavor kind;
    std::string model = "camrelay-sim";
    proto::ptpip::guid camera_guid{};
    bool refuse = false;               ///< answer every init with Init Fail
    std::uint64_t drop_after = 0;      ///< close after this many content bytes; 0 = never
    std::size_t chunk_size = 1u << 20; ///< bytes read from a file per output piece
    std::uint32_t next_connection = 1; ///< PTP/IP ConnectionNumber handed out next
    int open_sessions = 0;             ///< sessions currently open (events go out only then)
    quirk_set quirks;                  ///< --quirk profiles (sim/quirks.hpp)
    std::uint32_t sessions_opened = 0; ///< OpenSession count so far (handles-change)
    std::size_t select = 4;            ///< camera-selected: the first N files were "selected"
    std::size_t selected_sent = 0;     ///< camera-selected: photos fully downloaded so far
    std::uint64_t endless_limit = endless_data_limit; ///< endless-data: bytes before the close
};

class responder
{
  public:
    enum class role
    {
        unknown, ///< PTP/IP: before the first packet
        command, ///< command/data connection
        event,   ///< event connection (PTP/IP: after Init Event; Fuji: port 55741)
    };

    /// `r` = role::event for Fuji's event port; role::unknown (PTP/IP) / role::command (Fuji)
    /// for the main port.
    responder(camera& cam, role r);
    ~responder();
    responder(responder const&) = delete;
    responder& operator=(responder const&) = delete;

    /// Takes every byte of `in` (processing may be deferred while a transfer streams).
    void receive(proto::ptp::bytes_view in);

    /// Bytes to write next; empty when there is nothing to send. Stays valid until
    /// consume_output(); may read the next chunk of a file.
    proto::ptp::bytes_view pending_output();
    void consume_output(std::size_t n);

    /// The connection should be closed once pending_output() is empty.
    bool done() const noexcept;
    std::string const& close_reason() const noexcept { return close_reason_; }

    /// The peer went away: releases the session.
    void on_disconnect();

    /// A file appeared: queues ObjectAdded (0x4002) on a PTP/IP event connection while a session
    /// is open. Does nothing on other connections.
    void notify_object_added(std::uint32_t handle);

    /// How long the driver waits before taking the next output (slow-drip); zero = no wait.
    std::chrono::milliseconds pace() const noexcept;

    role current_role() const noexcept { return role_; }
    bool session_open() const noexcept { return session_open_; }

  private:
    struct transfer;
    struct pending_data_out
    {
        std::uint16_t code = 0;
        std::uint32_t tid = 0;
        std::vector<std::uint32_t> params;
        proto::ptp::byte_vector payload;
        std::uint64_t expected = 0;
        bool started = false;
    };

    void process();
    void handle_packet(proto::ptp::bytes_view pkt);
    void handle_ptpip(proto::ptp::bytes_view pkt);
    void handle_fuji(proto::ptp::bytes_view pkt);
    void handle_fuji_init(proto::ptp::bytes_view pkt);
    void fail(std::string reason);

    /// Runs one operation (data-out payload, if any, in `data`); queues the reply.
    void operation(std::uint16_t code, std::uint32_t tid, std::vector<std::uint32_t> const& p,
                   proto::ptp::bytes_view data);
    void reply(std::uint16_t code, std::uint32_t tid, std::vector<std::uint32_t> params = {});
    void reply_data(std::uint16_t op, std::uint32_t tid, proto::ptp::bytes_view payload,
                    std::vector<std::uint32_t> params = {});
    /// Starts streaming [offset, offset+length) of a file; the response carries `params`.
    void start_transfer(std::uint16_t op, std::uint32_t tid, sim_object const& o,
                        std::uint64_t offset, std::uint64_t length,
                        std::vector<std::uint32_t> params);
    void refill();
    /// Starts a generated data phase (endless-data): `length` zero bytes in Data packets after
    /// a StartData of unknown length, then the connection is closed (no EndData).
    void start_endless(std::uint16_t op, std::uint32_t tid, std::uint64_t length);
    /// Handle as the client sees it (handles-change) and back (0 = no such handle).
    std::uint32_t external(std::uint32_t h) const noexcept;
    std::uint32_t internal(std::uint32_t h) const noexcept;
    /// The object a client handle names, or nullptr.
    sim_object const* lookup(std::uint32_t client_handle) const noexcept;
    /// camera-selected: how many photos the owner selected (the first `select` files).
    std::size_t selected_count() const noexcept;
    bool camera_selected() const noexcept
    {
        return cam_.kind == flavor::fuji && cam_.quirks.has(quirk::camera_selected);
    }

    void open_session(std::uint32_t tid, std::vector<std::uint32_t> const& p);
    void close_session();
    proto::ptp::byte_vector device_info_payload() const;
    proto::ptp::byte_vector object_info_payload(sim_object const& o) const;
    std::optional<proto::ptp::byte_vector> prop_value(std::uint16_t prop) const;

    camera& cam_;
    role role_;
    proto::ptpip::framer framer_;
    proto::ptp::byte_vector in_;  ///< received, not yet framed (held during transfers)
    proto::ptp::byte_vector out_; ///< handed to the driver
    std::size_t out_pos_ = 0;
    proto::ptp::byte_vector queue_; ///< appended replies, moved to out_ when it is drained
    std::unique_ptr<transfer> transfer_;
    std::optional<pending_data_out> data_out_;
    bool initialised_ = false;
    bool session_open_ = false;
    bool closing_ = false;
    std::string close_reason_;
    std::uint64_t content_sent_ = 0;
    std::uint32_t handle_offset_ = 0; ///< handles-change: added to every handle of this session
    std::map<std::uint16_t, std::uint32_t> props_; ///< Fuji properties the client wrote
};

} // namespace camrelay::sim
