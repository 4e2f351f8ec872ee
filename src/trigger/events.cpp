#include "trigger/events.hpp"

#include "config/device.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace camrelay::trigger
{

namespace
{

std::vector<std::string_view> split_words(std::string_view text)
{
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < text.size())
    {
        while (i < text.size() && text[i] == ' ')
            ++i;
        auto start = i;
        while (i < text.size() && text[i] != ' ')
            ++i;
        if (i > start)
            out.push_back(text.substr(start, i - start));
    }
    return out;
}

std::optional<bool> station_verb(std::string_view event)
{
    if (event == "AP-STA-CONNECTED")
        return true;
    if (event == "AP-STA-DISCONNECTED")
        return false;
    return std::nullopt;
}

} // namespace

std::optional<station_event> parse_hostapd_message(std::string_view message, std::string_view iface)
{
    // "<PRIORITY>EVENT ARGS": the priority prefix is optional in what we accept.
    if (!message.empty() && message.front() == '<')
    {
        auto close = message.find('>');
        if (close == std::string_view::npos)
            return std::nullopt;
        message.remove_prefix(close + 1);
    }
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r'))
        message.remove_suffix(1);
    auto words = split_words(message);
    if (words.size() < 2)
        return std::nullopt;
    auto verb = station_verb(words[0]);
    if (!verb)
        return std::nullopt;
    auto mac = config::normalize_mac(words[1]);
    if (!mac)
        return std::nullopt;
    return station_event{std::string(iface), *verb, *mac};
}

bool is_hostapd_terminating(std::string_view message)
{
    return message.find("CTRL-EVENT-TERMINATING") != std::string_view::npos;
}

bool valid_interface(std::string_view name)
{
    if (name.empty() || name.size() > 15 || name == "." || name == "..")
        return false;
    return std::all_of(name.begin(), name.end(),
                       [](unsigned char c) { return c > 0x20 && c < 0x7f && c != '/'; });
}

bool valid_hostname(std::string_view name)
{
    if (name.empty() || name.size() > 253)
        return false;
    return std::all_of(name.begin(), name.end(),
                       [](unsigned char c)
                       {
                           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                  (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
                       });
}

bool valid_ip(std::string const& text)
{
    unsigned char buf[16];
    return ::inet_pton(AF_INET, text.c_str(), buf) == 1 ||
           ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

std::optional<station_event> station_from_args(std::vector<std::string> const& args,
                                               std::string& error)
{
    error.clear();
    if (args.size() < 2)
    {
        error = "expected IFACE EVENT [MAC]: the arguments hostapd_cli -a passes";
        return std::nullopt;
    }
    if (!valid_interface(args[0]))
    {
        error = "'" + args[0] + "' is not an interface name";
        return std::nullopt;
    }
    auto verb = station_verb(args[1]);
    if (!verb)
        return std::nullopt; // another hostapd event: nothing to do
    if (args.size() < 3)
    {
        error = args[1] + " needs the station's MAC address";
        return std::nullopt;
    }
    auto mac = config::normalize_mac(args[2]);
    if (!mac)
    {
        error = "'" + args[2] + "' is not a MAC address";
        return std::nullopt;
    }
    return station_event{args[0], *verb, *mac};
}

std::optional<dhcp_event> dhcp_from_args(std::vector<std::string> const& args,
                                         std::string const& env_mac, std::string& error)
{
    error.clear();
    if (args.empty())
    {
        error = "expected ACTION MAC IP [HOSTNAME]: the arguments dnsmasq --dhcp-script passes";
        return std::nullopt;
    }
    dhcp_event e;
    auto const& action = args[0];
    if (action == "add")
        e.what = dhcp_event::action::add;
    else if (action == "old")
        e.what = dhcp_event::action::old;
    else if (action == "del")
        e.what = dhcp_event::action::del;
    else if (action == "init" || action == "tftp" || action == "arp-add" || action == "arp-del" ||
             action == "arp-old" || action == "relay-snoop")
        return std::nullopt; // no lease change: accepted and ignored
    else
    {
        error = "unknown action '" + action + "' (dnsmasq sends add, old, del, init, tftp)";
        return std::nullopt;
    }
    if (args.size() < 3 || args.size() > 4)
    {
        error = action + " needs MAC IP [HOSTNAME]";
        return std::nullopt;
    }
    if (!valid_ip(args[2]))
    {
        error = "'" + args[2] + "' is not an IPv4 or IPv6 address";
        return std::nullopt;
    }
    e.ip = args[2];
    auto mac = config::normalize_mac(args[1]);
    if (!mac && e.ip.find(':') != std::string::npos)
        mac = config::normalize_mac(env_mac); // DHCPv6: the argument is the client's DUID
    if (!mac)
    {
        if (e.ip.find(':') != std::string::npos)
            return std::nullopt; // a DHCPv6 lease of a client whose MAC is unknown
        error = "'" + args[1] + "' is not a MAC address";
        return std::nullopt;
    }
    e.mac = *mac;
    if (args.size() == 4 && !args[3].empty() && args[3] != "*")
    {
        if (!valid_hostname(args[3]))
        {
            error = "'" + args[3] + "' is not a host name";
            return std::nullopt;
        }
        e.hostname = args[3];
    }
    return e;
}

std::string format_control(control_request const& r)
{
    switch (r.what)
    {
    case control_request::kind::ping:
        return "ping\n";
    case control_request::kind::station:
        return "station " + r.station.iface + " " +
               (r.station.connected ? "connected " : "disconnected ") + r.station.mac + "\n";
    case control_request::kind::dhcp:
    {
        char const* verb = r.dhcp.what == dhcp_event::action::add   ? "add"
                           : r.dhcp.what == dhcp_event::action::old ? "old"
                                                                    : "del";
        std::string line = std::string("dhcp ") + verb + " " + r.dhcp.mac + " " + r.dhcp.ip;
        if (!r.dhcp.hostname.empty())
            line += " " + r.dhcp.hostname;
        return line + "\n";
    }
    }
    return "ping\n";
}

std::optional<control_request> parse_control(std::string_view line, std::string& error)
{
    error.clear();
    if (line.size() >= max_control_line)
    {
        error = "line too long";
        return std::nullopt;
    }
    if (!std::all_of(line.begin(), line.end(),
                     [](unsigned char c) { return c >= 0x20 && c < 0x7f; }))
    {
        error = "control characters in the request";
        return std::nullopt;
    }
    auto words = split_words(line);
    control_request r;
    if (words.size() == 1 && words[0] == "ping")
        return r;
    if (words.size() == 4 && words[0] == "station")
    {
        r.what = control_request::kind::station;
        std::vector<std::string> args{std::string(words[1]), "", std::string(words[3])};
        if (words[2] == "connected")
            args[1] = "AP-STA-CONNECTED";
        else if (words[2] == "disconnected")
            args[1] = "AP-STA-DISCONNECTED";
        else
        {
            error = "station: expected connected or disconnected";
            return std::nullopt;
        }
        auto e = station_from_args(args, error);
        if (!e)
            return std::nullopt;
        r.station = *e;
        return r;
    }
    if ((words.size() == 4 || words.size() == 5) && words[0] == "dhcp" &&
        (words[1] == "add" || words[1] == "old" || words[1] == "del"))
    {
        r.what = control_request::kind::dhcp;
        std::vector<std::string> args;
        for (std::size_t i = 1; i < words.size(); ++i)
            args.emplace_back(words[i]);
        auto e = dhcp_from_args(args, {}, error);
        if (!e)
        {
            if (error.empty())
                error = "dhcp: not a lease of a known MAC";
            return std::nullopt;
        }
        r.dhcp = *e;
        return r;
    }
    error = "unknown request (known: ping, station IFACE connected|disconnected MAC, dhcp "
            "add|old|del MAC IP [HOSTNAME])";
    return std::nullopt;
}

} // namespace camrelay::trigger
