// The "mastodon" sink: posts photos to a Mastodon account, up to four per status. Registered
// through mastodon_sink_descriptor in delivery/registry.cpp (builds with CAMRELAY_WITH_CURL).
#pragma once

#include "delivery/sink.hpp"

namespace camrelay::delivery
{

extern sink_descriptor const mastodon_sink_descriptor;

} // namespace camrelay::delivery
