// Maps an asset to the names of the sinks that get it. Every [[route]] whose match keys all
// match contributes its sinks; a route with no match keys takes everything. The result is the
// union, in config order, without repeats.
#pragma once

#include "config/settings.hpp"

#include <string>
#include <vector>

namespace camrelay::pipeline {

/// The facts routes match on; all known before any transfer.
struct route_facts
{
    std::string source_kind;
    std::string camera_name;
    std::string model;
    std::string camera_identity;
    std::string file_name;
};

class router
{
public:
    explicit router(std::vector<config::route_settings> routes) : routes_(std::move(routes)) {}
    std::vector<std::string> destinations(route_facts const& facts) const;

private:
    std::vector<config::route_settings> routes_;
};

} // namespace camrelay::pipeline
