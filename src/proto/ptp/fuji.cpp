#include "proto/ptp/fuji.hpp"

namespace camrelay::proto::ptp::fuji
{

result<std::vector<prop_change>> decode_event_list(bytes_view payload, leniency_counters* lenient)
{
    reader r(payload);
    std::uint16_t n = r.u16();
    if (r.ok() && n > r.remaining() / 6)
        r.fail(make_error_code(errc::array_too_long));
    std::vector<prop_change> out;
    if (r.ok())
        out.reserve(n);
    for (std::uint16_t i = 0; i < n && r.ok(); ++i)
    {
        prop_change c;
        c.code = static_cast<device_prop>(r.u16());
        c.value = r.u32();
        out.push_back(c);
    }
    if (!r.ok())
        return error_result<std::vector<prop_change>>(r.error());
    if (!r.empty())
        note(lenient, leniency::trailing_bytes);
    return out;
}

void encode_event_list(std::vector<prop_change> const& list, byte_vector& out)
{
    writer w(out);
    w.u16(static_cast<std::uint16_t>(list.size()));
    for (auto const& c : list)
    {
        w.u16(to_underlying(c.code));
        w.u32(c.value);
    }
}

std::optional<std::uint32_t> find(std::vector<prop_change> const& list, device_prop code)
{
    std::optional<std::uint32_t> v;
    for (auto const& c : list)
        if (c.code == code)
            v = c.value;
    return v;
}

result<std::vector<device_prop_desc>> decode_prop_desc_list(bytes_view payload,
                                                            leniency_counters* lenient)
{
    using list_t = std::vector<device_prop_desc>;
    leniency_counters seen;
    reader r(payload);
    std::uint32_t count = r.u32();
    // Each entry needs at least its 4-byte length and a 5-byte DevicePropDesc head.
    if (r.ok() && count > r.remaining() / 9)
        return error_result<list_t>(make_error_code(errc::array_too_long));
    list_t out;
    for (std::uint32_t i = 0; i < count && r.ok(); ++i)
    {
        std::uint32_t len = r.u32();
        if (r.ok() && len < 4)
            return error_result<list_t>(make_error_code(errc::bad_entry_length));
        reader entry(r.bytes(len - 4));
        if (!r.ok())
            break;
        out.push_back(read_device_prop_desc(entry, &seen));
        if (!entry.ok())
            return error_result<list_t>(entry.error());
        if (!entry.empty())
            seen.add(leniency::trailing_bytes);
    }
    if (!r.ok())
        return error_result<list_t>(r.error());
    if (!r.empty())
        seen.add(leniency::trailing_bytes);
    if (lenient)
        lenient->merge(seen);
    return out;
}

void encode_prop_desc_list(std::vector<device_prop_desc> const& list, byte_vector& out)
{
    writer w(out);
    w.u32(static_cast<std::uint32_t>(list.size()));
    for (auto const& d : list)
    {
        auto at = w.size();
        w.u32(0);
        encode(d, out);
        w.patch_u32(at, static_cast<std::uint32_t>(w.size() - at));
    }
}

std::optional<std::uint32_t> decode_u32_value(bytes_view payload, leniency_counters* lenient)
{
    if (payload.size() < 4)
        return std::nullopt;
    if (payload.size() > 4)
        note(lenient, leniency::trailing_bytes);
    return load_u32(payload.data());
}

} // namespace camrelay::proto::ptp::fuji
