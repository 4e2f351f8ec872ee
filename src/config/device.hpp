// Helpers for [device.NAME] settings: MAC address normalisation and the `{device_ip}`
// placeholder a device-bound sink may use in its `url`.
#pragma once

#include "config/settings.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace camrelay::config
{

/// The placeholder replaced by a device's current address in the `url` of a sink with `device`.
inline constexpr std::string_view device_ip_placeholder = "{device_ip}";

/// "AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff", "a:b:c:d:e:f", "aabb.ccdd.eeff" or "AABBCCDDEEFF"
/// -> "aa:bb:cc:dd:ee:ff". Nothing when the text is not a 6-byte MAC address.
std::optional<std::string> normalize_mac(std::string_view text);

/// True when the sink's `url` holds {device_ip}.
bool uses_device_address(sink_settings const& s);

/// The sink's settings with {device_ip} in `url` replaced by `address` (IPv6 in brackets).
sink_settings with_device_address(sink_settings s, std::string const& address);

} // namespace camrelay::config
