// The decisions of the PTP/IP and Fuji Wi-Fi sources that need no socket: parsing the address
// option, the per-installation GUID file, turning an ObjectInfo into an object_ref (the natural key
// the ledger matches on), the download order, and the GetPartialObject chunk plan. Pure functions
// (except the GUID file) so unit tests can check them without a camera.
#pragma once

#include "core/error.hpp"
#include "ingest/source.hpp"
#include "proto/ptp/dataset.hpp"
// framer.hpp before packet.hpp: its enumerator `packet` would otherwise trip -Wshadow.
#include "proto/ptpip/framer.hpp"
#include "proto/ptpip/packet.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay::ingest::ptpip
{

/// host[:port]; IPv6 literals in brackets ("[fe80::1]:15740").
struct endpoint
{
    std::string host;
    std::uint16_t port = 0;
};

/// Parses "host", "host:port" or "[v6]:port"; `default_port` when none is given. nullopt when
/// the text is not an address (empty host, bad port).
std::optional<endpoint> parse_address(std::string_view text, std::uint16_t default_port);

/// Reads the 16-byte GUID from `path`, or creates the file (0600, 16 random bytes) when it does
/// not exist. An unreadable or wrongly sized file is an error (never silently replaced: cameras
/// paired with the old GUID would refuse us).
result<proto::ptpip::guid> load_or_create_guid(std::string const& path);

/// One object the camera listed, with what the download needs.
struct candidate
{
    std::uint32_t handle = 0;
    object_ref ref; ///< ref.size: the 64-bit size; 0 when the camera gave none (size_known false)
    /// ObjectInfo said 0xFFFFFFFF (over 4 GiB) and no ObjectSize property told the real size: the
    /// object is read whole with GetObject to the end of its data phase (no resume).
    bool size_known = true;
    proto::ptp::object_format format = proto::ptp::object_format::undefined;
};

/// The folder part of the natural key: "/store_XXXXXXXX" (storage id in hex) plus the names of
/// the parent associations, outermost first ("/store_00010001/DCIM/100CANON").
std::string folder_for(std::uint32_t storage_id, std::vector<std::string> const& parents);

/// Seconds since the epoch of a PTP DateTime string; camera-local times are taken as UTC (the
/// value only has to be stable). 0 when empty or malformed.
std::int64_t epoch_of(std::string const& ptp_date_time);

/// The object_ref (natural key: folder, name, size, capture time) of an ObjectInfo.
object_ref ref_of(proto::ptp::object_info const& info, std::string folder);

/// Whether an ObjectInfo is something to download (not a folder, has a name).
bool is_downloadable(proto::ptp::object_info const& info);

bool is_jpeg(candidate const& c);

/// Sorts new objects for download: by capture time (oldest-first or newest-first, ties by
/// handle), with every JPEG before everything else when `jpeg_first`.
void order_candidates(std::vector<candidate>& list, bool newest_first, bool jpeg_first);

/// One GetPartialObject (or GetPartialObject64) request.
struct chunk_request
{
    std::uint64_t offset = 0; ///< fits 32 bits unless planned with offset64
    std::uint32_t length = 0;
};

/// The next GetPartialObject to send for an object of `size` bytes with `done` bytes already
/// spooled; nullopt when complete. Lengths never exceed `chunk_size` nor the end of the object.
/// Without `offset64` (GetPartialObject's offset is 32 bits) also nullopt once `done` no longer
/// fits: plan_transfer never sends such an object by 32-bit chunks.
std::optional<chunk_request> next_chunk(std::uint64_t done, std::uint64_t size,
                                        std::uint32_t chunk_size, bool offset64 = false);

/// How an object is read.
enum class transfer_kind
{
    partial,   ///< GetPartialObject chunks (resumable)
    partial64, ///< GetPartialObject64 chunks (resumable past 4 GiB)
    whole,     ///< one GetObject from byte 0 (not resumable)
};

/// The way to read an object of `size` bytes (`size_known` false: ObjectInfo said 0xFFFFFFFF
/// and the camera told no 64-bit size) from a camera that offers GetPartialObject (`partial`)
/// and/or GetPartialObject64 (`partial64`). An unknown size is read whole to the end; an object
/// past 4 GiB without GetPartialObject64 is read whole too (a 32-bit offset cannot reach its
/// tail, so it cannot resume).
transfer_kind plan_transfer(std::uint64_t size, bool size_known, bool partial, bool partial64);

/// The camera identity used in the ledger: "ptpip:MANUFACTURER:MODEL:SERIAL" (serial replaced by
/// the camera's GUID in hex when the camera reports none).
std::string identity_of(std::string const& manufacturer, std::string const& model,
                        std::string const& serial, proto::ptpip::guid const& responder);

/// The message shown when a camera refuses the connection (Init Fail).
std::string refusal_message(std::string const& camera, std::uint32_t reason, bool fuji);

} // namespace camrelay::ingest::ptpip
