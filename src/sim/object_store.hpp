// The simulated camera's memory cards. Each root folder is one storage (slot 1 = 0x00010001,
// slot 2 = 0x00020001, ...). Below a root, folders become PTP associations (format 0x3001,
// GenericFolder) and regular files objects, each with a parent link (0 = in the storage root),
// as a real camera serves a DCF card (DCIM/100XXXXX/...); a flat folder of photos is a card whose
// photos sit in the storage root. Handles are 1, 2, 3 ... in the order entries were first seen
// (sorted by path at each scan) and never reused. Hidden entries (".name") are skipped, so a
// writer can create ".tmp" and rename it into place. Only regular files and real folders are
// served: symlinks, FIFOs, sockets and devices are skipped (never followed), so a card cannot make
// the simulator read outside its root. Folder depth is bounded (`max_depth`, a DCF card has 2:
// DCIM/100XXXXX) and so is the number of entries (`max_entries`). Not thread-safe; used on the
// simulator's one I/O thread. Reads only metadata here (lstat); content is streamed by the
// responder.
#pragma once

#include "proto/ptp/codes.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace camrelay::sim
{

/// The storage id of slot 1 (the first root); slot N is (N << 16) | 1.
inline constexpr std::uint32_t storage_id = 0x00010001;
inline constexpr std::uint32_t storage_id_for_slot(std::size_t slot) noexcept
{
    return static_cast<std::uint32_t>(((slot + 1) << 16) | 1);
}

struct sim_object
{
    std::uint32_t handle = 0;
    std::uint32_t storage = storage_id;
    std::uint32_t parent = 0; ///< handle of the folder it is in; 0 = storage root
    bool folder = false;      ///< an association (GenericFolder)
    std::filesystem::path path;
    std::string rel;        ///< path below the storage root ("DCIM/100_FUJI/DSCF0001.JPG")
    std::string name;       ///< file name as the camera reports it
    std::uint64_t size = 0; ///< bytes at the last scan
    std::int64_t mtime = 0; ///< seconds since the epoch, at the last scan
    proto::ptp::object_format format = proto::ptp::object_format::undefined;
    bool present = true;    ///< false once the file has disappeared from the card
    bool synthetic = false; ///< content generated (big-video), not read from `path`
};

/// PTP object format for a file name, by extension (case-insensitive).
proto::ptp::object_format format_for_name(std::string const& name);

/// A PTP DateTime string "YYYYMMDDThhmmss" (camera local time) for seconds since the epoch.
std::string ptp_date_time(std::int64_t seconds);

class object_store
{
  public:
    /// Folder depth a DCF card has (DCIM/100XXXXX); deeper folders are skipped unless raised.
    static constexpr int dcf_depth = 2;
    static constexpr int deepest = 16;
    static constexpr std::size_t max_entries = 100000;

    explicit object_store(std::filesystem::path dir);
    explicit object_store(std::vector<std::filesystem::path> roots);

    /// Folders below a root that are served: 1 = only files in the root and its direct folders.
    void set_max_depth(int depth) noexcept { max_depth_ = depth; }
    /// Adds one synthetic object of `size` bytes (content from synthetic_byte) in the first
    /// storage's root, named `name`; it takes the next handle at the next rescan.
    void add_synthetic(std::string name, std::uint64_t size, std::int64_t mtime);

    /// Looks at the cards again: new entries get the next handles (returned, ascending; folders
    /// before what they contain), sizes and times of known ones are refreshed, vanished ones are
    /// marked not present.
    std::vector<std::uint32_t> rescan();

    /// Every object ever seen, index = handle - 1.
    std::vector<sim_object> const& objects() const noexcept { return objects_; }
    /// The object with `handle` if it is present; nullptr otherwise.
    sim_object const* find(std::uint32_t handle) const noexcept;
    /// Handles of present objects (folders and files), ascending.
    std::vector<std::uint32_t> handles() const;
    /// Number of present files (folders not counted).
    std::size_t count() const noexcept;
    /// The first root (slot 1).
    std::filesystem::path const& dir() const noexcept { return roots_.front(); }
    std::vector<std::filesystem::path> const& roots() const noexcept { return roots_; }
    /// Storage ids, one per root, in slot order.
    std::vector<std::uint32_t> storage_ids() const;
    /// The root of storage `id`, or nullptr.
    std::filesystem::path const* root_of(std::uint32_t id) const noexcept;

  private:
    std::vector<std::filesystem::path> roots_;
    int max_depth_ = deepest;
    std::vector<sim_object> objects_;
    std::vector<sim_object> synthetic_;
};

/// Byte `offset` of a synthetic object's content: deterministic, cheap, not periodic at 4 GiB.
inline std::byte synthetic_byte(std::uint64_t offset) noexcept
{
    std::uint64_t x = offset / 8 * 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    return static_cast<std::byte>((x >> ((offset % 8) * 8)) & 0xFF);
}

} // namespace camrelay::sim
