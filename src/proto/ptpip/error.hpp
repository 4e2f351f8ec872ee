// Errors of the PTP/IP layer: framing, packet decoding, and the command/event session state
// machines (standard PTP/IP and the Fujifilm variant).
#pragma once

#include <system_error>

namespace camrelay::proto::ptpip
{

/// Why PTP/IP bytes could not be framed or decoded, or why a session stopped (category
/// "camrelay.ptpip"). Compare with `ec == camrelay::proto::ptpip::errc::bad_length`.
enum class errc
{
    bad_length = 1,      ///< a length field is smaller than the packet's minimum size
    packet_too_large,    ///< a length field exceeds the configured maximum packet size
    unknown_packet_type, ///< a PTP/IP packet type / Fuji container type this code does not know
    bad_packet,          ///< the packet body does not fit its type (too short, odd parameter bytes)
    unexpected_packet,   ///< a valid packet that is not allowed in the session's current state
    transaction_mismatch, ///< a data/response packet names a transaction other than the current one
    data_length_mismatch, ///< a data phase delivered more (or fewer) bytes than StartData announced
    init_refused,    ///< the responder answered the init with Init Fail (see the event's reason)
    timeout,         ///< the responder did not answer within the configured time
    session_closed,  ///< the session has ended (closed or failed); nothing more can be sent
    bad_name,        ///< a friendly name is not valid UTF-8 or too long for its field
    too_many_params, ///< more parameters than the packet can carry (5 for requests)
    data_phase_too_long, ///< a data phase is longer than its kind allows (operation::max_data_in)
    too_slow,            ///< a transfer moved less than the minimum rate over its window
};

std::error_category const& category();

inline std::error_code make_error_code(errc e)
{
    return {static_cast<int>(e), category()};
}

} // namespace camrelay::proto::ptpip

template <> struct std::is_error_code_enum<camrelay::proto::ptpip::errc> : std::true_type
{
};
