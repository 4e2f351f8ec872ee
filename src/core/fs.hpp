// File-system helpers for durable writes and for keeping camera-supplied names in their folder.
#pragma once

#include "core/error.hpp"

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>

namespace camrelay::fs {

/// Turns a name that came from a camera or a network peer into one safe path component:
/// no separators, no NUL or control characters, never "", "." or "..", at most 200 bytes
/// (leaving room for suffixes such as "-2" and temp-file decorations within NAME_MAX).
std::string sanitize_component(std::string_view name);

/// True when `path`, once made lexically normal, lies inside `root` (or is `root`).
bool is_within(std::filesystem::path const& root, std::filesystem::path const& path);

/// Writes all of `data` to `fd`, retrying on EINTR and short writes.
std::error_code write_all(int fd, std::span<const std::byte> data);

/// fsync() on a directory, so a rename or creation inside it survives power loss.
std::error_code fsync_dir(std::filesystem::path const& dir);

/// Creates `dir` and its parents, then fsyncs each directory it created's parent.
std::error_code make_dirs_durable(std::filesystem::path const& dir);

/// Size of a regular file, or -1 when it does not exist or is not a regular file.
long long file_size_or_minus_one(std::filesystem::path const& path);

/// Secret files (passwords, tokens, private keys) must be regular files that neither group nor
/// others may read or write, as OpenSSH demands of keys; the config refuses them otherwise.
/// `what` names the file's role in messages ("password file"). On a problem: false, and
/// `error` says what to do, e.g. "password file P is readable or writable by group or others
/// (mode 0644): refusing to use it; run `chmod 600 P`".
/// The file is stat'ed, opened with O_NONBLOCK and checked again through its descriptor: a FIFO
/// or a device given as a secret (or a link to one) is refused ("is not a regular file") instead
/// of hanging the open or the read. Links to a regular private file are followed (secret mounts).
bool check_secret_file(std::string const& path, std::string_view what, std::string& error);
/// check_secret_file on the opened file (no window between check and read), then its content;
/// a file larger than `max_bytes` is refused ("is larger than N bytes"), never cut.
bool read_secret_file(std::string const& path, std::string_view what, std::size_t max_bytes,
                      std::string& out, std::string& error);
/// read_secret_file (at most secret_line_max_bytes), keeping the first line (CR/LF stripped); an
/// empty first line is a problem.
bool read_secret_line(std::string const& path, std::string_view what, std::string& out,
                      std::string& error);
inline constexpr std::size_t secret_line_max_bytes = 64 * 1024;

/// An owned file descriptor, closed on destruction.
class unique_fd
{
public:
    unique_fd() = default;
    explicit unique_fd(int fd) : fd_(fd) {}
    unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
    unique_fd& operator=(unique_fd&& o) noexcept;
    unique_fd(unique_fd const&) = delete;
    unique_fd& operator=(unique_fd const&) = delete;
    ~unique_fd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release()
    {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

/// What a directory entry is, as lstat() sees it (a link is a link, not what it points to):
/// "regular file", "folder", "symlink", "FIFO", "socket", "character device", "block device".
std::string_view kind_name(mode_t mode);

/// Why open_beneath() stopped.
struct beneath_problem
{
    std::string entry;  ///< the entry (relative to the root) that stopped the walk
    std::string reason; ///< "symlink", "FIFO", "folder", ..., or the system's error text
    int err = 0;        ///< errno when the entry could not be looked at or opened, else 0
};

/// Opens `rel` ("DCIM/100TEST/IMG_0001.JPG"; "" is the root itself) below the open folder
/// `root_fd`, one component at a time: every component is first looked at with
/// fstatat(AT_SYMLINK_NOFOLLOW) and opened only when it is a folder (or, for the last one with
/// `want_dir` false, a regular file), with O_NOFOLLOW|O_NONBLOCK, and what was opened is checked
/// again with fstat (same inode, same kind). So no symbolic link is ever followed, not even a
/// folder's, "..", "." and empty components are refused, nothing outside the root can be reached,
/// and a FIFO, device or socket is never opened (nor could its open block). As a last check, the
/// opened file's path (/proc/self/fd) must lie within the root's, where /proc tells. `st` gets
/// the opened file's status. On a problem: an empty unique_fd and `problem` filled in.
unique_fd open_beneath(int root_fd, std::string_view rel, bool want_dir, struct stat& st,
                       beneath_problem& problem);

/// One entry of a folder, looked at without following links.
struct dir_entry
{
    std::string name;
    struct stat st{};
    int err = 0;  ///< errno when fstatat failed (the entry vanished...); st is then zero
};

/// The entries of the open folder `dir_fd` (without "." and ".."), at most `max_entries` of them
/// (`truncated` tells when there were more). The descriptor itself is left open and unmoved.
std::error_code list_dir(int dir_fd, std::vector<dir_entry>& out, std::size_t max_entries,
                         bool& truncated);

/// Writes a small text file atomically (temp + fsync + rename) with the given mode.
std::error_code write_file_atomic(std::filesystem::path const& path, std::string_view text,
                                  unsigned mode = 0644);

} // namespace camrelay::fs

namespace camrelay::fault {

/// Test seam: returns the errno to inject at `point`, or 0. Driven by the CAMRELAY_FAULTS
/// environment variable, a comma-separated list of `point=ERRNO` (every call fails),
/// `point=ERRNO@N` (only the Nth call, 1-based) or `point=ERRNO@N+` (the Nth and later).
/// ERRNO is a name such as ENOSPC, EIO, EACCES. Unset in production: one branch per call.
int check(std::string_view point);

/// Re-reads CAMRELAY_FAULTS and resets the call counters (for tests that set it in-process).
/// Not thread-safe against concurrent check() calls.
void reload();

} // namespace camrelay::fault
