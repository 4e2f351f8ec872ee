#include "delivery/ssh/host_key.hpp"

#include "core/sha256.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace camrelay::delivery::ssh
{

namespace
{

std::string base64_of(std::string_view bytes)
{
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<unsigned char const*>(bytes.data()),
                            static_cast<int>(bytes.size()));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

struct probe_state
{
    bool got_key = false;
    host_key key;
    host_match match = host_match::missing;
};

// libcurl calls this once per new SSH connection when CURLOPT_SSH_KNOWNHOSTS is set. The
// probe only looks: it records the key and how it compares, then ends the connection.
int on_probe_key(CURL*, curl_khkey const*, curl_khkey const* found, curl_khmatch m, void* p)
{
    auto* s = static_cast<probe_state*>(p);
    s->got_key = true;
    // The found key is the raw blob (len > 0); a len of 0 would mean a base64 string.
    if (found->len > 0)
        s->key.blob.assign(found->key, found->len);
    s->match = m == CURLKHMATCH_OK         ? host_match::ok
               : m == CURLKHMATCH_MISMATCH ? host_match::mismatch
                                           : host_match::missing;
    return CURLKHSTAT_REJECT;
}

} // namespace

std::string host_key::type() const
{
    if (blob.size() < 4)
        return {};
    std::size_t len = 0;
    for (int i = 0; i < 4; ++i)
        len = (len << 8) | static_cast<unsigned char>(blob[static_cast<std::size_t>(i)]);
    if (len == 0 || len > 64 || blob.size() < 4 + len)
        return {};
    std::string t = blob.substr(4, len);
    bool printable = std::all_of(t.begin(), t.end(),
                                 [](char c) {
                                     return std::isalnum(static_cast<unsigned char>(c)) ||
                                            c == '-' || c == '@' || c == '.';
                                 });
    return printable ? t : std::string{};
}

std::string host_key::fingerprint() const
{
    sha256 h;
    h.update(std::string_view(blob));
    auto d = h.finish();
    auto b64 = base64_of(std::string_view(reinterpret_cast<char const*>(d.data()), d.size()));
    while (!b64.empty() && b64.back() == '=')
        b64.pop_back();
    return "SHA256:" + b64;
}

std::string host_key::base64() const
{
    return base64_of(blob);
}

std::string known_hosts_name(std::string_view host, long port)
{
    std::string h(host);
    if (h.size() > 2 && h.front() == '[' && h.back() == ']')
        h = h.substr(1, h.size() - 2); // an IPv6 literal from a URL
    if (port == 22)
        return h;
    return "[" + h + "]:" + std::to_string(port);
}

std::string known_hosts_line(std::string_view host, long port, host_key const& key)
{
    return known_hosts_name(host, port) + " " + key.type() + " " + key.base64() + "\n";
}

std::string pinned_sha256(std::string_view text)
{
    if (text.starts_with("SHA256:"))
        text.remove_prefix(7);
    while (!text.empty() && text.back() == '=')
        text.remove_suffix(1);
    if (text.size() != 43)
        return {};
    for (char c : text)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/')
            return {};
    return std::string(text);
}

probe_result probe_host_key(std::string const& host, long port, std::string const& known_hosts,
                            std::stop_token stop, curl::timeouts const& t)
{
    probe_result r;
    probe_state state;
    curl::easy e;
    std::string h = host;
    if (h.find(':') != std::string::npos && h.front() != '[')
        h = "[" + h + "]";
    e.set(CURLOPT_URL, ("sftp://" + h + ":" + std::to_string(port) + "/").c_str());
    e.set(CURLOPT_PROTOCOLS_STR, "sftp");
    e.set(CURLOPT_USERNAME, "camrelay-probe"); // never used: the probe hangs up before login
    e.set(CURLOPT_SSH_AUTH_TYPES, static_cast<long>(CURLSSH_AUTH_PUBLICKEY));
    e.set(CURLOPT_SSH_KNOWNHOSTS, known_hosts.c_str());
    e.set(CURLOPT_SSH_KEYFUNCTION, &on_probe_key);
    e.set(CURLOPT_SSH_KEYDATA, static_cast<void*>(&state));
    e.set(CURLOPT_NOBODY, 1L);
    e.watch(std::move(stop), t);
    r.code = e.perform();
    r.error = e.error_text();
    r.got_key = state.got_key && !state.key.blob.empty();
    r.key = std::move(state.key);
    r.match = state.match;
    return r;
}

} // namespace camrelay::delivery::ssh
