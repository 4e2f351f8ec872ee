// The "smtp" sink. Registered through smtp_sink_descriptor in delivery/registry.cpp.
#pragma once

#include "delivery/sink.hpp"

namespace camrelay::delivery
{

extern sink_descriptor const smtp_sink_descriptor;

} // namespace camrelay::delivery
