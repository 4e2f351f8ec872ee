// The socket side of SSDP discovery for the "ptpip" source (`discover = true`): a UDP socket bound
// to ssdp_bind:ssdp_port that has joined the SSDP multicast group, read with a short timeout so
// the caller can look at its stop_token between reads. Parsing and deciding what a datagram
// means is proto::ssdp's job (sans I/O); this class only moves bytes.
#pragma once

#include "core/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace camrelay::ingest::ptpip
{

/// One datagram and its sender's IPv4 address (dotted).
struct datagram
{
    std::string bytes;
    std::string sender;
};

class ssdp_listener
{
  public:
    ssdp_listener() = default;
    ssdp_listener(ssdp_listener&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    ssdp_listener& operator=(ssdp_listener&& other) noexcept;
    ssdp_listener(ssdp_listener const&) = delete;
    ssdp_listener& operator=(ssdp_listener const&) = delete;
    ~ssdp_listener();

    /// Binds an IPv4 UDP socket to `bind_address:port` (SO_REUSEADDR: other SSDP listeners on the
    /// machine keep working) and joins 239.255.255.250 on every interface. A failed join (no
    /// multicast route, e.g. a loopback-only test machine) is not an error: `joined()` says it.
    static result<ssdp_listener> open(std::string const& bind_address, std::uint16_t port);

    /// Waits up to `timeout` for one datagram; nullopt when none came (or a transient error).
    std::optional<datagram> receive(std::chrono::milliseconds timeout);

    bool joined() const noexcept { return joined_; }
    /// The bound port (useful with port 0).
    std::uint16_t port() const noexcept;

  private:
    int fd_ = -1;
    bool joined_ = false;
};

} // namespace camrelay::ingest::ptpip
