#include "proto/ptp/leniency.hpp"

namespace camrelay::proto::ptp
{

std::string_view to_string(leniency l) noexcept
{
    switch (l)
    {
    case leniency::object_info_no_capture_date:
        return "object_info_no_capture_date";
    case leniency::object_info_no_modification_date:
        return "object_info_no_modification_date";
    case leniency::object_info_no_keywords:
        return "object_info_no_keywords";
    case leniency::device_info_empty:
        return "device_info_empty";
    case leniency::device_info_truncated:
        return "device_info_truncated";
    case leniency::storage_info_truncated:
        return "storage_info_truncated";
    case leniency::prop_desc_no_form:
        return "prop_desc_no_form";
    case leniency::trailing_bytes:
        return "trailing_bytes";
    case leniency::string_without_nul:
        return "string_without_nul";
    case leniency::string_early_nul:
        return "string_early_nul";
    case leniency::array_empty_payload:
        return "array_empty_payload";
    case leniency::event_odd_length:
        return "event_odd_length";
    case leniency::event_too_many_params:
        return "event_too_many_params";
    }
    return "unknown";
}

bool leniency_counters::any() const noexcept
{
    for (auto c : counts)
        if (c != 0)
            return true;
    return false;
}

void leniency_counters::merge(leniency_counters const& other) noexcept
{
    for (std::size_t i = 0; i < leniency_count; ++i)
    {
        std::uint64_t sum = std::uint64_t{counts[i]} + other.counts[i];
        counts[i] = sum > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(sum);
    }
}

std::string leniency_counters::describe() const
{
    std::string out;
    for (std::size_t i = 0; i < leniency_count; ++i)
    {
        if (counts[i] == 0)
            continue;
        if (!out.empty())
            out += ", ";
        out += to_string(static_cast<leniency>(i));
        out += '=';
        out += std::to_string(counts[i]);
    }
    return out;
}

} // namespace camrelay::proto::ptp
