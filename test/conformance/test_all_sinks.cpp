// One contract for every registered sink (libsigrok's driver_all idea): each sink type in
// delivery::registry() must have a profile here, describe its options, reject empty settings with
// problems naming the sink, build from minimal settings, honour cancellation quickly without
// writing anything, and classify a failure to reach its destination. Per-sink behaviour against
// real servers is in test/integration/.
#include "delivery/error.hpp"
#include "core/sha256.hpp"
#include "delivery/sink.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

namespace
{

using namespace camrelay;
using namespace std::chrono_literals;

/// How to drive one sink type in the contract tests.
struct sink_profile
{
    /// Settings that build a working sink writing under `dest` (a fresh temp folder).
    std::function<void(config::option_values&, std::filesystem::path const& dest)> working;
    /// Settings that build a sink whose destination cannot be reached now.
    std::function<void(config::option_values&, std::filesystem::path const& dest)> unreachable;
};

// sftp/scp: a key file (0600, only its mode is checked before connecting) outside `dest`, a
// pinned host key, and port 1 on loopback (closed).
std::function<void(config::option_values&, std::filesystem::path const&)> ssh_profile(
    std::string scheme)
{
    return [scheme](auto& o, auto const&) {
        static test::temp_dir keys;
        auto key = keys / "id_ed25519";
        test::write_file(key, "key");
        std::filesystem::permissions(key, std::filesystem::perms::owner_read |
                                              std::filesystem::perms::owner_write);
        o.set("url", scheme + "://127.0.0.1:1/photos", 3);
        o.set("key", key.string(), 4);
        o.set("host_key_sha256", std::string("SHA256:PeXgjbTriATHI+O+QgAQOKEhz4hSPmTHUJuy6k0WL8c"),
              5);
    };
}

// mastodon: a secret file (0600) outside `dest` naming an instance on a closed loopback port.
std::function<void(config::option_values&, std::filesystem::path const&)> mastodon_profile()
{
    return [](auto& o, auto const&) {
        static test::temp_dir secrets;
        auto file = secrets / "mastodon.json";
        test::write_file(file, R"({"base_url": "http://127.0.0.1:1", "access_token": "t"})");
        std::filesystem::permissions(file, std::filesystem::perms::owner_read |
                                               std::filesystem::perms::owner_write);
        o.set("secret_file", file.string(), 3);
    };
}

std::map<std::string, sink_profile> const& profiles()
{
    static std::map<std::string, sink_profile> const all = {
        {"folder",
         {[](auto& o, auto const& dest) { o.set("path", (dest / "{name}").string(), 3); },
          // Under a regular file: no folder can be created there.
          [](auto& o, auto const& dest) {
              test::write_file(dest / "blocker", "x");
              o.set("path", (dest / "blocker" / "{name}").string(), 3);
          }}},
        {"shell",
         {[](auto& o, auto const& dest) {
              o.set("command",
                    std::vector<std::string>{"/bin/sh", "-c", "cp \"$1\" \"$2\"", "sh", "{path}",
                                             (dest / "{name}").string()},
                    3);
          },
          [](auto& o, auto const&) {
              o.set("command", std::vector<std::string>{"/nonexistent/camrelay-uploader"}, 3);
          }}},
        // Network sinks add their profile here (unreachable = a closed port on 127.0.0.1).
        // smtp: cancellation and a missing spool file are decided before any connection, so the
        // "working" profile needs no server; port 1 on loopback is closed.
        {"smtp",
         {[](auto& o, auto const&) {
              o.set("url", std::string("smtp://127.0.0.1:1"), 3);
              o.set("starttls", std::string("never"), 4);
              o.set("from", std::string("cam@example.org"), 5);
              o.set("to", std::vector<std::string>{"me@example.org"}, 6);
          },
          [](auto& o, auto const&) {
              o.set("url", std::string("smtp://127.0.0.1:1"), 3);
              o.set("starttls", std::string("never"), 4);
              o.set("from", std::string("cam@example.org"), 5);
              o.set("to", std::vector<std::string>{"me@example.org"}, 6);
          }}},
        {"webdav",
         {[](auto& o, auto const&) { o.set("url", std::string("http://127.0.0.1:1/dav"), 3); },
          [](auto& o, auto const&) { o.set("url", std::string("http://127.0.0.1:1/dav"), 3); }}},
        {"sftp", {ssh_profile("sftp"), ssh_profile("sftp")}},
        {"mastodon", {mastodon_profile(), mastodon_profile()}},
        {"scp", {ssh_profile("scp"), ssh_profile("scp")}},
    };
    return all;
}

std::vector<std::string> registered_types()
{
    std::vector<std::string> out;
    for (auto const& d : delivery::registry())
        out.emplace_back(d.type);
    return out;
}

class SinkContract : public ::testing::TestWithParam<std::string>
{
  protected:
    delivery::sink_descriptor const& descriptor()
    {
        auto const* d = delivery::find_sink_type(GetParam());
        EXPECT_NE(d, nullptr);
        return *d;
    }
    sink_profile const& profile()
    {
        auto it = profiles().find(GetParam());
        if (it == profiles().end())
            throw std::runtime_error("no contract profile for sink type " + GetParam());
        return it->second;
    }
    config::sink_settings settings_with(
        std::function<void(config::option_values&, std::filesystem::path const&)> const& fill)
    {
        config::sink_settings s;
        s.name = "contract";
        s.type = GetParam();
        s.line = 2;
        fill(s.options, dest.path());
        return s;
    }
    asset_info spooled_asset()
    {
        asset_info a;
        a.id = 1;
        a.name = "IMG_0001.JPG";
        a.folder = "/DCIM/100TEST";
        a.size = 6;
        a.sha256 = sha256::hex_of("photo!");
        a.mime = "image/jpeg";
        a.camera_name = "Cam";
        a.model = "Cam";
        a.source_kind = "usb";
        a.capture_time = 1714564801;
        a.spool_path = (spool / "IMG_0001.JPG").string();
        test::write_file(a.spool_path, "photo!");
        return a;
    }

    test::temp_dir dest;
    test::temp_dir spool;
};

TEST_P(SinkContract, HasAProfileHere)
{
    EXPECT_TRUE(profiles().count(GetParam()))
        << "add a sink_profile for '" << GetParam() << "' in test/conformance/test_all_sinks.cpp";
}

TEST_P(SinkContract, DescribesItsOptions)
{
    auto const& d = descriptor();
    EXPECT_FALSE(d.summary.empty());
    std::set<std::string_view> names;
    for (auto const& o : d.options)
    {
        EXPECT_FALSE(o.description.empty()) << o.name;
        EXPECT_TRUE(names.insert(o.name).second) << "option listed twice: " << o.name;
        EXPECT_FALSE(o.required && !o.default_text.empty())
            << o.name << " is required and also has a default";
    }
}

TEST_P(SinkContract, EmptySettingsAreRejectedWithProblemsNamingTheSink)
{
    std::vector<config::problem> problems;
    config::sink_settings s;
    s.name = "contract";
    s.type = GetParam();
    auto sink = descriptor().make(s, problems);
    bool any_required = false;
    for (auto const& o : descriptor().options)
        any_required = any_required || o.required;
    if (!any_required)
        GTEST_SKIP() << "no required option";
    EXPECT_EQ(sink, nullptr);
    ASSERT_FALSE(problems.empty());
    for (auto const& p : problems)
        EXPECT_NE(p.message.find("[sink.contract]"), std::string::npos) << p.message;
}

TEST_P(SinkContract, BuildsFromMinimalSettings)
{
    std::vector<config::problem> problems;
    auto sink = descriptor().make(settings_with(profile().working), problems);
    EXPECT_NE(sink, nullptr);
    for (auto const& p : problems)
        ADD_FAILURE() << p.message;
    ASSERT_NE(sink, nullptr);
    EXPECT_GE(sink->batch_limit(), 1u);
}

TEST_P(SinkContract, CancellationIsHonouredQuicklyAndWritesNothing)
{
    std::vector<config::problem> problems;
    auto sink = descriptor().make(settings_with(profile().working), problems);
    ASSERT_NE(sink, nullptr);
    auto a = spooled_asset();
    std::stop_source stop;
    stop.request_stop();
    auto start = std::chrono::steady_clock::now();
    auto out = sink->deliver({7, 1, a, stop.get_token()});
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    ASSERT_FALSE(out) << "a cancelled delivery must not report success";
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::cancelled) << out.message;
    EXPECT_TRUE(test::files_below(dest.path()).empty()) << "cancelled delivery left files";
}

TEST_P(SinkContract, UnreachableDestinationIsAClassifiedFailure)
{
    std::vector<config::problem> problems;
    auto sink = descriptor().make(settings_with(profile().unreachable), problems);
    ASSERT_NE(sink, nullptr);
    auto a = spooled_asset();
    auto start = std::chrono::steady_clock::now();
    auto out = sink->deliver({8, 1, a, std::stop_source().get_token()});
    EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
    ASSERT_FALSE(out);
    EXPECT_FALSE(out.message.empty()) << "a failure must say what happened";
    auto c = delivery::classify(out.error);
    EXPECT_TRUE(c == delivery::condition::transient || c == delivery::condition::permanent ||
                c == delivery::condition::auth)
        << out.message;
}

TEST_P(SinkContract, MissingSpoolFileIsAPermanentFailure)
{
    std::vector<config::problem> problems;
    auto sink = descriptor().make(settings_with(profile().working), problems);
    ASSERT_NE(sink, nullptr);
    auto a = spooled_asset();
    std::filesystem::remove(a.spool_path);
    auto out = sink->deliver({9, 1, a, std::stop_source().get_token()});
    ASSERT_FALSE(out);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::permanent) << out.message;
}

INSTANTIATE_TEST_SUITE_P(Registry, SinkContract, ::testing::ValuesIn(registered_types()),
                         [](::testing::TestParamInfo<std::string> const& p) { return p.param; });

} // namespace
