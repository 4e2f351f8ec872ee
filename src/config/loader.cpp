#include "config/loader.hpp"

#include "config/device.hpp"
#include "core/name_template.hpp"

#include <toml++/toml.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace camrelay::config {

namespace {

constexpr option_spec general_specs[] = {
    {"data_dir", option_type::string, false, "/var/lib/camrelay (root), else ~/.local/share/camrelay",
     "Folder for the ledger (camrelay.db) and the spool."},
    {"log_level", option_type::string, false, "info", "trace, debug, info, warn, error or off."},
    {"spool_keep", option_type::string, false, "until-delivered",
     "until-delivered: remove a spooled file once every delivery of it is verified; always: keep it."},
    {"spool", option_type::string, false, "disk",
     "disk: photos are spooled, then delivered from the spool; none: no spool copy, each photo is "
     "streamed from the camera to its sinks while they are reachable."},
    {"workers", option_type::integer, false, "4", "Deliveries running at once, all sinks together."},
    {"shutdown_grace", option_type::integer, false, "10",
     "Seconds running deliveries and camera threads may finish after SIGINT/SIGTERM; then "
     "deliveries are cancelled and a stuck camera thread is left behind (at least 2 s)."},
    {"control_socket", option_type::string, false, "DATA_DIR/control.sock",
     "Unix socket where `camrelay hostapd-event` and `dhcp-event` reach the daemon."},
};

constexpr option_spec common_sink_specs[] = {
    {"type", option_type::string, true, "", "Which sink: see the sink types below."},
    {"concurrency", option_type::integer, false, "1", "Deliveries to this sink at once."},
    {"max_attempts", option_type::integer, false, "0",
     "Give up (failed-permanent) after this many transient failures; 0 retries for ever."},
    {"retry_min", option_type::integer, false, "10", "Seconds before the first retry."},
    {"retry_max", option_type::integer, false, "3600", "Cap of the exponential backoff, seconds."},
    {"wake_on", option_type::string, false, "",
     "Name of a trigger whose firing makes this sink's due jobs run at once."},
    {"device", option_type::string, false, "",
     "Name of a [device.NAME]: jobs run only while it is present; {device_ip} in url is its address."},
};

constexpr option_spec device_specs[] = {
    {"mac", option_type::string, true, "", "The device's MAC address (any case, : - . or none)."},
    {"ip", option_type::string, false, "", "Fixed IPv4/IPv6 address; else learnt from DHCP events."},
    {"hostname", option_type::string, false, "",
     "DHCP host name, matched when the MAC is not (phones with randomised MACs)."},
    {"role", option_type::string, false, "phone", "phone or camera."},
    {"probe", option_type::string, false, "",
     "tcp:PORT: connect to the device's address periodically to tell whether it is present."},
    {"probe_interval", option_type::integer, false, "10", "Seconds between probes."},
    {"probe_timeout", option_type::integer, false, "2", "Seconds a probe's connect may take."},
};

constexpr option_spec hostapd_specs[] = {
    {"ctrl_dir", option_type::string, false, "/var/run/hostapd",
     "Folder of hostapd's control sockets (its ctrl_interface)."},
    {"interfaces", option_type::string_list, true, "",
     "Wi-Fi interfaces to follow, e.g. [\"wlan0\"]: one socket each in ctrl_dir."},
    {"ping_interval", option_type::integer, false, "10",
     "Seconds between PINGs; no PONG (hostapd restarted) makes camrelay attach again."},
};

constexpr option_spec route_specs[] = {
    {"source", option_type::string_list, false, "any", "Source kinds to match (usb, ...)."},
    {"camera", option_type::string_list, false, "any",
     "Globs matched against the camera's name, model and identity."},
    {"ext", option_type::string_list, false, "any", "File extensions, without dot, any case."},
    {"type", option_type::string_list, false, "any", "image, raw, video or other."},
    {"to", option_type::string_list, true, "", "Names of the sinks that get matching files."},
};

int line_of(toml::node const& n)
{
    return static_cast<int>(n.source().begin.line);
}

struct reader
{
    std::vector<problem>& problems;

    void add(int line, std::string msg) { problems.push_back({line, std::move(msg)}); }

    // Reads one option according to its spec; reports a type problem and returns false.
    bool read_option(std::string_view where, option_spec const& spec, toml::node const& node,
                     option_values& out)
    {
        int line = line_of(node);
        switch (spec.type)
        {
        case option_type::string:
            if (auto v = node.value_exact<std::string>())
            {
                out.set(std::string(spec.name), *v, line);
                return true;
            }
            break;
        case option_type::integer:
            if (auto v = node.value_exact<std::int64_t>())
            {
                out.set(std::string(spec.name), *v, line);
                return true;
            }
            break;
        case option_type::boolean:
            if (auto v = node.value_exact<bool>())
            {
                out.set(std::string(spec.name), *v, line);
                return true;
            }
            break;
        case option_type::string_list:
            if (auto v = node.value_exact<std::string>())
            {
                out.set(std::string(spec.name), std::vector<std::string>{*v}, line);
                return true;
            }
            if (auto const* arr = node.as_array())
            {
                std::vector<std::string> items;
                bool ok = true;
                for (auto const& item : *arr)
                {
                    if (auto s = item.value_exact<std::string>())
                        items.push_back(*s);
                    else
                        ok = false;
                }
                if (ok)
                {
                    out.set(std::string(spec.name), std::move(items), line);
                    return true;
                }
            }
            break;
        }
        add(line, std::string(where) + ": '" + std::string(spec.name) + "' must be a " +
                      std::string(type_name(spec.type)));
        return false;
    }

    // Reads every key of `table` against `specs` (+ `extra`), reporting unknown and missing keys.
    option_values read_table(std::string_view where, toml::table const& table,
                             std::span<const option_spec> specs,
                             std::span<const option_spec> extra = {})
    {
        option_values values;
        std::set<std::string, std::less<>> seen;
        for (auto const& [key, node] : table)
        {
            auto find = [&](std::span<const option_spec> list) -> option_spec const* {
                for (auto const& s : list)
                    if (s.name == key.str())
                        return &s;
                return nullptr;
            };
            option_spec const* spec = find(specs);
            if (!spec)
                spec = find(extra);
            if (!spec)
            {
                std::string known;
                for (auto const& s : specs)
                    known += (known.empty() ? "" : ", ") + std::string(s.name);
                for (auto const& s : extra)
                    known += (known.empty() ? "" : ", ") + std::string(s.name);
                add(static_cast<int>(key.source().begin.line),
                    std::string(where) + ": unknown key '" + std::string(key.str()) +
                        "' (known: " + known + ")");
                continue;
            }
            seen.insert(std::string(key.str()));
            read_option(where, *spec, node, values);
        }
        auto require = [&](std::span<const option_spec> list) {
            for (auto const& s : list)
                if (s.required && !seen.count(s.name))
                    add(line_of(table), std::string(where) + ": missing required key '" +
                                            std::string(s.name) + "'");
        };
        require(specs);
        require(extra);
        return values;
    }
};

std::string names_of(std::map<std::string, std::span<const option_spec>, std::less<>> const& table)
{
    std::string known;
    for (auto const& entry : table)
        known += (known.empty() ? "" : ", ") + entry.first;
    return known;
}

bool valid_sink_name(std::string_view name)
{
    if (name.empty())
        return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
            return false;
    return true;
}

} // namespace

std::span<const option_spec> common_sink_options()
{
    return common_sink_specs;
}
std::span<const option_spec> general_options()
{
    return general_specs;
}
std::span<const option_spec> route_options()
{
    return route_specs;
}
std::span<const option_spec> device_options()
{
    return device_specs;
}
std::span<const option_spec> hostapd_options()
{
    return hostapd_specs;
}

std::string default_data_dir()
{
    if (::geteuid() == 0)
        return "/var/lib/camrelay";
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        return std::string(xdg) + "/camrelay";
    if (const char* home = std::getenv("HOME"); home && *home)
        return std::string(home) + "/.local/share/camrelay";
    return "./camrelay-data";
}

settings make_default_settings(std::string data_dir)
{
    settings s;
    s.general.data_dir = data_dir.empty() ? default_data_dir() : std::move(data_dir);
    source_settings usb;
    usb.type = "usb";
    s.sources.push_back(std::move(usb));
    sink_settings photos;
    photos.name = "photos";
    photos.type = "folder";
    photos.options.set("path",
                       s.general.data_dir + "/photos/{camera}/{date:%Y-%m-%d}/{name}", 0);
    s.sinks.push_back(std::move(photos));
    route_settings all;
    all.to = {"photos"};
    s.routes.push_back(std::move(all));
    return s;
}

namespace {

bool valid_ip(std::string const& text)
{
    unsigned char buf[16];
    return ::inet_pton(AF_INET, text.c_str(), buf) == 1 ||
           ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

void read_devices(reader& r, toml::table const& doc, settings& out)
{
    auto const* node = doc.get("device");
    if (!node)
        return;
    auto const* devices = node->as_table();
    if (!devices)
    {
        r.add(line_of(*node), "devices are written [device.NAME]");
        return;
    }
    for (auto const& [name, dnode] : *devices)
    {
        std::string where = "[device." + std::string(name.str()) + "]";
        auto const* t = dnode.as_table();
        if (!t)
        {
            r.add(line_of(dnode), where + " must be a table");
            continue;
        }
        if (!valid_sink_name(name.str()))
            r.add(line_of(*t), where + ": device names use letters, digits, '_' and '-'");
        device_settings d;
        d.name = std::string(name.str());
        d.line = line_of(*t);
        auto v = r.read_table(where, *t, device_specs);
        auto mac_text = v.string_or("mac", "");
        if (auto mac = normalize_mac(mac_text))
            d.mac = *mac;
        else if (v.has("mac"))
            r.add(v.line_of("mac"), where + ": mac '" + mac_text +
                                        "' is not a MAC address like aa:bb:cc:dd:ee:ff");
        d.ip = v.string_or("ip", "");
        if (v.has("ip") && !valid_ip(d.ip))
            r.add(v.line_of("ip"), where + ": ip '" + d.ip + "' is not an IPv4 or IPv6 address");
        d.hostname = v.string_or("hostname", "");
        d.role = v.string_or("role", d.role);
        if (d.role != "phone" && d.role != "camera")
            r.add(v.line_of("role"), where + ": role must be \"phone\" or \"camera\"");
        auto probe = v.string_or("probe", "");
        if (!probe.empty())
        {
            long port = 0;
            bool ok = probe.rfind("tcp:", 0) == 0 && probe.size() > 4 && probe.size() <= 9;
            for (std::size_t i = 4; ok && i < probe.size(); ++i)
                ok = std::isdigit(static_cast<unsigned char>(probe[i])) != 0;
            if (ok)
                port = std::stol(probe.substr(4));
            if (!ok || port < 1 || port > 65535)
                r.add(v.line_of("probe"), where + ": probe must be \"tcp:PORT\" (1-65535)");
            else
                d.probe_port = static_cast<std::uint16_t>(port);
        }
        d.probe_interval = v.integer_or("probe_interval", d.probe_interval);
        d.probe_timeout = v.integer_or("probe_timeout", d.probe_timeout);
        if (d.probe_interval < 1 || d.probe_interval > 86400)
            r.add(v.line_of("probe_interval"), where + ": probe_interval must be 1-86400");
        if (d.probe_timeout < 1 || d.probe_timeout > 60)
            r.add(v.line_of("probe_timeout"), where + ": probe_timeout must be 1-60");
        for (auto const& other : out.devices)
            if (!d.mac.empty() && other.mac == d.mac)
                r.add(v.line_of("mac"), where + ": mac " + d.mac + " is also [device." +
                                            other.name + "]'s");
        out.devices.push_back(std::move(d));
    }
}

void read_triggers(reader& r, toml::table const& doc, settings& out)
{
    auto const* node = doc.get("trigger");
    if (!node)
        return;
    auto const* triggers = node->as_table();
    if (!triggers)
    {
        r.add(line_of(*node), "triggers are written [trigger.hostapd]");
        return;
    }
    for (auto const& [name, tnode] : *triggers)
    {
        std::string where = "[trigger." + std::string(name.str()) + "]";
        auto const* t = tnode.as_table();
        if (name.str() != "hostapd" || !t)
        {
            r.add(line_of(tnode), where + ": unknown trigger (known: [trigger.hostapd])");
            continue;
        }
        auto& h = out.hostapd;
        h.enabled = true;
        h.line = line_of(*t);
        auto v = r.read_table(where, *t, hostapd_specs);
        h.ctrl_dir = v.string_or("ctrl_dir", h.ctrl_dir);
        h.interfaces = v.list_or("interfaces", {});
        h.ping_interval = v.integer_or("ping_interval", h.ping_interval);
        if (h.ctrl_dir.empty() || h.ctrl_dir.front() != '/')
            r.add(v.line_of("ctrl_dir"), where + ": ctrl_dir must be an absolute path");
        if (v.has("interfaces") && h.interfaces.empty())
            r.add(v.line_of("interfaces"), where + ": interfaces must name at least one");
        for (auto const& i : h.interfaces)
            if (i.empty() || i.size() > 15 || i == "." || i == ".." ||
                i.find('/') != std::string::npos)
                r.add(v.line_of("interfaces"), where + ": '" + i + "' is not an interface name");
        if (h.ping_interval < 1 || h.ping_interval > 3600)
            r.add(v.line_of("ping_interval"), where + ": ping_interval must be 1-3600");
    }
}

} // namespace

bool load_string(std::string_view text, std::string_view origin, plugin_catalog const& catalog,
                 settings& out, std::vector<problem>& problems)
{
    problems.clear();
    out = settings{};
    toml::table doc;
    try
    {
        doc = toml::parse(text, origin);
    }
    catch (toml::parse_error const& e)
    {
        problems.push_back({static_cast<int>(e.source().begin.line),
                            "TOML syntax: " + std::string(e.description())});
        return false;
    }

    reader r{problems};
    for (auto const& [key, node] : doc)
    {
        auto k = key.str();
        if (k != "camrelay" && k != "source" && k != "sink" && k != "route" && k != "device" &&
            k != "trigger")
            r.add(static_cast<int>(key.source().begin.line),
                  "unknown top-level key '" + std::string(k) +
                      "' (known: [camrelay], [[source]], [sink.NAME], [[route]], [device.NAME], "
                      "[trigger.hostapd])");
    }

    // [camrelay]
    if (auto const* node = doc.get("camrelay"))
    {
        if (auto const* t = node->as_table())
        {
            auto v = r.read_table("[camrelay]", *t, general_specs);
            out.general.line = line_of(*t);
            out.general.data_dir = v.string_or("data_dir", "");
            out.general.log_level = v.string_or("log_level", out.general.log_level);
            out.general.spool_keep = v.string_or("spool_keep", out.general.spool_keep);
            out.general.spool = v.string_or("spool", out.general.spool);
            if (out.general.spool != "disk" && out.general.spool != "none")
                r.add(v.line_of("spool"), "[camrelay]: spool must be \"disk\" or \"none\"");
            out.general.workers = v.integer_or("workers", out.general.workers);
            out.general.shutdown_grace = v.integer_or("shutdown_grace", out.general.shutdown_grace);
            out.general.control_socket = v.string_or("control_socket", "");
            if (v.has("control_socket") && out.general.control_socket.empty())
                r.add(v.line_of("control_socket"), "[camrelay]: control_socket must not be empty");
            static constexpr std::string_view levels[] = {"trace", "debug", "info",
                                                          "warn",  "error", "off"};
            if (std::find(std::begin(levels), std::end(levels), out.general.log_level) ==
                std::end(levels))
                r.add(v.line_of("log_level"), "[camrelay]: log_level must be one of trace, debug, "
                                              "info, warn, error, off");
            if (out.general.spool_keep != "until-delivered" && out.general.spool_keep != "always")
                r.add(v.line_of("spool_keep"),
                      "[camrelay]: spool_keep must be \"until-delivered\" or \"always\"");
            if (out.general.workers < 1 || out.general.workers > 64)
                r.add(v.line_of("workers"), "[camrelay]: workers must be between 1 and 64");
            if (out.general.shutdown_grace < 0)
                r.add(v.line_of("shutdown_grace"), "[camrelay]: shutdown_grace must be >= 0");
        }
        else
            r.add(line_of(*node), "'camrelay' must be a table: [camrelay]");
    }
    if (out.general.data_dir.empty())
        out.general.data_dir = default_data_dir();

    // [[source]]
    if (auto const* node = doc.get("source"))
    {
        auto const* arr = node->as_array();
        if (!arr || !arr->is_array_of_tables())
            r.add(line_of(*node), "sources are written [[source]] (an array of tables)");
        else
        {
            for (auto const& item : *arr)
            {
                auto const& t = *item.as_table();
                source_settings src;
                src.line = line_of(t);
                auto type = t["type"].value<std::string>();
                if (!type)
                {
                    r.add(src.line, "[[source]]: missing required key 'type'");
                    continue;
                }
                auto it = catalog.sources.find(*type);
                if (it == catalog.sources.end())
                {
                    r.add(line_of(*t.get("type")), "[[source]]: unknown type '" + *type +
                                                       "' (this build knows: " +
                                                       names_of(catalog.sources) + ")");
                    continue;
                }
                static constexpr option_spec type_spec[] = {
                    {"type", option_type::string, true, "", "Which source."}};
                src.type = *type;
                src.options = r.read_table("[[source]] type=" + *type, t, it->second, type_spec);
                out.sources.push_back(std::move(src));
            }
        }
    }

    read_devices(r, doc, out);
    read_triggers(r, doc, out);

    // [sink.NAME]
    std::set<std::string, std::less<>> sink_names;
    if (auto const* node = doc.get("sink"))
    {
        auto const* sinks = node->as_table();
        if (!sinks)
            r.add(line_of(*node), "sinks are written [sink.NAME]");
        else
        {
            for (auto const& [name, snode] : *sinks)
            {
                std::string where = "[sink." + std::string(name.str()) + "]";
                auto const* t = snode.as_table();
                if (!t)
                {
                    r.add(line_of(snode), where + " must be a table");
                    continue;
                }
                if (!valid_sink_name(name.str()))
                    r.add(line_of(*t), where + ": sink names use letters, digits, '_' and '-'");
                sink_settings sink;
                sink.name = std::string(name.str());
                sink.line = line_of(*t);
                auto type = (*t)["type"].value<std::string>();
                if (!type)
                {
                    r.add(sink.line, where + ": missing required key 'type'");
                    continue;
                }
                auto it = catalog.sinks.find(*type);
                if (it == catalog.sinks.end())
                {
                    r.add(line_of(*t->get("type")), where + ": unknown type '" + *type +
                                                        "' (this build knows: " +
                                                        names_of(catalog.sinks) + ")");
                    sink_names.insert(sink.name);
                    continue;
                }
                sink.type = *type;
                sink.options = r.read_table(where, *t, it->second, common_sink_specs);
                sink.concurrency = sink.options.integer_or("concurrency", sink.concurrency);
                sink.max_attempts = sink.options.integer_or("max_attempts", sink.max_attempts);
                sink.retry_min = sink.options.integer_or("retry_min", sink.retry_min);
                sink.retry_max = sink.options.integer_or("retry_max", sink.retry_max);
                sink.wake_on = sink.options.string_or("wake_on", "");
                sink.device = sink.options.string_or("device", "");
                if (sink.options.has("device") &&
                    std::none_of(out.devices.begin(), out.devices.end(),
                                 [&](device_settings const& d) { return d.name == sink.device; }))
                    r.add(sink.options.line_of("device"), where + ": device '" + sink.device +
                                                              "' is not defined by a [device." +
                                                              sink.device + "]");
                if (uses_device_address(sink) && sink.device.empty())
                    r.add(sink.options.line_of("url"),
                          where + ": {device_ip} in url needs device = \"NAME\"");
                if (sink.concurrency < 1 || sink.concurrency > 32)
                    r.add(sink.options.line_of("concurrency"),
                          where + ": concurrency must be between 1 and 32");
                if (sink.max_attempts < 0)
                    r.add(sink.options.line_of("max_attempts"), where + ": max_attempts must be >= 0");
                if (sink.retry_min < 1 || sink.retry_max < sink.retry_min)
                    r.add(sink.options.line_of("retry_min"),
                          where + ": need 1 <= retry_min <= retry_max");
                sink_names.insert(sink.name);
                out.sinks.push_back(std::move(sink));
            }
        }
    }

    // [[route]]
    if (auto const* node = doc.get("route"))
    {
        auto const* arr = node->as_array();
        if (!arr || !arr->is_array_of_tables())
            r.add(line_of(*node), "routes are written [[route]] (an array of tables)");
        else
        {
            for (auto const& item : *arr)
            {
                auto const& t = *item.as_table();
                route_settings route;
                route.line = line_of(t);
                auto v = r.read_table("[[route]]", t, route_specs);
                route.source = v.list_or("source", {});
                route.camera = v.list_or("camera", {});
                route.ext = v.list_or("ext", {});
                route.type = v.list_or("type", {});
                route.to = v.list_or("to", {});
                for (auto const& s : route.to)
                    if (!sink_names.count(s))
                        r.add(v.line_of("to"), "[[route]]: 'to' names sink '" + s +
                                                   "', which no [sink." + s + "] defines");
                for (auto const& ty : route.type)
                    if (ty != "image" && ty != "raw" && ty != "video" && ty != "other")
                        r.add(v.line_of("type"),
                              "[[route]]: type '" + ty + "' is not image, raw, video or other");
                for (auto const& s : route.source)
                    if (!catalog.sources.count(s))
                        r.add(v.line_of("source"), "[[route]]: source kind '" + s + "' is unknown");
                out.routes.push_back(std::move(route));
            }
        }
    }

    if (out.sinks.empty() && problems.empty())
    {
        // A file that names no sink still gets the default folder sink, like no file at all.
        auto defaults = make_default_settings(out.general.data_dir);
        out.sinks = defaults.sinks;
        if (out.routes.empty())
            out.routes = defaults.routes;
    }
    bool sources_name_sinks =
        !out.sources.empty() &&
        std::all_of(out.sources.begin(), out.sources.end(), [&](source_settings const& s) {
            return catalog.sources_naming_sinks.count(s.type) > 0;
        });
    if (!out.sinks.empty() && out.routes.empty() && problems.empty() && !sources_name_sinks)
        problems.push_back({0, "no [[route]]: nothing would be delivered (add [[route]] to = [\"" +
                                   out.sinks.front().name + "\"])"});
    return problems.empty();
}

bool load_file(std::string const& path, plugin_catalog const& catalog, settings& out,
               std::vector<problem>& problems)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        problems = {{0, "cannot read config file '" + path + "'"}};
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return load_string(ss.str(), path, catalog, out, problems);
}

} // namespace camrelay::config
