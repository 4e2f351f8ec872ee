// Delivery errors and the conditions the pipeline decides on. Every sink reports failures as
// an `errc` (or its own category mapping to these conditions), so the pipeline can choose
// retry or give-up without knowing curl, SMTP or errno.
#pragma once

#include <system_error>

namespace camrelay::delivery {

enum class errc
{
    destination_unavailable = 1,  ///< cannot reach or write the destination now (transient)
    no_space,                     ///< destination full (transient: space may be freed)
    permission_denied,            ///< not allowed to write (transient: the owner may fix it)
    verify_failed,                ///< the written copy differs from the source (transient)
    source_missing,               ///< the spooled content is gone (permanent)
    name_collision,               ///< collision policy "fail" met an existing file (permanent)
    bad_destination,              ///< the rendered path leaves its folder, or is invalid (permanent)
    command_failed,               ///< shell: non-zero exit other than 75 (permanent)
    command_retry,                ///< shell: exit 75, EX_TEMPFAIL (transient)
    timed_out,                    ///< the delivery ran past its timeout (transient)
    cancelled,                    ///< stopped by shutdown or the user; not a failure of the job
    auth_failed,                  ///< credentials refused (auth)
};

/// What the pipeline does with a failure.
enum class condition
{
    transient = 1,  ///< retry later with backoff
    permanent,      ///< give up: failed-permanent
    auth,           ///< credentials problem: failed-permanent until the user fixes them
    cancelled,      ///< put back to pending, attempt not counted
};

std::error_category const& category();
std::error_category const& condition_category();

inline std::error_code make_error_code(errc e)
{
    return {static_cast<int>(e), category()};
}
inline std::error_condition make_error_condition(condition c)
{
    return {static_cast<int>(c), condition_category()};
}

/// The condition of any error code: delivery errors by their table, errno values by their
/// meaning (ENOSPC transient, EACCES transient, ENOENT of the source permanent...).
condition classify(std::error_code const& ec);

/// Maps an errno from writing a destination to a delivery errc.
errc from_errno(int e);

} // namespace camrelay::delivery

template <>
struct std::is_error_code_enum<camrelay::delivery::errc> : std::true_type
{
};
template <>
struct std::is_error_condition_enum<camrelay::delivery::condition> : std::true_type
{
};
