// The sftp/scp sinks' pure parts: host key fingerprints and known_hosts lines as OpenSSH writes
// them, pinned fingerprint parsing, and the settings checks (key file modes, URL, host key).
// Transfers are tested against a real sshd (test/integration/test_ssh_sinks.py).
#include "delivery/sink.hpp"
#include "delivery/ssh/host_key.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <sys/stat.h>

#include <string>
#include <vector>

namespace
{

using namespace camrelay;

// A throwaway ed25519 host key (ssh-keygen -t ed25519) and what `ssh-keygen -lf` printed for it.
constexpr char key_b64[] = "AAAAC3NzaC1lZDI1NTE5AAAAIF01YKP+Yx9KtSYXFFPvw2bEgbjyRiEVAx47fcfjDgVs";
constexpr char key_fp[] = "SHA256:PeXgjbTriATHI+O+QgAQOKEhz4hSPmTHUJuy6k0WL8c";

delivery::ssh::host_key sample_key()
{
    std::string b64 = key_b64;
    std::string raw(b64.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                            reinterpret_cast<unsigned char const*>(b64.data()),
                            static_cast<int>(b64.size()));
    raw.resize(static_cast<std::size_t>(n));
    while (b64.size() >= 1 && b64.back() == '=') // DecodeBlock keeps the padding's zero bytes
    {
        b64.pop_back();
        raw.pop_back();
    }
    return {raw};
}

TEST(DeliverySshHostKey, FingerprintTypeAndKnownHostsLineMatchOpenSsh)
{
    auto k = sample_key();
    EXPECT_EQ(k.type(), "ssh-ed25519");
    EXPECT_EQ(k.fingerprint(), key_fp);
    EXPECT_EQ(k.base64(), key_b64);
    EXPECT_EQ(delivery::ssh::known_hosts_line("127.0.0.1", 2222, k),
              std::string("[127.0.0.1]:2222 ssh-ed25519 ") + key_b64 + "\n");
    EXPECT_EQ(delivery::ssh::known_hosts_name("nas.local", 22), "nas.local");
    EXPECT_EQ(delivery::ssh::known_hosts_name("[::1]", 2222), "[::1]:2222");
    EXPECT_EQ(delivery::ssh::host_key{"\x00\x00\x00\x09ssh"}.type(), "");
}

TEST(DeliverySshHostKey, PinnedFingerprints)
{
    std::string bare = std::string(key_fp).substr(7);
    EXPECT_EQ(delivery::ssh::pinned_sha256(key_fp), bare);
    EXPECT_EQ(delivery::ssh::pinned_sha256(bare), bare);
    EXPECT_EQ(delivery::ssh::pinned_sha256(bare + "="), bare);
    EXPECT_EQ(delivery::ssh::pinned_sha256("SHA256:short"), "");
    EXPECT_EQ(delivery::ssh::pinned_sha256("MD5:" + bare), "");
    EXPECT_EQ(delivery::ssh::pinned_sha256(bare.substr(0, 42) + "!"), "");
}

struct ssh_settings_fixture : ::testing::Test
{
    test::temp_dir dir;
    std::string key = (dir / "id_ed25519").string();

    void SetUp() override
    {
        test::write_file(key, "not really a key, only its mode matters here\n");
        ::chmod(key.c_str(), 0600);
    }

    std::vector<std::string> problems_of(std::string const& type,
                                         std::vector<std::pair<std::string, std::string>> opts)
    {
        auto const* d = delivery::find_sink_type(type);
        EXPECT_NE(d, nullptr);
        config::sink_settings s;
        s.name = "phone";
        s.type = type;
        int line = 10;
        for (auto& [k, v] : opts)
            s.options.set(k, v, ++line);
        std::vector<config::problem> problems;
        auto sink = d->make(s, problems);
        std::vector<std::string> out;
        for (auto const& p : problems)
            out.push_back(std::to_string(p.line) + ": " + p.message);
        EXPECT_EQ(sink == nullptr, !out.empty());
        return out;
    }
};

TEST_F(ssh_settings_fixture, ValidSettingsMakeASink)
{
    EXPECT_EQ(problems_of("sftp", {{"url", "sftp://anna@127.0.0.1:2222/~/DCIM"},
                                   {"key", key},
                                   {"known_hosts", (dir / "kh").string()}}),
              std::vector<std::string>{});
    EXPECT_EQ(problems_of("scp", {{"url", "scp://nas/srv/photos"},
                                  {"key", key},
                                  {"host_key_sha256", key_fp},
                                  {"path", "{camera}/{name}"}}),
              std::vector<std::string>{});
}

TEST_F(ssh_settings_fixture, KeyReadableByOthersIsRefused)
{
    ::chmod(key.c_str(), 0640);
    auto p =
        problems_of("sftp", {{"url", "sftp://h/x"}, {"key", key}, {"host_key_sha256", key_fp}});
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("12: [sink.phone]: key: key file " + key +
                        " is readable or writable by group or others "
                        "(mode 0640): refusing to use it; run `chmod 600 " +
                        key + "`"),
              std::string::npos)
        << p[0];
}

TEST_F(ssh_settings_fixture, EveryProblemIsReported)
{
    auto pass = (dir / "pass").string();
    test::write_file(pass, "secret\n");
    ::chmod(pass.c_str(), 0644);
    auto p = problems_of("sftp", {{"url", "scp://u:pw@h/x?q=1"},
                                  {"key", (dir / "missing").string()},
                                  {"key_passphrase_file", pass},
                                  {"path", "/abs/{name}"}});
    std::string all;
    for (auto const& s : p)
        all += s + "\n";
    EXPECT_NE(all.find("must start with sftp://"), std::string::npos) << all;
    EXPECT_NE(all.find("holds a password"), std::string::npos) << all;
    EXPECT_NE(all.find("?query"), std::string::npos) << all;
    EXPECT_NE(all.find("key: key file"), std::string::npos) << all;
    EXPECT_NE(all.find("passphrase file " + pass + " is readable or writable by group or others"), std::string::npos)
        << all;
    EXPECT_NE(all.find("known_hosts or host_key_sha256 is required"), std::string::npos) << all;
    EXPECT_NE(all.find("path: must be relative"), std::string::npos) << all;
    auto q = problems_of("scp",
                         {{"url", "scp://h/x"}, {"key", key}, {"host_key_sha256", "SHA256:nope"}});
    ASSERT_EQ(q.size(), 1u);
    EXPECT_NE(q[0].find("host_key_sha256: must be a SHA-256 fingerprint"), std::string::npos);
}

} // namespace
