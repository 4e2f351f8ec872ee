// The explicit table of sink types. Add a sink: a folder under delivery/, a descriptor, a line
// here (inside #if CAMRELAY_WITH_X when it needs an optional library).
#include "delivery/sink.hpp"

namespace camrelay::delivery {

extern sink_descriptor const folder_sink_descriptor;
extern sink_descriptor const shell_sink_descriptor;
#if CAMRELAY_WITH_CURL
extern sink_descriptor const smtp_sink_descriptor;
extern sink_descriptor const mastodon_sink_descriptor;
extern sink_descriptor const webdav_sink_descriptor;
extern sink_descriptor const sftp_sink_descriptor;
extern sink_descriptor const scp_sink_descriptor;
#endif

namespace {

sink_descriptor const* const table[] = {
    &folder_sink_descriptor,
    &shell_sink_descriptor,
#if CAMRELAY_WITH_CURL
    &smtp_sink_descriptor,
    &mastodon_sink_descriptor,
    &webdav_sink_descriptor,
    &sftp_sink_descriptor,
    &scp_sink_descriptor,
#endif
};

std::vector<sink_descriptor> const& descriptors()
{
    static std::vector<sink_descriptor> const all = [] {
        std::vector<sink_descriptor> v;
        for (auto const* d : table)
            v.push_back(*d);
        return v;
    }();
    return all;
}

} // namespace

std::span<const sink_descriptor> registry()
{
    return descriptors();
}

sink_descriptor const* find_sink_type(std::string_view type)
{
    for (auto const& d : descriptors())
        if (d.type == type)
            return &d;
    return nullptr;
}

} // namespace camrelay::delivery
