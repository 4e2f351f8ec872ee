// core/fs: sanitize_component, is_within, atomic writes, and the fault::check seam.
#include "core/fs.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace
{

using camrelay::fs::is_within;
using camrelay::fs::sanitize_component;
namespace fault = camrelay::fault;

// True when `s` is well-formed UTF-8 (no truncated or stray sequences).
bool valid_utf8(std::string const& s)
{
    std::size_t i = 0;
    while (i < s.size())
    {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 0;
        if (len == 0 || i + len > s.size())
            return false;
        for (std::size_t k = 1; k < len; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

void expect_one_safe_component(std::string const& input)
{
    auto out = sanitize_component(input);
    EXPECT_FALSE(out.empty()) << input;
    EXPECT_NE(out, ".") << input;
    EXPECT_NE(out, "..") << input;
    EXPECT_NE(out.front(), '.') << input;
    EXPECT_LE(out.size(), 200u) << input;
    for (char c : out)
    {
        auto u = static_cast<unsigned char>(c);
        EXPECT_NE(c, '/') << input;
        EXPECT_NE(c, '\\') << input;
        EXPECT_FALSE(u < 0x20 || u == 0x7F) << input << " kept control byte " << int(u);
    }
}

TEST(CoreFsSanitize, OrdinaryNamesAreUnchanged)
{
    EXPECT_EQ(sanitize_component("IMG_0001.JPG"), "IMG_0001.JPG");
    EXPECT_EQ(sanitize_component("my photo (1).jpg"), "my photo (1).jpg");
    EXPECT_EQ(sanitize_component("Ünïcødé €.jpg"), "Ünïcødé €.jpg");
}

TEST(CoreFsSanitize, SeparatorsBecomeUnderscores)
{
    EXPECT_EQ(sanitize_component("a/b"), "a_b");
    EXPECT_EQ(sanitize_component("a\\b"), "a_b");
    EXPECT_EQ(sanitize_component("/etc/passwd"), "_etc_passwd");
}

TEST(CoreFsSanitize, ControlCharactersAndNulAreReplaced)
{
    std::string with_nul("a\0b", 3);
    EXPECT_EQ(sanitize_component(with_nul), "a_b");
    EXPECT_EQ(sanitize_component("a\nb\tc\x1f"
                                 "d\x7f"),
              "a_b_c_d_");
}

TEST(CoreFsSanitize, DotNamesNeverStayDotNames)
{
    expect_one_safe_component(".");
    expect_one_safe_component("..");
    expect_one_safe_component("...");
    expect_one_safe_component(".hidden");
    expect_one_safe_component("../../etc/passwd");
    EXPECT_EQ(sanitize_component(".hidden"), "_hidden");
}

TEST(CoreFsSanitize, EmptyBecomesUnderscore)
{
    EXPECT_EQ(sanitize_component(""), "_");
}

TEST(CoreFsSanitize, LongNamesAreCutKeepingTheExtension)
{
    std::string name(300, 'a');
    name += ".JPG";
    auto out = sanitize_component(name);
    EXPECT_EQ(out.size(), 200u);
    EXPECT_EQ(out.substr(out.size() - 4), ".JPG");
    EXPECT_EQ(out.substr(0, 196), std::string(196, 'a'));
}

TEST(CoreFsSanitize, ExactlyTwoHundredBytesIsKept)
{
    std::string name(196, 'b');
    name += ".raw";
    EXPECT_EQ(sanitize_component(name), name);
}

TEST(CoreFsSanitize, LongNameWithoutExtensionIsCut)
{
    auto out = sanitize_component(std::string(500, 'x'));
    EXPECT_EQ(out, std::string(200, 'x'));
}

TEST(CoreFsSanitize, CutNeverSplitsAUtf8Sequence)
{
    // Every alignment of 2-, 3- and 4-byte characters against the cut point.
    for (std::string ch : {std::string("é"), std::string("€"), std::string("😀")})
    {
        for (int lead = 0; lead < 4; ++lead)
        {
            std::string name(static_cast<std::size_t>(lead), 'a');
            while (name.size() < 300)
                name += ch;
            for (std::string ext : {std::string(".jpg"), std::string()})
            {
                auto out = sanitize_component(name + ext);
                EXPECT_LE(out.size(), 200u);
                EXPECT_GE(out.size(), 200u - 2 * ch.size()) << "cut far too much";
                EXPECT_TRUE(valid_utf8(out)) << "lead=" << lead << " char=" << ch;
                if (!ext.empty())
                {
                    EXPECT_EQ(out.substr(out.size() - 4), ".jpg");
                }
            }
        }
    }
}

// Found by fuzz_name_template: a long stem of invalid UTF-8 used to vanish at the cut, leaving
// the extension (".JPG") as the whole name, a hidden file.
TEST(CoreFsSanitize, CutNeverExposesALeadingDot)
{
    std::string name(240, '\xa6');
    name += ".{ext}";
    auto out = camrelay::fs::sanitize_component(name);
    ASSERT_FALSE(out.empty());
    EXPECT_NE(out.front(), '.');
    EXPECT_LE(out.size(), 200u);
    EXPECT_EQ(out.substr(out.size() - 6), ".{ext}");

    std::string dots(199, '.');
    dots += "x.jpg";
    auto d = camrelay::fs::sanitize_component(dots);
    EXPECT_NE(d.front(), '.');
}

TEST(CoreFsSanitize, HostileNamesGiveOneSafeComponent)
{
    for (std::string n : std::initializer_list<std::string>{
             "a/../../b", "..\\..\\x", std::string("\0\0", 2), "\x01\x02", "./.", "/", "//", " ",
             "~/.ssh/authorized_keys"})
        expect_one_safe_component(n);
}

TEST(CoreFsIsWithin, InsideAndOutside)
{
    EXPECT_TRUE(is_within("/srv/photos", "/srv/photos/a/b.jpg"));
    EXPECT_TRUE(is_within("/srv/photos/", "/srv/photos/a.jpg"));
    EXPECT_TRUE(is_within("/srv/photos", "/srv/photos"));
    EXPECT_TRUE(is_within("/srv/photos", "/srv/photos/./a/../b.jpg"));
    EXPECT_TRUE(is_within("/srv/photos", "/srv/photos//a.jpg"));
    EXPECT_FALSE(is_within("/srv/photos", "/srv/photos/../etc/passwd"));
    EXPECT_FALSE(is_within("/srv/photos", "/srv/photos/a/../../x"));
    EXPECT_FALSE(is_within("/srv/photos", "/srv/photosX/a.jpg"));
    EXPECT_FALSE(is_within("/srv/photos", "/srv"));
    EXPECT_FALSE(is_within("/srv/photos", "/etc/passwd"));
    EXPECT_FALSE(is_within("/srv/photos", "relative/a.jpg"));
}

TEST(CoreFs, WriteFileAtomicWritesContentAndMode)
{
    camrelay::test::temp_dir dir;
    auto p = dir / "state.txt";
    ASSERT_FALSE(camrelay::fs::write_file_atomic(p, "hello", 0600));
    EXPECT_EQ(camrelay::test::read_file(p), "hello");
    struct stat st
    {
    };
    ASSERT_EQ(::stat(p.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_FALSE(camrelay::fs::write_file_atomic(p, "second"));
    EXPECT_EQ(camrelay::test::read_file(p), "second");
    EXPECT_FALSE(std::filesystem::exists(dir / "state.txt.tmp"));
}

TEST(CoreFs, MakeDirsDurableAndFileSize)
{
    camrelay::test::temp_dir dir;
    auto deep = dir / "a/b/c";
    ASSERT_FALSE(camrelay::fs::make_dirs_durable(deep));
    EXPECT_TRUE(std::filesystem::is_directory(deep));
    EXPECT_FALSE(camrelay::fs::make_dirs_durable(deep)); // already there: fine
    EXPECT_EQ(camrelay::fs::file_size_or_minus_one(deep), -1);
    EXPECT_EQ(camrelay::fs::file_size_or_minus_one(dir / "nope"), -1);
    camrelay::test::write_file(dir / "f", "12345");
    EXPECT_EQ(camrelay::fs::file_size_or_minus_one(dir / "f"), 5);
    // A file in the way is not a folder.
    EXPECT_TRUE(camrelay::fs::make_dirs_durable(dir / "f"));
}

class FaultSeam : public ::testing::Test
{
  protected:
    void TearDown() override
    {
        ::unsetenv("CAMRELAY_FAULTS");
        fault::reload();
    }
    static void set(char const* spec)
    {
        ::setenv("CAMRELAY_FAULTS", spec, 1);
        fault::reload();
    }
};

TEST_F(FaultSeam, UnsetMeansNoFaults)
{
    ::unsetenv("CAMRELAY_FAULTS");
    fault::reload();
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(fault::check("spool.write"), 0);
}

TEST_F(FaultSeam, PlainRuleFailsEveryCall)
{
    set("spool.write=ENOSPC");
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(fault::check("spool.write"), ENOSPC) << "call " << i + 1;
    EXPECT_EQ(fault::check("folder.write"), 0);
}

TEST_F(FaultSeam, AtNFailsOnlyTheNthCall)
{
    set("folder.write=EIO@3");
    EXPECT_EQ(fault::check("folder.write"), 0);
    EXPECT_EQ(fault::check("folder.write"), 0);
    EXPECT_EQ(fault::check("folder.write"), EIO);
    EXPECT_EQ(fault::check("folder.write"), 0);
    EXPECT_EQ(fault::check("folder.write"), 0);
}

TEST_F(FaultSeam, AtNPlusFailsFromTheNthCallOn)
{
    set("folder.write=EACCES@2+");
    EXPECT_EQ(fault::check("folder.write"), 0);
    EXPECT_EQ(fault::check("folder.write"), EACCES);
    EXPECT_EQ(fault::check("folder.write"), EACCES);
    EXPECT_EQ(fault::check("folder.write"), EACCES);
}

TEST_F(FaultSeam, SeveralPointsCountSeparately)
{
    set("a=ENOSPC@2,b=EROFS,c=ETIMEDOUT@1");
    EXPECT_EQ(fault::check("a"), 0);
    EXPECT_EQ(fault::check("b"), EROFS);
    EXPECT_EQ(fault::check("c"), ETIMEDOUT);
    EXPECT_EQ(fault::check("a"), ENOSPC);
    EXPECT_EQ(fault::check("c"), 0);
    EXPECT_EQ(fault::check("b"), EROFS);
}

TEST_F(FaultSeam, ReloadResetsCountersAndUnsetClears)
{
    set("p=ENOSPC@1");
    EXPECT_EQ(fault::check("p"), ENOSPC);
    EXPECT_EQ(fault::check("p"), 0);
    fault::reload();
    EXPECT_EQ(fault::check("p"), ENOSPC);
    ::unsetenv("CAMRELAY_FAULTS");
    fault::reload();
    EXPECT_EQ(fault::check("p"), 0);
}

TEST_F(FaultSeam, UnknownErrnoNameFallsBackToEio)
{
    set("p=EWHATEVER");
    EXPECT_EQ(fault::check("p"), EIO);
}

TEST_F(FaultSeam, ScopedFaultsHelperRestores)
{
    {
        camrelay::test::scoped_faults f("p=ENODEV");
        EXPECT_EQ(fault::check("p"), ENODEV);
    }
    EXPECT_EQ(std::getenv("CAMRELAY_FAULTS"), nullptr);
    EXPECT_EQ(fault::check("p"), 0);
}

} // namespace
