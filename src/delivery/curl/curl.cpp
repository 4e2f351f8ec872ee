#include "delivery/curl/curl.hpp"

#include "delivery/error.hpp"

#include <fcntl.h>
#include <cctype>
#include <unistd.h>

#include <mutex>

namespace camrelay::delivery::curl {

namespace {

condition condition_of(CURLcode c)
{
    switch (c)
    {
    case CURLE_ABORTED_BY_CALLBACK: return condition::cancelled;
    case CURLE_LOGIN_DENIED:
    case CURLE_AUTH_ERROR: return condition::auth;
    case CURLE_PEER_FAILED_VERIFICATION:  // wrong TLS certificate or SSH host key: a person must look
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_REMOTE_ACCESS_DENIED:
    case CURLE_REMOTE_FILE_NOT_FOUND:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_READ_ERROR:  // our own file could not be read
        return condition::permanent;
    default:
        // Connection refused, resolve failures, timeouts, resets, remote disk full, SSH session
        // trouble, upload failures: the destination may be back later.
        return condition::transient;
    }
}

class category_impl : public std::error_category
{
public:
    const char* name() const noexcept override { return "camrelay.curl"; }
    std::string message(int ev) const override
    {
        return curl_easy_strerror(static_cast<CURLcode>(ev));
    }
    std::error_condition default_error_condition(int ev) const noexcept override
    {
        return make_error_condition(condition_of(static_cast<CURLcode>(ev)));
    }
};

void global_init()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

} // namespace

std::error_category const& category()
{
    static category_impl instance;
    return instance;
}

std::error_code http_status_error(long status)
{
    if (status >= 200 && status < 300)
        return {};
    if (status == 401 || status == 403)
        return delivery::make_error_code(errc::auth_failed);
    if (status == 507)
        return delivery::make_error_code(errc::no_space);
    if (status == 408 || status == 425 || status == 429 || status >= 500 || status == 0)
        return delivery::make_error_code(errc::destination_unavailable);
    return delivery::make_error_code(errc::bad_destination);
}

std::error_code smtp_status_error(long code)
{
    if (code >= 200 && code < 400)
        return {};
    if (code == 530 || code == 534 || code == 535)
        return delivery::make_error_code(errc::auth_failed);
    if (code == 452 || code == 552)
        return delivery::make_error_code(errc::no_space);
    if (code >= 400 && code < 500)
        return delivery::make_error_code(errc::destination_unavailable);
    return delivery::make_error_code(errc::bad_destination);
}

easy::easy()
{
    global_init();
    handle_ = curl_easy_init();
    curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, error_buffer_);
    curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM
    curl_easy_setopt(handle_, CURLOPT_USERAGENT, "camrelay/" CAMRELAY_VERSION);
}

void easy::reset()
{
    curl_easy_reset(handle_);
    curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, error_buffer_);
    curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle_, CURLOPT_USERAGENT, "camrelay/" CAMRELAY_VERSION);
    if (upload_fd_ >= 0)
        ::close(upload_fd_);
    upload_fd_ = -1;
    upload_reader_ = nullptr;
    body_.clear();
    body_limit_ = 0;
}

easy::~easy()
{
    curl_easy_cleanup(handle_);
    if (upload_fd_ >= 0)
        ::close(upload_fd_);
}

void easy::watch(std::stop_token stop, timeouts const& t)
{
    stop_ = std::move(stop);
    curl_easy_setopt(handle_, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(handle_, CURLOPT_XFERINFOFUNCTION, &easy::on_progress);
    curl_easy_setopt(handle_, CURLOPT_XFERINFODATA, this);
    curl_easy_setopt(handle_, CURLOPT_CONNECTTIMEOUT, static_cast<long>(t.connect.count()));
    curl_easy_setopt(handle_, CURLOPT_LOW_SPEED_LIMIT, t.low_speed_bytes);
    curl_easy_setopt(handle_, CURLOPT_LOW_SPEED_TIME, static_cast<long>(t.low_speed_time.count()));
}

int easy::on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    // libcurl calls this about once a second even when the transfer stalls.
    return static_cast<easy*>(self)->stop_.stop_requested() ? 1 : 0;
}

bool easy::upload_from(std::string const& path, std::uint64_t offset)
{
    if (upload_fd_ >= 0)
        ::close(upload_fd_);
    upload_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (upload_fd_ < 0)
        return false;
    auto size = ::lseek(upload_fd_, 0, SEEK_END);
    if (size < 0 || ::lseek(upload_fd_, static_cast<off_t>(offset), SEEK_SET) < 0)
        return false;
    upload_base_ = offset;
    curl_easy_setopt(handle_, CURLOPT_READFUNCTION, &easy::on_read);
    curl_easy_setopt(handle_, CURLOPT_READDATA, this);
    curl_easy_setopt(handle_, CURLOPT_SEEKFUNCTION, &easy::on_seek);
    curl_easy_setopt(handle_, CURLOPT_SEEKDATA, this);
    curl_easy_setopt(handle_, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(static_cast<std::uint64_t>(size) - offset));
    return true;
}

void easy::upload_stream(content_reader& in, std::uint64_t size)
{
    if (upload_fd_ >= 0)
        ::close(upload_fd_);
    upload_fd_ = -1;
    upload_reader_ = &in;
    upload_base_ = 0;
    curl_easy_setopt(handle_, CURLOPT_READFUNCTION, &easy::on_read);
    curl_easy_setopt(handle_, CURLOPT_READDATA, this);
    curl_easy_setopt(handle_, CURLOPT_SEEKFUNCTION, static_cast<curl_seek_callback>(nullptr));
    curl_easy_setopt(handle_, CURLOPT_SEEKDATA, static_cast<void*>(nullptr));
    curl_easy_setopt(handle_, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
}

int easy::on_seek(void* self, curl_off_t offset, int origin)
{
    auto* e = static_cast<easy*>(self);
    if (origin != SEEK_SET || offset < 0 || e->upload_fd_ < 0)
        return CURL_SEEKFUNC_CANTSEEK;
    auto target = static_cast<off_t>(e->upload_base_ + static_cast<std::uint64_t>(offset));
    return ::lseek(e->upload_fd_, target, SEEK_SET) < 0 ? CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
}

size_t easy::on_read(char* buffer, size_t size, size_t n, void* self)
{
    auto* e = static_cast<easy*>(self);
    if (e->stop_.stop_requested())
        return CURL_READFUNC_ABORT;
    if (e->upload_reader_)
    {
        auto got = e->upload_reader_->read(std::as_writable_bytes(std::span(buffer, size * n)));
        return got ? *got : CURL_READFUNC_ABORT;
    }
    for (;;)
    {
        ssize_t got = ::read(e->upload_fd_, buffer, size * n);
        if (got >= 0)
            return static_cast<size_t>(got);
        if (errno != EINTR)
            return CURL_READFUNC_ABORT;
    }
}

void easy::capture_body(std::size_t limit)
{
    body_limit_ = limit;
    curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, &easy::on_body);
    curl_easy_setopt(handle_, CURLOPT_WRITEDATA, this);
}

size_t easy::on_body(char* data, size_t size, size_t n, void* self)
{
    auto* e = static_cast<easy*>(self);
    auto bytes = size * n;
    auto room = e->body_limit_ > e->body_.size() ? e->body_limit_ - e->body_.size() : 0;
    e->body_.append(data, std::min(bytes, room));
    return bytes;  // the rest is dropped, not an error: a huge error page must not fail a job
}

CURLcode easy::perform()
{
    error_buffer_[0] = '\0';
    body_.clear();
    auto rc = curl_easy_perform(handle_);
    error_ = error_buffer_[0] ? std::string(error_buffer_) : std::string(curl_easy_strerror(rc));
    return rc;
}

long easy::response_code() const
{
    long code = 0;
    curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

timeouts read_timeouts(config::option_values const& options,
                       std::function<void(std::string_view, std::string const&)> const& problem)
{
    timeouts t;
    auto connect = options.integer_or("connect_timeout", 15);
    auto stall = options.integer_or("stall_timeout", 60);
    if (connect < 1 || connect > 3600)
        problem("connect_timeout", "must be 1 to 3600 seconds");
    else
        t.connect = std::chrono::seconds(connect);
    if (stall < 1 || stall > 86400)
        problem("stall_timeout", "must be 1 to 86400 seconds");
    else
        t.low_speed_time = std::chrono::seconds(stall);
    return t;
}

std::unique_ptr<easy> handle_pool::take()
{
    std::lock_guard lock(mutex_);
    if (idle_.empty())
        return std::make_unique<easy>();
    auto h = std::move(idle_.back());
    idle_.pop_back();
    return h;
}

void handle_pool::give_back(std::unique_ptr<easy> handle)
{
    if (!handle)
        return;
    // Forget options now: they may point at memory of the delivery that just ended.
    handle->reset();
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_)
        idle_.push_back(std::move(handle));
}

outcome failure_of(CURLcode code, easy const& e, std::string const& what)
{
    if (code == CURLE_ABORTED_BY_CALLBACK)
        return outcome::fail(delivery::make_error_code(errc::cancelled), "cancelled");
    return outcome::fail(make_error_code(code), what + ": " + e.error_text());
}

std::string escape_segment(std::string const& segment)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : segment)
    {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            out.push_back(static_cast<char>(c));
        else
        {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

} // namespace camrelay::delivery::curl
