// Streaming multipart/form-data splitter (RFC 7578 / RFC 2046 5.1), tolerant of what Samsung
// cameras send (samsung-sns.md 3.5, 5.1, 5.2).
//
// Feed it the request body as it arrives (e.g. the `body` spans of request_parser) and call
// finish() when the body has ended. Like request_parser, every call returns ONE event and the
// number of input bytes taken; loop until the input is used up:
//
//     multipart_parser mp(boundary);
//     for each body chunk `in`:
//         while (true) {
//             auto r = mp.feed(in); in = in.subspan(r.consumed);
//             if (r.event == multipart_event::need_more) break;   // in is empty now
//             handle(r);     // part_begin: mp.part(); part_data: r.data; part_end; done; error
//             if (r.event == done or error) stop;
//         }
//     at end of body: do { r = mp.finish(); handle(r); } while (r.event != done && != error);
//
// part_data spans point into the caller's input or into a small internal buffer (at most about
// one delimiter long); they are valid until the next call. A part is never buffered whole.
//
// Tolerated (each counted, see multipart_leniency): a body that ends without the closing `--`,
// a body that ends right after the last delimiter (the last part is kept, unlike Werkzeug), bare
// LF instead of CRLF around delimiters and in part headers, a body that ends inside a part.
// Header names and Content-Disposition parameter names match case-insensitively (`fileName`),
// values may be quoted or not; a trailing `;` on Content-Type is dropped.
#pragma once

#include "proto/http/request_parser.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace camrelay::proto::http
{

/// The `boundary` parameter of a `multipart/...` Content-Type: case-insensitive parameter name,
/// quoted or unquoted value, trailing `;`/whitespace tolerated. errc::bad_boundary if the type is
/// not multipart or the boundary is missing, empty or longer than 200 bytes.
std::error_code parse_boundary(std::string_view content_type, std::string& boundary);

/// What the headers of one part say.
struct part_info
{
    header_list headers;                 ///< all part headers, as sent
    std::string name;                    ///< Content-Disposition `name`
    std::optional<std::string> filename; ///< `filename` parameter in any case (`fileName`)
    std::string content_type;            ///< Content-Type without trailing `;` and whitespace
};

enum class multipart_leniency
{
    /// The body ended without a close delimiter `--B--`. Evidence: samsung-sns.md 5.1, vectors
    /// 10_email_nodash_crlf and 11_email_nodash_nocrlf.
    missing_close_delimiter,
    /// The body ended inside a part (no delimiter after its data); the part is closed and kept.
    /// Evidence: samsung-sns.md 5.1 "close the current part at end of body instead of discarding".
    unterminated_part,
    /// LF without CR around a delimiter or in part headers. Evidence: samsung-sns.md 5.1 ("also
    /// accept a bare LF").
    bare_lf,
};
inline constexpr std::size_t multipart_leniency_count = 3;

std::string_view to_string(multipart_leniency l) noexcept;

enum class multipart_event
{
    need_more,  ///< every byte was consumed; nothing to report
    part_begin, ///< a part's headers are complete: see part()
    part_data,  ///< `data` holds the next bytes of the current part
    part_end,   ///< the current part is complete
    done,       ///< the multipart body is complete; later bytes are ignored
    error,      ///< see `error`; sticky
};

struct multipart_result
{
    multipart_event event = multipart_event::need_more;
    std::size_t consumed = 0;
    bytes_view data;
    std::error_code error;
};

struct multipart_limits
{
    /// Bytes of one part's header block (the NX300 parts have ~100).
    std::size_t max_part_header_bytes = 8 * 1024;
};

class multipart_parser
{
  public:
    /// `boundary` without the leading `--` (as parse_boundary returns it); must not be empty.
    explicit multipart_parser(std::string boundary, multipart_limits limits = {});

    multipart_result feed(bytes_view in);
    /// The body has ended: returns the remaining events one per call (part_data of held bytes,
    /// part_end, done). errc::bad_multipart if no delimiter was ever seen.
    multipart_result finish();

    /// Headers of the current part (after part_begin, until the next part_begin).
    part_info const& part() const noexcept { return part_; }
    std::uint32_t leniency_used(multipart_leniency l) const noexcept
    {
        return lenient_[static_cast<std::size_t>(l)];
    }
    std::size_t parts_begun() const noexcept { return parts_; }

  private:
    enum class state
    {
        preamble,    ///< before the first delimiter: bytes discarded
        after_delim, ///< just after `--B`: expecting `--`, or whitespace + line end
        close_dash,  ///< saw one `-` after the delimiter
        delim_line,  ///< after transport whitespace, waiting for the line end
        delim_cr,    ///< saw CR after the delimiter
        part_headers,
        part_body,
        epilogue,  ///< after `--B--`: everything ignored
        finishing, ///< finish() queued part_end then done
        done,
        failed,
    };

    multipart_result fail(errc e, std::size_t consumed);
    multipart_result scan_body(bytes_view in, bool discard);
    std::error_code take_header_line(std::string_view line);
    void count(multipart_leniency l) noexcept { ++lenient_[static_cast<std::size_t>(l)]; }

    std::string delim_; ///< "\n--" + boundary (a preceding CR is handled separately)
    multipart_limits limits_;
    state state_ = state::preamble;
    std::string held_; ///< tail that may start a delimiter ("\r\n--B" prefix)
    std::string out_;  ///< held bytes released as data (backs a part_data span)
    std::string line_;
    std::size_t header_bytes_ = 0;
    part_info part_;
    std::size_t parts_ = 0;
    bool in_part_ = false;
    bool pending_end_ = false; ///< finish(): part_end still to report
    std::array<std::uint32_t, multipart_leniency_count> lenient_{};
    std::error_code error_;
};

} // namespace camrelay::proto::http
