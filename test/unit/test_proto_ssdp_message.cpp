// proto/ssdp: parsing whole SSDP datagrams (NOTIFY alive / byebye, search responses, M-SEARCH),
// malformed input (errors, never a crash), and the camera classifier: Sony MtpNullService and
// Canon ICPO announcements are cameras, a router's InternetGatewayDevice and the other NOTIFYs
// of a device are not. Plus the loopback SSDP listener of the ptpip source.
#include "ingest/ptpip/ssdp_listener.hpp"
#include "proto/ssdp/error.hpp"
#include "proto/ssdp/message.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <string>

namespace
{

namespace ssdp = camrelay::proto::ssdp;
using namespace std::string_literals;

// Sony "Send to Computer" style [unverified: field values are made up in the shape UPnP
// prescribes; no capture of a real camera was available].
constexpr std::string_view sony_alive =
    "NOTIFY * HTTP/1.1\r\n"
    "HOST: 239.255.255.250:1900\r\n"
    "CACHE-CONTROL: max-age=1800\r\n"
    "LOCATION: http://192.168.1.31:64321/DeviceDescription.xml\r\n"
    "NT: urn:microsoft-com:service:MtpNullService:1\r\n"
    "NTS: ssdp:alive\r\n"
    "SERVER: UPnP/1.0 SONY-CAMERA/1.0\r\n"
    "USN: uuid:00000000-0000-0010-8000-3ae1e0a6b1c2::"
    "urn:microsoft-com:service:MtpNullService:1\r\n"
    "\r\n";

constexpr std::string_view sony_byebye = "NOTIFY * HTTP/1.1\r\n"
                                         "HOST: 239.255.255.250:1900\r\n"
                                         "NT: urn:microsoft-com:service:MtpNullService:1\r\n"
                                         "NTS: ssdp:byebye\r\n"
                                         "USN: uuid:00000000-0000-0010-8000-3ae1e0a6b1c2::"
                                         "urn:microsoft-com:service:MtpNullService:1\r\n"
                                         "\r\n";

// Canon: the service type from shared/protocols/ptp/vcam/upnp_dump_canon_eos_t6.txt, the
// URLBase host of that description [unverified: that the camera announces it this way].
constexpr std::string_view canon_alive =
    "NOTIFY * HTTP/1.1\r\n"
    "Host: 239.255.255.250:1900\r\n"
    "Cache-Control: max-age=1800\r\n"
    "Location: http://192.168.1.2:49152/upnp/CameraDevDesc.xml\r\n"
    "NT: urn:schemas-canon-com:service:ICPO-SmartPhoneEOSSystemService:1\r\n"
    "NTS: ssdp:alive\r\n"
    "USN: uuid:00000000-0000-0000-0001-00BBC1859FAB::"
    "urn:schemas-canon-com:service:ICPO-SmartPhoneEOSSystemService:1\r\n"
    "\r\n";

constexpr std::string_view router_alive =
    "NOTIFY * HTTP/1.1\r\n"
    "HOST: 239.255.255.250:1900\r\n"
    "CACHE-CONTROL: max-age=120\r\n"
    "LOCATION: http://192.168.1.1:1900/rootDesc.xml\r\n"
    "SERVER: Linux/5.4 UPnP/1.1 MiniUPnPd/2.2\r\n"
    "NT: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
    "USN: uuid:3a1f0d3e-1dd2-11b2-a5b8-c8a0f3a5d001::"
    "urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
    "NTS: ssdp:alive\r\n"
    "\r\n";

constexpr std::string_view sony_search_response =
    "HTTP/1.1 200 OK\r\n"
    "CACHE-CONTROL: max-age=1800\r\n"
    "EXT:\r\n"
    "LOCATION: http://[fe80::1]:64321/DeviceDescription.xml\r\n"
    "ST: urn:microsoft-com:service:MtpNullService:1\r\n"
    "USN: uuid:1::urn:microsoft-com:service:MtpNullService:1\r\n"
    "\r\n";

ssdp::message must_parse(std::string_view in)
{
    auto m = ssdp::parse(in);
    EXPECT_TRUE(m) << (m ? "" : m.error().message()) << "\n" << in;
    return m ? *m : ssdp::message{};
}

std::error_code parse_error(std::string_view in)
{
    auto m = ssdp::parse(in);
    EXPECT_FALSE(m) << in;
    return m ? std::error_code{} : m.error();
}

TEST(ProtoSsdpMessage, SonyAliveIsACameraToPullFrom)
{
    auto m = must_parse(sony_alive);
    EXPECT_EQ(m.kind, ssdp::message_kind::notify);
    EXPECT_EQ(m.target, "urn:microsoft-com:service:MtpNullService:1");
    EXPECT_EQ(m.nts, ssdp::notification::alive);
    EXPECT_EQ(
        m.usn,
        "uuid:00000000-0000-0010-8000-3ae1e0a6b1c2::urn:microsoft-com:service:MtpNullService:1");
    EXPECT_EQ(m.location, "http://192.168.1.31:64321/DeviceDescription.xml");
    ASSERT_TRUE(m.location_host);
    EXPECT_EQ(m.location_host->host, "192.168.1.31");
    EXPECT_EQ(m.location_host->port, 64321);
    EXPECT_EQ(m.field("server"), "UPnP/1.0 SONY-CAMERA/1.0");
    EXPECT_EQ(m.fields.size(), 7u);

    auto a = ssdp::classify(m);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, ssdp::camera_kind::sony);
    EXPECT_TRUE(a->alive);
    EXPECT_EQ(a->host, "192.168.1.31");
    EXPECT_EQ(a->ptpip_port, 15740); // standard PTP/IP, not the LOCATION port
    EXPECT_EQ(a->usn, m.usn);
    EXPECT_EQ(ssdp::classify(m, 4242)->ptpip_port, 4242);
}

TEST(ProtoSsdpMessage, ByebyeIsReportedWithoutLocation)
{
    auto m = must_parse(sony_byebye);
    EXPECT_EQ(m.nts, ssdp::notification::byebye);
    EXPECT_FALSE(m.location_host);
    auto a = ssdp::classify(m);
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->alive);
    EXPECT_EQ(a->host, ""); // the listener uses the datagram's sender
}

TEST(ProtoSsdpMessage, CanonIcpoServiceIsACamera)
{
    auto a = ssdp::classify(must_parse(canon_alive));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, ssdp::camera_kind::canon);
    EXPECT_EQ(a->host, "192.168.1.2");
    EXPECT_EQ(ssdp::to_string(a->kind), "canon");
}

TEST(ProtoSsdpMessage, SearchResponseCountsAsAlive)
{
    auto m = must_parse(sony_search_response);
    EXPECT_EQ(m.kind, ssdp::message_kind::search_response);
    EXPECT_EQ(m.nts, ssdp::notification::none);
    EXPECT_EQ(m.field("EXT"), "");
    auto a = ssdp::classify(m);
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->alive);
    EXPECT_EQ(a->host, "fe80::1");
}

TEST(ProtoSsdpMessage, UnrelatedDevicesAreIgnored)
{
    auto m = must_parse(router_alive);
    EXPECT_EQ(m.target, "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
    EXPECT_FALSE(ssdp::classify(m));
    // The other NOTIFYs a camera would send for itself are not the service type either.
    auto root = std::string(sony_alive);
    root.replace(root.find("NT: urn:microsoft-com:service:MtpNullService:1"),
                 std::string_view("NT: urn:microsoft-com:service:MtpNullService:1").size(),
                 "NT: upnp:rootdevice");
    EXPECT_FALSE(ssdp::classify(must_parse(root)));
    // Look-alikes: other version syntax, case changed in the NSS, a prefix only.
    EXPECT_FALSE(ssdp::camera_of("urn:microsoft-com:service:MtpNullService:"));
    EXPECT_FALSE(ssdp::camera_of("urn:microsoft-com:service:MtpNullService:1x"));
    EXPECT_FALSE(ssdp::camera_of("urn:microsoft-com:service:mtpnullservice:1"));
    EXPECT_FALSE(ssdp::camera_of("urn:microsoft-com:service:MtpNullServiceX:1"));
    EXPECT_EQ(ssdp::camera_of("urn:microsoft-com:service:MtpNullService:2"),
              ssdp::camera_kind::sony);
}

TEST(ProtoSsdpMessage, SearchRequestsUpdatesAndAliveWithoutLocationAreNotPulled)
{
    auto search = must_parse("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
                             "MAN: \"ssdp:discover\"\r\nMX: 2\r\n"
                             "ST: urn:microsoft-com:service:MtpNullService:1\r\n\r\n");
    EXPECT_EQ(search.kind, ssdp::message_kind::search_request);
    EXPECT_FALSE(ssdp::classify(search));

    auto update = std::string(sony_alive);
    update.replace(update.find("ssdp:alive"), 10, "ssdp:update");
    EXPECT_EQ(must_parse(update).nts, ssdp::notification::update);
    EXPECT_FALSE(ssdp::classify(must_parse(update)));

    auto no_location = std::string(sony_alive);
    no_location.erase(no_location.find("LOCATION:"),
                      no_location.find("NT:") - no_location.find("LOCATION:"));
    EXPECT_FALSE(ssdp::classify(must_parse(no_location)));

    auto ftp = std::string(sony_alive);
    ftp.replace(ftp.find("http://"), 7, "ftp://");
    EXPECT_FALSE(must_parse(ftp).location_host);
    EXPECT_FALSE(ssdp::classify(must_parse(ftp)));
}

TEST(ProtoSsdpMessage, LenientLineEndsAndSpacing)
{
    // Bare LF, no space after the colon, lower-case names, a leading blank line, no final empty
    // line, a body after the head.
    auto m = must_parse("\r\nNOTIFY  *  HTTP/1.0\nnt:urn:microsoft-com:service:MtpNullService:1\n"
                        "nts:   ssdp:alive  \nlocation:HTTP://10.0.0.7/desc.xml\nusn:u");
    EXPECT_EQ(m.nts, ssdp::notification::alive);
    ASSERT_TRUE(m.location_host);
    EXPECT_EQ(m.location_host->host, "10.0.0.7");
    EXPECT_EQ(m.location_host->port, 80);
    EXPECT_EQ(m.usn, "u");
    auto with_body = std::string(router_alive) + "some body\r\nwithout: meaning\r\n";
    EXPECT_EQ(must_parse(with_body).fields.size(), 7u);
}

TEST(ProtoSsdpMessage, MalformedDatagramsAreErrors)
{
    EXPECT_EQ(parse_error(""), ssdp::errc::empty);
    EXPECT_EQ(parse_error("\r\n\r\n"), ssdp::errc::empty);
    EXPECT_EQ(parse_error("GET / HTTP/1.1\r\n\r\n"), ssdp::errc::bad_start_line);
    EXPECT_EQ(parse_error("NOTIFY /x HTTP/1.1\r\n\r\n"), ssdp::errc::bad_start_line);
    EXPECT_EQ(parse_error("NOTIFY * HTTP/2.0\r\n\r\n"), ssdp::errc::bad_start_line);
    EXPECT_EQ(parse_error("NOTIFY *\r\n\r\n"), ssdp::errc::bad_start_line);
    EXPECT_EQ(parse_error("HTTP/1.1 404 Not Found\r\nST: x\r\n\r\n"), ssdp::errc::bad_status);
    EXPECT_EQ(parse_error("NOTIFY * HTTP/1.1\r\nNT x\r\n\r\n"), ssdp::errc::bad_header);
    EXPECT_EQ(parse_error("NOTIFY * HTTP/1.1\r\n: x\r\n\r\n"), ssdp::errc::bad_header);
    EXPECT_EQ(parse_error("NOTIFY * HTTP/1.1\r\nN T: x\r\n\r\n"), ssdp::errc::bad_header);
    EXPECT_EQ(parse_error("NOTIFY * HTTP/1.1\r\nNT: a\0b\r\n\r\n"s), ssdp::errc::bad_header);
    EXPECT_EQ(parse_error("NOTIFY * HTTP/1.1\r\nNTS: ssdp:alive\r\n\r\n"),
              ssdp::errc::missing_field);
    EXPECT_EQ(parse_error("NOTIFY * HTTP/1.1\r\nNT: x\r\n\r\n"), ssdp::errc::missing_field);
    EXPECT_EQ(parse_error("HTTP/1.1 200 OK\r\nUSN: x\r\n\r\n"), ssdp::errc::missing_field);
    auto big = std::string(router_alive) + std::string(ssdp::max_datagram, 'x');
    EXPECT_EQ(parse_error(big), ssdp::errc::too_large);
    EXPECT_STREQ(ssdp::category().name(), "camrelay.ssdp");
    EXPECT_FALSE(ssdp::make_error_code(ssdp::errc::bad_header).message().empty());
}

TEST(ProtoSsdpMessage, HttpUrls)
{
    auto u = ssdp::parse_http_url("http://user@cam.local:8080/a?b");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->host, "cam.local");
    EXPECT_EQ(u->port, 8080);
    EXPECT_FALSE(ssdp::parse_http_url("http://"));
    EXPECT_FALSE(ssdp::parse_http_url("http://:80/"));
    EXPECT_FALSE(ssdp::parse_http_url("http://h:0/"));
    EXPECT_FALSE(ssdp::parse_http_url("http://h:65536/"));
    EXPECT_FALSE(ssdp::parse_http_url("http://h:8x/"));
    EXPECT_FALSE(ssdp::parse_http_url("http://[fe80::1/"));
    EXPECT_FALSE(ssdp::parse_http_url("http://[v4only]/"));
    EXPECT_FALSE(ssdp::parse_http_url("https://h/"));
    EXPECT_EQ(ssdp::parse_http_url("http://[::1]")->host, "::1");
}

TEST(ProtoSsdpMessage, RandomBytesAndTruncationsNeverCrash)
{
    // Every prefix of the real-looking datagrams, and mutated copies: either a message or an
    // error, nothing else (ASan/UBSan builds check the "never UB" part).
    std::mt19937 rng(7);
    for (auto base : {sony_alive, sony_byebye, canon_alive, router_alive, sony_search_response})
    {
        for (std::size_t n = 0; n <= base.size(); ++n)
        {
            auto m = ssdp::parse(base.substr(0, n));
            if (m)
                (void)ssdp::classify(*m);
        }
        for (int round = 0; round < 300; ++round)
        {
            std::string s(base);
            for (int k = 0; k < 4; ++k)
                s[rng() % s.size()] = static_cast<char>(rng() & 0xFF);
            auto m = ssdp::parse(s);
            if (m)
                (void)ssdp::classify(*m);
        }
    }
}

TEST(IngestSsdpListener, ReceivesUnicastOnLoopback)
{
    auto l = camrelay::ingest::ptpip::ssdp_listener::open("127.0.0.1", 0);
    ASSERT_TRUE(l) << l.error().message();
    ASSERT_NE(l->port(), 0);
    EXPECT_FALSE(l->receive(std::chrono::milliseconds(10)));

    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(l->port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::sendto(fd, sony_alive.data(), sony_alive.size(), 0,
                       reinterpret_cast<sockaddr const*>(&to), sizeof to),
              static_cast<ssize_t>(sony_alive.size()));
    ::close(fd);
    auto d = l->receive(std::chrono::milliseconds(2000));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->bytes, sony_alive);
    EXPECT_EQ(d->sender, "127.0.0.1");

    EXPECT_FALSE(camrelay::ingest::ptpip::ssdp_listener::open("not-an-address", 0));
}

} // namespace
