// The ledger on a temporary SQLite file: schema, arrivals, claiming, state changes, queries.
#include "ledger/error.hpp"
#include "ledger/migrations.hpp"
#include "ledger/store.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <vector>

namespace
{

using namespace camrelay;
using ledger::job_state;

std::int64_t pragma_int(std::string const& path, char const* sql)
{
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK);
    std::int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

void exec_sql(std::string const& path, char const* sql)
{
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
}

class LedgerStore : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        db_path = (dir / "camrelay.db").string();
        auto s = ledger::store::open(db_path);
        ASSERT_TRUE(s) << s.error().message();
        db = std::move(*s);
        ledger::camera_record cam;
        cam.identity = "usb:Canon:EOS 400D:1234";
        cam.source_kind = "usb";
        cam.name = "EOS400D";
        cam.manufacturer = "Canon";
        cam.model = "EOS 400D";
        cam.serial = "1234";
        cam.port = "usb:001,002";
        auto id = db->upsert_camera(cam, 1000);
        ASSERT_TRUE(id);
        camera = *id;
    }

    // Records one arrival (folder /DCIM, given name and capture time) for `sinks`.
    std::int64_t arrive(std::string const& name, std::int64_t capture,
                        std::vector<std::string> const& sinks = {"nas"}, std::int64_t now = 1000,
                        std::int64_t cam = 0)
    {
        ledger::object_key key{"/DCIM", name, 100, capture};
        asset_info a;
        a.sha256 = "hash-" + name;
        a.size = 100;
        a.capture_time = capture;
        a.source_kind = "usb";
        a.folder = "/DCIM";
        a.name = name;
        a.mime = "image/jpeg";
        a.spool_path = "/spool/" + name;
        auto id = db->record_arrival(cam ? cam : camera, key, a, sinks, now);
        EXPECT_TRUE(id) << name;
        return id ? *id : 0;
    }

    // The one job of `sink` for asset `asset_id`, found through claim-free queries.
    ledger::job_record job_of(std::int64_t asset_id, std::string const& sink)
    {
        for (auto s : ledger::all_job_states)
        {
            auto jobs = db->jobs_in_state(s, 1000);
            EXPECT_TRUE(jobs);
            for (auto const& j : *jobs)
                if (j.asset_id == asset_id && j.sink == sink)
                    return j;
        }
        ADD_FAILURE() << "no job for asset " << asset_id << " sink " << sink;
        return {};
    }

    std::int64_t count_in(job_state s)
    {
        auto jobs = db->jobs_in_state(s, 100000);
        EXPECT_TRUE(jobs);
        return jobs ? static_cast<std::int64_t>(jobs->size()) : -1;
    }

    test::temp_dir dir;
    std::string db_path;
    std::unique_ptr<ledger::store> db;
    std::int64_t camera = 0;
};

TEST_F(LedgerStore, SchemaVersionIsTheNumberOfMigrations)
{
    EXPECT_EQ(pragma_int(db_path, "PRAGMA user_version"),
              static_cast<std::int64_t>(ledger::migrations().size()));
    EXPECT_GE(ledger::migrations().size(), 1u);
    auto ok = db->integrity_check();
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, "ok");
}

TEST_F(LedgerStore, ReopenIsIdempotentAndKeepsData)
{
    arrive("IMG_1.JPG", 10);
    db.reset();
    for (int i = 0; i < 2; ++i)
    {
        auto again = ledger::store::open(db_path);
        ASSERT_TRUE(again) << again.error().message();
        EXPECT_EQ(pragma_int(db_path, "PRAGMA user_version"),
                  static_cast<std::int64_t>(ledger::migrations().size()));
        auto cams = (*again)->cameras();
        ASSERT_TRUE(cams);
        ASSERT_EQ(cams->size(), 1u);
        auto n = (*again)->object_count(camera);
        ASSERT_TRUE(n);
        EXPECT_EQ(*n, 1);
    }
}

TEST_F(LedgerStore, NewerSchemaIsRefused)
{
    db.reset();
    exec_sql(db_path, "PRAGMA user_version=999");
    auto s = ledger::store::open(db_path);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), ledger::errc::newer_schema);
}

TEST_F(LedgerStore, OpenFailsInAMissingFolder)
{
    auto s = ledger::store::open((dir / "no/such/folder/x.db").string());
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), ledger::errc::open_failed);
}

TEST_F(LedgerStore, ReadOnlyOpenSeesTheData)
{
    arrive("IMG_1.JPG", 10);
    auto ro = ledger::store::open_read_only(db_path);
    ASSERT_TRUE(ro);
    auto counts = (*ro)->job_counts();
    ASSERT_TRUE(counts);
    ASSERT_EQ(counts->size(), 1u);
    EXPECT_EQ((*counts)[0].by_state[static_cast<int>(job_state::pending)], 1);
}

TEST_F(LedgerStore, UpsertCameraKeepsItsIdAndRefreshes)
{
    ledger::camera_record cam;
    cam.identity = "usb:Canon:EOS 400D:1234";
    cam.source_kind = "usb";
    cam.name = "Renamed";
    cam.port = "usb:003,004";
    auto id = db->upsert_camera(cam, 2000);
    ASSERT_TRUE(id);
    EXPECT_EQ(*id, camera);

    cam.identity = "usb:Fuji:X-T3:99";
    auto other = db->upsert_camera(cam, 2001);
    ASSERT_TRUE(other);
    EXPECT_NE(*other, camera);

    auto cams = db->cameras();
    ASSERT_TRUE(cams);
    ASSERT_EQ(cams->size(), 2u);
    auto it =
        std::find_if(cams->begin(), cams->end(), [&](auto const& c) { return c.id == camera; });
    ASSERT_NE(it, cams->end());
    EXPECT_EQ(it->first_seen, 1000);
    EXPECT_EQ(it->last_seen, 2000);
    EXPECT_EQ(it->port, "usb:003,004");
    EXPECT_EQ(it->name, "Renamed");
    EXPECT_EQ(it->model, "EOS 400D"); // not overwritten by the refresh
}

TEST_F(LedgerStore, RecordArrivalIsIdempotentOnTheObjectKey)
{
    ledger::object_key key{"/DCIM/100", "IMG_1.JPG", 100, 55};
    asset_info a;
    a.sha256 = "h";
    a.size = 100;
    a.name = "IMG_1.JPG";
    a.folder = "/DCIM/100";
    a.source_kind = "usb";
    auto first = db->record_arrival(camera, key, a, {"nas", "cloud"}, 1000);
    ASSERT_TRUE(first);
    EXPECT_EQ(a.id, *first);
    EXPECT_EQ(a.seq, 1);

    asset_info again = a;
    again.id = 0;
    again.seq = 0;
    auto second = db->record_arrival(camera, key, again, {"nas", "cloud", "third"}, 1001);
    ASSERT_TRUE(second);
    EXPECT_EQ(*second, *first);
    EXPECT_EQ(again.id, *first);
    EXPECT_EQ(again.seq, 1) << "the header promises asset.seq is filled";

    EXPECT_EQ(count_in(job_state::pending), 2);
    auto n = db->object_count(camera);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1);
    auto arrived = db->recent_events(100, "arrived");
    ASSERT_TRUE(arrived);
    EXPECT_EQ(arrived->size(), 1u);
}

TEST_F(LedgerStore, SeqCountsPerCamera)
{
    ledger::camera_record other;
    other.identity = "usb:Fuji:X-T3:99";
    other.source_kind = "usb";
    other.name = "X-T3";
    auto cam2 = db->upsert_camera(other, 1000);
    ASSERT_TRUE(cam2);

    asset_info a;
    ledger::object_key k1{"/D", "a.jpg", 1, 1};
    ledger::object_key k2{"/D", "b.jpg", 1, 1};
    ledger::object_key k3{"/D", "c.jpg", 1, 1};
    ASSERT_TRUE(db->record_arrival(camera, k1, a, {}, 1));
    EXPECT_EQ(a.seq, 1);
    ASSERT_TRUE(db->record_arrival(camera, k2, a, {}, 1));
    EXPECT_EQ(a.seq, 2);
    ASSERT_TRUE(db->record_arrival(*cam2, k1, a, {}, 1));
    EXPECT_EQ(a.seq, 1);
    ASSERT_TRUE(db->record_arrival(camera, k3, a, {}, 1));
    EXPECT_EQ(a.seq, 3);
}

TEST_F(LedgerStore, ObjectKeyDiffersBySizeAndMtime)
{
    asset_info a;
    ledger::object_key k{"/D", "a.jpg", 10, 5};
    auto id1 = db->record_arrival(camera, k, a, {"nas"}, 1);
    k.size = 11;
    auto id2 = db->record_arrival(camera, k, a, {"nas"}, 1);
    k.mtime = 6;
    auto id3 = db->record_arrival(camera, k, a, {"nas"}, 1);
    ASSERT_TRUE(id1 && id2 && id3);
    EXPECT_NE(*id1, *id2);
    EXPECT_NE(*id2, *id3);
    EXPECT_EQ(count_in(job_state::pending), 3);
}

TEST_F(LedgerStore, KnownObjectsAndIsKnown)
{
    auto empty = db->known_objects(camera);
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());

    arrive("A.JPG", 10);
    arrive("B.JPG", 20);
    auto known = db->known_objects(camera);
    ASSERT_TRUE(known);
    EXPECT_EQ(known->size(), 2u);
    ledger::object_key a{"/DCIM", "A.JPG", 100, 10};
    ledger::object_key b{"/DCIM", "B.JPG", 100, 20};
    ledger::object_key c{"/DCIM", "A.JPG", 100, 11};
    EXPECT_TRUE(known->count(a.joined()));
    EXPECT_TRUE(known->count(b.joined()));
    EXPECT_FALSE(known->count(c.joined()));

    auto yes = db->is_known(camera, a);
    ASSERT_TRUE(yes);
    EXPECT_TRUE(*yes);
    auto no = db->is_known(camera, c);
    ASSERT_TRUE(no);
    EXPECT_FALSE(*no);
    auto other_cam = db->known_objects(camera + 1);
    ASSERT_TRUE(other_cam);
    EXPECT_TRUE(other_cam->empty());
}

TEST_F(LedgerStore, JoinedKeysSeparateTheirFields)
{
    ledger::object_key a{"/a", "b", 1, 2};
    ledger::object_key same{"/a", "b", 1, 2};
    ledger::object_key digits{"/a", "b", 12, 0};
    ledger::object_key split{"/a/b", "", 1, 2};
    EXPECT_EQ(a.joined(), same.joined());
    EXPECT_NE(a.joined(), digits.joined());
    EXPECT_NE(a.joined(), split.joined());
}

TEST_F(LedgerStore, ArrivalForUnknownCameraFails)
{
    asset_info a;
    ledger::object_key k{"/D", "a.jpg", 1, 1};
    auto r = db->record_arrival(camera + 100, k, a, {"nas"}, 1);
    EXPECT_FALSE(r) << "foreign keys are on";
    EXPECT_EQ(count_in(job_state::pending), 0);
}

TEST_F(LedgerStore, ClaimDueOrdersByCaptureTimeAndRespectsLimitAndSink)
{
    auto late = arrive("LATE.JPG", 300, {"nas", "cloud"});
    auto early = arrive("EARLY.JPG", 100, {"nas"});
    auto mid = arrive("MID.JPG", 200, {"nas"});

    auto first = db->claim_due("nas", 2, 2000);
    ASSERT_TRUE(first);
    ASSERT_EQ(first->size(), 2u);
    EXPECT_EQ((*first)[0].asset.id, early);
    EXPECT_EQ((*first)[1].asset.id, mid);
    for (auto const& c : *first)
    {
        EXPECT_EQ(c.job.state, job_state::running);
        EXPECT_EQ(c.job.attempts, 1);
        EXPECT_EQ(c.job.sink, "nas");
        auto stored = db->job(c.job.id);
        ASSERT_TRUE(stored);
        EXPECT_EQ(stored->state, job_state::running);
        EXPECT_EQ(stored->attempts, 1);
        EXPECT_EQ(stored->updated_at, 2000);
    }
    // The claimed asset carries what a sink needs.
    auto const& a = (*first)[0].asset;
    EXPECT_EQ(a.name, "EARLY.JPG");
    EXPECT_EQ(a.folder, "/DCIM");
    EXPECT_EQ(a.sha256, "hash-EARLY.JPG");
    EXPECT_EQ(a.size, 100u);
    EXPECT_EQ(a.capture_time, 100);
    EXPECT_EQ(a.camera_key, "usb:Canon:EOS 400D:1234");
    EXPECT_EQ(a.camera_name, "EOS400D");
    EXPECT_EQ(a.model, "EOS 400D");
    EXPECT_EQ(a.serial, "1234");
    EXPECT_EQ(a.manufacturer, "Canon");
    EXPECT_EQ(a.spool_path, "/spool/EARLY.JPG");
    EXPECT_EQ(a.mime, "image/jpeg");
    EXPECT_EQ(a.seq, 2);

    auto second = db->claim_due("nas", 10, 2000);
    ASSERT_TRUE(second);
    ASSERT_EQ(second->size(), 1u);
    EXPECT_EQ((*second)[0].asset.id, late);

    auto none = db->claim_due("nas", 10, 2000);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());

    auto cloud = db->claim_due("cloud", 10, 2000);
    ASSERT_TRUE(cloud);
    ASSERT_EQ(cloud->size(), 1u);
    EXPECT_EQ((*cloud)[0].asset.id, late);

    auto zero = db->claim_due("nope", 0, 2000);
    ASSERT_TRUE(zero);
    EXPECT_TRUE(zero->empty());
}

TEST_F(LedgerStore, FailedTransientIsDueOnlyAtNextAttempt)
{
    auto asset = arrive("A.JPG", 1);
    auto c = db->claim_due("nas", 1, 1000);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->size(), 1u);
    auto id = (*c)[0].job.id;
    ASSERT_FALSE(db->mark_failed(id, true, "NAS offline", 1500, 1001));
    auto j = db->job(id);
    ASSERT_TRUE(j);
    EXPECT_EQ(j->state, job_state::failed_transient);
    EXPECT_EQ(j->next_attempt_at, 1500);
    EXPECT_EQ(j->last_error, "NAS offline");
    EXPECT_EQ(j->attempts, 1);

    auto next = db->next_due({"nas"});
    ASSERT_TRUE(next);
    EXPECT_EQ(*next, 1500);

    auto early = db->claim_due("nas", 10, 1499);
    ASSERT_TRUE(early);
    EXPECT_TRUE(early->empty());
    auto due = db->claim_due("nas", 10, 1500);
    ASSERT_TRUE(due);
    ASSERT_EQ(due->size(), 1u);
    EXPECT_EQ((*due)[0].job.attempts, 2);
    EXPECT_EQ(job_of(asset, "nas").state, job_state::running);
}

TEST_F(LedgerStore, UntouchedSinceClaimsWhatFailedBeforeTheRun)
{
    arrive("BEFORE.JPG", 1, {"nas"}, 100);
    arrive("AFTER.JPG", 2, {"nas"}, 100);
    auto c = db->claim_due("nas", 2, 100);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->size(), 2u);
    auto before = (*c)[0].job.id;
    auto after = (*c)[1].job.id;
    // One failed at 150, before a run that starts at 200; the other during that run (250).
    ASSERT_FALSE(db->mark_failed(before, true, "x", 10000, 150));
    ASSERT_FALSE(db->mark_failed(after, true, "x", 10000, 250));

    auto daemon = db->claim_due("nas", 10, 260); // daemon mode: neither is due
    ASSERT_TRUE(daemon);
    EXPECT_TRUE(daemon->empty());

    auto run = db->claim_due("nas", 10, 260, 200);
    ASSERT_TRUE(run);
    ASSERT_EQ(run->size(), 1u);
    EXPECT_EQ((*run)[0].job.id, before);
    auto again = db->claim_due("nas", 10, 270, 200);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->empty()) << "each job only once per run";
}

TEST_F(LedgerStore, MarkDeliveredRecordsReceiptAndIsFinal)
{
    auto asset = arrive("A.JPG", 1, {"nas", "cloud"});
    auto c = db->claim_due("nas", 1, 1000);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->size(), 1u);
    auto id = (*c)[0].job.id;
    ASSERT_FALSE(db->mark_delivered(id, "/srv/A.JPG", 1001));
    auto j = db->job(id);
    ASSERT_TRUE(j);
    EXPECT_EQ(j->state, job_state::delivered);
    EXPECT_EQ(j->receipt, "/srv/A.JPG");
    EXPECT_EQ(j->updated_at, 1001);

    EXPECT_EQ(db->mark_delivered(id, "/srv/A.JPG", 1002), ledger::errc::bad_transition);
    EXPECT_EQ(db->mark_failed(id, true, "x", 0, 1002), ledger::errc::bad_transition);
    EXPECT_EQ(db->mark_interrupted(id, 1002), ledger::errc::bad_transition);
    EXPECT_EQ(db->job(id)->state, job_state::delivered);

    auto all = db->all_delivered(asset);
    ASSERT_TRUE(all);
    EXPECT_FALSE(*all) << "the cloud job is still pending";
    auto c2 = db->claim_due("cloud", 1, 1003);
    ASSERT_TRUE(c2);
    ASSERT_EQ(c2->size(), 1u);
    ASSERT_FALSE(db->mark_delivered((*c2)[0].job.id, "ok", 1004));
    all = db->all_delivered(asset);
    ASSERT_TRUE(all);
    EXPECT_TRUE(*all);

    auto ev = db->recent_events(10, "delivered");
    ASSERT_TRUE(ev);
    ASSERT_EQ(ev->size(), 2u);
    EXPECT_EQ((*ev)[0].message, "cloud: ok"); // newest first
    EXPECT_EQ((*ev)[1].message, "nas: /srv/A.JPG");
    EXPECT_EQ((*ev)[1].job_id, id);
    EXPECT_EQ((*ev)[1].asset_id, asset);
}

TEST_F(LedgerStore, IllegalTransitionsAreRejected)
{
    arrive("A.JPG", 1);
    auto pending = db->jobs_in_state(job_state::pending, 10);
    ASSERT_TRUE(pending);
    ASSERT_EQ(pending->size(), 1u);
    auto id = (*pending)[0].id;
    // Never claimed: pending may not jump to delivered, failed or be "interrupted".
    EXPECT_EQ(db->mark_delivered(id, "r", 1), ledger::errc::bad_transition);
    EXPECT_EQ(db->mark_failed(id, true, "e", 5, 1), ledger::errc::bad_transition);
    EXPECT_EQ(db->mark_failed(id, false, "e", 0, 1), ledger::errc::bad_transition);
    EXPECT_EQ(db->mark_interrupted(id, 1), ledger::errc::bad_transition);
    EXPECT_EQ(db->job(id)->state, job_state::pending);
    EXPECT_EQ(db->mark_delivered(id + 1000, "r", 1), ledger::errc::not_found);
    EXPECT_EQ(db->job(id + 1000).error(), ledger::errc::not_found);
}

TEST_F(LedgerStore, PermanentFailureIsNotClaimable)
{
    arrive("A.JPG", 1);
    auto c = db->claim_due("nas", 1, 1000);
    ASSERT_TRUE(c);
    auto id = (*c)[0].job.id;
    ASSERT_FALSE(db->mark_failed(id, false, "bad path", 99999, 1001));
    auto j = db->job(id);
    EXPECT_EQ(j->state, job_state::failed_permanent);
    EXPECT_EQ(j->next_attempt_at, 0);
    EXPECT_EQ(j->last_error, "bad path");
    auto none = db->claim_due("nas", 10, 100000, 100000);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    auto next = db->next_due({"nas"});
    ASSERT_TRUE(next);
    EXPECT_EQ(*next, 0);
    EXPECT_EQ(db->mark_failed(id, true, "again", 1, 1002), ledger::errc::bad_transition);
    auto failed_events = db->recent_events(10, "failed");
    ASSERT_TRUE(failed_events);
    ASSERT_EQ(failed_events->size(), 1u);
    EXPECT_EQ((*failed_events)[0].message, "nas: bad path");
}

TEST_F(LedgerStore, MarkInterruptedDoesNotCountTheAttempt)
{
    arrive("A.JPG", 1);
    auto c = db->claim_due("nas", 1, 1000);
    ASSERT_TRUE(c);
    auto id = (*c)[0].job.id;
    EXPECT_EQ(db->job(id)->attempts, 1);
    ASSERT_FALSE(db->mark_interrupted(id, 1001));
    auto j = db->job(id);
    EXPECT_EQ(j->state, job_state::pending);
    EXPECT_EQ(j->attempts, 0);
    EXPECT_EQ(j->next_attempt_at, 0);
    auto again = db->claim_due("nas", 1, 1001);
    ASSERT_TRUE(again);
    ASSERT_EQ(again->size(), 1u);
    EXPECT_EQ((*again)[0].job.attempts, 1);
}

TEST_F(LedgerStore, RequeueRunningAfterACrash)
{
    arrive("A.JPG", 1);
    arrive("B.JPG", 2);
    arrive("C.JPG", 3);
    auto c = db->claim_due("nas", 2, 1000);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->size(), 2u);
    db.reset(); // "crash": reopen
    auto s = ledger::store::open(db_path);
    ASSERT_TRUE(s);
    db = std::move(*s);
    EXPECT_EQ(count_in(job_state::running), 2);
    auto n = db->requeue_running(1100);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 2);
    EXPECT_EQ(count_in(job_state::running), 0);
    EXPECT_EQ(count_in(job_state::pending), 3);
    auto ev = db->recent_events(10, "recovered");
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->size(), 1u);
    auto zero = db->requeue_running(1200);
    ASSERT_TRUE(zero);
    EXPECT_EQ(*zero, 0);
    EXPECT_EQ(db->recent_events(10, "recovered")->size(), 1u);
}

TEST_F(LedgerStore, RetryFailedBringsBackFailedAndOnlyThose)
{
    arrive("A.JPG", 1);
    arrive("B.JPG", 2);
    arrive("C.JPG", 3);
    arrive("D.JPG", 4);
    auto c = db->claim_due("nas", 3, 1000);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->size(), 3u);
    ASSERT_FALSE(db->mark_failed((*c)[0].job.id, true, "t", 5000, 1001));
    ASSERT_FALSE(db->mark_failed((*c)[1].job.id, false, "p", 0, 1001));
    ASSERT_FALSE(db->mark_delivered((*c)[2].job.id, "r", 1001));
    auto n = db->retry_failed(1002);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 2);
    EXPECT_EQ(count_in(job_state::pending), 3);
    EXPECT_EQ(count_in(job_state::delivered), 1);
    auto t = db->job((*c)[0].job.id);
    EXPECT_EQ(t->next_attempt_at, 0);
    EXPECT_EQ(t->attempts, 0);  // a user's retry counts attempts from zero again
    EXPECT_EQ(db->job((*c)[1].job.id)->attempts, 0);
    auto due = db->claim_due("nas", 10, 1002);
    ASSERT_TRUE(due);
    EXPECT_EQ(due->size(), 3u);
}

TEST_F(LedgerStore, MakeDueWakesOnlyFutureTransientJobsOfThatSink)
{
    arrive("A.JPG", 1, {"nas", "cloud"});
    auto n = db->claim_due("nas", 1, 1000);
    auto cl = db->claim_due("cloud", 1, 1000);
    ASSERT_TRUE(n && cl);
    ASSERT_FALSE(db->mark_failed((*n)[0].job.id, true, "x", 9000, 1000));
    ASSERT_FALSE(db->mark_failed((*cl)[0].job.id, true, "x", 9000, 1000));
    auto woken = db->make_due("nas", 1100);
    ASSERT_TRUE(woken);
    EXPECT_EQ(*woken, 1);
    EXPECT_EQ(db->job((*n)[0].job.id)->next_attempt_at, 1100);
    EXPECT_EQ(db->job((*cl)[0].job.id)->next_attempt_at, 9000);
    auto due = db->claim_due("nas", 10, 1100);
    ASSERT_TRUE(due);
    EXPECT_EQ(due->size(), 1u);
    auto again = db->make_due("nas", 1100);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, 0);
}

TEST_F(LedgerStore, NextDueAcrossSinks)
{
    auto none = db->next_due({"nas"});
    ASSERT_TRUE(none);
    EXPECT_EQ(*none, 0);
    arrive("A.JPG", 1, {"nas"});
    auto pending = db->next_due({"nas", "cloud"});
    ASSERT_TRUE(pending);
    EXPECT_EQ(*pending, 1) << "pending jobs are due at once";
}

TEST_F(LedgerStore, JobCountsBySinkAndState)
{
    arrive("A.JPG", 1, {"nas", "cloud"});
    arrive("B.JPG", 2, {"nas"});
    auto c = db->claim_due("nas", 1, 1000);
    ASSERT_TRUE(c);
    ASSERT_FALSE(db->mark_delivered((*c)[0].job.id, "r", 1001));
    auto counts = db->job_counts();
    ASSERT_TRUE(counts);
    ASSERT_EQ(counts->size(), 2u);
    EXPECT_EQ((*counts)[0].sink, "cloud");
    EXPECT_EQ((*counts)[0].by_state[static_cast<int>(job_state::pending)], 1);
    EXPECT_EQ((*counts)[1].sink, "nas");
    EXPECT_EQ((*counts)[1].by_state[static_cast<int>(job_state::pending)], 1);
    EXPECT_EQ((*counts)[1].by_state[static_cast<int>(job_state::delivered)], 1);
    EXPECT_EQ((*counts)[1].by_state[static_cast<int>(job_state::running)], 0);
}

TEST_F(LedgerStore, EventsNewestFirstWithLimitAndKind)
{
    ASSERT_FALSE(db->add_event("note", "one", 10));
    ASSERT_FALSE(db->add_event("camera", "two", 11, camera));
    ASSERT_FALSE(db->add_event("note", "three", 12));
    auto all = db->recent_events(10);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ((*all)[0].message, "three");
    EXPECT_EQ((*all)[2].message, "one");
    EXPECT_EQ((*all)[1].camera_id, camera);
    EXPECT_EQ((*all)[0].camera_id, 0);
    EXPECT_EQ((*all)[0].at, 12);
    auto limited = db->recent_events(2);
    ASSERT_TRUE(limited);
    EXPECT_EQ(limited->size(), 2u);
    auto notes = db->recent_events(10, "note");
    ASSERT_TRUE(notes);
    ASSERT_EQ(notes->size(), 2u);
    for (auto const& e : *notes)
        EXPECT_EQ(e.kind, "note");
}

TEST_F(LedgerStore, MarkSpoolRemoved)
{
    auto asset = arrive("A.JPG", 1);
    ASSERT_FALSE(db->mark_spool_removed(asset));
    db.reset();
    EXPECT_EQ(pragma_int(db_path, ("SELECT spool_state = 'removed' FROM assets WHERE id=" +
                                   std::to_string(asset))
                                      .c_str()),
              1);
}

TEST_F(LedgerStore, DeliveredButSpooledFindsWhatACrashLeftBehind)
{
    auto done = arrive("DONE.JPG", 1, {"nas", "cloud"});
    auto half = arrive("HALF.JPG", 2, {"nas", "cloud"});
    auto cleaned = arrive("CLEANED.JPG", 3, {"nas"});
    auto unrouted = arrive("NOJOBS.JPG", 4, {});
    for (auto const& sink : {"nas", "cloud"})
    {
        auto c = db->claim_due(sink, 10, 1000);
        ASSERT_TRUE(c);
        for (auto const& j : *c)
        {
            if (j.asset.id != half || std::string(sink) == "nas")
            {
                ASSERT_FALSE(db->mark_delivered(j.job.id, "ok", 1001));
            }
        }
    }
    ASSERT_FALSE(db->mark_spool_removed(cleaned));
    auto left = db->delivered_but_spooled();
    ASSERT_TRUE(left);
    ASSERT_EQ(left->size(), 1u);  // not HALF (cloud running), not CLEANED, not an asset with no job
    EXPECT_EQ(left->front().first, done);
    EXPECT_EQ(left->front().second, "/spool/DONE.JPG");
    (void)unrouted;
}

} // namespace

// ---- pushed messages (Samsung e-mails and social batches)

TEST_F(LedgerStore, MessageQueuesOneJobPerPartAndSinkAndCarriesItsWords)
{
    auto a = arrive("SAM_1.JPG", 30, {});
    auto b = arrive("SAM_2.JPG", 10, {});
    message_info m;
    m.kind = "email";
    m.sender = "My Cam <cam@example.org>";
    m.subject = "Holiday";
    m.body = "Look!";
    m.text = "Look!";
    m.user_folder = "ypH9rgUTwVTBcEwItMuV";
    m.recipients = {{"mail", "a@example.org"}, {"masto", "m@example.org"},
                    {"mail", "b@example.org"}};
    std::vector<ledger::message_part_record> parts{{a, "first"}, {b, "second"}};
    auto id = db->record_message(camera, m, parts, {"mail", "masto"}, 1000);
    ASSERT_TRUE(id) << id.error().message();
    EXPECT_EQ(count_in(job_state::pending), 4);

    // A message-delivering sink gets the whole message, in message order (not capture order).
    auto claimed = db->claim_due("mail", 1, 1000, 0, true);
    ASSERT_TRUE(claimed);
    ASSERT_EQ(claimed->size(), 2u);
    EXPECT_EQ((*claimed)[0].asset.id, a);
    EXPECT_EQ((*claimed)[1].asset.id, b);
    EXPECT_EQ((*claimed)[0].asset.message_part, 0);
    EXPECT_EQ((*claimed)[1].asset.alt_text, "second");
    auto const& info = (*claimed)[0].asset.message;
    ASSERT_TRUE(info);
    EXPECT_EQ(info->id, *id);
    EXPECT_EQ(info->sender, "My Cam <cam@example.org>");
    EXPECT_EQ(info->subject, "Holiday");
    EXPECT_EQ(info->user_folder, "ypH9rgUTwVTBcEwItMuV");
    EXPECT_EQ(info->parts, 2);
    EXPECT_EQ(info->recipients_for("mail"),
              (std::vector<std::string>{"a@example.org", "b@example.org"}));
    EXPECT_EQ((*claimed)[1].asset.message.get(), info.get()); // loaded once per claim

    // Without whole_messages a claim takes jobs one by one, still with the message attached.
    auto single = db->claim_due("masto", 1, 1000);
    ASSERT_TRUE(single);
    ASSERT_EQ(single->size(), 1u);
    EXPECT_EQ((*single)[0].asset.id, b); // oldest capture first
    ASSERT_TRUE((*single)[0].asset.message);
    EXPECT_EQ((*single)[0].asset.message->recipients_for("masto"),
              std::vector<std::string>{"m@example.org"});
}

TEST_F(LedgerStore, MessageJobsStayTogetherAcrossRetries)
{
    auto a = arrive("SAM_1.JPG", 10, {});
    auto b = arrive("SAM_2.JPG", 20, {});
    auto loose = arrive("IMG_9.JPG", 30, {"mail"});
    message_info m;
    m.kind = "email";
    m.recipients = {{"mail", "a@example.org"}};
    std::vector<ledger::message_part_record> parts{{a, ""}, {b, ""}};
    ASSERT_TRUE(db->record_message(camera, m, parts, {"mail"}, 1000));
    auto first = db->claim_due("mail", 10, 1000, 0, true);
    ASSERT_TRUE(first);
    ASSERT_EQ(first->size(), 2u); // the message only: no loose photo mixed into its e-mail
    // Different backoffs for the two parts: the earlier one due pulls the other along.
    ASSERT_FALSE(db->mark_failed((*first)[0].job.id, true, "later", 1100, 1000));
    ASSERT_FALSE(db->mark_failed((*first)[1].job.id, true, "later", 5000, 1000));
    auto again = db->claim_due("mail", 10, 1200, 0, true);
    ASSERT_TRUE(again);
    // The loose photo (capture 30) is not older than the message's first part (capture 10).
    ASSERT_EQ(again->size(), 2u);
    EXPECT_TRUE((*again)[0].asset.message);
    auto rest = db->claim_due("mail", 10, 1200, 0, true);
    ASSERT_TRUE(rest);
    ASSERT_EQ(rest->size(), 1u);
    EXPECT_EQ((*rest)[0].asset.id, loose);
    EXPECT_FALSE((*rest)[0].asset.message);
}

TEST_F(LedgerStore, MessageRefusesForeignOrTakenAssetsAllOrNothing)
{
    auto a = arrive("SAM_1.JPG", 10, {});
    message_info m;
    m.kind = "social";
    m.recipients = {{"store", ""}};
    std::vector<ledger::message_part_record> parts{{a, ""}};
    ASSERT_TRUE(db->record_message(camera, m, parts, {"store"}, 1000));
    // The same asset cannot be in two messages; nothing of the second is kept.
    std::vector<ledger::message_part_record> again{{a, ""}};
    EXPECT_FALSE(db->record_message(camera, m, again, {"other"}, 1000));
    std::vector<ledger::message_part_record> unknown{{a + 100, ""}};
    EXPECT_FALSE(db->record_message(camera, m, unknown, {"store"}, 1000));
    EXPECT_EQ(count_in(job_state::pending), 1);
    EXPECT_EQ(pragma_int(db_path, "SELECT COUNT(*) FROM messages"), 1);
}

namespace
{

TEST_F(LedgerStore, MigrationThreeKeepsTheObjectsOfAnOlderLedger)
{
    // A ledger of schema 2 with one object: after the upgrade it is still known (variant 0).
    auto old_path = (dir / "v2.db").string();
    {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(old_path.c_str(), &raw), SQLITE_OK);
        for (std::size_t i = 0; i < 2; ++i)
        {
            std::string sql(ledger::migrations()[i]);
            ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
                << sqlite3_errmsg(raw);
        }
        ASSERT_EQ(sqlite3_exec(raw,
                               "PRAGMA user_version=2;"
                               "INSERT INTO cameras VALUES(1,'usb:x','usb','X','','','','',1,1);"
                               "INSERT INTO assets(id, camera_id, seq, source_kind, folder, name, "
                               "size, sha256, capture_time, spool_path, arrived_at) VALUES(1, 1, "
                               "1, 'usb', '/D', 'A.JPG', 5, 'h', 1, '', 1);"
                               "INSERT INTO objects VALUES(1, 1, '/D', 'A.JPG', 5, 9, 1, 1);",
                               nullptr, nullptr, nullptr),
                  SQLITE_OK)
            << sqlite3_errmsg(raw);
        sqlite3_close(raw);
    }
    // Before the upgrade, a read-only status sees no problems table and says so by an empty list.
    {
        auto ro = ledger::store::open_read_only(old_path);
        ASSERT_TRUE(ro);
        auto p = (*ro)->problems(0, 10);
        ASSERT_TRUE(p);
        EXPECT_TRUE(p->empty());
    }
    auto s = ledger::store::open(old_path);
    ASSERT_TRUE(s) << s.error().message();
    auto known = (*s)->is_known(1, {"/D", "A.JPG", 5, 9});
    ASSERT_TRUE(known);
    EXPECT_TRUE(*known);
    EXPECT_EQ(pragma_int(old_path, "PRAGMA user_version"),
              static_cast<std::int64_t>(ledger::migrations().size()));
    auto ok = (*s)->integrity_check();
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, "ok");
}

TEST_F(LedgerStore, SameKeyVariantsAreTheirOwnAssets)
{
    ledger::object_key key{"/DCIM", "IMG_1.JPG", 100, 5};
    asset_info a;
    a.sha256 = "first";
    a.size = 100;
    a.name = "IMG_1.JPG";
    asset_info b = a;
    b.sha256 = "second";
    auto first = db->record_arrival(camera, key, a, {"nas"}, 1000);
    auto again = db->record_arrival(camera, key, b, {"nas"}, 1000);  // variant 0: idempotent
    auto second = db->record_arrival(camera, key, b, {"nas"}, 1000, 1);
    ASSERT_TRUE(first && again && second);
    EXPECT_EQ(*first, *again);
    EXPECT_NE(*first, *second);
    auto all = db->assets_of(camera, key);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].second, "first");
    EXPECT_EQ((*all)[1].second, "second");
    EXPECT_EQ(count_in(job_state::pending), 2);
    auto objects = db->object_count(camera);
    ASSERT_TRUE(objects);
    EXPECT_EQ(*objects, 2);
}

TEST_F(LedgerStore, ObjectProblemsAreOneRowPerObjectAndBounded)
{
    EXPECT_FALSE(db->note_problem(camera, "/DCIM/A.JPG", "unreadable", "short", false, 10));
    EXPECT_FALSE(db->note_problem(camera, "/DCIM/A.JPG", "not-fetched", "timeout: slow", true, 20));
    auto p = db->problems(camera, 10);
    ASSERT_TRUE(p);
    ASSERT_EQ(p->size(), 1u);
    EXPECT_EQ((*p)[0].kind, "not-fetched");
    EXPECT_EQ((*p)[0].reason, "timeout: slow");
    EXPECT_TRUE((*p)[0].timeout);
    EXPECT_EQ((*p)[0].first_seen, 10);
    EXPECT_EQ((*p)[0].last_seen, 20);
    EXPECT_EQ((*p)[0].attempts, 2);
    EXPECT_EQ(*db->problem_count(camera, "not-fetched"), 1);
    EXPECT_EQ(*db->problem_count(camera, "unreadable"), 0);
    EXPECT_FALSE(db->note_problem(camera, "#7", "unreadable", "no name", false, 30));
    EXPECT_FALSE(db->clear_handle_problems(camera));
    EXPECT_EQ(*db->problem_count(camera), 1);
    EXPECT_TRUE(*db->clear_problem(camera, "/DCIM/A.JPG"));
    EXPECT_FALSE(*db->clear_problem(camera, "/DCIM/A.JPG"));
    for (std::int64_t i = 0; i < ledger::store::max_problems_per_camera + 50; ++i)
        EXPECT_FALSE(db->note_problem(camera, "/X/" + std::to_string(i), "unreadable", "r", false, 1));
    EXPECT_EQ(*db->problem_count(camera), ledger::store::max_problems_per_camera);
}

} // namespace
