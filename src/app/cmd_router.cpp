// The router setup inside `camrelay run` (device presence from hostapd, DHCP events and probes,
// gating device-bound sinks), and the two hook commands that report events to the daemon:
// `camrelay hostapd-event` (hostapd_cli -a) and `camrelay dhcp-event` (dnsmasq --dhcp-script).
#include "app/commands.hpp"
#include "app/runtime.hpp"
#include "config/device.hpp"
#include "core/log.hpp"
#include "delivery/sink.hpp"
#include "trigger/control_socket.hpp"
#include "trigger/hostapd_monitor.hpp"
#include "trigger/presence.hpp"
#include "trigger/probe.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace camrelay::app
{

namespace
{

constexpr auto log_tag = "presence";

std::string device_line(trigger::presence_change const& c)
{
    auto const& d = *c.device;
    std::string text = d.role + " " + d.name + " (" + d.mac + ")";
    text += c.present ? (c.transition ? " joined" : " moved") : " left";
    text += " via " + c.via;
    if (c.present && !c.address.empty())
        text += ", address " + c.address;
    return text;
}

} // namespace

struct presence_services
{
    std::unique_ptr<trigger::presence_tracker> tracker;
    std::unique_ptr<trigger::control_server> control;
    std::unique_ptr<trigger::hostapd_monitor> hostapd;
    std::unique_ptr<trigger::prober> probes;

    ~presence_services()
    {
        // Event sources first: nothing may reach the tracker once it is gone.
        probes.reset();
        hostapd.reset();
        control.reset();
    }
};

void presence_services_deleter::operator()(presence_services* p) const
{
    delete p;
}

presence_handle start_presence(runtime& rt, std::string& error)
{
    presence_handle p(new presence_services);
    auto* store = rt.store.get();
    auto* sched = rt.deliveries.get();
    sched->set_sink_factory(
        [](config::sink_settings const& s,
           std::string const& address) -> std::unique_ptr<delivery::sink>
        {
            auto const* d = delivery::find_sink_type(s.type);
            if (!d)
                return nullptr;
            std::vector<config::problem> problems;
            auto sink = d->make(config::with_device_address(s, address), problems);
            for (auto const& pr : problems)
                log::error(log_tag, "sink={}: {}", s.name, pr.message);
            return sink;
        });
    p->tracker = std::make_unique<trigger::presence_tracker>(
        rt.settings.devices,
        [store, sched](trigger::presence_change const& c)
        {
            auto text = device_line(c);
            log::info(log_tag, "{}", text);
            if (c.transition)
                store->add_event(c.present ? "device-joined" : "device-left", text,
                                 pipeline::now_seconds());
            if (c.present)
                sched->device_joined(c.device->name, c.address);
            else
                sched->device_left(c.device->name);
        });
    auto* tracker = p->tracker.get();

    auto path = config::control_socket_path(rt.settings);
    p->control = trigger::control_server::open(
        path,
        [tracker](trigger::control_request const& r) -> std::string
        {
            switch (r.what)
            {
            case trigger::control_request::kind::ping:
                return std::string("OK camrelay ") + CAMRELAY_VERSION;
            case trigger::control_request::kind::station:
            {
                auto name = tracker->station(r.station);
                return name.empty() ? "OK no device has MAC " + r.station.mac : "OK device " + name;
            }
            case trigger::control_request::kind::dhcp:
            {
                auto name = tracker->dhcp(r.dhcp);
                return name.empty() ? "OK no device has MAC " + r.dhcp.mac : "OK device " + name;
            }
            }
            return "ERR unknown request";
        },
        error);
    if (!p->control)
    {
        if (!rt.settings.devices.empty())
            return nullptr; // the hooks could not reach us: refuse to run half-blind
        log::warn(log_tag, "{}; camrelay hostapd-event and dhcp-event will not reach this daemon",
                  error);
        error.clear();
    }
    else
        log::info(log_tag, "control socket {} (mode 0660)", path);

    if (rt.settings.hostapd.enabled)
        p->hostapd = std::make_unique<trigger::hostapd_monitor>(
            rt.settings.hostapd,
            trigger::hostapd_monitor::callbacks{
                [tracker](trigger::station_event const& e) { tracker->station(e); },
                [tracker](std::string const& iface, std::vector<std::string> const& macs)
                { tracker->stations_on(iface, macs); }});
    p->probes = std::make_unique<trigger::prober>(
        rt.settings.devices, [tracker](std::string const& n) { return tracker->address(n); },
        [tracker](std::string const& n, bool up) { tracker->probe_result(n, up); });
    return p;
}

namespace
{

/// Where the daemon's control socket is: --socket, $CAMRELAY_SOCKET, the config's
/// control_socket, else DATA_DIR/control.sock.
bool socket_for(common_options const& o, std::string const& socket, std::string& path)
{
    if (!socket.empty())
    {
        path = socket;
        return true;
    }
    if (char const* env = std::getenv("CAMRELAY_SOCKET"); env && *env)
    {
        path = env;
        return true;
    }
    config::settings s;
    if (o.config_path.empty())
        s = config::make_default_settings();
    else
    {
        std::vector<config::problem> problems;
        if (!config::load_file(o.config_path, make_catalog(), s, problems))
        {
            for (auto const& p : problems)
                std::cerr << o.config_path << ":" << p.line << ": " << p.message << "\n";
            return false;
        }
    }
    if (!o.data_dir.empty())
        s.general.data_dir = std::filesystem::absolute(o.data_dir).lexically_normal().string();
    path = config::control_socket_path(s);
    return true;
}

int forward(common_options const& o, std::string const& socket, trigger::control_request const& r,
            char const* what)
{
    std::string path, reply, error;
    if (!socket_for(o, socket, path))
        return 2;
    if (!trigger::send_control(path, r, reply, error))
    {
        std::cerr << "camrelay " << what << ": " << error << "\n";
        return 1;
    }
    if (reply.rfind("OK", 0) != 0)
    {
        std::cerr << "camrelay " << what << ": the daemon refused: " << reply << "\n";
        return 1;
    }
    return 0;
}

} // namespace

int cmd_hostapd_event(common_options const& o, std::string const& socket,
                      std::vector<std::string> const& args)
{
    std::string error;
    auto e = trigger::station_from_args(args, error);
    if (!e)
    {
        if (error.empty())
            return 0; // another hostapd event: nothing to do
        std::cerr << "camrelay hostapd-event: " << error << "\n";
        return 2;
    }
    trigger::control_request r;
    r.what = trigger::control_request::kind::station;
    r.station = *e;
    return forward(o, socket, r, "hostapd-event");
}

int cmd_dhcp_event(common_options const& o, std::string const& socket,
                   std::vector<std::string> const& args)
{
    std::string error;
    char const* env_mac = std::getenv("DNSMASQ_MAC");
    auto e = trigger::dhcp_from_args(args, env_mac ? env_mac : "", error);
    if (!e)
    {
        if (error.empty())
            return 0; // init, tftp, arp-*: no lease change
        std::cerr << "camrelay dhcp-event: " << error << "\n";
        return 2;
    }
    trigger::control_request r;
    r.what = trigger::control_request::kind::dhcp;
    r.dhcp = *e;
    return forward(o, socket, r, "dhcp-event");
}

} // namespace camrelay::app
