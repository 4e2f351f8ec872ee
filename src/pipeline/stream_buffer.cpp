#include "pipeline/stream_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace camrelay::pipeline {

stream_buffer::stream_buffer(std::size_t capacity, std::stop_token stop)
    : stop_(std::move(stop)), data_(std::max<std::size_t>(capacity, 1))
{
}

std::error_code stream_buffer::write(std::span<const std::byte> chunk)
{
    std::unique_lock lock(mutex_);
    while (!chunk.empty())
    {
        cv_.wait(lock, stop_, [&] { return closed_ || size_ < data_.size(); });
        if (stop_.stop_requested())
            return std::make_error_code(std::errc::operation_canceled);
        if (closed_)
            return std::make_error_code(std::errc::broken_pipe);
        auto tail = (head_ + size_) % data_.size();
        auto n = std::min({chunk.size(), data_.size() - size_, data_.size() - tail});
        std::memcpy(data_.data() + tail, chunk.data(), n);
        hash_.update(chunk.first(n));
        size_ += n;
        written_ += n;
        high_water_ = std::max(high_water_, size_);
        chunk = chunk.subspan(n);
        cv_.notify_all();
    }
    return {};
}

void stream_buffer::finish(std::error_code ec)
{
    std::lock_guard lock(mutex_);
    if (finished_)
        return;
    finished_ = true;
    error_ = ec;
    if (!ec)
        hex_ = sha256::to_hex(hash_.finish());
    cv_.notify_all();
}

result<std::size_t> stream_buffer::read(std::span<std::byte> out)
{
    std::unique_lock lock(mutex_);
    cv_.wait(lock, stop_, [&] { return size_ > 0 || finished_ || closed_; });
    if (stop_.stop_requested())
        return std::make_error_code(std::errc::operation_canceled);
    if (closed_)
        return std::make_error_code(std::errc::bad_file_descriptor);
    if (size_ == 0)
    {
        if (error_)
            return error_;
        return std::size_t{0};
    }
    if (out.empty())
        return std::size_t{0};
    auto n = std::min({out.size(), size_, data_.size() - head_});
    std::memcpy(out.data(), data_.data() + head_, n);
    head_ = (head_ + n) % data_.size();
    size_ -= n;
    cv_.notify_all();
    return n;
}

std::string stream_buffer::sha256_hex() const
{
    std::lock_guard lock(mutex_);
    return hex_;
}

void stream_buffer::close()
{
    std::lock_guard lock(mutex_);
    closed_ = true;
    cv_.notify_all();
}

std::size_t stream_buffer::high_water() const
{
    std::lock_guard lock(mutex_);
    return high_water_;
}

std::uint64_t stream_buffer::written() const
{
    std::lock_guard lock(mutex_);
    return written_;
}

} // namespace camrelay::pipeline
