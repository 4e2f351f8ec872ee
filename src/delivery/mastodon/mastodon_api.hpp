// What the Mastodon sink and `camrelay login mastodon` share: the rule for instance URLs, the
// 0600 secret file (instance, OAuth client, access token), one HTTP exchange with the headers a
// rate limit answer carries, and reading the server's JSON answers.
//
// API reference: https://docs.joinmastodon.org/methods/ (apps, oauth, media, statuses) and
// https://docs.joinmastodon.org/api/rate-limits/.
#pragma once

#include "delivery/curl/curl.hpp"

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace camrelay::delivery::mastodon
{

/// The scopes camrelay asks for: posting statuses and media, and reading the own account
/// (verify_credentials, so `camrelay login` can show whom it logged in as).
inline constexpr std::string_view scopes = "write:statuses write:media read:accounts";
/// Out-of-band redirect: the instance shows the authorisation code for the user to paste.
inline constexpr std::string_view oob_redirect = "urn:ietf:wg:oauth:2.0:oob";

/// Contents of the secret file `camrelay login mastodon` writes.
struct credentials
{
    std::string base_url; ///< normalised instance URL, no trailing '/'
    std::string client_id;
    std::string client_secret;
    std::string access_token;
    std::string account; ///< "@name@host" as verified at login; informational
};

/// Checks an instance URL and normalises it (lower-case scheme, no trailing '/').
/// https:// is required, except http:// to 127.0.0.1, [::1] or localhost (tests, a local
/// proxy). No user info, query or fragment. On error returns false and explains in `error`.
bool check_base_url(std::string_view url, std::string& normalised, std::string& error);

/// Reads and checks the secret file: a regular file, not readable or writable by group or
/// others, with a valid base_url and (unless `require_token` is false: a login half done) a
/// non-empty access_token. On error returns false and explains in `error` (never quoting a
/// secret).
bool read_credentials(std::string const& path, credentials& out, std::string& error,
                      bool require_token = true);

/// The secret file's JSON text.
std::string credentials_text(credentials const& c);

/// One HTTP request to the instance.
struct call
{
    std::string url;
    std::string bearer;               ///< access token; empty: no Authorization header
    std::string ca_file;              ///< extra CA bundle; empty: the system's
    bool post = false;                ///< POST (with `body`, or a mime body the caller set) or GET
    std::string body;                 ///< small request body (form or JSON)
    std::string content_type;         ///< of `body`; empty with a mime body
    std::vector<std::string> headers; ///< extra "Name: value" lines
};

/// What the instance answered.
struct answer
{
    CURLcode code = CURLE_OK; ///< transport result; the rest is valid only when CURLE_OK
    long status = 0;
    std::string body;            ///< at most 1 MiB
    std::string retry_after;     ///< Retry-After header, if any
    std::string ratelimit_reset; ///< X-RateLimit-Reset header (ISO 8601), if any
};

/// Runs `c` on `e` (which may carry a CURLOPT_MIMEPOST body already): TLS verification on,
/// only http/https, no redirects, the shared timeouts, cancelled within a second by `stop`.
answer perform(curl::easy& e, call const& c, std::stop_token stop);

/// A string field of a JSON object body; nullopt when the body is no JSON object or the field
/// is absent, null or not a string. Numbers are returned as their decimal text (ids).
std::optional<std::string> json_field(std::string const& body, std::string_view key);

/// The server's explanation in an error answer: `error` (+ `error_description`), else the
/// start of the body.
std::string server_error(std::string const& body);

/// application/x-www-form-urlencoded text of the pairs.
std::string form_encode(std::vector<std::pair<std::string, std::string>> const& fields);

/// Seconds since 1970 of an ISO 8601 time such as "2024-05-01T12:00:00.000Z" or
/// "2024-05-01T14:00:00+02:00"; nullopt when not understood.
std::optional<std::int64_t> parse_iso8601(std::string_view text);

/// When a rate-limited request may be tried again, from X-RateLimit-Reset or Retry-After
/// (seconds or an HTTP date), as seconds since 1970; nullopt when the answer says nothing.
std::optional<std::int64_t> retry_time(answer const& a, std::int64_t now);

} // namespace camrelay::delivery::mastodon
