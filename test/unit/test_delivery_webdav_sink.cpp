// The webdav sink's pure parts: reading PROPFIND answers as real servers write them (rclone,
// nginx dav_ext, Apache mod_dav, Nextcloud/SabreDAV), URL path segments, numbered names, and
// its settings checks. Transfers are tested against the real servers in
// test/integration/test_webdav_sink.py.
#include "delivery/error.hpp"
#include "delivery/webdav/webdav_sink.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace
{

using namespace camrelay;
using namespace camrelay::delivery;

// Captured from rclone 1.60 `serve webdav` (one line, D: prefix, empty resourcetype).
constexpr char rclone_file[] =
    R"(<?xml version="1.0" encoding="UTF-8"?><D:multistatus xmlns:D="DAV:"><D:response>)"
    R"(<D:href>/a/b/f%20x.bin</D:href><D:propstat><D:prop><D:getcontentlength>300000)"
    R"(</D:getcontentlength><D:resourcetype></D:resourcetype></D:prop>)"
    R"(<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>)";

// rclone, a collection: the unknown getcontentlength comes back empty in a 404 propstat.
constexpr char rclone_collection[] =
    R"(<?xml version="1.0" encoding="UTF-8"?><D:multistatus xmlns:D="DAV:"><D:response>)"
    R"(<D:href>/a/</D:href><D:propstat><D:prop><D:resourcetype><D:collection xmlns:D="DAV:"/>)"
    R"(</D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat><D:propstat>)"
    R"(<D:prop><D:getcontentlength></D:getcontentlength></D:prop>)"
    R"(<D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response></D:multistatus>)";

// Captured from Apache 2.4 mod_dav_fs: live properties carry the lp1: prefix.
constexpr char apache_file[] = R"(<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:ns0="DAV:">
<D:response xmlns:lp1="DAV:" xmlns:lp2="http://apache.org/dav/props/">
<D:href>/a/b/f%20x.bin</D:href>
<D:propstat>
<D:prop>
<lp1:getcontentlength>300000</lp1:getcontentlength>
<lp1:resourcetype/>
</D:prop>
<D:status>HTTP/1.1 200 OK</D:status>
</D:propstat>
</D:response>
</D:multistatus>
)";

constexpr char apache_collection[] = R"(<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:ns0="DAV:">
<D:response xmlns:lp1="DAV:" xmlns:g0="DAV:">
<D:href>/a/</D:href>
<D:propstat>
<D:prop>
<lp1:resourcetype><D:collection/></lp1:resourcetype>
</D:prop>
<D:status>HTTP/1.1 200 OK</D:status>
</D:propstat>
<D:propstat>
<D:prop>
<g0:getcontentlength/>
</D:prop>
<D:status>HTTP/1.1 404 Not Found</D:status>
</D:propstat>
</D:response>
</D:multistatus>
)";

// Captured from nginx 1.22 with dav_ext.
constexpr char nginx_file[] = R"(<?xml version="1.0" encoding="utf-8" ?>
<D:multistatus xmlns:D="DAV:">
<D:response>
<D:href>/a/b/f%20x.bin</D:href>
<D:propstat>
<D:prop>
<D:getcontentlength>300000</D:getcontentlength>
<D:resourcetype></D:resourcetype>
</D:prop>
<D:status>HTTP/1.1 200 OK</D:status>
</D:propstat>
</D:response>
</D:multistatus>
)";

// The shape SabreDAV (Nextcloud) writes: lower-case d:, extra namespaces, a 404 propstat.
constexpr char sabre_file[] =
    R"(<?xml version="1.0"?>)"
    "\n"
    R"(<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" )"
    R"(xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">)"
    R"(<d:response><d:href>/remote.php/dav/files/u/Photos/IMG_0001.JPG</d:href>)"
    R"(<d:propstat><d:prop><d:getcontentlength>  4711 </d:getcontentlength><d:resourcetype/>)"
    R"(</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>)"
    R"(<d:propstat><d:prop><oc:checksums/></d:prop>)"
    R"(<d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response></d:multistatus>)";

TEST(WebdavPropfind, ReadsTheSizeWhateverThePrefix)
{
    for (auto const* xml : {rclone_file, apache_file, nginx_file})
    {
        auto r = webdav::parse_propfind(xml);
        EXPECT_TRUE(r.exists) << xml;
        EXPECT_FALSE(r.collection) << xml;
        ASSERT_TRUE(r.length) << xml;
        EXPECT_EQ(*r.length, 300000u) << xml;
    }
    auto r = webdav::parse_propfind(sabre_file);
    EXPECT_TRUE(r.exists);
    ASSERT_TRUE(r.length);
    EXPECT_EQ(*r.length, 4711u);
}

TEST(WebdavPropfind, CollectionsHaveNoSize)
{
    for (auto const* xml : {rclone_collection, apache_collection})
    {
        auto r = webdav::parse_propfind(xml);
        EXPECT_TRUE(r.exists) << xml;
        EXPECT_TRUE(r.collection) << xml;
        EXPECT_FALSE(r.length) << xml;
    }
}

TEST(WebdavPropfind, IgnoresValuesOutsideA2xxPropstat)
{
    auto r = webdav::parse_propfind(
        R"(<D:multistatus xmlns:D="DAV:"><D:response><D:href>/x</D:href><D:propstat><D:prop>)"
        R"(<D:getcontentlength>12</D:getcontentlength></D:prop>)"
        R"(<D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>)"
        R"(</D:multistatus>)");
    EXPECT_TRUE(r.exists);
    EXPECT_FALSE(r.length);
}

TEST(WebdavPropfind, OnlyTheFirstResponseCounts)
{
    // A server that ignores Depth: 0 lists children after the resource itself.
    auto r = webdav::parse_propfind(
        R"(<multistatus xmlns="DAV:"><response><href>/d/</href><propstat><prop><resourcetype>)"
        R"(<collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat>)"
        R"(</response><response><href>/d/f</href><propstat><prop><getcontentlength>5)"
        R"(</getcontentlength></prop><status>HTTP/1.1 200 OK</status></propstat></response>)"
        R"(</multistatus>)");
    EXPECT_TRUE(r.exists);
    EXPECT_TRUE(r.collection);
    EXPECT_FALSE(r.length);
}

TEST(WebdavPropfind, ResponseLevelErrorMeansAbsent)
{
    auto r = webdav::parse_propfind(
        R"(<D:multistatus xmlns:D="DAV:"><D:response><D:href>/x</D:href>)"
        R"(<D:status>HTTP/1.1 404 Not Found</D:status></D:response></D:multistatus>)");
    EXPECT_FALSE(r.exists);
}

TEST(WebdavPropfind, GarbageIsNotAFile)
{
    for (std::string_view xml :
         {"", "<", "not xml at all", "<D:multistatus", "<<<>>>", "<!-- <D:response> -->",
          "<D:response><D:propstat><D:prop>"
          "<D:getcontentlength>-3</D:getcontentlength>",
          "<D:response><D:propstat><D:prop><D:getcontentlength>"
          "99999999999999999999999</D:getcontentlength></D:prop>"
          "<D:status>HTTP/1.1 200 OK</D:status></D:propstat>"})
    {
        auto r = webdav::parse_propfind(xml);
        EXPECT_FALSE(r.length) << xml;
    }
}

TEST(WebdavSegments, EachSegmentIsEncoded)
{
    std::vector<std::string> s;
    ASSERT_TRUE(webdav::url_segments("2024/2024-05-01/a b#c?.jpg", s));
    EXPECT_EQ(s, (std::vector<std::string>{"2024", "2024-05-01", "a%20b%23c%3F.jpg"}));
    ASSERT_TRUE(webdav::url_segments("/x//y/", s));
    EXPECT_EQ(s, (std::vector<std::string>{"x", "y"}));
    ASSERT_TRUE(webdav::url_segments("caf\xc3\xa9/%2e%2e", s));
    EXPECT_EQ(s, (std::vector<std::string>{"caf%C3%A9", "%252e%252e"}));
}

TEST(WebdavSegments, DotSegmentsAndEmptyPathsAreRefused)
{
    std::vector<std::string> s;
    EXPECT_FALSE(webdav::url_segments("../x.jpg", s));
    EXPECT_FALSE(webdav::url_segments("a/./x.jpg", s));
    EXPECT_FALSE(webdav::url_segments("a/..", s));
    EXPECT_FALSE(webdav::url_segments("", s));
    EXPECT_FALSE(webdav::url_segments("///", s));
}

TEST(WebdavSegments, NumberedNames)
{
    EXPECT_EQ(webdav::numbered_name("IMG_0001.JPG", 1), "IMG_0001-1.JPG");
    EXPECT_EQ(webdav::numbered_name("a%20b.tar.gz", 2), "a%20b.tar-2.gz");
    EXPECT_EQ(webdav::numbered_name("README", 3), "README-3");
    EXPECT_EQ(webdav::numbered_name(".hidden", 1), ".hidden-1");
}

class WebdavSettings : public ::testing::Test
{
  protected:
    std::unique_ptr<sink> make(std::vector<std::pair<std::string, std::string>> const& opts)
    {
        config::sink_settings s;
        s.name = "dav";
        s.type = "webdav";
        s.line = 1;
        int line = 2;
        for (auto const& [k, v] : opts)
            s.options.set(k, v, line++);
        problems.clear();
        return find_sink_type("webdav")->make(s, problems);
    }
    std::string all_problems() const
    {
        std::string out;
        for (auto const& p : problems)
            out += std::to_string(p.line) + ": " + p.message + "\n";
        return out;
    }
    std::string secret(std::string const& text, unsigned mode)
    {
        auto p = (dir / "pw").string();
        test::write_file(p, text);
        ::chmod(p.c_str(), mode);
        return p;
    }

    test::temp_dir dir;
    std::vector<config::problem> problems;
};

TEST_F(WebdavSettings, MinimalAndFull)
{
    EXPECT_NE(make({{"url", "http://127.0.0.1:1/dav/"}}), nullptr) << all_problems();
    EXPECT_NE(make({{"url", "https://cloud.example.org/remote.php/dav/files/u/Photos"},
                    {"user", "u"},
                    {"password_file", secret("s3cret\n", 0600)},
                    {"path", "{camera}/{name}"}}),
              nullptr)
        << all_problems();
}

TEST_F(WebdavSettings, BadUrlsAreProblemsWithTheirLine)
{
    for (auto const* url : {"ftp://host/x", "not a url", "https://u:pw@host/dav",
                            "https://host/dav?x=1", "https://host/dav#frag"})
    {
        EXPECT_EQ(make({{"url", url}}), nullptr) << url;
        ASSERT_EQ(problems.size(), 1u) << url << "\n" << all_problems();
        EXPECT_EQ(problems[0].line, 2);
        EXPECT_NE(problems[0].message.find("[sink.dav]: url"), std::string::npos)
            << problems[0].message;
        EXPECT_EQ(problems[0].message.find("pw"), std::string::npos) << problems[0].message;
    }
}

TEST_F(WebdavSettings, PasswordFileMustBePrivate)
{
    EXPECT_EQ(
        make({{"url", "https://h/d"}, {"user", "u"}, {"password_file", secret("s3cret\n", 0644)}}),
        nullptr);
    ASSERT_EQ(problems.size(), 1u) << all_problems();
    EXPECT_NE(problems[0].message.find("chmod 600"), std::string::npos) << problems[0].message;
    EXPECT_EQ(problems[0].message.find("s3cret"), std::string::npos);

    EXPECT_EQ(make({{"url", "https://h/d"}, {"user", "u"}, {"password_file", secret("\n", 0600)}}),
              nullptr);
    EXPECT_NE(all_problems().find("empty"), std::string::npos) << all_problems();

    EXPECT_EQ(
        make(
            {{"url", "https://h/d"}, {"user", "u"}, {"password_file", (dir / "missing").string()}}),
        nullptr);
    EXPECT_EQ(make({{"url", "https://h/d"}, {"user", "u"}}), nullptr);
    EXPECT_NE(all_problems().find("needs password_file"), std::string::npos) << all_problems();
    EXPECT_EQ(make({{"url", "https://h/d"}, {"password_file", secret("x", 0600)}}), nullptr);
    EXPECT_NE(all_problems().find("needs user"), std::string::npos) << all_problems();
}

TEST_F(WebdavSettings, OtherProblemsAreAllListed)
{
    config::sink_settings s;
    s.name = "dav";
    s.type = "webdav";
    s.options.set("url", std::string("gopher://x"), 2);
    s.options.set("path", std::string("{nope}"), 3);
    s.options.set("ca_file", (dir / "missing.pem").string(), 4);
    s.options.set("connect_timeout", std::int64_t{0}, 5);
    s.options.set("stall_timeout", std::int64_t{99999}, 6);
    EXPECT_EQ(find_sink_type("webdav")->make(s, problems), nullptr);
    EXPECT_EQ(problems.size(), 5u) << all_problems();
}

} // namespace
