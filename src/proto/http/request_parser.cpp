#include "proto/http/request_parser.hpp"

#include <algorithm>
#include <charconv>

namespace camrelay::proto::http
{

namespace
{

/// Longest chunk-size line (size + extensions) accepted; far beyond anything a client sends.
constexpr std::size_t max_chunk_line = 1024;

char lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_ws(char c) noexcept
{
    return c == ' ' || c == '\t';
}

/// RFC 9110 5.6.2 tchar.
bool is_tchar(char c) noexcept
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c)
    {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool is_token(std::string_view s) noexcept
{
    return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && is_ws(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back()))
        s.remove_suffix(1);
    return s;
}

bool starts_with_icase(std::string_view s, std::string_view prefix) noexcept
{
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

} // namespace

bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

std::optional<std::string_view> header_list::find(std::string_view name) const noexcept
{
    for (auto const& [n, v] : fields)
        if (iequals(n, name))
            return std::string_view(v);
    return std::nullopt;
}

std::vector<std::string_view> header_list::find_all(std::string_view name) const
{
    std::vector<std::string_view> out;
    for (auto const& [n, v] : fields)
        if (iequals(n, name))
            out.emplace_back(v);
    return out;
}

std::size_t header_list::count(std::string_view name) const noexcept
{
    return static_cast<std::size_t>(std::count_if(
        fields.begin(), fields.end(), [&](auto const& f) { return iequals(f.first, name); }));
}

std::string_view to_string(leniency l) noexcept
{
    switch (l)
    {
    case leniency::bare_lf:
        return "bare_lf";
    case leniency::no_space_after_colon:
        return "no_space_after_colon";
    case leniency::extra_whitespace_in_request_line:
        return "extra_whitespace_in_request_line";
    case leniency::missing_host:
        return "missing_host";
    case leniency::repeated_header:
        return "repeated_header";
    case leniency::absolute_form_target:
        return "absolute_form_target";
    case leniency::obs_fold:
        return "obs_fold";
    }
    return "unknown";
}

bool leniency_counters::any() const noexcept
{
    return std::any_of(counts.begin(), counts.end(), [](std::uint32_t c) { return c != 0; });
}

std::string_view request::host() const noexcept
{
    if (auto h = headers.find("Host"))
        return *h;
    return authority;
}

bool request::keep_alive() const noexcept
{
    bool close = false;
    bool keep = false;
    for (auto v : headers.find_all("Connection"))
    {
        // A comma-separated list of tokens.
        while (!v.empty())
        {
            auto comma = v.find(',');
            auto tok = trim(v.substr(0, comma));
            close = close || iequals(tok, "close");
            keep = keep || iequals(tok, "keep-alive");
            v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
        }
    }
    if (close)
        return false;
    return version_minor >= 1 || keep;
}

void request_parser::reset() noexcept
{
    req_ = {};
    state_ = state::request_line;
    line_.clear();
    head_bytes_ = 0;
    remaining_ = 0;
    body_seen_ = 0;
    error_ = {};
}

parse_result request_parser::fail(errc e, std::size_t consumed)
{
    state_ = state::failed;
    error_ = make_error_code(e);
    line_.clear();
    return {parse_status::error, consumed, {}, error_};
}

std::error_code request_parser::parse_request_line(std::string_view line)
{
    // Split on runs of SP/HT (samsung-sns.md 5.3: two spaces before HTTP/1.0 in the NX300 capture).
    std::vector<std::string_view> parts;
    bool odd_ws = !line.empty() && (is_ws(line.front()) || is_ws(line.back()));
    std::size_t i = 0;
    while (i < line.size())
    {
        if (is_ws(line[i]))
        {
            std::size_t j = i;
            while (j < line.size() && is_ws(line[j]))
                ++j;
            if (j - i > 1 || line[i] == '\t')
                odd_ws = true;
            i = j;
            continue;
        }
        std::size_t j = i;
        while (j < line.size() && !is_ws(line[j]))
            ++j;
        parts.push_back(line.substr(i, j - i));
        i = j;
    }
    if (parts.size() != 3)
        return errc::bad_request_line;
    if (!is_token(parts[0]))
        return errc::bad_method;
    auto version = parts[2];
    if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' ||
        version[7] > '9')
        return errc::bad_version;
    for (char c : parts[1])
        if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f)
            return errc::bad_target;

    req_.method = std::string(parts[0]);
    req_.target = std::string(parts[1]);
    req_.version_minor = version[7] - '0';

    std::string_view target = parts[1];
    if (starts_with_icase(target, "http://"))
    {
        // Absolute form (samsung-sns.md 5.3): route on the path, remember the authority.
        auto rest = target.substr(7);
        auto end = rest.find_first_of("/?");
        req_.authority = std::string(rest.substr(0, end));
        if (req_.authority.empty())
            return errc::bad_target;
        target = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
        lenient_.add(leniency::absolute_form_target);
    }
    else if (target == "*" && req_.method == "OPTIONS")
    {
        req_.path = "*";
        if (odd_ws)
            lenient_.add(leniency::extra_whitespace_in_request_line);
        return {};
    }
    else if (target.empty() || target.front() != '/')
        return errc::bad_target;

    auto q = target.find('?');
    req_.path = std::string(target.substr(0, q));
    if (req_.path.empty())
        req_.path = "/";
    if (q != std::string_view::npos)
        req_.query = std::string(target.substr(q + 1));
    if (odd_ws)
        lenient_.add(leniency::extra_whitespace_in_request_line);
    return {};
}

std::error_code request_parser::parse_header_line(std::string_view line)
{
    if (is_ws(line.front()))
    {
        // obs-fold (RFC 9112 5.2): continuation of the previous field, joined with one SP.
        if (req_.headers.fields.empty())
            return errc::bad_header;
        auto more = trim(line);
        auto& value = req_.headers.fields.back().second;
        if (!more.empty())
        {
            if (!value.empty())
                value.push_back(' ');
            value.append(more);
        }
        lenient_.add(leniency::obs_fold);
        return {};
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
        return errc::bad_header;
    auto name = line.substr(0, colon);
    if (!is_token(name))
        return errc::bad_header;
    auto raw = line.substr(colon + 1);
    for (char c : raw)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
            return errc::bad_header;
    if (!raw.empty() && !is_ws(raw.front()))
        lenient_.add(leniency::no_space_after_colon);
    if (req_.headers.count(name) > 0)
        lenient_.add(leniency::repeated_header);
    req_.headers.fields.emplace_back(std::string(name), std::string(trim(raw)));
    return {};
}

std::error_code request_parser::finish_head()
{
    if (!req_.headers.find("Host"))
        lenient_.add(leniency::missing_host);

    auto te = req_.headers.find_all("Transfer-Encoding");
    auto cl = req_.headers.find_all("Content-Length");
    if (!te.empty())
    {
        // Only `chunked` alone is supported; with Content-Length too the framing is ambiguous
        // (request smuggling), so refuse instead of guessing (RFC 9112 6.3).
        if (te.size() != 1 || !iequals(trim(te.front()), "chunked") || !cl.empty())
            return errc::bad_transfer_encoding;
        req_.chunked = true;
        return {};
    }
    if (cl.empty())
        return {};
    std::optional<std::uint64_t> length;
    for (auto v : cl)
    {
        v = trim(v);
        std::uint64_t n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (v.empty() || ec != std::errc{} || p != v.data() + v.size())
            return errc::bad_content_length;
        if (length && *length != n)
            return errc::bad_content_length;
        length = n;
    }
    if (*length > limits_.max_body_bytes)
        return errc::body_too_large;
    req_.content_length = *length;
    return {};
}

std::error_code request_parser::take_line(std::string_view line)
{
    if (state_ == state::request_line)
    {
        if (line.empty())
            return {}; // RFC 9112 2.2: ignore empty lines before the request line
        auto ec = parse_request_line(line);
        if (!ec)
            state_ = state::headers;
        return ec;
    }
    if (line.empty())
    {
        auto ec = finish_head();
        if (!ec)
            state_ = state::after_headers;
        return ec;
    }
    return parse_header_line(line);
}

parse_result request_parser::feed(bytes_view in)
{
    std::size_t used = 0;
    // Reads one line into line_ (without its line end); true when complete.
    auto read_line = [&](std::size_t limit, bool& too_long) -> bool
    {
        while (used < in.size())
        {
            auto c = static_cast<char>(in[used]);
            ++used;
            ++head_bytes_;
            if (c == '\n')
            {
                if (!line_.empty() && line_.back() == '\r')
                    line_.pop_back();
                else
                    lenient_.add(leniency::bare_lf);
                return true;
            }
            line_.push_back(c);
            if (line_.size() > limit)
            {
                too_long = true;
                return false;
            }
        }
        return false;
    };

    while (true)
    {
        switch (state_)
        {
        case state::failed:
            return {parse_status::error, 0, {}, error_};
        case state::done:
            return {parse_status::message_done, used, {}, {}};
        case state::request_line:
        case state::headers:
        {
            bool too_long = false;
            if (!read_line(limits_.max_header_bytes, too_long))
            {
                if (too_long || head_bytes_ > limits_.max_header_bytes)
                    return fail(errc::header_too_large, used);
                return {parse_status::need_more, used, {}, {}};
            }
            if (head_bytes_ > limits_.max_header_bytes)
                return fail(errc::header_too_large, used);
            std::string line;
            line.swap(line_);
            if (auto ec = take_line(line))
                return fail(static_cast<errc>(ec.value()), used);
            if (state_ == state::after_headers)
                return {parse_status::headers_done, used, {}, {}};
            continue;
        }
        case state::after_headers:
            if (req_.chunked)
                state_ = state::chunk_size;
            else if (req_.content_length > 0)
            {
                remaining_ = req_.content_length;
                state_ = state::body_length;
            }
            else
                state_ = state::done;
            continue;
        case state::body_length:
        case state::chunk_data:
        {
            if (used == in.size())
                return {parse_status::need_more, used, {}, {}};
            auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - used));
            auto body = in.subspan(used, n);
            used += n;
            remaining_ -= n;
            body_seen_ += n;
            if (remaining_ == 0)
                state_ = state_ == state::body_length ? state::done : state::chunk_data_end;
            return {parse_status::body, used, body, {}};
        }
        case state::chunk_size:
        case state::chunk_data_end:
        case state::trailers:
        {
            bool too_long = false;
            if (!read_line(max_chunk_line, too_long))
            {
                if (too_long)
                    return fail(
                        state_ == state::trailers ? errc::header_too_large : errc::bad_chunk, used);
                return {parse_status::need_more, used, {}, {}};
            }
            std::string line;
            line.swap(line_);
            if (state_ == state::chunk_data_end)
            {
                if (!line.empty())
                    return fail(errc::bad_chunk, used);
                state_ = state::chunk_size;
                continue;
            }
            if (state_ == state::trailers)
            {
                if (line.empty())
                {
                    state_ = state::done;
                    return {parse_status::message_done, used, {}, {}};
                }
                continue; // trailer fields are dropped
            }
            // chunk-size [ chunk-ext ]
            std::string_view v = line;
            auto end = v.find_first_of("; \t");
            auto digits = v.substr(0, end);
            std::uint64_t size = 0;
            auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
            if (digits.empty() || ec != std::errc{} || p != digits.data() + digits.size())
                return fail(errc::bad_chunk, used);
            if (size > limits_.max_body_bytes - std::min(body_seen_, limits_.max_body_bytes))
                return fail(errc::body_too_large, used);
            if (size == 0)
            {
                state_ = state::trailers;
                continue;
            }
            remaining_ = size;
            state_ = state::chunk_data;
            continue;
        }
        }
    }
}

} // namespace camrelay::proto::http
