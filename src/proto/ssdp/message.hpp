// Sans-I/O SSDP (UPnP discovery) message parser and the camera classifier.
//
// SSDP messages are HTTP-like text in one UDP datagram: `NOTIFY * HTTP/1.1` announcements
// (NTS: ssdp:alive / ssdp:byebye / ssdp:update) sent to 239.255.255.250:1900, `M-SEARCH * HTTP/1.1`
// queries, and `HTTP/1.1 200 OK` answers to a search. proto/http's request parser is not used:
// it refuses the `*` request target and cannot read a status line, and a datagram needs no
// streaming. This parser reads one whole datagram, accepts CRLF or bare LF line ends, a missing
// final empty line (the datagram's end ends the head) and any body (ignored).
//
// No I/O, no sockets, never throws on input, never reads outside the given bytes.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace camrelay::proto::ssdp
{

/// The multicast group and port SSDP announcements go to (UPnP Device Architecture 1.1, 1.1.2).
inline constexpr std::string_view multicast_group = "239.255.255.250";
inline constexpr std::uint16_t multicast_port = 1900;

/// Largest datagram parsed. UPnP asks senders to stay within one UDP datagram; real NOTIFYs are
/// a few hundred bytes.
inline constexpr std::size_t max_datagram = 8192;

enum class message_kind
{
    notify,          ///< `NOTIFY * HTTP/1.x`
    search_request,  ///< `M-SEARCH * HTTP/1.x` (another control point searching)
    search_response, ///< `HTTP/1.x 200 OK`, the answer to an M-SEARCH (unicast)
};

enum class notification
{
    none,   ///< no NTS (a search response or request)
    alive,  ///< `ssdp:alive`
    byebye, ///< `ssdp:byebye`
    update, ///< `ssdp:update`
    other,  ///< an NTS value this code does not know
};

/// host and port of an `http://host[:port]/...` URL (IPv6 literals without their brackets).
struct url_host
{
    std::string host;
    std::uint16_t port = 80;
};

/// One parsed datagram.
struct message
{
    message_kind kind = message_kind::notify;
    /// The notification or search target: NT of a NOTIFY, ST of a search response or request.
    std::string target;
    notification nts = notification::none;
    std::string usn;
    std::string location;
    /// Host of LOCATION when it is an `http://` URL; nullopt when LOCATION is absent or not one.
    std::optional<url_host> location_host;
    /// Every header field in arrival order (names as sent; values trimmed).
    std::vector<std::pair<std::string, std::string>> fields;

    /// First value of `name` (ASCII case-insensitive), or nullopt.
    std::optional<std::string_view> field(std::string_view name) const noexcept;
};

/// Parses one datagram. Errors are `ssdp::errc` codes.
result<message> parse(std::string_view datagram);

/// `http://host[:port][/path]` (scheme case-insensitive, `[v6]` hosts); nullopt otherwise.
std::optional<url_host> parse_http_url(std::string_view url);

/// The cameras camrelay recognises by their SSDP announcement.
enum class camera_kind
{
    /// Sony "Send to Computer": announces Microsoft's MTP-over-IP service type
    /// `urn:microsoft-com:service:MtpNullService:1` [unverified: taken from descriptions of how
    /// sony-pm-alt finds the camera, not from a capture].
    sony,
    /// Canon EOS: UPnP device with service
    /// `urn:schemas-canon-com:service:ICPO-SmartPhoneEOSSystemService:1` (seen in a device
    /// description, shared/protocols/ptp/vcam/upnp_dump_canon_eos_t6.txt). [unverified: that the
    /// camera announces this type in NOTIFY / answers a search for it, and that it then accepts
    /// PTP/IP on 15740 from a computer.]
    canon,
};

std::string_view to_string(camera_kind k) noexcept;

/// A camera announcing itself (alive) or leaving (byebye).
struct camera_announcement
{
    camera_kind kind = camera_kind::sony;
    bool alive = true;
    /// Where to pull from: the LOCATION host (empty for a byebye without LOCATION: use the
    /// datagram's sender).
    std::string host;
    /// The PTP/IP port to connect to: standard PTP/IP, `ptpip_port` as given to classify().
    std::uint16_t ptpip_port = 15740;
    std::string usn;
};

/// The camera kind whose service type `target` (NT / ST) names; nullopt for anything else
/// (routers' InternetGatewayDevice, media renderers, upnp:rootdevice, uuid:...). The version
/// suffix (`:1`) is not checked.
std::optional<camera_kind> camera_of(std::string_view target) noexcept;

/// Whether `m` is a camera we can pull from over standard PTP/IP, and from where. alive: a NOTIFY
/// ssdp:alive or a search response, with an http LOCATION; byebye: a NOTIFY ssdp:byebye.
/// Everything else (other devices, M-SEARCH, ssdp:update, an alive without usable LOCATION) gives
/// nullopt.
std::optional<camera_announcement> classify(message const& m, std::uint16_t ptpip_port = 15740);

} // namespace camrelay::proto::ssdp
