// The ledger: cameras, what each camera already gave us, assets, delivery jobs and the audit log,
// in one SQLite file (WAL, synchronous=FULL). The API is narrow and synchronous and takes `now`
// (unix seconds) as an argument so tests control time. Thread-safe: every call locks one mutex;
// the connection is not shared outside this class.
#pragma once

#include "core/asset.hpp"
#include "core/error.hpp"
#include "ledger/transfer_state.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

struct sqlite3;

namespace camrelay::ledger {

struct camera_record
{
    std::int64_t id = 0;
    std::string identity;
    std::string source_kind;
    std::string name;
    std::string manufacturer;
    std::string model;
    std::string serial;
    std::string port;
    std::int64_t first_seen = 0;
    std::int64_t last_seen = 0;
};

/// A camera's natural key for one object: what we can know before any transfer.
struct object_key
{
    std::string folder;
    std::string name;
    std::uint64_t size = 0;
    std::int64_t mtime = 0;

    std::string joined() const;  ///< one string for set look-ups
};

struct job_record
{
    std::int64_t id = 0;
    std::int64_t asset_id = 0;
    std::string sink;
    job_state state = job_state::pending;
    int attempts = 0;
    std::int64_t next_attempt_at = 0;
    std::string last_error;
    std::string receipt;
    std::int64_t updated_at = 0;
};

/// One asset of a message and its alt text.
struct message_part_record
{
    std::int64_t asset_id = 0;
    std::string alt_text;
};

/// A claimed job with everything a sink needs.
struct claimed_job
{
    job_record job;
    asset_info asset;
};

struct event_record
{
    std::int64_t id = 0;
    std::int64_t at = 0;
    std::string kind;
    std::int64_t camera_id = 0;
    std::int64_t asset_id = 0;
    std::int64_t job_id = 0;
    std::string message;
};

/// An object a camera listed that is not in the ledger, for as long as that lasts: what it is,
/// why, since when. One per camera and object.
struct object_problem_record
{
    std::int64_t camera_id = 0;
    std::string object;  ///< folder/name, or #handle when the camera gave no name
    std::string kind;    ///< "unreadable" (could not be described or read) or "not-fetched"
    std::string reason;
    bool timeout = false; ///< the camera did not answer in time
    std::int64_t first_seen = 0;
    std::int64_t last_seen = 0;
    std::int64_t attempts = 0;
};

struct sink_counts
{
    std::string sink;
    std::int64_t by_state[6] = {};  ///< indexed by job_state
};

class store
{
public:
    /// Opens (creating if needed) and migrates the ledger at `path`.
    static result<std::unique_ptr<store>> open(std::string const& path);
    /// Opens an existing ledger read-only, for `camrelay status`. No migration.
    static result<std::unique_ptr<store>> open_read_only(std::string const& path);
    ~store();
    store(store const&) = delete;
    store& operator=(store const&) = delete;

    /// Inserts or refreshes a camera by identity; returns its id.
    result<std::int64_t> upsert_camera(camera_record const& cam, std::int64_t now);

    /// Every object key this camera already gave us (see object_key::joined()).
    result<std::unordered_set<std::string>> known_objects(std::int64_t camera_id);
    result<bool> is_known(std::int64_t camera_id, object_key const& key);

    /// Records a fetched object as an asset with one pending job per sink, in one transaction.
    /// Idempotent on the object key: a second call returns the existing asset and adds nothing.
    /// Fills `asset.id` and `asset.seq`.
    /// `variant` > 0 records a second (third...) object with the same key but other content.
    result<std::int64_t> record_arrival(std::int64_t camera_id, object_key const& key,
                                        asset_info& asset, std::vector<std::string> const& sinks,
                                        std::int64_t now, std::int64_t variant = 0);

    /// Every asset recorded under this object key (all variants): (asset id, sha256), oldest
    /// first.
    result<std::vector<std::pair<std::int64_t, std::string>>> assets_of(std::int64_t camera_id,
                                                                      object_key const& key);

    /// Streaming mode (spool = "none"): records an object that was streamed straight from the
    /// camera to its sinks as an asset with no spool copy (spool_path empty, spool_state
    /// 'removed') and one job per (sink, receipt) already delivered, in one transaction.
    /// Idempotent on the object key like record_arrival. Fills `asset.id` and `asset.seq`.
    result<std::int64_t> record_streamed(
        std::int64_t camera_id, object_key const& key, asset_info& asset,
        std::vector<std::pair<std::string, std::string>> const& receipts, std::int64_t now);

    /// Jobs left `running` by a crash or kill go back to `pending`. Returns how many.
    result<int> requeue_running(std::int64_t now);

    /// Claims up to `limit` claimable jobs of `sink`, oldest capture first, and marks them
    /// running (attempts + 1). Daemon (`untouched_since` == 0): a job qualifies when it is due
    /// at `now`. One-shot import (`untouched_since` = run start): every pending job, and every
    /// failed-transient job that failed before the run started, whatever its retry time; a job
    /// that failed during this run is not taken again in it (each job once per run).
    /// With `whole_messages` (sinks that deliver batches): when the oldest claimable job belongs
    /// to a message, the claim is every open job of that message for `sink` (whatever `limit`
    /// and their retry times), else up to `limit` jobs of no message.
    result<std::vector<claimed_job>> claim_due(std::string const& sink, int limit,
                                               std::int64_t now, std::int64_t untouched_since = 0,
                                               bool whole_messages = false);

    /// Groups received assets (in order) into a message and queues one pending job per asset
    /// and sink, in one transaction. Each asset must belong to `camera_id` and to no message yet.
    result<std::int64_t> record_message(std::int64_t camera_id, message_info const& info,
                                        std::span<const message_part_record> parts,
                                        std::vector<std::string> const& sinks, std::int64_t now);

    /// Makes the failed-transient jobs of `sink` due now (a wake-up trigger fired). Returns how many.
    result<int> make_due(std::string const& sink, std::int64_t now);

    /// The earliest next_attempt_at among claimable jobs of the given sinks; 0 when none.
    result<std::int64_t> next_due(std::vector<std::string> const& sinks);

    std::error_code mark_delivered(std::int64_t job_id, std::string const& receipt,
                                   std::int64_t now);
    /// `transient` failures get `retry_at`; permanent ones become failed-permanent.
    std::error_code mark_failed(std::int64_t job_id, bool transient, std::string const& error,
                                std::int64_t retry_at, std::int64_t now);
    /// A running job stopped by shutdown: back to pending, the attempt not counted.
    std::error_code mark_interrupted(std::int64_t job_id, std::int64_t now);

    /// Moves failed-permanent, failed-transient and cancelled jobs back to pending, due now,
    /// with their attempt count reset.
    result<int> retry_failed(std::int64_t now);

    /// True when every job of the asset is delivered (so its spool copy may go).
    result<bool> all_delivered(std::int64_t asset_id);
    std::error_code mark_spool_removed(std::int64_t asset_id);
    /// Assets whose every job is delivered but whose spool copy is still marked present: what a
    /// crash between the last delivery and the spool clean-up leaves. (id, spool path) pairs.
    result<std::vector<std::pair<std::int64_t, std::string>>> delivered_but_spooled();

    std::error_code add_event(std::string const& kind, std::string const& message,
                              std::int64_t now, std::int64_t camera_id = 0,
                              std::int64_t asset_id = 0, std::int64_t job_id = 0);

    /// Most open object problems kept per camera. Past it a new one is not added (the camera
    /// events still sum them up): a card of a million broken entries cannot grow the ledger.
    static constexpr std::int64_t max_problems_per_camera = 1000;
    /// Notes (or refreshes: reason, kind, last_seen, attempts + 1) an open problem of `object`.
    std::error_code note_problem(std::int64_t camera_id, std::string const& object,
                                 std::string const& kind, std::string const& reason,
                                 bool timeout, std::int64_t now);
    /// The object was stored or read after all. True when there was an open problem.
    result<bool> clear_problem(std::int64_t camera_id, std::string const& object);
    /// Drops the camera's problems keyed by handle (#N): handles mean nothing in a new session.
    std::error_code clear_handle_problems(std::int64_t camera_id);
    /// Open problems of a camera (0: every camera), latest first; empty on a ledger older than
    /// the table.
    result<std::vector<object_problem_record>> problems(std::int64_t camera_id, int limit);
    /// How many open problems of `kind` a camera has ("" for every kind).
    result<std::int64_t> problem_count(std::int64_t camera_id, std::string const& kind = {});

    // Queries for status.
    /// Total content bytes of every asset of a camera.
    result<std::int64_t> asset_bytes(std::int64_t camera_id);
    result<std::vector<camera_record>> cameras();
    result<std::int64_t> object_count(std::int64_t camera_id);
    result<std::vector<sink_counts>> job_counts();
    result<std::vector<event_record>> recent_events(int limit, std::string const& kind = {});
    result<std::vector<job_record>> jobs_in_state(job_state s, int limit);
    result<job_record> job(std::int64_t id);
    /// Runs PRAGMA integrity_check; "ok" when the file is sound.
    result<std::string> integrity_check();

private:
    explicit store(sqlite3* db);
    std::error_code exec(char const* sql);
    /// One integer from `sql`, whose only parameter is a camera id. Takes the mutex.
    result<std::int64_t> camera_scalar(char const* sql, std::int64_t camera_id);
    std::error_code migrate();
    /// Checks with the state table that the job may move to `to`; caller holds the mutex.
    std::error_code check_transition(std::int64_t job_id, job_state to);
    /// Caller holds the mutex.
    result<message_info> load_message(std::int64_t id);
    /// Inserts asset + object + 'arrived' event for a new object (false, asset filled from the
    /// ledger, when the object is already known). Caller holds the mutex and a transaction.
    result<bool> insert_arrival(std::int64_t camera_id, object_key const& key, asset_info& asset,
                                bool spooled, std::string const& note, std::int64_t now,
                                std::int64_t variant = 0);
    /// True when the ledger has the object_problems table (a read-only open of an old ledger
    /// may not). Caller holds the mutex.
    bool has_problems_table();

    sqlite3* db_;
    std::mutex mutex_;
};

} // namespace camrelay::ledger
