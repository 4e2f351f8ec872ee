// The "sftp" and "scp" sinks (one implementation). Registered through sftp_sink_descriptor and
// scp_sink_descriptor in delivery/registry.cpp.
#pragma once

#include "delivery/sink.hpp"

namespace camrelay::delivery
{

extern sink_descriptor const sftp_sink_descriptor;
extern sink_descriptor const scp_sink_descriptor;

} // namespace camrelay::delivery
