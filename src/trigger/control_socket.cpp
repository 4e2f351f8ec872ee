#include "trigger/control_socket.hpp"

#include "core/error.hpp"
#include "core/log.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

namespace camrelay::trigger
{

namespace
{

constexpr auto log_tag = "control";
constexpr std::size_t max_clients = 16;
constexpr auto client_timeout = std::chrono::seconds(2);

bool make_address(std::string const& path, sockaddr_un& addr, std::string& error)
{
    std::memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
    {
        error = "control socket path '" + path + "' is empty or longer than " +
                std::to_string(sizeof addr.sun_path - 1) + " bytes";
        return false;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    return true;
}

struct client
{
    int fd = -1;
    std::string buffer;
    std::chrono::steady_clock::time_point deadline;
};

void reply_and_close(client& c, std::string const& text)
{
    auto line = text + "\n";
    // Small replies fit in the socket buffer; a client that does not read loses its answer.
    (void)::send(c.fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::close(c.fd);
    c.fd = -1;
}

} // namespace

std::unique_ptr<control_server> control_server::open(std::string const& path, handler h,
                                                     std::string& error)
{
    sockaddr_un addr;
    if (!make_address(path, addr, error))
        return nullptr;
    auto parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty())
        std::filesystem::create_directories(parent, ec);
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) == 0)
    {
        if (!S_ISSOCK(st.st_mode))
        {
            error = path + " exists and is not a socket";
            return nullptr;
        }
        std::string reply, ignored;
        if (send_control(path, control_request{}, reply, ignored, std::chrono::seconds(1)))
        {
            error = "another camrelay daemon answers on " + path;
            return nullptr;
        }
        ::unlink(path.c_str()); // stale: left by a daemon that was killed
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
    {
        error = "socket: " + last_errno().message();
        return nullptr;
    }
    // Created with the process umask (at most 0755 by default: nobody else may connect), then
    // opened up to the group.
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::chmod(path.c_str(), 0660) != 0 || ::listen(fd, 16) != 0)
    {
        error = "cannot serve the control socket " + path + ": " + last_errno().message();
        ::close(fd);
        return nullptr;
    }
    return std::unique_ptr<control_server>(new control_server(path, fd, std::move(h)));
}

control_server::control_server(std::string path, int fd, handler h)
    : path_(std::move(path)), fd_(fd), handler_(std::move(h))
{
    thread_ = std::jthread([this](std::stop_token st) { serve(st); });
}

control_server::~control_server()
{
    thread_.request_stop();
    if (thread_.joinable())
        thread_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
}

void control_server::serve(std::stop_token stop)
{
    std::vector<client> clients;
    while (!stop.stop_requested())
    {
        std::vector<pollfd> fds;
        fds.push_back({fd_, POLLIN, 0});
        for (auto const& c : clients)
            fds.push_back({c.fd, POLLIN, 0});
        int n = ::poll(fds.data(), fds.size(), 250);
        if (n < 0 && errno != EINTR)
        {
            log::error(log_tag, "poll: {}", last_errno().message());
            return;
        }
        auto now = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < clients.size(); ++i)
        {
            auto& c = clients[i];
            if (fds[i + 1].revents != 0)
            {
                char buf[256];
                auto got = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
                if (got <= 0)
                {
                    if (got == 0 || (errno != EAGAIN && errno != EINTR))
                    {
                        ::close(c.fd);
                        c.fd = -1;
                    }
                    continue;
                }
                c.buffer.append(buf, static_cast<std::size_t>(got));
                auto nl = c.buffer.find('\n');
                if (nl == std::string::npos)
                {
                    if (c.buffer.size() >= max_control_line)
                        reply_and_close(c, "ERR line too long");
                    continue;
                }
                std::string error;
                auto line = c.buffer.substr(0, nl);
                if (!line.empty() && line.back() == '\r')
                    line.pop_back();
                auto req = parse_control(line, error);
                if (!req)
                {
                    log::warn(log_tag, "refused control request: {}", error);
                    reply_and_close(c, "ERR " + error);
                    continue;
                }
                reply_and_close(c, handler_(*req));
            }
            else if (now >= c.deadline)
                reply_and_close(c, "ERR timeout");
        }
        std::erase_if(clients, [](client const& c) { return c.fd < 0; });
        if (fds[0].revents & POLLIN)
        {
            for (;;)
            {
                int cfd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (cfd < 0)
                    break;
                if (clients.size() >= max_clients)
                {
                    client busy{cfd, {}, now};
                    reply_and_close(busy, "ERR busy");
                    continue;
                }
                clients.push_back({cfd, {}, now + client_timeout});
            }
        }
    }
    for (auto& c : clients)
        ::close(c.fd);
}

bool send_control(std::string const& path, control_request const& r, std::string& reply,
                  std::string& error, std::chrono::milliseconds timeout)
{
    sockaddr_un addr;
    if (!make_address(path, addr, error))
        return false;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
    {
        error = "socket: " + last_errno().message();
        return false;
    }
    struct closer
    {
        int fd;
        ~closer() { ::close(fd); }
    } guard{fd};
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    {
        auto e = errno;
        if (e == ENOENT || e == ECONNREFUSED)
            error = "no camrelay daemon is running (nothing answers on " + path + ")";
        else if (e == EACCES || e == EPERM)
            error = "no permission to use " + path +
                    " (the socket is mode 0660: run as the daemon's user or a member of its group)";
        else
            error = "cannot connect to " + path + ": " + std::strerror(e);
        return false;
    }
    auto line = format_control(r);
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
    {
        error = "cannot send to " + path + ": " + last_errno().message();
        return false;
    }
    reply.clear();
    char buf[256];
    while (reply.find('\n') == std::string::npos && reply.size() < max_control_line)
    {
        auto got = ::recv(fd, buf, sizeof buf, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
        {
            error = got == 0 ? "the daemon closed the connection without answering"
                             : "no answer from the daemon: " + last_errno().message();
            return false;
        }
        reply.append(buf, static_cast<std::size_t>(got));
    }
    if (auto nl = reply.find('\n'); nl != std::string::npos)
        reply.resize(nl);
    return true;
}

} // namespace camrelay::trigger
