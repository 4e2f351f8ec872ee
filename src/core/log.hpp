// Thin logging facade over spdlog. Library modules log through this, never to stdout/stderr.
// Durable, user-auditable facts (arrived, delivered, failed) are ledger events, not log lines.
//
// Every message is passed through escape_controls() before it is written: camera- and
// peer-supplied text (file names, model strings, HTTP heads) can hold newlines that forge log
// lines or ESC sequences that drive the reader's terminal. One message is always one line.
#pragma once

#include <spdlog/spdlog.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace camrelay::log {

enum class level { trace, debug, info, warn, error, off };

/// Configures the process-wide logger: stderr, with the given minimum level. Call once at startup.
void init(level min_level);

/// Parses "trace|debug|info|warn|error|off".
bool parse_level(std::string_view text, level& out);

/// `text` made safe for one log line: LF, CR and TAB become `\n`, `\r`, `\t`; every other C0
/// control byte, DEL and every byte that is not part of valid UTF-8 becomes `\xNN`; C1 controls
/// (U+0080..U+009F, which some terminals act on like ESC [) become `\xc2\xNN`; the bidi overrides
/// and isolates (U+202A..U+202E, U+2066..U+2069, which reorder what is shown) become `\u202e`
/// etc. Valid UTF-8 otherwise stays as it is; backslashes are not doubled.
std::string escape_controls(std::string_view text);

/// Sums up a warning that can repeat without bound (one per object of a scan): the first
/// `singly` occurrences are to be logged one by one, the rest only counted, and summed up by
/// the caller in one line ("N more ...") when the round is over. Not thread-safe: one per loop.
class repeat_limiter
{
public:
    explicit repeat_limiter(std::size_t singly = 5) : singly_(singly) {}

    /// Counts one occurrence; true when it is to be logged on its own.
    bool single() { return ++count_ <= singly_; }
    /// Occurrences counted so far.
    std::size_t count() const { return count_; }
    /// Occurrences beyond the first `singly`: the ones the summing-up line stands for.
    std::size_t suppressed() const { return count_ > singly_ ? count_ - singly_ : 0; }
    /// Starts a new round.
    void reset() { count_ = 0; }

private:
    std::size_t singly_;
    std::size_t count_ = 0;
};

template <class... Args>
void trace(std::string_view tag, fmt::format_string<Args...> f, Args&&... args)
{
    if (spdlog::should_log(spdlog::level::trace))
        spdlog::trace("[{}] {}", tag, escape_controls(fmt::format(f, std::forward<Args>(args)...)));
}
template <class... Args>
void debug(std::string_view tag, fmt::format_string<Args...> f, Args&&... args)
{
    if (spdlog::should_log(spdlog::level::debug))
        spdlog::debug("[{}] {}", tag, escape_controls(fmt::format(f, std::forward<Args>(args)...)));
}
template <class... Args>
void info(std::string_view tag, fmt::format_string<Args...> f, Args&&... args)
{
    if (spdlog::should_log(spdlog::level::info))
        spdlog::info("[{}] {}", tag, escape_controls(fmt::format(f, std::forward<Args>(args)...)));
}
template <class... Args>
void warn(std::string_view tag, fmt::format_string<Args...> f, Args&&... args)
{
    if (spdlog::should_log(spdlog::level::warn))
        spdlog::warn("[{}] {}", tag, escape_controls(fmt::format(f, std::forward<Args>(args)...)));
}
template <class... Args>
void error(std::string_view tag, fmt::format_string<Args...> f, Args&&... args)
{
    if (spdlog::should_log(spdlog::level::err))
        spdlog::error("[{}] {}", tag, escape_controls(fmt::format(f, std::forward<Args>(args)...)));
}

} // namespace camrelay::log
