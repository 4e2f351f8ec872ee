#include "core/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace camrelay::fs
{

std::string sanitize_component(std::string_view name)
{
    std::string out;
    out.reserve(name.size());
    for (char c : name)
    {
        auto u = static_cast<unsigned char>(c);
        if (c == '/' || c == '\\' || u < 0x20 || u == 0x7F)
            out.push_back('_');
        else
            out.push_back(c);
    }
    constexpr std::size_t max_bytes = 200;
    if (out.size() > max_bytes)
    {
        // Keep the extension: cut the stem, not ".JPG".
        auto dot = out.rfind('.');
        std::string ext = (dot != std::string::npos && out.size() - dot <= 16) ? out.substr(dot) : "";
        out.resize(max_bytes - ext.size());
        // Do not leave half of a UTF-8 sequence at the cut: drop at most one sequence (up to
        // three continuation bytes and their lead byte). Invalid UTF-8 is simply cut.
        int continuation = 0;
        while (!out.empty() && continuation < 3 &&
               (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
        {
            out.pop_back();
            ++continuation;
        }
        if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0)
            out.pop_back();
        out += ext;
    }
    // Last, so no cut can expose one: a leading dot would hide the file or, as "..", climb out
    // of the folder.
    for (auto& c : out)
    {
        if (c != '.')
            break;
        c = '_';
    }
    if (out.empty())
        out = "_";
    return out;
}

bool is_within(std::filesystem::path const& root, std::filesystem::path const& path)
{
    auto r = root.lexically_normal();
    auto p = path.lexically_normal();
    auto rel = p.lexically_relative(r);
    if (rel.empty())
        return false;
    if (rel == ".")
        return true;
    return *rel.begin() != "..";
}

std::error_code write_all(int fd, std::span<const std::byte> data)
{
    while (!data.empty())
    {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0)
        {
            if (errno == EINTR)
                continue;
            return last_errno();
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

std::error_code fsync_dir(std::filesystem::path const& dir)
{
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return last_errno();
    std::error_code ec;
    if (::fsync(fd) != 0)
        ec = last_errno();
    ::close(fd);
    return ec;
}

std::error_code make_dirs_durable(std::filesystem::path const& dir)
{
    std::vector<std::filesystem::path> created;
    std::filesystem::path p = dir;
    std::error_code ec;
    while (!p.empty() && !std::filesystem::exists(p, ec))
    {
        created.push_back(p);
        if (!p.has_parent_path() || p.parent_path() == p)
            break;
        p = p.parent_path();
    }
    for (auto it = created.rbegin(); it != created.rend(); ++it)
    {
        if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST)
            return last_errno();
        if (auto e = fsync_dir(it->parent_path()))
            return e;
    }
    if (!std::filesystem::is_directory(dir, ec))
        return std::make_error_code(std::errc::not_a_directory);
    return {};
}

namespace {

bool refuse_mode(std::string const& path, std::string_view what, struct stat const& st,
                 std::string& error)
{
    if (!S_ISREG(st.st_mode))
    {
        error = std::string(what) + " " + path + " is not a regular file (it is a " +
                std::string(kind_name(st.st_mode)) + ")";
        return true;
    }
    if ((st.st_mode & 077) == 0)
        return false;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    error = std::string(what) + " " + path + " is readable or writable by group or others (mode " +
            mode + "): refusing to use it; run `chmod 600 " + path + "`";
    return true;
}

std::string cannot_read(std::string const& path, std::string_view what, int err)
{
    return std::string(what) + " " + path + " cannot be read: " +
           std::error_code(err, std::generic_category()).message();
}

/// Opens a secret without ever blocking: a FIFO (or a link to one) is not opened at all when stat
/// already shows it, and O_NONBLOCK makes even a swapped-in FIFO's open return at once; the opened
/// file is checked again through its descriptor. Symbolic links are followed (secret mounts such
/// as Kubernetes' and /run/secrets are links): the secret is the user's own configuration, and
/// what matters is that the file reached is a regular 0600 file.
unique_fd open_secret(std::string const& path, std::string_view what, std::size_t max_bytes,
                      struct stat& st, std::string& error)
{
    struct stat target{};
    if (::stat(path.c_str(), &target) != 0)
    {
        error = cannot_read(path, what, errno);
        return {};
    }
    if (refuse_mode(path, what, target, error))
        return {};
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd)
    {
        error = cannot_read(path, what, errno);
        return {};
    }
    if (::fstat(fd.get(), &st) != 0)
    {
        error = cannot_read(path, what, errno);
        return {};
    }
    if (refuse_mode(path, what, st, error))
        return {};
    if (static_cast<unsigned long long>(st.st_size) > max_bytes)
    {
        error = std::string(what) + " " + path + " is larger than " + std::to_string(max_bytes) +
                " bytes (" + std::to_string(st.st_size) + "): is it the right file?";
        return {};
    }
    return fd;
}

} // namespace

bool check_secret_file(std::string const& path, std::string_view what, std::string& error)
{
    struct stat st{};
    return static_cast<bool>(open_secret(path, what, static_cast<std::size_t>(-1), st, error));
}

bool read_secret_file(std::string const& path, std::string_view what, std::size_t max_bytes,
                      std::string& out, std::string& error)
{
    struct stat st{};
    auto fd = open_secret(path, what, max_bytes, st, error);
    if (!fd)
        return false;
    std::string text;
    char buf[4096];
    // One byte more than allowed tells a file that grew past the limit since fstat.
    while (text.size() <= max_bytes)
    {
        auto n = ::read(fd.get(), buf, std::min(sizeof buf, max_bytes + 1 - text.size()));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
        {
            error = cannot_read(path, what, errno);
            return false;
        }
        if (n == 0)
            break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    if (text.size() > max_bytes)
    {
        error = std::string(what) + " " + path + " is larger than " + std::to_string(max_bytes) +
                " bytes: is it the right file?";
        return false;
    }
    out = std::move(text);
    return true;
}

bool read_secret_line(std::string const& path, std::string_view what, std::string& out,
                      std::string& error)
{
    std::string text;
    if (!read_secret_file(path, what, secret_line_max_bytes, text, error))
        return false;
    text.resize(std::min(text.size(), text.find_first_of("\r\n")));
    if (text.empty())
    {
        error = std::string(what) + " " + path + " is empty (the secret goes on its first line)";
        return false;
    }
    out = std::move(text);
    return true;
}

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept
{
    if (this != &o)
        reset(o.release());
    return *this;
}

void unique_fd::reset(int fd)
{
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = fd;
}

std::string_view kind_name(mode_t mode)
{
    switch (mode & S_IFMT)
    {
    case S_IFREG: return "regular file";
    case S_IFDIR: return "folder";
    case S_IFLNK: return "symlink";
    case S_IFIFO: return "FIFO";
    case S_IFSOCK: return "socket";
    case S_IFCHR: return "character device";
    case S_IFBLK: return "block device";
    default: return "special file";
    }
}

namespace {

std::string fd_path(int fd)
{
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    std::vector<char> buf(4096);
    auto n = ::readlink(link, buf.data(), buf.size());
    if (n <= 0 || static_cast<std::size_t>(n) >= buf.size())
        return {};
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

} // namespace

unique_fd open_beneath(int root_fd, std::string_view rel, bool want_dir, struct stat& st,
                       beneath_problem& problem)
{
    problem = {};
    std::vector<std::string_view> parts;
    while (!rel.empty())
    {
        auto slash = rel.find('/');
        auto part = rel.substr(0, slash);
        rel = slash == std::string_view::npos ? std::string_view{} : rel.substr(slash + 1);
        parts.push_back(part);
    }
    std::string walked;
    for (auto p : parts)
        if (p.empty() || p == "." || p == "..")
        {
            problem = {std::string(p), "not a plain name (\"" + std::string(p) + "\")", EINVAL};
            return {};
        }
    // Start from a descriptor of our own, so the caller's stays where it is.
    unique_fd dir(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
    if (!dir)
    {
        problem = {"", std::error_code(errno, std::generic_category()).message(), errno};
        return {};
    }
    if (parts.empty())
    {
        if (::fstat(dir.get(), &st) != 0 || !S_ISDIR(st.st_mode))
        {
            problem = {"", "not a folder", ENOTDIR};
            return {};
        }
        return dir;
    }
    for (std::size_t i = 0; i < parts.size(); ++i)
    {
        bool last = i + 1 == parts.size();
        bool dir_wanted = !last || want_dir;
        std::string name(parts[i]);
        walked += (walked.empty() ? "" : "/") + name;
        struct stat before{};
        if (::fstatat(dir.get(), name.c_str(), &before, AT_SYMLINK_NOFOLLOW) != 0)
        {
            problem = {walked, std::error_code(errno, std::generic_category()).message(), errno};
            return {};
        }
        if (dir_wanted ? !S_ISDIR(before.st_mode) : !S_ISREG(before.st_mode))
        {
            problem = {walked, std::string(kind_name(before.st_mode)), 0};
            return {};
        }
        int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY |
                    (dir_wanted ? O_DIRECTORY : 0);
        unique_fd next(::openat(dir.get(), name.c_str(), flags));
        if (!next)
        {
            int e = errno;
            problem = {walked,
                       e == ELOOP ? std::string("symlink")
                                  : std::error_code(e, std::generic_category()).message(),
                       e == ELOOP ? 0 : e};
            return {};
        }
        struct stat after{};
        if (::fstat(next.get(), &after) != 0)
        {
            problem = {walked, std::error_code(errno, std::generic_category()).message(), errno};
            return {};
        }
        if (after.st_dev != before.st_dev || after.st_ino != before.st_ino ||
            (after.st_mode & S_IFMT) != (before.st_mode & S_IFMT))
        {
            // Swapped between the look and the open.
            problem = {walked, std::string(kind_name(after.st_mode)) + " (changed while opened)",
                       0};
            return {};
        }
        dir = std::move(next);
        st = after;
    }
    // Belt and braces: where /proc tells the opened file's path, it must be below the root's.
    auto root_path = fd_path(root_fd);
    auto got = fd_path(dir.get());
    if (!root_path.empty() && !got.empty() && !is_within(root_path, got))
    {
        problem = {walked, "outside the root (" + got + ")", 0};
        return {};
    }
    return dir;
}

std::error_code list_dir(int dir_fd, std::vector<dir_entry>& out, std::size_t max_entries,
                         bool& truncated)
{
    truncated = false;
    int fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return last_errno();
    // The duplicate shares the offset: start from the beginning.
    ::lseek(fd, 0, SEEK_SET);
    DIR* d = ::fdopendir(fd);
    if (!d)
    {
        auto ec = last_errno();
        ::close(fd);
        return ec;
    }
    ::rewinddir(d);
    std::error_code ec;
    for (;;)
    {
        errno = 0;
        auto* de = ::readdir(d);
        if (!de)
        {
            if (errno != 0)
                ec = last_errno();
            break;
        }
        std::string_view name(de->d_name);
        if (name == "." || name == "..")
            continue;
        if (out.size() >= max_entries)
        {
            truncated = true;
            break;
        }
        dir_entry e;
        e.name = std::string(name);
        if (::fstatat(dir_fd, de->d_name, &e.st, AT_SYMLINK_NOFOLLOW) != 0)
        {
            e.err = errno;
            e.st = {};
        }
        out.push_back(std::move(e));
    }
    ::closedir(d);
    return ec;
}

long long file_size_or_minus_one(std::filesystem::path const& path)
{
    struct stat st
    {
    };
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    return static_cast<long long>(st.st_size);
}

std::error_code write_file_atomic(std::filesystem::path const& path, std::string_view text,
                                  unsigned mode)
{
    auto tmp = path;
    tmp += ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return last_errno();
    auto ec = write_all(fd, std::as_bytes(std::span(text.data(), text.size())));
    if (!ec && ::fsync(fd) != 0)
        ec = last_errno();
    ::close(fd);
    if (!ec && ::rename(tmp.c_str(), path.c_str()) != 0)
        ec = last_errno();
    if (ec)
        ::unlink(tmp.c_str());
    else
        ec = fsync_dir(path.parent_path().empty() ? "." : path.parent_path());
    return ec;
}

} // namespace camrelay::fs

namespace camrelay::fault
{

namespace
{

struct rule
{
    int err = 0;
    long nth = 0; // 0: every call
    bool onwards = false;
    std::atomic<long> calls{0};
};

int errno_by_name(std::string_view name)
{
    static constexpr std::pair<std::string_view, int> names[] = {
        {"ENOSPC", ENOSPC}, {"EIO", EIO},       {"EACCES", EACCES}, {"EROFS", EROFS},
        {"ENOENT", ENOENT}, {"ENODEV", ENODEV}, {"EPIPE", EPIPE},   {"ETIMEDOUT", ETIMEDOUT},
    };
    for (auto const& [n, v] : names)
        if (n == name)
            return v;
    return EIO;
}

using rule_table = std::map<std::string, rule, std::less<>>;

void parse_rules(rule_table* t)
{
    const char* env = std::getenv("CAMRELAY_FAULTS");
    if (!env)
        return;
    std::string_view spec(env);
    while (!spec.empty())
    {
        auto comma = spec.find(',');
        auto item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
        auto eq = item.find('=');
        if (eq == std::string_view::npos)
            continue;
        auto& r = (*t)[std::string(item.substr(0, eq))];
        auto value = item.substr(eq + 1);
        auto at = value.find('@');
        r.err = errno_by_name(value.substr(0, at));
        if (at != std::string_view::npos)
        {
            auto n = value.substr(at + 1);
            r.onwards = !n.empty() && n.back() == '+';
            if (r.onwards)
                n.remove_suffix(1);
            r.nth = std::strtol(std::string(n).c_str(), nullptr, 10);
        }
    }
}

rule_table& rules()
{
    static auto* table = []
    {
        auto* t = new rule_table();
        parse_rules(t);
        return t;
    }();
    return *table;
}

} // namespace

void reload()
{
    auto& table = rules();
    table.clear();
    parse_rules(&table);
}

int check(std::string_view point)
{
    auto& table = rules();
    if (table.empty())
        return 0;
    auto it = table.find(point);
    if (it == table.end())
        return 0;
    auto& r = it->second;
    long n = ++r.calls;
    if (r.nth == 0 || n == r.nth || (r.onwards && n >= r.nth))
        return r.err;
    return 0;
}

} // namespace camrelay::fault
