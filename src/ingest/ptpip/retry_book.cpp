#include "ingest/ptpip/retry_book.hpp"

#include <algorithm>

namespace camrelay::ingest::ptpip
{

bool retry_book::due(std::string const& key, clock::time_point now) const
{
    auto it = entries_.find(key);
    return it == entries_.end() || now >= it->second.next_try;
}

bool retry_book::failed(std::string const& key, clock::time_point now)
{
    auto it = entries_.find(key);
    bool const first = it == entries_.end();
    if (first)
    {
        if (entries_.size() >= max_entries_ && max_entries_ > 0)
        {
            auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                           [](auto const& a, auto const& b) {
                                               return a.second.first_failed < b.second.first_failed;
                                           });
            entries_.erase(oldest);
        }
        it = entries_.emplace(key, entry{0, now, now}).first;
    }
    auto& e = it->second;
    ++e.failures;
    // First failure: tried again at the next scan. Then first_wait, doubling, up to max_wait.
    clock::duration wait{0};
    if (e.failures >= 2)
    {
        wait = first_wait_;
        for (int i = 2; i < e.failures && wait < max_wait_; ++i)
            wait *= 2;
        wait = std::min(wait, max_wait_);
    }
    e.next_try = now + wait;
    return first;
}

bool retry_book::succeeded(std::string const& key)
{
    return entries_.erase(key) > 0;
}

int retry_book::failures(std::string const& key) const
{
    auto it = entries_.find(key);
    return it == entries_.end() ? 0 : it->second.failures;
}

} // namespace camrelay::ingest::ptpip
