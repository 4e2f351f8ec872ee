// The Asio side of the Samsung SNS source: a plain-HTTP listener that moves bytes between the
// cameras and sns_service (sans I/O). One request per connection (the reference always closes,
// samsung-sns.md 1.2); the response goes out in one write with TCP_CORK set (1.2 "Single-segment
// responses"), then the connection is shut down and closed.
//
// Limits (docs/samsung.md "Limits"), so that neither a slow nor a crowd of hostile clients can
// lock a camera out:
// * the request head is bounded by max_header_bytes and must be complete within head_timeout of
//   the connection's start;
// * a declared Content-Length above max_body_bytes is answered 413 before any body is read;
// * the body must keep up min_body_rate bytes/s, measured over each rate_window since the head
//   (the first window is the grace); no byte for idle_timeout, or the whole connection taking
//   longer than request_timeout, also ends it. These cuts close without an answer, the files
//   received are discarded and the exchange is told why (exchange::on_abort);
// * at most max_connections_per_address from one address (more are closed at once) and
//   max_connections in all; a connection beyond the global cap is not refused but takes the slot
//   of the worst one open: from the address holding the most connections, then a finished one
//   draining, then one still waiting for its head (longest idle first), then the slowest body.
//   An attacker's idle or drip-feeding sockets therefore never refuse a camera.
// Every such event is counted by name (limit_event) and logged: the first at once, later ones
// summed up every 10 s. Bodies move through a fixed 64 KiB buffer: memory per connection is
// bounded whatever the upload size.
#pragma once

#include "ingest/samsung/sns_service.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>

namespace camrelay::ingest::samsung
{

struct server_limits
{
    std::size_t max_header_bytes = 16 * 1024;
    std::uint64_t max_body_bytes = std::uint64_t{4} << 30;
    std::chrono::seconds idle_timeout{30};
    std::chrono::seconds request_timeout{3600};
    std::size_t max_connections = 32;
    std::size_t max_connections_per_address = 8;
    std::chrono::seconds head_timeout{10};
    std::uint64_t min_body_rate = 4096; ///< bytes/s over each rate_window; 0: not checked
    std::chrono::seconds rate_window{10};
};

/// `host:port`, `[v6]:port` or `:port` (all IPv4 interfaces). False when it is none of these.
bool parse_listen(std::string_view text, std::string& host, std::uint16_t& port);

/// Listens on `listen` and serves `svc` until `stop`; returns once stopped. Errors opening the
/// listener are returned at once (the caller decides whether to retry). Runs on the calling
/// thread only; `svc` is only ever touched from it.
std::error_code serve_sns(std::string const& listen, server_limits const& limits, sns_service& svc,
                          std::stop_token stop);

} // namespace camrelay::ingest::samsung
