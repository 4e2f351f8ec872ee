#include "pipeline/ingester.hpp"

#include "core/fs.hpp"
#include "core/log.hpp"
#include "core/sha256.hpp"
#include "ingest/metadata.hpp"
#include "spool/spool.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace camrelay::pipeline {

namespace {

constexpr auto log_tag = "ingest";

ledger::object_key key_of(ingest::object_ref const& o)
{
    return {o.folder, o.name, o.size, o.mtime};
}

/// The object_problems key of a listed object (ingest::object_problem::key() for named ones).
std::string problem_key(ingest::object_ref const& o)
{
    return o.folder + "/" + o.name;
}

constexpr auto not_fetched_kind = "not-fetched";
constexpr auto unreadable_kind = "unreadable";

} // namespace

bool is_timeout(std::error_code const& ec)
{
    return ec && ec == std::errc::timed_out;
}

namespace {

/// True for an error text describe_error() made out of a timeout.
bool says_timeout(std::string const& text)
{
    return text.rfind("timeout", 0) == 0 || text.find(": timeout") != std::string::npos;
}

} // namespace

std::string describe_error(std::error_code const& ec)
{
    if (!is_timeout(ec))
        return ec.message();
    auto text = ec.message();
    return text.find("time") == std::string::npos ? "timeout (" + text + ")"
                                                   : "timeout: " + text;
}

std::int64_t now_seconds()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

ingester::ingester(ledger::store& store, router const& routes, std::filesystem::path spool_root,
                   std::function<void()> on_new_jobs)
    : store_(store), routes_(routes), spool_root_(std::move(spool_root)),
      on_new_jobs_(std::move(on_new_jobs))
{
}

result<std::int64_t> ingester::camera_connected(ingest::camera_info const& cam)
{
    ledger::camera_record rec;
    rec.identity = cam.identity;
    rec.source_kind = cam.source_kind;
    rec.name = cam.name;
    rec.manufacturer = cam.manufacturer;
    rec.model = cam.model;
    rec.serial = cam.serial;
    rec.port = cam.port;
    auto now = now_seconds();
    auto id = store_.upsert_camera(rec, now);
    if (!id)
        return id;
    auto known = store_.known_objects(*id);
    if (!known)
        return known.error();
    {
        std::lock_guard lock(mutex_);
        known_[*id] = std::move(*known);
        cameras_[*id] = cam;
    }
    // Handles are per session: a problem noted under one means nothing now (the scan notes it
    // again when the object is still unreadable).
    store_.clear_handle_problems(*id);
    auto open = store_.problems(*id, static_cast<int>(ledger::store::max_problems_per_camera));
    {
        std::lock_guard lock(failures_mutex_);
        connected_.insert(*id);
        auto& mine = problems_[*id];
        mine.clear();
        if (open)
            for (auto const& p : *open)
                mine[p.object] = {p.kind, 0};
    }
    ++stats_.cameras;
    store_.add_event("camera", cam.name + " connected at " + cam.port, now, *id);
    return id;
}

std::vector<std::string> ingester::routes_for(ingest::camera_info const& cam,
                                              ingest::object_ref const& obj) const
{
    return routes_.destinations({cam.source_kind, cam.name, cam.model, cam.identity, obj.name});
}

std::uint64_t ingester::object_id(std::int64_t camera_id, std::string const& joined)
{
    return std::hash<std::string>{}(std::to_string(camera_id) + '\x1f' + joined);
}

std::uint64_t ingester::problem_id(std::int64_t camera_id, std::string const& key)
{
    return std::hash<std::string>{}(std::to_string(camera_id) + "\x1e" + key);
}

void ingester::set_outcome(std::uint64_t id, outcome o)
{
    auto [it, added] = outcomes_.try_emplace(id, o);
    if (!added)
    {
        --by_outcome_[static_cast<int>(it->second)];
        it->second = o;
    }
    ++by_outcome_[static_cast<int>(o)];
}

std::optional<ingester::outcome> ingester::outcome_of(std::uint64_t id) const
{
    if (auto it = outcomes_.find(id); it != outcomes_.end())
        return it->second;
    return std::nullopt;
}

bool ingester::already_have(std::int64_t camera_id, ingest::object_ref const& obj)
{
    ++stats_.listed;
    auto joined = key_of(obj).joined();
    auto id = object_id(camera_id, joined);
    ingest::camera_info cam;
    bool known = false;
    {
        std::lock_guard lock(mutex_);
        known = known_[camera_id].count(joined) > 0;
        cam = cameras_[camera_id];
    }
    if (known)
    {
        std::lock_guard lock(failures_mutex_);
        if (!outcome_of(id))
            set_outcome(id, outcome::known);  // stored earlier in this process: counted as new
        // The key is known, yet an object under this name is missing: a twin (same key, other
        // content) whose fetch failed. Fetch again; the content tells the two apart.
        auto& open = problems_[camera_id];
        if (auto it = open.find(problem_key(obj));
            it != open.end() && it->second.kind == not_fetched_kind)
        {
            ++stats_.to_fetch;
            return false;
        }
        ++stats_.known;
        return true;
    }
    if (routes_for(cam, obj).empty())
    {
        // Nobody wants it: do not fetch. A route added later will make it new again.
        ++stats_.unrouted;
        std::lock_guard lock(failures_mutex_);
        set_outcome(id, outcome::unrouted);
        return true;
    }
    ++stats_.to_fetch;
    std::lock_guard lock(failures_mutex_);
    auto was = outcome_of(id);
    if (!was || *was == outcome::unrouted)
        set_outcome(id, outcome::wanted);
    return false;
}

ingest::fetch_result ingester::fetch(std::int64_t camera_id, ingest::camera_info const& cam,
                                     ingest::object_ref const& obj, ingest::fetch_fn const& read,
                                     bool can_resume)
{
    if (fault::check(hang_fault))
    {
        log::warn(log_tag, "camera={} file={}/{}: fault {} set: this thread blocks for ever",
                  cam.identity, obj.folder, obj.name, hang_fault);
        for (;;)
            std::this_thread::sleep_for(std::chrono::hours(1));
    }
    auto joined = key_of(obj).joined();
    auto id = object_id(camera_id, joined);
    bool known = false;
    {
        std::lock_guard lock(mutex_);
        known = known_[camera_id].count(joined) > 0;
    }
    ingest::fetch_result res;
    if (known && !stream_gate_)
        res = fetch_twin(camera_id, cam, obj, read);
    else if (stream_gate_)
        res = fetch_stream(camera_id, cam, obj, read);
    else
        res = fetch_once(camera_id, cam, obj, read, can_resume);
    if (res.status == ingest::fetch_status::deferred)
    {
        std::lock_guard lock(failures_mutex_);
        if (outcome_of(id) != outcome::stored)
            set_outcome(id, outcome::deferred);
        return res;
    }
    settle(camera_id, cam, obj, res, known);
    return res;
}

void ingester::settle(std::int64_t camera_id, ingest::camera_info const& cam,
                      ingest::object_ref const& obj, ingest::fetch_result const& res, bool twin)
{
    (void)cam;
    auto id = object_id(camera_id, key_of(obj).joined());
    auto where = problem_key(obj);
    bool clear = false;
    {
        std::lock_guard lock(failures_mutex_);
        auto was = outcome_of(id);
        switch (res.status)
        {
        case ingest::fetch_status::stored:
            if (was == outcome::stored || was == outcome::known)
            {
                // The second object under this key: its own asset.
                ++stored_extra_;
                ++twins_;
                twin_failed_.erase(id);
            }
            else
                set_outcome(id, outcome::stored);
            stored_bytes_ += static_cast<long long>(obj.size > 0 ? obj.size : res.bytes);
            clear = twin_failed_.count(id) == 0;
            break;
        case ingest::fetch_status::known:
            // A twin's content matched the recorded one: the same object listed twice.
            if (!was)
                set_outcome(id, outcome::known);
            break;
        case ingest::fetch_status::failed:
            if (twin && (was == outcome::stored || was == outcome::known))
                twin_failed_.insert(id);  // the other one is stored; this one is missing
            else
            {
                if (twin)
                    twin_failed_.insert(id);
                set_outcome(id, outcome::failed);
            }
            break;
        case ingest::fetch_status::deferred:
            break;
        }
        if (clear)
            clear = problems_[camera_id].count(where) > 0;
        // A stored object is no longer unreadable, whatever the source says.
        if (res.status == ingest::fetch_status::stored)
            if (auto u = outcome_of(problem_id(camera_id, where)); u == outcome::unreadable)
            {
                --by_outcome_[static_cast<int>(outcome::unreadable)];
                outcomes_.erase(problem_id(camera_id, where));
            }
    }
    if (res.status == ingest::fetch_status::failed)
        note_problem(camera_id, where, not_fetched_kind, res.error, says_timeout(res.error));
    else if (clear)
        clear_problem(camera_id, where);
}

void ingester::note_problem(std::int64_t camera_id, std::string const& object,
                            std::string const& kind, std::string const& reason, bool timeout)
{
    auto now = now_seconds();
    {
        std::lock_guard lock(failures_mutex_);
        auto& open = problems_[camera_id];
        auto it = open.find(object);
        if (it == open.end())
        {
            if (static_cast<std::int64_t>(open.size()) >= ledger::store::max_problems_per_camera)
                return;  // the ledger keeps no more; the events sum them up
            it = open.emplace(object, open_problem{kind, 0}).first;
        }
        else if (it->second.kind == kind && now - it->second.written_at < 60)
            return;  // a scan that lists a broken card again does not rewrite every row
        it->second = {kind, now};
    }
    store_.note_problem(camera_id, object, kind, reason, timeout, now);
}

void ingester::clear_problem(std::int64_t camera_id, std::string const& object)
{
    {
        std::lock_guard lock(failures_mutex_);
        problems_[camera_id].erase(object);
    }
    store_.clear_problem(camera_id, object);
}

std::size_t ingester::unresolved_failures() const
{
    auto t = tally();
    return static_cast<std::size_t>(t.unreadable + t.not_fetched);
}

object_tally ingester::tally() const
{
    std::lock_guard lock(failures_mutex_);
    auto n = [&](outcome o) { return by_outcome_[static_cast<int>(o)]; };
    object_tally t;
    t.cameras = static_cast<long>(connected_.size());
    t.stored = n(outcome::stored) + stored_extra_;
    t.stored_bytes = stored_bytes_;
    t.known = n(outcome::known);
    t.unrouted = n(outcome::unrouted);
    t.unreadable = n(outcome::unreadable);
    t.not_fetched = n(outcome::failed) + n(outcome::wanted) + static_cast<long>(twin_failed_.size());
    t.deferred = n(outcome::deferred);
    t.twins = twins_;
    t.resumed = stats_.resumed.load();
    return t;
}

ingest::fetch_result ingester::fetch_twin(std::int64_t camera_id, ingest::camera_info const& cam,
                                          ingest::object_ref const& obj,
                                          ingest::fetch_fn const& read)
{
    ingest::fetch_result res;
    auto key = key_of(obj);
    auto joined = key.joined();
    auto recorded_before = store_.assets_of(camera_id, key);
    if (!recorded_before)
    {
        res.error = "ledger error looking up " + obj.name + ": " +
                    recorded_before.error().message();
        ++stats_.failed;
        return res;
    }
    auto variant = static_cast<std::int64_t>(recorded_before->size());
    // Its own spool file, never resumed: the recorded object's file (or .part) is not its.
    auto final_path =
        spool::path_for(spool_root_, camera_id,
                        cam.identity + '\x1f' + joined + "\x1fvariant " + std::to_string(variant),
                        obj.name);
    auto w = spool::writer::open(final_path, false);
    if (!w)
    {
        res.error = "cannot write the spool at " + final_path.string() + ": " + w.error().message();
        ++stats_.failed;
        return res;
    }
    auto& writer = **w;
    auto ec = read(0, [&](std::span<const std::byte> chunk) -> std::error_code {
        if (auto e = writer.write(chunk))
            return e;
        stats_.bytes += static_cast<long long>(chunk.size());
        return {};
    });
    res.bytes = writer.offset();
    if (!ec && obj.size > 0 && writer.offset() != obj.size)
        ec = std::make_error_code(std::errc::io_error);
    if (ec)
    {
        res.error = obj.folder + "/" + obj.name + ": " + describe_error(ec) + " after " +
                    std::to_string(writer.offset()) + " of " + std::to_string(obj.size) + " bytes";
        writer.discard();
        ++stats_.failed;
        store_.add_event("fetch-failed", cam.name + " " + res.error, now_seconds(), camera_id);
        return res;
    }
    auto size = writer.offset();
    auto committed = writer.commit();
    if (!committed)
    {
        res.error = "spool commit failed: " + committed.error().message();
        writer.discard();
        ++stats_.failed;
        return res;
    }
    for (auto const& [asset_id, sha] : *recorded_before)
        if (sha == *committed)
        {
            // The same content: one object listed twice, not two.
            std::error_code ignored;
            std::filesystem::remove(final_path, ignored);
            log::info(log_tag, "camera={} file={}/{} listed twice; it is asset {}", cam.identity,
                      obj.folder, obj.name, asset_id);
            res.status = ingest::fetch_status::known;
            return res;
        }
    auto asset = describe(cam, obj, final_path, *committed, size);
    auto sinks = routes_for(cam, obj);
    auto id = store_.record_arrival(camera_id, key, asset, sinks, now_seconds(), variant);
    if (!id)
    {
        res.error = "ledger error recording " + obj.name + ": " + id.error().message();
        ++stats_.failed;
        return res;
    }
    ++stats_.fetched;
    res.status = ingest::fetch_status::stored;
    auto text = (cam.name.empty() ? std::string("camera") : cam.name) + ": " + obj.folder + "/" +
                obj.name + " has the same folder, name, size and time as an object fetched "
                "before, but other content (sha256 " + committed->substr(0, 12) + "); kept as "
                "its own photo (asset " + std::to_string(asset.id) + ")";
    log::warn(log_tag, "{}", text);
    store_.add_event("same-key", text, now_seconds(), camera_id, asset.id);
    if (on_new_jobs_)
        on_new_jobs_();
    return res;
}

ingest::fetch_result ingester::fetch_once(std::int64_t camera_id, ingest::camera_info const& cam,
                                          ingest::object_ref const& obj,
                                          ingest::fetch_fn const& read, bool can_resume)
{
    ingest::fetch_result res;
    auto key = key_of(obj);
    auto joined = key.joined();
    auto final_path = spool::path_for(spool_root_, camera_id, cam.identity + '\x1f' + joined, obj.name);
    std::string sha;
    std::uint64_t size = 0;

    auto existing = fs::file_size_or_minus_one(final_path);
    if (existing >= 0 && static_cast<std::uint64_t>(existing) == obj.size && obj.size > 0)
    {
        // Spooled completely before a crash, never recorded: no need to fetch it again.
        sha = sha256::hex_of_file(final_path.string());
        size = obj.size;
        log::info(log_tag, "camera={} file={}/{} found complete in the spool", cam.identity,
                  obj.folder, obj.name);
    }
    else
    {
        auto part = final_path;
        part += ".part";
        auto part_size = fs::file_size_or_minus_one(part);
        bool resume = can_resume && part_size > 0 && static_cast<std::uint64_t>(part_size) < obj.size;
        auto w = spool::writer::open(final_path, resume);
        if (!w)
        {
            res.error = "cannot write the spool at " + final_path.string() + ": " + w.error().message();
            ++stats_.failed;
            return res;
        }
        auto writer_ptr = std::move(*w);
        auto start = writer_ptr->offset();
        if (start > 0)
            log::info(log_tag, "camera={} file={}/{} resuming at byte {}", cam.identity,
                      obj.folder, obj.name, start);
        auto to_spool = [&](std::span<const std::byte> chunk) -> std::error_code {
            if (auto e = writer_ptr->write(chunk))
                return e;
            stats_.bytes += static_cast<long long>(chunk.size());
            return {};
        };
        auto ec = read(start, to_spool);
        if (ec == std::errc::operation_not_supported && start > 0)
        {
            // The camera cannot read from the middle of a file: fetch it whole instead.
            log::info(log_tag, "camera={} file={}/{} cannot be resumed; fetching it from the start",
                      cam.identity, obj.folder, obj.name);
            writer_ptr->discard();
            auto again = spool::writer::open(final_path, false);
            if (!again)
            {
                res.error = "cannot write the spool at " + final_path.string() + ": " +
                            again.error().message();
                ++stats_.failed;
                return res;
            }
            writer_ptr = std::move(*again);
            start = 0;
            ec = read(0, to_spool);
        }
        auto& writer = *writer_ptr;
        res.bytes = writer.offset() - start;
        if (!ec && obj.size > 0 && writer.offset() != obj.size)
            ec = std::make_error_code(std::errc::io_error);
        if (ec)
        {
            res.error = obj.folder + "/" + obj.name + ": " + describe_error(ec) + " after " +
                        std::to_string(writer.offset()) + " of " + std::to_string(obj.size) +
                        " bytes";
            // Keep what we have when the source can continue from it.
            if (can_resume && writer.offset() > 0 && writer.offset() < obj.size &&
                ec != std::errc::operation_not_supported)
                writer.keep_partial();
            else
                writer.discard();
            ++stats_.failed;
            store_.add_event("fetch-failed", cam.name + " " + res.error, now_seconds(), camera_id);
            return res;
        }
        if (start > 0)
            ++stats_.resumed;
        size = writer.offset();
        auto committed = writer.commit();
        if (!committed)
        {
            res.error = "spool commit failed: " + committed.error().message();
            writer.discard();
            ++stats_.failed;
            return res;
        }
        sha = *committed;
    }

    auto asset = describe(cam, obj, final_path, sha, size);
    auto sinks = routes_for(cam, obj);
    // On a ledger error the spooled file stays; the next scan finds it complete and records it.
    if (!recorded(store_.record_arrival(camera_id, key, asset, sinks, now_seconds()), camera_id,
                  joined, obj.name, res))
        return res;
    log::info(log_tag, "camera={} asset={} file={}/{} size={} sha256={} -> {} sink(s)",
              cam.identity, asset.id, obj.folder, obj.name, size, sha.substr(0, 12), sinks.size());
    if (on_new_jobs_)
        on_new_jobs_();
    return res;
}

void ingester::set_streaming(stream_gate gate, std::size_t buffer_capacity)
{
    stream_gate_ = std::move(gate);
    stream_capacity_ = buffer_capacity;
}

ingest::fetch_result ingester::fetch_stream(std::int64_t camera_id, ingest::camera_info const& cam,
                                            ingest::object_ref const& obj,
                                            ingest::fetch_fn const& read)
{
    ingest::fetch_result res;
    auto key = key_of(obj);
    auto joined = key.joined();
    auto sinks = routes_for(cam, obj);
    std::vector<std::unique_ptr<stream_lease>> leases;
    for (auto const& name : sinks)
    {
        auto l = stream_gate_(name);
        if (!l)
        {
            // Not a failure: the next scan (or the phone's return) offers it again.
            res.status = ingest::fetch_status::deferred;
            res.error = "sink " + name + " cannot take a stream now";
            log::debug(log_tag, "camera={} file={}/{} waits: {}", cam.identity, obj.folder,
                       obj.name, res.error);
            return res;
        }
        leases.push_back(std::move(l));
    }

    // What is known before a byte moves; no EXIF (it would need the content first).
    asset_info asset;
    asset.size = obj.size;
    asset.capture_time = obj.mtime;
    asset.camera_key = cam.identity;
    asset.camera_name = cam.name;
    asset.manufacturer = cam.manufacturer;
    asset.model = cam.model;
    asset.serial = cam.serial;
    asset.source_kind = cam.source_kind;
    asset.folder = obj.folder;
    asset.name = obj.name;
    asset.mime = obj.mime;
    // Stable per object: a sink's temp name, which a cut transfer's next attempt reuses.
    auto stream_id = static_cast<std::int64_t>(std::stoull(
        sha256::hex_of(cam.identity + '\x1f' + joined).substr(0, 12), nullptr, 16));

    std::vector<std::pair<std::string, std::string>> receipts;
    std::string sha;
    std::uint64_t size = 0;
    for (std::size_t i = 0; i < leases.size(); ++i)
    {
        auto& lease = *leases[i];
        auto stop = lease.stop();
        stream_buffer buf(stream_capacity_, stop);
        delivery::request req{stream_id, 1, asset, stop};
        auto out = delivery::outcome::ok({});
        std::jthread consumer([&] {
            try
            {
                out = lease.sink().deliver_stream(req, buf);
            }
            catch (std::exception const& e)
            {
                out = delivery::outcome::fail(
                    delivery::make_error_code(delivery::errc::destination_unavailable),
                    std::string("sink threw: ") + e.what());
            }
            buf.close();
        });
        auto ec = read(0, [&](std::span<const std::byte> chunk) -> std::error_code {
            if (auto e = buf.write(chunk))
                return e;
            stats_.bytes += static_cast<long long>(chunk.size());
            return {};
        });
        if (!ec && obj.size > 0 && buf.written() != obj.size)
            ec = std::make_error_code(std::errc::io_error);
        buf.finish(ec);
        consumer.join();
        res.bytes += buf.written();
        auto hw = buf.high_water();
        for (auto prev = stream_high_water_.load();
             hw > prev && !stream_high_water_.compare_exchange_weak(prev, hw);)
        {
        }
        lease.report(out);
        if (stop.stop_requested())
        {
            res.status = ingest::fetch_status::deferred;
            res.error = obj.folder + "/" + obj.name + ": stream to " + sinks[i] + " stopped";
            log::info(log_tag, "camera={} file={}/{} stream to {} stopped after {} bytes; nothing "
                      "recorded, it is pulled again later",
                      cam.identity, obj.folder, obj.name, sinks[i], buf.written());
            return res;
        }
        if (ec && ec != std::errc::broken_pipe)
            res.error = obj.folder + "/" + obj.name + ": " + describe_error(ec) + " after " +
                        std::to_string(buf.written()) + " of " + std::to_string(obj.size) +
                        " bytes";
        else if (!out)
            res.error = obj.folder + "/" + obj.name + " to " + sinks[i] + ": " +
                        (out.message.empty() ? out.error.message() : out.message);
        else if (ec)
            res.error = obj.folder + "/" + obj.name + " to " + sinks[i] +
                        ": the sink stopped reading";
        if (!res.error.empty())
        {
            ++stats_.failed;
            store_.add_event("fetch-failed", cam.name + " " + res.error + " (streaming)",
                             now_seconds(), camera_id);
            return res;
        }
        receipts.emplace_back(sinks[i], out.message);
        sha = buf.sha256_hex();
        size = buf.written();
    }
    asset.sha256 = sha;
    asset.size = size;
    // On a ledger error the photo is delivered but not recorded: the next scan streams it
    // again, and the sinks find the same content already there.
    if (!recorded(store_.record_streamed(camera_id, key, asset, receipts, now_seconds()),
                  camera_id, joined, obj.name, res))
        return res;
    log::info(log_tag, "camera={} asset={} file={}/{} size={} sha256={} streamed -> {} sink(s)",
              cam.identity, asset.id, obj.folder, obj.name, size, sha.substr(0, 12),
              receipts.size());
    return res;
}

bool ingester::recorded(result<std::int64_t> const& id, std::int64_t camera_id,
                        std::string const& joined, std::string const& name,
                        ingest::fetch_result& res)
{
    if (!id)
    {
        res.error = "ledger error recording " + name + ": " + id.error().message();
        ++stats_.failed;
        return false;
    }
    {
        std::lock_guard lock(mutex_);
        known_[camera_id].insert(joined);
    }
    ++stats_.fetched;
    res.status = ingest::fetch_status::stored;
    return true;
}

asset_info ingester::describe(ingest::camera_info const& cam, ingest::object_ref const& obj,
                              std::filesystem::path const& spooled, std::string sha,
                              std::uint64_t size) const
{
    asset_info asset;
    asset.sha256 = std::move(sha);
    asset.size = size;
    auto exif = ingest::read_exif(spooled.string());
    asset.capture_time = exif.capture_time.value_or(obj.mtime);
    asset.camera_key = cam.identity;
    asset.camera_name = cam.name;
    asset.manufacturer = cam.manufacturer.empty() ? exif.make : cam.manufacturer;
    asset.model = cam.model;
    asset.serial = cam.serial.empty() ? exif.serial : cam.serial;
    asset.source_kind = cam.source_kind;
    asset.folder = obj.folder;
    asset.name = obj.name;
    asset.mime = obj.mime;
    asset.spool_path = spooled.string();
    return asset;
}

// A file a camera pushes: streamed into the spool as it arrives, recorded as an asset without
// deliveries on finish() (queue_message adds them), discarded when dropped unfinished.
class ingester::pushed_file final : public ingest::incoming_file
{
public:
    pushed_file(ingester& owner, std::int64_t camera_id, ingest::camera_info cam,
                ingest::object_ref obj, std::unique_ptr<spool::writer> w)
        : owner_(owner), camera_id_(camera_id), cam_(std::move(cam)), obj_(std::move(obj)),
          writer_(std::move(w))
    {
    }
    ~pushed_file() override
    {
        if (writer_)
            writer_->discard();
    }

    std::error_code write(std::span<const std::byte> chunk) override
    {
        if (!writer_)
            return std::make_error_code(std::errc::bad_file_descriptor);
        if (auto ec = writer_->write(chunk))
            return ec;
        owner_.stats_.bytes += static_cast<long long>(chunk.size());
        return {};
    }

    result<std::int64_t> finish() override
    {
        if (!writer_)
            return std::make_error_code(std::errc::bad_file_descriptor);
        auto size = writer_->offset();
        auto path = writer_->final_path();
        auto sha = writer_->commit();
        if (!sha)
        {
            writer_->discard();
            writer_.reset();
            ++owner_.stats_.failed;
            return sha.error();
        }
        writer_.reset();
        auto asset = owner_.describe(cam_, obj_, path, std::move(*sha), size);
        ledger::object_key key{obj_.folder, obj_.name, size, obj_.mtime};
        auto id = owner_.store_.record_arrival(camera_id_, key, asset, {}, now_seconds());
        if (!id)
        {
            std::error_code ignored;
            std::filesystem::remove(path, ignored);
            ++owner_.stats_.failed;
            return id.error();
        }
        {
            std::lock_guard lock(owner_.mutex_);
            owner_.received_[*id] = path;
        }
        {
            std::lock_guard lock(owner_.failures_mutex_);
            ++owner_.stored_extra_;
            owner_.stored_bytes_ += static_cast<long long>(size);
        }
        ++owner_.stats_.fetched;
        log::info(log_tag, "camera={} asset={} received {}/{} size={} sha256={}", cam_.identity,
                  *id, obj_.folder, obj_.name, size, asset.sha256.substr(0, 12));
        return id;
    }

private:
    ingester& owner_;
    std::int64_t camera_id_;
    ingest::camera_info cam_;
    ingest::object_ref obj_;
    std::unique_ptr<spool::writer> writer_;
};

result<std::unique_ptr<ingest::incoming_file>> ingester::begin_receive(
    std::int64_t camera_id, ingest::camera_info const& cam, ingest::object_ref const& obj)
{
    if (stream_gate_)
    {
        ++stats_.failed;
        log::error(log_tag, "camera={} pushes files, which need the spool (spool = \"none\")",
                   cam.identity);
        return std::make_error_code(std::errc::operation_not_supported);
    }
    auto final_path = spool::path_for(spool_root_, camera_id,
                                      cam.identity + '\x1f' + key_of(obj).joined(), obj.name);
    auto w = spool::writer::open(final_path, false);
    if (!w)
    {
        ++stats_.failed;
        log::error(log_tag, "camera={} cannot write the spool at {}: {}", cam.identity,
                   final_path.string(), w.error().message());
        return w.error();
    }
    ++stats_.to_fetch;
    return std::unique_ptr<ingest::incoming_file>(
        std::make_unique<pushed_file>(*this, camera_id, cam, obj, std::move(*w)));
}

result<std::int64_t> ingester::queue_message(std::int64_t camera_id, message_info const& info,
                                             std::span<const ingest::message_part> parts)
{
    std::vector<std::string> sinks;
    for (auto const& [sink, address] : info.recipients)
        if (std::find(sinks.begin(), sinks.end(), sink) == sinks.end())
            sinks.push_back(sink);
    std::vector<ledger::message_part_record> records;
    records.reserve(parts.size());
    for (auto const& p : parts)
        records.push_back({p.asset_id, p.alt_text});
    auto id = store_.record_message(camera_id, info, records, sinks, now_seconds());
    if (!id)
        return id;
    std::vector<std::pair<std::int64_t, std::filesystem::path>> spooled;
    {
        std::lock_guard lock(mutex_);
        for (auto const& p : parts)
            if (auto it = received_.find(p.asset_id); it != received_.end())
            {
                spooled.emplace_back(it->first, it->second);
                received_.erase(it);
            }
    }
    if (sinks.empty())
    {
        // Nobody is to get these files (every recipient dropped): the spool copies can go now.
        for (auto const& [asset, path] : spooled)
        {
            std::error_code ignored;
            std::filesystem::remove(path, ignored);
            store_.mark_spool_removed(asset);
        }
    }
    log::info(log_tag, "message={} kind={} parts={} -> {}", *id, info.kind, parts.size(),
              sinks.empty() ? std::string("nobody") : fmt::format("{}", fmt::join(sinks, ", ")));
    if (!sinks.empty() && on_new_jobs_)
        on_new_jobs_();
    return id;
}

void ingester::object_unreadable(std::int64_t camera_id, ingest::object_problem const& problem)
{
    ++stats_.unreadable;
    std::string camera_name;
    {
        std::lock_guard lock(mutex_);
        if (auto it = cameras_.find(camera_id); it != cameras_.end())
            camera_name = it->second.name;
    }
    long nth = 0;
    {
        std::lock_guard lock(failures_mutex_);
        set_outcome(problem_id(camera_id, problem.key()), outcome::unreadable);
        nth = ++unreadable_per_camera_[camera_id];
    }
    note_problem(camera_id, problem.key(), unreadable_kind, problem.reason, problem.timeout);
    std::string where = problem.name.empty() ? std::string() : problem.folder + "/" + problem.name;
    if (problem.handle)
        where += (where.empty() ? "" : " ") + ("handle=" + std::to_string(*problem.handle));
    auto message = (camera_name.empty() ? std::string("camera") : camera_name) + ": " + where +
                   " could not be read: " + problem.reason +
                   (problem.timeout ? " (timeout)" : "");
    if (nth <= unreadable_reported_singly)
    {
        log::warn(log_tag, "{}", message);
        store_.add_event("unreadable", message, now_seconds(), camera_id);
    }
    else if (nth == unreadable_reported_singly + 1 || (nth % 1000) == 0)
    {
        // Summed up from here on: one line now and then instead of one per object.
        auto sum = (camera_name.empty() ? std::string("camera") : camera_name) + ": " +
                   std::to_string(nth) + " objects could not be read so far (latest: " + message +
                   ")";
        log::warn(log_tag, "{}", sum);
        store_.add_event("unreadable", sum, now_seconds(), camera_id);
    }
    else
        log::debug(log_tag, "{}", message);
}

void ingester::object_recovered(std::int64_t camera_id, ingest::object_problem const& problem)
{
    bool open = false;
    {
        std::lock_guard lock(failures_mutex_);
        auto id = problem_id(camera_id, problem.key());
        if (outcome_of(id) == outcome::unreadable)
        {
            --by_outcome_[static_cast<int>(outcome::unreadable)];
            outcomes_.erase(id);
        }
        if (auto it = problems_[camera_id].find(problem.key());
            it != problems_[camera_id].end() && it->second.kind == unreadable_kind)
            open = true;
    }
    if (open)
        clear_problem(camera_id, problem.key());
}

void ingester::camera_event(std::int64_t camera_id, std::string const& kind,
                            std::string const& message)
{
    log::warn(log_tag, "{}", message);
    store_.add_event(kind, message, now_seconds(), camera_id);
}

} // namespace camrelay::pipeline
