#include "sim/object_store.hpp"

#include "core/log.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <system_error>

namespace camrelay::sim
{

namespace
{
constexpr auto log_tag = "sim";
}

proto::ptp::object_format format_for_name(std::string const& name)
{
    using proto::ptp::object_format;
    auto dot = name.rfind('.');
    if (dot == std::string::npos)
        return object_format::undefined;
    std::string ext = name.substr(dot + 1);
    for (auto& c : ext)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static std::map<std::string, object_format, std::less<>> const table{
        {"jpg", object_format::exif_jpeg}, {"jpeg", object_format::exif_jpeg},
        {"raf", object_format::fuji_raf},  {"tif", object_format::tiff},
        {"tiff", object_format::tiff},     {"png", object_format::png},
        {"dng", object_format::dng},       {"gif", object_format::gif},
        {"bmp", object_format::bmp},       {"hif", object_format::heif},
        {"heif", object_format::heif},     {"heic", object_format::heif},
        {"mov", object_format::quicktime}, {"mp4", object_format::mtp_mp4},
        {"avi", object_format::avi},       {"wav", object_format::wav},
        {"mp3", object_format::mp3},       {"txt", object_format::text},
    };
    auto it = table.find(ext);
    return it == table.end() ? object_format::undefined : it->second;
}

std::string ptp_date_time(std::int64_t seconds)
{
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    if (!::localtime_r(&t, &tm))
        return {};
    char buf[32];
    auto n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
    return std::string(buf, n);
}

object_store::object_store(std::filesystem::path dir) : roots_{std::move(dir)} {}

object_store::object_store(std::vector<std::filesystem::path> roots) : roots_(std::move(roots))
{
    if (roots_.empty())
        roots_.emplace_back(".");
}

void object_store::add_synthetic(std::string name, std::uint64_t size, std::int64_t mtime)
{
    sim_object o;
    o.storage = storage_id;
    o.name = name;
    o.rel = std::move(name);
    o.size = size;
    o.mtime = mtime;
    o.format = format_for_name(o.name);
    o.synthetic = true;
    synthetic_.push_back(std::move(o));
}

std::vector<std::uint32_t> object_store::storage_ids() const
{
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < roots_.size(); ++i)
        out.push_back(storage_id_for_slot(i));
    return out;
}

std::filesystem::path const* object_store::root_of(std::uint32_t id) const noexcept
{
    for (std::size_t i = 0; i < roots_.size(); ++i)
        if (storage_id_for_slot(i) == id)
            return &roots_[i];
    return nullptr;
}

std::vector<std::uint32_t> object_store::rescan()
{
    namespace fs = std::filesystem;
    struct seen
    {
        std::uint32_t storage;
        bool folder;
        std::uint64_t size;
        std::int64_t mtime;
        fs::path path;
    };
    // Key: storage id (8 hex digits) + "/" + relative path; std::map sorts a folder before
    // what it contains ("A" < "A/x").
    std::map<std::string, seen> found;
    std::size_t entries = 0;
    bool too_many = false;
    for (std::size_t slot = 0; slot < roots_.size(); ++slot)
    {
        auto sid = storage_id_for_slot(slot);
        char prefix[16];
        std::snprintf(prefix, sizeof prefix, "%08x/", sid);
        // Depth-first walk without following anything that is not a real folder.
        std::vector<std::pair<fs::path, int>> todo{{roots_[slot], 0}};
        while (!todo.empty())
        {
            auto [dir, depth] = todo.back();
            todo.pop_back();
            std::error_code ec;
            for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
            {
                auto const& entry = *it;
                std::string name = entry.path().filename().string();
                if (name.empty() || name[0] == '.')
                    continue;
                std::error_code sec;
                auto st = entry.symlink_status(sec); // lstat: a symlink is not followed
                if (sec)
                    continue;
                bool is_dir = fs::is_directory(st);
                if (!is_dir && !fs::is_regular_file(st))
                    continue; // symlink, FIFO, socket, device: not a photo on a card
                if (is_dir && depth + 1 > max_depth_)
                {
                    log::debug(log_tag, "folder deeper than {} levels not served path={}",
                               max_depth_, entry.path().string());
                    continue;
                }
                if (++entries > max_entries)
                {
                    too_many = true;
                    break;
                }
                std::uint64_t size = is_dir ? 0 : entry.file_size(sec);
                if (sec)
                    continue;
                auto wt = entry.last_write_time(sec);
                if (sec)
                    continue;
                auto sys = std::chrono::file_clock::to_sys(wt);
                auto secs =
                    std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch());
                auto rel = entry.path().lexically_relative(roots_[slot]).generic_string();
                found[prefix + rel] =
                    seen{sid, is_dir, size, static_cast<std::int64_t>(secs.count()), entry.path()};
                if (is_dir)
                    todo.emplace_back(entry.path(), depth + 1);
            }
            if (ec)
                log::warn(log_tag, "cannot list folder dir={} error={}", dir.string(),
                          ec.message());
            if (too_many)
                break;
        }
    }
    if (too_many)
        log::warn(log_tag, "more than {} entries on the cards; the rest is not served",
                  max_entries);

    auto key_of = [](sim_object const& o)
    {
        char prefix[16];
        std::snprintf(prefix, sizeof prefix, "%08x/", o.storage);
        return prefix + o.rel;
    };
    std::map<std::string, std::uint32_t> by_key;
    std::vector<std::uint32_t> added;
    for (auto& o : objects_)
    {
        if (o.synthetic)
            continue;
        auto it = found.find(key_of(o));
        if (it == found.end() || it->second.folder != o.folder)
        {
            o.present = false;
            continue;
        }
        o.present = true;
        o.size = it->second.size;
        o.mtime = it->second.mtime;
        by_key[it->first] = o.handle;
        found.erase(it);
    }
    for (auto const& [key, s] : found) // std::map: sorted, folders first
    {
        sim_object o;
        o.handle = static_cast<std::uint32_t>(objects_.size() + 1);
        o.storage = s.storage;
        o.folder = s.folder;
        o.path = s.path;
        o.rel = key.substr(9);
        o.name = s.path.filename().string();
        o.size = s.size;
        o.mtime = s.mtime;
        o.format = s.folder ? proto::ptp::object_format::association : format_for_name(o.name);
        auto slash = key.rfind('/');
        if (slash > 8)
        {
            auto p = by_key.find(key.substr(0, slash));
            o.parent = p == by_key.end() ? 0 : p->second;
        }
        by_key[key] = o.handle;
        objects_.push_back(std::move(o));
        added.push_back(objects_.back().handle);
    }
    for (auto& s : synthetic_)
    {
        s.handle = static_cast<std::uint32_t>(objects_.size() + 1);
        objects_.push_back(std::move(s));
        added.push_back(objects_.back().handle);
    }
    synthetic_.clear();
    return added;
}

sim_object const* object_store::find(std::uint32_t handle) const noexcept
{
    if (handle == 0 || handle > objects_.size())
        return nullptr;
    auto const& o = objects_[handle - 1];
    return o.present ? &o : nullptr;
}

std::vector<std::uint32_t> object_store::handles() const
{
    std::vector<std::uint32_t> out;
    for (auto const& o : objects_)
        if (o.present)
            out.push_back(o.handle);
    return out;
}

std::size_t object_store::count() const noexcept
{
    return static_cast<std::size_t>(std::count_if(
        objects_.begin(), objects_.end(), [](auto const& o) { return o.present && !o.folder; }));
}

} // namespace camrelay::sim
