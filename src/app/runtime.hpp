// The composition root: builds the ledger, sinks, router, ingester, scheduler and sources from
// settings. The only place that knows every module.
#pragma once

#include "config/loader.hpp"
#include "config/settings.hpp"
#include "ingest/source.hpp"
#include "ledger/store.hpp"
#include "pipeline/ingester.hpp"
#include "pipeline/router.hpp"
#include "pipeline/scheduler.hpp"

#include <memory>
#include <string>
#include <vector>

namespace camrelay::app {

/// The option tables of every registered source and sink, for the config loader.
config::plugin_catalog make_catalog();

/// Loads `path` (or the embedded defaults when empty) and builds every plugin once to check its
/// options. Returns false with all problems listed.
bool load_settings(std::string const& path, config::settings& out,
                   std::vector<config::problem>& problems);

struct runtime
{
    config::settings settings;
    std::unique_ptr<ledger::store> store;
    std::unique_ptr<pipeline::router> routes;
    std::unique_ptr<pipeline::scheduler> deliveries;
    std::unique_ptr<pipeline::ingester> ingest;
    std::vector<std::unique_ptr<ingest::source>> sources;
};

/// Opens the ledger under settings.general.data_dir and builds everything. On failure returns
/// null and explains in `error`.
std::unique_ptr<runtime> make_runtime(config::settings settings, std::string& error);

std::string ledger_path(config::settings const& s);

} // namespace camrelay::app
