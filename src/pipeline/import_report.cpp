#include "pipeline/import_report.hpp"

#include <cstdio>

namespace camrelay::pipeline
{

std::string human_bytes(long long b)
{
    static constexpr char const* units[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
    char buf[48];
    if (b < 1000)
    {
        std::snprintf(buf, sizeof buf, "%lld B", b);
        return buf;
    }
    // Up while the value would print as 1000.0 or more: 999,960 bytes are 1.0 MB, not 1000.0 kB.
    auto v = static_cast<double>(b);
    int unit = -1;
    while (v >= 999.95 && unit < 5)
    {
        v /= 1000.0;
        ++unit;
    }
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[unit]);
    return buf;
}

std::string import_report::summary_line() const
{
    auto const& o = objects;
    std::string s = "import: " + std::to_string(o.stored) + " new (" + human_bytes(o.stored_bytes) +
                    ") from " + std::to_string(o.cameras) + " camera(s), " +
                    std::to_string(o.known) + " already known, " + std::to_string(o.unreadable) +
                    " unreadable, " + std::to_string(o.not_fetched) + " not fetched";
    if (o.unrouted > 0)
        s += ", " + std::to_string(o.unrouted) + " skipped by routes";
    if (o.deferred > 0)
        s += ", " + std::to_string(o.deferred) + " deferred";
    if (o.twins > 0)
        s += ", " + std::to_string(o.twins) + " same-name twin(s) kept";
    if (o.resumed > 0)
        s += ", " + std::to_string(o.resumed) + " resumed";
    s += "; delivered " + std::to_string(delivered) + ", failed " + std::to_string(delivery_failed);
    if (interrupted)
        s += " (interrupted)";
    return s;
}

int import_report::exit_code() const
{
    if (objects.left_on_camera() > 0)
        return import_exit::left_on_camera;
    if (source_failed || delivery_failed > 0 || interrupted || abandoned)
        return import_exit::failed;
    return import_exit::ok;
}

} // namespace camrelay::pipeline
