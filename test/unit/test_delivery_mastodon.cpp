// The Mastodon pieces that need no server: instance URL rule, the secret file (mode check,
// contents), answers and rate-limit times, and the sink's settings problems. Posting is tested
// against the API stub (test/integration/test_mastodon_sink.py).
#include "delivery/error.hpp"
#include "delivery/mastodon/mastodon_api.hpp"
#include "delivery/sink.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <string>
#include <vector>

namespace
{

using namespace camrelay;
namespace mastodon = delivery::mastodon;

std::string normalised(std::string const& url)
{
    std::string out, error;
    EXPECT_TRUE(mastodon::check_base_url(url, out, error)) << url << ": " << error;
    return out;
}

std::string refused(std::string const& url)
{
    std::string out, error;
    EXPECT_FALSE(mastodon::check_base_url(url, out, error)) << url;
    return error;
}

TEST(DeliveryMastodon, BaseUrlNeedsHttpsExceptOnLoopback)
{
    EXPECT_EQ(normalised("https://mastodon.social"), "https://mastodon.social");
    EXPECT_EQ(normalised("HTTPS://Mastodon.Social/"), "https://mastodon.social");
    EXPECT_EQ(normalised("https://example.org:8443/masto//"), "https://example.org:8443/masto");
    EXPECT_EQ(normalised("http://127.0.0.1:8089"), "http://127.0.0.1:8089");
    EXPECT_EQ(normalised("http://localhost:3000/"), "http://localhost:3000");
    EXPECT_EQ(normalised("http://[::1]:3000"), "http://[::1]:3000");
    EXPECT_NE(refused("http://mastodon.social").find("must use https://"), std::string::npos);
    EXPECT_NE(refused("http://127.0.0.2").find("must use https://"), std::string::npos);
    EXPECT_NE(refused("ftp://mastodon.social").find("https://"), std::string::npos);
    refused("https://user:pw@mastodon.social");
    refused("https://mastodon.social/?x=1");
    refused("https://mastodon.social/#top");
    refused("not a url");
    refused("");
}

class DeliveryMastodonSecret : public ::testing::Test
{
  protected:
    std::string write(std::string const& text, unsigned mode = 0600)
    {
        auto p = (dir / "secret.json").string();
        test::write_file(p, text);
        ::chmod(p.c_str(), mode);
        return p;
    }
    test::temp_dir dir;
};

TEST_F(DeliveryMastodonSecret, RoundTripsWhatLoginWrites)
{
    mastodon::credentials c{"https://example.org", "cid", "csecret", "tok\"en", "@me@example.org"};
    auto p = write(mastodon::credentials_text(c));
    mastodon::credentials back;
    std::string error;
    ASSERT_TRUE(mastodon::read_credentials(p, back, error)) << error;
    EXPECT_EQ(back.base_url, c.base_url);
    EXPECT_EQ(back.client_id, c.client_id);
    EXPECT_EQ(back.client_secret, c.client_secret);
    EXPECT_EQ(back.access_token, c.access_token);
    EXPECT_EQ(back.account, c.account);
}

TEST_F(DeliveryMastodonSecret, RefusesFilesOthersCanRead)
{
    auto p = write(R"({"base_url": "https://example.org", "access_token": "sekrit"})", 0640);
    mastodon::credentials c;
    std::string error;
    EXPECT_FALSE(mastodon::read_credentials(p, c, error));
    EXPECT_NE(error.find("mode 0640"), std::string::npos) << error;
    EXPECT_NE(error.find("chmod 600 " + p), std::string::npos) << error;
    EXPECT_EQ(error.find("sekrit"), std::string::npos) << "never quote the token";
    ::chmod(p.c_str(), 0604);
    EXPECT_FALSE(mastodon::read_credentials(p, c, error));
    ::chmod(p.c_str(), 0400);
    EXPECT_TRUE(mastodon::read_credentials(p, c, error)) << error;
}

TEST_F(DeliveryMastodonSecret, ExplainsMissingBrokenOrIncompleteFiles)
{
    mastodon::credentials c;
    std::string error;
    EXPECT_FALSE(mastodon::read_credentials((dir / "none.json").string(), c, error));
    EXPECT_NE(error.find("camrelay login mastodon"), std::string::npos) << error;
    EXPECT_FALSE(mastodon::read_credentials(write("not json"), c, error));
    EXPECT_NE(error.find("not the JSON"), std::string::npos) << error;
    EXPECT_FALSE(mastodon::read_credentials(
        write(R"({"base_url": "http://example.org", "access_token": "t"})"), c, error));
    EXPECT_NE(error.find("https://"), std::string::npos) << error;
    auto half = write(R"({"base_url": "https://example.org", "client_id": "c",
                          "client_secret": "s", "access_token": ""})");
    EXPECT_FALSE(mastodon::read_credentials(half, c, error));
    EXPECT_NE(error.find("no access_token"), std::string::npos) << error;
    EXPECT_TRUE(mastodon::read_credentials(half, c, error, false)) << "a login half done";
    EXPECT_EQ(c.client_id, "c");
}

TEST(DeliveryMastodon, Iso8601Times)
{
    EXPECT_EQ(mastodon::parse_iso8601("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(mastodon::parse_iso8601("2024-05-01T12:00:00.000Z"), 1714564800);
    EXPECT_EQ(mastodon::parse_iso8601("2024-05-01T12:00:00.123456Z"), 1714564800);
    EXPECT_EQ(mastodon::parse_iso8601("2024-05-01T14:00:00+02:00"), 1714564800);
    EXPECT_EQ(mastodon::parse_iso8601("2024-05-01T07:00:00-0500"), 1714564800);
    EXPECT_EQ(mastodon::parse_iso8601("2024-05-01T12:00:00"), 1714564800);
    EXPECT_FALSE(mastodon::parse_iso8601("tomorrow"));
    EXPECT_FALSE(mastodon::parse_iso8601("2024-05-01T12:00:00 GMT"));
    EXPECT_FALSE(mastodon::parse_iso8601(""));
}

TEST(DeliveryMastodon, RetryTimeFromRateLimitHeaders)
{
    mastodon::answer a;
    EXPECT_FALSE(mastodon::retry_time(a, 1000));
    a.retry_after = "120";
    EXPECT_EQ(mastodon::retry_time(a, 1000), 1120);
    a.retry_after = "Wed, 01 May 2024 12:00:00 GMT";
    EXPECT_EQ(mastodon::retry_time(a, 1000), 1714564800);
    a.retry_after.clear();
    a.ratelimit_reset = "2024-05-01T12:05:00.000Z";
    EXPECT_EQ(mastodon::retry_time(a, 1000), 1714564800 + 300);
    a.retry_after = "garbage";
    EXPECT_EQ(mastodon::retry_time(a, 1000), 1714564800 + 300) << "the later of the two";
}

TEST(DeliveryMastodon, AnswersAndForms)
{
    EXPECT_EQ(mastodon::json_field(R"({"id": "123", "url": null})", "id"), "123");
    EXPECT_EQ(mastodon::json_field(R"({"id": 123})", "id"), "123");
    EXPECT_FALSE(mastodon::json_field(R"({"id": "123", "url": null})", "url"));
    EXPECT_FALSE(mastodon::json_field("<html>", "id"));
    EXPECT_EQ(mastodon::server_error(R"({"error": "Validation failed: Text can't be blank"})"),
              "Validation failed: Text can't be blank");
    EXPECT_EQ(mastodon::server_error(R"({"error": "invalid_grant", "error_description": "bad"})"),
              "invalid_grant: bad");
    EXPECT_EQ(mastodon::server_error("<h1>Bad\nGateway</h1>"), "<h1>Bad Gateway</h1>");
    EXPECT_EQ(mastodon::server_error(""), "no explanation from the server");
    EXPECT_EQ(mastodon::form_encode({{"scopes", "write:media read"}, {"a&b", "c=d"}}),
              "scopes=write%3Amedia%20read&a%26b=c%3Dd");
}

TEST_F(DeliveryMastodonSecret, SinkReportsEverySettingsProblemWithItsLine)
{
    auto const* d = delivery::find_sink_type("mastodon");
    ASSERT_NE(d, nullptr);
    std::vector<config::problem> none;
    EXPECT_EQ(d->make(config::sink_settings{}, none), nullptr);
    ASSERT_EQ(none.size(), 1u);
    EXPECT_NE(none[0].message.find("secret_file: required"), std::string::npos);
    config::sink_settings s;
    s.name = "toot";
    s.type = "mastodon";
    s.line = 4;
    s.options.set("secret_file",
                  write(R"({"base_url": "https://x.org", "access_token": "t"})", 0644), 5);
    s.options.set("visibility", std::string("everyone"), 6);
    s.options.set("language", std::string("EN"), 7);
    s.options.set("media_per_post", std::int64_t{0}, 8);
    s.options.set("alt_text", std::string("{date:}"), 9);
    s.options.set("ca_file", (dir / "none.pem").string(), 10);
    std::vector<config::problem> problems;
    EXPECT_EQ(d->make(s, problems), nullptr);
    std::vector<int> lines;
    for (auto const& p : problems)
    {
        lines.push_back(p.line);
        EXPECT_EQ(p.message.rfind("[sink.toot]: ", 0), 0u) << p.message;
    }
    EXPECT_EQ(lines, (std::vector<int>{5, 6, 7, 9, 8, 10}));

    problems.clear();
    config::sink_settings good;
    good.name = "toot";
    good.type = "mastodon";
    good.options.set("secret_file",
                     write(R"({"base_url": "https://x.org", "access_token": "t"})", 0600), 5);
    good.options.set("media_per_post", std::int64_t{3}, 6);
    auto sink = d->make(good, problems);
    ASSERT_NE(sink, nullptr);
    EXPECT_TRUE(problems.empty());
    EXPECT_EQ(sink->batch_limit(), 3u);
}

} // namespace
