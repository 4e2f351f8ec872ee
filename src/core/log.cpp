#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdio>

namespace camrelay::log {

void init(level min_level)
{
    auto logger = spdlog::stderr_color_mt("camrelay");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    spdlog::set_default_logger(logger);
    switch (min_level)
    {
    case level::trace: spdlog::set_level(spdlog::level::trace); break;
    case level::debug: spdlog::set_level(spdlog::level::debug); break;
    case level::info: spdlog::set_level(spdlog::level::info); break;
    case level::warn: spdlog::set_level(spdlog::level::warn); break;
    case level::error: spdlog::set_level(spdlog::level::err); break;
    case level::off: spdlog::set_level(spdlog::level::off); break;
    }
}

bool parse_level(std::string_view text, level& out)
{
    static constexpr std::pair<std::string_view, level> names[] = {
        {"trace", level::trace}, {"debug", level::debug}, {"info", level::info},
        {"warn", level::warn},   {"error", level::error}, {"off", level::off},
    };
    for (auto const& [name, value] : names)
    {
        if (name == text)
        {
            out = value;
            return true;
        }
    }
    return false;
}

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, unsigned char b)
{
    out += "\\x";
    out.push_back(hex_digits[b >> 4]);
    out.push_back(hex_digits[b & 0xF]);
}

/// Length of the valid UTF-8 sequence at `s[i]` (2..4), or 0 when it is not one (overlong
/// forms, surrogates and code points above U+10FFFF count as invalid). `cp` gets the code point.
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp)
{
    auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    char32_t min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF)
    {
        len = 2;
        cp = b0 & 0x1F;
        min = 0x80;
    }
    else if (b0 >= 0xE0 && b0 <= 0xEF)
    {
        len = 3;
        cp = b0 & 0x0F;
        min = 0x800;
    }
    else if (b0 >= 0xF0 && b0 <= 0xF4)
    {
        len = 4;
        cp = b0 & 0x07;
        min = 0x10000;
    }
    else
        return 0;
    if (i + len > s.size())
        return 0;
    for (std::size_t k = 1; k < len; ++k)
    {
        auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

bool reorders_text(char32_t cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

} // namespace

std::string escape_controls(std::string_view text)
{
    // The common case, plain printable ASCII, is returned as it is after one pass.
    bool plain = true;
    for (char c : text)
    {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7F)
        {
            plain = false;
            break;
        }
    }
    if (plain)
        return std::string(text);
    std::string out;
    out.reserve(text.size() + 16);
    for (std::size_t i = 0; i < text.size();)
    {
        auto u = static_cast<unsigned char>(text[i]);
        if (u >= 0x20 && u < 0x7F)
        {
            out.push_back(text[i++]);
            continue;
        }
        if (u < 0x80)
        {
            switch (u)
            {
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: append_hex(out, u); break;
            }
            ++i;
            continue;
        }
        char32_t cp = 0;
        auto len = utf8_sequence(text, i, cp);
        if (len == 0)
        {
            append_hex(out, u);
            ++i;
            continue;
        }
        if (cp >= 0x80 && cp <= 0x9F)
        {
            for (std::size_t k = 0; k < len; ++k)
                append_hex(out, static_cast<unsigned char>(text[i + k]));
        }
        else if (reorders_text(cp))
        {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
            out += buf;
        }
        else
            out.append(text.substr(i, len));
        i += len;
    }
    return out;
}

} // namespace camrelay::log
