#include "ledger/error.hpp"

#include <string>

namespace camrelay::ledger {

namespace {

class category_impl : public std::error_category
{
public:
    const char* name() const noexcept override { return "camrelay.ledger"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev))
        {
        case errc::open_failed: return "the ledger database could not be opened";
        case errc::migration_failed: return "a ledger schema migration failed";
        case errc::newer_schema: return "the ledger was written by a newer camrelay";
        case errc::query_failed: return "a ledger query failed";
        case errc::bad_transition: return "forbidden delivery job state change";
        case errc::not_found: return "no such ledger row";
        }
        return "unknown ledger error";
    }
};

} // namespace

std::error_category const& category()
{
    static category_impl instance;
    return instance;
}

} // namespace camrelay::ledger
