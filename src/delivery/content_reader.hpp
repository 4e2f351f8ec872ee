// What a sink reads in streaming mode (spool = "none"): a photo's content as it comes off the
// camera, through a bounded buffer, instead of a spooled file.
#pragma once

#include "core/error.hpp"

#include <cstddef>
#include <span>
#include <string>

namespace camrelay::delivery {

class content_reader
{
public:
    virtual ~content_reader() = default;
    /// Blocks until bytes are there and copies at most out.size() of them into `out`. Returns 0
    /// at the end of the content, an error when the producer (the camera) failed or the
    /// delivery was stopped.
    virtual result<std::size_t> read(std::span<std::byte> out) = 0;
    /// Lower-case hex SHA-256 of the whole content; valid once read() returned 0.
    virtual std::string sha256_hex() const = 0;
};

} // namespace camrelay::delivery
