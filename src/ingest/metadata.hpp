// What a file says about itself: EXIF capture time and camera, read from the spooled copy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace camrelay::ingest {

struct exif_facts
{
    std::optional<std::int64_t> capture_time;  ///< DateTimeOriginal (or DateTime), read as UTC
    std::string make;
    std::string model;
    std::string serial;  ///< BodySerialNumber when the camera writes it
};

/// Reads EXIF from the start of a JPEG/TIFF-based file (JPG, many RAW formats). libexif's loader
/// stops once it has the EXIF block, so this reads kilobytes, not the whole file.
exif_facts read_exif(std::string const& path);

/// "2024:05:01 12:00:01" -> seconds since 1970 read as UTC; nullopt when malformed.
std::optional<std::int64_t> parse_exif_datetime(std::string const& text);

/// image | raw | video | other, from the file extension.
std::string media_type_of(std::string const& name);

} // namespace camrelay::ingest
