// Fuzzes the Samsung SNS body readers (proto/samsung/requests.hpp) and the credential decryption
// (crypto.hpp). These readers take a whole body, not a stream, so instead of chunk sizes prefixes
// of the input are fed too (every one of a short input; else 32 spread evenly and the 16 longest):
// a camera that cuts a body short must get an error, never a crash or a hang.
// Input: the whole input is the XML body for every reader; for decrypt_credential it is also
// split at the first LF into (value, key material), and fed as a value with the published
// NX300 key material, so the AES path is reached without guessing 32 bytes of Base64.
// Properties checked (abort on violation):
//  * every reader is deterministic (two calls, equal results);
//  * errors are the documented errc values of the samsung category;
//  * a decrypted credential has no trailing NUL and is no longer than its ciphertext;
//  * a login's user and password carry no trailing NUL; a logout reads no credentials;
//  * sender_address() is a substring of the sender text; a photo announcement reads no video
//    category.
#include "proto/samsung/crypto.hpp"
#include "proto/samsung/error.hpp"
#include "proto/samsung/requests.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace
{

namespace sns = camrelay::proto::samsung;

/// CryptSessionKey@Value of the published NX300 login (samsung-sns.md 4).
constexpr std::string_view published_key = "/////xAAwKRSAQAAAPAHtv////8QAMCkUgEAAADwB7Y=";

void check(bool ok)
{
    if (!ok)
        std::abort();
}

template <class T> void check_error(camrelay::result<T> const& r)
{
    if (r)
        return;
    auto ec = r.error();
    check(ec.category() == sns::make_error_code(sns::errc::empty_body).category());
    check(ec.value() >= static_cast<int>(sns::errc::empty_body) &&
          ec.value() <= static_cast<int>(sns::errc::crypto_failure));
}

bool trailing_nul(std::string const& s)
{
    return !s.empty() && s.back() == '\0';
}

std::string describe(camrelay::result<sns::auth_request> const& r)
{
    if (!r)
        return "E" + std::to_string(r.error().value());
    return r->method + '\x01' + r->session_key + '\x01' + r->user + '\x01' + r->password + '\x01' +
           (r->encrypted ? "A" : "B") + r->application_key + '\x01' +
           r->oauth_version.value_or("-");
}

std::string describe(camrelay::result<sns::upload_announcement> const& r)
{
    if (!r)
        return "E" + std::to_string(r.error().value());
    return r->session_key + '\x01' + r->album + '\x01' + r->file_name + '\x01' + r->content +
           '\x01' + r->category_name + '\x01' + r->category_owner;
}

std::string describe(camrelay::result<sns::email_message> const& r)
{
    if (!r)
        return "E" + std::to_string(r.error().value());
    std::string out = r->sender + '\x01' + r->title + '\x01' + r->body;
    for (auto const& x : r->receivers)
        out += '\x02' + x;
    return out;
}

std::string describe(camrelay::result<sns::user_auth_request> const& r)
{
    if (!r)
        return "E" + std::to_string(r.error().value());
    return r->login_id + '\x01' + r->password;
}

std::string describe(camrelay::result<std::string> const& r)
{
    return r ? "V" + *r : "E" + std::to_string(r.error().value());
}

void decrypt(std::string_view value, std::string_view key)
{
    auto r = sns::decrypt_credential(value, key);
    check_error(r);
    check(describe(r) == describe(sns::decrypt_credential(value, key)));
    if (r)
    {
        check(!trailing_nul(*r));
        // Base64 of the percent-decoded value: never more plaintext than 3/4 of its length.
        check(r->size() <= value.size());
    }
}

void read_all(std::string_view body)
{
    auto auth = sns::parse_auth_request(body);
    check_error(auth);
    check(describe(auth) == describe(sns::parse_auth_request(body)));
    if (auth && auth->is_logout())
        check(auth->user.empty() && auth->password.empty());
    if (auth && auth->encrypted)
        check(!trailing_nul(auth->user) && !trailing_nul(auth->password));

    for (auto kind : {sns::media_kind::photo, sns::media_kind::video})
    {
        auto up = sns::parse_upload_announcement(body, kind);
        check_error(up);
        check(describe(up) == describe(sns::parse_upload_announcement(body, kind)));
        if (up && kind == sns::media_kind::photo)
            check(up->category_name.empty() && up->category_owner.empty());
    }

    auto mail = sns::parse_email_message(body);
    check_error(mail);
    check(describe(mail) == describe(sns::parse_email_message(body)));
    if (mail)
    {
        check(mail->sender.find(mail->sender_address()) != std::string::npos);
    }

    auto user = sns::parse_user_auth_request(body);
    check_error(user);
    check(describe(user) == describe(sns::parse_user_auth_request(body)));

    auto nl = body.find('\n');
    auto value = body.substr(0, nl);
    auto key = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    key = key.substr(0, key.find('\n'));
    decrypt(value, key);
    decrypt(value, published_key);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    std::string_view in(reinterpret_cast<char const*>(data), size);
    read_all(in);
    // Prefixes: 32 spread over the input plus the 16 longest ones (a body cut inside its last
    // element); all of them when the input is short.
    constexpr std::size_t spread = 32;
    constexpr std::size_t tail = 16;
    if (in.size() <= spread + tail)
    {
        for (std::size_t n = 0; n < in.size(); ++n)
            read_all(in.substr(0, n));
        return 0;
    }
    for (std::size_t i = 0; i < spread; ++i)
        read_all(in.substr(0, in.size() * i / spread));
    for (std::size_t n = in.size() - tail; n < in.size(); ++n)
        read_all(in.substr(0, n));
    return 0;
}
