// proto/ptpip session and event_channel state machines on synthetic responder bytes: data-in,
// data-out chunking, GetPartialObject, timeouts with injected time, ordering violations.
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
using camrelay::test::ptp_data::from_hex;
using ptpip::errc;
using namespace std::chrono_literals;
using state = ptpip::session::state;

ptp::byte_vector enc(ptpip::packet const& p)
{
    return *ptpip::encode(p);
}

ptp::byte_vector take(ptpip::session& s)
{
    auto out = s.pending_output();
    ptp::byte_vector b(out.begin(), out.end());
    s.consume_output(out.size());
    return b;
}

std::vector<ptpip::session_event> events(ptpip::session& s)
{
    std::vector<ptpip::session_event> v;
    while (auto e = s.next_event())
        v.push_back(std::move(*e));
    return v;
}

/// A standard session past its Init Ack, with OpenSession done; output drained.
ptpip::session open_standard(ptpip::session_options o = {})
{
    ptpip::session s(o, {});
    take(s);
    EXPECT_TRUE(s.receive(enc(ptpip::init_command_ack{1, {}, "Cam", ptpip::protocol_version_1_0})));
    EXPECT_TRUE(s.begin(ptpip::ops::open_session()));
    take(s);
    EXPECT_TRUE(s.receive(enc(ptpip::operation_response{0x2001, 0, {}})));
    events(s);
    EXPECT_TRUE(s.session_open());
    return s;
}

TEST(ProtoPtpipSession, DataInAcrossManyDataPackets)
{
    auto s = open_standard();
    auto tid = s.begin(ptpip::ops::get_object(5));
    ASSERT_EQ(*tid, 1u);
    EXPECT_EQ(take(s),
              enc(ptpip::operation_request{ptpip::data_phase::none_or_in, 0x1009, 1, {5}}));
    ptp::byte_vector reply = enc(ptpip::start_data{1, 10});
    for (auto p : {ptpip::packet(ptpip::data{1, from_hex("0001020304")}),
                   ptpip::packet(ptpip::data{1, from_hex("0506")}),
                   ptpip::packet(ptpip::end_data{1, from_hex("070809")}),
                   ptpip::packet(ptpip::operation_response{0x2001, 1, {}})})
    {
        auto b = enc(p);
        reply.insert(reply.end(), b.begin(), b.end());
    }
    ASSERT_TRUE(s.receive(reply));
    auto ev = events(s);
    ASSERT_EQ(ev.size(), 5u);
    EXPECT_EQ(std::get<ptpip::data_started>(ev[0]).total, 10u);
    EXPECT_EQ(std::get<ptpip::data_received>(ev[1]).bytes, from_hex("0001020304"));
    EXPECT_EQ(std::get<ptpip::data_received>(ev[3]).bytes, from_hex("070809"));
    auto done = std::get<ptpip::transaction_done>(ev[4]);
    EXPECT_EQ(done.data_bytes, 10u);
    EXPECT_TRUE(done.ok());
    EXPECT_FALSE(s.current_transaction());
}

TEST(ProtoPtpipSession, DataOutIsSplitIntoChunksWithEndDataLast)
{
    ptpip::session_options o;
    o.data_out_chunk = 4;
    auto s = open_standard(o);
    auto tid = s.begin(ptpip::ops::set_device_prop_value(ptp::device_prop::date_time,
                                                         from_hex("00112233445566778899")));
    ASSERT_TRUE(tid);
    ptp::byte_vector expected =
        enc(ptpip::operation_request{ptpip::data_phase::out, 0x1016, 1, {0x5011}});
    for (auto p : {ptpip::packet(ptpip::start_data{1, 10}),
                   ptpip::packet(ptpip::data{1, from_hex("00112233")}),
                   ptpip::packet(ptpip::data{1, from_hex("44556677")}),
                   ptpip::packet(ptpip::end_data{1, from_hex("8899")})})
    {
        auto b = enc(p);
        expected.insert(expected.end(), b.begin(), b.end());
    }
    EXPECT_EQ(take(s), expected);

    // An empty data-out phase is exactly StartData(0) + empty EndData.
    ASSERT_TRUE(s.receive(enc(ptpip::operation_response{0x2001, 1, {}})));
    ASSERT_TRUE(s.begin(ptpip::ops::set_device_prop_value(ptp::device_prop::date_time, {})));
    expected = enc(ptpip::operation_request{ptpip::data_phase::out, 0x1016, 2, {0x5011}});
    for (auto p : {ptpip::packet(ptpip::start_data{2, 0}), ptpip::packet(ptpip::end_data{2, {}})})
    {
        auto b = enc(p);
        expected.insert(expected.end(), b.begin(), b.end());
    }
    EXPECT_EQ(take(s), expected);
    // A responder may not send data during a data-out transaction.
    auto r = s.receive(enc(ptpip::start_data{2, 1}));
    EXPECT_EQ(r.error, errc::unexpected_packet);
    EXPECT_EQ(s.current_state(), state::failed);
}

TEST(ProtoPtpipSession, FujiGetPartialObjectChunks)
{
    ptpip::session_options o;
    o.wire = ptpip::dialect::fuji;
    o.quirks = ptp::fuji_x_wifi_quirks;
    ptpip::session s(o, {});
    take(s);
    ptp::byte_vector ack;
    ASSERT_TRUE(fuji::encode(fuji::init_ack{0, {}, "X-T2"}, ack));
    ASSERT_TRUE(s.receive(ack));
    ASSERT_TRUE(s.begin(ptpip::ops::open_session()));
    // quirk::wait_after_init_ack: nothing before 50 ms have passed.
    s.on_tick(ptpip::clock::time_point{} + 1ms);
    EXPECT_TRUE(s.pending_output().empty());
    s.on_tick(ptpip::clock::time_point{} + 30ms);
    EXPECT_TRUE(s.pending_output().empty());
    s.on_tick(ptpip::clock::time_point{} + 51ms);
    EXPECT_EQ(take(s), from_hex("10000000 0100 0210 00000000 01000000"));
    // 0x201E SessionAlreadyOpened counts as open (quirk::session_already_open_is_ok).
    ASSERT_TRUE(s.receive(from_hex("0c000000 0300 1e20 00000000")));
    EXPECT_TRUE(s.session_open());
    events(s);

    auto tid = s.begin(ptpip::ops::get_partial_object(1, 0x100000, fuji::partial_object_chunk));
    ASSERT_EQ(*tid, 1u);
    EXPECT_EQ(take(s), from_hex("18000000 0100 1b10 01000000 01000000 00001000 00001000"));
    ptp::byte_vector reply;
    ASSERT_TRUE(fuji::encode(fuji::make_data(0x101B, 1, from_hex("aabbcc")), reply));
    ASSERT_TRUE(fuji::encode(fuji::make_response(0x2001, 1, {3}), reply));
    for (std::size_t i = 0; i < reply.size(); ++i)
        ASSERT_TRUE(s.receive(ptp::bytes_view(reply).subspan(i, 1)));
    auto ev = events(s);
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_EQ(std::get<ptpip::data_started>(ev[0]).total, 3u);
    EXPECT_EQ(std::get<ptpip::data_received>(ev[1]).bytes, from_hex("aabbcc"));
    auto done = std::get<ptpip::transaction_done>(ev[2]);
    EXPECT_EQ(done.params, std::vector<std::uint32_t>{3}); // bytes actually sent

    // Data-out: command + one data container with the same code and tid.
    ASSERT_TRUE(s.begin(
        ptpip::ops::set_device_prop_value_u16(ptp::device_prop::fuji_enable_correct_file_size, 1)));
    EXPECT_EQ(take(s),
              from_hex("10000000 0100 1610 02000000 27d20000 0e000000 0200 1610 02000000 0100"));
    ASSERT_TRUE(s.receive(from_hex("0c000000 0300 0120 02000000")));

    // close(): CloseSession, then the goodbye.
    s.close();
    EXPECT_EQ(take(s), from_hex("0c000000 0100 0310 03000000"));
    EXPECT_EQ(s.current_state(), state::closing);
    EXPECT_EQ(s.begin(ptpip::ops::get_storage_ids()).error(), errc::session_closed);
    ASSERT_TRUE(s.receive(from_hex("0c000000 0300 0120 03000000")));
    EXPECT_EQ(take(s), from_hex("08000000 ffffffff"));
    EXPECT_EQ(s.current_state(), state::closed);
}

TEST(ProtoPtpipSession, TimeoutsUseInjectedTime)
{
    ptpip::session_options o;
    o.init_timeout = 1000ms;
    o.response_timeout = 500ms;
    auto t0 = ptpip::clock::time_point{} + 1h;
    ptpip::session s(o, t0);
    s.on_tick(t0);
    EXPECT_EQ(s.next_deadline(), t0 + 1000ms);
    s.on_tick(t0 + 999ms);
    EXPECT_EQ(s.current_state(), state::initializing);
    s.on_tick(t0 + 1000ms);
    EXPECT_EQ(s.current_state(), state::failed);
    auto ev = events(s);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(std::get<ptpip::session_failed>(ev[0]).error, errc::timeout);

    // Progress re-arms the inactivity deadline; a per-operation timeout overrides the default.
    auto s2 = open_standard(o);
    auto t = ptpip::clock::time_point{} + 2h;
    s2.on_tick(t);
    auto op = ptpip::ops::get_object(1);
    op.timeout = 2000ms;
    ASSERT_TRUE(s2.begin(op));
    s2.on_tick(t);
    EXPECT_EQ(s2.next_deadline(), t + 2000ms);
    ASSERT_TRUE(s2.receive(enc(ptpip::start_data{1, ptpip::unknown_data_length})));
    s2.on_tick(t + 1500ms);
    EXPECT_EQ(s2.next_deadline(), t + 3500ms);
    s2.on_tick(t + 3400ms);
    EXPECT_EQ(s2.current_state(), state::ready);
    s2.on_tick(t + 3500ms);
    EXPECT_EQ(s2.current_state(), state::failed);
}

TEST(ProtoPtpipSession, OrderingViolationsFail)
{
    struct bad_case
    {
        std::vector<ptpip::packet> reply;
        errc expected;
    };
    std::vector<bad_case> cases{
        {{ptpip::operation_response{0x2001, 9, {}}}, errc::transaction_mismatch},
        {{ptpip::data{1, {}}}, errc::unexpected_packet},
        {{ptpip::start_data{1, 2}, ptpip::data{1, from_hex("000102")}}, errc::data_length_mismatch},
        {{ptpip::start_data{1, 4}, ptpip::end_data{1, from_hex("00")}}, errc::data_length_mismatch},
        {{ptpip::start_data{1, 1}, ptpip::start_data{1, 1}}, errc::unexpected_packet},
        {{ptpip::init_command_ack{}}, errc::unexpected_packet},
        {{ptpip::operation_request{}}, errc::unexpected_packet},
    };
    for (auto const& c : cases)
    {
        auto s = open_standard();
        ASSERT_TRUE(s.begin(ptpip::ops::get_object_info(1)));
        std::error_code got;
        for (auto const& p : c.reply)
            if (auto r = s.receive(enc(p)); !r)
                got = r.error;
        EXPECT_EQ(got, c.expected);
        EXPECT_EQ(s.current_state(), state::failed);
        EXPECT_EQ(s.receive(from_hex("08000000 0d000000")).error, c.expected);
    }
    // A response with no transaction running.
    auto s = open_standard();
    EXPECT_EQ(s.receive(enc(ptpip::operation_response{0x2001, 0, {}})).error,
              errc::unexpected_packet);
    // Garbage framing.
    auto g = open_standard();
    EXPECT_EQ(g.receive(from_hex("03000000")).error, errc::bad_length);
}

TEST(ProtoPtpipSession, ProbesEventsAndCancel)
{
    auto s = open_standard();
    ASSERT_TRUE(s.receive(enc(ptpip::probe_request{})));
    EXPECT_EQ(take(s), enc(ptpip::probe_response{}));
    ASSERT_TRUE(s.receive(enc(ptpip::event{0x4002, 0xFFFFFFFF, {7}})));
    auto ev = events(s);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(std::get<ptpip::camera_event>(ev[0]).params, std::vector<std::uint32_t>{7});
    ASSERT_TRUE(s.begin(ptpip::ops::get_object(1)));
    ASSERT_TRUE(s.receive(enc(ptpip::cancel{1})));
    ev = events(s);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(std::get<ptpip::transaction_done>(ev[0]).response, 0x201F);
}

TEST(ProtoPtpipSession, QueuedOperationsRunInOrder)
{
    ptpip::session s({}, {});
    take(s);
    // Queued before the ack; nothing goes out until it arrives.
    EXPECT_EQ(*s.begin(ptpip::ops::open_session()), 0u);
    EXPECT_EQ(*s.begin(ptpip::ops::get_storage_ids()), 1u);
    EXPECT_TRUE(s.pending_output().empty());
    ASSERT_TRUE(s.receive(enc(ptpip::init_command_ack{1, {}, "Cam", ptpip::protocol_version_1_0})));
    EXPECT_EQ(take(s),
              enc(ptpip::operation_request{ptpip::data_phase::none_or_in, 0x1002, 0, {1}}));
    ASSERT_TRUE(s.receive(enc(ptpip::operation_response{0x2001, 0, {}})));
    EXPECT_EQ(take(s), enc(ptpip::operation_request{ptpip::data_phase::none_or_in, 0x1004, 1, {}}));
    EXPECT_EQ(s.begin(ptpip::operation{0x1001, {1, 2, 3, 4, 5, 6}, {}, {}, {}}).error(),
              errc::too_many_params);
}

TEST(ProtoPtpipSession, StandardInitFailAndCloseBeforeOpen)
{
    ptpip::session s({}, {});
    take(s);
    ASSERT_TRUE(s.receive(enc(ptpip::init_fail{2})));
    auto ev = events(s);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_TRUE(std::get<ptpip::init_failed>(ev[0]).retryable); // BUSY
    EXPECT_EQ(s.current_state(), state::init_refused);
    s.close();
    EXPECT_EQ(s.current_state(), state::closed);
    EXPECT_TRUE(s.pending_output().empty());

    ptpip::session r({}, {});
    ASSERT_TRUE(r.receive(enc(ptpip::init_fail{1})));
    EXPECT_FALSE(std::get<ptpip::init_failed>(*r.next_event()).retryable);

    ptpip::session_options bad;
    bad.wire = ptpip::dialect::fuji;
    bad.friendly_name = std::string(40, 'x');
    ptpip::session f(bad, {});
    EXPECT_EQ(f.current_state(), state::failed);
    EXPECT_EQ(std::get<ptpip::session_failed>(*f.next_event()).error, errc::bad_name);
}

TEST(ProtoPtpipSession, EventChannelHandshakeAndTimeout)
{
    auto t0 = ptpip::clock::time_point{} + 1h;
    ptpip::event_channel ch({ptpip::dialect::ptpip, 7, 4096, 2s}, t0);
    auto out = ch.pending_output();
    EXPECT_EQ(ptp::byte_vector(out.begin(), out.end()), enc(ptpip::init_event_request{7}));
    ch.on_tick(t0 + 1999ms);
    EXPECT_FALSE(ch.failed());
    ch.on_tick(t0 + 2s);
    EXPECT_TRUE(ch.failed());
    EXPECT_EQ(std::get<ptpip::session_failed>(*ch.next_event()).error, errc::timeout);

    ptpip::event_channel refused({ptpip::dialect::ptpip, 7, 4096, 2s}, t0);
    EXPECT_EQ(refused.receive(enc(ptpip::init_fail{1})).error, errc::init_refused);
    ptpip::event_channel early({ptpip::dialect::ptpip, 7, 4096, 2s}, t0);
    EXPECT_EQ(early.receive(enc(ptpip::event{0x4002, 0, {}})).error, errc::unexpected_packet);
    ptpip::event_channel fj({ptpip::dialect::fuji, 0, 4096, 2s}, t0);
    EXPECT_EQ(fj.receive(from_hex("0c000000 0300 0120 00000000")).error, errc::unexpected_packet);
}

} // namespace

namespace
{

/// The error the session failed with (and that it failed), after feeding `packets`.
std::error_code failure_after(ptpip::session& s, std::vector<ptpip::packet> const& packets)
{
    for (auto const& p : packets)
        if (!s.receive(enc(p)))
            break;
    for (auto& e : events(s))
        if (auto* f = std::get_if<ptpip::session_failed>(&e))
            return f->error;
    return {};
}

} // namespace

// Hostile peers: every data-in phase is bounded by its kind; a declared or sent excess fails the
// transaction (and the session) with data_phase_too_long before the bytes reach the client.
TEST(ProtoPtpipSession, DatasetDataPhaseOverItsBoundFails)
{
    // A StartData announcing 1 GB for GetDeviceInfo fails at once.
    auto s = open_standard();
    ASSERT_TRUE(s.begin(ptpip::ops::get_device_info()));
    take(s);
    EXPECT_EQ(failure_after(s, {ptpip::start_data{1, 1'000'000'000}}), errc::data_phase_too_long);
    EXPECT_EQ(s.current_state(), state::failed);

    // Unknown length: fails once more than the bound has been sent, never holding more.
    auto u = open_standard();
    ASSERT_TRUE(u.begin(ptpip::ops::get_object_info(3)));
    take(u);
    std::vector<ptpip::packet> flood{ptpip::start_data{1, ptpip::unknown_data_length}};
    ptp::byte_vector piece(256 * 1024);
    std::size_t sent = 0;
    while (sent <= ptpip::dataset_limit)
    {
        flood.push_back(ptpip::data{1, piece});
        sent += piece.size();
    }
    EXPECT_EQ(failure_after(u, flood), errc::data_phase_too_long);
}

TEST(ProtoPtpipSession, HandleListsMayBeLargerThanDatasets)
{
    auto s = open_standard();
    ASSERT_TRUE(s.begin(ptpip::ops::get_object_handles(0xFFFFFFFF, 0, 0)));
    take(s);
    // 2 MiB: over the dataset bound, within the handle-list bound.
    ptp::byte_vector piece(2u << 20);
    EXPECT_EQ(failure_after(s, {ptpip::start_data{1, piece.size()}, ptpip::end_data{1, piece},
                                ptpip::operation_response{0x2001, 1, {}}}),
              std::error_code{});
    auto t = open_standard();
    ASSERT_TRUE(t.begin(ptpip::ops::get_object_handles(0xFFFFFFFF, 0, 0)));
    take(t);
    EXPECT_EQ(failure_after(t, {ptpip::start_data{1, ptpip::handle_list_limit + 1}}),
              errc::data_phase_too_long);
}

TEST(ProtoPtpipSession, ObjectDataStopsAtTheDeclaredSizeAndPartialAtTheRequest)
{
    auto s = open_standard();
    auto op = ptpip::ops::get_object(7);
    op.max_data_in = 5000; // the ObjectInfo's declared size
    ASSERT_TRUE(s.begin(std::move(op)));
    take(s);
    ptp::byte_vector piece(4096);
    EXPECT_EQ(failure_after(s, {ptpip::start_data{1, ptpip::unknown_data_length},
                                ptpip::data{1, piece}, ptpip::data{1, piece}}),
              errc::data_phase_too_long);

    auto p = open_standard();
    ASSERT_TRUE(p.begin(ptpip::ops::get_partial_object(7, 0, 100)));
    take(p);
    EXPECT_EQ(failure_after(p, {ptpip::start_data{1, 101}}), errc::data_phase_too_long);

    // Fuji: one data container per phase, bounded the same way.
    ptpip::session_options fo;
    fo.wire = ptpip::dialect::fuji;
    ptpip::session f(fo, {});
    take(f);
    ptp::byte_vector ab;
    ASSERT_TRUE(fuji::encode(fuji::init_ack{0, {}, "X-T2"}, ab));
    ASSERT_TRUE(f.receive(ab));
    ASSERT_TRUE(f.begin(ptpip::ops::get_partial_object(1, 0, 16)));
    take(f);
    ptp::byte_vector dc;
    ASSERT_TRUE(fuji::encode(fuji::make_data(0x101B, 1, ptp::byte_vector(17)), dc));
    ASSERT_FALSE(f.receive(dc));
    bool too_long = false;
    for (auto& e : events(f))
        if (auto* sf = std::get_if<ptpip::session_failed>(&e))
            too_long = sf->error == errc::data_phase_too_long;
    EXPECT_TRUE(too_long);
}

TEST(ProtoPtpipError, TimeoutsCompareEqualToTimedOut)
{
    // The import summary and status say "timeout" for these, not "protocol error".
    using camrelay::proto::ptpip::errc;
    EXPECT_EQ(make_error_code(errc::timeout), std::errc::timed_out);
    EXPECT_EQ(make_error_code(errc::too_slow), std::errc::timed_out);
    EXPECT_NE(make_error_code(errc::bad_packet), std::errc::timed_out);
    EXPECT_NE(make_error_code(errc::data_phase_too_long), std::errc::timed_out);
}
