// delivery::classify and from_errno: what the pipeline retries, gives up on, or requeues.
#include "delivery/error.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>
#include <string>

namespace
{

using camrelay::delivery::classify;
using camrelay::delivery::condition;
using camrelay::delivery::errc;
using camrelay::delivery::from_errno;

std::error_code generic(int e)
{
    return {e, std::generic_category()};
}

TEST(DeliveryError, EveryErrcHasItsCondition)
{
    struct
    {
        errc e;
        condition c;
    } const table[] = {
        {errc::destination_unavailable, condition::transient},
        {errc::no_space, condition::transient},
        {errc::permission_denied, condition::transient},
        {errc::verify_failed, condition::transient},
        {errc::source_missing, condition::permanent},
        {errc::name_collision, condition::permanent},
        {errc::bad_destination, condition::permanent},
        {errc::command_failed, condition::permanent},
        {errc::command_retry, condition::transient},
        {errc::timed_out, condition::transient},
        {errc::cancelled, condition::cancelled},
        {errc::auth_failed, condition::auth},
    };
    for (auto const& row : table)
    {
        auto ec = make_error_code(row.e);
        EXPECT_EQ(classify(ec), row.c) << ec.message();
        // The same answer through std::error_condition comparison.
        EXPECT_TRUE(ec == row.c) << ec.message();
    }
}

TEST(DeliveryError, MessagesAreDistinctAndNamed)
{
    std::set<std::string> seen;
    for (int v = 1; v <= static_cast<int>(errc::auth_failed); ++v)
    {
        auto msg = make_error_code(static_cast<errc>(v)).message();
        EXPECT_NE(msg, "unknown delivery error") << v;
        seen.insert(msg);
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(errc::auth_failed));
    EXPECT_STREQ(camrelay::delivery::category().name(), "camrelay.delivery");
}

TEST(DeliveryError, ErrnoValuesByMeaning)
{
    EXPECT_EQ(classify(generic(ENOSPC)), condition::transient);
    EXPECT_EQ(classify(generic(EDQUOT)), condition::transient);
    EXPECT_EQ(classify(generic(EACCES)), condition::transient);
    EXPECT_EQ(classify(generic(EPERM)), condition::transient);
    EXPECT_EQ(classify(generic(EROFS)), condition::transient);
    EXPECT_EQ(classify(generic(EIO)), condition::transient);
    EXPECT_EQ(classify(generic(ETIMEDOUT)), condition::transient);
    EXPECT_EQ(classify(generic(ENAMETOOLONG)), condition::permanent);
    EXPECT_EQ(classify(generic(EINVAL)), condition::permanent);
    EXPECT_EQ(classify(generic(ENOTDIR)), condition::permanent);
    EXPECT_EQ(classify(generic(EISDIR)), condition::permanent);
    // The system category means the same errno values.
    EXPECT_EQ(classify(std::error_code(ENOSPC, std::system_category())), condition::transient);
    EXPECT_EQ(classify(std::error_code(EISDIR, std::system_category())), condition::permanent);
    EXPECT_EQ(classify(std::make_error_code(std::errc::no_space_on_device)), condition::transient);
}

TEST(DeliveryError, FromErrno)
{
    EXPECT_EQ(from_errno(ENOSPC), errc::no_space);
    EXPECT_EQ(from_errno(EDQUOT), errc::no_space);
    EXPECT_EQ(from_errno(EACCES), errc::permission_denied);
    EXPECT_EQ(from_errno(EPERM), errc::permission_denied);
    EXPECT_EQ(from_errno(EROFS), errc::permission_denied);
    EXPECT_EQ(from_errno(ENAMETOOLONG), errc::bad_destination);
    EXPECT_EQ(from_errno(EIO), errc::destination_unavailable);
    EXPECT_EQ(from_errno(EHOSTUNREACH), errc::destination_unavailable);
}

TEST(DeliveryError, OtherCategoriesAreTransient)
{
    class other_category : public std::error_category
    {
      public:
        char const* name() const noexcept override { return "test.other"; }
        std::string message(int) const override { return "other"; }
    };
    static other_category cat;
    EXPECT_EQ(classify(std::error_code(1, cat)), condition::transient);
}

} // namespace
