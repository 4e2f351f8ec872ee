// Internal to the ptpip/fuji sources: the parsed options every part of the source shares, and the
// small helpers around them. Not part of the ingest interface (ptpip_source.hpp is).
#pragma once

#include "ingest/ptpip/ptpip_plan.hpp"
#include "proto/ptpip/packet.hpp"
#include "proto/ptpip/session.hpp"
#include "proto/ssdp/message.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

namespace camrelay::ingest::ptpip
{

inline constexpr auto log_tag = "ptpip";

struct source_config
{
    bool fuji = false;
    std::string address;
    endpoint ep;
    std::string friendly_name;
    std::string guid_file;
    bool newest_first = false;
    bool jpeg_first = false;
    std::chrono::seconds poll{10};
    std::chrono::seconds reconnect_min{5};
    std::chrono::seconds reconnect_max{300};
    std::uint32_t chunk = 1u << 20;
    std::uint64_t min_rate = 16 * 1024;    ///< bytes/s an object transfer must keep
    std::chrono::seconds rate_window{30};  ///< min_rate is averaged over this
    std::chrono::seconds object_slack{60}; ///< object deadline: this + size / min_rate
    /// Cap of an object whose size the camera does not tell (ObjectInfo 0xFFFFFFFF, no ObjectSize
    /// property): its GetObject data phase may run to this, no further; also the largest 64-bit
    /// ObjectSize believed.
    std::uint64_t max_object_size = 1ull << 40;
    bool discover = false; ///< SSDP discovery instead of `address` (run only)
    /// This camera announced itself (SSDP): it must prove to be one (a DeviceInfo that decodes
    /// and offers GetObjectInfo and GetObject) before anything is fetched.
    bool discovered = false;
    std::uint16_t ssdp_port = proto::ssdp::multicast_port;
    std::string ssdp_bind = "0.0.0.0";
    std::uint16_t ssdp_ptpip_port = proto::ptpip::default_port;
};

inline std::error_code cancelled()
{
    return std::make_error_code(std::errc::operation_canceled);
}

} // namespace camrelay::ingest::ptpip
