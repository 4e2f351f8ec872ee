#include "proto/ptp/byte_io.hpp"

namespace camrelay::proto::ptp
{

bool reader::take(std::size_t n) noexcept
{
    if (error_)
        return false;
    if (n > data_.size() - pos_)
    {
        error_ = make_error_code(errc::truncated);
        return false;
    }
    return true;
}

std::uint8_t reader::u8() noexcept
{
    if (!take(1))
        return 0;
    return std::to_integer<std::uint8_t>(data_[pos_++]);
}

std::uint16_t reader::u16() noexcept
{
    if (!take(2))
        return 0;
    auto v = load_u16(data_.data() + pos_);
    pos_ += 2;
    return v;
}

std::uint32_t reader::u32() noexcept
{
    if (!take(4))
        return 0;
    auto v = load_u32(data_.data() + pos_);
    pos_ += 4;
    return v;
}

std::uint64_t reader::u64() noexcept
{
    if (!take(8))
        return 0;
    auto v = load_u64(data_.data() + pos_);
    pos_ += 8;
    return v;
}

bytes_view reader::bytes(std::size_t n) noexcept
{
    if (!take(n))
        return {};
    auto v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
}

bytes_view reader::rest() noexcept
{
    if (error_)
        return {};
    auto v = data_.subspan(pos_);
    pos_ = data_.size();
    return v;
}

void writer::u16(std::uint16_t v)
{
    u8(static_cast<std::uint8_t>(v & 0xFF));
    u8(static_cast<std::uint8_t>(v >> 8));
}

void writer::u32(std::uint32_t v)
{
    u16(static_cast<std::uint16_t>(v & 0xFFFF));
    u16(static_cast<std::uint16_t>(v >> 16));
}

void writer::u64(std::uint64_t v)
{
    u32(static_cast<std::uint32_t>(v & 0xFFFFFFFF));
    u32(static_cast<std::uint32_t>(v >> 32));
}

void writer::patch_u32(std::size_t at, std::uint32_t v) noexcept
{
    auto& b = *out_;
    if (at + 4 > b.size())
        return;
    for (int i = 0; i < 4; ++i)
        b[at + static_cast<std::size_t>(i)] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
}

} // namespace camrelay::proto::ptp
