// Fuzzes the lenient HTTP request parser and, for multipart requests, the multipart splitter.
// Input: the bytes a client would send (possibly several pipelined requests).
// Properties checked (abort on violation), for EVERY chunk size 1..N (N capped at 4096):
//  * the event sequence (bodies merged), the request heads, the body bytes, the consumed count
//    and the final error are identical to feeding the input whole;
//  * need_more only when the piece is used up; consumed never exceeds the piece;
//  * body bytes never exceed Content-Length / the body limit.
#include "multipart_chunks.hpp"
#include "proto/http/multipart.hpp"
#include "proto/http/request_parser.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace
{

namespace http = camrelay::proto::http;

struct outcome
{
    std::string log; ///< events, heads and bodies, serialised
    std::error_code error;
    std::size_t consumed = 0;
    std::string multipart_body; ///< body of the first multipart request
    std::string boundary;
    bool operator==(outcome const& o) const
    {
        return log == o.log && error == o.error && consumed == o.consumed;
    }
};

outcome run(http::bytes_view in, std::size_t chunk)
{
    http::request_limits limits;
    limits.max_header_bytes = 2048;
    limits.max_body_bytes = 1 << 16;
    http::request_parser p(limits);
    outcome out;
    bool in_body = false;
    int messages = 0;
    std::size_t pos = 0;
    while (true)
    {
        auto piece = in.subspan(pos, std::min(chunk, in.size() - pos));
        bool last = pos + piece.size() >= in.size();
        bool stop = false;
        while (true)
        {
            auto r = p.feed(piece);
            if (r.consumed > piece.size())
                std::abort();
            piece = piece.subspan(r.consumed);
            pos += r.consumed;
            if (r.status == http::parse_status::need_more)
            {
                if (!piece.empty())
                    std::abort();
                break;
            }
            if (r.status == http::parse_status::body)
            {
                if (!in_body)
                    out.log += "B:";
                in_body = true;
                out.log.append(reinterpret_cast<char const*>(r.body.data()), r.body.size());
                if (messages == 0 && !out.boundary.empty())
                    out.multipart_body.append(reinterpret_cast<char const*>(r.body.data()),
                                              r.body.size());
                if (p.body_received() > limits.max_body_bytes ||
                    (!p.request().chunked && p.body_received() > p.request().content_length))
                    std::abort();
                continue;
            }
            in_body = false;
            if (r.status == http::parse_status::headers_done)
            {
                auto const& q = p.request();
                out.log += "\nH:" + q.method + " " + q.path + "?" + q.query + " " + q.authority;
                for (auto const& [n, v] : q.headers.fields)
                    out.log += "\n" + n + "=" + v;
                if (messages == 0)
                    if (auto ct = q.headers.find("content-type"))
                        (void)http::parse_boundary(*ct, out.boundary);
                continue;
            }
            if (r.status == http::parse_status::message_done)
            {
                out.log += "\nD";
                if (++messages > 8)
                {
                    stop = true;
                    break;
                }
                p.reset();
                continue;
            }
            out.error = r.error;
            stop = true;
            break;
        }
        if (stop || last)
            break;
    }
    out.consumed = pos;
    for (std::size_t i = 0; i < http::leniency_count; ++i)
        out.log += " " + std::to_string(p.leniencies()[static_cast<http::leniency>(i)]);
    return out;
}

std::string split(std::string const& body, std::string const& boundary, std::size_t chunk)
{
    http::multipart_limits limits;
    limits.max_part_header_bytes = 512;
    http::multipart_parser mp(boundary, limits);
    std::string log;
    auto handle = [&](http::multipart_result const& r)
    {
        switch (r.event)
        {
        case http::multipart_event::part_begin:
            log += "\nP:" + mp.part().name + "|" + mp.part().filename.value_or("-") + "|" +
                   mp.part().content_type + "\n";
            break;
        case http::multipart_event::part_data:
            log.append(reinterpret_cast<char const*>(r.data.data()), r.data.size());
            break;
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
    http::bytes_view in(reinterpret_cast<std::byte const*>(body.data()), body.size());
    camrelay::test::feed_multipart_in_chunks(mp, in, chunk, handle);
    return log;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    http::bytes_view in(reinterpret_cast<std::byte const*>(data), size);
    auto whole = run(in, size + 1);
    std::size_t max_chunk = std::min<std::size_t>(size, 4096);
    for (std::size_t chunk = 1; chunk <= max_chunk; ++chunk)
        if (!(run(in, chunk) == whole))
            std::abort();
    if (!whole.boundary.empty())
    {
        auto ref = split(whole.multipart_body, whole.boundary, whole.multipart_body.size() + 1);
        auto n = std::min<std::size_t>(whole.multipart_body.size(), 4096);
        for (std::size_t chunk = 1; chunk <= n; ++chunk)
            if (split(whole.multipart_body, whole.boundary, chunk) != ref)
                std::abort();
    }
    return 0;
}
