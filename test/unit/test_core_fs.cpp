// core/fs: sanitize_component, is_within, atomic writes, secret files (FIFOs, links, sizes),
// open_beneath and list_dir (a hostile card: links out, FIFOs, devices), and the fault::check
// seam.
#include "core/fs.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <future>
#include <memory>
#include <string>
#include <thread>

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

// ----------------------------------------------------------------------------- secret files

/// Runs `f` on a thread of its own; when it has not returned after 5 s (a FIFO's open blocks
/// until a writer comes), opens the FIFO for writing so it can, and fails the test.
bool returns_quickly(std::filesystem::path const& fifo, std::function<bool()> f)
{
    auto done = std::make_shared<std::promise<bool>>();
    auto result = done->get_future();
    std::thread t([done, f] { done->set_value(f()); });
    if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
    {
        ADD_FAILURE() << "blocked on the FIFO " << fifo;
        int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        t.join();
        if (w >= 0)
            ::close(w);
        return result.get();
    }
    t.join();
    return result.get();
}

TEST(CoreFsSecret, RegularPrivateFileIsRead)
{
    camrelay::test::temp_dir dir;
    auto p = dir / "password";
    camrelay::test::write_file(p, "s3cret\nsecond line\n");
    ::chmod(p.c_str(), 0600);
    std::string err, out;
    EXPECT_TRUE(camrelay::fs::check_secret_file(p, "password file", err)) << err;
    EXPECT_TRUE(camrelay::fs::read_secret_line(p, "password file", out, err)) << err;
    EXPECT_EQ(out, "s3cret");
    EXPECT_TRUE(camrelay::fs::read_secret_file(p, "password file", 1024, out, err)) << err;
    EXPECT_EQ(out, "s3cret\nsecond line\n");
}

TEST(CoreFsSecret, GroupReadableIsRefused)
{
    camrelay::test::temp_dir dir;
    auto p = dir / "password";
    camrelay::test::write_file(p, "s3cret\n");
    ::chmod(p.c_str(), 0644);
    std::string err, out;
    EXPECT_FALSE(camrelay::fs::check_secret_file(p, "password file", err));
    EXPECT_NE(err.find("mode 0644"), std::string::npos) << err;
    EXPECT_NE(err.find("chmod 600"), std::string::npos) << err;
    err.clear();
    EXPECT_FALSE(camrelay::fs::read_secret_line(p, "password file", out, err));
    EXPECT_NE(err.find("mode 0644"), std::string::npos) << err;
}

TEST(CoreFsSecret, FifoIsRefusedWithoutBlocking)
{
    camrelay::test::temp_dir dir;
    auto p = dir / "password";
    ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
    std::string e1, e2, e3;
    EXPECT_FALSE(returns_quickly(p, [&] {
        return camrelay::fs::check_secret_file(p, "password file", e1);
    }));
    EXPECT_FALSE(returns_quickly(p, [&] {
        std::string out;
        return camrelay::fs::read_secret_line(p, "password file", out, e2);
    }));
    EXPECT_FALSE(returns_quickly(p, [&] {
        std::string out;
        return camrelay::fs::read_secret_file(p, "secret file", 64 * 1024, out, e3);
    }));
    for (auto const* e : {&e1, &e2, &e3})
    {
        EXPECT_NE(e->find(p.string() + " is not a regular file"), std::string::npos) << *e;
        EXPECT_NE(e->find("FIFO"), std::string::npos) << *e;
    }
}

TEST(CoreFsSecret, SymlinkToAPrivateFileIsFollowed)
{
    camrelay::test::temp_dir dir;
    auto target = dir / "real";
    camrelay::test::write_file(target, "s3cret\n");
    ::chmod(target.c_str(), 0600);
    auto link = dir / "password";
    std::filesystem::create_symlink(target, link);
    std::string err, out;
    EXPECT_TRUE(camrelay::fs::check_secret_file(link, "password file", err)) << err;
    EXPECT_TRUE(camrelay::fs::read_secret_line(link, "password file", out, err)) << err;
    EXPECT_EQ(out, "s3cret");
}

TEST(CoreFsSecret, SymlinkToAFifoIsRefusedWithoutBlocking)
{
    camrelay::test::temp_dir dir;
    auto fifo = dir / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto link = dir / "password";
    std::filesystem::create_symlink(fifo, link);
    std::string err, out;
    EXPECT_FALSE(camrelay::fs::read_secret_line(link, "password file", out, err));
    EXPECT_NE(err.find("is not a regular file (it is a FIFO)"), std::string::npos) << err;
    EXPECT_TRUE(out.empty());
}

TEST(CoreFsSecret, FolderAndDeviceAreRefused)
{
    camrelay::test::temp_dir dir;
    std::string err, out;
    EXPECT_FALSE(camrelay::fs::read_secret_line(dir.path(), "password file", out, err));
    EXPECT_NE(err.find("is not a regular file (it is a folder)"), std::string::npos) << err;
    // /dev/zero would give bytes for ever; it is refused before a byte is read.
    EXPECT_FALSE(camrelay::fs::read_secret_file("/dev/zero", "secret file", 64, out, err));
    EXPECT_NE(err.find("is not a regular file"), std::string::npos) << err;
}

TEST(CoreFsSecret, SizeIsBoundedNeverCut)
{
    camrelay::test::temp_dir dir;
    auto p = dir / "key";
    camrelay::test::write_file(p, std::string(100, 'k'));
    ::chmod(p.c_str(), 0600);
    std::string err, out;
    EXPECT_FALSE(camrelay::fs::read_secret_file(p, "secret file", 99, out, err));
    EXPECT_NE(err.find("is larger than 99 bytes"), std::string::npos) << err;
    EXPECT_TRUE(out.empty());
    EXPECT_TRUE(camrelay::fs::read_secret_file(p, "secret file", 100, out, err)) << err;
    EXPECT_EQ(out.size(), 100u);
    auto big = dir / "password";
    camrelay::test::write_file(big, "pw\n" + std::string(camrelay::fs::secret_line_max_bytes, 'x'));
    ::chmod(big.c_str(), 0600);
    EXPECT_FALSE(camrelay::fs::read_secret_line(big, "password file", out, err));
    EXPECT_NE(err.find("is larger than 65536 bytes"), std::string::npos) << err;
}

TEST(CoreFsSecret, MissingFileSaysWhy)
{
    camrelay::test::temp_dir dir;
    std::string err;
    EXPECT_FALSE(camrelay::fs::check_secret_file(dir / "nope", "password file", err));
    EXPECT_NE(err.find("cannot be read: No such file or directory"), std::string::npos) << err;
}

// ----------------------------------------------------------------------------- open_beneath

class CoreFsBeneath : public ::testing::Test
{
protected:
    void SetUp() override
    {
        card_ = dir_ / "card";
        camrelay::test::write_file(card_ / "DCIM/100TEST/IMG_0001.JPG", "photo-1");
        camrelay::test::write_file(dir_ / "outside/secret.txt", "outside!");
        root_.reset(::open(card_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        ASSERT_TRUE(root_);
    }

    camrelay::fs::unique_fd open(std::string_view rel, bool want_dir,
                                 camrelay::fs::beneath_problem& problem)
    {
        struct stat st{};
        return camrelay::fs::open_beneath(root_.get(), rel, want_dir, st, problem);
    }

    std::string read_all(int fd)
    {
        std::string out;
        char buf[256];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0)
            out.append(buf, static_cast<std::size_t>(n));
        return out;
    }

    camrelay::test::temp_dir dir_;
    std::filesystem::path card_;
    camrelay::fs::unique_fd root_;
};

TEST_F(CoreFsBeneath, RegularFilesAndFoldersOpen)
{
    camrelay::fs::beneath_problem problem;
    auto f = open("DCIM/100TEST/IMG_0001.JPG", false, problem);
    ASSERT_TRUE(f) << problem.entry << ": " << problem.reason;
    EXPECT_EQ(read_all(f.get()), "photo-1");
    auto d = open("DCIM/100TEST", true, problem);
    EXPECT_TRUE(d) << problem.reason;
    auto r = open("", true, problem);
    EXPECT_TRUE(r) << problem.reason;
    // The wrong kind is refused both ways.
    EXPECT_FALSE(open("DCIM", false, problem));
    EXPECT_EQ(problem.reason, "folder");
    EXPECT_FALSE(open("DCIM/100TEST/IMG_0001.JPG", true, problem));
    EXPECT_EQ(problem.reason, "regular file");
}

TEST_F(CoreFsBeneath, SymlinkedFileIsRefusedEvenWithAMatchingSize)
{
    // The link text padded to the target's length: lstat and stat give the same size.
    auto target = (dir_ / "outside/secret.txt").string();
    camrelay::test::write_file(target, std::string(target.size(), 'S'));
    auto link = card_ / "DCIM/100TEST/IMG_0002.JPG";
    std::filesystem::create_symlink(target, link);
    ASSERT_EQ(std::filesystem::file_size(target), std::filesystem::symlink_status(link).type() ==
                                                          std::filesystem::file_type::symlink
                                                      ? target.size()
                                                      : 0u);
    camrelay::fs::beneath_problem problem;
    EXPECT_FALSE(open("DCIM/100TEST/IMG_0002.JPG", false, problem));
    EXPECT_EQ(problem.entry, "DCIM/100TEST/IMG_0002.JPG");
    EXPECT_EQ(problem.reason, "symlink");
}

TEST_F(CoreFsBeneath, SymlinkedFolderIsRefused)
{
    std::filesystem::create_directory_symlink(dir_ / "outside", card_ / "DCIM/101LINK");
    std::filesystem::create_directory_symlink("100TEST", card_ / "DCIM/102SAME");
    camrelay::fs::beneath_problem problem;
    EXPECT_FALSE(open("DCIM/101LINK/secret.txt", false, problem));
    EXPECT_EQ(problem.entry, "DCIM/101LINK");
    EXPECT_EQ(problem.reason, "symlink");
    EXPECT_FALSE(open("DCIM/101LINK", true, problem));
    EXPECT_EQ(problem.reason, "symlink");
    // Even a link that stays inside the card: a folder is taken as itself only.
    EXPECT_FALSE(open("DCIM/102SAME/IMG_0001.JPG", false, problem));
    EXPECT_EQ(problem.entry, "DCIM/102SAME");
}

TEST_F(CoreFsBeneath, DotDotAndEmptyComponentsAreRefused)
{
    camrelay::fs::beneath_problem problem;
    EXPECT_FALSE(open("../outside/secret.txt", false, problem));
    EXPECT_EQ(problem.err, EINVAL);
    EXPECT_FALSE(open("DCIM/../../outside/secret.txt", false, problem));
    EXPECT_FALSE(open("DCIM//100TEST/IMG_0001.JPG", false, problem));
    EXPECT_FALSE(open("./DCIM", true, problem));
    EXPECT_FALSE(open("/etc/passwd", false, problem));
}

TEST_F(CoreFsBeneath, FifoIsNeverOpened)
{
    auto fifo = card_ / "DCIM/100TEST/IMG_0003.JPG";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    camrelay::fs::beneath_problem problem;
    bool opened = returns_quickly(fifo, [&] {
        return static_cast<bool>(open("DCIM/100TEST/IMG_0003.JPG", false, problem));
    });
    EXPECT_FALSE(opened);
    EXPECT_EQ(problem.reason, "FIFO");
}

TEST_F(CoreFsBeneath, SocketAndDeviceAreRefused)
{
    auto sock_path = card_ / "DCIM/100TEST/IMG_0004.JPG";
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(s, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(sock_path.string().size(), sizeof addr.sun_path);
    std::strncpy(addr.sun_path, sock_path.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    camrelay::fs::beneath_problem problem;
    EXPECT_FALSE(open("DCIM/100TEST/IMG_0004.JPG", false, problem));
    EXPECT_EQ(problem.reason, "socket");
    ::close(s);
    auto dev = card_ / "DCIM/100TEST/IMG_0005.JPG";
    if (::mknod(dev.c_str(), S_IFCHR | 0644, makedev(1, 5)) != 0)  // /dev/zero's numbers
        GTEST_SKIP() << "cannot create a device node here (not root)";
    EXPECT_FALSE(open("DCIM/100TEST/IMG_0005.JPG", false, problem));
    EXPECT_EQ(problem.reason, "character device");
}

TEST_F(CoreFsBeneath, ListDirSeesLinksAsLinks)
{
    std::filesystem::create_symlink(dir_ / "outside/secret.txt", card_ / "DCIM/100TEST/L.JPG");
    ASSERT_EQ(::mkfifo((card_ / "DCIM/100TEST/F.JPG").c_str(), 0644), 0);
    camrelay::fs::beneath_problem problem;
    auto d = open("DCIM/100TEST", true, problem);
    ASSERT_TRUE(d);
    std::vector<camrelay::fs::dir_entry> entries;
    bool truncated = true;
    ASSERT_FALSE(camrelay::fs::list_dir(d.get(), entries, 100, truncated));
    EXPECT_FALSE(truncated);
    std::map<std::string, std::string> kinds;
    for (auto const& e : entries)
        kinds[e.name] = std::string(camrelay::fs::kind_name(e.st.st_mode));
    EXPECT_EQ(kinds, (std::map<std::string, std::string>{
                         {"F.JPG", "FIFO"}, {"IMG_0001.JPG", "regular file"}, {"L.JPG", "symlink"}}));
    // Listing twice gives the same (the descriptor's position is not used up).
    std::vector<camrelay::fs::dir_entry> again;
    ASSERT_FALSE(camrelay::fs::list_dir(d.get(), again, 100, truncated));
    EXPECT_EQ(again.size(), 3u);
    std::vector<camrelay::fs::dir_entry> few;
    ASSERT_FALSE(camrelay::fs::list_dir(d.get(), few, 2, truncated));
    EXPECT_TRUE(truncated);
    EXPECT_EQ(few.size(), 2u);
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
