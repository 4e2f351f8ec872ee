// The source interface: something that finds photos on a camera and hands them to the pipeline.
// Sources never touch the ledger or the spool directly; they talk to an object_handler, which
// answers "already have it?" before any transfer and streams content into the spool.
#pragma once

#include "config/loader.hpp"
#include "config/settings.hpp"
#include "core/asset.hpp"
#include "core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay::ingest {

/// Who a camera is. `identity` must be stable across reconnects and ports.
struct camera_info
{
    std::string identity;
    std::string source_kind;
    std::string name;
    std::string manufacturer;
    std::string model;
    std::string serial;
    std::string port;
};

/// One object as a camera lists it: all that is known before a byte of content moves.
struct object_ref
{
    std::string folder;
    std::string name;
    std::uint64_t size = 0;
    std::int64_t mtime = 0;
    std::string mime;
};

/// Receives content chunks in order; returns an error to abort the transfer.
using chunk_sink = std::function<std::error_code(std::span<const std::byte>)>;

/// Streams an object's content from `offset` into `out`. A source that cannot start anywhere
/// but 0 declares so in fetch_plan::can_resume and is always called with offset 0.
using fetch_fn = std::function<std::error_code(std::uint64_t offset, chunk_sink const& out)>;

enum class fetch_status
{
    stored,      ///< new asset recorded and queued for delivery
    known,       ///< the ledger already had it; nothing moved
    failed,      ///< transfer or storage failed; a .part may be kept for resume
    deferred,    ///< not taken now, not a failure (streaming mode: a destination is away or a
                 ///< stream was cut by its leaving); the next scan offers it again
};

struct fetch_result
{
    fetch_status status = fetch_status::failed;
    std::uint64_t bytes = 0;  ///< content bytes moved in this call
    std::string error;
};

/// One file a camera pushes to us (Samsung uploads), written into the spool as it arrives.
/// Destroying it without finish() discards what was written.
class incoming_file
{
public:
    virtual ~incoming_file() = default;
    virtual std::error_code write(std::span<const std::byte> chunk) = 0;
    /// Flushes, fsyncs, moves the file into place and records the asset (no deliveries yet:
    /// queue_message() adds them). Returns the asset id.
    virtual result<std::int64_t> finish() = 0;
};

/// The words around pushed files and where they go. `info.recipients` names the sinks.
struct message_part
{
    std::int64_t asset_id = 0;
    std::string alt_text;
};

/// An object a camera listed (or announced) that could not be described, fetched or stored, as far
/// as it is known. Nothing a camera lists may disappear quietly: the source reports it here.
struct object_problem
{
    std::string folder;                  ///< where known, else ""
    std::string name;                    ///< where known, else ""
    std::optional<std::uint32_t> handle; ///< the camera's object handle (PTP), where there is one
    std::string reason;                  ///< for the user: why it could not be read
    bool timeout = false;                ///< the camera did not answer in time (not a protocol error)

    /// What identifies the problem within one camera session: folder/name where known, else the
    /// handle.
    std::string key() const
    {
        if (!name.empty())
            return folder + "/" + name;
        return handle ? "#" + std::to_string(*handle) : std::string("?");
    }
};

/// Implemented by the pipeline. Thread-safe: every camera thread calls it.
class object_handler
{
public:
    virtual ~object_handler() = default;
    /// A camera was opened; returns its ledger id. Loads what it already gave us.
    virtual result<std::int64_t> camera_connected(camera_info const& cam) = 0;
    /// True when the ledger already has this object of this camera (no transfer needed).
    virtual bool already_have(std::int64_t camera_id, object_ref const& obj) = 0;
    /// Streams the object into the spool (resuming a leftover .part when `can_resume`),
    /// records it, queues its deliveries.
    virtual fetch_result fetch(std::int64_t camera_id, camera_info const& cam,
                               object_ref const& obj, fetch_fn const& read, bool can_resume) = 0;
    /// Pushed files (cameras that upload to us): opens a spool file for `obj` (size may be 0 when
    /// unknown; `obj.folder` should make the object unique, e.g. per message).
    virtual result<std::unique_ptr<incoming_file>> begin_receive(std::int64_t camera_id,
                                                                 camera_info const& cam,
                                                                 object_ref const& obj) = 0;
    /// Records `info` and its parts (received assets, in order) and queues one delivery per part
    /// and distinct sink of `info.recipients`, in one transaction. With no recipients nothing is
    /// queued and the parts' spool copies are released. Returns the message id.
    virtual result<std::int64_t> queue_message(std::int64_t camera_id, message_info const& info,
                                               std::span<const message_part> parts) = 0;
    /// A listed object that could not be described or read before any transfer (no readable
    /// ObjectInfo, a card entry that is not a regular file inside the card, a transfer refused
    /// by the camera): counted as unreadable in the summary, a camera event "unreadable" with
    /// handle, folder/name and reason, kept among the unresolved failures (import exit code) and
    /// never recorded as known. The source retries it at its next scan, with backoff.
    virtual void object_unreadable(std::int64_t camera_id, object_problem const& problem) = 0;
    /// An object reported unreadable earlier in this process was read after all (same key()).
    virtual void object_recovered(std::int64_t camera_id, object_problem const& problem) = 0;
    /// Progress and problems a user should see (camera gone, camera refuses...).
    virtual void camera_event(std::int64_t camera_id, std::string const& kind,
                              std::string const& message) = 0;
};

class source
{
public:
    virtual ~source() = default;
    /// Daemon mode: pull what is new whenever a camera is there; returns once `stop` is requested.
    virtual void run(std::stop_token stop) = 0;
    /// One-shot: pull what is new from every camera there now, then return. Error when no
    /// camera could be read at all.
    virtual failure import_once(std::stop_token stop) = 0;
};

struct source_descriptor
{
    std::string_view type;
    std::string_view summary;
    std::span<const config::option_spec> options;
    std::unique_ptr<source> (*make)(config::source_settings const& settings, object_handler& out,
                                    std::vector<config::problem>& problems);
    /// Optional, run by load_settings before any sink or source is built: a source that reads
    /// another program's configuration (samsung compat_config) adds its sinks to `all` and fills
    /// the options of `self` (an element of all.sources; must not add sources). Problems carry
    /// lines of the camrelay config.
    void (*expand)(config::source_settings& self, config::settings& all,
                   std::vector<config::problem>& problems) = nullptr;
    /// True when the source's own options name the sinks of what it receives (samsung's
    /// `actions`): a configuration with only such sources needs no [[route]].
    bool names_its_sinks = false;
};

/// Every source type this build has (explicit table in registry.cpp).
std::span<const source_descriptor> registry();
source_descriptor const* find_source_type(std::string_view type);

} // namespace camrelay::ingest
