// proto/ptpip replayed on the libgphoto2 2.5.30 loopback captures (test/data/ptp/, provenance in
// its README.md): our session, asked for the same operations, writes exactly libgphoto2's bytes,
// and reads the responder's bytes (at every chunk size) into the expected events. Plus the X-T10
// trace and the X-T100 init capture.
#include "proto/ptp/dataset.hpp"
#include "proto/ptp/fuji.hpp"
#include "proto/ptpip/event_channel.hpp"
#include "proto/ptpip/fuji.hpp"
#include "proto/ptpip/session.hpp"
#include "support/ptp_test_data.hpp"

#include <gtest/gtest.h>

namespace
{

namespace ptp = camrelay::proto::ptp;
namespace ptpip = camrelay::proto::ptpip;
namespace fuji = camrelay::proto::ptpip::fuji;
namespace data = camrelay::test::ptp_data;
using data::from_hex;
using ptp::device_prop;

ptpip::guid libgphoto_guid()
{
    auto b = from_hex("559dae732da9d77b8300e830e6908190");
    ptpip::guid g{};
    std::copy(b.begin(), b.end(), g.begin());
    return g;
}

struct replay_result
{
    ptp::byte_vector written;
    std::vector<ptpip::session_event> events;
};

/// Runs `s` against the responder's TCP segments, each fed `chunk` bytes at a time; time advances
/// 10 ms per piece and 60 ms per segment (a camera answers only after the request, and the Fuji
/// post-init delay must pass before the first request goes out).
replay_result run(ptpip::session& s, std::vector<ptp::byte_vector> const& segments,
                  std::size_t chunk)
{
    replay_result r;
    auto now = ptpip::clock::time_point{};
    auto drain = [&]
    {
        auto out = s.pending_output();
        r.written.insert(r.written.end(), out.begin(), out.end());
        s.consume_output(out.size());
        while (auto e = s.next_event())
            r.events.push_back(std::move(*e));
    };
    drain();
    for (auto const& segment : segments)
    {
        ptp::bytes_view reply(segment);
        while (!reply.empty())
        {
            auto piece = reply.first(std::min(chunk, reply.size()));
            auto fr = s.receive(piece);
            EXPECT_TRUE(fr) << fr.error.message();
            EXPECT_EQ(fr.consumed, piece.size());
            reply = reply.subspan(piece.size());
            now += std::chrono::milliseconds(10);
            s.on_tick(now);
            drain();
        }
        now += std::chrono::milliseconds(60);
        s.on_tick(now);
        drain();
    }
    for (int i = 0; i < 10; ++i)
    {
        now += std::chrono::milliseconds(10);
        s.on_tick(now);
        drain();
    }
    return r;
}

ptp::byte_vector concat(std::vector<data::tsv_row> const& rows, std::string const& direction,
                        std::string const& ports, std::vector<int> skip = {})
{
    ptp::byte_vector all;
    for (auto const& r : rows)
        if (r.direction == direction && r.ports == ports &&
            std::find(skip.begin(), skip.end(), r.frame) == skip.end())
            all.insert(all.end(), r.payload.begin(), r.payload.end());
    return all;
}

std::vector<ptp::byte_vector> segments(std::vector<data::tsv_row> const& rows,
                                       std::string const& ports, std::vector<int> skip = {})
{
    std::vector<ptp::byte_vector> out;
    for (auto const& r : rows)
        if (r.direction == "R>C" && r.ports == ports &&
            std::find(skip.begin(), skip.end(), r.frame) == skip.end())
            out.push_back(r.payload);
    return out;
}

template <class T> std::vector<T> only(std::vector<ptpip::session_event> const& events)
{
    std::vector<T> out;
    for (auto const& e : events)
        if (auto const* t = std::get_if<T>(&e))
            out.push_back(*t);
    return out;
}

ptp::byte_vector data_of(std::vector<ptpip::session_event> const& events, ptpip::transaction_id tid)
{
    ptp::byte_vector out;
    for (auto const& d : only<ptpip::data_received>(events))
        if (d.tid == tid)
            out.insert(out.end(), d.bytes.begin(), d.bytes.end());
    return out;
}

void begin_all(ptpip::session& s, std::vector<ptpip::operation> const& ops,
               std::vector<ptpip::transaction_id> const& tids)
{
    for (std::size_t i = 0; i < ops.size(); ++i)
    {
        auto tid = s.begin(ops[i]);
        ASSERT_TRUE(tid);
        EXPECT_EQ(*tid, tids[i]);
    }
}

TEST(ProtoPtpipReplay, StandardSessionWritesLibgphotoBytesExactly)
{
    auto rows = data::tsv("std_tcp_payloads.tsv");
    auto expected_out = concat(rows, "C>R", "56538->15740");
    auto reply = concat(rows, "R>C", "15740->56538");
    std::vector<ptpip::operation> ops{
        ptpip::ops::open_session(1),
        ptpip::ops::get_device_info(),
        ptpip::ops::get_storage_ids(),
        ptpip::ops::get_object_handles(0xFFFFFFFF, 0, 0xFFFFFFFF),
        ptpip::ops::get_object_handles(0x00010001, 0, 0xFFFFFFFF),
        ptpip::ops::get_object_info(1),
        ptpip::ops::get_object_info(2),
        ptpip::ops::get_object(1),
    };
    std::optional<replay_result> reference;
    for (std::size_t chunk : {reply.size(), std::size_t{1}, std::size_t{2}, std::size_t{3},
                              std::size_t{7}, std::size_t{13}, std::size_t{64}, std::size_t{100}})
    {
        ptpip::session_options o;
        o.initiator_guid = libgphoto_guid();
        o.friendly_name = "vm";
        ptpip::session s(o, {});
        begin_all(s, ops, {0, 1, 2, 3, 4, 5, 6, 7});
        s.close(); // libgphoto2 ends with CloseSession (tid 8)
        // Whole stream at once (chunk == size) and every segment in pieces.
        auto r = chunk == reply.size() ? run(s, {reply}, chunk)
                                       : run(s, segments(rows, "15740->56538"), chunk);
        EXPECT_EQ(r.written, expected_out) << "chunk " << chunk;
        EXPECT_EQ(s.current_state(), ptpip::session::state::closed);

        auto conn = only<ptpip::connected>(r.events);
        ASSERT_EQ(conn.size(), 1u);
        EXPECT_EQ(conn[0].connection_number, 1u);
        EXPECT_EQ(conn[0].responder_name, "FakeCam");
        EXPECT_EQ(conn[0].protocol_version, ptpip::protocol_version_1_0);

        auto done = only<ptpip::transaction_done>(r.events);
        ASSERT_EQ(done.size(), 9u);
        for (std::size_t i = 0; i < done.size(); ++i)
        {
            EXPECT_EQ(done[i].tid, i);
            EXPECT_TRUE(done[i].ok());
        }
        EXPECT_EQ(done[1].data_bytes, 127u);
        EXPECT_EQ(done[8].operation, 0x1003);

        auto di = ptp::decode_device_info(data_of(r.events, 1));
        ASSERT_TRUE(di);
        EXPECT_EQ(di->model, "FakeCam");
        EXPECT_EQ(*ptp::decode_uint32_array(data_of(r.events, 2)),
                  std::vector<std::uint32_t>{0x00010001});
        EXPECT_EQ(*ptp::decode_uint32_array(data_of(r.events, 3)),
                  (std::vector<std::uint32_t>{1, 2}));
        auto oi = ptp::decode_object_info(data_of(r.events, 6));
        ASSERT_TRUE(oi);
        EXPECT_EQ(oi->filename, "DSCF0002.JPG");
        EXPECT_EQ(oi->compressed_size, 32u);
        auto jpeg = data_of(r.events, 7);
        ASSERT_EQ(jpeg.size(), 32u);
        EXPECT_EQ(jpeg[0], std::byte{0xFF});
        EXPECT_EQ(jpeg[1], std::byte{0xD8});
        auto started = only<ptpip::data_started>(r.events);
        ASSERT_EQ(started.size(), 7u);
        EXPECT_EQ(started[0].total, 127u);

        if (!reference)
            reference = std::move(r);
        else
            EXPECT_EQ(r.events.size(), reference->events.size()) << chunk;
    }
}

TEST(ProtoPtpipReplay, StandardEventChannel)
{
    auto rows = data::tsv("std_tcp_payloads.tsv");
    ptpip::event_channel ch({ptpip::dialect::ptpip, 1, 64 * 1024, std::chrono::seconds(5)}, {});
    auto out = ch.pending_output();
    EXPECT_EQ(ptp::byte_vector(out.begin(), out.end()), concat(rows, "C>R", "56550->15740"));
    ch.consume_output(out.size());
    auto reply = concat(rows, "R>C", "15740->56550");
    for (std::size_t i = 0; i < reply.size(); ++i) // byte by byte
        ASSERT_TRUE(ch.receive(ptp::bytes_view(reply).subspan(i, 1)));
    EXPECT_TRUE(ch.ready());
    ASSERT_TRUE(std::holds_alternative<ptpip::event_channel_ready>(*ch.next_event()));
    auto e = ch.next_event();
    ASSERT_TRUE(e);
    auto const& ev = std::get<ptpip::camera_event>(*e);
    EXPECT_EQ(ev.code, ptp::to_underlying(ptp::event_code::object_added));
    EXPECT_EQ(ev.tid, ptp::no_transaction);
    EXPECT_EQ(ev.params, std::vector<std::uint32_t>{3});
    EXPECT_FALSE(ch.next_event());
}

TEST(ProtoPtpipReplay, FujiSessionWritesLibgphotoBytesExactly)
{
    auto rows = data::tsv("fuji_tcp_payloads.tsv");
    // libgphoto2 sends the init twice (frames 4 and 8); we send it once, so drop the second init
    // and its second ack (frame 9).
    auto expected_out = concat(rows, "C>R", "42484->55740", {8});
    auto reply = concat(rows, "R>C", "55740->42484", {9});
    ASSERT_EQ(reply.size(), 857u);      // without the second ack
    fuji::encode_goodbye(expected_out); // quirk::send_goodbye (libgphoto2 does not send it)
    std::vector<ptpip::operation> ops{
        ptpip::ops::open_session(1),
        ptpip::ops::set_device_prop_value_u16(device_prop::fuji_client_state, 5),
        ptpip::ops::get_device_prop_value(device_prop::fuji_remote_version),
        ptpip::ops::set_device_prop_value_u32(device_prop::fuji_remote_version, 0x00020004),
        ptpip::ops::initiate_open_capture(0, 0),
        ptpip::ops::get_device_info(),
        ptpip::ops::get_storage_ids(),
        ptpip::ops::get_object_handles(0xFFFFFFFF, 0, 0xFFFFFFFF),
        ptpip::ops::get_object_handles(0x00010001, 0, 0xFFFFFFFF),
        ptpip::ops::get_object_info(1),
        ptpip::ops::get_object_info(2),
        ptpip::ops::get_object(1),
        ptpip::ops::set_device_prop_value_u16(device_prop::fuji_priority_mode, 1),
    };
    for (std::size_t chunk :
         {reply.size(), std::size_t{1}, std::size_t{5}, std::size_t{12}, std::size_t{33}})
    {
        ptpip::session_options o;
        o.wire = ptpip::dialect::fuji;
        o.initiator_guid = libgphoto_guid();
        o.friendly_name = "vm";
        o.quirks = ptp::fuji_x_wifi_quirks;
        ptpip::session s(o, {});
        begin_all(s, ops, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        s.close();
        auto r = run(s, segments(rows, "55740->42484", {9}), chunk);
        EXPECT_EQ(r.written, expected_out) << "chunk " << chunk;
        EXPECT_EQ(s.current_state(), ptpip::session::state::closed);

        auto conn = only<ptpip::connected>(r.events);
        ASSERT_EQ(conn.size(), 1u);
        EXPECT_EQ(conn[0].responder_name, "X-FAKE");
        EXPECT_EQ(conn[0].connection_number, 0u);
        auto done = only<ptpip::transaction_done>(r.events);
        ASSERT_EQ(done.size(), 14u);
        for (auto const& d : done)
            EXPECT_TRUE(d.ok());
        EXPECT_EQ(ptp::fuji::decode_u32_value(data_of(r.events, 2)), 0x00020004u);
        auto di = ptp::decode_device_info(data_of(r.events, 5));
        ASSERT_TRUE(di);
        EXPECT_EQ(di->model, "X-FAKE");
        auto oi = ptp::decode_object_info(data_of(r.events, 9));
        ASSERT_TRUE(oi);
        EXPECT_EQ(oi->filename, "DSCF0001.JPG");
        EXPECT_EQ(data_of(r.events, 11).size(), 32u);
        EXPECT_EQ(only<ptpip::session_closed>(r.events).size(), 1u);
    }
}

TEST(ProtoPtpipReplay, XT10TraceClientMessagesReencodeExactly)
{
    int containers = 0;
    for (auto const& line : data::xt10_trace())
    {
        if (line.message.size() == fuji::init_request_size)
        {
            auto init = fuji::decode_init_request(line.message);
            ASSERT_TRUE(init);
            EXPECT_EQ(init->client_name, "HackedClient");
            EXPECT_EQ(init->client_guid, fuji::app_guid);
            ptp::byte_vector again;
            ASSERT_TRUE(fuji::encode(*init, again));
            EXPECT_EQ(again, line.message);
            continue;
        }
        if (line.message.size() == 12 && ptp::load_u32(line.message.data() + 4) == 5)
        {
            auto fail = fuji::decode_init_reply(line.message);
            ASSERT_TRUE(fail);
            EXPECT_EQ(std::get<ptpip::init_fail>(*fail).reason, 0x2019u);
            continue;
        }
        auto f = fuji::decode(line.message);
        ASSERT_TRUE(f) << f.error().message();
        ptp::byte_vector again;
        if (auto const* c = std::get_if<fuji::container>(&*f))
        {
            ++containers;
            ASSERT_TRUE(fuji::encode(*c, again));
            if (c->type == fuji::container_type::response)
            {
                // GetPartialObject's response: Param1 = bytes sent (the whole file here).
                EXPECT_EQ(c->code, 0x2001);
                EXPECT_TRUE(c->params == std::vector<std::uint32_t>{0x00088168} ||
                            c->params == std::vector<std::uint32_t>{0x0009DA79});
            }
        }
        else
            fuji::encode_goodbye(again);
        EXPECT_EQ(again, line.message);
    }
    EXPECT_EQ(containers, 25);
}

TEST(ProtoPtpipReplay, XT10RemoteConnectWithInitFailThenRetry)
{
    ptpip::session_options o;
    o.wire = ptpip::dialect::fuji;
    o.initiator_guid = fuji::app_guid;
    o.friendly_name = "HackedClient";
    o.quirks = ptp::fuji_x_wifi_quirks;
    ptpip::session s(o, {});
    auto init = data::hex_after("x-t10_wifi_traces.txt", "# 82-byte init");
    auto out = s.pending_output();
    EXPECT_EQ(ptp::byte_vector(out.begin(), out.end()), init);
    s.consume_output(out.size());
    ASSERT_TRUE(s.receive(from_hex("0c:00:00:00:05:00:00:00:19:20:00:00")));
    auto e = s.next_event();
    ASSERT_TRUE(e);
    EXPECT_EQ(std::get<ptpip::init_failed>(*e).reason, 0x2019u);
    EXPECT_TRUE(std::get<ptpip::init_failed>(*e).retryable);
    EXPECT_EQ(s.current_state(), ptpip::session::state::init_refused);
    s.retry_init(); // same socket (libgphoto2, fudge)
    out = s.pending_output();
    EXPECT_EQ(ptp::byte_vector(out.begin(), out.end()), init);
}

TEST(ProtoPtpipReplay, XT100InitCaptureAndAckPrefix)
{
    auto lines = data::lines("x-t100_init_excerpt.txt");
    ptp::byte_vector init;
    ptp::byte_vector ack;
    bool in_ack = false;
    for (auto const& l : lines)
    {
        if (l.rfind("# camera -> client", 0) == 0)
            in_ack = true;
        if (l.empty() || l[0] == '#')
            continue;
        // "00000000  52 00 ..": drop the offset column and the ".." placeholders.
        auto hex = l.substr(10);
        auto dots = hex.find("..");
        if (dots != std::string::npos)
            hex = hex.substr(0, dots);
        auto b = from_hex(hex);
        (in_ack ? ack : init).insert((in_ack ? ack : init).end(), b.begin(), b.end());
    }
    ASSERT_EQ(init.size(), 82u);
    ptp::byte_vector ours;
    ASSERT_TRUE(
        fuji::encode(fuji::init_request{fuji::app_guid, "HackedClient", fuji::init_magic}, ours));
    EXPECT_EQ(ours, init);
    ASSERT_EQ(ack.size(), 24u);
    EXPECT_EQ(ptp::load_u32(ack.data()), fuji::init_ack_size);
    EXPECT_EQ(ptp::load_u32(ack.data() + 4), 2u);
    EXPECT_EQ(ptp::load_u32(ack.data() + 8), 0u);
    // Complete the truncated ack to its 68 bytes and parse it: connection 0, GUID prefix.
    ack.resize(fuji::init_ack_size);
    auto reply = fuji::decode_init_reply(ack);
    ASSERT_TRUE(reply);
    auto const& a = std::get<fuji::init_ack>(*reply);
    EXPECT_EQ(a.connection_number, 0u);
    EXPECT_EQ(a.camera_guid[0], std::byte{0x08});
    EXPECT_EQ(a.camera_guid[11], std::byte{0x57});
}

TEST(ProtoPtpipReplay, XT1EventPacketsAndPaddedRequest)
{
    auto added = fuji::decode(data::hex_after("x-t1_payloads.txt", "## Event-port (55741)"));
    ASSERT_TRUE(added);
    auto const& c = std::get<fuji::container>(*added);
    EXPECT_EQ(c.type, fuji::container_type::event);
    EXPECT_EQ(c.code, ptp::to_underlying(ptp::event_code::fuji_object_added));
    EXPECT_EQ(c.transaction_id, 1u);
    EXPECT_EQ(c.params, (std::vector<std::uint32_t>{6, 6, 0, 0}));
    auto preview = fuji::decode(data::hex_after("x-t1_payloads.txt", "## Event-port (55741)", 1));
    ASSERT_TRUE(preview);
    auto const& p = std::get<fuji::container>(*preview);
    EXPECT_EQ(p.code, ptp::to_underlying(ptp::event_code::fuji_preview_available));
    EXPECT_EQ(p.params[2], 0xF129u);

    // Fuji event channel: no handshake, events as containers, byte by byte.
    ptpip::event_channel ch({ptpip::dialect::fuji, 0, 4096, std::chrono::seconds(1)}, {});
    EXPECT_TRUE(ch.pending_output().empty());
    auto bytes = data::hex_after("x-t1_payloads.txt", "## Event-port (55741)");
    for (std::size_t i = 0; i < bytes.size(); ++i)
        ASSERT_TRUE(ch.receive(ptp::bytes_view(bytes).subspan(i, 1)));
    EXPECT_TRUE(std::holds_alternative<ptpip::event_channel_ready>(*ch.next_event()));
    auto ev = ch.next_event();
    ASSERT_TRUE(ev);
    EXPECT_EQ(std::get<ptpip::camera_event>(*ev).code, 0xC004);

    // quirk::pad_request_params reproduces ptp-ip's 5-slot request (without its length prefix).
    ptpip::session_options o;
    o.wire = ptpip::dialect::fuji;
    o.quirks = ptp::quirk_set{ptp::quirk::pad_request_params};
    ptpip::session s(o, {});
    s.consume_output(s.pending_output().size());
    fuji::init_ack ack{};
    ptp::byte_vector ack_bytes;
    ASSERT_TRUE(fuji::encode(ack, ack_bytes));
    ASSERT_TRUE(s.receive(ack_bytes));
    ASSERT_TRUE(s.begin(ptpip::ops::open_session()));
    s.consume_output(s.pending_output().size());
    ASSERT_TRUE(s.receive(from_hex("0c000000 0300 0120 00000000")));
    auto tid = s.begin(ptpip::ops::get_device_prop_value(device_prop::fuji_film_simulation));
    ASSERT_TRUE(tid);
    EXPECT_EQ(*tid, 1u);
    auto out = s.pending_output();
    auto expected = data::hex_after("x-t1_payloads.txt", "## ptp-ip unit-test vector");
    ASSERT_EQ(out.size(), 4 + expected.size());
    EXPECT_EQ(ptp::load_u32(out.data()), 0x20u);
    EXPECT_EQ(ptp::byte_vector(out.begin() + 4, out.end()), expected);
}

} // namespace
