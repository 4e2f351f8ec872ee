#include "ingest/ptpip/ssdp_listener.hpp"

#include "proto/ssdp/message.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>

namespace camrelay::ingest::ptpip
{

ssdp_listener& ssdp_listener::operator=(ssdp_listener&& other) noexcept
{
    if (this != &other)
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = other.fd_;
        joined_ = other.joined_;
        other.fd_ = -1;
    }
    return *this;
}

ssdp_listener::~ssdp_listener()
{
    if (fd_ >= 0)
        ::close(fd_);
}

result<ssdp_listener> ssdp_listener::open(std::string const& bind_address, std::uint16_t port)
{
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, bind_address.c_str(), &addr.sin_addr) != 1)
        return error_result<ssdp_listener>(std::make_error_code(std::errc::invalid_argument));
    ssdp_listener l;
    l.fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (l.fd_ < 0)
        return error_result<ssdp_listener>(std::error_code(errno, std::generic_category()));
    int one = 1;
    ::setsockopt(l.fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(l.fd_, reinterpret_cast<sockaddr const*>(&addr), sizeof addr) != 0)
        return error_result<ssdp_listener>(std::error_code(errno, std::generic_category()));
    ip_mreq group{};
    std::string const group_text(proto::ssdp::multicast_group);
    ::inet_pton(AF_INET, group_text.c_str(), &group.imr_multiaddr);
    group.imr_interface.s_addr = htonl(INADDR_ANY);
    l.joined_ = ::setsockopt(l.fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &group, sizeof group) == 0;
    return l;
}

std::optional<datagram> ssdp_listener::receive(std::chrono::milliseconds timeout)
{
    if (fd_ < 0)
        return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n <= 0 || !(p.revents & POLLIN))
        return std::nullopt;
    // One byte more than the parser takes, so an oversized datagram is seen as such.
    std::array<char, proto::ssdp::max_datagram + 1> buf;
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    auto got = ::recvfrom(fd_, buf.data(), buf.size(), MSG_DONTWAIT,
                          reinterpret_cast<sockaddr*>(&from), &from_len);
    if (got < 0)
        return std::nullopt;
    datagram d;
    d.bytes.assign(buf.data(), static_cast<std::size_t>(got));
    char text[INET_ADDRSTRLEN] = {};
    if (from.sin_family == AF_INET && ::inet_ntop(AF_INET, &from.sin_addr, text, sizeof text))
        d.sender = text;
    return d;
}

std::uint16_t ssdp_listener::port() const noexcept
{
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return 0;
    return ntohs(addr.sin_port);
}

} // namespace camrelay::ingest::ptpip
