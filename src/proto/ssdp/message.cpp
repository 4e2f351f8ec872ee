#include "proto/ssdp/message.hpp"

#include "proto/ssdp/error.hpp"

#include <charconv>

namespace camrelay::proto::ssdp
{

namespace
{

char lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept
{
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

/// Control bytes other than HT are refused in the head (NUL, CR inside a line, DEL...).
bool has_control(std::string_view s) noexcept
{
    for (char c : s)
    {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && u != '\t') || u == 0x7F)
            return true;
    }
    return false;
}

/// Splits off the next line (CRLF or LF); `rest` is advanced past it. nullopt when `rest` is
/// empty. A last line without line end is returned as is.
std::optional<std::string_view> next_line(std::string_view& rest) noexcept
{
    if (rest.empty())
        return std::nullopt;
    auto nl = rest.find('\n');
    std::string_view line = nl == std::string_view::npos ? rest : rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    return line;
}

/// Whitespace-separated words of the start line (at most 3 are looked at).
std::vector<std::string_view> words(std::string_view s)
{
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size() && out.size() < 4)
    {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
            ++i;
        auto start = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\t')
            ++i;
        if (i > start)
            out.push_back(s.substr(start, i - start));
    }
    return out;
}

bool is_http1(std::string_view v) noexcept
{
    return v.size() == 8 && v.substr(0, 7) == "HTTP/1." && v[7] >= '0' && v[7] <= '9';
}

std::error_code parse_start_line(std::string_view line, message& m)
{
    if (has_control(line))
        return errc::bad_start_line;
    auto w = words(line);
    if (w.size() >= 2 && is_http1(w[0]))
    {
        if (w[1] != "200")
            return w[1].size() == 3 ? errc::bad_status : errc::bad_start_line;
        m.kind = message_kind::search_response;
        return {};
    }
    if (w.size() != 3 || w[1] != "*" || !is_http1(w[2]))
        return errc::bad_start_line;
    if (w[0] == "NOTIFY")
        m.kind = message_kind::notify;
    else if (w[0] == "M-SEARCH")
        m.kind = message_kind::search_request;
    else
        return errc::bad_start_line;
    return {};
}

notification notification_of(std::string_view v) noexcept
{
    if (iequals(v, "ssdp:alive"))
        return notification::alive;
    if (iequals(v, "ssdp:byebye"))
        return notification::byebye;
    if (iequals(v, "ssdp:update"))
        return notification::update;
    return notification::other;
}

/// `prefix` followed by a version number (`:1`, `:2`...), or exactly `prefix` without the colon.
bool is_service_type(std::string_view target, std::string_view prefix) noexcept
{
    if (target.size() < prefix.size() || target.substr(0, prefix.size()) != prefix)
        return false;
    auto version = target.substr(prefix.size());
    if (version.empty())
        return false;
    for (char c : version)
        if (c < '0' || c > '9')
            return false;
    return true;
}

} // namespace

std::optional<std::string_view> message::field(std::string_view name) const noexcept
{
    for (auto const& [n, v] : fields)
        if (iequals(n, name))
            return std::string_view(v);
    return std::nullopt;
}

std::optional<url_host> parse_http_url(std::string_view url)
{
    url = trim(url);
    if (!istarts_with(url, "http://"))
        return std::nullopt;
    auto rest = url.substr(7);
    auto end = rest.find_first_of("/?#");
    auto authority = rest.substr(0, end);
    if (auto at = authority.rfind('@'); at != std::string_view::npos)
        authority = authority.substr(at + 1); // userinfo: never used for anything
    url_host out;
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[')
    {
        auto close = authority.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        host = authority.substr(1, close - 1);
        auto after = authority.substr(close + 1);
        if (!after.empty())
        {
            if (after.front() != ':')
                return std::nullopt;
            port = after.substr(1);
        }
        if (host.find(':') == std::string_view::npos)
            return std::nullopt;
    }
    else if (auto colon = authority.find(':'); colon != std::string_view::npos)
    {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty() || has_control(host) || host.find_first_of(" \t[]") != std::string_view::npos)
        return std::nullopt;
    if (!port.empty())
    {
        unsigned value = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || p != port.data() + port.size() || value == 0 || value > 65535)
            return std::nullopt;
        out.port = static_cast<std::uint16_t>(value);
    }
    out.host = std::string(host);
    return out;
}

result<message> parse(std::string_view datagram)
{
    if (datagram.size() > max_datagram)
        return error_result<message>(errc::too_large);
    std::string_view rest = datagram;
    // Blank lines before the start line are skipped (some stacks send a leading CRLF).
    std::optional<std::string_view> line;
    while ((line = next_line(rest)) && line->empty())
    {
    }
    if (!line)
        return error_result<message>(errc::empty);
    message m;
    if (auto ec = parse_start_line(*line, m))
        return error_result<message>(ec);
    while ((line = next_line(rest)))
    {
        if (line->empty())
            break; // end of the head; a body (rare in SSDP) is ignored
        if (has_control(*line))
            return error_result<message>(errc::bad_header);
        auto colon = line->find(':');
        if (colon == std::string_view::npos)
            return error_result<message>(errc::bad_header);
        auto name = line->substr(0, colon);
        if (name.empty() || name.find_first_of(" \t") != std::string_view::npos)
            return error_result<message>(errc::bad_header);
        m.fields.emplace_back(std::string(name), std::string(trim(line->substr(colon + 1))));
    }
    auto nt = m.field(m.kind == message_kind::notify ? "NT" : "ST");
    if (!nt || nt->empty())
        return error_result<message>(errc::missing_field);
    m.target = std::string(*nt);
    if (m.kind == message_kind::notify)
    {
        auto nts = m.field("NTS");
        if (!nts || nts->empty())
            return error_result<message>(errc::missing_field);
        m.nts = notification_of(*nts);
    }
    if (auto usn = m.field("USN"))
        m.usn = std::string(*usn);
    if (auto loc = m.field("LOCATION"))
    {
        m.location = std::string(*loc);
        m.location_host = parse_http_url(m.location);
    }
    return m;
}

std::string_view to_string(camera_kind k) noexcept
{
    switch (k)
    {
    case camera_kind::sony:
        return "sony";
    case camera_kind::canon:
        return "canon";
    }
    return "unknown";
}

std::optional<camera_kind> camera_of(std::string_view target) noexcept
{
    // Service types are compared exactly (URNs are case-sensitive after the NID) without the
    // version; devices announce each of their services in a NOTIFY of its own.
    if (is_service_type(target, "urn:microsoft-com:service:MtpNullService:"))
        return camera_kind::sony;
    if (is_service_type(target, "urn:schemas-canon-com:service:ICPO-SmartPhoneEOSSystemService:"))
        return camera_kind::canon;
    return std::nullopt;
}

std::optional<camera_announcement> classify(message const& m, std::uint16_t ptpip_port)
{
    auto kind = camera_of(m.target);
    if (!kind)
        return std::nullopt;
    camera_announcement a;
    a.kind = *kind;
    a.ptpip_port = ptpip_port;
    a.usn = m.usn;
    if (m.kind == message_kind::search_response ||
        (m.kind == message_kind::notify && m.nts == notification::alive))
    {
        if (!m.location_host)
            return std::nullopt; // nowhere to connect to
        a.alive = true;
        a.host = m.location_host->host;
        return a;
    }
    if (m.kind == message_kind::notify && m.nts == notification::byebye)
    {
        a.alive = false;
        if (m.location_host)
            a.host = m.location_host->host;
        return a;
    }
    return std::nullopt;
}

} // namespace camrelay::proto::ssdp
