// The Wi-Fi camera sources: "ptpip" (standard PTP/IP) and "fuji" (Fujifilm X Wi-Fi, browse mode).
// Registered through these descriptors in ingest/registry.cpp (CAMRELAY_WITH_PTPIP).
#pragma once

#include "ingest/source.hpp"

namespace camrelay::ingest
{

extern source_descriptor const ptpip_source_descriptor;
extern source_descriptor const fuji_source_descriptor;

} // namespace camrelay::ingest
