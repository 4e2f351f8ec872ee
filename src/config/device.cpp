#include "config/device.hpp"

#include <cctype>
#include <vector>

namespace camrelay::config
{

namespace
{

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

} // namespace

std::optional<std::string> normalize_mac(std::string_view text)
{
    // Split into groups on one kind of separator; every group must be hex digits.
    char sep = 0;
    for (char c : text)
        if (c == ':' || c == '-' || c == '.')
        {
            if (sep != 0 && c != sep)
                return std::nullopt;
            sep = c;
        }
    std::vector<std::string_view> groups;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i)
        if (i == text.size() || text[i] == sep)
        {
            groups.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    std::string digits;
    for (auto g : groups)
    {
        for (char c : g)
            if (hex_value(c) < 0)
                return std::nullopt;
        if (sep == ':' || sep == '-')
        {
            // Six groups of one or two digits ("0:1b:..." as some tools print them).
            if (groups.size() != 6 || g.empty() || g.size() > 2)
                return std::nullopt;
            if (g.size() == 1)
                digits += '0';
        }
        else if (sep == '.')
        {
            if (groups.size() != 3 || g.size() != 4)
                return std::nullopt;
        }
        digits += g;
    }
    if (digits.size() != 12)
        return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < 12; i += 2)
    {
        if (!out.empty())
            out += ':';
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(digits[i])));
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(digits[i + 1])));
    }
    return out;
}

bool uses_device_address(sink_settings const& s)
{
    return s.options.string_or("url", "").find(device_ip_placeholder) != std::string::npos;
}

sink_settings with_device_address(sink_settings s, std::string const& address)
{
    auto url = s.options.string_or("url", "");
    auto const host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
    for (auto at = url.find(device_ip_placeholder); at != std::string::npos;
         at = url.find(device_ip_placeholder, at + host.size()))
        url.replace(at, device_ip_placeholder.size(), host);
    s.options.set("url", url, s.options.line_of("url"));
    return s;
}

std::string control_socket_path(settings const& s)
{
    if (!s.general.control_socket.empty())
        return s.general.control_socket;
    return s.general.data_dir + "/control.sock";
}

} // namespace camrelay::config
