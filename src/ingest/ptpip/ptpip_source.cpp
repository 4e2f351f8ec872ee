// Wi-Fi cameras over PTP/IP: standard CIPA DC-X005 (source type "ptpip", port 15740) and the
// Fujifilm X variant (type "fuji", port 55740, browse mode of shared/protocols/ptpip-fuji.md §2.A).
//
// Layers (STYLE.md 3.4):
//   * proto::ptpip::session / event_channel decide everything about the protocol (sans I/O);
//   * `link` below is the Asio driver: it owns the sockets and a small io_context run on the
//     source's own thread, writes pending_output(), feeds receive(), calls on_tick() when
//     next_deadline() passes. It makes no protocol decisions. Reads and writes are asynchronous,
//     but the io_context is only ever run from the thread that called the link (run_one_until in
//     short slices of at most 200 ms), so the client code on top can be written as a plain
//     sequence of transactions and the stop_token is looked at several times a second: a stop
//     closes the sockets within that slice;
//   * `camera_client` is the download logic: which operations to run, in what order, what is new
//     (object_handler::already_have before any transfer), GetPartialObject in chunk_size pieces
//     streamed straight into the object_handler's chunk_sink (never a whole file in memory),
//     resuming from the offset fetch() passes.
// One TU on purpose: Asio templates are instantiated here only.
#include "ingest/ptpip/ptpip_source.hpp"

#include "core/log.hpp"
#include "ingest/ptpip/ptpip_plan.hpp"
#include "ingest/ptpip/ssdp_listener.hpp"
#include "proto/ptp/fuji.hpp"
#include "proto/ptpip/event_channel.hpp"
#include "proto/ptpip/fuji.hpp"
#include "proto/ptpip/session.hpp"
#include "proto/ssdp/message.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace camrelay::ingest
{

namespace
{

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace pp = proto::ptpip;
namespace ptp = proto::ptp;
using pp::clock;
using namespace std::chrono_literals;

constexpr auto log_tag = "ptpip";

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
};

struct source_config
{
    bool fuji = false;
    std::string address;
    ptpip::endpoint ep;
    std::string friendly_name;
    std::string guid_file;
    bool newest_first = false;
    bool jpeg_first = false;
    std::chrono::seconds poll{10};
    std::chrono::seconds reconnect_min{5};
    std::chrono::seconds reconnect_max{300};
    std::uint32_t chunk = 1u << 20;
    bool discover = false; ///< SSDP discovery instead of `address` (run only)
    std::uint16_t ssdp_port = proto::ssdp::multicast_port;
    std::string ssdp_bind = "0.0.0.0";
    std::uint16_t ssdp_ptpip_port = pp::default_port;
};

std::error_code cancelled()
{
    return std::make_error_code(std::errc::operation_canceled);
}

// ------------------------------------------------------------------------------------ the driver

/// Sockets + io_context for one camera connection (command, and for standard PTP/IP the event
/// connection). Feeds the sans-I/O machines; no protocol decisions.
class link
{
  public:
    explicit link(std::stop_token stop) : stop_(std::move(stop)) {}
    link(link const&) = delete;
    link& operator=(link const&) = delete;
    ~link() { shutdown(); }

    /// Connects the command socket and runs the init; waits for the ack (or the refusal).
    std::error_code open_command(ptpip::endpoint const& ep, pp::session_options opts);
    /// Standard PTP/IP: connects the event socket and waits for the Init Event Ack.
    std::error_code open_events(ptpip::endpoint const& ep, std::uint32_t connection_number);
    /// After init_failed: sends the init again on the same socket and waits for the answer.
    std::error_code retry_init();

    std::optional<pp::connected> const& ack() const { return ack_; }
    std::optional<pp::init_failed> const& refusal() const { return refusal_; }
    /// The command connection's TCP connect succeeded (a later failure is the peer's answer).
    bool reached() const { return reached_; }

    using data_fn = std::function<void(ptp::bytes_view)>;
    /// Runs one operation; data-in chunks go to `on_data` as they arrive.
    result<pp::transaction_done> transact(pp::operation op, data_fn const& on_data = {});
    /// Lets time pass (answering probes, collecting events) until `d` has passed or, with
    /// `until_event`, a camera event arrived. Errors: the connection broke, stop requested.
    std::error_code wait(clock::duration d, bool until_event);
    std::deque<pp::camera_event>& camera_events() { return camera_events_; }

    /// CloseSession (+ Fuji goodbye), flushed within `grace`; then the sockets are closed.
    void close(clock::duration grace);
    bool broken() const { return static_cast<bool>(failed_); }

  private:
    struct io_state
    {
        std::vector<std::byte> rbuf = std::vector<std::byte>(256 * 1024);
        ptp::byte_vector wbuf;
        bool reading = false;
        bool writing = false;
    };

    std::error_code connect(tcp::socket& s, ptpip::endpoint const& ep, clock::duration timeout);
    std::error_code step(clock::time_point until);
    template <class Machine> void pump(tcp::socket& s, io_state& st, Machine& m);
    void drain();
    void on_io_error(boost::system::error_code bec, bool command);
    void shutdown();

    std::stop_token stop_;
    asio::io_context io_;
    tcp::socket cmd_{io_};
    tcp::socket evt_{io_};
    io_state cmd_io_;
    io_state evt_io_;
    std::optional<pp::session> session_;
    std::optional<pp::event_channel> channel_;
    std::deque<pp::session_event> cmd_events_;
    std::deque<pp::camera_event> camera_events_;
    std::optional<pp::connected> ack_;
    std::optional<pp::init_failed> refusal_;
    bool channel_ready_ = false;
    bool closed_ = false;
    bool reached_ = false;
    std::error_code failed_;
};

std::error_code link::connect(tcp::socket& s, ptpip::endpoint const& ep, clock::duration timeout)
{
    tcp::resolver resolver(io_);
    boost::system::error_code rec;
    auto found =
        resolver.resolve(ep.host, std::to_string(ep.port), tcp::resolver::numeric_service, rec);
    if (rec)
        return rec;
    std::error_code last = std::make_error_code(std::errc::host_unreachable);
    for (auto const& entry : found)
    {
        bool done = false;
        boost::system::error_code result;
        s.async_connect(entry.endpoint(),
                        [&](boost::system::error_code ec)
                        {
                            done = true;
                            result = ec;
                        });
        auto deadline = clock::now() + timeout;
        bool gave_up = false;
        while (!done)
        {
            if (stop_.stop_requested() || clock::now() >= deadline)
            {
                gave_up = true;
                boost::system::error_code ignored;
                s.close(ignored);
                io_.restart();
                while (!done)
                    io_.run_one();
                break;
            }
            io_.restart();
            io_.run_one_until(std::min(deadline, clock::now() + 200ms));
        }
        if (stop_.stop_requested())
            return cancelled();
        if (gave_up)
        {
            last = std::make_error_code(std::errc::timed_out);
            continue;
        }
        if (!result)
        {
            boost::system::error_code ignored;
            s.set_option(tcp::no_delay(true), ignored);
            return {};
        }
        last = result;
        boost::system::error_code ignored;
        s.close(ignored);
    }
    return last;
}

template <class Machine> void link::pump(tcp::socket& s, io_state& st, Machine& m)
{
    bool command = &s == &cmd_;
    if (!st.writing)
    {
        auto out = m.pending_output();
        if (!out.empty())
        {
            // Copied so the session may grow its buffer while the write is in flight.
            st.wbuf.assign(out.begin(), out.end());
            m.consume_output(out.size());
            st.writing = true;
            asio::async_write(s, asio::buffer(st.wbuf.data(), st.wbuf.size()),
                              [this, &st, command](boost::system::error_code ec, std::size_t)
                              {
                                  st.writing = false;
                                  if (ec)
                                      on_io_error(ec, command);
                              });
        }
    }
    if (!st.reading)
    {
        st.reading = true;
        s.async_read_some(asio::buffer(st.rbuf.data(), st.rbuf.size()),
                          [this, &st, &m, command](boost::system::error_code ec, std::size_t n)
                          {
                              st.reading = false;
                              if (ec)
                                  return on_io_error(ec, command);
                              m.receive(ptp::bytes_view(st.rbuf.data(), n));
                          });
    }
}

void link::on_io_error(boost::system::error_code bec, bool command)
{
    if (bec == asio::error::operation_aborted || failed_)
        return;
    std::error_code ec = bec;
    if (bec == asio::error::eof)
        ec = std::make_error_code(std::errc::connection_reset);
    log::debug(log_tag, "{} connection: {}", command ? "command" : "event", ec.message());
    failed_ = ec;
}

void link::drain()
{
    if (session_)
        while (auto ev = session_->next_event())
        {
            if (auto* ce = std::get_if<pp::camera_event>(&*ev))
                camera_events_.push_back(std::move(*ce));
            else if (auto* sf = std::get_if<pp::session_failed>(&*ev))
            {
                if (!failed_)
                    failed_ = sf->error;
            }
            else if (auto* c = std::get_if<pp::connected>(&*ev))
                ack_ = *c;
            else if (auto* f = std::get_if<pp::init_failed>(&*ev))
                refusal_ = *f;
            else
                cmd_events_.push_back(std::move(*ev));
        }
    if (channel_)
        while (auto ev = channel_->next_event())
        {
            if (auto* ce = std::get_if<pp::camera_event>(&*ev))
                camera_events_.push_back(std::move(*ce));
            else if (auto* sf = std::get_if<pp::session_failed>(&*ev))
            {
                if (!failed_)
                    failed_ = sf->error;
            }
            else if (std::holds_alternative<pp::event_channel_ready>(*ev))
                channel_ready_ = true;
            else if (auto* f = std::get_if<pp::init_failed>(&*ev))
            {
                refusal_ = *f;
                if (!failed_)
                    failed_ = make_error_code(pp::errc::init_refused);
            }
        }
}

std::error_code link::step(clock::time_point until)
{
    if (stop_.stop_requested())
        return cancelled();
    if (failed_)
        return failed_;
    if (session_ && cmd_.is_open())
        pump(cmd_, cmd_io_, *session_);
    if (channel_ && evt_.is_open())
        pump(evt_, evt_io_, *channel_);
    auto now = clock::now();
    auto deadline = std::min(until, now + 200ms);
    if (session_)
        if (auto d = session_->next_deadline())
            deadline = std::min(deadline, *d);
    if (channel_)
        if (auto d = channel_->next_deadline())
            deadline = std::min(deadline, *d);
    io_.restart();
    if (deadline > now)
        io_.run_one_until(deadline);
    io_.restart();
    io_.poll();
    now = clock::now();
    if (session_)
        session_->on_tick(now);
    if (channel_)
        channel_->on_tick(now);
    drain();
    if (stop_.stop_requested())
        return cancelled();
    if (!failed_)
    {
        // Output produced by on_tick (time-gated requests, probe answers) goes out now.
        if (session_ && cmd_.is_open())
            pump(cmd_, cmd_io_, *session_);
        if (channel_ && evt_.is_open())
            pump(evt_, evt_io_, *channel_);
    }
    return failed_;
}

std::error_code link::open_command(ptpip::endpoint const& ep, pp::session_options opts)
{
    if (auto ec = connect(cmd_, ep, 5s))
        return ec;
    reached_ = true;
    auto limit = opts.init_timeout;
    session_.emplace(std::move(opts), clock::now());
    auto deadline = clock::now() + limit + 1s;
    while (!ack_ && !refusal_)
    {
        if (auto ec = step(deadline))
            return ec;
        if (clock::now() >= deadline)
            return make_error_code(pp::errc::timeout);
    }
    return {};
}

std::error_code link::retry_init()
{
    refusal_.reset();
    session_->retry_init();
    auto deadline = clock::now() + 11s;
    while (!ack_ && !refusal_)
    {
        if (auto ec = step(deadline))
            return ec;
        if (clock::now() >= deadline)
            return make_error_code(pp::errc::timeout);
    }
    return {};
}

std::error_code link::open_events(ptpip::endpoint const& ep, std::uint32_t connection_number)
{
    std::error_code ec;
    // Some cameras (Ricoh THETA) refuse the first connects right after the ack.
    for (int attempt = 0; attempt < 3; ++attempt)
    {
        ec = connect(evt_, ep, 5s);
        if (ec != std::errc::connection_refused)
            break;
        std::this_thread::sleep_for(100ms);
    }
    if (ec)
        return ec;
    pp::event_channel_options o;
    o.connection_number = connection_number;
    channel_.emplace(o, clock::now());
    auto deadline = clock::now() + 11s;
    while (!channel_ready_)
    {
        if (auto e = step(deadline))
            return e;
        if (clock::now() >= deadline)
            return make_error_code(pp::errc::timeout);
    }
    return {};
}

result<pp::transaction_done> link::transact(pp::operation op, data_fn const& on_data)
{
    if (failed_)
        return error_result<pp::transaction_done>(failed_);
    auto tid = session_->begin(std::move(op));
    if (!tid)
        return error_result<pp::transaction_done>(tid.error());
    while (true)
    {
        while (!cmd_events_.empty())
        {
            auto ev = std::move(cmd_events_.front());
            cmd_events_.pop_front();
            if (auto* d = std::get_if<pp::data_received>(&ev))
            {
                if (d->tid == *tid && on_data)
                    on_data(d->bytes);
            }
            else if (auto* t = std::get_if<pp::transaction_done>(&ev))
            {
                if (t->tid == *tid)
                    return std::move(*t);
            }
        }
        if (auto ec = step(clock::now() + 1s))
            return error_result<pp::transaction_done>(ec);
    }
}

std::error_code link::wait(clock::duration d, bool until_event)
{
    auto deadline = clock::now() + d;
    while (clock::now() < deadline)
    {
        if (until_event && !camera_events_.empty())
            return {};
        if (auto ec = step(deadline))
            return ec;
    }
    return {};
}

void link::close(clock::duration grace)
{
    if (closed_)
        return;
    if (session_ && !failed_ && !stop_.stop_requested())
    {
        session_->close();
        auto deadline = clock::now() + grace;
        while (clock::now() < deadline)
        {
            auto st = session_->current_state();
            bool flushed = session_->pending_output().empty() && !cmd_io_.writing;
            if ((st == pp::session::state::closed && flushed) || st == pp::session::state::failed)
                break;
            if (step(deadline))
                break;
        }
    }
    shutdown();
}

void link::shutdown()
{
    closed_ = true;
    boost::system::error_code ignored;
    if (cmd_.is_open())
    {
        cmd_.shutdown(tcp::socket::shutdown_both, ignored);
        cmd_.close(ignored);
    }
    if (evt_.is_open())
    {
        evt_.shutdown(tcp::socket::shutdown_both, ignored);
        evt_.close(ignored);
    }
}

// ------------------------------------------------------------------------- the download logic

struct outcome
{
    std::error_code code;
    std::string message;
    bool refused = false;
    bool connected = false;

    bool ok() const { return !code; }
};

outcome fail_with(std::error_code ec, std::string message)
{
    return {ec, std::move(message), false, false};
}

std::string describe(std::error_code ec)
{
    if (ec == std::errc::connection_reset)
        return "the camera closed the connection";
    if (ec.category() == pp::category())
        return "protocol error from the camera: " + ec.message();
    return ec.message();
}

class camera_client
{
  public:
    camera_client(source_config const& cfg, pp::guid g, object_handler& out, std::stop_token stop)
        : cfg_(cfg), guid_(g), out_(out), stop_(stop), link_(stop)
    {
    }

    /// Connects, opens the session, identifies the camera.
    outcome connect();
    /// Lists everything and fetches what is new.
    outcome scan();
    /// Daemon: stays connected, fetching new files (events / polling), until error or stop.
    outcome serve();
    void close() { link_.close(2s); }
    /// Skips camera_connected() when the camera turns out to be `identity` (known as `id`).
    void reuse_camera(std::string identity, std::int64_t id)
    {
        reuse_.emplace(std::move(identity), id);
    }

    std::uint64_t progress() const { return progress_; }
    bool was_connected() const { return connected_; }
    int failed_files() const { return failed_files_; }
    std::int64_t camera_id() const { return camera_id_; }
    camera_info const& info() const { return info_; }

  private:
    outcome connect_standard();
    outcome connect_fuji();
    outcome identify(std::string const& fallback_model);
    outcome list_standard(std::vector<ptpip::candidate>& out);
    outcome list_fuji(std::vector<ptpip::candidate>& out);
    outcome fuji_poll();
    outcome fuji_set_u16(ptp::device_prop p, std::uint16_t v);
    /// GetObjectInfo of `handle`; nullopt + error when the transaction failed.
    result<ptp::object_info> object_info(std::uint32_t handle);
    std::string folder_of(ptp::object_info const& info);
    /// Adds `handle` to `out` when it is downloadable and new.
    outcome consider(std::uint32_t handle, std::vector<ptpip::candidate>& out);
    outcome fetch_all(std::vector<ptpip::candidate>& list);
    outcome fetch_one(ptpip::candidate const& c);

    source_config const& cfg_;
    pp::guid guid_;
    object_handler& out_;
    std::stop_token stop_;
    link link_;
    camera_info info_;
    std::int64_t camera_id_ = 0;
    bool partial_ = true; ///< GetPartialObject supported
    std::map<std::uint32_t, std::pair<std::string, std::uint32_t>>
        parents_;                             ///< handle: name, parent
    std::set<std::uint32_t> settled_;         ///< handles known or fetched this session
    std::optional<std::uint32_t> fuji_count_; ///< 0xD222
    std::optional<std::uint32_t> fuji_state_; ///< 0xDF00
    std::uint64_t progress_ = 0;
    int failed_files_ = 0;
    bool connected_ = false;
    std::optional<std::pair<std::string, std::int64_t>> reuse_;
};

outcome camera_client::connect()
{
    auto o = cfg_.fuji ? connect_fuji() : connect_standard();
    if (o.ok())
        o.connected = connected_ = true;
    return o;
}

outcome camera_client::connect_standard()
{
    pp::session_options so;
    so.wire = pp::dialect::ptpip;
    so.initiator_guid = guid_;
    so.friendly_name = cfg_.friendly_name;
    auto where = cfg_.ep.host + ":" + std::to_string(cfg_.ep.port);
    if (auto ec = link_.open_command(cfg_.ep, so))
        return fail_with(ec, (link_.reached()
                                  ? "the camera at " + where + " did not complete the PTP/IP init: "
                                  : "cannot connect to the camera at " + where + ": ") +
                                 describe(ec));
    if (auto const& r = link_.refusal())
    {
        outcome o = fail_with(make_error_code(pp::errc::init_refused),
                              ptpip::refusal_message(where, r->reason, false));
        o.refused = true;
        return o;
    }
    if (auto ec = link_.open_events(cfg_.ep, link_.ack()->connection_number))
        return fail_with(ec,
                         "camera at " + where + ": the event connection failed: " + describe(ec));
    auto opened = link_.transact(pp::ops::open_session());
    if (!opened)
        return fail_with(opened.error(), "camera at " + where +
                                             ": OpenSession failed: " + describe(opened.error()));
    if (!opened->ok() && opened->response != 0x201E)
        return fail_with(
            std::make_error_code(std::errc::protocol_error),
            "camera at " + where + " refused OpenSession (response 0x" +
                [&]
                {
                    char b[8];
                    std::snprintf(b, sizeof b, "%04x", opened->response);
                    return std::string(b);
                }() +
                ")");
    return identify(link_.ack()->responder_name);
}

outcome camera_client::fuji_poll()
{
    ptp::byte_vector data;
    auto r =
        link_.transact(pp::ops::get_device_prop_value(ptp::device_prop::fuji_events_list),
                       [&](ptp::bytes_view b) { data.insert(data.end(), b.begin(), b.end()); });
    if (!r)
        return fail_with(r.error(), "Fuji state poll failed: " + describe(r.error()));
    if (!r->ok())
        return {}; // some bodies answer nothing useful before the mode is chosen
    auto list = ptp::fuji::decode_event_list(data);
    if (!list)
        return fail_with(list.error(), "Fuji state poll: bad answer: " + list.error().message());
    if (auto v = ptp::fuji::find(*list, ptp::device_prop::fuji_object_count))
        fuji_count_ = *v;
    if (auto v = ptp::fuji::find(*list, ptp::device_prop::fuji_camera_state))
        fuji_state_ = *v;
    return {};
}

outcome camera_client::fuji_set_u16(ptp::device_prop p, std::uint16_t v)
{
    auto op = pp::ops::set_device_prop_value_u16(p, v);
    auto r = link_.transact(std::move(op));
    if (!r)
        return fail_with(r.error(), "Fuji SetDevicePropValue failed: " + describe(r.error()));
    if (!r->ok())
        return fail_with(std::make_error_code(std::errc::protocol_error),
                         "the camera rejected a setting (response " + std::to_string(r->response) +
                             ")");
    return {};
}

outcome camera_client::connect_fuji()
{
    pp::session_options so;
    so.wire = pp::dialect::fuji;
    so.quirks = ptp::fuji_x_wifi_quirks;
    so.initiator_guid = guid_;
    so.friendly_name = cfg_.friendly_name;
    auto where = cfg_.ep.host + ":" + std::to_string(cfg_.ep.port);
    if (auto ec = link_.open_command(cfg_.ep, so))
        return fail_with(ec,
                         (link_.reached()
                              ? "the Fujifilm camera at " + where + " did not complete the init: "
                              : "cannot connect to the Fujifilm camera at " + where + ": ") +
                             describe(ec));
    if (link_.refusal() && link_.refusal()->retryable)
    {
        // libgphoto2/fudge: the first init after the camera shows its dialog may fail; one more
        // try on the same socket after 500 ms.
        if (auto ec = link_.wait(500ms, false))
            return fail_with(ec, "Fujifilm camera at " + where + ": " + describe(ec));
        if (auto ec = link_.retry_init())
            return fail_with(ec, "Fujifilm camera at " + where + ": " + describe(ec));
    }
    if (auto const& r = link_.refusal())
    {
        outcome o = fail_with(make_error_code(pp::errc::init_refused),
                              ptpip::refusal_message(where, r->reason, true));
        o.refused = true;
        return o;
    }
    auto opened = link_.transact(pp::ops::open_session());
    if (!opened)
        return fail_with(opened.error(), "Fujifilm camera at " + where +
                                             ": OpenSession failed: " + describe(opened.error()));
    if (!opened->ok() && opened->response != 0x201E)
        return fail_with(std::make_error_code(std::errc::protocol_error),
                         "Fujifilm camera at " + where + " refused OpenSession");
    // §2.A step 5: poll until the user confirmed on the camera (CameraState != 0).
    auto deadline = clock::now() + 60s;
    while (true)
    {
        if (auto o = fuji_poll(); !o.ok())
            return o;
        if (fuji_state_ && *fuji_state_ != 0)
            break;
        if (clock::now() >= deadline)
            return fail_with(make_error_code(pp::errc::timeout),
                             "Fujifilm camera at " + where +
                                 ": nobody confirmed the connection on the camera within 60 s");
        if (auto ec = link_.wait(100ms, false))
            return fail_with(ec, "Fujifilm camera at " + where + ": " + describe(ec));
    }
    // Step 6: the browse-mode version property.
    ptp::byte_vector vdata;
    auto ver =
        link_.transact(pp::ops::get_device_prop_value(ptp::device_prop::fuji_get_object_version),
                       [&](ptp::bytes_view b) { vdata.insert(vdata.end(), b.begin(), b.end()); });
    if (!ver)
        return fail_with(ver.error(), "Fujifilm camera: " + describe(ver.error()));
    std::optional<std::uint32_t> version;
    if (ver->ok())
        version = ptp::fuji::decode_u32_value(vdata);
    // Step 7: view all images (may wait for a dialog on the camera).
    {
        auto op = pp::ops::set_device_prop_value_u16(ptp::device_prop::fuji_client_state, 2);
        op.timeout = std::chrono::milliseconds(60'000);
        auto r = link_.transact(std::move(op));
        if (!r)
            return fail_with(r.error(), "Fujifilm camera: choosing browse mode failed: " +
                                            describe(r.error()));
        if (!r->ok())
            return fail_with(std::make_error_code(std::errc::permission_denied),
                             "the Fujifilm camera did not accept browse mode (is it in "
                             "\"Smartphone\" / \"Browse camera\" mode?)");
    }
    // Step 8: version acknowledgement.
    if (version)
    {
        auto r = link_.transact(pp::ops::set_device_prop_value_u32(
            ptp::device_prop::fuji_get_object_version, *version));
        if (!r)
            return fail_with(r.error(), "Fujifilm camera: " + describe(r.error()));
    }
    if (auto o = fuji_poll(); !o.ok())
        return o;
    return identify(link_.ack()->responder_name);
}

outcome camera_client::identify(std::string const& fallback_model)
{
    ptp::byte_vector data;
    auto r = link_.transact(pp::ops::get_device_info(), [&](ptp::bytes_view b)
                            { data.insert(data.end(), b.begin(), b.end()); });
    if (!r)
        return fail_with(r.error(), "GetDeviceInfo failed: " + describe(r.error()));
    ptp::device_info di;
    if (r->ok())
        if (auto d = ptp::decode_device_info(data))
            di = std::move(*d);
    // empty_device_info quirk (Fuji X-T4): fall back to the name from the ack.
    if (di.manufacturer.empty() && cfg_.fuji)
        di.manufacturer = "FUJIFILM";
    if (di.model.empty())
        di.model = fallback_model.empty() ? std::string("unknown") : fallback_model;
    partial_ = di.operations_supported.empty() || di.supports(ptp::op_code::get_partial_object);
    info_.source_kind = cfg_.fuji ? "fuji" : "ptpip";
    info_.manufacturer = di.manufacturer;
    info_.model = di.model;
    info_.serial = di.serial_number;
    info_.name = di.model;
    info_.port =
        (cfg_.fuji ? "fuji://" : "ptpip://") + cfg_.ep.host + ":" + std::to_string(cfg_.ep.port);
    info_.identity = ptpip::identity_of(di.manufacturer, di.model, di.serial_number,
                                        link_.ack()->responder_guid);
    if (reuse_ && reuse_->first == info_.identity)
    {
        // A reconnect within one import: the same camera, already announced.
        camera_id_ = reuse_->second;
        return {};
    }
    auto id = out_.camera_connected(info_);
    if (!id)
        return fail_with(id.error(), "ledger error: " + id.error().message());
    camera_id_ = *id;
    log::info(log_tag, "camera={} model=\"{}\" at {} ready{}", info_.identity, info_.model,
              info_.port, partial_ ? "" : " (no GetPartialObject: downloads cannot resume)");
    return {};
}

result<ptp::object_info> camera_client::object_info(std::uint32_t handle)
{
    ptp::byte_vector data;
    auto r = link_.transact(pp::ops::get_object_info(handle), [&](ptp::bytes_view b)
                            { data.insert(data.end(), b.begin(), b.end()); });
    if (!r)
        return error_result<ptp::object_info>(r.error());
    if (!r->ok())
        return error_result<ptp::object_info>(
            std::make_error_code(std::errc::no_such_file_or_directory));
    return ptp::decode_object_info(data);
}

std::string camera_client::folder_of(ptp::object_info const& info)
{
    std::vector<std::string> chain;
    auto parent = info.parent_object;
    for (int depth = 0; depth < 16 && parent != 0 && parent != ptp::root_parent; ++depth)
    {
        auto it = parents_.find(parent);
        if (it == parents_.end())
        {
            auto pi = object_info(parent);
            if (!pi)
                break;
            it = parents_.emplace(parent, std::make_pair(pi->filename, pi->parent_object)).first;
        }
        chain.push_back(it->second.first);
        parent = it->second.second;
    }
    std::reverse(chain.begin(), chain.end());
    return ptpip::folder_for(info.storage_id, chain);
}

outcome camera_client::consider(std::uint32_t handle, std::vector<ptpip::candidate>& out)
{
    if (settled_.count(handle))
        return {};
    auto info = object_info(handle);
    if (!info)
    {
        if (link_.broken() || stop_.stop_requested())
            return fail_with(info.error(), "GetObjectInfo failed: " + describe(info.error()));
        log::warn(log_tag, "camera={} handle={} has no readable ObjectInfo: {}", info_.identity,
                  handle, info.error().message());
        return {};
    }
    if (info->format == ptp::object_format::association)
    {
        parents_[handle] = {info->filename, info->parent_object};
        settled_.insert(handle);
        return {};
    }
    if (!ptpip::is_downloadable(*info))
    {
        settled_.insert(handle);
        return {};
    }
    ptpip::candidate c;
    c.handle = handle;
    c.format = info->format;
    c.ref = ptpip::ref_of(*info,
                          cfg_.fuji ? ptpip::folder_for(info->storage_id, {}) : folder_of(*info));
    if (out_.already_have(camera_id_, c.ref))
    {
        settled_.insert(handle);
        return {};
    }
    out.push_back(std::move(c));
    return {};
}

outcome camera_client::list_standard(std::vector<ptpip::candidate>& out)
{
    ptp::byte_vector data;
    auto r = link_.transact(pp::ops::get_storage_ids(), [&](ptp::bytes_view b)
                            { data.insert(data.end(), b.begin(), b.end()); });
    if (!r)
        return fail_with(r.error(), "GetStorageIDs failed: " + describe(r.error()));
    std::vector<std::uint32_t> storages;
    if (r->ok())
        if (auto ids = ptp::decode_uint32_array(data))
            storages = std::move(*ids);
    if (storages.empty())
        storages.push_back(ptp::all_storages);
    for (auto sid : storages)
    {
        // Parent 0: every object of the storage, at any depth (ISO 15740 GetObjectHandles).
        data.clear();
        auto h = link_.transact(pp::ops::get_object_handles(sid, 0, 0), [&](ptp::bytes_view b)
                                { data.insert(data.end(), b.begin(), b.end()); });
        if (!h)
            return fail_with(h.error(), "GetObjectHandles failed: " + describe(h.error()));
        std::vector<std::uint32_t> handles;
        if (h->ok())
        {
            auto list = ptp::decode_uint32_array(data);
            if (!list)
                return fail_with(list.error(), "GetObjectHandles: bad answer from the camera");
            handles = std::move(*list);
        }
        else
        {
            // Cameras that only list one level: walk the associations from the root.
            std::deque<std::uint32_t> parents{ptp::root_parent};
            while (!parents.empty() && handles.size() < ptp::default_array_limit)
            {
                auto parent = parents.front();
                parents.pop_front();
                data.clear();
                auto lvl = link_.transact(pp::ops::get_object_handles(sid, 0, parent),
                                          [&](ptp::bytes_view b)
                                          { data.insert(data.end(), b.begin(), b.end()); });
                if (!lvl)
                    return fail_with(lvl.error(),
                                     "GetObjectHandles failed: " + describe(lvl.error()));
                if (!lvl->ok())
                    continue;
                auto list = ptp::decode_uint32_array(data);
                if (!list)
                    return fail_with(list.error(), "GetObjectHandles: bad answer from the camera");
                for (auto x : *list)
                {
                    handles.push_back(x);
                    auto info = object_info(x);
                    if (info && info->format == ptp::object_format::association)
                    {
                        parents_[x] = {info->filename, info->parent_object};
                        parents.push_back(x);
                    }
                }
            }
        }
        for (auto handle : handles)
        {
            if (stop_.stop_requested())
                return fail_with(cancelled(), "stopped");
            if (auto o = consider(handle, out); !o.ok())
                return o;
        }
    }
    return {};
}

outcome camera_client::list_fuji(std::vector<ptpip::candidate>& out)
{
    auto n = fuji_count_.value_or(0);
    for (std::uint32_t handle = 1; handle <= n; ++handle)
    {
        if (stop_.stop_requested())
            return fail_with(cancelled(), "stopped");
        if (auto o = consider(handle, out); !o.ok())
            return o;
    }
    return {};
}

outcome camera_client::fetch_one(ptpip::candidate const& c)
{
    std::error_code link_error;
    auto read = [&](std::uint64_t offset, chunk_sink const& sink) -> std::error_code
    {
        std::error_code sink_error;
        auto deliver = [&](ptp::bytes_view b)
        {
            if (!sink_error)
                sink_error = sink(b);
        };
        if (!partial_)
        {
            if (offset > 0)
                return std::make_error_code(std::errc::operation_not_supported);
            auto r = link_.transact(pp::ops::get_object(c.handle), deliver);
            if (!r)
                return link_error = r.error();
            if (sink_error)
                return sink_error;
            return r->ok() ? std::error_code{} : std::make_error_code(std::errc::io_error);
        }
        std::uint64_t done = offset;
        while (auto chunk = ptpip::next_chunk(done, c.ref.size, cfg_.chunk))
        {
            if (stop_.stop_requested())
                return cancelled();
            std::uint64_t got = 0;
            auto r =
                link_.transact(pp::ops::get_partial_object(c.handle, chunk->offset, chunk->length),
                               [&](ptp::bytes_view b)
                               {
                                   got += b.size();
                                   if (got <= chunk->length)
                                       deliver(b);
                               });
            if (!r)
                return link_error = r.error();
            if (sink_error)
                return sink_error;
            if (!r->ok())
                return std::make_error_code(std::errc::io_error);
            if (got == 0 || got > chunk->length)
                return std::make_error_code(std::errc::protocol_error);
            done += got;
            progress_ += got;
        }
        return {};
    };
    auto res = out_.fetch(camera_id_, info_, c.ref, read, partial_);
    if (res.status == fetch_status::failed)
    {
        if (link_error || link_.broken())
        {
            auto ec = link_error ? link_error : std::make_error_code(std::errc::connection_reset);
            return fail_with(ec, "camera " + info_.name + ": " + describe(ec) + " while fetching " +
                                     c.ref.name);
        }
        if (stop_.stop_requested())
            return fail_with(cancelled(), "stopped");
        ++failed_files_;
        log::warn(log_tag, "camera={} file={}/{} not fetched: {}", info_.identity, c.ref.folder,
                  c.ref.name, res.error);
        return {};
    }
    if (!partial_)
        progress_ += res.bytes;
    settled_.insert(c.handle);
    return {};
}

outcome camera_client::fetch_all(std::vector<ptpip::candidate>& list)
{
    ptpip::order_candidates(list, cfg_.newest_first, cfg_.jpeg_first);
    for (auto const& c : list)
    {
        if (stop_.stop_requested())
            return fail_with(cancelled(), "stopped");
        if (auto o = fetch_one(c); !o.ok())
            return o;
    }
    return {};
}

outcome camera_client::scan()
{
    std::vector<ptpip::candidate> fresh;
    if (cfg_.fuji)
    {
        // §2.A steps 12-14: real sizes only while 0xD227 is 1; restore it afterwards.
        if (auto o = fuji_set_u16(ptp::device_prop::fuji_enable_correct_file_size, 1); !o.ok())
            return o;
        auto o = list_fuji(fresh);
        if (o.ok())
        {
            log::info(log_tag, "camera={} lists {} objects, {} new", info_.identity,
                      fuji_count_.value_or(0), fresh.size());
            o = fetch_all(fresh);
        }
        if (!o.ok())
            return o;
        return fuji_set_u16(ptp::device_prop::fuji_enable_correct_file_size, 0);
    }
    auto o = list_standard(fresh);
    if (!o.ok())
        return o;
    log::info(log_tag, "camera={} {} new objects", info_.identity, fresh.size());
    return fetch_all(fresh);
}

outcome camera_client::serve()
{
    auto next_poll = clock::now() + cfg_.poll;
    while (!stop_.stop_requested())
    {
        if (auto ec =
                link_.wait(std::max<clock::duration>(next_poll - clock::now(), 0s), !cfg_.fuji))
            return fail_with(ec, "camera " + info_.name + ": " + describe(ec));
        auto& events = link_.camera_events();
        if (!events.empty())
        {
            std::vector<ptpip::candidate> fresh;
            while (!events.empty())
            {
                auto ev = std::move(events.front());
                events.pop_front();
                if (ev.code == ptp::to_underlying(ptp::event_code::object_added) &&
                    !ev.params.empty())
                    if (auto o = consider(ev.params[0], fresh); !o.ok())
                        return o;
            }
            if (auto o = fetch_all(fresh); !o.ok())
                return o;
            continue;
        }
        if (clock::now() < next_poll)
            continue;
        next_poll = clock::now() + cfg_.poll;
        if (cfg_.fuji)
        {
            auto before = fuji_count_;
            if (auto o = fuji_poll(); !o.ok())
                return o;
            if (fuji_count_ == before)
                continue;
        }
        if (auto o = scan(); !o.ok())
            return o;
    }
    return fail_with(cancelled(), "stopped");
}

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
               std::string& last_problem);
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
    int stalls = 0; // connections in a row that moved nothing
    std::optional<std::pair<std::string, std::int64_t>> known_camera;
    for (int attempt = 0;; ++attempt)
    {
        camera_client c(cfg_, *g, out_, stop);
        if (known_camera)
            c.reuse_camera(known_camera->first, known_camera->second);
        auto o = c.connect();
        if (c.camera_id())
            known_camera.emplace(c.info().identity, c.camera_id());
        if (o.ok())
            o = c.scan();
        failed_files += c.failed_files();
        c.close();
        if (o.ok())
        {
            if (failed_files > 0)
                return {std::make_error_code(std::errc::io_error),
                        std::to_string(failed_files) +
                            " file(s) could not be fetched; they will be tried again next time"};
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
                         std::string& last_problem)
{
    camera_client c(cfg, g, out_, stop);
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
    while (!stop.stop_requested())
    {
        if (auto g = guid(last_problem))
            if (visit(cfg_, *g, stop, last_problem))
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
        std::thread thread;
    };
    std::map<std::string, worker> active;           // by host
    std::map<std::string, clock::time_point> ended; // host: when its last visit ended
    auto reap = [&](bool all)
    {
        for (auto it = active.begin(); it != active.end();)
        {
            if (all || it->second.done->load())
            {
                it->second.thread.join();
                ended[it->first] = clock::now();
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
            if (auto e = ended.find(host);
                e != ended.end() && clock::now() - e->second < cfg_.reconnect_min)
                continue;
            if (active.size() >= max_cameras)
            {
                log::warn(log_tag,
                          "camera host={} announced itself, but {} cameras are already "
                          "being pulled from",
                          host, active.size());
                continue;
            }
            if (!d->sender.empty() && d->sender != host)
                log::warn(log_tag, "SSDP announcement from {} names another host ({})", d->sender,
                          host);
            log::info(log_tag,
                      "camera kind={} host={} usn={} announced itself: pulling over "
                      "PTP/IP port {}",
                      proto::ssdp::to_string(a->kind), host, a->usn, a->ptpip_port);
            worker w;
            w.cfg = std::make_unique<source_config>(cfg_);
            w.cfg->address = host;
            w.cfg->ep = ptpip::endpoint{host, a->ptpip_port};
            w.done = std::make_shared<std::atomic<bool>>(false);
            w.thread = std::thread(
                [this, cfg = w.cfg.get(), done = w.done, stop]
                {
                    // The camera asked to be pulled from: a few tries in case its PTP/IP port
                    // opens a moment after the announcement; after that, its next alive.
                    std::string problem;
                    auto wait = cfg->reconnect_min;
                    for (int attempt = 0; attempt < 3 && !stop.stop_requested(); ++attempt)
                    {
                        if (auto g = guid(problem); g && visit(*cfg, *g, stop, problem))
                            break;
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
