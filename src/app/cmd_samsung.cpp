// `camrelay samsung hosts [IP]`: the host names each Samsung camera family must find at camrelay
// (samsung-sns.md 8), as /etc/hosts lines and as dnsmasq lines.
#include "app/commands.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <iostream>
#include <net/if.h>
#include <string_view>

namespace camrelay::app
{

namespace
{

struct host_group
{
    std::string_view comment;
    std::string_view hosts[4];
};

/// samsung-sns.md 8: every camera needs the e-mail and social hosts; the connectivity check
/// differs per family.
constexpr host_group groups[] = {
    {"All cameras: e-mail (www.ospserver.net) and social uploads (snsgw.samsungmobile.com);\n"
     "# NX300/NX30/NX310/NX2000, NX500/NX1, NX mini: connectivity check (gld.samsungosp.com)\n"
     "# and browser fallback page (www.samsungimaging.com)",
     {"gld.samsungosp.com", "www.samsungimaging.com", "www.ospserver.net",
      "snsgw.samsungmobile.com"}},
    {"ST200F, WB850F: connectivity check", {"www.yahoo.co.kr"}},
    {"WB35F, WB36F, WB37F, WB1100F, DV150F: connectivity check", {"www.msn.com"}},
};

/// The first IPv4 address of an interface that is up and not loopback, with its name.
bool primary_ipv4(std::string& ip, std::string& interface_name)
{
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0)
        return false;
    bool found = false;
    for (auto* a = list; a && !found; a = a->ifa_next)
    {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !(a->ifa_flags & IFF_UP) ||
            (a->ifa_flags & IFF_LOOPBACK))
            continue;
        char text[INET_ADDRSTRLEN];
        auto const* sin = reinterpret_cast<sockaddr_in const*>(a->ifa_addr);
        if (::inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text))
        {
            ip = text;
            interface_name = a->ifa_name;
            found = true;
        }
    }
    ::freeifaddrs(list);
    return found;
}

} // namespace

int cmd_samsung_hosts(std::string const& ip_arg)
{
    std::string ip = ip_arg;
    std::string guessed_from;
    if (ip.empty())
    {
        if (!primary_ipv4(ip, guessed_from))
        {
            std::cerr << "camrelay samsung hosts: this machine has no IPv4 address besides "
                         "loopback; give the address the cameras reach camrelay at\n";
            return 1;
        }
    }
    else
    {
        in_addr a{};
        if (::inet_pton(AF_INET, ip.c_str(), &a) != 1)
        {
            std::cerr << "camrelay samsung hosts: '" << ip
                      << "' is not an IPv4 address (the cameras speak IPv4 only)\n";
            return 2;
        }
    }

    std::cout << "# Samsung cameras reach camrelay at " << ip
              << " on port 80 (plain HTTP; the samsung source's listen option).\n";
    if (!guessed_from.empty())
        std::cout << "# NOTE: " << ip << " is a guess (the first non-loopback IPv4 address, on "
                  << guessed_from
                  << "); give the address the cameras' network reaches: camrelay samsung hosts "
                     "IP\n";
    std::cout << "\n# --- /etc/hosts lines: the camera's own hosts file (NX500/NX1: /etc/hosts; "
                 "NX300/NX30/NX2000:\n# a copy from the SD card in autoexec.sh), or a DNS "
                 "server's hosts file (dnsmasq --addn-hosts=FILE)\n";
    for (auto const& g : groups)
    {
        std::cout << "# " << g.comment << "\n" << ip << "\t";
        bool first = true;
        for (auto h : g.hosts)
        {
            if (h.empty())
                continue;
            std::cout << (first ? "" : " ") << h;
            first = false;
        }
        std::cout << "\n";
    }
    std::cout << "\n# --- dnsmasq lines (e.g. /etc/dnsmasq.d/samsung.conf on the router the "
                 "cameras join).\n# address=/NAME/IP also answers every name below NAME. "
                 "Redirecting www.yahoo.co.kr or\n# www.msn.com sends every client of this DNS "
                 "server there to camrelay: add them only\n# for a network that is just for "
                 "cameras. Never run this as a public resolver.\n";
    for (auto const& g : groups)
    {
        std::cout << "# " << g.comment << "\n";
        for (auto h : g.hosts)
            if (!h.empty())
                std::cout << "address=/" << h << "/" << ip << "\n";
    }
    return 0;
}

} // namespace camrelay::app
