// The delivery-job state machine: every (from, to) pair against the documented table.
#include "ledger/transfer_state.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

namespace
{

using camrelay::ledger::all_job_states;
using camrelay::ledger::can_transition;
using camrelay::ledger::is_claimable;
using camrelay::ledger::job_state;
using camrelay::ledger::job_state_from_string;
using camrelay::ledger::to_string;

// The table from transfer_state.hpp, written out independently of the implementation.
std::set<std::pair<job_state, job_state>> const allowed = {
    {job_state::pending, job_state::running},
    {job_state::pending, job_state::cancelled},
    {job_state::running, job_state::delivered},
    {job_state::running, job_state::failed_transient},
    {job_state::running, job_state::failed_permanent},
    {job_state::running, job_state::pending},
    {job_state::running, job_state::cancelled},
    {job_state::failed_transient, job_state::running},
    {job_state::failed_transient, job_state::pending},
    {job_state::failed_transient, job_state::cancelled},
    {job_state::failed_permanent, job_state::pending},
    {job_state::failed_permanent, job_state::cancelled},
    {job_state::cancelled, job_state::pending},
};

TEST(LedgerTransferState, EveryPairMatchesTheTable)
{
    int checked = 0;
    for (auto from : all_job_states)
    {
        for (auto to : all_job_states)
        {
            bool expected = allowed.count({from, to}) > 0;
            EXPECT_EQ(can_transition(from, to), expected)
                << to_string(from) << " -> " << to_string(to);
            ++checked;
        }
    }
    EXPECT_EQ(checked, 36);
}

TEST(LedgerTransferState, NoStateMayStayInPlace)
{
    for (auto s : all_job_states)
        EXPECT_FALSE(can_transition(s, s)) << to_string(s);
}

TEST(LedgerTransferState, DeliveredIsFinal)
{
    for (auto to : all_job_states)
        EXPECT_FALSE(can_transition(job_state::delivered, to)) << to_string(to);
}

TEST(LedgerTransferState, OnlyPendingAndFailedTransientAreClaimable)
{
    EXPECT_TRUE(is_claimable(job_state::pending));
    EXPECT_TRUE(is_claimable(job_state::failed_transient));
    EXPECT_FALSE(is_claimable(job_state::running));
    EXPECT_FALSE(is_claimable(job_state::delivered));
    EXPECT_FALSE(is_claimable(job_state::failed_permanent));
    EXPECT_FALSE(is_claimable(job_state::cancelled));
    // Every claimable state must be allowed to become running.
    for (auto s : all_job_states)
    {
        if (is_claimable(s))
        {
            EXPECT_TRUE(can_transition(s, job_state::running)) << to_string(s);
        }
    }
}

TEST(LedgerTransferState, StringsRoundTripAndAreDistinct)
{
    std::set<std::string> seen;
    for (auto s : all_job_states)
    {
        auto text = to_string(s);
        EXPECT_NE(text, "?");
        auto back = job_state_from_string(text);
        ASSERT_TRUE(back.has_value()) << text;
        EXPECT_EQ(*back, s);
        seen.insert(std::string(text));
    }
    EXPECT_EQ(seen.size(), std::size(all_job_states));
}

TEST(LedgerTransferState, StoredSpellingsAreTheSchemaOnes)
{
    // These strings are in the schema's CHECK constraint; changing them breaks old ledgers.
    EXPECT_EQ(to_string(job_state::pending), "pending");
    EXPECT_EQ(to_string(job_state::running), "running");
    EXPECT_EQ(to_string(job_state::delivered), "delivered");
    EXPECT_EQ(to_string(job_state::failed_transient), "failed-transient");
    EXPECT_EQ(to_string(job_state::failed_permanent), "failed-permanent");
    EXPECT_EQ(to_string(job_state::cancelled), "cancelled");
}

TEST(LedgerTransferState, UnknownStringsAreRejected)
{
    EXPECT_FALSE(job_state_from_string("").has_value());
    EXPECT_FALSE(job_state_from_string("failed_transient").has_value());
    EXPECT_FALSE(job_state_from_string("Pending").has_value());
    EXPECT_FALSE(job_state_from_string("pending ").has_value());
}

} // namespace
