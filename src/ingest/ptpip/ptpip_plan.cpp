#include "ingest/ptpip/ptpip_plan.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <random>

namespace camrelay::ingest::ptpip
{

namespace ptp = proto::ptp;

std::optional<endpoint> parse_address(std::string_view text, std::uint16_t default_port)
{
    endpoint ep;
    ep.port = default_port;
    std::string_view host = text;
    std::string_view port;
    if (!text.empty() && text.front() == '[')
    {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        host = text.substr(1, close - 1);
        auto rest = text.substr(close + 1);
        if (!rest.empty())
        {
            if (rest.front() != ':')
                return std::nullopt;
            port = rest.substr(1);
            if (port.empty())
                return std::nullopt;
        }
    }
    else if (auto colon = text.find(':'); colon != std::string_view::npos)
    {
        if (text.find(':', colon + 1) != std::string_view::npos)
            return std::nullopt; // a bare IPv6 address needs brackets
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (port.empty())
            return std::nullopt;
    }
    if (host.empty() || host.find_first_of(" /\t") != std::string_view::npos)
        return std::nullopt;
    if (!port.empty())
    {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
            return std::nullopt;
        ep.port = static_cast<std::uint16_t>(value);
    }
    ep.host = std::string(host);
    return ep;
}

result<proto::ptpip::guid> load_or_create_guid(std::string const& path)
{
    proto::ptpip::guid g{};
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
    {
        std::array<std::byte, 17> buf{};
        auto n = ::read(fd, buf.data(), buf.size());
        ::close(fd);
        if (n != 16)
            return error_result<proto::ptpip::guid>(
                std::make_error_code(std::errc::invalid_argument));
        std::copy_n(buf.begin(), 16, g.begin());
        return g;
    }
    if (errno != ENOENT)
        return error_result<proto::ptpip::guid>(std::error_code(errno, std::generic_category()));
    std::random_device rd;
    for (auto& b : g)
        b = static_cast<std::byte>(rd() & 0xFF);
    // Created once, atomically: write a temp file, then link it into place (never overwrite a
    // GUID another process created in between).
    auto tmp = path + ".tmp" + std::to_string(::getpid());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return error_result<proto::ptpip::guid>(std::error_code(errno, std::generic_category()));
    bool ok = ::write(fd, g.data(), g.size()) == static_cast<ssize_t>(g.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok)
    {
        ::unlink(tmp.c_str());
        return error_result<proto::ptpip::guid>(std::make_error_code(std::errc::io_error));
    }
    int rc = ::link(tmp.c_str(), path.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0)
    {
        if (err == EEXIST)
            return load_or_create_guid(path);
        return error_result<proto::ptpip::guid>(std::error_code(err, std::generic_category()));
    }
    return g;
}

std::string folder_for(std::uint32_t storage_id, std::vector<std::string> const& parents)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "/store_%08x", storage_id);
    std::string out = buf;
    for (auto const& p : parents)
        out += "/" + p;
    return out;
}

std::int64_t epoch_of(std::string const& text)
{
    auto dt = ptp::parse_date_time(text);
    if (!dt)
        return 0;
    std::tm tm{};
    tm.tm_year = dt->year - 1900;
    tm.tm_mon = dt->month - 1;
    tm.tm_mday = dt->day;
    tm.tm_hour = dt->hour;
    tm.tm_min = dt->minute;
    tm.tm_sec = dt->second;
    auto t = static_cast<std::int64_t>(::timegm(&tm));
    if (dt->zone == ptp::date_time::zone_kind::offset)
        t -= static_cast<std::int64_t>(dt->utc_offset_minutes) * 60;
    return t;
}

object_ref ref_of(ptp::object_info const& info, std::string folder)
{
    object_ref r;
    r.folder = std::move(folder);
    r.name = info.filename;
    r.size = info.compressed_size;
    r.mtime = epoch_of(info.capture_date);
    if (r.mtime == 0)
        r.mtime = epoch_of(info.modification_date);
    switch (info.format)
    {
    case ptp::object_format::exif_jpeg:
    case ptp::object_format::jfif:
        r.mime = "image/jpeg";
        break;
    case ptp::object_format::tiff:
    case ptp::object_format::tiff_ep:
        r.mime = "image/tiff";
        break;
    case ptp::object_format::png:
        r.mime = "image/png";
        break;
    case ptp::object_format::heif:
        r.mime = "image/heif";
        break;
    case ptp::object_format::dng:
        r.mime = "image/x-adobe-dng";
        break;
    case ptp::object_format::fuji_raf:
        r.mime = "image/x-fuji-raf";
        break;
    case ptp::object_format::quicktime:
        r.mime = "video/quicktime";
        break;
    case ptp::object_format::mtp_mp4:
        r.mime = "video/mp4";
        break;
    case ptp::object_format::avi:
        r.mime = "video/x-msvideo";
        break;
    default:
        break;
    }
    return r;
}

bool is_downloadable(ptp::object_info const& info)
{
    return info.format != ptp::object_format::association && !info.filename.empty();
}

bool is_jpeg(candidate const& c)
{
    if (c.format == ptp::object_format::exif_jpeg || c.format == ptp::object_format::jfif)
        return true;
    auto const& n = c.ref.name;
    auto dot = n.rfind('.');
    if (dot == std::string::npos)
        return false;
    std::string ext = n.substr(dot + 1);
    for (auto& ch : ext)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return ext == "jpg" || ext == "jpeg";
}

void order_candidates(std::vector<candidate>& list, bool newest_first, bool jpeg_first)
{
    std::stable_sort(list.begin(), list.end(),
                     [&](candidate const& a, candidate const& b)
                     {
                         if (jpeg_first)
                         {
                             bool ja = is_jpeg(a), jb = is_jpeg(b);
                             if (ja != jb)
                                 return ja;
                         }
                         if (a.ref.mtime != b.ref.mtime)
                             return newest_first ? a.ref.mtime > b.ref.mtime
                                                 : a.ref.mtime < b.ref.mtime;
                         return newest_first ? a.handle > b.handle : a.handle < b.handle;
                     });
}

std::optional<chunk_request> next_chunk(std::uint64_t done, std::uint64_t size,
                                        std::uint32_t chunk_size, bool offset64)
{
    if (done >= size || chunk_size == 0 || (!offset64 && done > 0xFFFFFFFFull))
        return std::nullopt;
    auto left = size - done;
    chunk_request r;
    r.offset = done;
    r.length = static_cast<std::uint32_t>(std::min<std::uint64_t>(left, chunk_size));
    return r;
}

transfer_kind plan_transfer(std::uint64_t size, bool size_known, bool partial, bool partial64)
{
    if (!size_known)
        return transfer_kind::whole;
    // Offsets run to size - 1: every one fits 32 bits up to a size of exactly 4 GiB.
    bool wide = size > 0x100000000ull;
    if (partial64 && (wide || !partial))
        return transfer_kind::partial64;
    if (partial && !wide)
        return transfer_kind::partial;
    return transfer_kind::whole;
}

std::string identity_of(std::string const& manufacturer, std::string const& model,
                        std::string const& serial, proto::ptpip::guid const& responder)
{
    std::string s = serial;
    if (s.empty())
    {
        static constexpr char hex[] = "0123456789abcdef";
        for (auto b : responder)
        {
            s += hex[std::to_integer<unsigned>(b) >> 4];
            s += hex[std::to_integer<unsigned>(b) & 0xF];
        }
        s = "guid-" + s;
    }
    return "ptpip:" + manufacturer + ":" + model + ":" + s;
}

std::string refusal_message(std::string const& camera, std::uint32_t reason, bool fuji)
{
    char code[16];
    std::snprintf(code, sizeof code, "0x%04x", reason);
    if (fuji || reason == 0x2019)
        return "camera " + camera + " refused the connection (Init Fail " + code +
               "): the camera refused: confirm the connection on the camera (or re-pair)";
    return "camera " + camera + " refused the connection (Init Fail " + code +
           "): the camera refused: confirm the connection on the camera (or re-pair; Sony and "
           "Nikon pair by this installation's GUID)";
}

} // namespace camrelay::ingest::ptpip
