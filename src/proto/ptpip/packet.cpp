// Standard PTP/IP packet codec. Layouts: shared/protocols/ptpip-fuji.md §1.1 (CIPA DC-X005 as
// implemented consistently by libgphoto2, Wireshark, ptp-ip and the Ricoh SDK).
#include "proto/ptpip/packet.hpp"

#include "proto/ptp/dataset.hpp"

#include <algorithm>

namespace camrelay::proto::ptpip
{

namespace
{

using ptp::reader;
using ptp::writer;

template <class T> result<packet> ok(T&& v)
{
    return packet(std::in_place_type<std::decay_t<T>>, std::forward<T>(v));
}

result<packet> fail(errc e)
{
    return error_result<packet>(make_error_code(e));
}

/// UCS-2LE units up to the first NUL (or the end) of `raw`, as UTF-8.
std::string name_from(bytes_view raw)
{
    std::u16string units;
    for (std::size_t i = 0; i + 1 < raw.size(); i += 2)
    {
        auto u = static_cast<char16_t>(ptp::load_u16(raw.data() + i));
        if (u == 0)
            break;
        units.push_back(u);
    }
    return ptp::utf16_to_utf8(units);
}

/// Writes a NUL-terminated UCS-2LE name (no length prefix).
std::error_code write_name(writer& w, std::string const& name)
{
    auto units = ptp::utf8_to_utf16(name);
    if (!units || units->find(u'\0') != std::u16string::npos)
        return make_error_code(errc::bad_name);
    for (char16_t u : *units)
        w.u16(static_cast<std::uint16_t>(u));
    w.u16(0);
    return {};
}

bool read_params(reader& r, std::vector<std::uint32_t>& params)
{
    auto rest = r.rest();
    if (rest.size() % 4 != 0)
        return false;
    for (std::size_t i = 0; i < rest.size(); i += 4)
        params.push_back(ptp::load_u32(rest.data() + i));
    return true;
}

guid read_guid(reader& r)
{
    guid g{};
    auto b = r.bytes(g.size());
    if (b.size() == g.size())
        std::copy(b.begin(), b.end(), g.begin());
    return g;
}

} // namespace

packet_type type_of(packet const& p) noexcept
{
    return static_cast<packet_type>(p.index() + 1);
}

result<packet> decode(bytes_view whole)
{
    if (whole.size() < header_size)
        return fail(errc::bad_length);
    reader r(whole);
    std::uint32_t length = r.u32();
    auto type = static_cast<packet_type>(r.u32());
    if (length != whole.size())
        return fail(errc::bad_length);
    std::size_t body = whole.size() - header_size;

    switch (type)
    {
    case packet_type::init_command_request:
    {
        // GUID, NUL-terminated name (at least the NUL), u32 version at the very end.
        if (body < 16 + 2 + 4 || (body - 16 - 4) % 2 != 0)
            return fail(errc::bad_packet);
        init_command_request p;
        p.initiator_guid = read_guid(r);
        p.friendly_name = name_from(r.bytes(body - 16 - 4));
        p.protocol_version = r.u32();
        return ok(std::move(p));
    }
    case packet_type::init_command_ack:
    {
        if (body < 4 + 16 + 2 + 4 || (body - 4 - 16 - 4) % 2 != 0)
            return fail(errc::bad_packet);
        init_command_ack p;
        p.connection_number = r.u32();
        p.responder_guid = read_guid(r);
        p.friendly_name = name_from(r.bytes(body - 4 - 16 - 4));
        p.protocol_version = r.u32();
        return ok(std::move(p));
    }
    case packet_type::init_event_request:
        if (body != 4)
            return fail(errc::bad_packet);
        return ok(init_event_request{r.u32()});
    case packet_type::init_event_ack:
        if (body != 0)
            return fail(errc::bad_packet);
        return ok(init_event_ack{});
    case packet_type::init_fail:
        if (body != 4)
            return fail(errc::bad_packet);
        return ok(init_fail{r.u32()});
    case packet_type::operation_request:
    {
        if (body < 10)
            return fail(errc::bad_packet);
        operation_request p;
        p.phase = static_cast<data_phase>(r.u32());
        p.code = r.u16();
        p.transaction_id = r.u32();
        if (!read_params(r, p.params))
            return fail(errc::bad_packet);
        if (p.params.size() > max_params)
            return fail(errc::too_many_params);
        return ok(std::move(p));
    }
    case packet_type::operation_response:
    case packet_type::event:
    {
        if (body < 6)
            return fail(errc::bad_packet);
        std::uint16_t code = r.u16();
        std::uint32_t tid = r.u32();
        std::vector<std::uint32_t> params;
        if (!read_params(r, params))
            return fail(errc::bad_packet);
        if (params.size() > max_params)
            return fail(errc::too_many_params);
        if (type == packet_type::event)
            return ok(event{code, tid, std::move(params)});
        return ok(operation_response{code, tid, std::move(params)});
    }
    case packet_type::start_data:
    {
        if (body != 12)
            return fail(errc::bad_packet);
        start_data p;
        p.transaction_id = r.u32();
        p.total_length = r.u64();
        return ok(std::move(p));
    }
    case packet_type::data:
    case packet_type::end_data:
    {
        if (body < 4)
            return fail(errc::bad_packet);
        std::uint32_t tid = r.u32();
        auto rest = r.rest();
        byte_vector payload(rest.begin(), rest.end());
        if (type == packet_type::data)
            return ok(data{tid, std::move(payload)});
        return ok(end_data{tid, std::move(payload)});
    }
    case packet_type::cancel:
        if (body != 4)
            return fail(errc::bad_packet);
        return ok(cancel{r.u32()});
    case packet_type::probe_request:
        if (body != 0)
            return fail(errc::bad_packet);
        return ok(probe_request{});
    case packet_type::probe_response:
        if (body != 0)
            return fail(errc::bad_packet);
        return ok(probe_response{});
    }
    return fail(errc::unknown_packet_type);
}

result<void> encode(packet const& p, byte_vector& out)
{
    byte_vector tmp;
    writer w(tmp);
    w.u32(0); // length, patched below
    w.u32(static_cast<std::uint32_t>(type_of(p)));
    std::error_code ec;
    auto params = [&](std::vector<std::uint32_t> const& ps)
    {
        if (ps.size() > max_params)
            ec = make_error_code(errc::too_many_params);
        for (auto v : ps)
            w.u32(v);
    };
    std::visit(
        [&](auto const& v)
        {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, init_command_request>)
            {
                w.bytes(v.initiator_guid);
                ec = write_name(w, v.friendly_name);
                w.u32(v.protocol_version);
            }
            else if constexpr (std::is_same_v<T, init_command_ack>)
            {
                w.u32(v.connection_number);
                w.bytes(v.responder_guid);
                ec = write_name(w, v.friendly_name);
                w.u32(v.protocol_version);
            }
            else if constexpr (std::is_same_v<T, init_event_request>)
                w.u32(v.connection_number);
            else if constexpr (std::is_same_v<T, init_fail>)
                w.u32(v.reason);
            else if constexpr (std::is_same_v<T, operation_request>)
            {
                w.u32(static_cast<std::uint32_t>(v.phase));
                w.u16(v.code);
                w.u32(v.transaction_id);
                params(v.params);
            }
            else if constexpr (std::is_same_v<T, operation_response> || std::is_same_v<T, event>)
            {
                w.u16(v.code);
                w.u32(v.transaction_id);
                params(v.params);
            }
            else if constexpr (std::is_same_v<T, start_data>)
            {
                w.u32(v.transaction_id);
                w.u64(v.total_length);
            }
            else if constexpr (std::is_same_v<T, data> || std::is_same_v<T, end_data>)
            {
                w.u32(v.transaction_id);
                w.bytes(v.payload);
            }
            else if constexpr (std::is_same_v<T, cancel>)
                w.u32(v.transaction_id);
            // init_event_ack, probe_request, probe_response: header only
        },
        p);
    if (ec)
        return ec;
    w.patch_u32(0, static_cast<std::uint32_t>(tmp.size()));
    out.insert(out.end(), tmp.begin(), tmp.end());
    return {};
}

result<byte_vector> encode(packet const& p)
{
    byte_vector out;
    if (auto r = encode(p, out); !r)
        return error_result<byte_vector>(r.error());
    return out;
}

void encode_data_header(packet_type type, std::uint32_t transaction_id, std::size_t payload_size,
                        byte_vector& out)
{
    writer w(out);
    w.u32(static_cast<std::uint32_t>(header_size + 4 + payload_size));
    w.u32(static_cast<std::uint32_t>(type));
    w.u32(transaction_id);
}

} // namespace camrelay::proto::ptpip
