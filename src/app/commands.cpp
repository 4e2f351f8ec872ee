#include "app/commands.hpp"

#include "app/runtime.hpp"
#include "core/log.hpp"
#include "core/name_template.hpp"
#include "delivery/sink.hpp"
#include "ingest/source.hpp"
#include "pipeline/import_report.hpp"
#if CAMRELAY_WITH_USB
#include "ingest/usb/usb_source.hpp"
#endif

#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace camrelay::app
{

namespace
{

constexpr auto log_tag = "app";

// SIGUSR1 only wakes the signal-waiting thread so it sees its stop request at once.
constexpr int wake_signal = SIGUSR1;

// SIGINT/SIGTERM are blocked in every thread and taken by one waiting thread, so no handler
// runs at an arbitrary point of libgphoto2 or SQLite.
sigset_t stop_signals()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

void block_stop_signals()
{
    auto set = stop_signals();
    sigaddset(&set, wake_signal);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

/// Waits for SIGINT/SIGTERM (or for `until` to be stopped); returns the signal, or 0.
/// Stop it promptly with wake_waiting_thread().
int wait_for_stop_signal(std::stop_token until)
{
    auto set = stop_signals();
    sigaddset(&set, wake_signal);
    while (!until.stop_requested())
    {
        timespec ts{1, 0};
        int sig = sigtimedwait(&set, nullptr, &ts);
        if (sig > 0 && sig != wake_signal)
            return sig;
    }
    return 0;
}

void wake_waiting_thread(std::jthread& t)
{
    t.request_stop();
    pthread_kill(t.native_handle(), wake_signal);
}

void init_logging(std::string const& level_text, std::string const& fallback)
{
    log::level lvl = log::level::info;
    if (!log::parse_level(level_text.empty() ? fallback : level_text, lvl))
    {
        std::cerr << "camrelay: unknown log level '" << level_text << "', using info\n";
        lvl = log::level::info;
    }
    log::init(lvl);
}

void print_problems(std::string const& origin, std::vector<config::problem> const& problems)
{
    for (auto const& p : problems)
    {
        if (p.line > 0)
            std::cerr << origin << ":" << p.line << ": " << p.message << "\n";
        else
            std::cerr << origin << ": " << p.message << "\n";
    }
}

/// Loads settings for a command; prints problems and returns false on error.
bool settings_for(common_options const& o, config::settings& s)
{
    std::vector<config::problem> problems;
    if (!load_settings(o.config_path, s, problems))
    {
        print_problems(o.config_path.empty() ? "defaults" : o.config_path, problems);
        return false;
    }
    if (!o.data_dir.empty())
    {
        auto old_dir = s.general.data_dir;
        s.general.data_dir = std::filesystem::absolute(o.data_dir).lexically_normal().string();
        // The default sink lives under the data dir: move it along.
        if (o.config_path.empty())
            s = config::make_default_settings(s.general.data_dir);
    }
    return true;
}

using pipeline::human_bytes;

/// A camera thread that says when it has ended, so a shutdown can wait for it with a deadline
/// and leave behind one that is stuck inside a blocking library call (a FIFO in libgphoto2's
/// open(), a camera that never answers) instead of hanging with it.
class camera_thread
{
  public:
    explicit camera_thread(std::function<void(std::stop_token)> body)
        : state_(std::make_shared<state>())
    {
        thread_ = std::thread(
            [st = state_, body = std::move(body), token = stop_.get_token()]
            {
                body(token);
                std::lock_guard lock(st->m);
                st->done = true;
                st->cv.notify_all();
            });
    }
    camera_thread(camera_thread&&) = default;
    camera_thread& operator=(camera_thread&&) = delete;
    ~camera_thread()
    {
        if (thread_.joinable())
        {
            stop_.request_stop();
            thread_.join();
        }
    }

    void request_stop() { stop_.request_stop(); }

    /// Waits until the thread has ended or `until` is stopped; true when it has ended.
    bool wait(std::stop_token until)
    {
        std::unique_lock lock(state_->m);
        return state_->cv.wait(lock, until, [&] { return state_->done; });
    }

    /// Joins the thread when it ends by `deadline` (true); otherwise detaches it and returns
    /// false: the caller must then keep alive everything the thread uses, for good.
    bool join_until(std::chrono::steady_clock::time_point deadline)
    {
        bool ended = false;
        {
            std::unique_lock lock(state_->m);
            ended = state_->cv.wait_until(lock, deadline, [&] { return state_->done; });
        }
        if (ended)
            thread_.join();
        else
            thread_.detach();
        return ended;
    }

  private:
    struct state
    {
        std::mutex m;
        std::condition_variable_any cv;
        bool done = false;
    };
    std::shared_ptr<state> state_;
    std::stop_source stop_;
    std::thread thread_;
};

/// Ends the process now, without destructors: a camera thread was left behind, still using the
/// runtime (source, ingester, ledger), which must not be destroyed under it. Every ledger commit
/// is durable already (synchronous=FULL); output is flushed first.
[[noreturn]] void exit_leaving_threads(int code)
{
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    if (auto logger = spdlog::default_logger())
        logger->flush();
    std::quick_exit(code);
}

/// What a camera thread gets to stop after a stop signal: shutdown_grace, but at least the
/// second or two a source may be inside a bounded wait (libgphoto2's 1 s event wait).
constexpr std::int64_t min_camera_grace = 2;

std::int64_t camera_grace(config::settings const& s)
{
    return std::max<std::int64_t>(s.general.shutdown_grace, min_camera_grace);
}

/// Names the abandoned sources in the log and the ledger.
void report_abandoned(runtime& rt, std::vector<std::size_t> const& stuck, std::int64_t grace)
{
    for (auto i : stuck)
    {
        auto const& src = rt.settings.sources[i];
        auto text = "the " + src.type + " source's camera thread (source " + std::to_string(i + 1) +
                    ") did not stop within " + std::to_string(grace) +
                    " s of the stop signal (shutdown_grace, at least " +
                    std::to_string(min_camera_grace) +
                    " s): it is stuck, probably in a camera library call; abandoned at exit";
        log::error(log_tag, "{}", text);
        rt.store->add_event("abandoned", text, pipeline::now_seconds());
    }
}

std::chrono::seconds remaining(std::chrono::steady_clock::time_point deadline)
{
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero())
        return std::chrono::seconds(0);
    return std::chrono::duration_cast<std::chrono::seconds>(left);
}

std::string local_time(std::int64_t t)
{
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    localtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

// --camera PORT: "ptpip://HOST[:PORT]" and "fuji://HOST[:PORT]" are Wi-Fi cameras; anything else
// is a libgphoto2 port (usb:, disk:/path...).
config::source_settings usb_source_for(std::string const& port)
{
    config::source_settings src;
    for (std::string scheme : {"ptpip", "fuji"})
        if (port.rfind(scheme + "://", 0) == 0)
        {
            src.type = scheme;
            src.options.set("address", port.substr(scheme.size() + 3), 0);
            return src;
        }
    src.type = "usb";
    src.options.set("port", port, 0);
    return src;
}

/// The label a user reads for an open object problem.
std::string problem_label(ledger::object_problem_record const& p)
{
    auto label = p.kind == "not-fetched" ? std::string("not fetched") : p.kind;
    return p.timeout ? label + " (timeout)" : label;
}

/// After an import: the first objects left on a camera in this run and why (from the ledger's
/// open problems), on stderr like the failed deliveries.
void print_left_on_camera(runtime& rt, std::int64_t since)
{
    constexpr int shown = 10;
    auto open = rt.store->problems(0, static_cast<int>(ledger::store::max_problems_per_camera));
    auto cams = rt.store->cameras();
    if (!open || !cams)
        return;
    std::map<std::int64_t, std::string> names;
    for (auto const& c : *cams)
        names[c.id] = c.name;
    int printed = 0, more = 0;
    for (auto const& p : *open)
    {
        if (p.last_seen < since)
            continue;
        if (printed == shown)
        {
            ++more;
            continue;
        }
        // Names and reasons come from the camera: control characters escaped, as in the log.
        std::cerr << "  " << problem_label(p) << ": " << log::escape_controls(names[p.camera_id])
                  << " " << log::escape_controls(p.object) << ": " << log::escape_controls(p.reason)
                  << "\n";
        ++printed;
    }
    if (more > 0)
        std::cerr << "  ... and " << more << " more (camrelay status lists them)\n";
}

} // namespace

int cmd_run(common_options const& o, std::vector<std::string> const& cameras)
{
    config::settings s;
    if (!settings_for(o, s))
        return 2;
    init_logging(o.log_level, s.general.log_level);
    if (!cameras.empty())
    {
        s.sources.clear();
        for (auto const& c : cameras)
            s.sources.push_back(usb_source_for(c));
    }
    block_stop_signals();
    std::string error;
    auto rt = make_runtime(std::move(s), error);
    if (!rt)
    {
        std::cerr << "camrelay: " << error << "\n";
        return 2;
    }
    log::info(log_tag, "camrelay {} running: data={} sources={} sinks={}", CAMRELAY_VERSION,
              rt->settings.general.data_dir, rt->sources.size(), rt->settings.sinks.size());
    rt->deliveries->start();
    auto presence = start_presence(*rt, error);
    if (!presence)
    {
        std::cerr << "camrelay: " << error << "\n";
        rt->deliveries->stop(std::chrono::seconds(0));
        return 2;
    }
    std::vector<camera_thread> threads;
    for (auto& src : rt->sources)
        threads.emplace_back([p = src.get()](std::stop_token st) { p->run(st); });

    int sig = wait_for_stop_signal({});
    auto grace = rt->settings.general.shutdown_grace;
    auto stopped_at = std::chrono::steady_clock::now();
    auto deadline = stopped_at + std::chrono::seconds(grace);
    auto camera_deadline = stopped_at + std::chrono::seconds(camera_grace(rt->settings));
    log::info(log_tag,
              "signal {} received: stopping cameras, letting deliveries finish (up to {} s)", sig,
              grace);
    for (auto& t : threads)
        t.request_stop();
    rt->deliveries->cancel_streams();
    // Every camera thread gets until the deadline; one stuck in a library call is left behind.
    std::vector<std::size_t> stuck;
    for (std::size_t i = 0; i < threads.size(); ++i)
        if (!threads[i].join_until(camera_deadline))
            stuck.push_back(i);
    if (!stuck.empty())
    {
        report_abandoned(*rt, stuck, camera_grace(rt->settings));
        rt->deliveries->stop(remaining(deadline));
        rt->store->add_event("stopped",
                             "daemon stopped by signal " + std::to_string(sig) + ", leaving " +
                                 std::to_string(stuck.size()) + " stuck camera thread(s) behind",
                             pipeline::now_seconds());
        log::error(log_tag, "stopped, leaving {} stuck camera thread(s) behind", stuck.size());
        exit_leaving_threads(1);
    }
    threads.clear();
    presence.reset();
    rt->deliveries->stop(remaining(deadline));
    rt->store->add_event("stopped", "daemon stopped by signal " + std::to_string(sig),
                         pipeline::now_seconds());
    log::info(log_tag, "stopped cleanly");
    return 0;
}

int cmd_import(common_options const& o, std::string const& camera, std::string const& to_dir,
               bool quiet)
{
    config::settings s;
    if (!settings_for(o, s))
        return 2;
    init_logging(o.log_level, "warn");
    if (!camera.empty())
        s.sources = {usb_source_for(camera)};
    if (!to_dir.empty())
    {
        auto dir = std::filesystem::absolute(to_dir).lexically_normal().string();
        config::sink_settings sink;
        sink.name = "to:" + dir;
        sink.type = "folder";
        sink.concurrency = 2;
        sink.options.set("path", dir + "/{name}", 0);
        s.sinks = {sink};
        config::route_settings all;
        all.to = {sink.name};
        s.routes = {all};
    }
    if (s.sources.empty())
    {
        std::cerr << "camrelay import: no source to import from (give --camera PORT)\n";
        return 2;
    }
    block_stop_signals();
    std::string error;
    auto rt = make_runtime(std::move(s), error);
    if (!rt)
    {
        std::cerr << "camrelay import: " << error << "\n";
        return 2;
    }

    auto started = pipeline::now_seconds();
    std::stop_source stop;
    std::jthread signals(
        [&stop](std::stop_token st)
        {
            if (wait_for_stop_signal(st) > 0)
                stop.request_stop();
        });
    std::jthread deliveries([&] { rt->deliveries->run_once(); });
    std::stop_callback on_stop(stop.get_token(), [&] { rt->deliveries->ingest_finished(); });

    auto const& in = rt->ingest->stats();
    auto const& out = rt->deliveries->stats();
    std::atomic<bool> done{false};
    std::jthread progress;
    if (!quiet && ::isatty(2))
    {
        progress = std::jthread(
            [&]
            {
                while (!done)
                {
                    long total = in.to_fetch.load();
                    long got = in.fetched.load() + in.failed.load();
                    int width = 24;
                    int filled = total > 0 ? static_cast<int>(width * got / total) : 0;
                    std::string bar(static_cast<std::size_t>(filled), '#');
                    bar.resize(static_cast<std::size_t>(width), '.');
                    std::fprintf(stderr, "\r[%s] %ld/%ld new  %s  delivered %ld   ", bar.c_str(),
                                 got, total, human_bytes(in.bytes.load()).c_str(),
                                 out.delivered.load());
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                }
                std::fprintf(stderr, "\r%80s\r", "");
            });
    }

    // The sources run on their own thread, so that one stuck inside a library call cannot hold
    // the import past shutdown_grace after SIGINT/SIGTERM.
    std::mutex errors_mutex;
    std::vector<failure> source_errors;
    std::atomic<std::size_t> current{0};
    camera_thread importer(
        [&](std::stop_token)
        {
            for (std::size_t i = 0; i < rt->sources.size(); ++i)
            {
                current = i;
                auto f = rt->sources[i]->import_once(stop.get_token());
                if (f.code)
                {
                    std::lock_guard lock(errors_mutex);
                    source_errors.push_back(f);
                }
            }
        });
    bool abandoned = false;
    if (!importer.wait(stop.get_token()))
    {
        auto stopped_at = std::chrono::steady_clock::now();
        auto deadline = stopped_at + std::chrono::seconds(rt->settings.general.shutdown_grace);
        abandoned =
            !importer.join_until(stopped_at + std::chrono::seconds(camera_grace(rt->settings)));
        if (abandoned)
            report_abandoned(*rt, {current.load()}, camera_grace(rt->settings));
        // Interrupted: running deliveries get what is left of the grace, pending ones wait.
        rt->deliveries->stop(remaining(deadline));
    }
    else
        importer.join_until(std::chrono::steady_clock::now());
    rt->deliveries->ingest_finished();
    deliveries.join();
    done = true;
    if (progress.joinable())
        progress.join();
    wake_waiting_thread(signals);

    std::vector<failure> errors;
    {
        std::lock_guard lock(errors_mutex);
        errors = source_errors;
    }
    for (auto const& f : errors)
        std::cerr << "camrelay import: " << f.text() << "\n";
    pipeline::import_report report;
    report.objects = rt->ingest->tally();
    report.delivered = out.delivered.load();
    report.delivery_failed =
        out.failed_transient.load() + out.failed_permanent.load() + out.interrupted.load();
    report.source_failed = !errors.empty();
    report.interrupted = stop.stop_requested();
    report.abandoned = abandoned;
    std::cout << report.summary_line() << "\n";
    print_left_on_camera(*rt, started);
    if (report.delivery_failed > 0)
    {
        int shown = static_cast<int>(std::min<long>(report.delivery_failed, 10));
        for (char const* kind : {"failed", "retry"})
            if (auto events = rt->store->recent_events(shown, kind))
                for (auto const& e : *events)
                    std::cerr << "  " << kind << ": " << log::escape_controls(e.message) << "\n";
    }
    if (abandoned)
        exit_leaving_threads(report.exit_code());
    return report.exit_code();
}

namespace
{

std::int64_t objects_of(ledger::store& st, std::int64_t camera_id)
{
    auto n = st.object_count(camera_id);
    return n ? *n : 0;
}

std::int64_t bytes_of(ledger::store& st, std::int64_t camera_id)
{
    auto n = st.asset_bytes(camera_id);
    return n ? *n : 0;
}

std::int64_t problems_of(ledger::store& st, std::int64_t camera_id, std::string const& kind)
{
    auto n = st.problem_count(camera_id, kind);
    return n ? *n : 0;
}

/// Latest open problems shown per camera.
constexpr int problems_shown = 5;

} // namespace

int cmd_status(common_options const& o, bool json)
{
    config::settings s;
    if (!settings_for(o, s))
        return 2;
    init_logging(o.log_level, "warn");
    auto path = ledger_path(s);
    if (!std::filesystem::exists(path))
    {
        if (json)
            std::cout << nlohmann::json{{"ledger", path}, {"exists", false}}.dump(2) << "\n";
        else
            std::cout << "No ledger yet at " << path << ": nothing imported so far.\n";
        return 0;
    }
    auto opened = ledger::store::open_read_only(path);
    if (!opened)
    {
        std::cerr << "camrelay status: cannot open " << path << ": " << opened.error().message()
                  << "\n";
        return 1;
    }
    auto& st = **opened;
    auto cams = st.cameras();
    auto counts = st.job_counts();
    auto events = st.recent_events(10, "delivered");
    auto failures = st.recent_events(10, "failed");
    auto retries = st.jobs_in_state(ledger::job_state::failed_transient, 10);
    if (!cams || !counts || !events || !failures || !retries)
    {
        std::cerr << "camrelay status: the ledger could not be read\n";
        return 1;
    }
    if (json)
    {
        nlohmann::json j;
        j["ledger"] = path;
        j["exists"] = true;
        j["cameras"] = nlohmann::json::array();
        for (auto const& c : *cams)
        {
            // Objects the camera listed that are not in the ledger, as of now (cleared when
            // one is stored or read after all).
            auto open = nlohmann::json::array();
            if (auto list = st.problems(c.id, problems_shown))
                for (auto const& p : *list)
                    open.push_back({{"object", p.object},
                                    {"kind", p.kind},
                                    {"reason", p.reason},
                                    {"timeout", p.timeout},
                                    {"first_seen", p.first_seen},
                                    {"last_seen", p.last_seen},
                                    {"attempts", p.attempts}});
            j["cameras"].push_back(
                nlohmann::json{{"identity", c.identity},
                               {"name", c.name},
                               {"model", c.model},
                               {"serial", c.serial},
                               {"port", c.port},
                               {"objects", objects_of(st, c.id)},
                               {"bytes", bytes_of(st, c.id)},
                               {"unreadable", problems_of(st, c.id, "unreadable")},
                               {"not_fetched", problems_of(st, c.id, "not-fetched")},
                               {"problems", open},
                               {"last_seen", c.last_seen}});
        }
        j["queue"] = nlohmann::json::object();
        for (auto const& sc : *counts)
        {
            nlohmann::json q;
            for (auto state : ledger::all_job_states)
                q[std::string(ledger::to_string(state))] = sc.by_state[static_cast<int>(state)];
            j["queue"][sc.sink] = q;
        }
        auto events_json = [](std::vector<ledger::event_record> const& list)
        {
            auto a = nlohmann::json::array();
            for (auto const& e : list)
                a.push_back({{"at", e.at},
                             {"kind", e.kind},
                             {"job", e.job_id},
                             {"asset", e.asset_id},
                             {"message", e.message}});
            return a;
        };
        j["recent_deliveries"] = events_json(*events);
        j["recent_failures"] = events_json(*failures);
        j["retrying"] = nlohmann::json::array();
        for (auto const& r : *retries)
            j["retrying"].push_back({{"job", r.id},
                                     {"sink", r.sink},
                                     {"attempts", r.attempts},
                                     {"next_attempt_at", r.next_attempt_at},
                                     {"last_error", r.last_error}});
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << "Ledger: " << path << "\n\nCameras:\n";
    if (cams->empty())
        std::cout << "  (none seen yet)\n";
    for (auto const& c : *cams)
    {
        std::cout << "  " << log::escape_controls(c.name) << "  ["
                  << log::escape_controls(c.identity) << "]  " << objects_of(st, c.id)
                  << " files fetched (" << human_bytes(bytes_of(st, c.id)) << "), last seen "
                  << local_time(c.last_seen) << "\n";
        auto unreadable = problems_of(st, c.id, "unreadable");
        auto not_fetched = problems_of(st, c.id, "not-fetched");
        if (unreadable > 0)
            std::cout << "    " << unreadable << " object(s) on " << log::escape_controls(c.name)
                      << " could not be read\n";
        if (not_fetched > 0)
            std::cout << "    " << not_fetched << " object(s) on " << log::escape_controls(c.name)
                      << " could not be fetched\n";
        if (unreadable + not_fetched == 0)
            continue;
        if (auto list = st.problems(c.id, problems_shown))
            for (auto const& p : *list)
                std::cout << "      " << problem_label(p) << ": " << log::escape_controls(p.object)
                          << ": " << log::escape_controls(p.reason) << " (last "
                          << local_time(p.last_seen) << ", " << p.attempts << " attempt(s))\n";
        if (unreadable + not_fetched > problems_shown)
            std::cout << "      ... and " << (unreadable + not_fetched - problems_shown)
                      << " more\n";
    }
    std::cout << "\nQueue (per destination):\n";
    std::printf("  %-24s %8s %8s %10s %9s %7s %10s\n", "sink", "pending", "running", "delivered",
                "retrying", "failed", "cancelled");
    std::fflush(stdout);
    for (auto const& sc : *counts)
    {
        auto n = [&](ledger::job_state s2)
        { return static_cast<long long>(sc.by_state[static_cast<int>(s2)]); };
        std::printf("  %-24s %8lld %8lld %10lld %9lld %7lld %10lld\n", sc.sink.c_str(),
                    n(ledger::job_state::pending), n(ledger::job_state::running),
                    n(ledger::job_state::delivered), n(ledger::job_state::failed_transient),
                    n(ledger::job_state::failed_permanent), n(ledger::job_state::cancelled));
    }
    std::fflush(stdout);
    std::cout << "\nRecent deliveries:\n";
    if (events->empty())
        std::cout << "  (none)\n";
    for (auto const& e : *events)
        std::cout << "  " << local_time(e.at) << "  " << log::escape_controls(e.message) << "\n";
    if (!retries->empty())
    {
        std::cout << "\nWaiting to retry:\n";
        for (auto const& r : *retries)
            std::cout << "  job " << r.id << " -> " << r.sink << ", attempt " << r.attempts
                      << ", next at " << local_time(r.next_attempt_at) << ": " << r.last_error
                      << "\n";
    }
    if (!failures->empty())
    {
        std::cout << "\nFailed (camrelay retry puts them back):\n";
        for (auto const& e : *failures)
            std::cout << "  " << local_time(e.at) << "  " << log::escape_controls(e.message)
                      << "\n";
    }
    return 0;
}

int cmd_cameras()
{
    log::init(log::level::warn);
#if CAMRELAY_WITH_USB
    std::string error;
    auto found = ingest::detect_cameras(error);
    if (!error.empty())
    {
        std::cerr << "camrelay cameras: detection failed: " << error << "\n";
        return 1;
    }
    if (found.empty())
        std::cout << "No USB camera detected. (A card folder can be read with --camera "
                     "disk:/path.)\n";
    for (auto const& [model, port] : found)
        std::cout << port << "\t" << model << "\n";
    return 0;
#else
    std::cout << "This build has no USB support.\n";
    return 0;
#endif
}

int cmd_config_check(std::string const& path)
{
    log::init(log::level::warn);
    config::settings s;
    std::vector<config::problem> problems;
    if (!load_settings(path, s, problems))
    {
        print_problems(path, problems);
        std::cerr << problems.size() << " problem(s) in " << path << "\n";
        return 2;
    }
    std::cout << path << ": ok (" << s.sources.size() << " source(s), " << s.sinks.size()
              << " sink(s), " << s.routes.size() << " route(s); data in " << s.general.data_dir
              << ")\n";
    return 0;
}

int cmd_config_defaults()
{
    auto s = config::make_default_settings();
    std::cout << "# camrelay's embedded defaults (used when no -c FILE is given)\n"
              << "[camrelay]\n"
              << "data_dir = \"" << s.general.data_dir << "\"\n"
              << "log_level = \"" << s.general.log_level << "\"\n"
              << "spool_keep = \"" << s.general.spool_keep << "\"\n"
              << "workers = " << s.general.workers << "\n"
              << "shutdown_grace = " << s.general.shutdown_grace << "\n\n"
              << "[[source]]\ntype = \"usb\"            # every camera libgphoto2 detects\n\n"
              << "[sink.photos]\ntype = \"folder\"\npath = \""
              << s.sinks.front().options.string_or("path", "") << "\"\n\n"
              << "[[route]]\nto = [\"photos\"]\n";
    return 0;
}

int cmd_describe(std::string const& kind, std::string const& type)
{
    auto print = [](std::string_view name, std::string_view summary,
                    std::span<const config::option_spec> options)
    {
        std::cout << name << ": " << summary << "\n";
        for (auto const& o : options)
        {
            std::cout << "  " << o.name << " (" << config::type_name(o.type)
                      << (o.required ? ", required" : "")
                      << (o.default_text.empty() ? "" : ", default: " + std::string(o.default_text))
                      << ")\n      " << o.description << "\n";
        }
        std::cout << "\n";
    };
    bool found = false;
    if (kind == "sink")
    {
        for (auto const& d : delivery::registry())
            if (type.empty() || d.type == type)
            {
                print(d.type, d.summary, d.options);
                found = true;
            }
        if (found && type.empty())
            print("every sink also takes", "retry and concurrency policy",
                  config::common_sink_options());
    }
    else
    {
        for (auto const& d : ingest::registry())
            if (type.empty() || d.type == type)
            {
                print(d.type, d.summary, d.options);
                found = true;
            }
    }
    if (!found)
    {
        std::cerr << "camrelay: no " << kind << " type '" << type << "'\n";
        return 2;
    }
    return 0;
}

int cmd_retry(common_options const& o)
{
    config::settings s;
    if (!settings_for(o, s))
        return 2;
    init_logging(o.log_level, "warn");
    std::string error;
    auto lock = data_dir_lock::acquire(s.general.data_dir, error);
    if (!lock)
    {
        std::cerr << "camrelay retry: " << error << "\n";
        return 1;
    }
    auto opened = ledger::store::open(ledger_path(s));
    if (!opened)
    {
        std::cerr << "camrelay retry: cannot open the ledger: " << opened.error().message() << "\n";
        return 1;
    }
    auto n = (*opened)->retry_failed(pipeline::now_seconds());
    if (!n)
        return 1;
    std::cout << *n << " job(s) queued again\n";
    return 0;
}

} // namespace camrelay::app
