// Streaming mode's bounded buffer between a camera (the producer, on its camera thread) and a
// sink (the consumer, on a delivery thread): at most `capacity` bytes are held whatever the
// file size; the producer blocks while it is full, the consumer while it is empty. SHA-256 is
// computed on the way in. Either side ends it: the producer with finish(error or none), the
// consumer with close() (the producer's next write fails); a stop request ends both.
#pragma once

#include "delivery/content_reader.hpp"
#include "delivery/sink.hpp"

#include "core/sha256.hpp"

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <system_error>
#include <vector>

namespace camrelay::pipeline {

class stream_buffer final : public delivery::content_reader
{
public:
    static constexpr std::size_t default_capacity = 4 * 256 * 1024;

    stream_buffer(std::size_t capacity, std::stop_token stop);

    /// Producer: copies `chunk` in, blocking while the buffer is full. An error when the
    /// consumer closed, or stop was requested.
    std::error_code write(std::span<const std::byte> chunk);
    /// Producer: no more data. With an error the consumer's read() fails instead of ending.
    void finish(std::error_code ec = {});

    /// Consumer: see content_reader.
    result<std::size_t> read(std::span<std::byte> out) override;
    std::string sha256_hex() const override;
    /// Consumer: done reading (success or not); unblocks and fails the producer's writes.
    void close();

    std::size_t capacity() const { return data_.size(); }
    /// The most bytes ever held at once.
    std::size_t high_water() const;
    /// Bytes written by the producer so far.
    std::uint64_t written() const;

private:
    mutable std::mutex mutex_;
    std::condition_variable_any cv_;
    std::stop_token stop_;
    std::vector<std::byte> data_;
    std::size_t head_ = 0;  ///< index of the oldest byte
    std::size_t size_ = 0;  ///< bytes held
    std::size_t high_water_ = 0;
    std::uint64_t written_ = 0;
    bool finished_ = false;
    bool closed_ = false;
    std::error_code error_;
    sha256 hash_;
    std::string hex_;
};

/// Streaming mode: the right to run one delivery to a sink outside the job queue, handed out
/// by the scheduler while the sink may run (its device present). The scheduler requests stop()
/// when the device leaves or on shutdown; the sink is not rebuilt while a lease is held.
class stream_lease
{
public:
    virtual ~stream_lease() = default;
    virtual delivery::sink& sink() = 0;
    virtual std::stop_token stop() const = 0;
    /// The delivery's outcome: failures hold further streams to this sink back (backoff).
    virtual void report(delivery::outcome const& out) = 0;
};

/// Null when the sink cannot take a stream now (device away, backing off, shutting down).
using stream_gate = std::function<std::unique_ptr<stream_lease>(std::string const& sink)>;

} // namespace camrelay::pipeline
