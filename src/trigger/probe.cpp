#include "trigger/probe.hpp"

#include "core/log.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>

namespace camrelay::trigger
{

namespace
{

constexpr auto log_tag = "probe";
using clock = std::chrono::steady_clock;

} // namespace

bool probe_tcp(std::string const& address, std::uint16_t port, std::chrono::milliseconds timeout)
{
    sockaddr_storage ss{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1)
    {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof *v4;
    }
    else if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1)
    {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof *v6;
    }
    else
        return false;
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return false;
    bool answered = false;
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
    if (rc == 0)
        answered = true;
    else if (errno == ECONNREFUSED)
        answered = true;
    else if (errno == EINPROGRESS)
    {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1)
        {
            int err = 0;
            socklen_t elen = sizeof err;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
            answered = err == 0 || err == ECONNREFUSED;
        }
    }
    ::close(fd);
    return answered;
}

prober::prober(std::vector<config::device_settings> devices,
               std::function<std::string(std::string const&)> address_of,
               std::function<void(std::string const&, bool)> report)
    : devices_(std::move(devices)), address_of_(std::move(address_of)), report_(std::move(report))
{
    std::erase_if(devices_, [](auto const& d) { return d.probe_port == 0; });
    if (!devices_.empty())
        thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

prober::~prober()
{
    thread_.request_stop();
}

void prober::run(std::stop_token stop)
{
    std::map<std::string, clock::time_point> next;
    while (!stop.stop_requested())
    {
        auto now = clock::now();
        for (auto const& d : devices_)
        {
            auto& due = next[d.name];
            if (now < due)
                continue;
            due = now + std::chrono::seconds(d.probe_interval);
            auto address = address_of_(d.name);
            if (address.empty())
                continue; // no fixed ip and no DHCP lease seen yet
            bool up = probe_tcp(address, d.probe_port, std::chrono::seconds(d.probe_timeout));
            log::trace(log_tag, "device={} {}:{} {}", d.name, address, d.probe_port,
                       up ? "answers" : "does not answer");
            report_(d.name, up);
            if (stop.stop_requested())
                return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

} // namespace camrelay::trigger
