// Command-connection state machine. Sequences: shared/protocols/ptpip-fuji.md §1.1 (connection
// setup, data-in and data-out transactions), §1.3 (Fuji init, containers, goodbye), §1.2
// (OpenSession with tid 0, GetPartialObject).
#include "proto/ptpip/session.hpp"

#include "proto/ptpip/fuji.hpp"

#include <algorithm>

namespace camrelay::proto::ptpip
{

namespace ops
{

namespace
{
operation op(ptp::op_code c, std::vector<std::uint32_t> params = {},
             std::optional<std::uint64_t> max_data_in = dataset_limit)
{
    return operation{ptp::to_underlying(c), std::move(params), std::nullopt, std::nullopt,
                     max_data_in};
}
} // namespace

operation open_session(std::uint32_t session_id)
{
    return op(ptp::op_code::open_session, {session_id});
}
operation close_session()
{
    return op(ptp::op_code::close_session);
}
operation get_device_info()
{
    return op(ptp::op_code::get_device_info);
}
operation get_storage_ids()
{
    return op(ptp::op_code::get_storage_ids, {}, handle_list_limit);
}
operation get_storage_info(std::uint32_t storage_id)
{
    return op(ptp::op_code::get_storage_info, {storage_id});
}
operation get_num_objects(std::uint32_t storage_id, std::uint32_t format, std::uint32_t parent)
{
    return op(ptp::op_code::get_num_objects, {storage_id, format, parent});
}
operation get_object_handles(std::uint32_t storage_id, std::uint32_t format, std::uint32_t parent)
{
    return op(ptp::op_code::get_object_handles, {storage_id, format, parent}, handle_list_limit);
}
operation get_object_info(std::uint32_t handle)
{
    return op(ptp::op_code::get_object_info, {handle});
}
operation get_object(std::uint32_t handle)
{
    // The caller bounds it by the declared size (operation::max_data_in).
    return op(ptp::op_code::get_object, {handle}, std::nullopt);
}
operation get_thumb(std::uint32_t handle)
{
    return op(ptp::op_code::get_thumb, {handle}, handle_list_limit);
}
operation get_partial_object(std::uint32_t handle, std::uint32_t offset, std::uint32_t max_bytes)
{
    return op(ptp::op_code::get_partial_object, {handle, offset, max_bytes}, max_bytes);
}
operation get_partial_object_64(std::uint32_t handle, std::uint64_t offset, std::uint32_t max_bytes)
{
    return op(ptp::op_code::mtp_get_partial_object_64,
              {handle, static_cast<std::uint32_t>(offset & 0xFFFFFFFFu),
               static_cast<std::uint32_t>(offset >> 32), max_bytes},
              max_bytes);
}
operation get_object_prop_value(std::uint32_t handle, ptp::object_prop prop)
{
    return op(ptp::op_code::mtp_get_object_prop_value, {handle, ptp::to_underlying(prop)});
}
operation get_device_prop_desc(ptp::device_prop prop)
{
    return op(ptp::op_code::get_device_prop_desc, {ptp::to_underlying(prop)});
}
operation get_device_prop_value(ptp::device_prop prop)
{
    return op(ptp::op_code::get_device_prop_value, {ptp::to_underlying(prop)});
}
operation set_device_prop_value(ptp::device_prop prop, ptp::byte_vector value)
{
    auto o = op(ptp::op_code::set_device_prop_value, {ptp::to_underlying(prop)});
    o.data_out = std::move(value);
    return o;
}
operation set_device_prop_value_u16(ptp::device_prop prop, std::uint16_t value)
{
    ptp::byte_vector b;
    ptp::writer(b).u16(value);
    return set_device_prop_value(prop, std::move(b));
}
operation set_device_prop_value_u32(ptp::device_prop prop, std::uint32_t value)
{
    ptp::byte_vector b;
    ptp::writer(b).u32(value);
    return set_device_prop_value(prop, std::move(b));
}
operation initiate_open_capture(std::uint32_t storage_id, std::uint32_t format)
{
    return op(ptp::op_code::initiate_open_capture, {storage_id, format});
}
operation terminate_open_capture(transaction_id of_initiate)
{
    return op(ptp::op_code::terminate_open_capture, {of_initiate});
}
operation fuji_get_device_info()
{
    return op(ptp::op_code::fuji_get_device_info);
}

} // namespace ops

namespace
{
constexpr auto code_ok = ptp::to_underlying(ptp::response_code::ok);
constexpr auto code_busy = ptp::to_underlying(ptp::response_code::device_busy);
constexpr auto code_already_open = ptp::to_underlying(ptp::response_code::session_already_open);
constexpr auto code_cancelled = ptp::to_underlying(ptp::response_code::transaction_cancelled);
constexpr auto code_open_session = ptp::to_underlying(ptp::op_code::open_session);
constexpr auto code_close_session = ptp::to_underlying(ptp::op_code::close_session);
} // namespace

session::session(session_options options, clock::time_point now)
    : options_(std::move(options)), framer_(options_.max_packet_size), now_(now)
{
    queue_init();
}

void session::queue_init()
{
    state_ = state::initializing;
    result<void> r;
    if (options_.wire == dialect::fuji)
        r = fuji::encode(
            fuji::init_request{options_.initiator_guid, options_.friendly_name, fuji::init_magic},
            out_);
    else
        r = encode(packet(init_command_request{options_.initiator_guid, options_.friendly_name,
                                               protocol_version_1_0}),
                   out_);
    if (!r)
    {
        fail(r.error());
        return;
    }
    arm(options_.init_timeout);
}

void session::arm(std::chrono::milliseconds limit)
{
    // `now_` may be stale here (called from receive()/begin()); the next on_tick re-arms from its
    // fresh time because progress_ is set.
    deadline_limit_ = limit;
    deadline_ = now_ + limit;
    progress_ = true;
}

void session::fail(std::error_code ec)
{
    if (state_ == state::failed)
        return;
    state_ = state::failed;
    error_ = ec;
    queue_.clear();
    current_.reset();
    deadline_.reset();
    gate_until_.reset();
    gate_pending_ = false;
    events_.push_back(session_failed{ec});
}

feed_result session::receive(ptp::bytes_view in)
{
    feed_result res;
    if (state_ == state::failed || state_ == state::closed)
    {
        res.error = state_ == state::failed ? error_ : make_error_code(errc::session_closed);
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
            handle_frame(framer_.packet());
            if (state_ == state::failed)
            {
                res.error = error_;
                return res;
            }
            if (state_ == state::closed)
            {
                // Nothing is expected after the end; ignore the rest.
                res.consumed += in.size();
                return res;
            }
        }
    }
    return res;
}

ptp::bytes_view session::pending_output() const noexcept
{
    return ptp::bytes_view(out_).subspan(out_pos_);
}

void session::consume_output(std::size_t n) noexcept
{
    out_pos_ += std::min(n, out_.size() - out_pos_);
    if (out_pos_ == out_.size())
    {
        out_.clear();
        out_pos_ = 0;
    }
}

std::optional<session_event> session::next_event()
{
    if (events_.empty())
        return std::nullopt;
    auto e = std::move(events_.front());
    events_.pop_front();
    return e;
}

std::optional<transaction_id> session::current_transaction() const noexcept
{
    if (!current_)
        return std::nullopt;
    return current_->tid;
}

result<transaction_id> session::begin(operation op)
{
    if (state_ == state::failed || state_ == state::closed || state_ == state::closing ||
        close_requested_)
        return error_result<transaction_id>(make_error_code(errc::session_closed));
    if (op.params.size() > max_params)
        return error_result<transaction_id>(make_error_code(errc::too_many_params));
    transaction_id tid = 0;
    // OpenSession is always sent with tid 0; later transactions count from 1 (libgphoto2, camlib;
    // §1.2). 0xFFFFFFFF is reserved for events not tied to a transaction, so wrap before it.
    if (op.code != code_open_session)
    {
        tid = next_tid_++;
        if (next_tid_ == ptp::no_transaction)
            next_tid_ = 1;
    }
    queue_.push_back(queued{tid, std::move(op), false});
    send_next();
    return tid;
}

void session::send_next()
{
    if (state_ != state::ready && state_ != state::closing)
        return;
    if (current_ || gate_pending_ || gate_until_)
        return;
    if (queue_.empty())
    {
        if (state_ == state::closing)
        {
            if (close_session_sent_ && options_.wire == dialect::fuji &&
                options_.quirks.has(ptp::quirk::send_goodbye))
                fuji::encode_goodbye(out_);
            state_ = state::closed;
            deadline_.reset();
            events_.push_back(session_closed{});
        }
        return;
    }
    current_ = std::move(queue_.front());
    queue_.pop_front();
    phase_ = phase::awaiting_data_or_response;
    data_total_.reset();
    data_seen_ = 0;
    send_request(*current_);
    arm(current_->op.timeout.value_or(options_.response_timeout));
}

void session::send_request(queued const& q)
{
    auto const& op = q.op;
    if (options_.wire == dialect::fuji)
    {
        auto params = op.params;
        if (options_.quirks.has(ptp::quirk::pad_request_params))
            params.resize(max_params, 0);
        (void)fuji::encode(fuji::make_command(op.code, q.tid, std::move(params)), out_);
        if (op.data_out)
        {
            // Data-out is one data container with the same code and tid (§1.3.3).
            ptp::writer w(out_);
            w.u32(static_cast<std::uint32_t>(fuji::container_header_size + op.data_out->size()));
            w.u16(static_cast<std::uint16_t>(fuji::container_type::data));
            w.u16(op.code);
            w.u32(q.tid);
            w.bytes(*op.data_out);
        }
        return;
    }
    operation_request req{op.data_out ? data_phase::out : data_phase::none_or_in, op.code, q.tid,
                          op.params};
    (void)encode(packet(std::move(req)), out_);
    if (!op.data_out)
        return;
    // StartData, then Data packets of data_out_chunk bytes, the remainder (maybe empty) as EndData
    // (libgphoto2; an empty phase is exactly StartData(0) + empty EndData, §1.1).
    auto const& bytes = *op.data_out;
    (void)encode(packet(start_data{q.tid, bytes.size()}), out_);
    std::size_t chunk = std::max<std::size_t>(options_.data_out_chunk, 1);
    std::size_t pos = 0;
    while (bytes.size() - pos > chunk)
    {
        encode_data_header(packet_type::data, q.tid, chunk, out_);
        out_.insert(out_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                    bytes.begin() + static_cast<std::ptrdiff_t>(pos + chunk));
        pos += chunk;
    }
    encode_data_header(packet_type::end_data, q.tid, bytes.size() - pos, out_);
    out_.insert(out_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(pos), bytes.end());
}

void session::handle_frame(ptp::bytes_view frame)
{
    switch (state_)
    {
    case state::initializing:
        handle_init_reply(frame);
        return;
    case state::init_refused:
        fail(make_error_code(errc::unexpected_packet));
        return;
    case state::ready:
    case state::closing:
        if (options_.wire == dialect::fuji)
            handle_fuji(frame);
        else
        {
            auto p = decode(frame);
            if (!p)
                fail(p.error());
            else
                handle_standard(std::move(*p));
        }
        return;
    case state::closed:
    case state::failed:
        return;
    }
}

void session::handle_init_reply(ptp::bytes_view frame)
{
    std::optional<connected> ok;
    std::optional<std::uint32_t> refused;
    if (options_.wire == dialect::fuji)
    {
        auto r = fuji::decode_init_reply(frame);
        if (!r)
            return fail(r.error());
        if (auto const* a = std::get_if<fuji::init_ack>(&*r))
            ok = connected{a->connection_number, a->camera_guid, a->camera_name, 0};
        else
            refused = std::get<init_fail>(*r).reason;
    }
    else
    {
        auto r = decode(frame);
        if (!r)
            return fail(r.error());
        if (auto const* a = std::get_if<init_command_ack>(&*r))
            ok = connected{a->connection_number, a->responder_guid, a->friendly_name,
                           a->protocol_version};
        else if (auto const* f = std::get_if<init_fail>(&*r))
            refused = f->reason;
        else if (std::holds_alternative<probe_request>(*r))
        {
            (void)encode(packet(probe_response{}), out_);
            return;
        }
        else
            return fail(make_error_code(errc::unexpected_packet));
    }
    deadline_.reset();
    if (refused)
    {
        bool retryable = options_.quirks.has(ptp::quirk::init_fail_is_response_code)
                             ? *refused == code_busy
                             : *refused == static_cast<std::uint32_t>(init_fail_reason::busy);
        state_ = state::init_refused;
        events_.push_back(init_failed{*refused, retryable});
        return;
    }
    state_ = state::ready;
    events_.push_back(std::move(*ok));
    if (options_.quirks.has(ptp::quirk::wait_after_init_ack))
        gate_pending_ = true;
    if (close_requested_)
        start_closing();
    else
        send_next();
}

void session::handle_standard(packet&& p)
{
    auto mismatch = [&](transaction_id tid)
    {
        if (!current_)
        {
            fail(make_error_code(errc::unexpected_packet));
            return true;
        }
        if (current_->tid != tid)
        {
            fail(make_error_code(errc::transaction_mismatch));
            return true;
        }
        return false;
    };
    switch (type_of(p))
    {
    case packet_type::probe_request:
        (void)encode(packet(probe_response{}), out_);
        return;
    case packet_type::probe_response:
        return;
    case packet_type::event:
    {
        auto& e = std::get<event>(p);
        events_.push_back(camera_event{e.code, e.transaction_id, std::move(e.params)});
        return;
    }
    case packet_type::operation_response:
    {
        auto& r = std::get<operation_response>(p);
        if (mismatch(r.transaction_id))
            return;
        finish(r.code, r.transaction_id, std::move(r.params));
        return;
    }
    case packet_type::start_data:
    {
        auto const& s = std::get<start_data>(p);
        if (mismatch(s.transaction_id))
            return;
        if (phase_ != phase::awaiting_data_or_response || current_->op.data_out)
            return fail(make_error_code(errc::unexpected_packet));
        phase_ = phase::data_in;
        if (s.total_length != unknown_data_length)
        {
            if (s.total_length > data_limit())
                return fail(make_error_code(errc::data_phase_too_long));
            data_total_ = s.total_length;
        }
        events_.push_back(data_started{s.transaction_id, data_total_});
        return;
    }
    case packet_type::data:
    case packet_type::end_data:
    {
        bool end = type_of(p) == packet_type::end_data;
        auto tid = end ? std::get<end_data>(p).transaction_id : std::get<data>(p).transaction_id;
        auto& payload = end ? std::get<end_data>(p).payload : std::get<data>(p).payload;
        if (mismatch(tid))
            return;
        if (phase_ != phase::data_in)
            return fail(make_error_code(errc::unexpected_packet));
        on_data(tid, std::move(payload));
        if (state_ == state::failed || !end)
            return;
        if (data_total_ && data_seen_ != *data_total_)
            return fail(make_error_code(errc::data_length_mismatch));
        phase_ = phase::awaiting_response;
        return;
    }
    case packet_type::cancel:
    {
        // The responder cancelled the transaction. What follows is not specified in the sources
        // [unsure]; end the transaction as TransactionCancelled and ignore a late response.
        auto tid = std::get<cancel>(p).transaction_id;
        if (mismatch(tid))
            return;
        finish(code_cancelled, tid, {});
        return;
    }
    default:
        fail(make_error_code(errc::unexpected_packet));
        return;
    }
}

void session::handle_fuji(ptp::bytes_view frame)
{
    auto f = fuji::decode(frame);
    if (!f)
        return fail(f.error());
    if (std::holds_alternative<fuji::goodbye>(*f))
        return fail(make_error_code(errc::session_closed));
    auto& c = std::get<fuji::container>(*f);
    switch (c.type)
    {
    case fuji::container_type::event:
        events_.push_back(camera_event{c.code, c.transaction_id, std::move(c.params)});
        return;
    case fuji::container_type::command:
        fail(make_error_code(errc::unexpected_packet));
        return;
    case fuji::container_type::data:
        if (!current_)
            return fail(make_error_code(errc::unexpected_packet));
        if (c.transaction_id != current_->tid)
            return fail(make_error_code(errc::transaction_mismatch));
        if (current_->op.data_out)
            return fail(make_error_code(errc::unexpected_packet));
        if (phase_ == phase::awaiting_data_or_response)
        {
            // One container carries the whole data phase; its size is the total (§1.3.3).
            phase_ = phase::data_in;
            events_.push_back(data_started{c.transaction_id, c.payload.size()});
        }
        on_data(c.transaction_id, std::move(c.payload));
        return;
    case fuji::container_type::response:
        if (!current_)
            return fail(make_error_code(errc::unexpected_packet));
        if (c.transaction_id != current_->tid)
            return fail(make_error_code(errc::transaction_mismatch));
        finish(c.code, c.transaction_id, std::move(c.params));
        return;
    }
}

std::uint64_t session::data_limit() const noexcept
{
    if (current_ && current_->op.max_data_in)
        return *current_->op.max_data_in;
    return options_.max_data_in;
}

void session::on_data(transaction_id tid, ptp::byte_vector&& bytes)
{
    data_seen_ += bytes.size();
    if (data_seen_ > data_limit())
        return fail(make_error_code(errc::data_phase_too_long));
    if (data_total_ && data_seen_ > *data_total_)
        return fail(make_error_code(errc::data_length_mismatch));
    if (!bytes.empty())
        events_.push_back(data_received{tid, std::move(bytes)});
}

void session::finish(std::uint16_t response, transaction_id tid,
                     std::vector<std::uint32_t>&& params)
{
    auto op_code = current_->op.code;
    if (op_code == code_open_session &&
        (response == code_ok || (response == code_already_open &&
                                 options_.quirks.has(ptp::quirk::session_already_open_is_ok))))
        session_open_ = true;
    if (op_code == code_close_session)
    {
        session_open_ = false;
        if (current_->internal_close)
            close_session_sent_ = true;
    }
    events_.push_back(transaction_done{tid, op_code, response, std::move(params), data_seen_});
    current_.reset();
    deadline_.reset();
    send_next();
}

void session::on_tick(clock::time_point now)
{
    now_ = now;
    if (state_ == state::failed || state_ == state::closed)
        return;
    if (progress_ && deadline_)
        deadline_ = now + deadline_limit_;
    progress_ = false;
    if (deadline_ && now >= *deadline_)
        return fail(make_error_code(errc::timeout));
    if (gate_pending_)
    {
        gate_pending_ = false;
        gate_until_ = now + options_.post_init_delay;
    }
    if (gate_until_ && now >= *gate_until_)
    {
        gate_until_.reset();
        send_next();
    }
}

std::optional<clock::time_point> session::next_deadline() const noexcept
{
    if (state_ == state::failed || state_ == state::closed)
        return std::nullopt;
    if (progress_ || gate_pending_)
        return now_;
    std::optional<clock::time_point> t = deadline_;
    if (gate_until_ && (!t || *gate_until_ < *t))
        t = gate_until_;
    return t;
}

void session::retry_init()
{
    if (state_ != state::init_refused)
        return;
    queue_init();
}

void session::close()
{
    if (state_ == state::failed || state_ == state::closed || state_ == state::closing)
        return;
    if (state_ == state::init_refused || (state_ == state::initializing && queue_.empty()))
    {
        // Nothing was opened and nothing is waiting; the ack (if it comes) is not awaited.
        queue_.clear();
        state_ = state::closed;
        deadline_.reset();
        events_.push_back(session_closed{});
        return;
    }
    close_requested_ = true;
    if (state_ == state::initializing)
        return; // operations are queued: run them after the ack, then close (handle_init_reply)
    start_closing();
}

void session::start_closing()
{
    bool open_pending = session_open_ || (current_ && current_->op.code == code_open_session) ||
                        std::any_of(queue_.begin(), queue_.end(),
                                    [](queued const& q) { return q.op.code == code_open_session; });
    if (open_pending)
    {
        transaction_id tid = next_tid_++;
        if (next_tid_ == ptp::no_transaction)
            next_tid_ = 1;
        queue_.push_back(queued{tid, ops::close_session(), true});
    }
    state_ = state::closing;
    send_next();
}

} // namespace camrelay::proto::ptpip
