// Errors of the ledger module.
#pragma once

#include <system_error>

namespace camrelay::ledger {

enum class errc
{
    open_failed = 1,      ///< the database file could not be opened or created
    migration_failed,     ///< a schema migration failed; the file is left as it was
    newer_schema,         ///< the file was written by a newer camrelay (user_version too high)
    query_failed,         ///< a statement failed (I/O error, disk full, corruption)
    bad_transition,       ///< a job state change the state machine forbids
    not_found,            ///< no such row
};

std::error_category const& category();

inline std::error_code make_error_code(errc e)
{
    return {static_cast<int>(e), category()};
}

} // namespace camrelay::ledger

template <>
struct std::is_error_code_enum<camrelay::ledger::errc> : std::true_type
{
};
