// The daemon's control socket over a real unix socket, the presence tracker's rules, and the
// hostapd monitor against a hostapd stand-in (a datagram socket answering ATTACH and PING).
#include "support/temp_dir.hpp"
#include "trigger/control_socket.hpp"
#include "trigger/hostapd_monitor.hpp"
#include "trigger/presence.hpp"
#include "trigger/probe.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

namespace
{

using namespace camrelay;
using namespace std::chrono_literals;

std::string raw_exchange(std::string const& path, std::string const& bytes)
{
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    {
        ::close(fd);
        return "connect failed";
    }
    if (!bytes.empty())
        (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0)
        out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
}

TEST(TriggerControlSocket, ServesRequestsWithLimits)
{
    test::temp_dir dir;
    auto path = (dir / "run/control.sock").string();
    std::vector<std::string> seen;
    std::mutex m;
    std::string error;
    auto server = trigger::control_server::open(
        path,
        [&](trigger::control_request const& r)
        {
            std::lock_guard lock(m);
            seen.push_back(trigger::format_control(r));
            return std::string("OK seen");
        },
        error);
    ASSERT_TRUE(server) << error;
    struct stat st
    {
    };
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0660u);

    trigger::control_request r;
    r.what = trigger::control_request::kind::station;
    r.station = {"wlan0", false, "02:11:22:aa:bb:cc"};
    std::string reply;
    ASSERT_TRUE(trigger::send_control(path, r, reply, error)) << error;
    EXPECT_EQ(reply, "OK seen");
    {
        std::lock_guard lock(m);
        ASSERT_EQ(seen.size(), 1u);
        EXPECT_EQ(seen[0], "station wlan0 disconnected 02:11:22:aa:bb:cc\n");
    }
    // Bad requests never reach the handler.
    EXPECT_EQ(raw_exchange(path, "reboot now\n").rfind("ERR unknown request", 0), 0u);
    EXPECT_EQ(raw_exchange(path, std::string(1000, 'x')), "ERR line too long\n");
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(raw_exchange(path, "ping"), "ERR timeout\n") << "no newline: cut off";
    EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
    {
        std::lock_guard lock(m);
        EXPECT_EQ(seen.size(), 1u);
    }
    // A second server on the same live socket is refused.
    std::string error2;
    EXPECT_FALSE(trigger::control_server::open(
        path, [](auto const&) { return std::string("OK"); }, error2));
    EXPECT_NE(error2.find("another camrelay"), std::string::npos) << error2;

    server.reset();
    EXPECT_NE(::access(path.c_str(), F_OK), 0) << "socket removed on shutdown";
    EXPECT_FALSE(trigger::send_control(path, r, reply, error));
    EXPECT_NE(error.find("no camrelay daemon is running"), std::string::npos) << error;
}

TEST(TriggerControlSocket, ReplacesAStaleSocketButNotAFile)
{
    test::temp_dir dir;
    auto path = (dir / "control.sock").string();
    {
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strcpy(a.sun_path, path.c_str());
        ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        ::close(fd); // a killed daemon's leftover: bound, nobody listening
    }
    std::string error;
    auto server = trigger::control_server::open(
        path, [](auto const&) { return std::string("OK"); }, error);
    EXPECT_TRUE(server) << error;
    server.reset();
    test::write_file(path, "not a socket");
    EXPECT_FALSE(trigger::control_server::open(
        path, [](auto const&) { return std::string("OK"); }, error));
    EXPECT_NE(error.find("not a socket"), std::string::npos);
}

config::device_settings device(std::string name, std::string mac, std::string ip = {})
{
    config::device_settings d;
    d.name = std::move(name);
    d.mac = std::move(mac);
    d.ip = std::move(ip);
    return d;
}

TEST(TriggerPresence, FollowsStationsDhcpAndProbes)
{
    std::vector<std::string> log;
    auto phone = device("phone", "02:11:22:aa:bb:cc");
    phone.hostname = "Pixel-7";
    trigger::presence_tracker t({phone, device("cam", "02:11:22:aa:bb:cd", "192.168.8.30")},
                                [&](trigger::presence_change const& c)
                                {
                                    log.push_back(c.device->name + (c.present ? " +" : " -") +
                                                  (c.transition ? "" : " moved") + " " + c.address +
                                                  " " + c.via);
                                });
    EXPECT_EQ(t.address("cam"), "192.168.8.30");
    EXPECT_EQ(t.station({"wlan0", true, "02:11:22:aa:bb:ff"}), "") << "unknown MAC";
    EXPECT_EQ(t.station({"wlan0", true, "02:11:22:aa:bb:cc"}), "phone");
    EXPECT_TRUE(t.present("phone"));
    t.station({"wlan1", true, "02:11:22:aa:bb:cc"});  // roams to the 5 GHz radio
    t.station({"wlan0", false, "02:11:22:aa:bb:cc"}); // and leaves the 2.4 GHz one
    EXPECT_TRUE(t.present("phone"));
    t.dhcp({trigger::dhcp_event::action::add, "02:11:22:aa:bb:cc", "192.168.8.20", ""});
    EXPECT_EQ(t.address("phone"), "192.168.8.20");
    t.dhcp({trigger::dhcp_event::action::old, "02:11:22:aa:bb:cc", "192.168.8.20", ""});
    t.station({"wlan1", false, "02:11:22:aa:bb:cc"});
    EXPECT_FALSE(t.present("phone"));
    // A randomised MAC, matched by host name.
    EXPECT_EQ(
        t.dhcp({trigger::dhcp_event::action::old, "0a:00:00:00:00:01", "192.168.8.21", "pixel-7"}),
        "phone");
    t.probe_result("phone", false);
    t.probe_result("cam", true);
    t.dhcp({trigger::dhcp_event::action::add, "02:11:22:aa:bb:cd", "192.168.8.99", ""});
    EXPECT_EQ(t.address("cam"), "192.168.8.30") << "a fixed ip wins over DHCP";
    t.stations_on("wlan0", {"02:11:22:aa:bb:cc"});
    t.stations_on("wlan0", {});
    std::vector<std::string> want{
        "phone +  hostapd wlan0",
        "phone + moved 192.168.8.20 dhcp add",
        "phone - 192.168.8.20 hostapd wlan1",
        "phone + 192.168.8.21 dhcp old",
        "phone - 192.168.8.21 probe",
        "cam + 192.168.8.30 probe",
        "phone + 192.168.8.21 hostapd wlan0 station list",
        "phone - 192.168.8.21 hostapd wlan0 station list",
    };
    EXPECT_EQ(log, want);
}

TEST(TriggerProbe, TellsAnsweringFromSilentHosts)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(fd, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    EXPECT_TRUE(trigger::probe_tcp("127.0.0.1", ntohs(a.sin_port), 1s));
    ::close(fd);
    EXPECT_TRUE(trigger::probe_tcp("127.0.0.1", ntohs(a.sin_port), 1s)) << "refused = answered";
    EXPECT_FALSE(trigger::probe_tcp("not-an-ip", 22, 1s));
}

/// hostapd's side of the control interface: a datagram socket at DIR/IFACE.
class fake_hostapd
{
  public:
    explicit fake_hostapd(std::string path) : path_(std::move(path))
    {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strcpy(a.sun_path, path_.c_str());
        ::unlink(path_.c_str());
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("bind");
        thread_ = std::jthread([this](std::stop_token st) { serve(st); });
    }
    ~fake_hostapd()
    {
        thread_.request_stop();
        thread_.join();
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    void event(std::string const& text)
    {
        std::lock_guard lock(m_);
        if (attached_len_ > 0)
            ::sendto(fd_, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&attached_),
                     attached_len_);
    }
    bool attached()
    {
        std::lock_guard lock(m_);
        return attached_len_ > 0;
    }
    std::atomic<int> pings{0};

  private:
    void serve(std::stop_token st)
    {
        while (!st.stop_requested())
        {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) != 1)
                continue;
            char buf[512];
            sockaddr_un from{};
            socklen_t flen = sizeof from;
            auto n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
            if (n <= 0)
                continue;
            std::string req(buf, static_cast<std::size_t>(n));
            std::string reply = "UNKNOWN COMMAND\n";
            if (req == "ATTACH")
            {
                std::lock_guard lock(m_);
                attached_ = from;
                attached_len_ = flen;
                reply = "OK\n";
            }
            else if (req == "PING")
            {
                ++pings;
                reply = "PONG\n";
            }
            else if (req == "STA-FIRST")
                reply = "02:11:22:aa:bb:cc\nflags=[AUTH][ASSOC]\n";
            else if (req.rfind("STA-NEXT", 0) == 0)
                reply = "";
            else if (req == "DETACH")
                reply = "OK\n";
            ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
        }
    }
    std::string path_;
    int fd_ = -1;
    std::mutex m_;
    sockaddr_un attached_{};
    socklen_t attached_len_ = 0;
    std::jthread thread_;
};

template <class F> bool eventually(F f, std::chrono::milliseconds limit = 5s)
{
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until)
    {
        if (f())
            return true;
        std::this_thread::sleep_for(20ms);
    }
    return f();
}

TEST(TriggerHostapdMonitor, AttachesListsPingsAndReattaches)
{
    test::temp_dir dir;
    std::mutex m;
    std::vector<std::string> seen;
    config::hostapd_settings hs;
    hs.enabled = true;
    hs.ctrl_dir = dir.path().string();
    hs.interfaces = {"wlan0"};
    hs.ping_interval = 1;
    auto hostapd = std::make_unique<fake_hostapd>((dir / "wlan0").string());
    trigger::hostapd_monitor mon(
        hs, {[&](trigger::station_event const& e)
             {
                 std::lock_guard lock(m);
                 seen.push_back((e.connected ? "+" : "-") + e.mac);
             },
             [&](std::string const& iface, std::vector<std::string> const& macs)
             {
                 std::lock_guard lock(m);
                 seen.push_back("list " + iface + " " + std::to_string(macs.size()));
             }});
    auto count = [&]
    {
        std::lock_guard lock(m);
        return seen.size();
    };
    ASSERT_TRUE(eventually([&] { return count() >= 1; }));
    hostapd->event("<3>AP-STA-DISCONNECTED 02:11:22:AA:BB:CC");
    hostapd->event("<3>AP-STA-POLL-OK 02:11:22:aa:bb:cc");
    hostapd->event("<3>AP-STA-CONNECTED 02:11:22:aa:bb:cc");
    ASSERT_TRUE(eventually([&] { return count() >= 3; }));
    ASSERT_TRUE(eventually([&] { return hostapd->pings >= 1; }, 4s)) << "PINGs periodically";
    // hostapd restarts: the monitor notices and attaches to the new one.
    hostapd.reset();
    ASSERT_TRUE(eventually([&] { return count() >= 4; }, 6s)) << "lost: stations cleared";
    hostapd = std::make_unique<fake_hostapd>((dir / "wlan0").string());
    ASSERT_TRUE(eventually([&] { return hostapd->attached() && count() >= 5; }, 15s));
    std::lock_guard lock(m);
    std::vector<std::string> want{"list wlan0 1", "-02:11:22:aa:bb:cc", "+02:11:22:aa:bb:cc",
                                  "list wlan0 0", "list wlan0 1"};
    EXPECT_EQ(seen, want);
}

} // namespace
