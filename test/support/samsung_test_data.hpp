// Loading the copied Samsung SNS test data in test/data/samsung/ (provenance in its README.md),
// and feeding the HTTP parsers at any chunk size.
#pragma once

#include "proto/http/multipart.hpp"
#include "proto/http/request_parser.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay::test::samsung_data
{

inline std::filesystem::path dir()
{
    return std::filesystem::path(CAMRELAY_TEST_SOURCE_DIR) / "data" / "samsung";
}

inline std::string read(std::string const& relative)
{
    std::ifstream in(dir() / relative, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

/// The published transcriptions start with `# ...` provenance lines: drop them.
inline std::string read_published(std::string const& name)
{
    auto text = read("published/" + name);
    while (text.starts_with("#"))
        text.erase(0, text.find('\n') + 1);
    return text;
}

/// Request vector base names (`01_gld_hotspot`, ...), sorted.
inline std::vector<std::string> request_vectors()
{
    std::vector<std::string> out;
    for (auto const& e : std::filesystem::directory_iterator(dir() / "vectors"))
    {
        auto n = e.path().filename().string();
        if (n.ends_with(".request.bin"))
            out.push_back(n.substr(0, n.size() - std::string_view(".request.bin").size()));
    }
    std::sort(out.begin(), out.end());
    return out;
}

inline proto::http::bytes_view bytes(std::string_view s)
{
    return {reinterpret_cast<std::byte const*>(s.data()), s.size()};
}

/// Everything a request parse produced, comparable across chunk sizes.
struct parsed_request
{
    std::vector<proto::http::parse_status> events; ///< consecutive body events merged
    proto::http::request req;
    std::string body;
    std::error_code error;
    std::size_t consumed = 0;
    proto::http::leniency_counters leniencies;

    bool operator==(parsed_request const& o) const
    {
        return events == o.events && req.method == o.req.method && req.target == o.req.target &&
               req.path == o.req.path && req.query == o.req.query &&
               req.authority == o.req.authority && req.version_minor == o.req.version_minor &&
               req.headers.fields == o.req.headers.fields && body == o.body && error == o.error &&
               consumed == o.consumed && leniencies.counts == o.leniencies.counts;
    }
};

/// Feeds `in` in pieces of `chunk` bytes until message_done or error; checks the need_more
/// contract (need_more only when the piece is used up).
inline parsed_request parse_request(std::string_view in, std::size_t chunk,
                                    proto::http::request_limits limits = {})
{
    using proto::http::parse_status;
    parsed_request out;
    proto::http::request_parser p(limits);
    std::size_t pos = 0;
    bool finished = false;
    while (!finished)
    {
        auto piece = bytes(in.substr(pos, std::min(chunk, in.size() - pos)));
        bool last_piece = pos + piece.size() >= in.size();
        while (true)
        {
            auto r = p.feed(piece);
            if (r.consumed > piece.size())
                throw std::logic_error("consumed more than given");
            piece = piece.subspan(r.consumed);
            pos += r.consumed;
            if (r.status == parse_status::need_more)
            {
                if (!piece.empty())
                    throw std::logic_error("need_more with input left");
                break;
            }
            if (r.status == parse_status::body)
            {
                out.body.append(reinterpret_cast<char const*>(r.body.data()), r.body.size());
                if (!out.events.empty() && out.events.back() == parse_status::body)
                    continue;
            }
            out.events.push_back(r.status);
            if (r.status == parse_status::message_done || r.status == parse_status::error)
            {
                out.error = r.error;
                finished = true;
                break;
            }
        }
        if (last_piece && !finished)
            break;
    }
    out.req = p.request();
    out.consumed = pos;
    out.leniencies = p.leniencies();
    return out;
}

/// One part as the multipart splitter delivered it.
struct parsed_part
{
    std::string name;
    std::optional<std::string> filename;
    std::string content_type;
    std::string data;
    bool ended = false;
    bool operator==(parsed_part const&) const = default;
};

struct parsed_multipart
{
    std::vector<parsed_part> parts;
    bool done = false;
    std::error_code error;
    std::array<std::uint32_t, proto::http::multipart_leniency_count> leniencies{};
    bool operator==(parsed_multipart const&) const = default;
};

inline parsed_multipart parse_multipart(std::string_view body, std::string const& boundary,
                                        std::size_t chunk,
                                        proto::http::multipart_limits limits = {})
{
    using proto::http::multipart_event;
    parsed_multipart out;
    proto::http::multipart_parser mp(boundary, limits);
    auto handle = [&](proto::http::multipart_result const& r)
    {
        switch (r.event)
        {
        case multipart_event::part_begin:
            out.parts.push_back(
                {mp.part().name, mp.part().filename, mp.part().content_type, {}, false});
            break;
        case multipart_event::part_data:
            out.parts.back().data.append(reinterpret_cast<char const*>(r.data.data()),
                                         r.data.size());
            break;
        case multipart_event::part_end:
            out.parts.back().ended = true;
            break;
        case multipart_event::done:
            out.done = true;
            break;
        case multipart_event::error:
            out.error = r.error;
            break;
        case multipart_event::need_more:
            break;
        }
        return r.event == multipart_event::done || r.event == multipart_event::error;
    };
    std::size_t pos = 0;
    bool stop = false;
    while (pos < body.size() && !stop)
    {
        auto piece = bytes(body.substr(pos, std::min(chunk, body.size() - pos)));
        pos += piece.size();
        while (!stop)
        {
            auto r = mp.feed(piece);
            if (r.consumed > piece.size())
                throw std::logic_error("consumed more than given");
            piece = piece.subspan(r.consumed);
            if (r.event == multipart_event::need_more)
            {
                if (!piece.empty())
                    throw std::logic_error("need_more with input left");
                break;
            }
            stop = handle(r);
        }
    }
    while (!stop)
        stop = handle(mp.finish());
    for (std::size_t i = 0; i < out.leniencies.size(); ++i)
        out.leniencies[i] = mp.leniency_used(static_cast<proto::http::multipart_leniency>(i));
    return out;
}

} // namespace camrelay::test::samsung_data
