#include "trigger/hostapd_monitor.hpp"

#include "config/device.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <optional>

namespace camrelay::trigger
{

namespace
{

constexpr auto log_tag = "hostapd";
constexpr auto reply_timeout = std::chrono::seconds(2);
using clock = std::chrono::steady_clock;

std::atomic<unsigned> socket_counter{0};

/// One attachment to one hostapd interface socket.
class ctrl_connection
{
  public:
    ctrl_connection() = default;
    ~ctrl_connection() { close(); }
    ctrl_connection(ctrl_connection const&) = delete;
    ctrl_connection& operator=(ctrl_connection const&) = delete;

    bool open(std::string const& target, std::string& error)
    {
        close();
        sockaddr_un remote{}, local{};
        remote.sun_family = local.sun_family = AF_UNIX;
        // hostapd answers to the address we send from. An abstract-namespace name (leading NUL)
        // needs no file: nothing to clean up after a crash, and systemd's PrivateTmp cannot hide
        // it from hostapd the way it would hide a socket file in /tmp. The socket is connected
        // to hostapd's, so the kernel takes datagrams from that peer only.
        local_path_ = "camrelay-hostapd-" + std::to_string(::getpid()) + "-" +
                      std::to_string(socket_counter++);
        if (target.size() >= sizeof remote.sun_path ||
            local_path_.size() + 1 >= sizeof local.sun_path)
        {
            error = "socket path too long: " + target;
            return false;
        }
        std::memcpy(remote.sun_path, target.c_str(), target.size());
        std::memcpy(local.sun_path + 1, local_path_.c_str(), local_path_.size());
        auto local_len =
            static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + local_path_.size());
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0)
        {
            error = "socket: " + last_errno().message();
            return false;
        }
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), local_len) != 0)
        {
            error = "bind @" + local_path_ + ": " + last_errno().message();
            close();
            return false;
        }
        bound_ = true;
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0)
        {
            error = "connect " + target + ": " + last_errno().message();
            close();
            return false;
        }
        return true;
    }

    void close()
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
        bound_ = false;
    }

    bool send(std::string const& text)
    {
        return fd_ >= 0 && ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) ==
                               static_cast<ssize_t>(text.size());
    }

    /// Waits up to `until` for one datagram; nothing on timeout, `failed` on a socket error.
    std::optional<std::string> receive(clock::time_point until, std::stop_token const& stop,
                                       bool& failed)
    {
        failed = false;
        while (!stop.stop_requested())
        {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
            if (left.count() <= 0)
                return std::nullopt;
            pollfd p{fd_, POLLIN, 0};
            int n = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 250)));
            if (n < 0 && errno != EINTR)
            {
                failed = true;
                return std::nullopt;
            }
            if (n <= 0)
                continue;
            char buf[4096];
            auto got = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
            if (got < 0)
            {
                if (errno == EAGAIN || errno == EINTR)
                    continue;
                failed = true;
                return std::nullopt;
            }
            return std::string(buf, static_cast<std::size_t>(got));
        }
        return std::nullopt;
    }

  private:
    int fd_ = -1;
    bool bound_ = false;
    std::string local_path_;
};

} // namespace

hostapd_monitor::hostapd_monitor(config::hostapd_settings settings, callbacks cb)
    : settings_(std::move(settings)), cb_(std::move(cb))
{
    for (auto const& iface : settings_.interfaces)
        threads_.emplace_back([this, iface](std::stop_token st) { run(iface, st); });
}

hostapd_monitor::~hostapd_monitor()
{
    for (auto& t : threads_)
        t.request_stop();
    threads_.clear();
}

void hostapd_monitor::run(std::string iface, std::stop_token stop)
{
    auto const target = settings_.ctrl_dir + "/" + iface;
    auto const ping_every = std::chrono::seconds(settings_.ping_interval);
    auto backoff = std::chrono::seconds(1);
    bool warned = false;
    ctrl_connection conn;

    auto sleep_for = [&](std::chrono::seconds d)
    {
        auto until = clock::now() + d;
        while (!stop.stop_requested() && clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    };
    auto handle_event = [&](std::string const& msg)
    {
        if (auto e = parse_hostapd_message(msg, iface))
        {
            log::debug(log_tag, "iface={} {} {}", iface,
                       e->connected ? "AP-STA-CONNECTED" : "AP-STA-DISCONNECTED", e->mac);
            if (cb_.station)
                cb_.station(*e);
        }
    };
    // Sends a request and waits for its reply, passing events that arrive meanwhile on.
    auto request = [&](std::string const& text, std::string& reply)
    {
        if (!conn.send(text))
            return false;
        auto until = clock::now() + reply_timeout;
        for (;;)
        {
            bool failed = false;
            auto got = conn.receive(until, stop, failed);
            if (!got)
                return false;
            if (!got->empty() && got->front() == '<')
            {
                if (is_hostapd_terminating(*got))
                    return false;
                handle_event(*got);
                continue;
            }
            reply = *got;
            while (!reply.empty() && (reply.back() == '\n' || reply.back() == '\r'))
                reply.pop_back();
            return true;
        }
    };

    while (!stop.stop_requested())
    {
        std::string error, reply;
        if (!conn.open(target, error) || !request("ATTACH", reply) || reply != "OK")
        {
            if (error.empty())
                error = reply.empty() ? "no answer to ATTACH" : "ATTACH answered '" + reply + "'";
            if (!warned)
                log::warn(log_tag, "iface={} cannot attach to hostapd at {}: {}; retrying", iface,
                          target, error);
            else
                log::debug(log_tag, "iface={} attach failed: {}", iface, error);
            warned = true;
            conn.close();
            sleep_for(backoff);
            backoff = std::min(backoff * 2, std::chrono::seconds(10));
            continue;
        }
        log::info(log_tag, "iface={} attached to hostapd at {}", iface, target);
        warned = false;
        backoff = std::chrono::seconds(1);

        // Who is associated already.
        std::vector<std::string> macs;
        bool listed = request("STA-FIRST", reply);
        while (listed && !reply.empty() && reply != "FAIL" && macs.size() < 4096)
        {
            auto first_line = reply.substr(0, reply.find('\n'));
            auto mac = config::normalize_mac(first_line);
            if (!mac)
                break;
            macs.push_back(*mac);
            listed = request("STA-NEXT " + *mac, reply);
        }
        if (listed && cb_.stations)
            cb_.stations(iface, macs);

        // Events until hostapd goes away or stops answering PING.
        auto next_ping = clock::now() + ping_every;
        bool alive = listed;
        while (alive && !stop.stop_requested())
        {
            bool failed = false;
            auto got = conn.receive(next_ping, stop, failed);
            if (failed)
                alive = false;
            else if (got)
            {
                if (is_hostapd_terminating(*got))
                    alive = false;
                else
                    handle_event(*got);
            }
            else if (!stop.stop_requested() && clock::now() >= next_ping)
            {
                alive = request("PING", reply) && reply == "PONG";
                next_ping = clock::now() + ping_every;
            }
        }
        if (stop.stop_requested())
        {
            conn.send("DETACH");
            break;
        }
        log::warn(log_tag, "iface={} lost hostapd at {}; attaching again", iface, target);
        conn.close();
        // hostapd restarted: its stations are gone until they associate again.
        if (cb_.stations)
            cb_.stations(iface, {});
        sleep_for(std::chrono::seconds(1));
    }
    conn.close();
}

} // namespace camrelay::trigger
