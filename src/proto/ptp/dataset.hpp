// PTP datasets (ISO 15740 §5, shared/protocols/ptpip-fuji.md §1.2): strings, arrays, DateTime
// strings, DeviceInfo, StorageInfo, ObjectInfo, DevicePropDesc. Decode and encode.
//
// Decoders take the data-phase payload (no PTP/IP or container header), never throw on input and
// return `camrelay::result<T>` with a `camrelay.ptp` error. They are tolerant the way libgphoto2's
// ptp-pack.c is (proto/ptp/leniency.hpp): a missing trailing field takes its default, bytes after
// a complete dataset are ignored, and each such deviation is added to the optional
// `leniency_counters*` (last parameter; nullptr = do not count). A string or array that claims
// more than the data holds, or a fixed part cut short, stays an error. Encoders append to a vector
// and fail only for values the wire format cannot carry (strings over 254 UCS-2 units, invalid
// UTF-8). Strings are UTF-8 in memory, UCS-2LE (UTF-16LE; surrogate pairs are kept) on the wire.
// Pure functions; any thread.
#pragma once

#include "core/error.hpp"
#include "proto/ptp/byte_io.hpp"
#include "proto/ptp/codes.hpp"
#include "proto/ptp/leniency.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace camrelay::proto::ptp
{

/// Longest string a PTP string can carry: 255 UCS-2 units including the terminating NUL.
inline constexpr std::size_t max_string_units = 254;
/// Default limit on array element counts (a GetObjectHandles of a full card stays far below).
inline constexpr std::size_t default_array_limit = 1u << 20;

// --- strings -------------------------------------------------------------------------------------

/// UTF-16 code units -> UTF-8 (a lone surrogate becomes U+FFFD). Never fails.
std::string utf16_to_utf8(std::u16string_view s);
/// UTF-8 -> UTF-16 code units; errc::bad_string for invalid UTF-8.
result<std::u16string> utf8_to_utf16(std::string_view s);

/// Reads a PTP string: u8 NumChars (incl. NUL) then NumChars UCS-2LE units; NumChars 0 is "".
/// The text ends at the first NUL; a missing NUL (string_without_nul) and a NUL before the last
/// unit (string_early_nul) are tolerated and counted. A NumChars that runs past the end sets the
/// reader's error (errc::truncated).
std::string read_string(reader& r, leniency_counters* lenient = nullptr);
/// Writes a PTP string ("" -> single 0x00 byte). errc::string_too_long / bad_string; on error
/// nothing is written.
std::error_code write_string(writer& w, std::string_view utf8);

// --- arrays --------------------------------------------------------------------------------------

/// Reads a PTP array: u32 count then count elements of T (an integer or a code enum). A count that
/// exceeds the bytes left or `limit` sets errc::array_too_long before anything is allocated.
template <class T> std::vector<T> read_array(reader& r, std::size_t limit = default_array_limit)
{
    using raw_t = typename std::conditional_t<std::is_enum_v<T>, std::underlying_type<T>,
                                              std::type_identity<T>>::type;
    static_assert(sizeof(raw_t) == 2 || sizeof(raw_t) == 4, "PTP arrays here are of u16 or u32");
    std::uint32_t count = r.u32();
    if (!r.ok())
        return {};
    if (count > limit || count > r.remaining() / sizeof(raw_t))
    {
        r.fail(make_error_code(errc::array_too_long));
        return {};
    }
    std::vector<T> out;
    out.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i)
    {
        if constexpr (sizeof(raw_t) == 2)
            out.push_back(static_cast<T>(r.u16()));
        else
            out.push_back(static_cast<T>(r.u32()));
    }
    return out;
}

/// Writes a PTP array of T (u16/u32 integers or code enums).
template <class T> void write_array(writer& w, std::vector<T> const& items)
{
    using raw_t = typename std::conditional_t<std::is_enum_v<T>, std::underlying_type<T>,
                                              std::type_identity<T>>::type;
    w.u32(static_cast<std::uint32_t>(items.size()));
    for (auto const& v : items)
    {
        if constexpr (sizeof(raw_t) == 2)
            w.u16(static_cast<std::uint16_t>(v));
        else
            w.u32(static_cast<std::uint32_t>(v));
    }
}

/// Decodes a whole payload that is one AUINT32 (GetStorageIDs, GetObjectHandles). An empty
/// payload is [] (array_empty_payload); bytes after the array are ignored (trailing_bytes).
result<std::vector<std::uint32_t>> decode_uint32_array(bytes_view payload,
                                                       std::size_t limit = default_array_limit,
                                                       leniency_counters* lenient = nullptr);
void encode_uint32_array(std::vector<std::uint32_t> const& items, byte_vector& out);

// --- DateTime ------------------------------------------------------------------------------------

/// A PTP DateTime string "YYYYMMDDThhmmss[.s][Z|+hhmm|-hhmm]" split into fields.
struct date_time
{
    enum class zone_kind : std::uint8_t
    {
        local,  ///< no suffix: camera local time, zone unknown
        utc,    ///< "Z"
        offset, ///< "+hhmm" / "-hhmm"
    };

    std::uint16_t year = 0;
    std::uint8_t month = 0;             ///< 1..12
    std::uint8_t day = 0;               ///< 1..31
    std::uint8_t hour = 0;              ///< 0..23
    std::uint8_t minute = 0;            ///< 0..59
    std::uint8_t second = 0;            ///< 0..60 (leap second)
    std::optional<std::uint8_t> tenths; ///< ".s"
    zone_kind zone = zone_kind::local;
    std::int16_t utc_offset_minutes = 0; ///< only for zone_kind::offset

    friend bool operator==(date_time const&, date_time const&) = default;
};

/// Parses a DateTime string; errc::bad_date_time for anything else (including "").
result<date_time> parse_date_time(std::string_view s);
/// Formats back; parse_date_time(format_date_time(d)) == d for every valid d.
std::string format_date_time(date_time const& d);

// --- DeviceInfo ----------------------------------------------------------------------------------

/// GetDeviceInfo data (ISO 15740 §5.5.1).
struct device_info
{
    std::uint16_t standard_version = 100;
    std::uint32_t vendor_extension_id = 0;
    std::uint16_t vendor_extension_version = 0;
    std::string vendor_extension_desc;
    std::uint16_t functional_mode = 0;
    std::vector<op_code> operations_supported;
    std::vector<event_code> events_supported;
    std::vector<device_prop> device_properties_supported;
    std::vector<object_format> capture_formats;
    std::vector<object_format> image_formats;
    std::string manufacturer;
    std::string model;
    std::string device_version;
    std::string serial_number;

    bool supports(op_code op) const;

    friend bool operator==(device_info const&, device_info const&) = default;
};

/// Empty payload: a default device_info (device_info_empty). The fixed head and the five arrays
/// are required; Manufacturer, Model, DeviceVersion, SerialNumber may be missing at the end
/// (device_info_truncated).
result<device_info> decode_device_info(bytes_view payload, leniency_counters* lenient = nullptr);
result<void> encode(device_info const& d, byte_vector& out);

// --- StorageInfo ---------------------------------------------------------------------------------

/// GetStorageInfo data (ISO 15740 §5.5.3).
struct storage_info
{
    std::uint16_t storage_type = 0; ///< 1 fixed ROM, 2 removable ROM, 3 fixed RAM, 4 removable RAM
    std::uint16_t filesystem_type = 0;   ///< 1 flat, 2 hierarchical, 3 DCF
    std::uint16_t access_capability = 0; ///< 0 rw, 1 ro without delete, 2 ro with delete
    std::uint64_t max_capacity = 0;
    std::uint64_t free_space_in_bytes = 0;
    std::uint32_t free_space_in_images = 0;
    std::string storage_description;
    std::string volume_label;

    friend bool operator==(storage_info const&, storage_info const&) = default;
};

/// The 26-byte fixed part is required; StorageDescription / VolumeLabel may be missing at the end
/// (storage_info_truncated).
result<storage_info> decode_storage_info(bytes_view payload, leniency_counters* lenient = nullptr);
result<void> encode(storage_info const& s, byte_vector& out);

// --- ObjectInfo ----------------------------------------------------------------------------------

/// GetObjectInfo data (ISO 15740 §5.5.2): 52 fixed bytes then four strings.
struct object_info
{
    std::uint32_t storage_id = 0;
    object_format format = object_format::undefined;
    std::uint16_t protection_status = 0;
    std::uint32_t compressed_size =
        0; ///< ObjectCompressedSize (32-bit; Fuji: 102400 placeholder until 0xD227=1)
    object_format thumb_format = object_format::undefined;
    std::uint32_t thumb_compressed_size = 0;
    std::uint32_t thumb_pix_width = 0;
    std::uint32_t thumb_pix_height = 0;
    std::uint32_t image_pix_width = 0;
    std::uint32_t image_pix_height = 0;
    std::uint32_t image_bit_depth = 0;
    std::uint32_t parent_object = 0;
    std::uint16_t association_type = 0;
    std::uint32_t association_desc = 0;
    std::uint32_t sequence_number = 0;
    std::string filename;
    std::string capture_date;      ///< raw DateTime string as sent (may be "")
    std::string modification_date; ///< raw DateTime string as sent (may be "")
    std::string keywords;

    /// The parsed dates; empty when the string is empty or malformed.
    std::optional<date_time> capture_time() const;
    std::optional<date_time> modification_time() const;

    friend bool operator==(object_info const&, object_info const&) = default;
};

/// Size of ObjectInfo's fixed part (offsets per shared/protocols/ptpip-fuji.md §1.2).
inline constexpr std::size_t object_info_fixed_size = 52;

/// The 52-byte fixed part and Filename are required (errc::truncated otherwise: without them the
/// object has no identity); CaptureDate, ModificationDate, Keywords may be missing at the end
/// (object_info_no_capture_date / _no_modification_date / _no_keywords).
result<object_info> decode_object_info(bytes_view payload, leniency_counters* lenient = nullptr);
result<void> encode(object_info const& o, byte_vector& out);

// --- DevicePropDesc ------------------------------------------------------------------------------

/// Reads one value of type `t` and returns its raw wire bytes (fixed ints, arrays = u32 count +
/// elements, strings = u8 count + UCS-2). errc::bad_data_type for unknown types; an array count
/// or string NumChars past the end is errc::array_too_long / errc::truncated.
bytes_view read_value(reader& r, data_type t);
/// The value as a signed/unsigned 64-bit integer (integer types up to 64 bits only).
std::optional<std::int64_t> value_as_int(data_type t, bytes_view raw);
/// The value as text (string type only).
std::optional<std::string> value_as_string(data_type t, bytes_view raw);

/// GetDevicePropDesc data (ISO 15740 §5.5.4); values are kept as raw wire bytes so any type
/// round-trips exactly; use value_as_int / value_as_string to interpret them.
struct device_prop_desc
{
    enum class form_kind : std::uint8_t
    {
        none = 0,
        range = 1,
        enumeration = 2,
    };

    device_prop code = device_prop::undefined;
    data_type type = data_type::undefined;
    std::uint8_t get_set = 0; ///< 0 read-only, 1 read-write
    byte_vector factory_default;
    byte_vector current_value;
    form_kind form = form_kind::none;
    byte_vector range_min, range_max, range_step; ///< form == range
    std::vector<byte_vector> enumeration;         ///< form == enumeration

    friend bool operator==(device_prop_desc const&, device_prop_desc const&) = default;
};

/// A DevicePropDesc that ends after CurrentValue has form none (prop_desc_no_form).
result<device_prop_desc> decode_device_prop_desc(bytes_view payload,
                                                 leniency_counters* lenient = nullptr);
/// Decodes from a reader (for lists); sets the reader's error on failure. A missing FormFlag is
/// tolerated only when the reader is at its end.
device_prop_desc read_device_prop_desc(reader& r, leniency_counters* lenient = nullptr);
void encode(device_prop_desc const& d, byte_vector& out);

} // namespace camrelay::proto::ptp
