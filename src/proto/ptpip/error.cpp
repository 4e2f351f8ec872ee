#include "proto/ptpip/error.hpp"

#include <string>

namespace camrelay::proto::ptpip
{

namespace
{

class category_impl : public std::error_category
{
  public:
    const char* name() const noexcept override { return "camrelay.ptpip"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev))
        {
        case errc::bad_length:
            return "PTP/IP length field smaller than the packet header";
        case errc::packet_too_large:
            return "PTP/IP packet larger than the configured limit";
        case errc::unknown_packet_type:
            return "unknown PTP/IP packet type";
        case errc::bad_packet:
            return "malformed PTP/IP packet body";
        case errc::unexpected_packet:
            return "PTP/IP packet not allowed in this session state";
        case errc::transaction_mismatch:
            return "PTP/IP packet for another transaction";
        case errc::data_length_mismatch:
            return "PTP/IP data phase length differs from StartData";
        case errc::init_refused:
            return "the camera refused the PTP/IP connection (Init Fail)";
        case errc::timeout:
            return "the camera did not answer in time";
        case errc::session_closed:
            return "the PTP/IP session has ended";
        case errc::bad_name:
            return "friendly name invalid or too long";
        case errc::too_many_params:
            return "too many PTP parameters for one packet";
        case errc::data_phase_too_long:
            return "the camera sent more data than this operation allows";
        case errc::too_slow:
            return "the camera sends too slowly (below min_rate)";
        }
        return "unknown PTP/IP error";
    }
    // A camera that does not answer, or sends below min_rate, timed out: callers compare with
    // std::errc::timed_out and say "timeout", never "protocol error".
    std::error_condition default_error_condition(int ev) const noexcept override
    {
        switch (static_cast<errc>(ev))
        {
        case errc::timeout:
        case errc::too_slow:
            return std::errc::timed_out;
        default:
            return {ev, *this};
        }
    }
};

} // namespace

std::error_category const& category()
{
    static category_impl instance;
    return instance;
}

} // namespace camrelay::proto::ptpip
