// Lenient, sans-I/O HTTP/1.x request parser for camera uploads (Samsung SNS first).
//
// Why not Beast: see STYLE.md 3.4 — Beast's parser is strict by design and rejects what the
// cameras send. Every deviation from RFC 9110/9112 this parser accepts is a named `leniency`,
// counted per parser, so the session can log which ones a device needed.
//
// Tri-state, bytes-consumed (like ptpip::framer). feed() returns ONE event per call and how many
// input bytes it took; the caller loops:
//
//     while (true) {
//         auto r = p.feed(in);
//         in = in.subspan(r.consumed);
//         switch (r.status) {
//         case parse_status::need_more: read more; (in is empty here) break;
//         case parse_status::headers_done: route(p.request()); continue; // feed again, even empty
//         case parse_status::body: write(r.body); continue;   // r.body points INTO `in`
//         case parse_status::message_done: respond; p.reset() for keep-alive; break;
//         case parse_status::error: r.error; answer 400 and close; break;
//         }
//     }
//
// After headers_done, keep calling feed() (with an empty span if nothing is left) until it says
// need_more or message_done: a request without body reports message_done right away. Body bytes
// are never buffered: `body` spans alias the caller's input and are valid as long as it is.
//
// Body framing for requests (RFC 9112 6.3): Transfer-Encoding: chunked, else Content-Length, else
// no body. A close-delimited request body is impossible (the client could not half-close and still
// read the answer), so a request with neither header has an empty body; the cameras always send
// Content-Length. Chunk extensions and trailers are read and dropped.
//
// Not thread-safe; no I/O; never throws on input.
#pragma once

#include "proto/http/error.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace camrelay::proto::http
{

using bytes_view = std::span<const std::byte>;

/// ASCII case-insensitive equality (header names, parameter names, schemes).
bool iequals(std::string_view a, std::string_view b) noexcept;

/// Header fields in arrival order; repeated fields are all kept. Names keep the sender's case.
struct header_list
{
    std::vector<std::pair<std::string, std::string>> fields;

    /// First value of `name` (case-insensitive), or nullopt.
    std::optional<std::string_view> find(std::string_view name) const noexcept;
    /// Every value of `name` (case-insensitive), in order.
    std::vector<std::string_view> find_all(std::string_view name) const;
    std::size_t count(std::string_view name) const noexcept;
};

/// Deviations from RFC 9110/9112 that the parser accepts. Each is counted when used.
enum class leniency
{
    /// Line ended by LF alone. Evidence: STYLE.md 3.4 names it; the published Samsung captures
    /// (samsung/published/*.txt) are transcribed with LF line ends.
    bare_lf,
    /// `Name:value` without a space. Evidence: NX300 e-mail capture `Authorization:OAuth`,
    /// `x-osp-version:v1` (samsung-sns.md 5.3).
    no_space_after_colon,
    /// Request line with several spaces/tabs between parts, or trailing whitespace. Evidence:
    /// NX300 e-mail capture `POST /social/columbus/email?DUID=…  HTTP/1.0` (two spaces, 5.3).
    extra_whitespace_in_request_line,
    /// Request without `Host` (legal for HTTP/1.0, counted anyway so logs show it; also accepted
    /// for HTTP/1.1). Evidence: FOSDEM 2025 slide capture of the NX300 e-mail POST has no Host.
    missing_host,
    /// Same field name more than once (counted per extra occurrence) where the RFC only allows
    /// list-valued fields. Evidence: two `User-Agent` headers in the NX300 e-mail capture (5.3).
    repeated_header,
    /// `http://host[:port]/path` request target sent to an origin server. Evidence: slides/wiki
    /// write `POST http://www.ospserver.net/… HTTP/1.0` and `POST http://snsgw…/facebook/auth`
    /// (5.3).
    absolute_form_target,
    /// Header continuation line starting with SP/HT (obsolete line folding, RFC 9112 5.2); joined
    /// with one space. Evidence: STYLE.md 3.4 lists obs-fold for cheap Wi-Fi uploaders.
    obs_fold,
};
inline constexpr std::size_t leniency_count = 7;

/// Stable lower-case name for logs (`leniency=bare_lf`).
std::string_view to_string(leniency l) noexcept;

/// How often each leniency was used; index with `static_cast<std::size_t>(leniency)`.
struct leniency_counters
{
    std::array<std::uint32_t, leniency_count> counts{};

    std::uint32_t operator[](leniency l) const noexcept
    {
        return counts[static_cast<std::size_t>(l)];
    }
    void add(leniency l) noexcept { ++counts[static_cast<std::size_t>(l)]; }
    bool any() const noexcept;
};

/// The parsed request head (valid from headers_done until reset()).
struct request
{
    std::string method;    ///< as sent (case kept; methods are case-sensitive)
    std::string target;    ///< as sent, e.g. `/a?b` or `http://host/a?b`
    std::string path;      ///< path of the target without query; `/` if absolute-form had none
    std::string query;     ///< text after `?` (without it), empty if none
    std::string authority; ///< `host[:port]` of an absolute-form target, else empty
    int version_minor = 1; ///< HTTP/1.<version_minor>
    header_list headers;
    std::uint64_t content_length = 0; ///< declared length (0 for chunked or no body)
    bool chunked = false;

    /// Host header value, else the authority of an absolute-form target, else empty.
    std::string_view host() const noexcept;
    /// HTTP/1.1 without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`.
    bool keep_alive() const noexcept;
};

struct request_limits
{
    /// Request line + all header lines including line ends. The NX300 e-mail head is ~1 KiB.
    std::size_t max_header_bytes = 16 * 1024;
    /// Content-Length / sum of chunks. Photos are a few MiB; videos larger.
    std::uint64_t max_body_bytes = std::uint64_t{4} << 30;
};

enum class parse_status
{
    need_more,    ///< every byte was consumed; nothing to report yet
    headers_done, ///< request() is complete; call feed() again for the body
    body,         ///< `body` holds the next body bytes (alias into the input)
    message_done, ///< the message is complete; reset() before the next one
    error,        ///< see `error`; sticky until reset()
};

struct parse_result
{
    parse_status status = parse_status::need_more;
    std::size_t consumed = 0; ///< bytes of the input taken by this call
    bytes_view body;          ///< for parse_status::body
    std::error_code error;    ///< for parse_status::error
};

class request_parser
{
  public:
    explicit request_parser(request_limits limits = {}) : limits_(limits) {}

    /// Takes bytes until the next event (see the file comment).
    parse_result feed(bytes_view in);

    /// The request head; complete after headers_done.
    http::request const& request() const noexcept { return req_; }
    /// Leniencies used since construction (reset() keeps them: counts are per connection).
    leniency_counters const& leniencies() const noexcept { return lenient_; }
    request_limits const& limits() const noexcept { return limits_; }
    /// Body bytes delivered so far for the current message.
    std::uint64_t body_received() const noexcept { return body_seen_; }

    /// Prepares for the next request on the same connection (keep-alive): forgets the request
    /// and a sticky error, keeps the leniency counters.
    void reset() noexcept;

  private:
    enum class state
    {
        request_line,
        headers,
        after_headers,
        body_length,
        chunk_size,
        chunk_data,
        chunk_data_end,
        trailers,
        done,
        failed,
    };

    parse_result fail(errc e, std::size_t consumed);
    std::error_code take_line(std::string_view line);
    std::error_code parse_request_line(std::string_view line);
    std::error_code parse_header_line(std::string_view line);
    std::error_code finish_head();
    parse_result feed_chunk_line(bytes_view in, bool trailer);

    request_limits limits_;
    http::request req_;
    leniency_counters lenient_;
    state state_ = state::request_line;
    std::string line_;           ///< the current incomplete line (head, chunk-size or trailer)
    std::size_t head_bytes_ = 0; ///< bytes of the head taken so far
    std::uint64_t remaining_ = 0;
    std::uint64_t body_seen_ = 0;
    std::error_code error_;
};

} // namespace camrelay::proto::http
