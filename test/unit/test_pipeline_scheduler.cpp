// The delivery scheduler over a temporary ledger, with fake sinks registered directly:
// outcomes reach the ledger, retries back off, limits hold, stop() cancels.
#include "delivery/error.hpp"
#include "pipeline/ingester.hpp"
#include "pipeline/scheduler.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace
{

using namespace camrelay;
using ledger::job_state;
using namespace std::chrono_literals;

// What a fake sink does and what it saw; shared between the test and the sink(s).
struct fake_state
{
    std::function<delivery::outcome(delivery::request const&)> behave =
        [](delivery::request const& r) { return delivery::outcome::ok("fake:" + r.asset.name); };
    std::atomic<int> calls{0};
    std::atomic<int> current{0};
    std::atomic<int> max_seen{0};
    std::atomic<bool> entered{false};
};

class fake_sink final : public delivery::sink
{
  public:
    explicit fake_sink(std::shared_ptr<fake_state> st) : st_(std::move(st)) {}
    delivery::outcome deliver(delivery::request const& req) override
    {
        int now = ++st_->current;
        int seen = st_->max_seen.load();
        while (now > seen && !st_->max_seen.compare_exchange_weak(seen, now))
        {
        }
        ++st_->calls;
        st_->entered = true;
        struct leave
        {
            std::atomic<int>& c;
            ~leave() { --c; }
        } guard{st_->current};
        return st_->behave(req);
    }

  private:
    std::shared_ptr<fake_state> st_;
};

pipeline::sink_instance fake(std::string name, std::shared_ptr<fake_state> st,
                             std::int64_t concurrency = 1, std::int64_t max_attempts = 0,
                             std::int64_t retry_min = 100)
{
    config::sink_settings s;
    s.name = std::move(name);
    s.type = "fake";
    s.concurrency = concurrency;
    s.max_attempts = max_attempts;
    s.retry_min = retry_min;
    s.retry_max = 3600;
    return {std::move(s), std::make_unique<fake_sink>(std::move(st))};
}

class PipelineScheduler : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        auto s = ledger::store::open((dir / "camrelay.db").string());
        ASSERT_TRUE(s) << s.error().message();
        db = std::move(*s);
        ledger::camera_record cam;
        cam.identity = "usb:Test:Cam:1";
        cam.source_kind = "usb";
        cam.name = "Cam";
        auto id = db->upsert_camera(cam, pipeline::now_seconds());
        ASSERT_TRUE(id);
        camera = *id;
    }

    // Records `count` assets with spooled files, each with a job for every sink in `sinks`.
    std::vector<asset_info> arrive(int count, std::vector<std::string> const& sinks)
    {
        std::vector<asset_info> out;
        for (int i = 0; i < count; ++i)
        {
            asset_info a;
            a.name = "IMG_" + std::to_string(next++) + ".JPG";
            a.folder = "/DCIM";
            a.size = 3;
            a.sha256 = "h";
            a.source_kind = "usb";
            a.capture_time = next;
            a.spool_path = (dir / ("spool/" + a.name)).string();
            test::write_file(a.spool_path, "abc");
            ledger::object_key key{a.folder, a.name, a.size, a.capture_time};
            auto id = db->record_arrival(camera, key, a, sinks, pipeline::now_seconds());
            EXPECT_TRUE(id);
            out.push_back(a);
        }
        return out;
    }

    std::vector<ledger::job_record> jobs(job_state s)
    {
        auto j = db->jobs_in_state(s, 10000);
        EXPECT_TRUE(j);
        return j ? *j : std::vector<ledger::job_record>{};
    }

    void run_once(pipeline::scheduler& sched)
    {
        sched.ingest_finished();
        sched.run_once();
    }

    test::temp_dir dir;
    std::unique_ptr<ledger::store> db;
    std::int64_t camera = 0;
    int next = 1;
};

TEST(PipelineSchedulerBackoff, GrowsDoublesAndCaps)
{
    using pipeline::scheduler;
    EXPECT_EQ(scheduler::backoff(1, 10, 3600, 1.0), 10);
    EXPECT_EQ(scheduler::backoff(2, 10, 3600, 1.0), 20);
    EXPECT_EQ(scheduler::backoff(3, 10, 3600, 1.0), 40);
    EXPECT_EQ(scheduler::backoff(9, 10, 3600, 1.0), 2560);
    EXPECT_EQ(scheduler::backoff(10, 10, 3600, 1.0), 3600);
    EXPECT_EQ(scheduler::backoff(1000000, 10, 3600, 1.0), 3600) << "no overflow";
    EXPECT_EQ(scheduler::backoff(0, 10, 3600, 1.0), 10);
}

TEST(PipelineSchedulerBackoff, JitterScalesBetweenHalfAndFull)
{
    using pipeline::scheduler;
    EXPECT_EQ(scheduler::backoff(1, 10, 3600, 0.5), 5);
    EXPECT_EQ(scheduler::backoff(3, 10, 3600, 0.75), 30);
    EXPECT_EQ(scheduler::backoff(20, 10, 3600, 0.5), 1800);
    for (double j = 0.5; j <= 1.0; j += 0.05)
    {
        for (std::int64_t attempt = 1; attempt < 20; ++attempt)
        {
            auto full = scheduler::backoff(attempt, 7, 1000, 1.0);
            auto v = scheduler::backoff(attempt, 7, 1000, j);
            EXPECT_LE(v, full);
            EXPECT_GE(v, full / 2);
            EXPECT_LE(v, 1000);
        }
    }
    EXPECT_EQ(scheduler::backoff(1, 1, 1, 0.5), 1) << "never less than a second";
}

// A sink that takes up to 3 jobs per call (an e-mail digest) and fails the job named
// IMG_3.JPG transiently, to show each job of a batch gets its own outcome.
class batching_sink final : public delivery::sink
{
  public:
    explicit batching_sink(std::vector<std::size_t>& sizes) : sizes_(sizes) {}
    delivery::outcome deliver(delivery::request const&) override
    {
        ADD_FAILURE() << "a batching sink must be called through deliver_batch";
        return delivery::outcome::ok("single");
    }
    std::size_t batch_limit() const override { return 3; }
    std::vector<delivery::outcome> deliver_batch(std::span<delivery::request const> reqs) override
    {
        sizes_.push_back(reqs.size());
        std::vector<delivery::outcome> out;
        for (auto const& r : reqs)
            out.push_back(r.asset.name == "IMG_3.JPG"
                              ? delivery::outcome::fail(
                                    make_error_code(delivery::errc::destination_unavailable), "busy")
                              : delivery::outcome::ok("batch of " + std::to_string(reqs.size())));
        return out;
    }

  private:
    std::vector<std::size_t>& sizes_;
};

TEST_F(PipelineScheduler, BatchingSinkGetsJobsInBatchesWithOneOutcomeEach)
{
    arrive(7, {"mail"});  // IMG_1 .. IMG_7
    std::vector<std::size_t> sizes;
    config::sink_settings settings;
    settings.name = "mail";
    settings.type = "fake";
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back({settings, std::make_unique<batching_sink>(sizes)});
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    run_once(sched);
    ASSERT_FALSE(sizes.empty());
    std::size_t total = 0;
    for (auto n : sizes)
    {
        EXPECT_LE(n, 3u);
        total += n;
    }
    EXPECT_EQ(total, 7u);
    EXPECT_EQ(sizes.front(), 3u);  // all 7 were due: the first call is a full batch
    EXPECT_EQ(jobs(job_state::delivered).size(), 6u);
    auto retrying = jobs(job_state::failed_transient);
    ASSERT_EQ(retrying.size(), 1u);
    EXPECT_EQ(retrying.front().last_error, "busy");
}

TEST_F(PipelineScheduler, SuccessesAreDeliveredAndTheSpoolIsCleared)
{
    auto st = std::make_shared<fake_state>();
    auto assets = arrive(5, {"a"});
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st));
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    run_once(sched);
    EXPECT_EQ(st->calls, 5);
    auto done = jobs(job_state::delivered);
    ASSERT_EQ(done.size(), 5u);
    for (auto const& j : done)
        EXPECT_EQ(j.receipt.rfind("fake:IMG_", 0), 0u) << j.receipt;
    EXPECT_EQ(sched.stats().delivered, 5);
    for (auto const& a : assets)
        EXPECT_FALSE(std::filesystem::exists(a.spool_path)) << a.spool_path;
}

TEST_F(PipelineScheduler, KeepSpoolKeepsFiles)
{
    auto st = std::make_shared<fake_state>();
    auto assets = arrive(2, {"a"});
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st));
    pipeline::scheduler sched(*db, std::move(sinks), 4, true);
    run_once(sched);
    EXPECT_EQ(jobs(job_state::delivered).size(), 2u);
    for (auto const& a : assets)
        EXPECT_TRUE(std::filesystem::exists(a.spool_path));
}

TEST_F(PipelineScheduler, SpoolStaysUntilEveryDeliveryOfTheAssetIsDone)
{
    auto ok = std::make_shared<fake_state>();
    auto bad = std::make_shared<fake_state>();
    bad->behave = [](delivery::request const&)
    { return delivery::outcome::fail(make_error_code(delivery::errc::bad_destination), "nope"); };
    auto assets = arrive(1, {"ok", "bad"});
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("ok", ok));
    sinks.push_back(fake("bad", bad));
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    run_once(sched);
    EXPECT_EQ(jobs(job_state::delivered).size(), 1u);
    auto failed = jobs(job_state::failed_permanent);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].sink, "bad");
    EXPECT_EQ(failed[0].last_error, "nope");
    EXPECT_TRUE(std::filesystem::exists(assets[0].spool_path));
    EXPECT_EQ(sched.stats().failed_permanent, 1);
}

TEST_F(PipelineScheduler, TransientFailureWaitsAndIsNotRetriedInTheSameRun)
{
    auto st = std::make_shared<fake_state>();
    st->behave = [](delivery::request const&)
    { return delivery::outcome::fail(make_error_code(delivery::errc::no_space), "disk full"); };
    arrive(3, {"a"});
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st, 1, 0, 100));
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    auto before = pipeline::now_seconds();
    run_once(sched);
    auto after = pipeline::now_seconds();
    EXPECT_EQ(st->calls, 3) << "each job exactly once";
    auto failed = jobs(job_state::failed_transient);
    ASSERT_EQ(failed.size(), 3u);
    for (auto const& j : failed)
    {
        EXPECT_EQ(j.attempts, 1);
        EXPECT_EQ(j.last_error, "disk full");
        // First retry: retry_min (100 s) scaled by a jitter in [0.5, 1].
        EXPECT_GE(j.next_attempt_at, before + 50);
        EXPECT_LE(j.next_attempt_at, after + 100);
    }
    EXPECT_EQ(sched.stats().failed_transient, 3);
}

TEST_F(PipelineScheduler, TransientFailureWaitsForTheSinksRetryNotBeforeHint)
{
    auto st = std::make_shared<fake_state>();
    auto hint = pipeline::now_seconds() + 1000;
    st->behave = [hint](delivery::request const& r)
    {
        auto out = delivery::outcome::fail(
            make_error_code(delivery::errc::destination_unavailable), "rate limited");
        // The first job says when to come back; a hint before the backoff changes nothing; an
        // absurd one is capped at a day.
        out.retry_not_before = r.asset.name == "IMG_1.JPG"   ? hint
                               : r.asset.name == "IMG_2.JPG" ? 1
                                                             : hint + 10 * 24 * 3600;
        return out;
    };
    arrive(3, {"a"});
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st, 1, 0, 10));
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    auto before = pipeline::now_seconds();
    run_once(sched);
    auto after = pipeline::now_seconds();
    auto failed = jobs(job_state::failed_transient);
    ASSERT_EQ(failed.size(), 3u);
    std::map<std::int64_t, std::int64_t> next_by_asset;
    for (auto const& j : failed)
        next_by_asset[j.asset_id] = j.next_attempt_at;
    auto it = next_by_asset.begin();
    EXPECT_EQ(it->second, hint) << "the hint wins over the 10 s backoff";
    ++it;
    EXPECT_GE(it->second, before + 5) << "a past hint leaves the backoff alone";
    EXPECT_LE(it->second, after + 10);
    ++it;
    EXPECT_GE(it->second, before + 24 * 3600) << "capped at a day";
    EXPECT_LE(it->second, after + 24 * 3600);
}

TEST_F(PipelineScheduler, MaxAttemptsTurnsTransientIntoPermanent)
{
    auto st = std::make_shared<fake_state>();
    st->behave = [](delivery::request const&)
    { return delivery::outcome::fail(make_error_code(delivery::errc::timed_out), "slow"); };
    arrive(1, {"a"});
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st, 1, 2));
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    run_once(sched);
    ASSERT_EQ(jobs(job_state::failed_transient).size(), 1u);

    ASSERT_TRUE(db->make_due("a", 0)); // the retry time has come
    run_once(sched);
    EXPECT_EQ(st->calls, 2);
    auto failed = jobs(job_state::failed_permanent);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].attempts, 2);
    EXPECT_TRUE(jobs(job_state::failed_transient).empty());
}

TEST_F(PipelineScheduler, MaxAttemptsOfOneGivesUpAtOnce)
{
    auto st = std::make_shared<fake_state>();
    st->behave = [](delivery::request const&)
    {
        return delivery::outcome::fail(make_error_code(delivery::errc::destination_unavailable),
                                       "down");
    };
    arrive(1, {"a"});
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st, 1, 1));
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    run_once(sched);
    EXPECT_EQ(jobs(job_state::failed_permanent).size(), 1u);
}

TEST_F(PipelineScheduler, ThrowingSinkIsATransientFailure)
{
    auto st = std::make_shared<fake_state>();
    st->behave = [](delivery::request const&) -> delivery::outcome
    { throw std::runtime_error("kaboom"); };
    arrive(1, {"a"});
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st));
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    run_once(sched);
    auto failed = jobs(job_state::failed_transient);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_NE(failed[0].last_error.find("kaboom"), std::string::npos);
}

TEST_F(PipelineScheduler, PerSinkConcurrencyIsNeverExceeded)
{
    auto st = std::make_shared<fake_state>();
    st->behave = [](delivery::request const& r)
    {
        std::this_thread::sleep_for(30ms);
        return delivery::outcome::ok(r.asset.name);
    };
    arrive(10, {"a"});
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st, 2));
    pipeline::scheduler sched(*db, std::move(sinks), 8, false);
    run_once(sched);
    EXPECT_EQ(st->calls, 10);
    EXPECT_EQ(jobs(job_state::delivered).size(), 10u);
    EXPECT_LE(st->max_seen, 2);
    EXPECT_EQ(st->max_seen, 2) << "two deliveries should have overlapped";
}

TEST_F(PipelineScheduler, WorkersLimitHoldsAcrossSinks)
{
    auto st = std::make_shared<fake_state>(); // shared: counts both sinks together
    st->behave = [](delivery::request const& r)
    {
        std::this_thread::sleep_for(30ms);
        return delivery::outcome::ok(r.asset.name);
    };
    arrive(8, {"a", "b"});
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st, 4));
    sinks.push_back(fake("b", st, 4));
    pipeline::scheduler sched(*db, std::move(sinks), 3, false);
    run_once(sched);
    EXPECT_EQ(st->calls, 16);
    EXPECT_EQ(jobs(job_state::delivered).size(), 16u);
    EXPECT_LE(st->max_seen, 3);
    EXPECT_GE(st->max_seen, 2);
}

TEST_F(PipelineScheduler, RunOnceRequeuesJobsLeftRunningByACrash)
{
    auto st = std::make_shared<fake_state>();
    arrive(2, {"a"});
    auto claimed = db->claim_due("a", 2, pipeline::now_seconds());
    ASSERT_TRUE(claimed);
    ASSERT_EQ(claimed->size(), 2u); // "crashed" while these were running
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st));
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    run_once(sched);
    EXPECT_EQ(jobs(job_state::delivered).size(), 2u);
    EXPECT_TRUE(jobs(job_state::running).empty());
}

TEST_F(PipelineScheduler, DaemonModeDeliversNewJobsOnNotify)
{
    auto st = std::make_shared<fake_state>();
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st));
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    sched.start();
    arrive(2, {"a"});
    sched.notify();
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (jobs(job_state::delivered).size() < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    sched.stop(0s);
    EXPECT_EQ(jobs(job_state::delivered).size(), 2u);
}

TEST_F(PipelineScheduler, StopWithoutGraceCancelsAndRequeuesWithoutCountingTheAttempt)
{
    auto st = std::make_shared<fake_state>();
    st->behave = [](delivery::request const& r)
    {
        auto deadline = std::chrono::steady_clock::now() + 20s;
        while (!r.stop.stop_requested() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(5ms);
        if (r.stop.stop_requested())
            return delivery::outcome::fail(make_error_code(delivery::errc::cancelled), "stopped");
        return delivery::outcome::ok("never cancelled");
    };
    arrive(1, {"a"});
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st));
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    sched.start();
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!st->entered && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    ASSERT_TRUE(st->entered);
    ASSERT_EQ(jobs(job_state::running).size(), 1u);

    auto start = std::chrono::steady_clock::now();
    sched.stop(0s);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    auto pending = jobs(job_state::pending);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].attempts, 0);
    EXPECT_EQ(sched.stats().interrupted, 1);
    EXPECT_EQ(sched.stats().delivered, 0);
}

TEST_F(PipelineScheduler, StopWithGraceLetsARunningDeliveryFinish)
{
    auto st = std::make_shared<fake_state>();
    st->behave = [](delivery::request const& r)
    {
        std::this_thread::sleep_for(300ms);
        if (r.stop.stop_requested())
            return delivery::outcome::fail(make_error_code(delivery::errc::cancelled), "stopped");
        return delivery::outcome::ok("finished");
    };
    arrive(1, {"a"});
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back(fake("a", st));
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    sched.start();
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!st->entered && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    ASSERT_TRUE(st->entered);
    sched.stop(10s);
    EXPECT_EQ(jobs(job_state::delivered).size(), 1u);
    EXPECT_EQ(sched.stats().interrupted, 0);
}

TEST_F(PipelineScheduler, WakeMakesFailedJobsOfTheTriggeredSinkDue)
{
    auto st = std::make_shared<fake_state>();
    arrive(1, {"a", "b"});
    std::vector<pipeline::sink_instance> sinks;
    auto a = fake("a", st);
    a.settings.wake_on = "network-up";
    sinks.push_back(std::move(a));
    sinks.push_back(fake("b", st));
    auto now = pipeline::now_seconds();
    for (auto const& sink : {std::string("a"), std::string("b")})
    {
        auto c = db->claim_due(sink, 1, now);
        ASSERT_TRUE(c);
        ASSERT_EQ(c->size(), 1u);
        ASSERT_FALSE(db->mark_failed((*c)[0].job.id, true, "x", now + 5000, now));
    }
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    sched.wake("network-up");
    auto failed = jobs(job_state::failed_transient);
    ASSERT_EQ(failed.size(), 2u);
    for (auto const& j : failed)
    {
        if (j.sink == "a")
            EXPECT_LE(j.next_attempt_at, pipeline::now_seconds());
        else
            EXPECT_EQ(j.next_attempt_at, now + 5000);
    }
}

} // namespace
