// sim::responder (the camera simulator's sans-I/O core) driven with client bytes built by
// proto/ptpip; every answer is decoded with proto/ptp and proto/ptpip and checked against the
// files of a temporary folder.
#include "proto/ptp/dataset.hpp"
#include "proto/ptp/fuji.hpp"
#include "proto/ptpip/framer.hpp"
#include "proto/ptpip/fuji.hpp"
#include "proto/ptpip/packet.hpp"
#include "sim/responder.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace
{

namespace fs = std::filesystem;
namespace ptp = camrelay::proto::ptp;
namespace ptpip = camrelay::proto::ptpip;
namespace fuji = camrelay::proto::ptpip::fuji;
namespace sim = camrelay::sim;

class folder
{
  public:
    folder()
    {
        std::random_device rd;
        path_ = fs::temp_directory_path() / ("camrelay-sim-test-" + std::to_string(rd()));
        fs::create_directories(path_);
    }
    ~folder()
    {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    ptp::byte_vector add(std::string const& name, std::size_t size)
    {
        ptp::byte_vector data(size);
        for (std::size_t i = 0; i < size; ++i)
            data[i] = static_cast<std::byte>((i * 7 + name.size()) & 0xFF);
        std::ofstream f(path_ / name, std::ios::binary);
        f.write(reinterpret_cast<char const*>(data.data()), static_cast<std::streamsize>(size));
        return data;
    }
    fs::path const& path() const { return path_; }

  private:
    fs::path path_;
};

/// Everything the responder wants to send right now.
ptp::byte_vector drain(sim::responder& r)
{
    ptp::byte_vector all;
    for (;;)
    {
        auto out = r.pending_output();
        if (out.empty())
            return all;
        all.insert(all.end(), out.begin(), out.end());
        r.consume_output(out.size());
    }
}

/// Cuts a byte stream into whole packets.
std::vector<ptp::byte_vector> packets(ptp::byte_vector const& bytes)
{
    ptpip::framer f;
    std::vector<ptp::byte_vector> out;
    ptp::bytes_view in(bytes);
    while (!in.empty())
    {
        auto r = f.feed(in);
        in = in.subspan(r.consumed);
        EXPECT_NE(r.status, ptpip::frame_status::error);
        if (r.status != ptpip::frame_status::packet)
            break;
        out.emplace_back(f.packet().begin(), f.packet().end());
    }
    return out;
}

std::vector<ptpip::packet> send_ptpip(sim::responder& r, ptpip::packet const& p)
{
    auto bytes = *ptpip::encode(p);
    r.receive(bytes);
    std::vector<ptpip::packet> out;
    for (auto const& pk : packets(drain(r)))
    {
        auto d = ptpip::decode(pk);
        EXPECT_TRUE(d.has_value());
        if (d)
            out.push_back(*d);
    }
    return out;
}

ptpip::operation_request op(ptp::op_code c, std::uint32_t tid, std::vector<std::uint32_t> p = {})
{
    return ptpip::operation_request{ptpip::data_phase::none_or_in, ptp::to_underlying(c), tid,
                                    std::move(p)};
}

/// Data-in result of a standard transaction: payload and the response.
struct data_in
{
    ptp::byte_vector payload;
    ptpip::operation_response response;
    std::size_t data_packets = 0;
};

data_in transact(sim::responder& r, ptpip::operation_request const& req)
{
    data_in out;
    auto reply = send_ptpip(r, req);
    for (auto const& p : reply)
    {
        if (auto* d = std::get_if<ptpip::data>(&p))
        {
            out.payload.insert(out.payload.end(), d->payload.begin(), d->payload.end());
            ++out.data_packets;
        }
        else if (auto* e = std::get_if<ptpip::end_data>(&p))
            out.payload.insert(out.payload.end(), e->payload.begin(), e->payload.end());
        else if (auto* rsp = std::get_if<ptpip::operation_response>(&p))
            out.response = *rsp;
    }
    return out;
}

constexpr std::uint16_t ok = 0x2001;

TEST(sim_responder, ptpip_init_session_list_info_partial_and_chunked_object)
{
    folder dir;
    auto small = dir.add("DSCF0001.JPG", 5000);
    auto large = dir.add("DSCF0002.RAF", 3500);
    sim::camera cam(dir.path(), sim::flavor::ptpip);
    cam.model = "TestCam";
    cam.chunk_size = 1000; // force several Data packets
    cam.store.rescan();
    sim::responder r(cam, sim::responder::role::unknown);

    auto ack =
        send_ptpip(r, ptpip::init_command_request{{}, "client", ptpip::protocol_version_1_0});
    ASSERT_EQ(ack.size(), 1u);
    auto* a = std::get_if<ptpip::init_command_ack>(&ack[0]);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->friendly_name, "TestCam");
    EXPECT_EQ(r.current_role(), sim::responder::role::command);

    auto opened = send_ptpip(r, op(ptp::op_code::open_session, 0, {1}));
    ASSERT_EQ(opened.size(), 1u);
    EXPECT_EQ(std::get<ptpip::operation_response>(opened[0]).code, ok);
    EXPECT_EQ(cam.open_sessions, 1);

    auto handles =
        transact(r, op(ptp::op_code::get_object_handles, 1, {0xFFFFFFFF, 0, 0xFFFFFFFF}));
    EXPECT_EQ(handles.response.code, ok);
    auto list = ptp::decode_uint32_array(handles.payload);
    ASSERT_TRUE(list.has_value());
    EXPECT_EQ(*list, (std::vector<std::uint32_t>{1, 2}));

    auto info = transact(r, op(ptp::op_code::get_object_info, 2, {1}));
    EXPECT_EQ(info.response.code, ok);
    auto oi = ptp::decode_object_info(info.payload);
    ASSERT_TRUE(oi.has_value());
    EXPECT_EQ(oi->filename, "DSCF0001.JPG");
    EXPECT_EQ(oi->compressed_size, 5000u);
    EXPECT_EQ(oi->format, ptp::object_format::exif_jpeg);
    EXPECT_EQ(oi->storage_id, sim::storage_id);
    EXPECT_TRUE(oi->capture_time().has_value());

    auto part = transact(r, op(ptp::op_code::get_partial_object, 3, {1, 100, 2500}));
    EXPECT_EQ(part.response.code, ok);
    ASSERT_EQ(part.response.params.size(), 1u);
    EXPECT_EQ(part.response.params[0], 2500u);
    EXPECT_EQ(part.payload, ptp::byte_vector(small.begin() + 100, small.begin() + 2600));

    auto whole = transact(r, op(ptp::op_code::get_object, 4, {2}));
    EXPECT_EQ(whole.response.code, ok);
    EXPECT_EQ(whole.payload, large);
    EXPECT_EQ(whole.data_packets, 3u); // 3 × 1000 in Data, 500 in End Data

    auto bad = transact(r, op(ptp::op_code::get_object_info, 5, {99}));
    EXPECT_EQ(bad.response.code, 0x2009); // InvalidObjectHandle

    auto closed = send_ptpip(r, op(ptp::op_code::close_session, 6));
    EXPECT_EQ(std::get<ptpip::operation_response>(closed.at(0)).code, ok);
    EXPECT_EQ(cam.open_sessions, 0);
    EXPECT_FALSE(r.done());
}

TEST(sim_responder, ptpip_event_connection_and_object_added)
{
    folder dir;
    dir.add("A.JPG", 10);
    sim::camera cam(dir.path(), sim::flavor::ptpip);
    cam.store.rescan();
    sim::responder cmd(cam, sim::responder::role::unknown);
    sim::responder ev(cam, sim::responder::role::unknown);
    send_ptpip(cmd, ptpip::init_command_request{{}, "c", ptpip::protocol_version_1_0});
    auto ack = send_ptpip(ev, ptpip::init_event_request{1});
    ASSERT_EQ(ack.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<ptpip::init_event_ack>(ack[0]));

    ev.notify_object_added(2); // no session yet: nothing
    EXPECT_TRUE(drain(ev).empty());
    send_ptpip(cmd, op(ptp::op_code::open_session, 0, {1}));
    dir.add("B.JPG", 10);
    auto added = cam.store.rescan();
    ASSERT_EQ(added, std::vector<std::uint32_t>{2});
    ev.notify_object_added(2);
    auto pk = packets(drain(ev));
    ASSERT_EQ(pk.size(), 1u);
    auto e = ptpip::decode(pk[0]);
    ASSERT_TRUE(e.has_value());
    auto& evt = std::get<ptpip::event>(*e);
    EXPECT_EQ(evt.code, 0x4002);
    EXPECT_EQ(evt.params, std::vector<std::uint32_t>{2});

    auto pong = send_ptpip(ev, ptpip::probe_request{});
    ASSERT_EQ(pong.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<ptpip::probe_response>(pong[0]));
}

TEST(sim_responder, ptpip_drop_after_and_refuse_and_garbage)
{
    folder dir;
    auto content = dir.add("A.JPG", 4000);
    sim::camera cam(dir.path(), sim::flavor::ptpip);
    cam.drop_after = 1500;
    cam.store.rescan();
    {
        sim::responder r(cam, sim::responder::role::unknown);
        send_ptpip(r, ptpip::init_command_request{{}, "c", ptpip::protocol_version_1_0});
        send_ptpip(r, op(ptp::op_code::open_session, 0, {1}));
        r.receive(*ptpip::encode(op(ptp::op_code::get_object, 1, {1})));
        auto bytes = drain(r);
        EXPECT_TRUE(r.done());
        // StartData (20) + Data/EndData header (12) + 1500 content bytes, no response.
        ASSERT_EQ(bytes.size(), 20u + 12u + 1500u);
        EXPECT_TRUE(std::equal(content.begin(), content.begin() + 1500, bytes.begin() + 32));
    }
    cam.refuse = true;
    {
        sim::responder r(cam, sim::responder::role::unknown);
        r.receive(
            *ptpip::encode(ptpip::init_command_request{{}, "c", ptpip::protocol_version_1_0}));
        auto bytes = drain(r);
        auto d = ptpip::decode(bytes);
        ASSERT_TRUE(d.has_value());
        EXPECT_EQ(std::get<ptpip::init_fail>(*d).reason, 1u);
        EXPECT_TRUE(r.done());
    }
    {
        sim::responder r(cam, sim::responder::role::unknown);
        ptp::byte_vector junk{std::byte{0xFF}, std::byte{0xFF}, std::byte{0xFF}, std::byte{0x7F}};
        r.receive(junk);
        EXPECT_TRUE(r.done());
        EXPECT_FALSE(r.close_reason().empty());
    }
}

// --- Fuji ----------------------------------------------------------------------------------------

std::vector<fuji::container> send_fuji(sim::responder& r, ptp::byte_vector const& bytes)
{
    r.receive(bytes);
    std::vector<fuji::container> out;
    for (auto const& pk : packets(drain(r)))
    {
        auto d = fuji::decode(pk);
        EXPECT_TRUE(d.has_value());
        if (d)
            out.push_back(std::get<fuji::container>(*d));
    }
    return out;
}

ptp::byte_vector cmd(ptp::op_code c, std::uint32_t tid, std::vector<std::uint32_t> p = {})
{
    ptp::byte_vector out;
    (void)fuji::encode(fuji::make_command(ptp::to_underlying(c), tid, std::move(p)), out);
    return out;
}

ptp::byte_vector set_prop(ptp::device_prop prop, std::uint32_t tid, std::uint16_t value)
{
    auto out = cmd(ptp::op_code::set_device_prop_value, tid, {ptp::to_underlying(prop)});
    ptp::byte_vector v{static_cast<std::byte>(value & 0xFF), static_cast<std::byte>(value >> 8)};
    (void)fuji::encode(fuji::make_data(0x1016, tid, v), out);
    return out;
}

TEST(sim_responder, fuji_browse_sequence)
{
    folder dir;
    auto one = dir.add("DSCF0001.JPG", 2500);
    dir.add("DSCF0002.JPG", 10);
    sim::camera cam(dir.path(), sim::flavor::fuji);
    cam.model = "X-T5";
    cam.chunk_size = 1000;
    cam.store.rescan();
    sim::responder r(cam, sim::responder::role::command);

    ptp::byte_vector init;
    ASSERT_TRUE(fuji::encode(fuji::init_request{fuji::app_guid, "MyClient"}, init).has_value());
    ASSERT_EQ(init.size(), 82u);
    r.receive(init);
    auto ack_bytes = drain(r);
    ASSERT_EQ(ack_bytes.size(), fuji::init_ack_size);
    auto ack = fuji::decode_init_reply(ack_bytes);
    ASSERT_TRUE(ack.has_value());
    EXPECT_EQ(std::get<fuji::init_ack>(*ack).camera_name, "X-T5");

    auto opened = send_fuji(r, cmd(ptp::op_code::open_session, 0, {1}));
    ASSERT_EQ(opened.size(), 1u);
    EXPECT_EQ(opened[0].type, fuji::container_type::response);
    EXPECT_EQ(opened[0].code, ok);

    auto poll = send_fuji(r, cmd(ptp::op_code::get_device_prop_value, 1, {0xD212}));
    ASSERT_EQ(poll.size(), 2u);
    auto events = ptp::fuji::decode_event_list(poll[0].payload);
    ASSERT_TRUE(events.has_value());
    EXPECT_EQ(ptp::fuji::find(*events, ptp::device_prop::fuji_object_count), 2u);
    EXPECT_NE(ptp::fuji::find(*events, ptp::device_prop::fuji_camera_state).value_or(0), 0u);

    auto version = send_fuji(r, cmd(ptp::op_code::get_device_prop_value, 2, {0xDF22}));
    ASSERT_EQ(version.size(), 2u);
    EXPECT_EQ(ptp::fuji::decode_u32_value(version[0].payload), 5u);

    auto set = send_fuji(r, set_prop(ptp::device_prop::fuji_client_state, 3, 2));
    ASSERT_EQ(set.size(), 1u);
    EXPECT_EQ(set[0].code, ok);

    // Browse mode: placeholder size until 0xD227 = 1 (§2.A step 10 and 12).
    auto info = send_fuji(r, cmd(ptp::op_code::get_object_info, 4, {1}));
    ASSERT_EQ(info.size(), 2u);
    EXPECT_EQ(ptp::decode_object_info(info[0].payload)->compressed_size, 102400u);
    send_fuji(r, set_prop(ptp::device_prop::fuji_enable_correct_file_size, 5, 1));
    info = send_fuji(r, cmd(ptp::op_code::get_object_info, 6, {1}));
    auto oi = ptp::decode_object_info(info.at(0).payload);
    ASSERT_TRUE(oi.has_value());
    EXPECT_EQ(oi->compressed_size, 2500u);
    EXPECT_EQ(oi->filename, "DSCF0001.JPG");

    ptp::byte_vector got;
    std::uint32_t tid = 7;
    for (std::uint32_t off = 0; off < 2500; off += 1024)
    {
        auto part = send_fuji(r, cmd(ptp::op_code::get_partial_object, tid, {1, off, 1024}));
        ASSERT_EQ(part.size(), 2u);
        EXPECT_EQ(part[0].type, fuji::container_type::data);
        EXPECT_EQ(part[1].params.at(0), part[0].payload.size());
        EXPECT_EQ(part[1].transaction_id, tid);
        got.insert(got.end(), part[0].payload.begin(), part[0].payload.end());
        ++tid;
    }
    EXPECT_EQ(got, one);

    auto whole = send_fuji(r, cmd(ptp::op_code::get_object, tid++, {1}));
    ASSERT_EQ(whole.size(), 2u);
    EXPECT_EQ(whole[0].payload, one);

    auto closed = send_fuji(r, cmd(ptp::op_code::close_session, tid++));
    EXPECT_EQ(closed.at(0).code, ok);
    ptp::byte_vector bye;
    fuji::encode_goodbye(bye);
    r.receive(bye);
    EXPECT_TRUE(r.done());
}

TEST(sim_responder, fuji_refuse_and_bad_magic)
{
    folder dir;
    sim::camera cam(dir.path(), sim::flavor::fuji);
    cam.refuse = true;
    ptp::byte_vector init;
    ASSERT_TRUE(fuji::encode(fuji::init_request{fuji::app_guid, "Other"}, init).has_value());
    sim::responder r(cam, sim::responder::role::command);
    r.receive(init);
    auto reply = fuji::decode_init_reply(drain(r));
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(std::get<ptpip::init_fail>(*reply).reason, 0x2019u);
    EXPECT_FALSE(r.done()); // the client may retry on the same socket

    cam.refuse = false;
    ptp::byte_vector bad;
    ASSERT_TRUE(fuji::encode(fuji::init_request{fuji::app_guid, "X", 0x12345678}, bad).has_value());
    sim::responder r2(cam, sim::responder::role::command);
    r2.receive(bad);
    reply = fuji::decode_init_reply(drain(r2));
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(std::get<ptpip::init_fail>(*reply).reason, 0x201Du);
    EXPECT_TRUE(r2.done());
}

} // namespace
