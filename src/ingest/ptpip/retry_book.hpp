// The objects of one camera that could not be described, fetched or stored: when to try each
// again, and whether it was reported already (object_handler::object_unreadable is called once per
// object until it reads: the pipeline counts every call). The first retry is at the next scan; each
// further failure doubles the wait (from `first_wait`) up to `max_wait`. Bounded: at most
// `max_entries` objects are remembered (the oldest entry goes first); a forgotten object is simply
// tried, and reported, again. Not thread-safe: one per camera thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>

namespace camrelay::ingest::ptpip
{

class retry_book
{
  public:
    using clock = std::chrono::steady_clock;

    explicit retry_book(clock::duration first_wait = std::chrono::seconds(30),
                        clock::duration max_wait = std::chrono::hours(1),
                        std::size_t max_entries = 10'000)
        : first_wait_(first_wait), max_wait_(max_wait), max_entries_(max_entries)
    {
    }

    /// Whether `key` may be tried now (true for an object never seen failing).
    bool due(std::string const& key, clock::time_point now) const;
    /// `key` failed at `now`. True when this is its first failure since it was last read (the
    /// caller reports it then).
    bool failed(std::string const& key, clock::time_point now);
    /// `key` was read. True when it had failed before (the caller reports it recovered).
    bool succeeded(std::string const& key);

    std::size_t size() const { return entries_.size(); }
    /// Failures in a row of `key` (0 when none).
    int failures(std::string const& key) const;

  private:
    struct entry
    {
        int failures = 0;
        clock::time_point next_try;
        clock::time_point first_failed;
    };
    clock::duration first_wait_;
    clock::duration max_wait_;
    std::size_t max_entries_;
    std::map<std::string, entry> entries_;
};

} // namespace camrelay::ingest::ptpip
