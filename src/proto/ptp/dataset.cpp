// PTP dataset codecs. Field order and sizes: shared/protocols/ptpip-fuji.md §1.2 (ISO 15740 §5).
#include "proto/ptp/dataset.hpp"

#include <algorithm>
#include <utility>

namespace camrelay::proto::ptp
{

namespace
{

void append_utf8(std::string& out, char32_t cp)
{
    if (cp < 0x80)
        out.push_back(static_cast<char>(cp));
    else if (cp < 0x800)
    {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    else if (cp < 0x10000)
    {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    else
    {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

/// Ends a whole-payload decode: the reader's error if any; else bytes left are trailing_bytes, and
/// the leniencies seen while decoding (`seen`) are added to the caller's counters. A dataset that
/// fails counts nothing.
template <class T>
result<T> finish(reader const& r, T&& value, leniency_counters& seen, leniency_counters* lenient)
{
    if (!r.ok())
        return error_result<T>(r.error());
    if (!r.empty())
        seen.add(leniency::trailing_bytes);
    if (lenient)
        lenient->merge(seen);
    return std::move(value);
}

bool is_digits(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

unsigned to_number(std::string_view s)
{
    unsigned v = 0;
    for (char c : s)
        v = v * 10 + static_cast<unsigned>(c - '0');
    return v;
}

void two_digits(std::string& out, unsigned v)
{
    out.push_back(static_cast<char>('0' + (v / 10) % 10));
    out.push_back(static_cast<char>('0' + v % 10));
}

std::size_t integer_size(data_type t)
{
    switch (t)
    {
    case data_type::int8:
    case data_type::uint8:
        return 1;
    case data_type::int16:
    case data_type::uint16:
        return 2;
    case data_type::int32:
    case data_type::uint32:
        return 4;
    case data_type::int64:
    case data_type::uint64:
        return 8;
    case data_type::int128:
    case data_type::uint128:
        return 16;
    default:
        return 0;
    }
}

bool is_signed(data_type t)
{
    switch (t)
    {
    case data_type::int8:
    case data_type::int16:
    case data_type::int32:
    case data_type::int64:
    case data_type::int128:
        return true;
    default:
        return false;
    }
}

} // namespace

// --- strings -------------------------------------------------------------------------------------

std::string utf16_to_utf8(std::u16string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i)
    {
        char32_t c = s[i];
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < s.size() && s[i + 1] >= 0xDC00 &&
            s[i + 1] <= 0xDFFF)
        {
            c = 0x10000 + ((c - 0xD800) << 10) + (static_cast<char32_t>(s[i + 1]) - 0xDC00);
            ++i;
        }
        else if (c >= 0xD800 && c <= 0xDFFF)
            c = 0xFFFD;
        append_utf8(out, c);
    }
    return out;
}

result<std::u16string> utf8_to_utf16(std::string_view s)
{
    std::u16string out;
    std::size_t i = 0;
    auto bad = [] { return error_result<std::u16string>(make_error_code(errc::bad_string)); };
    while (i < s.size())
    {
        auto b0 = static_cast<unsigned char>(s[i]);
        char32_t cp = 0;
        std::size_t len = 0;
        if (b0 < 0x80)
        {
            cp = b0;
            len = 1;
        }
        else if ((b0 >> 5) == 0x6)
        {
            cp = b0 & 0x1Fu;
            len = 2;
        }
        else if ((b0 >> 4) == 0xE)
        {
            cp = b0 & 0x0Fu;
            len = 3;
        }
        else if ((b0 >> 3) == 0x1E)
        {
            cp = b0 & 0x07u;
            len = 4;
        }
        else
            return bad();
        if (i + len > s.size())
            return bad();
        for (std::size_t k = 1; k < len; ++k)
        {
            auto b = static_cast<unsigned char>(s[i + k]);
            if ((b >> 6) != 0x2)
                return bad();
            cp = (cp << 6) | (b & 0x3Fu);
        }
        // Reject overlong forms, surrogates and values past U+10FFFF.
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return bad();
        if (cp >= 0x10000)
        {
            cp -= 0x10000;
            out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
            out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
        }
        else
            out.push_back(static_cast<char16_t>(cp));
        i += len;
    }
    return out;
}

std::string read_string(reader& r, leniency_counters* lenient)
{
    std::uint8_t n = r.u8();
    if (!r.ok() || n == 0)
        return {};
    auto raw = r.bytes(std::size_t{n} * 2);
    if (!r.ok())
        return {};
    std::u16string units;
    units.reserve(n);
    bool nul = false;
    for (std::size_t i = 0; i < raw.size(); i += 2)
    {
        auto u = static_cast<char16_t>(load_u16(raw.data() + i));
        if (u == 0)
        {
            nul = true;
            if (i + 2 != raw.size())
                note(lenient, leniency::string_early_nul);
            break;
        }
        units.push_back(u);
    }
    if (!nul)
        note(lenient, leniency::string_without_nul);
    return utf16_to_utf8(units);
}

std::error_code write_string(writer& w, std::string_view utf8)
{
    auto units = utf8_to_utf16(utf8);
    if (!units)
        return units.error();
    // NUL inside the text would end it early on the reading side; refuse it here.
    if (units->find(u'\0') != std::u16string::npos)
        return make_error_code(errc::bad_string);
    if (units->size() > max_string_units)
        return make_error_code(errc::string_too_long);
    if (units->empty())
    {
        w.u8(0);
        return {};
    }
    w.u8(static_cast<std::uint8_t>(units->size() + 1));
    for (char16_t u : *units)
        w.u16(static_cast<std::uint16_t>(u));
    w.u16(0);
    return {};
}

result<std::vector<std::uint32_t>> decode_uint32_array(bytes_view payload, std::size_t limit,
                                                       leniency_counters* lenient)
{
    leniency_counters seen;
    if (payload.empty())
    {
        note(lenient, leniency::array_empty_payload);
        return std::vector<std::uint32_t>{};
    }
    reader r(payload);
    auto v = read_array<std::uint32_t>(r, limit);
    return finish(r, std::move(v), seen, lenient);
}

void encode_uint32_array(std::vector<std::uint32_t> const& items, byte_vector& out)
{
    writer w(out);
    write_array(w, items);
}

// --- DateTime ------------------------------------------------------------------------------------

result<date_time> parse_date_time(std::string_view s)
{
    auto bad = [] { return error_result<date_time>(make_error_code(errc::bad_date_time)); };
    if (s.size() < 15 || s[8] != 'T' || !is_digits(s.substr(0, 8)) || !is_digits(s.substr(9, 6)))
        return bad();
    date_time d;
    d.year = static_cast<std::uint16_t>(to_number(s.substr(0, 4)));
    d.month = static_cast<std::uint8_t>(to_number(s.substr(4, 2)));
    d.day = static_cast<std::uint8_t>(to_number(s.substr(6, 2)));
    d.hour = static_cast<std::uint8_t>(to_number(s.substr(9, 2)));
    d.minute = static_cast<std::uint8_t>(to_number(s.substr(11, 2)));
    d.second = static_cast<std::uint8_t>(to_number(s.substr(13, 2)));
    if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31 || d.hour > 23 || d.minute > 59 ||
        d.second > 60)
        return bad();
    auto rest = s.substr(15);
    if (!rest.empty() && rest[0] == '.')
    {
        if (rest.size() < 2 || !is_digits(rest.substr(1, 1)))
            return bad();
        d.tenths = static_cast<std::uint8_t>(rest[1] - '0');
        rest = rest.substr(2);
    }
    if (rest.empty())
        return d;
    if (rest == "Z")
    {
        d.zone = date_time::zone_kind::utc;
        return d;
    }
    if (rest.size() == 5 && (rest[0] == '+' || rest[0] == '-') && is_digits(rest.substr(1)))
    {
        unsigned hh = to_number(rest.substr(1, 2));
        unsigned mm = to_number(rest.substr(3, 2));
        if (hh > 23 || mm > 59)
            return bad();
        int minutes = static_cast<int>(hh * 60 + mm);
        d.zone = date_time::zone_kind::offset;
        d.utc_offset_minutes = static_cast<std::int16_t>(rest[0] == '-' ? -minutes : minutes);
        return d;
    }
    return bad();
}

std::string format_date_time(date_time const& d)
{
    std::string out;
    out.reserve(22);
    two_digits(out, d.year / 100u);
    two_digits(out, d.year % 100u);
    two_digits(out, d.month);
    two_digits(out, d.day);
    out.push_back('T');
    two_digits(out, d.hour);
    two_digits(out, d.minute);
    two_digits(out, d.second);
    if (d.tenths)
    {
        out.push_back('.');
        out.push_back(static_cast<char>('0' + *d.tenths % 10));
    }
    if (d.zone == date_time::zone_kind::utc)
        out.push_back('Z');
    else if (d.zone == date_time::zone_kind::offset)
    {
        int m = d.utc_offset_minutes;
        out.push_back(m < 0 ? '-' : '+');
        unsigned a = static_cast<unsigned>(m < 0 ? -m : m);
        two_digits(out, a / 60);
        two_digits(out, a % 60);
    }
    return out;
}

// --- DeviceInfo ----------------------------------------------------------------------------------

bool device_info::supports(op_code op) const
{
    return std::find(operations_supported.begin(), operations_supported.end(), op) !=
           operations_supported.end();
}

result<device_info> decode_device_info(bytes_view payload, leniency_counters* lenient)
{
    leniency_counters seen;
    device_info d;
    if (payload.empty())
    {
        // Fuji X-T4 over Wi-Fi (quirk::empty_device_info): nothing at all.
        note(lenient, leniency::device_info_empty);
        return d;
    }
    reader r(payload);
    d.standard_version = r.u16();
    d.vendor_extension_id = r.u32();
    d.vendor_extension_version = r.u16();
    d.vendor_extension_desc = read_string(r, &seen);
    d.functional_mode = r.u16();
    d.operations_supported = read_array<op_code>(r);
    d.events_supported = read_array<event_code>(r);
    d.device_properties_supported = read_array<device_prop>(r);
    d.capture_formats = read_array<object_format>(r);
    d.image_formats = read_array<object_format>(r);
    // The four strings at the end are optional (libgphoto2: "be more relaxed").
    for (auto* s : {&d.manufacturer, &d.model, &d.device_version, &d.serial_number})
    {
        if (r.ok() && r.empty())
        {
            seen.add(leniency::device_info_truncated);
            break;
        }
        *s = read_string(r, &seen);
    }
    return finish(r, std::move(d), seen, lenient);
}

result<void> encode(device_info const& d, byte_vector& out)
{
    byte_vector tmp;
    writer w(tmp);
    w.u16(d.standard_version);
    w.u32(d.vendor_extension_id);
    w.u16(d.vendor_extension_version);
    if (auto ec = write_string(w, d.vendor_extension_desc))
        return ec;
    w.u16(d.functional_mode);
    write_array(w, d.operations_supported);
    write_array(w, d.events_supported);
    write_array(w, d.device_properties_supported);
    write_array(w, d.capture_formats);
    write_array(w, d.image_formats);
    for (auto const* s : {&d.manufacturer, &d.model, &d.device_version, &d.serial_number})
        if (auto ec = write_string(w, *s))
            return ec;
    out.insert(out.end(), tmp.begin(), tmp.end());
    return {};
}

// --- StorageInfo ---------------------------------------------------------------------------------

result<storage_info> decode_storage_info(bytes_view payload, leniency_counters* lenient)
{
    leniency_counters seen;
    reader r(payload);
    storage_info s;
    s.storage_type = r.u16();
    s.filesystem_type = r.u16();
    s.access_capability = r.u16();
    s.max_capacity = r.u64();
    s.free_space_in_bytes = r.u64();
    s.free_space_in_images = r.u32();
    for (auto* str : {&s.storage_description, &s.volume_label})
    {
        if (r.ok() && r.empty())
        {
            seen.add(leniency::storage_info_truncated);
            break;
        }
        *str = read_string(r, &seen);
    }
    return finish(r, std::move(s), seen, lenient);
}

result<void> encode(storage_info const& s, byte_vector& out)
{
    byte_vector tmp;
    writer w(tmp);
    w.u16(s.storage_type);
    w.u16(s.filesystem_type);
    w.u16(s.access_capability);
    w.u64(s.max_capacity);
    w.u64(s.free_space_in_bytes);
    w.u32(s.free_space_in_images);
    if (auto ec = write_string(w, s.storage_description))
        return ec;
    if (auto ec = write_string(w, s.volume_label))
        return ec;
    out.insert(out.end(), tmp.begin(), tmp.end());
    return {};
}

// --- ObjectInfo ----------------------------------------------------------------------------------

std::optional<date_time> object_info::capture_time() const
{
    auto d = parse_date_time(capture_date);
    if (!d)
        return std::nullopt;
    return *d;
}

std::optional<date_time> object_info::modification_time() const
{
    auto d = parse_date_time(modification_date);
    if (!d)
        return std::nullopt;
    return *d;
}

result<object_info> decode_object_info(bytes_view payload, leniency_counters* lenient)
{
    leniency_counters seen;
    reader r(payload);
    object_info o;
    o.storage_id = r.u32();                               // 0
    o.format = static_cast<object_format>(r.u16());       // 4
    o.protection_status = r.u16();                        // 6
    o.compressed_size = r.u32();                          // 8
    o.thumb_format = static_cast<object_format>(r.u16()); // 12
    o.thumb_compressed_size = r.u32();                    // 14
    o.thumb_pix_width = r.u32();                          // 18
    o.thumb_pix_height = r.u32();                         // 22
    o.image_pix_width = r.u32();                          // 26
    o.image_pix_height = r.u32();                         // 30
    o.image_bit_depth = r.u32();                          // 34
    o.parent_object = r.u32();                            // 38
    o.association_type = r.u16();                         // 42
    o.association_desc = r.u32();                         // 44
    o.sequence_number = r.u32();                          // 48
    o.filename = read_string(r, &seen);                   // 52: required (the identity)
    // CaptureDate, ModificationDate, Keywords: each missing one (at the end) takes "".
    std::pair<std::string*, leniency> const optional_tail[] = {
        {&o.capture_date, leniency::object_info_no_capture_date},
        {&o.modification_date, leniency::object_info_no_modification_date},
        {&o.keywords, leniency::object_info_no_keywords},
    };
    bool ended = false;
    for (auto const& [field, missing] : optional_tail)
    {
        ended = ended || (r.ok() && r.empty());
        if (ended)
            seen.add(missing);
        else
            *field = read_string(r, &seen);
    }
    return finish(r, std::move(o), seen, lenient);
}

result<void> encode(object_info const& o, byte_vector& out)
{
    byte_vector tmp;
    writer w(tmp);
    w.u32(o.storage_id);
    w.u16(to_underlying(o.format));
    w.u16(o.protection_status);
    w.u32(o.compressed_size);
    w.u16(to_underlying(o.thumb_format));
    w.u32(o.thumb_compressed_size);
    w.u32(o.thumb_pix_width);
    w.u32(o.thumb_pix_height);
    w.u32(o.image_pix_width);
    w.u32(o.image_pix_height);
    w.u32(o.image_bit_depth);
    w.u32(o.parent_object);
    w.u16(o.association_type);
    w.u32(o.association_desc);
    w.u32(o.sequence_number);
    for (auto const* s : {&o.filename, &o.capture_date, &o.modification_date, &o.keywords})
        if (auto ec = write_string(w, *s))
            return ec;
    out.insert(out.end(), tmp.begin(), tmp.end());
    return {};
}

// --- DevicePropDesc ------------------------------------------------------------------------------

bytes_view read_value(reader& r, data_type t)
{
    auto raw = to_underlying(t);
    if (t == data_type::string)
    {
        // Borrow a copy of the reader to measure, then take exactly those bytes.
        reader probe = r;
        std::uint8_t n = probe.u8();
        return r.bytes(1 + std::size_t{n} * 2);
    }
    if ((raw & 0x4000) != 0)
    {
        auto elem = integer_size(static_cast<data_type>(raw & 0x3FFF));
        if (elem == 0 || (raw & ~0x400Fu) != 0)
        {
            r.fail(make_error_code(errc::bad_data_type));
            return {};
        }
        reader probe = r;
        std::uint32_t count = probe.u32();
        if (!probe.ok())
            return r.bytes(4); // sets truncated
        if (count > probe.remaining() / elem)
        {
            r.fail(make_error_code(errc::array_too_long));
            return {};
        }
        return r.bytes(4 + std::size_t{count} * elem);
    }
    auto size = integer_size(t);
    if (size == 0)
    {
        r.fail(make_error_code(errc::bad_data_type));
        return {};
    }
    return r.bytes(size);
}

std::optional<std::int64_t> value_as_int(data_type t, bytes_view raw)
{
    auto size = integer_size(t);
    if (size == 0 || size > 8 || raw.size() != size)
        return std::nullopt;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < size; ++i)
        v |= static_cast<std::uint64_t>(std::to_integer<unsigned>(raw[i])) << (8 * i);
    if (is_signed(t) && size < 8 && (v >> (8 * size - 1)) != 0)
        v |= ~std::uint64_t{0} << (8 * size);
    return static_cast<std::int64_t>(v);
}

std::optional<std::string> value_as_string(data_type t, bytes_view raw)
{
    if (t != data_type::string)
        return std::nullopt;
    reader r(raw);
    auto s = read_string(r);
    if (!r.ok())
        return std::nullopt;
    return s;
}

device_prop_desc read_device_prop_desc(reader& r, leniency_counters* lenient)
{
    device_prop_desc d;
    d.code = static_cast<device_prop>(r.u16());
    d.type = static_cast<data_type>(r.u16());
    d.get_set = r.u8();
    auto copy = [](bytes_view v) { return byte_vector(v.begin(), v.end()); };
    d.factory_default = copy(read_value(r, d.type));
    d.current_value = copy(read_value(r, d.type));
    if (r.ok() && r.empty())
    {
        // No FormFlag at all: form none (libgphoto2 does the same).
        note(lenient, leniency::prop_desc_no_form);
        return d;
    }
    auto form = r.u8();
    if (!r.ok())
        return d;
    switch (form)
    {
    case 0:
        d.form = device_prop_desc::form_kind::none;
        break;
    case 1:
        d.form = device_prop_desc::form_kind::range;
        d.range_min = copy(read_value(r, d.type));
        d.range_max = copy(read_value(r, d.type));
        d.range_step = copy(read_value(r, d.type));
        break;
    case 2:
    {
        d.form = device_prop_desc::form_kind::enumeration;
        std::uint16_t n = r.u16();
        for (std::uint16_t i = 0; i < n && r.ok(); ++i)
            d.enumeration.push_back(copy(read_value(r, d.type)));
        break;
    }
    default:
        r.fail(make_error_code(errc::bad_form));
        break;
    }
    return d;
}

result<device_prop_desc> decode_device_prop_desc(bytes_view payload, leniency_counters* lenient)
{
    leniency_counters seen;
    reader r(payload);
    auto d = read_device_prop_desc(r, &seen);
    return finish(r, std::move(d), seen, lenient);
}

void encode(device_prop_desc const& d, byte_vector& out)
{
    writer w(out);
    w.u16(to_underlying(d.code));
    w.u16(to_underlying(d.type));
    w.u8(d.get_set);
    w.bytes(d.factory_default);
    w.bytes(d.current_value);
    w.u8(static_cast<std::uint8_t>(d.form));
    if (d.form == device_prop_desc::form_kind::range)
    {
        w.bytes(d.range_min);
        w.bytes(d.range_max);
        w.bytes(d.range_step);
    }
    else if (d.form == device_prop_desc::form_kind::enumeration)
    {
        w.u16(static_cast<std::uint16_t>(d.enumeration.size()));
        for (auto const& v : d.enumeration)
            w.bytes(v);
    }
}

} // namespace camrelay::proto::ptp
