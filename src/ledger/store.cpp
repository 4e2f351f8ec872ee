#include "ledger/store.hpp"

#include "core/log.hpp"
#include "ledger/error.hpp"
#include "ledger/migrations.hpp"

#include <sqlite3.h>

#include <map>
#include <string>

namespace camrelay::ledger {

namespace {

constexpr auto log_tag = "ledger";

// RAII prepared statement with positional binds (1-based) and column reads (0-based).
class statement
{
public:
    statement(sqlite3* db, char const* sql) : db_(db)
    {
        rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
        if (rc_ != SQLITE_OK)
            log::error(log_tag, "prepare failed: {} ({})", sqlite3_errmsg(db), sql);
    }
    ~statement() { sqlite3_finalize(stmt_); }
    statement(statement const&) = delete;
    statement& operator=(statement const&) = delete;

    bool ok() const { return rc_ == SQLITE_OK || rc_ == SQLITE_ROW || rc_ == SQLITE_DONE; }

    statement& bind(int i, std::int64_t v)
    {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    statement& bind(int i, std::string const& v)
    {
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    /// SQLITE_ROW, SQLITE_DONE or an error code.
    int step()
    {
        if (!stmt_)
            return rc_;
        rc_ = sqlite3_step(stmt_);
        if (rc_ != SQLITE_ROW && rc_ != SQLITE_DONE)
            log::error(log_tag, "step failed: {}", sqlite3_errmsg(db_));
        return rc_;
    }
    bool done() { return step() == SQLITE_DONE; }
    std::int64_t i64(int col) { return sqlite3_column_int64(stmt_, col); }
    std::string text(int col)
    {
        auto const* p = sqlite3_column_text(stmt_, col);
        return p ? std::string(reinterpret_cast<char const*>(p),
                               static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
                 : std::string();
    }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    int rc_ = SQLITE_OK;
};

std::error_code query_failed()
{
    return make_error_code(errc::query_failed);
}

// Rolls back unless committed; keeps every multi-row change all-or-nothing.
class transaction
{
public:
    explicit transaction(sqlite3* db) : db_(db)
    {
        ok_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    ~transaction()
    {
        if (ok_ && !committed_)
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    bool ok() const { return ok_; }
    bool commit()
    {
        committed_ = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
        return committed_;
    }

private:
    sqlite3* db_;
    bool ok_ = false;
    bool committed_ = false;
};

constexpr char const* asset_columns =
    "a.id, a.sha256, a.size, a.capture_time, c.identity, c.name, c.manufacturer, c.model, "
    "c.serial, a.source_kind, a.folder, a.name, a.mime, a.spool_path, a.seq, "
    "COALESCE(a.message_id, 0), a.message_part, a.alt_text";

/// Reads asset_columns; returns the asset's message id (0: none).
std::int64_t read_asset(statement& s, int first, asset_info& a)
{
    a.id = s.i64(first + 0);
    a.sha256 = s.text(first + 1);
    a.size = static_cast<std::uint64_t>(s.i64(first + 2));
    a.capture_time = s.i64(first + 3);
    a.camera_key = s.text(first + 4);
    a.camera_name = s.text(first + 5);
    a.manufacturer = s.text(first + 6);
    a.model = s.text(first + 7);
    a.serial = s.text(first + 8);
    a.source_kind = s.text(first + 9);
    a.folder = s.text(first + 10);
    a.name = s.text(first + 11);
    a.mime = s.text(first + 12);
    a.spool_path = s.text(first + 13);
    a.seq = s.i64(first + 14);
    a.message_part = static_cast<int>(s.i64(first + 16));
    a.alt_text = s.text(first + 17);
    return s.i64(first + 15);
}

job_record read_job(statement& s, int first)
{
    job_record j;
    j.id = s.i64(first + 0);
    j.asset_id = s.i64(first + 1);
    j.sink = s.text(first + 2);
    j.state = job_state_from_string(s.text(first + 3)).value_or(job_state::pending);
    j.attempts = static_cast<int>(s.i64(first + 4));
    j.next_attempt_at = s.i64(first + 5);
    j.last_error = s.text(first + 6);
    j.receipt = s.text(first + 7);
    j.updated_at = s.i64(first + 8);
    return j;
}

constexpr char const* job_columns =
    "j.id, j.asset_id, j.sink, j.state, j.attempts, j.next_attempt_at, j.last_error, j.receipt, "
    "j.updated_at";

} // namespace

std::string object_key::joined() const
{
    std::string k;
    k.reserve(folder.size() + name.size() + 32);
    k += folder;
    k += '\x1f';
    k += name;
    k += '\x1f';
    k += std::to_string(size);
    k += '\x1f';
    k += std::to_string(mtime);
    return k;
}

store::store(sqlite3* db) : db_(db) {}

store::~store()
{
    sqlite3_close_v2(db_);
}

result<std::unique_ptr<store>> store::open(std::string const& path)
{
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK)
    {
        log::error(log_tag, "cannot open ledger '{}': {}", path, db ? sqlite3_errmsg(db) : "");
        sqlite3_close_v2(db);
        return make_error_code(errc::open_failed);
    }
    std::unique_ptr<store> s(new store(db));
    sqlite3_busy_timeout(db, 10000);
    // WAL: readers (camrelay status) never block the daemon. synchronous=FULL: a commit that
    // returned survives power loss, so "delivered" is never forgotten once written.
    if (s->exec("PRAGMA journal_mode=WAL") || s->exec("PRAGMA synchronous=FULL") ||
        s->exec("PRAGMA foreign_keys=ON"))
        return make_error_code(errc::open_failed);
    if (auto ec = s->migrate())
        return ec;
    return s;
}

result<std::unique_ptr<store>> store::open_read_only(std::string const& path)
{
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK)
    {
        sqlite3_close_v2(db);
        return make_error_code(errc::open_failed);
    }
    sqlite3_busy_timeout(db, 10000);
    return std::unique_ptr<store>(new store(db));
}

std::error_code store::exec(char const* sql)
{
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK)
    {
        log::error(log_tag, "'{}' failed: {}", sql, err ? err : "?");
        sqlite3_free(err);
        return query_failed();
    }
    return {};
}

std::error_code store::migrate()
{
    std::lock_guard lock(mutex_);
    std::size_t version = 0;
    {
        // Finalized before migrating: an open statement locks the tables a migration drops.
        statement v(db_, "PRAGMA user_version");
        if (v.step() != SQLITE_ROW)
            return make_error_code(errc::migration_failed);
        version = static_cast<std::size_t>(v.i64(0));
    }
    auto all = migrations();
    if (version > all.size())
    {
        log::error(log_tag, "ledger schema version {} is newer than this camrelay knows ({})",
                   version, all.size());
        return make_error_code(errc::newer_schema);
    }
    if (version == all.size())
        return {};
    transaction tx(db_);
    if (!tx.ok())
        return make_error_code(errc::migration_failed);
    for (auto i = version; i < all.size(); ++i)
    {
        std::string sql(all[i]);
        if (exec(sql.c_str()))
            return make_error_code(errc::migration_failed);
        log::info(log_tag, "ledger migrated to schema version {}", i + 1);
    }
    std::string set = "PRAGMA user_version=" + std::to_string(all.size());
    if (exec(set.c_str()) || !tx.commit())
        return make_error_code(errc::migration_failed);
    return {};
}

result<std::int64_t> store::upsert_camera(camera_record const& cam, std::int64_t now)
{
    std::lock_guard lock(mutex_);
    statement up(db_,
                 "INSERT INTO cameras(identity, source_kind, name, manufacturer, model, serial, "
                 "port, first_seen, last_seen) VALUES(?,?,?,?,?,?,?,?,?) "
                 "ON CONFLICT(identity) DO UPDATE SET last_seen=excluded.last_seen, "
                 "port=excluded.port, name=excluded.name RETURNING id");
    up.bind(1, cam.identity).bind(2, cam.source_kind).bind(3, cam.name).bind(4, cam.manufacturer);
    up.bind(5, cam.model).bind(6, cam.serial).bind(7, cam.port).bind(8, now).bind(9, now);
    if (up.step() != SQLITE_ROW)
        return query_failed();
    return up.i64(0);
}

result<std::unordered_set<std::string>> store::known_objects(std::int64_t camera_id)
{
    std::lock_guard lock(mutex_);
    statement q(db_, "SELECT folder, name, size, mtime FROM objects WHERE camera_id=?");
    q.bind(1, camera_id);
    std::unordered_set<std::string> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
    {
        object_key k{q.text(0), q.text(1), static_cast<std::uint64_t>(q.i64(2)), q.i64(3)};
        out.insert(k.joined());
    }
    if (rc != SQLITE_DONE)
        return query_failed();
    return out;
}

result<bool> store::is_known(std::int64_t camera_id, object_key const& key)
{
    std::lock_guard lock(mutex_);
    statement q(db_, "SELECT 1 FROM objects WHERE camera_id=? AND folder=? AND name=? AND size=? "
                     "AND mtime=?");
    q.bind(1, camera_id).bind(2, key.folder).bind(3, key.name);
    q.bind(4, static_cast<std::int64_t>(key.size)).bind(5, key.mtime);
    int rc = q.step();
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    return error_result<bool>(query_failed());
}

result<bool> store::insert_arrival(std::int64_t camera_id, object_key const& key,
                                   asset_info& asset, bool spooled, std::string const& note,
                                   std::int64_t now, std::int64_t variant)
{
    {
        statement existing(db_, "SELECT o.asset_id, a.seq FROM objects o JOIN assets a ON "
                                "a.id=o.asset_id WHERE o.camera_id=? AND o.folder=? AND "
                                "o.name=? AND o.size=? AND o.mtime=? AND o.variant=?");
        existing.bind(1, camera_id).bind(2, key.folder).bind(3, key.name);
        existing.bind(4, static_cast<std::int64_t>(key.size)).bind(5, key.mtime);
        existing.bind(6, variant);
        int rc = existing.step();
        if (rc == SQLITE_ROW)
        {
            asset.id = existing.i64(0);
            asset.seq = existing.i64(1);
            return false;
        }
        if (rc != SQLITE_DONE)
            return error_result<bool>(query_failed());
    }
    statement seq(db_, "SELECT COALESCE(MAX(seq), 0) + 1 FROM assets WHERE camera_id=?");
    seq.bind(1, camera_id);
    if (seq.step() != SQLITE_ROW)
        return error_result<bool>(query_failed());
    asset.seq = seq.i64(0);
    if (!spooled)
        asset.spool_path.clear();

    statement ins(db_, "INSERT INTO assets(camera_id, seq, source_kind, folder, name, mime, size, "
                       "sha256, capture_time, spool_path, spool_state, arrived_at) "
                       "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    ins.bind(1, camera_id).bind(2, asset.seq).bind(3, asset.source_kind).bind(4, asset.folder);
    ins.bind(5, asset.name).bind(6, asset.mime).bind(7, static_cast<std::int64_t>(asset.size));
    ins.bind(8, asset.sha256).bind(9, asset.capture_time).bind(10, asset.spool_path);
    ins.bind(11, std::string(spooled ? "present" : "removed")).bind(12, now);
    if (!ins.done())
        return error_result<bool>(query_failed());
    asset.id = sqlite3_last_insert_rowid(db_);

    statement obj(db_, "INSERT INTO objects(camera_id, folder, name, size, mtime, asset_id, "
                       "seen_at, variant) VALUES(?,?,?,?,?,?,?,?)");
    obj.bind(1, camera_id).bind(2, key.folder).bind(3, key.name);
    obj.bind(4, static_cast<std::int64_t>(key.size)).bind(5, key.mtime).bind(6, asset.id);
    obj.bind(7, now).bind(8, variant);
    if (!obj.done())
        return error_result<bool>(query_failed());

    statement ev(db_, "INSERT INTO events(at, kind, camera_id, asset_id, message) "
                      "VALUES(?, 'arrived', ?, ?, ?)");
    ev.bind(1, now).bind(2, camera_id).bind(3, asset.id);
    ev.bind(4, asset.folder + "/" + asset.name + " (" + std::to_string(asset.size) + " bytes" +
                   (variant > 0 ? ", same name, size and time as another, other content" : "") +
                   note + ")");
    if (!ev.done())
        return error_result<bool>(query_failed());
    return true;
}

result<std::int64_t> store::record_arrival(std::int64_t camera_id, object_key const& key,
                                           asset_info& asset, std::vector<std::string> const& sinks,
                                           std::int64_t now, std::int64_t variant)
{
    std::lock_guard lock(mutex_);
    transaction tx(db_);
    if (!tx.ok())
        return query_failed();
    auto added = insert_arrival(camera_id, key, asset, true,
                                " -> " + std::to_string(sinks.size()) + " destination(s)", now,
                                variant);
    if (!added)
        return added.error();
    if (!*added)
        return asset.id;
    for (auto const& sink : sinks)
    {
        statement job(db_, "INSERT OR IGNORE INTO jobs(asset_id, sink, state, created_at, "
                           "updated_at) VALUES(?,?,'pending',?,?)");
        job.bind(1, asset.id).bind(2, sink).bind(3, now).bind(4, now);
        if (!job.done())
            return query_failed();
    }
    if (!tx.commit())
        return query_failed();
    return asset.id;
}

result<std::int64_t> store::record_streamed(
    std::int64_t camera_id, object_key const& key, asset_info& asset,
    std::vector<std::pair<std::string, std::string>> const& receipts, std::int64_t now)
{
    std::lock_guard lock(mutex_);
    transaction tx(db_);
    if (!tx.ok())
        return query_failed();
    auto added = insert_arrival(camera_id, key, asset, false,
                                ", streamed -> " + std::to_string(receipts.size()) +
                                    " destination(s)",
                                now);
    if (!added)
        return added.error();
    if (!*added)
        return asset.id;
    for (auto const& [sink, receipt] : receipts)
    {
        statement job(db_, "INSERT OR IGNORE INTO jobs(asset_id, sink, state, attempts, receipt, "
                           "created_at, updated_at) VALUES(?,?,'delivered',1,?,?,?)");
        job.bind(1, asset.id).bind(2, sink).bind(3, receipt).bind(4, now).bind(5, now);
        if (!job.done())
            return query_failed();
        auto job_id = sqlite3_last_insert_rowid(db_);
        statement done(db_, "INSERT INTO events(at, kind, asset_id, job_id, message) "
                            "VALUES(?, 'delivered', ?, ?, ?)");
        done.bind(1, now).bind(2, asset.id).bind(3, job_id).bind(4, sink + ": " + receipt);
        if (!done.done())
            return query_failed();
    }
    if (!tx.commit())
        return query_failed();
    return asset.id;
}

result<int> store::requeue_running(std::int64_t now)
{
    std::lock_guard lock(mutex_);
    statement q(db_, "UPDATE jobs SET state='pending', next_attempt_at=0, updated_at=? "
                     "WHERE state='running'");
    q.bind(1, now);
    if (!q.done())
        return query_failed();
    int n = sqlite3_changes(db_);
    if (n > 0)
    {
        statement ev(db_, "INSERT INTO events(at, kind, message) VALUES(?, 'recovered', ?)");
        ev.bind(1, now).bind(2, std::to_string(n) + " interrupted delivery job(s) requeued");
        ev.done();
    }
    return n;
}

result<std::vector<claimed_job>> store::claim_due(std::string const& sink, int limit,
                                                  std::int64_t now, std::int64_t untouched_since,
                                                  bool whole_messages)
{
    std::lock_guard lock(mutex_);
    std::vector<claimed_job> out;
    if (limit <= 0)
        return out;
    transaction tx(db_);
    if (!tx.ok())
        return query_failed();
    std::string const from = std::string("SELECT ") + job_columns + ", " + asset_columns +
                             " FROM jobs j JOIN assets a ON a.id=j.asset_id JOIN cameras c ON "
                             "c.id=a.camera_id WHERE j.sink=?1 AND j.state IN ('pending', "
                             "'failed-transient') ";
    std::string const due = "AND (CASE WHEN ?2 > 0 THEN (j.state = 'pending' OR "
                            "j.updated_at < ?2) ELSE j.next_attempt_at <= ?3 END) ";
    std::map<std::int64_t, std::int64_t> message_of;  // job id -> message id
    auto collect = [&](statement& q) -> bool {
        int rc;
        while ((rc = q.step()) == SQLITE_ROW)
        {
            claimed_job c;
            c.job = read_job(q, 0);
            if (auto m = read_asset(q, 9, c.asset))
                message_of[c.job.id] = m;
            out.push_back(std::move(c));
        }
        return rc == SQLITE_DONE;
    };
    {
        std::string sql = from + due + "ORDER BY a.capture_time, a.id LIMIT ?4";
        statement q(db_, sql.c_str());
        q.bind(1, sink).bind(2, untouched_since).bind(3, now).bind(4, whole_messages ? 1 : limit);
        if (!collect(q))
            return query_failed();
    }
    if (whole_messages && !out.empty())
    {
        // A batching sink delivers a message as one unit (one e-mail, one post): when the oldest
        // due job belongs to a message, the batch is every open job of that message, due or not
        // (retries of one message must not drift apart); otherwise up to `limit` loose jobs.
        auto first = std::move(out.front());
        out.clear();
        auto message = message_of.count(first.job.id) ? message_of[first.job.id] : 0;
        std::string sql = message ? from + "AND a.message_id=?5 ORDER BY a.message_part, a.id"
                                  : from + due +
                                        "AND a.message_id IS NULL ORDER BY a.capture_time, a.id "
                                        "LIMIT ?4";
        statement q(db_, sql.c_str());
        q.bind(1, sink).bind(2, untouched_since).bind(3, now).bind(4, limit);
        if (message)
            q.bind(5, message);
        if (!collect(q))
            return query_failed();
    }
    std::map<std::int64_t, std::shared_ptr<message_info const>> messages;
    for (auto& c : out)
    {
        if (!can_transition(c.job.state, job_state::running))
            return make_error_code(errc::bad_transition);
        statement up(db_, "UPDATE jobs SET state='running', attempts=attempts+1, updated_at=? "
                          "WHERE id=?");
        up.bind(1, now).bind(2, c.job.id);
        if (!up.done())
            return query_failed();
        c.job.state = job_state::running;
        c.job.attempts += 1;
        auto m = message_of.find(c.job.id);
        if (m == message_of.end())
            continue;
        auto& info = messages[m->second];
        if (!info)
        {
            auto loaded = load_message(m->second);
            if (!loaded)
                return loaded.error();
            info = std::make_shared<message_info const>(std::move(*loaded));
        }
        c.asset.message = info;
    }
    if (!tx.commit())
        return query_failed();
    return out;
}

result<message_info> store::load_message(std::int64_t id)
{
    message_info m;
    statement q(db_, "SELECT id, kind, sender, subject, body, text, album, user_folder, parts "
                     "FROM messages WHERE id=?");
    q.bind(1, id);
    if (q.step() != SQLITE_ROW)
        return make_error_code(errc::not_found);
    m.id = q.i64(0);
    m.kind = q.text(1);
    m.sender = q.text(2);
    m.subject = q.text(3);
    m.body = q.text(4);
    m.text = q.text(5);
    m.album = q.text(6);
    m.user_folder = q.text(7);
    m.parts = static_cast<int>(q.i64(8));
    statement r(db_, "SELECT sink, address FROM message_recipients WHERE message_id=? ORDER BY pos");
    r.bind(1, id);
    int rc;
    while ((rc = r.step()) == SQLITE_ROW)
        m.recipients.emplace_back(r.text(0), r.text(1));
    if (rc != SQLITE_DONE)
        return query_failed();
    return m;
}

result<std::int64_t> store::record_message(std::int64_t camera_id, message_info const& info,
                                           std::span<const message_part_record> parts,
                                           std::vector<std::string> const& sinks,
                                           std::int64_t now)
{
    std::lock_guard lock(mutex_);
    transaction tx(db_);
    if (!tx.ok())
        return query_failed();
    statement ins(db_, "INSERT INTO messages(camera_id, kind, sender, subject, body, text, album, "
                       "user_folder, parts, created_at) VALUES(?,?,?,?,?,?,?,?,?,?)");
    ins.bind(1, camera_id).bind(2, info.kind).bind(3, info.sender).bind(4, info.subject);
    ins.bind(5, info.body).bind(6, info.text).bind(7, info.album).bind(8, info.user_folder);
    ins.bind(9, static_cast<std::int64_t>(parts.size())).bind(10, now);
    if (!ins.done())
        return query_failed();
    auto id = sqlite3_last_insert_rowid(db_);
    std::int64_t pos = 0;
    for (auto const& [sink, address] : info.recipients)
    {
        statement r(db_, "INSERT INTO message_recipients(message_id, pos, sink, address) "
                         "VALUES(?,?,?,?)");
        r.bind(1, id).bind(2, pos++).bind(3, sink).bind(4, address);
        if (!r.done())
            return query_failed();
    }
    std::int64_t index = 0;
    for (auto const& part : parts)
    {
        statement up(db_, "UPDATE assets SET message_id=?, message_part=?, alt_text=? WHERE id=? "
                          "AND camera_id=? AND message_id IS NULL");
        up.bind(1, id).bind(2, index++).bind(3, part.alt_text).bind(4, part.asset_id);
        up.bind(5, camera_id);
        if (!up.done())
            return query_failed();
        if (sqlite3_changes(db_) != 1)
            return make_error_code(errc::not_found);  // unknown asset, or already in a message
        for (auto const& sink : sinks)
        {
            statement job(db_, "INSERT OR IGNORE INTO jobs(asset_id, sink, state, created_at, "
                               "updated_at) VALUES(?,?,'pending',?,?)");
            job.bind(1, part.asset_id).bind(2, sink).bind(3, now).bind(4, now);
            if (!job.done())
                return query_failed();
        }
    }
    statement ev(db_, "INSERT INTO events(at, kind, camera_id, message) VALUES(?, 'message', ?, ?)");
    ev.bind(1, now).bind(2, camera_id);
    ev.bind(3, info.kind + " message " + std::to_string(id) + " with " +
                   std::to_string(parts.size()) + " file(s) -> " + std::to_string(sinks.size()) +
                   " destination(s)");
    if (!ev.done() || !tx.commit())
        return query_failed();
    return id;
}

result<std::int64_t> store::next_due(std::vector<std::string> const& sinks)
{
    std::lock_guard lock(mutex_);
    std::int64_t best = 0;
    for (auto const& sink : sinks)
    {
        statement q(db_, "SELECT MIN(next_attempt_at) FROM jobs WHERE sink=? AND state IN "
                         "('pending', 'failed-transient')");
        q.bind(1, sink);
        if (q.step() != SQLITE_ROW)
            return query_failed();
        auto v = q.i64(0);
        std::string t = q.text(0);
        if (!t.empty() && (best == 0 || v < best))
            best = v == 0 ? 1 : v;
    }
    return best;
}

std::error_code store::check_transition(std::int64_t job_id, job_state to)
{
    statement q(db_, "SELECT state FROM jobs WHERE id=?");
    q.bind(1, job_id);
    if (q.step() != SQLITE_ROW)
        return make_error_code(errc::not_found);
    auto from = job_state_from_string(q.text(0));
    if (!from || !can_transition(*from, to))
    {
        log::error(log_tag, "job={} refused state change {} -> {}", job_id, q.text(0),
                   to_string(to));
        return make_error_code(errc::bad_transition);
    }
    return {};
}

std::error_code store::mark_delivered(std::int64_t job_id, std::string const& receipt,
                                      std::int64_t now)
{
    std::lock_guard lock(mutex_);
    transaction tx(db_);
    if (!tx.ok())
        return query_failed();
    if (auto ec = check_transition(job_id, job_state::delivered))
        return ec;
    statement up(db_, "UPDATE jobs SET state='delivered', receipt=?, last_error='', updated_at=? "
                      "WHERE id=?");
    up.bind(1, receipt).bind(2, now).bind(3, job_id);
    statement ev(db_, "INSERT INTO events(at, kind, asset_id, job_id, message) SELECT ?, "
                      "'delivered', asset_id, id, sink || ': ' || ? FROM jobs WHERE id=?");
    if (!up.done())
        return query_failed();
    ev.bind(1, now).bind(2, receipt).bind(3, job_id);
    if (!ev.done() || !tx.commit())
        return query_failed();
    return {};
}

std::error_code store::mark_failed(std::int64_t job_id, bool transient, std::string const& error,
                                   std::int64_t retry_at, std::int64_t now)
{
    std::lock_guard lock(mutex_);
    transaction tx(db_);
    if (!tx.ok())
        return query_failed();
    auto to = transient ? job_state::failed_transient : job_state::failed_permanent;
    if (auto ec = check_transition(job_id, to))
        return ec;
    statement up(db_, "UPDATE jobs SET state=?, last_error=?, next_attempt_at=?, updated_at=? "
                      "WHERE id=?");
    up.bind(1, std::string(to_string(to))).bind(2, error).bind(3, transient ? retry_at : 0);
    up.bind(4, now).bind(5, job_id);
    if (!up.done())
        return query_failed();
    statement ev(db_, "INSERT INTO events(at, kind, asset_id, job_id, message) SELECT ?, ?, "
                      "asset_id, id, sink || ': ' || ? FROM jobs WHERE id=?");
    ev.bind(1, now).bind(2, std::string(transient ? "retry" : "failed")).bind(3, error);
    ev.bind(4, job_id);
    if (!ev.done() || !tx.commit())
        return query_failed();
    return {};
}

std::error_code store::mark_interrupted(std::int64_t job_id, std::int64_t now)
{
    std::lock_guard lock(mutex_);
    if (auto ec = check_transition(job_id, job_state::pending))
        return ec;
    statement up(db_, "UPDATE jobs SET state='pending', attempts=MAX(attempts-1, 0), "
                      "next_attempt_at=0, updated_at=? WHERE id=?");
    up.bind(1, now).bind(2, job_id);
    return up.done() ? std::error_code{} : query_failed();
}

result<int> store::make_due(std::string const& sink, std::int64_t now)
{
    std::lock_guard lock(mutex_);
    statement up(db_, "UPDATE jobs SET next_attempt_at=? WHERE sink=? AND state='failed-transient' "
                      "AND next_attempt_at > ?");
    up.bind(1, now).bind(2, sink).bind(3, now);
    if (!up.done())
        return query_failed();
    return sqlite3_changes(db_);
}

result<int> store::retry_failed(std::int64_t now)
{
    std::lock_guard lock(mutex_);
    // A user's retry is a fresh start: attempts count again from zero against max_attempts.
    statement up(db_, "UPDATE jobs SET state='pending', attempts=0, next_attempt_at=0, "
                      "updated_at=? WHERE state IN ('failed-transient', 'failed-permanent', "
                      "'cancelled')");
    up.bind(1, now);
    if (!up.done())
        return query_failed();
    return sqlite3_changes(db_);
}

result<bool> store::all_delivered(std::int64_t asset_id)
{
    std::lock_guard lock(mutex_);
    statement q(db_, "SELECT COUNT(*) FROM jobs WHERE asset_id=? AND state != 'delivered'");
    q.bind(1, asset_id);
    if (q.step() != SQLITE_ROW)
        return error_result<bool>(query_failed());
    return q.i64(0) == 0;
}

std::error_code store::mark_spool_removed(std::int64_t asset_id)
{
    std::lock_guard lock(mutex_);
    statement up(db_, "UPDATE assets SET spool_state='removed' WHERE id=?");
    up.bind(1, asset_id);
    return up.done() ? std::error_code{} : query_failed();
}

result<std::vector<std::pair<std::int64_t, std::string>>> store::delivered_but_spooled()
{
    std::lock_guard lock(mutex_);
    statement q(db_, "SELECT a.id, a.spool_path FROM assets a WHERE a.spool_state='present' AND "
                     "EXISTS (SELECT 1 FROM jobs j WHERE j.asset_id=a.id) AND NOT EXISTS "
                     "(SELECT 1 FROM jobs j WHERE j.asset_id=a.id AND j.state != 'delivered')");
    std::vector<std::pair<std::int64_t, std::string>> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        out.emplace_back(q.i64(0), q.text(1));
    if (rc != SQLITE_DONE)
        return query_failed();
    return out;
}

std::error_code store::add_event(std::string const& kind, std::string const& message,
                                 std::int64_t now, std::int64_t camera_id, std::int64_t asset_id,
                                 std::int64_t job_id)
{
    std::lock_guard lock(mutex_);
    statement ev(db_, "INSERT INTO events(at, kind, camera_id, asset_id, job_id, message) "
                      "VALUES(?,?,NULLIF(?,0),NULLIF(?,0),NULLIF(?,0),?)");
    ev.bind(1, now).bind(2, kind).bind(3, camera_id).bind(4, asset_id).bind(5, job_id);
    ev.bind(6, message);
    return ev.done() ? std::error_code{} : query_failed();
}

result<std::vector<std::pair<std::int64_t, std::string>>> store::assets_of(
    std::int64_t camera_id, object_key const& key)
{
    std::lock_guard lock(mutex_);
    statement q(db_, "SELECT a.id, a.sha256 FROM objects o JOIN assets a ON a.id=o.asset_id "
                     "WHERE o.camera_id=? AND o.folder=? AND o.name=? AND o.size=? AND o.mtime=? "
                     "ORDER BY o.variant");
    q.bind(1, camera_id).bind(2, key.folder).bind(3, key.name);
    q.bind(4, static_cast<std::int64_t>(key.size)).bind(5, key.mtime);
    std::vector<std::pair<std::int64_t, std::string>> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        out.emplace_back(q.i64(0), q.text(1));
    if (rc != SQLITE_DONE)
        return query_failed();
    return out;
}

bool store::has_problems_table()
{
    statement q(db_, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='object_problems'");
    return q.step() == SQLITE_ROW;
}

std::error_code store::note_problem(std::int64_t camera_id, std::string const& object,
                                    std::string const& kind, std::string const& reason,
                                    bool timeout, std::int64_t now)
{
    std::lock_guard lock(mutex_);
    statement up(db_, "UPDATE object_problems SET kind=?, reason=?, timeout=?, last_seen=?, "
                      "attempts=attempts+1 WHERE camera_id=? AND object=?");
    up.bind(1, kind).bind(2, reason).bind(3, std::int64_t{timeout ? 1 : 0}).bind(4, now);
    up.bind(5, camera_id).bind(6, object);
    if (!up.done())
        return query_failed();
    if (sqlite3_changes(db_) > 0)
        return {};
    statement ins(db_, "INSERT INTO object_problems(camera_id, object, kind, reason, timeout, "
                       "first_seen, last_seen) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?6 WHERE "
                       "(SELECT COUNT(*) FROM object_problems WHERE camera_id=?1) < ?7");
    ins.bind(1, camera_id).bind(2, object).bind(3, kind).bind(4, reason);
    ins.bind(5, std::int64_t{timeout ? 1 : 0}).bind(6, now).bind(7, max_problems_per_camera);
    return ins.done() ? std::error_code{} : query_failed();
}

result<bool> store::clear_problem(std::int64_t camera_id, std::string const& object)
{
    std::lock_guard lock(mutex_);
    statement del(db_, "DELETE FROM object_problems WHERE camera_id=? AND object=?");
    del.bind(1, camera_id).bind(2, object);
    if (!del.done())
        return error_result<bool>(query_failed());
    return sqlite3_changes(db_) > 0;
}

std::error_code store::clear_handle_problems(std::int64_t camera_id)
{
    std::lock_guard lock(mutex_);
    statement del(db_, "DELETE FROM object_problems WHERE camera_id=? AND object LIKE '#%'");
    del.bind(1, camera_id);
    return del.done() ? std::error_code{} : query_failed();
}

result<std::vector<object_problem_record>> store::problems(std::int64_t camera_id, int limit)
{
    std::lock_guard lock(mutex_);
    std::vector<object_problem_record> out;
    if (!has_problems_table())
        return out;
    statement q(db_, "SELECT camera_id, object, kind, reason, timeout, first_seen, last_seen, "
                     "attempts FROM object_problems WHERE (?1=0 OR camera_id=?1) "
                     "ORDER BY last_seen DESC, id DESC LIMIT ?2");
    q.bind(1, camera_id).bind(2, limit);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        out.push_back({q.i64(0), q.text(1), q.text(2), q.text(3), q.i64(4) != 0, q.i64(5),
                       q.i64(6), q.i64(7)});
    if (rc != SQLITE_DONE)
        return query_failed();
    return out;
}

result<std::int64_t> store::problem_count(std::int64_t camera_id, std::string const& kind)
{
    std::lock_guard lock(mutex_);
    if (!has_problems_table())
        return std::int64_t{0};
    statement q(db_, "SELECT COUNT(*) FROM object_problems WHERE camera_id=? AND (?='' OR kind=?)");
    q.bind(1, camera_id).bind(2, kind).bind(3, kind);
    if (q.step() != SQLITE_ROW)
        return query_failed();
    return q.i64(0);
}

result<std::int64_t> store::camera_scalar(char const* sql, std::int64_t camera_id)
{
    std::lock_guard lock(mutex_);
    statement q(db_, sql);
    q.bind(1, camera_id);
    if (q.step() != SQLITE_ROW)
        return query_failed();
    return q.i64(0);
}

result<std::int64_t> store::asset_bytes(std::int64_t camera_id)
{
    return camera_scalar("SELECT COALESCE(SUM(size), 0) FROM assets WHERE camera_id=?", camera_id);
}

result<std::vector<camera_record>> store::cameras()
{
    std::lock_guard lock(mutex_);
    statement q(db_, "SELECT id, identity, source_kind, name, manufacturer, model, serial, port, "
                     "first_seen, last_seen FROM cameras ORDER BY last_seen DESC");
    std::vector<camera_record> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
    {
        camera_record c;
        c.id = q.i64(0);
        c.identity = q.text(1);
        c.source_kind = q.text(2);
        c.name = q.text(3);
        c.manufacturer = q.text(4);
        c.model = q.text(5);
        c.serial = q.text(6);
        c.port = q.text(7);
        c.first_seen = q.i64(8);
        c.last_seen = q.i64(9);
        out.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE)
        return query_failed();
    return out;
}

result<std::int64_t> store::object_count(std::int64_t camera_id)
{
    return camera_scalar("SELECT COUNT(*) FROM objects WHERE camera_id=?", camera_id);
}

result<std::vector<sink_counts>> store::job_counts()
{
    std::lock_guard lock(mutex_);
    statement q(db_, "SELECT sink, state, COUNT(*) FROM jobs GROUP BY sink, state ORDER BY sink");
    std::vector<sink_counts> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
    {
        auto sink = q.text(0);
        if (out.empty() || out.back().sink != sink)
            out.push_back(sink_counts{sink, {}});
        if (auto st = job_state_from_string(q.text(1)))
            out.back().by_state[static_cast<int>(*st)] = q.i64(2);
    }
    if (rc != SQLITE_DONE)
        return query_failed();
    return out;
}

result<std::vector<event_record>> store::recent_events(int limit, std::string const& kind)
{
    std::lock_guard lock(mutex_);
    statement q(db_, "SELECT id, at, kind, COALESCE(camera_id,0), COALESCE(asset_id,0), "
                     "COALESCE(job_id,0), message FROM events WHERE (?='' OR kind=?) "
                     "ORDER BY id DESC LIMIT ?");
    q.bind(1, kind).bind(2, kind).bind(3, limit);
    std::vector<event_record> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        out.push_back({q.i64(0), q.i64(1), q.text(2), q.i64(3), q.i64(4), q.i64(5), q.text(6)});
    if (rc != SQLITE_DONE)
        return query_failed();
    return out;
}

result<std::vector<job_record>> store::jobs_in_state(job_state s, int limit)
{
    std::lock_guard lock(mutex_);
    std::string sql = std::string("SELECT ") + job_columns +
                      " FROM jobs j WHERE j.state=? ORDER BY j.updated_at DESC LIMIT ?";
    statement q(db_, sql.c_str());
    q.bind(1, std::string(to_string(s))).bind(2, limit);
    std::vector<job_record> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        out.push_back(read_job(q, 0));
    if (rc != SQLITE_DONE)
        return query_failed();
    return out;
}

result<job_record> store::job(std::int64_t id)
{
    std::lock_guard lock(mutex_);
    std::string sql = std::string("SELECT ") + job_columns + " FROM jobs j WHERE j.id=?";
    statement q(db_, sql.c_str());
    q.bind(1, id);
    if (q.step() != SQLITE_ROW)
        return make_error_code(errc::not_found);
    return read_job(q, 0);
}

result<std::string> store::integrity_check()
{
    std::lock_guard lock(mutex_);
    statement q(db_, "PRAGMA integrity_check");
    if (q.step() != SQLITE_ROW)
        return query_failed();
    return q.text(0);
}

} // namespace camrelay::ledger
