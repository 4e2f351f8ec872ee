#include "proto/ptpip/event_channel.hpp"

#include "proto/ptpip/fuji.hpp"

#include <algorithm>

namespace camrelay::proto::ptpip
{

event_channel::event_channel(event_channel_options options, clock::time_point now)
    : options_(options), framer_(options.max_packet_size), now_(now)
{
    if (options_.wire == dialect::fuji)
    {
        ready_ = true;
        events_.push_back(event_channel_ready{});
        return;
    }
    (void)encode(packet(init_event_request{options_.connection_number}), out_);
    deadline_ = now + options_.init_timeout;
}

void event_channel::fail(std::error_code ec)
{
    if (error_)
        return;
    error_ = ec;
    deadline_.reset();
    events_.push_back(session_failed{ec});
}

feed_result event_channel::receive(ptp::bytes_view in)
{
    feed_result res;
    if (error_)
    {
        res.error = error_;
        return res;
    }
    while (!in.empty())
    {
        auto r = framer_.feed(in);
        res.consumed += r.consumed;
        in = in.subspan(r.consumed);
        if (r.status == frame_status::error)
        {
            fail(r.error);
            res.error = r.error;
            return res;
        }
        if (r.status == frame_status::packet)
        {
            progress_ = true;
            handle(framer_.packet());
            if (error_)
            {
                res.error = error_;
                return res;
            }
        }
    }
    return res;
}

bool event_channel::lenient_event(ptp::bytes_view frame, std::size_t params_at)
{
    if (frame.size() < params_at)
        return false;
    // Code and transaction id sit right before the parameters in both dialects.
    auto code = ptp::load_u16(frame.data() + params_at - 6);
    auto tid = ptp::load_u32(frame.data() + params_at - 4);
    auto rest = frame.subspan(params_at);
    if (rest.size() % 4 != 0)
        lenient_.add(ptp::leniency::event_odd_length);
    auto n = rest.size() / 4;
    if (n > max_params)
    {
        lenient_.add(ptp::leniency::event_too_many_params);
        n = max_params;
    }
    std::vector<std::uint32_t> params;
    params.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        params.push_back(ptp::load_u32(rest.data() + 4 * i));
    events_.push_back(camera_event{code, tid, std::move(params)});
    return true;
}

void event_channel::handle(ptp::bytes_view frame)
{
    if (options_.wire == dialect::fuji)
    {
        auto f = fuji::decode(frame);
        // Fuji container: u32 length, u16 type (4 = event), u16 code, u32 tid, params.
        if (!f && frame.size() >= 6 &&
            ptp::load_u16(frame.data() + 4) == ptp::to_underlying(fuji::container_type::event) &&
            (f.error() == make_error_code(errc::bad_packet) ||
             f.error() == make_error_code(errc::too_many_params)) &&
            lenient_event(frame, 12))
            return;
        if (!f)
            return fail(f.error());
        auto* c = std::get_if<fuji::container>(&*f);
        if (!c)
            return fail(make_error_code(errc::session_closed));
        if (c->type != fuji::container_type::event)
            return fail(make_error_code(errc::unexpected_packet));
        events_.push_back(camera_event{c->code, c->transaction_id, std::move(c->params)});
        return;
    }
    auto p = decode(frame);
    // PTP/IP Event: u32 length, u32 type 8, u16 code, u32 tid, params (§1.1).
    if (!p && ready_ && frame.size() >= 8 &&
        ptp::load_u32(frame.data() + 4) == static_cast<std::uint32_t>(packet_type::event) &&
        (p.error() == make_error_code(errc::bad_packet) ||
         p.error() == make_error_code(errc::too_many_params)) &&
        lenient_event(frame, 14))
        return;
    if (!p)
        return fail(p.error());
    switch (type_of(*p))
    {
    case packet_type::init_event_ack:
        if (ready_)
            return fail(make_error_code(errc::unexpected_packet));
        ready_ = true;
        deadline_.reset();
        events_.push_back(event_channel_ready{});
        return;
    case packet_type::init_fail:
        if (ready_)
            return fail(make_error_code(errc::unexpected_packet));
        events_.push_back(init_failed{std::get<init_fail>(*p).reason, false});
        return fail(make_error_code(errc::init_refused));
    case packet_type::event:
    {
        if (!ready_)
            return fail(make_error_code(errc::unexpected_packet));
        auto& e = std::get<event>(*p);
        events_.push_back(camera_event{e.code, e.transaction_id, std::move(e.params)});
        return;
    }
    case packet_type::probe_request:
        (void)encode(packet(probe_response{}), out_);
        return;
    case packet_type::probe_response:
        return;
    default:
        return fail(make_error_code(errc::unexpected_packet));
    }
}

ptp::bytes_view event_channel::pending_output() const noexcept
{
    return ptp::bytes_view(out_).subspan(out_pos_);
}

void event_channel::consume_output(std::size_t n) noexcept
{
    out_pos_ += std::min(n, out_.size() - out_pos_);
    if (out_pos_ == out_.size())
    {
        out_.clear();
        out_pos_ = 0;
    }
}

std::optional<session_event> event_channel::next_event()
{
    if (events_.empty())
        return std::nullopt;
    auto e = std::move(events_.front());
    events_.pop_front();
    return e;
}

void event_channel::on_tick(clock::time_point now)
{
    now_ = now;
    if (error_)
        return;
    if (deadline_ && now >= *deadline_)
        fail(make_error_code(errc::timeout));
    progress_ = false;
}

std::optional<clock::time_point> event_channel::next_deadline() const noexcept
{
    if (error_)
        return std::nullopt;
    return deadline_;
}

} // namespace camrelay::proto::ptpip
