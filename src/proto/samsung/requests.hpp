// Readers for the SNS request bodies (samsung-sns.md 3.4-3.8). Pure functions: body text in,
// struct or error out. The XML the cameras send is sometimes malformed (stray text in the login,
// 3.6), and the server only needs a handful of elements and attributes, so these readers search
// for them leniently (tag + attribute lookup, CDATA and the five XML entities + numeric character
// references decoded) instead of requiring a well-formed document.
#pragma once

#include "core/error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay::proto::samsung
{

/// `POST /<site>/auth` (3.6). `method` is the root's `Method` attribute (`login`, `logout`, ...).
/// For any method but `logout` the credentials are read:
/// variant A (CryptSessionKey@Value present): UserName/Password decrypted (section 4);
/// variant B (CryptSessionKey without Value, HMX-QF30): UserName/Password percent-decoded text.
struct auth_request
{
    std::string method;
    std::string session_key;     ///< root `SessionKey` (logout), else empty
    std::string user;            ///< decrypted/decoded user name (login)
    std::string password;        ///< decrypted/decoded password (login; never checked)
    bool encrypted = false;      ///< variant A
    std::string application_key; ///< ApplicationKey@Value (required for login, otherwise unused)
    std::optional<std::string> oauth_version; ///< OAuth@Version if present (only logged)

    bool is_logout() const noexcept { return method == "logout"; }
};

/// errc::empty_body for an empty body (reference: 400 "Empty POST payload"); for a login,
/// errc::missing_element without CryptSessionKey, ApplicationKey or UserName/Password; crypto
/// errors from decrypt_credential.
result<auth_request> parse_auth_request(std::string_view body);

/// `POST /<site>/photo` (3.7) and `/<site>/video` (3.8).
struct upload_announcement
{
    std::string session_key;    ///< root `SessionKey`
    std::string album;          ///< Photo/Album@Name (camera model, e.g. "NX300"); may be empty
    std::string file_name;      ///< File@Name, as sent (sanitise before using as a path)
    std::string content;        ///< Content text (post text, `~`-separated alt texts)
    std::string category_name;  ///< video only: Category@Name
    std::string category_owner; ///< video only: Category@OwnerID
};

enum class media_kind
{
    photo, ///< child element `Photo`
    video, ///< child element `Video`
};

/// errc::empty_body, errc::missing_element if SessionKey or the Photo/Video element is missing.
result<upload_announcement> parse_upload_announcement(std::string_view body, media_kind kind);

/// The `message` part of the e-mail POST (3.5).
struct email_message
{
    std::string sender;                 ///< full text, e.g. `My Cam <Camera@samsungcamera.com>`
    std::vector<std::string> receivers; ///< in document order
    std::string title;
    std::string body; ///< CR LF -> LF, `\nlanguage_sh100_utf8` removed

    /// The bare address of `sender` (inside `<...>` if present, else the trimmed text).
    std::string sender_address() const;
};

/// errc::empty_body, errc::missing_element if there is no `sender`.
result<email_message> parse_email_message(std::string_view xml);

/// `POST /security/sso/userprofiles/authentication/emailid` (3.4).
struct user_auth_request
{
    std::string login_id;
    std::string password;
};

result<user_auth_request> parse_user_auth_request(std::string_view xml);

namespace detail
{
/// The start tag `<name ...>` (text between `<` and `>`), searched from `from`; name matched
/// exactly, followed by whitespace, `/` or `>`. Sets `pos` to the index after `>`.
std::optional<std::string_view> find_start_tag(std::string_view doc, std::string_view name,
                                               std::size_t from = 0, std::size_t* pos = nullptr);
/// Attribute of a start tag (single or double quotes), entities decoded.
std::optional<std::string> attribute(std::string_view tag, std::string_view name);
/// Text content of the first `<name>…</name>`, CDATA unwrapped, entities decoded elsewhere.
std::optional<std::string> element_text(std::string_view doc, std::string_view name);
/// The first element that is not a `<?…?>` declaration or `<!…>` comment/doctype.
std::optional<std::string_view> root_tag(std::string_view doc);
std::string decode_entities(std::string_view s);
} // namespace detail

} // namespace camrelay::proto::samsung
