#include "proto/http/multipart.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace camrelay::proto::http
{

namespace
{

bool is_ws(char c) noexcept
{
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && is_ws(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back()))
        s.remove_suffix(1);
    return s;
}

std::string_view as_chars(bytes_view b) noexcept
{
    return {reinterpret_cast<char const*>(b.data()), b.size()};
}

bytes_view as_bytes(std::string_view s) noexcept
{
    return {reinterpret_cast<std::byte const*>(s.data()), s.size()};
}

/// `type; a=b; c="d;e"` -> the type and the parameters (names as sent, values unquoted).
/// Tolerates empty parameters (`image/jpeg;`) and parameters without `=` (ignored).
std::string_view split_params(std::string_view value,
                              std::vector<std::pair<std::string, std::string>>& params)
{
    auto semi = value.find(';');
    auto type = trim(value.substr(0, semi));
    std::size_t i = semi == std::string_view::npos ? value.size() : semi + 1;
    while (i < value.size())
    {
        while (i < value.size() && (is_ws(value[i]) || value[i] == ';'))
            ++i;
        auto eq = value.find_first_of("=;", i);
        if (eq == std::string_view::npos || value[eq] == ';')
        {
            i = eq == std::string_view::npos ? value.size() : eq + 1;
            continue;
        }
        auto name = trim(value.substr(i, eq - i));
        i = eq + 1;
        while (i < value.size() && is_ws(value[i]))
            ++i;
        std::string v;
        if (i < value.size() && value[i] == '"')
        {
            ++i;
            while (i < value.size() && value[i] != '"')
            {
                if (value[i] == '\\' && i + 1 < value.size())
                    ++i;
                v.push_back(value[i++]);
            }
            if (i < value.size())
                ++i; // closing quote
            while (i < value.size() && value[i] != ';')
                ++i;
        }
        else
        {
            auto end = value.find(';', i);
            v = std::string(trim(value.substr(i, end == std::string_view::npos ? end : end - i)));
            i = end == std::string_view::npos ? value.size() : end;
        }
        if (!name.empty())
            params.emplace_back(std::string(name), std::move(v));
    }
    return type;
}

} // namespace

std::error_code parse_boundary(std::string_view content_type, std::string& boundary)
{
    std::vector<std::pair<std::string, std::string>> params;
    auto type = split_params(content_type, params);
    if (type.size() < 10 || !iequals(type.substr(0, 10), "multipart/"))
        return errc::bad_boundary;
    for (auto const& [name, value] : params)
    {
        if (!iequals(name, "boundary"))
            continue;
        // RFC 2046 5.1.1: 1..70 characters; allow more, but keep it bounded.
        if (value.empty() || value.size() > 200)
            return errc::bad_boundary;
        boundary = value;
        return {};
    }
    return errc::bad_boundary;
}

std::string_view to_string(multipart_leniency l) noexcept
{
    switch (l)
    {
    case multipart_leniency::missing_close_delimiter:
        return "missing_close_delimiter";
    case multipart_leniency::unterminated_part:
        return "unterminated_part";
    case multipart_leniency::bare_lf:
        return "bare_lf";
    }
    return "unknown";
}

multipart_parser::multipart_parser(std::string boundary, multipart_limits limits)
    : delim_("\n--" + boundary), limits_(limits)
{
    // The first delimiter may start the body without a preceding line break: pretend the body
    // began with CRLF.
    held_ = "\r\n";
}

multipart_result multipart_parser::fail(errc e, std::size_t consumed)
{
    state_ = state::failed;
    error_ = make_error_code(e);
    return {multipart_event::error, consumed, {}, error_};
}

// Is `s` a prefix of "\r" + delim_ or of delim_ (a delimiter may still follow)?
// Returns 2 for a complete delimiter with CR, 1 for one without, 0 for a proper prefix, -1 else.
namespace
{
int delim_match(std::string_view s, std::string_view delim) noexcept
{
    if (!s.empty() && s.front() == '\r')
    {
        auto r = s.substr(1);
        if (r.size() > delim.size() || delim.substr(0, r.size()) != r)
            return -1;
        return r.size() == delim.size() ? 2 : 0;
    }
    if (s.size() > delim.size() || delim.substr(0, s.size()) != s)
        return -1;
    return s.size() == delim.size() ? 1 : 0;
}
} // namespace

multipart_result multipart_parser::scan_body(bytes_view in, bool discard)
{
    std::size_t used = 0;
    while (true)
    {
        if (!held_.empty())
        {
            // held_ may be the start of a delimiter: decide byte by byte (it is short).
            if (used == in.size())
                return {multipart_event::need_more, used, {}, {}};
            held_.push_back(static_cast<char>(in[used++]));
            int m = delim_match(held_, delim_);
            if (m > 0)
            {
                held_.clear();
                if (m == 1)
                    count(multipart_leniency::bare_lf);
                state_ = state::after_delim;
                if (in_part_)
                {
                    in_part_ = false;
                    return {multipart_event::part_end, used, {}, {}};
                }
                return {multipart_event::need_more, used, {}, {}};
            }
            if (m < 0)
            {
                // Not a delimiter: release bytes up to the next position that may start one.
                std::size_t k = 1;
                while (k < held_.size() &&
                       delim_match(std::string_view(held_).substr(k), delim_) < 0)
                    ++k;
                out_.assign(held_, 0, k);
                held_.erase(0, k);
                if (!discard)
                    return {multipart_event::part_data, used, as_bytes(out_), {}};
            }
            continue;
        }
        auto rest = as_chars(in.subspan(used));
        if (rest.empty())
            return {multipart_event::need_more, used, {}, {}};
        auto p = rest.find(delim_);
        std::size_t start = 0;
        if (p != std::string_view::npos)
            start = (p > 0 && rest[p - 1] == '\r') ? p - 1 : p;
        else
        {
            // Earliest tail that may still become a delimiter.
            start = rest.size();
            std::size_t from = rest.size() > delim_.size() ? rest.size() - delim_.size() : 0;
            for (std::size_t t = from; t < rest.size(); ++t)
                if (delim_match(rest.substr(t), delim_) == 0)
                {
                    start = t;
                    break;
                }
        }
        if (start > 0)
        {
            auto data = in.subspan(used, start);
            used += start;
            if (discard)
                continue;
            return {multipart_event::part_data, used, data, {}};
        }
        if (p == std::string_view::npos)
        {
            held_.assign(rest);
            used = in.size();
            return {multipart_event::need_more, used, {}, {}};
        }
        // The delimiter starts right here.
        bool with_cr = rest.front() == '\r';
        used += (with_cr ? 1 : 0) + delim_.size();
        if (!with_cr)
            count(multipart_leniency::bare_lf);
        state_ = state::after_delim;
        if (in_part_)
        {
            in_part_ = false;
            return {multipart_event::part_end, used, {}, {}};
        }
        return {multipart_event::need_more, used, {}, {}};
    }
}

std::error_code multipart_parser::take_header_line(std::string_view line)
{
    auto colon = line.find(':');
    if (colon == std::string_view::npos || trim(line.substr(0, colon)).empty())
        return errc::bad_part_header;
    auto name = std::string(trim(line.substr(0, colon)));
    auto value = std::string(trim(line.substr(colon + 1)));
    std::vector<std::pair<std::string, std::string>> params;
    if (iequals(name, "Content-Disposition"))
    {
        split_params(value, params);
        for (auto const& [k, v] : params)
        {
            if (iequals(k, "name"))
                part_.name = v;
            else if (iequals(k, "filename"))
                part_.filename = v;
        }
    }
    else if (iequals(name, "Content-Type"))
    {
        std::string_view t = value;
        while (!t.empty() && (t.back() == ';' || is_ws(t.back())))
            t.remove_suffix(1);
        part_.content_type = std::string(t);
    }
    part_.headers.fields.emplace_back(std::move(name), std::move(value));
    return {};
}

multipart_result multipart_parser::feed(bytes_view in)
{
    std::size_t used = 0;
    while (true)
    {
        switch (state_)
        {
        case state::failed:
            return {multipart_event::error, 0, {}, error_};
        case state::done:
        case state::epilogue:
            state_ = state::done;
            return {multipart_event::done, in.size(), {}, {}};
        case state::finishing:
            return {multipart_event::done, 0, {}, {}};
        case state::preamble:
        case state::part_body:
        {
            bool discard = state_ == state::preamble;
            auto r = scan_body(in.subspan(used), discard);
            r.consumed += used;
            used = r.consumed;
            // need_more with input left means the state changed (a delimiter was passed).
            if (r.event == multipart_event::need_more && used < in.size())
                continue;
            return r;
        }
        case state::after_delim:
        case state::close_dash:
        case state::delim_line:
        case state::delim_cr:
        {
            if (used == in.size())
                return {multipart_event::need_more, used, {}, {}};
            auto c = static_cast<char>(in[used++]);
            if (state_ == state::close_dash)
            {
                if (c != '-')
                    return fail(errc::bad_multipart, used);
                state_ = state::epilogue;
                return {multipart_event::done, in.size(), {}, {}};
            }
            if (state_ == state::delim_cr)
            {
                if (c != '\n')
                    return fail(errc::bad_multipart, used);
                state_ = state::part_headers;
                part_ = {};
                header_bytes_ = 0;
                continue;
            }
            if (c == '-' && state_ == state::after_delim)
                state_ = state::close_dash;
            else if (c == '\r')
                state_ = state::delim_cr;
            else if (c == '\n')
            {
                count(multipart_leniency::bare_lf);
                state_ = state::part_headers;
                part_ = {};
                header_bytes_ = 0;
            }
            else if (is_ws(c))
                state_ = state::delim_line;
            else
                return fail(errc::bad_multipart, used);
            continue;
        }
        case state::part_headers:
        {
            while (used < in.size())
            {
                auto c = static_cast<char>(in[used++]);
                if (++header_bytes_ > limits_.max_part_header_bytes)
                    return fail(errc::part_header_too_large, used);
                if (c != '\n')
                {
                    line_.push_back(c);
                    continue;
                }
                if (!line_.empty() && line_.back() == '\r')
                    line_.pop_back();
                else
                    count(multipart_leniency::bare_lf);
                std::string line;
                line.swap(line_);
                if (line.empty())
                {
                    state_ = state::part_body;
                    in_part_ = true;
                    ++parts_;
                    return {multipart_event::part_begin, used, {}, {}};
                }
                if (auto ec = take_header_line(line))
                    return fail(static_cast<errc>(ec.value()), used);
            }
            return {multipart_event::need_more, used, {}, {}};
        }
        }
    }
}

multipart_result multipart_parser::finish()
{
    switch (state_)
    {
    case state::failed:
        return {multipart_event::error, 0, {}, error_};
    case state::preamble:
        return fail(errc::bad_multipart, 0);
    case state::part_body:
        if (!held_.empty())
        {
            out_.swap(held_);
            held_.clear();
            return {multipart_event::part_data, 0, as_bytes(out_), {}};
        }
        count(multipart_leniency::unterminated_part);
        in_part_ = false;
        state_ = state::finishing;
        count(multipart_leniency::missing_close_delimiter);
        return {multipart_event::part_end, 0, {}, {}};
    case state::after_delim:
    case state::close_dash:
    case state::delim_line:
    case state::delim_cr:
    case state::part_headers:
        count(multipart_leniency::missing_close_delimiter);
        state_ = state::done;
        line_.clear();
        return {multipart_event::done, 0, {}, {}};
    case state::finishing:
    case state::epilogue:
    case state::done:
        state_ = state::done;
        return {multipart_event::done, 0, {}, {}};
    }
    return {multipart_event::done, 0, {}, {}};
}

} // namespace camrelay::proto::http
