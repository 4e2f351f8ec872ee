// The delivery-job state machine as a pure table. SQL stores states; it never decides them.
#pragma once

#include <optional>
#include <string_view>

namespace camrelay::ledger {

enum class job_state
{
    pending,           ///< waiting to run (new, recovered after a crash, or interrupted)
    running,           ///< claimed by a delivery worker
    delivered,         ///< verified at the destination; final
    failed_transient,  ///< failed, will be retried at next_attempt_at
    failed_permanent,  ///< gave up; only a user's retry brings it back
    cancelled,         ///< the user or the config withdrew it
};

inline constexpr job_state all_job_states[] = {
    job_state::pending,          job_state::running,          job_state::delivered,
    job_state::failed_transient, job_state::failed_permanent, job_state::cancelled,
};

std::string_view to_string(job_state s);
std::optional<job_state> job_state_from_string(std::string_view text);

/// Whether a job may move from `from` to `to`. The allowed moves:
///   pending          -> running, cancelled
///   running          -> delivered, failed_transient, failed_permanent,
///                       pending (interrupted: crash recovery or shutdown), cancelled
///   failed_transient -> running (due), pending (retry now), cancelled
///   failed_permanent -> pending (user retry), cancelled
///   cancelled        -> pending (user retry)
///   delivered        -> nothing
bool can_transition(job_state from, job_state to);

/// True for the states a worker may claim (when due).
bool is_claimable(job_state s);

} // namespace camrelay::ledger
