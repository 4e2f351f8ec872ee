// What the pipeline knows about one photo or video once it has arrived in the spool.
#pragma once

#include <cstdint>
#include <string>

namespace camrelay {

struct asset_info
{
    std::int64_t id = 0;
    std::string sha256;              ///< hex digest of the content
    std::uint64_t size = 0;
    /// The camera's wall clock at capture (EXIF DateTimeOriginal, else the listing's time),
    /// as seconds since 1970 read as UTC: cameras keep no time zone, so neither do we.
    std::int64_t capture_time = 0;
    std::string camera_key;          ///< stable camera identity, e.g. "usb:Canon:EOS 400D:1234"
    std::string camera_name;         ///< short human name (model, or the folder for disk:)
    std::string manufacturer;
    std::string model;
    std::string serial;
    std::string source_kind;         ///< "usb", later "ptpip", "fuji", "samsung"
    std::string folder;              ///< folder on the camera (untrusted)
    std::string name;                ///< file name on the camera (untrusted)
    std::string mime;
    std::string spool_path;          ///< where the content is now
    std::int64_t seq = 0;            ///< arrival number of this asset for its camera, from 1
};

} // namespace camrelay
