// The "ptpip" source's download logic against a tiny test-only PTP/IP responder on loopback
// (built from the proto encoders, blocking sockets on a thread): what is asked before any
// transfer, what is fetched, in which order (order, jpeg_first), in which GetPartialObject pieces,
// and from which offset a resumed download continues. Plus the pure helpers of ptpip_plan.hpp.
#include "ingest/ptpip/ptpip_plan.hpp"
#include "ingest/ptpip/ptpip_source.hpp"
#include "ingest/ptpip/retry_book.hpp"
#include "proto/ptp/dataset.hpp"
#include "proto/ptpip/session.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

namespace
{

namespace ptp = camrelay::proto::ptp;
namespace pp = camrelay::proto::ptpip;
namespace ingest = camrelay::ingest;
namespace plan = camrelay::ingest::ptpip;

struct fake_object
{
    std::uint32_t handle = 0;
    std::string name;
    std::string date; ///< PTP DateTime
    ptp::object_format format = ptp::object_format::exif_jpeg;
    std::string content;
};

/// One PTP/IP camera on 127.0.0.1, serving one client at a time.
class fake_camera
{
  public:
    explicit fake_camera(std::vector<fake_object> objects) : objects_(std::move(objects))
    {
        listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(listen_, 4);
        socklen_t len = sizeof a;
        ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~fake_camera()
    {
        stop_ = true;
        ::shutdown(listen_, SHUT_RDWR);
        thread_.join();
        ::close(listen_);
    }

    std::uint16_t port() const { return port_; }
    /// Content bytes after which each connection is cut (0: never).
    void set_drop_after(std::uint64_t n) { drop_after_ = n; }
    void set_garbage(bool g) { garbage_ = g; }
    /// GetObjectInfo of this handle answers GeneralError (a lying camera).
    void set_lying_handle(std::uint32_t h) { lying_ = h; }
    /// GetPartialObject trickles: one byte every 100 ms.
    void set_trickle(bool t) { trickle_ = t; }
    /// GetObjectHandles: a data phase of unknown length that never ends (256 MiB offered).
    void set_flood(bool f) { flood_ = f; }
    /// ObjectInfo names storage 0x00020001 while GetStorageIDs lists 0x00010001.
    void set_storage_mismatch(bool m) { storage_mismatch_ = m; }
    /// ObjectInfo says ObjectCompressedSize 0xFFFFFFFF (an object over 4 GiB) for every object.
    void set_big(bool b) { big_ = b; }
    /// GetObjectPropValue (0x9803) in DeviceInfo; ObjectSize answers `size_answer_bytes` bytes of
    /// the UINT64 size (8: correct; other: an odd answer).
    void set_size_property(bool on, std::size_t size_answer_bytes = 8,
                           std::uint64_t claimed_size = 0)
    {
        size_property_ = on;
        size_answer_bytes_ = size_answer_bytes;
        claimed_size_ = claimed_size;
    }
    /// DeviceInfo lists GetPartialObject64 (0x95C1) and not GetPartialObject.
    void set_only_partial64(bool on) { only_partial64_ = on; }
    /// GetPartialObject64 requests: handle, 64-bit offset (low | high << 32).
    std::vector<std::pair<std::uint32_t, std::uint64_t>> partial64_requests()
    {
        std::lock_guard l(m_);
        return partial64_;
    }
    int get_object_requests() const { return get_objects_; }
    int size_property_requests() const { return size_queries_; }
    std::uint64_t flood_sent() const { return flood_sent_; }
    std::vector<std::pair<std::uint32_t, std::uint32_t>> partial_requests()
    {
        std::lock_guard l(m_);
        return partial_;
    }
    int connections() const { return connections_; }

  private:
    static bool read_packet(int fd, ptp::byte_vector& out)
    {
        std::uint8_t len_bytes[4];
        std::size_t got = 0;
        while (got < 4)
        {
            auto n = ::recv(fd, len_bytes + got, 4 - got, 0);
            if (n <= 0)
                return false;
            got += static_cast<std::size_t>(n);
        }
        std::uint32_t len = len_bytes[0] | (len_bytes[1] << 8) | (len_bytes[2] << 16) |
                            (static_cast<std::uint32_t>(len_bytes[3]) << 24);
        if (len < 8 || len > (1u << 20))
            return false;
        out.resize(len);
        std::memcpy(out.data(), len_bytes, 4);
        got = 4;
        while (got < len)
        {
            auto n = ::recv(fd, out.data() + got, len - got, 0);
            if (n <= 0)
                return false;
            got += static_cast<std::size_t>(n);
        }
        return true;
    }
    static bool send_all(int fd, ptp::bytes_view b)
    {
        std::size_t done = 0;
        while (done < b.size())
        {
            auto n = ::send(fd, b.data() + done, b.size() - done, MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }
    static bool send(int fd, pp::packet const& p) { return send_all(fd, *pp::encode(p)); }

    fake_object const* find(std::uint32_t h) const
    {
        for (auto const& o : objects_)
            if (o.handle == h)
                return &o;
        return nullptr;
    }

    void serve()
    {
        while (!stop_)
        {
            int cmd = ::accept(listen_, nullptr, nullptr);
            if (cmd < 0)
                return;
            ++connections_;
            serve_client(cmd);
            ::close(cmd);
        }
    }

    void serve_client(int cmd)
    {
        ptp::byte_vector buf;
        if (garbage_)
        {
            std::string junk = "HTTP/1.1 200 OK\r\n\r\n this is not a camera at all";
            send_all(cmd,
                     ptp::bytes_view(reinterpret_cast<std::byte const*>(junk.data()), junk.size()));
            read_packet(cmd, buf);
            return;
        }
        if (!read_packet(cmd, buf))
            return;
        pp::init_command_ack ack;
        ack.connection_number = 7;
        ack.friendly_name = "FakeCam";
        ack.responder_guid[0] = std::byte{0x42};
        send(cmd, ack);
        int evt = ::accept(listen_, nullptr, nullptr);
        if (evt < 0)
            return;
        if (read_packet(evt, buf))
            send(evt, pp::init_event_ack{});
        std::uint64_t sent = 0;
        while (read_packet(cmd, buf))
        {
            auto p = pp::decode(buf);
            if (!p || !std::holds_alternative<pp::operation_request>(*p))
                break;
            auto const& rq = std::get<pp::operation_request>(*p);
            auto tid = rq.transaction_id;
            auto param = [&](std::size_t i) { return i < rq.params.size() ? rq.params[i] : 0u; };
            auto ok = [&](std::vector<std::uint32_t> params = {}) {
                return send(cmd, pp::operation_response{0x2001, tid, std::move(params)});
            };
            auto data = [&](ptp::byte_vector const& payload)
            {
                send(cmd, pp::start_data{tid, payload.size()});
                send(cmd, pp::end_data{tid, payload});
                return ok();
            };
            switch (rq.code)
            {
            case 0x1002: // OpenSession
            case 0x1003: // CloseSession
                ok();
                break;
            case 0x1001:
            { // GetDeviceInfo
                ptp::device_info di;
                di.manufacturer = "Fake Corp";
                di.model = "FC-1";
                di.serial_number = "SN123";
                di.operations_supported = {ptp::op_code::get_object_info, ptp::op_code::get_object,
                                           only_partial64_ ? ptp::op_code::mtp_get_partial_object_64
                                                           : ptp::op_code::get_partial_object};
                if (size_property_)
                    di.operations_supported.push_back(ptp::op_code::mtp_get_object_prop_value);
                ptp::byte_vector out;
                (void)ptp::encode(di, out);
                data(out);
                break;
            }
            case 0x1004:
            { // GetStorageIDs
                ptp::byte_vector out;
                ptp::encode_uint32_array({0x00010001}, out);
                data(out);
                break;
            }
            case 0x1007:
            { // GetObjectHandles
                if (flood_)
                {
                    send(cmd, pp::start_data{tid, pp::unknown_data_length});
                    ptp::byte_vector junk(64 * 1024, std::byte{0x11});
                    for (int i = 0; i < 4096; ++i)
                    {
                        if (!send(cmd, pp::data{tid, junk}))
                            break;
                        flood_sent_ += junk.size();
                    }
                    break;
                }
                std::vector<std::uint32_t> hs;
                for (auto const& o : objects_)
                    hs.push_back(o.handle);
                ptp::byte_vector out;
                ptp::encode_uint32_array(hs, out);
                data(out);
                break;
            }
            case 0x1008:
            { // GetObjectInfo
                auto const* o = find(param(0));
                if (!o || param(0) == lying_)
                {
                    send(cmd, pp::operation_response{
                                  o ? std::uint16_t{0x2002} : std::uint16_t{0x2009}, tid, {}});
                    break;
                }
                ptp::object_info oi;
                oi.storage_id = storage_mismatch_ ? 0x00020001 : 0x00010001;
                oi.format = o->format;
                oi.compressed_size =
                    big_ ? 0xFFFFFFFFu : static_cast<std::uint32_t>(o->content.size());
                oi.filename = o->name;
                oi.capture_date = o->date;
                ptp::byte_vector out;
                (void)ptp::encode(oi, out);
                data(out);
                break;
            }
            case 0x9803:
            { // GetObjectPropValue(handle, prop)
                ++size_queries_;
                auto const* o = find(param(0));
                if (!o || !size_property_ || param(1) != 0xDC04)
                {
                    send(cmd, pp::operation_response{0x2009, tid, {}});
                    break;
                }
                ptp::byte_vector out;
                ptp::writer(out).u64(claimed_size_ ? claimed_size_.load() : o->content.size());
                out.resize(size_answer_bytes_);
                data(out);
                break;
            }
            case 0x1009:
            { // GetObject
                ++get_objects_;
                auto const* o = find(param(0));
                if (!o)
                {
                    send(cmd, pp::operation_response{0x2009, tid, {}});
                    break;
                }
                auto bytes = std::as_bytes(std::span(o->content.data(), o->content.size()));
                data(ptp::byte_vector(bytes.begin(), bytes.end()));
                break;
            }
            case 0x95C1:
            { // GetPartialObject64(handle, offset low, offset high, max)
                auto const* o = find(param(0));
                std::uint64_t off = param(1) | (static_cast<std::uint64_t>(param(2)) << 32);
                {
                    std::lock_guard l(m_);
                    partial64_.emplace_back(param(0), off);
                }
                if (!o || !only_partial64_ || off > o->content.size())
                {
                    send(cmd, pp::operation_response{0x2009, tid, {}});
                    break;
                }
                auto n = std::min<std::size_t>(param(3), o->content.size() - off);
                auto bytes = std::as_bytes(std::span(o->content.data() + off, n));
                ptp::byte_vector payload(bytes.begin(), bytes.end());
                send(cmd, pp::start_data{tid, payload.size()});
                send(cmd, pp::end_data{tid, payload});
                ok({static_cast<std::uint32_t>(n)});
                break;
            }
            case 0x101B:
            { // GetPartialObject
                auto const* o = find(param(0));
                {
                    std::lock_guard l(m_);
                    partial_.emplace_back(param(0), param(1));
                }
                if (!o || param(1) > o->content.size())
                {
                    send(cmd, pp::operation_response{0x2009, tid, {}});
                    break;
                }
                auto n = std::min<std::size_t>(param(2), o->content.size() - param(1));
                auto bytes = std::as_bytes(std::span(o->content.data() + param(1), n));
                ptp::byte_vector payload(bytes.begin(), bytes.end());
                if (drop_after_ && sent + n > drop_after_)
                {
                    // Cut the connection in the middle of this data phase.
                    send(cmd, pp::start_data{tid, payload.size()});
                    payload.resize(payload.size() / 2);
                    send(cmd, pp::data{tid, payload});
                    ::close(evt);
                    return;
                }
                if (trickle_)
                {
                    send(cmd, pp::start_data{tid, payload.size()});
                    for (std::size_t i = 0; i < payload.size() && !stop_; ++i)
                    {
                        if (!send(cmd, pp::data{tid, ptp::byte_vector{payload[i]}}))
                            break;
                        std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    }
                    ::close(evt);
                    return;
                }
                sent += n;
                send(cmd, pp::start_data{tid, payload.size()});
                send(cmd, pp::end_data{tid, payload});
                ok({static_cast<std::uint32_t>(n)});
                break;
            }
            default:
                send(cmd, pp::operation_response{0x2005, tid, {}});
            }
        }
        ::close(evt);
    }

    std::vector<fake_object> objects_;
    int listen_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> drop_after_{0};
    std::atomic<bool> garbage_{false};
    std::atomic<std::uint32_t> lying_{0};
    std::atomic<bool> trickle_{false};
    std::atomic<bool> flood_{false};
    std::atomic<bool> storage_mismatch_{false};
    std::atomic<std::uint64_t> flood_sent_{0};
    std::atomic<bool> big_{false};
    std::atomic<bool> size_property_{false};
    std::atomic<std::size_t> size_answer_bytes_{8};
    std::atomic<std::uint64_t> claimed_size_{0};
    std::atomic<bool> only_partial64_{false};
    std::atomic<int> get_objects_{0};
    std::atomic<int> size_queries_{0};
    std::vector<std::pair<std::uint32_t, std::uint64_t>> partial64_;
    std::atomic<int> connections_{0};
    std::mutex m_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> partial_;
};

/// Plays the ingester: remembers what it stored, keeps partial content like a .part file and
/// resumes from its size, and logs the calls in order.
class recording_handler final : public ingest::object_handler
{
  public:
    camrelay::result<std::int64_t> camera_connected(ingest::camera_info const& cam) override
    {
        identity = cam.identity;
        return 1;
    }
    bool already_have(std::int64_t, ingest::object_ref const& obj) override
    {
        calls.push_back("have " + obj.name);
        refs[obj.name] = obj;
        return stored.count(obj.name) > 0;
    }
    camrelay::result<std::unique_ptr<ingest::incoming_file>>
    begin_receive(std::int64_t, ingest::camera_info const&, ingest::object_ref const&) override
    {
        return std::make_error_code(std::errc::operation_not_supported);
    }
    camrelay::result<std::int64_t> queue_message(std::int64_t, camrelay::message_info const&,
                                                 std::span<const ingest::message_part>) override
    {
        return std::make_error_code(std::errc::operation_not_supported);
    }
    ingest::fetch_result fetch(std::int64_t, ingest::camera_info const&,
                               ingest::object_ref const& obj, ingest::fetch_fn const& read,
                               bool can_resume) override
    {
        calls.push_back("fetch " + obj.name);
        auto& part = parts[obj.name];
        std::uint64_t offset = can_resume ? part.size() : 0;
        if (!can_resume)
            part.clear();
        offsets[obj.name].push_back(offset);
        auto ec = read(offset,
                       [&](std::span<const std::byte> b) -> std::error_code
                       {
                           part.append(reinterpret_cast<char const*>(b.data()), b.size());
                           return {};
                       });
        ingest::fetch_result r;
        // Like the ingester: size 0 is unknown (read to the end), not checked.
        if (ec || (obj.size > 0 && part.size() != obj.size))
        {
            r.error = ec ? ec.message() : "short";
            return r;
        }
        stored[obj.name] = part;
        parts.erase(obj.name);
        r.status = ingest::fetch_status::stored;
        return r;
    }
    void object_unreadable(std::int64_t, ingest::object_problem const& p) override
    {
        unreadable.push_back(p);
        events.push_back("unreadable: " + p.key() + ": " + p.reason);
    }
    void object_recovered(std::int64_t, ingest::object_problem const& p) override
    {
        recovered.push_back(p.key());
    }
    void camera_event(std::int64_t, std::string const& kind, std::string const& message) override
    {
        events.push_back(kind + ": " + message);
    }

    std::vector<ingest::object_problem> unreadable;
    std::vector<std::string> recovered;

    std::string identity;
    std::vector<std::string> calls;
    std::map<std::string, ingest::object_ref> refs;
    std::map<std::string, std::string> stored;
    std::map<std::string, std::string> parts;
    std::map<std::string, std::vector<std::uint64_t>> offsets;
    std::vector<std::string> events;
};

std::string pattern(std::size_t n, char seed)
{
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>(seed + static_cast<char>((i * 31) % 97));
    return s;
}

std::vector<fake_object> sample_card()
{
    return {
        {1, "IMG_0003.CR3", "20240103T100000", ptp::object_format::undefined, pattern(70000, 'c')},
        {2, "IMG_0001.JPG", "20240101T100000", ptp::object_format::exif_jpeg, pattern(50000, 'a')},
        {3, "IMG_0002.JPG", "20240102T100000", ptp::object_format::exif_jpeg, pattern(10, 'b')},
        {4, "MVI_0004.MOV", "20231231T100000", ptp::object_format::quicktime, pattern(20000, 'd')},
    };
}

struct source_fixture : ::testing::Test
{
    std::filesystem::path dir;
    void SetUp() override
    {
        dir = std::filesystem::temp_directory_path() /
              ("camrelay-ptpip-test-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    std::unique_ptr<ingest::source>
    make(std::uint16_t port, recording_handler& h,
         std::map<std::string, camrelay::config::option_value> extra = {})
    {
        camrelay::config::source_settings s;
        s.type = "ptpip";
        s.data_dir = dir.string();
        s.options.set("address", "127.0.0.1:" + std::to_string(port), 1);
        s.options.set("chunk_size", std::int64_t{16384}, 2);
        for (auto& [k, v] : extra)
            s.options.set(k, v, 3);
        std::vector<camrelay::config::problem> problems;
        auto const* d = ingest::find_source_type("ptpip");
        EXPECT_NE(d, nullptr);
        auto src = d->make(s, h, problems);
        EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems.front().message);
        return src;
    }

    static std::vector<std::string> fetch_order(recording_handler const& h)
    {
        std::vector<std::string> v;
        for (auto const& c : h.calls)
            if (c.rfind("fetch ", 0) == 0)
                v.push_back(c.substr(6));
        return v;
    }
};

TEST_F(source_fixture, imports_everything_oldest_first_and_asks_before_fetching)
{
    fake_camera cam(sample_card());
    recording_handler h;
    auto src = make(cam.port(), h);
    auto f = src->import_once({});
    ASSERT_FALSE(f.code) << f.text();
    EXPECT_EQ(h.identity, "ptpip:Fake Corp:FC-1:SN123");
    for (auto const& o : sample_card())
        EXPECT_EQ(h.stored[o.name], o.content) << o.name;
    // Every object is asked about before the first transfer.
    std::size_t first_fetch = 0;
    while (first_fetch < h.calls.size() && h.calls[first_fetch].rfind("fetch", 0) != 0)
        ++first_fetch;
    EXPECT_EQ(first_fetch, 4u);
    EXPECT_EQ(fetch_order(h), (std::vector<std::string>{"MVI_0004.MOV", "IMG_0001.JPG",
                                                        "IMG_0002.JPG", "IMG_0003.CR3"}));
    // Natural key: storage folder, name, size, capture time.
    auto const& ref = h.refs["IMG_0001.JPG"];
    EXPECT_EQ(ref.folder, "/store_00010001");
    EXPECT_EQ(ref.size, 50000u);
    EXPECT_EQ(ref.mtime, 1704103200);
    // GetPartialObject in chunk_size pieces: 50000 bytes = 4 requests for handle 2.
    int pieces = 0;
    for (auto [handle, offset] : cam.partial_requests())
        if (handle == 2)
        {
            EXPECT_EQ(offset % 16384, 0u);
            ++pieces;
        }
    EXPECT_EQ(pieces, 4);

    // A second import moves nothing.
    recording_handler again;
    again.stored = h.stored;
    auto src2 = make(cam.port(), again);
    ASSERT_FALSE(src2->import_once({}).code);
    EXPECT_TRUE(fetch_order(again).empty());
}

TEST_F(source_fixture, newest_first_and_jpeg_first)
{
    fake_camera cam(sample_card());
    recording_handler h;
    auto src = make(cam.port(), h, {{"order", std::string("newest-first")}, {"jpeg_first", true}});
    ASSERT_FALSE(src->import_once({}).code);
    EXPECT_EQ(fetch_order(h), (std::vector<std::string>{"IMG_0002.JPG", "IMG_0001.JPG",
                                                        "IMG_0003.CR3", "MVI_0004.MOV"}));
}

TEST_F(source_fixture, dropped_connection_resumes_from_the_kept_offset)
{
    fake_camera cam(sample_card());
    cam.set_drop_after(40000);
    recording_handler h;
    auto src = make(cam.port(), h);
    auto f = src->import_once({});
    ASSERT_FALSE(f.code) << f.text();
    for (auto const& o : sample_card())
        EXPECT_EQ(h.stored[o.name], o.content) << o.name;
    EXPECT_GT(cam.connections(), 1);
    // Some file was fetched again from a non-zero offset, and the camera was asked for exactly
    // that offset.
    bool resumed = false;
    for (auto const& [name, offs] : h.offsets)
        for (auto off : offs)
            if (off > 0)
            {
                resumed = true;
                bool asked = false;
                for (auto [handle, offset] : cam.partial_requests())
                    if (offset == off)
                        asked = true;
                EXPECT_TRUE(asked) << name << " offset " << off;
            }
    EXPECT_TRUE(resumed);
    // Accounting: after the reconnects each file was asked about once (none counted as known
    // twice).
    for (auto const& o : sample_card())
        EXPECT_EQ(std::count(h.calls.begin(), h.calls.end(), "have " + o.name), 1) << o.name;
    EXPECT_TRUE(h.unreadable.empty());
}

// A camera that lies: GetObjectInfo of one listed handle fails. The import says so (an error, the
// object reported unreadable with its handle), never asks already_have about it, fetches the rest;
// the next import tries it again.
TEST_F(source_fixture, unreadable_objectinfo_is_reported_and_fails_the_import)
{
    fake_camera cam(sample_card());
    cam.set_lying_handle(3);
    recording_handler h;
    auto src = make(cam.port(), h);
    auto f = src->import_once({});
    EXPECT_TRUE(f.code);
    EXPECT_NE(f.message.find("could not be read"), std::string::npos) << f.message;
    ASSERT_EQ(h.unreadable.size(), 1u);
    EXPECT_EQ(h.unreadable[0].handle, 3u);
    EXPECT_NE(h.unreadable[0].reason.find("ObjectInfo"), std::string::npos);
    EXPECT_FALSE(h.unreadable[0].timeout);
    EXPECT_EQ(std::count(h.calls.begin(), h.calls.end(), "have IMG_0002.JPG"), 0);
    EXPECT_EQ(h.stored.size(), 3u);
    EXPECT_EQ(h.stored.count("IMG_0002.JPG"), 0u);
    // Fixed camera, next import: read and stored.
    cam.set_lying_handle(0);
    auto f2 = src->import_once({});
    EXPECT_FALSE(f2.code) << f2.text();
    EXPECT_EQ(h.stored["IMG_0002.JPG"], sample_card()[2].content);
}

// A camera that sends one byte every 100 ms must not hold the import: min_rate over rate_window
// drops it, reported as a timeout; the import ends, failed, in bounded time.
TEST_F(source_fixture, trickling_camera_is_a_timeout_in_bounded_time)
{
    fake_camera cam(sample_card());
    cam.set_trickle(true);
    recording_handler h;
    auto src =
        make(cam.port(), h, {{"min_rate", std::int64_t{100000}}, {"rate_window", std::int64_t{1}}});
    auto t0 = std::chrono::steady_clock::now();
    auto f = src->import_once({});
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
    EXPECT_TRUE(f.code);
    ASSERT_FALSE(h.unreadable.empty());
    EXPECT_TRUE(h.unreadable[0].timeout);
    EXPECT_NE(h.unreadable[0].reason.find("timeout"), std::string::npos) << h.unreadable[0].reason;
    EXPECT_EQ(f.message.find("protocol error"), std::string::npos) << f.message;
    EXPECT_TRUE(h.stored.empty());
}

// A data phase of unknown length for GetObjectHandles: the session stops at the handle-list bound
// (16 MiB) and the connection is dropped; the client never holds more.
TEST_F(source_fixture, endless_handle_list_is_cut_at_its_bound)
{
    fake_camera cam(sample_card());
    cam.set_flood(true);
    recording_handler h;
    auto src = make(cam.port(), h);
    auto f = src->import_once({});
    EXPECT_TRUE(f.code);
    EXPECT_NE(f.message.find("more data than this operation allows"), std::string::npos)
        << f.message;
    // Per connection: the 16 MiB bound plus what the loopback socket buffers hold (far less
    // than the 256 MiB offered).
    ASSERT_GT(cam.connections(), 0);
    EXPECT_LT(cam.flood_sent() / static_cast<std::uint64_t>(cam.connections()),
              std::uint64_t{48} << 20);
    EXPECT_TRUE(h.stored.empty());
}

// Card realism: an ObjectInfo naming another storage than the one listed: filed under the listed
// storage, so the identity (folder) is the same as with a consistent camera, and nothing is new.
TEST_F(source_fixture, objectinfo_storage_id_mismatch_keeps_the_listed_storage)
{
    fake_camera cam(sample_card());
    cam.set_storage_mismatch(true);
    recording_handler h;
    auto src = make(cam.port(), h);
    auto f = src->import_once({});
    ASSERT_FALSE(f.code) << f.text();
    EXPECT_EQ(h.stored.size(), 4u);
    EXPECT_EQ(h.refs["IMG_0001.JPG"].folder, "/store_00010001");
}

// Card realism: handles differ between sessions; the identity (folder, name, size, time) does not,
// so a camera that renumbered its objects gives nothing new.
TEST_F(source_fixture, handles_that_change_between_sessions_keep_the_identity)
{
    recording_handler h;
    {
        fake_camera cam(sample_card());
        ASSERT_FALSE(make(cam.port(), h)->import_once({}).code);
    }
    auto renumbered = sample_card();
    for (auto& o : renumbered)
        o.handle += 100;
    fake_camera cam(renumbered);
    recording_handler again;
    again.stored = h.stored;
    auto f = make(cam.port(), again)->import_once({});
    ASSERT_FALSE(f.code) << f.text();
    EXPECT_TRUE(fetch_order(again).empty());
    for (auto const& o : sample_card())
        EXPECT_EQ(again.refs[o.name].folder, h.refs[o.name].folder) << o.name;
}

// ObjectCompressedSize 0xFFFFFFFF (over 4 GiB) with the MTP ObjectSize property: the identity
// carries the 64-bit size, and the object is read by GetPartialObject as usual (resumable).
TEST_F(source_fixture, big_object_size_from_the_object_size_property)
{
    fake_camera cam(sample_card());
    cam.set_big(true);
    cam.set_size_property(true);
    recording_handler h;
    auto src = make(cam.port(), h);
    auto f = src->import_once({});
    ASSERT_FALSE(f.code) << f.text();
    for (auto const& o : sample_card())
    {
        EXPECT_EQ(h.stored[o.name], o.content) << o.name;
        EXPECT_EQ(h.refs[o.name].size, o.content.size()) << o.name;
    }
    EXPECT_EQ(cam.size_property_requests(), 4);
    EXPECT_EQ(cam.get_object_requests(), 0);
    EXPECT_FALSE(cam.partial_requests().empty());
    EXPECT_TRUE(h.unreadable.empty());
}

// 0xFFFFFFFF and no ObjectSize property (or an odd answer to it): the size is unknown before the
// transfer. The identity has size 0 (stable across scans: the camera says the same each time),
// the object is read whole with GetObject to the end of the data phase, and not resumable.
TEST_F(source_fixture, big_object_without_the_property_is_read_to_the_end)
{
    for (int odd : {0, 1, 2})
    {
        SCOPED_TRACE(odd == 0   ? "no ObjectSize property"
                     : odd == 1 ? "odd ObjectSize answer"
                                : "ObjectSize past max_object_size");
        fake_camera cam(sample_card());
        cam.set_big(true);
        if (odd == 1)
            cam.set_size_property(true, 4); // 4 bytes where a UINT64 belongs
        if (odd == 2)
            cam.set_size_property(true, 8, 1ull << 50); // 1 PiB: not believed (cap 1 TiB)
        recording_handler h;
        auto src = make(cam.port(), h);
        auto f = src->import_once({});
        ASSERT_FALSE(f.code) << f.text();
        for (auto const& o : sample_card())
        {
            EXPECT_EQ(h.stored[o.name], o.content) << o.name;
            EXPECT_EQ(h.refs[o.name].size, 0u) << o.name;
            EXPECT_EQ(h.offsets[o.name], std::vector<std::uint64_t>{0}) << o.name;
        }
        EXPECT_EQ(cam.size_property_requests(), odd ? 4 : 0);
        EXPECT_EQ(cam.get_object_requests(), 4);
        EXPECT_TRUE(cam.partial_requests().empty());
        EXPECT_TRUE(h.unreadable.empty());

        // The next import finds them known under the same identity: nothing moves.
        recording_handler again;
        again.stored = h.stored;
        auto src2 = make(cam.port(), again);
        ASSERT_FALSE(src2->import_once({}).code);
        EXPECT_TRUE(fetch_order(again).empty());
        EXPECT_EQ(cam.get_object_requests(), 4);
    }
}

// A camera with GetPartialObject64 only: every chunk goes by 0x95C1 with its 64-bit offset, and a
// cut transfer resumes from the kept offset through it.
TEST_F(source_fixture, get_partial_object_64_chunks_and_resume)
{
    fake_camera cam(sample_card());
    cam.set_only_partial64(true);
    recording_handler h;
    // A kept .part of IMG_0001.JPG: the fetch resumes at its size.
    auto card = sample_card();
    h.parts["IMG_0001.JPG"] = card[1].content.substr(0, 20000);
    auto src = make(cam.port(), h);
    auto f = src->import_once({});
    ASSERT_FALSE(f.code) << f.text();
    for (auto const& o : card)
        EXPECT_EQ(h.stored[o.name], o.content) << o.name;
    EXPECT_TRUE(cam.partial_requests().empty());
    EXPECT_EQ(cam.get_object_requests(), 0);
    std::vector<std::uint64_t> asked;
    for (auto [handle, offset] : cam.partial64_requests())
        if (handle == 2)
            asked.push_back(offset);
    EXPECT_EQ(asked, (std::vector<std::uint64_t>{20000, 36384}));
    EXPECT_EQ(h.offsets["IMG_0001.JPG"], std::vector<std::uint64_t>{20000});
}

TEST(ptpip_retry_book, first_retry_next_scan_then_doubling_and_bounded)
{
    using clk = plan::retry_book::clock;
    plan::retry_book b(std::chrono::seconds(30), std::chrono::hours(1), 3);
    auto t = clk::time_point{} + std::chrono::hours(100);
    EXPECT_TRUE(b.due("a", t));
    EXPECT_TRUE(b.failed("a", t));  // first failure: report
    EXPECT_TRUE(b.due("a", t));     // tried at the next scan
    EXPECT_FALSE(b.failed("a", t)); // reported already
    EXPECT_FALSE(b.due("a", t + std::chrono::seconds(29)));
    EXPECT_TRUE(b.due("a", t + std::chrono::seconds(30)));
    b.failed("a", t);
    EXPECT_FALSE(b.due("a", t + std::chrono::seconds(59)));
    EXPECT_TRUE(b.due("a", t + std::chrono::seconds(60)));
    for (int i = 0; i < 20; ++i)
        b.failed("a", t);
    EXPECT_TRUE(b.due("a", t + std::chrono::hours(1))); // capped at an hour
    EXPECT_TRUE(b.succeeded("a"));
    EXPECT_FALSE(b.succeeded("a"));
    for (auto k : {"k1", "k2", "k3", "k4"})
        b.failed(k, t++);
    EXPECT_EQ(b.size(), 3u);
    EXPECT_EQ(b.failures("k1"), 0); // the oldest went first
}

TEST_F(source_fixture, garbage_from_the_peer_is_an_error)
{
    fake_camera cam(sample_card());
    cam.set_garbage(true);
    recording_handler h;
    auto src = make(cam.port(), h);
    auto f = src->import_once({});
    EXPECT_TRUE(f.code);
    EXPECT_FALSE(f.message.empty());
    EXPECT_TRUE(h.stored.empty());
}

TEST_F(source_fixture, camera_not_there_fails_quickly)
{
    std::uint16_t port;
    {
        fake_camera gone({});
        port = gone.port();
    }
    recording_handler h;
    auto src = make(port, h);
    auto t0 = std::chrono::steady_clock::now();
    auto f = src->import_once({});
    EXPECT_TRUE(f.code);
    EXPECT_NE(f.message.find("cannot connect"), std::string::npos) << f.message;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(6));
}

TEST_F(source_fixture, stop_ends_the_daemon_within_a_second)
{
    fake_camera cam(sample_card());
    recording_handler h;
    auto src = make(cam.port(), h);
    std::stop_source stop;
    std::thread t([&] { src->run(stop.get_token()); });
    for (int i = 0; i < 100 && h.stored.size() < 4; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto t0 = std::chrono::steady_clock::now();
    stop.request_stop();
    t.join();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

TEST(ptpip_plan, parse_address)
{
    auto a = plan::parse_address("192.168.0.1", 55740);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "192.168.0.1");
    EXPECT_EQ(a->port, 55740);
    a = plan::parse_address("cam.local:1234", 15740);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->port, 1234);
    a = plan::parse_address("[fe80::1]:99", 15740);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "fe80::1");
    EXPECT_FALSE(plan::parse_address("", 1));
    EXPECT_FALSE(plan::parse_address("host:", 1));
    EXPECT_FALSE(plan::parse_address("host:70000", 1));
    EXPECT_FALSE(plan::parse_address("fe80::1", 1));
}

TEST(ptpip_plan, next_chunk_covers_the_object_from_the_resume_offset)
{
    EXPECT_FALSE(plan::next_chunk(10, 10, 4));
    auto c = plan::next_chunk(0, 10, 4);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->offset, 0u);
    EXPECT_EQ(c->length, 4u);
    c = plan::next_chunk(8, 10, 4);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->offset, 8u);
    EXPECT_EQ(c->length, 2u);
    c = plan::next_chunk(5, 1 << 20, 1 << 20);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->length, (1u << 20) - 5);
}

// Offsets past 4 GiB, planned without 4 GiB of bytes: GetPartialObject64 carries the offset in
// two parameters; without it an object past 4 GiB is read whole (no resume), and a 32-bit plan
// never produces an offset that does not fit.
TEST(ptpip_plan, chunks_past_4_gib_need_get_partial_object_64)
{
    constexpr std::uint64_t gib4 = 1ull << 32;
    constexpr std::uint64_t size = gib4 + (1u << 20); // 4 GiB + 1 MiB
    auto c = plan::next_chunk(gib4 + 100, size, 1u << 20, true);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->offset, gib4 + 100);
    EXPECT_EQ(c->length, (1u << 20) - 100);
    EXPECT_FALSE(plan::next_chunk(size, size, 1u << 20, true));
    // The last 32-bit offset still plans; one past it does not (it cannot be sent).
    c = plan::next_chunk(gib4 - 1, size, 1u << 20, false);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->offset, gib4 - 1);
    EXPECT_FALSE(plan::next_chunk(gib4, size, 1u << 20, false));

    auto op = pp::ops::get_partial_object_64(9, gib4 * 3 + 7, 4096);
    EXPECT_EQ(op.code, 0x95C1);
    EXPECT_EQ(op.params, (std::vector<std::uint32_t>{9, 7, 3, 4096}));
    EXPECT_EQ(op.max_data_in, 4096u);
    auto prop = pp::ops::get_object_prop_value(9, ptp::object_prop::object_size);
    EXPECT_EQ(prop.code, 0x9803);
    EXPECT_EQ(prop.params, (std::vector<std::uint32_t>{9, 0xDC04}));
    ASSERT_TRUE(prop.max_data_in);
    EXPECT_LE(*prop.max_data_in, pp::dataset_limit);

    using k = plan::transfer_kind;
    EXPECT_EQ(plan::plan_transfer(size, true, true, true), k::partial64);
    EXPECT_EQ(plan::plan_transfer(size, true, true, false), k::whole);
    EXPECT_EQ(plan::plan_transfer(gib4, true, true, false), k::partial); // last offset fits
    EXPECT_EQ(plan::plan_transfer(1000, true, true, true), k::partial);
    EXPECT_EQ(plan::plan_transfer(1000, true, false, true), k::partial64);
    EXPECT_EQ(plan::plan_transfer(1000, true, false, false), k::whole);
    EXPECT_EQ(plan::plan_transfer(0, false, true, true), k::whole); // unknown size
}

TEST(ptpip_plan, guid_file_is_created_once_private)
{
    auto path =
        std::filesystem::temp_directory_path() / ("camrelay-guid-" + std::to_string(::getpid()));
    std::filesystem::remove(path);
    auto a = plan::load_or_create_guid(path.string());
    ASSERT_TRUE(a);
    auto b = plan::load_or_create_guid(path.string());
    ASSERT_TRUE(b);
    EXPECT_EQ(*a, *b);
    struct stat st
    {
    };
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_size, 16);
    std::filesystem::resize_file(path, 3);
    EXPECT_FALSE(plan::load_or_create_guid(path.string()));
    std::filesystem::remove(path);
}

TEST(ptpip_plan, identity_and_refs)
{
    pp::guid g{};
    g[0] = std::byte{0xab};
    EXPECT_EQ(plan::identity_of("Canon", "EOS R6", "123", g), "ptpip:Canon:EOS R6:123");
    EXPECT_EQ(plan::identity_of("Canon", "EOS R6", "", g).substr(0, 25),
              "ptpip:Canon:EOS R6:guid-a");
    ptp::object_info oi;
    oi.filename = "DSCF0001.JPG";
    oi.compressed_size = 1234;
    oi.capture_date = "20160102T150136";
    oi.format = ptp::object_format::exif_jpeg;
    auto r = plan::ref_of(oi, plan::folder_for(0x10000001, {"DCIM", "100_FUJI"}));
    EXPECT_EQ(r.folder, "/store_10000001/DCIM/100_FUJI");
    EXPECT_EQ(r.size, 1234u);
    EXPECT_EQ(r.mtime, 1451746896);
    EXPECT_EQ(r.mime, "image/jpeg");
    oi.format = ptp::object_format::association;
    EXPECT_FALSE(plan::is_downloadable(oi));
    EXPECT_NE(plan::refusal_message("X-T5", 0x2019, true)
                  .find("the camera refused: confirm the connection on the camera (or re-pair)"),
              std::string::npos);
}

} // namespace
