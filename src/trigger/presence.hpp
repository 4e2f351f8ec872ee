// Which configured devices are on the network now, from every trigger (hostapd, DHCP events,
// the reachability probe). Reports each change to one listener, in order.
//
// Presence rules (the last word wins, except for roaming between access points):
// * hostapd: connected on an interface -> present; disconnected -> absent once the device is
//   connected on no interface (a phone moving from 2.4 to 5 GHz stays present);
// * DHCP add/old -> present, with that address; del -> absent;
// * probe: reachable -> present; unreachable -> absent.
#pragma once

#include "config/settings.hpp"
#include "trigger/events.hpp"

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace camrelay::trigger
{

struct presence_change
{
    config::device_settings const* device = nullptr;
    bool present = false;
    bool transition = false; ///< false: still present, the address changed
    std::string address;     ///< the device's current address; empty when unknown
    std::string via;         ///< "hostapd wlan0", "dhcp add", "probe", ...
};

class presence_tracker
{
  public:
    using listener = std::function<void(presence_change const&)>;

    /// `on_change` is called with the tracker's lock held, so changes arrive in order; it must
    /// not call back into the tracker.
    presence_tracker(std::vector<config::device_settings> devices, listener on_change);

    /// A station event; returns the device's name, empty when no device has that MAC.
    std::string station(station_event const& e);
    /// After (re)attaching to hostapd on `iface`: the stations associated there now. Devices
    /// believed connected on that interface and not in the list left it.
    void stations_on(std::string const& iface, std::vector<std::string> const& macs);
    /// A DHCP lease event; matched by MAC, else by host name. Returns the device's name or "".
    std::string dhcp(dhcp_event const& e);
    /// A probe result for the device named `name`.
    void probe_result(std::string const& name, bool reachable);

    bool present(std::string const& name) const;
    /// The device's current address (fixed ip, else the last DHCP one); empty when unknown.
    std::string address(std::string const& name) const;
    std::vector<config::device_settings> const& devices() const { return configs_; }

  private:
    struct state
    {
        bool present = false;
        std::set<std::string> ifaces;
        std::string address;
    };
    int find_mac(std::string const& mac) const;
    void set(int index, bool present, std::string const& via);

    std::vector<config::device_settings> configs_;
    std::vector<state> states_;
    listener on_change_;
    mutable std::mutex mutex_;
};

} // namespace camrelay::trigger
