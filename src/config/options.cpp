#include "config/options.hpp"

namespace camrelay::config {

void option_values::set(std::string name, option_value v, int line)
{
    values_[std::move(name)] = entry{std::move(v), line};
}

bool option_values::has(std::string_view name) const
{
    return values_.find(name) != values_.end();
}

std::string option_values::string_or(std::string_view name, std::string fallback) const
{
    auto it = values_.find(name);
    if (it == values_.end())
        return fallback;
    if (auto const* s = std::get_if<std::string>(&it->second.value))
        return *s;
    return fallback;
}

std::int64_t option_values::integer_or(std::string_view name, std::int64_t fallback) const
{
    auto it = values_.find(name);
    if (it == values_.end())
        return fallback;
    if (auto const* i = std::get_if<std::int64_t>(&it->second.value))
        return *i;
    return fallback;
}

bool option_values::boolean_or(std::string_view name, bool fallback) const
{
    auto it = values_.find(name);
    if (it == values_.end())
        return fallback;
    if (auto const* b = std::get_if<bool>(&it->second.value))
        return *b;
    return fallback;
}

std::vector<std::string> option_values::list_or(std::string_view name,
                                                std::vector<std::string> fallback) const
{
    auto it = values_.find(name);
    if (it == values_.end())
        return fallback;
    if (auto const* l = std::get_if<std::vector<std::string>>(&it->second.value))
        return *l;
    if (auto const* s = std::get_if<std::string>(&it->second.value))
        return {*s};
    return fallback;
}

int option_values::line_of(std::string_view name) const
{
    auto it = values_.find(name);
    return it == values_.end() ? 0 : it->second.line;
}

std::string_view type_name(option_type t)
{
    switch (t)
    {
    case option_type::string: return "string";
    case option_type::integer: return "integer";
    case option_type::boolean: return "boolean";
    case option_type::string_list: return "list of strings";
    }
    return "?";
}

} // namespace camrelay::config
