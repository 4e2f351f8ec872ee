// Thin logging facade over spdlog. Library modules log through this, never to stdout/stderr.
// Durable, user-auditable facts (arrived, delivered, failed) are ledger events, not log lines.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace camrelay::log {

enum class level { trace, debug, info, warn, error, off };

/// Configures the process-wide logger: stderr, with the given minimum level. Call once at startup.
void init(level min_level);

/// Parses "trace|debug|info|warn|error|off".
bool parse_level(std::string_view text, level& out);

template <class... Args>
void trace(std::string_view tag, fmt::format_string<Args...> f, Args&&... args)
{
    if (spdlog::should_log(spdlog::level::trace))
        spdlog::trace("[{}] {}", tag, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void debug(std::string_view tag, fmt::format_string<Args...> f, Args&&... args)
{
    if (spdlog::should_log(spdlog::level::debug))
        spdlog::debug("[{}] {}", tag, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(std::string_view tag, fmt::format_string<Args...> f, Args&&... args)
{
    if (spdlog::should_log(spdlog::level::info))
        spdlog::info("[{}] {}", tag, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(std::string_view tag, fmt::format_string<Args...> f, Args&&... args)
{
    if (spdlog::should_log(spdlog::level::warn))
        spdlog::warn("[{}] {}", tag, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(std::string_view tag, fmt::format_string<Args...> f, Args&&... args)
{
    if (spdlog::should_log(spdlog::level::err))
        spdlog::error("[{}] {}", tag, fmt::format(f, std::forward<Args>(args)...));
}

} // namespace camrelay::log
