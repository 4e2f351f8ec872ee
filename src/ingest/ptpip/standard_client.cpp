// The standard PTP/IP client (CIPA DC-X005, port 15740): connect (command connection, Init Ack,
// event connection, OpenSession) and listing by storage. The rest is camera_client.cpp.
#include "ingest/ptpip/camera_client.hpp"

#include <cstdio>
#include <deque>

namespace camrelay::ingest::ptpip
{

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
                              refusal_message(where, r->reason, false));
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

outcome camera_client::list_standard(std::vector<candidate>& out)
{
    ptp::byte_vector data;
    auto r = link_.transact(pp::ops::get_storage_ids(), [&](ptp::bytes_view b)
                            { data.insert(data.end(), b.begin(), b.end()); });
    if (!r)
        return fail_with(r.error(), "GetStorageIDs failed: " + describe(r.error()));
    std::vector<std::uint32_t> storages;
    if (r->ok())
        if (auto ids = ptp::decode_uint32_array(data, ptp::default_array_limit, &lenient_))
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
            auto list = ptp::decode_uint32_array(data, ptp::default_array_limit, &lenient_);
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
                auto list = ptp::decode_uint32_array(data, ptp::default_array_limit, &lenient_);
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
            if (auto o = consider(handle, out, sid); !o.ok())
                return o;
        }
    }
    return {};
}

} // namespace camrelay::ingest::ptpip
