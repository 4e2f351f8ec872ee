// The download logic shared by the standard PTP/IP and the Fujifilm clients: which operations to
// run, in what order, what is new (object_handler::already_have before any transfer),
// GetPartialObject in chunk_size pieces streamed straight into the object_handler's chunk_sink
// (never a whole file in memory), resuming from the offset fetch() passes. Written as a plain
// sequence of transactions on a `link` (link.hpp).
//
// Where things are:
//   * camera_client.cpp: identify, list/describe objects, fetch, scan, serve (both flavours);
//   * standard_client.cpp: the CIPA DC-X005 connect (command + event connection) and listing by
//     storage (GetStorageIDs, GetObjectHandles, association walk);
//   * fuji_client.cpp: the Fujifilm browse-mode flow of shared/protocols/ptpip-fuji.md §2.A
//     (connect_fuji, the 0xD212 state poll, listing by object count, the 0xD227 size switch).
#pragma once

#include "ingest/ptpip/common.hpp"
#include "ingest/ptpip/link.hpp"
#include "ingest/ptpip/ptpip_plan.hpp"
#include "ingest/ptpip/retry_book.hpp"
#include "ingest/source.hpp"
#include "proto/ptp/dataset.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

namespace camrelay::ingest::ptpip
{

struct outcome
{
    std::error_code code;
    std::string message;
    bool refused = false;
    bool connected = false;

    bool ok() const { return !code; }
};

outcome fail_with(std::error_code ec, std::string message);

/// The user's words for a transport or protocol error (a timeout says so: it is no protocol error).
std::string describe(std::error_code ec);
/// The camera did not answer in time, or sent too slowly (min_rate, object deadline).
bool is_timeout(std::error_code ec);

/// What outlives one connection to a camera: the objects that could not be read (when to try each
/// again; reported once until read), and the objects settled (fetched or known) in this import,
/// by natural key, so that a reconnect within the import does not count them again.
struct camera_memory
{
    retry_book retries;
    std::set<std::string> settled;
    std::set<std::string> asked_new; ///< already_have said no this import (not asked again)
};

class camera_client
{
  public:
    camera_client(source_config const& cfg, pp::guid g, object_handler& out, camera_memory& memory,
                  std::stop_token stop)
        : cfg_(cfg), guid_(g), out_(out), memory_(memory), stop_(stop), link_(stop)
    {
    }

    /// Connects, opens the session, identifies the camera.
    outcome connect();
    /// Lists everything and fetches what is new.
    outcome scan();
    /// Daemon: stays connected, fetching new files (events / polling), until error or stop.
    outcome serve();
    void close()
    {
        report_leniencies();
        link_.close(std::chrono::seconds(2));
    }
    /// Skips camera_connected() when the camera turns out to be `identity` (known as `id`).
    void reuse_camera(std::string identity, std::int64_t id)
    {
        reuse_.emplace(std::move(identity), id);
    }

    std::uint64_t progress() const { return progress_; }
    bool was_connected() const { return connected_; }
    int failed_files() const { return failed_files_; }
    /// Objects reported unreadable on this connection (ObjectInfo, fetch or store failed).
    int unreadable() const { return unreadable_; }
    /// Fuji camera-selected transfer (CameraState 1): the camera said goodbye after sending the
    /// photos its owner picked; the transfer is finished, not failed.
    bool selected_transfer_finished() const { return selected_done_; }
    std::int64_t camera_id() const { return camera_id_; }
    camera_info const& info() const { return info_; }
    /// What this camera sent that the readers tolerated (datasets and event channel), by name.
    ptp::leniency_counters leniencies() const;

  private:
    outcome connect_standard();
    outcome connect_fuji();
    outcome identify(std::string const& fallback_model);
    outcome list_standard(std::vector<candidate>& out);
    outcome list_fuji(std::vector<candidate>& out);
    outcome fuji_poll();
    outcome fuji_set_u16(ptp::device_prop p, std::uint16_t v);
    /// scan() of a Fujifilm camera (browse mode): lists by object count, fetches what is new.
    outcome scan_fuji();
    /// scan() in Fuji camera-selected transfer (CameraState 1): the camera puts the next picked
    /// photo at handle 1 after each download and closes the connection after the last one.
    outcome scan_fuji_selected();
    /// Reports `p` (once until it reads) and books its retry.
    void unreadable(object_problem p);
    /// `key` read after all: object_recovered when it had been reported.
    void readable(object_problem const& p);
    /// GetObjectInfo of `handle`; nullopt + error when the transaction failed.
    result<ptp::object_info> object_info(std::uint32_t handle);
    std::string folder_of(ptp::object_info const& info);
    /// Adds `handle` to `out` when it is downloadable and new. `listed_under`: the storage whose
    /// GetObjectHandles listed it; an ObjectInfo naming another storage (some bodies report a
    /// different id there than in GetStorageIDs) is filed under the listed one (counted, logged
    /// once), so the folder identity is stable.
    outcome consider(std::uint32_t handle, std::vector<candidate>& out,
                     std::optional<std::uint32_t> listed_under = std::nullopt);
    /// ObjectInfo said 0xFFFFFFFF (the object is 4 GiB or more): the 64-bit MTP ObjectSize
    /// property when the camera offers GetObjectPropValue and answers with one UINT64 (counted
    /// object_size_from_property); otherwise the size is unknown and `c` is read to the end
    /// (counted object_size_from_data when it is).
    void take_64bit_size(candidate& c);
    outcome fetch_all(std::vector<candidate>& list);
    outcome fetch_one(candidate const& c);
    /// Logs the tolerated deviations at debug level when a new kind was seen since the last
    /// report: once per camera and kind, not once per object.
    void report_leniencies();

    source_config const& cfg_;
    pp::guid guid_;
    object_handler& out_;
    camera_memory& memory_;
    std::stop_token stop_;
    link link_;
    ptp::leniency_counters lenient_;   ///< deviations the dataset readers tolerated
    std::string reported_leniencies_;  ///< the kinds last logged (names only)
    camera_info info_;
    std::int64_t camera_id_ = 0;
    bool partial_ = true;                  ///< GetPartialObject supported
    bool partial64_ = false;               ///< GetPartialObject64 (0x95C1) listed in DeviceInfo
    bool prop_value_ = false;              ///< GetObjectPropValue (0x9803) listed in DeviceInfo
    std::uint64_t size_from_property_ = 0; ///< object_size_from_property uses
    std::uint64_t size_from_data_ = 0;     ///< object_size_from_data uses
    std::uint64_t size_property_odd_ = 0;  ///< ObjectSize answers not taken (fell back)
    std::map<std::uint32_t, std::pair<std::string, std::uint32_t>>
        parents_;                             ///< handle: name, parent
    std::set<std::uint32_t> settled_;         ///< handles known or fetched this session
    std::optional<std::uint32_t> fuji_count_; ///< 0xD222
    std::optional<std::uint32_t> fuji_state_; ///< 0xDF00
    std::uint64_t progress_ = 0;
    int failed_files_ = 0;
    int unreadable_ = 0;
    std::uint64_t storage_mismatches_ = 0; ///< ObjectInfo storage id != the listed one
    bool selected_mode_ = false;           ///< Fuji CameraState 1
    bool selected_done_ = false;
    bool connected_ = false;
    std::optional<std::pair<std::string, std::int64_t>> reuse_;
};

} // namespace camrelay::ingest::ptpip
