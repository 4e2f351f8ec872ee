// The reachability probe: for each device with `probe = "tcp:PORT"`, a TCP connect to its
// current address every probe_interval seconds (at most probe_timeout each). A connection
// accepted or refused (the host answered) counts as reachable; a timeout or an unreachable
// network as unreachable. One thread for all probed devices.
#pragma once

#include "config/settings.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace camrelay::trigger
{

/// One probe: true when the host at `address` answered on `port` within `timeout` (a
/// connection was accepted, or refused with a reset).
bool probe_tcp(std::string const& address, std::uint16_t port, std::chrono::milliseconds timeout);

class prober
{
  public:
    /// `address_of` gives a device's current address (empty: unknown, not probed);
    /// `report` gets every probe's result.
    prober(std::vector<config::device_settings> devices,
           std::function<std::string(std::string const&)> address_of,
           std::function<void(std::string const&, bool)> report);
    ~prober();
    prober(prober const&) = delete;
    prober& operator=(prober const&) = delete;

  private:
    void run(std::stop_token stop);

    std::vector<config::device_settings> devices_;
    std::function<std::string(std::string const&)> address_of_;
    std::function<void(std::string const&, bool)> report_;
    std::jthread thread_;
};

} // namespace camrelay::trigger
