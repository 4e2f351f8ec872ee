// The folder sink: verified copies at the templated path, idempotence, collision policies,
// temp-file hygiene, injected write failures, and settings checks.
#include "core/fs.hpp"
#include "core/sha256.hpp"
#include "delivery/error.hpp"
#include "delivery/sink.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace
{

using namespace camrelay;

struct folder_fixture : ::testing::Test
{
    test::temp_dir dir;
    std::filesystem::path dest() const { return dir / "dest"; }

    std::unique_ptr<delivery::sink> make(std::string const& path_template,
                                         std::string const& collision = "")
    {
        auto const* d = delivery::find_sink_type("folder");
        EXPECT_NE(d, nullptr);
        config::sink_settings s;
        s.name = "nas";
        s.type = "folder";
        s.options.set("path", path_template, 3);
        if (!collision.empty())
            s.options.set("collision", collision, 4);
        std::vector<config::problem> problems;
        auto sink = d->make(s, problems);
        EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems[0].message);
        return sink;
    }

    // An asset whose spooled content is `content`, named `name` on the camera.
    asset_info spooled(std::string const& name, std::string const& content)
    {
        asset_info a;
        a.id = ++next_id;
        a.name = name;
        a.folder = "/DCIM/100CANON";
        a.camera_name = "EOS400D";
        a.model = "EOS 400D";
        a.source_kind = "usb";
        a.capture_time = 1714564801;
        a.size = content.size();
        a.sha256 = sha256::hex_of(content);
        a.spool_path = (dir / ("spool/" + std::to_string(a.id) + ".bin")).string();
        test::write_file(a.spool_path, content);
        return a;
    }

    delivery::outcome deliver(delivery::sink& sink, asset_info const& a, std::int64_t job_id = 1,
                              std::stop_token stop = {})
    {
        delivery::request req{job_id, 1, a, stop};
        return sink.deliver(req);
    }

    std::vector<std::string> temps_left() const
    {
        std::vector<std::string> out;
        if (!std::filesystem::exists(dest()))
            return out;
        for (auto const& f : test::files_below(dest()))
            if (f.find(".camrelay-job") != std::string::npos)
                out.push_back(f);
        return out;
    }

    std::int64_t next_id = 0;
};

using FolderSink = folder_fixture;

TEST_F(FolderSink, DeliversAByteIdenticalCopyAtTheTemplatedPath)
{
    auto sink = make((dest() / "{camera}/{date:%Y-%m-%d}/{stem}-{seq}.{ext}").string());
    ASSERT_TRUE(sink);
    std::string content(700000, '\0');
    for (std::size_t i = 0; i < content.size(); ++i)
        content[i] = static_cast<char>(i * 131 % 251);
    auto a = spooled("IMG_0001.JPG", content);
    a.seq = 9;
    auto out = deliver(*sink, a);
    ASSERT_TRUE(out) << out.message;
    auto expected = dest() / "EOS400D/2024-05-01/IMG_0001-9.JPG";
    EXPECT_EQ(out.message, expected.string());
    EXPECT_EQ(test::read_file(expected), content);
    EXPECT_EQ(test::files_below(dest()),
              std::vector<std::string>{"EOS400D/2024-05-01/IMG_0001-9.JPG"});
    EXPECT_TRUE(std::filesystem::exists(a.spool_path)) << "the sink never removes the spool copy";
}

TEST_F(FolderSink, RedeliveryIsIdempotent)
{
    auto sink = make((dest() / "{name}").string());
    auto a = spooled("IMG_1.JPG", "content one");
    auto first = deliver(*sink, a, 5);
    ASSERT_TRUE(first) << first.message;
    auto same_job = deliver(*sink, a, 5);
    ASSERT_TRUE(same_job) << same_job.message;
    auto new_job = deliver(*sink, a, 6);
    ASSERT_TRUE(new_job) << new_job.message;
    EXPECT_EQ(same_job.message, first.message);
    EXPECT_EQ(new_job.message, first.message);
    EXPECT_EQ(test::files_below(dest()), std::vector<std::string>{"IMG_1.JPG"});
    EXPECT_TRUE(temps_left().empty());
}

TEST_F(FolderSink, RenamePolicyAddsANumberAndStaysIdempotent)
{
    auto sink = make((dest() / "{name}").string(), "rename");
    test::write_file(dest() / "IMG_1.JPG", "somebody else's photo");
    auto a = spooled("IMG_1.JPG", "ours");
    auto out = deliver(*sink, a);
    ASSERT_TRUE(out) << out.message;
    EXPECT_EQ(out.message, (dest() / "IMG_1-1.JPG").string());
    EXPECT_EQ(test::read_file(dest() / "IMG_1.JPG"), "somebody else's photo");
    EXPECT_EQ(test::read_file(dest() / "IMG_1-1.JPG"), "ours");

    auto again = deliver(*sink, a, 2);
    ASSERT_TRUE(again) << again.message;
    EXPECT_EQ(again.message, out.message);

    auto b = spooled("IMG_1.JPG", "a third one");
    auto third = deliver(*sink, b, 3);
    ASSERT_TRUE(third) << third.message;
    EXPECT_EQ(third.message, (dest() / "IMG_1-2.JPG").string());
    EXPECT_EQ(test::files_below(dest()),
              (std::vector<std::string>{"IMG_1-1.JPG", "IMG_1-2.JPG", "IMG_1.JPG"}));
}

TEST_F(FolderSink, RenamePolicyWithoutExtension)
{
    auto sink = make((dest() / "{name}").string());
    test::write_file(dest() / "README", "other");
    auto out = deliver(*sink, spooled("README", "ours"));
    ASSERT_TRUE(out) << out.message;
    EXPECT_EQ(out.message, (dest() / "README-1").string());
}

TEST_F(FolderSink, DefaultPolicyIsRename)
{
    auto sink = make((dest() / "{name}").string());
    test::write_file(dest() / "a.jpg", "other");
    auto out = deliver(*sink, spooled("a.jpg", "ours"));
    ASSERT_TRUE(out) << out.message;
    EXPECT_EQ(test::read_file(dest() / "a-1.jpg"), "ours");
}

TEST_F(FolderSink, OverwritePolicyReplacesTheFile)
{
    auto sink = make((dest() / "{name}").string(), "overwrite");
    test::write_file(dest() / "a.jpg", "old content");
    auto out = deliver(*sink, spooled("a.jpg", "new content"));
    ASSERT_TRUE(out) << out.message;
    EXPECT_EQ(out.message, (dest() / "a.jpg").string());
    EXPECT_EQ(test::read_file(dest() / "a.jpg"), "new content");
    EXPECT_EQ(test::files_below(dest()), std::vector<std::string>{"a.jpg"});
}

TEST_F(FolderSink, SkipPolicyKeepsTheExistingFile)
{
    auto sink = make((dest() / "{name}").string(), "skip");
    test::write_file(dest() / "a.jpg", "theirs");
    auto out = deliver(*sink, spooled("a.jpg", "ours"));
    ASSERT_TRUE(out) << out.message;
    EXPECT_NE(out.message.find("kept"), std::string::npos) << out.message;
    EXPECT_EQ(test::read_file(dest() / "a.jpg"), "theirs");
    EXPECT_EQ(test::files_below(dest()), std::vector<std::string>{"a.jpg"});
}

TEST_F(FolderSink, FailPolicyIsAPermanentFailure)
{
    auto sink = make((dest() / "{name}").string(), "fail");
    test::write_file(dest() / "a.jpg", "theirs");
    auto out = deliver(*sink, spooled("a.jpg", "ours"));
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error, delivery::errc::name_collision);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::permanent);
    EXPECT_EQ(test::read_file(dest() / "a.jpg"), "theirs");
    EXPECT_TRUE(temps_left().empty());
}

TEST_F(FolderSink, IdenticalContentCountsAsDeliveredWhateverThePolicy)
{
    for (std::string policy : {"rename", "overwrite", "skip", "fail"})
    {
        test::temp_dir other;
        auto sink = make((other.path() / "{name}").string(), policy);
        test::write_file(other / "a.jpg", "same bytes");
        auto out = deliver(*sink, spooled("a.jpg", "same bytes"));
        ASSERT_TRUE(out) << policy << ": " << out.message;
        EXPECT_EQ(out.message, (other / "a.jpg").string()) << policy;
        EXPECT_EQ(test::files_below(other.path()), std::vector<std::string>{"a.jpg"}) << policy;
    }
}

TEST_F(FolderSink, InjectedNoSpaceIsTransientAndLeavesNoTemp)
{
    auto sink = make((dest() / "{name}").string());
    auto a = spooled("a.jpg", std::string(600000, 'z')); // more than one copy block
    delivery::outcome out;
    {
        test::scoped_faults faults("folder.write=ENOSPC@2");
        out = deliver(*sink, a, 77);
    }
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error, delivery::errc::no_space);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::transient);
    EXPECT_NE(out.message.find("No space left on device"), std::string::npos) << out.message;
    EXPECT_TRUE(temps_left().empty());
    EXPECT_FALSE(std::filesystem::exists(dest() / "a.jpg"));

    auto retry = deliver(*sink, a, 77);
    ASSERT_TRUE(retry) << retry.message;
    EXPECT_EQ(test::read_file(dest() / "a.jpg"), std::string(600000, 'z'));
    EXPECT_TRUE(temps_left().empty());
}

TEST_F(FolderSink, FailingEachWriteInTurnNeverLeavesAPartialFile)
{
    // fail_count style: fail the 1st, 2nd, 3rd... copy step until the delivery gets through.
    // The sink copies in 8 MiB kernel chunks and checks the fault point before each chunk and
    // before the final end-of-file read: 17 MiB takes 3 chunks + 1, so 4 steps can fail.
    auto sink = make((dest() / "{name}").string());
    std::string content(17 * 1024 * 1024, 'q');
    content[5 * 1024 * 1024] = 'x';  // not all the same byte, so a misplaced chunk shows
    auto a = spooled("big.jpg", content);
    int failures = 0;
    bool delivered = false;
    for (int n = 1; n <= 10 && !delivered; ++n)
    {
        delivery::outcome out;
        {
            test::scoped_faults faults("folder.write=EIO@" + std::to_string(n));
            out = deliver(*sink, a, 100 + n);
        }
        EXPECT_TRUE(temps_left().empty()) << "n=" << n;
        if (out)
        {
            EXPECT_EQ(test::read_file(dest() / "big.jpg"), content) << "n=" << n;
            delivered = true;
            break;
        }
        ++failures;
        EXPECT_EQ(delivery::classify(out.error), delivery::condition::transient) << out.message;
        EXPECT_FALSE(std::filesystem::exists(dest() / "big.jpg")) << "n=" << n;
    }
    EXPECT_TRUE(delivered);
    EXPECT_EQ(failures, 4);
    EXPECT_EQ(test::files_below(dest()), std::vector<std::string>{"big.jpg"});
}

TEST_F(FolderSink, InjectedPermissionDeniedIsTransient)
{
    auto sink = make((dest() / "{name}").string());
    test::scoped_faults faults("folder.write=EACCES");
    auto out = deliver(*sink, spooled("a.jpg", "x"));
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error, delivery::errc::permission_denied);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::transient);
    EXPECT_TRUE(temps_left().empty());
}

TEST_F(FolderSink, MissingSpoolFileIsPermanent)
{
    auto sink = make((dest() / "{name}").string());
    auto a = spooled("a.jpg", "x");
    std::filesystem::remove(a.spool_path);
    auto out = deliver(*sink, a);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error, delivery::errc::source_missing);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::permanent);
    EXPECT_FALSE(std::filesystem::exists(dest() / "a.jpg"));
}

TEST_F(FolderSink, ASpoolFileThatDiffersFromTheLedgerFailsVerification)
{
    auto sink = make((dest() / "{name}").string());
    auto a = spooled("a.jpg", "what the ledger hashed");
    test::write_file(a.spool_path, "what the ledger hashed, but changed");
    a.size = std::filesystem::file_size(a.spool_path); // same size, other content
    auto out = deliver(*sink, a);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error, delivery::errc::verify_failed);
    EXPECT_FALSE(std::filesystem::exists(dest() / "a.jpg"));
    EXPECT_TRUE(temps_left().empty());
}

TEST_F(FolderSink, HostileCameraNamesStayInsideTheRoot)
{
    auto sink = make((dest() / "{camera}/{name}").string());
    auto a = spooled("../../../../etc/passwd", "evil");
    a.camera_name = "../..";
    auto out = deliver(*sink, a);
    ASSERT_TRUE(out) << out.message;
    EXPECT_TRUE(fs::is_within(dest(), out.message)) << out.message;
    auto files = test::files_below(dir.path());
    for (auto const& f : files)
        EXPECT_TRUE(f.rfind("dest/", 0) == 0 || f.rfind("spool/", 0) == 0) << f;
    auto delivered = test::files_below(dest());
    ASSERT_EQ(delivered.size(), 1u);
    EXPECT_EQ(std::count(delivered[0].begin(), delivered[0].end(), '/'), 1) << delivered[0];
}

TEST_F(FolderSink, AUserFormatThatLeavesTheRootIsRefused)
{
    // {date:...} is trusted text, but the rendered path is still checked.
    auto sink = make((dest() / "{date:../../%Y}/{name}").string());
    ASSERT_TRUE(sink);
    auto out = deliver(*sink, spooled("a.jpg", "x"));
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error, delivery::errc::bad_destination);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::permanent);
    EXPECT_FALSE(std::filesystem::exists(dest())) << "nothing was created";
}

TEST_F(FolderSink, CancelledBeforeCopyLeavesNothing)
{
    auto sink = make((dest() / "{name}").string());
    std::stop_source stop;
    stop.request_stop();
    auto out = deliver(*sink, spooled("a.jpg", "x"), 1, stop.get_token());
    ASSERT_FALSE(out);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::cancelled);
    EXPECT_FALSE(std::filesystem::exists(dest() / "a.jpg"));
    EXPECT_TRUE(temps_left().empty());
}

TEST(FolderSinkSettings, RelativePathAndBadCollisionAreBothReportedWithLines)
{
    auto const* d = delivery::find_sink_type("folder");
    ASSERT_NE(d, nullptr);
    config::sink_settings s;
    s.name = "nas";
    s.type = "folder";
    s.options.set("path", std::string("photos/{name}"), 12);
    s.options.set("collision", std::string("merge"), 13);
    std::vector<config::problem> problems;
    EXPECT_EQ(d->make(s, problems), nullptr);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].line, 12);
    EXPECT_NE(problems[0].message.find("absolute"), std::string::npos) << problems[0].message;
    EXPECT_NE(problems[0].message.find("[sink.nas]"), std::string::npos);
    EXPECT_EQ(problems[1].line, 13);
    EXPECT_NE(problems[1].message.find("collision"), std::string::npos) << problems[1].message;
}

TEST(FolderSinkSettings, BadTemplateIsReported)
{
    auto const* d = delivery::find_sink_type("folder");
    ASSERT_NE(d, nullptr);
    config::sink_settings s;
    s.name = "nas";
    s.options.set("path", std::string("/x/{nope}"), 5);
    std::vector<config::problem> problems;
    EXPECT_EQ(d->make(s, problems), nullptr);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].line, 5);
    EXPECT_NE(problems[0].message.find("{nope}"), std::string::npos);
}

TEST(DeliveryRegistry, KnowsFolderAndShell)
{
    EXPECT_NE(delivery::find_sink_type("folder"), nullptr);
    EXPECT_NE(delivery::find_sink_type("shell"), nullptr);
    EXPECT_EQ(delivery::find_sink_type("smtp-by-pigeon"), nullptr);
    for (auto const& d : delivery::registry())
    {
        EXPECT_FALSE(d.type.empty());
        EXPECT_FALSE(d.options.empty()) << d.type;
        EXPECT_NE(d.make, nullptr) << d.type;
    }
}

} // namespace
