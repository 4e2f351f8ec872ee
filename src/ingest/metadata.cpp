#include "ingest/metadata.hpp"

#include <libexif/exif-data.h>
#include <libexif/exif-loader.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace camrelay::ingest {

namespace {

std::string tag_text(ExifData* data, ExifIfd ifd, ExifTag tag)
{
    ExifEntry* e = exif_content_get_entry(data->ifd[ifd], tag);
    if (!e)
        return {};
    char buf[256] = {};
    exif_entry_get_value(e, buf, sizeof buf);
    std::string s(buf);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0'))
        s.pop_back();
    return s;
}

} // namespace

std::optional<std::int64_t> parse_exif_datetime(std::string const& text)
{
    int y, mo, d, h, mi, s;
    if (std::sscanf(text.c_str(), "%4d:%2d:%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6)
        return std::nullopt;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return static_cast<std::int64_t>(::timegm(&tm));
}

exif_facts read_exif(std::string const& path)
{
    exif_facts facts;
    ExifLoader* loader = exif_loader_new();
    if (!loader)
        return facts;
    exif_loader_write_file(loader, path.c_str());
    ExifData* data = exif_loader_get_data(loader);
    exif_loader_unref(loader);
    if (!data)
        return facts;
    auto when = tag_text(data, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL);
    if (when.empty())
        when = tag_text(data, EXIF_IFD_0, EXIF_TAG_DATE_TIME);
    facts.capture_time = parse_exif_datetime(when);
    facts.make = tag_text(data, EXIF_IFD_0, EXIF_TAG_MAKE);
    facts.model = tag_text(data, EXIF_IFD_0, EXIF_TAG_MODEL);
    facts.serial = tag_text(data, EXIF_IFD_EXIF, static_cast<ExifTag>(0xA431));  // BodySerialNumber
    exif_data_unref(data);
    return facts;
}

std::string media_type_of(std::string const& name)
{
    auto dot = name.rfind('.');
    if (dot == std::string::npos)
        return "other";
    std::string ext = name.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static constexpr std::string_view images[] = {"jpg", "jpeg", "heic", "heif", "png", "tif",
                                                  "tiff", "hif"};
    static constexpr std::string_view raws[] = {"raf", "cr2", "cr3", "crw", "nef", "nrw", "arw",
                                                "srw", "orf", "rw2", "pef", "dng", "raw", "x3f"};
    static constexpr std::string_view videos[] = {"mov", "mp4", "avi", "mts", "m2ts", "mpg",
                                                  "3gp", "mkv"};
    auto in = [&](auto const& list) {
        return std::find(std::begin(list), std::end(list), ext) != std::end(list);
    };
    if (in(images))
        return "image";
    if (in(raws))
        return "raw";
    if (in(videos))
        return "video";
    return "other";
}

} // namespace camrelay::ingest
