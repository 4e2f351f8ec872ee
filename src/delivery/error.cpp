#include "delivery/error.hpp"

#include <cerrno>
#include <string>

namespace camrelay::delivery {

namespace {

condition condition_of(errc e)
{
    switch (e)
    {
    case errc::destination_unavailable:
    case errc::no_space:
    case errc::permission_denied:
    case errc::verify_failed:
    case errc::command_retry:
    case errc::timed_out: return condition::transient;
    case errc::source_missing:
    case errc::name_collision:
    case errc::bad_destination:
    case errc::command_failed: return condition::permanent;
    case errc::cancelled: return condition::cancelled;
    case errc::auth_failed: return condition::auth;
    }
    return condition::permanent;
}

class category_impl : public std::error_category
{
public:
    const char* name() const noexcept override { return "camrelay.delivery"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev))
        {
        case errc::destination_unavailable: return "destination unavailable";
        case errc::no_space: return "no space left at the destination";
        case errc::permission_denied: return "permission denied at the destination";
        case errc::verify_failed: return "the delivered copy does not match the original";
        case errc::source_missing: return "the spooled file is missing";
        case errc::name_collision: return "a different file already has that name";
        case errc::bad_destination: return "invalid destination path";
        case errc::command_failed: return "the command failed";
        case errc::command_retry: return "the command asked to retry later (exit 75)";
        case errc::timed_out: return "the delivery timed out";
        case errc::cancelled: return "the delivery was cancelled";
        case errc::auth_failed: return "authentication failed";
        }
        return "unknown delivery error";
    }
    std::error_condition default_error_condition(int ev) const noexcept override
    {
        return make_error_condition(condition_of(static_cast<errc>(ev)));
    }
};

class condition_category_impl : public std::error_category
{
public:
    const char* name() const noexcept override { return "camrelay.delivery.condition"; }
    std::string message(int ev) const override
    {
        switch (static_cast<condition>(ev))
        {
        case condition::transient: return "transient failure, will retry";
        case condition::permanent: return "permanent failure";
        case condition::auth: return "authentication failure";
        case condition::cancelled: return "cancelled";
        }
        return "unknown condition";
    }
};

} // namespace

std::error_category const& category()
{
    static category_impl instance;
    return instance;
}

std::error_category const& condition_category()
{
    static condition_category_impl instance;
    return instance;
}

errc from_errno(int e)
{
    switch (e)
    {
    case ENOSPC:
    case EDQUOT: return errc::no_space;
    case EACCES:
    case EPERM:
    case EROFS: return errc::permission_denied;
    case ENAMETOOLONG:
    case EINVAL:
    case ENOTDIR:
    case EISDIR: return errc::bad_destination;
    default: return errc::destination_unavailable;
    }
}

condition classify(std::error_code const& ec)
{
    if (ec.category() == category())
        return condition_of(static_cast<errc>(ec.value()));
    // Other delivery categories (camrelay.curl...) map themselves to our conditions.
    if (auto c = ec.default_error_condition(); c.category() == condition_category())
        return static_cast<condition>(c.value());
    if (ec.category() == std::generic_category() || ec.category() == std::system_category())
        return condition_of(from_errno(ec.value()));
    return condition::transient;
}

} // namespace camrelay::delivery
