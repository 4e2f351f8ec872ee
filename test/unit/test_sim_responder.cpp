// sim::responder (the camera simulator's sans-I/O core) driven with client bytes built by
// proto/ptpip; every answer is decoded with proto/ptp and proto/ptpip and checked against the
// files of a temporary folder.
#include "proto/ptp/dataset.hpp"
#include "proto/ptp/fuji.hpp"
#include "proto/ptpip/framer.hpp"
#include "proto/ptpip/fuji.hpp"
#include "proto/ptpip/packet.hpp"
#include "sim/quirks.hpp"
#include "sim/responder.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

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
        fs::create_directories((path_ / name).parent_path());
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

// --- card trees, slots and quirk profiles
// ---------------------------------------------------------

/// A command connection with an open session.
std::unique_ptr<sim::responder> session(sim::camera& cam, std::uint32_t id = 1)
{
    auto r = std::make_unique<sim::responder>(cam, sim::responder::role::unknown);
    send_ptpip(*r, ptpip::init_command_request{{}, "c", ptpip::protocol_version_1_0});
    auto opened = send_ptpip(*r, op(ptp::op_code::open_session, 0, {id}));
    EXPECT_EQ(std::get<ptpip::operation_response>(opened.at(0)).code, ok);
    return r;
}

std::vector<std::uint32_t> list_handles(sim::responder& r, std::uint32_t storage,
                                        std::uint32_t parent, std::uint32_t tid = 10)
{
    auto h = transact(r, op(ptp::op_code::get_object_handles, tid, {storage, 0, parent}));
    EXPECT_EQ(h.response.code, ok);
    auto l = ptp::decode_uint32_array(h.payload);
    EXPECT_TRUE(l.has_value());
    return l ? *l : std::vector<std::uint32_t>{};
}

ptp::object_info info_of(sim::responder& r, std::uint32_t handle, std::uint32_t tid = 20)
{
    auto i = transact(r, op(ptp::op_code::get_object_info, tid, {handle}));
    EXPECT_EQ(i.response.code, ok);
    auto oi = ptp::decode_object_info(i.payload);
    EXPECT_TRUE(oi.has_value());
    return oi ? *oi : ptp::object_info{};
}

TEST(sim_card, tree_with_folders_root_objects_two_slots_and_no_special_files)
{
    folder one;
    folder two;
    auto a = one.add("DCIM/100TEST/A0001.JPG", 100);
    one.add("DCIM/100TEST/A0002.JPG", 200);
    one.add("ROOT.JPG", 50);
    one.add("DCIM/100TEST/SUB/DEEP.JPG", 10); // deeper than DCF: only with nested-folders
    two.add("DCIM/100TEST/B0001.JPG", 300);
    ASSERT_EQ(::mkfifo((one.path() / "DCIM/100TEST/FIFO.JPG").c_str(), 0600), 0);
    fs::create_symlink("/etc/passwd", one.path() / "DCIM/100TEST/LINK.JPG");
    fs::create_directory_symlink("/etc", one.path() / "DCIM/ETC");
    sim::camera cam(std::vector<fs::path>{one.path(), two.path()}, sim::flavor::ptpip);
    cam.store.set_max_depth(sim::object_store::dcf_depth);
    cam.store.rescan();
    EXPECT_EQ(cam.store.count(), 4u); // A0001, A0002, ROOT, B0001
    auto r = session(cam);

    auto ids = transact(*r, op(ptp::op_code::get_storage_ids, 1));
    EXPECT_EQ(*ptp::decode_uint32_array(ids.payload),
              (std::vector<std::uint32_t>{0x00010001, 0x00020001}));
    auto si = transact(*r, op(ptp::op_code::get_storage_info, 2, {0x00020001}));
    EXPECT_EQ(si.response.code, ok);
    EXPECT_EQ(transact(*r, op(ptp::op_code::get_storage_info, 3, {0x00030001})).response.code,
              0x2008); // InvalidStorageID

    // Slot 1's root: DCIM (a folder) and ROOT.JPG.
    std::map<std::string, ptp::object_info> root;
    std::map<std::string, std::uint32_t> handle_of;
    for (auto h : list_handles(*r, 0x00010001, 0xFFFFFFFF))
    {
        auto i = info_of(*r, h);
        handle_of[i.filename] = h;
        root[i.filename] = i;
    }
    ASSERT_EQ(root.size(), 2u);
    EXPECT_EQ(root["DCIM"].format, ptp::object_format::association);
    EXPECT_EQ(root["DCIM"].association_type, 1u);
    EXPECT_EQ(root["DCIM"].parent_object, 0u);
    EXPECT_EQ(root["ROOT.JPG"].compressed_size, 50u);
    auto dcim = list_handles(*r, 0x00010001, handle_of["DCIM"]);
    ASSERT_EQ(dcim.size(), 1u); // 100TEST; the symlinked ETC folder is not served
    auto folder_info = info_of(*r, dcim[0]);
    EXPECT_EQ(folder_info.filename, "100TEST");
    EXPECT_EQ(folder_info.parent_object, handle_of["DCIM"]);
    std::set<std::string> names;
    for (auto h : list_handles(*r, 0x00010001, dcim[0]))
    {
        auto i = info_of(*r, h);
        EXPECT_EQ(i.parent_object, dcim[0]);
        EXPECT_EQ(i.storage_id, 0x00010001u);
        names.insert(i.filename);
        if (i.filename == "A0001.JPG")
        {
            EXPECT_EQ(transact(*r, op(ptp::op_code::get_object, 30, {h})).payload, a);
        }
    }
    // No FIFO, no symlink, no folder deeper than DCIM/100TEST.
    EXPECT_EQ(names, (std::set<std::string>{"A0001.JPG", "A0002.JPG"}));
    // Slot 2's objects carry slot 2's storage id; parent 0 lists a whole storage.
    auto all2 = list_handles(*r, 0x00020001, 0);
    ASSERT_EQ(all2.size(), 3u); // DCIM, 100TEST, B0001.JPG
    EXPECT_EQ(info_of(*r, all2[2]).storage_id, 0x00020001u);
    EXPECT_EQ(info_of(*r, all2[2]).filename, "B0001.JPG");
    // Listing below a file is an error.
    EXPECT_EQ(transact(*r, op(ptp::op_code::get_object_handles, 40,
                              {0xFFFFFFFF, 0, handle_of["ROOT.JPG"]}))
                  .response.code,
              0x201A);

    // nested-folders: any depth.
    sim::camera deep(one.path(), sim::flavor::ptpip);
    deep.store.rescan();
    EXPECT_EQ(deep.store.count(), 4u); // + SUB/DEEP.JPG
}

TEST(sim_quirks, table_names_are_unique_and_listed_in_the_help)
{
    std::set<std::string_view> names;
    auto help = sim::quirk_help();
    for (auto const& q : sim::quirk_table())
    {
        EXPECT_TRUE(names.insert(q.name).second) << q.name;
        EXPECT_EQ(sim::quirk_by_name(q.name), q.id);
        EXPECT_EQ(sim::quirk_name(q.id), q.name);
        EXPECT_NE(help.find(std::string(q.name) + " "), std::string::npos) << q.name;
    }
    EXPECT_FALSE(sim::quirk_by_name("no-such-quirk").has_value());
}

/// ObjectInfo of handle 1 with and without `q`.
std::pair<ptp::byte_vector, ptp::byte_vector> info_bytes(sim::quirk q)
{
    folder dir;
    dir.add("DSCF0001.JPG", 1234);
    sim::camera plain(dir.path(), sim::flavor::ptpip);
    plain.store.rescan();
    sim::camera odd(dir.path(), sim::flavor::ptpip);
    odd.quirks.add(q);
    odd.store.rescan();
    auto r1 = session(plain);
    auto r2 = session(odd);
    return {transact(*r1, op(ptp::op_code::get_object_info, 1, {1})).payload,
            transact(*r2, op(ptp::op_code::get_object_info, 1, {1})).payload};
}

TEST(sim_quirks, short_objectinfo_ends_after_the_capture_date)
{
    auto [plain, short_one] = info_bytes(sim::quirk::short_objectinfo);
    auto full = ptp::decode_object_info(plain);
    ASSERT_TRUE(full.has_value());
    // Plain: ModificationDate (15 chars + NUL: 1 + 2*16 bytes), then empty Keywords (1 byte).
    ASSERT_EQ(short_one.size(), plain.size() - 33 - 1);
    EXPECT_TRUE(std::equal(short_one.begin(), short_one.end(), plain.begin()));
    ptp::leniency_counters lenient;
    auto oi = ptp::decode_object_info(short_one, &lenient);
    ASSERT_TRUE(oi.has_value()); // the tolerant decoder takes the defaults
    EXPECT_EQ(oi->filename, "DSCF0001.JPG");
    EXPECT_EQ(oi->capture_date, full->capture_date);
    EXPECT_EQ(oi->modification_date, "");
}

TEST(sim_quirks, padded_objectinfo_has_twelve_trailing_bytes)
{
    auto [plain, padded] = info_bytes(sim::quirk::padded_objectinfo);
    ASSERT_EQ(padded.size(), plain.size() + 12);
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), padded.begin()));
    EXPECT_TRUE(std::all_of(padded.begin() + static_cast<std::ptrdiff_t>(plain.size()),
                            padded.end(), [](std::byte b) { return b == std::byte{0}; }));
}

TEST(sim_quirks, storage_id_mismatch_drops_the_partition_half)
{
    auto [plain, odd] = info_bytes(sim::quirk::storage_id_mismatch);
    EXPECT_EQ(ptp::decode_object_info(plain)->storage_id, 0x00010001u);
    EXPECT_EQ(ptp::decode_object_info(odd)->storage_id, 0x00010000u);
}

TEST(sim_quirks, handles_change_on_every_session)
{
    folder dir;
    dir.add("A.JPG", 10);
    dir.add("B.JPG", 20);
    sim::camera cam(dir.path(), sim::flavor::ptpip);
    cam.quirks.add(sim::quirk::handles_change);
    cam.store.rescan();
    auto first = session(cam);
    EXPECT_EQ(list_handles(*first, 0xFFFFFFFF, 0), (std::vector<std::uint32_t>{1, 2}));
    first.reset();
    auto second = session(cam);
    EXPECT_EQ(list_handles(*second, 0xFFFFFFFF, 0), (std::vector<std::uint32_t>{1001, 1002}));
    EXPECT_EQ(info_of(*second, 1002).filename, "B.JPG");
    EXPECT_EQ(transact(*second, op(ptp::op_code::get_object_info, 5, {2})).response.code,
              0x2009); // the old handle is gone
}

TEST(sim_quirks, unreadable_objectinfo_every_third_file_is_general_error)
{
    folder dir;
    for (int i = 1; i <= 6; ++i)
        dir.add("F" + std::to_string(i) + ".JPG", 10);
    sim::camera cam(dir.path(), sim::flavor::ptpip);
    cam.quirks.add(sim::quirk::unreadable_objectinfo);
    cam.store.rescan();
    auto r = session(cam);
    for (std::uint32_t h = 1; h <= 6; ++h)
    {
        auto i = transact(*r, op(ptp::op_code::get_object_info, h, {h}));
        EXPECT_EQ(i.response.code, h % 3 == 0 ? 0x2002 : ok) << h;
    }
}

/// Streams what the responder sends (without keeping it) until it has nothing more; returns
/// the byte count and the first `keep` bytes.
std::pair<std::uint64_t, ptp::byte_vector> stream(sim::responder& r, std::size_t keep)
{
    std::uint64_t total = 0;
    ptp::byte_vector head;
    for (;;)
    {
        auto out = r.pending_output();
        if (out.empty())
            return {total, head};
        if (head.size() < keep)
            head.insert(head.end(), out.begin(),
                        out.begin() +
                            static_cast<std::ptrdiff_t>(std::min(out.size(), keep - head.size())));
        total += out.size();
        r.consume_output(out.size());
    }
}

TEST(sim_quirks, endless_data_never_ends_the_handles_phase_and_closes_at_the_bound)
{
    folder dir;
    dir.add("A.JPG", 10);
    sim::camera cam(dir.path(), sim::flavor::ptpip);
    cam.quirks.add(sim::quirk::endless_data);
    cam.chunk_size = 1u << 20;
    cam.endless_limit = 64u << 20; // the simulator's 1 GiB is the default; quicker under ASan
    cam.store.rescan();
    auto r = session(cam);
    r->receive(*ptpip::encode(op(ptp::op_code::get_object_handles, 1, {0xFFFFFFFF, 0, 0})));
    auto [total, head] = stream(*r, 64);
    auto start = ptpip::decode(ptp::bytes_view(head).first(20));
    ASSERT_TRUE(start.has_value());
    EXPECT_EQ(std::get<ptpip::start_data>(*start).total_length, ptpip::unknown_data_length);
    // StartData, then Data packets only (12-byte headers) up to the bound, no EndData, no
    // response: the connection closes.
    std::uint64_t pieces = cam.endless_limit / cam.chunk_size;
    EXPECT_EQ(total, 20 + pieces * 12 + cam.endless_limit);
    EXPECT_EQ(ptp::load_u32(head.data() + 24), 10u); // Data, not EndData (12)
    EXPECT_TRUE(r->done());
    EXPECT_EQ(r->close_reason(), "endless-data limit");
}

TEST(sim_quirks, overlong_object_streams_64_mib_past_the_declared_size)
{
    folder dir;
    auto content = dir.add("A.JPG", 5000);
    sim::camera cam(dir.path(), sim::flavor::ptpip);
    cam.quirks.add(sim::quirk::overlong_object);
    cam.chunk_size = 4u << 20;
    cam.store.rescan();
    auto r = session(cam);
    EXPECT_EQ(info_of(*r, 1).compressed_size, 5000u);
    r->receive(*ptpip::encode(op(ptp::op_code::get_object, 1, {1})));
    auto [total, head] = stream(*r, 20 + 12 + 5000 + 16);
    EXPECT_EQ(
        std::get<ptpip::start_data>(*ptpip::decode(ptp::bytes_view(head).first(20))).total_length,
        5000 + sim::overlong_object_extra);
    EXPECT_TRUE(std::equal(content.begin(), content.end(), head.begin() + 32));
    EXPECT_EQ(head[32 + 5000], std::byte{0x5A});
    std::uint64_t len = 5000 + sim::overlong_object_extra;
    std::uint64_t pieces = (len + cam.chunk_size - 1) / cam.chunk_size;
    EXPECT_EQ(total, 20 + pieces * 12 + len + 14 /* OK response */);
    EXPECT_FALSE(r->done());
}

TEST(sim_quirks, slow_drip_sends_one_byte_per_pace_and_gives_up)
{
    folder dir;
    auto content = dir.add("A.JPG", 5000);
    sim::camera cam(dir.path(), sim::flavor::ptpip);
    cam.quirks.add(sim::quirk::slow_drip);
    cam.store.rescan();
    auto r = session(cam);
    EXPECT_EQ(r->pace().count(), 0);
    r->receive(*ptpip::encode(op(ptp::op_code::get_object, 1, {1})));
    int pieces = 0;
    ptp::byte_vector got;
    for (;;)
    {
        auto out = r->pending_output();
        if (out.empty())
            break;
        ++pieces;
        got.insert(got.end(), out.end() - 1, out.end());
        r->consume_output(out.size());
        if (!r->done())
        {
            EXPECT_EQ(r->pace().count(), 1000);
        }
    }
    EXPECT_EQ(pieces, sim::slow_drip_seconds);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), content.begin()));
    EXPECT_TRUE(r->done());
    EXPECT_EQ(r->close_reason(), "slow-drip limit");
}

TEST(sim_quirks, big_video_is_synthetic_over_4_gib_with_a_64_bit_size_property)
{
    folder dir;
    dir.add("A.JPG", 10);
    sim::camera cam(dir.path(), sim::flavor::ptpip);
    cam.quirks.add(sim::quirk::big_video);
    cam.store.add_synthetic(std::string(sim::big_video_name), sim::big_video_size, 1700000000);
    cam.store.rescan();
    auto r = session(cam);
    auto di = transact(*r, op(ptp::op_code::get_device_info, 1));
    auto d = ptp::decode_device_info(di.payload);
    ASSERT_TRUE(d.has_value());
    EXPECT_NE(std::find(d->operations_supported.begin(), d->operations_supported.end(),
                        ptp::op_code::mtp_get_object_prop_value),
              d->operations_supported.end());
    auto handles = list_handles(*r, 0xFFFFFFFF, 0);
    ASSERT_EQ(handles.size(), 2u);
    auto i = info_of(*r, handles[1]);
    EXPECT_EQ(i.filename, "BIGVIDEO.MOV");
    EXPECT_EQ(i.compressed_size, 0xFFFFFFFFu);
    auto size = transact(*r, op(ptp::op_code::mtp_get_object_prop_value, 2, {handles[1], 0xDC04}));
    EXPECT_EQ(size.response.code, ok);
    ASSERT_EQ(size.payload.size(), 8u);
    EXPECT_EQ(ptp::load_u32(size.payload.data()) |
                  (std::uint64_t{ptp::load_u32(size.payload.data() + 4)} << 32),
              sim::big_video_size);
    auto part =
        transact(*r, op(ptp::op_code::get_partial_object, 3, {handles[1], 0xFFFFFF00u, 512}));
    ASSERT_EQ(part.payload.size(), 512u);
    for (std::size_t k = 0; k < 512; ++k)
        ASSERT_EQ(part.payload[k], sim::synthetic_byte(0xFFFFFF00u + k)) << k;
}

TEST(sim_quirks, camera_selected_sends_the_selected_photos_as_handle_1_then_closes)
{
    folder dir;
    std::vector<ptp::byte_vector> content;
    for (int i = 1; i <= 3; ++i)
        content.push_back(dir.add("DSCF000" + std::to_string(i) + ".JPG", 1500u + i));
    sim::camera cam(dir.path(), sim::flavor::fuji);
    cam.quirks.add(sim::quirk::camera_selected);
    cam.select = 2;
    cam.store.rescan();
    sim::responder r(cam, sim::responder::role::command);
    ptp::byte_vector init;
    ASSERT_TRUE(fuji::encode(fuji::init_request{fuji::app_guid, "MyClient"}, init).has_value());
    r.receive(init);
    drain(r);
    send_fuji(r, cmd(ptp::op_code::open_session, 0, {1}));
    auto poll = send_fuji(r, cmd(ptp::op_code::get_device_prop_value, 1, {0xD212}));
    auto events = ptp::fuji::decode_event_list(poll.at(0).payload);
    ASSERT_TRUE(events.has_value());
    EXPECT_EQ(ptp::fuji::find(*events, ptp::device_prop::fuji_camera_state), 1u);
    EXPECT_EQ(ptp::fuji::find(*events, ptp::device_prop::fuji_selected_imgs_mode), 1u);
    EXPECT_EQ(ptp::fuji::find(*events, ptp::device_prop::fuji_object_count), 2u);
    send_fuji(r, set_prop(ptp::device_prop::fuji_client_state, 2, 1));
    send_fuji(r, set_prop(ptp::device_prop::fuji_enable_correct_file_size, 3, 1));
    std::uint32_t tid = 4;
    for (std::size_t k = 0; k < 2; ++k)
    {
        EXPECT_EQ(send_fuji(r, cmd(ptp::op_code::get_object_info, tid++, {2})).at(0).code,
                  0x2009); // only handle 1 exists
        auto info = send_fuji(r, cmd(ptp::op_code::get_object_info, tid++, {1}));
        auto oi = ptp::decode_object_info(info.at(0).payload);
        ASSERT_TRUE(oi.has_value());
        EXPECT_EQ(oi->filename, "DSCF000" + std::to_string(k + 1) + ".JPG");
        EXPECT_EQ(oi->compressed_size, content[k].size());
        EXPECT_FALSE(r.done());
        auto part = send_fuji(r, cmd(ptp::op_code::get_partial_object, tid++, {1, 0, 0x100000}));
        ASSERT_EQ(part.size(), 2u);
        EXPECT_EQ(part[0].payload, content[k]);
        EXPECT_EQ(part[1].code, ok);
    }
    // The last selected photo is out: the camera closes; the third file was not selected.
    EXPECT_TRUE(r.done());
    EXPECT_EQ(r.close_reason(), "camera-selected transfer finished");
    EXPECT_EQ(cam.selected_sent, 2u);
}

TEST(sim_card, fuji_serves_a_card_tree_flat_as_handles_1_to_n)
{
    folder dir;
    dir.add("DCIM/100_FUJI/DSCF0001.JPG", 100);
    auto second = dir.add("DCIM/101_FUJI/DSCF0002.RAF", 200);
    sim::camera cam(dir.path(), sim::flavor::fuji);
    cam.store.rescan();
    sim::responder r(cam, sim::responder::role::command);
    ptp::byte_vector init;
    ASSERT_TRUE(fuji::encode(fuji::init_request{fuji::app_guid, "MyClient"}, init).has_value());
    r.receive(init);
    drain(r);
    send_fuji(r, cmd(ptp::op_code::open_session, 0, {1}));
    auto poll = send_fuji(r, cmd(ptp::op_code::get_device_prop_value, 1, {0xD212}));
    auto events = ptp::fuji::decode_event_list(poll.at(0).payload);
    ASSERT_TRUE(events.has_value());
    EXPECT_EQ(ptp::fuji::find(*events, ptp::device_prop::fuji_object_count), 2u);
    send_fuji(r, set_prop(ptp::device_prop::fuji_client_state, 2, 5)); // remote: real sizes
    auto info = send_fuji(r, cmd(ptp::op_code::get_object_info, 3, {2}));
    auto oi = ptp::decode_object_info(info.at(0).payload);
    ASSERT_TRUE(oi.has_value());
    EXPECT_EQ(oi->filename, "DSCF0002.RAF");
    EXPECT_EQ(oi->parent_object, 0u);
    EXPECT_EQ(send_fuji(r, cmd(ptp::op_code::get_object, 4, {2})).at(0).payload, second);
    EXPECT_EQ(send_fuji(r, cmd(ptp::op_code::get_object_info, 5, {3})).at(0).code, 0x2009);
}

} // namespace
