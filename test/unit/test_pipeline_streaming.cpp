// Streaming mode (spool = "none"): camera -> bounded buffer -> sink, recorded only once every
// sink confirmed; nothing touches the spool.
#include "core/sha256.hpp"
#include "delivery/error.hpp"
#include "pipeline/ingester.hpp"
#include "pipeline/scheduler.hpp"
#include "pipeline/stream_buffer.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace
{

using namespace camrelay;
using ledger::job_state;
using namespace std::chrono_literals;

/// Reads everything (slowly when asked), keeps it, and remembers the sha the reader reported.
class fake_stream_sink final : public delivery::sink
{
  public:
    delivery::outcome deliver(delivery::request const&) override
    {
        return delivery::outcome::fail(make_error_code(delivery::errc::source_missing),
                                       "only streams");
    }
    bool can_stream() const override { return true; }
    delivery::outcome deliver_stream(delivery::request const& req,
                                     delivery::content_reader& in) override
    {
        ++calls;
        std::string got;
        std::vector<std::byte> buf(100 * 1024);
        for (;;)
        {
            if (slow)
                std::this_thread::sleep_for(2ms);
            auto n = in.read(buf);
            if (!n)
                return delivery::outcome::fail(req.stop.stop_requested()
                                                   ? make_error_code(delivery::errc::cancelled)
                                                   : make_error_code(delivery::errc::source_missing),
                                               n.error().message());
            if (*n == 0)
                break;
            got.append(reinterpret_cast<char const*>(buf.data()), *n);
        }
        if (fail)
            return delivery::outcome::fail(
                make_error_code(delivery::errc::destination_unavailable), "remote full");
        content = got;
        sha = in.sha256_hex();
        return delivery::outcome::ok("fake:/" + req.asset.name);
    }
    std::atomic<int> calls{0};
    std::atomic<bool> slow{false};
    std::atomic<bool> fail{false};
    std::string content;
    std::string sha;
};

class PipelineStreaming : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        auto s = ledger::store::open((dir / "camrelay.db").string());
        ASSERT_TRUE(s) << s.error().message();
        db = std::move(*s);
        config::route_settings r;
        r.to = {"phone"};
        routes = std::make_unique<pipeline::router>(std::vector<config::route_settings>{r});
        config::sink_settings ss;
        ss.name = "phone";
        ss.type = "fake";
        ss.device = "pixel";
        auto owned = std::make_unique<fake_stream_sink>();
        sink = owned.get();
        std::vector<pipeline::sink_instance> sinks;
        sinks.push_back({ss, std::move(owned)});
        sched = std::make_unique<pipeline::scheduler>(*db, std::move(sinks), 4, false);
        ing = std::make_unique<pipeline::ingester>(*db, *routes, dir / "spool", nullptr);
        ing->set_streaming([this](std::string const& name) { return sched->lease_stream(name); },
                           capacity);
        cam.identity = "usb:Test:Cam:1";
        cam.source_kind = "usb";
        cam.name = "Cam";
        camera = *ing->camera_connected(cam);
        for (std::size_t i = 0; i < 3 * 1024 * 1024 + 17; ++i)
            data.push_back(static_cast<char>((i * 7919) % 251));
        obj = {"/DCIM", "IMG_1.JPG", data.size(), 1000, "image/jpeg"};
    }

    /// A camera that pushes `data` in 64 KiB chunks; fails after `fail_at` bytes if set.
    ingest::fetch_fn camera_read(std::size_t fail_at = 0, std::atomic<std::size_t>* sent = nullptr)
    {
        return [this, fail_at, sent](std::uint64_t offset,
                                     ingest::chunk_sink const& out) -> std::error_code {
            for (std::size_t at = offset; at < data.size();)
            {
                if (fail_at && at >= fail_at)
                    return std::make_error_code(std::errc::io_error);
                auto n = std::min<std::size_t>(64 * 1024, data.size() - at);
                if (auto ec = out(std::as_bytes(std::span(data.data() + at, n))))
                    return ec;
                at += n;
                if (sent)
                    *sent = at;
            }
            return {};
        };
    }

    std::size_t count(job_state s)
    {
        auto j = db->jobs_in_state(s, 10000);
        return j ? j->size() : 0;
    }
    bool known()
    {
        auto k = db->is_known(camera, {obj.folder, obj.name, obj.size, obj.mtime});
        return k && *k;
    }
    bool spool_empty()
    {
        std::error_code ec;
        return !std::filesystem::exists(dir / "spool", ec) ||
               std::filesystem::is_empty(dir / "spool", ec);
    }

    static constexpr std::size_t capacity = 256 * 1024;
    test::temp_dir dir;
    std::unique_ptr<ledger::store> db;
    std::unique_ptr<pipeline::router> routes;
    fake_stream_sink* sink = nullptr;
    std::unique_ptr<pipeline::scheduler> sched;
    std::unique_ptr<pipeline::ingester> ing;
    ingest::camera_info cam;
    std::int64_t camera = 0;
    std::string data;
    ingest::object_ref obj;
};

TEST(StreamBuffer, NeverHoldsMoreThanItsCapacity)
{
    pipeline::stream_buffer buf(1000, {});
    std::string in(100000, 'x');
    for (std::size_t i = 0; i < in.size(); ++i)
        in[i] = static_cast<char>(i % 253);
    std::string out;
    std::jthread reader([&] {
        std::vector<std::byte> b(333);
        for (;;)
        {
            auto n = buf.read(b);
            ASSERT_TRUE(n);
            if (*n == 0)
                return;
            out.append(reinterpret_cast<char const*>(b.data()), *n);
        }
    });
    for (std::size_t at = 0; at < in.size(); at += 4096)
        ASSERT_FALSE(buf.write(std::as_bytes(std::span(in.data() + at,
                                                       std::min<std::size_t>(4096, in.size() - at)))));
    buf.finish();
    reader.join();
    EXPECT_EQ(out, in);
    EXPECT_LE(buf.high_water(), 1000u);
    EXPECT_GT(buf.high_water(), 0u);
    EXPECT_EQ(buf.sha256_hex(), sha256::hex_of(in));
}

TEST(StreamBuffer, ProducerErrorAndStopReachTheReader)
{
    pipeline::stream_buffer failed(100, {});
    failed.finish(std::make_error_code(std::errc::io_error));
    std::vector<std::byte> b(10);
    auto n = failed.read(b);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), std::errc::io_error);

    std::stop_source stop;
    pipeline::stream_buffer blocked(100, stop.get_token());
    std::jthread stopper([&] {
        std::this_thread::sleep_for(50ms);
        stop.request_stop();
    });
    std::string big(1000, 'x');
    auto ec = blocked.write(std::as_bytes(std::span(big)));  // blocks when full until the stop
    EXPECT_EQ(ec, std::errc::operation_canceled);
}

TEST_F(PipelineStreaming, DeliversAndRecordsWithoutTheSpool)
{
    sched->device_joined("pixel", "");
    sink->slow = true;  // the camera is faster than the sink: the buffer fills up
    auto r = ing->fetch(camera, cam, obj, camera_read(), false);
    EXPECT_EQ(r.status, ingest::fetch_status::stored) << r.error;
    EXPECT_EQ(sink->content, data);
    EXPECT_EQ(sink->sha, sha256::hex_of(data));
    EXPECT_GT(ing->stream_high_water(), 0u);
    EXPECT_LE(ing->stream_high_water(), capacity);
    EXPECT_TRUE(known());
    EXPECT_EQ(count(job_state::delivered), 1u);
    auto jobs = db->jobs_in_state(job_state::delivered, 10);
    ASSERT_TRUE(jobs && jobs->size() == 1);
    EXPECT_EQ(jobs->front().receipt, "fake:/IMG_1.JPG");
    EXPECT_EQ(jobs->front().sink, "phone");
    EXPECT_EQ(count(job_state::pending), 0u);
    EXPECT_TRUE(spool_empty());
    EXPECT_TRUE(ing->already_have(camera, obj));
}

TEST_F(PipelineStreaming, DeviceAwayDefersQuietly)
{
    auto r = ing->fetch(camera, cam, obj, camera_read(), false);
    EXPECT_EQ(r.status, ingest::fetch_status::deferred);
    EXPECT_EQ(sink->calls.load(), 0);
    EXPECT_EQ(ing->stats().failed.load(), 0);
    EXPECT_EQ(ing->unresolved_failures(), 0u);
    EXPECT_FALSE(known());
    EXPECT_TRUE(spool_empty());
}

TEST_F(PipelineStreaming, CameraFailureRecordsNothing)
{
    sched->device_joined("pixel", "");
    auto r = ing->fetch(camera, cam, obj, camera_read(1024 * 1024), false);
    EXPECT_EQ(r.status, ingest::fetch_status::failed);
    EXPECT_EQ(sink->calls.load(), 1);
    EXPECT_TRUE(sink->content.empty());
    EXPECT_FALSE(known());
    EXPECT_EQ(count(job_state::delivered), 0u);
    EXPECT_EQ(ing->stats().failed.load(), 1);
    EXPECT_FALSE(ing->already_have(camera, obj));
    EXPECT_TRUE(spool_empty());
}

TEST_F(PipelineStreaming, SinkFailureRecordsNothingAndBacksOff)
{
    sched->device_joined("pixel", "");
    sink->fail = true;
    auto r = ing->fetch(camera, cam, obj, camera_read(), false);
    EXPECT_EQ(r.status, ingest::fetch_status::failed);
    EXPECT_FALSE(known());
    // retry_min (10 s) holds the next stream back...
    auto again = ing->fetch(camera, cam, obj, camera_read(), false);
    EXPECT_EQ(again.status, ingest::fetch_status::deferred);
    EXPECT_EQ(sink->calls.load(), 1);
    // ...until the phone joins again.
    sink->fail = false;
    sched->device_left("pixel");
    sched->device_joined("pixel", "");
    auto third = ing->fetch(camera, cam, obj, camera_read(), false);
    EXPECT_EQ(third.status, ingest::fetch_status::stored) << third.error;
    EXPECT_TRUE(known());
}

TEST_F(PipelineStreaming, DeviceLeavingCancelsWithinASecond)
{
    sched->device_joined("pixel", "");
    sink->slow = true;
    std::atomic<std::size_t> sent{0};
    std::jthread leaver([&] {
        while (sent < 512 * 1024)
            std::this_thread::sleep_for(1ms);
        sched->device_left("pixel");
    });
    auto started = std::chrono::steady_clock::now();
    auto r = ing->fetch(camera, cam, obj, camera_read(0, &sent), false);
    leaver.join();
    EXPECT_EQ(r.status, ingest::fetch_status::deferred) << r.error;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_LT(sent.load(), data.size());
    EXPECT_FALSE(known());
    EXPECT_EQ(count(job_state::delivered), 0u);
    EXPECT_EQ(ing->stats().failed.load(), 0);
    EXPECT_TRUE(spool_empty());
    // Back: pulled again, whole.
    sink->slow = false;
    sched->device_joined("pixel", "");
    auto again = ing->fetch(camera, cam, obj, camera_read(), false);
    EXPECT_EQ(again.status, ingest::fetch_status::stored) << again.error;
    EXPECT_EQ(sink->content, data);
    EXPECT_EQ(count(job_state::delivered), 1u);
}

} // namespace
