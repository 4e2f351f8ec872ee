// `camrelay login mastodon URL`: the OAuth "out of band" flow of the Mastodon API.
//   1. POST /api/v1/apps registers camrelay (or the client already in the secret file is
//      reused, so a code obtained in an earlier run can be given with --code);
//   2. the user opens /oauth/authorize in a browser and gets a code;
//   3. POST /oauth/token trades the code for an access token;
//   4. GET /api/v1/accounts/verify_credentials shows whom the token belongs to;
//   5. the secret file is written atomically with mode 0600.
// https://docs.joinmastodon.org/client/token/
#include "app/commands.hpp"

#if CAMRELAY_WITH_CURL
#include "core/fs.hpp"
#include "delivery/mastodon/mastodon_api.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#endif

#include <iostream>

namespace camrelay::app
{

#if CAMRELAY_WITH_CURL

namespace
{

namespace mastodon = delivery::mastodon;
namespace curl = delivery::curl;

/// $XDG_CONFIG_HOME/camrelay (or ~/.config/camrelay); /etc/camrelay for root.
std::filesystem::path default_secret_dir()
{
    if (::geteuid() == 0)
        return "/etc/camrelay";
    if (char const* x = std::getenv("XDG_CONFIG_HOME"); x && *x == '/')
        return std::filesystem::path(x) / "camrelay";
    if (char const* home = std::getenv("HOME"); home && *home)
        return std::filesystem::path(home) / ".config" / "camrelay";
    return ".";
}

std::string host_of(std::string const& base_url)
{
    auto start = base_url.find("://");
    auto host = base_url.substr(start == std::string::npos ? 0 : start + 3);
    host = host.substr(0, host.find('/'));
    return fs::sanitize_component(host);
}

int failed(std::string const& text)
{
    std::cerr << "camrelay login mastodon: " << text << "\n";
    return 1;
}

/// Explains an answer that is not the expected 200.
std::string explain(mastodon::answer const& a, curl::easy const& e, std::string const& what)
{
    if (a.code != CURLE_OK)
        return what + ": " + e.error_text();
    return what + ": HTTP " + std::to_string(a.status) + ": " + mastodon::server_error(a.body);
}

} // namespace

int cmd_login_mastodon(std::string const& url, std::string const& secret_file_arg,
                       std::string const& code_arg, std::string const& ca_file)
{
    std::string base, error;
    if (!mastodon::check_base_url(url, base, error))
        return failed(error);
    if (!ca_file.empty() && ::access(ca_file.c_str(), R_OK) != 0)
        return failed("cannot read the CA file " + ca_file);
    std::filesystem::path secret_file = secret_file_arg;
    if (secret_file.empty())
        secret_file = default_secret_dir() / ("mastodon-" + host_of(base) + ".json");
    auto dir = secret_file.parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir))
    {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec || ::chmod(dir.c_str(), 0700) != 0)
            return failed("cannot create the folder " + dir.string() + ": " +
                          (ec ? ec.message() : std::string("chmod failed")));
    }
    auto write_secret = [&](mastodon::credentials const& c) -> std::error_code
    {
        // A stale temp file would keep its old mode: start from none.
        auto tmp = secret_file;
        tmp += ".tmp";
        ::unlink(tmp.c_str());
        return fs::write_file_atomic(secret_file, mastodon::credentials_text(c), 0600);
    };

    mastodon::credentials cred;
    // A client registered by an earlier run for this instance is reused: its pending
    // authorisation codes stay valid.
    if (std::filesystem::exists(secret_file))
    {
        mastodon::credentials old;
        if (mastodon::read_credentials(secret_file, old, error, false) && old.base_url == base &&
            !old.client_id.empty() && !old.client_secret.empty())
            cred = old;
    }
    cred.base_url = base;
    if (cred.client_id.empty())
    {
        curl::easy e;
        mastodon::call call;
        call.url = base + "/api/v1/apps";
        call.ca_file = ca_file;
        call.post = true;
        call.content_type = "application/x-www-form-urlencoded";
        call.body = mastodon::form_encode({{"client_name", "camrelay"},
                                           {"redirect_uris", std::string(mastodon::oob_redirect)},
                                           {"scopes", std::string(mastodon::scopes)}});
        auto a = mastodon::perform(e, call, {});
        if (a.code != CURLE_OK || a.status != 200)
            return failed(explain(a, e, "registering the app at " + call.url));
        auto id = mastodon::json_field(a.body, "client_id");
        auto secret = mastodon::json_field(a.body, "client_secret");
        if (!id || !secret || id->empty() || secret->empty())
            return failed("registering the app at " + call.url +
                          ": the answer holds no client_id and client_secret");
        cred.client_id = *id;
        cred.client_secret = *secret;
        cred.access_token.clear();
        cred.account.clear();
        // Keep the client, so the code can also be given later with --code.
        if (auto ec = write_secret(cred))
            return failed("cannot write " + secret_file.string() + ": " + ec.message());
    }

    auto code = code_arg;
    if (code.empty())
    {
        std::cout << "Open this address in a browser, log in, and allow camrelay to post:\n\n  "
                  << base << "/oauth/authorize?"
                  << mastodon::form_encode({{"response_type", "code"},
                                            {"client_id", cred.client_id},
                                            {"redirect_uri", std::string(mastodon::oob_redirect)},
                                            {"scope", std::string(mastodon::scopes)}})
                  << "\n\nThen paste the code the instance shows: " << std::flush;
        std::getline(std::cin, code);
        while (!code.empty() && std::isspace(static_cast<unsigned char>(code.back())))
            code.pop_back();
        while (!code.empty() && std::isspace(static_cast<unsigned char>(code.front())))
            code.erase(code.begin());
        if (code.empty())
            return failed("no code given; run `camrelay login mastodon " + base +
                          " --secret-file " + secret_file.string() +
                          " --code CODE` with the code the instance showed");
    }

    {
        curl::easy e;
        mastodon::call call;
        call.url = base + "/oauth/token";
        call.ca_file = ca_file;
        call.post = true;
        call.content_type = "application/x-www-form-urlencoded";
        call.body = mastodon::form_encode({{"grant_type", "authorization_code"},
                                           {"code", code},
                                           {"client_id", cred.client_id},
                                           {"client_secret", cred.client_secret},
                                           {"redirect_uri", std::string(mastodon::oob_redirect)},
                                           {"scope", std::string(mastodon::scopes)}});
        auto a = mastodon::perform(e, call, {});
        if (a.code != CURLE_OK || a.status != 200)
            return failed(explain(a, e, "trading the code for a token at " + call.url) +
                          (a.code == CURLE_OK && a.status >= 400 && a.status < 500
                               ? " (a code works once and expires after minutes: get a new one)"
                               : ""));
        auto token = mastodon::json_field(a.body, "access_token");
        if (!token || token->empty())
            return failed("trading the code for a token at " + call.url +
                          ": the answer holds no access_token");
        cred.access_token = *token;
    }

    {
        curl::easy e;
        mastodon::call call;
        call.url = base + "/api/v1/accounts/verify_credentials";
        call.ca_file = ca_file;
        call.bearer = cred.access_token;
        auto a = mastodon::perform(e, call, {});
        if (a.code != CURLE_OK || a.status != 200)
            return failed(explain(a, e, "checking the new token at " + call.url) +
                          "; nothing was saved as a working login");
        auto acct = mastodon::json_field(a.body, "acct");
        if (!acct)
            acct = mastodon::json_field(a.body, "username");
        if (!acct || acct->empty())
            return failed("checking the new token at " + call.url + ": the answer is no account");
        cred.account =
            "@" + *acct + (acct->find('@') == std::string::npos ? "@" + host_of(base) : "");
    }

    if (auto ec = write_secret(cred))
        return failed("cannot write " + secret_file.string() + ": " + ec.message());
    std::cout << "Logged in to " << base << " as " << cred.account << ".\n"
              << "The token is in " << secret_file.string() << " (mode 0600). Use it with:\n\n"
              << "[sink.mastodon]\ntype = \"mastodon\"\nsecret_file = \"" << secret_file.string()
              << "\"\n";
    return 0;
}

#else

int cmd_login_mastodon(std::string const&, std::string const&, std::string const&,
                       std::string const&)
{
    std::cerr << "camrelay login mastodon: this camrelay was built without network sinks "
                 "(CAMRELAY_WITH_CURL=OFF)\n";
    return 1;
}

#endif

} // namespace camrelay::app
