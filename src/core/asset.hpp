// What the pipeline knows about one photo or video once it has arrived in the spool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace camrelay {

/// Files a camera pushed together with words around them: a Samsung e-mail (sender, recipients,
/// subject, body, its photos) or a social-upload batch (post text, camera model, one alt text per
/// photo). Every photo of a message is delivered together: one e-mail, one post.
struct message_info
{
    std::int64_t id = 0;
    std::string kind;         ///< "email" or "social"
    std::string sender;       ///< e-mail: the sender text as sent (`Name <addr>`); social: login user
    std::string subject;      ///< e-mail title
    std::string body;         ///< e-mail body (camera marker removed)
    std::string text;         ///< post text: body up to the first `~` (+ camera line for social)
    std::string album;        ///< camera model line of social uploads (Album@Name)
    std::string user_folder;  ///< storage folder name: HMAC of the user, or an action instance
    /// (sink name, recipient address): who each destination delivers to for this message.
    std::vector<std::pair<std::string, std::string>> recipients;
    int parts = 0;            ///< number of files in the message

    /// The recipients routed to `sink`, in the order given.
    std::vector<std::string> recipients_for(std::string const& sink) const
    {
        std::vector<std::string> out;
        for (auto const& [s, r] : recipients)
            if (s == sink)
                out.push_back(r);
        return out;
    }
};

struct asset_info
{
    std::int64_t id = 0;
    std::string sha256;              ///< hex digest of the content
    std::uint64_t size = 0;
    /// The camera's wall clock at capture (EXIF DateTimeOriginal, else the listing's time),
    /// as seconds since 1970 read as UTC: cameras keep no time zone, so neither do we.
    std::int64_t capture_time = 0;
    std::string camera_key;          ///< stable camera identity, e.g. "usb:Canon:EOS 400D:1234"
    std::string camera_name;         ///< short human name (model, or the folder for disk:)
    std::string manufacturer;
    std::string model;
    std::string serial;
    std::string source_kind;         ///< "usb", later "ptpip", "fuji", "samsung"
    std::string folder;              ///< folder on the camera (untrusted)
    std::string name;                ///< file name on the camera (untrusted)
    std::string mime;
    std::string spool_path;          ///< where the content is now
    std::int64_t seq = 0;            ///< arrival number of this asset for its camera, from 1
    /// Set when the asset is part of a pushed message (Samsung); null for pulled photos.
    std::shared_ptr<message_info const> message;
    int message_part = 0;            ///< 0-based position in the message
    std::string alt_text;            ///< the camera-given description of this file, if any
};

} // namespace camrelay
