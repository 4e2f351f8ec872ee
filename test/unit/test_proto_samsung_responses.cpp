// proto/samsung response builders against the reference's exact bytes (test/data/samsung/vectors/
// *.response.bin), ignoring the values of Date and Server and using the vector's session key,
// and against the reference templates (test/data/samsung/templates/).
#include "proto/samsung/responses.hpp"
#include "support/samsung_test_data.hpp"

#include <gtest/gtest.h>

namespace
{

namespace samsung = camrelay::proto::samsung;
namespace data = camrelay::test::samsung_data;

constexpr char const* sid = "8660418642ce45c5ae25c80a75bdb46b";

/// The first Server line and the Date line get their values blanked: the comparison the vectors'
/// README asks for. A second Server line (gld hotspot) is compared.
std::string normalise(std::string r)
{
    auto blank = [&](std::string const& name)
    {
        auto head_end = r.find("\r\n\r\n");
        auto p = r.find("\r\n" + name + ": ");
        if (p == std::string::npos || p > head_end)
            return;
        auto v = p + 2 + name.size() + 2;
        r.replace(v, r.find("\r\n", v) - v, "*");
    };
    blank("Server");
    blank("Date");
    return r;
}

samsung::response_context ctx()
{
    return {"Sat, 21 Nov 2026 14:29:01 GMT", "camrelay"};
}

void expect_matches_vector(std::string const& built, std::string const& name)
{
    auto expected = data::read("vectors/" + name + ".response.bin");
    ASSERT_FALSE(expected.empty()) << name;
    EXPECT_EQ(normalise(built), normalise(expected)) << name;
}

TEST(proto_samsung_responses, gld_hotspot)
{
    expect_matches_vector(samsung::gld_hotspot_response(ctx()), "01_gld_hotspot");
}

TEST(proto_samsung_responses, yahoo_and_msn)
{
    expect_matches_vector(samsung::redirect_response(ctx(), "http://yahoo.com"), "02a_yahoo_first");
    expect_matches_vector(samsung::hotspot_cookie_response(ctx(), "YAHOO!", ".yahoo.co.kr"),
                          "02b_yahoo_second");
    expect_matches_vector(samsung::redirect_response(ctx(), "http://msn.com"), "03a_msn_first");
    expect_matches_vector(samsung::hotspot_cookie_response(ctx(), "MSN", ".msn.com"),
                          "03b_msn_second");
}

TEST(proto_samsung_responses, index_and_time)
{
    expect_matches_vector(samsung::make_response(ctx(), 200, samsung::index_body("TestCamera")),
                          "04_index_other_host");
    expect_matches_vector(
        samsung::make_response(ctx(), 200, samsung::server_time_body(1795271341728)),
        "05_st1000_time");
}

TEST(proto_samsung_responses, email_status_succ)
{
    auto r = samsung::make_response(ctx(), 200, samsung::status_body());
    for (auto const* name : {"10_email_nodash_crlf", "11_email_nodash_nocrlf",
                             "12_email_proper_end", "14_email_to_mastodon", "22_facebook_put1"})
        expect_matches_vector(r, name);
}

TEST(proto_samsung_responses, social_login_photo_logout)
{
    expect_matches_vector(samsung::make_response(ctx(), 200, samsung::login_body(sid)),
                          "20_facebook_login");
    expect_matches_vector(
        samsung::make_response(ctx(), 200, samsung::upload_ticket_body(sid, "SAM_0001.JPG")),
        "21_facebook_photo1");
    expect_matches_vector(samsung::make_response(ctx(), 200, "Logged out for real!"),
                          "25_facebook_logout");
}

/// Renders a reference template the way Jinja does (values escaped, final newline dropped).
std::string render(std::string const& file,
                   std::vector<std::pair<std::string, std::string>> const& values)
{
    auto t = data::read("templates/" + file);
    if (!t.empty() && t.back() == '\n')
        t.pop_back();
    for (auto const& [k, v] : values)
    {
        auto key = "{{ " + k + " }}";
        for (auto p = t.find(key); p != std::string::npos; p = t.find(key, p))
        {
            t.replace(p, key.size(), samsung::xml_escape(v));
            p += v.size();
        }
    }
    return t;
}

TEST(proto_samsung_responses, bodies_equal_rendered_templates)
{
    EXPECT_EQ(samsung::status_body(), render("response-status.xml", {{"status", "succ"}}));
    EXPECT_EQ(samsung::error_body(401, "Login failed"),
              render("response-error.xml",
                     {{"errcode", "401"}, {"errsubcode", "0"}, {"comment", "Login failed"}}));
    EXPECT_EQ(samsung::error_body(400, "No 'message' in POST or unpatched Flask"),
              "<Response ErrCode=\"400\" ErrSubCode=\"0\" /><!-- No &#39;message&#39; in POST "
              "or unpatched Flask -->");
    EXPECT_EQ(samsung::login_body("abc"),
              render("response-login.xml", {{"sessionkey", "abc"},
                                            {"persistme", ""},
                                            {"csk", "abc"},
                                            {"screenname", "Samsung NX Lover"}}));
    EXPECT_EQ(samsung::upload_ticket_body("s", "a&b.JPG"),
              render("response-upload.xml", {{"sessionkey", "s"}, {"filename", "a&b.JPG"}}));
    EXPECT_EQ(samsung::index_body("<UA \"x\">"),
              render("index.html", {{"useragent", "<UA \"x\">"}}));
}

TEST(proto_samsung_responses, error_responses_and_abort_pages)
{
    auto r = samsung::error_response(ctx(), 401, "Session expired");
    EXPECT_TRUE(r.starts_with("HTTP/1.0 401 UNAUTHORIZED\r\nServer: camrelay\r\nDate: "));
    EXPECT_TRUE(r.ends_with("Connection: close\r\n\r\n<Response ErrCode=\"401\" ErrSubCode=\"0\" "
                            "/><!-- Session expired -->"));
    EXPECT_EQ(samsung::abort_body(400, "Empty POST payload"),
              "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n"
              "<h1>Bad Request</h1>\n<p>Empty POST payload</p>\n");
    EXPECT_EQ(samsung::reason_phrase(404), "NOT FOUND");
    EXPECT_EQ(samsung::reason_phrase(500), "INTERNAL SERVER ERROR");
    EXPECT_EQ(samsung::redirect_response(ctx(), "/").find("Location: /\r\nConnection: close"),
              samsung::redirect_response(ctx(), "/").find("Location: "));
}

TEST(proto_samsung_responses, http_date)
{
    using namespace std::chrono;
    auto t = sys_days{year{2026} / November / 21} + hours{14} + minutes{29} + seconds{1};
    EXPECT_EQ(samsung::http_date(t), "Sat, 21 Nov 2026 14:29:01 GMT");
}

} // namespace
