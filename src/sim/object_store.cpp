#include "sim/object_store.hpp"

#include "core/log.hpp"

#include <algorithm>
#include <cctype>
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

object_store::object_store(std::filesystem::path dir) : dir_(std::move(dir)) {}

std::vector<std::uint32_t> object_store::rescan()
{
    namespace fs = std::filesystem;
    struct seen
    {
        std::uint64_t size;
        std::int64_t mtime;
    };
    std::map<std::string, seen> found;
    std::error_code ec;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
    {
        auto const& entry = *it;
        std::string name = entry.path().filename().string();
        if (name.empty() || name[0] == '.')
            continue;
        std::error_code sec;
        if (!entry.is_regular_file(sec))
            continue;
        auto size = entry.file_size(sec);
        if (sec)
            continue;
        auto wt = entry.last_write_time(sec);
        if (sec)
            continue;
        auto sys = std::chrono::file_clock::to_sys(wt);
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch());
        found[name] = seen{size, static_cast<std::int64_t>(secs.count())};
    }
    if (ec)
        log::warn(log_tag, "cannot list folder dir={} error={}", dir_.string(), ec.message());

    std::vector<std::uint32_t> added;
    for (auto& o : objects_)
    {
        auto it = found.find(o.name);
        if (it == found.end())
        {
            o.present = false;
            continue;
        }
        o.present = true;
        o.size = it->second.size;
        o.mtime = it->second.mtime;
        found.erase(it);
    }
    for (auto const& [name, s] : found) // std::map: sorted by name
    {
        sim_object o;
        o.handle = static_cast<std::uint32_t>(objects_.size() + 1);
        o.path = dir_ / name;
        o.name = name;
        o.size = s.size;
        o.mtime = s.mtime;
        o.format = format_for_name(name);
        objects_.push_back(std::move(o));
        added.push_back(objects_.back().handle);
    }
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
    return static_cast<std::size_t>(
        std::count_if(objects_.begin(), objects_.end(), [](auto const& o) { return o.present; }));
}

} // namespace camrelay::sim
