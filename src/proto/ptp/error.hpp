// Errors of the PTP dataset layer (ISO 15740 datasets, byte reader/writer).
#pragma once

#include <system_error>

namespace camrelay::proto::ptp
{

/// Why a PTP dataset could not be decoded or encoded. Decoders never throw on input; they return
/// one of these (category "camrelay.ptp").
enum class errc
{
    truncated = 1,    ///< the input ended before the dataset did (a read past the end was refused)
    bad_string,       ///< a PTP string is malformed (odd UCS-2, or not valid UTF-8 when encoding)
    string_too_long,  ///< a string needs more than 254 UCS-2 units plus NUL (limit of the u8 count)
    array_too_long,   ///< an array count is larger than the bytes left or the array limit
    bad_date_time,    ///< a DateTime string is not "YYYYMMDDThhmmss[.s][Z|+hhmm|-hhmm]"
    bad_data_type,    ///< a DevicePropDesc names a data type code this decoder does not know
    bad_form,         ///< a DevicePropDesc form flag is not 0 (none), 1 (range) or 2 (enumeration)
    trailing_bytes,   ///< a fixed-size value had extra bytes after it
    bad_entry_length, ///< a length-prefixed list entry (Fuji 0x902B) is shorter than its header
};

std::error_category const& category();

inline std::error_code make_error_code(errc e)
{
    return {static_cast<int>(e), category()};
}

} // namespace camrelay::proto::ptp

template <> struct std::is_error_code_enum<camrelay::proto::ptp::errc> : std::true_type
{
};
