// Little-endian byte reader and writer for PTP, PTP/IP and Fuji's container framing.
//
// `reader` never reads past the end of its span: a read that does not fit sets a sticky error
// (errc::truncated), returns zero / empty, and every later read does the same, so a decoder can
// read a whole dataset and check `error()` once at the end. Nothing here throws on input.
// `writer` appends to a caller-owned vector. Not thread-safe; no I/O.
#pragma once

#include "proto/ptp/error.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

namespace camrelay::proto::ptp
{

using bytes_view = std::span<std::byte const>;
using byte_vector = std::vector<std::byte>;

/// Reads u16/u32/u64 (little-endian) at a byte offset without bounds checks; callers check size.
inline std::uint16_t load_u16(std::byte const* p) noexcept
{
    return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) |
                                      (std::to_integer<unsigned>(p[1]) << 8));
}
inline std::uint32_t load_u32(std::byte const* p) noexcept
{
    return static_cast<std::uint32_t>(load_u16(p)) |
           (static_cast<std::uint32_t>(load_u16(p + 2)) << 16);
}
inline std::uint64_t load_u64(std::byte const* p) noexcept
{
    return static_cast<std::uint64_t>(load_u32(p)) |
           (static_cast<std::uint64_t>(load_u32(p + 4)) << 32);
}

/// Sequential little-endian reader over a span it does not own.
class reader
{
  public:
    reader() = default;
    explicit reader(bytes_view data) noexcept : data_(data) {}

    std::uint8_t u8() noexcept;
    std::uint16_t u16() noexcept;
    std::uint32_t u32() noexcept;
    std::uint64_t u64() noexcept;
    std::int8_t i8() noexcept { return static_cast<std::int8_t>(u8()); }
    std::int16_t i16() noexcept { return static_cast<std::int16_t>(u16()); }
    std::int32_t i32() noexcept { return static_cast<std::int32_t>(u32()); }
    std::int64_t i64() noexcept { return static_cast<std::int64_t>(u64()); }

    /// The next `n` bytes as a view into the input (empty + error if fewer are left).
    bytes_view bytes(std::size_t n) noexcept;
    /// Everything not read yet (never fails).
    bytes_view rest() noexcept;
    void skip(std::size_t n) noexcept { (void)bytes(n); }

    /// Bytes not read yet; 0 after an error.
    std::size_t remaining() const noexcept { return error_ ? 0 : data_.size() - pos_; }
    std::size_t position() const noexcept { return pos_; }
    bool empty() const noexcept { return remaining() == 0; }

    /// The first error (truncated, or one a decoder set with `fail`), empty while all is well.
    std::error_code error() const noexcept { return error_; }
    bool ok() const noexcept { return !error_; }
    /// Records a decoder-level error; the first error wins and stops all further reads.
    void fail(std::error_code ec) noexcept
    {
        if (!error_)
            error_ = ec;
    }

  private:
    bool take(std::size_t n) noexcept;

    bytes_view data_;
    std::size_t pos_ = 0;
    std::error_code error_;
};

/// Appends little-endian values to a vector the caller owns.
class writer
{
  public:
    explicit writer(byte_vector& out) noexcept : out_(&out) {}

    void u8(std::uint8_t v) { out_->push_back(static_cast<std::byte>(v)); }
    void u16(std::uint16_t v);
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void bytes(bytes_view b) { out_->insert(out_->end(), b.begin(), b.end()); }
    void zeros(std::size_t n) { out_->insert(out_->end(), n, std::byte{0}); }

    /// Overwrites a u32 written earlier at absolute offset `at` (e.g. a length field).
    void patch_u32(std::size_t at, std::uint32_t v) noexcept;
    std::size_t size() const noexcept { return out_->size(); }
    byte_vector& buffer() noexcept { return *out_; }

  private:
    byte_vector* out_;
};

/// Views a string literal / char buffer as bytes (test and codec convenience).
inline bytes_view as_bytes_view(std::vector<std::byte> const& v) noexcept
{
    return {v.data(), v.size()};
}

} // namespace camrelay::proto::ptp
