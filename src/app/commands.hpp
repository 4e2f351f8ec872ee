// One function per subcommand; main.cpp only parses the command line and dispatches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace camrelay::app {

struct common_options
{
    std::string config_path;       ///< -c FILE; empty: embedded defaults
    std::string data_dir;          ///< --data-dir overrides the config's data_dir
    std::string log_level;         ///< --log-level; empty: the config's (run) or warn (import)
};

int cmd_run(common_options const& o, std::vector<std::string> const& cameras);
int cmd_import(common_options const& o, std::string const& camera, std::string const& to_dir,
               bool quiet);
int cmd_status(common_options const& o, bool json);
int cmd_cameras();
int cmd_config_check(std::string const& path);
int cmd_config_defaults();
int cmd_describe(std::string const& kind, std::string const& type);
int cmd_retry(common_options const& o);
/// `camrelay login mastodon URL`: OAuth out-of-band login, writes the 0600 secret file.
int cmd_login_mastodon(std::string const& url, std::string const& secret_file,
                       std::string const& code, std::string const& ca_file);
/// `camrelay trust sftp://HOST:PORT`: shows the host key, asks, appends it to known_hosts.
int cmd_trust(std::string const& url, std::string const& known_hosts, bool yes);
/// `camrelay samsung hosts [IP]`: the /etc/hosts and dnsmasq lines Samsung cameras need.
int cmd_samsung_hosts(std::string const& ip);

struct sim_options
{
    std::string protocol;      ///< "ptpip" or "fuji"
    std::vector<std::string> dirs; ///< --dir (repeatable): card root per slot, or a flat folder
    std::vector<std::string> quirks; ///< --quirk (repeatable): sim/quirks.hpp names
    std::size_t select = 4;          ///< --select: camera-selected photos
    std::string bind = "127.0.0.1";
    std::uint16_t port = 0;    ///< 0: 15740 (ptpip) / 55740 (fuji)
    std::string model;         ///< --model: friendly name / DeviceInfo model
    std::uint64_t drop_after = 0;
    bool refuse = false;
    std::string log_level;
};
/// `camrelay hostapd-event IFACE EVENT MAC [...]` (hostapd_cli -a): forwards a station's
/// join/leave to the running daemon; other events are ignored. 0 ok, 1 no daemon, 2 bad input.
int cmd_hostapd_event(common_options const& o, std::string const& socket,
                      std::vector<std::string> const& args);
/// `camrelay dhcp-event add|old|del MAC IP [HOSTNAME]` (dnsmasq --dhcp-script); init, tftp and
/// arp-* are accepted and ignored.
int cmd_dhcp_event(common_options const& o, std::string const& socket,
                   std::vector<std::string> const& args);

/// Device presence inside `camrelay run` (cmd_router.cpp): control socket, hostapd monitor,
/// probes, wired to the scheduler and the ledger. Destroying the handle stops them.
struct runtime;
struct presence_services;
struct presence_services_deleter
{
    void operator()(presence_services* p) const;
};
using presence_handle = std::unique_ptr<presence_services, presence_services_deleter>;
presence_handle start_presence(runtime& rt, std::string& error);

/// `camrelay sim ptpip|fuji --dir PHOTOS`: serves a folder as a Wi-Fi camera until SIGINT/SIGTERM.
int cmd_sim(sim_options const& o);

} // namespace camrelay::app
