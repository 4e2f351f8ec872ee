// The Samsung SNS endpoints (samsung-sns.md 3) as a sans-I/O service: the Asio server
// (sns_server.cpp) parses a request head with proto::http::request_parser, asks begin() for an
// exchange, feeds it the body as it arrives and sends the one buffer on_end() returns.
//
// What the service decides: the route (3, first match wins, 404/405 otherwise, query ignored),
// the hotspot answers (3.1, one redirect/cookie toggle per client address), the ST1000 and
// AllShare stubs (3.2-3.4), e-mail (3.5: multipart streamed, each `binary` part straight into the
// spool through object_handler::begin_receive), social login/announce/upload (3.6-3.9) with
// in-memory sessions, and what each upload becomes (`actions`, 7.3-7.6 without the reference
// defects of section 10). A 200 is only produced after every received file is finished in the
// spool and queue_message() returned, so nothing a camera was told "succ" for can be lost.
//
// Thread: not thread-safe; one thread (the server's io thread) calls everything. object_handler
// calls are blocking (spool writes, the ledger); they run on that thread too.
#pragma once

#include "core/error.hpp"
#include "ingest/source.hpp"
#include "proto/http/request_parser.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay::ingest::samsung
{

using wall_clock = std::chrono::system_clock;

/// What a target (e-mail recipient or social site) becomes (samsung-sns.md 7.3).
enum class action_kind
{
    mail,     ///< e-mail: the recipient is kept, the sink sends the mail; social: dropped
    store,    ///< the files go to the sink with the user's HMAC folder as `user_folder`
    mastodon, ///< one post per e-mail / per batch of uploads, `~` separates the alt texts
    shell,    ///< like store; the sink runs its command
    drop,     ///< nothing is kept
};

std::string_view to_string(action_kind k) noexcept;

struct destination
{
    action_kind kind = action_kind::drop;
    std::string sink; ///< empty only for drop
};

/// Parses `KIND[:SINK]` items separated by commas (`store:files, shell:log`). Returns false and
/// sets `error` on an unknown kind or a missing sink.
bool parse_destinations(std::string_view text, std::vector<destination>& out, std::string& error);

/// Parses one `actions` entry `TARGET = KIND[:SINK][, KIND:SINK...]`.
bool parse_action_entry(std::string_view text, std::string& target, std::vector<destination>& out,
                        std::string& error);

/// Werkzeug's secure_filename (samsung-sns.md 7.4): whitespace -> `_`, only [A-Za-z0-9_.-] kept,
/// path separators become `_`, leading/trailing `.` and `_` stripped. May return "".
std::string secure_filename(std::string_view name);

/// Splits at every `~` (7.6): segment 0 is the post text, the rest are alt texts.
std::vector<std::string> split_alt_texts(std::string_view text);

/// The social post text (7.6 without POSTSCRIPT, which is the mastodon sink's template):
/// segment 0 + "\n\n📷️ " + album, the camera line left out when album is empty.
std::string social_post_text(std::string_view segment0, std::string_view album);

struct service_settings
{
    std::vector<std::string> senders; ///< e-mail sender addresses and social user names
    std::string secret;               ///< HMAC key of the user folders
    std::map<std::string, std::vector<destination>, std::less<>> actions;
    std::vector<destination> email_default;  ///< empty: unlisted recipients are dropped
    std::vector<destination> social_default; ///< empty: unlisted sites' uploads are dropped
    std::size_t max_message_bytes = 65536;   ///< XML bodies and the e-mail `message` part
    std::chrono::seconds session_ttl{86400}; ///< since the session's last use
    std::string server = "camrelay";         ///< first Server header
};

/// One request being answered. Feed the body (if any) with on_body(), then call on_end() once.
class exchange
{
  public:
    virtual ~exchange() = default;
    /// Next body bytes, in order. Never fails: an exchange that no longer wants data ignores it.
    virtual void on_body(proto::http::bytes_view chunk) = 0;
    /// The body has ended (or there was none): the complete response, to be sent in one write.
    virtual std::string on_end(wall_clock::time_point now) = 0;
    /// True when the answer no longer depends on the body (404, 405, 401 "Session expired",
    /// 400 "No alt-text"...): the server may answer without reading the rest.
    virtual bool decided() const noexcept { return false; }
    /// The request ended without on_end() (the camera closed early, a limit cut it, the
    /// connection was evicted, the head or body was malformed): no answer goes out and the
    /// exchange is destroyed next, discarding unfinished files. It reports what the camera sent
    /// and lost (log line, object_unreadable): nothing a camera sent disappears unsaid.
    /// `timeout`: a time limit cut it (the camera was too slow), not a protocol error.
    virtual void on_abort(std::string_view why, bool timeout)
    {
        (void)why;
        (void)timeout;
    }
};

class sns_service
{
  public:
    sns_service(service_settings settings, object_handler& out);
    ~sns_service();
    sns_service(sns_service const&) = delete;
    sns_service& operator=(sns_service const&) = delete;

    /// Routes a complete request head from `client` (address text, the key of the hotspot
    /// toggle). The returned exchange may refer to this service: destroy it first.
    std::unique_ptr<exchange> begin(proto::http::request const& req, std::string const& client,
                                    wall_clock::time_point now);

    /// A Werkzeug-style error page (400 bad request, 413, 500) for failures the server finds
    /// before or instead of an exchange.
    std::string error_page(int status, std::string_view message, wall_clock::time_point now) const;

    /// Sessions alive now (expired ones are dropped on the next begin()).
    std::size_t session_count() const noexcept;

    struct session;
    struct impl;

  private:
    std::unique_ptr<impl> impl_;
};

} // namespace camrelay::ingest::samsung
