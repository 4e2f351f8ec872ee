// The folder sink: copies each asset to a path rendered from a template, through a temp file in
// the target folder, fsync, verification (size + SHA-256 of the written copy), and an atomic
// rename. Idempotent: a file already holding the same content counts as delivered, so a retry
// after a crash never leaves a second copy.
#include "delivery/folder/folder_sink.hpp"

#include "core/fs.hpp"
#include "core/log.hpp"
#include "core/name_template.hpp"
#include "core/sha256.hpp"
#include "delivery/error.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

namespace camrelay::delivery {

namespace {

constexpr auto log_tag = "folder";

constexpr config::option_spec folder_options[] = {
    {"path", config::option_type::string, true, "",
     "Destination path template, e.g. \"/srv/photos/{date:%Y}/{date:%Y-%m-%d}/{name}\". "
     "Placeholders: {camera} {model} {serial} {manufacturer} {source} {name} {stem} {ext} {seq} "
     "{sha256} {size} {date:FORMAT}. Every expansion stays inside the fixed folder before the "
     "first placeholder."},
    {"collision", config::option_type::string, false, "rename",
     "When a different file already has the name: rename (add -1, -2... before the extension), "
     "overwrite, skip (keep the existing file, count as delivered) or fail (permanent failure). "
     "A file with identical content always counts as delivered."},
    {"verify", config::option_type::boolean, false, "true",
     "Re-read the written copy and compare its size and SHA-256 before the rename."},
};

enum class collision_policy
{
    rename,
    overwrite,
    skip,
    fail
};

class folder_sink final : public sink
{
public:
    folder_sink(name_template path, collision_policy policy, bool verify, bool names_by_content)
        : path_(std::move(path)), root_(path_.fixed_prefix_dir()), policy_(policy), verify_(verify),
          names_by_content_(names_by_content)
    {
    }

    outcome deliver(request const& req) override;
    /// Streaming needs the final name before the content is known: not with {sha256} in it.
    bool can_stream() const override { return !names_by_content_; }
    outcome deliver_stream(request const& req, content_reader& in) override;

private:
    outcome copy_to_temp(request const& req, std::filesystem::path const& temp);
    outcome stream_to_temp(request const& req, content_reader& in,
                           std::filesystem::path const& temp);
    /// Moves the verified temp file to `target` (or a free numbered name, per the collision
    /// policy); an identical file already there counts as delivered.
    outcome place(request const& req, asset_info const& a, std::filesystem::path const& temp,
                  std::filesystem::path const& target);

    name_template path_;
    std::filesystem::path root_;
    collision_policy policy_;
    bool verify_;
    bool names_by_content_;
};

outcome errno_failure(int e, std::string const& what)
{
    auto code = make_error_code(from_errno(e));
    return outcome::fail(code, what + ": " + std::error_code(e, std::generic_category()).message());
}

std::filesystem::path numbered(std::filesystem::path const& p, int n)
{
    auto stem = p.stem().string();
    auto ext = p.extension().string();
    return p.parent_path() / (stem + "-" + std::to_string(n) + ext);
}

bool same_content(std::filesystem::path const& p, asset_info const& a)
{
    auto size = fs::file_size_or_minus_one(p);
    if (size < 0 || static_cast<std::uint64_t>(size) != a.size)
        return false;
    return sha256::hex_of_file(p.string()) == a.sha256;
}

outcome folder_sink::copy_to_temp(request const& req, std::filesystem::path const& temp)
{
    int in = ::open(req.asset.spool_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return outcome::fail(make_error_code(errc::source_missing),
                             "spooled file " + req.asset.spool_path + " cannot be read");
    int out = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
    {
        int e = errno;
        ::close(in);
        return errno_failure(e, "cannot create " + temp.string());
    }
    // The kernel copies (copy_file_range): no round trip through user space. Chunks of 8 MiB
    // keep cancellation and fault injection responsive. Falls back to read/write where the
    // file systems cannot (EXDEV, EINVAL, ENOSYS...).
    constexpr std::size_t chunk = 8 * 1024 * 1024;
    bool kernel_copy = true;
    std::vector<std::byte> buf;
    outcome result = outcome::ok({});
    for (;;)
    {
        if (req.stop.stop_requested())
        {
            result = outcome::fail(make_error_code(errc::cancelled), "cancelled");
            break;
        }
        if (int e = fault::check("folder.write"))
        {
            result = errno_failure(e, "writing " + temp.string());
            break;
        }
        if (kernel_copy)
        {
            ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, chunk, 0);
            if (n > 0)
                continue;
            if (n == 0)
                break;
            if (errno == EINTR)
                continue;
            if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)
            {
                kernel_copy = false;  // nothing was copied by the failed call: go on by hand
                buf.resize(256 * 1024);
                continue;
            }
            result = errno_failure(errno, "writing " + temp.string());
            break;
        }
        ssize_t n = ::read(in, buf.data(), buf.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
        {
            result = outcome::fail(make_error_code(errc::source_missing),
                                   "reading " + req.asset.spool_path + ": " + last_errno().message());
            break;
        }
        if (n == 0)
            break;
        if (auto ec = fs::write_all(out, std::span(buf.data(), static_cast<std::size_t>(n))))
        {
            result = errno_failure(ec.value(), "writing " + temp.string());
            break;
        }
    }
    if (result && ::fsync(out) != 0)
        result = errno_failure(errno, "fsync " + temp.string());
    ::close(in);
    if (::close(out) != 0 && result)
        result = errno_failure(errno, "closing " + temp.string());
    return result;
}

outcome folder_sink::deliver(request const& req)
{
    auto const& a = req.asset;
    std::filesystem::path target = path_.expand(a, name_template::mode::path);
    if (!fs::is_within(root_, target) || target.filename().empty())
        return outcome::fail(make_error_code(errc::bad_destination),
                             "path '" + target.string() + "' leaves the folder " + root_.string());
    if (fs::file_size_or_minus_one(a.spool_path) < 0)
        return outcome::fail(make_error_code(errc::source_missing),
                             "spooled file " + a.spool_path + " is missing");

    auto dir = target.parent_path();
    if (auto ec = fs::make_dirs_durable(dir))
        return errno_failure(ec.value(), "cannot create folder " + dir.string());

    // Deterministic per job: a retry after a crash truncates and reuses its own temp file.
    auto temp = dir / (".camrelay-job" + std::to_string(req.job_id) + ".tmp");
    auto copied = copy_to_temp(req, temp);
    if (!copied)
    {
        ::unlink(temp.c_str());
        return copied;
    }
    if (verify_ && !same_content(temp, a))
    {
        ::unlink(temp.c_str());
        return outcome::fail(make_error_code(errc::verify_failed),
                             "the copy written to " + temp.string() +
                                 " does not match the original's size and SHA-256");
    }
    return place(req, a, temp, target);
}

outcome folder_sink::stream_to_temp(request const& req, content_reader& in,
                                    std::filesystem::path const& temp)
{
    int out = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
        return errno_failure(errno, "cannot create " + temp.string());
    std::vector<std::byte> buf(256 * 1024);
    std::uint64_t total = 0;
    outcome result = outcome::ok({});
    for (;;)
    {
        if (req.stop.stop_requested())
        {
            result = outcome::fail(make_error_code(errc::cancelled), "cancelled");
            break;
        }
        auto n = in.read(buf);
        if (!n)
        {
            result = outcome::fail(req.stop.stop_requested() ? make_error_code(errc::cancelled)
                                                             : make_error_code(errc::source_missing),
                                   "reading from the camera: " + n.error().message());
            break;
        }
        if (*n == 0)
            break;
        if (int e = fault::check("folder.write"))
        {
            result = errno_failure(e, "writing " + temp.string());
            break;
        }
        if (auto ec = fs::write_all(out, std::span(buf.data(), *n)))
        {
            result = errno_failure(ec.value(), "writing " + temp.string());
            break;
        }
        total += *n;
    }
    if (result && req.asset.size > 0 && total != req.asset.size)
        result = outcome::fail(make_error_code(errc::verify_failed),
                               "the camera sent " + std::to_string(total) + " bytes, not " +
                                   std::to_string(req.asset.size));
    if (result && ::fsync(out) != 0)
        result = errno_failure(errno, "fsync " + temp.string());
    if (::close(out) != 0 && result)
        result = errno_failure(errno, "closing " + temp.string());
    return result;
}

outcome folder_sink::deliver_stream(request const& req, content_reader& in)
{
    std::filesystem::path target = path_.expand(req.asset, name_template::mode::path);
    if (!fs::is_within(root_, target) || target.filename().empty())
        return outcome::fail(make_error_code(errc::bad_destination),
                             "path '" + target.string() + "' leaves the folder " + root_.string());
    auto dir = target.parent_path();
    if (auto ec = fs::make_dirs_durable(dir))
        return errno_failure(ec.value(), "cannot create folder " + dir.string());
    auto temp = dir / (".camrelay-job" + std::to_string(req.job_id) + ".tmp");
    auto written = stream_to_temp(req, in, temp);
    if (!written)
    {
        ::unlink(temp.c_str());
        return written;
    }
    // The content is complete: from here on it is an ordinary delivery of a known file.
    asset_info a = req.asset;
    a.sha256 = in.sha256_hex();
    a.size = static_cast<std::uint64_t>(fs::file_size_or_minus_one(temp));
    if (verify_ && !same_content(temp, a))
    {
        ::unlink(temp.c_str());
        return outcome::fail(make_error_code(errc::verify_failed),
                             "the copy written to " + temp.string() +
                                 " does not match the camera's size and SHA-256");
    }
    return place(req, a, temp, target);
}

outcome folder_sink::place(request const& req, asset_info const& a,
                           std::filesystem::path const& temp, std::filesystem::path const& target)
{
    auto dir = target.parent_path();
    // Pick the final name. RENAME_NOREPLACE makes the check and the rename one step, so two
    // workers delivering different files to the same name cannot overwrite each other.
    for (int n = 0; n < 10000; ++n)
    {
        auto candidate = n == 0 ? target : numbered(target, n);
        if (std::filesystem::exists(candidate))
        {
            if (same_content(candidate, a))
            {
                ::unlink(temp.c_str());
                fs::fsync_dir(dir);
                return outcome::ok(candidate.string());
            }
            if (n == 0 && policy_ == collision_policy::skip)
            {
                ::unlink(temp.c_str());
                return outcome::ok(candidate.string() + " (kept the existing different file)");
            }
            if (n == 0 && policy_ == collision_policy::fail)
            {
                ::unlink(temp.c_str());
                return outcome::fail(make_error_code(errc::name_collision),
                                     candidate.string() + " exists with other content");
            }
            if (n == 0 && policy_ == collision_policy::overwrite)
            {
                if (::rename(temp.c_str(), candidate.c_str()) != 0)
                {
                    int e = errno;
                    ::unlink(temp.c_str());
                    return errno_failure(e, "rename to " + candidate.string());
                }
                fs::fsync_dir(dir);
                return outcome::ok(candidate.string());
            }
            continue;
        }
        if (::syscall(SYS_renameat2, AT_FDCWD, temp.c_str(), AT_FDCWD, candidate.c_str(),
                      RENAME_NOREPLACE) == 0)
        {
            if (auto ec = fs::fsync_dir(dir))
                return errno_failure(ec.value(), "fsync " + dir.string());
            log::debug(log_tag, "job={} delivered {}", req.job_id, candidate.string());
            return outcome::ok(candidate.string());
        }
        if (errno == EEXIST)
        {
            --n;  // someone took the name between the check and the rename: look again
            continue;
        }
        int e = errno;
        ::unlink(temp.c_str());
        return errno_failure(e, "rename to " + candidate.string());
    }
    ::unlink(temp.c_str());
    return outcome::fail(make_error_code(errc::name_collision),
                         "no free name for " + target.string() + " after 10000 tries");
}

std::unique_ptr<sink> make_folder_sink(config::sink_settings const& s,
                                       std::vector<config::problem>& problems)
{
    auto where = "[sink." + s.name + "]";
    name_template path;
    std::string err;
    auto text = s.options.string_or("path", "");
    bool ok = true;
    if (!name_template::parse(text, path, err))
    {
        problems.push_back({s.options.line_of("path"), where + ": path: " + err});
        ok = false;
    }
    else if (text.empty() || text.front() != '/')
    {
        problems.push_back({s.options.line_of("path"), where + ": path must be absolute"});
        ok = false;
    }
    auto policy_text = s.options.string_or("collision", "rename");
    collision_policy policy = collision_policy::rename;
    if (policy_text == "rename")
        policy = collision_policy::rename;
    else if (policy_text == "overwrite")
        policy = collision_policy::overwrite;
    else if (policy_text == "skip")
        policy = collision_policy::skip;
    else if (policy_text == "fail")
        policy = collision_policy::fail;
    else
    {
        problems.push_back({s.options.line_of("collision"),
                            where + ": collision must be rename, overwrite, skip or fail"});
        ok = false;
    }
    if (!ok)
        return nullptr;
    bool by_content = text.find("{sha256") != std::string::npos;
    return std::make_unique<folder_sink>(std::move(path), policy, s.options.boolean_or("verify", true),
                                         by_content);
}

} // namespace

sink_descriptor const folder_sink_descriptor{
    "folder",
    "Copies each photo into a folder tree (a disk, a mounted NAS), verified and crash-safe.",
    folder_options,
    &make_folder_sink,
};

} // namespace camrelay::delivery
