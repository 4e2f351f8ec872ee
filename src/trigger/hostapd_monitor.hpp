// hostapd's control interface, one thread per Wi-Fi interface: a unix datagram socket bound to a
// temporary path in /tmp, connected to CTRL_DIR/IFACE; ATTACH (answered OK) subscribes to
// events. After attaching, the current stations are read (STA-FIRST / STA-NEXT) so a phone
// that joined before camrelay started counts. Unsolicited "<3>AP-STA-CONNECTED MAC" /
// "<3>AP-STA-DISCONNECTED MAC" become station events. A PING every ping_interval must be
// answered PONG within 2 s; when it is not, or the socket is gone (hostapd restarted), the
// monitor attaches again (every 1 s up to 10 s while hostapd is away).
#pragma once

#include "config/settings.hpp"
#include "trigger/events.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace camrelay::trigger
{

class hostapd_monitor
{
  public:
    struct callbacks
    {
        std::function<void(station_event const&)> station;
        /// After each (re)attach: the MACs associated on `iface` now.
        std::function<void(std::string const& iface, std::vector<std::string> const& macs)>
            stations;
    };

    hostapd_monitor(config::hostapd_settings settings, callbacks cb);
    ~hostapd_monitor();
    hostapd_monitor(hostapd_monitor const&) = delete;
    hostapd_monitor& operator=(hostapd_monitor const&) = delete;

  private:
    void run(std::string iface, std::stop_token stop);

    config::hostapd_settings settings_;
    callbacks cb_;
    std::vector<std::jthread> threads_;
};

} // namespace camrelay::trigger
