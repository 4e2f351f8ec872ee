// The SNS credential "encryption" (samsung-sns.md 4) and the HMAC folder names (7.4).
// Pure functions over OpenSSL EVP/HMAC; no I/O.
#pragma once

#include "core/error.hpp"

#include <string>
#include <string_view>

namespace camrelay::proto::samsung
{

/// `%XX` decoding (also `+` stays `+`: the camera encodes it as %2B). errc::bad_encoding on a
/// malformed escape.
result<std::string> percent_decode(std::string_view in);
/// Standard Base64 (RFC 4648 4), padding optional, whitespace not allowed.
result<std::string> base64_decode(std::string_view in);
/// Base64url (RFC 4648 5) without padding.
std::string base64url_encode(std::string_view bytes);

/// Decrypts one `UserName@Value` / `Password@Value` (variant A login): percent-decode, Base64,
/// AES-128-CBC with key = key material bytes 0..15 and IV = bytes 16..31, no padding scheme,
/// trailing NULs stripped. `key_material_b64` is `CryptSessionKey@Value` (Base64 of 32 bytes).
result<std::string> decrypt_credential(std::string_view value, std::string_view key_material_b64);

/// base64url(HMAC-SHA256(secret, user)[0..15]): 20 characters of [A-Za-z0-9_-]. Returned as is:
/// a leading or trailing `_` is kept (the reference's sanitiser stripped it on some paths only,
/// samsung-sns.md 10 item 5).
std::string folder_name(std::string_view secret, std::string_view user);

} // namespace camrelay::proto::samsung
