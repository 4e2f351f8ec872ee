#include "proto/samsung/crypto.hpp"

#include "proto/samsung/error.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <memory>

namespace camrelay::proto::samsung
{

namespace
{

int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int b64_value(char c) noexcept
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

constexpr std::string_view b64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

} // namespace

result<std::string> percent_decode(std::string_view in)
{
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i)
    {
        if (in[i] != '%')
        {
            out.push_back(in[i]);
            continue;
        }
        if (i + 2 >= in.size())
            return error_result<std::string>(errc::bad_encoding);
        int hi = hex_value(in[i + 1]);
        int lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0)
            return error_result<std::string>(errc::bad_encoding);
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

result<std::string> base64_decode(std::string_view in)
{
    while (!in.empty() && in.back() == '=')
        in.remove_suffix(1);
    if (in.size() % 4 == 1)
        return error_result<std::string>(errc::bad_encoding);
    std::string out;
    out.reserve(in.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in)
    {
        int v = b64_value(c);
        if (v < 0)
            return error_result<std::string>(errc::bad_encoding);
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8)
        {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xffu));
        }
    }
    return out;
}

std::string base64url_encode(std::string_view bytes)
{
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : bytes)
    {
        acc = (acc << 8) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6)
        {
            bits -= 6;
            out.push_back(b64url_alphabet[(acc >> bits) & 0x3fu]);
        }
    }
    if (bits > 0)
        out.push_back(b64url_alphabet[(acc << (6 - bits)) & 0x3fu]);
    return out;
}

result<std::string> decrypt_credential(std::string_view value, std::string_view key_material_b64)
{
    auto key = base64_decode(key_material_b64);
    if (!key)
        return error_result<std::string>(key.error());
    if (key->size() != 32)
        return error_result<std::string>(errc::bad_key_material);
    auto unescaped = percent_decode(value);
    if (!unescaped)
        return error_result<std::string>(unescaped.error());
    auto cipher = base64_decode(*unescaped);
    if (!cipher)
        return error_result<std::string>(cipher.error());
    if (cipher->empty() || cipher->size() % 16 != 0)
        return error_result<std::string>(errc::bad_ciphertext);

    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                        &EVP_CIPHER_CTX_free);
    auto const* k = reinterpret_cast<unsigned char const*>(key->data());
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, k, k + 16) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1)
        return error_result<std::string>(errc::crypto_failure);
    std::string plain(cipher->size() + 16, '\0');
    int n1 = 0;
    int n2 = 0;
    auto* out = reinterpret_cast<unsigned char*>(plain.data());
    if (EVP_DecryptUpdate(ctx.get(), out, &n1,
                          reinterpret_cast<unsigned char const*>(cipher->data()),
                          static_cast<int>(cipher->size())) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), out + n1, &n2) != 1)
        return error_result<std::string>(errc::crypto_failure);
    plain.resize(static_cast<std::size_t>(n1 + n2));
    // No padding scheme: the camera pads with NULs (samsung-sns.md 4).
    while (!plain.empty() && plain.back() == '\0')
        plain.pop_back();
    return plain;
}

std::string folder_name(std::string_view secret, std::string_view user)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<unsigned char const*>(user.data()), user.size(), mac.data(), &len);
    return base64url_encode(std::string_view(reinterpret_cast<char const*>(mac.data()), 15));
}

} // namespace camrelay::proto::samsung
