#include "app/runtime.hpp"

#include "config/device.hpp"
#include "core/fs.hpp"
#include "delivery/sink.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>

namespace camrelay::app {

config::plugin_catalog make_catalog()
{
    config::plugin_catalog c;
    for (auto const& d : ingest::registry())
    {
        c.sources.emplace(std::string(d.type), d.options);
        if (d.names_its_sinks)
            c.sources_naming_sinks.emplace(d.type);
    }
    for (auto const& d : delivery::registry())
        c.sinks.emplace(std::string(d.type), d.options);
    return c;
}

namespace {

// A sink that is never called: lets load_settings check a source's options without a pipeline.
class null_handler final : public ingest::object_handler
{
public:
    result<std::int64_t> camera_connected(ingest::camera_info const&) override { return 0; }
    bool already_have(std::int64_t, ingest::object_ref const&) override { return true; }
    ingest::fetch_result fetch(std::int64_t, ingest::camera_info const&, ingest::object_ref const&,
                               ingest::fetch_fn const&, bool) override
    {
        return {};
    }
    result<std::unique_ptr<ingest::incoming_file>> begin_receive(std::int64_t,
                                                                 ingest::camera_info const&,
                                                                 ingest::object_ref const&) override
    {
        return std::make_error_code(std::errc::operation_not_supported);
    }
    result<std::int64_t> queue_message(std::int64_t, message_info const&,
                                       std::span<const ingest::message_part>) override
    {
        return std::make_error_code(std::errc::operation_not_supported);
    }
    void object_unreadable(std::int64_t, ingest::object_problem const&) override {}
    void object_recovered(std::int64_t, ingest::object_problem const&) override {}
    void camera_event(std::int64_t, std::string const&, std::string const&) override {}
};

} // namespace

config::sink_settings for_checking(config::sink_settings const& sink, config::settings const& all)
{
    if (!config::uses_device_address(sink))
        return sink;
    // The real address comes with the device (its fixed ip, else a DHCP event); until then a
    // name that never resolves stands in, so the URL can be checked.
    std::string address = "device-ip.invalid";
    for (auto const& d : all.devices)
        if (d.name == sink.device && !d.ip.empty())
            address = d.ip;
    return config::with_device_address(sink, address);
}

bool load_settings(std::string const& path, config::settings& out,
                   std::vector<config::problem>& problems)
{
    problems.clear();
    if (path.empty())
        out = config::make_default_settings();
    else
        config::load_file(path, make_catalog(), out, problems);
    // Sources that translate another program's configuration add their sinks and options
    // before anything is built, so the checks below see them.
    for (std::size_t i = 0; i < out.sources.size(); ++i)
        if (auto const* d = ingest::find_source_type(out.sources[i].type); d && d->expand)
            d->expand(out.sources[i], out, problems);
    // Let every plugin check its own options (templates, enums, ranges), also when the loader
    // found problems: `config check` lists every problem of the file at once.
    bool streaming = out.general.spool == "none";
    for (auto const& s : out.sinks)
        if (auto const* d = delivery::find_sink_type(s.type))
        {
            auto built = d->make(for_checking(s, out), problems);
            if (!streaming || !built || built->can_stream())
                continue;
            // Streaming mode delivers only through sinks that can read the camera's stream.
            for (auto const& r : out.routes)
                if (std::find(r.to.begin(), r.to.end(), s.name) != r.to.end())
                {
                    problems.push_back(
                        {r.line, "[[route]]: sink " + s.name + " (type " + s.type +
                                     ") cannot stream, which spool = \"none\" needs; use a "
                                     "folder, sftp or scp sink, or spool = \"disk\""});
                    break;
                }
        }
    if (streaming)
        for (auto const& s : out.sources)
            if (s.type == "samsung")  // cameras that push files: they are spooled, then sent
                problems.push_back({s.line, "[[source]] samsung needs the spool: spool = "
                                            "\"none\" cannot receive pushed files"});
    null_handler nothing;
    for (auto const& s : out.sources)
        if (auto const* d = ingest::find_source_type(s.type))
            d->make(s, nothing, problems);
    return problems.empty();
}

data_dir_lock data_dir_lock::acquire(std::string const& data_dir, std::string& error)
{
    data_dir_lock l;
    auto path = data_dir + "/lock";
    l.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (l.fd_ < 0)
    {
        error = "cannot open " + path + ": " + last_errno().message();
        return l;
    }
    if (::flock(l.fd_, LOCK_EX | LOCK_NB) != 0)
    {
        error = "another camrelay (run or import) is using " + data_dir +
                "; stop it first or give another --data-dir";
        ::close(l.fd_);
        l.fd_ = -1;
    }
    return l;
}

data_dir_lock& data_dir_lock::operator=(data_dir_lock&& other) noexcept
{
    if (this != &other)
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

data_dir_lock::~data_dir_lock()
{
    if (fd_ >= 0)
        ::close(fd_);
}

std::string ledger_path(config::settings const& s)
{
    return s.general.data_dir + "/camrelay.db";
}

std::unique_ptr<runtime> make_runtime(config::settings settings, std::string& error)
{
    auto rt = std::make_unique<runtime>();
    rt->settings = std::move(settings);
    auto const& s = rt->settings;
    if (auto ec = fs::make_dirs_durable(s.general.data_dir))
    {
        error = "cannot create the data folder " + s.general.data_dir + ": " + ec.message();
        return nullptr;
    }
    rt->lock = data_dir_lock::acquire(s.general.data_dir, error);
    if (!rt->lock)
        return nullptr;
    auto store = ledger::store::open(ledger_path(s));
    if (!store)
    {
        error = "cannot open the ledger " + ledger_path(s) + ": " + store.error().message();
        return nullptr;
    }
    rt->store = std::move(*store);

    std::vector<config::problem> problems;
    std::vector<pipeline::sink_instance> sinks;
    for (auto const& ss : s.sinks)
    {
        auto const* d = delivery::find_sink_type(ss.type);
        if (!d)
        {
            error = "unknown sink type " + ss.type;
            return nullptr;
        }
        auto sink = d->make(for_checking(ss, s), problems);
        if (!sink)
            break;
        sinks.push_back({ss, std::move(sink)});
    }
    rt->routes = std::make_unique<pipeline::router>(s.routes);
    rt->deliveries = std::make_unique<pipeline::scheduler>(*rt->store, std::move(sinks),
                                                           s.general.workers,
                                                           s.general.spool_keep == "always");
    auto* sched = rt->deliveries.get();
    rt->ingest = std::make_unique<pipeline::ingester>(*rt->store, *rt->routes,
                                                      s.general.data_dir + "/spool",
                                                      [sched] { sched->notify(); });
    if (s.general.spool == "none")
        rt->ingest->set_streaming(
            [sched](std::string const& sink) { return sched->lease_stream(sink); });
    for (auto const& src : s.sources)
    {
        auto const* d = ingest::find_source_type(src.type);
        if (!d)
        {
            error = "this build has no source type " + src.type;
            return nullptr;
        }
        auto with_dir = src;
        with_dir.data_dir = s.general.data_dir;
        auto source = d->make(with_dir, *rt->ingest, problems);
        if (source)
            rt->sources.push_back(std::move(source));
    }
    if (!problems.empty())
    {
        error = problems.front().message;
        return nullptr;
    }
    return rt;
}

} // namespace camrelay::app
