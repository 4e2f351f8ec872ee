#include "delivery/mastodon/mastodon_api.hpp"

#include "core/fs.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <memory>

namespace camrelay::delivery::mastodon
{

namespace
{

struct url_deleter
{
    void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct slist_deleter
{
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

/// One part of a parsed URL; "" when absent.
std::string url_part(CURLU* u, CURLUPart what)
{
    char* text = nullptr;
    if (curl_url_get(u, what, &text, 0) != CURLUE_OK || !text)
        return {};
    std::string out(text);
    curl_free(text);
    return out;
}

std::string lower(std::string s)
{
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_loopback_host(std::string const& host)
{
    return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

/// The value of one response header of the last transfer, or "".
std::string header_of(curl::easy const& e, char const* name)
{
    curl_header* h = nullptr;
    if (curl_easy_header(e.get(), name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h || !h->value)
        return {};
    return h->value;
}

} // namespace

bool check_base_url(std::string_view url, std::string& normalised, std::string& error)
{
    std::unique_ptr<CURLU, url_deleter> u(curl_url());
    std::string text(url);
    if (!u || curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
    {
        error = "'" + text + "' is not a URL such as https://mastodon.social";
        return false;
    }
    auto scheme = lower(url_part(u.get(), CURLUPART_SCHEME));
    auto host = lower(url_part(u.get(), CURLUPART_HOST));
    auto port = url_part(u.get(), CURLUPART_PORT);
    auto path = url_part(u.get(), CURLUPART_PATH);
    if (scheme != "https" && scheme != "http")
    {
        error = "the instance URL must start with https:// (got '" + text + "')";
        return false;
    }
    if (scheme == "http" && !is_loopback_host(host))
    {
        error = "the instance URL must use https:// (plain http:// is only allowed to "
                "127.0.0.1, [::1] or localhost)";
        return false;
    }
    if (host.empty())
    {
        error = "the instance URL '" + text + "' has no host";
        return false;
    }
    if (!url_part(u.get(), CURLUPART_USER).empty() || !url_part(u.get(), CURLUPART_QUERY).empty() ||
        !url_part(u.get(), CURLUPART_FRAGMENT).empty())
    {
        error = "the instance URL must not hold a user name, query or fragment: give "
                "https://HOST only";
        return false;
    }
    while (!path.empty() && path.back() == '/')
        path.pop_back();
    normalised = scheme + "://" + host + (port.empty() ? "" : ":" + port) + path;
    return true;
}

bool read_credentials(std::string const& path, credentials& out, std::string& error,
                      bool require_token)
{
    std::string text;
    if (!fs::read_secret_file(path, "secret file", 64 * 1024, text, error))
    {
        if (error.find(" cannot be read: ") != std::string::npos)
            error += " (write it with `camrelay login mastodon https://INSTANCE --secret-file " +
                     path + "`)";
        return false;
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
    {
        error = "the secret file " + path + " is not the JSON `camrelay login mastodon` writes";
        return false;
    }
    auto str = [&](char const* key)
    {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    credentials c;
    c.client_id = str("client_id");
    c.client_secret = str("client_secret");
    c.access_token = str("access_token");
    c.account = str("account");
    std::string why;
    if (!check_base_url(str("base_url"), c.base_url, why))
    {
        error = "the secret file " + path + ": base_url: " + why;
        return false;
    }
    if (require_token && c.access_token.empty())
    {
        error = "the secret file " + path +
                " holds no access_token: run `camrelay login mastodon " + c.base_url +
                " --secret-file " + path + "`";
        return false;
    }
    out = std::move(c);
    return true;
}

std::string credentials_text(credentials const& c)
{
    nlohmann::json j = {
        {"base_url", c.base_url},
        {"client_id", c.client_id},
        {"client_secret", c.client_secret},
        {"access_token", c.access_token},
        {"account", c.account},
    };
    return j.dump(2) + "\n";
}

answer perform(curl::easy& e, call const& c, std::stop_token stop)
{
    e.set(CURLOPT_URL, c.url.c_str());
    e.set(CURLOPT_PROTOCOLS_STR, "http,https");
    e.set(CURLOPT_FOLLOWLOCATION, 0L);
    e.set(CURLOPT_SSL_VERIFYPEER, 1L);
    e.set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!c.ca_file.empty())
        e.set(CURLOPT_CAINFO, c.ca_file.c_str());

    std::unique_ptr<curl_slist, slist_deleter> headers;
    auto add = [&](std::string const& line)
    {
        auto* l = curl_slist_append(headers.get(), line.c_str());
        if (l)
        {
            (void)headers.release();
            headers.reset(l);
        }
    };
    add("Accept: application/json");
    // No "Expect: 100-continue" round trip before a media upload.
    add("Expect:");
    if (!c.bearer.empty())
        add("Authorization: Bearer " + c.bearer);
    if (!c.content_type.empty())
        add("Content-Type: " + c.content_type);
    for (auto const& h : c.headers)
        add(h);
    e.set(CURLOPT_HTTPHEADER, headers.get());
    if (c.post && !c.content_type.empty())
    {
        e.set(CURLOPT_POSTFIELDS, c.body.c_str());
        e.set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(c.body.size()));
    }
    else if (!c.post)
        e.set(CURLOPT_HTTPGET, 1L);
    e.watch(std::move(stop));
    e.capture_body();

    answer a;
    a.code = e.perform();
    e.set(CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
    if (a.code != CURLE_OK)
        return a;
    a.status = e.response_code();
    a.body = e.body();
    a.retry_after = header_of(e, "Retry-After");
    a.ratelimit_reset = header_of(e, "X-RateLimit-Reset");
    return a;
}

std::optional<std::string> json_field(std::string const& body, std::string_view key)
{
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return std::nullopt;
    auto it = j.find(key);
    if (it == j.end())
        return std::nullopt;
    if (it->is_string())
        return it->get<std::string>();
    if (it->is_number_integer())
        return std::to_string(it->get<std::int64_t>());
    return std::nullopt;
}

std::string server_error(std::string const& body)
{
    auto error = json_field(body, "error");
    if (error)
    {
        if (auto more = json_field(body, "error_description"); more && *more != *error)
            return *error + ": " + *more;
        return *error;
    }
    std::string out;
    for (char c : body.substr(0, 300))
        out.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : ' ');
    return out.empty() ? std::string("no explanation from the server") : out;
}

std::string form_encode(std::vector<std::pair<std::string, std::string>> const& fields)
{
    std::string out;
    for (auto const& [k, v] : fields)
    {
        if (!out.empty())
            out += '&';
        out += curl::escape_segment(k) + "=" + curl::escape_segment(v);
    }
    return out;
}

std::optional<std::int64_t> parse_iso8601(std::string_view text)
{
    std::tm tm{};
    int consumed = 0;
    std::string s(text);
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    auto rest = std::string_view(s).substr(static_cast<std::size_t>(consumed));
    if (!rest.empty() && rest.front() == '.')
    {
        rest.remove_prefix(1);
        while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front())))
            rest.remove_prefix(1);
    }
    std::int64_t offset = 0;
    if (!rest.empty() && (rest.front() == '+' || rest.front() == '-'))
    {
        int hh = 0, mm = 0;
        std::string zone(rest.substr(1));
        if (std::sscanf(zone.c_str(), "%2d:%2d", &hh, &mm) != 2 &&
            std::sscanf(zone.c_str(), "%2d%2d", &hh, &mm) != 2)
            return std::nullopt;
        offset = (hh * 3600 + mm * 60) * (rest.front() == '+' ? 1 : -1);
    }
    else if (!rest.empty() && rest != "Z" && rest != "z")
        return std::nullopt;
    auto t = ::timegm(&tm);
    if (t == static_cast<std::time_t>(-1))
        return std::nullopt;
    return static_cast<std::int64_t>(t) - offset;
}

std::optional<std::int64_t> retry_time(answer const& a, std::int64_t now)
{
    std::optional<std::int64_t> at;
    if (!a.ratelimit_reset.empty())
        at = parse_iso8601(a.ratelimit_reset);
    if (!a.retry_after.empty())
    {
        std::optional<std::int64_t> ra;
        bool digits = true;
        for (char c : a.retry_after)
            digits = digits && std::isdigit(static_cast<unsigned char>(c));
        if (digits && a.retry_after.size() < 10)
            ra = now + std::stoll(a.retry_after);
        else if (auto d = curl_getdate(a.retry_after.c_str(), nullptr); d > 0)
            ra = static_cast<std::int64_t>(d);
        if (ra && (!at || *ra > *at))
            at = ra;
    }
    return at;
}

} // namespace camrelay::delivery::mastodon
