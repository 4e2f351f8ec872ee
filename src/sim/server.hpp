// The camera simulator's network driver: Asio sockets around sim::responder (the only translation
// unit of the module that includes Asio). Listens on loopback (or a given address) and serves
// PTP/IP (one port: command and event connections) or Fuji (command port, event port = +1) until
// SIGINT/SIGTERM; polls the folder every second and announces new files as ObjectAdded events.
// Connections are served one after another or side by side; a broken connection is logged and
// closed, the simulator keeps serving.
#pragma once

#include "sim/responder.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace camrelay::sim
{

struct server_options
{
    flavor kind = flavor::ptpip;
    std::string dir;               ///< slot 1's card root (or a flat folder of photos)
    std::vector<std::string> dirs; ///< more slots: slot 2, ...
    quirk_set quirks;
    std::size_t select = 4; ///< camera-selected: photos the owner "selected"
    std::string bind = "127.0.0.1";
    std::uint16_t port = 0;       ///< 0: the flavour's default (15740 / 55740)
    std::string model;            ///< empty: "camrelay-sim" / "X-T5"
    std::uint64_t drop_after = 0; ///< 0: never
    bool refuse = false;
};

/// What the server listens on once ready (for the ready line).
struct server_ready
{
    std::string address;
    std::uint16_t port = 0;
    std::size_t objects = 0;
    std::string model;
};

/// Runs until SIGINT/SIGTERM. Calls `on_ready` once the sockets listen. Returns 0 after a signal,
/// 1 when the folder or a port cannot be used (the reason is in `error`).
int run_server(server_options const& o, std::function<void(server_ready const&)> const& on_ready,
               std::string& error);

} // namespace camrelay::sim
