// Fuzzes the multipart/form-data splitter. Input: a Content-Type value up to the first LF
// (the boundary is taken from it with parse_boundary; without one, "B" is used), then the body.
// Properties checked (abort on violation), for EVERY chunk size 1..N (N capped at 4096):
//  * the event sequence, part headers and part bytes equal those of feeding the body whole;
//  * need_more only when the piece is used up; consumed never exceeds the piece;
//  * finish() reaches done or error within a few calls;
//  * internal buffering stays small: a part_data span that does not point into the input is at
//    most a delimiter long (+2).
#include "multipart_chunks.hpp"
#include "proto/http/multipart.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace
{

namespace http = camrelay::proto::http;

std::string split(std::string_view body, std::string const& boundary, std::size_t chunk)
{
    http::multipart_limits limits;
    limits.max_part_header_bytes = 256;
    http::multipart_parser mp(boundary, limits);
    std::string log;
    http::bytes_view all(reinterpret_cast<std::byte const*>(body.data()), body.size());
    auto handle = [&](http::multipart_result const& r)
    {
        switch (r.event)
        {
        case http::multipart_event::part_begin:
            log += "\nP:" + mp.part().name + "|" + mp.part().filename.value_or("-") + "|" +
                   mp.part().content_type + "|" + std::to_string(mp.part().headers.fields.size()) +
                   "\n";
            break;
        case http::multipart_event::part_data:
        {
            bool inside = !all.empty() && r.data.data() >= all.data() &&
                          r.data.data() + r.data.size() <= all.data() + all.size();
            if (!inside && r.data.size() > boundary.size() + 6)
                std::abort();
            log.append(reinterpret_cast<char const*>(r.data.data()), r.data.size());
            break;
        }
        case http::multipart_event::part_end:
            log += "\nE";
            break;
        case http::multipart_event::done:
            log += "\nD";
            return true;
        case http::multipart_event::error:
            log += "\nX" + std::to_string(r.error.value());
            return true;
        case http::multipart_event::need_more:
            break;
        }
        return false;
    };
    camrelay::test::feed_multipart_in_chunks(mp, all, chunk, handle);
    for (std::size_t i = 0; i < http::multipart_leniency_count; ++i)
        log += " " + std::to_string(mp.leniency_used(static_cast<http::multipart_leniency>(i)));
    return log;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    std::string_view in(reinterpret_cast<char const*>(data), size);
    auto nl = in.find('\n');
    if (nl == std::string_view::npos)
        return 0;
    std::string boundary;
    if (http::parse_boundary(in.substr(0, nl), boundary))
        boundary = "B";
    auto body = in.substr(nl + 1);
    auto whole = split(body, boundary, body.size() + 1);
    auto n = std::min<std::size_t>(body.size(), 4096);
    for (std::size_t chunk = 1; chunk <= n; ++chunk)
        if (split(body, boundary, chunk) != whole)
            std::abort();
    return 0;
}
