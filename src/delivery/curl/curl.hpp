// Shared libcurl helpers for every network sink: an RAII easy handle, streaming uploads from a
// file with cancellation through a stop_token, bounded response capture, and the mapping of
// curl, HTTP and SMTP outcomes to delivery conditions (transient / permanent / auth / cancelled).
#pragma once

#include "delivery/sink.hpp"

#include <curl/curl.h>

#include <chrono>
#include <functional>
#include <string_view>
#include <memory>
#include <mutex>
#include <vector>
#include <cstdint>
#include <stop_token>
#include <string>
#include <system_error>

namespace camrelay::delivery::curl {

/// The "camrelay.curl" category: values are CURLcode. Its default_error_condition gives the
/// delivery condition, so the scheduler decides retry vs give-up without knowing curl.
std::error_category const& category();
inline std::error_code make_error_code(CURLcode c)
{
    return {static_cast<int>(c), category()};
}

/// HTTP status -> delivery error: 2xx none; 401/403 auth_failed; 408, 425, 429 and 5xx
/// destination_unavailable (transient); other 4xx bad_destination (permanent).
std::error_code http_status_error(long status);

/// SMTP reply code (from CURLINFO_RESPONSE_CODE) -> delivery error: 535/534/530 auth_failed;
/// 552 no_space... 4xx transient; 5xx permanent.
std::error_code smtp_status_error(long code);

/// Timeouts every transfer gets (a stalled peer must not hold a worker for ever).
struct timeouts
{
    std::chrono::seconds connect{15};
    /// Abort when slower than `low_speed_bytes` per second for `low_speed_time`.
    long low_speed_bytes = 1;
    std::chrono::seconds low_speed_time{60};
};

/// Reads the `connect_timeout` and `stall_timeout` options every network sink takes (specs in
/// timeout_options()); reports an out-of-range value through `problem(key, text)`.
timeouts read_timeouts(config::option_values const& options,
                       std::function<void(std::string_view, std::string const&)> const& problem);

/// The two option specs behind read_timeouts(), for a sink's option table.
inline constexpr config::option_spec connect_timeout_option{
    "connect_timeout", config::option_type::integer, false, "15",
    "Seconds to connect, including the TLS or SSH handshake and login."};
inline constexpr config::option_spec stall_timeout_option{
    "stall_timeout", config::option_type::integer, false, "60",
    "Seconds a transfer may make no progress before it is abandoned and retried later."};

/// One libcurl easy handle. Not thread-safe; one per delivery.
class easy
{
public:
    easy();
    ~easy();
    easy(easy const&) = delete;
    easy& operator=(easy const&) = delete;

    CURL* get() const { return handle_; }

    /// Forgets every option set so far (curl_easy_reset) and applies this class's defaults
    /// again, keeping live connections: several requests of one delivery reuse a connection.
    /// Call watch(), upload_from() and capture_body() again for the next request.
    void reset();

    template <class T>
    void set(CURLoption option, T value)
    {
        curl_easy_setopt(handle_, option, value);
    }

    /// Applies timeouts and makes the transfer stop within a second once `stop` is requested
    /// (the progress callback returns non-zero: CURLE_ABORTED_BY_CALLBACK).
    void watch(std::stop_token stop, timeouts const& t = {});

    /// Uploads the file at `path` as the request body (PUT, SFTP/SCP upload, or the source of
    /// a read callback), streaming it in curl's chunks, never whole. Sets INFILESIZE.
    /// `offset` skips the first bytes (resuming an upload). Returns false if the file cannot be
    /// opened (the caller reports source_missing). The stream is seekable (CURLOPT_SEEKFUNCTION,
    /// positions relative to `offset`): libcurl rewinds it on a retried request and skips to
    /// CURLOPT_RESUME_FROM_LARGE by seeking (without it, libcurl 7.88's SFTP resume sends the
    /// skipped bytes as well).
    bool upload_from(std::string const& path, std::uint64_t offset = 0);

    /// Streaming mode: uploads what `in` yields (`size` bytes, as the camera listed them) as the
    /// request body. Not seekable: no resume, no rewind. A read error aborts the transfer
    /// (CURLE_ABORTED_BY_CALLBACK). `in` must outlive perform().
    void upload_stream(content_reader& in, std::uint64_t size);

    /// Keeps at most `limit` bytes of the response body (for JSON replies and error pages).
    void capture_body(std::size_t limit = 1024 * 1024);
    std::string const& body() const { return body_; }

    /// Collects curl's human-readable error text for messages.
    CURLcode perform();
    std::string const& error_text() const { return error_; }

    long response_code() const;

private:
    static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
    static size_t on_read(char* buffer, size_t size, size_t n, void* self);
    static int on_seek(void* self, curl_off_t offset, int origin);
    static size_t on_body(char* data, size_t size, size_t n, void* self);

    CURL* handle_ = nullptr;
    std::stop_token stop_;
    int upload_fd_ = -1;
    content_reader* upload_reader_ = nullptr;
    std::uint64_t upload_base_ = 0;  // the file offset that is stream position 0
    std::string body_;
    std::size_t body_limit_ = 0;
    char error_buffer_[CURL_ERROR_SIZE] = {};
    std::string error_;
};

/// Keeps easy handles between deliveries of one sink, and with them their live connections
/// (an SSH session, a keep-alive HTTP connection): 200 photos to a phone then cost one SSH
/// handshake, not 200. Thread-safe. A handle is reset (every option forgotten, connections
/// kept) when it comes back; give back only handles whose last delivery succeeded.
class handle_pool
{
public:
    explicit handle_pool(std::size_t max_idle = 4) : max_idle_(max_idle) {}
    std::unique_ptr<easy> take();
    void give_back(std::unique_ptr<easy> handle);

private:
    std::mutex mutex_;
    std::vector<std::unique_ptr<easy>> idle_;
    std::size_t max_idle_;
};

/// A failed outcome for a curl result, with curl's explanation and `what` (e.g. the URL).
outcome failure_of(CURLcode code, easy const& e, std::string const& what);

/// Percent-encodes one URL path segment (RFC 3986 unreserved characters stay).
std::string escape_segment(std::string const& segment);

} // namespace camrelay::delivery::curl
