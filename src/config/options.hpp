// Self-described plugin options (libsigrok's sr_option idea): every source and sink publishes a
// table of option_spec; the config loader checks a TOML table against it and docs are made from it.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace camrelay::config {

enum class option_type
{
    string,
    integer,
    boolean,
    string_list,  ///< an array of strings; a single string is accepted as a list of one
};

struct option_spec
{
    std::string_view name;
    option_type type;
    bool required;
    std::string_view default_text;  ///< shown in docs and `--help`; "" when there is none
    std::string_view description;
};

using option_value = std::variant<std::string, std::int64_t, bool, std::vector<std::string>>;

/// The options a config file gave one plugin instance, already checked against its specs.
class option_values
{
public:
    void set(std::string name, option_value v, int line);

    bool has(std::string_view name) const;
    std::string string_or(std::string_view name, std::string fallback) const;
    std::int64_t integer_or(std::string_view name, std::int64_t fallback) const;
    bool boolean_or(std::string_view name, bool fallback) const;
    std::vector<std::string> list_or(std::string_view name, std::vector<std::string> fallback) const;
    /// Line in the config file where the option was given; 0 when it was not.
    int line_of(std::string_view name) const;

private:
    struct entry
    {
        option_value value;
        int line = 0;
    };
    std::map<std::string, entry, std::less<>> values_;
};

std::string_view type_name(option_type t);

} // namespace camrelay::config
