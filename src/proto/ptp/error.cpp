#include "proto/ptp/error.hpp"

#include <string>

namespace camrelay::proto::ptp
{

namespace
{

class category_impl : public std::error_category
{
  public:
    const char* name() const noexcept override { return "camrelay.ptp"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev))
        {
        case errc::truncated:
            return "PTP dataset truncated";
        case errc::bad_string:
            return "malformed PTP string";
        case errc::string_too_long:
            return "PTP string longer than 254 characters";
        case errc::array_too_long:
            return "PTP array count exceeds the data or the limit";
        case errc::bad_date_time:
            return "malformed PTP DateTime string";
        case errc::bad_data_type:
            return "unknown PTP data type code";
        case errc::bad_form:
            return "unknown PTP DevicePropDesc form flag";
        case errc::trailing_bytes:
            return "unexpected bytes after a PTP value";
        case errc::bad_entry_length:
            return "PTP list entry length smaller than its header";
        }
        return "unknown PTP error";
    }
};

} // namespace

std::error_category const& category()
{
    static category_impl instance;
    return instance;
}

} // namespace camrelay::proto::ptp
