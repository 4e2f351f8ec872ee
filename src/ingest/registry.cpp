// The explicit table of source types. USB needs libgphoto2 (CAMRELAY_WITH_USB); the Wi-Fi
// sources (ptpip, fuji) are in CAMRELAY_WITH_PTPIP.
#include "ingest/source.hpp"

#include <vector>

namespace camrelay::ingest {

#if CAMRELAY_WITH_USB
extern source_descriptor const usb_source_descriptor;
#endif
#if CAMRELAY_WITH_PTPIP
extern source_descriptor const ptpip_source_descriptor;
extern source_descriptor const fuji_source_descriptor;
#endif
extern source_descriptor const samsung_source_descriptor;

namespace {

std::vector<source_descriptor> const& descriptors()
{
    static std::vector<source_descriptor> const all = [] {
        std::vector<source_descriptor> v;
#if CAMRELAY_WITH_USB
        v.push_back(usb_source_descriptor);
#endif
#if CAMRELAY_WITH_PTPIP
        v.push_back(ptpip_source_descriptor);
        v.push_back(fuji_source_descriptor);
#endif
        v.push_back(samsung_source_descriptor);
        return v;
    }();
    return all;
}

} // namespace

std::span<const source_descriptor> registry()
{
    return descriptors();
}

source_descriptor const* find_source_type(std::string_view type)
{
    for (auto const& d : descriptors())
        if (d.type == type)
            return &d;
    return nullptr;
}

} // namespace camrelay::ingest
