#include "pipeline/router.hpp"

#include "ingest/metadata.hpp"

#include <fnmatch.h>
#include <strings.h>

#include <algorithm>

namespace camrelay::pipeline {

namespace {

bool glob_any(std::vector<std::string> const& globs, std::initializer_list<std::string const*> values)
{
    for (auto const& g : globs)
        for (auto const* v : values)
            if (!v->empty() && ::fnmatch(g.c_str(), v->c_str(), FNM_CASEFOLD) == 0)
                return true;
    return false;
}

std::string extension_of(std::string const& name)
{
    auto dot = name.rfind('.');
    return dot == std::string::npos ? std::string() : name.substr(dot + 1);
}

} // namespace

std::vector<std::string> router::destinations(route_facts const& f) const
{
    std::vector<std::string> out;
    auto ext = extension_of(f.file_name);
    auto type = ingest::media_type_of(f.file_name);
    for (auto const& r : routes_)
    {
        if (!r.source.empty() &&
            std::find(r.source.begin(), r.source.end(), f.source_kind) == r.source.end())
            continue;
        if (!r.camera.empty() &&
            !glob_any(r.camera, {&f.camera_name, &f.model, &f.camera_identity}))
            continue;
        if (!r.ext.empty() &&
            std::none_of(r.ext.begin(), r.ext.end(), [&](std::string const& e) {
                auto want = e.size() > 0 && e.front() == '.' ? e.substr(1) : e;
                return ::strcasecmp(want.c_str(), ext.c_str()) == 0;
            }))
            continue;
        if (!r.type.empty() && std::find(r.type.begin(), r.type.end(), type) == r.type.end())
            continue;
        for (auto const& sink : r.to)
            if (std::find(out.begin(), out.end(), sink) == out.end())
                out.push_back(sink);
    }
    return out;
}

} // namespace camrelay::pipeline
