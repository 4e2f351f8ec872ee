// Fujifilm X Wi-Fi datasets that are not ISO 15740 datasets (shared/protocols/ptpip-fuji.md §1.3,
// §2.A, §3.3): the 0xD212 "EventsList" poll result and the 0x902B DevicePropDesc list.
// Pure functions; never throw on input.
#pragma once

#include "core/error.hpp"
#include "proto/ptp/byte_io.hpp"
#include "proto/ptp/codes.hpp"
#include "proto/ptp/dataset.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace camrelay::proto::ptp::fuji
{

/// One entry of the 0xD212 poll: a property that changed since the last poll and its new value.
struct prop_change
{
    device_prop code = device_prop::undefined;
    std::uint32_t value = 0;

    friend bool operator==(prop_change const&, prop_change const&) = default;
};

/// GetDevicePropValue(0xD212) data: u16 n then n × (u16 code, u32 value).
/// An entry count past the data is errc::array_too_long; bytes after the entries are ignored
/// (trailing_bytes).
result<std::vector<prop_change>> decode_event_list(bytes_view payload,
                                                   leniency_counters* lenient = nullptr);
void encode_event_list(std::vector<prop_change> const& list, byte_vector& out);

/// The value of `code` in a change list (the last one if listed twice).
std::optional<std::uint32_t> find(std::vector<prop_change> const& list, device_prop code);

/// Fuji 0x902B data: u32 count then count × (u32 entry length incl. itself, DevicePropDesc).
/// An entry length past the data is errc::truncated, one under 4 errc::bad_entry_length; bytes
/// after a DevicePropDesc inside its entry, or after the last entry, are trailing_bytes.
result<std::vector<device_prop_desc>> decode_prop_desc_list(bytes_view payload,
                                                            leniency_counters* lenient = nullptr);
void encode_prop_desc_list(std::vector<device_prop_desc> const& list, byte_vector& out);

/// The u32 a version property (0xDF21..0xDF31) holds; nullopt for the empty (length-12) data
/// container cameras send for properties they lack (fudge treats that as -1).
/// Bytes after the u32 are ignored (trailing_bytes).
std::optional<std::uint32_t> decode_u32_value(bytes_view payload,
                                              leniency_counters* lenient = nullptr);

} // namespace camrelay::proto::ptp::fuji
