#include "proto/samsung/error.hpp"

#include <string>

namespace camrelay::proto::samsung
{

namespace
{

class category_impl : public std::error_category
{
  public:
    const char* name() const noexcept override { return "camrelay.samsung"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev))
        {
        case errc::empty_body:
            return "empty SNS request body";
        case errc::missing_element:
            return "required element or attribute missing in SNS request";
        case errc::bad_encoding:
            return "bad percent-encoding or Base64 in SNS request";
        case errc::bad_key_material:
            return "CryptSessionKey does not hold 32 bytes of key material";
        case errc::bad_ciphertext:
            return "SNS credential ciphertext has a bad length";
        case errc::crypto_failure:
            return "AES/HMAC operation failed";
        }
        return "unknown SNS error";
    }
};

} // namespace

std::error_category const& category()
{
    static category_impl instance;
    return instance;
}

} // namespace camrelay::proto::samsung
