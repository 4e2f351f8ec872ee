// The router: which sinks get an asset, from the [[route]] match keys.
#include "pipeline/router.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace
{

using camrelay::config::route_settings;
using camrelay::pipeline::route_facts;
using camrelay::pipeline::router;
using names = std::vector<std::string>;

route_settings to(names sinks)
{
    route_settings r;
    r.to = std::move(sinks);
    return r;
}

route_facts canon(std::string file)
{
    route_facts f;
    f.source_kind = "usb";
    f.camera_name = "EOS400D";
    f.model = "Canon EOS 400D";
    f.camera_identity = "usb:Canon:EOS 400D:1234";
    f.file_name = std::move(file);
    return f;
}

TEST(PipelineRouter, NoRoutesNoDestinations)
{
    router r({});
    EXPECT_TRUE(r.destinations(canon("a.jpg")).empty());
}

TEST(PipelineRouter, RouteWithoutMatchKeysTakesEverything)
{
    router r({to({"nas"})});
    EXPECT_EQ(r.destinations(canon("a.jpg")), names{"nas"});
    EXPECT_EQ(r.destinations(canon("movie.MOV")), names{"nas"});
    EXPECT_EQ(r.destinations(route_facts{}), names{"nas"});
}

TEST(PipelineRouter, SourceKindMustMatch)
{
    auto r1 = to({"usb-only"});
    r1.source = {"usb"};
    auto r2 = to({"ptp-only"});
    r2.source = {"ptpip", "fuji"};
    router r({r1, r2});
    EXPECT_EQ(r.destinations(canon("a.jpg")), names{"usb-only"});
    auto f = canon("a.jpg");
    f.source_kind = "fuji";
    EXPECT_EQ(r.destinations(f), names{"ptp-only"});
}

TEST(PipelineRouter, CameraGlobsMatchNameModelOrIdentityIgnoringCase)
{
    auto by_name = to({"a"});
    by_name.camera = {"eos*"};
    auto by_model = to({"b"});
    by_model.camera = {"*400d"};
    auto by_identity = to({"c"});
    by_identity.camera = {"usb:canon:*:1234"};
    auto other = to({"d"});
    other.camera = {"X-T*", "GFX*"};
    router r({by_name, by_model, by_identity, other});
    EXPECT_EQ(r.destinations(canon("a.jpg")), (names{"a", "b", "c"}));
    auto fuji = canon("a.jpg");
    fuji.camera_name = "X-T3";
    fuji.model = "Fujifilm X-T3";
    fuji.camera_identity = "usb:Fuji:X-T3:9";
    EXPECT_EQ(r.destinations(fuji), names{"d"});
}

TEST(PipelineRouter, EmptyFactsNeverMatchAGlob)
{
    auto star = to({"a"});
    star.camera = {"*"};
    router r({star});
    route_facts f;
    f.file_name = "a.jpg";
    EXPECT_TRUE(r.destinations(f).empty());
}

TEST(PipelineRouter, ExtensionsIgnoreCaseAndALeadingDot)
{
    auto jpg = to({"jpg"});
    jpg.ext = {"jpg", ".jpeg"};
    router r({jpg});
    EXPECT_EQ(r.destinations(canon("IMG.JPG")), names{"jpg"});
    EXPECT_EQ(r.destinations(canon("img.jpg")), names{"jpg"});
    EXPECT_EQ(r.destinations(canon("img.JpEg")), names{"jpg"});
    EXPECT_TRUE(r.destinations(canon("img.CR2")).empty());
    EXPECT_TRUE(r.destinations(canon("jpg")).empty()) << "no extension at all";
    EXPECT_TRUE(r.destinations(canon("img.jpg.xmp")).empty());
}

TEST(PipelineRouter, MediaTypes)
{
    auto raw = to({"raw"});
    raw.type = {"raw"};
    auto video = to({"video"});
    video.type = {"video"};
    auto images = to({"img"});
    images.type = {"image", "other"};
    router r({raw, video, images});
    EXPECT_EQ(r.destinations(canon("IMG.CR2")), names{"raw"});
    EXPECT_EQ(r.destinations(canon("DSCF.RAF")), names{"raw"});
    EXPECT_EQ(r.destinations(canon("MVI.MOV")), names{"video"});
    EXPECT_EQ(r.destinations(canon("IMG.JPG")), names{"img"});
    EXPECT_EQ(r.destinations(canon("notes.txt")), names{"img"});
}

TEST(PipelineRouter, AllKeysOfARouteMustMatch)
{
    auto r1 = to({"canon-raw"});
    r1.camera = {"EOS*"};
    r1.type = {"raw"};
    r1.source = {"usb"};
    router r({r1});
    EXPECT_EQ(r.destinations(canon("a.CR2")), names{"canon-raw"});
    EXPECT_TRUE(r.destinations(canon("a.JPG")).empty());
    auto f = canon("a.CR2");
    f.camera_name = "Nikon";
    f.model = "D750";
    f.camera_identity = "usb:Nikon:D750:1";
    EXPECT_TRUE(r.destinations(f).empty());
}

TEST(PipelineRouter, UnionInConfigOrderWithoutRepeats)
{
    auto jpg = to({"cloud", "nas"});
    jpg.ext = {"jpg"};
    auto all = to({"nas", "backup", "nas"});
    auto raw = to({"raw-store"});
    raw.type = {"raw"};
    auto again = to({"backup", "archive"});
    router r({jpg, all, raw, again});
    EXPECT_EQ(r.destinations(canon("a.jpg")), (names{"cloud", "nas", "backup", "archive"}));
    EXPECT_EQ(r.destinations(canon("a.cr2")), (names{"nas", "backup", "raw-store", "archive"}));
}

} // namespace
