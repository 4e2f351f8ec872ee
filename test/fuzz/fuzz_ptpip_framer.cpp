// Fuzzes the PTP/IP framer, the packet/container decoders, the PTP dataset decoders and both
// session dialects with one byte stream. Input: MODE byte, then the stream a camera would send.
//   MODE bit 0: dialect (0 standard PTP/IP, 1 Fuji); bits 1..7: chunk size for the re-feed
//   (1..128).
// Properties checked (abort on violation):
//  * framing the stream whole and in chunks yields the same packets and the same final status;
//    every packet's length field equals its size and stays within the limit;
//  * decode(encode(decode(p))) == decode(p) for every standard packet and Fuji frame, and for
//    every PTP dataset the tolerant decoders accept (the body after a 12-byte header);
//  * the session never consumes more than it was given, never throws, and ends in a sane state.
#include "proto/ptp/dataset.hpp"
#include "proto/ptp/fuji.hpp"
#include "proto/ptpip/framer.hpp"
#include "proto/ptpip/fuji.hpp"
#include "proto/ptpip/packet.hpp"
#include "proto/ptpip/session.hpp"

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace
{

namespace ptp = camrelay::proto::ptp;
namespace ptpip = camrelay::proto::ptpip;

constexpr std::size_t limit = 1 << 20;

struct framed
{
    std::vector<ptp::byte_vector> packets;
    ptpip::frame_status last = ptpip::frame_status::need_more;
};

framed frame_all(ptp::bytes_view in, std::size_t chunk)
{
    framed out;
    ptpip::framer f(limit);
    while (!in.empty())
    {
        auto piece = in.first(std::min(chunk, in.size()));
        while (!piece.empty())
        {
            auto r = f.feed(piece);
            if (r.consumed > piece.size())
                std::abort();
            piece = piece.subspan(r.consumed);
            in = in.subspan(r.consumed);
            out.last = r.status;
            if (r.status == ptpip::frame_status::packet)
            {
                auto p = f.packet();
                if (p.size() < 8 || p.size() > limit || ptp::load_u32(p.data()) != p.size())
                    std::abort();
                out.packets.emplace_back(p.begin(), p.end());
            }
            else if (r.status == ptpip::frame_status::error)
                return out;
            else if (!piece.empty())
                std::abort(); // need_more must mean everything was consumed
        }
    }
    return out;
}

void decode_everything(ptp::bytes_view p)
{
    if (auto d = ptpip::decode(p))
    {
        auto again = ptpip::encode(*d);
        if (!again)
            std::abort();
        auto d2 = ptpip::decode(*again);
        if (!d2 || !(*d2 == *d))
            std::abort();
    }
    if (auto f = ptpip::fuji::decode(p))
    {
        ptp::byte_vector again;
        if (auto const* c = std::get_if<ptpip::fuji::container>(&*f))
        {
            if (!ptpip::fuji::encode(*c, again))
                std::abort();
        }
        else
            ptpip::fuji::encode_goodbye(again);
        auto f2 = ptpip::fuji::decode(again);
        if (!f2 || !(*f2 == *f))
            std::abort();
    }
    (void)ptpip::fuji::decode_init_reply(p);
    (void)ptpip::fuji::decode_init_request(p);
    (void)ptpip::fuji::decode_liveview(p);
    // Treat the body after a container header as each dataset. Tolerant decoders: whatever they
    // accept re-encodes to a dataset that decodes to the same value without new leniencies
    // (the encoder writes every field), except a string without NUL at the 255-unit maximum,
    // which the encoder refuses.
    auto body = p.size() > 12 ? p.subspan(12) : ptp::bytes_view{};
    ptp::leniency_counters seen;
    if (auto o = ptp::decode_object_info(body, &seen))
    {
        ptp::byte_vector again;
        auto enc = ptp::encode(*o, again);
        if (!enc)
        {
            if (enc.error() != ptp::errc::string_too_long ||
                seen.count(ptp::leniency::string_without_nul) == 0)
                std::abort();
        }
        else
        {
            ptp::leniency_counters second;
            auto o2 = ptp::decode_object_info(again, &second);
            if (!o2 || !(*o2 == *o) || second.any())
                std::abort();
        }
        (void)o->capture_time();
    }
    if (auto d = ptp::decode_device_info(body, &seen))
    {
        ptp::byte_vector again;
        if (ptp::encode(*d, again))
        {
            auto d2 = ptp::decode_device_info(again);
            if (!d2 || !(*d2 == *d))
                std::abort();
        }
    }
    if (auto s = ptp::decode_storage_info(body, &seen))
    {
        ptp::byte_vector again;
        if (ptp::encode(*s, again))
        {
            auto s2 = ptp::decode_storage_info(again);
            if (!s2 || !(*s2 == *s))
                std::abort();
        }
    }
    if (auto d = ptp::decode_device_prop_desc(body, &seen))
    {
        ptp::byte_vector again;
        ptp::encode(*d, again);
        auto d2 = ptp::decode_device_prop_desc(again);
        if (!d2 || !(*d2 == *d))
            std::abort();
    }
    (void)ptp::fuji::decode_event_list(body, &seen);
    (void)ptp::fuji::decode_prop_desc_list(body, &seen);
    (void)ptp::decode_uint32_array(body, ptp::default_array_limit, &seen);
    (void)ptp::fuji::decode_u32_value(body, &seen);
    (void)seen.describe();
}

void run_session(ptpip::dialect d, ptp::bytes_view in, std::size_t chunk)
{
    ptpip::session_options o;
    o.wire = d;
    o.max_packet_size = limit;
    if (d == ptpip::dialect::fuji)
        o.quirks = ptp::fuji_x_wifi_quirks;
    auto t = ptpip::clock::time_point{};
    ptpip::session s(o, t);
    (void)s.begin(ptpip::ops::open_session());
    (void)s.begin(ptpip::ops::get_object_info(1));
    (void)s.begin(ptpip::ops::set_device_prop_value_u16(ptp::device_prop::fuji_client_state, 2));
    (void)s.begin(ptpip::ops::get_partial_object(1, 0, 0x100000));
    while (!in.empty())
    {
        auto piece = in.first(std::min(chunk, in.size()));
        auto r = s.receive(piece);
        if (r.consumed > piece.size())
            std::abort();
        in = in.subspan(piece.size());
        t += std::chrono::milliseconds(20);
        s.on_tick(t);
        s.consume_output(s.pending_output().size());
        while (s.next_event())
        {
        }
        if (!r)
            break;
        if (s.current_state() == ptpip::session::state::init_refused)
            s.retry_init();
    }
    s.close();
    s.on_tick(t + std::chrono::hours(1));
    while (s.next_event())
    {
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    if (size < 1)
        return 0;
    auto mode = data[0];
    ptp::bytes_view in(reinterpret_cast<std::byte const*>(data) + 1, size - 1);
    std::size_t chunk = 1 + (mode >> 1);

    auto whole = frame_all(in, in.size() + 1);
    auto pieces = frame_all(in, chunk);
    if (whole.packets != pieces.packets || whole.last != pieces.last)
        std::abort();
    for (auto const& p : whole.packets)
        decode_everything(p);

    run_session((mode & 1) ? ptpip::dialect::fuji : ptpip::dialect::ptpip, in, chunk);
    return 0;
}
