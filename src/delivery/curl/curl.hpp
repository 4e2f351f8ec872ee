// Shared libcurl helpers for every network sink: an RAII easy handle, streaming uploads from a
// file with cancellation through a stop_token, bounded response capture, and the mapping of
// curl, HTTP and SMTP outcomes to delivery conditions (transient / permanent / auth / cancelled).
#pragma once

#include "delivery/sink.hpp"

#include <curl/curl.h>

#include <chrono>
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

/// One libcurl easy handle. Not thread-safe; one per delivery.
class easy
{
public:
    easy();
    ~easy();
    easy(easy const&) = delete;
    easy& operator=(easy const&) = delete;

    CURL* get() const { return handle_; }

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
    /// opened (the caller reports source_missing).
    bool upload_from(std::string const& path, std::uint64_t offset = 0);

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
    static size_t on_body(char* data, size_t size, size_t n, void* self);

    CURL* handle_ = nullptr;
    std::stop_token stop_;
    int upload_fd_ = -1;
    std::string body_;
    std::size_t body_limit_ = 0;
    char error_buffer_[CURL_ERROR_SIZE] = {};
    std::string error_;
};

/// A failed outcome for a curl result, with curl's explanation and `what` (e.g. the URL).
outcome failure_of(CURLcode code, easy const& e, std::string const& what);

/// Percent-encodes one URL path segment (RFC 3986 unreserved characters stay).
std::string escape_segment(std::string const& segment);

} // namespace camrelay::delivery::curl
