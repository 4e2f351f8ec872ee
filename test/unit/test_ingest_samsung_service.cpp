// ingest/samsung sns_service against a fake object_handler: every endpoint of samsung-sns.md 3,
// the reference's bytes (test/data/samsung/vectors, Date/Server/session keys ignored), the
// hotspot toggle per client, sessions, Mastodon batches, actions and limits.
#include "ingest/samsung/sns_service.hpp"
#include "proto/samsung/crypto.hpp"
#include "support/samsung_test_data.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>

namespace
{

using namespace camrelay;
using namespace camrelay::ingest;
using namespace camrelay::ingest::samsung;
namespace data = camrelay::test::samsung_data;
namespace http = camrelay::proto::http;
using namespace std::chrono_literals;

// The photo of the vectors (its bytes hold NULs: a sized view).
constexpr std::string_view fake_jpeg("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01"
                                     "\x00\x00"
                                     "FAKEJPEGDATA\xff\xd9",
                                     34);

struct stored_asset
{
    std::int64_t camera = 0;
    object_ref obj;
    std::string data;
};

struct queued_message
{
    std::int64_t camera = 0;
    message_info info;
    std::vector<message_part> parts;
};

class fake_handler : public object_handler
{
  public:
    std::vector<camera_info> cameras;
    std::map<std::int64_t, stored_asset> assets;
    std::vector<queued_message> messages;
    std::vector<std::pair<std::string, std::string>> events;
    int opened = 0;
    int discarded = 0;
    bool fail_write = false;
    bool fail_queue = false;

    class file : public incoming_file
    {
      public:
        file(fake_handler& h, std::int64_t cam, object_ref obj) : h_(h), cam_(cam), obj_(obj) {}
        ~file() override
        {
            if (!finished_)
                ++h_.discarded;
        }
        std::error_code write(std::span<const std::byte> chunk) override
        {
            if (h_.fail_write)
                return std::make_error_code(std::errc::no_space_on_device);
            data_.append(reinterpret_cast<char const*>(chunk.data()), chunk.size());
            return {};
        }
        result<std::int64_t> finish() override
        {
            finished_ = true;
            auto id = static_cast<std::int64_t>(h_.assets.size() + 1);
            h_.assets[id] = {cam_, obj_, data_};
            return id;
        }

      private:
        fake_handler& h_;
        std::int64_t cam_;
        object_ref obj_;
        std::string data_;
        bool finished_ = false;
    };

    result<std::int64_t> camera_connected(camera_info const& cam) override
    {
        cameras.push_back(cam);
        return static_cast<std::int64_t>(cameras.size());
    }
    bool already_have(std::int64_t, object_ref const&) override { return false; }
    fetch_result fetch(std::int64_t, camera_info const&, object_ref const&, fetch_fn const&,
                       bool) override
    {
        return {};
    }
    result<std::unique_ptr<incoming_file>> begin_receive(std::int64_t camera_id, camera_info const&,
                                                         object_ref const& obj) override
    {
        ++opened;
        return std::unique_ptr<incoming_file>(std::make_unique<file>(*this, camera_id, obj));
    }
    result<std::int64_t> queue_message(std::int64_t camera_id, message_info const& info,
                                       std::span<const message_part> parts) override
    {
        if (fail_queue)
            return error_result<std::int64_t>(std::make_error_code(std::errc::io_error));
        messages.push_back({camera_id, info, {parts.begin(), parts.end()}});
        return static_cast<std::int64_t>(messages.size());
    }
    void object_unreadable(std::int64_t, object_problem const& p) override
    {
        events.emplace_back("unreadable", p.key() + ": " + p.reason);
    }
    void object_recovered(std::int64_t, object_problem const& p) override
    {
        recovered.push_back(p.key());
    }
    std::vector<std::string> recovered;
    void camera_event(std::int64_t, std::string const& kind, std::string const& message) override
    {
        events.emplace_back(kind, message);
    }

    std::string const& cam_identity(std::int64_t id) const { return cameras.at(id - 1).identity; }
};

/// The test configuration of test/data/samsung/README.md in native terms.
service_settings reference_settings()
{
    service_settings s;
    s.senders = {"Camera@samsungcamera.com", "f"};
    s.secret = "xiev5kaMeehaimub";
    auto add = [&](std::string entry)
    {
        std::string target, error;
        std::vector<destination> d;
        EXPECT_TRUE(parse_action_entry(entry, target, d, error)) << error;
        s.actions[target] = d;
    };
    add("facebook = mastodon:masto");
    add("picasa = store:files");
    add("masto@mydomain.com = mastodon:masto");
    add("masto-public@mydomain.com = mastodon:masto-pub");
    add("store@mydomain.com = store:files");
    add("drop@mydomain.com = drop");
    add("shell@mydomain.com = shell:log");
    std::string error;
    EXPECT_TRUE(parse_destinations("mail:smtp", s.email_default, error));
    EXPECT_TRUE(parse_destinations("store:files", s.social_default, error));
    return s;
}

auto const t0 = wall_clock::time_point(std::chrono::seconds(1795271341));

/// Runs one raw request through the service, the way the server does; `chunk` splits the input.
std::string roundtrip(sns_service& svc, std::string_view raw,
                      std::string const& client = "10.0.0.2", wall_clock::time_point now = t0,
                      std::size_t chunk = 1 << 20, bool* early = nullptr)
{
    http::request_parser p;
    std::unique_ptr<exchange> ex;
    std::size_t pos = 0;
    while (pos <= raw.size())
    {
        auto piece = data::bytes(raw.substr(pos, std::min(chunk, raw.size() - pos)));
        pos += piece.size();
        while (true)
        {
            auto r = p.feed(piece);
            piece = piece.subspan(r.consumed);
            switch (r.status)
            {
            case http::parse_status::need_more:
                break;
            case http::parse_status::headers_done:
                ex = svc.begin(p.request(), client, now);
                if (ex->decided())
                {
                    if (early)
                        *early = true;
                    return ex->on_end(now);
                }
                continue;
            case http::parse_status::body:
                ex->on_body(r.body);
                continue;
            case http::parse_status::message_done:
                return ex->on_end(now);
            case http::parse_status::error:
                ADD_FAILURE() << "parse error " << r.error.message();
                return {};
            }
            break;
        }
        if (pos == raw.size())
            break;
    }
    ADD_FAILURE() << "request incomplete";
    return {};
}

/// Date, the first Server value, session keys and the server time are what may differ.
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
    r = std::regex_replace(r, std::regex("[0-9a-f]{32}"), "SID");
    r = std::regex_replace(r, std::regex("<currentServerTime>[0-9]{13}<"),
                           "<currentServerTime>MS<");
    return r;
}

std::string sid_of(std::string const& response)
{
    std::smatch m;
    std::regex_search(response, m, std::regex("SessionKey=\"([0-9a-f]{32})\""));
    return m.size() > 1 ? m[1].str() : std::string{};
}

std::string with_sid(std::string req, std::string const& sid)
{
    return std::regex_replace(req, std::regex("8660418642ce45c5ae25c80a75bdb46b"), sid);
}

std::string status_line(std::string const& r)
{
    return r.substr(0, r.find("\r\n"));
}

std::string body_of(std::string const& r)
{
    return r.substr(r.find("\r\n\r\n") + 4);
}

std::string post(std::string const& path, std::string const& body,
                 std::string const& host = "snsgw.samsungmobile.com")
{
    return "POST " + path + " HTTP/1.1\r\nHost: " + host +
           "\r\nContent-Type: text/xml\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

std::string put(std::string const& sid, std::string const& name, std::string const& body,
                std::string const& type = "image/jpeg")
{
    return "PUT /upload/" + sid + "/" + name +
           " HTTP/1.1\r\nHost: snsgw.samsungmobile.com\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string get(std::string const& target, std::string const& host)
{
    return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: TestCamera\r\n\r\n";
}

std::string photo_xml(std::string const& sid, std::string const& file, std::string const& content,
                      std::string const& album = "NX300")
{
    return "<Request Method=\"upload\" Timeout=\"3000\" SessionKey=\"" + sid +
           "\"><Photo><Album Name=\"" + album + "\"/><File Name=\"" + file + "\"/><Content>" +
           content + "</Content></Photo></Request>";
}

/// An NX300-shaped e-mail POST with `files` binary parts.
std::string email(std::string const& sender, std::vector<std::string> const& to,
                  std::string const& body, std::vector<std::pair<std::string, std::string>> files,
                  bool duid = true)
{
    std::string const b = "---------------------------7d93b9550d4a";
    std::string m = "--" + b +
                    "\r\ncontent-disposition: form-data; name=\"message\"; fileName=\"sample.txt\""
                    "\r\ncontent-Type: multipart/form-data;\r\n\r\n<?xml version=\"1.0\" "
                    "encoding=\"UTF-8\"?>\r\n<email><sender>" +
                    sender + "</sender><receiverList>";
    for (auto const& r : to)
        m += "<receiver>" + r + "</receiver>";
    m += "</receiverList><title><![CDATA[[Samsung Smart Camera] sent you files.]]></title> "
         "<body><![CDATA[" +
         body + "\r\nlanguage_sh100_utf8]]></body></email>\r\n";
    for (auto const& [name, bytes] : files)
        m += "--" + b + "\r\ncontent-disposition: form-data; name=\"binary\"; fileName=\"" + name +
             "\"\r\ncontent-Type: image/jpeg;\r\n\r\n" + bytes + "\r\n";
    m += "--" + b + "\r\n";
    return std::string("POST /social/columbus/email") + (duid ? "?DUID=123456789033" : "") +
           " HTTP/1.0\r\nContent-Type: multipart/form-data; boundary=" + b +
           "\r\nHost: www.ospserver.net\r\nContent-Length: " + std::to_string(m.size()) +
           "\r\n\r\n" + m;
}

std::string const login_request = data::read("vectors/20_facebook_login.request.bin");

std::string login(sns_service& svc, std::string const& site)
{
    auto raw = login_request;
    raw.replace(raw.find("/facebook/"), 10, "/" + site + "/");
    auto r = roundtrip(svc, raw);
    EXPECT_EQ(status_line(r), "HTTP/1.0 200 OK") << site;
    return sid_of(r);
}

/// Starts `raw` like the server and feeds its body only up to `body_bytes`: the exchange of a
/// request the camera did not finish (on_abort() or on_end() are the caller's).
std::unique_ptr<exchange> begin_partial(sns_service& svc, std::string_view raw,
                                        std::size_t body_bytes)
{
    http::request_parser p;
    auto head_end = raw.find("\r\n\r\n") + 4;
    auto piece = data::bytes(raw.substr(0, head_end + body_bytes));
    std::unique_ptr<exchange> ex;
    while (!piece.empty())
    {
        auto r = p.feed(piece);
        piece = piece.subspan(r.consumed);
        if (r.status == http::parse_status::headers_done)
            ex = svc.begin(p.request(), "10.0.0.2", t0);
        else if (r.status == http::parse_status::body)
            ex->on_body(r.body);
        else if (r.status == http::parse_status::need_more)
            break;
        else
            ADD_FAILURE() << "unexpected parse status";
    }
    return ex;
}

std::vector<std::string> of_kind(fake_handler const& h, std::string const& kind)
{
    std::vector<std::string> out;
    for (auto const& [k, m] : h.events)
        if (k == kind)
            out.push_back(m);
    return out;
}

bool has(std::vector<std::string> const& list, std::string const& needle)
{
    return std::any_of(list.begin(), list.end(),
                       [&](std::string const& m) { return m.find(needle) != std::string::npos; });
}

// ------------------------------------------------------------------------------------- tests

TEST(ingest_samsung_service, vectors_in_order)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    std::string sid;
    for (auto const& name : data::request_vectors())
    {
        auto req = data::read("vectors/" + name + ".request.bin");
        if (!sid.empty())
            req = with_sid(req, sid);
        auto got = roundtrip(svc, req);
        auto want = data::read("vectors/" + name + ".response.bin");
        EXPECT_EQ(normalise(got), normalise(want)) << name;
        if (name == "20_facebook_login")
            sid = sid_of(got);
    }
    ASSERT_EQ(sid.size(), 32u);
    // 10, 11, 12: one photo each, mailed through the default (11 keeps its last part, 5.1).
    ASSERT_EQ(h.messages.size(), 4u);
    for (int i = 0; i < 3; ++i)
    {
        auto const& m = h.messages[i];
        EXPECT_EQ(m.info.kind, "email");
        ASSERT_EQ(m.parts.size(), 1u);
        EXPECT_EQ(h.assets.at(m.parts[0].asset_id).data, fake_jpeg);
        EXPECT_EQ(h.assets.at(m.parts[0].asset_id).obj.name, "SAM_4371.JPG");
        EXPECT_EQ(m.info.recipients, (std::vector<std::pair<std::string, std::string>>{
                                         {"smtp", "someone@example.com"}}));
        EXPECT_EQ(m.info.body, "Sent from Samsung Camera.");
        EXPECT_EQ(h.cam_identity(m.camera), "samsung:123456789033");
    }
    // 14: the Mastodon e-mail, two photos with their alt texts.
    auto const& masto = h.messages[3];
    EXPECT_EQ(masto.info.text, "Holiday shot!");
    ASSERT_EQ(masto.parts.size(), 2u);
    EXPECT_EQ(masto.parts[0].alt_text, "fancy flower bed");
    EXPECT_EQ(masto.parts[1].alt_text, "traffic sign");
    // 22: the first photo of a two-photo post is received but not posted yet.
    EXPECT_EQ(h.assets.size(), 6u);
    EXPECT_EQ(h.assets.at(6).obj.mime, "image/jpeg"); // sent as image/pjpeg
    EXPECT_EQ(svc.session_count(), 1u);               // logout keeps the session (3.6)
}

TEST(ingest_samsung_service, hotspot_toggle_is_per_client)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto yahoo = get("/", "www.yahoo.co.kr");
    auto msn = get("/", "www.msn.com");
    EXPECT_EQ(status_line(roundtrip(svc, yahoo, "10.0.0.2")), "HTTP/1.0 302 FOUND");
    EXPECT_EQ(status_line(roundtrip(svc, yahoo, "10.0.0.3")), "HTTP/1.0 302 FOUND");
    auto cookie = roundtrip(svc, msn, "10.0.0.2"); // shared by both hosts
    EXPECT_EQ(status_line(cookie), "HTTP/1.0 200 OK");
    EXPECT_NE(cookie.find("Set-Cookie: samsung=hotspot; Domain=.msn.com; Path=/\r\n"),
              std::string::npos);
    EXPECT_EQ(body_of(cookie), "MSN");
    EXPECT_EQ(status_line(roundtrip(svc, yahoo, "10.0.0.2")), "HTTP/1.0 302 FOUND");
    EXPECT_EQ(body_of(roundtrip(svc, yahoo, "10.0.0.3")), "YAHOO!");
}

TEST(ingest_samsung_service, routes_methods_and_query)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    EXPECT_EQ(status_line(roundtrip(svc, get("/?x=1", "gld.samsungosp.com"))), "HTTP/1.0 200 OK");
    // Absolute-form target without Host: the authority decides.
    auto abs = roundtrip(svc, "GET http://gld.samsungosp.com/ HTTP/1.1\r\n\r\n");
    EXPECT_NE(abs.find("ETag: \"deadbeef\"\r\nServer: nginx/notreally\r\n"), std::string::npos);
    EXPECT_EQ(status_line(roundtrip(svc, get("/nothing/here", "x"))), "HTTP/1.0 404 NOT FOUND");
    EXPECT_EQ(status_line(roundtrip(svc, post("/", "x"))), "HTTP/1.0 405 METHOD NOT ALLOWED");
    EXPECT_EQ(status_line(roundtrip(svc, get("/facebook/auth", "x"))), "HTTP/1.0 404 NOT FOUND");
    EXPECT_EQ(status_line(roundtrip(svc, put("a", "b", "x").replace(0, 3, "DELETE"))),
              "HTTP/1.0 405 METHOD NOT ALLOWED");
    auto list = roundtrip(svc, get("/social/columbus/serviceproviders/list", "www.ospserver.net"));
    EXPECT_EQ(body_of(list), "TODO");
    auto redirect = roundtrip(svc, get("/social/columbus/email", "www.ospserver.net"));
    EXPECT_EQ(status_line(redirect), "HTTP/1.0 302 FOUND");
    EXPECT_NE(redirect.find("\r\nLocation: /\r\n"), std::string::npos);
    // HEAD: the head of the GET answer, Content-Length kept, no body.
    auto head = roundtrip(svc, "HEAD / HTTP/1.1\r\nHost: www.samsungimaging.com\r\n\r\n");
    EXPECT_EQ(status_line(head), "HTTP/1.0 200 OK");
    EXPECT_TRUE(body_of(head).empty());
    EXPECT_NE(head.find("Content-Length: "), std::string::npos);
    // Time in milliseconds from the clock passed in.
    auto time = roundtrip(svc, get("/security/sso/initialize/time", "www.ospserver.net"));
    EXPECT_NE(time.find("<currentServerTime>1795271341000</currentServerTime>"), std::string::npos);
}

TEST(ingest_samsung_service, allshare_emailid_stub)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto xml = [](std::string const& id)
    {
        return "<userAuthRequest><loginID>" + id +
               "</loginID><password>eee</password></userAuthRequest>";
    };
    auto path = "/security/sso/userprofiles/authentication/emailid";
    auto no = roundtrip(svc, post(path, xml("xxx")));
    EXPECT_EQ(status_line(no), "HTTP/1.0 401 UNAUTHORIZED");
    EXPECT_EQ(body_of(no), "Login failed");
    auto yes = roundtrip(svc, post(path, xml("f")));
    EXPECT_EQ(status_line(yes), "HTTP/1.0 500 INTERNAL SERVER ERROR");
    EXPECT_NE(body_of(yes).find("Unknown API"), std::string::npos);
}

TEST(ingest_samsung_service, email_sender_not_whitelisted_keeps_nothing)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto r = roundtrip(svc, email("Evil &lt;evil@example.com&gt;", {"someone@example.com"}, "hi",
                                  {{"A.JPG", "aaaa"}}));
    EXPECT_EQ(status_line(r), "HTTP/1.0 401 UNAUTHORIZED");
    EXPECT_EQ(body_of(r), "<Response ErrCode=\"401\" ErrSubCode=\"0\" /><!-- Sender not in "
                          "whitelist -->");
    EXPECT_TRUE(h.assets.empty());
    EXPECT_TRUE(h.messages.empty());
    EXPECT_EQ(h.opened, 0); // the message part came first: no file was even opened
}

TEST(ingest_samsung_service, email_missing_message_part)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto raw = email("Camera@samsungcamera.com", {"a@b"}, "x", {{"A.JPG", "a"}});
    raw.replace(raw.find("name=\"message\""), 14, "name=\"massage\""); // same length
    auto r = roundtrip(svc, raw);
    EXPECT_EQ(status_line(r), "HTTP/1.0 400 BAD REQUEST");
    EXPECT_EQ(body_of(r), "<Response ErrCode=\"400\" ErrSubCode=\"0\" /><!-- No &#39;message&#39; "
                          "in POST or unpatched Flask -->");
    EXPECT_TRUE(h.assets.empty());
    EXPECT_EQ(h.discarded, h.opened);
}

TEST(ingest_samsung_service, email_one_message_for_every_destination)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    std::string big(300000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<char>(i * 7 + 3);
    auto raw = email(
        "My Cam <Camera@samsungcamera.com>",
        {"store@mydomain.com", "friend@example.com", "drop@mydomain.com", "shell@mydomain.com"},
        "Look", {{"SAM 0001.JPG", big}, {"SAM 0001.JPG", "small"}, {"../x.jpg", "y"}}, false);
    for (std::size_t chunk : {std::size_t{1} << 20, std::size_t{7}})
    {
        fake_handler hh;
        sns_service s2(reference_settings(), hh);
        auto r = roundtrip(s2, raw, "10.0.0.2", t0, chunk);
        ASSERT_EQ(status_line(r), "HTTP/1.0 200 OK") << chunk;
        ASSERT_EQ(hh.messages.size(), 1u);
        auto const& m = hh.messages[0];
        // Sorted recipients; drop gives nothing; mail keeps the address.
        EXPECT_EQ(m.info.recipients, (std::vector<std::pair<std::string, std::string>>{
                                         {"smtp", "friend@example.com"},
                                         {"log", "shell@mydomain.com"},
                                         {"files", "store@mydomain.com"}}));
        EXPECT_EQ(m.info.sender, "My Cam <Camera@samsungcamera.com>");
        EXPECT_EQ(m.info.subject, "[Samsung Smart Camera] sent you files.");
        EXPECT_EQ(m.info.body, "Look");
        EXPECT_EQ(m.info.user_folder, "yZXbyiz-pZX2DqmBjoRl"); // samsung-sns.md 7.4 vector
        EXPECT_EQ(m.info.parts, 3);
        ASSERT_EQ(m.parts.size(), 3u);
        // Every destination sees the same, complete files (10 item 4 not replicated).
        EXPECT_EQ(hh.assets.at(m.parts[0].asset_id).data, big);
        EXPECT_EQ(hh.assets.at(m.parts[1].asset_id).data, "small");
        EXPECT_EQ(hh.assets.at(m.parts[0].asset_id).obj.name, "SAM_0001.JPG");
        EXPECT_EQ(hh.assets.at(m.parts[1].asset_id).obj.name, "SAM_0001-2.JPG");
        EXPECT_EQ(hh.assets.at(m.parts[2].asset_id).obj.name, "x.jpg");
        EXPECT_EQ(hh.assets.at(m.parts[0].asset_id).obj.mime, "image/jpeg");
        EXPECT_TRUE(hh.assets.at(m.parts[0].asset_id).obj.folder.starts_with("email-"));
        // No DUID: the camera is known by its sender address.
        EXPECT_EQ(hh.cam_identity(m.camera), "samsung:Camera@samsungcamera.com");
    }
}

TEST(ingest_samsung_service, email_folders_differ_per_message)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto raw = email("Camera@samsungcamera.com", {"a@b"}, "x", {{"A.JPG", "same"}});
    roundtrip(svc, raw);
    roundtrip(svc, raw);
    ASSERT_EQ(h.assets.size(), 2u);
    EXPECT_NE(h.assets.at(1).obj.folder, h.assets.at(2).obj.folder);
}

TEST(ingest_samsung_service, email_mastodon_needs_one_alt_text_per_photo)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto r =
        roundtrip(svc, email("Camera@samsungcamera.com", {"a@example.com", "masto@mydomain.com"},
                             "Only text", {{"A.JPG", "a"}}));
    EXPECT_EQ(status_line(r), "HTTP/1.0 400 BAD REQUEST");
    EXPECT_NE(body_of(r).find("<p>No alt-text</p>"), std::string::npos);
    EXPECT_TRUE(h.messages.empty()); // not even the mail recipient before it
    EXPECT_TRUE(h.assets.empty());

    r = roundtrip(svc, email("Camera@samsungcamera.com", {"masto@mydomain.com"},
                             "Text~first~second", {{"A.JPG", "a"}, {"B.JPG", "b"}}));
    EXPECT_EQ(status_line(r), "HTTP/1.0 200 OK");
    ASSERT_EQ(h.messages.size(), 1u);
    EXPECT_EQ(h.messages[0].info.text, "Text");
    EXPECT_EQ(h.messages[0].parts[1].alt_text, "second");
}

TEST(ingest_samsung_service, email_without_default_drops_unlisted_recipients)
{
    fake_handler h;
    auto s = reference_settings();
    s.email_default.clear();
    sns_service svc(s, h);
    auto r = roundtrip(
        svc, email("Camera@samsungcamera.com", {"someone@example.com"}, "x", {{"A.JPG", "a"}}));
    EXPECT_EQ(status_line(r), "HTTP/1.0 200 OK");
    EXPECT_TRUE(h.messages.empty());
    EXPECT_TRUE(h.assets.empty());
    ASSERT_EQ(h.events.size(), 1u);
    EXPECT_EQ(h.events[0].first, "warning");
    EXPECT_NE(h.events[0].second.find("someone@example.com"), std::string::npos);
}

TEST(ingest_samsung_service, email_failures_answer_500_and_keep_nothing)
{
    {
        fake_handler h;
        h.fail_write = true;
        sns_service svc(reference_settings(), h);
        auto r = roundtrip(svc, email("Camera@samsungcamera.com", {"a@b"}, "x", {{"A", "a"}}));
        EXPECT_EQ(status_line(r), "HTTP/1.0 500 INTERNAL SERVER ERROR");
        EXPECT_TRUE(h.messages.empty());
        EXPECT_TRUE(h.assets.empty());
    }
    {
        fake_handler h;
        h.fail_queue = true;
        sns_service svc(reference_settings(), h);
        auto r = roundtrip(svc, email("Camera@samsungcamera.com", {"a@b"}, "x", {{"A", "a"}}));
        EXPECT_EQ(status_line(r), "HTTP/1.0 500 INTERNAL SERVER ERROR");
        EXPECT_TRUE(h.messages.empty());
    }
}

TEST(ingest_samsung_service, email_message_part_size_cap)
{
    fake_handler h;
    auto s = reference_settings();
    s.max_message_bytes = 1024;
    sns_service svc(s, h);
    auto r = roundtrip(
        svc, email("Camera@samsungcamera.com", {"a@b"}, std::string(2000, 'x'), {{"A", "a"}}));
    EXPECT_EQ(status_line(r), "HTTP/1.0 413 REQUEST ENTITY TOO LARGE");
    EXPECT_TRUE(h.assets.empty());
}

TEST(ingest_samsung_service, login_variants_and_refusals)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto ok = roundtrip(svc, login_request);
    EXPECT_EQ(status_line(ok), "HTTP/1.0 200 OK");
    auto sid = sid_of(ok);
    EXPECT_TRUE(std::regex_match(sid, std::regex("[0-9a-f]{32}")));
    EXPECT_NE(sid, login(svc, "facebook")); // random per login

    auto oauth = login_request;
    oauth.replace(oauth.find("/facebook/"), 10, "/flickr/");
    EXPECT_EQ(body_of(roundtrip(svc, oauth)),
              "<Response ErrCode=\"401\" ErrSubCode=\"0\" /><!-- OAuth not supported -->");
    auto unknown = login_request;
    unknown.replace(unknown.find("/facebook/"), 10, "/myspace/");
    EXPECT_EQ(status_line(roundtrip(svc, unknown)), "HTTP/1.0 404 NOT FOUND");
    auto empty = roundtrip(svc, post("/facebook/auth", ""));
    EXPECT_EQ(status_line(empty), "HTTP/1.0 400 BAD REQUEST");
    EXPECT_NE(body_of(empty).find("Empty POST payload"), std::string::npos);

    // HMX-QF30: CryptSessionKey without Value, plain percent-encoded credentials.
    auto qf30 = [](std::string const& user)
    {
        return "<Request Method=\"login\"><UserName Value=\"" + user +
               "\"/><Password Value=\"p%40ss\"/><CryptSessionKey Use=\"true\"/>"
               "<ApplicationKey Value=\"k\"/></Request>";
    };
    EXPECT_EQ(status_line(roundtrip(svc, post("/picasa/auth", qf30("f")))), "HTTP/1.0 200 OK");
    EXPECT_EQ(body_of(roundtrip(svc, post("/picasa/auth", qf30("mallory")))),
              "<Response ErrCode=\"401\" ErrSubCode=\"0\" /><!-- Login failed -->");
    EXPECT_EQ(svc.session_count(), 3u);
}

TEST(ingest_samsung_service, store_upload_is_one_message_per_put)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto sid = login(svc, "picasa");
    auto ticket = roundtrip(svc, post("/picasa/photo", photo_xml(sid, "SAM_0003.JPG", "hello")));
    EXPECT_EQ(body_of(ticket), "<Response HostAddr=\"snsgw.samsungmobile.com:80\" "
                               "ResourceID=\"upload/" +
                                   sid + "/SAM_0003.JPG\" />");
    EXPECT_EQ(status_line(roundtrip(svc, put(sid, "SAM_0003.JPG", "one", "image/pjpeg"))),
              "HTTP/1.0 200 OK");
    EXPECT_EQ(status_line(roundtrip(svc, put(sid, "SAM_0003.JPG", "one"))), "HTTP/1.0 200 OK");
    ASSERT_EQ(h.messages.size(), 2u);
    auto const& m = h.messages[0];
    EXPECT_EQ(m.info.kind, "social");
    EXPECT_EQ(m.info.sender, "f");
    EXPECT_EQ(m.info.user_folder, "ypH9rgUTwVTBcEwItMuV"); // 7.4 vector for user "f"
    EXPECT_EQ(m.info.recipients,
              (std::vector<std::pair<std::string, std::string>>{{"files", "f"}}));
    EXPECT_EQ(m.info.album, "NX300");
    auto const& a1 = h.assets.at(h.messages[0].parts[0].asset_id);
    auto const& a2 = h.assets.at(h.messages[1].parts[0].asset_id);
    EXPECT_EQ(a1.data, "one");
    EXPECT_EQ(a1.obj.mime, "image/jpeg");
    EXPECT_NE(a1.obj.folder, a2.obj.folder); // the same file twice is two objects
    EXPECT_EQ(h.cam_identity(m.camera), "samsung:picasa:f");
    EXPECT_EQ(h.cameras.at(0).name, "NX300");
}

TEST(ingest_samsung_service, mastodon_batches)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto sid = login(svc, "facebook");
    auto announce = [&](std::string const& file, std::string const& content)
    { return status_line(roundtrip(svc, post("/facebook/photo", photo_xml(sid, file, content)))); };
    auto upload = [&](std::string const& file, std::string const& bytes)
    { return roundtrip(svc, put(sid, file, bytes)); };

    // No alt text at all: refused before the body.
    EXPECT_EQ(announce("A.JPG", "no alt"), "HTTP/1.0 200 OK");
    bool early = false;
    auto r = roundtrip(svc, put(sid, "A.JPG", "a"), "10.0.0.2", t0, 1 << 20, &early);
    EXPECT_EQ(status_line(r), "HTTP/1.0 400 BAD REQUEST");
    EXPECT_NE(body_of(r).find("No alt-text"), std::string::npos);
    EXPECT_TRUE(early);

    auto const content = "Holiday shot!~fancy flower bed~traffic sign";
    EXPECT_EQ(announce("SAM_0001.JPG", content), "HTTP/1.0 200 OK");
    EXPECT_EQ(status_line(upload("SAM_0001.JPG", "p1")), "HTTP/1.0 200 OK");
    EXPECT_TRUE(h.messages.empty());
    EXPECT_EQ(announce("SAM_0002.JPG", content), "HTTP/1.0 200 OK");
    EXPECT_EQ(status_line(upload("SAM_0002.JPG", "p2")), "HTTP/1.0 200 OK");
    ASSERT_EQ(h.messages.size(), 1u);
    auto const& m = h.messages[0];
    EXPECT_EQ(m.info.text, "Holiday shot!\n\n\U0001F4F7\uFE0F NX300");
    EXPECT_EQ(m.info.recipients,
              (std::vector<std::pair<std::string, std::string>>{{"masto", "f"}}));
    ASSERT_EQ(m.parts.size(), 2u);
    EXPECT_EQ(m.parts[0].alt_text, "fancy flower bed");
    EXPECT_EQ(m.parts[1].alt_text, "traffic sign");
    EXPECT_EQ(h.assets.at(m.parts[1].asset_id).data, "p2");

    // A third PUT without a new announcement: more photos than alt texts.
    r = upload("SAM_0003.JPG", "p3");
    EXPECT_NE(body_of(r).find("Not enough alt-text"), std::string::npos);
    // The same Content announced again starts a new batch (10 item 9 not replicated).
    EXPECT_EQ(announce("SAM_0003.JPG", content), "HTTP/1.0 200 OK");
    EXPECT_EQ(status_line(upload("SAM_0003.JPG", "p3")), "HTTP/1.0 200 OK");
    // A different Content posts the unfinished batch with what it has.
    EXPECT_EQ(announce("SAM_0004.JPG", "Next~alt"), "HTTP/1.0 200 OK");
    ASSERT_EQ(h.messages.size(), 2u);
    EXPECT_EQ(h.messages[1].parts.size(), 1u);
    EXPECT_EQ(status_line(upload("SAM_0004.JPG", "p4")), "HTTP/1.0 200 OK");
    ASSERT_EQ(h.messages.size(), 3u);
    EXPECT_EQ(h.messages[2].info.text, "Next\n\n\U0001F4F7\uFE0F NX300");
    EXPECT_EQ(h.messages[2].parts[0].alt_text, "alt");
    EXPECT_NE(h.assets.at(h.messages[0].parts[0].asset_id).obj.folder,
              h.assets.at(h.messages[2].parts[0].asset_id).obj.folder);
}

TEST(ingest_samsung_service, social_post_text_without_album)
{
    EXPECT_EQ(social_post_text("Hi", ""), "Hi");
    EXPECT_EQ(social_post_text("Hi", "NX1"), "Hi\n\n\xF0\x9F\x93\xB7\xEF\xB8\x8F NX1");
}

TEST(ingest_samsung_service, video_is_photo_for_facebook_and_youtube_only)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto sid = login(svc, "youtube");
    auto xml = "<Request Method=\"upload\" SessionKey=\"" + sid +
               "\"><Video><Category Name=\"People\" OwnerID=\"x\"/><File Name=\"MOV_1.MP4\"/>"
               "<Content>clip</Content></Video></Request>";
    auto r = roundtrip(svc, post("/youtube/video", xml));
    EXPECT_EQ(status_line(r), "HTTP/1.0 200 OK");
    EXPECT_NE(body_of(r).find("ResourceID=\"upload/" + sid + "/MOV_1.MP4\""), std::string::npos);
    EXPECT_EQ(status_line(roundtrip(svc, post("/picasa/video", xml))), "HTTP/1.0 404 NOT FOUND");
    // youtube is not in actions: social_default (store) takes it.
    EXPECT_EQ(status_line(roundtrip(svc, put(sid, "MOV_1.MP4", "vid", "video/mp4"))),
              "HTTP/1.0 200 OK");
    ASSERT_EQ(h.messages.size(), 1u);
    EXPECT_EQ(h.assets.at(h.messages[0].parts[0].asset_id).obj.mime, "video/mp4");
}

TEST(ingest_samsung_service, sessions_expire_and_unknown_sessions_are_refused)
{
    fake_handler h;
    auto s = reference_settings();
    s.session_ttl = 3600s;
    sns_service svc(s, h);
    auto bad = roundtrip(svc, put("deadbeef", "X.JPG", "x"));
    EXPECT_EQ(body_of(bad),
              "<Response ErrCode=\"401\" ErrSubCode=\"0\" /><!-- Session expired -->");
    EXPECT_EQ(body_of(roundtrip(svc, post("/facebook/photo", photo_xml("nope", "A", "b~c")))),
              "<Response ErrCode=\"401\" ErrSubCode=\"0\" /><!-- Session expired -->");

    auto sid = login(svc, "picasa");
    auto photo = post("/picasa/photo", photo_xml(sid, "A.JPG", "x"));
    EXPECT_EQ(status_line(roundtrip(svc, photo, "c", t0 + 3000s)), "HTTP/1.0 200 OK");
    // Sliding: 3000 s after the last use is still fine, 3601 s is not.
    EXPECT_EQ(status_line(roundtrip(svc, photo, "c", t0 + 6000s)), "HTTP/1.0 200 OK");
    EXPECT_EQ(status_line(roundtrip(svc, photo, "c", t0 + 9601s)), "HTTP/1.0 401 UNAUTHORIZED");
    EXPECT_EQ(svc.session_count(), 0u);
}

TEST(ingest_samsung_service, expired_session_posts_its_unfinished_batch)
{
    fake_handler h;
    auto s = reference_settings();
    s.session_ttl = 60s;
    sns_service svc(s, h);
    auto sid = login(svc, "facebook");
    roundtrip(svc, post("/facebook/photo", photo_xml(sid, "A.JPG", "t~a~b")));
    EXPECT_EQ(status_line(roundtrip(svc, put(sid, "A.JPG", "a"))), "HTTP/1.0 200 OK");
    EXPECT_TRUE(h.messages.empty());
    roundtrip(svc, get("/", "gld.samsungosp.com"), "c", t0 + 120s);
    ASSERT_EQ(h.messages.size(), 1u);
    EXPECT_EQ(h.messages[0].parts.size(), 1u);
}

TEST(ingest_samsung_service, social_drop_mail_and_missing_default)
{
    fake_handler h;
    auto s = reference_settings();
    s.social_default.clear();
    std::string error;
    ASSERT_TRUE(parse_destinations("mail:smtp", s.actions["picasa"], error));
    sns_service svc(s, h);
    auto sid = login(svc, "picasa");
    bool early = false;
    auto r = roundtrip(svc, put(sid, "A.JPG", "a"), "c", t0, 1 << 20, &early);
    EXPECT_EQ(status_line(r), "HTTP/1.0 200 OK");
    EXPECT_FALSE(early);                   // the camera may send it all before hearing success
    auto sid2 = login(svc, "photobucket"); // no action, no default
    EXPECT_EQ(status_line(roundtrip(svc, put(sid2, "B.JPG", "b"))), "HTTP/1.0 200 OK");
    EXPECT_TRUE(h.messages.empty());
    EXPECT_EQ(h.opened, 0);
    ASSERT_EQ(h.events.size(), 1u);
    EXPECT_NE(h.events[0].second.find("photobucket"), std::string::npos);
}

TEST(ingest_samsung_service, xml_body_size_cap)
{
    fake_handler h;
    auto s = reference_settings();
    s.max_message_bytes = 1024;
    sns_service svc(s, h);
    auto r = roundtrip(svc, post("/facebook/auth", std::string(5000, ' ')));
    EXPECT_EQ(status_line(r), "HTTP/1.0 413 REQUEST ENTITY TOO LARGE");
    EXPECT_EQ(svc.session_count(), 0u);
}

TEST(ingest_samsung_service, secure_filename_like_werkzeug)
{
    EXPECT_EQ(secure_filename("SAM 0001.JPG"), "SAM_0001.JPG");
    EXPECT_EQ(secure_filename("../../etc/passwd"), "etc_passwd");
    EXPECT_EQ(secure_filename("My cool movie.mov"), "My_cool_movie.mov");
    EXPECT_EQ(secure_filename("  _a\tb_ "), "a_b");
    EXPECT_EQ(secure_filename("\xc3\xa9t\xc3\xa9.jpg"), "t.jpg");
    EXPECT_EQ(secure_filename("..."), "");
    EXPECT_EQ(secure_filename("a<b>:c|d.jpg"), "abcd.jpg");
}

TEST(ingest_samsung_service, action_entries)
{
    std::string target, error;
    std::vector<destination> d;
    ASSERT_TRUE(parse_action_entry("shell@x = store:files, shell:log", target, d, error));
    EXPECT_EQ(target, "shell@x");
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0].kind, action_kind::store);
    EXPECT_EQ(d[0].sink, "files");
    EXPECT_EQ(d[1].kind, action_kind::shell);
    EXPECT_EQ(d[1].sink, "log");
    ASSERT_TRUE(parse_action_entry("drop@x=drop", target, d, error));
    EXPECT_EQ(d[0].kind, action_kind::drop);
    EXPECT_FALSE(parse_action_entry("x = store", target, d, error)); // sink missing
    EXPECT_NE(error.find("store:SINK"), std::string::npos);
    EXPECT_FALSE(parse_action_entry("x = tweet:t", target, d, error));
    EXPECT_FALSE(parse_action_entry("no equals", target, d, error));
    EXPECT_FALSE(parse_action_entry(" = mail:m", target, d, error));
}

} // namespace

// ------------------------------------------------------------------- no silent skip (issue 16)

TEST(ingest_samsung_service, put_cut_short_is_reported_and_resolved_by_the_retry)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto sid = login(svc, "picasa");
    roundtrip(svc, post("/picasa/photo", photo_xml(sid, "SAM_0001.JPG", "x")));
    auto raw = put(sid, "SAM_0001.JPG", "0123456789");
    auto ex = begin_partial(svc, raw, 3);
    ASSERT_TRUE(ex);
    ex->on_abort("too slow", true);
    ex.reset();
    EXPECT_TRUE(h.messages.empty());
    EXPECT_EQ(h.discarded, 1);
    auto lost = of_kind(h, "unreadable");
    ASSERT_EQ(lost.size(), 1u);
    EXPECT_NE(lost[0].find("picasa/SAM_0001.JPG: upload cut short after 3 of 10 bytes: too slow"),
              std::string::npos)
        << lost[0];
    // The camera sends it again: stored, and the failure is resolved.
    EXPECT_EQ(status_line(roundtrip(svc, raw)), "HTTP/1.0 200 OK");
    EXPECT_EQ(h.messages.size(), 1u);
    EXPECT_EQ(h.recovered, std::vector<std::string>{"picasa/SAM_0001.JPG"});
}

TEST(ingest_samsung_service, email_cut_short_reports_every_file)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto raw = email("Camera@samsungcamera.com", {"store@mydomain.com"}, "x",
                     {{"A.JPG", std::string(5000, 'a')}, {"B.JPG", std::string(5000, 'b')}});
    auto body = raw.size() - (raw.find("\r\n\r\n") + 4);
    auto ex = begin_partial(svc, raw, body - 3000); // inside B.JPG
    ASSERT_TRUE(ex);
    ex->on_abort("the connection ended before the request did", false);
    ex.reset();
    EXPECT_TRUE(h.messages.empty());
    EXPECT_TRUE(h.assets.empty());
    auto lost = of_kind(h, "unreadable");
    ASSERT_EQ(lost.size(), 2u);
    EXPECT_TRUE(has(lost, "email/A.JPG: the e-mail was cut short")) << lost[0];
    EXPECT_TRUE(has(lost, "email/B.JPG: the e-mail was cut short"));
    // A stranger's cut e-mail is only logged.
    fake_handler h2;
    sns_service svc2(reference_settings(), h2);
    auto evil = email("evil@example.com", {"store@mydomain.com"}, "x", {{"A.JPG", "aaaa"}});
    begin_partial(svc2, evil, 700)->on_abort("cut", false);
    EXPECT_TRUE(of_kind(h2, "unreadable").empty());
}

TEST(ingest_samsung_service, email_unreadable_multipart_is_400_and_keeps_nothing)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto raw = email("Camera@samsungcamera.com", {"store@mydomain.com"}, "x",
                     {{"A.JPG", "aaaa"}, {"B.JPG", "bbbb"}});
    // B's part headers grow past the multipart parser's limit: the body is unreadable from
    // there, and "succ" for A alone would lose B quietly.
    auto at = raw.find("name=\"binary\"; fileName=\"B.JPG\"");
    ASSERT_NE(at, std::string::npos);
    raw.insert(at, "x-pad: " + std::string(9000, 'p') + "\r\n");
    auto cl = raw.find("Content-Length: ") + 16;
    auto cl_end = raw.find("\r\n", cl);
    auto body = raw.size() - (raw.find("\r\n\r\n") + 4);
    raw.replace(cl, cl_end - cl, std::to_string(body));
    auto r = roundtrip(svc, raw);
    EXPECT_EQ(status_line(r), "HTTP/1.0 400 BAD REQUEST");
    EXPECT_TRUE(h.messages.empty());
    EXPECT_TRUE(h.assets.empty());
    EXPECT_TRUE(has(of_kind(h, "unreadable"), "email/A.JPG: the e-mail's multipart body is "
                                              "unreadable"));
}

TEST(ingest_samsung_service, spool_write_failure_is_500_and_an_event)
{
    fake_handler h;
    h.fail_write = true;
    sns_service svc(reference_settings(), h);
    auto r = roundtrip(svc, email("Camera@samsungcamera.com", {"a@b"}, "x", {{"A.JPG", "a"}}));
    EXPECT_EQ(status_line(r), "HTTP/1.0 500 INTERNAL SERVER ERROR");
    EXPECT_TRUE(has(of_kind(h, "unreadable"), "email/A.JPG: not stored: spool write failed"));
    auto sid = login(svc, "picasa");
    r = roundtrip(svc, put(sid, "P.JPG", "p"));
    EXPECT_EQ(status_line(r), "HTTP/1.0 500 INTERNAL SERVER ERROR");
    EXPECT_TRUE(has(of_kind(h, "unreadable"), "picasa/P.JPG: not stored: spool write failed"));
}

TEST(ingest_samsung_service, three_photos_announced_two_sent)
{
    fake_handler h;
    sns_service svc(reference_settings(), h);
    auto sid = login(svc, "facebook");
    auto const content = "Three~one~two~three";
    for (std::string name : {"SAM_1.JPG", "SAM_2.JPG"})
    {
        roundtrip(svc, post("/facebook/photo", photo_xml(sid, name, content)));
        EXPECT_EQ(status_line(roundtrip(svc, put(sid, name, name))), "HTTP/1.0 200 OK");
    }
    roundtrip(svc, post("/facebook/photo", photo_xml(sid, "SAM_3.JPG", content)));
    EXPECT_TRUE(h.messages.empty());
    EXPECT_TRUE(h.events.empty());
    // Another post begins: the short batch is posted with its two, and both gaps are said.
    roundtrip(svc, post("/facebook/photo", photo_xml(sid, "SAM_9.JPG", "Next~alt")));
    ASSERT_EQ(h.messages.size(), 1u);
    EXPECT_EQ(h.messages[0].parts.size(), 2u);
    EXPECT_TRUE(has(of_kind(h, "warning"), "2 of 3 announced photos arrived (new post started)"));
    auto lost = of_kind(h, "unreadable");
    ASSERT_EQ(lost.size(), 1u);
    EXPECT_NE(lost[0].find("facebook/SAM_3.JPG: announced but never sent"), std::string::npos);
    // A camera that re-announces the file it is about to send is no loss.
    roundtrip(svc, post("/facebook/photo", photo_xml(sid, "SAM_9.JPG", "Next~alt")));
    EXPECT_EQ(of_kind(h, "unreadable").size(), 1u);
}

TEST(ingest_samsung_service, announced_file_lost_with_an_expired_session)
{
    fake_handler h;
    auto s = reference_settings();
    s.session_ttl = 60s;
    sns_service svc(s, h);
    auto sid = login(svc, "picasa");
    roundtrip(svc, post("/picasa/photo", photo_xml(sid, "A.JPG", "x")));
    roundtrip(svc, get("/", "gld.samsungosp.com"), "c", t0 + 120s);
    EXPECT_TRUE(has(of_kind(h, "unreadable"), "picasa/A.JPG: announced but never sent: the "
                                              "session expired"));
}
