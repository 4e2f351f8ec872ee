// Wi-Fi cameras over PTP/IP: standard CIPA DC-X005 (source type "ptpip", port 15740) and the
// Fujifilm X variant (type "fuji", port 55740, browse mode of shared/protocols/ptpip-fuji.md §2.A).
//
// This file is the source lifecycle: the options, import_once (reconnect and resume within one
// import), run (daemon: visit, back off, visit again), SSDP discovery (discover = true) and the
// descriptors. The parts below it (STYLE.md 3.4):
//   * proto::ptpip::session / event_channel decide everything about the protocol (sans I/O);
//   * link.hpp: the Asio driver (sockets, io_context) feeding them;
//   * camera_client.hpp: the download logic, with the standard client in standard_client.cpp and
//     the Fujifilm flow in fuji_client.cpp.
#include "ingest/ptpip/ptpip_source.hpp"

#include "core/log.hpp"
#include "ingest/ptpip/camera_client.hpp"
#include "ingest/ptpip/common.hpp"
#include "ingest/ptpip/ptpip_plan.hpp"
#include "ingest/ptpip/ssdp_listener.hpp"
#include "proto/ptpip/fuji.hpp"
#include "proto/ssdp/message.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace camrelay::ingest
{

namespace
{

namespace pp = proto::ptpip;
using pp::clock;
using ptpip::camera_client;
using ptpip::cancelled;
using ptpip::log_tag;
using ptpip::source_config;
using namespace std::chrono_literals;

constexpr config::option_spec ptpip_options[] = {
    {"address", config::option_type::string, false, "",
     "The camera: host[:port] (default port 15740), e.g. \"192.168.1.20\". Required unless "
     "discover = true."},
    {"friendly_name", config::option_type::string, false, "camrelay",
     "The name this computer gives the camera (shown and remembered by the camera)."},
    {"guid_file", config::option_type::string, false, "DATA_DIR/ptpip-guid",
     "File holding this installation's 16-byte initiator GUID; created once with random bytes "
     "(mode 0600). Cameras that pair by GUID (Sony, Nikon) remember it: keep the file."},
    {"order", config::option_type::string, false, "oldest-first",
     "Download order of new files: oldest-first or newest-first."},
    {"jpeg_first", config::option_type::boolean, false, "false",
     "Download every new JPEG before any other file (RAW, video)."},
    {"poll_interval", config::option_type::integer, false, "10",
     "Seconds between looks for new files while connected; also keeps the connection alive "
     "(keep it below the camera's idle timeout)."},
    {"reconnect_min", config::option_type::integer, false, "5",
     "Seconds before the first reconnect attempt while the camera is away."},
    {"reconnect_max", config::option_type::integer, false, "300",
     "Longest wait between reconnect attempts (the wait doubles up to this)."},
    {"chunk_size", config::option_type::integer, false, "1048576",
     "Bytes per GetPartialObject request (a download moves in pieces of this size and can resume "
     "after a dropped connection)."},
    {"min_rate", config::option_type::integer, false, "16384",
     "Bytes per second a download must keep, averaged over rate_window; a camera sending less "
     "is dropped (a timeout) and the file tried again later. Each file also has a deadline of "
     "60 s + size / min_rate."},
    {"rate_window", config::option_type::integer, false, "30",
     "Seconds over which min_rate is averaged."},
    {"discover", config::option_type::boolean, false, "false",
     "Without an address: listen for cameras announcing themselves by SSDP (Sony \"Send to "
     "Computer\", Canon EOS) and pull from each one that says ssdp:alive (camrelay run only)."},
    {"ssdp_port", config::option_type::integer, false, "1900",
     "UDP port the SSDP listener binds (discover = true)."},
    {"ssdp_bind", config::option_type::string, false, "0.0.0.0",
     "IPv4 address the SSDP listener binds (discover = true); it joins 239.255.255.250."},
    {"ssdp_ptpip_port", config::option_type::integer, false, "15740",
     "PTP/IP port connected to at a host that announced itself (discover = true)."},
};

constexpr config::option_spec fuji_options[] = {
    {"address", config::option_type::string, false, "192.168.0.1",
     "The camera: host[:port] (default port 55740); a Fujifilm camera's own access point is "
     "192.168.0.1."},
    {"friendly_name", config::option_type::string, false, "camrelay",
     "The client name the camera shows and remembers (at most 26 characters); another name "
     "makes the camera ask again."},
    {"guid_file", config::option_type::string, false, "DATA_DIR/ptpip-guid",
     "File holding this installation's 16-byte initiator GUID; created once with random bytes "
     "(mode 0600)."},
    {"order", config::option_type::string, false, "oldest-first",
     "Download order of new files: oldest-first or newest-first."},
    {"jpeg_first", config::option_type::boolean, false, "false",
     "Download every new JPEG before any other file (RAF, video)."},
    {"poll_interval", config::option_type::integer, false, "10",
     "Seconds between polls of the camera's object count while connected (keeps the connection "
     "alive)."},
    {"reconnect_min", config::option_type::integer, false, "5",
     "Seconds before the first reconnect attempt while the camera is away."},
    {"reconnect_max", config::option_type::integer, false, "300",
     "Longest wait between reconnect attempts (the wait doubles up to this)."},
    {"chunk_size", config::option_type::integer, false, "1048576",
     "Bytes per GetPartialObject request (Fuji apps use 1 MiB)."},
    {"min_rate", config::option_type::integer, false, "16384",
     "Bytes per second a download must keep, averaged over rate_window; a camera sending less "
     "is dropped (a timeout) and the file tried again later. Each file also has a deadline of "
     "60 s + size / min_rate."},
    {"rate_window", config::option_type::integer, false, "30",
     "Seconds over which min_rate is averaged."},
};

// --------------------------------------------------------------------------------- the source

class ptpip_source final : public source
{
  public:
    ptpip_source(source_config cfg, object_handler& out) : cfg_(std::move(cfg)), out_(out) {}

    void run(std::stop_token stop) override;
    failure import_once(std::stop_token stop) override;

  private:
    /// One visit of the camera at cfg.ep: connect, scan, serve until the connection ends or stop;
    /// reports connected / lost / refused. True when the camera was connected.
    bool visit(source_config const& cfg, pp::guid const& g, std::stop_token const& stop,
               std::string& last_problem, ptpip::camera_memory& memory);
    /// The GUID; on failure reports it (once per distinct problem) and gives nullopt.
    std::optional<pp::guid> guid(std::string& last_problem);
    /// `discover = true` without address: SSDP listener, one thread per announced camera.
    void discover(std::stop_token stop);
    /// Sleeps up to `d`; false when stop was requested.
    static bool sleep_for(std::stop_token const& stop, clock::duration d)
    {
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock(m);
        cv.wait_for(lock, stop, d, [] { return false; });
        return !stop.stop_requested();
    }
    void report_refusal(camera_client const& c, std::string const& message)
    {
        out_.camera_event(c.camera_id(), "failed", message);
    }

    source_config cfg_;
    object_handler& out_;
};

failure ptpip_source::import_once(std::stop_token stop)
{
    if (cfg_.address.empty())
        return {std::make_error_code(std::errc::invalid_argument),
                "this ptpip source has no address: cameras found by SSDP (discover = true) are "
                "pulled from by camrelay run only"};
    auto g = ptpip::load_or_create_guid(cfg_.guid_file);
    if (!g)
        return {g.error(), "cannot read or create the GUID file " + cfg_.guid_file + ": " +
                               g.error().message()};
    // A dropped connection in the middle of the import is not the end: reconnect and resume the
    // broken download, as long as each connection moves bytes.
    int failed_files = 0;
    int unreadable = 0;
    int stalls = 0; // connections in a row that moved nothing
    std::optional<std::pair<std::string, std::int64_t>> known_camera;
    // One memory for the whole import: each file counts once across reconnects.
    ptpip::camera_memory memory;
    for (int attempt = 0;; ++attempt)
    {
        camera_client c(cfg_, *g, out_, memory, stop);
        if (known_camera)
            c.reuse_camera(known_camera->first, known_camera->second);
        auto o = c.connect();
        if (c.camera_id())
            known_camera.emplace(c.info().identity, c.camera_id());
        if (o.ok())
            o = c.scan();
        failed_files += c.failed_files();
        unreadable += c.unreadable();
        c.close();
        if (!o.ok() && c.selected_transfer_finished())
            o = {};
        if (o.ok())
        {
            if (failed_files > 0 || unreadable > 0)
                return {std::make_error_code(std::errc::io_error),
                        std::to_string(std::max(failed_files, unreadable)) +
                            " file(s) could not be read; they will be tried again next time"};
            return {};
        }
        if (o.refused)
        {
            report_refusal(c, o.message);
            return {o.code, o.message};
        }
        if (stop.stop_requested())
            return {cancelled(), "import interrupted"};
        stalls = c.progress() > 0 ? 0 : stalls + 1;
        log::warn(log_tag, "{}", o.message);
        // The camera not there at all, or three connections in a row without progress: give up.
        if ((attempt == 0 && !c.was_connected()) || stalls >= 3 || attempt >= 10'000)
        {
            if (c.camera_id())
                out_.camera_event(c.camera_id(), "camera-lost", o.message);
            return {o.code, o.message};
        }
        log::info(log_tag, "reconnecting to continue ({} bytes moved on the last connection)",
                  c.progress());
        if (!sleep_for(stop, 200ms))
            return {cancelled(), "import interrupted"};
    }
}

bool ptpip_source::visit(source_config const& cfg, pp::guid const& g, std::stop_token const& stop,
                         std::string& last_problem, ptpip::camera_memory& memory)
{
    // already_have answers across visits; the retry book stays.
    memory.settled.clear();
    memory.asked_new.clear();
    camera_client c(cfg, g, out_, memory, stop);
    auto o = c.connect();
    bool const connected = o.ok();
    if (connected)
    {
        out_.camera_event(c.camera_id(), "camera-connected",
                          "camera " + c.info().name + " connected over Wi-Fi");
        last_problem.clear();
        o = c.scan();
        if (o.ok())
            o = c.serve();
    }
    c.close();
    if (stop.stop_requested())
        return connected;
    if (c.selected_transfer_finished())
    {
        out_.camera_event(c.camera_id(), "camera-lost", o.message);
        last_problem.clear();
        return connected;
    }
    if (o.refused)
    {
        if (o.message != last_problem)
            report_refusal(c, o.message);
    }
    else if (c.camera_id())
        out_.camera_event(c.camera_id(), "camera-lost", o.message);
    else if (o.message != last_problem)
        log::info(log_tag, "{} (trying again; waiting up to {} s between attempts)", o.message,
                  cfg.reconnect_max.count());
    last_problem = o.message;
    return connected;
}

std::optional<pp::guid> ptpip_source::guid(std::string& last_problem)
{
    auto g = ptpip::load_or_create_guid(cfg_.guid_file);
    if (g)
        return *g;
    auto msg = "cannot read or create the GUID file " + cfg_.guid_file + ": " + g.error().message();
    if (msg != last_problem)
        out_.camera_event(0, "failed", msg);
    last_problem = msg;
    return std::nullopt;
}

void ptpip_source::run(std::stop_token stop)
{
    if (cfg_.discover && cfg_.address.empty())
        return discover(stop);
    auto backoff = cfg_.reconnect_min;
    std::string last_problem;
    ptpip::camera_memory memory;
    while (!stop.stop_requested())
    {
        if (auto g = guid(last_problem))
            if (visit(cfg_, *g, stop, last_problem, memory))
                backoff = cfg_.reconnect_min;
        if (!sleep_for(stop, backoff))
            break;
        backoff = std::min(backoff * 2, cfg_.reconnect_max);
    }
}

// SSDP discovery (`discover = true`, no address): the source's thread reads announcements; each
// camera that says ssdp:alive gets a thread of its own running the same visit() as a configured
// camera (connect, scan, serve until the connection ends). A camera already being pulled from is
// not started twice; a repeated alive shortly after a visit ended (devices send each
// announcement several times) is ignored for reconnect_min. byebye is logged only: a transfer in
// flight ends when its connection does.
void ptpip_source::discover(std::stop_token stop)
{
    constexpr std::size_t max_cameras = 8;
    struct worker
    {
        std::unique_ptr<source_config> cfg;
        std::shared_ptr<std::atomic<bool>> done;
        std::shared_ptr<std::atomic<bool>> connected;
        std::thread thread;
    };
    // Hosts whose visit ended: not tried again before not_before. A host that announced itself
    // but did not turn out to be a camera (no PTP/IP init, no sane DeviceInfo) waits longer each
    // time (reconnect_min doubling up to an hour).
    struct history
    {
        clock::time_point not_before;
        int failures = 0;
    };
    std::map<std::string, worker> active; // by host
    std::map<std::string, history> ended; // by host (at most 1024 kept)
    std::set<std::string> mismatched;     // senders warned about (bounded)
    auto last_start = clock::time_point{};
    auto reap = [&](bool all)
    {
        for (auto it = active.begin(); it != active.end();)
        {
            if (all || it->second.done->load())
            {
                it->second.thread.join();
                if (ended.size() >= 1024 && !ended.count(it->first))
                    ended.erase(ended.begin());
                auto& h = ended[it->first];
                h.failures = it->second.connected->load() ? 0 : h.failures + 1;
                auto wait = std::chrono::duration_cast<clock::duration>(cfg_.reconnect_min);
                for (int i = 0; i < h.failures && wait < 1h; ++i)
                    wait *= 2;
                h.not_before = clock::now() + std::min<clock::duration>(wait, 1h);
                it = active.erase(it);
            }
            else
                ++it;
        }
    };
    auto backoff = cfg_.reconnect_min;
    std::string last_problem;
    while (!stop.stop_requested())
    {
        auto listener = ptpip::ssdp_listener::open(cfg_.ssdp_bind, cfg_.ssdp_port);
        if (!listener)
        {
            auto msg = "cannot listen for SSDP announcements on " + cfg_.ssdp_bind + ":" +
                       std::to_string(cfg_.ssdp_port) + ": " + listener.error().message();
            if (msg != last_problem)
                out_.camera_event(0, "failed", msg);
            last_problem = msg;
            if (!sleep_for(stop, backoff))
                break;
            backoff = std::min(backoff * 2, cfg_.reconnect_max);
            continue;
        }
        log::info(log_tag, "listening for cameras announcing themselves (SSDP) on {}:{}{}",
                  cfg_.ssdp_bind, listener->port(),
                  listener->joined() ? "" : " (could not join 239.255.255.250: unicast only)");
        last_problem.clear();
        while (!stop.stop_requested())
        {
            reap(false);
            auto d = listener->receive(250ms);
            if (!d)
                continue;
            auto m = proto::ssdp::parse(d->bytes);
            if (!m)
            {
                log::debug(log_tag, "ignored a datagram from {}: {}", d->sender,
                           m.error().message());
                continue;
            }
            auto a = proto::ssdp::classify(*m, cfg_.ssdp_ptpip_port);
            if (!a)
            {
                log::debug(log_tag, "ignored SSDP from {}: {}", d->sender, m->target);
                continue;
            }
            // A camera announces itself: its LOCATION names the sender. An announcement that
            // points elsewhere would make us pull from a host that never spoke: ignored.
            if (!a->host.empty() && !d->sender.empty() && a->host != d->sender)
            {
                if (mismatched.insert(d->sender).second && mismatched.size() < 256)
                    log::warn(log_tag,
                              "ignored an SSDP announcement from {} that names another host ({})",
                              d->sender, a->host);
                continue;
            }
            auto host = a->host.empty() ? d->sender : a->host;
            if (!a->alive)
            {
                log::info(log_tag,
                          "camera kind={} host={} usn={} said ssdp:byebye (a transfer in progress "
                          "continues until its connection ends)",
                          proto::ssdp::to_string(a->kind), host, a->usn);
                continue;
            }
            if (host.empty() || active.count(host))
                continue;
            if (auto e = ended.find(host); e != ended.end() && clock::now() < e->second.not_before)
                continue;
            // Rate limit: at most one new camera connection a second, whoever announces.
            if (clock::now() - last_start < 1s)
                continue;
            if (active.size() >= max_cameras)
            {
                log::warn(log_tag,
                          "camera host={} announced itself, but {} cameras are already "
                          "being pulled from",
                          host, active.size());
                continue;
            }

            log::info(log_tag,
                      "camera kind={} host={} usn={} announced itself: pulling over "
                      "PTP/IP port {}",
                      proto::ssdp::to_string(a->kind), host, a->usn, a->ptpip_port);
            worker w;
            w.cfg = std::make_unique<source_config>(cfg_);
            w.cfg->address = host;
            w.cfg->ep = ptpip::endpoint{host, a->ptpip_port};
            w.cfg->discovered = true;
            w.done = std::make_shared<std::atomic<bool>>(false);
            w.connected = std::make_shared<std::atomic<bool>>(false);
            last_start = clock::now();
            w.thread = std::thread(
                [this, cfg = w.cfg.get(), done = w.done, connected = w.connected, stop]
                {
                    // The camera asked to be pulled from: a few tries in case its PTP/IP port
                    // opens a moment after the announcement; after that, its next alive.
                    std::string problem;
                    ptpip::camera_memory memory;
                    auto wait = cfg->reconnect_min;
                    for (int attempt = 0; attempt < 3 && !stop.stop_requested(); ++attempt)
                    {
                        if (auto g = guid(problem); g && visit(*cfg, *g, stop, problem, memory))
                        {
                            connected->store(true);
                            break;
                        }
                        if (!sleep_for(stop, wait))
                            break;
                        wait = std::min(wait * 2, cfg->reconnect_max);
                    }
                    done->store(true);
                });
            active.emplace(host, std::move(w));
        }
    }
    reap(true);
}

std::unique_ptr<source> make_source(bool fuji, config::source_settings const& s,
                                    object_handler& out, std::vector<config::problem>& problems)
{
    std::string const kind = fuji ? "fuji" : "ptpip";
    auto problem = [&](std::string const& key, std::string const& text) {
        problems.push_back({s.options.line_of(key), "[[source]] " + kind + ": " + text});
    };
    source_config cfg;
    cfg.fuji = fuji;
    bool ok = true;
    cfg.address = s.options.string_or("address", fuji ? "192.168.0.1" : "");
    std::uint16_t default_port = fuji ? pp::fuji::command_port : pp::default_port;
    if (!fuji)
        cfg.discover = s.options.boolean_or("discover", false);
    if (cfg.address.empty())
    {
        if (!cfg.discover)
        {
            problem("address",
                    "address is required (the camera's host[:port]) unless discover = true");
            ok = false;
        }
    }
    else if (auto ep = ptpip::parse_address(cfg.address, default_port))
        cfg.ep = *ep;
    else
    {
        problem("address", "address '" + cfg.address + "' is not host[:port]");
        ok = false;
    }
    cfg.friendly_name = s.options.string_or("friendly_name", "camrelay");
    if (cfg.friendly_name.empty() || (fuji && cfg.friendly_name.size() > 26) ||
        cfg.friendly_name.size() > 200)
    {
        problem("friendly_name",
                std::string("friendly_name must be 1 to ") + (fuji ? "26" : "200") + " characters");
        ok = false;
    }
    auto data_dir = s.data_dir.empty() ? config::default_data_dir() : s.data_dir;
    cfg.guid_file = s.options.string_or("guid_file", data_dir + "/ptpip-guid");
    auto order = s.options.string_or("order", "oldest-first");
    if (order != "oldest-first" && order != "newest-first")
    {
        problem("order", "order must be oldest-first or newest-first");
        ok = false;
    }
    cfg.newest_first = order == "newest-first";
    cfg.jpeg_first = s.options.boolean_or("jpeg_first", false);
    auto poll = s.options.integer_or("poll_interval", 10);
    if (poll < 1 || poll > 3600)
    {
        problem("poll_interval", "poll_interval must be between 1 and 3600 seconds");
        ok = false;
    }
    auto rmin = s.options.integer_or("reconnect_min", 5);
    auto rmax = s.options.integer_or("reconnect_max", 300);
    if (rmin < 1 || rmax < rmin || rmax > 86400)
    {
        problem(rmin < 1 ? "reconnect_min" : "reconnect_max",
                "reconnect_min must be at least 1 and reconnect_max between it and 86400 seconds");
        ok = false;
    }
    auto chunk = s.options.integer_or("chunk_size", 1 << 20);
    if (chunk < 4096 || chunk > (16 << 20))
    {
        problem("chunk_size", "chunk_size must be between 4096 and 16777216 bytes");
        ok = false;
    }
    auto min_rate = s.options.integer_or("min_rate", 16 * 1024);
    if (min_rate < 1 || min_rate > (1LL << 30))
    {
        problem("min_rate", "min_rate must be between 1 and 1073741824 bytes per second");
        ok = false;
    }
    auto rate_window = s.options.integer_or("rate_window", 30);
    if (rate_window < 1 || rate_window > 3600)
    {
        problem("rate_window", "rate_window must be between 1 and 3600 seconds");
        ok = false;
    }
    if (!fuji)
    {
        if (cfg.discover && !cfg.address.empty())
            log::warn(log_tag, "ptpip source: address is set, so discover = true is not used");
        auto ssdp_port = s.options.integer_or("ssdp_port", proto::ssdp::multicast_port);
        if (ssdp_port < 1 || ssdp_port > 65535)
        {
            problem("ssdp_port", "ssdp_port must be between 1 and 65535");
            ok = false;
        }
        else
            cfg.ssdp_port = static_cast<std::uint16_t>(ssdp_port);
        auto ptpip_port = s.options.integer_or("ssdp_ptpip_port", pp::default_port);
        if (ptpip_port < 1 || ptpip_port > 65535)
        {
            problem("ssdp_ptpip_port", "ssdp_ptpip_port must be between 1 and 65535");
            ok = false;
        }
        else
            cfg.ssdp_ptpip_port = static_cast<std::uint16_t>(ptpip_port);
        cfg.ssdp_bind = s.options.string_or("ssdp_bind", "0.0.0.0");
        in_addr probe{};
        if (::inet_pton(AF_INET, cfg.ssdp_bind.c_str(), &probe) != 1)
        {
            problem("ssdp_bind", "ssdp_bind must be an IPv4 address such as 0.0.0.0");
            ok = false;
        }
    }
    if (!ok)
        return nullptr;
    cfg.poll = std::chrono::seconds(poll);
    cfg.reconnect_min = std::chrono::seconds(rmin);
    cfg.reconnect_max = std::chrono::seconds(rmax);
    cfg.chunk = static_cast<std::uint32_t>(chunk);
    cfg.min_rate = static_cast<std::uint64_t>(min_rate);
    cfg.rate_window = std::chrono::seconds(rate_window);
    return std::make_unique<ptpip_source>(std::move(cfg), out);
}

std::unique_ptr<source> make_ptpip_source(config::source_settings const& s, object_handler& out,
                                          std::vector<config::problem>& problems)
{
    return make_source(false, s, out, problems);
}

std::unique_ptr<source> make_fuji_source(config::source_settings const& s, object_handler& out,
                                         std::vector<config::problem>& problems)
{
    return make_source(true, s, out, problems);
}

} // namespace

source_descriptor const ptpip_source_descriptor{
    "ptpip",
    "Wi-Fi cameras speaking standard PTP/IP (Canon, Nikon, Sony \"Send to Computer\", Ricoh...).",
    ptpip_options,
    &make_ptpip_source,
};

source_descriptor const fuji_source_descriptor{
    "fuji",
    "Fujifilm X cameras over Wi-Fi (\"Smartphone\" / browse mode, port 55740).",
    fuji_options,
    &make_fuji_source,
};

} // namespace camrelay::ingest