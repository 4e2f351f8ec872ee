// `camrelay trust sftp://HOST:PORT [--known-hosts FILE] [--yes]`: connects to an SSH server,
// shows the host key it offers (type and SHA-256 fingerprint, as `ssh-keygen -lf` prints them),
// asks for confirmation and appends it to an OpenSSH known_hosts file, which the sftp and scp
// sinks then require the server's key to match.
#include "app/commands.hpp"

#if CAMRELAY_WITH_CURL
#include "delivery/ssh/host_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <curl/curl.h>
#include <filesystem>
#include <iostream>
#include <string>
#else
#include <iostream>
#endif

namespace camrelay::app
{

#if CAMRELAY_WITH_CURL

namespace
{

std::string default_known_hosts()
{
    char const* home = std::getenv("HOME");
    return std::string(home && *home ? home : ".") + "/.ssh/known_hosts";
}

/// Appends `line` to `path` (created 0600, its folder 0700), on a line of its own, durably.
bool append_line(std::string const& path, std::string const& line, std::string& err)
{
    std::error_code ec;
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir, ec))
    {
        std::filesystem::create_directories(dir, ec);
        if (ec)
        {
            err = "cannot create " + dir.string() + ": " + ec.message();
            return false;
        }
        ::chmod(dir.c_str(), 0700);
    }
    int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
    {
        err = "cannot open " + path + ": " +
              std::error_code(errno, std::generic_category()).message();
        return false;
    }
    std::string text = line;
    struct stat st
    {
    };
    if (::fstat(fd, &st) == 0 && st.st_size > 0)
    {
        char last = '\n';
        if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
            text = "\n" + text;
    }
    std::size_t done = 0;
    while (done < text.size())
    {
        auto n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
        {
            err = "cannot write " + path + ": " +
                  std::error_code(errno, std::generic_category()).message();
            ::close(fd);
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    bool synced = ::fsync(fd) == 0;
    if (::close(fd) != 0 || !synced)
    {
        err = "cannot write " + path + ": " +
              std::error_code(errno, std::generic_category()).message();
        return false;
    }
    return true;
}

} // namespace

int cmd_trust(std::string const& url, std::string const& known_hosts_arg, bool yes)
{
    // HOST and PORT from the URL; any path in it is ignored.
    std::string scheme, host;
    long port = 22;
    {
        CURLU* u = curl_url();
        bool parsed = curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK;
        auto part = [&](CURLUPart p, unsigned flags)
        {
            char* v = nullptr;
            std::string out;
            if (parsed && curl_url_get(u, p, &v, flags) == CURLUE_OK && v)
                out = v;
            curl_free(v);
            return out;
        };
        scheme = part(CURLUPART_SCHEME, 0);
        host = part(CURLUPART_HOST, 0);
        auto p = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
        curl_url_cleanup(u);
        if (!parsed || (scheme != "sftp" && scheme != "scp") || host.empty())
        {
            std::cerr << "camrelay trust: '" << url << "' is not an sftp://HOST[:PORT] or "
                      << "scp://HOST[:PORT] URL\n";
            return 2;
        }
        if (!p.empty())
            port = std::stol(p);
    }
    auto const known_hosts = known_hosts_arg.empty() ? default_known_hosts() : known_hosts_arg;
    auto const hostport = host + ":" + std::to_string(port);

    auto r = delivery::ssh::probe_host_key(host, port, known_hosts, {});
    if (!r.got_key)
    {
        std::cerr << "camrelay trust: no host key from " << hostport << ": " << r.error << "\n";
        return 1;
    }
    auto const type = r.key.type();
    auto const fp = r.key.fingerprint();
    std::cout << hostport << " host key: " << (type.empty() ? "(unknown type)" : type) << " " << fp
              << "\n";
    if (type.empty())
    {
        std::cerr << "camrelay trust: the server sent a malformed key; nothing recorded\n";
        return 1;
    }
    if (r.match == delivery::ssh::host_match::ok)
    {
        std::cout << "already trusted in " << known_hosts << "\n";
        return 0;
    }
    if (r.match == delivery::ssh::host_match::mismatch)
    {
        std::cerr << "camrelay trust: WARNING: " << known_hosts << " holds a DIFFERENT key for "
                  << hostport << ". This may be a man-in-the-middle attack. If the server's key "
                  << "really changed (reinstalled), remove the old entry with `ssh-keygen -R '"
                  << delivery::ssh::known_hosts_name(host, port) << "' -f " << known_hosts
                  << "` and run this again. Nothing recorded.\n";
        return 1;
    }
    if (!yes)
    {
        if (!::isatty(STDIN_FILENO))
        {
            std::cerr << "camrelay trust: not asking without a terminal: compare the fingerprint "
                      << "with the server's (`ssh-keygen -lf` on its host key) and run again "
                      << "with --yes\n";
            return 1;
        }
        std::cout << "Compare it with the fingerprint the server shows (`ssh-keygen -lf "
                  << "/etc/ssh/ssh_host_" << (type == "ssh-ed25519" ? "ed25519" : "*")
                  << "_key.pub` on a NAS; the SSH server app's settings on a phone).\n"
                  << "Trust this key and add it to " << known_hosts << "? [y/N] " << std::flush;
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != "y" && answer != "Y" && answer != "yes")
        {
            std::cout << "not trusted; nothing recorded\n";
            return 1;
        }
    }
    std::string err;
    if (!append_line(known_hosts, delivery::ssh::known_hosts_line(host, port, r.key), err))
    {
        std::cerr << "camrelay trust: " << err << "\n";
        return 1;
    }
    std::cout << "added " << delivery::ssh::known_hosts_name(host, port) << " " << type << " to "
              << known_hosts << "\n";
    return 0;
}

#else

int cmd_trust(std::string const&, std::string const&, bool)
{
    std::cerr << "camrelay trust: this build has no SSH support (CAMRELAY_WITH_CURL=OFF)\n";
    return 2;
}

#endif

} // namespace camrelay::app
