// Presence events and their three wire forms, as pure functions (no sockets): hostapd's
// control-interface messages, dnsmasq's --dhcp-script arguments, and the line protocol of
// camrelay's own control socket (what `camrelay hostapd-event` / `dhcp-event` send the daemon).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay::trigger
{

/// A Wi-Fi station joined or left an access point.
struct station_event
{
    std::string iface;
    bool connected = false;
    std::string mac; ///< normalised (config::normalize_mac)
};

/// A DHCP lease change reported by dnsmasq.
struct dhcp_event
{
    enum class action
    {
        add, ///< a new lease
        old, ///< an existing lease renewed (or re-read at dnsmasq start)
        del, ///< a lease released or expired
    };
    action what = action::add;
    std::string mac; ///< normalised
    std::string ip;
    std::string hostname; ///< may be empty
};

/// A request on the control socket.
struct control_request
{
    enum class kind
    {
        ping,
        station,
        dhcp,
    };
    kind what = kind::ping;
    station_event station;
    dhcp_event dhcp;
};

/// Longest control line accepted, newline included.
inline constexpr std::size_t max_control_line = 512;

/// One unsolicited hostapd message ("<3>AP-STA-CONNECTED aa:bb:cc:dd:ee:ff keyid=..."); nothing
/// when it is not a station connect/disconnect or its MAC is not one.
std::optional<station_event> parse_hostapd_message(std::string_view message,
                                                   std::string_view iface);

/// True for hostapd's "<3>CTRL-EVENT-TERMINATING": hostapd is going away.
bool is_hostapd_terminating(std::string_view message);

/// A network interface name as hostapd uses it for its socket: 1-15 characters, no '/', not
/// "." or "..", no control characters or spaces.
bool valid_interface(std::string_view name);

/// A DHCP host name as dnsmasq passes it: letters, digits, '-', '_' and '.', at most 253.
bool valid_hostname(std::string_view name);

/// IPv4 or IPv6 literal.
bool valid_ip(std::string const& text);

/// `camrelay hostapd-event IFACE EVENT MAC [MORE...]` (hostapd_cli -a). Nothing (and `error`
/// empty) for events other than AP-STA-CONNECTED/DISCONNECTED; nothing with `error` set for bad
/// arguments.
std::optional<station_event> station_from_args(std::vector<std::string> const& args,
                                               std::string& error);

/// `camrelay dhcp-event ACTION MAC IP [HOSTNAME]` (dnsmasq --dhcp-script). Nothing (and `error`
/// empty) for actions that carry no lease (init, tftp, arp-add, arp-del...); nothing with
/// `error` set for bad arguments. `env_mac` (dnsmasq's DNSMASQ_MAC) serves when the MAC
/// argument is a DHCPv6 DUID rather than a MAC.
std::optional<dhcp_event> dhcp_from_args(std::vector<std::string> const& args,
                                         std::string const& env_mac, std::string& error);

/// The control line (with its newline) for a request.
std::string format_control(control_request const& r);

/// Parses one control line (without its newline). Nothing with `error` set when it is bad.
std::optional<control_request> parse_control(std::string_view line, std::string& error);

} // namespace camrelay::trigger
