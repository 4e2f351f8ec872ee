// Sinks bound to a device (`device = NAME`): jobs wait while it is absent, run at once (oldest
// capture first) when it joins, are cancelled within a second when it leaves (back to pending,
// the attempt not counted), and a {device_ip} sink is rebuilt for the device's address.
#include "delivery/error.hpp"
#include "pipeline/ingester.hpp"
#include "pipeline/scheduler.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace
{

using namespace camrelay;
using ledger::job_state;
using namespace std::chrono_literals;

struct slow_state
{
    std::mutex m;
    std::vector<std::string> order; ///< asset names in delivery order
    std::vector<std::string> where; ///< the address each delivery went to
    std::atomic<bool> slow{false};  ///< block until stopped (a transfer cut by the leave)
    std::atomic<int> running{0};
    std::atomic<bool> transient_on_stop{false}; ///< report a connection error, not cancelled
};

class slow_sink final : public delivery::sink
{
  public:
    slow_sink(std::shared_ptr<slow_state> st, std::string address)
        : st_(std::move(st)), address_(std::move(address))
    {
    }
    delivery::outcome deliver(delivery::request const& req) override
    {
        ++st_->running;
        struct dec
        {
            std::atomic<int>& r;
            ~dec() { --r; }
        } guard{st_->running};
        while (st_->slow && !req.stop.stop_requested())
            std::this_thread::sleep_for(10ms);
        if (req.stop.stop_requested())
        {
            if (st_->transient_on_stop)
                return delivery::outcome::fail(
                    make_error_code(delivery::errc::destination_unavailable), "connection lost");
            return delivery::outcome::fail(make_error_code(delivery::errc::cancelled), "cancelled");
        }
        std::lock_guard lock(st_->m);
        st_->order.push_back(req.asset.name);
        st_->where.push_back(address_);
        return delivery::outcome::ok(address_ + "/" + req.asset.name);
    }

  private:
    std::shared_ptr<slow_state> st_;
    std::string address_;
};

class PipelineDeviceGate : public ::testing::Test
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
        camera = *db->upsert_camera(cam, pipeline::now_seconds());
    }

    // Capture times run backwards from arrival order, so capture order != id order.
    void arrive(int count, std::string const& sink)
    {
        for (int i = 0; i < count; ++i)
        {
            asset_info a;
            a.name = "IMG_" + std::to_string(next) + ".JPG";
            a.folder = "/DCIM";
            a.size = 3;
            a.sha256 = "h";
            a.source_kind = "usb";
            a.capture_time = 1000 - next;
            a.spool_path = (dir / ("spool/" + a.name)).string();
            test::write_file(a.spool_path, "abc");
            ++next;
            ledger::object_key key{a.folder, a.name, a.size, a.capture_time};
            ASSERT_TRUE(db->record_arrival(camera, key, a, {sink}, pipeline::now_seconds()));
        }
    }

    std::size_t count(job_state s)
    {
        auto j = db->jobs_in_state(s, 10000);
        return j ? j->size() : 0;
    }

    std::unique_ptr<pipeline::scheduler> make(std::shared_ptr<slow_state> st,
                                              std::string url = "sftp://phone/x")
    {
        config::sink_settings s;
        s.name = "phone";
        s.type = "fake";
        s.device = "pixel";
        s.retry_min = 100;
        s.options.set("url", url, 1);
        std::vector<pipeline::sink_instance> sinks;
        sinks.push_back({s, std::make_unique<slow_sink>(st, "initial")});
        auto sched = std::make_unique<pipeline::scheduler>(*db, std::move(sinks), 4, true);
        sched->set_sink_factory([st](config::sink_settings const&, std::string const& address)
                                { return std::make_unique<slow_sink>(st, address); });
        return sched;
    }

    template <class F> bool eventually(F f, std::chrono::milliseconds limit = 5s)
    {
        auto until = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < until)
        {
            if (f())
                return true;
            std::this_thread::sleep_for(10ms);
        }
        return f();
    }

    test::temp_dir dir;
    std::unique_ptr<ledger::store> db;
    std::int64_t camera = 0;
    int next = 1;
};

TEST_F(PipelineDeviceGate, WaitsForTheDeviceThenDeliversOldestCaptureFirst)
{
    auto st = std::make_shared<slow_state>();
    auto sched = make(st);
    arrive(4, "phone");
    sched->start();
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(count(job_state::pending), 4u) << "absent device: nothing runs";
    EXPECT_TRUE(st->order.empty());
    sched->device_joined("pixel", "");
    ASSERT_TRUE(eventually([&] { return count(job_state::delivered) == 4; }));
    std::lock_guard lock(st->m);
    EXPECT_EQ(st->order,
              (std::vector<std::string>{"IMG_4.JPG", "IMG_3.JPG", "IMG_2.JPG", "IMG_1.JPG"}));
    EXPECT_EQ(st->where.front(), "initial") << "no {device_ip}: the sink as configured";
}

TEST_F(PipelineDeviceGate, LeavingCancelsWithinASecondAndDoesNotCountTheAttempt)
{
    for (bool transient : {false, true})
    {
        SCOPED_TRACE(transient ? "the sink saw a connection error" : "the sink saw the stop");
        auto st = std::make_shared<slow_state>();
        st->slow = true;
        st->transient_on_stop = transient;
        auto sched = make(st);
        auto const base = count(job_state::delivered);
        arrive(2, "phone");
        sched->start();
        sched->device_joined("pixel", "");
        ASSERT_TRUE(eventually([&] { return st->running == 1; }));
        auto left = std::chrono::steady_clock::now();
        sched->device_left("pixel");
        ASSERT_TRUE(
            eventually([&] { return st->running == 0 && count(job_state::running) == 0; }, 1s));
        EXPECT_LT(std::chrono::steady_clock::now() - left, 1s);
        std::this_thread::sleep_for(200ms);
        EXPECT_EQ(count(job_state::delivered), base);
        EXPECT_EQ(count(job_state::failed_transient), 0u);
        auto pending = db->jobs_in_state(job_state::pending, 100);
        ASSERT_TRUE(pending);
        EXPECT_EQ(pending->size(), 2u);
        for (auto const& j : *pending)
            EXPECT_EQ(j.attempts, 0) << "the cut attempt is not counted";
        EXPECT_EQ(st->running, 0) << "absent again: nothing restarted";
        // Join again: everything goes, once.
        st->slow = false;
        sched->device_joined("pixel", "");
        ASSERT_TRUE(eventually([&] { return count(job_state::delivered) == base + 2; }));
        sched->stop(0s);
        std::lock_guard lock(st->m);
        EXPECT_EQ(st->order.size(), 2u) << "each photo delivered once";
    }
}

TEST_F(PipelineDeviceGate, DeviceAddressRebuildsTheSink)
{
    auto st = std::make_shared<slow_state>();
    auto sched = make(st, "sftp://{device_ip}:2222/DCIM");
    arrive(1, "phone");
    sched->start();
    sched->device_joined("pixel", ""); // present, address unknown: still waiting
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(count(job_state::pending), 1u);
    sched->device_joined("pixel", "192.168.8.20"); // the DHCP event tells the address
    ASSERT_TRUE(eventually([&] { return count(job_state::delivered) == 1; }));
    // The new address first, then the photo: queued before the address changed, the photo
    // could rightly go to the old one.
    sched->device_joined("pixel", "192.168.8.21");
    arrive(1, "phone");
    sched->notify();
    ASSERT_TRUE(eventually([&] { return count(job_state::delivered) == 2; }));
    std::lock_guard lock(st->m);
    EXPECT_EQ(st->where, (std::vector<std::string>{"192.168.8.20", "192.168.8.21"}));
}

TEST_F(PipelineDeviceGate, JoinMakesRetryWaitingJobsDueAtOnce)
{
    auto st = std::make_shared<slow_state>();
    auto sched = make(st);
    arrive(1, "phone");
    auto claimed = db->claim_due("phone", 1, pipeline::now_seconds());
    ASSERT_TRUE(claimed && claimed->size() == 1);
    ASSERT_FALSE(db->mark_failed(claimed->front().job.id, true, "connection refused",
                                 pipeline::now_seconds() + 3600, pipeline::now_seconds()));
    sched->start();
    sched->device_joined("pixel", "");
    ASSERT_TRUE(eventually([&] { return count(job_state::delivered) == 1; }));
}

} // namespace
