// Errors of the Samsung SNS request readers (samsung-sns.md 3, 4).
#pragma once

#include <system_error>

namespace camrelay::proto::samsung
{

/// Why an SNS request body could not be read (category "camrelay.samsung").
enum class errc
{
    empty_body = 1,   ///< the body is empty (NX300 sometimes sends an empty /auth POST)
    missing_element,  ///< a required element or attribute is absent (e.g. ApplicationKey)
    bad_encoding,     ///< bad percent-encoding or Base64 in a credential or key
    bad_key_material, ///< CryptSessionKey@Value does not decode to 32 bytes
    bad_ciphertext,   ///< ciphertext empty or not a multiple of the AES block size
    crypto_failure,   ///< OpenSSL refused the operation
};

std::error_category const& category();

inline std::error_code make_error_code(errc e)
{
    return {static_cast<int>(e), category()};
}

} // namespace camrelay::proto::samsung

template <> struct std::is_error_code_enum<camrelay::proto::samsung::errc> : std::true_type
{
};
