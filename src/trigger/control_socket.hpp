// The daemon's control socket: a unix stream socket (mode 0660) through which
// `camrelay hostapd-event` and `camrelay dhcp-event` hand presence events to `camrelay run`.
// One request line per connection, answered with one line ("OK ..." or "ERR reason").
// Lines are limited to max_control_line bytes, a connection to 2 s and 16 connections at once.
// The only requests are ping, station join/leave and DHCP lease changes: whoever may connect
// can make a device look present or absent, nothing else.
#pragma once

#include "trigger/events.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace camrelay::trigger
{

class control_server
{
  public:
    /// Answers a parsed request with the reply line's text (without newline).
    using handler = std::function<std::string(control_request const&)>;

    /// Binds `path` (a stale socket there is replaced; a live one is an error), sets mode 0660
    /// and serves on its own thread. Null with `error` set on failure.
    static std::unique_ptr<control_server> open(std::string const& path, handler h,
                                                std::string& error);
    ~control_server();
    control_server(control_server const&) = delete;
    control_server& operator=(control_server const&) = delete;

  private:
    control_server(std::string path, int fd, handler h);
    void serve(std::stop_token stop);

    std::string path_;
    int fd_;
    handler handler_;
    std::jthread thread_;
};

/// Sends one request to the daemon's socket and returns its reply line in `reply`. False with
/// `error` explaining (no daemon, no permission, timeout) on failure.
bool send_control(std::string const& path, control_request const& r, std::string& reply,
                  std::string& error, std::chrono::milliseconds timeout = std::chrono::seconds(5));

} // namespace camrelay::trigger
