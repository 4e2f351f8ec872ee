// proto/samsung request readers on the published captures and the generated vectors.
#include "proto/samsung/error.hpp"
#include "proto/samsung/requests.hpp"
#include "support/samsung_test_data.hpp"

#include <gtest/gtest.h>

namespace
{

namespace samsung = camrelay::proto::samsung;
namespace data = camrelay::test::samsung_data;

std::string vector_body(std::string const& name)
{
    auto in = data::read("vectors/" + name + ".request.bin");
    return in.substr(in.find("\r\n\r\n") + 4);
}

TEST(proto_samsung_requests, published_nx300_facebook_login)
{
    auto r = samsung::parse_auth_request(
        data::read_published("wiki_social_media_nx300_facebook_login.xml"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->method, "login");
    EXPECT_FALSE(r->is_logout());
    EXPECT_TRUE(r->encrypted);
    EXPECT_EQ(r->user, "f");
    EXPECT_EQ(r->password, "p");
    EXPECT_EQ(r->application_key, "6a563c3967f147d3adfa454ef913535d0d109ba4b4584914");
    EXPECT_FALSE(r->oauth_version);
    auto v = samsung::parse_auth_request(vector_body("20_facebook_login"));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->user, "f");
}

TEST(proto_samsung_requests, logout)
{
    auto r = samsung::parse_auth_request(vector_body("25_facebook_logout"));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->is_logout());
    EXPECT_EQ(r->session_key, "8660418642ce45c5ae25c80a75bdb46b");
}

TEST(proto_samsung_requests, plain_login_variant_b)
{
    auto r = samsung::parse_auth_request(
        "<Request Method=\"login\"><UserName Value=\"Camera%40samsungcamera.com\"/>"
        "<Password Value=\"p%20w\"/><CryptSessionKey Use=\"true\"/>"
        "<ApplicationKey Value=\"k\"/><OAuth Version='1.0'/></Request>");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->encrypted);
    EXPECT_EQ(r->user, "Camera@samsungcamera.com");
    EXPECT_EQ(r->password, "p w");
    EXPECT_EQ(r->oauth_version, "1.0");
}

TEST(proto_samsung_requests, auth_errors)
{
    EXPECT_EQ(samsung::parse_auth_request("").error(), samsung::errc::empty_body);
    EXPECT_EQ(samsung::parse_auth_request(" \r\n").error(), samsung::errc::empty_body);
    // Missing ApplicationKey / CryptSessionKey (the reference crashes; we report).
    EXPECT_EQ(samsung::parse_auth_request("<Request Method=\"login\"><UserName Value=\"a\"/>"
                                          "<Password Value=\"b\"/><CryptSessionKey/></Request>")
                  .error(),
              samsung::errc::missing_element);
    EXPECT_EQ(samsung::parse_auth_request("<Request Method=\"login\"><UserName Value=\"a\"/>"
                                          "<Password Value=\"b\"/><ApplicationKey Value=\"\"/>"
                                          "</Request>")
                  .error(),
              samsung::errc::missing_element);
}

TEST(proto_samsung_requests, photo_announcement)
{
    auto r = samsung::parse_upload_announcement(vector_body("21_facebook_photo1"),
                                                samsung::media_kind::photo);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->session_key, "8660418642ce45c5ae25c80a75bdb46b");
    EXPECT_EQ(r->album, "NX300");
    EXPECT_EQ(r->file_name, "SAM_0001.JPG");
    EXPECT_EQ(r->content, "Holiday shot!~fancy flower bed~traffic sign");
    EXPECT_EQ(samsung::parse_upload_announcement(vector_body("21_facebook_photo1"),
                                                 samsung::media_kind::video)
                  .error(),
              samsung::errc::missing_element);
}

TEST(proto_samsung_requests, video_announcement_and_entities)
{
    auto r = samsung::parse_upload_announcement(
        "<Request SessionKey=\"s\"><Video><Category Name=\"c\" OwnerID=\"o\"/>"
        "<File Name=\"a&amp;b.MP4\"/><Content>x &lt;3 &#x1F4F7;<![CDATA[<raw>]]></Content>"
        "</Video></Request>",
        samsung::media_kind::video);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->file_name, "a&b.MP4");
    EXPECT_EQ(r->content, "x <3 \xF0\x9F\x93\xB7<raw>");
    EXPECT_EQ(r->category_name, "c");
    EXPECT_EQ(r->category_owner, "o");
}

TEST(proto_samsung_requests, email_message_from_multipart_vector)
{
    auto body = vector_body("14_email_to_mastodon");
    auto m = data::parse_multipart(body, "---------------------------7d93b9550d4a", 7);
    ASSERT_FALSE(m.parts.empty());
    auto msg = samsung::parse_email_message(m.parts[0].data);
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg->sender, "Camera@samsungcamera.com");
    EXPECT_EQ(msg->sender_address(), "Camera@samsungcamera.com");
    ASSERT_EQ(msg->receivers.size(), 1u);
    EXPECT_EQ(msg->receivers[0], "masto@mydomain.com");
    EXPECT_EQ(msg->title, "[Samsung Smart Camera] sent you files.");
    EXPECT_EQ(msg->body, "Holiday shot!~fancy flower bed~traffic sign");
}

TEST(proto_samsung_requests, email_message_published_and_named_sender)
{
    auto in = data::read_published("fosdem2025_slides_email_request.txt");
    auto start = in.find("<?xml");
    auto msg = samsung::parse_email_message(in.substr(start, in.find("</email>") + 8 - start));
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg->receivers, std::vector<std::string>{"censored@censored.com"});
    // The slide shows the CR LF as the escape text "\r\n"; only a real line break is removed.
    EXPECT_EQ(msg->body, "Sent from Samsung Camera.\\r\\nlanguage_sh100_utf8");
    auto named = samsung::parse_email_message(
        "<email><sender>My Cam &lt;Camera@samsungcamera.com&gt;</sender><receiverList>"
        "<receiver>a@x</receiver><receiver>b@y</receiver></receiverList><title/>"
        "<body><![CDATA[hi\r\nlanguage_sh100_utf8]]></body></email>");
    ASSERT_TRUE(named);
    EXPECT_EQ(named->sender, "My Cam <Camera@samsungcamera.com>");
    EXPECT_EQ(named->sender_address(), "Camera@samsungcamera.com");
    EXPECT_EQ(named->receivers, (std::vector<std::string>{"a@x", "b@y"}));
    EXPECT_EQ(named->title, "");
    EXPECT_EQ(named->body, "hi");
    EXPECT_EQ(samsung::parse_email_message("<email/>").error(), samsung::errc::missing_element);
}

TEST(proto_samsung_requests, user_auth_request)
{
    auto r =
        samsung::parse_user_auth_request(data::read_published("nx300_userAuthRequest_example.xml"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->login_id, "xxx");
    EXPECT_EQ(r->password, "eee");
}

} // namespace
