// The Mastodon sink. Per post (up to `media_per_post` photos, which the scheduler hands over as
// one batch):
//   1. POST /api/v2/media for each photo: multipart, the file streamed by curl from the spool,
//      the alt text as `description`. 200 = processed; 202 (url null) = still processing.
//   2. GET /api/v1/media/:id until the attachment has its url (206 / url null = not yet), with a
//      short growing pause, bounded by `processing_timeout`, cancellable.
//   3. POST /api/v1/statuses with media_ids, text, visibility, language, spoiler_text and an
//      Idempotency-Key made from the job ids and the photos' SHA-256. Mastodon keeps the key an
//      hour and answers a repeated key with the status it already made, so a retry after a lost
//      answer or a crash does not post twice. (Media uploads themselves are not idempotent: a
//      retry uploads the files again; unattached media are removed by the instance.)
// The receipt of every photo of the post is the status URL.
#include "delivery/mastodon/mastodon_sink.hpp"

#include "core/fs.hpp"
#include "core/log.hpp"
#include "core/name_template.hpp"
#include "core/sha256.hpp"
#include "delivery/curl/curl.hpp"
#include "delivery/error.hpp"
#include "delivery/mastodon/mastodon_api.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>

namespace camrelay::delivery
{

namespace
{

constexpr auto log_tag = "mastodon";

/// Mastodon's limit on a media description (MediaAttachment::MAX_DESCRIPTION_LENGTH).
constexpr std::size_t max_alt_text = 1500;
/// Mastodon takes at most four images per status.
constexpr std::int64_t max_media_per_post = 4;

constexpr config::option_spec mastodon_options[] = {
    {"secret_file", config::option_type::string, true, "",
     "The JSON file `camrelay login mastodon https://INSTANCE --secret-file FILE` wrote: "
     "instance URL, OAuth client and access token. Must not be readable by group or others."},
    {"visibility", config::option_type::string, false, "unlisted",
     "Who sees the posts: public, unlisted, private (followers only) or direct."},
    {"language", config::option_type::string, false, "",
     "ISO 639 code of the posts' language, e.g. \"en\"; unset: the instance decides."},
    {"spoiler_text", config::option_type::string, false, "",
     "Content warning shown before the post (and its media); unset: none."},
    {"status", config::option_type::string, false, "{name}",
     "Template of the post's text, with the placeholders of folder paths inserted as they are; "
     "a post of several photos uses the first one's values."},
    {"alt_text", config::option_type::string, false, "Photo taken with {model} on {date:%Y-%m-%d}",
     "Template of each photo's description (alt text), at most 1500 characters."},
    {"postscript", config::option_type::string, false, "",
     "A line appended to every post, e.g. hashtags; unset: none."},
    {"media_per_post", config::option_type::integer, false, "4",
     "Photos per post, 1 to 4: due photos are gathered into one post up to this many; more go "
     "into further posts."},
    {"processing_timeout", config::option_type::integer, false, "300",
     "Seconds to wait for the instance to process an upload before the job is retried later."},
    {"ca_file", config::option_type::string, false, "",
     "Extra CA certificates (PEM) to verify the instance with, e.g. a private CA; TLS is always "
     "verified."},
};

struct mastodon_settings
{
    std::string secret_file;
    std::string visibility = "unlisted";
    std::string language;
    std::string spoiler_text;
    name_template status;
    name_template alt_text;
    std::string postscript;
    std::size_t media_per_post = 4;
    std::chrono::seconds processing_timeout{300};
    std::string ca_file;
};

outcome fail(errc e, std::string why)
{
    return outcome::fail(make_error_code(e), std::move(why));
}

std::int64_t unix_now()
{
    return static_cast<std::int64_t>(std::time(nullptr));
}

std::string iso_time(std::int64_t t)
{
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/// Cuts `text` to at most `limit` UTF-8 characters without splitting one.
std::string cut_utf8(std::string text, std::size_t limit)
{
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size(); ++i)
    {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && ++chars > limit)
        {
            text.resize(i);
            break;
        }
    }
    return text;
}

/// A type for the upload part: from the extension (what Mastodon checks), else the camera's
/// MIME type when it is well formed.
std::string media_type(asset_info const& a)
{
    static constexpr std::pair<std::string_view, std::string_view> by_ext[] = {
        {"jpg", "image/jpeg"},  {"jpeg", "image/jpeg"},     {"png", "image/png"},
        {"gif", "image/gif"},   {"webp", "image/webp"},     {"heic", "image/heic"},
        {"heif", "image/heif"}, {"avif", "image/avif"},     {"mp4", "video/mp4"},
        {"m4v", "video/mp4"},   {"mov", "video/quicktime"}, {"webm", "video/webm"},
    };
    auto dot = a.name.rfind('.');
    std::string ext = dot == std::string::npos ? "" : a.name.substr(dot + 1);
    for (auto& c : ext)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto const& [e, type] : by_ext)
        if (e == ext)
            return std::string(type);
    auto token = [](char c)
    { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.'; };
    auto slash = a.mime.find('/');
    if (slash != std::string::npos && slash > 0 && slash + 1 < a.mime.size() &&
        std::all_of(a.mime.begin(), a.mime.begin() + static_cast<std::ptrdiff_t>(slash), token) &&
        std::all_of(a.mime.begin() + static_cast<std::ptrdiff_t>(slash) + 1, a.mime.end(), token))
        return a.mime;
    return "application/octet-stream";
}

/// The camera's file name made harmless for a multipart header.
std::string upload_name(asset_info const& a)
{
    auto name = fs::sanitize_component(a.name);
    for (auto& c : name)
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
            c = '_';
    return name;
}

/// Sleeps `d` unless `stop` is requested first; false when stopped.
bool pause(std::chrono::milliseconds d, std::stop_token const& stop)
{
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, d, [] { return false; });
    return !stop.stop_requested();
}

class mastodon_sink final : public sink
{
  public:
    explicit mastodon_sink(mastodon_settings s) : s_(std::move(s)) {}

    outcome deliver(request const& req) override
    {
        return deliver_batch(std::span<request const>(&req, 1)).front();
    }
    std::size_t batch_limit() const override { return s_.media_per_post; }
    bool delivers_messages() const override { return true; }
    std::vector<outcome> deliver_batch(std::span<request const> requests) override;

  private:
    struct uploaded
    {
        std::size_t index = 0;
        std::string id;
        bool processed = false;
    };

    std::vector<outcome> post(std::span<request const> group, mastodon::credentials const& c);
    outcome upload(request const& r, mastodon::credentials const& c, uploaded& u);
    outcome wait_processed(request const& r, mastodon::credentials const& c, std::string const& id);
    outcome post_status(std::span<request const> group, std::vector<uploaded> const& media,
                        mastodon::credentials const& c);
    outcome http_failure(mastodon::answer const& a, std::string const& what,
                         mastodon::credentials const& c) const;

    mastodon_settings s_;
};

outcome mastodon_sink::http_failure(mastodon::answer const& a, std::string const& what,
                                    mastodon::credentials const& c) const
{
    auto why = mastodon::server_error(a.body);
    auto status = std::to_string(a.status);
    switch (a.status)
    {
    case 401:
        return fail(errc::auth_failed,
                    what + ": the instance refused the access token (HTTP 401: " + why +
                        "); run `camrelay login mastodon " + c.base_url + " --secret-file " +
                        s_.secret_file + "` again");
    case 403:
        return fail(errc::auth_failed,
                    what + ": not allowed (HTTP 403: " + why +
                        "); the token may lack the write:media and write:statuses scopes: run "
                        "`camrelay login mastodon " +
                        c.base_url + " --secret-file " + s_.secret_file + "` again");
    case 422:
        return fail(errc::bad_destination,
                    what + ": the instance refused it (HTTP 422: " + why + ")");
    case 429:
    {
        auto out = fail(errc::destination_unavailable,
                        what + ": rate limited by the instance (HTTP 429: " + why + ")");
        if (auto at = mastodon::retry_time(a, unix_now()))
        {
            out.message += "; the limit resets at " + iso_time(*at);
            out.retry_not_before = *at;
        }
        return out;
    }
    default:
        break;
    }
    auto ec = curl::http_status_error(a.status);
    if (!ec) // a 2xx answer we could not use
        ec = make_error_code(errc::destination_unavailable);
    return outcome::fail(ec, what + ": HTTP " + status + ": " + why);
}

outcome mastodon_sink::upload(request const& r, mastodon::credentials const& c, uploaded& u)
{
    auto const& a = r.asset;
    curl::easy e;
    struct mime_deleter
    {
        void operator()(curl_mime* m) const { curl_mime_free(m); }
    };
    std::unique_ptr<curl_mime, mime_deleter> mime(curl_mime_init(e.get()));
    auto* file = curl_mime_addpart(mime.get());
    curl_mime_name(file, "file");
    // curl reads the file in its own chunks while sending: the photo is never held whole.
    if (curl_mime_filedata(file, a.spool_path.c_str()) != CURLE_OK ||
        ::access(a.spool_path.c_str(), R_OK) != 0)
        return fail(errc::source_missing, "spooled file " + a.spool_path + " cannot be read");
    auto name = upload_name(a);
    curl_mime_filename(file, name.c_str());
    curl_mime_type(file, media_type(a).c_str());
    auto alt = cut_utf8(s_.alt_text.expand(a, name_template::mode::literal), max_alt_text);
    if (!alt.empty())
    {
        auto* desc = curl_mime_addpart(mime.get());
        curl_mime_name(desc, "description");
        curl_mime_data(desc, alt.data(), alt.size());
    }
    e.set(CURLOPT_MIMEPOST, mime.get());

    mastodon::call call;
    call.url = c.base_url + "/api/v2/media";
    call.bearer = c.access_token;
    call.ca_file = s_.ca_file;
    call.post = true;
    auto what = "uploading " + a.name + " to " + call.url;
    auto ans = mastodon::perform(e, call, r.stop);
    if (ans.code != CURLE_OK)
        return curl::failure_of(ans.code, e, what);
    if (ans.status != 200 && ans.status != 202)
        return http_failure(ans, what, c);
    auto id = mastodon::json_field(ans.body, "id");
    if (!id || id->empty())
        return fail(errc::destination_unavailable, what + ": the answer (HTTP " +
                                                       std::to_string(ans.status) +
                                                       ") has no media id");
    u.id = *id;
    u.processed = ans.status == 200 && mastodon::json_field(ans.body, "url").has_value();
    log::debug(log_tag, "job={} uploaded {} as media {}{}", r.job_id, a.name, u.id,
               u.processed ? "" : " (processing)");
    return outcome::ok(u.id);
}

outcome mastodon_sink::wait_processed(request const& r, mastodon::credentials const& c,
                                      std::string const& id)
{
    auto url = c.base_url + "/api/v1/media/" + curl::escape_segment(id);
    auto what = "waiting for " + r.asset.name + " (media " + id + ") to be processed";
    auto deadline = std::chrono::steady_clock::now() + s_.processing_timeout;
    std::chrono::milliseconds delay{250};
    for (;;)
    {
        if (std::chrono::steady_clock::now() + delay > deadline)
            return fail(errc::timed_out, what + ": still processing after " +
                                             std::to_string(s_.processing_timeout.count()) + " s");
        if (!pause(delay, r.stop))
            return fail(errc::cancelled, "cancelled");
        delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(2));
        curl::easy e;
        mastodon::call call;
        call.url = url;
        call.bearer = c.access_token;
        call.ca_file = s_.ca_file;
        auto ans = mastodon::perform(e, call, r.stop);
        if (ans.code != CURLE_OK)
            return curl::failure_of(ans.code, e, what);
        // 206 Partial Content is Mastodon's "still processing"; a 200 whose url is null as well.
        if (ans.status == 200 && mastodon::json_field(ans.body, "url"))
            return outcome::ok(id);
        if (ans.status == 200 || ans.status == 202 || ans.status == 206)
            continue;
        return http_failure(ans, what, c);
    }
}

outcome mastodon_sink::post_status(std::span<request const> group,
                                   std::vector<uploaded> const& media,
                                   mastodon::credentials const& c)
{
    auto const& first = group[media.front().index];
    auto text = s_.status.expand(first.asset, name_template::mode::literal);
    if (!s_.postscript.empty())
        text = text.empty() ? s_.postscript : text + "\n" + s_.postscript;

    // The same jobs with the same content give the same key on every attempt.
    sha256 key;
    key.update("camrelay mastodon status\n");
    nlohmann::json ids = nlohmann::json::array();
    std::string jobs;
    for (auto const& m : media)
    {
        auto const& r = group[m.index];
        key.update(std::to_string(r.job_id) + ":" + r.asset.sha256 + "\n");
        ids.push_back(m.id);
        jobs += (jobs.empty() ? "" : ",") + std::to_string(r.job_id);
    }
    nlohmann::json body = {{"status", text}, {"media_ids", ids}, {"visibility", s_.visibility}};
    if (!s_.language.empty())
        body["language"] = s_.language;
    if (!s_.spoiler_text.empty())
        body["spoiler_text"] = s_.spoiler_text;

    curl::easy e;
    mastodon::call call;
    call.url = c.base_url + "/api/v1/statuses";
    call.bearer = c.access_token;
    call.ca_file = s_.ca_file;
    call.post = true;
    call.content_type = "application/json";
    call.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    call.headers.push_back("Idempotency-Key: " + sha256::to_hex(key.finish()));
    auto what = "posting the status for " + first.asset.name +
                (media.size() > 1 ? " and " + std::to_string(media.size() - 1) + " more" : "");
    auto ans = mastodon::perform(e, call, first.stop);
    if (ans.code != CURLE_OK)
        return curl::failure_of(ans.code, e, what);
    if (ans.status < 200 || ans.status >= 300)
        return http_failure(ans, what, c);
    auto where = mastodon::json_field(ans.body, "url");
    if (!where)
        where = mastodon::json_field(ans.body, "uri");
    if (!where)
    {
        auto id = mastodon::json_field(ans.body, "id");
        if (!id)
            return fail(errc::destination_unavailable, what + ": the answer (HTTP " +
                                                           std::to_string(ans.status) +
                                                           ") is no status");
        where = c.base_url + " status " + *id;
    }
    log::info(log_tag, "jobs={} posted {} photo(s): {}", jobs, media.size(), *where);
    return outcome::ok(*where);
}

std::vector<outcome> mastodon_sink::post(std::span<request const> group,
                                         mastodon::credentials const& c)
{
    std::vector<std::optional<outcome>> result(group.size());
    auto finish = [&](std::optional<outcome> const& rest)
    {
        std::vector<outcome> out;
        for (auto& r : result)
            out.push_back(r ? *r : *rest);
        return out;
    };
    std::vector<uploaded> media;
    for (std::size_t i = 0; i < group.size(); ++i)
    {
        if (group[i].stop.stop_requested())
            return finish(fail(errc::cancelled, "cancelled"));
        uploaded u;
        u.index = i;
        auto o = upload(group[i], c, u);
        if (!o)
        {
            // A photo the instance refuses (type, size) fails alone; anything else (the instance
            // unreachable, the token refused, a stop) fails the whole post.
            if (classify(o.error) == condition::permanent)
            {
                result[i] = o;
                continue;
            }
            return finish(o);
        }
        media.push_back(std::move(u));
    }
    for (auto it = media.begin(); it != media.end();)
    {
        if (it->processed)
        {
            ++it;
            continue;
        }
        auto o = wait_processed(group[it->index], c, it->id);
        if (!o)
        {
            if (classify(o.error) != condition::permanent)
                return finish(o);
            result[it->index] = o;
            it = media.erase(it);
            continue;
        }
        ++it;
    }
    if (media.empty())
        return finish(std::nullopt);
    auto o = post_status(group, media, c);
    for (auto const& m : media)
        result[m.index] = o;
    return finish(std::nullopt);
}

std::vector<outcome> mastodon_sink::deliver_batch(std::span<request const> requests)
{
    std::vector<outcome> out;
    if (requests.empty())
        return out;
    mastodon::credentials c;
    std::string error;
    // Read at every post, so a new `camrelay login` takes effect without a restart.
    if (!mastodon::read_credentials(s_.secret_file, c, error))
        return std::vector<outcome>(requests.size(), fail(errc::auth_failed, error));
    for (std::size_t i = 0; i < requests.size(); i += s_.media_per_post)
    {
        auto n = std::min(s_.media_per_post, requests.size() - i);
        auto part = post(requests.subspan(i, n), c);
        out.insert(out.end(), part.begin(), part.end());
    }
    return out;
}

std::unique_ptr<sink> make_mastodon_sink(config::sink_settings const& s,
                                         std::vector<config::problem>& problems)
{
    auto where = "[sink." + s.name + "]";
    auto const& o = s.options;
    bool ok = true;
    auto problem = [&](std::string_view key, std::string text)
    {
        problems.push_back({o.line_of(key) ? o.line_of(key) : s.line,
                            where + ": " + std::string(key) + ": " + text});
        ok = false;
    };
    mastodon_settings m;
    m.secret_file = o.string_or("secret_file", "");
    if (m.secret_file.empty())
        problem("secret_file", "required: the file `camrelay login mastodon URL` writes");
    else
    {
        mastodon::credentials c;
        std::string error;
        if (!mastodon::read_credentials(m.secret_file, c, error))
            problem("secret_file", error);
    }
    m.visibility = o.string_or("visibility", "unlisted");
    if (m.visibility != "public" && m.visibility != "unlisted" && m.visibility != "private" &&
        m.visibility != "direct")
        problem("visibility", "must be public, unlisted, private or direct");
    m.language = o.string_or("language", "");
    if (!m.language.empty() && (m.language.size() < 2 || m.language.size() > 3 ||
                                !std::all_of(m.language.begin(), m.language.end(),
                                             [](char ch) { return ch >= 'a' && ch <= 'z'; })))
        problem("language", "must be an ISO 639 code of 2 or 3 lower-case letters, e.g. \"en\"");
    m.spoiler_text = o.string_or("spoiler_text", "");
    m.postscript = o.string_or("postscript", "");
    std::string error;
    if (!name_template::parse(o.string_or("status", "{name}"), m.status, error))
        problem("status", error);
    if (!name_template::parse(
            o.string_or("alt_text", "Photo taken with {model} on {date:%Y-%m-%d}"), m.alt_text,
            error))
        problem("alt_text", error);
    auto per_post = o.integer_or("media_per_post", max_media_per_post);
    if (per_post < 1 || per_post > max_media_per_post)
        problem("media_per_post", "must be 1 to 4 (Mastodon's limit of media per status)");
    else
        m.media_per_post = static_cast<std::size_t>(per_post);
    auto processing = o.integer_or("processing_timeout", 300);
    if (processing < 1 || processing > 3600)
        problem("processing_timeout", "must be 1 to 3600 seconds");
    else
        m.processing_timeout = std::chrono::seconds(processing);
    m.ca_file = o.string_or("ca_file", "");
    if (!m.ca_file.empty() && ::access(m.ca_file.c_str(), R_OK) != 0)
        problem("ca_file", "cannot read " + m.ca_file);
    if (!ok)
        return nullptr;
    return std::make_unique<mastodon_sink>(std::move(m));
}

} // namespace

sink_descriptor const mastodon_sink_descriptor{
    "mastodon",
    "Posts photos to a Mastodon account, up to four per post, with alt text.",
    mastodon_options,
    &make_mastodon_sink,
};

} // namespace camrelay::delivery
