// The pipeline's side of every source: skip what the ledger knows (or no route wants) before any
// transfer, stream the rest into the spool, record the asset and queue its deliveries.
#pragma once

#include "ingest/source.hpp"
#include "ledger/store.hpp"
#include "pipeline/router.hpp"
#include "pipeline/stream_buffer.hpp"

#include <atomic>
#include <filesystem>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace camrelay::pipeline {

/// Counters for progress and the import summary. Updated from camera threads.
struct ingest_stats
{
    std::atomic<long> cameras{0};
    std::atomic<long> listed{0};     ///< objects looked at
    std::atomic<long> known{0};      ///< skipped: the ledger had them
    std::atomic<long> unrouted{0};   ///< skipped: no route wants them
    std::atomic<long> to_fetch{0};   ///< new objects found
    std::atomic<long> fetched{0};    ///< new assets stored
    std::atomic<long> failed{0};     ///< transfers that failed
    std::atomic<long> unreadable{0}; ///< listed objects that could not be described or read
    std::atomic<long> resumed{0};    ///< transfers that continued a leftover .part
    std::atomic<long long> bytes{0}; ///< content bytes moved
};

/// What became of each object in this process, counted once per object: a reconnect or a
/// second scan lists objects again, and each is still counted once, under what happened last.
struct object_tally
{
    long cameras = 0;            ///< distinct cameras connected
    long stored = 0;             ///< new objects recorded (fetched, streamed or received)
    long long stored_bytes = 0;  ///< their content bytes
    long known = 0;              ///< listed and already in the ledger before this process
    long unrouted = 0;           ///< listed, not fetched: no route wants them
    long unreadable = 0;         ///< listed, could not be described or read, still not stored
    long not_fetched = 0;        ///< listed as new, transfer or storage failed (or never tried)
    long deferred = 0;           ///< streaming mode: left for later, a destination was away
    long twins = 0;              ///< of `stored`: same folder, name, size and time as another
                                 ///< object of the camera, other content (kept as its own asset)
    long resumed = 0;            ///< transfers that continued a leftover .part

    /// Objects a camera still has that did not reach the ledger.
    long left_on_camera() const { return unreadable + not_fetched + deferred; }
};

/// True when `ec` says something did not answer in time (std::errc::timed_out or a code of any
/// category equivalent to it).
bool is_timeout(std::error_code const& ec);
/// `ec`'s message, said to be a timeout when it is one (never a "protocol error").
std::string describe_error(std::error_code const& ec);

class ingester final : public ingest::object_handler
{
public:
    /// `on_new_jobs` is called (from the camera thread) after an asset was queued.
    ingester(ledger::store& store, router const& routes, std::filesystem::path spool_root,
             std::function<void()> on_new_jobs);

    result<std::int64_t> camera_connected(ingest::camera_info const& cam) override;
    bool already_have(std::int64_t camera_id, ingest::object_ref const& obj) override;
    ingest::fetch_result fetch(std::int64_t camera_id, ingest::camera_info const& cam,
                               ingest::object_ref const& obj, ingest::fetch_fn const& read,
                               bool can_resume) override;
    result<std::unique_ptr<ingest::incoming_file>> begin_receive(
        std::int64_t camera_id, ingest::camera_info const& cam,
        ingest::object_ref const& obj) override;
    result<std::int64_t> queue_message(std::int64_t camera_id, message_info const& info,
                                       std::span<const ingest::message_part> parts) override;
    void object_unreadable(std::int64_t camera_id, ingest::object_problem const& problem) override;
    void object_recovered(std::int64_t camera_id, ingest::object_problem const& problem) override;
    void camera_event(std::int64_t camera_id, std::string const& kind,
                      std::string const& message) override;

    /// Unreadable objects reported one by one (log warning and ledger event) per camera and
    /// process; past that they are summed up, so a card of a million broken entries gives a
    /// bounded log and ledger.
    static constexpr long unreadable_reported_singly = 20;

    ingest_stats const& stats() const { return stats_; }

    /// Streaming mode (spool = "none"): fetch() no longer writes the spool. An object whose
    /// routed sinks all give a lease is read from the camera through a bounded buffer of
    /// `buffer_capacity` bytes into each sink in turn (the camera is read once per sink), and
    /// recorded with its deliveries done once every sink succeeded; otherwise nothing is
    /// recorded and the object stays new (fetch_status::deferred when a sink was away or the
    /// stream was cut, failed when the camera or a sink failed). Pushed files are refused.
    void set_streaming(stream_gate gate,
                       std::size_t buffer_capacity = stream_buffer::default_capacity);
    /// Streaming mode: the most bytes a stream buffer held at once, over all streams so far.
    std::size_t stream_high_water() const { return stream_high_water_.load(); }

    /// Objects whose last fetch in this process failed, listed objects not fetched (yet), and
    /// objects still unreadable. A transfer that broke and then completed after a reconnect (a
    /// resumed download) is not among them: `stats().failed` counts broken transfers, this
    /// counts what is still missing.
    std::size_t unresolved_failures() const;

    /// Every object of this process, counted once (see object_tally).
    object_tally tally() const;

    /// Test seam (CAMRELAY_FAULTS point "ingest.hang", any errno): the matching fetch blocks
    /// for ever, ignoring stop requests, as a camera thread stuck inside a library call would.
    static constexpr char const* hang_fault = "ingest.hang";

private:
    class pushed_file;
    /// Where an object stands in this process (see object_tally).
    enum class outcome : std::uint8_t
    {
        known,
        unrouted,
        wanted,   ///< listed as new, not fetched yet
        stored,
        failed,
        deferred,
        unreadable,
        count_
    };
    /// Caller holds failures_mutex_. Sets (or changes) the outcome of object `id`.
    void set_outcome(std::uint64_t id, outcome o);
    /// Caller holds failures_mutex_. The outcome of `id`, if it was seen.
    std::optional<outcome> outcome_of(std::uint64_t id) const;
    static std::uint64_t object_id(std::int64_t camera_id, std::string const& joined);
    static std::uint64_t problem_id(std::int64_t camera_id, std::string const& key);
    /// After a fetch (not deferred): the tally, the open problems and their ledger rows.
    void settle(std::int64_t camera_id, ingest::camera_info const& cam,
                ingest::object_ref const& obj, ingest::fetch_result const& res, bool twin);
    /// Notes an open problem in the ledger (at most once a minute per object and process).
    void note_problem(std::int64_t camera_id, std::string const& object, std::string const& kind,
                      std::string const& reason, bool timeout);
    void clear_problem(std::int64_t camera_id, std::string const& object);
    /// A second object with the key of one already recorded: fetched into its own spool file,
    /// then known (same content) or recorded as a variant (other content).
    ingest::fetch_result fetch_twin(std::int64_t camera_id, ingest::camera_info const& cam,
                                    ingest::object_ref const& obj, ingest::fetch_fn const& read);
    /// After the ledger call that records a fetched object: on success remembers the object as
    /// known and reports it stored; on failure reports the error. False on failure.
    bool recorded(result<std::int64_t> const& id, std::int64_t camera_id,
                  std::string const& joined, std::string const& name, ingest::fetch_result& res);
    asset_info describe(ingest::camera_info const& cam, ingest::object_ref const& obj,
                        std::filesystem::path const& spooled, std::string sha,
                        std::uint64_t size) const;
    ingest::fetch_result fetch_once(std::int64_t camera_id, ingest::camera_info const& cam,
                                    ingest::object_ref const& obj, ingest::fetch_fn const& read,
                                    bool can_resume);
    ingest::fetch_result fetch_stream(std::int64_t camera_id, ingest::camera_info const& cam,
                                      ingest::object_ref const& obj,
                                      ingest::fetch_fn const& read);
    std::vector<std::string> routes_for(ingest::camera_info const& cam,
                                        ingest::object_ref const& obj) const;

    ledger::store& store_;
    router const& routes_;
    std::filesystem::path spool_root_;
    std::function<void()> on_new_jobs_;
    ingest_stats stats_;
    std::mutex mutex_;
    std::map<std::int64_t, std::unordered_set<std::string>> known_;   // per camera id
    std::map<std::int64_t, ingest::camera_info> cameras_;
    /// Pushed files recorded but not yet in a message: asset id -> spool path.
    std::map<std::int64_t, std::filesystem::path> received_;
    mutable std::mutex failures_mutex_;
    std::unordered_map<std::uint64_t, outcome> outcomes_; // object or problem id -> outcome
    long by_outcome_[static_cast<int>(outcome::count_)] = {};
    std::set<std::int64_t> connected_;       // distinct cameras
    long stored_extra_ = 0;                  // twins and pushed files stored (not one id each)
    long twins_ = 0;
    std::set<std::uint64_t> twin_failed_;    // ids with a twin whose fetch failed, not stored
    long long stored_bytes_ = 0;
    std::map<std::int64_t, long> unreadable_per_camera_; // reports so far, for the summing up
    /// Open problems per camera (object -> kind, when last written to the ledger), loaded at
    /// camera_connected; bounded like the ledger's table.
    struct open_problem
    {
        std::string kind;
        std::int64_t written_at = 0;
    };
    std::map<std::int64_t, std::map<std::string, open_problem>> problems_;
    stream_gate stream_gate_;           // set: streaming mode
    std::size_t stream_capacity_ = stream_buffer::default_capacity;
    std::atomic<std::size_t> stream_high_water_{0};
};

/// Seconds since 1970, the ledger's clock.
std::int64_t now_seconds();

} // namespace camrelay::pipeline
