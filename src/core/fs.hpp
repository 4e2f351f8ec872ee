// File-system helpers for durable writes and for keeping camera-supplied names in their folder.
#pragma once

#include "core/error.hpp"

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

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
bool check_secret_file(std::string const& path, std::string_view what, std::string& error);
/// check_secret_file on the opened file (no window between check and read), then up to
/// `max_bytes` of its content.
bool read_secret_file(std::string const& path, std::string_view what, std::size_t max_bytes,
                      std::string& out, std::string& error);
/// read_secret_file, keeping the first line (CR/LF stripped); an empty first line is a problem.
bool read_secret_line(std::string const& path, std::string_view what, std::string& out,
                      std::string& error);

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
