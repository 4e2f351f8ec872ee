// Placeholder templates for destination paths and command lines:
//   {camera} {model} {serial} {manufacturer} {source} {name} {stem} {ext} {seq} {sha256}
//   {size} {path} {date:FORMAT} (strftime FORMAT, default %Y-%m-%d); "{{" and "}}" are braces.
// Pushed messages add {sender} {recipient} {subject} {body} {text} {alt} {album} {user_folder}.
// Values that come from the camera are made safe path components when the template is a path.
#pragma once

#include "core/asset.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace camrelay {

class name_template
{
public:
    /// Parses `text`; on error returns false and explains in `error`.
    static bool parse(std::string_view text, name_template& out, std::string& error);

    enum class mode
    {
        path,    ///< every camera-supplied value becomes one safe path component
        literal  ///< values are inserted as they are (argv elements run without a shell)
    };

    /// `sink` names the destination expanding it: {recipient} lists the message's recipients
    /// routed to that sink.
    std::string expand(asset_info const& asset, mode m, std::string_view sink = {}) const;

    /// The literal text before the first placeholder, up to its last '/': the folder every
    /// expansion stays inside.
    std::string fixed_prefix_dir() const;

    std::string const& text() const { return text_; }
    bool empty() const { return parts_.empty(); }

private:
    enum class field
    {
        literal, camera, model, serial, manufacturer, source, name, stem, ext, seq, sha256,
        size, path, date, sender, recipient, subject, body, text, alt, album, user_folder
    };
    struct part
    {
        field kind = field::literal;
        std::string text;  // literal text, or the date format
    };
    std::string text_;
    std::vector<part> parts_;
};

/// Capture-time formatting used by {date:...}: strftime on the UTC-read wall clock.
std::string format_capture_time(long long seconds, std::string const& format);

} // namespace camrelay
