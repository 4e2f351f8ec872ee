// Errors of the SSDP message parser (discovery of Wi-Fi cameras that announce themselves).
#pragma once

#include <system_error>

namespace camrelay::proto::ssdp
{

/// Why a datagram is not an SSDP message this code can read (category "camrelay.ssdp"). Compare
/// with `ec == camrelay::proto::ssdp::errc::bad_start_line`.
enum class errc
{
    empty = 1,      ///< the datagram has no bytes (or only blank lines)
    too_large,      ///< the datagram exceeds the parser's size limit
    bad_start_line, ///< not `NOTIFY * HTTP/1.x`, `M-SEARCH * HTTP/1.x` nor `HTTP/1.x 200 ...`
    bad_status,     ///< a response with a status other than 200
    bad_header,     ///< a header line without colon, with an empty name, or a control byte
    missing_field,  ///< a required field is absent (NOTIFY: NT and NTS; response: ST)
};

std::error_category const& category();

inline std::error_code make_error_code(errc e)
{
    return {static_cast<int>(e), category()};
}

} // namespace camrelay::proto::ssdp

template <> struct std::is_error_code_enum<camrelay::proto::ssdp::errc> : std::true_type
{
};
