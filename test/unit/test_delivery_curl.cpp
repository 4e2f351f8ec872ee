// The shared curl helpers: outcome classification for curl codes, HTTP and SMTP statuses, and
// URL segment escaping. Transfers themselves are tested against real servers (integration).
#include "delivery/curl/curl.hpp"
#include "delivery/error.hpp"

#include <gtest/gtest.h>

namespace
{

using namespace camrelay::delivery;

condition cond(std::error_code ec)
{
    return classify(ec);
}

TEST(DeliveryCurl, CurlCodesCarryTheirCondition)
{
    EXPECT_EQ(cond(curl::make_error_code(CURLE_COULDNT_CONNECT)), condition::transient);
    EXPECT_EQ(cond(curl::make_error_code(CURLE_OPERATION_TIMEDOUT)), condition::transient);
    EXPECT_EQ(cond(curl::make_error_code(CURLE_SSH)), condition::transient);
    EXPECT_EQ(cond(curl::make_error_code(CURLE_LOGIN_DENIED)), condition::auth);
    EXPECT_EQ(cond(curl::make_error_code(CURLE_PEER_FAILED_VERIFICATION)), condition::permanent);
    EXPECT_EQ(cond(curl::make_error_code(CURLE_REMOTE_ACCESS_DENIED)), condition::permanent);
    EXPECT_EQ(cond(curl::make_error_code(CURLE_ABORTED_BY_CALLBACK)), condition::cancelled);
    EXPECT_EQ(curl::make_error_code(CURLE_COULDNT_CONNECT).category().name(),
              std::string("camrelay.curl"));
}

TEST(DeliveryCurl, HttpStatuses)
{
    EXPECT_FALSE(curl::http_status_error(200));
    EXPECT_FALSE(curl::http_status_error(201));
    EXPECT_FALSE(curl::http_status_error(204));
    EXPECT_EQ(cond(curl::http_status_error(401)), condition::auth);
    EXPECT_EQ(cond(curl::http_status_error(403)), condition::auth);
    EXPECT_EQ(cond(curl::http_status_error(404)), condition::permanent);
    EXPECT_EQ(cond(curl::http_status_error(422)), condition::permanent);
    EXPECT_EQ(cond(curl::http_status_error(429)), condition::transient);
    EXPECT_EQ(cond(curl::http_status_error(500)), condition::transient);
    EXPECT_EQ(cond(curl::http_status_error(503)), condition::transient);
    EXPECT_EQ(curl::http_status_error(507), make_error_code(errc::no_space));
}

TEST(DeliveryCurl, SmtpReplies)
{
    EXPECT_FALSE(curl::smtp_status_error(250));
    EXPECT_EQ(cond(curl::smtp_status_error(421)), condition::transient);
    EXPECT_EQ(cond(curl::smtp_status_error(451)), condition::transient);
    EXPECT_EQ(cond(curl::smtp_status_error(535)), condition::auth);
    EXPECT_EQ(cond(curl::smtp_status_error(550)), condition::permanent);
    EXPECT_EQ(curl::smtp_status_error(552), make_error_code(errc::no_space));
}

TEST(DeliveryCurl, EscapeSegment)
{
    EXPECT_EQ(curl::escape_segment("IMG_0001.JPG"), "IMG_0001.JPG");
    EXPECT_EQ(curl::escape_segment("a b/c?d#e%"), "a%20b%2Fc%3Fd%23e%25");
    EXPECT_EQ(curl::escape_segment("caf\xc3\xa9"), "caf%C3%A9");
}

} // namespace
