// Shared by the fuzz harnesses that drive the multipart splitter: feeds a body in pieces of one
// size, checking the parser's contract on the way (abort on violation), so every harness checks
// the same properties the same way.
#pragma once

#include "proto/http/multipart.hpp"

#include <algorithm>
#include <cstdlib>

namespace camrelay::test
{

/// Feeds `in` to `mp` `chunk` bytes at a time, then finish(); every event goes to `handle`,
/// which returns true to stop (done, error). Aborts when consumed exceeds the piece, need_more
/// leaves input unused, or finish() does not reach done or error within a few calls.
template <class Handle>
void feed_multipart_in_chunks(proto::http::multipart_parser& mp, proto::http::bytes_view in,
                              std::size_t chunk, Handle&& handle)
{
    namespace http = proto::http;
    bool stop = false;
    std::size_t pos = 0;
    while (pos < in.size() && !stop)
    {
        auto piece = in.subspan(pos, std::min(chunk, in.size() - pos));
        pos += piece.size();
        while (!stop)
        {
            auto r = mp.feed(piece);
            if (r.consumed > piece.size())
                std::abort();
            piece = piece.subspan(r.consumed);
            if (r.event == http::multipart_event::need_more)
            {
                if (!piece.empty())
                    std::abort();
                break;
            }
            stop = handle(r);
        }
    }
    for (int guard = 0; !stop; ++guard)
    {
        if (guard > 16)
            std::abort(); // finish() must reach done or error
        stop = handle(mp.finish());
    }
}

} // namespace camrelay::test
