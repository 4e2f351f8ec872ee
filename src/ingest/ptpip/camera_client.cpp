// The download logic common to both flavours: see camera_client.hpp.
#include "ingest/ptpip/camera_client.hpp"

#include "core/log.hpp"

#include <algorithm>

namespace camrelay::ingest::ptpip
{

using namespace std::chrono_literals;

outcome fail_with(std::error_code ec, std::string message)
{
    return {ec, std::move(message), false, false};
}

bool is_timeout(std::error_code ec)
{
    return ec == pp::errc::timeout || ec == pp::errc::too_slow || ec == std::errc::timed_out;
}

std::string describe(std::error_code ec)
{
    if (ec == std::errc::connection_reset)
        return "the camera closed the connection";
    if (ec == pp::errc::timeout || ec == std::errc::timed_out)
        return "timeout: the camera did not answer in time";
    if (ec == pp::errc::too_slow)
        return "timeout: " + ec.message();
    if (ec.category() == pp::category())
        return "protocol error from the camera: " + ec.message();
    return ec.message();
}

void camera_client::unreadable(object_problem p)
{
    ++unreadable_;
    auto key = p.key();
    if (memory_.retries.failed(key, clock::now()))
        out_.object_unreadable(camera_id_, p);
    else
        log::debug(log_tag, "camera={} {} still unreadable ({} failures in a row): {}",
                   info_.identity, key, memory_.retries.failures(key), p.reason);
}

void camera_client::readable(object_problem const& p)
{
    if (memory_.retries.succeeded(p.key()))
        out_.object_recovered(camera_id_, p);
}

outcome camera_client::connect()
{
    auto o = cfg_.fuji ? connect_fuji() : connect_standard();
    if (o.ok())
        o.connected = connected_ = true;
    return o;
}

outcome camera_client::identify(std::string const& fallback_model)
{
    ptp::byte_vector data;
    auto r = link_.transact(pp::ops::get_device_info(), [&](ptp::bytes_view b)
                            { data.insert(data.end(), b.begin(), b.end()); });
    if (!r)
        return fail_with(r.error(), "GetDeviceInfo failed: " + describe(r.error()));
    ptp::device_info di;
    bool sane = false;
    if (r->ok())
        if (auto d = ptp::decode_device_info(data, &lenient_))
        {
            di = std::move(*d);
            sane = di.supports(ptp::op_code::get_object_info) &&
                   (di.supports(ptp::op_code::get_object) ||
                    di.supports(ptp::op_code::get_partial_object));
        }
    if (cfg_.discovered && !sane)
        return fail_with(std::make_error_code(std::errc::protocol_error),
                         "the host at " + cfg_.ep.host +
                             " announced a camera, but its DeviceInfo is not a camera's: nothing "
                             "is fetched from it");
    // empty_device_info quirk (Fuji X-T4): fall back to the name from the ack.
    if (di.manufacturer.empty() && cfg_.fuji)
        di.manufacturer = "FUJIFILM";
    if (di.model.empty())
        di.model = fallback_model.empty() ? std::string("unknown") : fallback_model;
    partial_ = di.operations_supported.empty() || di.supports(ptp::op_code::get_partial_object);
    partial64_ = di.supports(ptp::op_code::mtp_get_partial_object_64);
    prop_value_ = di.supports(ptp::op_code::mtp_get_object_prop_value);
    info_.source_kind = cfg_.fuji ? "fuji" : "ptpip";
    info_.manufacturer = di.manufacturer;
    info_.model = di.model;
    info_.serial = di.serial_number;
    info_.name = di.model;
    info_.port =
        (cfg_.fuji ? "fuji://" : "ptpip://") + cfg_.ep.host + ":" + std::to_string(cfg_.ep.port);
    info_.identity =
        identity_of(di.manufacturer, di.model, di.serial_number, link_.ack()->responder_guid);
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
    return ptp::decode_object_info(data, &lenient_);
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
    return folder_for(info.storage_id, chain);
}

outcome camera_client::consider(std::uint32_t handle, std::vector<candidate>& out,
                                std::optional<std::uint32_t> listed_under)
{
    if (settled_.count(handle))
        return {};
    object_problem by_handle{"", "", handle, "", false};
    if (!memory_.retries.due(by_handle.key(), clock::now()))
        return {}; // reported already; tried again after its backoff
    auto info = object_info(handle);
    if (!info)
    {
        if (link_.broken() || stop_.stop_requested())
            return fail_with(info.error(), "GetObjectInfo failed: " + describe(info.error()));
        by_handle.reason = "no readable ObjectInfo: " + info.error().message();
        unreadable(std::move(by_handle));
        return {};
    }
    readable(by_handle);
    if (info->format == ptp::object_format::association)
    {
        parents_[handle] = {info->filename, info->parent_object};
        settled_.insert(handle);
        return {};
    }
    if (!is_downloadable(*info))
    {
        settled_.insert(handle);
        return {};
    }
    if (listed_under && *listed_under != ptp::all_storages && info->storage_id != *listed_under)
    {
        if (storage_mismatches_++ == 0)
            log::debug(log_tag,
                       "camera={} quirk storage_id_mismatch: ObjectInfo of handle={} names storage "
                       "{:08x}, listed under {:08x}; filed under the listed one",
                       info_.identity, handle, info->storage_id, *listed_under);
        info->storage_id = *listed_under;
    }
    candidate c;
    c.handle = handle;
    c.format = info->format;
    c.ref = ref_of(*info, cfg_.fuji ? folder_for(info->storage_id, {}) : folder_of(*info));
    if (info->compressed_size == 0xFFFFFFFFu)
    {
        take_64bit_size(c);
        if (link_.broken() || stop_.stop_requested())
            return fail_with(std::make_error_code(std::errc::connection_reset),
                             "GetObjectPropValue(ObjectSize) failed: the camera closed the "
                             "connection");
    }
    if (!memory_.retries.due(c.ref.folder + "/" + c.ref.name, clock::now()))
        return {};
    // Fetched or known earlier in this import (before a reconnect): counted once already.
    auto natural = c.ref.folder + "/" + c.ref.name + "\x1f" + std::to_string(c.ref.size) + "\x1f" +
                   std::to_string(c.ref.mtime);
    if (!selected_mode_ && memory_.settled.count(natural))
    {
        settled_.insert(handle);
        return {};
    }
    if (!selected_mode_ && memory_.asked_new.count(natural))
    {
        out.push_back(std::move(c));
        return {};
    }
    if (out_.already_have(camera_id_, c.ref))
    {
        if (!selected_mode_)
        {
            settled_.insert(handle);
            memory_.settled.insert(natural);
        }
        return {};
    }
    if (!selected_mode_ && memory_.asked_new.size() < 1'000'000)
        memory_.asked_new.insert(natural);
    out.push_back(std::move(c));
    return {};
}

void camera_client::take_64bit_size(candidate& c)
{
    c.ref.size = 0;
    c.size_known = false;
    if (prop_value_)
    {
        ptp::byte_vector data;
        auto r =
            link_.transact(pp::ops::get_object_prop_value(c.handle, ptp::object_prop::object_size),
                           [&](ptp::bytes_view b) { data.insert(data.end(), b.begin(), b.end()); });
        std::uint64_t value = 0;
        if (r && r->ok() && data.size() == 8)
            value = ptp::load_u64(data.data());
        if (value > 0 && value <= cfg_.max_object_size)
        {
            c.ref.size = value;
            c.size_known = true;
            if (size_from_property_++ == 0)
                log::debug(log_tag,
                           "camera={} object_size_from_property: {} has ObjectCompressedSize "
                           "0xFFFFFFFF; ObjectSize says {} bytes",
                           info_.identity, c.ref.name, value);
            return;
        }
        if (link_.broken())
            return;
        if (size_property_odd_++ == 0)
            log::debug(log_tag,
                       "camera={} {}: ObjectSize property not usable ({}, {} bytes, value {}); "
                       "reading the object to the end",
                       info_.identity, c.ref.name,
                       !r ? describe(r.error())
                          : (r->ok() ? std::string("answered") : std::string("refused")),
                       data.size(), value);
    }
}

outcome camera_client::fetch_one(candidate const& c)
{
    std::error_code link_error;
    // The pace of this object: min_rate over each rate_window, and a deadline of
    // object_deadline_slack + size / min_rate.
    pace p;
    p.min_rate = cfg_.min_rate;
    p.window = cfg_.rate_window;
    auto const kind = plan_transfer(c.ref.size, c.size_known, partial_, partial64_);
    bool const whole = kind == transfer_kind::whole;
    // Unknown size: the data phase may run to max_object_size; the deadline allows for it (the
    // min_rate windows still end a camera that stalls).
    std::uint64_t const bound = c.size_known ? c.ref.size : cfg_.max_object_size;
    p.deadline = clock::now() + cfg_.object_slack +
                 std::chrono::seconds(cfg_.min_rate ? bound / cfg_.min_rate : 0);
    std::uint64_t whole_bytes = 0;
    auto read = [&](std::uint64_t offset, chunk_sink const& sink) -> std::error_code
    {
        std::error_code sink_error;
        auto deliver = [&](ptp::bytes_view b)
        {
            if (!sink_error)
                sink_error = sink(b);
        };
        if (whole)
        {
            if (offset > 0)
                return std::make_error_code(std::errc::operation_not_supported);
            // Never more than the declared (or 64-bit) size into the spool: the session fails the
            // transaction past it (data_phase_too_long), and nothing beyond it is delivered. An
            // unknown size is read to the end of the data phase, up to max_object_size.
            auto op = pp::ops::get_object(c.handle);
            op.max_data_in = bound;
            std::uint64_t got = 0;
            auto r = link_.transact(
                std::move(op),
                [&](ptp::bytes_view b)
                {
                    auto room = bound - std::min(got, bound);
                    auto take = std::min<std::uint64_t>(room, b.size());
                    got += b.size();
                    if (take > 0)
                        deliver(b.first(static_cast<std::size_t>(take)));
                },
                &p);
            whole_bytes = std::min(got, bound);
            if (!r)
                return link_error = r.error();
            if (sink_error)
                return sink_error;
            if (!r->ok())
                return std::make_error_code(std::errc::io_error);
            // An object of unknown size (over 4 GiB by its ObjectInfo) that came empty is no
            // object: never stored as an empty file.
            if (!c.size_known && got == 0)
                return std::make_error_code(std::errc::protocol_error);
            return {};
        }
        bool const wide = kind == transfer_kind::partial64;
        std::uint64_t done = offset;
        while (auto chunk = next_chunk(done, c.ref.size, cfg_.chunk, wide))
        {
            if (stop_.stop_requested())
                return cancelled();
            std::uint64_t got = 0;
            auto op = wide ? pp::ops::get_partial_object_64(c.handle, chunk->offset, chunk->length)
                           : pp::ops::get_partial_object(c.handle,
                                                         static_cast<std::uint32_t>(chunk->offset),
                                                         chunk->length);
            auto r = link_.transact(
                std::move(op),
                [&](ptp::bytes_view b)
                {
                    got += b.size();
                    if (got <= chunk->length)
                        deliver(b);
                },
                &p);
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
    auto res = out_.fetch(camera_id_, info_, c.ref, read, !whole);
    object_problem problem{c.ref.folder, c.ref.name, c.handle, "", false};
    if (res.status == fetch_status::failed)
    {
        if (link_error || link_.broken())
        {
            auto ec = link_error ? link_error : std::make_error_code(std::errc::connection_reset);
            auto message =
                "camera " + info_.name + ": " + describe(ec) + " while fetching " + c.ref.name;
            if (is_timeout(ec) || ec == pp::errc::data_phase_too_long)
            {
                // The camera misbehaved with this object (too slow, too long): report it and
                // book its retry, so a reconnect does not fetch it again at once.
                problem.reason = describe(ec);
                problem.timeout = is_timeout(ec);
                unreadable(std::move(problem));
            }
            return fail_with(ec, message);
        }
        if (stop_.stop_requested())
            return fail_with(cancelled(), "stopped");
        ++failed_files_;
        log::warn(log_tag, "camera={} file={}/{} not fetched: {}", info_.identity, c.ref.folder,
                  c.ref.name, res.error);
        problem.reason = "not fetched: " + res.error;
        unreadable(std::move(problem));
        return {};
    }
    if (whole)
        progress_ += res.bytes;
    if (!c.size_known && size_from_data_++ == 0)
        log::debug(log_tag,
                   "camera={} object_size_from_data: {} has ObjectCompressedSize 0xFFFFFFFF and no "
                   "ObjectSize property; read to the end: {} bytes",
                   info_.identity, c.ref.name, whole_bytes);
    readable(problem);
    if (!selected_mode_)
    {
        settled_.insert(c.handle);
        memory_.settled.insert(c.ref.folder + "/" + c.ref.name + "\x1f" +
                               std::to_string(c.ref.size) + "\x1f" + std::to_string(c.ref.mtime));
    }
    return {};
}

outcome camera_client::fetch_all(std::vector<candidate>& list)
{
    order_candidates(list, cfg_.newest_first, cfg_.jpeg_first);
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
    if (cfg_.fuji)
        return scan_fuji();
    std::vector<candidate> fresh;
    auto o = list_standard(fresh);
    if (!o.ok())
        return o;
    log::info(log_tag, "camera={} {} new objects", info_.identity, fresh.size());
    auto fetched = fetch_all(fresh);
    report_leniencies();
    return fetched;
}

ptp::leniency_counters camera_client::leniencies() const
{
    auto all = lenient_;
    all.merge(link_.event_leniencies());
    return all;
}

void camera_client::report_leniencies()
{
    auto all = leniencies();
    if (!all.any())
        return;
    std::string kinds;
    for (std::size_t i = 0; i < ptp::leniency_count; ++i)
        if (all.count(static_cast<ptp::leniency>(i)) > 0)
            kinds += std::string(ptp::to_string(static_cast<ptp::leniency>(i))) + ' ';
    if (kinds == reported_leniencies_)
        return;
    reported_leniencies_ = kinds;
    log::debug(log_tag, "camera={} tolerated deviations from the PTP spec: {}", info_.identity,
               all.describe());
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
            std::vector<candidate> fresh;
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

} // namespace camrelay::ingest::ptpip
