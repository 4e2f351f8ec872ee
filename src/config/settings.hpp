// Everything camrelay reads from its config file, as plain structs with their defaults.
// One loader (loader.hpp) fills them; nothing reads configuration from a global.
#pragma once

#include "config/options.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace camrelay::config {

struct general_settings
{
    std::string data_dir;                    ///< ledger and spool; default: default_data_dir()
    std::string log_level = "info";
    std::string spool_keep = "until-delivered";  ///< or "always"
    std::string spool = "disk";              ///< or "none": stream camera -> sink, no spool copy
    std::int64_t workers = 4;                ///< deliveries running at once, all sinks together
    std::int64_t shutdown_grace = 10;        ///< seconds deliveries and camera threads may finish on stop
    std::string control_socket;  ///< daemon control socket; default DATA_DIR/control.sock
    int line = 0;
};

struct source_settings
{
    std::string type;
    option_values options;
    int line = 0;
    std::string data_dir;  ///< general.data_dir, set by the runtime (per-installation files)
};

struct sink_settings
{
    std::string name;
    std::string type;
    option_values options;
    std::int64_t concurrency = 1;   ///< deliveries to this sink at once
    std::int64_t max_attempts = 0;  ///< 0: retry transient failures for ever
    std::int64_t retry_min = 10;    ///< seconds before the first retry
    std::int64_t retry_max = 3600;  ///< cap of the exponential backoff, seconds
    std::string wake_on;            ///< trigger name whose firing makes due jobs run at once
    std::string device;             ///< [device.NAME] whose presence gates this sink; empty: none
    int line = 0;
};

/// A device on the router's network (the owner's phone, a Wi-Fi camera), identified by MAC.
struct device_settings
{
    std::string name;
    std::string mac;       ///< normalised: lower case, colon-separated
    std::string ip;        ///< fixed address; empty: learnt from DHCP events
    std::string hostname;  ///< DHCP host name, matched when the MAC is not (randomised MACs)
    std::string role = "phone";     ///< phone | camera
    std::uint16_t probe_port = 0;   ///< probe = "tcp:PORT"; 0: no probe
    std::int64_t probe_interval = 10;  ///< seconds between probes
    std::int64_t probe_timeout = 2;    ///< seconds a probe's connect may take
    int line = 0;
};

/// [trigger.hostapd]: follow stations joining and leaving through hostapd's control interface.
struct hostapd_settings
{
    bool enabled = false;  ///< the table is present
    std::string ctrl_dir = "/var/run/hostapd";
    std::vector<std::string> interfaces;
    std::int64_t ping_interval = 10;  ///< seconds between PINGs (a missing PONG re-attaches)
    int line = 0;
};

struct route_settings
{
    std::vector<std::string> source;  ///< source kinds; empty: any
    std::vector<std::string> camera;  ///< globs on camera name, model or identity; empty: any
    std::vector<std::string> ext;     ///< file extensions, case-insensitive, no dot; empty: any
    std::vector<std::string> type;    ///< image | raw | video | other; empty: any
    std::vector<std::string> to;      ///< sink names
    int line = 0;
};

struct settings
{
    general_settings general;
    std::vector<source_settings> sources;
    std::vector<sink_settings> sinks;
    std::vector<route_settings> routes;
    std::vector<device_settings> devices;
    hostapd_settings hostapd;
};

/// The daemon's control socket: general.control_socket, else DATA_DIR/control.sock.
std::string control_socket_path(settings const& s);

/// "/var/lib/camrelay" for root, else $XDG_DATA_HOME/camrelay or ~/.local/share/camrelay.
std::string default_data_dir();

/// The embedded defaults used when no config file is given: a USB source that takes every
/// camera libgphoto2 detects, a folder sink "photos" under the data dir, one route to it.
settings make_default_settings(std::string data_dir = {});

} // namespace camrelay::config
