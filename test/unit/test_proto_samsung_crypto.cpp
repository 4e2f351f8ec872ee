// proto/samsung credential decryption and HMAC folder names against test/data/samsung/
// test_vectors.json (values repeated here as literals; the JSON is the provenance).
#include "proto/samsung/crypto.hpp"
#include "proto/samsung/error.hpp"

#include <gtest/gtest.h>

namespace
{

namespace samsung = camrelay::proto::samsung;

constexpr char const* key_material = "/////xAAwKRSAQAAAPAHtv////8QAMCkUgEAAADwB7Y=";

TEST(proto_samsung_crypto, published_nx300_login_decrypts_to_f_and_p)
{
    auto user = samsung::decrypt_credential("7xKPwb19QdFKzsjsrQx62g%3D%3D", key_material);
    ASSERT_TRUE(user) << user.error().message();
    EXPECT_EQ(*user, "f");
    auto pass = samsung::decrypt_credential("U%2BK0X1QnWUv4tkvrrtQ0aQ%3D%3D", key_material);
    ASSERT_TRUE(pass);
    EXPECT_EQ(*pass, "p");
}

TEST(proto_samsung_crypto, key_material_and_ciphertext_decode_as_in_vectors)
{
    auto key = samsung::base64_decode(key_material);
    ASSERT_TRUE(key);
    ASSERT_EQ(key->size(), 32u);
    EXPECT_EQ(static_cast<unsigned char>((*key)[0]), 0xffu);
    EXPECT_EQ(static_cast<unsigned char>((*key)[15]), 0xb6u);
    EXPECT_EQ(key->substr(0, 16), key->substr(16));
    auto ct = samsung::percent_decode("7xKPwb19QdFKzsjsrQx62g%3D%3D");
    ASSERT_TRUE(ct);
    EXPECT_EQ(*ct, "7xKPwb19QdFKzsjsrQx62g==");
    auto raw = samsung::base64_decode(*ct);
    ASSERT_TRUE(raw);
    EXPECT_EQ(static_cast<unsigned char>((*raw)[0]), 0xefu);
    EXPECT_EQ(static_cast<unsigned char>((*raw)[15]), 0xdau);
}

TEST(proto_samsung_crypto, decryption_errors)
{
    EXPECT_EQ(samsung::decrypt_credential("abc", "AAAA").error(), samsung::errc::bad_key_material);
    EXPECT_EQ(samsung::decrypt_credential("%zz", key_material).error(),
              samsung::errc::bad_encoding);
    EXPECT_EQ(samsung::decrypt_credential("%4", key_material).error(), samsung::errc::bad_encoding);
    EXPECT_EQ(samsung::decrypt_credential("AAAA", key_material).error(),
              samsung::errc::bad_ciphertext);
    EXPECT_EQ(samsung::decrypt_credential("", key_material).error(), samsung::errc::bad_ciphertext);
    EXPECT_EQ(samsung::decrypt_credential("7xKP*b19", key_material).error(),
              samsung::errc::bad_encoding);
    EXPECT_STREQ(std::error_code(samsung::errc::bad_encoding).category().name(),
                 "camrelay.samsung");
}

TEST(proto_samsung_crypto, hmac_folder_names)
{
    EXPECT_EQ(samsung::folder_name("xiev5kaMeehaimub", "f"), "ypH9rgUTwVTBcEwItMuV");
    EXPECT_EQ(samsung::folder_name("xiev5kaMeehaimub", "Camera@samsungcamera.com"),
              "yZXbyiz-pZX2DqmBjoRl");
    EXPECT_EQ(samsung::folder_name("xiev5kaMeehaimub", "p"), "DUqzQowEeQ2NJ0bnN1nV");
    // Starts with '_': kept as is (reference bug 5 stripped it on later lookups).
    EXPECT_EQ(samsung::folder_name("CHANGE-ME", "Camera@samsungcamera.com"),
              "_FamMBSsCaQeTNNltPO6");
}

TEST(proto_samsung_crypto, folder_names_may_end_with_underscore)
{
    // Search a few users for a name ending in '_' and check the shape stays 20 url-safe chars.
    bool seen_trailing = false;
    for (int i = 0; i < 400 && !seen_trailing; ++i)
    {
        auto name = samsung::folder_name("xiev5kaMeehaimub", "user" + std::to_string(i));
        ASSERT_EQ(name.size(), 20u);
        for (char c : name)
            ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
        seen_trailing = name.back() == '_';
    }
    EXPECT_TRUE(seen_trailing);
}

TEST(proto_samsung_crypto, base64url)
{
    EXPECT_EQ(samsung::base64url_encode(""), "");
    EXPECT_EQ(samsung::base64url_encode("\xfb\xff"), "-_8");
    EXPECT_EQ(samsung::base64url_encode("abc"), "YWJj");
}

} // namespace
