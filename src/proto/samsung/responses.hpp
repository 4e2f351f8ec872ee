// Response builders for the SNS endpoints: request facts in, the complete response bytes out
// (status line + headers + body in one buffer, to be sent with one send() and then closed:
// samsung-sns.md 1.2 "Single-segment responses"). Pure functions, no I/O, no clock, no RNG:
// the caller passes the Date text and the session key.
//
// Framing reproduces the reference (Werkzeug dev server, samsung-sns.md 1.2 and vectors/):
//   HTTP/1.0 <code> <UPPER-CASE REASON>
//   Server: <ctx.server>
//   Date: <ctx.date>
//   <app headers, e.g. ETag / a second Server>
//   Content-Type: text/html; charset=utf-8      (on every response, XML included)
//   Content-Length: <n>
//   <Location / Set-Cookie>
//   Connection: close
// Bodies are the reference's templates (repo_templates/, copies in test/data/samsung/templates)
// rendered with Jinja's escaping and without the file's final newline.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace camrelay::proto::samsung
{

/// Our Server header value (the reference sent `Werkzeug/x Python/y`; cameras ignore it).
inline constexpr std::string_view default_server = "camrelay";

struct response_context
{
    std::string_view date;                    ///< RFC 1123 date, see http_date()
    std::string_view server = default_server; ///< value of the first Server header
};

struct header_field
{
    std::string_view name;
    std::string_view value;
};

/// `Sat, 21 Nov 2026 14:29:01 GMT`.
std::string http_date(std::chrono::system_clock::time_point t);
/// Werkzeug's upper-case reason phrase (`OK`, `FOUND`, `BAD REQUEST`, ...).
std::string_view reason_phrase(int status) noexcept;
/// Jinja/markupsafe escaping: & < > " ' -> &amp; &lt; &gt; &#34; &#39;.
std::string xml_escape(std::string_view s);

/// Generic response in the reference layout. `app_headers` come after Date, `late_headers`
/// (Location, Set-Cookie) after Content-Length.
std::string make_response(response_context const& ctx, int status, std::string_view body,
                          std::span<const header_field> app_headers = {},
                          std::span<const header_field> late_headers = {});

// ---- bodies (3.0) ----
/// `<Response Status="succ" />`
std::string status_body(std::string_view status = "succ");
/// `<Response ErrCode="401" ErrSubCode="0" /><!-- Login failed -->` (comment escaped)
std::string error_body(int code, std::string_view comment, int sub_code = 0);
/// The six-line login answer (3.6), malformed `<LoginPeopleID=…/>` kept byte-identical.
std::string login_body(std::string_view session_key,
                       std::string_view screen_name = "Samsung NX Lover");
/// `<Response HostAddr="snsgw.samsungmobile.com:80" ResourceID="upload/{sid}/{file}" />`
std::string upload_ticket_body(std::string_view session_key, std::string_view file_name);
/// The landing page for other hosts (3.1 d), User-Agent escaped.
std::string index_body(std::string_view user_agent);
/// ST1000 time answer (3.2), `ms` = Unix time in milliseconds.
std::string server_time_body(std::int64_t ms);
/// Werkzeug's "Redirecting..." page.
std::string redirect_body(std::string_view location);
/// Werkzeug's abort() page: `<!doctype html>…<h1>Bad Request</h1>\n<p>{message}</p>\n`; an empty
/// message uses Werkzeug's default description for 404 and 500.
std::string abort_body(int status, std::string_view message = {});

// ---- complete responses ----
/// 3.1 (a) NX hotspot check: 200, empty body, `ETag: "deadbeef"`, `Server: nginx/notreally`.
std::string gld_hotspot_response(response_context const& ctx);
/// 302 with Location (hotspot redirect turn; `/` for GET /social/columbus/email).
std::string redirect_response(response_context const& ctx, std::string_view location);
/// 3.1 (b)(c) cookie turn: 200, `body` (YAHOO! / MSN), `Set-Cookie: samsung=hotspot;
/// Domain={domain}; Path=/` with the leading dot kept.
std::string hotspot_cookie_response(response_context const& ctx, std::string_view body,
                                    std::string_view cookie_domain);
/// Error XML with HTTP status = code (3.0).
std::string error_response(response_context const& ctx, int code, std::string_view comment);

} // namespace camrelay::proto::samsung
