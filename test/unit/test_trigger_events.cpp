// Presence events as pure functions: MAC normalisation, hostapd control-interface messages,
// the hostapd_cli -a and dnsmasq --dhcp-script argument conventions, the control line protocol,
// and the config keys of [device.NAME] and [trigger.hostapd].
#include "config/device.hpp"
#include "config/loader.hpp"
#include "delivery/sink.hpp"
#include "ingest/source.hpp"
#include "trigger/events.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace
{

using namespace camrelay;
using trigger::dhcp_event;

TEST(TriggerMac, NormalisesEveryCommonSpelling)
{
    for (auto text : {"AA:BB:CC:DD:EE:0F", "aa-bb-cc-dd-ee-0f", "aabb.ccdd.ee0f", "AABBCCDDEE0F",
                      "aa:bb:cc:dd:ee:f"})
    {
        auto mac = config::normalize_mac(text);
        ASSERT_TRUE(mac) << text;
        EXPECT_EQ(*mac, "aa:bb:cc:dd:ee:0f") << text;
    }
}

TEST(TriggerMac, RefusesWhatIsNotSixBytes)
{
    for (auto text : {"", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "aa:bb-cc:dd:ee:ff",
                      "gg:bb:cc:dd:ee:ff", "aabbccddeeff0", "aa:bb:cc:dd:ee:fff", "aa::cc:dd:ee:ff",
                      "aabb.ccdd.eeff.0011", " aa:bb:cc:dd:ee:ff"})
        EXPECT_FALSE(config::normalize_mac(text)) << text;
}

TEST(TriggerHostapd, ParsesStationEvents)
{
    auto e = trigger::parse_hostapd_message("<3>AP-STA-CONNECTED 02:11:22:AA:BB:CC", "wlan0");
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->connected);
    EXPECT_EQ(e->mac, "02:11:22:aa:bb:cc");
    EXPECT_EQ(e->iface, "wlan0");
    e = trigger::parse_hostapd_message("<3>AP-STA-DISCONNECTED 02:11:22:aa:bb:cc\n", "wlan1");
    ASSERT_TRUE(e);
    EXPECT_FALSE(e->connected);
    EXPECT_EQ(e->iface, "wlan1");
    // Newer hostapd adds fields after the MAC.
    e = trigger::parse_hostapd_message("<3>AP-STA-CONNECTED 02:11:22:aa:bb:cc keyid=home "
                                       "auth_alg=open",
                                       "wlan0");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->mac, "02:11:22:aa:bb:cc");
}

TEST(TriggerHostapd, IgnoresOtherMessages)
{
    for (auto m : {"<3>AP-STA-POLL-OK 02:11:22:aa:bb:cc", "<3>CTRL-EVENT-EAP-STARTED x",
                   "<3>AP-STA-CONNECTED", "<3>AP-STA-CONNECTED not-a-mac", "PONG", "",
                   "<3AP-STA-CONNECTED 02:11:22:aa:bb:cc", "<2>WPS-PBC-ACTIVE"})
        EXPECT_FALSE(trigger::parse_hostapd_message(m, "wlan0")) << m;
    EXPECT_TRUE(trigger::is_hostapd_terminating("<3>CTRL-EVENT-TERMINATING"));
    EXPECT_FALSE(trigger::is_hostapd_terminating("<3>AP-STA-CONNECTED 02:11:22:aa:bb:cc"));
}

TEST(TriggerHostapd, ActionScriptArguments)
{
    std::string error;
    auto e = trigger::station_from_args({"wlan0", "AP-STA-CONNECTED", "02-11-22-AA-BB-CC"}, error);
    ASSERT_TRUE(e) << error;
    EXPECT_TRUE(e->connected);
    EXPECT_EQ(e->mac, "02:11:22:aa:bb:cc");
    e = trigger::station_from_args({"wlan0", "AP-STA-DISCONNECTED", "02:11:22:aa:bb:cc", "x=y"},
                                   error);
    ASSERT_TRUE(e) << error;
    EXPECT_FALSE(e->connected);
    // Other events: nothing to do, no error.
    EXPECT_FALSE(trigger::station_from_args({"wlan0", "AP-ENABLED"}, error));
    EXPECT_TRUE(error.empty());
    // Bad input: an error.
    EXPECT_FALSE(trigger::station_from_args({"wlan0"}, error));
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(
        trigger::station_from_args({"../etc", "AP-STA-CONNECTED", "02:11:22:aa:bb:cc"}, error));
    EXPECT_NE(error.find("interface"), std::string::npos);
    EXPECT_FALSE(trigger::station_from_args({"wlan0", "AP-STA-CONNECTED", "$(reboot)"}, error));
    EXPECT_NE(error.find("MAC"), std::string::npos);
    EXPECT_FALSE(trigger::station_from_args({"wlan0", "AP-STA-CONNECTED"}, error));
    EXPECT_FALSE(error.empty());
}

TEST(TriggerDhcp, DnsmasqArguments)
{
    std::string error;
    auto e =
        trigger::dhcp_from_args({"add", "02:11:22:AA:BB:CC", "192.168.8.20", "pixel-7"}, "", error);
    ASSERT_TRUE(e) << error;
    EXPECT_EQ(e->what, dhcp_event::action::add);
    EXPECT_EQ(e->mac, "02:11:22:aa:bb:cc");
    EXPECT_EQ(e->ip, "192.168.8.20");
    EXPECT_EQ(e->hostname, "pixel-7");
    e = trigger::dhcp_from_args({"old", "02:11:22:aa:bb:cc", "192.168.8.20"}, "", error);
    ASSERT_TRUE(e) << error;
    EXPECT_EQ(e->what, dhcp_event::action::old);
    EXPECT_TRUE(e->hostname.empty());
    e = trigger::dhcp_from_args({"del", "02:11:22:aa:bb:cc", "192.168.8.20", "*"}, "", error);
    ASSERT_TRUE(e) << error;
    EXPECT_EQ(e->what, dhcp_event::action::del);
    EXPECT_TRUE(e->hostname.empty());
    // DHCPv6: the MAC argument is a DUID; DNSMASQ_MAC tells the MAC when dnsmasq knows it.
    e = trigger::dhcp_from_args({"add", "00:01:00:01:2a:3b:4c:5d:02:11:22:aa:bb:cc", "fd00::20"},
                                "02:11:22:aa:bb:cc", error);
    ASSERT_TRUE(e) << error;
    EXPECT_EQ(e->mac, "02:11:22:aa:bb:cc");
    EXPECT_FALSE(trigger::dhcp_from_args({"add", "00:01:00:01", "fd00::20"}, "", error));
    EXPECT_TRUE(error.empty()) << "an IPv6 lease without a MAC is ignored, not an error";
}

TEST(TriggerDhcp, IgnoresInitAndTftpAndRefusesBadInput)
{
    std::string error;
    EXPECT_FALSE(trigger::dhcp_from_args({"init"}, "", error));
    EXPECT_TRUE(error.empty());
    EXPECT_FALSE(
        trigger::dhcp_from_args({"tftp", "1234", "192.168.8.20", "/srv/tftp/x"}, "", error));
    EXPECT_TRUE(error.empty());
    EXPECT_FALSE(trigger::dhcp_from_args({}, "", error));
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(trigger::dhcp_from_args({"rm", "02:11:22:aa:bb:cc", "192.168.8.20"}, "", error));
    EXPECT_NE(error.find("unknown action"), std::string::npos);
    EXPECT_FALSE(trigger::dhcp_from_args({"add", "02:11:22:aa:bb:cc", "192.168.8.300"}, "", error));
    EXPECT_NE(error.find("not an IPv4"), std::string::npos);
    EXPECT_FALSE(trigger::dhcp_from_args({"add", "zz", "192.168.8.20"}, "", error));
    EXPECT_NE(error.find("MAC"), std::string::npos);
    EXPECT_FALSE(
        trigger::dhcp_from_args({"add", "02:11:22:aa:bb:cc", "192.168.8.20", "a;b"}, "", error));
    EXPECT_NE(error.find("host name"), std::string::npos);
    EXPECT_FALSE(trigger::dhcp_from_args({"add", "02:11:22:aa:bb:cc"}, "", error));
    EXPECT_FALSE(error.empty());
}

TEST(TriggerControl, RoundTripsEveryRequest)
{
    trigger::control_request st;
    st.what = trigger::control_request::kind::station;
    st.station = {"wlan0", true, "02:11:22:aa:bb:cc"};
    trigger::control_request dh;
    dh.what = trigger::control_request::kind::dhcp;
    dh.dhcp = {dhcp_event::action::old, "02:11:22:aa:bb:cc", "fd00::20", "phone"};
    for (auto const& r : {trigger::control_request{}, st, dh})
    {
        auto line = trigger::format_control(r);
        ASSERT_EQ(line.back(), '\n');
        line.pop_back();
        std::string error;
        auto back = trigger::parse_control(line, error);
        ASSERT_TRUE(back) << line << ": " << error;
        EXPECT_EQ(trigger::format_control(*back), trigger::format_control(r));
    }
    EXPECT_EQ(trigger::format_control(st), "station wlan0 connected 02:11:22:aa:bb:cc\n");
}

TEST(TriggerControl, RefusesAnythingElse)
{
    std::string error;
    for (std::string line : std::vector<std::string>{
             "", "PING", "retry", "station wlan0 joined 02:11:22:aa:bb:cc",
             "station wlan0 connected", "dhcp add 02:11:22:aa:bb:cc", "dhcp add xx 192.168.1.2",
             "dhcp add 02:11:22:aa:bb:cc 192.168.1.2 a b", "ping\x01",
             "station wlan0 connected 02:11:22:aa:bb:cc\tx", std::string(600, 'a')})
    {
        EXPECT_FALSE(trigger::parse_control(line, error)) << line;
        EXPECT_FALSE(error.empty()) << line;
    }
}

config::plugin_catalog catalog()
{
    config::plugin_catalog c;
    for (auto const& d : ingest::registry())
        c.sources.emplace(std::string(d.type), d.options);
    for (auto const& d : delivery::registry())
        c.sinks.emplace(std::string(d.type), d.options);
    return c;
}

TEST(TriggerConfig, DevicesTriggersAndDeviceSinks)
{
    auto const text = R"(
[device.phone]
mac = "02-11-22-AA-BB-CC"
hostname = "pixel-7"
probe = "tcp:2222"
probe_interval = 3

[device.cam]
mac = "021122aabbcd"
ip = "192.168.8.30"
role = "camera"

[trigger.hostapd]
interfaces = ["wlan0", "wlan1"]
ping_interval = 5

[sink.phone]
type = "shell"
command = ["/bin/true"]
device = "phone"

[[route]]
to = ["phone"]
)";
    config::settings s;
    std::vector<config::problem> problems;
    ASSERT_TRUE(config::load_string(text, "t.toml", catalog(), s, problems))
        << (problems.empty() ? "" : problems.front().message);
    ASSERT_EQ(s.devices.size(), 2u);
    auto const& cam = s.devices[0].name == "cam" ? s.devices[0] : s.devices[1];
    auto const& phone = s.devices[0].name == "phone" ? s.devices[0] : s.devices[1];
    EXPECT_EQ(phone.mac, "02:11:22:aa:bb:cc");
    EXPECT_EQ(phone.probe_port, 2222);
    EXPECT_EQ(phone.probe_interval, 3);
    EXPECT_EQ(phone.role, "phone");
    EXPECT_EQ(cam.mac, "02:11:22:aa:bb:cd");
    EXPECT_EQ(cam.ip, "192.168.8.30");
    EXPECT_TRUE(s.hostapd.enabled);
    EXPECT_EQ(s.hostapd.ctrl_dir, "/var/run/hostapd");
    EXPECT_EQ(s.hostapd.interfaces, (std::vector<std::string>{"wlan0", "wlan1"}));
    ASSERT_EQ(s.sinks.size(), 1u);
    EXPECT_EQ(s.sinks[0].device, "phone");
}

TEST(TriggerConfig, EveryBadKeyIsReported)
{
    auto const text = R"(
[device.a]
mac = "nope"
ip = "1.2.3"
role = "tablet"
probe = "udp:9"

[device.b]
mac = "02:11:22:aa:bb:cc"

[device.c]
mac = "02:11:22:AA:BB:CC"

[trigger.hostapd]
interfaces = ["../x"]

[trigger.nope]
x = 1

[sink.s]
type = "sftp"
url = "sftp://{device_ip}:2222/DCIM"
key = "/nonexistent"
host_key_sha256 = "SHA256:x"
device = "ghost"

[[route]]
to = ["s"]
)";
    config::settings s;
    std::vector<config::problem> problems;
    EXPECT_FALSE(config::load_string(text, "t.toml", catalog(), s, problems));
    std::string all;
    for (auto const& p : problems)
        all += std::to_string(p.line) + ": " + p.message + "\n";
    for (auto needle :
         {"is not a MAC address", "is not an IPv4", "role must be", "probe must be \"tcp:PORT\"",
          "is also [device.b]", "'../x' is not an interface", "unknown trigger", "device 'ghost'"})
        EXPECT_NE(all.find(needle), std::string::npos) << needle << "\n" << all;
}

TEST(TriggerConfig, DeviceAddressInUrl)
{
    config::sink_settings s;
    s.options.set("url", "sftp://{device_ip}:2222/DCIM", 3);
    EXPECT_TRUE(config::uses_device_address(s));
    EXPECT_EQ(config::with_device_address(s, "192.168.8.20").options.string_or("url", ""),
              "sftp://192.168.8.20:2222/DCIM");
    EXPECT_EQ(config::with_device_address(s, "fd00::20").options.string_or("url", ""),
              "sftp://[fd00::20]:2222/DCIM");
    s.options.set("url", "sftp://phone:2222/DCIM", 3);
    EXPECT_FALSE(config::uses_device_address(s));
}

} // namespace
