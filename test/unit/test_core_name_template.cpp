// name_template: parsing, every placeholder, path vs literal mode, escapes, fixed_prefix_dir.
#include "core/name_template.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace
{

using camrelay::asset_info;
using camrelay::name_template;
using mode = camrelay::name_template::mode;

name_template parsed(std::string const& text)
{
    name_template t;
    std::string err;
    EXPECT_TRUE(name_template::parse(text, t, err)) << text << ": " << err;
    return t;
}

std::string parse_error(std::string const& text)
{
    name_template t;
    std::string err;
    EXPECT_FALSE(name_template::parse(text, t, err)) << text;
    return err;
}

asset_info sample()
{
    asset_info a;
    a.id = 7;
    a.sha256 = "ab12cd";
    a.size = 12345;
    a.capture_time = 1714564801; // 2024-05-01 12:00:01 UTC
    a.camera_key = "usb:Canon:EOS 400D:1234";
    a.camera_name = "EOS400D";
    a.manufacturer = "Canon";
    a.model = "EOS 400D";
    a.serial = "1234";
    a.source_kind = "usb";
    a.folder = "/DCIM/100CANON";
    a.name = "IMG_0001.JPG";
    a.spool_path = "/var/spool/1/abc-IMG_0001.JPG";
    a.seq = 42;
    return a;
}

TEST(CoreNameTemplate, UnknownPlaceholderIsAnError)
{
    auto err = parse_error("/x/{nmae}");
    EXPECT_NE(err.find("unknown placeholder {nmae}"), std::string::npos) << err;
}

TEST(CoreNameTemplate, UnclosedBraceIsAnError)
{
    auto err = parse_error("/x/{name");
    EXPECT_NE(err.find("unclosed"), std::string::npos) << err;
}

TEST(CoreNameTemplate, UnmatchedClosingBraceIsAnError)
{
    auto err = parse_error("/x/name}");
    EXPECT_NE(err.find("unmatched"), std::string::npos) << err;
}

TEST(CoreNameTemplate, EmptyDateFormatIsAnError)
{
    auto err = parse_error("/x/{date:}");
    EXPECT_NE(err.find("{date:}"), std::string::npos) << err;
}

TEST(CoreNameTemplate, OnlyDateTakesAFormat)
{
    auto err = parse_error("/x/{name:upper}");
    EXPECT_NE(err.find("only {date:FORMAT}"), std::string::npos) << err;
}

TEST(CoreNameTemplate, FailedParseLeavesNoUsableTemplate)
{
    name_template t = parsed("/keep/{name}");
    std::string err;
    EXPECT_FALSE(name_template::parse("{bogus}", t, err));
    EXPECT_FALSE(err.empty());
}

TEST(CoreNameTemplate, ExpandsEveryPlaceholder)
{
    auto a = sample();
    struct
    {
        char const* text;
        char const* expected;
    } const cases[] = {
        {"{camera}", "EOS400D"},
        {"{model}", "EOS 400D"},
        {"{serial}", "1234"},
        {"{manufacturer}", "Canon"},
        {"{source}", "usb"},
        {"{name}", "IMG_0001.JPG"},
        {"{stem}", "IMG_0001"},
        {"{ext}", "JPG"},
        {"{seq}", "42"},
        {"{sha256}", "ab12cd"},
        {"{size}", "12345"},
        {"{path}", "/var/spool/1/abc-IMG_0001.JPG"},
        {"{date}", "2024-05-01"},
        {"{date:%Y/%m/%d %H:%M:%S}", "2024/05/01 12:00:01"},
        {"{date:%Y}-{seq}-{stem}.{ext}", "2024-42-IMG_0001.JPG"},
    };
    for (auto const& c : cases)
    {
        auto t = parsed(c.text);
        EXPECT_EQ(t.expand(a, mode::literal), c.expected) << c.text;
        EXPECT_EQ(t.expand(a, mode::path), c.expected) << c.text;
    }
}

TEST(CoreNameTemplate, MissingCameraFactsGetPlaceholderWords)
{
    asset_info a;
    a.name = "x.jpg";
    EXPECT_EQ(parsed("{camera}/{model}/{serial}/{manufacturer}").expand(a, mode::path),
              "camera/unknown/unknown/unknown");
}

TEST(CoreNameTemplate, NameWithoutExtensionHasEmptyExt)
{
    auto a = sample();
    a.name = "README";
    EXPECT_EQ(parsed("{stem}|{ext}").expand(a, mode::path), "README|");
    a.name = ".hidden";
    // A leading dot is not an extension separator.
    EXPECT_EQ(parsed("{stem}|{ext}").expand(a, mode::literal), ".hidden|");
}

TEST(CoreNameTemplate, PathModeMakesCameraNamesOneSafeComponent)
{
    auto a = sample();
    auto t = parsed("/dest/{camera}/{name}");
    a.name = "../../etc/passwd";
    a.camera_name = "a/b";
    auto out = t.expand(a, mode::path);
    ASSERT_EQ(out.rfind("/dest/", 0), 0u) << out;
    auto rest = out.substr(6);
    auto slash = rest.find('/');
    ASSERT_NE(slash, std::string::npos) << out;
    auto camera = rest.substr(0, slash);
    auto name = rest.substr(slash + 1);
    EXPECT_EQ(camera.find('/'), std::string::npos) << out;
    EXPECT_EQ(name.find('/'), std::string::npos) << out;
    EXPECT_NE(name, "..");
    EXPECT_NE(name.front(), '.') << out;
    EXPECT_EQ(out.find("/../"), std::string::npos) << out;
    // Exactly three separators: /dest/CAMERA/NAME.
    EXPECT_EQ(std::count(out.begin(), out.end(), '/'), 3) << out;
}

TEST(CoreNameTemplate, PathModeSanitizesEveryCameraSuppliedField)
{
    asset_info a;
    a.camera_name = "../c";
    a.model = "m/1";
    a.serial = "s\n2";
    a.manufacturer = "..";
    a.source_kind = "u/s";
    a.name = "../n.j/pg";
    auto out = parsed("{camera}|{model}|{serial}|{manufacturer}|{source}|{name}|{stem}|{ext}")
                   .expand(a, mode::path);
    EXPECT_EQ(out.find('/'), std::string::npos) << out;
    EXPECT_EQ(out.find('\n'), std::string::npos) << out;
    EXPECT_EQ(out.find("|..|"), std::string::npos) << out;
}

TEST(CoreNameTemplate, LiteralModeLeavesValuesAsTheyAre)
{
    auto a = sample();
    a.name = "../../etc/passwd";
    a.camera_name = "a/b";
    EXPECT_EQ(parsed("{camera} {name}").expand(a, mode::literal), "a/b ../../etc/passwd");
    a.name = "x;$(touch y) `z`.jpg";
    EXPECT_EQ(parsed("{name}").expand(a, mode::literal), "x;$(touch y) `z`.jpg");
}

TEST(CoreNameTemplate, DoubledBracesAreLiteralBraces)
{
    auto a = sample();
    auto t = parsed("{{name}} {{{name}}} }}{{");
    EXPECT_EQ(t.expand(a, mode::path), "{name} {IMG_0001.JPG} }{");
}

TEST(CoreNameTemplate, TextIsKeptAndEmptyIsEmpty)
{
    auto t = parsed("/a/{name}");
    EXPECT_EQ(t.text(), "/a/{name}");
    EXPECT_FALSE(t.empty());
    EXPECT_TRUE(parsed("").empty());
}

TEST(CoreNameTemplate, FixedPrefixDir)
{
    EXPECT_EQ(parsed("/srv/photos/{camera}/{name}").fixed_prefix_dir(), "/srv/photos/");
    EXPECT_EQ(parsed("/srv/photos/IMG-{name}").fixed_prefix_dir(), "/srv/photos/");
    EXPECT_EQ(parsed("/srv/ph{camera}/x/{name}").fixed_prefix_dir(), "/srv/");
    EXPECT_EQ(parsed("/srv/a/b.jpg").fixed_prefix_dir(), "/srv/a/");
    EXPECT_EQ(parsed("{camera}/x").fixed_prefix_dir(), ".");
    EXPECT_EQ(parsed("/srv/{{x}}/{name}").fixed_prefix_dir(), "/srv/{x}/");
}

TEST(CoreNameTemplate, FormatCaptureTimeIsUtc)
{
    EXPECT_EQ(camrelay::format_capture_time(0, "%Y-%m-%d %H:%M:%S"), "1970-01-01 00:00:00");
    EXPECT_EQ(camrelay::format_capture_time(1714564801, "%H"), "12");
}

} // namespace
