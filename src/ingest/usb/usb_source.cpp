// USB (and any libgphoto2) cameras. Each camera gets its own thread: libgphoto2 is blocking and
// a camera's Camera object must only be used from one thread. The thread lists the card
// recursively, asks the pipeline which objects are new, and streams only those through a
// CameraFileHandler (never a whole-file buffer). Cameras that send FILE_ADDED get the new file at
// once; the others (Directory Browse, many compacts) are rescanned every poll_interval.
#include "ingest/usb/usb_source.hpp"

#include "core/fs.hpp"
#include "core/log.hpp"

#include <gphoto2/gphoto2.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace camrelay::ingest {

namespace {

constexpr auto log_tag = "usb";

constexpr config::option_spec usb_options[] = {
    {"port", config::option_type::string, false, "every detected camera",
     "libgphoto2 port: \"usb:\" (first USB camera), \"usb:001,005\", or \"disk:/path\" "
     "(a folder read through the Directory Browse driver, e.g. a mounted card)."},
    {"model", config::option_type::string, false, "detected",
     "libgphoto2 camera model, when detection cannot tell (\"Directory Browse\" for disk:)."},
    {"poll_interval", config::option_type::integer, false, "5",
     "Seconds between looks for new cameras, and between rescans of cameras that send no "
     "events."},
    {"order", config::option_type::string, false, "oldest-first",
     "Download order of new files: oldest-first or newest-first."},
};

// libgphoto2 loads its port and camera drivers through ltdl, which is not thread-safe.
std::mutex& driver_mutex()
{
    static std::mutex m;
    return m;
}

std::string gp_text(int rc)
{
    return std::string(gp_result_as_string(rc)) + " (" + std::to_string(rc) + ")";
}

struct camera_deleter
{
    void operator()(Camera* c) const
    {
        gp_camera_exit(c, nullptr);
        gp_camera_unref(c);
    }
};
using camera_ptr = std::unique_ptr<Camera, camera_deleter>;

struct context_deleter
{
    void operator()(GPContext* c) const { gp_context_unref(c); }
};
using context_ptr = std::unique_ptr<GPContext, context_deleter>;

struct list_deleter
{
    void operator()(CameraList* l) const { gp_list_free(l); }
};
using list_ptr = std::unique_ptr<CameraList, list_deleter>;

list_ptr make_list()
{
    CameraList* l = nullptr;
    gp_list_new(&l);
    return list_ptr(l);
}

struct detected
{
    std::string model;
    std::string port;
};

// Cancellation: libgphoto2 polls this during long operations.
GPContextFeedback cancel_func(GPContext*, void* data)
{
    auto* stop = static_cast<std::stop_token*>(data);
    return stop->stop_requested() ? GP_CONTEXT_FEEDBACK_CANCEL : GP_CONTEXT_FEEDBACK_OK;
}

// The handler gphoto2 writes downloaded chunks into.
struct download_state
{
    chunk_sink const* out = nullptr;
    std::error_code error;
};

int handler_size(void*, uint64_t*)
{
    return GP_OK;
}
int handler_read(void*, unsigned char*, uint64_t* size)
{
    *size = 0;
    return GP_ERROR_NOT_SUPPORTED;
}
int handler_write(void* priv, unsigned char* data, uint64_t* size)
{
    auto* st = static_cast<download_state*>(priv);
    // Some drivers (Directory Browse) ignore a failed write and hand over the next chunk:
    // after the first failure take nothing more, or the spooled bytes would have a gap.
    if (st->error)
        return GP_ERROR_IO_WRITE;
    if (int e = fault::check("usb.read"))
    {
        st->error = {e, std::generic_category()};
        return GP_ERROR_IO_READ;
    }
    st->error = (*st->out)(
        std::span(reinterpret_cast<std::byte const*>(data), static_cast<std::size_t>(*size)));
    return st->error ? GP_ERROR_IO_WRITE : GP_OK;
}

class usb_camera
{
public:
    usb_camera(detected d, std::string order, std::chrono::seconds poll, object_handler& out,
               std::stop_token stop)
        : det_(std::move(d)), order_(std::move(order)), poll_(poll), out_(out),
          stop_(std::move(stop))
    {
    }

    /// Opens the camera; a failure string when it cannot.
    std::string open();
    /// Lists everything and fetches what is new. A failure string when the camera could not
    /// be listed (gone, unreadable); per-file failures are counted, not returned.
    std::string scan();
    /// Daemon loop: events or polling until stop or the camera goes away.
    void serve();

    int failed_files() const { return failed_files_; }

private:
    std::string list_folder(std::string const& folder, std::vector<object_ref>& out, int depth);
    void fetch_one(object_ref const& obj);
    camera_info identify();

    detected det_;
    std::string order_;
    std::chrono::seconds poll_;
    object_handler& out_;
    std::stop_token stop_;
    context_ptr ctx_;
    camera_ptr cam_;
    camera_info info_;
    std::int64_t camera_id_ = 0;
    bool has_events_ = true;
    /// Whether a broken download is worth keeping for a partial read later. PTP cameras have
    /// partial reads (GetPartialObject); the Directory Browse driver has none, so for disk:
    /// ports a broken download is dropped and fetched whole next time.
    bool can_resume_ = true;
    int failed_files_ = 0;
};

std::string usb_camera::open()
{
    ctx_.reset(gp_context_new());
    gp_context_set_cancel_func(ctx_.get(), cancel_func, &stop_);
    Camera* raw = nullptr;
    gp_camera_new(&raw);
    camera_ptr cam(raw);
    {
        std::lock_guard lock(driver_mutex());
        CameraAbilitiesList* al = nullptr;
        gp_abilities_list_new(&al);
        gp_abilities_list_load(al, ctx_.get());
        int i = gp_abilities_list_lookup_model(al, det_.model.c_str());
        if (i < 0)
        {
            gp_abilities_list_free(al);
            return "libgphoto2 does not know the camera model '" + det_.model + "'";
        }
        CameraAbilities a;
        gp_abilities_list_get_abilities(al, i, &a);
        gp_camera_set_abilities(raw, a);
        gp_abilities_list_free(al);

        GPPortInfoList* pl = nullptr;
        gp_port_info_list_new(&pl);
        gp_port_info_list_load(pl);
        int p = gp_port_info_list_lookup_path(pl, det_.port.c_str());
        if (p < 0)
        {
            gp_port_info_list_free(pl);
            return "no such port '" + det_.port + "'";
        }
        GPPortInfo pi;
        gp_port_info_list_get_info(pl, p, &pi);
        gp_camera_set_port_info(raw, pi);
        gp_port_info_list_free(pl);
    }
    if (det_.port.rfind("disk:", 0) == 0)
    {
        // Directory Browse "opens" any path; say plainly when the folder is not there.
        auto dir = det_.port.substr(5);
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            return "the folder " + dir + " does not exist or is not readable";
    }
    int rc = gp_camera_init(raw, ctx_.get());
    if (rc < GP_OK)
        return "cannot open " + det_.model + " at " + det_.port + ": " + gp_text(rc);
    cam_ = std::move(cam);
    can_resume_ = det_.port.rfind("disk:", 0) != 0;
    info_ = identify();
    auto id = out_.camera_connected(info_);
    if (!id)
        return "ledger error: " + id.error().message();
    camera_id_ = *id;
    log::info(log_tag, "camera={} model=\"{}\" port={} ready", info_.identity, info_.model,
              det_.port);
    return {};
}

camera_info usb_camera::identify()
{
    camera_info ci;
    ci.source_kind = "usb";
    ci.port = det_.port;
    ci.model = det_.model;
    if (det_.port.rfind("disk:", 0) == 0)
    {
        // A folder has no serial; its canonical path is what stays the same between runs.
        std::error_code ec;
        auto canon = std::filesystem::weakly_canonical(det_.port.substr(5), ec);
        std::string path = ec ? det_.port.substr(5) : canon.string();
        ci.identity = "disk:" + path;
        auto base = std::filesystem::path(path).filename().string();
        ci.name = base.empty() ? "disk" : base;
        return ci;
    }
    // PTP cameras report manufacturer, model and serial in their summary.
    CameraText text;
    if (gp_camera_get_summary(cam_.get(), &text, ctx_.get()) >= GP_OK)
    {
        std::string_view s(text.text);
        auto field = [&](std::string_view label) -> std::string {
            auto pos = s.find(label);
            if (pos == std::string_view::npos)
                return {};
            auto start = pos + label.size();
            auto end = s.find('\n', start);
            std::string v(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
            auto b = v.find_first_not_of(" \t");
            auto e = v.find_last_not_of(" \t\r");
            return b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
        };
        ci.manufacturer = field("Manufacturer:");
        auto model = field("Model:");
        if (!model.empty())
            ci.model = model;
        ci.serial = field("Serial Number:");
    }
    ci.name = ci.model;
    ci.identity = "usb:" + ci.manufacturer + ":" + ci.model + ":" +
                  (ci.serial.empty() ? std::string("no-serial") : ci.serial);
    return ci;
}

std::string usb_camera::list_folder(std::string const& folder, std::vector<object_ref>& out,
                                    int depth)
{
    if (depth > 16 || stop_.stop_requested())
        return {};
    auto files = make_list();
    int rc = gp_camera_folder_list_files(cam_.get(), folder.c_str(), files.get(), ctx_.get());
    if (rc < GP_OK)
        return "cannot list " + folder + ": " + gp_text(rc);
    for (int i = 0; i < gp_list_count(files.get()); ++i)
    {
        char const* name = nullptr;
        gp_list_get_name(files.get(), i, &name);
        CameraFileInfo info{};
        rc = gp_camera_file_get_info(cam_.get(), folder.c_str(), name, &info, ctx_.get());
        if (rc < GP_OK)
            return "cannot read the details of " + folder + "/" + name + ": " + gp_text(rc);
        object_ref obj;
        obj.folder = folder;
        obj.name = name;
        if (info.file.fields & GP_FILE_INFO_SIZE)
            obj.size = info.file.size;
        if (info.file.fields & GP_FILE_INFO_MTIME)
            obj.mtime = info.file.mtime;
        if (info.file.fields & GP_FILE_INFO_TYPE)
            obj.mime = info.file.type;
        out.push_back(std::move(obj));
    }
    auto folders = make_list();
    rc = gp_camera_folder_list_folders(cam_.get(), folder.c_str(), folders.get(), ctx_.get());
    if (rc < GP_OK)
        return "cannot list folders in " + folder + ": " + gp_text(rc);
    for (int i = 0; i < gp_list_count(folders.get()); ++i)
    {
        char const* name = nullptr;
        gp_list_get_name(folders.get(), i, &name);
        std::string sub = folder == "/" ? "/" + std::string(name) : folder + "/" + name;
        if (auto err = list_folder(sub, out, depth + 1); !err.empty())
            return err;
    }
    return {};
}

void usb_camera::fetch_one(object_ref const& obj)
{
    auto path = obj.folder + "/" + obj.name;
    auto read = [&](std::uint64_t offset, chunk_sink const& sink) -> std::error_code {
        if (offset > 0)
        {
            // Resume with partial reads where the driver has them (PTP GetPartialObject).
            std::vector<char> buf(1024 * 1024);
            std::uint64_t at = offset;
            while (at < obj.size)
            {
                if (stop_.stop_requested())
                    return std::make_error_code(std::errc::operation_canceled);
                std::uint64_t n = buf.size();
                int rc = gp_camera_file_read(cam_.get(), obj.folder.c_str(), obj.name.c_str(),
                                             GP_FILE_TYPE_NORMAL, at, buf.data(), &n, ctx_.get());
                if (rc == GP_ERROR_NOT_SUPPORTED)
                    return std::make_error_code(std::errc::operation_not_supported);
                if (rc < GP_OK || n == 0)
                    return std::make_error_code(std::errc::io_error);
                if (auto ec = sink(std::as_bytes(std::span(buf.data(), static_cast<std::size_t>(n)))))
                    return ec;
                at += n;
            }
            return {};
        }
        download_state st;
        st.out = &sink;
        CameraFileHandler handler{handler_size, handler_read, handler_write};
        CameraFile* file = nullptr;
        gp_file_new_from_handler(&file, &handler, &st);
        int rc = gp_camera_file_get(cam_.get(), obj.folder.c_str(), obj.name.c_str(),
                                    GP_FILE_TYPE_NORMAL, file, ctx_.get());
        gp_file_unref(file);
        if (st.error)
            return st.error;
        if (rc == GP_ERROR_CANCEL)
            return std::make_error_code(std::errc::operation_canceled);
        if (rc < GP_OK)
            return std::make_error_code(std::errc::io_error);
        return {};
    };
    auto r = out_.fetch(camera_id_, info_, obj, read, can_resume_);
    if (r.status == fetch_status::failed)
    {
        ++failed_files_;
        log::warn(log_tag, "camera={} file={} not fetched: {}", info_.identity, path, r.error);
    }
}

std::string usb_camera::scan()
{
    // libgphoto2 caches listings; a rescan must see the card as it is now.
    gp_filesystem_reset(cam_->fs);
    std::vector<object_ref> all;
    if (auto err = list_folder("/", all, 0); !err.empty())
        return err;
    std::vector<object_ref> fresh;
    for (auto& o : all)
        if (!out_.already_have(camera_id_, o))
            fresh.push_back(std::move(o));
    std::stable_sort(fresh.begin(), fresh.end(), [&](auto const& a, auto const& b) {
        return order_ == "newest-first" ? a.mtime > b.mtime : a.mtime < b.mtime;
    });
    log::info(log_tag, "camera={} listed {} files, {} new", info_.identity, all.size(),
              fresh.size());
    for (auto const& o : fresh)
    {
        if (stop_.stop_requested())
            break;
        fetch_one(o);
    }
    return {};
}

void usb_camera::serve()
{
    auto last_scan = std::chrono::steady_clock::now();
    while (!stop_.stop_requested())
    {
        if (has_events_)
        {
            CameraEventType type{};
            void* data = nullptr;
            int rc = gp_camera_wait_for_event(cam_.get(), 1000, &type, &data, ctx_.get());
            if (rc == GP_ERROR_NOT_SUPPORTED)
            {
                has_events_ = false;
                continue;
            }
            if (rc < GP_OK)
            {
                out_.camera_event(camera_id_, "camera-lost", "camera " + info_.name +
                                                                 " stopped answering: " +
                                                                 gp_text(rc));
                return;
            }
            if (type == GP_EVENT_FILE_ADDED && data)
            {
                auto* path = static_cast<CameraFilePath*>(data);
                CameraFileInfo info{};
                if (gp_camera_file_get_info(cam_.get(), path->folder, path->name, &info,
                                            ctx_.get()) >= GP_OK)
                {
                    object_ref obj{path->folder, path->name, info.file.size, info.file.mtime,
                                   info.file.type};
                    if (!out_.already_have(camera_id_, obj))
                        fetch_one(obj);
                }
            }
            if (data)
                free(data);
            // Events can be missed (camera asleep, a burst): rescan now and then anyway.
            if (std::chrono::steady_clock::now() - last_scan < std::chrono::seconds(60))
                continue;
        }
        else
        {
            std::mutex m;
            std::condition_variable_any cv;
            std::unique_lock lock(m);
            cv.wait_for(lock, stop_, poll_, [] { return false; });
            if (stop_.stop_requested())
                return;
        }
        if (auto err = scan(); !err.empty())
        {
            out_.camera_event(camera_id_, "camera-lost", "camera " + info_.name + ": " + err);
            return;
        }
        last_scan = std::chrono::steady_clock::now();
    }
}

class usb_source final : public source
{
public:
    usb_source(std::string port, std::string model, std::chrono::seconds poll, std::string order,
               object_handler& out)
        : port_(std::move(port)), model_(std::move(model)), poll_(poll), order_(std::move(order)),
          out_(out)
    {
    }

    void run(std::stop_token stop) override;
    failure import_once(std::stop_token stop) override;

private:
    /// Cameras to serve now: the configured port, or everything libgphoto2 detects.
    std::vector<detected> detect(std::string& error);

    /// Logs a camera's open/scan problem once, not at every poll while it persists.
    void note_result(std::string const& port, std::string const& error)
    {
        std::lock_guard lock(errors_mutex_);
        auto& last = last_error_[port];
        if (!error.empty() && error != last)
            log::warn(log_tag, "{} (will keep trying every {} s)", error, poll_.count());
        last = error;
    }

    std::string port_;
    std::string model_;
    std::chrono::seconds poll_;
    std::string order_;
    object_handler& out_;
    std::mutex errors_mutex_;
    std::map<std::string, std::string> last_error_;
};

std::vector<detected> usb_source::detect(std::string& error)
{
    std::vector<detected> found;
    if (port_.rfind("disk:", 0) == 0)
    {
        found.push_back({model_.empty() ? "Directory Browse" : model_, port_});
        return found;
    }
    for (auto const& [model, port] : detect_cameras(error))
    {
        if (!port_.empty() && port_ != "usb:" && port_ != port)
            continue;
        found.push_back({model_.empty() ? model : model_, port});
        if (port_ == "usb:")
            break;
    }
    if (!error.empty())
        error = "camera detection failed: " + error;
    if (found.empty() && !port_.empty() && !model_.empty())
        found.push_back({model_, port_});  // the user knows better than detection
    return found;
}

failure usb_source::import_once(std::stop_token stop)
{
    std::string error;
    auto cams = detect(error);
    if (cams.empty())
        return {std::make_error_code(std::errc::no_such_device),
                error.empty() ? (port_.empty() ? std::string("no camera found (is it connected, "
                                                             "switched on and not mounted?)")
                                               : "no camera at " + port_)
                              : error};
    failure first;
    int failed_files = 0;
    for (auto const& d : cams)
    {
        usb_camera cam(d, order_, poll_, out_, stop);
        auto err = cam.open();
        if (err.empty())
            err = cam.scan();
        failed_files += cam.failed_files();
        if (!err.empty())
        {
            log::error(log_tag, "{}", err);
            if (!first.code)
                first = {std::make_error_code(std::errc::io_error), err};
        }
    }
    if (!first.code && failed_files > 0)
        first = {std::make_error_code(std::errc::io_error),
                 std::to_string(failed_files) + " file(s) could not be fetched; they will be "
                                                "tried again next time"};
    return first;
}

void usb_source::run(std::stop_token stop)
{
    struct worker
    {
        std::jthread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::map<std::string, worker> workers;  // by port
    std::mutex m;
    std::condition_variable_any cv;
    std::string last_error;
    // libgphoto2's detection grows the process by about 150 KiB per call (driver modules it
    // loads and never gives back; measured with bench/gphoto2_detect_rss.c), which a 5 s poll
    // turns into 100 MiB an hour: too much for a 64 MB router. So detection runs only when the
    // USB bus changed (a device node came or went) or a camera it found has no running worker
    // any more (it went away, or failed to open and is retried every poll_interval).
    bool card_folder = port_.rfind("disk:", 0) == 0;
    std::optional<std::string> last_bus;
    bool retry = false;
    while (!stop.stop_requested())
    {
        for (auto it = workers.begin(); it != workers.end();)
            if (it->second.done->load())
            {
                it = workers.erase(it);
                retry = true;
            }
            else
                ++it;
        auto bus = usb_bus_signature();
        bool look = card_folder || retry || bus != last_bus;
        last_bus = bus;
        retry = false;
        std::string error;
        std::vector<detected> found;
        if (look)
            found = detect(error);
        for (auto const& d : found)
        {
            if (workers.count(d.port))
                continue;
            auto done = std::make_shared<std::atomic<bool>>(false);
            workers[d.port] = worker{
                std::jthread([this, d, done](std::stop_token st) {
                    usb_camera cam(d, order_, poll_, out_, st);
                    auto err = cam.open();
                    if (err.empty())
                        err = cam.scan();
                    note_result(d.port, err);
                    if (err.empty())
                        cam.serve();
                    done->store(true);
                }),
                done};
        }
        if (!error.empty())
            retry = true;  // detection itself failed: try again next poll
        if (!error.empty() && error != last_error)
            log::warn(log_tag, "{}", error);
        last_error = error;
        std::unique_lock lock(m);
        cv.wait_for(lock, stop, poll_, [] { return false; });
    }
    for (auto& [port, w] : workers)
        w.thread.request_stop();
    // jthread destructors join; libgphoto2 sees the stop through the context's cancel hook.
}

std::unique_ptr<source> make_usb_source(config::source_settings const& s, object_handler& out,
                                        std::vector<config::problem>& problems)
{
    auto port = s.options.string_or("port", "");
    auto order = s.options.string_or("order", "oldest-first");
    auto poll = s.options.integer_or("poll_interval", 5);
    bool ok = true;
    if (order != "oldest-first" && order != "newest-first")
    {
        problems.push_back({s.options.line_of("order"),
                            "[[source]] usb: order must be oldest-first or newest-first"});
        ok = false;
    }
    if (poll < 1 || poll > 3600)
    {
        problems.push_back({s.options.line_of("poll_interval"),
                            "[[source]] usb: poll_interval must be between 1 and 3600 seconds"});
        ok = false;
    }
    if (!port.empty() && port.rfind("usb:", 0) != 0 && port.rfind("disk:", 0) != 0 &&
        port.rfind("serial:", 0) != 0 && port.rfind("ptpip:", 0) != 0)
    {
        problems.push_back({s.options.line_of("port"),
                            "[[source]] usb: port '" + port +
                                "' is not a libgphoto2 port (usb:, usb:BUS,DEV, disk:/path)"});
        ok = false;
    }
    if (port == "disk:" || port == "disk:/")
    {
        problems.push_back({s.options.line_of("port"),
                            "[[source]] usb: disk: needs a folder, e.g. disk:/media/card"});
        ok = false;
    }
    if (!ok)
        return nullptr;
    return std::make_unique<usb_source>(port, s.options.string_or("model", ""),
                                        std::chrono::seconds(poll), order, out);
}

} // namespace

source_descriptor const usb_source_descriptor{
    "usb",
    "Cameras on USB (and card folders) through libgphoto2: 2500+ models.",
    usb_options,
    &make_usb_source,
};

std::string usb_bus_signature()
{
    // Device nodes appear and disappear with every plug and unplug; their names (bus/device
    // numbers, never reused at once) are a cheap fingerprint of what is connected.
    std::vector<std::string> names;
    std::error_code ec;
    for (auto const* root : {"/dev/bus/usb", "/sys/bus/usb/devices"})
    {
        std::filesystem::recursive_directory_iterator it(root, ec), end;
        if (ec)
            continue;
        for (; it != end; it.increment(ec))
        {
            if (ec)
                break;
            if (it.depth() > 1)
                it.disable_recursion_pending();
            names.push_back(it->path().string());
        }
        break;
    }
    std::sort(names.begin(), names.end());
    std::string out;
    for (auto const& n : names)
        out += n + '\n';
    return out;
}

std::vector<std::pair<std::string, std::string>> detect_cameras(std::string& error)
{
    std::vector<std::pair<std::string, std::string>> out;
    GPContext* ctx = gp_context_new();
    auto list = make_list();
    int rc;
    {
        std::lock_guard lock(driver_mutex());
        rc = gp_camera_autodetect(list.get(), ctx);
    }
    gp_context_unref(ctx);
    if (rc < GP_OK)
    {
        error = gp_text(rc);
        return out;
    }
    for (int i = 0; i < gp_list_count(list.get()); ++i)
    {
        char const* model = nullptr;
        char const* port = nullptr;
        gp_list_get_name(list.get(), i, &model);
        gp_list_get_value(list.get(), i, &port);
        out.emplace_back(model, port);
    }
    return out;
}

} // namespace camrelay::ingest
