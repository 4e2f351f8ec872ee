// The "usb" source (libgphoto2). Registered through usb_source_descriptor in ingest/registry.cpp.
#pragma once

#include "ingest/source.hpp"

#include <string>
#include <utility>
#include <vector>

namespace camrelay::ingest {

extern source_descriptor const usb_source_descriptor;

/// Cameras libgphoto2 detects right now, as (model, port) pairs. For `camrelay cameras`.
/// A fingerprint of the USB devices present (device node names): changes on plug and unplug.
std::string usb_bus_signature();
std::vector<std::pair<std::string, std::string>> detect_cameras(std::string& error);

} // namespace camrelay::ingest
