// What `camrelay import` tells its user: one summary line that names every object that did not
// arrive, and an exit code that says whether anything was left on a camera.
#pragma once

#include "pipeline/ingester.hpp"

#include <string>

namespace camrelay::pipeline
{

/// Sizes as camrelay shows them everywhere: SI units, 1 kB = 1000 bytes, 1 MB = 10^6 bytes,
/// 1 GB = 10^9 bytes, 1 TB = 10^12 bytes, one decimal ("120.3 MB"); below 1 kB in bytes ("999 B").
std::string human_bytes(long long bytes);

/// `camrelay import`'s exit codes (documented in `camrelay import --help` and the README).
namespace import_exit
{
constexpr int ok = 0;             ///< every object listed is known, or was fetched and delivered
constexpr int failed = 1;         ///< a camera could not be read, a delivery failed, or the
                                  ///< import was interrupted
constexpr int usage = 2;          ///< bad command line or configuration
constexpr int left_on_camera = 3; ///< objects were left on a camera: unreadable, not fetched or
                                  ///< deferred (wins over 1 when both apply)
} // namespace import_exit

struct import_report
{
    object_tally objects;
    long delivered = 0;
    long delivery_failed = 0;   ///< failed (transient or permanent) or interrupted deliveries
    bool source_failed = false; ///< a source's import_once returned an error
    bool interrupted = false;   ///< SIGINT/SIGTERM
    bool abandoned = false;     ///< a camera thread did not stop in time and was left behind

    /// "import: 18 new (120.3 MB) from 1 camera(s), 0 already known, 2 unreadable, 1 not
    /// fetched; delivered 18, failed 0", with "N skipped by routes", "N deferred", "N same-name
    /// twin(s) kept", "N resumed" after "not fetched" when not 0, and " (interrupted)" at the end.
    std::string summary_line() const;
    int exit_code() const;
};

} // namespace camrelay::pipeline
