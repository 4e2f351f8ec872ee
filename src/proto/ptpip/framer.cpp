#include "proto/ptpip/framer.hpp"

#include <algorithm>

namespace camrelay::proto::ptpip
{

frame_result framer::feed(ptp::bytes_view in)
{
    if (error_)
        return {frame_status::error, 0, error_};
    if (ready_)
    {
        buffer_.clear();
        ready_ = false;
        expected_ = 0;
    }
    std::size_t used = 0;
    auto take = [&](std::size_t want)
    {
        std::size_t n = std::min(want, in.size() - used);
        buffer_.insert(buffer_.end(), in.begin() + static_cast<std::ptrdiff_t>(used),
                       in.begin() + static_cast<std::ptrdiff_t>(used + n));
        used += n;
    };
    if (expected_ == 0)
    {
        take(4 - buffer_.size());
        if (buffer_.size() < 4)
            return {frame_status::need_more, used, {}};
        std::size_t length = ptp::load_u32(buffer_.data());
        if (length < min_)
            error_ = make_error_code(errc::bad_length);
        else if (length > max_)
            error_ = make_error_code(errc::packet_too_large);
        if (error_)
            return {frame_status::error, used, error_};
        expected_ = length;
        buffer_.reserve(std::min<std::size_t>(length, 1u << 16));
    }
    take(expected_ - buffer_.size());
    if (buffer_.size() < expected_)
        return {frame_status::need_more, used, {}};
    ready_ = true;
    return {frame_status::packet, used, {}};
}

void framer::reset() noexcept
{
    buffer_.clear();
    expected_ = 0;
    ready_ = false;
    error_.clear();
}

} // namespace camrelay::proto::ptpip
