// Ordered schema migrations. Migration i (0-based) brings user_version from i to i+1; all
// pending ones run in one transaction. Append only: never edit a migration that has shipped.
#pragma once

#include <span>
#include <string_view>

namespace camrelay::ledger {

std::span<const std::string_view> migrations();

} // namespace camrelay::ledger
