// Deviations from ISO 15740 / PTP/IP that the PTP dataset decoders accept, each counted by name
// (the idea of proto/http/request_parser.hpp's leniencies, for PTP).
//
// The rule, learnt from libgphoto2's ptp2 camlib (ptp-pack.c checks the remaining length before
// each field): a TRAILING field that is missing takes its default and the deviation is counted;
// bytes after a complete dataset are ignored and counted. What stays an error: a fixed part cut
// in the fields that identify the object or device, a string whose NumChars runs past the end,
// an array count larger than the data, an unknown data type or form flag. Each enumerator has a
// paragraph: where seen, the symptom, what camrelay does (and what libgphoto2 does, if it
// differs). docs/wifi-cameras.md "Tolerated deviations" has the same list as a table.
//
// Decoders take an optional `leniency_counters*` (nullptr = do not count) and add to it; one
// counter set per camera is kept by the ingest layer and logged once at debug. No I/O; the
// counters are plain data (not thread-safe, copy or merge them across threads).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace camrelay::proto::ptp
{

enum class leniency
{
    /// ObjectInfo ends right after Filename (no CaptureDate, ModificationDate, Keywords). Not seen
    /// on a camera yet; libgphoto2 accepts it (every string of ObjectInfo is optional there).
    /// camrelay: capture_date = "" (no time), counted once per ObjectInfo.
    object_info_no_capture_date,
    /// ObjectInfo ends after CaptureDate (no ModificationDate, hence no Keywords either). Seen:
    /// the independent Fuji X (ten models, browse mode) and Canon EOS (two bodies, standard
    /// PTP/IP) emulator of issue 16 ends every ObjectInfo there; camrelay used to reject each
    /// object as "PTP dataset truncated" while libgphoto2 (whose strings are all optional and
    /// which never reads Keywords) listed them all. camrelay: modification_date = "".
    object_info_no_modification_date,
    /// ObjectInfo ends before Keywords (counted with the two above when they are missing too,
    /// alone when only Keywords is missing). libgphoto2 never reads Keywords. camrelay: "".
    object_info_no_keywords,
    /// GetDeviceInfo answers with an EMPTY data phase. Seen: Fujifilm X-T4 over Wi-Fi (libgphoto2
    /// 2.5.30 fujiptpip.c, quirk::empty_device_info; ptpip-fuji.md §2.B step 8). libgphoto2's
    /// unpacker refuses it and the Fuji driver synthesises a DeviceInfo. camrelay: a default
    /// device_info (no operations, empty strings); the client falls back to the Init Ack name.
    device_info_empty,
    /// DeviceInfo ends after ImageFormats, before one of Manufacturer, Model, DeviceVersion,
    /// SerialNumber. libgphoto2 treats these four strings as optional ("be more relaxed"). Not
    /// seen in our traces yet. camrelay: the missing strings are "", counted once per DeviceInfo.
    /// A DeviceInfo cut before or inside the arrays stays an error (libgphoto2 also fails it).
    device_info_truncated,
    /// StorageInfo ends after the 26-byte fixed part or after StorageDescription (no VolumeLabel).
    /// Older libgphoto2 accepted both; 2.5.3x refuses a missing string. camrelay: "" for the
    /// missing strings, counted once per StorageInfo; a fixed part under 26 bytes stays an error.
    storage_info_truncated,
    /// DevicePropDesc ends right after CurrentValue (no FormFlag). libgphoto2 takes that as form
    /// "none"; so does camrelay (encode writes the flag, so a round trip is stable).
    prop_desc_no_form,
    /// Bytes after a complete dataset, a complete Fuji list entry or a u32 value (vendors append
    /// fields; some firmwares pad to 4 or 512 bytes). Ignored, counted once per dataset.
    trailing_bytes,
    /// A PTP string whose NumChars units hold no NUL (the count does not include a terminator).
    /// libgphoto2 adds a terminator itself; camrelay takes all the units as text.
    string_without_nul,
    /// A PTP string with a NUL before its last unit (text then padding, or garbage after the
    /// NUL). libgphoto2's iconv stops at the NUL; camrelay keeps the text before the first NUL.
    string_early_nul,
    /// An AUINT32 answer (GetStorageIDs, GetObjectHandles) with an empty data phase instead of a
    /// zero count. libgphoto2 reads that as no entries (ptp_unpack_OH/SIDs with len 0); Fuji
    /// bodies return no storage over Wi-Fi (quirk::object_handles_from_count). camrelay: [].
    array_empty_payload,
    /// An Event packet / Fuji event container whose parameter bytes are not a multiple of 4.
    /// libgphoto2's PTP/IP event reader counts whole parameters (integer division) and ignores
    /// the rest; camrelay does the same instead of failing the event channel.
    event_odd_length,
    /// An Event with more parameters than PTP/IP (3) or Fuji (4..5) allows. libgphoto2 ignores
    /// them; camrelay keeps the first five and drops the rest instead of failing the channel.
    event_too_many_params,
};
inline constexpr std::size_t leniency_count = 13;

/// Stable lower-case name for logs and docs (`object_info_no_keywords`).
std::string_view to_string(leniency l) noexcept;

/// How often each leniency was used.
struct leniency_counters
{
    std::array<std::uint32_t, leniency_count> counts{};

    void add(leniency l) noexcept
    {
        auto& c = counts[static_cast<std::size_t>(l)];
        if (c != UINT32_MAX)
            ++c;
    }
    std::uint32_t count(leniency l) const noexcept { return counts[static_cast<std::size_t>(l)]; }
    std::uint32_t operator[](leniency l) const noexcept { return count(l); }
    bool any() const noexcept;
    /// Adds every count of `other` (e.g. an event channel's counters into the camera's).
    void merge(leniency_counters const& other) noexcept;
    /// "name=N, name=N" for the used leniencies in enum order; "" when none was used.
    std::string describe() const;

    friend bool operator==(leniency_counters const&, leniency_counters const&) = default;
};

/// Adds `l` to `c` if `c` is not null (what the decoders call).
inline void note(leniency_counters* c, leniency l) noexcept
{
    if (c)
        c->add(l);
}

} // namespace camrelay::proto::ptp
