// The ingester's accounting against a real ledger and a temporary spool: every listed object is
// counted once by what became of it, open problems are kept in the ledger while they last, and a
// second object with the same folder, name, size and time but other content is kept.
#include "pipeline/import_report.hpp"
#include "pipeline/ingester.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace
{

using namespace camrelay;

class PipelineIngester : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        auto s = ledger::store::open((dir / "camrelay.db").string());
        ASSERT_TRUE(s) << s.error().message();
        db = std::move(*s);
        config::route_settings r;
        r.to = {"archive"};
        routes = std::make_unique<pipeline::router>(std::vector<config::route_settings>{r});
        make_ingester();
    }

    void make_ingester()
    {
        ing = std::make_unique<pipeline::ingester>(*db, *routes, dir / "spool", nullptr);
        cam.identity = "usb:Test:Cam:1";
        cam.source_kind = "usb";
        cam.name = "Cam";
        auto id = ing->camera_connected(cam);
        ASSERT_TRUE(id);
        camera = *id;
    }

    static ingest::fetch_fn serve(std::string content)
    {
        return [content](std::uint64_t offset, ingest::chunk_sink const& out) -> std::error_code
        { return out(std::as_bytes(std::span(content.data() + offset, content.size() - offset))); };
    }
    static ingest::fetch_fn fail_with(std::error_code ec)
    {
        return [ec](std::uint64_t, ingest::chunk_sink const&) { return ec; };
    }

    ingest::fetch_result fetch(ingest::object_ref const& o, ingest::fetch_fn const& read)
    {
        return ing->fetch(camera, cam, o, read, true);
    }

    std::int64_t count(char const* sql_table)
    {
        auto events = db->recent_events(100000, sql_table);
        return events ? static_cast<std::int64_t>(events->size()) : -1;
    }

    std::vector<ledger::object_problem_record> problems()
    {
        auto p = db->problems(camera, 1000);
        return p ? *p : std::vector<ledger::object_problem_record>{};
    }

    test::temp_dir dir;
    std::unique_ptr<ledger::store> db;
    std::unique_ptr<pipeline::router> routes;
    std::unique_ptr<pipeline::ingester> ing;
    ingest::camera_info cam;
    std::int64_t camera = 0;
};

TEST_F(PipelineIngester, SameKeyOtherContentIsKeptAsItsOwnAsset)
{
    // Two cards' IMG_0001.JPG, same size and second, other bytes: both listed, both fetched.
    std::string a(5000, 'a'), b(5000, 'b');
    ingest::object_ref o{"/DCIM/100CANON", "IMG_0001.JPG", 5000, 1700000000, "image/jpeg"};
    EXPECT_FALSE(ing->already_have(camera, o));
    EXPECT_FALSE(ing->already_have(camera, o));
    auto first = fetch(o, serve(a));
    auto second = fetch(o, serve(b));
    EXPECT_EQ(first.status, ingest::fetch_status::stored) << first.error;
    EXPECT_EQ(second.status, ingest::fetch_status::stored) << second.error;

    auto claimed = db->claim_due("archive", 10, pipeline::now_seconds() + 1);
    ASSERT_TRUE(claimed);
    ASSERT_EQ(claimed->size(), 2u); // both delivered, not one
    std::set<std::string> shas, paths;
    for (auto const& c : *claimed)
    {
        shas.insert(c.asset.sha256);
        paths.insert(c.asset.spool_path);
        EXPECT_EQ(c.asset.name, "IMG_0001.JPG");
        EXPECT_EQ(fs::file_size_or_minus_one(c.asset.spool_path), 5000);
    }
    EXPECT_EQ(shas.size(), 2u);
    EXPECT_EQ(paths.size(), 2u) << "the twins share a spool file";
    EXPECT_EQ(sha256::hex_of_file(*paths.begin()) != sha256::hex_of_file(*paths.rbegin()), true);
    EXPECT_EQ(count("same-key"), 1);

    auto t = ing->tally();
    EXPECT_EQ(t.stored, 2);
    EXPECT_EQ(t.twins, 1);
    EXPECT_EQ(t.not_fetched, 0);
    EXPECT_EQ(t.stored_bytes, 10000);
    EXPECT_EQ(ing->unresolved_failures(), 0u);

    // A later process: both are known, nothing is fetched again.
    make_ingester();
    EXPECT_TRUE(ing->already_have(camera, o));
    EXPECT_TRUE(ing->already_have(camera, o));
    EXPECT_EQ(ing->tally().known, 1); // one key
}

TEST_F(PipelineIngester, SameKeySameContentIsOneObjectListedTwice)
{
    std::string a(4000, 'x');
    ingest::object_ref o{"/DCIM", "IMG_0002.JPG", 4000, 1700000001, "image/jpeg"};
    EXPECT_FALSE(ing->already_have(camera, o));
    EXPECT_FALSE(ing->already_have(camera, o));
    EXPECT_EQ(fetch(o, serve(a)).status, ingest::fetch_status::stored);
    EXPECT_EQ(fetch(o, serve(a)).status, ingest::fetch_status::known);
    auto assets = db->assets_of(camera, {o.folder, o.name, o.size, o.mtime});
    ASSERT_TRUE(assets);
    EXPECT_EQ(assets->size(), 1u);
    EXPECT_EQ(ing->tally().stored, 1);
    EXPECT_EQ(ing->tally().twins, 0);
    EXPECT_EQ(count("same-key"), 0);
    // The second copy's spool file is gone: one file for one asset.
    std::size_t files = 0;
    for (auto const& e : std::filesystem::recursive_directory_iterator(dir / "spool"))
        files += e.is_regular_file() ? 1 : 0;
    EXPECT_EQ(files, 1u);
}

TEST_F(PipelineIngester, TwinWhoseFetchFailedIsFetchedAgainNextTime)
{
    std::string a(3000, 'a'), b(3000, 'b');
    ingest::object_ref o{"/DCIM", "IMG_0003.JPG", 3000, 1700000002, "image/jpeg"};
    EXPECT_FALSE(ing->already_have(camera, o));
    EXPECT_FALSE(ing->already_have(camera, o));
    EXPECT_EQ(fetch(o, serve(a)).status, ingest::fetch_status::stored);
    EXPECT_EQ(fetch(o, fail_with(std::make_error_code(std::errc::io_error))).status,
              ingest::fetch_status::failed);
    EXPECT_EQ(ing->tally().not_fetched, 1);
    EXPECT_EQ(ing->unresolved_failures(), 1u);
    ASSERT_EQ(problems().size(), 1u);
    EXPECT_EQ(problems()[0].kind, "not-fetched");

    // Next import: the key is known, but an object under its name is missing: offered again.
    make_ingester();
    EXPECT_FALSE(ing->already_have(camera, o));
    EXPECT_FALSE(ing->already_have(camera, o));
    EXPECT_EQ(fetch(o, serve(a)).status, ingest::fetch_status::known);
    EXPECT_EQ(fetch(o, serve(b)).status, ingest::fetch_status::stored);
    EXPECT_TRUE(problems().empty());
    auto t = ing->tally();
    EXPECT_EQ(t.stored, 1);
    EXPECT_EQ(t.twins, 1);
    EXPECT_EQ(t.not_fetched, 0);
    EXPECT_TRUE(ing->already_have(camera, o)); // and now it rests
}

TEST_F(PipelineIngester, AReconnectCountsEachFileOnce)
{
    std::vector<ingest::object_ref> card;
    for (int i = 0; i < 5; ++i)
        card.push_back({"/DCIM", "IMG_" + std::to_string(i) + ".JPG", 100, 1700000100 + i, ""});
    for (auto const& o : card)
        EXPECT_FALSE(ing->already_have(camera, o));
    for (int i = 0; i < 2; ++i)
        EXPECT_EQ(fetch(card[static_cast<std::size_t>(i)],
                        serve(std::string(100, static_cast<char>('a' + i))))
                      .status,
                  ingest::fetch_status::stored);
    // The link drops; the source connects again and lists the card again.
    ASSERT_TRUE(ing->camera_connected(cam));
    for (std::size_t i = 0; i < card.size(); ++i)
        EXPECT_EQ(ing->already_have(camera, card[i]), i < 2);
    for (std::size_t i = 2; i < card.size(); ++i)
        EXPECT_EQ(fetch(card[i], serve(std::string(100, static_cast<char>('a' + i)))).status,
                  ingest::fetch_status::stored);
    auto t = ing->tally();
    EXPECT_EQ(t.stored, 5);
    EXPECT_EQ(t.known, 0) << "files of this import counted as already known after a reconnect";
    EXPECT_EQ(t.cameras, 1);
    EXPECT_EQ(t.not_fetched, 0);
}

TEST_F(PipelineIngester, ListedButNeverFetchedIsLeftOnTheCamera)
{
    ingest::object_ref o{"/DCIM", "IMG_9.JPG", 10, 1, ""};
    EXPECT_FALSE(ing->already_have(camera, o));
    EXPECT_EQ(ing->tally().not_fetched, 1); // e.g. the import was stopped before it
    EXPECT_EQ(ing->unresolved_failures(), 1u);
}

TEST_F(PipelineIngester, FetchFailureIsAnOpenProblemUntilStored)
{
    ingest::object_ref o{"/DCIM", "IMG_7.JPG", 10, 7, ""};
    EXPECT_FALSE(ing->already_have(camera, o));
    auto r = fetch(o, fail_with(std::make_error_code(std::errc::timed_out)));
    EXPECT_EQ(r.status, ingest::fetch_status::failed);
    EXPECT_NE(r.error.find("timeout"), std::string::npos) << r.error;
    auto open = problems();
    ASSERT_EQ(open.size(), 1u);
    EXPECT_EQ(open[0].object, "/DCIM/IMG_7.JPG");
    EXPECT_EQ(open[0].kind, "not-fetched");
    EXPECT_TRUE(open[0].timeout);
    EXPECT_EQ(ing->tally().not_fetched, 1);

    // Next process: still open (status says so) until the object arrives.
    make_ingester();
    EXPECT_EQ(problems().size(), 1u);
    EXPECT_FALSE(ing->already_have(camera, o));
    EXPECT_EQ(fetch(o, serve(std::string(10, 'z'))).status, ingest::fetch_status::stored);
    EXPECT_TRUE(problems().empty());
    EXPECT_EQ(ing->tally().not_fetched, 0);
}

TEST_F(PipelineIngester, UnreadableIsCountedKeptOpenAndClearedWhenRecovered)
{
    ingest::object_problem p{"/DCIM", "IMG_5.JPG", 5u,
                             "no readable ObjectInfo: PTP dataset truncated", false};
    ingest::object_problem nameless{"", "", 6u, "GetObjectInfo: the camera did not answer", true};
    ing->object_unreadable(camera, p);
    ing->object_unreadable(camera, p); // the next scan: still one object
    ing->object_unreadable(camera, nameless);
    auto t = ing->tally();
    EXPECT_EQ(t.unreadable, 2);
    EXPECT_EQ(t.left_on_camera(), 2);
    auto open = problems();
    ASSERT_EQ(open.size(), 2u);
    std::set<std::string> objects;
    for (auto const& o : open)
    {
        objects.insert(o.object);
        EXPECT_EQ(o.kind, "unreadable");
        EXPECT_EQ(o.timeout, o.object == "#6");
    }
    EXPECT_EQ(objects, (std::set<std::string>{"/DCIM/IMG_5.JPG", "#6"}));

    ing->object_recovered(camera, p);
    EXPECT_EQ(ing->tally().unreadable, 1);
    ASSERT_EQ(problems().size(), 1u);
    // Handles mean nothing in a new session: a reconnect drops the #6 row.
    ASSERT_TRUE(ing->camera_connected(cam));
    EXPECT_TRUE(problems().empty());
}

TEST_F(PipelineIngester, AStoredObjectIsNoLongerUnreadable)
{
    ingest::object_ref o{"/DCIM", "IMG_8.JPG", 3, 8, ""};
    ing->object_unreadable(camera, {o.folder, o.name, 8u, "short ObjectInfo", false});
    EXPECT_FALSE(ing->already_have(camera, o));
    EXPECT_EQ(fetch(o, serve("abc")).status, ingest::fetch_status::stored);
    EXPECT_EQ(ing->tally().unreadable, 0);
    EXPECT_TRUE(problems().empty());
}

TEST_F(PipelineIngester, AMillionBrokenEntriesGiveBoundedEventsAndRows)
{
    for (int i = 0; i < 3000; ++i)
        ing->object_unreadable(
            camera, {"/DCIM", "BAD_" + std::to_string(i), std::nullopt, "truncated", false});
    EXPECT_EQ(ing->tally().unreadable, 3000);
    // 20 singly, one summing-up line at 21, then one per 1000.
    EXPECT_EQ(count("unreadable"), 20 + 1 + 3);
    EXPECT_EQ(static_cast<std::int64_t>(problems().size()), ledger::store::max_problems_per_camera);
}

TEST(PipelineImportReport, SizesAreSiUnits)
{
    EXPECT_EQ(pipeline::human_bytes(0), "0 B");
    EXPECT_EQ(pipeline::human_bytes(999), "999 B");
    EXPECT_EQ(pipeline::human_bytes(1000), "1.0 kB");
    EXPECT_EQ(pipeline::human_bytes(1024), "1.0 kB");
    EXPECT_EQ(pipeline::human_bytes(120'300'000), "120.3 MB");
    EXPECT_EQ(pipeline::human_bytes(1'048'576), "1.0 MB");
    EXPECT_EQ(pipeline::human_bytes(999'960), "1.0 MB"); // not "1000.0 kB"
    EXPECT_EQ(pipeline::human_bytes(5'000'000'000), "5.0 GB");
}

TEST(PipelineImportReport, SummaryNamesEveryObjectLeftBehind)
{
    pipeline::import_report r;
    r.objects.cameras = 1;
    r.objects.stored = 18;
    r.objects.stored_bytes = 120'300'000;
    r.objects.unreadable = 2;
    r.objects.not_fetched = 1;
    r.delivered = 18;
    EXPECT_EQ(r.summary_line(), "import: 18 new (120.3 MB) from 1 camera(s), 0 already known, "
                                "2 unreadable, 1 not fetched; delivered 18, failed 0");
    EXPECT_EQ(r.exit_code(), pipeline::import_exit::left_on_camera);
    r.delivery_failed = 1;
    EXPECT_EQ(r.exit_code(), pipeline::import_exit::left_on_camera); // 3 wins over 1

    pipeline::import_report ok;
    ok.objects.known = 4;
    ok.objects.unrouted = 2;
    EXPECT_EQ(ok.exit_code(), pipeline::import_exit::ok);
    EXPECT_NE(ok.summary_line().find(", 2 skipped by routes;"), std::string::npos);
    ok.delivery_failed = 1;
    EXPECT_EQ(ok.exit_code(), pipeline::import_exit::failed);
    pipeline::import_report interrupted;
    interrupted.interrupted = true;
    EXPECT_EQ(interrupted.exit_code(), pipeline::import_exit::failed);
    EXPECT_NE(interrupted.summary_line().find("(interrupted)"), std::string::npos);
    pipeline::import_report twins;
    twins.objects.stored = 2;
    twins.objects.twins = 1;
    twins.delivered = 2;
    EXPECT_NE(twins.summary_line().find(", 1 same-name twin(s) kept;"), std::string::npos);
    EXPECT_EQ(twins.exit_code(), pipeline::import_exit::ok);
}

TEST(PipelineImportReport, TimeoutsAreSaidAsSuch)
{
    EXPECT_TRUE(pipeline::is_timeout(std::make_error_code(std::errc::timed_out)));
    EXPECT_FALSE(pipeline::is_timeout(std::make_error_code(std::errc::protocol_error)));
    EXPECT_EQ(
        pipeline::describe_error(std::make_error_code(std::errc::timed_out)).rfind("timeout", 0),
        0u);
    EXPECT_EQ(pipeline::describe_error(std::make_error_code(std::errc::protocol_error)),
              std::make_error_code(std::errc::protocol_error).message());
}

} // namespace
