// SSH host keys for the sftp/scp sinks and `camrelay trust`: fingerprints as `ssh-keygen -lf`
// prints them, OpenSSH known_hosts lines, and a probe that connects with libcurl and reports the
// key the server offers, without logging in.
#pragma once

#include "delivery/curl/curl.hpp"

#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>

namespace camrelay::delivery::ssh
{

/// A public host key as the server sent it (the SSH wire-format blob).
struct host_key
{
    std::string blob; ///< raw bytes: string type, then the key's fields (RFC 4253 6.6)

    /// The key type named inside the blob ("ssh-ed25519", "ecdsa-sha2-nistp256", ...);
    /// empty when the blob is malformed.
    std::string type() const;
    /// "SHA256:" + unpadded base64 of SHA-256(blob), exactly as `ssh-keygen -lf` prints it.
    std::string fingerprint() const;
    /// Base64 of the blob, as in known_hosts and *.pub files.
    std::string base64() const;
};

/// How the offered key compares with a known_hosts file.
enum class host_match
{
    ok,       ///< the file holds this key for the host
    mismatch, ///< the file holds another key for the host: possible man-in-the-middle
    missing,  ///< the host is not in the file (or the file does not exist)
};

/// "host" for port 22, else "[host]:port": the host field of a known_hosts line.
std::string known_hosts_name(std::string_view host, long port);

/// One known_hosts line (with its newline) trusting `key` for host:port.
std::string known_hosts_line(std::string_view host, long port, host_key const& key);

/// Normalises a pinned fingerprint: accepts "SHA256:xxxx" or the bare base64, with or without
/// '=' padding; returns the bare unpadded base64 libcurl compares, or "" when it is not a
/// base64 SHA-256 (43 characters).
std::string pinned_sha256(std::string_view text);

/// What a probe found.
struct probe_result
{
    CURLcode code = CURLE_OK; ///< the transfer's result (the probe always ends it itself)
    std::string error;        ///< curl's text when no key was seen
    bool got_key = false;
    host_key key;
    host_match match = host_match::missing;
};

/// Connects to `host`:`port` over SSH (libcurl + libssh2), compares the offered host key with
/// `known_hosts` (which may not exist yet) and hangs up before authenticating.
probe_result probe_host_key(std::string const& host, long port, std::string const& known_hosts,
                            std::stop_token stop, curl::timeouts const& t = {});

} // namespace camrelay::delivery::ssh
