#include "proto/samsung/requests.hpp"

#include "proto/samsung/crypto.hpp"
#include "proto/samsung/error.hpp"

#include <charconv>
#include <cstdint>

namespace camrelay::proto::samsung
{

namespace detail
{

namespace
{

bool is_space(char c) noexcept
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void append_utf8(std::string& out, std::uint32_t cp)
{
    if (cp < 0x80)
        out.push_back(static_cast<char>(cp));
    else if (cp < 0x800)
    {
        out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
    else if (cp < 0x10000)
    {
        out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
    else
    {
        out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
}

/// XML end-of-line handling (XML 1.0 2.11): CR LF and lone CR become LF.
std::string normalise_newlines(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i)
    {
        if (s[i] == '\r')
        {
            out.push_back('\n');
            if (i + 1 < s.size() && s[i + 1] == '\n')
                ++i;
        }
        else
            out.push_back(s[i]);
    }
    return out;
}

} // namespace

std::string decode_entities(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i)
    {
        if (s[i] != '&')
        {
            out.push_back(s[i]);
            continue;
        }
        auto semi = s.find(';', i);
        if (semi == std::string_view::npos || semi - i > 10)
        {
            out.push_back('&'); // stray ampersand: keep it (lenient)
            continue;
        }
        auto ent = s.substr(i + 1, semi - i - 1);
        if (ent == "amp")
            out.push_back('&');
        else if (ent == "lt")
            out.push_back('<');
        else if (ent == "gt")
            out.push_back('>');
        else if (ent == "quot")
            out.push_back('"');
        else if (ent == "apos")
            out.push_back('\'');
        else if (ent.size() > 1 && ent[0] == '#')
        {
            std::uint32_t cp = 0;
            bool hex = ent[1] == 'x' || ent[1] == 'X';
            auto digits = ent.substr(hex ? 2 : 1);
            auto [p, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
            if (digits.empty() || ec != std::errc{} || p != digits.data() + digits.size() ||
                cp > 0x10ffff)
            {
                out.push_back('&');
                continue;
            }
            append_utf8(out, cp);
        }
        else
        {
            out.push_back('&');
            continue;
        }
        i = semi;
    }
    return out;
}

std::optional<std::string_view> find_start_tag(std::string_view doc, std::string_view name,
                                               std::size_t from, std::size_t* pos)
{
    while (from < doc.size())
    {
        auto lt = doc.find('<', from);
        if (lt == std::string_view::npos)
            return std::nullopt;
        from = lt + 1;
        if (doc.substr(lt + 1, name.size()) != name)
            continue;
        auto after = lt + 1 + name.size();
        if (after >= doc.size() ||
            !(is_space(doc[after]) || doc[after] == '/' || doc[after] == '>'))
            continue;
        // Find the closing '>' outside quoted attribute values.
        char quote = 0;
        for (auto i = after; i < doc.size(); ++i)
        {
            char c = doc[i];
            if (quote)
            {
                if (c == quote)
                    quote = 0;
            }
            else if (c == '"' || c == '\'')
                quote = c;
            else if (c == '>')
            {
                if (pos)
                    *pos = i + 1;
                return doc.substr(lt + 1, i - lt - 1);
            }
        }
        return std::nullopt;
    }
    return std::nullopt;
}

std::optional<std::string> attribute(std::string_view tag, std::string_view name)
{
    std::size_t i = 0;
    while ((i = tag.find(name, i)) != std::string_view::npos)
    {
        bool starts = i > 0 && is_space(tag[i - 1]);
        auto j = i + name.size();
        i = j;
        if (!starts)
            continue;
        while (j < tag.size() && is_space(tag[j]))
            ++j;
        if (j >= tag.size() || tag[j] != '=')
            continue;
        ++j;
        while (j < tag.size() && is_space(tag[j]))
            ++j;
        if (j >= tag.size() || (tag[j] != '"' && tag[j] != '\''))
            continue;
        char q = tag[j];
        auto end = tag.find(q, j + 1);
        if (end == std::string_view::npos)
            return std::nullopt;
        return decode_entities(normalise_newlines(tag.substr(j + 1, end - j - 1)));
    }
    return std::nullopt;
}

namespace
{

/// Text of the element whose start tag ends at `start`, up to `</name`, CDATA unwrapped.
std::optional<std::string> text_from(std::string_view doc, std::size_t start, std::string_view name)
{
    std::string close = "</" + std::string(name);
    std::string out;
    std::size_t i = start;
    while (i < doc.size())
    {
        if (doc.substr(i, 9) == "<![CDATA[")
        {
            auto end = doc.find("]]>", i + 9);
            if (end == std::string_view::npos)
                return std::nullopt;
            out += normalise_newlines(doc.substr(i + 9, end - i - 9));
            i = end + 3;
            continue;
        }
        if (doc.substr(i, close.size()) == close)
            return out;
        // Up to the next markup; a nested element is kept as text (none of the elements read
        // here has children).
        auto next = doc.find('<', i + 1);
        auto piece = doc.substr(i, next == std::string_view::npos ? next : next - i);
        out += decode_entities(normalise_newlines(piece));
        if (next == std::string_view::npos)
            return std::nullopt;
        i = next;
    }
    return std::nullopt;
}

std::vector<std::string> element_texts(std::string_view doc, std::string_view name)
{
    std::vector<std::string> out;
    std::size_t from = 0;
    while (auto tag = find_start_tag(doc, name, from, &from))
    {
        if (!tag->empty() && tag->back() == '/')
        {
            out.emplace_back();
            continue;
        }
        if (auto t = text_from(doc, from, name))
            out.push_back(std::move(*t));
    }
    return out;
}

} // namespace

std::optional<std::string> element_text(std::string_view doc, std::string_view name)
{
    std::size_t pos = 0;
    auto tag = find_start_tag(doc, name, 0, &pos);
    if (!tag)
        return std::nullopt;
    if (!tag->empty() && tag->back() == '/')
        return std::string{};
    return text_from(doc, pos, name);
}

std::optional<std::string_view> root_tag(std::string_view doc)
{
    std::size_t i = 0;
    while ((i = doc.find('<', i)) != std::string_view::npos)
    {
        if (i + 1 < doc.size() && (doc[i + 1] == '?' || doc[i + 1] == '!'))
        {
            auto end = doc.find('>', i);
            if (end == std::string_view::npos)
                return std::nullopt;
            i = end + 1;
            continue;
        }
        auto end = doc.find('>', i);
        if (end == std::string_view::npos)
            return std::nullopt;
        return doc.substr(i + 1, end - i - 1);
    }
    return std::nullopt;
}

} // namespace detail

namespace
{

bool blank(std::string_view s) noexcept
{
    for (char c : s)
        if (!(c == ' ' || c == '\t' || c == '\r' || c == '\n'))
            return false;
    return true;
}

std::optional<std::string> child_attribute(std::string_view doc, std::string_view element,
                                           std::string_view attr)
{
    auto tag = detail::find_start_tag(doc, element);
    if (!tag)
        return std::nullopt;
    return detail::attribute(*tag, attr);
}

} // namespace

result<auth_request> parse_auth_request(std::string_view body)
{
    if (blank(body))
        return error_result<auth_request>(errc::empty_body);
    auth_request r;
    auto root = detail::root_tag(body);
    if (!root)
        return error_result<auth_request>(errc::missing_element);
    r.method = detail::attribute(*root, "Method").value_or("");
    r.session_key = detail::attribute(*root, "SessionKey").value_or("");
    if (r.is_logout())
        return r;

    auto csk = detail::find_start_tag(body, "CryptSessionKey");
    auto app = child_attribute(body, "ApplicationKey", "Value");
    auto user = child_attribute(body, "UserName", "Value");
    auto pass = child_attribute(body, "Password", "Value");
    if (!csk || !app || !user || !pass)
        return error_result<auth_request>(errc::missing_element);
    r.application_key = *app;
    r.oauth_version = child_attribute(body, "OAuth", "Version");
    if (auto key = detail::attribute(*csk, "Value"))
    {
        // Variant A (NX300): AES-128-CBC with the key material sent in the clear (section 4).
        r.encrypted = true;
        auto u = decrypt_credential(*user, *key);
        if (!u)
            return error_result<auth_request>(u.error());
        auto p = decrypt_credential(*pass, *key);
        if (!p)
            return error_result<auth_request>(p.error());
        r.user = std::move(*u);
        r.password = std::move(*p);
        return r;
    }
    // Variant B (HMX-QF30): plain text, URL-percent-encoded.
    auto u = percent_decode(*user);
    auto p = percent_decode(*pass);
    if (!u || !p)
        return error_result<auth_request>(errc::bad_encoding);
    r.user = std::move(*u);
    r.password = std::move(*p);
    return r;
}

result<upload_announcement> parse_upload_announcement(std::string_view body, media_kind kind)
{
    if (blank(body))
        return error_result<upload_announcement>(errc::empty_body);
    auto root = detail::root_tag(body);
    if (!root)
        return error_result<upload_announcement>(errc::missing_element);
    auto sid = detail::attribute(*root, "SessionKey");
    std::size_t start = 0;
    auto child =
        detail::find_start_tag(body, kind == media_kind::photo ? "Photo" : "Video", 0, &start);
    if (!sid || !child)
        return error_result<upload_announcement>(errc::missing_element);
    auto inner = body.substr(start);
    upload_announcement r;
    r.session_key = std::move(*sid);
    r.album = child_attribute(inner, "Album", "Name").value_or("");
    r.file_name = child_attribute(inner, "File", "Name").value_or("");
    r.content = detail::element_text(inner, "Content").value_or("");
    if (kind == media_kind::video)
    {
        r.category_name = child_attribute(inner, "Category", "Name").value_or("");
        r.category_owner = child_attribute(inner, "Category", "OwnerID").value_or("");
    }
    return r;
}

std::string email_message::sender_address() const
{
    std::string_view s = sender;
    auto lt = s.rfind('<');
    if (lt != std::string_view::npos)
    {
        auto gt = s.find('>', lt);
        if (gt != std::string_view::npos)
            s = s.substr(lt + 1, gt - lt - 1);
    }
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return std::string(s);
}

result<email_message> parse_email_message(std::string_view xml)
{
    if (blank(xml))
        return error_result<email_message>(errc::empty_body);
    auto sender = detail::element_text(xml, "sender");
    if (!sender)
        return error_result<email_message>(errc::missing_element);
    email_message m;
    m.sender = std::move(*sender);
    m.receivers = detail::element_texts(xml, "receiver");
    m.title = detail::element_text(xml, "title").value_or("");
    m.body = detail::element_text(xml, "body").value_or("");
    // The camera appends CR LF + a language marker; newlines are already normalised (3.5).
    constexpr std::string_view marker = "\nlanguage_sh100_utf8";
    for (auto p = m.body.find(marker); p != std::string::npos; p = m.body.find(marker, p))
        m.body.erase(p, marker.size());
    return m;
}

result<user_auth_request> parse_user_auth_request(std::string_view xml)
{
    if (blank(xml))
        return error_result<user_auth_request>(errc::empty_body);
    auto id = detail::element_text(xml, "loginID");
    if (!id)
        return error_result<user_auth_request>(errc::missing_element);
    return user_auth_request{std::move(*id), detail::element_text(xml, "password").value_or("")};
}

} // namespace camrelay::proto::samsung
