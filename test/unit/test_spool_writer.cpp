// The spool writer: .part, hashing, resume, discard, injected write failure; path_for.
#include "core/fs.hpp"
#include "core/sha256.hpp"
#include "spool/spool.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace
{

using namespace camrelay;

std::span<const std::byte> bytes(std::string const& s)
{
    return std::as_bytes(std::span(s.data(), s.size()));
}

std::filesystem::path part_of(std::filesystem::path p)
{
    p += ".part";
    return p;
}

TEST(Sha256, KnownDigests)
{
    EXPECT_EQ(sha256::hex_of(""),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256::hex_of("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256 h;
    h.update(std::string_view("a"));
    h.update(std::string_view("bc"));
    EXPECT_EQ(sha256::to_hex(h.finish()), sha256::hex_of("abc"));
    test::temp_dir dir;
    test::write_file(dir / "f", "abc");
    EXPECT_EQ(sha256::hex_of_file((dir / "f").string()), sha256::hex_of("abc"));
    EXPECT_EQ(sha256::hex_of_file((dir / "missing").string()), "");
}

TEST(SpoolWriter, CommitRenamesAndHashes)
{
    test::temp_dir dir;
    auto final_path = dir / "1/abc-IMG.JPG";
    auto w = spool::writer::open(final_path, false);
    ASSERT_TRUE(w) << w.error().message();
    EXPECT_TRUE(std::filesystem::exists(part_of(final_path)));
    std::string a(300000, 'x'), b = "tail";
    ASSERT_FALSE((*w)->write(bytes(a)));
    ASSERT_FALSE((*w)->write(bytes(b)));
    EXPECT_EQ((*w)->offset(), a.size() + b.size());
    auto digest = (*w)->commit();
    ASSERT_TRUE(digest) << digest.error().message();
    EXPECT_EQ(*digest, sha256::hex_of(a + b));
    EXPECT_FALSE(std::filesystem::exists(part_of(final_path)));
    EXPECT_EQ(test::read_file(final_path), a + b);
    EXPECT_EQ((*w)->final_path(), final_path);
}

TEST(SpoolWriter, EmptyContentCommits)
{
    test::temp_dir dir;
    auto final_path = dir / "empty";
    auto w = spool::writer::open(final_path, false);
    ASSERT_TRUE(w);
    auto digest = (*w)->commit();
    ASSERT_TRUE(digest);
    EXPECT_EQ(*digest, sha256::hex_of(""));
    EXPECT_EQ(fs::file_size_or_minus_one(final_path), 0);
}

TEST(SpoolWriter, ResumeRehashesThePartAndAppends)
{
    test::temp_dir dir;
    auto final_path = dir / "f.jpg";
    {
        auto w = spool::writer::open(final_path, false);
        ASSERT_TRUE(w);
        ASSERT_FALSE((*w)->write(bytes("first half|")));
        (*w)->keep_partial();
    }
    EXPECT_TRUE(std::filesystem::exists(part_of(final_path)));
    EXPECT_FALSE(std::filesystem::exists(final_path));

    auto w = spool::writer::open(final_path, true);
    ASSERT_TRUE(w);
    EXPECT_EQ((*w)->offset(), std::string("first half|").size());
    ASSERT_FALSE((*w)->write(bytes("second half")));
    auto digest = (*w)->commit();
    ASSERT_TRUE(digest);
    EXPECT_EQ(*digest, sha256::hex_of("first half|second half"));
    EXPECT_EQ(test::read_file(final_path), "first half|second half");
}

TEST(SpoolWriter, WithoutResumeALeftoverPartIsDiscarded)
{
    test::temp_dir dir;
    auto final_path = dir / "f.jpg";
    test::write_file(part_of(final_path), "stale bytes from an old try");
    auto w = spool::writer::open(final_path, false);
    ASSERT_TRUE(w);
    EXPECT_EQ((*w)->offset(), 0u);
    ASSERT_FALSE((*w)->write(bytes("new")));
    auto digest = (*w)->commit();
    ASSERT_TRUE(digest);
    EXPECT_EQ(*digest, sha256::hex_of("new"));
    EXPECT_EQ(test::read_file(final_path), "new");
}

TEST(SpoolWriter, DiscardRemovesThePart)
{
    test::temp_dir dir;
    auto final_path = dir / "f.jpg";
    auto w = spool::writer::open(final_path, false);
    ASSERT_TRUE(w);
    ASSERT_FALSE((*w)->write(bytes("partial")));
    (*w)->discard();
    EXPECT_FALSE(std::filesystem::exists(part_of(final_path)));
    EXPECT_FALSE(std::filesystem::exists(final_path));
}

TEST(SpoolWriter, InjectedNoSpaceFailsTheWrite)
{
    test::temp_dir dir;
    auto final_path = dir / "f.jpg";
    auto w = spool::writer::open(final_path, false);
    ASSERT_TRUE(w);
    {
        test::scoped_faults faults("spool.write=ENOSPC@2");
        EXPECT_FALSE((*w)->write(bytes("one")));
        auto ec = (*w)->write(bytes("two"));
        EXPECT_EQ(ec, std::errc::no_space_on_device);
        EXPECT_EQ((*w)->offset(), 3u) << "a failed write adds nothing";
    }
    ASSERT_FALSE((*w)->write(bytes("three")));
    auto digest = (*w)->commit();
    ASSERT_TRUE(digest);
    EXPECT_EQ(*digest, sha256::hex_of("onethree"));
}

TEST(SpoolWriter, FailingEachWriteInTurnThenDiscardingLeavesNothing)
{
    test::temp_dir dir;
    auto final_path = dir / "f.jpg";
    for (int n = 1; n <= 4; ++n)
    {
        test::scoped_faults faults("spool.write=EIO@" + std::to_string(n));
        auto w = spool::writer::open(final_path, false);
        ASSERT_TRUE(w);
        std::error_code failed;
        int written = 0;
        for (int chunk = 0; chunk < 4 && !failed; ++chunk)
        {
            failed = (*w)->write(bytes("chunk"));
            if (!failed)
                ++written;
        }
        EXPECT_EQ(failed, std::errc::io_error) << "n=" << n;
        EXPECT_EQ(written, n - 1);
        EXPECT_EQ((*w)->offset(), static_cast<std::uint64_t>(5 * (n - 1)));
        (*w)->discard();
        EXPECT_FALSE(std::filesystem::exists(part_of(final_path)));
        EXPECT_FALSE(std::filesystem::exists(final_path));
    }
}

TEST(SpoolWriter, OpenFailsWhereNoFolderCanBeMade)
{
    test::temp_dir dir;
    test::write_file(dir / "file", "x");
    auto w = spool::writer::open(dir / "file/sub/f.jpg", false);
    EXPECT_FALSE(w);
}

TEST(SpoolPathFor, SafeDistinctAndInsideTheRoot)
{
    std::filesystem::path root = "/var/lib/camrelay/spool";
    auto a = spool::path_for(root, 3, "key-a", "IMG_1.JPG");
    auto b = spool::path_for(root, 3, "key-b", "IMG_1.JPG");
    auto c = spool::path_for(root, 4, "key-a", "IMG_1.JPG");
    EXPECT_NE(a, b);
    EXPECT_NE(a, c);
    EXPECT_EQ(a, spool::path_for(root, 3, "key-a", "IMG_1.JPG"));
    EXPECT_EQ(a.parent_path(), root / "3");
    EXPECT_EQ(a.filename().string().substr(16), "-IMG_1.JPG");

    auto evil = spool::path_for(root, 3, "k", "../../../etc/passwd");
    EXPECT_TRUE(fs::is_within(root / "3", evil)) << evil;
    EXPECT_EQ(evil.parent_path(), root / "3");
}

} // namespace
