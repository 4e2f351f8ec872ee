// ingest/samsung compat_config: the reference's config.toml (test/data/samsung/compat/, see its
// README) translated into generated sinks and samsung source options.
#include "ingest/samsung/compat_config.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace
{

namespace sam = camrelay::ingest::samsung;
namespace stdfs = std::filesystem;

stdfs::path data_dir()
{
    return stdfs::path(CAMRELAY_TEST_SOURCE_DIR) / "data" / "samsung" / "compat";
}

/// A temp folder with the files of `files` (name, content).
struct temp_dir
{
    stdfs::path path;
    temp_dir()
    {
        char tmpl[] = "/tmp/camrelay-compat-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~temp_dir() { stdfs::remove_all(path); }
    std::string write(std::string const& name, std::string const& text, unsigned mode = 0600)
    {
        auto p = path / name;
        std::ofstream(p) << text;
        ::chmod(p.c_str(), mode);
        return p.string();
    }
};

camrelay::config::sink_settings const* sink(sam::compat_translation const& t,
                                            std::string const& name)
{
    for (auto const& s : t.sinks)
        if (s.name == name)
            return &s;
    return nullptr;
}

bool has_warning(sam::compat_translation const& t, std::string const& part)
{
    return std::any_of(t.warnings.begin(), t.warnings.end(),
                       [&](auto const& w) { return w.message.find(part) != std::string::npos; });
}

std::string joined(std::vector<camrelay::config::problem> const& problems)
{
    std::string out;
    for (auto const& p : problems)
        out += std::to_string(p.line) + ": " + p.message + "\n";
    return out;
}

TEST(samsung_compat, reference_sample_config)
{
    // The sample as shipped: a token FILE 'mastodon.secret' next to it, [MASTODON.pub] and
    // [SHELL.log] overlaid on their base tables.
    auto dir = data_dir();
    ::chmod((dir / "mastodon.secret").c_str(), 0644); // as git checks it out
    sam::compat_translation t;
    std::vector<camrelay::config::problem> problems;
    ASSERT_TRUE(sam::read_compat_config((dir / "config.toml").string(), "/secrets", t, problems))
        << joined(problems);

    EXPECT_EQ(t.senders, std::vector<std::string>{"Camera@samsungcamera.com"});
    EXPECT_EQ(t.secret, "xiev5kaMeehaimub");
    EXPECT_EQ(t.email_default, "mail:samsung-mail");
    EXPECT_EQ(t.social_default, "store:samsung-store");
    std::vector<std::string> actions = {
        "drop@mydomain.com = drop",
        "facebook = mastodon:samsung-mastodon",
        "masto-public@mydomain.com = mastodon:samsung-mastodon-pub",
        "masto@mydomain.com = mastodon:samsung-mastodon",
        "picasa = store:samsung-store",
        "store@mydomain.com = store:samsung-store-mailfolder",
    };
    auto got = t.actions;
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, actions);

    auto const* mail = sink(t, "samsung-mail");
    ASSERT_NE(mail, nullptr);
    EXPECT_EQ(mail->type, "smtp");
    EXPECT_EQ(mail->options.string_or("url", ""), "smtp://CHANGEME:587");
    EXPECT_EQ(mail->options.string_or("starttls", ""), "required");
    EXPECT_EQ(mail->options.string_or("username", ""), "CHANGEME");
    EXPECT_EQ(mail->options.string_or("password_file", ""), "/secrets/samsung-mail.password");
    EXPECT_EQ(mail->options.string_or("subject", ""), "{subject}");
    EXPECT_EQ(mail->options.string_or("body", ""), "{body}");
    // From: the camera's sender, as the reference; the envelope: the first SENDERS address
    // (MAIL_USERNAME 'CHANGEME' is no address).
    EXPECT_TRUE(mail->options.boolean_or("sender_as_from", false));
    EXPECT_EQ(mail->options.string_or("from", ""), "Camera@samsungcamera.com");

    auto const* store = sink(t, "samsung-store");
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->type, "folder");
    EXPECT_EQ(store->options.string_or("path", ""), "/tmp/{user_folder}/{name}");
    auto const* mailfolder = sink(t, "samsung-store-mailfolder");
    ASSERT_NE(mailfolder, nullptr);
    EXPECT_EQ(mailfolder->options.string_or("path", ""), "/tmp/mailfolder/{name}");

    auto const* masto = sink(t, "samsung-mastodon");
    auto const* pub = sink(t, "samsung-mastodon-pub");
    ASSERT_NE(masto, nullptr);
    ASSERT_NE(pub, nullptr);
    EXPECT_EQ(masto->options.string_or("status", ""), "{text}\n\n #photography #SamsungNX");
    EXPECT_EQ(masto->options.string_or("alt_text", ""), "{alt}");
    // Overlay on a copy (samsung-sns.md 10 item 3): the base keeps unlisted.
    EXPECT_EQ(masto->options.string_or("visibility", ""), "unlisted");
    EXPECT_EQ(pub->options.string_or("visibility", ""), "public");
    EXPECT_EQ(pub->options.string_or("status", ""), "{text}\n\n #photography #SamsungNX");
    EXPECT_EQ(masto->options.string_or("secret_file", ""), "/secrets/samsung-mastodon.json");

    // The token file's URL becomes the base URL of the derived secret file.
    auto secret =
        std::find_if(t.secret_files.begin(), t.secret_files.end(),
                     [](auto const& f) { return f.path == "/secrets/samsung-mastodon-pub.json"; });
    ASSERT_NE(secret, t.secret_files.end());
    EXPECT_NE(secret->content.find("\"access_token\": \"test-token-not-real\""), std::string::npos);
    EXPECT_NE(secret->content.find("\"base_url\": \"https://mastodon.social\""), std::string::npos);
    auto password =
        std::find_if(t.secret_files.begin(), t.secret_files.end(),
                     [](auto const& f) { return f.path == "/secrets/samsung-mail.password"; });
    ASSERT_NE(password, t.secret_files.end());
    EXPECT_EQ(password->content, "CHANGEME\n");

    auto const* shell = sink(t, "samsung-shell");
    auto const* log = sink(t, "samsung-shell-log");
    ASSERT_NE(shell, nullptr);
    ASSERT_NE(log, nullptr);
    std::vector<std::string> argv = {(dir / "log.sh").lexically_normal().string(), "{sender}",
                                     "{recipient}", "{path}"};
    EXPECT_EQ(shell->options.list_or("command", {}), argv);
    EXPECT_EQ(log->options.list_or("command", {}), argv); // inherited from [SHELL]
    EXPECT_EQ(log->options.string_or("stdin", ""),
              "From: {sender}\nTo: {recipient}\nSubject: {subject}\n\n{path}\n\n{body}\n.");
    EXPECT_FALSE(shell->options.has("stdin")); // [SHELL.log]'s STDIN stays with the instance

    EXPECT_TRUE(has_warning(t, "SECRET is the reference's sample value"));
    EXPECT_TRUE(has_warning(t, "mastodon.secret is accessible by group or others (mode 0644)"));
    EXPECT_TRUE(has_warning(t, "holds MAIL_PASSWORD or a Mastodon TOKEN"));
}

TEST(samsung_compat, reference_test_configuration)
{
    temp_dir tmp;
    std::ifstream in(data_dir() / "test-config.toml");
    std::stringstream text;
    text << in.rdbuf();
    auto path = tmp.write("config.toml", text.str(), 0600);
    sam::compat_translation t;
    std::vector<camrelay::config::problem> problems;
    ASSERT_TRUE(sam::read_compat_config(path, "/s", t, problems)) << joined(problems);

    EXPECT_EQ(t.senders, (std::vector<std::string>{"Camera@samsungcamera.com", "f"}));
    // No MAIL_SERVER: Flask-Mail's default localhost:25, STARTTLS when offered.
    auto const* mail = sink(t, "samsung-mail");
    ASSERT_NE(mail, nullptr);
    EXPECT_EQ(mail->options.string_or("url", ""), "smtp://localhost:25");
    EXPECT_EQ(mail->options.string_or("starttls", ""), "optional");
    EXPECT_FALSE(mail->options.has("password_file"));

    // Relative UPLOAD_FOLDER: from the compat file's folder.
    EXPECT_EQ(sink(t, "samsung-store")->options.string_or("path", ""),
              (tmp.path / "uploads").string() + "/{user_folder}/{name}");
    // shell.log: stored first (into the instance folder), then the command.
    EXPECT_NE(std::find(t.actions.begin(), t.actions.end(),
                        "shell@mydomain.com = store:samsung-store-log, shell:samsung-shell-log"),
              t.actions.end());
    EXPECT_EQ(sink(t, "samsung-store-log")->options.string_or("path", ""),
              (tmp.path / "uploads/log").string() + "/{name}");
    EXPECT_EQ(
        sink(t, "samsung-shell-log")->options.list_or("command", {}),
        (std::vector<std::string>{"/bin/echo", "{sender}", "{recipient}", "{path}", "{{braces}}"}));
    // [SHELL] itself has no CMD: only the instance is a sink.
    EXPECT_EQ(sink(t, "samsung-shell"), nullptr);

    // A literal token: mode 0600, so no warning; the literal lands in the derived file.
    EXPECT_FALSE(has_warning(t, "readable or writable by group or others"));
    auto secret = std::find_if(t.secret_files.begin(), t.secret_files.end(),
                               [](auto const& f) { return f.path == "/s/samsung-mastodon.json"; });
    ASSERT_NE(secret, t.secret_files.end());
    EXPECT_NE(secret->content.find("literal-token-not-real"), std::string::npos);
    EXPECT_NE(secret->content.find("https://mastodon.example"), std::string::npos);
}

TEST(samsung_compat, problems_carry_compat_lines)
{
    temp_dir tmp;
    auto path = tmp.write("config.toml", "UPLOAD_FOLDER = \"/x\"\n"
                                         "SENDERS = 'not-a-list'\n"
                                         "SECRET = \"s\"\n"
                                         "[MASTODON]\n"
                                         "TOKEN = \"tok\"\n"
                                         "VISIBILITY = 'everyone'\n"
                                         "[SHELL]\n"
                                         "CMD = [\"x\", \"{name}\"]\n"
                                         "[ACTIONS]\n"
                                         "\"a@b\" = \"mastodon.one.two\"\n"
                                         "\"c@d\" = \"shell\"\n");
    sam::compat_translation t;
    std::vector<camrelay::config::problem> problems;
    EXPECT_FALSE(sam::read_compat_config(path, "/s", t, problems));
    auto at = [&](int line, std::string const& part)
    {
        return std::any_of(problems.begin(), problems.end(),
                           [&](auto const& p)
                           { return p.line == line && p.message.find(part) != std::string::npos; });
    };
    EXPECT_TRUE(at(2, "SENDERS must be a list of strings")) << joined(problems);
    EXPECT_TRUE(at(6, "VISIBILITY must be direct, private, unlisted or public"));
    EXPECT_TRUE(at(4, "BASE_URL is missing")) << joined(problems);
    EXPECT_TRUE(at(8, "unknown placeholder {name}")) << joined(problems);
    EXPECT_TRUE(at(10, "more than one dot"));
    EXPECT_TRUE(at(11, "no usable [SHELL] table"));
}

TEST(samsung_compat, token_file_and_base_url_must_agree)
{
    temp_dir tmp;
    tmp.write("tok", "abc\nhttps://one.example/\n", 0600);
    auto path =
        tmp.write("config.toml", "UPLOAD_FOLDER = \"/x\"\nSENDERS = ['a@b']\nSECRET = \"s\"\n"
                                 "[MASTODON]\nTOKEN = \"./tok\"\n"
                                 "BASE_URL = \"https://two.example\"\n");
    sam::compat_translation t;
    std::vector<camrelay::config::problem> problems;
    EXPECT_FALSE(sam::read_compat_config(path, "/s", t, problems));
    ASSERT_EQ(problems.size(), 1u) << joined(problems);
    EXPECT_EQ(problems[0].line, 6);
    EXPECT_NE(problems[0].message.find("differs from https://one.example/"), std::string::npos);
}

TEST(samsung_compat, braces_in_postscript_and_folder_are_escaped)
{
    temp_dir tmp;
    auto path = tmp.write("config.toml", "UPLOAD_FOLDER = \"/up{x}\"\nSENDERS = ['a@b']\n"
                                         "MAIL_DEFAULT_SENDER = \"Relay <relay@example>\"\n"
                                         "SECRET = \"s\"\nMAIL_USE_SSL = true\n"
                                         "MAIL_SERVER = \"mail.example\"\nMAIL_PORT = 465\n"
                                         "[MASTODON]\nTOKEN = \"t\"\n"
                                         "BASE_URL = \"https://m.example\"\n"
                                         "POSTSCRIPT = \" {tag} }\"\n");
    sam::compat_translation t;
    std::vector<camrelay::config::problem> problems;
    ASSERT_TRUE(sam::read_compat_config(path, "/s", t, problems)) << joined(problems);
    EXPECT_EQ(sink(t, "samsung-mastodon")->options.string_or("status", ""),
              "{text}\n\n {{tag}} }}");
    EXPECT_EQ(sink(t, "samsung-store")->options.string_or("path", ""),
              "/up{{x}}/{user_folder}/{name}");
    EXPECT_EQ(sink(t, "samsung-mail")->options.string_or("url", ""), "smtps://mail.example:465");
    EXPECT_EQ(sink(t, "samsung-mail")->options.string_or("from", ""), "Relay <relay@example>");
    EXPECT_FALSE(sink(t, "samsung-mail")->options.has("starttls"));
}

TEST(samsung_compat, mail_needs_an_envelope_sender)
{
    temp_dir tmp;
    auto path = tmp.write("config.toml", "UPLOAD_FOLDER = \"/x\"\nSENDERS = ['f']\nSECRET = \"s\"\n"
                                         "MAIL_USERNAME = \"user\"\nMAIL_PASSWORD = \"pw\"\n");
    sam::compat_translation t;
    std::vector<camrelay::config::problem> problems;
    EXPECT_FALSE(sam::read_compat_config(path, "/s", t, problems));
    ASSERT_EQ(problems.size(), 1u) << joined(problems);
    EXPECT_NE(problems[0].message.find("give MAIL_DEFAULT_SENDER"), std::string::npos);
}

TEST(samsung_compat, shell_templates)
{
    std::string out, error;
    ASSERT_TRUE(sam::translate_shell_template("{filename} {{x}} {sender}{body}", out, error));
    EXPECT_EQ(out, "{path} {{x}} {sender}{body}");
    EXPECT_FALSE(sam::translate_shell_template("{sender!r}", out, error));
    EXPECT_FALSE(sam::translate_shell_template("{0}", out, error));
    EXPECT_FALSE(sam::translate_shell_template("a } b", out, error));
    EXPECT_FALSE(sam::translate_shell_template("{open", out, error));
}

TEST(samsung_compat, expand_adds_sinks_writes_secrets_and_native_keys_win)
{
    temp_dir tmp;
    auto path = tmp.write("config.toml",
                          "UPLOAD_FOLDER = \"/up\"\nSENDERS = ['a@b']\n"
                          "SECRET = \"s\"\nMAIL_USERNAME = \"u\"\n"
                          "MAIL_PASSWORD = \"pw\"\n",
                          0644);
    camrelay::config::settings all;
    all.general.data_dir = (tmp.path / "data").string();
    camrelay::config::sink_settings mine;
    mine.name = "samsung-store";
    mine.type = "folder";
    all.sinks.push_back(mine);
    camrelay::config::source_settings src;
    src.type = "samsung";
    src.options.set("compat_config", path, 7);
    src.options.set("secret", std::string("native"), 8);
    all.sources.push_back(src);
    std::vector<camrelay::config::problem> problems;
    sam::expand_compat_config(all.sources[0], all, problems);
    ASSERT_TRUE(problems.empty()) << joined(problems);

    auto const& o = all.sources[0].options;
    EXPECT_EQ(o.string_or("secret", ""), "native");
    EXPECT_EQ(o.list_or("senders", {}), std::vector<std::string>{"a@b"});
    EXPECT_EQ(o.line_of("senders"), 7);
    EXPECT_EQ(o.string_or("email_default", ""), "mail:samsung-mail");
    // The native samsung-store stays (no path option: it is the config's own).
    ASSERT_EQ(std::count_if(all.sinks.begin(), all.sinks.end(),
                            [](auto const& s) { return s.name == "samsung-store"; }),
              1);
    EXPECT_FALSE(all.sinks[0].options.has("path"));
    auto mail = std::find_if(all.sinks.begin(), all.sinks.end(),
                             [](auto const& s) { return s.name == "samsung-mail"; });
    ASSERT_NE(mail, all.sinks.end());
    EXPECT_EQ(mail->line, 7);

    auto pw = tmp.path / "data" / "samsung-compat" / "samsung-mail.password";
    struct stat st
    {
    };
    ASSERT_EQ(::stat(pw.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(pw.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    std::ifstream in(pw);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "pw");
    EXPECT_EQ(mail->options.string_or("password_file", ""), pw.string());
}

TEST(samsung_compat, expand_reports_with_both_files)
{
    temp_dir tmp;
    auto path = tmp.write("config.toml", "SENDERS = ['a@b']\nSECRET = 's'\n[ACTIONS]\nx = 1\n");
    camrelay::config::settings all;
    all.general.data_dir = (tmp.path / "data").string();
    camrelay::config::source_settings src;
    src.type = "samsung";
    src.options.set("compat_config", path, 3);
    all.sources.push_back(src);
    std::vector<camrelay::config::problem> problems;
    sam::expand_compat_config(all.sources[0], all, problems);
    ASSERT_EQ(problems.size(), 2u) << joined(problems);
    EXPECT_EQ(problems[0].line, 3);
    EXPECT_EQ(problems[0].message, "compat_config " + path +
                                       ": missing required key "
                                       "UPLOAD_FOLDER (root folder of "
                                       "stored uploads)");
    EXPECT_EQ(problems[1].message.rfind("compat_config " + path + ":4: [ACTIONS] x must be", 0),
              0u);
    EXPECT_TRUE(all.sinks.empty());
}

} // namespace
