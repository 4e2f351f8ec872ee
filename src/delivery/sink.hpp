// The sink interface: one named destination instance (a folder, a command, later SMTP, SFTP...).
// Sinks are blocking and run on the pipeline's delivery workers, one job per call; a sink must
// stop within about a second once `request.stop` is requested, and must be idempotent per job:
// a retry after a crash must not leave a second copy at the destination.
#pragma once

#include "config/loader.hpp"
#include "config/settings.hpp"
#include "core/asset.hpp"
#include "delivery/content_reader.hpp"
#include "delivery/error.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace camrelay::delivery {

struct request
{
    std::int64_t job_id = 0;
    int attempt = 1;           ///< 1 for the first try
    asset_info const& asset;   ///< content is at asset.spool_path (not in deliver_stream)
    std::stop_token stop;
};

/// What a delivery produced: where the copy is, for the ledger and `camrelay status`.
struct outcome
{
    std::error_code error;     ///< empty on success; classify() decides retry vs give-up
    std::string message;       ///< on failure: what happened, with names; on success: location
    /// Transient failures only: the earliest time (seconds since 1970) a retry makes sense, e.g.
    /// a server's rate-limit reset; 0 when the sink knows none. The scheduler waits at least
    /// until then (at most a day), whatever its own backoff says.
    std::int64_t retry_not_before = 0;

    static outcome ok(std::string location) { return {{}, std::move(location), 0}; }
    static outcome fail(std::error_code ec, std::string why) { return {ec, std::move(why), 0}; }
    explicit operator bool() const { return !error; }
};

class sink
{
public:
    virtual ~sink() = default;
    virtual outcome deliver(request const& req) = 0;

    /// How many due jobs this sink takes in one call (an e-mail digest of several photos).
    /// 1 (the default): the scheduler only calls deliver().
    virtual std::size_t batch_limit() const { return 1; }

    /// True for sinks that turn a pushed message (asset_info::message: a Samsung e-mail or
    /// social batch) into one delivery: the scheduler then hands every job of a message to one
    /// deliver_batch() call, whatever batch_limit() says.
    virtual bool delivers_messages() const { return false; }

    /// Streaming mode (spool = "none"): true when deliver_stream() works for this sink's
    /// settings. Checked at startup: a route to a sink that cannot stream is refused.
    virtual bool can_stream() const { return false; }

    /// Delivers content read from `in` (the camera, through a bounded buffer) instead of a
    /// spooled file: `req.asset` has the size the camera listed, an empty spool_path, and no
    /// sha256 (in.sha256_hex() has it once read() returned 0). No resume: a retry starts over.
    /// A read error (the camera failed, the delivery was stopped) fails the delivery; what was
    /// written stays at a temporary name only. Same idempotence as deliver().
    virtual outcome deliver_stream(request const& req, content_reader& in)
    {
        (void)req;
        (void)in;
        return outcome::fail(make_error_code(errc::bad_destination),
                             "this sink cannot deliver in streaming mode");
    }

    /// Delivers several jobs together; returns one outcome per request, in order. The default
    /// delivers them one by one. Runs on one worker and counts once against `concurrency`.
    virtual std::vector<outcome> deliver_batch(std::span<request const> requests)
    {
        std::vector<outcome> out;
        for (auto const& r : requests)
            out.push_back(deliver(r));
        return out;
    }
};

struct sink_descriptor
{
    std::string_view type;
    std::string_view summary;
    std::span<const config::option_spec> options;
    /// Builds a sink from checked settings. On a settings problem returns null and appends to
    /// `problems` (with the config line), so `camrelay config check` lists them all.
    std::unique_ptr<sink> (*make)(config::sink_settings const& settings,
                                  std::vector<config::problem>& problems);
};

/// Every sink type this build has (explicit table in registry.cpp).
std::span<const sink_descriptor> registry();
sink_descriptor const* find_sink_type(std::string_view type);

} // namespace camrelay::delivery
