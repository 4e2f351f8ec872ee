// `camrelay sim ptpip|fuji --dir PHOTOS`: a Wi-Fi camera simulator serving a folder's files over
// standard PTP/IP or Fujifilm's Wi-Fi protocol, for testing clients (gphoto2, camrelay) without a
// camera. Prints one ready line, runs until SIGINT/SIGTERM.
#include "app/commands.hpp"
#include "core/log.hpp"
#include "sim/quirks.hpp"
#include "sim/server.hpp"

#include <iostream>

namespace camrelay::app
{

int cmd_sim(sim_options const& o)
{
    log::level lvl = log::level::info;
    if (!o.log_level.empty() && !log::parse_level(o.log_level, lvl))
    {
        std::cerr << "camrelay sim: unknown log level " << o.log_level << "\n";
        return 2;
    }
    log::init(lvl);
    sim::server_options so;
    so.kind = o.protocol == "fuji" ? sim::flavor::fuji : sim::flavor::ptpip;
    if (o.dirs.empty())
    {
        std::cerr << "camrelay sim: --dir is required\n";
        return 2;
    }
    so.dir = o.dirs.front();
    so.dirs.assign(o.dirs.begin() + 1, o.dirs.end());
    for (auto const& name : o.quirks)
    {
        auto q = sim::quirk_by_name(name);
        if (!q)
        {
            std::cerr << "camrelay sim: unknown quirk " << name << " (see camrelay sim --help)\n";
            return 2;
        }
        so.quirks.add(*q);
    }
    so.select = o.select;
    so.bind = o.bind;
    so.port = o.port;
    so.model = o.model;
    so.drop_after = o.drop_after;
    so.refuse = o.refuse;
    std::string error;
    int rc = sim::run_server(
        so,
        [&](sim::server_ready const& r)
        {
            std::cout << "camrelay sim: " << o.protocol << " camera '" << r.model << "' serving "
                      << r.objects << " photos from " << so.dir << " on " << r.address << ":"
                      << r.port << std::endl;
        },
        error);
    if (rc != 0)
        std::cerr << "camrelay sim: " << error << "\n";
    return rc;
}

} // namespace camrelay::app
