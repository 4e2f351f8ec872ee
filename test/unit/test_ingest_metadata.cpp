// ingest/metadata: EXIF date parsing, media types, and read_exif on a JPEG built here byte by
// byte (little-endian TIFF inside an APP1 segment), so no external tool or fixture is needed.
#include "ingest/metadata.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace
{

using camrelay::ingest::media_type_of;
using camrelay::ingest::parse_exif_datetime;
using camrelay::ingest::read_exif;

TEST(IngestMetadata, ParsesExifDateTimeAsUtc)
{
    EXPECT_EQ(parse_exif_datetime("2024:05:01 12:00:01"), 1714564801);
    EXPECT_EQ(parse_exif_datetime("1970:01:01 00:00:00"), 0);
    EXPECT_EQ(parse_exif_datetime("2000:02:29 23:59:59"), 951868799);
}

TEST(IngestMetadata, RejectsMalformedDates)
{
    for (char const* bad :
         {"", "    :  :     :  :  ", "2024-05-01 12:00:01", "2024:05:01", "2024:13:01 00:00:00",
          "2024:00:10 00:00:00", "2024:05:32 00:00:00", "2024:05:01 24:00:00",
          "2024:05:01 12:60:00", "1969:12:31 23:59:59", "garbage"})
        EXPECT_FALSE(parse_exif_datetime(bad).has_value()) << '"' << bad << '"';
}

TEST(IngestMetadata, MediaTypeFromExtension)
{
    EXPECT_EQ(media_type_of("IMG_0001.JPG"), "image");
    EXPECT_EQ(media_type_of("a.jpeg"), "image");
    EXPECT_EQ(media_type_of("a.HEIC"), "image");
    EXPECT_EQ(media_type_of("a.png"), "image");
    EXPECT_EQ(media_type_of("a.CR2"), "raw");
    EXPECT_EQ(media_type_of("a.cr3"), "raw");
    EXPECT_EQ(media_type_of("DSCF0001.RAF"), "raw");
    EXPECT_EQ(media_type_of("a.NEF"), "raw");
    EXPECT_EQ(media_type_of("a.dng"), "raw");
    EXPECT_EQ(media_type_of("MVI_1.MOV"), "video");
    EXPECT_EQ(media_type_of("a.mp4"), "video");
    EXPECT_EQ(media_type_of("00001.MTS"), "video");
    EXPECT_EQ(media_type_of("a.xmp"), "other");
    EXPECT_EQ(media_type_of("README"), "other");
    EXPECT_EQ(media_type_of(""), "other");
    EXPECT_EQ(media_type_of("archive.jpg.zip"), "other");
}

// Minimal TIFF/EXIF writer: ASCII entries only, plus the Exif IFD pointer.
struct ascii_entry
{
    std::uint16_t tag;
    std::string value; // without the terminating NUL
};

void put16(std::string& s, std::size_t at, std::uint32_t v)
{
    s[at] = static_cast<char>(v & 0xFF);
    s[at + 1] = static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& s, std::size_t at, std::uint32_t v)
{
    put16(s, at, v & 0xFFFF);
    put16(s, at + 2, v >> 16);
}

// Writes an IFD at the end of `tiff` with `entries` (+ an Exif pointer placeholder when
// `exif_pointer`); returns the offset of the pointer's value field (or 0).
std::size_t write_ifd(std::string& tiff, std::vector<ascii_entry> const& entries, bool exif_pointer)
{
    std::size_t count = entries.size() + (exif_pointer ? 1 : 0);
    std::size_t ifd = tiff.size();
    tiff.resize(ifd + 2 + count * 12 + 4, '\0');
    put16(tiff, ifd, static_cast<std::uint32_t>(count));
    std::size_t pointer_field = 0;
    std::size_t e = ifd + 2;
    for (auto const& entry : entries)
    {
        put16(tiff, e, entry.tag);
        put16(tiff, e + 2, 2); // ASCII
        auto len = static_cast<std::uint32_t>(entry.value.size() + 1);
        put32(tiff, e + 4, len);
        if (len <= 4)
        {
            for (std::size_t i = 0; i < entry.value.size(); ++i)
                tiff[e + 8 + i] = entry.value[i];
        }
        else
        {
            if (tiff.size() % 2)
                tiff.push_back('\0');
            put32(tiff, e + 8, static_cast<std::uint32_t>(tiff.size()));
            tiff += entry.value;
            tiff.push_back('\0');
        }
        e += 12;
    }
    if (exif_pointer)
    {
        put16(tiff, e, 0x8769);
        put16(tiff, e + 2, 4); // LONG
        put32(tiff, e + 4, 1);
        pointer_field = e + 8;
    }
    if (tiff.size() % 2)
        tiff.push_back('\0');
    return pointer_field;
}

std::string make_jpeg_with_exif(std::vector<ascii_entry> const& ifd0,
                                std::vector<ascii_entry> const& exif_ifd)
{
    std::string tiff = "II";
    tiff.resize(8, '\0');
    put16(tiff, 2, 42);
    put32(tiff, 4, 8);
    auto pointer = write_ifd(tiff, ifd0, !exif_ifd.empty());
    if (!exif_ifd.empty())
    {
        put32(tiff, pointer, static_cast<std::uint32_t>(tiff.size()));
        write_ifd(tiff, exif_ifd, false);
    }
    std::string app1 = std::string("Exif\0\0", 6) + tiff;
    std::string jpeg = "\xFF\xD8\xFF\xE1";
    auto len = app1.size() + 2;
    jpeg.push_back(static_cast<char>((len >> 8) & 0xFF));
    jpeg.push_back(static_cast<char>(len & 0xFF));
    jpeg += app1;
    jpeg += "\xFF\xD9";
    return jpeg;
}

TEST(IngestMetadata, ReadsExifFromAJpeg)
{
    camrelay::test::temp_dir dir;
    auto path = dir / "IMG_0001.JPG";
    camrelay::test::write_file(
        path, make_jpeg_with_exif({{0x010F, "Canon"},
                                   {0x0110, "Canon EOS 400D DIGITAL"},
                                   {0x0132, "2030:01:01 00:00:00"}},
                                  {{0x9003, "2024:05:01 12:00:01"}, {0xA431, "0123456789"}}));
    auto facts = read_exif(path.string());
    EXPECT_EQ(facts.make, "Canon");
    EXPECT_EQ(facts.model, "Canon EOS 400D DIGITAL");
    ASSERT_TRUE(facts.capture_time.has_value());
    EXPECT_EQ(*facts.capture_time, 1714564801) << "DateTimeOriginal wins over DateTime";
    EXPECT_EQ(facts.serial, "0123456789");
}

TEST(IngestMetadata, FallsBackToDateTime)
{
    camrelay::test::temp_dir dir;
    auto path = dir / "a.jpg";
    camrelay::test::write_file(path, make_jpeg_with_exif({{0x0132, "2024:05:01 12:00:01"}}, {}));
    auto facts = read_exif(path.string());
    ASSERT_TRUE(facts.capture_time.has_value());
    EXPECT_EQ(*facts.capture_time, 1714564801);
    EXPECT_EQ(facts.make, "");
}

TEST(IngestMetadata, NoExifGivesNothing)
{
    camrelay::test::temp_dir dir;
    camrelay::test::write_file(dir / "plain.jpg", "\xFF\xD8\xFF\xD9");
    camrelay::test::write_file(dir / "text.txt", "hello, not an image");
    for (auto const* name : {"plain.jpg", "text.txt", "missing.jpg"})
    {
        auto facts = read_exif((dir / name).string());
        EXPECT_FALSE(facts.capture_time.has_value()) << name;
        EXPECT_EQ(facts.make, "") << name;
        EXPECT_EQ(facts.model, "") << name;
    }
}

} // namespace
