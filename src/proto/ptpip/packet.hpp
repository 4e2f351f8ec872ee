// Standard PTP/IP packets (CIPA DC-X005; shared/protocols/ptpip-fuji.md §1.1): encode and decode.
//
// Every packet is `u32 Length (incl. itself) | u32 Type | body`, little-endian. `decode` takes one
// whole packet as cut by `framer` (header included) and never throws on input; `encode` appends
// one whole packet to a vector. Pure functions; any thread.
#pragma once

#include "core/error.hpp"
#include "proto/ptp/byte_io.hpp"
#include "proto/ptpip/error.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace camrelay::proto::ptpip
{

using ptp::byte_vector;
using ptp::bytes_view;

/// 16 opaque bytes identifying an initiator or responder (persist one per installation).
using guid = std::array<std::byte, 16>;

/// Default TCP port of standard PTP/IP (command and event connection).
inline constexpr std::uint16_t default_port = 15740;
/// Size of the common header: u32 Length + u32 Type.
inline constexpr std::size_t header_size = 8;
/// ProtocolVersion 1.0 (major in the high 16 bits); on the wire `00 00 01 00`.
inline constexpr std::uint32_t protocol_version_1_0 = 0x00010000;
/// StartData.TotalDataLength when the sender does not know it.
inline constexpr std::uint64_t unknown_data_length = 0xFFFFFFFFFFFFFFFFull;
/// Most parameters an Operation Request / Response carries.
inline constexpr std::size_t max_params = 5;

/// Packet types (CIPA DC-X005 §2.3; names as in the spec, gphoto names in brackets).
enum class packet_type : std::uint32_t
{
    init_command_request = 0x01, // Init_Command_Request
    init_command_ack = 0x02,     // Init_Command_Ack
    init_event_request = 0x03,   // Init_Event_Request
    init_event_ack = 0x04,       // Init_Event_Ack
    init_fail = 0x05,            // Init_Fail
    operation_request = 0x06,    // Operation_Request [Cmd_Request]
    operation_response = 0x07,   // Operation_Response [Cmd_Response]
    event = 0x08,                // Event
    start_data = 0x09,           // Start_Data
    data = 0x0A,                 // Data
    cancel = 0x0B,               // Cancel
    end_data = 0x0C,             // End_Data
    probe_request = 0x0D,        // Probe_Request [Ping]
    probe_response = 0x0E,       // Probe_Response [Pong]
};

/// Init Fail reasons of standard responders (Ricoh SDK, ptp-ip). Fuji sends PTP response codes.
enum class init_fail_reason : std::uint32_t
{
    rejected_initiator = 1, // REJECTED_INITIATOR (typically unknown GUID)
    busy = 2,               // BUSY
    unspecified = 3,        // UNSPECIFIED
};

/// Operation Request DataPhaseInfo (never send 0 or 3; see §1.1 "[unsure]").
enum class data_phase : std::uint32_t
{
    none_or_in = 1, // no data phase or data-in (responder -> initiator)
    out = 2,        // data-out (initiator -> responder)
    unknown = 3,    // unknown
};

struct init_command_request
{
    guid initiator_guid{};
    std::string friendly_name; ///< UTF-8; UCS-2LE NUL-terminated on the wire, no length prefix
    std::uint32_t protocol_version = protocol_version_1_0;
    friend bool operator==(init_command_request const&, init_command_request const&) = default;
};

struct init_command_ack
{
    std::uint32_t connection_number = 0;
    guid responder_guid{};
    std::string friendly_name;
    std::uint32_t protocol_version = protocol_version_1_0;
    friend bool operator==(init_command_ack const&, init_command_ack const&) = default;
};

struct init_event_request
{
    std::uint32_t connection_number = 0; ///< copied from the Init Command Ack
    friend bool operator==(init_event_request const&, init_event_request const&) = default;
};

struct init_event_ack
{
    friend bool operator==(init_event_ack const&, init_event_ack const&) = default;
};

struct init_fail
{
    std::uint32_t reason = 0; ///< init_fail_reason, or a PTP response code from Fuji
    friend bool operator==(init_fail const&, init_fail const&) = default;
};

struct operation_request
{
    data_phase phase = data_phase::none_or_in;
    std::uint16_t code = 0;
    std::uint32_t transaction_id = 0;
    std::vector<std::uint32_t> params; ///< 0..5
    friend bool operator==(operation_request const&, operation_request const&) = default;
};

struct operation_response
{
    std::uint16_t code = 0;
    std::uint32_t transaction_id = 0;
    std::vector<std::uint32_t> params; ///< 0..5, count = (Length - 14) / 4
    friend bool operator==(operation_response const&, operation_response const&) = default;
};

struct event
{
    std::uint16_t code = 0;
    std::uint32_t transaction_id = 0;
    std::vector<std::uint32_t> params; ///< 0..3 by the spec; up to 5 accepted
    friend bool operator==(event const&, event const&) = default;
};

struct start_data
{
    std::uint32_t transaction_id = 0;
    std::uint64_t total_length = unknown_data_length;
    friend bool operator==(start_data const&, start_data const&) = default;
};

struct data
{
    std::uint32_t transaction_id = 0;
    byte_vector payload;
    friend bool operator==(data const&, data const&) = default;
};

struct cancel
{
    std::uint32_t transaction_id = 0;
    friend bool operator==(cancel const&, cancel const&) = default;
};

struct end_data
{
    std::uint32_t transaction_id = 0;
    byte_vector payload; ///< the last chunk; may be empty
    friend bool operator==(end_data const&, end_data const&) = default;
};

struct probe_request
{
    friend bool operator==(probe_request const&, probe_request const&) = default;
};

struct probe_response
{
    friend bool operator==(probe_response const&, probe_response const&) = default;
};

/// Any standard PTP/IP packet; the index order follows packet_type (index = type - 1).
using packet = std::variant<init_command_request, init_command_ack, init_event_request,
                            init_event_ack, init_fail, operation_request, operation_response, event,
                            start_data, data, cancel, end_data, probe_request, probe_response>;

/// The wire type of a packet value.
packet_type type_of(packet const& p) noexcept;

/// Decodes one whole packet (header included). Errors: bad_length (length field differs from the
/// span or is < 8), unknown_packet_type, bad_packet, too_many_params.
result<packet> decode(bytes_view whole_packet);

/// Appends one whole packet. Errors (nothing appended): too_many_params (> 5), bad_name.
result<void> encode(packet const& p, byte_vector& out);

/// Convenience: encodes into a new vector; asserts nothing, returns the error like encode().
result<byte_vector> encode(packet const& p);

/// Appends the 8-byte header of a Data/EndData packet whose `payload_size` bytes the caller
/// appends itself (avoids copying large data-out payloads into a packet value first).
void encode_data_header(packet_type type, std::uint32_t transaction_id, std::size_t payload_size,
                        byte_vector& out);

} // namespace camrelay::proto::ptpip
