// Named quirk profiles of the camera simulator (`camrelay sim --quirk NAME`, repeatable): each
// makes the simulated camera behave like a real body that differs from the spec, or like a
// hostile peer, so a client can be tested against it. The one table (`quirk_table`) gives name and
// description; `camrelay sim --help` prints it. Hostile quirks are bounded in bytes and time so no
// test can hang or fill the machine.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace camrelay::sim
{

enum class quirk : std::uint8_t
{
    short_objectinfo,
    padded_objectinfo,
    storage_id_mismatch,
    handles_change,
    unreadable_objectinfo,
    nested_folders,
    big_video,
    camera_selected,
    endless_data,
    overlong_object,
    slow_drip,
};

struct quirk_entry
{
    quirk id;
    std::string_view name;
    std::string_view description;
    bool hostile; ///< a peer no client can import from completely; clients must end, bounded
};

std::span<quirk_entry const> quirk_table() noexcept;
std::optional<quirk> quirk_by_name(std::string_view name) noexcept;
std::string_view quirk_name(quirk q) noexcept;
/// The table as help text: one "  name  description" line per quirk.
std::string quirk_help();

/// A set of quirks (bit per enum value).
class quirk_set
{
  public:
    void add(quirk q) noexcept { bits_ |= bit(q); }
    bool has(quirk q) const noexcept { return (bits_ & bit(q)) != 0; }
    bool empty() const noexcept { return bits_ == 0; }

  private:
    static std::uint32_t bit(quirk q) noexcept { return 1u << static_cast<unsigned>(q); }
    std::uint32_t bits_ = 0;
};

// Bounds of the hostile quirks.
inline constexpr std::uint64_t endless_data_limit = 1ull << 30;     ///< then the link is closed
inline constexpr std::uint64_t overlong_object_extra = 64ull << 20; ///< bytes past the size
inline constexpr int slow_drip_seconds = 120;                       ///< 1 byte/s, then close
/// Files whose handle is a multiple of this answer GetObjectInfo with GeneralError
/// (unreadable-objectinfo).
inline constexpr std::uint32_t unreadable_every = 3;
/// Handle offset per session (handles-change): session k serves handle + k * this.
inline constexpr std::uint32_t handles_change_step = 1000;
/// big-video's synthetic object: over 4 GiB.
inline constexpr std::uint64_t big_video_size = (4ull << 30) + 123457;
inline constexpr std::string_view big_video_name = "BIGVIDEO.MOV";

} // namespace camrelay::sim
