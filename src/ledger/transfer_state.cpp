#include "ledger/transfer_state.hpp"

namespace camrelay::ledger {

std::string_view to_string(job_state s)
{
    switch (s)
    {
    case job_state::pending: return "pending";
    case job_state::running: return "running";
    case job_state::delivered: return "delivered";
    case job_state::failed_transient: return "failed-transient";
    case job_state::failed_permanent: return "failed-permanent";
    case job_state::cancelled: return "cancelled";
    }
    return "?";
}

std::optional<job_state> job_state_from_string(std::string_view text)
{
    for (auto s : all_job_states)
        if (to_string(s) == text)
            return s;
    return std::nullopt;
}

bool can_transition(job_state from, job_state to)
{
    using js = job_state;
    switch (from)
    {
    case js::pending: return to == js::running || to == js::cancelled;
    case js::running:
        return to == js::delivered || to == js::failed_transient || to == js::failed_permanent ||
               to == js::pending || to == js::cancelled;
    case js::failed_transient:
        return to == js::running || to == js::pending || to == js::cancelled;
    case js::failed_permanent: return to == js::pending || to == js::cancelled;
    case js::cancelled: return to == js::pending;
    case js::delivered: return false;
    }
    return false;
}

bool is_claimable(job_state s)
{
    return s == job_state::pending || s == job_state::failed_transient;
}

} // namespace camrelay::ledger
