// The "sftp" and "scp" sinks: upload each photo to an SSH server (a phone's SSH server app, a
// NAS) through libcurl + libssh2, with the host key always verified (known_hosts or a pinned
// SHA-256 fingerprint) and key authentication only.
//
// SFTP: the photo goes to a per-job hidden temp name in the target folder (missing folders are
// created), an interrupted upload is resumed by appending, then one SFTP "rename" puts it in
// place (OpenSSH refuses to rename over an existing file, so nothing is overwritten) and the
// final file's size is checked. SCP has no rename and no mkdir: it writes straight to the final
// name (a crash leaves a partial file that the retry overwrites); missing folders are created
// over SFTP when the server also offers SFTP.
//
// Idempotence: before uploading, a remote file of the photo's size at the name is downloaded
// (streaming) and its SHA-256 compared; the same content counts as delivered, so a retry after a
// crash never leaves a second copy. Other content: SFTP picks NAME-1.EXT, NAME-2.EXT...; SCP
// overwrites it (it can only write to the final name). After an upload only the size is checked,
// not the content: reading every photo back would double the traffic.
#include "delivery/ssh/ssh_sink.hpp"

#include "core/fs.hpp"
#include "core/log.hpp"
#include "core/name_template.hpp"
#include "core/sha256.hpp"
#include "delivery/curl/curl.hpp"
#include "delivery/error.hpp"
#include "delivery/ssh/host_key.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace camrelay::delivery
{

namespace
{

constexpr auto log_tag = "ssh";

// One table for both types: they take the same options.
constexpr config::option_spec ssh_options[] = {
    {"url", config::option_type::string, true, "",
     "Server and base folder: sftp://HOST[:PORT]/folder (type sftp) or scp://HOST[:PORT]/folder "
     "(type scp); port 22 by default; a folder starting with /~/ is relative to the login's "
     "home. No password in the URL."},
    {"user", config::option_type::string, false, "",
     "Login name; default: the user in the URL, else the user camrelay runs as."},
    {"key", config::option_type::string, true, "",
     "Private key file (OpenSSH format: ed25519, ecdsa or rsa). Must not be readable by group "
     "or others (chmod 600)."},
    {"key_passphrase_file", config::option_type::string, false, "",
     "File holding the key's passphrase on its first line (chmod 600); none: the key has no "
     "passphrase."},
    {"known_hosts", config::option_type::string, false, "",
     "OpenSSH known_hosts file that must hold the server's host key; add it with `camrelay "
     "trust sftp://HOST:PORT --known-hosts FILE`. Required unless host_key_sha256 is given."},
    {"host_key_sha256", config::option_type::string, false, "",
     "Pinned host key fingerprint as `ssh-keygen -lf` prints it: \"SHA256:...\"."},
    {"path", config::option_type::string, false, "{name}",
     "Remote path template under the URL's folder, e.g. \"{camera}/{date:%Y-%m-%d}/{name}\" "
     "(placeholders as for folder sinks); it cannot leave that folder."},
    curl::connect_timeout_option,
    curl::stall_timeout_option,
};

struct ssh_config
{
    bool scp = false;
    std::string host; // as in the URL ("[::1]" for IPv6 literals)
    long port = 22;
    std::string user;
    std::string base; // decoded absolute remote folder: "/srv/photos", "/~/photos", "/"
    std::string key;
    std::string passphrase;
    std::string known_hosts;
    std::string pin; // bare base64, or ""
    name_template path;
    curl::timeouts times;
};

/// Joins remote path pieces with single slashes.
std::string join(std::string const& a, std::string const& b)
{
    if (b.empty())
        return a;
    if (a.empty() || a == "/")
        return "/" + b;
    return a + "/" + b;
}

/// What the key callback saw on this handle's (last) connection.
struct key_verdict
{
    bool called = false;
    ssh::host_match match = ssh::host_match::missing;
    ssh::host_key key;
};

int on_host_key(CURL*, curl_khkey const*, curl_khkey const* found, curl_khmatch m, void* p)
{
    auto* v = static_cast<key_verdict*>(p);
    v->called = true;
    if (found->len > 0)
        v->key.blob.assign(found->key, found->len);
    v->match = m == CURLKHMATCH_OK         ? ssh::host_match::ok
               : m == CURLKHMATCH_MISMATCH ? ssh::host_match::mismatch
                                           : ssh::host_match::missing;
    // Only an exact match passes: an unknown or changed key is never accepted or recorded here.
    return m == CURLKHMATCH_OK ? CURLKHSTAT_FINE : CURLKHSTAT_REJECT;
}

class ssh_sink final : public sink
{
  public:
    explicit ssh_sink(ssh_config c) : c_(std::move(c)) {}

    outcome deliver(request const& req) override;
    bool can_stream() const override { return true; }
    outcome deliver_stream(request const& req, content_reader& in) override;

  private:
    struct session
    {
        explicit session(std::unique_ptr<curl::easy> h) : handle(std::move(h)), e(*handle) {}
        std::unique_ptr<curl::easy> handle;  // from pool_, back to it after a success
        curl::easy& e;
        key_verdict verdict;
        curl_slist* quote = nullptr;
        ~session() { curl_slist_free_all(quote); }
    };

    void setup(session& s, std::stop_token stop) const;
    std::string url(std::string const& remote_path, bool sftp) const;
    std::string where() const;
    outcome failure(session const& s, CURLcode code, std::string const& what) const;

    /// Size of a remote file: nullopt when it does not exist; on another failure sets `err`.
    std::optional<long long> remote_size(session& s, std::string const& path, outcome& err);
    /// Downloads `path` (streaming) and compares its SHA-256 with the asset's; on a transfer
    /// failure sets `err`. Only used when a remote file of the right size is already there.
    bool same_content(session& s, std::string const& path, asset_info const& a, outcome& err);
    /// Runs SFTP quote commands, then stats `stat_path`; same results as remote_size().
    CURLcode quote_then_stat(session& s, std::vector<std::string> const& commands,
                             std::string const& stat_path, long long& size);
    /// Uploads the spooled file from `offset`, or what `in` yields (streaming mode) when given.
    CURLcode upload(session& s, request const& req, std::string const& path, std::uint64_t offset,
                    bool create_dirs, content_reader* in = nullptr);

    outcome deliver_sftp(session& s, request const& req, std::string const& dir,
                         std::string const& name);
    outcome stream_sftp(session& s, request const& req, content_reader& in,
                        std::string const& dir, std::string const& name);
    outcome stream_scp(session& s, request const& req, content_reader& in,
                       std::string const& dir, std::string const& name);
    /// The remote folder and file name for an asset, or a failure when its path leaves the base.
    std::optional<outcome> resolve(asset_info const& a, std::string& dir, std::string& name) const;
    /// SFTP: the first free name (numbered after `n`), or "already there" when a file holding
    /// the asset's content has one of the names (the temp file is then removed).
    std::optional<outcome> pick_target(session& s, asset_info const& a, std::string const& dir,
                                       std::string const& name, std::string const& temp,
                                       std::string& target, int& n);
    /// SFTP: renames the uploaded temp file to `target` (the next free name when taken) and
    /// checks its size.
    outcome rename_into_place(session& s, request const& req, asset_info const& a,
                              std::string const& temp, std::string target,
                              std::string const& dir, std::string const& name, int n);
    outcome deliver_scp(session& s, request const& req, std::string const& dir,
                        std::string const& name);

    ssh_config c_;
    curl::handle_pool pool_;
};

/// SFTP quote commands creating `dir` level by level. "*": a failure (the level exists) is
/// ignored; with `strict_last` the last one is not, so its error tells why `dir` cannot be made.
std::vector<std::string> mkdir_commands(std::string const& dir, bool strict_last);

std::string numbered(std::string const& name, int n)
{
    if (n == 0)
        return name;
    auto dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0)
        return name + "-" + std::to_string(n);
    return name.substr(0, dot) + "-" + std::to_string(n) + name.substr(dot);
}

/// A path as an SFTP quote command argument: "/~/x" becomes the relative "x" (SFTP servers
/// resolve relative paths from the login's home; curl expands "/~/" only in URLs), then
/// double-quoted with '"' and '\' escaped.
std::string quote_arg(std::string const& path)
{
    std::string p = path;
    if (p == "/~" || p == "/~/")
        p = ".";
    else if (p.starts_with("/~/"))
        p = p.substr(3);
    std::string out = "\"";
    for (char ch : p)
    {
        if (ch == '"' || ch == '\\')
            out.push_back('\\');
        out.push_back(ch);
    }
    return out + "\"";
}

std::vector<std::string> mkdir_commands(std::string const& dir, bool strict_last)
{
    std::vector<std::string> out;
    bool home = dir.starts_with("/~/");
    std::string rest = home ? dir.substr(2) : dir;
    std::size_t pos = 1;
    while (pos <= rest.size())
    {
        auto next = rest.find('/', pos);
        if (next == std::string::npos)
            next = rest.size();
        bool last = next == rest.size();
        out.push_back((strict_last && last ? "mkdir " : "*mkdir ") +
                      quote_arg((home ? "/~" : "") + rest.substr(0, next)));
        pos = next + 1;
    }
    return out;
}

void ssh_sink::setup(session& s, std::stop_token stop) const
{
    auto& e = s.e;
    e.set(CURLOPT_PROTOCOLS_STR, "sftp,scp");
    e.set(CURLOPT_USERNAME, c_.user.c_str());
    e.set(CURLOPT_SSH_AUTH_TYPES, static_cast<long>(CURLSSH_AUTH_PUBLICKEY));
    e.set(CURLOPT_SSH_PRIVATE_KEYFILE, c_.key.c_str());
    // Empty: libssh2 derives the public key from the private one (else curl would look for
    // ~/.ssh/id_dsa.pub).
    e.set(CURLOPT_SSH_PUBLIC_KEYFILE, "");
    if (!c_.passphrase.empty())
        e.set(CURLOPT_KEYPASSWD, c_.passphrase.c_str());
    if (!c_.pin.empty())
        e.set(CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256, c_.pin.c_str());
    if (!c_.known_hosts.empty())
    {
        e.set(CURLOPT_SSH_KNOWNHOSTS, c_.known_hosts.c_str());
        e.set(CURLOPT_SSH_KEYFUNCTION, &on_host_key);
        e.set(CURLOPT_SSH_KEYDATA, static_cast<void*>(&s.verdict));
    }
    e.set(CURLOPT_NEW_FILE_PERMS, 0644L);
    e.set(CURLOPT_NEW_DIRECTORY_PERMS, 0755L);
    e.watch(std::move(stop), c_.times);
}

std::string ssh_sink::url(std::string const& remote_path, bool sftp) const
{
    std::string out = (sftp ? "sftp://" : "scp://") + c_.host + ":" + std::to_string(c_.port);
    std::string segment;
    for (std::size_t i = 1; i <= remote_path.size(); ++i)
    {
        if (i == remote_path.size() || remote_path[i] == '/')
        {
            out += "/" + curl::escape_segment(segment);
            segment.clear();
        }
        else
            segment.push_back(remote_path[i]);
    }
    if (remote_path.size() <= 1)
        out += "/";
    return out;
}

std::string ssh_sink::where() const
{
    return (c_.scp ? "scp://" : "sftp://") + c_.host + ":" + std::to_string(c_.port);
}

outcome ssh_sink::failure(session const& s, CURLcode code, std::string const& what) const
{
    if (code != CURLE_PEER_FAILED_VERIFICATION)
    {
        if (code == CURLE_LOGIN_DENIED)
            return outcome::fail(curl::make_error_code(code),
                                 what + ": " + where() + " refused user '" + c_.user +
                                     "' with key " + c_.key + " (" + s.e.error_text() + ")");
        return curl::failure_of(code, s.e, what);
    }
    auto const trust = "camrelay trust " + where() + " --known-hosts " +
                       (c_.known_hosts.empty() ? std::string("FILE") : c_.known_hosts);
    auto const hostport = c_.host + ":" + std::to_string(c_.port);
    auto const& v = s.verdict;
    std::string offered =
        v.key.blob.empty() ? std::string{} : " (" + v.key.type() + " " + v.key.fingerprint() + ")";
    std::string msg;
    if (v.called && v.match == ssh::host_match::missing)
        msg = "the SSH host key of " + hostport + offered + " is not in " + c_.known_hosts +
              "; nothing was sent. If that fingerprint is the server's (compare it on the "
              "server with `ssh-keygen -lf` on its host key), trust it with `" +
              trust + "`, or pin it with host_key_sha256";
    else if (v.called && v.match == ssh::host_match::mismatch)
        msg = "the SSH host key of " + hostport + offered + " does NOT match the key in " +
              c_.known_hosts +
              ": possible man-in-the-middle attack; nothing was sent. If the server's key really "
              "changed (reinstalled), remove the old entry with `ssh-keygen -R '" +
              ssh::known_hosts_name(c_.host, c_.port) + "' -f " + c_.known_hosts + "` and run `" +
              trust + "`";
    else if (!c_.pin.empty())
    {
        // libcurl names the offered fingerprint: "... Remote BASE64= is not equal to ...".
        auto const& text = s.e.error_text();
        auto from = text.find("Remote ");
        auto to = text.find(" is not equal");
        std::string seen;
        if (from != std::string::npos && to != std::string::npos && to > from + 7)
        {
            seen = text.substr(from + 7, to - from - 7);
            while (!seen.empty() && seen.back() == '=')
                seen.pop_back();
            seen = " (it offers SHA256:" + seen + ")";
        }
        msg = "the SSH host key of " + hostport + seen +
              " does not match host_key_sha256 = "
              "\"SHA256:" +
              c_.pin +
              "\": possible man-in-the-middle attack; nothing was sent. "
              "If the server's key really changed, check the new fingerprint and update "
              "host_key_sha256, or use known_hosts and `" +
              trust + "`";
    }
    else
        msg = "the SSH host key of " + hostport + " was not accepted (" + s.e.error_text() + ")";
    return outcome::fail(curl::make_error_code(code), msg);
}

std::optional<long long> ssh_sink::remote_size(session& s, std::string const& path, outcome& err)
{
    long long size = -1;
    auto rc = quote_then_stat(s, {}, path, size);
    if (rc == CURLE_REMOTE_FILE_NOT_FOUND)
        return std::nullopt;
    if (rc != CURLE_OK)
        err = failure(s, rc, "looking up " + path + " on " + where());
    return size;
}

size_t hash_body(char* data, size_t size, size_t n, void* h)
{
    static_cast<sha256*>(h)->update(std::string_view(data, size * n));
    return size * n;
}

bool ssh_sink::same_content(session& s, std::string const& path, asset_info const& a, outcome& err)
{
    sha256 h;
    auto& e = s.e;
    e.set(CURLOPT_UPLOAD, 0L);
    e.set(CURLOPT_NOBODY, 0L);
    e.set(CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(0));
    e.set(CURLOPT_FTP_CREATE_MISSING_DIRS, static_cast<long>(CURLFTP_CREATE_DIR_NONE));
    e.set(CURLOPT_URL, url(path, !c_.scp).c_str());
    e.set(CURLOPT_WRITEFUNCTION, &hash_body);
    e.set(CURLOPT_WRITEDATA, static_cast<void*>(&h));
    auto rc = e.perform();
    e.set(CURLOPT_WRITEFUNCTION, static_cast<curl_write_callback>(nullptr));
    e.set(CURLOPT_WRITEDATA, static_cast<void*>(nullptr));
    if (rc != CURLE_OK)
    {
        err = failure(s, rc, "reading back " + path + " on " + where());
        return false;
    }
    return sha256::to_hex(h.finish()) == a.sha256;
}

CURLcode ssh_sink::quote_then_stat(session& s, std::vector<std::string> const& commands,
                                   std::string const& stat_path, long long& size)
{
    curl_slist_free_all(s.quote);
    s.quote = nullptr;
    for (auto const& cmd : commands)
        s.quote = curl_slist_append(s.quote, cmd.c_str());
    auto& e = s.e;
    e.set(CURLOPT_QUOTE, s.quote);
    e.set(CURLOPT_UPLOAD, 0L);
    e.set(CURLOPT_NOBODY, 1L);
    e.set(CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(0));
    e.set(CURLOPT_FTP_CREATE_MISSING_DIRS, static_cast<long>(CURLFTP_CREATE_DIR_NONE));
    e.set(CURLOPT_URL, url(stat_path, !c_.scp || !commands.empty()).c_str());
    auto rc = e.perform();
    e.set(CURLOPT_QUOTE, static_cast<curl_slist*>(nullptr));
    curl_off_t len = -1;
    curl_easy_getinfo(e.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
    size = rc == CURLE_OK ? static_cast<long long>(len) : -1;
    return rc;
}

CURLcode ssh_sink::upload(session& s, request const& req, std::string const& path,
                          std::uint64_t offset, bool create_dirs, content_reader* in)
{
    auto& e = s.e;
    e.set(CURLOPT_NOBODY, 0L);
    e.set(CURLOPT_UPLOAD, 1L);
    e.set(CURLOPT_URL, url(path, !c_.scp).c_str());
    e.set(CURLOPT_FTP_CREATE_MISSING_DIRS,
          static_cast<long>(create_dirs ? CURLFTP_CREATE_DIR : CURLFTP_CREATE_DIR_NONE));
    // Resuming: RESUME_FROM makes libcurl open the remote file for appending instead of
    // truncating it, and seek the stream (see upload_from) past what is already there.
    if (in)
        e.upload_stream(*in, req.asset.size);
    else if (!e.upload_from(req.asset.spool_path, 0))
        return CURLE_READ_ERROR;
    e.set(CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(offset));
    return e.perform();
}

outcome ssh_sink::deliver_sftp(session& s, request const& req, std::string const& dir,
                               std::string const& name)
{
    auto const size = static_cast<long long>(req.asset.size);
    auto const temp =
        join(dir, "." + name + ".camrelay-job" + std::to_string(req.job_id) + ".part");
    outcome err = outcome::ok({});

    // The first free name, or one already holding this photo (a retry after a crash).
    std::string target;
    int n = 0;
    if (auto done = pick_target(s, req.asset, dir, name, temp, target, n))
        return *done;

    auto partial = remote_size(s, temp, err);
    if (!err)
        return err;
    if (!partial || *partial != size)
    {
        std::uint64_t offset =
            partial && *partial > 0 && *partial < size ? static_cast<std::uint64_t>(*partial) : 0;
        if (offset > 0)
            log::info(log_tag, "job={} resuming {} at byte {}", req.job_id, temp, offset);
        auto rc = upload(s, req, temp, offset, true);
        if (rc == CURLE_READ_ERROR)
            return outcome::fail(make_error_code(errc::source_missing),
                                 "spooled file " + req.asset.spool_path + " cannot be read");
        if (rc == CURLE_REMOTE_FILE_NOT_FOUND)
        {
            // The folder is missing and libcurl could not create it; its mkdir error is
            // ignored, so make the last level again to learn why (no permission, a file...).
            auto uploading = failure(s, rc, "uploading to " + url(temp, true));
            long long ignored = 0;
            if (quote_then_stat(s, mkdir_commands(dir, true), dir, ignored) == CURLE_QUOTE_ERROR)
                uploading.message += "; creating the folder " + dir + ": " + s.e.error_text();
            return uploading;
        }
        if (rc != CURLE_OK)
            return failure(s, rc, "uploading to " + url(temp, true));
    }
    return rename_into_place(s, req, req.asset, temp, target, dir, name, n);
}

std::optional<outcome> ssh_sink::pick_target(session& s, asset_info const& a,
                                             std::string const& dir, std::string const& name,
                                             std::string const& temp, std::string& target, int& n)
{
    auto const size = static_cast<long long>(a.size);
    outcome err = outcome::ok({});
    for (; n < 1000; ++n)
    {
        auto candidate = join(dir, numbered(name, n));
        auto existing = remote_size(s, candidate, err);
        if (!err)
            return err;
        if (!existing)
        {
            target = candidate;
            return std::nullopt;
        }
        if (*existing == size)
        {
            bool same = same_content(s, candidate, a, err);
            if (!err)
                return err;
            if (same)
            {
                long long ignored = 0;
                quote_then_stat(s, {"*rm " + quote_arg(temp)}, candidate, ignored); // best effort
                return outcome::ok(url(candidate, true) + " (already there)");
            }
        }
    }
    return outcome::fail(make_error_code(errc::name_collision),
                         "no free name for " + join(dir, name) + " after 1000 tries");
}

outcome ssh_sink::rename_into_place(session& s, request const& req, asset_info const& a,
                                    std::string const& temp, std::string target,
                                    std::string const& dir, std::string const& name, int n)
{
    auto const size = static_cast<long long>(a.size);
    outcome err = outcome::ok({});
    // Rename into place and read the final size back, in one round trip. OpenSSH's rename
    // fails when the target exists: someone took the name meanwhile, so look again.
    for (int tries = 0; tries < 5; ++tries)
    {
        long long got = -1;
        auto rc = quote_then_stat(s, {"rename " + quote_arg(temp) + " " + quote_arg(target)},
                                  target, got);
        if (rc == CURLE_OK)
        {
            if (got != size)
            {
                long long ignored = 0;
                quote_then_stat(s, {"*rm " + quote_arg(target)}, dir, ignored);
                return outcome::fail(make_error_code(errc::verify_failed),
                                     url(target, true) + " has " + std::to_string(got) +
                                         " bytes after the upload, not " + std::to_string(size));
            }
            log::debug(log_tag, "job={} delivered {}", req.job_id, url(target, true));
            return outcome::ok(url(target, true));
        }
        if (rc != CURLE_QUOTE_ERROR)
            return failure(s, rc, "renaming " + temp + " to " + target);
        auto existing = remote_size(s, target, err);
        if (!err)
            return err;
        if (!existing)
            return failure(s, rc, "renaming " + temp + " to " + target);
        if (*existing == size)
        {
            bool same = same_content(s, target, a, err);
            if (!err)
                return err;
            if (same)
            {
                long long ignored = 0;
                quote_then_stat(s, {"*rm " + quote_arg(temp)}, target, ignored);
                return outcome::ok(url(target, true) + " (already there)");
            }
        }
        target = join(dir, numbered(name, ++n));
    }
    return outcome::fail(make_error_code(errc::name_collision),
                         "could not rename " + temp + " into place: names kept being taken");
}

outcome ssh_sink::deliver_scp(session& s, request const& req, std::string const& dir,
                              std::string const& name)
{
    auto const size = static_cast<long long>(req.asset.size);
    auto const target = join(dir, name);
    outcome err = outcome::ok({});
    auto existing = remote_size(s, target, err);
    if (!err)
        return err;
    if (existing && *existing == size)
    {
        bool same = same_content(s, target, req.asset, err);
        if (!err)
            return err;
        if (same)
            return outcome::ok(url(target, false) + " (already there)");
    }

    auto rc = upload(s, req, target, 0, false);
    if (rc == CURLE_UPLOAD_FAILED)
    {
        // Most often the folder is missing: SCP cannot create it. Create it over SFTP when the
        // server has SFTP too ("*": an existing folder is no error), then try once more.
        long long ignored = 0;
        auto mk = quote_then_stat(s, mkdir_commands(dir, false), dir, ignored);
        if (mk != CURLE_OK)
            log::debug(log_tag, "job={} creating {} over SFTP failed: {}", req.job_id, dir,
                       s.e.error_text());
        rc = upload(s, req, target, 0, false);
        if (rc == CURLE_UPLOAD_FAILED)
            return outcome::fail(
                curl::make_error_code(rc),
                "uploading to " + url(target, false) + ": " + s.e.error_text() +
                    " (is the folder " + dir + " there and writable? SCP cannot create folders" +
                    (mk != CURLE_OK ? " and the server offers no SFTP to create them)" : ")"));
    }
    if (rc == CURLE_READ_ERROR)
        return outcome::fail(make_error_code(errc::source_missing),
                             "spooled file " + req.asset.spool_path + " cannot be read");
    if (rc != CURLE_OK)
        return failure(s, rc, "uploading to " + url(target, false));

    auto got = remote_size(s, target, err);
    if (!err)
        return err;
    if (!got || *got != size)
        return outcome::fail(make_error_code(errc::verify_failed),
                             url(target, false) + " has " + std::to_string(got ? *got : -1) +
                                 " bytes after the upload, not " + std::to_string(size));
    log::debug(log_tag, "job={} delivered {}", req.job_id, url(target, false));
    return outcome::ok(url(target, false));
}

std::optional<outcome> ssh_sink::resolve(asset_info const& a, std::string& dir,
                                         std::string& name) const
{
    std::string rel = c_.path.expand(a, name_template::mode::path);
    std::filesystem::path const root = "/base";
    auto full = (root / rel).lexically_normal();
    bool control = false;
    for (unsigned char ch : rel)
        control = control || ch < 0x20 || ch == 0x7f;
    if (rel.empty() || rel.front() == '/' || control || !fs::is_within(root, full) ||
        full == root || full.filename().empty())
        return outcome::fail(make_error_code(errc::bad_destination),
                             "path '" + rel + "' leaves the folder " + c_.base);
    auto relative = full.lexically_relative(root);
    dir = join(c_.base, relative.parent_path().string());
    name = relative.filename().string();
    return std::nullopt;
}

outcome ssh_sink::deliver(request const& req)
{
    auto const& a = req.asset;
    if (req.stop.stop_requested())
        return outcome::fail(make_error_code(errc::cancelled), "cancelled");
    std::string dir, name;
    if (auto bad = resolve(a, dir, name))
        return *bad;
    if (fs::file_size_or_minus_one(a.spool_path) < 0)
        return outcome::fail(make_error_code(errc::source_missing),
                             "spooled file " + a.spool_path + " is missing");

    session s(pool_.take());
    setup(s, req.stop);
    auto out = c_.scp ? deliver_scp(s, req, dir, name) : deliver_sftp(s, req, dir, name);
    if (out)
        pool_.give_back(std::move(s.handle));  // keeps the SSH session for the next photo
    return out;
}

outcome ssh_sink::deliver_stream(request const& req, content_reader& in)
{
    if (req.stop.stop_requested())
        return outcome::fail(make_error_code(errc::cancelled), "cancelled");
    std::string dir, name;
    if (auto bad = resolve(req.asset, dir, name))
        return *bad;
    session s(pool_.take());
    setup(s, req.stop);
    auto out = c_.scp ? stream_scp(s, req, in, dir, name) : stream_sftp(s, req, in, dir, name);
    if (out)
        pool_.give_back(std::move(s.handle));
    return out;
}

outcome ssh_sink::stream_sftp(session& s, request const& req, content_reader& in,
                              std::string const& dir, std::string const& name)
{
    // The content is not known before it has passed: upload to the temp name first (replacing
    // what a cut transfer left there), then look for a free name or a file already holding
    // the same content (the SHA-256 is known by then), then rename.
    auto const temp =
        join(dir, "." + name + ".camrelay-job" + std::to_string(req.job_id) + ".part");
    auto rc = upload(s, req, temp, 0, true, &in);
    if (rc == CURLE_REMOTE_FILE_NOT_FOUND)
    {
        auto uploading = failure(s, rc, "uploading to " + url(temp, true));
        long long ignored = 0;
        if (quote_then_stat(s, mkdir_commands(dir, true), dir, ignored) == CURLE_QUOTE_ERROR)
            uploading.message += "; creating the folder " + dir + ": " + s.e.error_text();
        return uploading;
    }
    if (rc != CURLE_OK)
    {
        if (req.stop.stop_requested())
            return outcome::fail(make_error_code(errc::cancelled), "cancelled");
        return failure(s, rc, "uploading to " + url(temp, true));
    }
    asset_info a = req.asset;
    a.sha256 = in.sha256_hex();
    std::string target;
    int n = 0;
    if (auto done = pick_target(s, a, dir, name, temp, target, n))
        return *done;
    return rename_into_place(s, req, a, temp, target, dir, name, n);
}

outcome ssh_sink::stream_scp(session& s, request const& req, content_reader& in,
                             std::string const& dir, std::string const& name)
{
    // SCP writes to the final name (as deliver_scp does) and cannot create folders: create them
    // over SFTP first, best effort, since the stream cannot be sent twice.
    auto const target = join(dir, name);
    long long ignored = 0;
    if (quote_then_stat(s, mkdir_commands(dir, false), dir, ignored) != CURLE_OK)
        log::debug(log_tag, "job={} creating {} over SFTP failed: {}", req.job_id, dir,
                   s.e.error_text());
    auto rc = upload(s, req, target, 0, false, &in);
    if (rc != CURLE_OK)
    {
        if (req.stop.stop_requested())
            return outcome::fail(make_error_code(errc::cancelled), "cancelled");
        return failure(s, rc, "uploading to " + url(target, false));
    }
    outcome err = outcome::ok({});
    auto got = remote_size(s, target, err);
    if (!err)
        return err;
    auto const size = static_cast<long long>(req.asset.size);
    if (!got || *got != size)
        return outcome::fail(make_error_code(errc::verify_failed),
                             url(target, false) + " has " + std::to_string(got ? *got : -1) +
                                 " bytes after the upload, not " + std::to_string(size));
    return outcome::ok(url(target, false));
}

/// Refuses a secret file others can read, as OpenSSH does for keys.
bool check_private_file(std::string const& path, std::string const& what, std::string& err)
{
    return fs::check_secret_file(path, what, err);
}

std::string current_user()
{
    if (auto* pw = ::getpwuid(::geteuid()))
        return pw->pw_name;
    return {};
}

std::unique_ptr<sink> make_ssh_sink(bool scp, config::sink_settings const& s,
                                    std::vector<config::problem>& problems)
{
    auto const where = "[sink." + s.name + "]";
    auto const scheme = std::string(scp ? "scp" : "sftp");
    auto const& o = s.options;
    auto problem = [&](std::string_view key, std::string const& text) {
        problems.push_back({o.line_of(key), where + ": " + std::string(key) + ": " + text});
    };
    bool ok = true;
    ssh_config c;
    c.scp = scp;

    // URL: scheme, host, port, optional user, base folder.
    auto text = o.string_or("url", "");
    CURLU* u = curl_url();
    auto part = [&](CURLUPart p, unsigned flags)
    {
        char* v = nullptr;
        std::string out;
        if (curl_url_get(u, p, &v, flags) == CURLUE_OK && v)
            out = v;
        curl_free(v);
        return out;
    };
    if (curl_url_set(u, CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
    {
        problem("url", "'" + text + "' is not a URL like " + scheme + "://HOST[:PORT]/folder");
        ok = false;
    }
    else
    {
        auto got_scheme = part(CURLUPART_SCHEME, 0);
        c.host = part(CURLUPART_HOST, 0);
        auto port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
        std::string url_user = part(CURLUPART_USER, CURLU_URLDECODE);
        c.base = part(CURLUPART_PATH, CURLU_URLDECODE);
        if (got_scheme != scheme)
        {
            problem("url", "must start with " + scheme + ":// for a sink of type " + scheme);
            ok = false;
        }
        if (!part(CURLUPART_PASSWORD, 0).empty())
        {
            problem("url", "holds a password: camrelay logs in with a key only; remove it");
            ok = false;
        }
        if (!part(CURLUPART_QUERY, 0).empty() || !part(CURLUPART_FRAGMENT, 0).empty())
        {
            problem("url", "must have no ?query or #fragment");
            ok = false;
        }
        if (c.host.empty())
        {
            problem("url", "has no host");
            ok = false;
        }
        c.port = port.empty() ? 22 : std::stol(port);
        if (c.base.find('\0') != std::string::npos ||
            std::any_of(c.base.begin(), c.base.end(),
                        [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; }))
        {
            problem("url", "the folder has control characters");
            ok = false;
        }
        c.base = std::filesystem::path(c.base.empty() ? "/" : c.base).lexically_normal().string();
        while (c.base.size() > 1 && c.base.back() == '/')
            c.base.pop_back();
        if (c.base.find("/..") != std::string::npos)
        {
            problem("url", "the folder must not contain '..'");
            ok = false;
        }
        c.user = o.string_or("user", url_user.empty() ? current_user() : url_user);
    }
    curl_url_cleanup(u);
    if (c.user.empty())
    {
        problem("user", "no login name (give user or put it in the URL)");
        ok = false;
    }

    std::string err;
    c.key = o.string_or("key", "");
    if (!check_private_file(c.key, "key file", err))
    {
        problem("key", err);
        ok = false;
    }
    if (o.has("key_passphrase_file"))
    {
        auto f = o.string_or("key_passphrase_file", "");
        if (!check_private_file(f, "passphrase file", err))
        {
            problem("key_passphrase_file", err);
            ok = false;
        }
        else
        {
            std::ifstream in(f);
            std::getline(in, c.passphrase);
            if (!c.passphrase.empty() && c.passphrase.back() == '\r')
                c.passphrase.pop_back();
        }
    }

    c.known_hosts = o.string_or("known_hosts", "");
    if (o.has("host_key_sha256"))
    {
        c.pin = ssh::pinned_sha256(o.string_or("host_key_sha256", ""));
        if (c.pin.empty())
        {
            problem("host_key_sha256",
                    "must be a SHA-256 fingerprint as `ssh-keygen -lf` prints it, "
                    "\"SHA256:\" and 43 base64 characters");
            ok = false;
        }
    }
    if (c.known_hosts.empty() && !o.has("host_key_sha256"))
    {
        problems.push_back({s.line, where + ": known_hosts or host_key_sha256 is required: the "
                                            "server's host key is always verified"});
        ok = false;
    }

    auto path_text = o.string_or("path", "{name}");
    if (!name_template::parse(path_text, c.path, err))
    {
        problem("path", err);
        ok = false;
    }
    else if (path_text.empty() || path_text.front() == '/')
    {
        problem("path", "must be relative: it is appended to the URL's folder");
        ok = false;
    }

    c.times = curl::read_timeouts(o, [&](std::string_view key, std::string const& why) {
        problem(key, why);
        ok = false;
    });

    if (!ok)
        return nullptr;
    return std::make_unique<ssh_sink>(std::move(c));
}

std::unique_ptr<sink> make_sftp(config::sink_settings const& s, std::vector<config::problem>& p)
{
    return make_ssh_sink(false, s, p);
}

std::unique_ptr<sink> make_scp(config::sink_settings const& s, std::vector<config::problem>& p)
{
    return make_ssh_sink(true, s, p);
}

} // namespace

sink_descriptor const sftp_sink_descriptor{
    "sftp",
    "Uploads each photo over SFTP (a phone's SSH server app, a NAS): temp file, resume, rename, "
    "size check; host key always verified.",
    ssh_options,
    &make_sftp,
};

sink_descriptor const scp_sink_descriptor{
    "scp",
    "Uploads each photo over SCP, for SSH servers without SFTP: straight to the final name, "
    "size check; host key always verified.",
    ssh_options,
    &make_scp,
};

} // namespace camrelay::delivery
