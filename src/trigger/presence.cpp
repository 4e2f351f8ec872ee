#include "trigger/presence.hpp"

#include <strings.h>

namespace camrelay::trigger
{

presence_tracker::presence_tracker(std::vector<config::device_settings> devices, listener on_change)
    : configs_(std::move(devices)), states_(configs_.size()), on_change_(std::move(on_change))
{
    for (std::size_t i = 0; i < configs_.size(); ++i)
        states_[i].address = configs_[i].ip;
}

int presence_tracker::find_mac(std::string const& mac) const
{
    for (std::size_t i = 0; i < configs_.size(); ++i)
        if (configs_[i].mac == mac)
            return static_cast<int>(i);
    return -1;
}

void presence_tracker::set(int index, bool present, std::string const& via)
{
    auto& st = states_[static_cast<std::size_t>(index)];
    if (st.present == present)
        return;
    st.present = present;
    if (!present)
        st.ifaces.clear();
    if (on_change_)
        on_change_({&configs_[static_cast<std::size_t>(index)], present, true, st.address, via});
}

std::string presence_tracker::station(station_event const& e)
{
    std::lock_guard lock(mutex_);
    int i = find_mac(e.mac);
    if (i < 0)
        return {};
    auto& st = states_[static_cast<std::size_t>(i)];
    if (e.connected)
    {
        st.ifaces.insert(e.iface);
        set(i, true, "hostapd " + e.iface);
    }
    else
    {
        st.ifaces.erase(e.iface);
        if (st.ifaces.empty())
            set(i, false, "hostapd " + e.iface);
    }
    return configs_[static_cast<std::size_t>(i)].name;
}

void presence_tracker::stations_on(std::string const& iface, std::vector<std::string> const& macs)
{
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < configs_.size(); ++i)
    {
        auto& st = states_[i];
        bool there = false;
        for (auto const& m : macs)
            there = there || m == configs_[i].mac;
        if (there)
        {
            st.ifaces.insert(iface);
            set(static_cast<int>(i), true, "hostapd " + iface + " station list");
        }
        else if (st.ifaces.erase(iface) > 0 && st.ifaces.empty())
            set(static_cast<int>(i), false, "hostapd " + iface + " station list");
    }
}

std::string presence_tracker::dhcp(dhcp_event const& e)
{
    std::lock_guard lock(mutex_);
    int i = find_mac(e.mac);
    if (i < 0 && !e.hostname.empty())
        for (std::size_t k = 0; k < configs_.size() && i < 0; ++k)
            if (!configs_[k].hostname.empty() &&
                ::strcasecmp(configs_[k].hostname.c_str(), e.hostname.c_str()) == 0)
                i = static_cast<int>(k);
    if (i < 0)
        return {};
    auto const& cfg = configs_[static_cast<std::size_t>(i)];
    auto& st = states_[static_cast<std::size_t>(i)];
    char const* verb = e.what == dhcp_event::action::add   ? "dhcp add"
                       : e.what == dhcp_event::action::old ? "dhcp old"
                                                           : "dhcp del";
    if (e.what == dhcp_event::action::del)
    {
        set(i, false, verb);
        return cfg.name;
    }
    // A fixed ip wins over what DHCP says (the user pinned it).
    bool moved = cfg.ip.empty() && st.address != e.ip;
    if (moved)
        st.address = e.ip;
    if (!st.present)
        set(i, true, verb);
    else if (moved && on_change_)
        on_change_({&cfg, true, false, st.address, verb});
    return cfg.name;
}

void presence_tracker::probe_result(std::string const& name, bool reachable)
{
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < configs_.size(); ++i)
        if (configs_[i].name == name)
            set(static_cast<int>(i), reachable, "probe");
}

bool presence_tracker::present(std::string const& name) const
{
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < configs_.size(); ++i)
        if (configs_[i].name == name)
            return states_[i].present;
    return false;
}

std::string presence_tracker::address(std::string const& name) const
{
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < configs_.size(); ++i)
        if (configs_[i].name == name)
            return states_[i].address;
    return {};
}

} // namespace camrelay::trigger
