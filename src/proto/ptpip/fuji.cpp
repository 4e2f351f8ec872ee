// Fujifilm X Wi-Fi codec. Layouts: shared/protocols/ptpip-fuji.md §1.3.1 (init), §1.3.2 (ack,
// Init Fail), §1.3.3 (containers, goodbye, live view).
#include "proto/ptpip/fuji.hpp"

#include "proto/ptp/dataset.hpp"

#include <algorithm>

namespace camrelay::proto::ptpip::fuji
{

namespace
{

using ptp::reader;
using ptp::writer;

template <class T> result<T> fail(errc e)
{
    return error_result<T>(make_error_code(e));
}

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

/// Writes `name` as UCS-2LE into exactly `field_bytes` bytes, NUL-padded. With `truncate`, a long
/// name is cut to fit (keeping a NUL); otherwise it is an error.
std::error_code write_fixed_name(writer& w, std::string const& name, std::size_t field_bytes,
                                 bool truncate)
{
    auto units = ptp::utf8_to_utf16(name);
    if (!units || units->find(u'\0') != std::u16string::npos)
        return make_error_code(errc::bad_name);
    std::size_t max_units = field_bytes / 2 - 1;
    if (units->size() > max_units)
    {
        if (!truncate)
            return make_error_code(errc::bad_name);
        units->resize(max_units);
    }
    for (char16_t u : *units)
        w.u16(static_cast<std::uint16_t>(u));
    w.zeros(field_bytes - units->size() * 2);
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

} // namespace

result<void> encode(init_request const& r, byte_vector& out)
{
    byte_vector tmp;
    writer w(tmp);
    w.u32(static_cast<std::uint32_t>(init_request_size));
    w.u32(static_cast<std::uint32_t>(packet_type::init_command_request));
    w.u32(r.magic);
    w.bytes(r.client_guid);
    if (auto ec = write_fixed_name(w, r.client_name, init_name_bytes, false))
        return ec;
    out.insert(out.end(), tmp.begin(), tmp.end());
    return {};
}

result<init_request> decode_init_request(bytes_view whole)
{
    if (whole.size() < header_size || ptp::load_u32(whole.data()) != whole.size())
        return fail<init_request>(errc::bad_length);
    if (ptp::load_u32(whole.data() + 4) !=
        static_cast<std::uint32_t>(packet_type::init_command_request))
        return fail<init_request>(errc::unknown_packet_type);
    if (whole.size() != init_request_size)
        return fail<init_request>(errc::bad_packet);
    reader r(whole.subspan(header_size));
    init_request req;
    req.magic = r.u32();
    auto g = r.bytes(16);
    std::copy(g.begin(), g.end(), req.client_guid.begin());
    req.client_name = name_from(r.rest());
    return req;
}

result<void> encode(init_ack const& a, byte_vector& out)
{
    byte_vector tmp;
    writer w(tmp);
    w.u32(static_cast<std::uint32_t>(init_ack_size));
    w.u32(static_cast<std::uint32_t>(packet_type::init_command_ack));
    w.u32(a.connection_number);
    w.bytes(a.camera_guid);
    if (auto ec = write_fixed_name(w, a.camera_name, init_ack_size - 28, true))
        return ec;
    out.insert(out.end(), tmp.begin(), tmp.end());
    return {};
}

result<init_reply> decode_init_reply(bytes_view whole)
{
    if (whole.size() < header_size || ptp::load_u32(whole.data()) != whole.size())
        return fail<init_reply>(errc::bad_length);
    auto type = static_cast<packet_type>(ptp::load_u32(whole.data() + 4));
    reader r(whole.subspan(header_size));
    if (type == packet_type::init_fail)
    {
        if (whole.size() != header_size + 4)
            return fail<init_reply>(errc::bad_packet);
        return init_reply(init_fail{r.u32()});
    }
    if (type != packet_type::init_command_ack)
        return fail<init_reply>(errc::unknown_packet_type);
    if (whole.size() < 28)
        return fail<init_reply>(errc::bad_packet);
    init_ack a;
    a.connection_number = r.u32();
    auto g = r.bytes(16);
    std::copy(g.begin(), g.end(), a.camera_guid.begin());
    a.camera_name = name_from(r.rest());
    return init_reply(std::move(a));
}

result<frame> decode(bytes_view whole)
{
    if (whole.size() < goodbye_size || ptp::load_u32(whole.data()) != whole.size())
        return fail<frame>(errc::bad_length);
    if (whole.size() < container_header_size)
    {
        if (whole.size() == goodbye_size && ptp::load_u32(whole.data() + 4) == 0xFFFFFFFF)
            return frame(goodbye{});
        return fail<frame>(errc::bad_length);
    }
    reader r(whole.subspan(4));
    container c;
    auto type = r.u16();
    if (type < 1 || type > 4)
        return fail<frame>(errc::unknown_packet_type);
    c.type = static_cast<container_type>(type);
    c.code = r.u16();
    c.transaction_id = r.u32();
    if (c.type == container_type::data)
    {
        auto rest = r.rest();
        c.payload.assign(rest.begin(), rest.end());
    }
    else
    {
        if (!read_params(r, c.params))
            return fail<frame>(errc::bad_packet);
        if (c.params.size() > max_params)
            return fail<frame>(errc::too_many_params);
    }
    return frame(std::move(c));
}

result<void> encode(container const& c, byte_vector& out)
{
    if (c.params.size() > max_params)
        return make_error_code(errc::too_many_params);
    writer w(out);
    std::size_t body = c.type == container_type::data ? c.payload.size() : c.params.size() * 4;
    w.u32(static_cast<std::uint32_t>(container_header_size + body));
    w.u16(static_cast<std::uint16_t>(c.type));
    w.u16(c.code);
    w.u32(c.transaction_id);
    if (c.type == container_type::data)
        w.bytes(c.payload);
    else
        for (auto p : c.params)
            w.u32(p);
    return {};
}

void encode_goodbye(byte_vector& out)
{
    writer w(out);
    w.u32(static_cast<std::uint32_t>(goodbye_size));
    w.u32(0xFFFFFFFF);
}

container make_command(std::uint16_t code, std::uint32_t tid, std::vector<std::uint32_t> params)
{
    return container{container_type::command, code, tid, std::move(params), {}};
}

container make_data(std::uint16_t code, std::uint32_t tid, byte_vector payload)
{
    return container{container_type::data, code, tid, {}, std::move(payload)};
}

container make_response(std::uint16_t code, std::uint32_t tid, std::vector<std::uint32_t> params)
{
    return container{container_type::response, code, tid, std::move(params), {}};
}

result<liveview_frame> decode_liveview(bytes_view whole)
{
    if (whole.size() < liveview_header_size || ptp::load_u32(whole.data()) != whole.size())
        return fail<liveview_frame>(errc::bad_length);
    return liveview_frame{whole.subspan(4, 14), whole.subspan(liveview_header_size)};
}

} // namespace camrelay::proto::ptpip::fuji
