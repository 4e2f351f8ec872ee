// USB (and any libgphoto2) cameras. Each camera gets its own thread: libgphoto2 is blocking and
// a camera's Camera object must only be used from one thread. The thread lists the card
// recursively, asks the pipeline which objects are new, and streams only those through a
// CameraFileHandler (never a whole-file buffer). Cameras that send FILE_ADDED get the new file at
// once; the others (Directory Browse, many compacts) are rescanned every poll_interval.
//
// Two threads per camera. The camera thread talks to the pipeline (object_handler); every call
// that can block (libgphoto2, reads from a card folder) runs on the camera's driver thread
// (gp_worker), which touches nothing but state it shares with the camera thread through a
// shared_ptr. Once a stop is requested the camera thread waits at most stop_grace for a driver
// call; a call still stuck then (a FIFO's open, a hung USB transfer) is abandoned: the driver
// thread is detached with its shared state and the camera thread winds up, so a stuck camera
// never holds up shutdown, and a late return of the call cannot touch the pipeline.
//
// disk: ports (a card folder). libgphoto2's Directory Browse driver reports a symlink's lstat
// size but opens by path, following links, and opens FIFOs and devices (blocking for ever on a
// FIFO). There is no way to make its open safe from outside, so camrelay reads disk: files
// itself: the card root is opened once (O_DIRECTORY) and every folder and file is reached with
// fs::open_beneath (one component at a time, never following a link, O_NONBLOCK, regular files
// only, inode checked again after the open). libgphoto2 still lists the card (which names are
// media files, which folders it shows: the same list gphoto2 gives), and camrelay's own look at
// each folder refuses what is not a regular file or a real folder: every such entry (symlink,
// FIFO, device, socket, symlinked folder) is reported through object_unreadable, never read,
// never known. The content is read through the verified descriptor, exactly the listed size.
#include "ingest/usb/usb_source.hpp"

#include "core/fs.hpp"
#include "core/log.hpp"

#include <gphoto2/gphoto2.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace camrelay::ingest {

namespace {

constexpr auto log_tag = "usb";

/// How long after a stop the camera thread waits for a driver call before abandoning it.
constexpr auto stop_grace = std::chrono::seconds(5);
/// Folders deeper than this are not listed (reported, not skipped quietly).
constexpr int max_depth = 16;
/// Entries looked at per folder of a card folder; more are reported as a problem of the folder.
constexpr std::size_t max_folder_entries = 100'000;
/// Chunk of a disk: read (what Directory Browse handed over too).
constexpr std::size_t disk_chunk = 64 * 1024;
/// Per-scan warnings (files not fetched) logged one by one before they are summed up.
constexpr std::size_t warnings_singly = 5;

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

bool is_disk(std::string const& port)
{
    return port.rfind("disk:", 0) == 0;
}

/// libgphoto2 folder ("/DCIM/100TEST", "/") as a path relative to the card root.
std::string relative(std::string const& folder)
{
    auto b = folder.find_first_not_of('/');
    return b == std::string::npos ? std::string() : folder.substr(b);
}

// ----------------------------------------------------------------------------- driver thread

/// What a camera's driver thread owns and shares with its camera thread. Everything the driver
/// thread touches is in here (kept alive by its shared_ptr), never the pipeline.
struct gp_shared
{
    std::mutex m;
    std::condition_variable cv;
    std::function<void(gp_shared&)> job; ///< the pending call
    bool job_done = true;
    bool closing = false;
    bool exited = false;
    bool abandoned = false;
    // One chunk handed from the driver thread to the camera thread (zero-copy: the driver
    // thread waits until it was taken).
    std::span<const std::byte> chunk;
    bool chunk_ready = false;
    std::error_code chunk_error;

    // Driver-thread only.
    std::stop_token stop;
    GPContext* ctx = nullptr;
    Camera* cam = nullptr;
    fs::unique_fd root; ///< disk: the card root

    void teardown()
    {
        if (cam)
        {
            gp_camera_exit(cam, nullptr);
            gp_camera_unref(cam);
            cam = nullptr;
        }
        if (ctx)
        {
            gp_context_unref(ctx);
            ctx = nullptr;
        }
        root.reset();
    }
    ~gp_shared() { teardown(); }

    /// Driver thread: hands `data` to the camera thread's sink; its verdict.
    std::error_code deliver(std::span<const std::byte> data)
    {
        if (fault::check("usb.stall"))
            for (;;)  // test seam: a driver call that never returns, whatever the stop says
                std::this_thread::sleep_for(std::chrono::hours(1));
        std::unique_lock lock(m);
        if (abandoned)
            return std::make_error_code(std::errc::operation_canceled);
        chunk = data;
        chunk_ready = true;
        chunk_error = {};
        cv.notify_all();
        cv.wait(lock, [&] { return !chunk_ready || abandoned; });
        if (chunk_ready)
            return std::make_error_code(std::errc::operation_canceled);
        return chunk_error;
    }
};

// Cancellation: libgphoto2 polls this during long operations.
GPContextFeedback cancel_func(GPContext*, void* data)
{
    auto* sh = static_cast<gp_shared*>(data);
    return sh->stop.stop_requested() ? GP_CONTEXT_FEEDBACK_CANCEL : GP_CONTEXT_FEEDBACK_OK;
}

/// Runs one camera's blocking calls on a thread of its own (see the top of the file).
class gp_worker
{
public:
    gp_worker(std::string what, std::stop_token stop)
        : what_(std::move(what)), stop_(stop), sh_(std::make_shared<gp_shared>())
    {
        sh_->stop = stop;
        thread_ = std::thread([sh = sh_] {
            std::unique_lock lock(sh->m);
            for (;;)
            {
                sh->cv.wait(lock, [&] { return sh->closing || !sh->job_done; });
                if (!sh->job_done)
                {
                    auto job = std::move(sh->job);
                    lock.unlock();
                    job(*sh);
                    lock.lock();
                    sh->job_done = true;
                    sh->cv.notify_all();
                    continue;
                }
                break;  // closing
            }
            lock.unlock();
            sh->teardown();
            lock.lock();
            sh->exited = true;
            sh->cv.notify_all();
        });
    }

    gp_worker(gp_worker const&) = delete;
    gp_worker& operator=(gp_worker const&) = delete;

    ~gp_worker()
    {
        bool done = false;
        {
            std::unique_lock lock(sh_->m);
            sh_->closing = true;
            sh_->cv.notify_all();
            if (!sh_->abandoned)
                done = sh_->cv.wait_for(lock, stop_grace, [&] { return sh_->exited; });
            else
                sh_->cv.notify_all();
        }
        if (done)
            thread_.join();
        else
        {
            if (!abandoned_logged_)
                log::warn(log_tag, "{}: the camera's driver did not let go within {} s; its "
                                   "thread is abandoned", what_, stop_grace.count());
            thread_.detach();
        }
    }

    bool abandoned() const { return abandoned_; }

    /// Runs `job` on the driver thread and returns its result; nullopt when the call was
    /// abandoned (a stop was requested and it did not return within stop_grace) or an earlier
    /// one was. `job` must capture nothing of the caller's by reference. While it runs, chunks
    /// it delivers go to `sink`. `doing` names the call for the log ("reading /DCIM/...").
    template <class R>
    std::optional<R> call(std::function<R(gp_shared&)> job, std::string const& doing,
                          chunk_sink const* sink = nullptr)
    {
        if (abandoned_)
            return std::nullopt;
        auto slot = std::make_shared<std::optional<R>>();
        std::unique_lock lock(sh_->m);
        sh_->job = [slot, job = std::move(job)](gp_shared& g) { *slot = job(g); };
        sh_->job_done = false;
        sh_->cv.notify_all();
        std::optional<std::chrono::steady_clock::time_point> give_up;
        for (;;)
        {
            if (sh_->job_done)
                return std::move(*slot);
            if (sh_->chunk_ready)
            {
                auto data = sh_->chunk;
                lock.unlock();
                auto ec = sink ? (*sink)(data) : std::make_error_code(std::errc::io_error);
                lock.lock();
                sh_->chunk_error = ec;
                sh_->chunk_ready = false;
                sh_->cv.notify_all();
                continue;
            }
            auto now = std::chrono::steady_clock::now();
            if (stop_.stop_requested() && !give_up)
                give_up = now + stop_grace;
            if (give_up && now >= *give_up)
            {
                sh_->abandoned = abandoned_ = abandoned_logged_ = true;
                sh_->cv.notify_all();
                log::warn(log_tag, "{}: {} did not return within {} s of the stop; the camera "
                                   "thread is abandoned",
                          what_, doing, stop_grace.count());
                return std::nullopt;
            }
            auto wait = give_up ? std::min<std::chrono::steady_clock::duration>(
                                      *give_up - now, std::chrono::milliseconds(200))
                                : std::chrono::milliseconds(200);
            sh_->cv.wait_for(lock, wait);
        }
    }

private:
    std::string what_;
    std::stop_token stop_;
    std::shared_ptr<gp_shared> sh_;
    std::thread thread_;
    bool abandoned_ = false;
    bool abandoned_logged_ = false;
};

// ----------------------------------------------------------------------------- listing

/// What one listing of a camera found.
struct listing
{
    std::vector<object_ref> objects;
    std::vector<object_problem> refused; ///< entries that are not read (not regular, too deep...)
    std::string error;                   ///< the camera could not be listed at all
};

std::string refusal(fs::beneath_problem const& p)
{
    return "not a regular file inside the card: " + p.reason;
}

std::string link_text(int dir_fd, std::string const& name)
{
    char buf[256];
    auto n = ::readlinkat(dir_fd, name.c_str(), buf, sizeof buf - 1);
    if (n <= 0)
        return {};
    return std::string(buf, static_cast<std::size_t>(n)) +
           (static_cast<std::size_t>(n) == sizeof buf - 1 ? "..." : "");
}

void list_folder(gp_shared& g, bool disk, std::string const& folder, int depth, listing& out)
{
    if (!out.error.empty() || g.stop.stop_requested())
        return;
    if (depth > max_depth)
    {
        auto slash = folder.rfind('/');
        out.refused.push_back({folder.substr(0, slash == 0 ? 1 : slash), folder.substr(slash + 1),
                               std::nullopt,
                               "folder nested more than " + std::to_string(max_depth) +
                                   " levels deep: not listed"});
        return;
    }
    // disk: what the folder really holds, looked at without following anything.
    std::map<std::string, struct stat> regular;
    std::set<std::string> real_dirs;
    if (disk)
    {
        struct stat st{};
        fs::beneath_problem problem;
        auto dir = fs::open_beneath(g.root.get(), relative(folder), true, st, problem);
        if (!dir && folder == "/")
        {
            out.error = "cannot open the card folder: " + problem.reason;
            return;
        }
        if (!dir)
        {
            // One folder that cannot be opened (no permission, gone, swapped for a link) is
            // reported; the rest of the card is still listed.
            auto slash = folder.rfind('/');
            out.refused.push_back({slash == 0 ? std::string("/") : folder.substr(0, slash),
                                   folder.substr(slash + 1), std::nullopt,
                                   "folder cannot be opened: " + problem.entry + ": " +
                                       (problem.err ? problem.reason : refusal(problem))});
            return;
        }
        std::vector<fs::dir_entry> entries;
        bool truncated = false;
        if (auto ec = fs::list_dir(dir.get(), entries, max_folder_entries, truncated))
        {
            out.error = "cannot list " + folder + ": " + ec.message();
            return;
        }
        if (truncated)
            out.refused.push_back({folder, "", std::nullopt,
                                   "more than " + std::to_string(max_folder_entries) +
                                       " entries in the folder: only the first were looked at"});
        for (auto const& e : entries)
        {
            if (e.err)
                continue;  // gone between readdir and the look: not there any more
            if (S_ISREG(e.st.st_mode))
                regular.emplace(e.name, e.st);
            else if (S_ISDIR(e.st.st_mode))
                real_dirs.insert(e.name);
            else
            {
                std::string reason = "not a regular file inside the card: " +
                                     std::string(fs::kind_name(e.st.st_mode));
                if (S_ISLNK(e.st.st_mode))
                    if (auto to = link_text(dir.get(), e.name); !to.empty())
                        reason += " to " + to;
                out.refused.push_back({folder, e.name, std::nullopt, reason});
            }
        }
    }
    auto files = make_list();
    int rc = gp_camera_folder_list_files(g.cam, folder.c_str(), files.get(), g.ctx);
    if (rc < GP_OK)
    {
        out.error = "cannot list " + folder + ": " + gp_text(rc);
        return;
    }
    for (int i = 0; i < gp_list_count(files.get()); ++i)
    {
        char const* name = nullptr;
        gp_list_get_name(files.get(), i, &name);
        if (!name)
            continue;
        object_ref obj;
        obj.folder = folder;
        obj.name = name;
        if (disk)
        {
            auto it = regular.find(obj.name);
            if (it == regular.end())
                continue;  // refused above, or gone since our look
            obj.size = static_cast<std::uint64_t>(it->second.st_size);
            obj.mtime = it->second.st_mtime;
        }
        CameraFileInfo info{};
        rc = gp_camera_file_get_info(g.cam, folder.c_str(), name, &info, g.ctx);
        if (rc < GP_OK)
        {
            // Listed but not describable: the object is reported, the listing goes on.
            out.refused.push_back({folder, obj.name, std::nullopt,
                                   "no readable file information: " + gp_text(rc)});
            continue;
        }
        if (!disk)
        {
            if (info.file.fields & GP_FILE_INFO_SIZE)
                obj.size = info.file.size;
            if (info.file.fields & GP_FILE_INFO_MTIME)
                obj.mtime = info.file.mtime;
        }
        if (info.file.fields & GP_FILE_INFO_TYPE)
            obj.mime = info.file.type;
        out.objects.push_back(std::move(obj));
    }
    auto folders = make_list();
    rc = gp_camera_folder_list_folders(g.cam, folder.c_str(), folders.get(), g.ctx);
    if (rc < GP_OK)
    {
        out.error = "cannot list folders in " + folder + ": " + gp_text(rc);
        return;
    }
    for (int i = 0; i < gp_list_count(folders.get()); ++i)
    {
        char const* name = nullptr;
        gp_list_get_name(folders.get(), i, &name);
        if (!name)
            continue;
        if (disk && !real_dirs.count(name))
        {
            // Older Directory Browse drivers list a symlinked folder as a folder; our own
            // look above has reported it already unless it vanished.
            continue;
        }
        std::string sub = folder == "/" ? "/" + std::string(name) : folder + "/" + name;
        list_folder(g, disk, sub, depth + 1, out);
    }
}

// ----------------------------------------------------------------------------- reading

/// Driver thread: streams `obj` (from `offset`) of a disk: card through a verified descriptor.
std::error_code read_disk(gp_shared& g, object_ref const& obj, std::uint64_t offset,
                          std::string& problem)
{
    struct stat st{};
    fs::beneath_problem bp;
    auto rel = relative(obj.folder);
    auto fd = fs::open_beneath(g.root.get(), rel.empty() ? obj.name : rel + "/" + obj.name,
                               false, st, bp);
    if (!fd)
    {
        problem = bp.err ? bp.entry + ": " + bp.reason : refusal(bp);
        return bp.err ? std::error_code(bp.err, std::generic_category())
                      : std::make_error_code(std::errc::operation_not_permitted);
    }
    if (static_cast<std::uint64_t>(st.st_size) != obj.size)
    {
        problem = "changed since it was listed (" + std::to_string(st.st_size) + " bytes, not " +
                  std::to_string(obj.size) + ")";
        return std::make_error_code(std::errc::io_error);
    }
    std::vector<std::byte> buf(disk_chunk);
    std::uint64_t at = offset;
    while (at < obj.size)
    {
        if (g.stop.stop_requested())
            return std::make_error_code(std::errc::operation_canceled);
        if (int e = fault::check("usb.read"))
            return {e, std::generic_category()};
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), obj.size - at));
        auto n = ::pread(fd.get(), buf.data(), want, static_cast<off_t>(at));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return last_errno();
        if (n == 0)
        {
            problem = "shorter than listed";
            return std::make_error_code(std::errc::io_error);
        }
        if (auto ec = g.deliver(std::span(buf.data(), static_cast<std::size_t>(n))))
            return ec;
        at += static_cast<std::uint64_t>(n);
    }
    return {};
}

// The handler gphoto2 writes downloaded chunks into (driver thread).
struct download_state
{
    gp_shared* g = nullptr;
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
    // Some drivers ignore a failed write and hand over the next chunk: after the first
    // failure take nothing more, or the spooled bytes would have a gap.
    if (st->error)
        return GP_ERROR_IO_WRITE;
    if (int e = fault::check("usb.read"))
    {
        st->error = {e, std::generic_category()};
        return GP_ERROR_IO_READ;
    }
    st->error = st->g->deliver(
        std::span(reinterpret_cast<std::byte const*>(data), static_cast<std::size_t>(*size)));
    return st->error ? GP_ERROR_IO_WRITE : GP_OK;
}

/// Driver thread: streams `obj` from `offset` through libgphoto2.
std::error_code read_gp(gp_shared& g, object_ref const& obj, std::uint64_t offset)
{
    if (offset > 0)
    {
        // Resume with partial reads where the driver has them (PTP GetPartialObject).
        std::vector<char> buf(1024 * 1024);
        std::uint64_t at = offset;
        while (at < obj.size)
        {
            if (g.stop.stop_requested())
                return std::make_error_code(std::errc::operation_canceled);
            std::uint64_t n = buf.size();
            int rc = gp_camera_file_read(g.cam, obj.folder.c_str(), obj.name.c_str(),
                                         GP_FILE_TYPE_NORMAL, at, buf.data(), &n, g.ctx);
            if (rc == GP_ERROR_NOT_SUPPORTED)
                return std::make_error_code(std::errc::operation_not_supported);
            if (rc < GP_OK || n == 0)
                return std::make_error_code(std::errc::io_error);
            if (auto ec = g.deliver(std::as_bytes(std::span(buf.data(), static_cast<std::size_t>(n)))))
                return ec;
            at += n;
        }
        return {};
    }
    download_state st;
    st.g = &g;
    CameraFileHandler handler{handler_size, handler_read, handler_write};
    CameraFile* file = nullptr;
    gp_file_new_from_handler(&file, &handler, &st);
    int rc = gp_camera_file_get(g.cam, obj.folder.c_str(), obj.name.c_str(), GP_FILE_TYPE_NORMAL,
                                file, g.ctx);
    gp_file_unref(file);
    if (st.error)
        return st.error;
    if (rc == GP_ERROR_CANCEL)
        return std::make_error_code(std::errc::operation_canceled);
    if (rc < GP_OK)
        return std::make_error_code(std::errc::io_error);
    return {};
}

// ----------------------------------------------------------------------------- one camera

class usb_camera
{
public:
    usb_camera(detected d, std::string order, std::chrono::seconds poll, object_handler& out,
               std::stop_token stop)
        : det_(std::move(d)), order_(std::move(order)), poll_(poll), out_(out), stop_(stop),
          disk_(is_disk(det_.port)), worker_("camera at " + det_.port, stop)
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
    /// Entries reported unreadable in the last scan.
    std::size_t unreadable() const { return unreadable_; }

private:
    void fetch_one(object_ref const& obj, log::repeat_limiter& warnings);
    void report_refused(listing const& l);
    void abandoned_event();

    detected det_;
    std::string order_;
    std::chrono::seconds poll_;
    object_handler& out_;
    std::stop_token stop_;
    bool disk_;
    gp_worker worker_;
    camera_info info_;
    std::int64_t camera_id_ = 0;
    bool has_events_ = true;
    /// Whether a broken download is worth keeping for a partial read later. PTP cameras have
    /// partial reads (GetPartialObject); for disk: ports a broken download is fetched whole
    /// next time (the card may be another by then).
    bool can_resume_ = true;
    int failed_files_ = 0;
    std::size_t unreadable_ = 0;
    /// Refused entries by key: when to report them again (doubling from poll_interval to 1 h).
    struct backoff
    {
        std::chrono::steady_clock::time_point next;
        std::chrono::seconds delay;
    };
    std::map<std::string, backoff> refused_;
};

void usb_camera::abandoned_event()
{
    if (camera_id_ != 0)
        out_.camera_event(camera_id_, "camera-stuck",
                          "camera " + info_.name + ": a driver call did not return within " +
                              std::to_string(stop_grace.count()) +
                              " s of the stop; its thread was abandoned");
}

std::string usb_camera::open()
{
    if (disk_)
    {
        // Directory Browse "opens" any path; say plainly when the folder is not there.
        auto dir = det_.port.substr(5);
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            return "the folder " + dir + " does not exist or is not readable";
    }
    struct opened
    {
        std::string error;
        camera_info info;
    };
    auto d = det_;
    bool disk = disk_;
    auto r = worker_.call<opened>(
        [d, disk](gp_shared& g) -> opened {
            g.ctx = gp_context_new();
            gp_context_set_cancel_func(g.ctx, cancel_func, &g);
            Camera* raw = nullptr;
            gp_camera_new(&raw);
            {
                std::lock_guard lock(driver_mutex());
                CameraAbilitiesList* al = nullptr;
                gp_abilities_list_new(&al);
                gp_abilities_list_load(al, g.ctx);
                int i = gp_abilities_list_lookup_model(al, d.model.c_str());
                if (i < 0)
                {
                    gp_abilities_list_free(al);
                    gp_camera_unref(raw);
                    return {"libgphoto2 does not know the camera model '" + d.model + "'", {}};
                }
                CameraAbilities a;
                gp_abilities_list_get_abilities(al, i, &a);
                gp_camera_set_abilities(raw, a);
                gp_abilities_list_free(al);

                GPPortInfoList* pl = nullptr;
                gp_port_info_list_new(&pl);
                gp_port_info_list_load(pl);
                int p = gp_port_info_list_lookup_path(pl, d.port.c_str());
                if (p < 0)
                {
                    gp_port_info_list_free(pl);
                    gp_camera_unref(raw);
                    return {"no such port '" + d.port + "'", {}};
                }
                GPPortInfo pi;
                gp_port_info_list_get_info(pl, p, &pi);
                gp_camera_set_port_info(raw, pi);
                gp_port_info_list_free(pl);
            }
            camera_info ci;
            ci.source_kind = "usb";
            ci.port = d.port;
            ci.model = d.model;
            if (disk)
            {
                auto dir = d.port.substr(5);
                g.root.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
                if (!g.root)
                {
                    gp_camera_unref(raw);
                    return {"the folder " + dir + " cannot be opened: " + last_errno().message(),
                            {}};
                }
            }
            int rc = gp_camera_init(raw, g.ctx);
            if (rc < GP_OK)
            {
                gp_camera_unref(raw);
                return {"cannot open " + d.model + " at " + d.port + ": " + gp_text(rc), {}};
            }
            g.cam = raw;
            if (disk)
            {
                // A folder has no serial; its canonical path is what stays the same.
                std::error_code ec;
                auto canon = std::filesystem::weakly_canonical(d.port.substr(5), ec);
                std::string path = ec ? d.port.substr(5) : canon.string();
                ci.identity = "disk:" + path;
                auto base = std::filesystem::path(path).filename().string();
                ci.name = base.empty() ? "disk" : base;
                return {{}, ci};
            }
            // PTP cameras report manufacturer, model and serial in their summary.
            CameraText text;
            if (gp_camera_get_summary(g.cam, &text, g.ctx) >= GP_OK)
            {
                std::string_view s(text.text, strnlen(text.text, sizeof text.text));
                auto field = [&](std::string_view label) -> std::string {
                    auto pos = s.find(label);
                    if (pos == std::string_view::npos)
                        return {};
                    auto start = pos + label.size();
                    auto end = s.find('\n', start);
                    std::string v(
                        s.substr(start, end == std::string_view::npos ? s.npos : end - start));
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
            return {{}, ci};
        },
        "opening the camera");
    if (!r)
        return "camera at " + det_.port + " did not open within " +
               std::to_string(stop_grace.count()) + " s of the stop";
    if (!r->error.empty())
        return r->error;
    can_resume_ = !disk_;
    info_ = r->info;
    auto id = out_.camera_connected(info_);
    if (!id)
        return "ledger error: " + id.error().message();
    camera_id_ = *id;
    log::info(log_tag, "camera={} model=\"{}\" port={} ready", info_.identity, info_.model,
              det_.port);
    return {};
}

void usb_camera::fetch_one(object_ref const& obj, log::repeat_limiter& warnings)
{
    auto path = obj.folder + "/" + obj.name;
    bool disk = disk_;
    // Why a disk: read refused the file (a link or FIFO swapped in since the listing).
    auto problem = std::make_shared<std::string>();
    auto read = [&, obj, disk, problem](std::uint64_t offset,
                                        chunk_sink const& sink) -> std::error_code {
        auto r = worker_.call<std::pair<std::error_code, std::string>>(
            [obj, offset, disk](gp_shared& g) {
                std::string why;
                auto ec = disk ? read_disk(g, obj, offset, why) : read_gp(g, obj, offset);
                return std::pair(ec, why);
            },
            "reading " + path, &sink);
        if (!r)
            return std::make_error_code(std::errc::operation_canceled);
        *problem = r->second;
        return r->first;
    };
    auto r = out_.fetch(camera_id_, info_, obj, read, can_resume_);
    if (r.status == fetch_status::failed)
    {
        ++failed_files_;
        if (warnings.single())
            log::warn(log_tag, "camera={} file={} not fetched: {}{}", info_.identity, path,
                      r.error, problem->empty() ? std::string() : " (" + *problem + ")");
    }
    else if (r.status == fetch_status::stored || r.status == fetch_status::known)
    {
        if (auto it = refused_.find(path); it != refused_.end())
        {
            refused_.erase(it);
            out_.object_recovered(camera_id_, {obj.folder, obj.name, std::nullopt, {}, false});
        }
    }
}

void usb_camera::report_refused(listing const& l)
{
    auto now = std::chrono::steady_clock::now();
    unreadable_ = l.refused.size();
    for (auto const& p : l.refused)
    {
        auto [it, fresh] = refused_.try_emplace(p.key(), backoff{now + poll_, poll_});
        if (!fresh)
        {
            if (now < it->second.next)
                continue;  // reported not long ago: again once its back-off is over
            it->second.delay = std::min<std::chrono::seconds>(it->second.delay * 2,
                                                               std::chrono::hours(1));
            it->second.next = now + it->second.delay;
        }
        out_.object_unreadable(camera_id_, p);
    }
}

std::string usb_camera::scan()
{
    bool disk = disk_;
    auto l = worker_.call<listing>(
        [disk](gp_shared& g) {
            // libgphoto2 caches listings; a rescan must see the card as it is now.
            gp_filesystem_reset(g.cam->fs);
            listing out;
            list_folder(g, disk, "/", 0, out);
            return out;
        },
        "listing the card");
    if (!l)
    {
        abandoned_event();
        return "camera " + info_.name + " was abandoned while listing";
    }
    if (!l->error.empty())
        return l->error;
    report_refused(*l);
    std::vector<object_ref> fresh;
    for (auto& o : l->objects)
        if (!out_.already_have(camera_id_, o))
            fresh.push_back(std::move(o));
    std::stable_sort(fresh.begin(), fresh.end(), [&](auto const& a, auto const& b) {
        return order_ == "newest-first" ? a.mtime > b.mtime : a.mtime < b.mtime;
    });
    log::info(log_tag, "camera={} listed {} files, {} new, {} not readable", info_.identity,
              l->objects.size(), fresh.size(), l->refused.size());
    log::repeat_limiter warnings(warnings_singly);
    for (auto const& o : fresh)
    {
        if (stop_.stop_requested() || worker_.abandoned())
            break;
        fetch_one(o, warnings);
    }
    if (warnings.suppressed() > 0)
        log::warn(log_tag, "camera={}: {} more files not fetched in this scan (the first {} are "
                           "above)",
                  info_.identity, warnings.suppressed(), warnings_singly);
    if (worker_.abandoned())
        abandoned_event();
    return {};
}

void usb_camera::serve()
{
    auto last_scan = std::chrono::steady_clock::now();
    struct event
    {
        int rc = GP_OK;
        bool file_added = false;
        object_ref obj;
        bool info_ok = false;
    };
    while (!stop_.stop_requested() && !worker_.abandoned())
    {
        if (has_events_)
        {
            auto e = worker_.call<event>(
                [](gp_shared& g) {
                    event ev;
                    CameraEventType type{};
                    void* data = nullptr;
                    ev.rc = gp_camera_wait_for_event(g.cam, 1000, &type, &data, g.ctx);
                    if (ev.rc >= GP_OK && type == GP_EVENT_FILE_ADDED && data)
                    {
                        auto* path = static_cast<CameraFilePath*>(data);
                        ev.file_added = true;
                        ev.obj.folder = path->folder;
                        ev.obj.name = path->name;
                        CameraFileInfo info{};
                        if (gp_camera_file_get_info(g.cam, path->folder, path->name, &info,
                                                    g.ctx) >= GP_OK)
                        {
                            ev.info_ok = true;
                            ev.obj.size = info.file.size;
                            ev.obj.mtime = info.file.mtime;
                            ev.obj.mime = info.file.type;
                        }
                    }
                    if (data)
                        free(data);
                    return ev;
                },
                "waiting for a camera event");
            if (!e)
            {
                abandoned_event();
                return;
            }
            if (e->rc == GP_ERROR_NOT_SUPPORTED)
            {
                has_events_ = false;
                continue;
            }
            if (e->rc < GP_OK)
            {
                out_.camera_event(camera_id_, "camera-lost", "camera " + info_.name +
                                                                 " stopped answering: " +
                                                                 gp_text(e->rc));
                return;
            }
            if (e->file_added)
            {
                if (!e->info_ok)
                    out_.object_unreadable(camera_id_, {e->obj.folder, e->obj.name, std::nullopt,
                                                        "announced, but no readable file "
                                                        "information",
                                                        false});
                else if (!out_.already_have(camera_id_, e->obj))
                {
                    log::repeat_limiter once(warnings_singly);
                    fetch_one(e->obj, once);
                }
            }
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
    std::vector<detected> detect(std::string& error, std::stop_token stop);

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

std::vector<detected> usb_source::detect(std::string& error, std::stop_token stop)
{
    std::vector<detected> found;
    if (port_.rfind("disk:", 0) == 0)
    {
        found.push_back({model_.empty() ? "Directory Browse" : model_, port_});
        return found;
    }
    // Autodetection talks to every USB device: on a driver thread of its own, like a camera's
    // calls, so a device that never answers cannot hold up a stop.
    using cameras = std::vector<std::pair<std::string, std::string>>;
    gp_worker worker("camera detection", stop);
    auto got = worker.call<std::pair<cameras, std::string>>(
        [](gp_shared&) {
            std::string e;
            auto list = detect_cameras(e);
            return std::pair(std::move(list), std::move(e));
        },
        "detecting cameras");
    if (!got)
    {
        error = "camera detection did not return within " + std::to_string(stop_grace.count()) +
                " s of the stop";
        return found;
    }
    error = got->second;
    for (auto const& [model, port] : got->first)
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
    auto cams = detect(error, stop);
    if (cams.empty())
        return {std::make_error_code(std::errc::no_such_device),
                error.empty() ? (port_.empty() ? std::string("no camera found (is it connected, "
                                                             "switched on and not mounted?)")
                                               : "no camera at " + port_)
                              : error};
    failure first;
    int failed_files = 0;
    std::size_t unreadable = 0;
    for (auto const& d : cams)
    {
        usb_camera cam(d, order_, poll_, out_, stop);
        auto err = cam.open();
        if (err.empty())
            err = cam.scan();
        failed_files += cam.failed_files();
        unreadable += cam.unreadable();
        if (!err.empty())
        {
            log::error(log_tag, "{}", err);
            if (!first.code)
                first = {std::make_error_code(std::errc::io_error), err};
        }
    }
    if (!first.code && (failed_files > 0 || unreadable > 0))
    {
        std::string text;
        if (failed_files > 0)
            text = std::to_string(failed_files) + " file(s) could not be fetched";
        if (unreadable > 0)
            text += (text.empty() ? "" : ", ") + std::to_string(unreadable) +
                    " entr" + (unreadable == 1 ? "y" : "ies") +
                    " could not be read (not regular files inside the card, or not describable)";
        first = {std::make_error_code(std::errc::io_error),
                 text + "; they will be tried again next time"};
    }
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
            found = detect(error, stop);
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
