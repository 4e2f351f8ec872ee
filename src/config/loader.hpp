// TOML -> settings, checked against the plugin option tables. Collects every problem at once.
#pragma once

#include "config/options.hpp"
#include "config/settings.hpp"

#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay::config {

struct problem
{
    int line = 0;  ///< 1-based line in the file, 0 when not tied to one
    std::string message;
};

/// The option tables of every registered plugin, by type name. Built by the app from the
/// ingest and delivery registries, so this module depends on neither.
struct plugin_catalog
{
    std::map<std::string, std::span<const option_spec>, std::less<>> sources;
    std::map<std::string, std::span<const option_spec>, std::less<>> sinks;
    /// Source types whose options name their sinks (no [[route]] needed for them).
    std::set<std::string, std::less<>> sources_naming_sinks;
};

/// Options every sink table accepts besides its own (retry and concurrency policy).
std::span<const option_spec> common_sink_options();
/// Keys of the [camrelay] table.
std::span<const option_spec> general_options();
/// Keys of a [[route]] table.
std::span<const option_spec> route_options();
/// Keys of a [device.NAME] table.
std::span<const option_spec> device_options();
/// Keys of the [trigger.hostapd] table.
std::span<const option_spec> hostapd_options();

/// Parses and checks `text`. Returns false when there is any problem; `problems` then lists
/// all of them with their lines. `origin` names the file in messages.
bool load_string(std::string_view text, std::string_view origin, plugin_catalog const& catalog,
                 settings& out, std::vector<problem>& problems);

bool load_file(std::string const& path, plugin_catalog const& catalog, settings& out,
               std::vector<problem>& problems);

} // namespace camrelay::config
