// The simulated camera's memory card: every regular file directly inside one folder becomes a PTP
// object (shared/protocols/ptpip-fuji.md §1.2). Handles are 1, 2, 3 ... in the order files were
// first seen (sorted by name at each scan) and never reused, so Fuji's "handles are 1..N" rule
// (§2.A step 9) holds as long as no file is removed. Hidden files (".name") are skipped, so a
// writer can create ".tmp" and rename it into place. Not thread-safe; used on the simulator's one
// I/O thread. Reads only metadata here (stat); content is streamed by the responder.
#pragma once

#include "proto/ptp/codes.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace camrelay::sim
{

/// The one storage the simulated camera has (a removable card in slot 1).
inline constexpr std::uint32_t storage_id = 0x00010001;

struct sim_object
{
    std::uint32_t handle = 0;
    std::filesystem::path path;
    std::string name;       ///< file name as the camera reports it
    std::uint64_t size = 0; ///< bytes at the last scan
    std::int64_t mtime = 0; ///< seconds since the epoch, at the last scan
    proto::ptp::object_format format = proto::ptp::object_format::undefined;
    bool present = true; ///< false once the file has disappeared from the folder
};

/// PTP object format for a file name, by extension (case-insensitive).
proto::ptp::object_format format_for_name(std::string const& name);

/// A PTP DateTime string "YYYYMMDDThhmmss" (camera local time) for seconds since the epoch.
std::string ptp_date_time(std::int64_t seconds);

class object_store
{
  public:
    explicit object_store(std::filesystem::path dir);

    /// Looks at the folder again: new files get the next handles (returned, ascending), sizes and
    /// times of known files are refreshed, vanished files are marked not present.
    std::vector<std::uint32_t> rescan();

    /// Every object ever seen, index = handle - 1.
    std::vector<sim_object> const& objects() const noexcept { return objects_; }
    /// The object with `handle` if its file is present; nullptr otherwise.
    sim_object const* find(std::uint32_t handle) const noexcept;
    /// Handles of present objects, ascending.
    std::vector<std::uint32_t> handles() const;
    /// Number of present objects.
    std::size_t count() const noexcept;
    std::filesystem::path const& dir() const noexcept { return dir_; }

  private:
    std::filesystem::path dir_;
    std::vector<sim_object> objects_;
};

} // namespace camrelay::sim
