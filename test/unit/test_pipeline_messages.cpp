// Pushed files and messages through the pipeline: begin_receive streams into the spool,
// queue_message records the message and its deliveries, and a message-delivering sink gets a
// message whole in one deliver_batch() call.
#include "pipeline/ingester.hpp"
#include "pipeline/router.hpp"
#include "pipeline/scheduler.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace
{

using namespace camrelay;
namespace fs_ = std::filesystem;

std::span<const std::byte> bytes_of(std::string const& s)
{
    return std::as_bytes(std::span(s.data(), s.size()));
}

// Records each deliver_batch call: which assets, with which message words.
class message_sink final : public delivery::sink
{
  public:
    delivery::outcome deliver(delivery::request const& r) override
    {
        return deliver_batch(std::span(&r, 1)).front();
    }
    bool delivers_messages() const override { return true; }
    std::vector<delivery::outcome> deliver_batch(std::span<delivery::request const> rs) override
    {
        std::lock_guard lock(mutex);
        std::vector<std::string> names;
        for (auto const& r : rs)
        {
            names.push_back(r.asset.name + "|" + r.asset.alt_text + "|" +
                            (r.asset.message ? r.asset.message->text : "-"));
            EXPECT_TRUE(fs_::exists(r.asset.spool_path)) << r.asset.spool_path;
        }
        calls.push_back(names);
        return std::vector<delivery::outcome>(rs.size(), delivery::outcome::ok("ok"));
    }
    std::mutex mutex;
    std::vector<std::vector<std::string>> calls;
};

class PipelineMessages : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        auto s = ledger::store::open((dir / "camrelay.db").string());
        ASSERT_TRUE(s) << s.error().message();
        db = std::move(*s);
        in = std::make_unique<pipeline::ingester>(*db, routes, dir / "spool", [] {});
        cam.identity = "samsung:123456789033";
        cam.source_kind = "samsung";
        cam.name = "NX300";
        auto id = in->camera_connected(cam);
        ASSERT_TRUE(id);
        camera = *id;
    }

    std::int64_t receive(std::string const& name, std::string const& content)
    {
        ingest::object_ref obj;
        obj.folder = "email-1";
        obj.name = name;
        obj.mime = "image/jpeg";
        auto f = in->begin_receive(camera, cam, obj);
        EXPECT_TRUE(f);
        if (!f)
            return 0;
        // In two pieces, as a socket would hand them over.
        auto half = content.size() / 2;
        EXPECT_FALSE((*f)->write(bytes_of(content.substr(0, half))));
        EXPECT_FALSE((*f)->write(bytes_of(content.substr(half))));
        auto id = (*f)->finish();
        EXPECT_TRUE(id);
        return id ? *id : 0;
    }

    std::size_t spooled_files()
    {
        std::size_t n = 0;
        if (fs_::exists(dir / "spool"))
            for (auto const& e : fs_::recursive_directory_iterator(dir / "spool"))
                n += e.is_regular_file() ? 1 : 0;
        return n;
    }

    test::temp_dir dir;
    std::unique_ptr<ledger::store> db;
    pipeline::router routes{{}};
    std::unique_ptr<pipeline::ingester> in;
    ingest::camera_info cam;
    std::int64_t camera = 0;
};

TEST_F(PipelineMessages, UnfinishedReceiveLeavesNothing)
{
    ingest::object_ref obj;
    obj.folder = "email-2";
    obj.name = "SAM_9.JPG";
    {
        auto f = in->begin_receive(camera, cam, obj);
        ASSERT_TRUE(f);
        EXPECT_FALSE((*f)->write(bytes_of("partial")));
    } // dropped: the upload broke off
    EXPECT_EQ(spooled_files(), 0u);
}

TEST_F(PipelineMessages, MessageIsDeliveredWholeWithItsWords)
{
    auto a = receive("SAM_1.JPG", "first photo bytes");
    auto b = receive("SAM_2.JPG", "second photo bytes");
    EXPECT_EQ(spooled_files(), 2u);
    message_info m;
    m.kind = "social";
    m.text = "Holiday shot!";
    m.recipients = {{"masto", ""}};
    std::vector<ingest::message_part> parts{{a, "fancy flower bed"}, {b, "traffic sign"}};
    ASSERT_TRUE(in->queue_message(camera, m, parts));

    auto sink = std::make_unique<message_sink>();
    auto* seen = sink.get();
    config::sink_settings st;
    st.name = "masto";
    st.type = "fake";
    std::vector<pipeline::sink_instance> sinks;
    sinks.push_back({st, std::move(sink)});
    pipeline::scheduler sched(*db, std::move(sinks), 4, false);
    sched.ingest_finished();
    sched.run_once();
    ASSERT_EQ(seen->calls.size(), 1u);
    EXPECT_EQ(seen->calls[0],
              (std::vector<std::string>{"SAM_1.JPG|fancy flower bed|Holiday shot!",
                                        "SAM_2.JPG|traffic sign|Holiday shot!"}));
    EXPECT_EQ(spooled_files(), 0u); // delivered everywhere: the spool copies went
}

TEST_F(PipelineMessages, MessageForNobodyReleasesTheSpool)
{
    auto a = receive("SAM_1.JPG", "bytes");
    message_info m;
    m.kind = "email";
    std::vector<ingest::message_part> parts{{a, ""}};
    ASSERT_TRUE(in->queue_message(camera, m, parts));
    EXPECT_EQ(spooled_files(), 0u);
}

} // namespace
