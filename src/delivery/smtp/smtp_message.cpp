#include "delivery/smtp/smtp_message.hpp"

#include "core/sha256.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace camrelay::delivery::smtp
{

namespace
{

/// Length of the valid UTF-8 sequence starting at s[i] (1-4), or 0 when the bytes there are not
/// valid UTF-8 (stray continuation, overlong form, surrogate, beyond U+10FFFF, truncated).
std::size_t utf8_length(std::string_view s, std::size_t i)
{
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
    unsigned char c = b(0);
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF)
    {
        if (!cont(1) || !cont(2))
            return 0;
        if (c == 0xE0 && b(1) < 0xA0)
            return 0; // overlong
        if (c == 0xED && b(1) >= 0xA0)
            return 0; // UTF-16 surrogate
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4)
    {
        if (!cont(1) || !cont(2) || !cont(3))
            return 0;
        if (c == 0xF0 && b(1) < 0x90)
            return 0;
        if (c == 0xF4 && b(1) >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

/// Walks `text` as UTF-8, calling emit(char sequence) per character, with invalid bytes as "?"
/// and control characters handed over as they are (one byte).
template <class Emit> void for_each_char(std::string_view text, Emit emit)
{
    for (std::size_t i = 0; i < text.size();)
    {
        auto n = utf8_length(text, i);
        if (n == 0)
        {
            emit(std::string_view("?"));
            ++i;
            continue;
        }
        emit(text.substr(i, n));
        i += n;
    }
}

bool is_control(std::string_view ch)
{
    if (ch.size() != 1)
    {
        // C1 controls U+0080..U+009F (0xC2 0x80..0x9F) and U+2028/U+2029 line separators.
        auto b0 = static_cast<unsigned char>(ch[0]);
        auto b1 = static_cast<unsigned char>(ch[1]);
        if (ch.size() == 2 && b0 == 0xC2 && b1 < 0xA0)
            return true;
        if (ch.size() == 3 && ch == "\xE2\x80\xA8")
            return true;
        if (ch.size() == 3 && ch == "\xE2\x80\xA9")
            return true;
        return false;
    }
    auto c = static_cast<unsigned char>(ch[0]);
    return c < 0x20 || c == 0x7F;
}

bool is_plain_ascii(std::string_view s)
{
    return std::all_of(s.begin(), s.end(),
                       [](char c)
                       {
                           auto u = static_cast<unsigned char>(c);
                           return u >= 0x20 && u < 0x7F;
                       });
}

/// Cuts a clean UTF-8 string to at most `max` bytes without splitting a character.
std::string cut_utf8(std::string s, std::size_t max)
{
    if (s.size() <= max)
        return s;
    std::size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
        --end;
    s.resize(end);
    return s;
}

std::string base64(std::string_view in)
{
    static constexpr char table[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3)
    {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                     (static_cast<unsigned char>(in[i + 1]) << 8) |
                     static_cast<unsigned char>(in[i + 2]);
        out += table[(v >> 18) & 63];
        out += table[(v >> 12) & 63];
        out += table[(v >> 6) & 63];
        out += table[v & 63];
    }
    if (i < in.size())
    {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size())
            v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += table[(v >> 18) & 63];
        out += table[(v >> 12) & 63];
        out += i + 1 < in.size() ? table[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

/// RFC 2047 encoded words for `text`, each at most 75 characters, never splitting a UTF-8
/// character across two words (RFC 2047 section 5, last rule).
std::vector<std::string> encoded_words(std::string_view text)
{
    // "=?UTF-8?B?" + "?=" is 12 characters: 63 left for base64, i.e. at most 45 input bytes.
    constexpr std::size_t max_bytes = 45;
    std::vector<std::string> words;
    std::string chunk;
    for_each_char(text,
                  [&](std::string_view ch)
                  {
                      if (chunk.size() + ch.size() > max_bytes)
                      {
                          words.push_back("=?UTF-8?B?" + base64(chunk) + "?=");
                          chunk.clear();
                      }
                      chunk += ch;
                  });
    if (!chunk.empty())
        words.push_back("=?UTF-8?B?" + base64(chunk) + "?=");
    return words;
}

std::string lower_ext(std::string_view name)
{
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos)
        return {};
    std::string ext(name.substr(dot + 1));
    for (auto& c : ext)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

bool is_token_char(char c)
{
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F)
        return false;
    return std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

} // namespace

std::string clean_header_text(std::string_view text, std::size_t max_bytes)
{
    std::string out;
    for_each_char(text,
                  [&](std::string_view ch)
                  {
                      if (is_control(ch) || ch == " ")
                      {
                          if (!out.empty() && out.back() != ' ')
                              out.push_back(' ');
                          return;
                      }
                      out += ch;
                  });
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    out = cut_utf8(std::move(out), max_bytes);
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

std::string clean_body_text(std::string_view text)
{
    std::string out;
    bool after_cr = false;
    for_each_char(text,
                  [&](std::string_view ch)
                  {
                      if (ch == "\n")
                      {
                          if (!after_cr)
                              out += "\r\n";
                          after_cr = false;
                          return;
                      }
                      after_cr = false;
                      if (ch == "\r")
                      {
                          out += "\r\n";
                          after_cr = true;
                          return;
                      }
                      if (ch == "\t")
                          out += ch;
                      else if (is_control(ch))
                          out.push_back(' ');
                      else
                          out += ch;
                  });
    return out;
}

std::string encode_unstructured(std::string_view clean_utf8)
{
    if (is_plain_ascii(clean_utf8))
        return std::string(clean_utf8);
    std::string out;
    for (auto const& w : encoded_words(clean_utf8))
    {
        if (!out.empty())
            out += "\r\n "; // folding: the space between encoded words is not displayed
        out += w;
    }
    return out;
}

std::string attachment_name(std::string_view camera_name)
{
    auto name = clean_header_text(camera_name, 120);
    for (auto& c : name)
        if (c == '/' || c == '\\')
            c = '_';
    if (name.empty() || name == "." || name == "..")
        name = "photo";
    return name;
}

std::string content_disposition(std::string_view name)
{
    // Plain ASCII names go in a quoted-string. Any other name (UTF-8, or with '"' or '\\' that
    // a quoted-string would need escaped) goes only as an RFC 2231 extended parameter, exact and
    // percent-encoded, as Thunderbird does: a second, lossy `filename=` next to it makes mail
    // programs disagree about which one to show.
    bool plain = is_plain_ascii(name) && name.find_first_of("\"\\") == std::string_view::npos;
    if (plain)
        return "Content-Disposition: attachment; filename=\"" + std::string(name) + "\"";
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string line = "Content-Disposition: attachment; filename*=UTF-8''";
    for (unsigned char c : name)
    {
        // RFC 2231 attribute-char: token characters except '*', '\'' and '%'.
        if (c < 0x7F && is_token_char(static_cast<char>(c)) && c != '*' && c != '\'' && c != '%')
            line.push_back(static_cast<char>(c));
        else
        {
            line.push_back('%');
            line.push_back(hex[c >> 4]);
            line.push_back(hex[c & 15]);
        }
    }
    return line;
}

std::string content_type_for(std::string_view mime, std::string_view name)
{
    auto slash = mime.find('/');
    if (slash != std::string_view::npos && slash > 0 && slash + 1 < mime.size() &&
        std::all_of(mime.begin(), mime.begin() + static_cast<std::ptrdiff_t>(slash),
                    is_token_char) &&
        std::all_of(mime.begin() + static_cast<std::ptrdiff_t>(slash) + 1, mime.end(),
                    is_token_char))
        return std::string(mime);
    struct by_ext
    {
        std::string_view ext, type;
    };
    static constexpr by_ext table[] = {
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"png", "image/png"},
        {"gif", "image/gif"},
        {"heic", "image/heic"},
        {"heif", "image/heif"},
        {"tif", "image/tiff"},
        {"tiff", "image/tiff"},
        {"webp", "image/webp"},
        {"dng", "image/x-adobe-dng"},
        {"cr2", "image/x-canon-cr2"},
        {"cr3", "image/x-canon-cr3"},
        {"nef", "image/x-nikon-nef"},
        {"arw", "image/x-sony-arw"},
        {"raf", "image/x-fuji-raf"},
        {"orf", "image/x-olympus-orf"},
        {"rw2", "image/x-panasonic-rw2"},
        {"mov", "video/quicktime"},
        {"mp4", "video/mp4"},
        {"avi", "video/x-msvideo"},
        {"mts", "video/mp2t"},
    };
    auto ext = lower_ext(name);
    for (auto const& e : table)
        if (e.ext == ext)
            return std::string(e.type);
    return "application/octet-stream";
}

bool parse_mailbox(std::string_view text, mailbox& out, std::string& error)
{
    out = {};
    for (unsigned char c : text)
        if (c < 0x20 || c == 0x7F)
        {
            error = "contains a control character (line break?)";
            return false;
        }
    std::string_view addr = text;
    std::string_view display;
    auto open = text.find('<');
    if (open != std::string_view::npos)
    {
        auto close = text.find('>', open);
        if (close == std::string_view::npos || close + 1 != text.find_last_not_of(' ') + 1)
        {
            error = "expected \"Name <user@example.org>\"";
            return false;
        }
        addr = text.substr(open + 1, close - open - 1);
        display = text.substr(0, open);
    }
    auto trim = [](std::string_view s)
    {
        while (!s.empty() && s.front() == ' ')
            s.remove_prefix(1);
        while (!s.empty() && s.back() == ' ')
            s.remove_suffix(1);
        return s;
    };
    addr = trim(addr);
    display = trim(display);
    if (display.size() >= 2 && display.front() == '"' && display.back() == '"')
        display = display.substr(1, display.size() - 2);
    auto at = addr.rfind('@');
    if (addr.empty() || at == std::string_view::npos || at == 0 || at + 1 == addr.size())
    {
        error = "'" + std::string(addr) + "' is not an address like user@example.org";
        return false;
    }
    for (unsigned char c : addr)
        if (c <= 0x20 || c >= 0x7F || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' ||
            c == '(' || c == ')' || c == '[' || c == ']' || c == '\\')
        {
            error = "'" + std::string(addr) + "' has a character an address cannot hold";
            return false;
        }
    out.address = std::string(addr);
    out.display = clean_header_text(display, 200);
    return true;
}

std::string format_mailbox(mailbox const& m)
{
    if (m.display.empty())
        return m.address;
    if (is_plain_ascii(m.display))
    {
        std::string quoted = "\"";
        for (char c : m.display)
        {
            if (c == '"' || c == '\\')
                quoted.push_back('\\');
            quoted.push_back(c);
        }
        return quoted + "\" <" + m.address + ">";
    }
    std::string words;
    for (auto const& w : encoded_words(m.display))
        words += (words.empty() ? "" : " ") + w;
    return words + " <" + m.address + ">";
}

std::string rfc5322_date(std::time_t t)
{
    static constexpr char const* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr char const* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
                  tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

std::string message_id(std::span<const std::pair<std::int64_t, std::string>> jobs,
                       std::string_view domain)
{
    std::string host;
    for (char c : domain)
    {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '.' || c == '-')
            host.push_back(static_cast<char>(std::tolower(u)));
    }
    if (host.empty() || host.front() == '.' || host.back() == '.')
        host = "camrelay.invalid";
    auto hex_part = [](std::string const& s, std::size_t n)
    {
        std::string out;
        for (char c : s)
            if (std::isxdigit(static_cast<unsigned char>(c)) && out.size() < n)
                out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        return out.empty() ? std::string("0") : out;
    };
    if (jobs.empty())
        return "<camrelay.0@" + host + ">";
    if (jobs.size() == 1)
        return "<camrelay." + std::to_string(jobs[0].first) + "." + hex_part(jobs[0].second, 16) +
               "@" + host + ">";
    std::string all;
    for (auto const& [job, sha] : jobs)
        all += std::to_string(job) + ":" + sha + "\n";
    return "<camrelay." + std::to_string(jobs.front().first) + "-" +
           std::to_string(jobs.back().first) + "." + sha256::hex_of(all).substr(0, 24) + "@" +
           host + ">";
}

std::uint64_t base64_bytes(std::uint64_t size)
{
    std::uint64_t encoded = (size + 2) / 3 * 4;
    std::uint64_t lines = (encoded + 75) / 76;
    return encoded + 2 * lines;
}

std::uint64_t estimated_message_bytes(std::span<const std::uint64_t> sizes, std::uint64_t fixed)
{
    std::uint64_t total = fixed;
    for (auto s : sizes)
        total += base64_bytes(s) + attachment_overhead;
    return total;
}

batch_plan plan_messages(std::span<const std::uint64_t> sizes, std::size_t batch_max,
                         std::uint64_t limit, std::uint64_t fixed)
{
    batch_plan plan;
    batch_max = std::max<std::size_t>(1, batch_max);
    std::vector<std::size_t> current;
    std::uint64_t current_bytes = fixed;
    for (std::size_t i = 0; i < sizes.size(); ++i)
    {
        auto part = base64_bytes(sizes[i]) + attachment_overhead;
        if (fixed + part > limit)
        {
            plan.too_large.push_back(i);
            continue;
        }
        if (!current.empty() && (current.size() >= batch_max || current_bytes + part > limit))
        {
            plan.messages.push_back(std::move(current));
            current.clear();
            current_bytes = fixed;
        }
        current.push_back(i);
        current_bytes += part;
    }
    if (!current.empty())
        plan.messages.push_back(std::move(current));
    return plan;
}

std::string describe_bytes(std::uint64_t bytes)
{
    char buf[64];
    double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
    std::snprintf(buf, sizeof buf, "%.1f MiB (%llu bytes)", mib,
                  static_cast<unsigned long long>(bytes));
    return buf;
}

} // namespace camrelay::delivery::smtp
