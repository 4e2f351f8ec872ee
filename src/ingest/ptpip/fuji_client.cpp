// The Fujifilm X Wi-Fi client, browse mode ("Smartphone" / "Browse camera"), step by step as in
// shared/protocols/ptpip-fuji.md §2.A: the init on port 55740 (with one retry after the camera's
// dialog), OpenSession, polling 0xD212 until the owner confirmed on the camera, the object-version
// handshake, browse mode (0xDF01 = 2), listing handles 1..ObjectCount (0xD222), and the 0xD227
// switch for real file sizes while listing. Fetching and serving are camera_client.cpp.
#include "core/log.hpp"
#include "ingest/ptpip/camera_client.hpp"
#include "proto/ptp/fuji.hpp"
#include "proto/ptpip/fuji.hpp"

namespace camrelay::ingest::ptpip
{

using namespace std::chrono_literals;

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
    auto list = ptp::fuji::decode_event_list(data, &lenient_);
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
                              refusal_message(where, r->reason, true));
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
        version = ptp::fuji::decode_u32_value(vdata, &lenient_);
    // Step 7: view all images (may wait for a dialog on the camera).
    {
        // CameraState 1: the owner picked photos on the camera and chose "send to smartphone";
        // DF01 = 1 answers that mode, 2 is browse (view all images).
        selected_mode_ = fuji_state_ && *fuji_state_ == 1;
        auto op = pp::ops::set_device_prop_value_u16(ptp::device_prop::fuji_client_state,
                                                     selected_mode_ ? 1 : 2);
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

outcome camera_client::list_fuji(std::vector<candidate>& out)
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

outcome camera_client::scan_fuji()
{
    if (selected_mode_)
        return scan_fuji_selected();
    std::vector<candidate> fresh;
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

// Camera-selected transfer (ptpip-fuji.md §2.A "Receive" variant, fudge fuji_download_classic):
// GetObjectInfo(1) and download handle 1, again and again; the camera puts the next picked photo at
// handle 1 after each download and, after the last one, closes the connection (or answers
// GetObjectInfo(1) with an error: no object). That goodbye ends a finished transfer, not a failure.
// A photo the ledger already has is still read (to the end, into nothing): the camera moves on only
// after a download.
outcome camera_client::scan_fuji_selected()
{
    if (auto o = fuji_set_u16(ptp::device_prop::fuji_enable_correct_file_size, 1); !o.ok())
        return o;
    int sent = 0;
    auto finished = [&]
    {
        selected_done_ = true;
        log::info(log_tag, "camera={} camera-selected transfer finished: {} photo(s) sent",
                  info_.identity, sent);
        return fail_with(std::make_error_code(std::errc::connection_reset),
                         "camera " + info_.name + " finished its camera-selected transfer (" +
                             std::to_string(sent) + " photo(s))");
    };
    // Bounded: a camera that keeps sending is served up to its object count (or 100000).
    std::uint32_t const most = std::max<std::uint32_t>(fuji_count_.value_or(0), 1) + 1;
    for (std::uint32_t round = 0; round < std::min<std::uint32_t>(most, 100'000); ++round)
    {
        if (stop_.stop_requested())
            return fail_with(cancelled(), "stopped");
        auto info = object_info(1);
        if (!info)
        {
            auto ec = info.error();
            if (link_.broken() ? !is_timeout(ec) : ec == std::errc::no_such_file_or_directory)
                return finished();
            if (link_.broken())
                return fail_with(ec, "GetObjectInfo failed: " + describe(ec));
            unreadable({"", "", 1u, "no readable ObjectInfo: " + ec.message(), false});
            return fail_with(ec, "camera-selected transfer: the camera's next photo has no "
                                 "readable ObjectInfo");
        }
        candidate c;
        c.handle = 1;
        c.format = info->format;
        c.ref = ref_of(*info, folder_for(info->storage_id, {}));
        if (!is_downloadable(*info))
        {
            unreadable({c.ref.folder, c.ref.name, 1u, "not a downloadable object", false});
            return fail_with(std::make_error_code(std::errc::invalid_argument),
                             "camera-selected transfer: the camera offers no downloadable object");
        }
        auto const before = failed_files_ + unreadable_;
        if (out_.already_have(camera_id_, c.ref))
        {
            // Read it into nothing so the camera moves on.
            pace p;
            p.min_rate = cfg_.min_rate;
            p.window = cfg_.rate_window;
            std::uint64_t done = 0;
            while (auto chunk = next_chunk(done, c.ref.size, cfg_.chunk))
            {
                auto r =
                    link_.transact(pp::ops::get_partial_object(
                                       1, static_cast<std::uint32_t>(chunk->offset), chunk->length),
                                   {}, &p);
                if (!r)
                    return fail_with(r.error(), "camera " + info_.name + ": " +
                                                    describe(r.error()) + " while skipping " +
                                                    c.ref.name);
                if (!r->ok() || r->data_bytes == 0)
                    return fail_with(std::make_error_code(std::errc::io_error),
                                     "camera-selected transfer: the camera did not send " +
                                         c.ref.name);
                done += r->data_bytes;
            }
        }
        else if (auto o = fetch_one(c); !o.ok())
            return o;
        if (failed_files_ + unreadable_ > before)
            return fail_with(std::make_error_code(std::errc::io_error),
                             "camera-selected transfer: " + c.ref.name + " was not stored");
        ++sent;
    }
    return fail_with(std::make_error_code(std::errc::protocol_error),
                     "camera-selected transfer: the camera sent more photos than it listed");
}

} // namespace camrelay::ingest::ptpip
