// Options, validation and the run loop of the Samsung SNS source. The protocol lives in
// sns_service (sans I/O), the sockets in sns_server.
#include "ingest/samsung/samsung_source.hpp"

#include "core/log.hpp"
#include "ingest/samsung/compat_config.hpp"
#include "ingest/samsung/sns_server.hpp"
#include "ingest/samsung/sns_service.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>

namespace camrelay::ingest
{

namespace
{

namespace sam = samsung;
constexpr auto log_tag = "samsung";

constexpr config::option_spec samsung_options[] = {
    {"listen", config::option_type::string, false, "0.0.0.0:80",
     "Address and port the SNS listener binds: host:port, [v6]:port. Cameras use port 80."},
    {"senders", config::option_type::string_list, false, "",
     "Required: e-mail sender addresses and social login user names accepted (exact, "
     "case-sensitive)."},
    {"secret", config::option_type::string, false, "",
     "Required: HMAC key of the per-user folder names (user_folder)."},
    {"actions", config::option_type::string_list, false, "",
     "Entries \"TARGET = KIND[:SINK][, KIND:SINK...]\": TARGET an e-mail recipient or a site "
     "(facebook, picasa...); KIND mail, store, mastodon, shell or drop."},
    {"email_default", config::option_type::string, false, "",
     "KIND:SINK for e-mail recipients not in actions; empty: they are dropped with a warning."},
    {"social_default", config::option_type::string, false, "",
     "KIND:SINK for sites not in actions; empty: their uploads are answered and dropped with a "
     "warning."},
    {"max_header_bytes", config::option_type::integer, false, "16384",
     "Largest request head (request line and headers) accepted."},
    {"max_body_bytes", config::option_type::integer, false, "4294967296",
     "Largest request body accepted (413 before reading when Content-Length is larger)."},
    {"max_message_bytes", config::option_type::integer, false, "65536",
     "Largest XML body (login, announcements) and e-mail `message` part."},
    {"head_timeout", config::option_type::integer, false, "10",
     "Seconds from the connection's start within which the request head must be complete."},
    {"idle_timeout", config::option_type::integer, false, "30",
     "Seconds without a byte from the camera before the connection is closed."},
    {"min_body_rate", config::option_type::integer, false, "4096",
     "Bytes per second a request body must keep up, measured over each rate_window after the "
     "head (the first window is the grace); slower connections are closed. 0: not checked."},
    {"rate_window", config::option_type::integer, false, "10",
     "Seconds of the window min_body_rate is measured over."},
    {"request_timeout", config::option_type::integer, false, "3600",
     "Seconds one connection may take in all (a large video over weak Wi-Fi included)."},
    {"max_connections", config::option_type::integer, false, "32",
     "Connections served at once; a newcomer beyond it takes the slot of the worst connection "
     "open (most from one address, idle or slowest), so hostile sockets cannot lock a camera "
     "out."},
    {"max_connections_per_address", config::option_type::integer, false, "8",
     "Connections from one address at once (a camera uses one); more are closed at once."},
    {"session_ttl", config::option_type::integer, false, "86400",
     "Seconds a social login stays valid after its last use."},
    {"compat_config", config::option_type::string, false, "",
     "Path of a samsung-nx-emailservice config.toml to take senders, secret, actions and sinks "
     "from."},
};

struct source_config
{
    std::string listen;
    sam::server_limits limits;
    sam::service_settings service;
};

class samsung_source final : public source
{
  public:
    samsung_source(source_config cfg, object_handler& out) : cfg_(std::move(cfg)), out_(out) {}

    void run(std::stop_token stop) override
    {
        // The service (sessions, hotspot toggles) lives as long as the source runs, across
        // listener restarts.
        sam::sns_service svc(cfg_.service, out_);
        std::string last_error;
        while (!stop.stop_requested())
        {
            auto ec = sam::serve_sns(cfg_.listen, cfg_.limits, svc, stop);
            if (!ec)
                break;
            if (ec.message() != last_error)
                log::error(log_tag, "cannot listen on {}: {} (retrying every 10 s)", cfg_.listen,
                           ec.message());
            last_error = ec.message();
            std::mutex m;
            std::condition_variable_any cv;
            std::unique_lock lock(m);
            cv.wait_for(lock, stop, std::chrono::seconds(10), [] { return false; });
        }
    }

    failure import_once(std::stop_token) override
    {
        // Samsung cameras push; there is nothing to pull.
        log::info(log_tag, "samsung source: cameras push their photos, nothing to import "
                           "(use camrelay run)");
        return {};
    }

  private:
    source_config cfg_;
    object_handler& out_;
};

std::unique_ptr<source> make_samsung_source(config::source_settings const& s, object_handler& out,
                                            std::vector<config::problem>& problems)
{
    bool ok = true;
    auto problem = [&](std::string const& key, std::string const& text)
    {
        problems.push_back({s.options.line_of(key), "[[source]] samsung: " + text});
        ok = false;
    };
    source_config cfg;
    cfg.listen = s.options.string_or("listen", "0.0.0.0:80");
    std::string host;
    std::uint16_t port = 0;
    if (!sam::parse_listen(cfg.listen, host, port))
        problem("listen", "listen '" + cfg.listen + "' is not host:port (e.g. 0.0.0.0:80)");

    auto& svc = cfg.service;
    svc.senders = s.options.list_or("senders", {});
    if (svc.senders.empty())
        problem("senders", "senders is required: the accepted sender addresses and user names");
    svc.secret = s.options.string_or("secret", "");
    if (svc.secret.empty())
        problem("secret", "secret is required: the HMAC key of the user folder names");

    std::string error;
    for (auto const& entry : s.options.list_or("actions", {}))
    {
        std::string target;
        std::vector<sam::destination> dests;
        if (!sam::parse_action_entry(entry, target, dests, error))
            problem("actions", "actions: " + error);
        else if (!svc.actions.emplace(target, std::move(dests)).second)
            problem("actions", "actions: '" + target + "' is given twice");
    }
    for (auto const& [key, out_list] : {std::pair{"email_default", &svc.email_default},
                                        std::pair{"social_default", &svc.social_default}})
    {
        auto text = s.options.string_or(key, "");
        if (!text.empty() && !sam::parse_destinations(text, *out_list, error))
            problem(key, std::string(key) + ": " + error);
    }

    auto ranged = [&](char const* key, std::int64_t def, std::int64_t lo, std::int64_t hi)
    {
        auto v = s.options.integer_or(key, def);
        if (v < lo || v > hi)
        {
            problem(key, std::string(key) + " must be between " + std::to_string(lo) + " and " +
                             std::to_string(hi));
            return def;
        }
        return v;
    };
    cfg.limits.max_header_bytes =
        static_cast<std::size_t>(ranged("max_header_bytes", 16384, 1024, 1 << 20));
    cfg.limits.max_body_bytes = static_cast<std::uint64_t>(
        ranged("max_body_bytes", std::int64_t{4} << 30, 1024, std::int64_t{1} << 40));
    svc.max_message_bytes =
        static_cast<std::size_t>(ranged("max_message_bytes", 65536, 1024, 16 << 20));
    cfg.limits.head_timeout = std::chrono::seconds(ranged("head_timeout", 10, 1, 3600));
    cfg.limits.idle_timeout = std::chrono::seconds(ranged("idle_timeout", 30, 1, 3600));
    cfg.limits.min_body_rate =
        static_cast<std::uint64_t>(ranged("min_body_rate", 4096, 0, std::int64_t{1} << 30));
    cfg.limits.rate_window = std::chrono::seconds(ranged("rate_window", 10, 1, 3600));
    cfg.limits.request_timeout = std::chrono::seconds(ranged("request_timeout", 3600, 1, 86400));
    cfg.limits.max_connections = static_cast<std::size_t>(ranged("max_connections", 32, 1, 10000));
    cfg.limits.max_connections_per_address =
        static_cast<std::size_t>(ranged("max_connections_per_address", 8, 1, 10000));
    svc.session_ttl = std::chrono::seconds(ranged("session_ttl", 86400, 60, 365 * 86400));
    if (!ok)
        return nullptr;
    return std::make_unique<samsung_source>(std::move(cfg), out);
}

/// After the compat translation (which may add sinks and options): every sink named in
/// `actions`, `email_default` and `social_default` must exist, so a typo is a config problem and
/// not a job for a sink that never comes.
void expand_and_check(config::source_settings& self, config::settings& all,
                      std::vector<config::problem>& problems)
{
    sam::expand_compat_config(self, all, problems);
    auto const& o = self.options;
    auto known = [&](std::string const& name) {
        return std::any_of(all.sinks.begin(), all.sinks.end(),
                           [&](config::sink_settings const& s) { return s.name == name; });
    };
    auto check = [&](std::string_view key, std::vector<sam::destination> const& ds) {
        for (auto const& d : ds)
            if (!d.sink.empty() && !known(d.sink))
                problems.push_back({o.line_of(key) ? o.line_of(key) : self.line,
                                    "[[source]] samsung: " + std::string(key) + ": no sink named '" +
                                        d.sink + "' (add [sink." + d.sink + "])"});
    };
    for (auto const& entry : o.list_or("actions", {}))
    {
        std::string target, error;
        std::vector<sam::destination> ds;
        if (sam::parse_action_entry(entry, target, ds, error))
            check("actions", ds);
    }
    for (auto key : {"email_default", "social_default"})
    {
        std::vector<sam::destination> ds;
        std::string error;
        auto text = o.string_or(key, "");
        if (!text.empty() && sam::parse_destinations(text, ds, error))
            check(key, ds);
    }
}

} // namespace

source_descriptor const samsung_source_descriptor{
    "samsung",
    "Samsung Wi-Fi cameras (2011-2014) sending e-mail and social uploads to the dead Samsung "
    "SNS servers (plain HTTP, port 80).",
    samsung_options,
    &make_samsung_source,
    // compat_config: the reference's config.toml becomes these options and generated sinks.
    &expand_and_check,
    /*names_its_sinks=*/true,
};

} // namespace camrelay::ingest
