#include "sim/responder.hpp"

#include "core/log.hpp"
#include "proto/ptp/dataset.hpp"
#include "proto/ptp/fuji.hpp"
#include "proto/ptpip/fuji.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <limits>

namespace camrelay::sim
{

namespace
{

constexpr auto log_tag = "sim";

namespace ptp = proto::ptp;
namespace ptpip = proto::ptpip;
namespace fuji = proto::ptpip::fuji;
using ptp::byte_vector;
using ptp::bytes_view;
using ptp::op_code;
using ptp::response_code;

/// No client sends large data-out phases to a camera we simulate (property values, at most an
/// ObjectInfo): bound what one connection can make us hold.
constexpr std::size_t max_packet = 1u << 20;
constexpr std::size_t max_held_input = 2 * max_packet;
constexpr std::uint32_t all = 0xFFFFFFFF;
/// Fuji's ObjectCompressedSize placeholder until 0xD227 = 1 in browse mode (§2.A step 10).
constexpr std::uint32_t fuji_placeholder_size = 102400;

std::uint16_t code(response_code c)
{
    return ptp::to_underlying(c);
}

std::uint32_t param(std::vector<std::uint32_t> const& p, std::size_t i, std::uint32_t def = 0)
{
    return i < p.size() ? p[i] : def;
}

/// Fuji operations whose command container is followed by a data container from the client.
bool fuji_data_out(std::uint16_t c)
{
    switch (c)
    {
    case 0x1016: // SetDevicePropValue
    case 0x100C: // SendObjectInfo
    case 0x100D: // SendObject
    case 0x900C: // Fuji SendObjectInfo
    case 0x900D: // Fuji SendObject2
    case 0x901D: // Fuji SendObject
    case 0x9026: // Fuji SetFocusPoint (hkr: payload y, x, 2, 3)
        return true;
    default:
        return false;
    }
}

struct fd_holder
{
    int fd = -1;
    fd_holder() = default;
    explicit fd_holder(int f) : fd(f) {}
    fd_holder(fd_holder const&) = delete;
    fd_holder& operator=(fd_holder const&) = delete;
    ~fd_holder()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

} // namespace

struct responder::transfer
{
    fd_holder file;
    bool synthetic = false;      ///< content from synthetic_byte (big-video)
    std::uint64_t content = 0;   ///< bytes of real content; past it: 0x5A (overlong-object)
    bool endless = false;        ///< endless-data: no EndData, close when `remaining` is sent
    bool drip = false;           ///< slow-drip: 1 byte per piece, the driver paces
    bool ends_selected = false;  ///< camera-selected: this read reaches the end of the photo
    std::uint64_t announced = 0; ///< StartData's total length
    std::uint16_t op = 0;
    std::uint32_t tid = 0;
    std::uint64_t start = 0;  ///< file offset of the range
    std::uint64_t offset = 0; ///< bytes of the range sent so far
    std::uint64_t total = 0;
    std::uint64_t remaining = 0;
    std::vector<std::uint32_t> params;
    bool header_sent = false;
};

responder::responder(camera& cam, role r) : cam_(cam), role_(r), framer_(max_packet) {}

responder::~responder() = default;

void responder::fail(std::string reason)
{
    if (closing_)
        return;
    log::warn(log_tag, "closing connection reason=\"{}\"", reason);
    closing_ = true;
    close_reason_ = std::move(reason);
    transfer_.reset();
}

void responder::receive(bytes_view in)
{
    if (closing_ || in.empty())
        return;
    if (cam_.kind == flavor::fuji && role_ == role::event)
        return; // Fuji's event port: libgphoto2 only connects; nothing is expected from it
    in_.insert(in_.end(), in.begin(), in.end());
    if (in_.size() > max_held_input)
    {
        fail("peer sent too much without reading the answers");
        return;
    }
    process();
}

void responder::process()
{
    std::size_t pos = 0;
    while (!closing_ && !transfer_ && pos < in_.size())
    {
        auto r = framer_.feed(bytes_view(in_).subspan(pos));
        pos += r.consumed;
        if (r.status == ptpip::frame_status::error)
        {
            fail("bad packet: " + r.error.message());
            break;
        }
        if (r.status == ptpip::frame_status::packet)
            handle_packet(framer_.packet());
    }
    if (closing_)
        in_.clear();
    else
        in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(pos));
}

ptp::bytes_view responder::pending_output()
{
    if (out_pos_ < out_.size())
        return bytes_view(out_).subspan(out_pos_);
    out_.clear();
    out_pos_ = 0;
    if (!queue_.empty())
        std::swap(out_, queue_);
    else if (transfer_ && !closing_)
        refill();
    return bytes_view(out_);
}

void responder::consume_output(std::size_t n)
{
    out_pos_ = std::min(out_.size(), out_pos_ + n);
}

bool responder::done() const noexcept
{
    return closing_ && out_pos_ >= out_.size() && queue_.empty();
}

void responder::on_disconnect()
{
    close_session();
    transfer_.reset();
    closing_ = true;
}

std::chrono::milliseconds responder::pace() const noexcept
{
    if (transfer_ && transfer_->drip && transfer_->header_sent && !closing_)
        return std::chrono::milliseconds(1000);
    return std::chrono::milliseconds(0);
}

std::uint32_t responder::external(std::uint32_t h) const noexcept
{
    return h == 0 ? 0 : h + handle_offset_;
}

std::uint32_t responder::internal(std::uint32_t h) const noexcept
{
    return h > handle_offset_ ? h - handle_offset_ : 0;
}

std::size_t responder::selected_count() const noexcept
{
    return std::min(cam_.select, cam_.store.count());
}

sim_object const* responder::lookup(std::uint32_t client_handle) const noexcept
{
    if (camera_selected())
    {
        // The camera puts the next selected photo into handle 1 after each download (§2.A
        // variants, fudge fuji_download_classic).
        if (client_handle != 1 || cam_.selected_sent >= selected_count())
            return nullptr;
        std::size_t files = 0;
        for (auto h : cam_.store.handles())
        {
            auto const* o = cam_.store.find(h);
            if (o->folder)
                continue;
            if (files++ == cam_.selected_sent)
                return o;
        }
        return nullptr;
    }
    if (cam_.kind == flavor::fuji)
    {
        // Fuji's handles are 1..N over the files (§2.A step 9): a card tree is served flat.
        std::uint32_t k = 0;
        for (auto h : cam_.store.handles())
        {
            auto const* o = cam_.store.find(h);
            if (!o->folder && ++k == client_handle)
                return o;
        }
        return nullptr;
    }
    return cam_.store.find(internal(client_handle));
}

void responder::notify_object_added(std::uint32_t handle)
{
    if (cam_.kind != flavor::ptpip || role_ != role::event || closing_ || cam_.open_sessions <= 0)
        return;
    // Events not tied to a transaction carry tid 0xFFFFFFFF (§1.2).
    (void)ptpip::encode(
        ptpip::event{ptp::to_underlying(ptp::event_code::object_added), all, {external(handle)}},
        queue_);
    log::info(log_tag, "event ObjectAdded handle={}", handle);
}

void responder::handle_packet(bytes_view pkt)
{
    if (cam_.kind == flavor::ptpip)
        handle_ptpip(pkt);
    else
        handle_fuji(pkt);
}

// --- standard PTP/IP -----------------------------------------------------------------------------

void responder::handle_ptpip(bytes_view pkt)
{
    auto decoded = ptpip::decode(pkt);
    if (!decoded)
    {
        fail("undecodable PTP/IP packet: " + decoded.error().message());
        return;
    }
    auto& p = *decoded;
    if (auto* init = std::get_if<ptpip::init_command_request>(&p))
    {
        if (role_ != role::unknown)
            return fail("second Init Command Request");
        if (cam_.refuse)
        {
            log::info(log_tag, "refusing initiator name=\"{}\" (--refuse)", init->friendly_name);
            (void)ptpip::encode(
                ptpip::init_fail{ptp::to_underlying(ptpip::init_fail_reason::rejected_initiator)},
                queue_);
            closing_ = true;
            close_reason_ = "refused";
            return;
        }
        role_ = role::command;
        initialised_ = true;
        ptpip::init_command_ack ack;
        ack.connection_number = cam_.next_connection++;
        ack.responder_guid = cam_.camera_guid;
        ack.friendly_name = cam_.model;
        if (auto r = ptpip::encode(ack, queue_); !r)
            return fail("cannot encode the Init Command Ack: " + r.error().message());
        log::info(log_tag, "command connection initiator=\"{}\" connection={}", init->friendly_name,
                  ack.connection_number);
        return;
    }
    if (auto* ev = std::get_if<ptpip::init_event_request>(&p))
    {
        if (role_ != role::unknown)
            return fail("unexpected Init Event Request");
        role_ = role::event;
        initialised_ = true;
        (void)ptpip::encode(ptpip::init_event_ack{}, queue_);
        log::info(log_tag, "event connection connection={}", ev->connection_number);
        return;
    }
    if (std::holds_alternative<ptpip::probe_request>(p))
    {
        (void)ptpip::encode(ptpip::probe_response{}, queue_);
        return;
    }
    if (std::holds_alternative<ptpip::probe_response>(p))
        return;
    if (role_ != role::command)
        return fail("PTP traffic before Init Command Request or on the event connection");
    if (auto* req = std::get_if<ptpip::operation_request>(&p))
    {
        if (data_out_)
            return fail("Operation Request during a data-out phase");
        if (req->phase == ptpip::data_phase::out)
        {
            data_out_ = pending_data_out{req->code, req->transaction_id, req->params, {}, 0, false};
            return;
        }
        operation(req->code, req->transaction_id, req->params, {});
        return;
    }
    if (auto* sd = std::get_if<ptpip::start_data>(&p))
    {
        if (!data_out_ || data_out_->started || sd->transaction_id != data_out_->tid)
            return fail("unexpected Start Data");
        if (sd->total_length != ptpip::unknown_data_length && sd->total_length > max_packet)
            return fail("data-out phase too large");
        data_out_->started = true;
        data_out_->expected = sd->total_length;
        return;
    }
    auto append = [&](std::uint32_t tid, byte_vector const& payload)
    {
        if (!data_out_ || !data_out_->started || tid != data_out_->tid)
            return false;
        data_out_->payload.insert(data_out_->payload.end(), payload.begin(), payload.end());
        return data_out_->payload.size() <= max_packet;
    };
    if (auto* d = std::get_if<ptpip::data>(&p))
    {
        if (!append(d->transaction_id, d->payload))
            fail("unexpected or oversized Data");
        return;
    }
    if (auto* ed = std::get_if<ptpip::end_data>(&p))
    {
        if (!append(ed->transaction_id, ed->payload))
            return fail("unexpected or oversized End Data");
        auto op = std::move(*data_out_);
        data_out_.reset();
        operation(op.code, op.tid, op.params, bytes_view(op.payload));
        return;
    }
    if (auto* c = std::get_if<ptpip::cancel>(&p))
    {
        log::info(log_tag, "client cancelled tid={}", c->transaction_id);
        data_out_.reset();
        return;
    }
    fail("packet type " + std::to_string(static_cast<unsigned>(ptpip::type_of(p))) +
         " is not sent by an initiator");
}

// --- Fuji ----------------------------------------------------------------------------------------

void responder::handle_fuji_init(bytes_view pkt)
{
    auto init = fuji::decode_init_request(pkt);
    if (!init)
        return fail("bad Fuji init: " + init.error().message());
    if (init->magic != fuji::init_magic)
    {
        // Wrong protocol version magic: Init Fail with InvalidParameter (§1.3.2).
        (void)ptpip::encode(ptpip::init_fail{code(response_code::invalid_parameter)}, queue_);
        closing_ = true;
        close_reason_ = "wrong init magic";
        return;
    }
    if (cam_.refuse)
    {
        // The camera shows the client as not confirmed: DeviceBusy until its owner agrees. The
        // client may retry on the same socket (libgphoto2, fudge), so the connection stays open.
        log::info(log_tag, "refusing client name=\"{}\" (--refuse)", init->client_name);
        (void)ptpip::encode(ptpip::init_fail{code(response_code::device_busy)}, queue_);
        return;
    }
    fuji::init_ack ack;
    ack.connection_number = 0;
    ack.camera_guid = cam_.camera_guid;
    ack.camera_name = cam_.model;
    if (auto r = fuji::encode(ack, queue_); !r)
        return fail("cannot encode the Fuji init ack: " + r.error().message());
    if (!initialised_)
        log::info(log_tag, "fuji client name=\"{}\"", init->client_name);
    initialised_ = true;
}

void responder::handle_fuji(bytes_view pkt)
{
    // libgphoto2 always sends the init twice (§1.3.2): an 82-byte type-1 packet is an init.
    if (!initialised_ ||
        (pkt.size() == fuji::init_request_size && ptp::load_u32(pkt.data() + 4) == 1))
    {
        handle_fuji_init(pkt);
        return;
    }
    auto decoded = fuji::decode(pkt);
    if (!decoded)
        return fail("undecodable Fuji container: " + decoded.error().message());
    if (std::holds_alternative<fuji::goodbye>(*decoded))
    {
        closing_ = true;
        close_reason_ = "goodbye";
        log::info(log_tag, "fuji client said goodbye");
        return;
    }
    auto& c = std::get<fuji::container>(*decoded);
    switch (c.type)
    {
    case fuji::container_type::command:
        if (data_out_)
            return fail("command container during a data-out phase");
        if (fuji_data_out(c.code))
        {
            data_out_ = pending_data_out{c.code, c.transaction_id, c.params, {}, 0, true};
            return;
        }
        operation(c.code, c.transaction_id, c.params, {});
        return;
    case fuji::container_type::data:
    {
        if (!data_out_ || data_out_->tid != c.transaction_id || data_out_->code != c.code)
            return fail("unexpected data container");
        auto op = std::move(*data_out_);
        data_out_.reset();
        operation(op.code, op.tid, op.params, bytes_view(c.payload));
        return;
    }
    default:
        return fail("container type " + std::to_string(static_cast<unsigned>(c.type)) +
                    " is not sent by a client");
    }
}

// --- operations ----------------------------------------------------------------------------------

void responder::reply(std::uint16_t rc, std::uint32_t tid, std::vector<std::uint32_t> params)
{
    if (cam_.kind == flavor::ptpip)
        (void)ptpip::encode(ptpip::operation_response{rc, tid, std::move(params)}, queue_);
    else
        (void)fuji::encode(fuji::make_response(rc, tid, std::move(params)), queue_);
}

void responder::reply_data(std::uint16_t op, std::uint32_t tid, bytes_view payload,
                           std::vector<std::uint32_t> params)
{
    if (cam_.kind == flavor::ptpip)
    {
        (void)ptpip::encode(ptpip::start_data{tid, payload.size()}, queue_);
        ptpip::encode_data_header(ptpip::packet_type::end_data, tid, payload.size(), queue_);
        queue_.insert(queue_.end(), payload.begin(), payload.end());
    }
    else
    {
        ptp::writer w(queue_);
        w.u32(static_cast<std::uint32_t>(fuji::container_header_size + payload.size()));
        w.u16(ptp::to_underlying(fuji::container_type::data));
        w.u16(op);
        w.u32(tid);
        w.bytes(payload);
    }
    reply(code(response_code::ok), tid, std::move(params));
}

void responder::open_session(std::uint32_t tid, std::vector<std::uint32_t> const& p)
{
    if (session_open_)
    {
        reply(code(response_code::session_already_open), tid, {param(p, 0)});
        return;
    }
    if (param(p, 0) == 0)
    {
        reply(code(response_code::invalid_parameter), tid);
        return;
    }
    session_open_ = true;
    ++cam_.open_sessions;
    if (cam_.quirks.has(quirk::handles_change))
        handle_offset_ = handles_change_step * cam_.sessions_opened;
    ++cam_.sessions_opened;
    log::info(log_tag, "session opened id={}", param(p, 0));
    reply(code(response_code::ok), tid);
}

void responder::close_session()
{
    if (!session_open_)
        return;
    session_open_ = false;
    --cam_.open_sessions;
    log::info(log_tag, "session closed");
}

ptp::byte_vector responder::device_info_payload() const
{
    ptp::device_info d;
    d.standard_version = 100;
    using f = ptp::object_format;
    d.operations_supported = {
        op_code::get_device_info,    op_code::open_session,       op_code::close_session,
        op_code::get_storage_ids,    op_code::get_storage_info,   op_code::get_num_objects,
        op_code::get_object_handles, op_code::get_object_info,    op_code::get_object,
        op_code::get_thumb,          op_code::get_partial_object,
    };
    if (cam_.quirks.has(quirk::big_video))
        d.operations_supported.push_back(op_code::mtp_get_object_prop_value);
    d.capture_formats = {};
    d.image_formats = {f::exif_jpeg, f::jfif,     f::tiff,      f::png,     f::dng,
                       f::heif,      f::fuji_raf, f::quicktime, f::mtp_mp4, f::undefined};
    d.device_version = "1.00";
    d.serial_number = "CAMRELAYSIM0001";
    d.model = cam_.model;
    if (cam_.kind == flavor::ptpip)
    {
        d.vendor_extension_id = 0;
        d.manufacturer = "camrelay";
        d.events_supported = {ptp::event_code::object_added};
    }
    else
    {
        // What libgphoto2's loopback Fuji run was verified with (ptp/synthetic_libgphoto2):
        // the Fuji vendor id and Fuji's extension description (§1.2).
        d.vendor_extension_id = 0x0000000E;
        d.vendor_extension_desc = "fujifilm.co.jp: 1.0; ";
        d.manufacturer = "FUJIFILM";
        d.operations_supported.insert(
            d.operations_supported.end(),
            {op_code::get_device_prop_value, op_code::set_device_prop_value,
             op_code::initiate_open_capture, op_code::terminate_open_capture});
    }
    byte_vector out;
    (void)ptp::encode(d, out);
    return out;
}

ptp::byte_vector responder::object_info_payload(sim_object const& o) const
{
    ptp::object_info i;
    i.storage_id = o.storage;
    if (cam_.quirks.has(quirk::storage_id_mismatch))
        i.storage_id = o.storage & 0xFFFF0000u; // the partition half left out
    i.format = o.format;
    i.compressed_size = o.size > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<std::uint32_t>(o.size);
    if (cam_.kind == flavor::fuji)
    {
        // Browse-like client states see the placeholder size until 0xD227 = 1 (§2.A step 10);
        // remote mode (libgphoto2) sees real sizes.
        auto state = props_.find(ptp::to_underlying(ptp::device_prop::fuji_client_state));
        auto correct =
            props_.find(ptp::to_underlying(ptp::device_prop::fuji_enable_correct_file_size));
        bool browse = state != props_.end() && state->second != 5;
        bool real = correct != props_.end() && correct->second == 1;
        if (browse && !real)
            i.compressed_size = fuji_placeholder_size;
    }
    i.parent_object = cam_.kind == flavor::fuji ? 0 : external(o.parent);
    if (o.folder)
    {
        i.compressed_size = 0;
        i.association_type = 1; // GenericFolder
    }
    i.filename = o.name;
    i.capture_date = ptp_date_time(o.mtime);
    bool short_info = cam_.quirks.has(quirk::short_objectinfo);
    if (!short_info)
        i.modification_date = i.capture_date;
    byte_vector out;
    (void)ptp::encode(i, out);
    if (short_info)
    {
        // Empty ModificationDate and Keywords are one zero byte each: the dataset now ends
        // right after the CaptureDate string.
        out.resize(out.size() - 2);
    }
    if (cam_.quirks.has(quirk::padded_objectinfo))
        out.insert(out.end(), 12, std::byte{0});
    return out;
}

std::optional<ptp::byte_vector> responder::prop_value(std::uint16_t prop) const
{
    using dp = ptp::device_prop;
    byte_vector out;
    ptp::writer w(out);
    auto written = [&](dp p, std::uint32_t def)
    {
        auto it = props_.find(ptp::to_underlying(p));
        return it == props_.end() ? def : it->second;
    };
    std::uint32_t client_state = written(dp::fuji_client_state, 0);
    std::uint16_t camera_state = client_state == 5   ? 6
                                 : client_state == 1 ? 1
                                 : client_state == 3 ? 3
                                                     : 2;
    bool selected = camera_selected();
    if (selected)
        camera_state = 1; // the owner chose "send to smartphone" on the camera
    auto object_count = static_cast<std::uint32_t>(
        selected ? selected_count() - std::min(cam_.selected_sent, selected_count())
                 : cam_.store.count());
    switch (static_cast<dp>(prop))
    {
    case dp::fuji_events_list:
    {
        std::vector<ptp::fuji::prop_change> list{
            {dp::fuji_camera_state, camera_state},
            {dp::fuji_selected_imgs_mode, selected ? 1u : 0u},
            {dp::fuji_object_count, object_count},
        };
        ptp::fuji::encode_event_list(list, out);
        return out;
    }
    case dp::fuji_camera_state:
        w.u16(camera_state);
        return out;
    case dp::fuji_client_state:
    case dp::fuji_compress_small:
    case dp::fuji_enable_correct_file_size:
    case dp::fuji_selected_imgs_mode:
    case dp::fuji_priority_mode:
        w.u16(static_cast<std::uint16_t>(written(static_cast<dp>(prop), 0)));
        return out;
    case dp::fuji_object_count:
        w.u16(static_cast<std::uint16_t>(std::min<std::uint32_t>(object_count, 0xFFFF)));
        return out;
    // Version properties: values an X-T5 reports (§3.3); a written value is read back.
    case dp::fuji_image_get_version:
        w.u32(written(dp::fuji_image_get_version, 4));
        return out;
    case dp::fuji_get_object_version:
        w.u32(written(dp::fuji_get_object_version, 5));
        return out;
    case dp::fuji_auto_save_version:
        w.u32(written(dp::fuji_auto_save_version, 1));
        return out;
    case dp::fuji_remote_version:
        w.u32(written(dp::fuji_remote_version, 0x0002000B));
        return out;
    case dp::fuji_remote_get_object_version:
        w.u32(written(dp::fuji_remote_get_object_version, 5));
        return out;
    case dp::fuji_geo_tag_version:
        w.u32(written(dp::fuji_geo_tag_version, 2));
        return out;
    case dp::fuji_compression_cut_off:
        return out; // often empty on real cameras (§2.A step 12)
    default:
        return std::nullopt;
    }
}

void responder::operation(std::uint16_t opc, std::uint32_t tid, std::vector<std::uint32_t> const& p,
                          bytes_view data)
{
    auto op = static_cast<op_code>(opc);
    log::debug(log_tag, "operation op=0x{:04x} tid={} params={}", opc, tid, p.size());
    if (op == op_code::open_session)
        return open_session(tid, p);
    if (op == op_code::get_device_info)
    {
        auto d = device_info_payload();
        return reply_data(opc, tid, bytes_view(d));
    }
    if (!session_open_)
        return reply(code(response_code::session_not_open), tid);

    auto storage_ok = [&](std::uint32_t s) { return s == all || cam_.store.root_of(s); };
    // GetObjectHandles(storage, format, parent): parent 0 = every object of the storage,
    // 0xFFFFFFFF = those in its root, else the folder's children. Fuji: files only, flat.
    std::optional<response_code> list_error;
    auto listed = [&]() -> std::optional<std::vector<std::uint32_t>>
    {
        std::uint32_t sid = param(p, 0, all);
        if (!storage_ok(sid))
        {
            list_error = response_code::invalid_storage_id;
            return std::nullopt;
        }
        std::uint32_t parent = param(p, 2, 0);
        bool fuji_flat = cam_.kind == flavor::fuji;
        std::uint32_t want_parent = 0;
        if (parent != 0 && parent != all)
        {
            auto const* po = lookup(parent);
            if (!po || !po->folder || fuji_flat)
            {
                list_error = response_code::invalid_parent_object;
                return std::nullopt;
            }
            want_parent = po->handle;
        }
        std::uint16_t fmt = static_cast<std::uint16_t>(param(p, 1, 0));
        std::vector<std::uint32_t> out;
        std::uint32_t fuji_index = 0;
        for (auto h : cam_.store.handles())
        {
            auto const* o = cam_.store.find(h);
            if (fuji_flat && o->folder)
                continue;
            if (fuji_flat)
                h = ++fuji_index;
            if (sid != all && o->storage != sid)
                continue;
            if (!fuji_flat && parent != 0 && o->parent != want_parent)
                continue;
            if (fmt == 0 || ptp::to_underlying(o->format) == fmt)
                out.push_back(fuji_flat ? h : external(h));
        }
        return out;
    };

    switch (op)
    {
    case op_code::close_session:
        close_session();
        return reply(code(response_code::ok), tid);
    case op_code::get_storage_ids:
    {
        byte_vector out;
        ptp::encode_uint32_array(cam_.store.storage_ids(), out);
        return reply_data(opc, tid, bytes_view(out));
    }
    case op_code::get_storage_info:
    {
        auto const* root = cam_.store.root_of(param(p, 0));
        if (!root)
            return reply(code(response_code::invalid_storage_id), tid);
        ptp::storage_info s;
        s.storage_type = 4;      // removable RAM (a card)
        s.filesystem_type = 2;   // generic hierarchical
        s.access_capability = 1; // read-only without deletion
        struct statvfs vfs
        {
        };
        if (::statvfs(root->c_str(), &vfs) == 0)
        {
            s.max_capacity = static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize;
            s.free_space_in_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
        }
        s.free_space_in_images = 0xFFFFFFFF;
        s.storage_description = cam_.store.storage_ids().size() > 1
                                    ? "SD" + std::to_string(param(p, 0) >> 16)
                                    : std::string("SD");
        s.volume_label = cam_.model;
        byte_vector out;
        (void)ptp::encode(s, out);
        return reply_data(opc, tid, bytes_view(out));
    }
    case op_code::get_num_objects:
    {
        auto l = listed();
        if (!l)
            return reply(code(*list_error), tid);
        return reply(code(response_code::ok), tid, {static_cast<std::uint32_t>(l->size())});
    }
    case op_code::get_object_handles:
    {
        auto l = listed();
        if (!l)
            return reply(code(*list_error), tid);
        if (cam_.quirks.has(quirk::endless_data))
            return start_endless(opc, tid, cam_.endless_limit);
        byte_vector out;
        ptp::encode_uint32_array(*l, out);
        return reply_data(opc, tid, bytes_view(out));
    }
    case op_code::get_object_info:
    {
        auto const* o = lookup(param(p, 0));
        if (!o)
            return reply(code(response_code::invalid_object_handle), tid);
        if (cam_.quirks.has(quirk::unreadable_objectinfo) && !o->folder &&
            o->handle % unreadable_every == 0)
        {
            log::info(log_tag,
                      "GetObjectInfo handle={} answered GeneralError "
                      "(unreadable-objectinfo)",
                      param(p, 0));
            return reply(code(response_code::general_error), tid);
        }
        auto out = object_info_payload(*o);
        return reply_data(opc, tid, bytes_view(out));
    }
    case op_code::get_object:
    {
        auto const* o = lookup(param(p, 0));
        if (!o || o->folder)
            return reply(code(response_code::invalid_object_handle), tid);
        return start_transfer(opc, tid, *o, 0, std::numeric_limits<std::uint64_t>::max(), {});
    }
    case op_code::get_partial_object:
    {
        auto const* o = lookup(param(p, 0));
        if (!o || o->folder)
            return reply(code(response_code::invalid_object_handle), tid);
        return start_transfer(opc, tid, *o, param(p, 1), param(p, 2), {0});
    }
    case op_code::mtp_get_object_prop_value:
    {
        if (!cam_.quirks.has(quirk::big_video))
            break;
        auto const* o = lookup(param(p, 0));
        if (!o)
            return reply(code(response_code::invalid_object_handle), tid);
        if (param(p, 1) != 0xDC04)     // ObjectSize, UINT64
            return reply(0xA801, tid); // MTP Invalid_ObjectPropCode
        byte_vector out;
        ptp::writer w(out);
        w.u64(o->size);
        return reply_data(opc, tid, bytes_view(out));
    }
    case op_code::get_thumb:
        if (!lookup(param(p, 0)))
            return reply(code(response_code::invalid_object_handle), tid);
        return reply(code(response_code::no_thumbnail_present), tid);
    default:
        break;
    }

    if (cam_.kind == flavor::fuji)
    {
        switch (op)
        {
        case op_code::get_device_prop_value:
        {
            auto v = prop_value(static_cast<std::uint16_t>(param(p, 0)));
            if (!v)
                return reply(code(response_code::device_prop_not_supported), tid);
            return reply_data(opc, tid, bytes_view(*v));
        }
        case op_code::set_device_prop_value:
        {
            auto prop = static_cast<std::uint16_t>(param(p, 0));
            std::uint32_t value = 0;
            if (data.size() >= 4)
                value = ptp::load_u32(data.data());
            else if (data.size() >= 2)
                value = ptp::load_u16(data.data());
            else if (data.size() == 1)
                value = std::to_integer<std::uint32_t>(data[0]);
            props_[prop] = value;
            log::info(log_tag, "property set prop=0x{:04x} value=0x{:x}", prop, value);
            return reply(code(response_code::ok), tid);
        }
        case op_code::initiate_open_capture:
        case op_code::terminate_open_capture:
            return reply(code(response_code::ok), tid);
        default:
            break;
        }
    }
    reply(code(response_code::operation_not_supported), tid);
}

void responder::start_transfer(std::uint16_t op, std::uint32_t tid, sim_object const& o,
                               std::uint64_t offset, std::uint64_t length,
                               std::vector<std::uint32_t> params)
{
    fd_holder f;
    std::uint64_t size = o.size;
    if (!o.synthetic)
    {
        // A card entry replaced by a symlink or FIFO since the scan is not followed or opened
        // blocking; only a regular file is served.
        f.fd = ::open(o.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        struct stat st
        {
        };
        if (f.fd < 0 || ::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode))
        {
            log::warn(log_tag, "cannot open object handle={} path={}", o.handle, o.path.string());
            return reply(code(response_code::general_error), tid);
        }
        size = static_cast<std::uint64_t>(st.st_size);
    }
    if (offset > size)
        return reply(code(response_code::invalid_parameter), tid);
    length = std::min(length, size - offset);
    std::uint64_t content = length;
    // overlong-object: GetObject and GetPartialObject both send far more than asked for (and
    // than ObjectInfo declares); the response still says the requested length.
    if (cam_.quirks.has(quirk::overlong_object))
        length += overlong_object_extra;
    if (cam_.kind == flavor::fuji &&
        length > std::numeric_limits<std::uint32_t>::max() - fuji::container_header_size)
        return reply(code(response_code::general_error), tid); // a container length is 32-bit
    if (!params.empty())
        params[0] = static_cast<std::uint32_t>(std::min<std::uint64_t>(content, 0xFFFFFFFFu));
    auto t = std::make_unique<transfer>();
    t->file.fd = f.fd;
    f.fd = -1;
    t->op = op;
    t->tid = tid;
    t->start = offset;
    t->total = length;
    t->remaining = length;
    t->announced = length;
    t->content = content;
    t->synthetic = o.synthetic;
    t->drip = cam_.quirks.has(quirk::slow_drip);
    t->ends_selected = camera_selected() && offset + content == size;
    t->params = std::move(params);
    transfer_ = std::move(t);
    log::debug(log_tag, "transfer handle={} offset={} length={}", o.handle, offset, length);
}

void responder::start_endless(std::uint16_t op, std::uint32_t tid, std::uint64_t length)
{
    log::info(log_tag, "endless data phase op=0x{:04x} bytes={} (endless-data)", op, length);
    auto t = std::make_unique<transfer>();
    t->op = op;
    t->tid = tid;
    t->total = length;
    t->remaining = length;
    t->announced = ptpip::unknown_data_length;
    t->endless = true;
    transfer_ = std::move(t);
}

void responder::refill()
{
    auto& t = *transfer_;
    if (!t.header_sent)
    {
        if (cam_.kind == flavor::ptpip)
            (void)ptpip::encode(ptpip::start_data{t.tid, t.announced}, out_);
        else
        {
            ptp::writer w(out_);
            w.u32(static_cast<std::uint32_t>(
                std::min<std::uint64_t>(fuji::container_header_size + t.total, 0xFFFFFFFFu)));
            w.u16(ptp::to_underlying(fuji::container_type::data));
            w.u16(t.op);
            w.u32(t.tid);
        }
        t.header_sent = true;
    }
    std::size_t piece = static_cast<std::size_t>(
        std::min<std::uint64_t>(t.drip ? 1 : cam_.chunk_size, t.remaining));
    bool last = piece == t.remaining && !t.endless;
    if (cam_.kind == flavor::ptpip)
        ptpip::encode_data_header(last ? ptpip::packet_type::end_data : ptpip::packet_type::data,
                                  t.tid, piece, out_);
    // --drop-after: send the content up to the budget, then cut the connection (a dropped link).
    bool cut = false;
    if (cam_.drop_after != 0)
    {
        std::uint64_t budget =
            cam_.drop_after > content_sent_ ? cam_.drop_after - content_sent_ : 0;
        if (piece > budget)
        {
            piece = static_cast<std::size_t>(budget);
            cut = true;
        }
    }
    auto at = out_.size();
    out_.resize(at + piece);
    std::size_t got = 0;
    // Past the real content (overlong-object) or with no file (endless-data): filler bytes.
    std::size_t real =
        t.endless ? 0
        : t.offset >= t.content
            ? 0
            : static_cast<std::size_t>(std::min<std::uint64_t>(piece, t.content - t.offset));
    if (t.synthetic)
    {
        for (std::size_t i = 0; i < real; ++i)
            out_[at + i] = synthetic_byte(t.start + t.offset + i);
        got = real;
    }
    for (std::size_t i = real; i < piece; ++i)
        out_[at + i] = t.endless ? std::byte{0} : std::byte{0x5A};
    while (got < real)
    {
        auto n = ::pread(t.file.fd, out_.data() + at + got, real - got,
                         static_cast<off_t>(t.start + t.offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
        {
            out_.resize(at + got);
            fail("object file shrank or cannot be read during a transfer");
            return;
        }
        got += static_cast<std::size_t>(n);
    }
    content_sent_ += piece;
    t.offset += piece;
    t.remaining -= piece;
    if (t.drip && t.offset >= static_cast<std::uint64_t>(slow_drip_seconds))
    {
        log::info(log_tag, "closing after {} s of slow drip (slow-drip)", slow_drip_seconds);
        closing_ = true;
        close_reason_ = "slow-drip limit";
        transfer_.reset();
        return;
    }
    if (t.endless && t.remaining == 0)
    {
        log::info(log_tag, "closing after {} bytes of an endless data phase (endless-data)",
                  t.total);
        closing_ = true;
        close_reason_ = "endless-data limit";
        transfer_.reset();
        return;
    }
    if (cut)
    {
        log::info(log_tag, "dropping the connection after {} content bytes (--drop-after)",
                  content_sent_);
        closing_ = true;
        close_reason_ = "drop-after";
        transfer_.reset();
        return;
    }
    if (t.remaining == 0)
    {
        auto tid = t.tid;
        auto params = std::move(t.params);
        bool goodbye = false;
        if (t.ends_selected)
        {
            ++cam_.selected_sent;
            log::info(log_tag, "camera-selected photo {} of {} sent", cam_.selected_sent,
                      selected_count());
            goodbye = cam_.selected_sent >= selected_count();
        }
        transfer_.reset();
        reply(code(response_code::ok), tid, std::move(params));
        if (goodbye)
        {
            // The last selected photo is out: the camera ends the transfer by closing.
            out_.insert(out_.end(), queue_.begin(), queue_.end());
            queue_.clear();
            closing_ = true;
            close_reason_ = "camera-selected transfer finished";
            return;
        }
        out_.insert(out_.end(), queue_.begin(), queue_.end());
        queue_.clear();
        process(); // input held during the transfer
    }
}

} // namespace camrelay::sim
