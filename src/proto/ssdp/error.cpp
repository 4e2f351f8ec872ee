#include "proto/ssdp/error.hpp"

#include <string>

namespace camrelay::proto::ssdp
{

namespace
{

class category_impl : public std::error_category
{
  public:
    const char* name() const noexcept override { return "camrelay.ssdp"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev))
        {
        case errc::empty:
            return "empty SSDP datagram";
        case errc::too_large:
            return "SSDP datagram larger than the limit";
        case errc::bad_start_line:
            return "not an SSDP NOTIFY, M-SEARCH or search response";
        case errc::bad_status:
            return "SSDP search response with a status other than 200";
        case errc::bad_header:
            return "malformed SSDP header line";
        case errc::missing_field:
            return "SSDP message without a required field (NT/NTS or ST)";
        }
        return "unknown SSDP error";
    }
};

} // namespace

std::error_category const& category()
{
    static category_impl instance;
    return instance;
}

} // namespace camrelay::proto::ssdp
