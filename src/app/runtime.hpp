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

/// An exclusive flock on DATA_DIR/lock: one run or import per data folder at a time (a second
/// one would requeue the first one's running jobs). Released by the kernel if the process dies.
class data_dir_lock
{
public:
    /// Takes the lock; on failure returns a closed lock and explains in `error`.
    static data_dir_lock acquire(std::string const& data_dir, std::string& error);
    data_dir_lock() = default;
    data_dir_lock(data_dir_lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    data_dir_lock& operator=(data_dir_lock&& other) noexcept;
    ~data_dir_lock();
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

struct runtime
{
    data_dir_lock lock;
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

/// The sink's settings as they can be built now: {device_ip} in its url replaced by the
/// device's fixed ip, or by a name that never resolves until the device's address is known.
config::sink_settings for_checking(config::sink_settings const& sink, config::settings const& all);

} // namespace camrelay::app
