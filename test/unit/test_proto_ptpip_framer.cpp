// proto/ptpip framer: any chunking of a multi-packet stream gives the same packets; bad and
// oversized length fields are errors as soon as they are seen.
#include "proto/ptpip/framer.hpp"
#include "proto/ptpip/packet.hpp"
#include "support/ptp_test_data.hpp"

#include <gtest/gtest.h>

namespace
{

namespace ptp = camrelay::proto::ptp;
namespace ptpip = camrelay::proto::ptpip;
namespace data = camrelay::test::ptp_data;
using data::from_hex;
using ptpip::errc;
using ptpip::frame_status;

struct outcome
{
    std::vector<ptp::byte_vector> packets;
    std::error_code error;
    std::size_t consumed = 0;
};

/// Feeds `in` in pieces of `chunk` bytes (libtorrent's feed_bytes idea).
outcome feed_in_chunks(ptpip::framer& f, ptp::bytes_view in, std::size_t chunk)
{
    outcome o;
    while (!in.empty())
    {
        auto piece = in.first(std::min(chunk, in.size()));
        in = in.subspan(piece.size());
        while (!piece.empty())
        {
            auto r = f.feed(piece);
            EXPECT_LE(r.consumed, piece.size());
            o.consumed += r.consumed;
            piece = piece.subspan(r.consumed);
            if (r.status == frame_status::packet)
                o.packets.emplace_back(f.packet().begin(), f.packet().end());
            else if (r.status == frame_status::error)
            {
                o.error = r.error;
                return o;
            }
            else
                EXPECT_TRUE(piece.empty()); // need_more means everything was taken
        }
    }
    return o;
}

/// Everything the fake responder sent on the standard command connection (EndData + response
/// share segments there), as one stream.
ptp::byte_vector responder_stream(std::string const& file, std::string const& ports)
{
    ptp::byte_vector all;
    for (auto const& r : data::tsv(file))
        if (r.direction == "R>C" && r.ports == ports)
            all.insert(all.end(), r.payload.begin(), r.payload.end());
    return all;
}

TEST(ProtoPtpipFramer, EveryChunkSizeGivesTheSamePackets)
{
    for (auto [file, ports, count] : {std::tuple{"std_tcp_payloads.tsv", "15740->56538", 24u},
                                      std::tuple{"fuji_tcp_payloads.tsv", "55740->42484", 24u}})
    {
        auto stream = responder_stream(file, ports);
        ASSERT_FALSE(stream.empty());
        ptpip::framer whole;
        auto reference = feed_in_chunks(whole, stream, stream.size());
        ASSERT_FALSE(reference.error);
        EXPECT_EQ(reference.packets.size(), count) << file;
        EXPECT_EQ(reference.consumed, stream.size());
        ptp::byte_vector joined;
        for (auto const& p : reference.packets)
            joined.insert(joined.end(), p.begin(), p.end());
        EXPECT_EQ(joined, stream);
        for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk)
        {
            ptpip::framer f;
            auto o = feed_in_chunks(f, stream, chunk);
            ASSERT_FALSE(o.error) << chunk;
            ASSERT_EQ(o.packets, reference.packets) << file << " chunk " << chunk;
            EXPECT_EQ(f.buffered(), 0u);
        }
    }
}

TEST(ProtoPtpipFramer, IncompleteTailIsBuffered)
{
    auto bytes = from_hex("0e000000 07000000 0120 00000000  0e000000 0700");
    ptpip::framer f;
    auto o = feed_in_chunks(f, bytes, 3);
    EXPECT_EQ(o.packets.size(), 1u);
    EXPECT_EQ(f.buffered(), 6u);
    auto rest = from_hex("0000 0120 01000000");
    o = feed_in_chunks(f, rest, 1);
    ASSERT_EQ(o.packets.size(), 1u);
    EXPECT_EQ(o.packets[0], from_hex("0e000000 07000000 0120 01000000"));
}

TEST(ProtoPtpipFramer, BadLengthsAreErrorsAtOnce)
{
    for (auto hex : {"00000000", "07000000", "04000000 0000"})
    {
        ptpip::framer f;
        auto bytes = from_hex(hex);
        auto r = f.feed(bytes);
        EXPECT_EQ(r.status, frame_status::error) << hex;
        EXPECT_EQ(r.error, errc::bad_length);
        EXPECT_EQ(r.consumed, 4u);
        // Sticky until reset.
        auto again = f.feed(from_hex("08000000 04000000"));
        EXPECT_EQ(again.status, frame_status::error);
        EXPECT_EQ(again.consumed, 0u);
        f.reset();
        again = f.feed(from_hex("08000000 04000000"));
        EXPECT_EQ(again.status, frame_status::packet);
    }
    // The limit is a constructor argument; an oversized length fails before its body arrives.
    ptpip::framer small(64);
    auto big = from_hex("41000000");
    auto r = small.feed(big);
    EXPECT_EQ(r.status, frame_status::error);
    EXPECT_EQ(r.error, errc::packet_too_large);
    ptpip::framer huge;
    r = huge.feed(from_hex("ffffffff 01"));
    EXPECT_EQ(r.error, errc::packet_too_large);
    EXPECT_EQ(r.consumed, 4u);
    ptpip::framer exact(64);
    auto ok = from_hex("40000000");
    ok.resize(64);
    EXPECT_EQ(exact.feed(ok).status, frame_status::packet);
}

TEST(ProtoPtpipFramer, ByteByByteWithGarbageAfterValidPackets)
{
    auto bytes = from_hex("08000000 0d000000 08000000 0e000000 03000000 ff");
    ptpip::framer f;
    auto o = feed_in_chunks(f, bytes, 1);
    EXPECT_EQ(o.packets.size(), 2u);
    EXPECT_EQ(o.error, errc::bad_length);
    EXPECT_EQ(o.consumed, 20u);
}

TEST(ProtoPtpipFramer, EmptyFeedIsNeedMore)
{
    ptpip::framer f;
    auto r = f.feed({});
    EXPECT_EQ(r.status, frame_status::need_more);
    EXPECT_EQ(r.consumed, 0u);
}

} // namespace
