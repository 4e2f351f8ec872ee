// The "webdav" sink (Nextcloud, ownCloud, NAS boxes, Apache mod_dav, nginx dav, rclone serve).
// Registered through webdav_sink_descriptor in delivery/registry.cpp. The pure helpers below are
// exposed for unit tests; the transfer itself is tested against real servers (integration).
#pragma once

#include "delivery/sink.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay::delivery
{

extern sink_descriptor const webdav_sink_descriptor;

namespace webdav
{

/// What a PROPFIND (Depth: 0) answer says about one resource.
struct dav_resource
{
    bool exists = false;                 ///< the answer holds a <response> with no error status
    bool collection = false;             ///< <resourcetype> holds <collection/>
    std::optional<std::uint64_t> length; ///< <getcontentlength> from a 2xx <propstat>
};

/// Reads a 207 Multi-Status body minimally: only the first <response>, only values inside a
/// <propstat> whose <status> is 2xx (servers list unknown properties in a 404 propstat). Any
/// namespace prefix is accepted (D:, d:, lp1:, none). Never throws; garbage gives exists=false.
dav_resource parse_propfind(std::string_view xml);

/// Splits a rendered path template into percent-encoded URL path segments (empty segments are
/// dropped). False when a segment is "." or "..", or nothing is left: such a path could leave
/// the base collection.
bool url_segments(std::string_view rendered, std::vector<std::string>& out);

/// "IMG_1.JPG" -> "IMG_1-2.JPG" (n = 2) for a name that is taken by a different file.
std::string numbered_name(std::string const& name, int n);

} // namespace webdav

} // namespace camrelay::delivery
