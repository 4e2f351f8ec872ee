// The smtp sink without a server: option checks (every problem with its line, the password
// file's mode), header sanitising and encoding of camera-supplied values, Message-ID stability,
// and the size arithmetic that splits batches. Sending is tested against aiosmtpd in
// test/integration/test_smtp_sink.py.
#include "delivery/error.hpp"
#include "delivery/sink.hpp"
#include "delivery/smtp/smtp_message.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <string>
#include <vector>

namespace
{

using namespace camrelay;
namespace smtp = camrelay::delivery::smtp;

struct smtp_options : ::testing::Test
{
    test::temp_dir dir;

    config::sink_settings base()
    {
        config::sink_settings s;
        s.name = "mail";
        s.type = "smtp";
        s.line = 10;
        s.options.set("url", std::string("smtp://127.0.0.1:2525"), 11);
        s.options.set("from", std::string("cam@example.org"), 12);
        s.options.set("to", std::vector<std::string>{"me@example.org"}, 13);
        return s;
    }

    std::vector<config::problem> problems_of(config::sink_settings const& s)
    {
        std::vector<config::problem> problems;
        auto sink = delivery::find_sink_type("smtp")->make(s, problems);
        EXPECT_EQ(sink == nullptr, !problems.empty());
        return problems;
    }

    std::string password_file(mode_t mode, std::string const& text = "s3cret\n")
    {
        auto path = (dir / "password").string();
        test::write_file(path, text);
        ::chmod(path.c_str(), mode);
        return path;
    }
};

bool mentions(std::vector<config::problem> const& problems, std::string const& text, int line)
{
    for (auto const& p : problems)
        if (p.message.find(text) != std::string::npos && p.line == line &&
            p.message.find("[sink.mail]") != std::string::npos)
            return true;
    return false;
}

TEST_F(smtp_options, MinimalSettingsBuildAPerPhotoSink)
{
    std::vector<config::problem> problems;
    auto sink = delivery::find_sink_type("smtp")->make(base(), problems);
    ASSERT_NE(sink, nullptr) << (problems.empty() ? "" : problems[0].message);
    EXPECT_EQ(sink->batch_limit(), 1u);
}

TEST_F(smtp_options, BatchModeTakesBatchMax)
{
    auto s = base();
    s.options.set("mode", std::string("batch"), 14);
    s.options.set("batch_max", std::int64_t{7}, 15);
    std::vector<config::problem> problems;
    auto sink = delivery::find_sink_type("smtp")->make(s, problems);
    ASSERT_NE(sink, nullptr);
    EXPECT_EQ(sink->batch_limit(), 7u);
}

TEST_F(smtp_options, EveryProblemIsReportedWithItsLine)
{
    auto s = base();
    s.options.set("url", std::string("http://example.org"), 11);
    s.options.set("from", std::string("not an address"), 12);
    s.options.set("to", std::vector<std::string>{"ok@example.org", "Evil\r\nBcc: x@y.z"}, 13);
    s.options.set("starttls", std::string("sometimes"), 14);
    s.options.set("mode", std::string("digest"), 15);
    s.options.set("batch_max", std::int64_t{0}, 16);
    s.options.set("subject", std::string("{nope}"), 17);
    s.options.set("max_message_bytes", std::int64_t{10}, 18);
    auto problems = problems_of(s);
    EXPECT_TRUE(mentions(problems, "url: scheme must be smtp:// or smtps://", 11));
    EXPECT_TRUE(mentions(problems, "from:", 12));
    EXPECT_TRUE(mentions(problems, "to: 'Evil", 13));
    EXPECT_TRUE(mentions(problems, "starttls: must be required, optional or never", 14));
    EXPECT_TRUE(mentions(problems, "mode: must be per-photo or batch", 15));
    EXPECT_TRUE(mentions(problems, "batch_max", 16));
    EXPECT_TRUE(mentions(problems, "subject:", 17));
    EXPECT_TRUE(mentions(problems, "max_message_bytes", 18));
}

TEST_F(smtp_options, NoCredentialsInTheUrl)
{
    auto s = base();
    s.options.set("url", std::string("smtp://me:secret@127.0.0.1:2525"), 11);
    auto problems = problems_of(s);
    EXPECT_TRUE(mentions(problems, "no user name or password in the URL", 11));
    for (auto const& p : problems)
        EXPECT_EQ(p.message.find("secret@"), std::string::npos) << "echoes the password";
}

TEST_F(smtp_options, PasswordFileMustBePrivate)
{
    auto s = base();
    s.options.set("username", std::string("me"), 20);
    s.options.set("password_file", password_file(0644), 21);
    auto problems = problems_of(s);
    EXPECT_TRUE(mentions(problems, "mode 0644", 21));
    EXPECT_TRUE(mentions(problems, "chmod 600", 21));

    s.options.set("password_file", password_file(0600), 21);
    EXPECT_TRUE(problems_of(s).empty());
    s.options.set("password_file", password_file(0400), 21);
    EXPECT_TRUE(problems_of(s).empty());
    s.options.set("password_file", password_file(0640), 21);
    EXPECT_FALSE(problems_of(s).empty());
}

TEST_F(smtp_options, PasswordFileProblems)
{
    auto s = base();
    s.options.set("username", std::string("me"), 20);
    EXPECT_TRUE(mentions(problems_of(s), "password_file: username is set", 10));

    s.options.set("password_file", (dir / "missing").string(), 21);
    EXPECT_TRUE(mentions(problems_of(s), "cannot be read", 21));
    s.options.set("password_file", std::string("relative/pw"), 21);
    EXPECT_TRUE(mentions(problems_of(s), "absolute", 21));
    s.options.set("password_file", password_file(0600, "\n"), 21);
    EXPECT_TRUE(mentions(problems_of(s), "empty", 21));

    auto t = base();
    t.options.set("password_file", password_file(0600), 21);
    EXPECT_TRUE(mentions(problems_of(t), "username: password_file is set", 10));
}

TEST_F(smtp_options, NoPasswordOverPlainText)
{
    auto s = base();
    s.options.set("username", std::string("me"), 20);
    s.options.set("password_file", password_file(0600), 21);
    s.options.set("starttls", std::string("never"), 22);
    EXPECT_TRUE(mentions(problems_of(s), "unencrypted", 22));
    s.options.set("starttls", std::string("optional"), 22);
    EXPECT_TRUE(problems_of(s).empty());
}

TEST_F(smtp_options, SmtpsIsImplicitTls)
{
    auto s = base();
    s.options.set("url", std::string("smtps://127.0.0.1:4650"), 11);
    EXPECT_TRUE(problems_of(s).empty());
    s.options.set("starttls", std::string("never"), 14);
    EXPECT_TRUE(mentions(problems_of(s), "smtps:// is TLS from the start", 14));
}

TEST_F(smtp_options, MissingSettingsNameTheSink)
{
    config::sink_settings s;
    s.name = "mail";
    s.type = "smtp";
    s.line = 4;
    auto problems = problems_of(s);
    EXPECT_TRUE(mentions(problems, "url: missing", 4));
    EXPECT_TRUE(mentions(problems, "from: missing", 4));
    // `to` may be left out: pushed messages (Samsung e-mails) bring their own recipients.
    EXPECT_FALSE(mentions(problems, "to:", 4));
}

TEST_F(smtp_options, OversizedPhotoFailsPermanentlyWithoutAServer)
{
    auto s = base();
    s.options.set("url", std::string("smtp://127.0.0.1:1"), 11); // nothing listens
    s.options.set("starttls", std::string("never"), 14);
    s.options.set("max_message_bytes", std::int64_t{8192}, 15);
    std::vector<config::problem> problems;
    auto sink = delivery::find_sink_type("smtp")->make(s, problems);
    ASSERT_NE(sink, nullptr);
    asset_info a;
    a.name = "BIG.JPG";
    a.sha256 = "ab";
    a.spool_path = (dir / "big").string();
    test::write_file(a.spool_path, std::string(20000, 'x'));
    auto out = sink->deliver({5, 1, a, std::stop_source().get_token()});
    ASSERT_FALSE(out);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::permanent);
    EXPECT_NE(out.message.find("BIG.JPG is too large"), std::string::npos) << out.message;
    EXPECT_NE(out.message.find("20000 bytes"), std::string::npos) << out.message;
    EXPECT_NE(out.message.find("max_message_bytes 0.0 MiB (8192 bytes)"), std::string::npos)
        << out.message;
}

// ----------------------------------------------------------------------------- headers

TEST(SmtpHeaders, CameraValuesCannotInjectHeaders)
{
    EXPECT_EQ(smtp::clean_header_text("IMG.JPG\r\nBcc: victim@example.org"),
              "IMG.JPG Bcc: victim@example.org");
    EXPECT_EQ(smtp::clean_header_text("a\rb\nc\td\x01"
                                      "e\x7f"
                                      "f"),
              "a b c d e f");
    EXPECT_EQ(smtp::clean_header_text("  lots   of\n\n space  "), "lots of space");
    // C1 controls and the Unicode line separators too.
    EXPECT_EQ(smtp::clean_header_text("a\xc2\x85"
                                      "b\xe2\x80\xa8"
                                      "c"),
              "a b c");
    // Invalid UTF-8 becomes '?', so encoded words hold valid UTF-8.
    EXPECT_EQ(smtp::clean_header_text("caf\xe9.JPG"), "caf?.JPG");
    EXPECT_EQ(smtp::clean_header_text("\xc0\xaf"), "??"); // overlong '/'
    auto long_name = std::string(300, 'a');
    EXPECT_EQ(smtp::clean_header_text(long_name).size(), 200u);
    // Cut on a character boundary.
    auto cut = smtp::clean_header_text("\xc3\xa9\xc3\xa9\xc3\xa9", 5);
    EXPECT_EQ(cut, "\xc3\xa9\xc3\xa9");
}

TEST(SmtpHeaders, SubjectEncodedWhenNotAscii)
{
    EXPECT_EQ(smtp::encode_unstructured("Photo IMG_0001.JPG from X-T4"),
              "Photo IMG_0001.JPG from X-T4");
    EXPECT_EQ(smtp::encode_unstructured("Fot\xc3\xb3"), "=?UTF-8?B?Rm90w7M=?=");
    // Long: several encoded words of at most 75 characters, folded, no CR/LF otherwise.
    std::string text;
    for (int i = 0; i < 40; ++i)
        text += "\xe5\x86\x99"; // 写
    auto enc = smtp::encode_unstructured(text);
    std::size_t pos = 0;
    int words = 0;
    while (pos < enc.size())
    {
        auto end = enc.find("\r\n ", pos);
        auto word = enc.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        EXPECT_LE(word.size(), 75u) << word;
        EXPECT_EQ(word.rfind("=?UTF-8?B?", 0), 0u) << word;
        EXPECT_EQ(word.substr(word.size() - 2), "?=");
        ++words;
        pos = end == std::string::npos ? enc.size() : end + 3;
    }
    EXPECT_EQ(words, 3); // 120 bytes in words of at most 45 (15 characters)
}

TEST(SmtpHeaders, AttachmentNames)
{
    EXPECT_EQ(smtp::attachment_name("IMG_0001.JPG"), "IMG_0001.JPG");
    EXPECT_EQ(smtp::attachment_name("../../etc/passwd"), ".._.._etc_passwd");
    EXPECT_EQ(smtp::attachment_name("a\r\nb.JPG"), "a b.JPG");
    EXPECT_EQ(smtp::attachment_name(""), "photo");
    EXPECT_EQ(smtp::content_disposition("IMG_0001.JPG"),
              "Content-Disposition: attachment; filename=\"IMG_0001.JPG\"");
    EXPECT_EQ(smtp::content_disposition("it's \"q\".JPG"),
              "Content-Disposition: attachment; filename*=UTF-8''it%27s%20%22q%22.JPG");
    EXPECT_EQ(smtp::content_disposition("\xe5\x86\x99 1.JPG"),
              "Content-Disposition: attachment; filename*=UTF-8''%E5%86%99%201.JPG");
}

TEST(SmtpHeaders, ContentTypes)
{
    EXPECT_EQ(smtp::content_type_for("image/jpeg", "x.bin"), "image/jpeg");
    EXPECT_EQ(smtp::content_type_for("", "IMG.JPG"), "image/jpeg");
    EXPECT_EQ(smtp::content_type_for("bad type\r\nX: y", "DSC.RAF"), "image/x-fuji-raf");
    EXPECT_EQ(smtp::content_type_for("", "MVI.MOV"), "video/quicktime");
    EXPECT_EQ(smtp::content_type_for("", "README"), "application/octet-stream");
}

TEST(SmtpHeaders, Mailboxes)
{
    smtp::mailbox m;
    std::string err;
    ASSERT_TRUE(smtp::parse_mailbox("me@example.org", m, err));
    EXPECT_EQ(smtp::format_mailbox(m), "me@example.org");
    ASSERT_TRUE(smtp::parse_mailbox("Camera Relay <cam@example.org>", m, err));
    EXPECT_EQ(m.address, "cam@example.org");
    EXPECT_EQ(smtp::format_mailbox(m), "\"Camera Relay\" <cam@example.org>");
    ASSERT_TRUE(smtp::parse_mailbox("\"Zo\xc3\xab\" <z@example.org>", m, err));
    EXPECT_EQ(smtp::format_mailbox(m), "=?UTF-8?B?Wm/Dqw==?= <z@example.org>");
    EXPECT_FALSE(smtp::parse_mailbox("a@b.c\r\nBcc: x@y.z", m, err));
    EXPECT_FALSE(smtp::parse_mailbox("nobody", m, err));
    EXPECT_FALSE(smtp::parse_mailbox("a b@c.d", m, err));
    EXPECT_FALSE(smtp::parse_mailbox("<a@b.c> trailing", m, err));
    EXPECT_FALSE(smtp::parse_mailbox("x <a@b.c", m, err));
}

TEST(SmtpHeaders, DateIsRfc5322InUtc)
{
    EXPECT_EQ(smtp::rfc5322_date(1714564801), "Wed, 01 May 2024 12:00:01 +0000");
}

TEST(SmtpHeaders, MessageIdIsStablePerJobAndContent)
{
    std::vector<std::pair<std::int64_t, std::string>> one = {{12, "ABCDEF0123456789ffff"}};
    auto id = smtp::message_id(one, "example.org");
    EXPECT_EQ(id, "<camrelay.12.abcdef0123456789@example.org>");
    EXPECT_EQ(smtp::message_id(one, "example.org"), id);
    EXPECT_EQ(smtp::message_id(one, "bad domain\r\n"), "<camrelay.12.abcdef0123456789@baddomain>");
    EXPECT_EQ(smtp::message_id(one, ""), "<camrelay.12.abcdef0123456789@camrelay.invalid>");

    std::vector<std::pair<std::int64_t, std::string>> two = {{3, "aa"}, {4, "bb"}};
    auto batch = smtp::message_id(two, "example.org");
    EXPECT_EQ(batch, smtp::message_id(two, "example.org"));
    EXPECT_EQ(batch.rfind("<camrelay.3-4.", 0), 0u);
    two[1].second = "cc";
    EXPECT_NE(smtp::message_id(two, "example.org"), batch);
}

// ----------------------------------------------------------------------------- sizes

TEST(SmtpSizes, Base64Arithmetic)
{
    EXPECT_EQ(smtp::base64_bytes(0), 0u);
    EXPECT_EQ(smtp::base64_bytes(1), 6u);   // "xx==" + CRLF
    EXPECT_EQ(smtp::base64_bytes(57), 78u); // one full 76-character line
    EXPECT_EQ(smtp::base64_bytes(58), 84u);
    // 25 MiB of photo is about 34.6 MB as mail: a third more, plus line ends.
    EXPECT_EQ(smtp::base64_bytes(25 * 1024 * 1024), 34952536u + 2 * 459902u);
}

TEST(SmtpSizes, BatchesSplitToStayUnderTheLimit)
{
    std::uint64_t const fixed = 4096;
    auto msg = [&](std::vector<std::uint64_t> sizes)
    { return smtp::estimated_message_bytes(sizes, fixed); };
    std::vector<std::uint64_t> sizes = {300000, 300000, 300000, 300000, 300000};
    // A limit fitting exactly two photos per message.
    auto limit = msg({300000, 300000});
    auto plan = smtp::plan_messages(sizes, 10, limit, fixed);
    ASSERT_EQ(plan.messages.size(), 3u);
    EXPECT_EQ(plan.messages[0], (std::vector<std::size_t>{0, 1}));
    EXPECT_EQ(plan.messages[1], (std::vector<std::size_t>{2, 3}));
    EXPECT_EQ(plan.messages[2], (std::vector<std::size_t>{4}));
    EXPECT_TRUE(plan.too_large.empty());

    // batch_max caps the count.
    plan = smtp::plan_messages(sizes, 2, 1u << 30, fixed);
    ASSERT_EQ(plan.messages.size(), 3u);

    // One photo that can never fit is left out; the others still travel together.
    sizes = {1000, 5000000, 1000};
    plan = smtp::plan_messages(sizes, 10, 1000000, fixed);
    EXPECT_EQ(plan.too_large, (std::vector<std::size_t>{1}));
    ASSERT_EQ(plan.messages.size(), 1u);
    EXPECT_EQ(plan.messages[0], (std::vector<std::size_t>{0, 2}));

    // Per-photo mode is batch_max 1.
    plan = smtp::plan_messages(std::vector<std::uint64_t>{1, 2, 3}, 1, 1u << 30, fixed);
    EXPECT_EQ(plan.messages.size(), 3u);
}

} // namespace
