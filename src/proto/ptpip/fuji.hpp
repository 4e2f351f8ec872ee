// Fujifilm X Wi-Fi framing (shared/protocols/ptpip-fuji.md §1.3): the 82-byte Init Command Request
// with its magic, the 68-byte Init Ack, Init Fail with PTP response codes, the PTP USB bulk
// containers used for everything after the init (ports 55740/55741), the goodbye packet and the
// 55742 live-view frames. Pure functions; any thread; never throw on input.
#pragma once

#include "core/error.hpp"
#include "proto/ptp/codes.hpp"
#include "proto/ptpip/packet.hpp"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace camrelay::proto::ptpip::fuji
{

inline constexpr std::uint16_t command_port = 55740;  ///< command/data (init + containers)
inline constexpr std::uint16_t event_port = 55741;    ///< events, after InitiateOpenCapture
inline constexpr std::uint16_t liveview_port = 55742; ///< live-view JPEG stream

/// Fuji's "protocol version" magic at offset 8 of the init (ptp-ip: version moved to the front).
inline constexpr std::uint32_t init_magic = 0x8F53E4F2;
/// The init is always exactly 82 bytes (the X-T4 closes the socket for other lengths).
inline constexpr std::size_t init_request_size = 82;
/// Bytes for the NUL-padded client name in the init (offset 28..82): 26 UCS-2 chars + NUL.
inline constexpr std::size_t init_name_bytes = 54;
inline constexpr std::size_t max_init_name_units = init_name_bytes / 2 - 1;
/// Observed Init Ack length (X-T100, X-T5): 0x44 = 68 bytes; the camera name starts at offset 28.
inline constexpr std::size_t init_ack_size = 68;
/// The GUID Fuji's own apps send (hkr and mzealey captures); the camera does not appear to check
/// it.
inline constexpr guid app_guid{std::byte{0xAD}, std::byte{0xA5}, std::byte{0x48}, std::byte{0x5D},
                               std::byte{0x87}, std::byte{0xB2}, std::byte{0x7F}, std::byte{0x0B},
                               std::byte{0xD3}, std::byte{0xD5}, std::byte{0xDE}, std::byte{0xD0},
                               std::byte{0x02}, std::byte{0x78}, std::byte{0xA8}, std::byte{0xC0}};
/// Size of a container header: u32 length, u16 type, u16 code, u32 transaction id.
inline constexpr std::size_t container_header_size = 12;
/// Size of the goodbye packet `08000000 ffffffff`.
inline constexpr std::size_t goodbye_size = 8;
/// fudge's GetPartialObject chunk, "the Fuji way".
inline constexpr std::uint32_t partial_object_chunk = 0x100000;
/// Live-view frame: u32 length + 14-byte header, then the JPEG.
inline constexpr std::size_t liveview_header_size = 4 + 14;

/// The client's init (type 1, 82 bytes): magic, GUID, UCS-2LE NUL-padded name.
struct init_request
{
    guid client_guid = app_guid;
    std::string client_name; ///< shown and remembered by the camera; at most 26 UCS-2 units
    std::uint32_t magic = init_magic;
    friend bool operator==(init_request const&, init_request const&) = default;
};

/// The camera's init ack (type 2, observed 68 bytes). The tail after the name is unknown.
struct init_ack
{
    std::uint32_t connection_number = 0;
    guid camera_guid{};
    std::string camera_name; ///< e.g. "X-T5"
    friend bool operator==(init_ack const&, init_ack const&) = default;
};

/// Appends the 82-byte init. Errors: bad_name (invalid UTF-8, NUL, or longer than 26 units).
result<void> encode(init_request const& r, byte_vector& out);
/// Decodes an 82-byte init (for the simulator). bad_length / bad_packet / unknown_packet_type.
result<init_request> decode_init_request(bytes_view whole_packet);

/// Appends a 68-byte ack (name truncated to fit, NUL-padded). Errors: bad_name.
result<void> encode(init_ack const& a, byte_vector& out);

/// The camera's answer to the init: an ack or an Init Fail (reason = PTP response code).
using init_reply = std::variant<init_ack, init_fail>;
/// Decodes the answer to the init (standard PTP/IP header). Ack: any length >= 28, name read from
/// offset 28 up to the first NUL or the end.
result<init_reply> decode_init_reply(bytes_view whole_packet);

/// Container types (the u16 at offset 4 after the init; PTP USB bulk container types).
enum class container_type : std::uint16_t
{
    command = 1,  // Command block (I->R)
    data = 2,     // Data block (either way)
    response = 3, // Response block (R->I)
    event = 4,    // Event block (R->I, port 55741)
};

/// One container. `params` for command/response/event, `payload` for data.
struct container
{
    container_type type = container_type::command;
    std::uint16_t code = 0;
    std::uint32_t transaction_id = 0;
    std::vector<std::uint32_t> params;
    byte_vector payload;
    friend bool operator==(container const&, container const&) = default;
};

/// The 8-byte `08000000 ffffffff` packet a client sends after CloseSession (fudge, hkr).
struct goodbye
{
    friend bool operator==(goodbye const&, goodbye const&) = default;
};

/// What can arrive on the command/event connections after the init.
using frame = std::variant<container, goodbye>;

/// Decodes one whole frame cut by `framer`. Errors: bad_length, unknown_packet_type (container type
/// not 1..4), bad_packet (parameter bytes not a multiple of 4), too_many_params (> 5).
result<frame> decode(bytes_view whole_frame);

/// Appends a container (params for command/response/event; payload for data). too_many_params.
result<void> encode(container const& c, byte_vector& out);
/// Appends the goodbye packet.
void encode_goodbye(byte_vector& out);

/// Convenience builders.
container make_command(std::uint16_t code, std::uint32_t tid, std::vector<std::uint32_t> params);
container make_data(std::uint16_t code, std::uint32_t tid, byte_vector payload);
container make_response(std::uint16_t code, std::uint32_t tid, std::vector<std::uint32_t> params);

/// One live-view message from port 55742: the 14-byte header and the JPEG after it.
struct liveview_frame
{
    bytes_view header; ///< 14 bytes (hkr/ptp-ip: bytes 4..7 zero, byte 8 a frame counter)
    bytes_view jpeg;   ///< starts FF D8 on every sample seen
};
/// Splits one whole live-view message (views into `whole_frame`). bad_length.
result<liveview_frame> decode_liveview(bytes_view whole_frame);

} // namespace camrelay::proto::ptpip::fuji
