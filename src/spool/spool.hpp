// The spool: where content lands before delivery. A download streams into "<final>.part",
// hashed as it arrives, then fsync + atomic rename + directory fsync. Memory stays bounded by
// the caller's chunk size, whatever the file size.
#pragma once

#include "core/error.hpp"
#include "core/sha256.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace camrelay::spool {

/// Spool path for one camera object: <spool_root>/<camera_id>/<key16>-<safe name>, where
/// key16 comes from the object's natural key so two objects never share a file.
std::filesystem::path path_for(std::filesystem::path const& spool_root, std::int64_t camera_id,
                               std::string const& natural_key, std::string const& object_name);

class writer
{
public:
    /// Opens "<final_path>.part" for writing, creating parent folders. With `resume`, an
    /// existing .part is kept: its bytes are re-hashed and writing continues at its end
    /// (offset()). Without it, any leftover .part is discarded.
    static result<std::unique_ptr<writer>> open(std::filesystem::path final_path, bool resume);

    ~writer();
    writer(writer const&) = delete;
    writer& operator=(writer const&) = delete;

    /// Bytes already in the .part (the resume point) plus bytes written since.
    std::uint64_t offset() const { return offset_; }

    std::error_code write(std::span<const std::byte> data);

    /// fsync, rename to the final path, fsync the folder. Returns the SHA-256 (hex) of the
    /// whole content. The writer is finished afterwards.
    result<std::string> commit();

    /// Removes the .part (a failed download that cannot be resumed).
    void discard();

    /// Leaves the .part in place for a later resume and closes it.
    void keep_partial();

    std::filesystem::path const& final_path() const { return final_; }

private:
    writer() = default;
    std::filesystem::path final_;
    std::filesystem::path part_;
    int fd_ = -1;
    std::uint64_t offset_ = 0;
    sha256 hash_;
};

} // namespace camrelay::spool
