// Delivery workers: claim due jobs from the ledger, run them on their sinks with a limit per
// sink and overall, record the outcome, retry transient failures with capped exponential
// backoff and jitter, and remove a spooled file once every delivery of it is verified.
//
// Threads: one scheduler thread plus one thread per running delivery (bounded by `workers`).
// Sinks block; cancellation reaches them through their stop_token.
#pragma once

#include "config/settings.hpp"
#include "delivery/sink.hpp"
#include "ledger/store.hpp"
#include "pipeline/stream_buffer.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace camrelay::pipeline {

struct sink_instance
{
    config::sink_settings settings;
    std::unique_ptr<delivery::sink> sink;
};

struct delivery_stats
{
    std::atomic<long> delivered{0};
    std::atomic<long> failed_transient{0};
    std::atomic<long> failed_permanent{0};
    std::atomic<long> interrupted{0};
};

class scheduler
{
public:
    scheduler(ledger::store& store, std::vector<sink_instance> sinks, std::int64_t workers,
              bool keep_spool);
    ~scheduler();
    scheduler(scheduler const&) = delete;
    scheduler& operator=(scheduler const&) = delete;

    /// Daemon mode: claims jobs when they are due until stop().
    void start();

    /// One-shot mode: runs every claimable job once (including ones that failed before this
    /// run, whatever their retry time), and returns when no job is left to run and
    /// `ingest_finished()` was called.
    void run_once();
    void ingest_finished();

    /// New jobs were queued: look now.
    void notify();

    /// A trigger fired: sinks with wake_on == name get their failed jobs due now.
    void wake(std::string const& trigger);

    /// Device presence ([device.NAME]): jobs of a sink with `device` run only while that device
    /// is present. A join (or a new address while present) makes the sink's waiting jobs due at
    /// once and fires the trigger named like the device (`wake_on`); `address` (may be empty:
    /// unknown) replaces {device_ip} in the sink's url through the sink factory.
    void device_joined(std::string const& device, std::string const& address);
    /// The device left: its sinks stop claiming, and their running deliveries are cancelled
    /// (back to pending, the attempt not counted).
    void device_left(std::string const& device);
    /// Streaming mode (spool = "none"): a lease to deliver one photo to `sink` now, outside the
    /// job queue; null while the sink's device is absent, while it backs off after a failed
    /// stream (retry_min..retry_max; a join of its device ends that), or once stopping.
    /// device_left() and stop() cancel the lease's stop token.
    std::unique_ptr<stream_lease> lease_stream(std::string const& sink);
    /// Shutdown, before the camera threads are joined: cuts every stream in flight (nothing is
    /// recorded for a cut stream) and hands out no new lease, so a stalled sink cannot hold a
    /// camera thread until its stall timeout.
    void cancel_streams();
    /// Rebuilds a sink for a device's address; used for sinks whose url holds {device_ip}.
    using sink_factory = std::function<std::unique_ptr<delivery::sink>(
        config::sink_settings const&, std::string const& address)>;
    void set_sink_factory(sink_factory f);

    /// Stops claiming; running deliveries get `grace` to finish, then are cancelled (back to
    /// pending, attempt not counted). Joins every thread.
    void stop(std::chrono::seconds grace);

    delivery_stats const& stats() const { return stats_; }

    /// Backoff before retry number `attempts` (1-based): min * 2^(attempts-1), capped at max,
    /// then scaled by a jitter factor in [0.5, 1.0].
    static std::int64_t backoff(std::int64_t attempts, std::int64_t min, std::int64_t max,
                                double jitter);

private:
    struct running_job
    {
        std::stop_source stop;
        std::jthread thread;
        std::atomic<bool> done{false};
        std::string device;  ///< the sink's device: cancelled when it leaves
    };
    struct sink_state
    {
        sink_instance instance;
        int running = 0;
        int stream_failures = 0;          ///< streaming mode: failed streams in a row
        std::int64_t stream_not_before = 0;
    };
    class lease;
    struct stream_entry
    {
        std::string device;
        std::stop_source stop;
    };

    /// Startup: requeues jobs a crash left running and removes spool copies whose deliveries
    /// all completed before a crash could clean them up.
    void recover();
    /// Removes the asset's spool copy once all its jobs are delivered (unless spool_keep=always).
    void release_spool(std::int64_t asset_id, std::string const& path);
    void loop();
    /// Claims and dispatches what it can; true when anything was dispatched.
    bool dispatch_due(std::int64_t now);
    /// Runs one claimed job, or a batch of them for sinks with batch_limit() > 1.
    void run_jobs(sink_state& s, std::vector<ledger::claimed_job> jobs, std::stop_token stop);
    void finish(sink_state& s, ledger::claimed_job const& job, delivery::outcome const& out);
    void reap();
    struct device_gate
    {
        bool present = false;
        std::string address;
        std::uint64_t generation = 0;  ///< bumped on every new address
    };
    /// Caller holds mutex_. False while the sink's device is absent (or its address unknown,
    /// or the sink is still busy with the old address); rebuilds the sink for a new address.
    bool sink_ready(std::string const& name, sink_state& s);
    /// Caller holds mutex_. Sinks whose jobs may run now as far as devices go.
    std::vector<std::string> ungated_sinks();
    /// Caller holds mutex_. True when the sink depends on a device that is absent.
    bool device_absent(config::sink_settings const& s);

    ledger::store& store_;
    std::map<std::string, sink_state> sinks_;
    std::int64_t workers_;
    bool keep_spool_;
    bool one_shot_ = false;
    std::int64_t run_started_ = 0;
    bool ingest_done_ = false;
    bool stopping_ = false;
    bool notified_ = false;
    int running_total_ = 0;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<running_job>> jobs_;
    std::vector<stream_entry*> streams_;  ///< leases out, for cancellation
    bool streams_closed_ = false;         ///< cancel_streams() was called
    std::jthread thread_;
    delivery_stats stats_;
    std::map<std::string, device_gate> devices_;
    std::map<std::string, std::uint64_t> built_for_;  ///< sink -> address generation it serves
    sink_factory factory_;
};

} // namespace camrelay::pipeline
