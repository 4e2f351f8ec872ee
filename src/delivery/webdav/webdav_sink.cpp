// The webdav sink: uploads each asset below a base collection URL, at a path rendered from a
// template (every segment percent-encoded, so a camera name cannot leave the base).
//
// One delivery, in requests:
//   PROPFIND (Depth 0) the final URL    same size there already: delivered (a retry after a crash
//                                       must not make a second copy; the check is size-based);
//                                       a different file there: try NAME-1.EXT, NAME-2.EXT...
//   PUT .camrelay-jobN.tmp              streamed from the spool; a missing parent collection is
//                                       answered 404 (rclone), 409 (Apache, Nextcloud) or 500
//                                       (nginx): MKCOL from the base down, then PUT once more
//   MOVE tmp -> final, Overwrite: F     412: someone took the name meanwhile, look again;
//                                       405/501 (no MOVE): PUT the final URL directly from now on
//   PROPFIND (Depth 0) the final URL    getcontentlength must equal the asset's size
#include "delivery/webdav/webdav_sink.hpp"

#include "core/fs.hpp"
#include "core/log.hpp"
#include "core/name_template.hpp"
#include "delivery/curl/curl.hpp"
#include "delivery/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace camrelay::delivery
{

namespace webdav
{

namespace
{

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

/// "HTTP/1.1 200 OK" -> true for any 2xx.
bool status_line_ok(std::string_view line)
{
    line = trim(line);
    auto space = line.find(' ');
    if (space == std::string_view::npos)
        return false;
    auto code = trim(line.substr(space + 1));
    return code.size() >= 3 && code[0] == '2' &&
           std::isdigit(static_cast<unsigned char>(code[1])) &&
           std::isdigit(static_cast<unsigned char>(code[2]));
}

} // namespace

dav_resource parse_propfind(std::string_view xml)
{
    // A tag scanner, not an XML parser: enough for the flat, machine-written multistatus every
    // server sends, and tolerant of prefixes (D:, d:, lp1:), attributes and whitespace.
    dav_resource out;
    bool in_response = false;
    bool in_propstat = false;
    bool response_ok = true;
    bool saw_response = false;
    struct
    {
        std::optional<std::uint64_t> length;
        bool collection = false;
        bool ok = false;
    } stat;

    std::size_t i = 0;
    while ((i = xml.find('<', i)) != std::string_view::npos)
    {
        auto rest = xml.substr(i);
        if (rest.starts_with("<!--"))
        {
            auto end = xml.find("-->", i);
            if (end == std::string_view::npos)
                break;
            i = end + 3;
            continue;
        }
        auto end = xml.find('>', i);
        if (end == std::string_view::npos)
            break;
        auto tag = xml.substr(i + 1, end - i - 1);
        i = end + 1;
        if (tag.empty() || tag.front() == '?' || tag.front() == '!')
            continue;
        bool closing = tag.front() == '/';
        if (closing)
            tag.remove_prefix(1);
        bool self_closing = !tag.empty() && tag.back() == '/';
        auto qname = tag.substr(0, tag.find_first_of(" \t\r\n/"));
        auto colon = qname.rfind(':');
        auto local = colon == std::string_view::npos ? qname : qname.substr(colon + 1);
        auto next = xml.find('<', i);
        auto text = xml.substr(i, (next == std::string_view::npos ? xml.size() : next) - i);

        if (local == "response")
        {
            if (closing)
                break; // Depth 0: the first response is the resource asked about
            in_response = true;
            saw_response = true;
        }
        else if (!in_response)
            continue;
        else if (local == "propstat")
        {
            if (!closing)
            {
                stat = {};
                in_propstat = !self_closing;
            }
            else if (in_propstat)
            {
                in_propstat = false;
                if (stat.ok)
                {
                    if (stat.length)
                        out.length = stat.length;
                    out.collection = out.collection || stat.collection;
                }
            }
        }
        else if (closing)
            continue;
        else if (local == "status")
        {
            if (in_propstat)
                stat.ok = status_line_ok(text);
            else
                response_ok = status_line_ok(text);
        }
        else if (local == "getcontentlength" && !self_closing && in_propstat)
        {
            auto digits = trim(text);
            std::uint64_t v = 0;
            auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
            if (ec == std::errc() && p == digits.data() + digits.size() && !digits.empty())
                stat.length = v;
        }
        else if (local == "collection" && in_propstat)
            stat.collection = true;
    }
    out.exists = saw_response && response_ok;
    if (!out.exists)
        out = {};
    return out;
}

bool url_segments(std::string_view rendered, std::vector<std::string>& out)
{
    out.clear();
    std::size_t start = 0;
    while (start <= rendered.size())
    {
        auto slash = rendered.find('/', start);
        auto seg = rendered.substr(start, slash == std::string_view::npos ? std::string_view::npos
                                                                          : slash - start);
        start = slash == std::string_view::npos ? rendered.size() + 1 : slash + 1;
        if (seg.empty())
            continue;
        if (seg == "." || seg == "..")
            return false;
        out.push_back(curl::escape_segment(std::string(seg)));
    }
    return !out.empty();
}

std::string numbered_name(std::string const& name, int n)
{
    auto dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0)
        return name + "-" + std::to_string(n);
    return name.substr(0, dot) + "-" + std::to_string(n) + name.substr(dot);
}

} // namespace webdav

namespace
{

constexpr auto log_tag = "webdav";
constexpr int max_names = 1000; // NAME-1 ... NAME-999 before giving up

constexpr config::option_spec webdav_options[] = {
    {"url", config::option_type::string, true, "",
     "Base collection URL (http:// or https://, percent-encoded, no user or password in it), "
     "e.g. \"https://cloud.example.org/remote.php/dav/files/USER/Photos\"."},
    {"path", config::option_type::string, false, "{date:%Y}/{date:%Y-%m-%d}/{name}",
     "Path template below url (placeholders as for folder). Each segment is percent-encoded; "
     "missing collections are created."},
    {"user", config::option_type::string, false, "",
     "User name for HTTP Basic authentication (needs password_file)."},
    {"password_file", config::option_type::string, false, "",
     "File holding the password on its first line; must not be readable by group or others "
     "(chmod 600)."},
    {"ca_file", config::option_type::string, false, "",
     "PEM file with an extra CA certificate to trust (a NAS's self-signed certificate). TLS is "
     "always verified."},
    curl::connect_timeout_option,
    curl::stall_timeout_option,
};

constexpr char propfind_body[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:getcontentlength/><D:resourcetype/></D:prop>"
    "</D:propfind>";

struct webdav_config
{
    std::string base; ///< no trailing '/'
    name_template path;
    std::string user;
    std::string password;
    std::string ca_file;
    curl::timeouts timeouts;
};

class header_list
{
  public:
    header_list() = default;
    header_list(header_list const&) = delete;
    header_list& operator=(header_list const&) = delete;
    ~header_list() { curl_slist_free_all(list_); }
    void add(std::string const& line) { list_ = curl_slist_append(list_, line.c_str()); }
    void clear()
    {
        curl_slist_free_all(list_);
        list_ = nullptr;
    }
    curl_slist* get() const { return list_; }

  private:
    curl_slist* list_ = nullptr;
};

struct reply
{
    CURLcode code = CURLE_OK;
    long status = 0;
    bool transport_ok() const { return code == CURLE_OK; }
    bool success() const { return code == CURLE_OK && status >= 200 && status < 300; }
};

/// The requests of one delivery, on one easy handle (connections are reused between them).
class session
{
  public:
    session(webdav_config const& c, std::stop_token stop, std::unique_ptr<curl::easy> handle)
        : c_(c), stop_(std::move(stop)), h_(std::move(handle)), e_(*h_)
    {
    }
    /// The handle, for the sink's pool after a successful delivery.
    std::unique_ptr<curl::easy> release() { return std::move(h_); }

    reply propfind(std::string const& url, webdav::dav_resource& res)
    {
        begin("PROPFIND", url, 64 * 1024);
        headers_.add("Depth: 0");
        headers_.add("Content-Type: application/xml; charset=utf-8");
        e_.set(CURLOPT_POSTFIELDS, propfind_body);
        e_.set(CURLOPT_POSTFIELDSIZE, static_cast<long>(sizeof(propfind_body) - 1));
        auto r = finish();
        res = r.code == CURLE_OK && r.status == 207 ? webdav::parse_propfind(e_.body())
                                                    : webdav::dav_resource{};
        return r;
    }

    /// False in `opened` when the spooled file cannot be read.
    reply put(std::string const& url, std::string const& file, bool& opened)
    {
        begin(nullptr, url, 4096);
        e_.set(CURLOPT_UPLOAD, 1L);
        opened = e_.upload_from(file);
        if (!opened)
            return {CURLE_READ_ERROR, 0};
        headers_.add("Content-Type: application/octet-stream");
        return finish();
    }

    reply mkcol(std::string const& url)
    {
        begin("MKCOL", url, 4096);
        return finish();
    }

    reply move(std::string const& from, std::string const& to)
    {
        begin("MOVE", from, 4096);
        headers_.add("Destination: " + to);
        headers_.add("Overwrite: F");
        return finish();
    }

    reply remove(std::string const& url)
    {
        begin("DELETE", url, 4096);
        return finish();
    }

    /// The failure for a reply that did not succeed: curl's reason, or the HTTP status mapped
    /// to a delivery condition (401/403 auth, 507 no space, 5xx/429 transient, 4xx permanent).
    outcome failure(reply const& r, std::string const& what) const
    {
        if (r.code != CURLE_OK)
            return curl::failure_of(r.code, e_, what);
        std::string why = what + ": HTTP " + std::to_string(r.status);
        if (r.status == 401 || r.status == 403)
            why += c_.user.empty() ? " (the server wants credentials: set user and password_file)"
                                   : " (credentials of user '" + c_.user + "' refused)";
        else if (r.status == 507)
            why += " (no space left on the server)";
        return outcome::fail(curl::http_status_error(r.status), why);
    }

  private:
    void begin(char const* method, std::string const& url, std::size_t body_limit)
    {
        e_.reset();
        headers_.clear();
        e_.watch(stop_, c_.timeouts);
        e_.set(CURLOPT_URL, url.c_str());
        e_.set(CURLOPT_PROTOCOLS_STR, "http,https");
        e_.set(CURLOPT_FOLLOWLOCATION, 0L); // a redirect must not carry the password elsewhere
        if (method)
            e_.set(CURLOPT_CUSTOMREQUEST, method);
        if (!c_.user.empty())
        {
            e_.set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
            e_.set(CURLOPT_USERNAME, c_.user.c_str());
            e_.set(CURLOPT_PASSWORD, c_.password.c_str());
        }
        if (!c_.ca_file.empty())
            e_.set(CURLOPT_CAINFO, c_.ca_file.c_str()); // the system CA directory stays in use
        e_.capture_body(body_limit);
    }

    reply finish()
    {
        if (headers_.get())
            e_.set(CURLOPT_HTTPHEADER, headers_.get());
        reply r;
        r.code = e_.perform();
        r.status = e_.response_code();
        return r;
    }

    webdav_config const& c_;
    std::stop_token stop_;
    std::unique_ptr<curl::easy> h_;
    curl::easy& e_;
    header_list headers_;
};

outcome cancelled()
{
    return outcome::fail(make_error_code(errc::cancelled), "cancelled");
}

/// A PUT under a missing collection: rclone answers 404, Apache and Nextcloud 409, nginx 500.
bool maybe_missing_parent(reply const& r)
{
    return r.code == CURLE_OK && (r.status == 404 || r.status == 409 || r.status == 500);
}

class webdav_sink final : public sink
{
  public:
    explicit webdav_sink(webdav_config c) : c_(std::move(c)) {}

    outcome deliver(request const& req) override;
    outcome deliver_in(session& s, request const& req);

  private:
    outcome make_collections(session& s, std::vector<std::string> const& dirs,
                             std::stop_token const& stop) const;
    outcome upload(session& s, std::string const& url, std::vector<std::string> const& dirs,
                   request const& req) const;
    outcome verify(session& s, std::string const& url, request const& req) const;

    curl::handle_pool pool_;
    webdav_config c_;
    /// Set once a server answers MOVE with 405/501: from then on files are PUT in place.
    mutable std::atomic<bool> no_move_{false};
    mutable std::atomic<bool> warned_plain_{false};
};

outcome webdav_sink::make_collections(session& s, std::vector<std::string> const& dirs,
                                      std::stop_token const& stop) const
{
    // From the base down. The base itself may exist and refuse MKCOL in any way (403 on a
    // user's root, 405...): only a transport failure or an auth refusal there counts.
    for (std::size_t i = 0; i < dirs.size(); ++i)
    {
        if (stop.stop_requested())
            return cancelled();
        auto r = s.mkcol(dirs[i] + "/");
        if (!r.transport_ok())
            return s.failure(r, "MKCOL " + dirs[i] + "/");
        if (r.success() || r.status == 405) // 405: it exists already
            continue;
        if (i == 0 && r.status != 401)
            continue;
        return s.failure(r, "MKCOL " + dirs[i] + "/");
    }
    return outcome::ok({});
}

outcome webdav_sink::upload(session& s, std::string const& url,
                            std::vector<std::string> const& dirs, request const& req) const
{
    for (int attempt = 0;; ++attempt)
    {
        bool opened = true;
        auto r = s.put(url, req.asset.spool_path, opened);
        if (!opened)
            return outcome::fail(make_error_code(errc::source_missing),
                                 "spooled file " + req.asset.spool_path + " cannot be read");
        if (r.success())
            return outcome::ok({});
        if (attempt == 0 && maybe_missing_parent(r))
        {
            log::debug(log_tag, "job={} PUT {}: HTTP {}, creating the collections", req.job_id, url,
                       r.status);
            if (auto made = make_collections(s, dirs, req.stop); !made)
                return made;
            continue;
        }
        return s.failure(r, "PUT " + url);
    }
}

outcome webdav_sink::verify(session& s, std::string const& url, request const& req) const
{
    webdav::dav_resource res;
    auto r = s.propfind(url, res);
    if (!r.success())
        return s.failure(r, "PROPFIND " + url);
    if (!res.collection && res.length == req.asset.size)
        return outcome::ok(url);
    std::string seen = res.length ? std::to_string(*res.length) + " bytes" : "no size";
    if (!req.stop.stop_requested())
        s.remove(url); // our own broken copy: the retry starts clean
    return outcome::fail(make_error_code(errc::verify_failed), "the server reports " + seen +
                                                                   " for " + url + ", expected " +
                                                                   std::to_string(req.asset.size));
}

outcome webdav_sink::deliver(request const& req)
{
    session s(c_, req.stop, pool_.take());
    auto out = deliver_in(s, req);
    if (out)
        pool_.give_back(s.release());  // keeps the connection for the next photo
    return out;
}

outcome webdav_sink::deliver_in(session& s, request const& req)
{
    if (req.stop.stop_requested())
        return cancelled();
    auto const& a = req.asset;
    if (fs::file_size_or_minus_one(a.spool_path) < 0)
        return outcome::fail(make_error_code(errc::source_missing),
                             "spooled file " + a.spool_path + " is missing");
    // Here, not in make(): `config check` and `status` build sinks too, and must stay quiet.
    if (!c_.user.empty() && c_.base.starts_with("http://") && !warned_plain_.exchange(true))
        log::warn(log_tag, "{} gets the password of user '{}' unencrypted (http://)", c_.base,
                  c_.user);
    auto rendered = c_.path.expand(a, name_template::mode::path);
    std::vector<std::string> segments;
    if (!webdav::url_segments(rendered, segments))
        return outcome::fail(make_error_code(errc::bad_destination),
                             "path '" + rendered + "' would leave " + c_.base);

    // The collections from the base down to the file's parent, as URLs without a final '/'.
    std::vector<std::string> dirs{c_.base};
    for (std::size_t i = 0; i + 1 < segments.size(); ++i)
        dirs.push_back(dirs.back() + "/" + segments[i]);
    auto const& parent = dirs.back();
    auto temp = parent + "/.camrelay-job" + std::to_string(req.job_id) + ".tmp";

    bool temp_written = false;
    auto drop_temp = [&]
    {
        if (temp_written && !req.stop.stop_requested())
            s.remove(temp); // best effort; a retry overwrites it anyway
        temp_written = false;
    };
    auto fail = [&](outcome o)
    {
        drop_temp();
        return o;
    };

    int n = 0;
    int taken_meanwhile = 0;
    for (int tries = 0; tries < max_names + 10 && n < max_names; ++tries)
    {
        if (req.stop.stop_requested())
            return cancelled();
        auto target =
            parent + "/" + (n == 0 ? segments.back() : webdav::numbered_name(segments.back(), n));
        webdav::dav_resource there;
        auto r = s.propfind(target, there);
        if (!r.transport_ok())
            return fail(s.failure(r, "PROPFIND " + target));
        if (r.status == 207 && there.exists)
        {
            if (!there.collection && there.length == a.size)
            {
                drop_temp();
                log::debug(log_tag, "job={} {} is there already", req.job_id, target);
                return outcome::ok(target);
            }
            ++n; // a different file (or a collection) has the name
            continue;
        }
        if (r.status == 207)
            return fail(outcome::fail(make_error_code(errc::bad_destination),
                                      "PROPFIND " + target + ": the answer was not understood"));
        if (r.status != 404)
            return fail(s.failure(r, "PROPFIND " + target));

        if (no_move_)
        {
            // Not atomic: a crash mid-PUT leaves a short file, which the next try sees as a
            // different file and keeps, delivering to NAME-1.
            if (auto up = upload(s, target, dirs, req); !up)
                return up;
            return verify(s, target, req);
        }
        if (!temp_written)
        {
            if (auto up = upload(s, temp, dirs, req); !up)
                return fail(std::move(up));
            temp_written = true;
        }
        if (req.stop.stop_requested())
            return cancelled();
        auto m = s.move(temp, target);
        if (m.success())
        {
            temp_written = false;
            auto v = verify(s, target, req);
            if (v)
                log::debug(log_tag, "job={} delivered {}", req.job_id, target);
            return v;
        }
        if (m.transport_ok() && m.status == 412 && ++taken_meanwhile <= 5)
            continue; // the name was taken meanwhile: look at it again
        if (m.transport_ok() && (m.status == 405 || m.status == 501))
        {
            log::warn(log_tag, "{} does not support MOVE (HTTP {}): uploading in place from now on",
                      c_.base, m.status);
            no_move_ = true;
            drop_temp();
            continue;
        }
        return fail(s.failure(m, "MOVE " + temp + " to " + target));
    }
    return fail(outcome::fail(make_error_code(errc::name_collision),
                              "no free name for " + parent + "/" + segments.back()));
}

bool read_secret(std::string const& path, std::string& out, std::string& error)
{
    return fs::read_secret_line(path, "password file", out, error);
}

/// Checks the base URL with libcurl's parser; explains a problem in `error`.
bool check_url(std::string const& url, std::string& error)
{
    CURLU* u = curl_url();
    auto cleanup = [&] { curl_url_cleanup(u); };
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    {
        cleanup();
        error = "url '" + url + "' is not a valid URL";
        return false;
    }
    auto part = [&](CURLUPart p)
    {
        char* v = nullptr;
        std::string s;
        if (curl_url_get(u, p, &v, 0) == CURLUE_OK && v)
            s = v;
        curl_free(v);
        return s;
    };
    auto scheme = part(CURLUPART_SCHEME);
    bool has_credentials = !part(CURLUPART_USER).empty() || !part(CURLUPART_PASSWORD).empty();
    bool has_extra = !part(CURLUPART_QUERY).empty() || !part(CURLUPART_FRAGMENT).empty();
    bool has_host = !part(CURLUPART_HOST).empty();
    cleanup();
    if (scheme != "http" && scheme != "https")
        error = "url must start with http:// or https://";
    else if (!has_host)
        error = "url has no host";
    else if (has_credentials)
        error = "url must not hold a user or password: use user and password_file";
    else if (has_extra || url.find('#') != std::string::npos)
        error = "url must not have a query or fragment";
    else
        return true;
    return false;
}

std::unique_ptr<sink> make_webdav_sink(config::sink_settings const& s,
                                       std::vector<config::problem>& problems)
{
    auto where = "[sink." + s.name + "]";
    auto line = [&](std::string_view key)
    {
        int l = s.options.line_of(key);
        return l ? l : s.line;
    };
    bool ok = true;
    auto problem = [&](std::string_view key, std::string const& what)
    {
        problems.push_back({line(key), where + ": " + std::string(key) + ": " + what});
        ok = false;
    };

    webdav_config c;
    auto url = s.options.string_or("url", "");
    std::string err;
    if (url.empty())
        problem("url", "required (the WebDAV collection to upload to)");
    else if (!check_url(url, err))
        problem("url", err);
    while (!url.empty() && url.back() == '/')
        url.pop_back();
    c.base = url;

    auto path_text = s.options.string_or("path", "{date:%Y}/{date:%Y-%m-%d}/{name}");
    if (!name_template::parse(path_text, c.path, err))
        problem("path", err);
    else if (c.path.empty())
        problem("path", "must not be empty");

    c.user = s.options.string_or("user", "");
    auto password_file = s.options.string_or("password_file", "");
    if (!password_file.empty())
    {
        if (c.user.empty())
            problem("password_file", "needs user");
        else if (!read_secret(password_file, c.password, err))
            problem("password_file", err);
    }
    else if (!c.user.empty())
        problem("user", "needs password_file (a file with the password, mode 600)");

    c.ca_file = s.options.string_or("ca_file", "");
    if (!c.ca_file.empty() &&
        (::access(c.ca_file.c_str(), R_OK) != 0 || fs::file_size_or_minus_one(c.ca_file) < 0))
        problem("ca_file", "cannot read " + c.ca_file);

    c.timeouts = curl::read_timeouts(s.options, problem);

    if (!ok)
        return nullptr;
    return std::make_unique<webdav_sink>(std::move(c));
}

} // namespace

sink_descriptor const webdav_sink_descriptor{
    "webdav",
    "Uploads each photo to a WebDAV server (Nextcloud, NAS): temp name, MOVE, size check.",
    webdav_options,
    &make_webdav_sink,
};

} // namespace camrelay::delivery
