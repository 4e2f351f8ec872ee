// Samsung SNS endpoints, sans I/O. Section numbers refer to shared/protocols/samsung-sns.md.
#include "ingest/samsung/sns_service.hpp"

#include "core/log.hpp"
#include "proto/http/multipart.hpp"
#include "proto/samsung/crypto.hpp"
#include "proto/samsung/error.hpp"
#include "proto/samsung/requests.hpp"
#include "proto/samsung/responses.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <utility>

namespace camrelay::ingest::samsung
{

namespace
{

namespace http = proto::http;
namespace sp = proto::samsung;

constexpr auto log_tag = "samsung";

/// 3.6: the sites the NX300 and NX mini firmware know (lower case, exact).
constexpr std::array<std::string_view, 17> known_sites = {
    "facebook",   "picasa",   "youtube",  "photobucket", "samsungimaging", "cyworld",
    "me2day",     "poco",     "weibo",    "renren",      "vkontakte",      "odnoklassniki",
    "kakaostory", "evernote", "skydrive", "flickr",      "dropbox"};
/// Their login is an OAuth flow nobody has reverse-engineered (2.4).
constexpr std::array<std::string_view, 3> oauth_sites = {"skydrive", "flickr", "dropbox"};
/// 3.8: only these announce videos; the reference's 401 for them is a defect (10 item 1).
constexpr std::array<std::string_view, 2> video_sites = {"facebook", "youtube"};

// Bounds on per-client state, so a flood of addresses or logins cannot grow memory for ever.
constexpr std::size_t max_toggle_clients = 4096;
constexpr std::size_t max_sessions = 4096;
/// Lost files reported as unreadable and not yet received again: beyond this many (a hostile
/// sender making up names) they are only logged and counted.
constexpr std::size_t max_lost_reported = 1024;

template <std::size_t N> bool one_of(std::array<std::string_view, N> const& set, std::string_view s)
{
    return std::find(set.begin(), set.end(), s) != set.end();
}

std::string random_hex(std::size_t bytes)
{
    std::vector<unsigned char> raw(bytes);
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    {
        // OpenSSL's CSPRNG only fails when it cannot be seeded; the kernel's is the same source.
        std::random_device rd;
        for (auto& b : raw)
            b = static_cast<unsigned char>(rd());
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    for (auto b : raw)
    {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::vector<std::string> split_path(std::string_view path)
{
    std::vector<std::string> out;
    if (path.starts_with('/'))
        path.remove_prefix(1);
    while (true)
    {
        auto slash = path.find('/');
        auto seg = path.substr(0, slash);
        // Werkzeug routes on the decoded path; a bad escape stays as sent.
        auto dec = sp::percent_decode(seg);
        out.push_back(dec ? *dec : std::string(seg));
        if (slash == std::string_view::npos)
            break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

std::string query_value(std::string_view query, std::string_view key)
{
    while (!query.empty())
    {
        auto amp = query.find('&');
        auto item = query.substr(0, amp);
        auto eq = item.find('=');
        if (eq != std::string_view::npos && item.substr(0, eq) == key)
        {
            auto dec = sp::percent_decode(item.substr(eq + 1));
            return dec ? *dec : std::string(item.substr(eq + 1));
        }
        if (amp == std::string_view::npos)
            break;
        query.remove_prefix(amp + 1);
    }
    return {};
}

/// A camera-supplied identifier made printable and short enough for logs and the ledger.
std::string tidy_id(std::string_view s)
{
    std::string out;
    for (char c : s)
        if (static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f)
            out.push_back(c);
    if (out.size() > 64)
        out.resize(64);
    return out;
}

std::string media_type(std::string_view type)
{
    auto t = std::string(trim(type));
    if (auto semi = t.find(';'); semi != std::string::npos)
        t = std::string(trim(std::string_view(t).substr(0, semi)));
    // 5.3: some cameras label JPEGs with IE's old `image/pjpeg`; nothing downstream knows it.
    if (http::iequals(t, "image/pjpeg"))
        return "image/jpeg";
    return t.empty() ? "application/octet-stream" : t;
}

/// Sorted names stay unique within one message folder (the ledger keys objects by folder+name).
std::string unique_name(std::set<std::string>& taken, std::string name)
{
    if (name.empty())
        name = "file";
    if (taken.insert(name).second)
        return name;
    auto dot = name.rfind('.');
    auto stem = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
    auto ext = dot == std::string::npos || dot == 0 ? std::string{} : name.substr(dot);
    for (int n = 2;; ++n)
    {
        auto candidate = stem + "-" + std::to_string(n) + ext;
        if (taken.insert(candidate).second)
            return candidate;
    }
}

std::int64_t unix_seconds(wall_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

/// Everything after the head is dropped for HEAD (Werkzeug keeps Content-Length).
std::string strip_body(std::string response)
{
    auto end = response.find("\r\n\r\n");
    if (end != std::string::npos)
        response.resize(end + 4);
    return response;
}

using builder = std::function<std::string(sp::response_context const&)>;

class ready_exchange final : public exchange
{
  public:
    ready_exchange(std::string server, builder b) : server_(std::move(server)), build_(std::move(b))
    {
    }
    void on_body(http::bytes_view) override {}
    std::string on_end(wall_clock::time_point now) override
    {
        auto date = sp::http_date(now);
        return build_({date, server_});
    }
    bool decided() const noexcept override { return true; }

  private:
    std::string server_;
    builder build_;
};

/// Reads and drops the body, then answers (uploads to a dropped destination: the camera must
/// see success, and only after it could send everything).
class discard_exchange final : public exchange
{
  public:
    discard_exchange(std::string server, builder b)
        : server_(std::move(server)), build_(std::move(b))
    {
    }
    void on_body(http::bytes_view) override {}
    std::string on_end(wall_clock::time_point now) override
    {
        auto date = sp::http_date(now);
        return build_({date, server_});
    }

  private:
    std::string server_;
    builder build_;
};

class head_exchange final : public exchange
{
  public:
    explicit head_exchange(std::unique_ptr<exchange> inner) : inner_(std::move(inner)) {}
    void on_body(http::bytes_view chunk) override { inner_->on_body(chunk); }
    std::string on_end(wall_clock::time_point now) override
    {
        return strip_body(inner_->on_end(now));
    }
    bool decided() const noexcept override { return inner_->decided(); }
    void on_abort(std::string_view why, bool timeout) override { inner_->on_abort(why, timeout); }

  private:
    std::unique_ptr<exchange> inner_;
};

using collected_handler =
    std::function<std::string(std::string const& body, sp::response_context const&)>;

/// XML bodies (login, announcements): small, collected whole up to max_message_bytes.
class collect_exchange final : public exchange
{
  public:
    collect_exchange(std::string server, std::size_t limit, collected_handler h)
        : server_(std::move(server)), limit_(limit), handle_(std::move(h))
    {
    }
    void on_body(http::bytes_view chunk) override
    {
        if (too_big_)
            return;
        if (body_.size() + chunk.size() > limit_)
        {
            too_big_ = true;
            body_.clear();
            return;
        }
        body_.append(reinterpret_cast<char const*>(chunk.data()), chunk.size());
    }
    std::string on_end(wall_clock::time_point now) override
    {
        auto date = sp::http_date(now);
        sp::response_context ctx{date, server_};
        if (too_big_)
            return sp::make_response(ctx, 413, sp::abort_body(413, "Request body too large"));
        return handle_(body_, ctx);
    }

  private:
    std::string server_;
    std::size_t limit_;
    collected_handler handle_;
    std::string body_;
    bool too_big_ = false;
};

} // namespace

// ------------------------------------------------------------------------------ free helpers

std::string_view to_string(action_kind k) noexcept
{
    switch (k)
    {
    case action_kind::mail:
        return "mail";
    case action_kind::store:
        return "store";
    case action_kind::mastodon:
        return "mastodon";
    case action_kind::shell:
        return "shell";
    case action_kind::drop:
        return "drop";
    }
    return "drop";
}

bool parse_destinations(std::string_view text, std::vector<destination>& out, std::string& error)
{
    out.clear();
    while (true)
    {
        auto comma = text.find(',');
        auto item = trim(text.substr(0, comma));
        auto colon = item.find(':');
        auto kind_text = trim(item.substr(0, colon));
        auto sink =
            colon == std::string_view::npos ? std::string_view{} : trim(item.substr(colon + 1));
        destination d;
        if (kind_text == "mail")
            d.kind = action_kind::mail;
        else if (kind_text == "store")
            d.kind = action_kind::store;
        else if (kind_text == "mastodon")
            d.kind = action_kind::mastodon;
        else if (kind_text == "shell")
            d.kind = action_kind::shell;
        else if (kind_text == "drop")
            d.kind = action_kind::drop;
        else
        {
            error = "unknown action '" + std::string(kind_text) +
                    "' (mail, store, mastodon, shell or drop)";
            return false;
        }
        if (d.kind != action_kind::drop && sink.empty())
        {
            error = "action '" + std::string(kind_text) +
                    "' needs a sink: " + std::string(kind_text) + ":SINK";
            return false;
        }
        d.sink = std::string(sink);
        out.push_back(std::move(d));
        if (comma == std::string_view::npos)
            break;
        text.remove_prefix(comma + 1);
    }
    return true;
}

bool parse_action_entry(std::string_view text, std::string& target, std::vector<destination>& out,
                        std::string& error)
{
    // The target may itself contain '=' only in theory (addresses do not); split at the last one
    // would break `a = b:c=d` sinks, so the first '=' it is, as documented.
    auto eq = text.find('=');
    if (eq == std::string_view::npos)
    {
        error = "'" + std::string(text) + "' is not TARGET = KIND[:SINK]";
        return false;
    }
    target = std::string(trim(text.substr(0, eq)));
    if (target.empty())
    {
        error = "'" + std::string(text) + "' has no target before '='";
        return false;
    }
    return parse_destinations(text.substr(eq + 1), out, error);
}

std::string secure_filename(std::string_view name)
{
    // Werkzeug: NFKD + ASCII-only, separators -> space, whitespace runs -> `_`, drop everything
    // outside [A-Za-z0-9_.-], strip `._` at both ends. Non-ASCII bytes are dropped here without
    // the NFKD transliteration (so `é` vanishes instead of becoming `e`).
    std::string spaced;
    for (char c : name)
    {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x80)
            continue;
        spaced.push_back(c == '/' ? ' ' : c);
    }
    auto is_space = [](unsigned char c)
    { return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f); };
    std::string joined;
    std::size_t i = 0;
    while (i < spaced.size())
    {
        while (i < spaced.size() && is_space(static_cast<unsigned char>(spaced[i])))
            ++i;
        auto start = i;
        while (i < spaced.size() && !is_space(static_cast<unsigned char>(spaced[i])))
            ++i;
        if (i > start)
        {
            if (!joined.empty())
                joined.push_back('_');
            joined.append(spaced, start, i - start);
        }
    }
    std::string kept;
    for (char c : joined)
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '.' || c == '-')
            kept.push_back(c);
    auto first = kept.find_first_not_of("._");
    if (first == std::string::npos)
        return {};
    auto last = kept.find_last_not_of("._");
    kept = kept.substr(first, last - first + 1);
    if (kept.size() > 200)
        kept.resize(200);
    return kept;
}

std::vector<std::string> split_alt_texts(std::string_view text)
{
    std::vector<std::string> out;
    while (true)
    {
        auto tilde = text.find('~');
        out.emplace_back(text.substr(0, tilde));
        if (tilde == std::string_view::npos)
            return out;
        text.remove_prefix(tilde + 1);
    }
}

std::string social_post_text(std::string_view segment0, std::string_view album)
{
    std::string out(segment0);
    if (!album.empty())
    {
        out += "\n\n\xF0\x9F\x93\xB7\xEF\xB8\x8F "; // U+1F4F7 U+FE0F, then one space (7.6)
        out += album;
    }
    return out;
}

// ------------------------------------------------------------------------------ the service

struct sns_service::session
{
    std::string sid;
    std::string user;
    std::string site;
    std::string user_folder;
    wall_clock::time_point last_used;
    std::string album;
    std::string content;
    // The Mastodon batch being collected (7.6 social variant).
    std::vector<message_part> batch;
    std::vector<std::string> batch_names; ///< file names of `batch`, for reports
    std::vector<std::pair<std::string, std::string>> batch_recipients;
    std::string batch_content;
    std::string batch_album;
    int messages = 0;        ///< one-part messages formed so far: unique object folders
    int posts = 0;           ///< Mastodon batches queued so far: unique object folders
    bool batch_done = false; ///< the last batch was posted; the next one needs a new /photo
    /// The file the last /photo or /video announced (sanitised), until its PUT begins: a file
    /// announced and never sent is reported, not forgotten.
    std::string announced;
    bool announced_open = false;
};

struct sns_service::impl
{
    impl(service_settings st, object_handler& o) : s(std::move(st)), out(o) {}

    service_settings s;
    object_handler& out;
    std::map<std::string, std::shared_ptr<session>, std::less<>> sessions;
    std::map<std::string, bool, std::less<>> cookie_turn; ///< client -> next answer is the cookie
    std::map<std::string, std::int64_t, std::less<>> cameras;
    /// (camera, problem key) reported unreadable and not received since.
    std::set<std::pair<std::int64_t, std::string>> lost;
    std::uint64_t lost_unreported = 0;

    /// A file the camera sent (or announced) that is not kept: object_unreadable (a camera event
    /// with folder/name and reason, counted, an unresolved failure) until the camera sends it
    /// again. `folder` is the site or "email": what stays the same when the camera retries.
    void report_lost(std::int64_t camera_id, std::string folder, std::string name,
                     std::string reason, bool timeout = false)
    {
        object_problem p;
        p.folder = std::move(folder);
        p.name = name.empty() ? "file" : std::move(name);
        p.reason = std::move(reason);
        p.timeout = timeout;
        auto key = std::make_pair(camera_id, p.key());
        if (!lost.contains(key) && lost.size() >= max_lost_reported)
        {
            ++lost_unreported;
            log::warn(log_tag,
                      "{} not kept: {} (not reported as an event: {} lost files "
                      "outstanding; lost_unreported={})",
                      p.key(), p.reason, lost.size(), lost_unreported);
            return;
        }
        log::warn(log_tag, "{} not kept: {}", p.key(), p.reason);
        lost.insert(std::move(key));
        out.object_unreadable(camera_id, p);
    }

    /// A file stored: one reported lost earlier under the same name is resolved.
    void report_stored(std::int64_t camera_id, std::string const& folder, std::string const& name)
    {
        object_problem p;
        p.folder = folder;
        p.name = name.empty() ? "file" : name;
        if (lost.erase({camera_id, p.key()}) != 0)
            out.object_recovered(camera_id, p);
    }

    /// The announced file of `ses` never came (`why`): reported.
    void announced_lost(session& ses, std::string const& why);

    bool whitelisted(std::string_view who) const
    {
        return std::find(s.senders.begin(), s.senders.end(), who) != s.senders.end();
    }

    std::vector<destination> const* actions_for(std::string_view target) const
    {
        if (auto it = s.actions.find(target); it != s.actions.end())
            return &it->second;
        return nullptr;
    }

    result<std::int64_t> camera(camera_info const& cam)
    {
        if (auto it = cameras.find(cam.identity); it != cameras.end())
            return it->second;
        auto id = out.camera_connected(cam);
        if (id)
            cameras.emplace(cam.identity, *id);
        return id;
    }

    std::unique_ptr<exchange> ready(builder b) const
    {
        return std::make_unique<ready_exchange>(s.server, std::move(b));
    }
    std::unique_ptr<exchange> abort(int status, std::string message = {}) const
    {
        return ready([status, message](sp::response_context const& ctx)
                     { return sp::make_response(ctx, status, sp::abort_body(status, message)); });
    }
    std::unique_ptr<exchange> error_xml(int code, std::string comment) const
    {
        return ready([code, comment](sp::response_context const& ctx)
                     { return sp::error_response(ctx, code, comment); });
    }
    std::unique_ptr<exchange> collect(collected_handler h) const
    {
        return std::make_unique<collect_exchange>(s.server, s.max_message_bytes, std::move(h));
    }

    void sweep(wall_clock::time_point now);
    bool flush_batch(session& ses, char const* why);
    camera_info social_camera(session const& ses) const;

    std::unique_ptr<exchange> get_root(http::request const& req, std::string const& client);
    std::unique_ptr<exchange> email(http::request const& req, std::string const& client,
                                    wall_clock::time_point now);
    std::unique_ptr<exchange> auth(std::string const& site, wall_clock::time_point now);
    std::unique_ptr<exchange> announce(std::string const& site, sp::media_kind kind,
                                       wall_clock::time_point now);
    std::unique_ptr<exchange> put(std::string const& sid, std::string const& file,
                                  http::request const& req, wall_clock::time_point now);
};

namespace
{

/// 3.5: the e-mail POST. The `message` part is collected (small), each `binary` part streams
/// into its own spool file. Files stay unfinished (discarded on destruction) until the whole
/// request has been judged: a rejected sender or a failed write leaves nothing behind.
class email_exchange final : public exchange
{
  public:
    email_exchange(sns_service::impl& svc, std::string client, std::string duid,
                   std::optional<std::string> boundary, wall_clock::time_point now)
        : svc_(svc), client_(std::move(client)), duid_(std::move(duid)), started_(now),
          folder_("email-" + random_hex(8))
    {
        if (boundary)
            mp_.emplace(*boundary);
    }

    void on_body(http::bytes_view in) override
    {
        if (!mp_ || stopped_)
            return;
        while (true)
        {
            auto r = mp_->feed(in);
            in = in.subspan(r.consumed);
            if (r.event == http::multipart_event::need_more)
                break;
            handle(r);
            if (stopped_)
                break;
        }
    }

    std::string on_end(wall_clock::time_point now) override
    {
        while (mp_ && !stopped_)
        {
            auto r = mp_->finish();
            if (r.event == http::multipart_event::need_more)
                break;
            handle(r);
        }
        auto date = sp::http_date(now);
        sp::response_context ctx{date, svc_.s.server};
        return judge(ctx);
    }

    void on_abort(std::string_view why, bool timeout) override
    {
        lose_all("the e-mail was cut short: " + std::string(why) +
                     "; the camera was not told it arrived",
                 timeout);
    }

  private:
    enum class part_kind
    {
        skip,
        message,
        binary,
    };

    struct received
    {
        std::unique_ptr<incoming_file> file;
        std::string name;
    };

    void handle(http::multipart_result const& r)
    {
        switch (r.event)
        {
        case http::multipart_event::part_begin:
            begin_part(mp_->part());
            break;
        case http::multipart_event::part_data:
            if (cur_ == part_kind::message)
            {
                if (message_xml_.size() + r.data.size() > svc_.s.max_message_bytes)
                    message_too_big_ = true;
                else
                    message_xml_.append(reinterpret_cast<char const*>(r.data.data()),
                                        r.data.size());
            }
            else if (cur_ == part_kind::binary)
            {
                if (auto ec = files_.back().file->write(r.data))
                {
                    log::error(log_tag, "e-mail client={} file={}: spool write failed: {}", client_,
                               files_.back().name, ec.message());
                    failed_ = ec;
                    files_.back().file.reset();
                    cur_ = part_kind::skip;
                }
            }
            break;
        case http::multipart_event::part_end:
            if (cur_ == part_kind::message)
                message_done();
            cur_ = part_kind::skip;
            break;
        case http::multipart_event::done:
            stopped_ = true;
            break;
        case http::multipart_event::error:
            // What the camera sent cannot be read to its end: nothing of it is kept and the
            // camera is answered 400 (it shows an error and can send again), rather than a
            // "succ" for a message missing the photos from here on. (A body that merely ends
            // without its close delimiter is no error: multipart_leniency.)
            log::warn(log_tag, "e-mail client={}: multipart stopped: {}", client_,
                      r.error.message());
            broken_ = r.error;
            cur_ = part_kind::skip;
            stopped_ = true;
            break;
        case http::multipart_event::need_more:
            break;
        }
    }

    void begin_part(http::part_info const& part)
    {
        cur_ = part_kind::skip;
        // Werkzeug keeps only parts with a filename as files and the reference then wants the
        // file named `message` (3.5); a message part without filename is accepted too.
        if (part.name == "message")
        {
            if (!message_seen_)
            {
                message_seen_ = true;
                cur_ = part_kind::message;
            }
            return;
        }
        if (part.name != "binary" || !part.filename)
        {
            // Werkzeug's request.files has it, the reference never looked at it: no camera
            // sends one. Not a photo of the message, but not dropped unsaid either.
            if (part.filename && ignored_.size() < 16)
                ignored_.push_back(part.name + "=" + tidy_id(*part.filename));
            return;
        }
        if (rejected_ || failed_)
            return;
        if (camera_id_ < 0)
        {
            cam_ = email_camera();
            auto id = svc_.camera(cam_);
            if (!id)
            {
                failed_ = id.error();
                return;
            }
            camera_id_ = *id;
        }
        object_ref obj;
        obj.folder = folder_;
        obj.name = unique_name(names_, secure_filename(*part.filename));
        obj.mtime = unix_seconds(started_);
        obj.mime = media_type(part.content_type);
        auto f = svc_.out.begin_receive(camera_id_, cam_, obj);
        if (!f)
        {
            log::error(log_tag, "e-mail client={} file={}: cannot open spool file: {}", client_,
                       obj.name, f.error().message());
            failed_ = f.error();
            return;
        }
        files_.push_back({std::move(*f), obj.name});
        cur_ = part_kind::binary;
    }

    void message_done()
    {
        if (message_too_big_)
            return;
        auto m = sp::parse_email_message(message_xml_);
        if (!m)
        {
            log::warn(log_tag, "e-mail client={}: unreadable message part: {}", client_,
                      m.error().message());
            return;
        }
        msg_ = std::move(*m);
        if (!svc_.whitelisted(msg_->sender_address()))
        {
            // Drop what arrived so far and skip the rest: nothing of a stranger is kept.
            rejected_ = true;
            files_.clear();
        }
    }

    camera_info email_camera() const
    {
        camera_info cam;
        cam.source_kind = "samsung";
        cam.manufacturer = "Samsung";
        cam.port = client_;
        auto duid = tidy_id(duid_);
        if (!duid.empty())
        {
            cam.identity = "samsung:" + duid;
            cam.serial = duid;
            cam.name = "Samsung " + duid;
        }
        else if (msg_)
        {
            cam.identity = "samsung:" + tidy_id(msg_->sender_address());
            cam.name = msg_->sender_address();
        }
        else
        {
            // The parts came before the message part and no DUID was sent: no camera seen yet
            // does this; they share one identity rather than inventing one per request.
            cam.identity = "samsung:unknown";
            cam.name = "Samsung camera";
        }
        return cam;
    }

    std::string judge(sp::response_context const& ctx)
    {
        if (message_too_big_)
        {
            lose_all("the e-mail's message part is too large (max_message_bytes): answered 413");
            return sp::make_response(ctx, 413, sp::abort_body(413, "'message' part too large"));
        }
        if (!msg_)
        {
            lose_all("the e-mail has no readable message part: answered 400");
            return sp::error_response(ctx, 400, "No 'message' in POST or unpatched Flask");
        }
        auto address = msg_->sender_address();
        if (rejected_)
        {
            log::warn(log_tag, "e-mail client={} sender={}: not in senders, refused", client_,
                      address);
            return sp::error_response(ctx, 401, "Sender not in whitelist");
        }
        if (failed_)
            return internal_error(ctx, "not stored: spool write failed: " + failed_.message());
        if (broken_)
        {
            lose_all("the e-mail's multipart body is unreadable (" + broken_.message() +
                     "): answered 400");
            return sp::make_response(ctx, 400, sp::abort_body(400, "Unreadable multipart body"));
        }
        if (!ignored_.empty())
        {
            std::string list;
            for (auto const& i : ignored_)
                list += (list.empty() ? "" : ", ") + i;
            log::warn(log_tag, "e-mail sender={}: file parts other than 'binary' ignored: {}",
                      address, list);
            if (auto id = camera_id_ >= 0 ? result<std::int64_t>(camera_id_)
                                          : svc_.camera(email_camera()))
                svc_.out.camera_event(*id, "warning",
                                      "e-mail file parts other than 'binary' ignored: " + list);
        }

        // Whom the message goes to: recipients in sorted order (3.5), each through its actions
        // or email_default. Every check runs before anything is kept, so a 400 keeps nothing.
        auto receivers = msg_->receivers;
        std::sort(receivers.begin(), receivers.end());
        auto segments = split_alt_texts(msg_->body);
        bool mastodon = false;
        std::vector<std::pair<std::string, std::string>> recipients;
        std::vector<std::string> unrouted;
        for (auto const& r : receivers)
        {
            auto const* dests = svc_.actions_for(r);
            if (!dests && svc_.s.email_default.empty())
            {
                unrouted.push_back(r);
                continue;
            }
            for (auto const& d : dests ? *dests : svc_.s.email_default)
            {
                if (d.kind == action_kind::drop)
                    continue;
                if (d.kind == action_kind::mastodon)
                {
                    if (segments.size() != 1 + files_.size())
                    {
                        log::warn(log_tag,
                                  "e-mail client={} to={}: {} alt texts for {} photos, refused",
                                  client_, r, segments.size() - 1, files_.size());
                        return sp::make_response(ctx, 400, sp::abort_body(400, "No alt-text"));
                    }
                    mastodon = true;
                }
                std::pair<std::string, std::string> entry{d.sink, r};
                if (std::find(recipients.begin(), recipients.end(), entry) == recipients.end())
                    recipients.push_back(std::move(entry));
            }
        }
        if (!unrouted.empty())
        {
            std::string list;
            for (auto const& r : unrouted)
                list += (list.empty() ? "" : ", ") + r;
            log::warn(log_tag, "e-mail sender={}: no action for {} and no email_default: dropped",
                      address, list);
            if (auto id = camera_id_ >= 0 ? result<std::int64_t>(camera_id_)
                                          : svc_.camera(email_camera()))
                svc_.out.camera_event(*id, "warning",
                                      "e-mail recipients without an action dropped: " + list);
        }
        if (recipients.empty())
        {
            log::info(log_tag, "e-mail sender={} photos={}: nothing to deliver", address,
                      files_.size());
            files_.clear();
            return sp::make_response(ctx, 200, sp::status_body());
        }

        message_info info;
        info.kind = "email";
        info.sender = msg_->sender;
        info.subject = msg_->title;
        info.body = msg_->body;
        info.text = segments.front();
        info.user_folder = sp::folder_name(svc_.s.secret, address);
        info.recipients = std::move(recipients);
        info.parts = static_cast<int>(files_.size());

        if (camera_id_ < 0)
        {
            // A message without photos (the camera allows sending text only) still has a camera.
            cam_ = email_camera();
            auto id = svc_.camera(cam_);
            if (!id)
            {
                failed_ = id.error();
                return internal_error(ctx, "camera unknown: " + id.error().message());
            }
            camera_id_ = *id;
        }
        std::vector<message_part> parts;
        for (std::size_t i = 0; i < files_.size(); ++i)
        {
            auto id = files_[i].file->finish();
            if (!id)
            {
                log::error(log_tag, "e-mail sender={} file={}: spool finish failed: {}", address,
                           files_[i].name, id.error().message());
                release(parts);
                return internal_error(ctx, "not stored: " + id.error().message());
            }
            message_part p;
            p.asset_id = *id;
            if (mastodon || segments.size() == files_.size() + 1)
                p.alt_text = segments[i + 1];
            parts.push_back(std::move(p));
        }
        auto queued = svc_.out.queue_message(camera_id_, info, parts);
        if (!queued)
        {
            log::error(log_tag, "e-mail sender={}: queueing failed: {}", address,
                       queued.error().message());
            release(parts);
            return internal_error(ctx, "not queued: " + queued.error().message());
        }
        log::info(log_tag, "e-mail message={} sender={} photos={} destinations={}", *queued,
                  address, parts.size(), info.recipients.size());
        for (auto const& f : files_)
            svc_.report_stored(camera_id_, "email", f.name);
        files_.clear();
        return sp::make_response(ctx, 200, sp::status_body());
    }

    /// Finished assets of a failed message: recorded without deliveries, released again.
    void release(std::vector<message_part> const& parts)
    {
        if (parts.empty())
            return;
        message_info none;
        none.kind = "email";
        none.parts = static_cast<int>(parts.size());
        (void)svc_.out.queue_message(camera_id_, none, parts);
    }

    std::string internal_error(sp::response_context const& ctx, std::string const& why)
    {
        lose_all(why + ": answered 500");
        return sp::make_response(ctx, 500, sp::abort_body(500));
    }

    /// Every file of this e-mail goes (none is kept): reported as lost when the sender is one
    /// of ours, only logged when it is a stranger's or not known yet.
    void lose_all(std::string const& why, bool timeout = false)
    {
        if (files_.empty())
            return;
        if (msg_ && !rejected_ && camera_id_ >= 0)
            for (auto const& f : files_)
                svc_.report_lost(camera_id_, "email", f.name, why, timeout);
        else if (!rejected_)
            log::warn(log_tag, "e-mail client={}: {} file(s) not kept, sender not known: {}",
                      client_, files_.size(), why);
        files_.clear();
    }

    sns_service::impl& svc_;
    std::string client_;
    std::string duid_;
    wall_clock::time_point started_;
    std::string folder_;
    std::optional<http::multipart_parser> mp_;
    bool stopped_ = false;
    part_kind cur_ = part_kind::skip;
    std::string message_xml_;
    bool message_seen_ = false;
    bool message_too_big_ = false;
    std::optional<sp::email_message> msg_;
    bool rejected_ = false;
    std::error_code failed_;
    std::error_code broken_;           ///< the multipart body stopped with this error
    std::vector<std::string> ignored_; ///< file parts not named `binary` (name=filename)
    std::vector<received> files_;      ///< received (a failed one with its file reset)
    std::set<std::string> names_;
    camera_info cam_;
    std::int64_t camera_id_ = -1;
};

/// 3.9: one file per PUT, streamed into the spool. `immediate` feeds store/shell destinations
/// (one message per PUT); `batch` feeds the session's Mastodon batch (7.6).
class put_exchange final : public exchange
{
  public:
    put_exchange(sns_service::impl& svc, std::shared_ptr<sns_service::session> ses, camera_info cam,
                 std::int64_t camera_id, std::string name, std::uint64_t declared,
                 std::vector<std::pair<std::string, std::string>> immediate_to,
                 std::unique_ptr<incoming_file> immediate,
                 std::vector<std::pair<std::string, std::string>> batch_to,
                 std::unique_ptr<incoming_file> batch)
        : svc_(svc), ses_(std::move(ses)), cam_(std::move(cam)), camera_id_(camera_id),
          name_(std::move(name)), declared_(declared), immediate_to_(std::move(immediate_to)),
          immediate_(std::move(immediate)), batch_to_(std::move(batch_to)), batch_(std::move(batch))
    {
    }

    void on_body(http::bytes_view chunk) override
    {
        received_ += chunk.size();
        if (failed_)
            return;
        for (auto* f : {immediate_.get(), batch_.get()})
            if (f)
                if (auto ec = f->write(chunk))
                {
                    log::error(log_tag, "upload site={} user={} file={}: spool write failed: {}",
                               ses_->site, ses_->user, name_, ec.message());
                    failed_ = ec;
                    return;
                }
    }

    std::string on_end(wall_clock::time_point now) override
    {
        auto date = sp::http_date(now);
        sp::response_context ctx{date, svc_.s.server};
        if (failed_)
            return internal_error(ctx, "not stored: spool write failed: " + failed_.message());
        auto& ses = *ses_;
        if (immediate_)
        {
            auto id = immediate_->finish();
            if (!id)
                return internal_error(ctx, "not stored: " + id.error().message());
            message_info info = base_info();
            info.recipients = immediate_to_;
            info.parts = 1;
            std::array<message_part, 1> parts{{{*id, {}}}};
            auto queued = svc_.out.queue_message(camera_id_, info, parts);
            if (!queued)
            {
                log::error(log_tag, "upload site={} user={}: queueing failed: {}", ses.site,
                           ses.user, queued.error().message());
                return internal_error(ctx, "not queued: " + queued.error().message());
            }
            log::info(log_tag, "upload message={} site={} user={} file={}", *queued, ses.site,
                      ses.user, name_);
        }
        if (batch_)
        {
            auto id = batch_->finish();
            if (!id)
                return internal_error(ctx, "not stored: " + id.error().message());
            auto segments = split_alt_texts(ses.content);
            if (ses.batch.empty())
            {
                ses.batch_content = ses.content;
                ses.batch_album = ses.album;
                ses.batch_recipients = batch_to_;
            }
            auto index = ses.batch.size();
            ses.batch.push_back({*id, index + 1 < segments.size() ? segments[index + 1] : ""});
            ses.batch_names.push_back(name_);
            log::info(log_tag, "upload site={} user={} file={}: photo {} of {} of the post",
                      ses.site, ses.user, name_, ses.batch.size(), segments.size() - 1);
            if (ses.batch.size() + 1 >= segments.size())
            {
                svc_.flush_batch(ses, "complete");
                if (!ses.batch.empty())
                {
                    // Not queued: this photo is answered 500 and leaves the batch again.
                    ses.batch.pop_back();
                    ses.batch_names.pop_back();
                    return internal_error(ctx, "the post could not be queued");
                }
            }
        }
        svc_.report_stored(camera_id_, ses.site, name_);
        return sp::make_response(ctx, 200, sp::status_body());
    }

    void on_abort(std::string_view why, bool timeout) override
    {
        immediate_.reset();
        batch_.reset();
        svc_.report_lost(camera_id_, ses_->site, name_,
                         "upload cut short after " + std::to_string(received_) + " of " +
                             std::to_string(declared_) + " bytes: " + std::string(why) +
                             "; the camera was not told it arrived",
                         timeout);
    }

  private:
    message_info base_info() const
    {
        message_info info;
        info.kind = "social";
        info.sender = ses_->user;
        info.album = ses_->album;
        info.text = social_post_text(split_alt_texts(ses_->content).front(), ses_->album);
        info.user_folder = ses_->user_folder;
        return info;
    }

    std::string internal_error(sp::response_context const& ctx, std::string const& why)
    {
        immediate_.reset();
        batch_.reset();
        svc_.report_lost(camera_id_, ses_->site, name_, why + ": answered 500");
        return sp::make_response(ctx, 500, sp::abort_body(500));
    }

    sns_service::impl& svc_;
    std::shared_ptr<sns_service::session> ses_;
    camera_info cam_;
    std::int64_t camera_id_;
    std::string name_;
    std::uint64_t declared_ = 0; ///< Content-Length
    std::uint64_t received_ = 0;
    std::vector<std::pair<std::string, std::string>> immediate_to_;
    std::unique_ptr<incoming_file> immediate_;
    std::vector<std::pair<std::string, std::string>> batch_to_;
    std::unique_ptr<incoming_file> batch_;
    std::error_code failed_;
};

} // namespace

void sns_service::impl::sweep(wall_clock::time_point now)
{
    for (auto it = sessions.begin(); it != sessions.end();)
    {
        if (now - it->second->last_used > s.session_ttl)
        {
            announced_lost(*it->second, "the session expired");
            flush_batch(*it->second, "session expired");
            log::info(log_tag, "session site={} user={} expired", it->second->site,
                      it->second->user);
            it = sessions.erase(it);
        }
        else
            ++it;
    }
}

camera_info sns_service::impl::social_camera(session const& ses) const
{
    camera_info cam;
    cam.identity = "samsung:" + ses.site + ":" + tidy_id(ses.user);
    cam.source_kind = "samsung";
    cam.manufacturer = "Samsung";
    cam.model = ses.album;
    cam.name = ses.album.empty() ? ses.site + ":" + ses.user : ses.album;
    return cam;
}

void sns_service::impl::announced_lost(session& ses, std::string const& why)
{
    if (!ses.announced_open)
        return;
    ses.announced_open = false;
    auto id = camera(social_camera(ses));
    if (!id)
    {
        log::error(log_tag, "upload site={} user={} file={}: announced, never sent ({})", ses.site,
                   ses.user, ses.announced, why);
        return;
    }
    report_lost(*id, ses.site, ses.announced, "announced but never sent: " + why);
}

bool sns_service::impl::flush_batch(session& ses, char const* why)
{
    if (ses.batch.empty())
        return true;
    // A batch cut short (the camera started another post or went away) is posted with the
    // photos it has: they were acknowledged, so they must not be lost. That it is short is
    // said (log, camera event): the photos announced and never sent are missing from it.
    auto const announced = split_alt_texts(ses.batch_content).size() - 1;
    message_info info;
    info.kind = "social";
    info.sender = ses.user;
    info.album = ses.batch_album;
    info.text = social_post_text(split_alt_texts(ses.batch_content).front(), ses.batch_album);
    info.user_folder = ses.user_folder;
    info.recipients = ses.batch_recipients;
    info.parts = static_cast<int>(ses.batch.size());
    auto cam = social_camera(ses);
    auto id = camera(cam);
    if (!id)
    {
        log::error(log_tag, "post site={} user={} photos={}: camera unknown, not posted: {}",
                   ses.site, ses.user, ses.batch.size(), id.error().message());
        return false;
    }
    auto queued = out.queue_message(*id, info, ses.batch);
    if (!queued)
    {
        log::error(log_tag, "post site={} user={} photos={}: queueing failed: {}", ses.site,
                   ses.user, ses.batch.size(), queued.error().message());
        if (std::string_view(why) == "complete")
            return false; // the last photo is answered 500; the camera sends it again
        // Nobody will send these again: each acknowledged photo is reported, not forgotten.
        for (auto const& name : ses.batch_names)
            report_lost(*id, ses.site, name,
                        "acknowledged but its post could not be queued (" +
                            queued.error().message() + ")");
        ses.batch.clear();
        ses.batch_names.clear();
        ses.batch_recipients.clear();
        ses.batch_done = true;
        ++ses.posts;
        return false;
    }
    log::info(log_tag, "post message={} site={} user={} photos={} ({})", *queued, ses.site,
              ses.user, ses.batch.size(), why);
    if (ses.batch.size() < announced)
    {
        auto text =
            fmt::format("post on {} by {}: {} of {} announced photos arrived ({}); "
                        "posted with {}",
                        ses.site, ses.user, ses.batch.size(), announced, why, ses.batch.size());
        log::warn(log_tag, "{}", text);
        out.camera_event(*id, "warning", text);
    }
    ses.batch.clear();
    ses.batch_names.clear();
    ses.batch_recipients.clear();
    ses.batch_done = true;
    ++ses.posts;
    return true;
}

std::unique_ptr<exchange> sns_service::impl::get_root(http::request const& req,
                                                      std::string const& client)
{
    // 3.1: exact, case-sensitive compare of the Host header, as the reference does (the
    // authority of an absolute-form target when there is no Host header).
    auto host = req.host();
    if (host == "gld.samsungosp.com")
        return ready([](sp::response_context const& ctx) { return sp::gld_hotspot_response(ctx); });
    bool yahoo = host == "www.yahoo.co.kr";
    if (yahoo || host == "www.msn.com")
    {
        // One toggle per client (shared by both hosts) instead of the reference's global one
        // (10 item 8): a camera that retries gets the other answer, whatever other clients do.
        if (cookie_turn.size() >= max_toggle_clients && !cookie_turn.contains(client))
            cookie_turn.clear();
        bool& cookie = cookie_turn[client];
        bool now_cookie = cookie;
        cookie = !cookie;
        if (now_cookie)
            return ready(
                [yahoo](sp::response_context const& ctx)
                {
                    return yahoo ? sp::hotspot_cookie_response(ctx, "YAHOO!", ".yahoo.co.kr")
                                 : sp::hotspot_cookie_response(ctx, "MSN", ".msn.com");
                });
        return ready(
            [yahoo](sp::response_context const& ctx)
            { return sp::redirect_response(ctx, yahoo ? "http://yahoo.com" : "http://msn.com"); });
    }
    std::string agent(req.headers.find("User-Agent").value_or(std::string_view{}));
    return ready([agent](sp::response_context const& ctx)
                 { return sp::make_response(ctx, 200, sp::index_body(agent)); });
}

std::unique_ptr<exchange> sns_service::impl::email(http::request const& req,
                                                   std::string const& client,
                                                   wall_clock::time_point now)
{
    std::optional<std::string> boundary;
    std::string b;
    auto type = req.headers.find("Content-Type");
    if (type && !http::parse_boundary(*type, b))
        boundary = std::move(b);
    else
        log::warn(log_tag, "e-mail client={}: no multipart boundary in Content-Type", client);
    return std::make_unique<email_exchange>(*this, client, query_value(req.query, "DUID"),
                                            std::move(boundary), now);
}

std::unique_ptr<exchange> sns_service::impl::auth(std::string const& site,
                                                  wall_clock::time_point now)
{
    return collect(
        [this, site, now](std::string const& body, sp::response_context const& ctx) -> std::string
        {
            std::string method;
            if (auto root = sp::detail::root_tag(body))
                method = sp::detail::attribute(*root, "Method").value_or("");
            if (body.empty())
                return sp::make_response(ctx, 400, sp::abort_body(400, "Empty POST payload"));
            if (method == "logout")
                return sp::make_response(ctx, 200, "Logged out for real!");
            if (one_of(oauth_sites, site))
                return sp::error_response(ctx, 401, "OAuth not supported");
            auto req = sp::parse_auth_request(body);
            if (!req)
            {
                if (req.error() == sp::errc::empty_body)
                    return sp::make_response(ctx, 400, sp::abort_body(400, "Empty POST payload"));
                log::warn(log_tag, "login site={}: unreadable: {}", site, req.error().message());
                if (req.error() == sp::errc::missing_element)
                    return sp::make_response(ctx, 400,
                                             sp::abort_body(400, "Incomplete login request"));
                return sp::error_response(ctx, 401, "Login failed");
            }
            if (!whitelisted(req->user))
            {
                log::warn(log_tag, "login site={} user={}: not in senders, refused", site,
                          req->user);
                return sp::error_response(ctx, 401, "Login failed");
            }
            if (sessions.size() >= max_sessions)
            {
                // Evict the least recently used session (its batch is posted first).
                auto oldest = std::min_element(sessions.begin(), sessions.end(),
                                               [](auto const& a, auto const& b) {
                                                   return a.second->last_used < b.second->last_used;
                                               });
                announced_lost(*oldest->second, "the session was evicted (too many logins)");
                flush_batch(*oldest->second, "evicted");
                sessions.erase(oldest);
            }
            auto ses = std::make_shared<session>();
            ses->sid = random_hex(16);
            ses->user = req->user;
            ses->site = site;
            // Kept as is, leading/trailing `_` included (10 item 5).
            ses->user_folder = sp::folder_name(s.secret, req->user);
            ses->last_used = now;
            sessions.emplace(ses->sid, ses);
            log::info(log_tag, "login site={} user={} variant={}", site, req->user,
                      req->encrypted ? "encrypted" : "plain");
            return sp::make_response(ctx, 200, sp::login_body(ses->sid));
        });
}

std::unique_ptr<exchange> sns_service::impl::announce(std::string const& site, sp::media_kind kind,
                                                      wall_clock::time_point now)
{
    return collect(
        [this, site, kind, now](std::string const& body,
                                sp::response_context const& ctx) -> std::string
        {
            if (body.empty())
                return sp::make_response(ctx, 400, sp::abort_body(400, "Empty POST payload"));
            std::string sid;
            if (auto root = sp::detail::root_tag(body))
                sid = sp::detail::attribute(*root, "SessionKey").value_or("");
            auto it = sessions.find(sid);
            if (it == sessions.end())
                return sp::error_response(ctx, 401, "Session expired");
            auto a = sp::parse_upload_announcement(body, kind);
            if (!a)
                return sp::make_response(ctx, 400,
                                         sp::abort_body(400, "Incomplete upload announcement"));
            auto& ses = *it->second;
            ses.last_used = now;
            // The action follows this request's site (6: re-derived on every request).
            ses.site = site;
            // 7.6 / 10 item 9: a different Content starts a new post; an unfinished batch of
            // the previous one is posted with what it has.
            if (!ses.batch.empty() && a->content != ses.batch_content)
                flush_batch(ses, "new post started");
            auto file = secure_filename(a->file_name);
            if (file.empty())
                file = "file";
            if (ses.announced_open && ses.announced != file)
                announced_lost(ses, "the camera announced " + file + " next");
            ses.announced = file;
            ses.announced_open = true;
            ses.content = a->content;
            ses.album = a->album;
            ses.batch_done = false;
            return sp::make_response(ctx, 200,
                                     sp::upload_ticket_body(a->session_key, a->file_name));
        });
}

std::unique_ptr<exchange> sns_service::impl::put(std::string const& sid, std::string const& file,
                                                 http::request const& req,
                                                 wall_clock::time_point now)
{
    auto it = sessions.find(sid);
    if (it == sessions.end())
        return error_xml(401, "Session expired");
    auto ses = it->second;
    ses->last_used = now;
    auto name = secure_filename(file);
    if (name.empty())
        name = "file";
    // From here this PUT answers for the announced file: a refusal is an answer the camera
    // sees, a cut is reported by the exchange.
    if (ses->announced_open && ses->announced == name)
        ses->announced_open = false;
    auto succ = [](sp::response_context const& ctx)
    { return sp::make_response(ctx, 200, sp::status_body()); };

    auto const* dests = actions_for(ses->site);
    if (!dests && s.social_default.empty())
    {
        log::warn(log_tag,
                  "upload site={} user={}: no action for the site and no "
                  "social_default: dropped",
                  ses->site, ses->user);
        auto cam = social_camera(*ses);
        if (auto id = camera(cam))
            out.camera_event(*id, "warning",
                             "upload to " + ses->site + " dropped: no action for the site");
        return std::make_unique<discard_exchange>(s.server, succ);
    }
    std::vector<std::pair<std::string, std::string>> immediate_to, batch_to;
    for (auto const& d : dests ? *dests : s.social_default)
    {
        std::pair<std::string, std::string> entry{d.sink, ses->user};
        if (d.kind == action_kind::store || d.kind == action_kind::shell)
        {
            if (std::find(immediate_to.begin(), immediate_to.end(), entry) == immediate_to.end())
                immediate_to.push_back(std::move(entry));
        }
        else if (d.kind == action_kind::mastodon)
        {
            if (std::find(batch_to.begin(), batch_to.end(), entry) == batch_to.end())
                batch_to.push_back(std::move(entry));
        }
        // mail and drop: nothing to do with a social upload (7.3).
    }
    if (immediate_to.empty() && batch_to.empty())
        return std::make_unique<discard_exchange>(s.server, succ);
    if (!batch_to.empty())
    {
        auto alt = split_alt_texts(ses->content).size() - 1;
        if (alt == 0)
        {
            log::warn(log_tag, "upload site={} user={} file={}: no alt text, answered 400",
                      ses->site, ses->user, name);
            return abort(400, "No alt-text");
        }
        // More photos than alt texts: the batch of this announcement is complete already.
        if (ses->batch_done || ses->batch.size() >= alt)
        {
            log::warn(log_tag,
                      "upload site={} user={} file={}: more photos than alt texts, answered 400",
                      ses->site, ses->user, name);
            return abort(400, "Not enough alt-text");
        }
    }

    auto cam = social_camera(*ses);
    auto camera_id = camera(cam);
    if (!camera_id)
        return abort(500);
    object_ref obj;
    obj.name = name;
    obj.mtime = unix_seconds(now);
    obj.mime = media_type(req.headers.find("Content-Type").value_or(""));
    obj.size = req.content_length;
    std::string const base = tidy_id(ses->site) + "-" + ses->sid + "-";
    std::unique_ptr<incoming_file> immediate, batch;
    if (!immediate_to.empty())
    {
        // Each PUT is its own message: its own folder, so two uploads are never one object.
        obj.folder = base + std::to_string(++ses->messages);
        auto f = out.begin_receive(*camera_id, cam, obj);
        if (!f)
        {
            log::error(log_tag, "upload site={} user={}: cannot open spool file: {}", ses->site,
                       ses->user, f.error().message());
            report_lost(*camera_id, ses->site, name,
                        "not stored: cannot open a spool file: " + f.error().message() +
                            ": answered 500");
            return abort(500);
        }
        immediate = std::move(*f);
    }
    if (!batch_to.empty())
    {
        obj.folder = base + "post" + std::to_string(ses->posts + 1);
        auto f = out.begin_receive(*camera_id, cam, obj);
        if (!f)
        {
            log::error(log_tag, "upload site={} user={}: cannot open spool file: {}", ses->site,
                       ses->user, f.error().message());
            report_lost(*camera_id, ses->site, name,
                        "not stored: cannot open a spool file: " + f.error().message() +
                            ": answered 500");
            return abort(500);
        }
        batch = std::move(*f);
    }
    return std::make_unique<put_exchange>(*this, ses, cam, *camera_id, obj.name, obj.size,
                                          std::move(immediate_to), std::move(immediate),
                                          std::move(batch_to), std::move(batch));
}

sns_service::sns_service(service_settings settings, object_handler& out)
    : impl_(std::make_unique<impl>(std::move(settings), out))
{
}

sns_service::~sns_service() = default;

std::size_t sns_service::session_count() const noexcept
{
    return impl_->sessions.size();
}

std::string sns_service::error_page(int status, std::string_view message,
                                    wall_clock::time_point now) const
{
    auto date = sp::http_date(now);
    sp::response_context ctx{date, impl_->s.server};
    return sp::make_response(ctx, status, sp::abort_body(status, message));
}

std::unique_ptr<exchange> sns_service::begin(http::request const& req, std::string const& client,
                                             wall_clock::time_point now)
{
    auto& d = *impl_;
    d.sweep(now);
    auto const seg = split_path(req.path);
    auto const& m = req.method;
    bool const get = m == "GET" || m == "HEAD";
    auto wrap = [&](std::unique_ptr<exchange> e) -> std::unique_ptr<exchange>
    {
        if (m == "HEAD")
            return std::make_unique<head_exchange>(std::move(e));
        return e;
    };
    auto not_allowed = [&](std::string allow)
    {
        return d.ready(
            [allow](sp::response_context const& ctx)
            {
                std::array<sp::header_field, 1> h{{{"Allow", allow}}};
                return sp::make_response(ctx, 405,
                                         sp::abort_body(405, "The method is not "
                                                             "allowed for the requested "
                                                             "URL."),
                                         h);
            });
    };
    auto const& path = req.path;

    // The route table of section 3, in order; first match wins.
    if (path == "/")
        return get ? wrap(d.get_root(req, client)) : not_allowed("GET, HEAD, OPTIONS");
    if (path == "/security/sso/initialize/time")
    {
        if (!get)
            return not_allowed("GET, HEAD, OPTIONS");
        auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        return wrap(d.ready([ms](sp::response_context const& ctx)
                            { return sp::make_response(ctx, 200, sp::server_time_body(ms)); }));
    }
    if (path == "/social/columbus/serviceproviders/list")
    {
        if (!get)
            return not_allowed("GET, HEAD, OPTIONS");
        // 3.3: the ST1000 expects a list whose format nobody knows; the reference says TODO.
        return wrap(d.ready([](sp::response_context const& ctx)
                            { return sp::make_response(ctx, 200, "TODO"); }));
    }
    if (path == "/security/sso/userprofiles/authentication/emailid")
    {
        if (m != "POST")
            return not_allowed("OPTIONS, POST");
        return d.collect(
            [&d](std::string const& body, sp::response_context const& ctx)
            {
                auto r = sp::parse_user_auth_request(body);
                if (!r || !d.whitelisted(r->login_id))
                    return sp::make_response(ctx, 401, "Login failed");
                // 3.4: the success answer of the AllShare login is unknown.
                return sp::make_response(ctx, 500, sp::abort_body(500, "Unknown API"));
            });
    }
    if (path == "/social/columbus/email")
    {
        if (m == "POST")
            return d.email(req, client, now);
        if (get)
            return wrap(d.ready([](sp::response_context const& ctx)
                                { return sp::redirect_response(ctx, "/"); }));
        return not_allowed("GET, HEAD, OPTIONS, POST");
    }
    if (seg.size() == 2 && (seg[1] == "auth" || seg[1] == "photo" || seg[1] == "video"))
    {
        auto const& site = seg[0];
        if (m != "POST")
        {
            if (get)
                return wrap(d.abort(404));
            return not_allowed("OPTIONS, POST");
        }
        if (!one_of(known_sites, site))
            return d.abort(404);
        if (seg[1] == "auth")
            return d.auth(site, now);
        if (seg[1] == "photo")
            return d.announce(site, sp::media_kind::photo, now);
        if (!one_of(video_sites, site))
            return d.abort(404);
        return d.announce(site, sp::media_kind::video, now);
    }
    if (seg.size() == 3 && seg[0] == "upload")
    {
        if (m == "PUT")
            return d.put(seg[1], seg[2], req, now);
        if (get)
            return wrap(d.abort(404));
        return not_allowed("PUT");
    }
    // 3.10 (directory listing) is not offered: everything else is not found.
    return get ? wrap(d.abort(404)) : d.abort(404);
}

} // namespace camrelay::ingest::samsung
