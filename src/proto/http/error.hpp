// Errors of the lenient HTTP/1.x request parser and the multipart/form-data splitter.
#pragma once

#include <system_error>

namespace camrelay::proto::http
{

/// Why request bytes could not be parsed (category "camrelay.http"). Compare with
/// `ec == camrelay::proto::http::errc::header_too_large`. Every parser error is sticky until
/// reset().
enum class errc
{
    bad_request_line =
        1,            ///< request line is not `METHOD SP target SP HTTP/1.x` (any whitespace runs)
    bad_method,       ///< method contains characters outside the RFC 9110 token set
    bad_target,       ///< request target is neither origin-form (`/...`) nor `http://host/...`
    bad_version,      ///< version is not `HTTP/1.<digit>` (HTTP/0.9 and 2+ are refused)
    bad_header,       ///< a header line has no colon, an empty/invalid name, or a control byte
    header_too_large, ///< request line + headers exceed the configured `max_header_bytes`
    body_too_large,   ///< Content-Length or the chunked sum exceeds `max_body_bytes`
    bad_content_length, ///< Content-Length is not a decimal number, or repeated with other values
    bad_transfer_encoding, ///< Transfer-Encoding other than `chunked`, or with Content-Length too
    bad_chunk,             ///< a chunk-size line or the CRLF after chunk data is malformed
    bad_boundary,          ///< Content-Type carries no usable multipart boundary parameter
    bad_multipart,         ///< multipart body: no delimiter at all, or junk right after a delimiter
    part_header_too_large, ///< one part's header block exceeds the configured limit
    bad_part_header,       ///< a part header line has no colon or an empty name
};

std::error_category const& category();

inline std::error_code make_error_code(errc e)
{
    return {static_cast<int>(e), category()};
}

} // namespace camrelay::proto::http

template <> struct std::is_error_code_enum<camrelay::proto::http::errc> : std::true_type
{
};
