// The Asio driver: see link.hpp.
#include "ingest/ptpip/link.hpp"

#include "core/log.hpp"
#include "ingest/ptpip/common.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <thread>

namespace camrelay::ingest::ptpip
{

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

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

void link::keep_event(pp::camera_event ev)
{
    if (camera_events_.size() >= max_camera_events)
    {
        camera_events_.pop_front();
        if (dropped_events_++ == 0)
            log::warn(log_tag, "the camera sends events faster than they are read: dropping the "
                               "oldest (the next scan still lists every object)");
    }
    camera_events_.push_back(std::move(ev));
}

void link::drain()
{
    if (session_)
        while (auto ev = session_->next_event())
        {
            if (auto* ce = std::get_if<pp::camera_event>(&*ev))
                keep_event(std::move(*ce));
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
                keep_event(std::move(*ce));
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

std::error_code pace::check(clock::time_point now)
{
    if (now >= deadline)
        return make_error_code(pp::errc::timeout);
    if (min_rate == 0)
        return {};
    if (window_start == clock::time_point{})
    {
        window_start = now;
        window_bytes = 0;
        return {};
    }
    auto elapsed = now - window_start;
    if (elapsed < window)
        return {};
    auto secs = std::chrono::duration<double>(elapsed).count();
    if (static_cast<double>(window_bytes) < static_cast<double>(min_rate) * secs)
        return make_error_code(pp::errc::too_slow);
    window_start = now;
    window_bytes = 0;
    return {};
}

result<pp::transaction_done> link::transact(pp::operation op, data_fn const& on_data, pace* p)
{
    if (failed_)
        return error_result<pp::transaction_done>(failed_);
    auto const limit = clock::now() + dataset_deadline +
                       std::chrono::milliseconds(op.timeout.value_or(std::chrono::milliseconds(0)));
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
                if (p)
                    p->window_bytes += d->bytes.size();
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
        auto now = clock::now();
        std::error_code late =
            p ? p->check(now)
              : (now >= limit ? make_error_code(pp::errc::timeout) : std::error_code{});
        if (late)
        {
            log::debug(log_tag, "dropping the connection: {}", late.message());
            failed_ = late;
            shutdown();
            return error_result<pp::transaction_done>(late);
        }
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

} // namespace camrelay::ingest::ptpip
