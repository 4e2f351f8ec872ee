// proto/http request parser: every named leniency, the limits and errors, and every Samsung
// request (published captures and generated vectors in test/data/samsung/) parsed at every chunk
// size with identical results.
#include "proto/http/request_parser.hpp"
#include "support/samsung_test_data.hpp"

#include <gtest/gtest.h>

#include <set>

namespace
{

namespace http = camrelay::proto::http;
namespace data = camrelay::test::samsung_data;
using http::leniency;
using http::parse_status;

data::parsed_request parse(std::string_view in, http::request_limits limits = {})
{
    return data::parse_request(in, in.size() + 1, limits);
}

/// Parses at every chunk size 1..N and checks all results equal the whole-buffer one.
data::parsed_request parse_every_chunk_size(std::string_view in, http::request_limits limits = {})
{
    auto whole = parse(in, limits);
    for (std::size_t chunk = 1; chunk <= in.size(); ++chunk)
    {
        auto r = data::parse_request(in, chunk, limits);
        EXPECT_TRUE(r == whole) << "chunk size " << chunk;
        if (!(r == whole))
            break;
    }
    return whole;
}

std::vector<parse_status> done_events(bool with_body)
{
    if (with_body)
        return {parse_status::headers_done, parse_status::body, parse_status::message_done};
    return {parse_status::headers_done, parse_status::message_done};
}

TEST(proto_http_request, plain_get)
{
    auto r = parse("GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(r.events, done_events(false));
    EXPECT_EQ(r.req.method, "GET");
    EXPECT_EQ(r.req.path, "/a/b");
    EXPECT_EQ(r.req.query, "x=1");
    EXPECT_EQ(r.req.host(), "h");
    EXPECT_EQ(r.req.version_minor, 1);
    EXPECT_TRUE(r.req.keep_alive());
    EXPECT_FALSE(r.leniencies.any());
}

TEST(proto_http_request, leniency_bare_lf)
{
    auto r = parse("GET / HTTP/1.1\nHost: h\n\n");
    EXPECT_EQ(r.events, done_events(false));
    EXPECT_EQ(r.leniencies[leniency::bare_lf], 3u);
    EXPECT_EQ(http::to_string(leniency::bare_lf), "bare_lf");
}

TEST(proto_http_request, leniency_no_space_after_colon)
{
    auto r = parse("GET / HTTP/1.1\r\nHost:h\r\nx-osp-version:v1\r\nA: b\r\n\r\n");
    EXPECT_EQ(r.leniencies[leniency::no_space_after_colon], 2u);
    EXPECT_EQ(r.req.headers.find("X-OSP-Version").value(), "v1");
    EXPECT_EQ(r.req.host(), "h");
}

TEST(proto_http_request, leniency_extra_whitespace_in_request_line)
{
    auto r = parse("POST /x?DUID=1  HTTP/1.0\r\nHost: h\r\n\r\n");
    EXPECT_EQ(r.leniencies[leniency::extra_whitespace_in_request_line], 1u);
    EXPECT_EQ(r.req.path, "/x");
    auto t = parse("GET\t/ HTTP/1.0 \r\nHost: h\r\n\r\n");
    EXPECT_EQ(t.events, done_events(false));
    EXPECT_EQ(t.leniencies[leniency::extra_whitespace_in_request_line], 1u);
}

TEST(proto_http_request, leniency_missing_host)
{
    auto r10 = parse("GET / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(r10.leniencies[leniency::missing_host], 1u);
    EXPECT_FALSE(r10.req.keep_alive());
    auto r11 = parse("GET / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r11.events, done_events(false));
    EXPECT_EQ(r11.leniencies[leniency::missing_host], 1u);
}

TEST(proto_http_request, leniency_repeated_header_keeps_all)
{
    auto r = parse("GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: a\r\nuser-agent: b\r\n\r\n");
    EXPECT_EQ(r.leniencies[leniency::repeated_header], 1u);
    auto all = r.req.headers.find_all("USER-AGENT");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], "a");
    EXPECT_EQ(all[1], "b");
    EXPECT_EQ(r.req.headers.find("user-agent").value(), "a");
}

TEST(proto_http_request, leniency_absolute_form_target)
{
    auto r = parse("POST http://snsgw.samsungmobile.com/facebook/auth HTTP/1.1\r\n"
                   "Content-Length: 0\r\n\r\n");
    EXPECT_EQ(r.leniencies[leniency::absolute_form_target], 1u);
    EXPECT_EQ(r.req.path, "/facebook/auth");
    EXPECT_EQ(r.req.authority, "snsgw.samsungmobile.com");
    EXPECT_EQ(r.req.host(), "snsgw.samsungmobile.com");
    auto p = parse("GET HTTP://h:80?q HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(p.req.path, "/");
    EXPECT_EQ(p.req.query, "q");
    EXPECT_EQ(p.req.authority, "h:80");
    EXPECT_EQ(p.req.host(), "x"); // the Host header wins
}

TEST(proto_http_request, leniency_obs_fold)
{
    auto r = parse("GET / HTTP/1.1\r\nHost: h\r\nX-Long: a\r\n  b\r\n\tc\r\n\r\n");
    EXPECT_EQ(r.leniencies[leniency::obs_fold], 2u);
    EXPECT_EQ(r.req.headers.find("x-long").value(), "a b c");
    auto bad = parse("GET / HTTP/1.1\r\n folded-first\r\n\r\n");
    EXPECT_EQ(bad.error, http::errc::bad_header);
}

TEST(proto_http_request, leniency_names_are_distinct)
{
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < http::leniency_count; ++i)
        names.insert(http::to_string(static_cast<leniency>(i)));
    EXPECT_EQ(names.size(), http::leniency_count);
    EXPECT_EQ(names.count("unknown"), 0u);
}

TEST(proto_http_request, content_length_body_aliases_input)
{
    std::string in = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloNEXT";
    http::request_parser p;
    auto v = data::bytes(in);
    auto r = p.feed(v);
    ASSERT_EQ(r.status, parse_status::headers_done);
    v = v.subspan(r.consumed);
    r = p.feed(v);
    ASSERT_EQ(r.status, parse_status::body);
    EXPECT_EQ(r.body.data(), v.data()); // not copied
    EXPECT_EQ(r.body.size(), 5u);
    v = v.subspan(r.consumed);
    r = p.feed(v);
    EXPECT_EQ(r.status, parse_status::message_done);
    EXPECT_EQ(r.consumed, 0u);
    EXPECT_EQ(v.size(), 4u); // "NEXT" left for the next message
}

TEST(proto_http_request, chunked_body)
{
    std::string in = "PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n";
    auto r = parse_every_chunk_size(in);
    EXPECT_EQ(r.events, done_events(true));
    EXPECT_EQ(r.body, "hello0123456789");
    EXPECT_TRUE(r.req.chunked);
    EXPECT_EQ(r.consumed, in.size());
    auto lf = parse("PUT /u HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n");
    EXPECT_EQ(lf.body, "abc");
    EXPECT_EQ(lf.events.back(), parse_status::message_done);
}

TEST(proto_http_request, chunked_errors)
{
    EXPECT_EQ(parse("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").error,
              http::errc::bad_chunk);
    EXPECT_EQ(parse("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n").error,
              http::errc::bad_chunk);
    EXPECT_EQ(parse("PUT / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").error,
              http::errc::bad_transfer_encoding);
    EXPECT_EQ(
        parse("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n").error,
        http::errc::bad_transfer_encoding);
    http::request_limits small;
    small.max_body_bytes = 4;
    EXPECT_EQ(
        parse("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\n", small).error,
        http::errc::body_too_large);
}

TEST(proto_http_request, limits_are_constructor_arguments)
{
    http::request_limits small;
    small.max_header_bytes = 32;
    small.max_body_bytes = 10;
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a-very-long-host-name.example\r\n\r\n", small).error,
              http::errc::header_too_large);
    EXPECT_EQ(parse("GET /" + std::string(100, 'a'), small).error, http::errc::header_too_large);
    small.max_header_bytes = 64;
    EXPECT_EQ(parse("PUT / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", small).error,
              http::errc::body_too_large);
    auto ok = parse("PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", small);
    EXPECT_EQ(ok.events, done_events(true));
}

TEST(proto_http_request, errors)
{
    EXPECT_EQ(parse("GET /\r\n\r\n").error, http::errc::bad_request_line);
    EXPECT_EQ(parse("G(T / HTTP/1.1\r\n\r\n").error, http::errc::bad_method);
    EXPECT_EQ(parse("GET x HTTP/1.1\r\n\r\n").error, http::errc::bad_target);
    EXPECT_EQ(parse("GET http:/// HTTP/1.1\r\n\r\n").error, http::errc::bad_target);
    EXPECT_EQ(parse("GET / HTTP/2.0\r\n\r\n").error, http::errc::bad_version);
    EXPECT_EQ(parse("GET / http/1.1\r\n\r\n").error, http::errc::bad_version);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nNo colon\r\n\r\n").error, http::errc::bad_header);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nName : v\r\n\r\n").error, http::errc::bad_header);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n").error, http::errc::bad_header);
    EXPECT_EQ(parse("PUT / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n").error,
              http::errc::bad_content_length);
    EXPECT_EQ(parse("PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").error,
              http::errc::bad_content_length);
    auto same = parse("PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx");
    EXPECT_EQ(same.body, "x");
    auto ec = std::error_code(http::errc::bad_chunk);
    EXPECT_STREQ(ec.category().name(), "camrelay.http");
    EXPECT_FALSE(ec.message().empty());
}

TEST(proto_http_request, errors_are_sticky_until_reset)
{
    http::request_parser p;
    auto r = p.feed(data::bytes("BAD\r\n"));
    ASSERT_EQ(r.status, parse_status::error);
    EXPECT_EQ(p.feed(data::bytes("GET / HTTP/1.1\r\n\r\n")).status, parse_status::error);
    p.reset();
    r = p.feed(data::bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    EXPECT_EQ(r.status, parse_status::headers_done);
}

TEST(proto_http_request, keep_alive_reset_keeps_leniency_counts)
{
    std::string two = "GET /1 HTTP/1.1\nHost: h\n\nPOST /2 HTTP/1.1\r\nHost: h\r\n"
                      "Content-Length: 2\r\nConnection: close\r\n\r\nok";
    http::request_parser p;
    auto v = data::bytes(two);
    auto r = p.feed(v);
    v = v.subspan(r.consumed);
    ASSERT_EQ(r.status, parse_status::headers_done);
    EXPECT_EQ(p.request().path, "/1");
    r = p.feed(v);
    ASSERT_EQ(r.status, parse_status::message_done);
    p.reset();
    r = p.feed(v);
    v = v.subspan(r.consumed);
    ASSERT_EQ(r.status, parse_status::headers_done);
    EXPECT_EQ(p.request().path, "/2");
    EXPECT_FALSE(p.request().keep_alive());
    r = p.feed(v);
    ASSERT_EQ(r.status, parse_status::body);
    v = v.subspan(r.consumed);
    EXPECT_EQ(p.feed(v).status, parse_status::message_done);
    EXPECT_EQ(p.leniencies()[leniency::bare_lf], 3u);
}

// ---- Samsung captures and vectors ----

TEST(proto_http_request, every_vector_at_every_chunk_size)
{
    auto names = data::request_vectors();
    ASSERT_GE(names.size(), 15u);
    for (auto const& name : names)
    {
        SCOPED_TRACE(name);
        auto in = data::read("vectors/" + name + ".request.bin");
        auto r = parse_every_chunk_size(in);
        ASSERT_FALSE(r.error) << r.error.message();
        EXPECT_EQ(r.events.back(), parse_status::message_done);
        EXPECT_EQ(r.consumed, in.size()); // exactly one request per file
        EXPECT_EQ(r.body.size(), r.req.content_length);
        EXPECT_EQ(in.substr(in.size() - r.body.size()), r.body);
        EXPECT_FALSE(r.req.host().empty());
    }
}

TEST(proto_http_request, vector_email_request_facts)
{
    auto in = data::read("vectors/10_email_nodash_crlf.request.bin");
    auto r = parse(in);
    EXPECT_EQ(r.req.method, "POST");
    EXPECT_EQ(r.req.path, "/social/columbus/email");
    EXPECT_EQ(r.req.query, "DUID=123456789033");
    EXPECT_EQ(r.req.version_minor, 0);
    EXPECT_EQ(r.req.host(), "www.ospserver.net");
    EXPECT_EQ(r.req.content_length, 680u);
    EXPECT_EQ(r.req.headers.find_all("user-agent").size(), 2u);
    EXPECT_EQ(r.leniencies[leniency::no_space_after_colon], 2u); // Authorization:, x-osp-version:
    EXPECT_EQ(r.leniencies[leniency::repeated_header], 1u);
    EXPECT_EQ(r.leniencies[leniency::bare_lf], 0u);
    EXPECT_FALSE(r.req.keep_alive());
}

TEST(proto_http_request, vector_put_and_login)
{
    auto put = parse(data::read("vectors/22_facebook_put1.request.bin"));
    EXPECT_EQ(put.req.method, "PUT");
    EXPECT_EQ(put.req.path, "/upload/8660418642ce45c5ae25c80a75bdb46b/SAM_0001.JPG");
    EXPECT_EQ(put.req.headers.find("content-type").value(), "image/pjpeg");
    EXPECT_EQ(put.body.size(), 34u);
    auto login = parse(data::read("vectors/20_facebook_login.request.bin"));
    EXPECT_EQ(login.req.path, "/facebook/auth");
    EXPECT_EQ(login.body, data::read("published/wiki_social_media_nx300_facebook_login.xml"));
}

TEST(proto_http_request, published_wiki_email_capture)
{
    // LF line ends (transcription), two spaces before HTTP/1.0, `Authorization:OAuth`, two
    // User-Agent lines; the body is cut off, so the parser wants more.
    auto in = data::read_published("wiki_email_service_nx300_request_headers.txt");
    auto r = parse_every_chunk_size(in);
    ASSERT_FALSE(r.error);
    EXPECT_EQ(r.events,
              std::vector<parse_status>({parse_status::headers_done, parse_status::body}));
    EXPECT_EQ(r.req.path, "/social/columbus/email");
    EXPECT_EQ(r.req.query, "DUID=123456789033");
    EXPECT_EQ(r.req.content_length, 1321295u);
    EXPECT_EQ(r.req.host(), "www.ospserver.net");
    EXPECT_EQ(r.req.headers.find("x-osp-version").value(), "v1");
    EXPECT_EQ(r.leniencies[leniency::extra_whitespace_in_request_line], 1u);
    EXPECT_EQ(r.leniencies[leniency::no_space_after_colon], 2u);
    EXPECT_EQ(r.leniencies[leniency::repeated_header], 1u);
    EXPECT_EQ(r.leniencies[leniency::bare_lf], 12u); // request line + 10 headers + empty line
    EXPECT_TRUE(r.body.starts_with("-----------------------------7d93b9550d4a\n"));
}

TEST(proto_http_request, published_fosdem_email_capture)
{
    // Absolute-form target, HTTP/1.0 without Host and without Content-Length: no body can be
    // framed (a close-delimited request body does not exist), so the message ends after the
    // head and the multipart text is left unconsumed.
    auto in = data::read_published("fosdem2025_slides_email_request.txt");
    auto r = parse_every_chunk_size(in);
    ASSERT_FALSE(r.error);
    EXPECT_EQ(r.events, done_events(false));
    EXPECT_EQ(r.req.path, "/social/columbus/email");
    EXPECT_EQ(r.req.authority, "www.ospserver.net");
    EXPECT_EQ(r.req.host(), "www.ospserver.net");
    EXPECT_EQ(r.leniencies[leniency::absolute_form_target], 1u);
    EXPECT_EQ(r.leniencies[leniency::missing_host], 1u);
    EXPECT_EQ(r.leniencies[leniency::repeated_header], 1u);
    EXPECT_TRUE(in.substr(r.consumed).starts_with("-----------------------------7d93b9550d4a\n"));
}

} // namespace
