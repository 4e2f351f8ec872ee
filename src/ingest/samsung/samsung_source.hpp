// The Samsung SNS source (type "samsung"): cameras of ~2011-2014 push e-mails and social uploads
// to Samsung's dead servers; with those host names pointed at us they reach sns_server instead.
// Registered through this descriptor in ingest/registry.cpp.
#pragma once

#include "ingest/source.hpp"

namespace camrelay::ingest
{

extern source_descriptor const samsung_source_descriptor;

} // namespace camrelay::ingest
