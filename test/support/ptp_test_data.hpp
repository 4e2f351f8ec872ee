// Loading the copied PTP/PTP-IP test data in test/data/ptp/ (see its README.md for provenance).
#pragma once

#include "proto/ptp/byte_io.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay::test::ptp_data
{

using bytes = camrelay::proto::ptp::byte_vector;

inline std::filesystem::path dir()
{
    return std::filesystem::path(CAMRELAY_TEST_SOURCE_DIR) / "data" / "ptp";
}

inline std::string text(std::string const& name)
{
    std::ifstream in(dir() / name, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

inline bytes binary(std::string const& name)
{
    auto s = text(name);
    bytes b(s.size());
    for (std::size_t i = 0; i < s.size(); ++i)
        b[i] = static_cast<std::byte>(static_cast<unsigned char>(s[i]));
    return b;
}

/// Hex digits to bytes; every non-hex character (':', ' ', ...) is skipped.
inline bytes from_hex(std::string_view s)
{
    bytes out;
    int hi = -1;
    for (char c : s)
    {
        int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                            : -1;
        if (v < 0)
            continue;
        if (hi < 0)
            hi = v;
        else
        {
            out.push_back(static_cast<std::byte>(hi * 16 + v));
            hi = -1;
        }
    }
    return out;
}

inline std::vector<std::string> lines(std::string const& name)
{
    std::vector<std::string> out;
    std::istringstream in(text(name));
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

/// One row of the synthetic libgphoto2 TSVs: frame, direction (C>R / R>C), ports, length, payload.
struct tsv_row
{
    int frame = 0;
    std::string direction;
    std::string ports;
    std::size_t length = 0;
    bytes payload;
};

inline std::vector<tsv_row> tsv(std::string const& name)
{
    std::vector<tsv_row> rows;
    for (auto const& line : lines(name))
    {
        std::istringstream in(line);
        tsv_row r;
        std::string hex;
        if (!(in >> r.frame >> r.direction >> r.ports >> r.length >> hex))
            continue;
        r.payload = from_hex(hex);
        rows.push_back(std::move(r));
    }
    return rows;
}

/// One message of the X-T10 trace: '>' client->camera, '<' camera->client.
struct trace_line
{
    char direction = 0;
    bytes message;
};

inline std::vector<trace_line> xt10_trace()
{
    std::vector<trace_line> out;
    for (auto const& line : lines("x-t10_wifi_traces.txt"))
        if (!line.empty() && (line[0] == '>' || line[0] == '<'))
            out.push_back({line[0], from_hex(line.substr(1))});
    return out;
}

/// The first line after the line containing `marker` that is not a comment, as bytes.
inline bytes hex_after(std::string const& name, std::string_view marker, int skip = 0)
{
    auto ls = lines(name);
    for (std::size_t i = 0; i < ls.size(); ++i)
    {
        if (ls[i].find(marker) == std::string::npos)
            continue;
        for (std::size_t j = i + 1; j < ls.size(); ++j)
        {
            if (ls[j].empty() || ls[j][0] == '#')
                continue;
            if (skip-- > 0)
                continue;
            return from_hex(ls[j]);
        }
    }
    return {};
}

} // namespace camrelay::test::ptp_data
