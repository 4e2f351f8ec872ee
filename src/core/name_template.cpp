#include "core/name_template.hpp"

#include "core/fs.hpp"

#include <ctime>

namespace camrelay {

namespace {

struct field_name
{
    std::string_view name;
    int value;
};

} // namespace

bool name_template::parse(std::string_view text, name_template& out, std::string& error)
{
    static constexpr field_name fields[] = {
        {"camera", 1}, {"model", 2}, {"serial", 3}, {"manufacturer", 4}, {"source", 5},
        {"name", 6},   {"stem", 7},  {"ext", 8},    {"seq", 9},          {"sha256", 10},
        {"size", 11},  {"path", 12}, {"date", 13},
        // Pushed messages (Samsung e-mails and social uploads); empty for pulled photos.
        {"sender", 14}, {"recipient", 15}, {"subject", 16}, {"body", 17}, {"text", 18},
        {"alt", 19}, {"album", 20}, {"user_folder", 21},
    };
    out = {};
    out.text_ = std::string(text);
    std::string literal;
    for (std::size_t i = 0; i < text.size(); ++i)
    {
        char c = text[i];
        if (c == '}' )
        {
            if (i + 1 < text.size() && text[i + 1] == '}')
            {
                literal.push_back('}');
                ++i;
                continue;
            }
            error = "unmatched '}' at offset " + std::to_string(i);
            return false;
        }
        if (c != '{')
        {
            literal.push_back(c);
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '{')
        {
            literal.push_back('{');
            ++i;
            continue;
        }
        auto close = text.find('}', i);
        if (close == std::string_view::npos)
        {
            error = "unclosed '{' at offset " + std::to_string(i);
            return false;
        }
        auto inside = text.substr(i + 1, close - i - 1);
        auto colon = inside.find(':');
        auto key = inside.substr(0, colon);
        part p;
        bool found = false;
        for (auto const& f : fields)
        {
            if (f.name == key)
            {
                p.kind = static_cast<field>(f.value);
                found = true;
            }
        }
        if (!found)
        {
            error = "unknown placeholder {" + std::string(key) +
                    "} (known: camera model serial manufacturer source name stem ext seq sha256 "
                    "size path date:FORMAT sender recipient subject body text alt album "
                    "user_folder)";
            return false;
        }
        if (colon != std::string_view::npos)
        {
            if (p.kind != field::date)
            {
                error = "only {date:FORMAT} takes a format, not {" + std::string(inside) + "}";
                return false;
            }
            p.text = std::string(inside.substr(colon + 1));
            if (p.text.empty())
            {
                error = "{date:} needs a strftime format such as {date:%Y-%m-%d}";
                return false;
            }
        }
        else if (p.kind == field::date)
        {
            p.text = "%Y-%m-%d";
        }
        if (!literal.empty())
        {
            out.parts_.push_back({field::literal, std::move(literal)});
            literal.clear();
        }
        out.parts_.push_back(std::move(p));
        i = close;
    }
    if (!literal.empty())
        out.parts_.push_back({field::literal, std::move(literal)});
    return true;
}

std::string format_capture_time(long long seconds, std::string const& format)
{
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[256];
    auto n = std::strftime(buf, sizeof buf, format.c_str(), &tm);
    return std::string(buf, n);
}

std::string name_template::expand(asset_info const& a, mode m, std::string_view sink) const
{
    static message_info const no_message;
    auto const& msg = a.message ? *a.message : no_message;
    auto recipients = [&] {
        std::string joined;
        for (auto const& r : msg.recipients_for(std::string(sink)))
            joined += (joined.empty() ? "" : ", ") + r;
        return joined;
    };
    auto safe = [m](std::string_view v) {
        return m == mode::path ? fs::sanitize_component(v) : std::string(v);
    };
    auto dot = a.name.rfind('.');
    std::string stem = dot == std::string::npos || dot == 0 ? a.name : a.name.substr(0, dot);
    std::string ext = dot == std::string::npos || dot == 0 ? "" : a.name.substr(dot + 1);
    std::string out;
    for (auto const& p : parts_)
    {
        switch (p.kind)
        {
        case field::literal: out += p.text; break;
        case field::camera: out += safe(a.camera_name.empty() ? "camera" : a.camera_name); break;
        case field::model: out += safe(a.model.empty() ? "unknown" : a.model); break;
        case field::serial: out += safe(a.serial.empty() ? "unknown" : a.serial); break;
        case field::manufacturer:
            out += safe(a.manufacturer.empty() ? "unknown" : a.manufacturer);
            break;
        case field::source: out += safe(a.source_kind); break;
        case field::name: out += safe(a.name); break;
        case field::stem: out += safe(stem); break;
        case field::ext:
            // An empty extension stays empty even in path mode: "{stem}.{ext}" is the user's call.
            out += ext.empty() ? std::string() : safe(ext);
            break;
        case field::seq: out += std::to_string(a.seq); break;
        case field::sha256: out += a.sha256; break;
        case field::size: out += std::to_string(a.size); break;
        case field::path: out += a.spool_path; break;
        case field::date:
            // The format is the user's own (trusted, may contain '/'); the values are digits.
            out += format_capture_time(a.capture_time, p.text);
            break;
        case field::sender: out += safe(msg.sender); break;
        case field::recipient: out += safe(recipients()); break;
        case field::subject: out += safe(msg.subject); break;
        case field::body: out += safe(msg.body); break;
        case field::text: out += safe(msg.text); break;
        case field::alt: out += safe(a.alt_text); break;
        case field::album: out += safe(msg.album); break;
        case field::user_folder: out += safe(msg.user_folder); break;
        }
    }
    return out;
}

std::string name_template::fixed_prefix_dir() const
{
    std::string prefix;
    for (auto const& p : parts_)
    {
        if (p.kind != field::literal)
            break;
        prefix += p.text;
    }
    auto slash = prefix.rfind('/');
    return slash == std::string::npos ? std::string(".") : prefix.substr(0, slash + 1);
}

} // namespace camrelay
