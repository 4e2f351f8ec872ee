#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace camrelay::log {

void init(level min_level)
{
    auto logger = spdlog::stderr_color_mt("camrelay");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    spdlog::set_default_logger(logger);
    switch (min_level)
    {
    case level::trace: spdlog::set_level(spdlog::level::trace); break;
    case level::debug: spdlog::set_level(spdlog::level::debug); break;
    case level::info: spdlog::set_level(spdlog::level::info); break;
    case level::warn: spdlog::set_level(spdlog::level::warn); break;
    case level::error: spdlog::set_level(spdlog::level::err); break;
    case level::off: spdlog::set_level(spdlog::level::off); break;
    }
}

bool parse_level(std::string_view text, level& out)
{
    static constexpr std::pair<std::string_view, level> names[] = {
        {"trace", level::trace}, {"debug", level::debug}, {"info", level::info},
        {"warn", level::warn},   {"error", level::error}, {"off", level::off},
    };
    for (auto const& [name, value] : names)
    {
        if (name == text)
        {
            out = value;
            return true;
        }
    }
    return false;
}

} // namespace camrelay::log
