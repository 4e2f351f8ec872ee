// Value-or-error returns and errno helpers shared by every module.
#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <system_error>

namespace camrelay {

/// Value or error code. Each module declares its own `errc` + category (see `<module>/error.hpp`);
/// this alias is the one return type for fallible operations that have no richer failure.
template <class T>
using result = boost::system::result<T, std::error_code>;

/// An error result, spelled out: needed where T is constructible from an error code (bool).
template <class T>
result<T> error_result(std::error_code ec)
{
    return result<T>(boost::system::in_place_error, ec);
}

/// The current `errno` as a `std::error_code` in the generic category.
inline std::error_code last_errno()
{
    return {errno, std::generic_category()};
}

/// A failure with a human-readable explanation for logs, the ledger and the user. The code says
/// what kind of failure it is (for retry decisions); the message says what happened, with names.
struct failure
{
    std::error_code code;
    std::string message;

    [[nodiscard]] std::string text() const
    {
        if (message.empty())
            return code.message();
        return message;
    }
};

} // namespace camrelay
