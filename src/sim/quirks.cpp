#include "sim/quirks.hpp"

#include <array>

namespace camrelay::sim
{

namespace
{

constexpr std::array<quirk_entry, 11> table{{
    {quirk::short_objectinfo, "short-objectinfo",
     "ObjectInfo ends after the CaptureDate string (no ModificationDate, no Keywords)", false},
    {quirk::padded_objectinfo, "padded-objectinfo",
     "ObjectInfo carries 12 extra zero bytes after the dataset", false},
    {quirk::storage_id_mismatch, "storage-id-mismatch",
     "ObjectInfo.StorageID is 0xSSSS0000, not the 0xSSSS0001 GetStorageIDs returned", false},
    {quirk::handles_change, "handles-change",
     "object handles differ on every session (handle + 1000 x sessions opened before)", false},
    {quirk::unreadable_objectinfo, "unreadable-objectinfo",
     "files whose handle is a multiple of 3 answer GetObjectInfo with GeneralError (2002)", false},
    {quirk::nested_folders, "nested-folders",
     "serve the card's folders at any depth (default: DCF depth, DCIM/1xxXXXXX)", false},
    {quirk::big_video, "big-video",
     "add a synthetic BIGVIDEO.MOV of 4 GiB + 123457 bytes in slot 1's root: "
     "ObjectCompressedSize 0xFFFFFFFF, 64-bit size by GetObjectPropValue(0xDC04)",
     false},
    {quirk::camera_selected, "camera-selected",
     "fuji: CameraState 1; the owner sent the first --select N photos, one after another as "
     "handle 1; the camera closes after the last",
     false},
    {quirk::endless_data, "endless-data",
     "hostile: GetObjectHandles' data phase never ends (Data packets up to 1 GiB, then close)",
     true},
    {quirk::overlong_object, "overlong-object",
     "hostile: GetObject and GetPartialObject stream 64 MiB past what was asked for", true},
    {quirk::slow_drip, "slow-drip",
     "hostile: object data at 1 byte per second, connection closed after 120 s", true},
}};

} // namespace

std::span<quirk_entry const> quirk_table() noexcept
{
    return table;
}

std::optional<quirk> quirk_by_name(std::string_view name) noexcept
{
    for (auto const& e : table)
        if (e.name == name)
            return e.id;
    return std::nullopt;
}

std::string_view quirk_name(quirk q) noexcept
{
    for (auto const& e : table)
        if (e.id == q)
            return e.name;
    return "?";
}

std::string quirk_help()
{
    std::string out = "Quirks (--quirk NAME, repeatable):\n";
    for (auto const& e : table)
    {
        out += "  ";
        out += e.name;
        out.append(e.name.size() < 24 ? 24 - e.name.size() : 1, ' ');
        out += e.description;
        out += '\n';
    }
    return out;
}

} // namespace camrelay::sim
