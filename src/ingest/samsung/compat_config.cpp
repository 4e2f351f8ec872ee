// Translation of the reference's config.toml (samsung-sns.md 7.1-7.3) into native settings.
// The reference keeps only upper-case top-level keys (Flask config); tables are MASTODON, SHELL,
// ACTIONS, and an instance table [MASTODON.x] / [SHELL.x] is laid over a COPY of its base table
// (the reference overlays in place, so one instance's values leaked into the default: 10 item 3).
#include "ingest/samsung/compat_config.hpp"

#include "core/fs.hpp"
#include "core/log.hpp"

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace camrelay::ingest::samsung
{

namespace
{

constexpr auto log_tag = "samsung-compat";

/// Social sites of the reference (3.6); any other target is an e-mail recipient.
constexpr std::string_view sites[] = {
    "facebook",   "picasa",   "youtube",  "photobucket", "samsungimaging", "cyworld",
    "me2day",     "poco",     "weibo",    "renren",      "vkontakte",      "odnoklassniki",
    "kakaostory", "evernote", "skydrive", "flickr",      "dropbox"};

bool is_site(std::string_view target)
{
    return std::find(std::begin(sites), std::end(sites), target) != std::end(sites);
}

int line_of(toml::node const& n)
{
    return static_cast<int>(n.source().begin.line);
}

/// Literal text for a camrelay template: braces doubled.
std::string escape_template(std::string_view s)
{
    std::string out;
    for (char c : s)
    {
        out.push_back(c);
        if (c == '{' || c == '}')
            out.push_back(c);
    }
    return out;
}

bool valid_instance(std::string_view name)
{
    return !name.empty() && std::all_of(name.begin(), name.end(),
                                        [](char c) {
                                            return std::isalnum(static_cast<unsigned char>(c)) ||
                                                   c == '_' || c == '-';
                                        });
}

std::string mode_text(unsigned mode)
{
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
    return buf;
}

/// An instance table [X.name] laid over its base [X] without copying either (a copy would also
/// lose the nodes' lines): keys of the instance win, the base stays untouched.
struct layered
{
    toml::table const* base = nullptr;
    toml::table const* instance = nullptr;
    int line = 0;

    toml::node const* get(std::string_view key) const
    {
        if (instance)
            if (auto const* n = instance->get(key))
                return n;
        auto const* n = base->get(key);
        return n && !n->is_table() ? n : nullptr;
    }
    /// The keys this layer reads from (instance keys, or the base's own keys for the base).
    toml::table const& own() const { return instance ? *instance : *base; }
};

class translator
{
  public:
    translator(std::string path, std::string secret_dir, compat_translation& out,
               std::vector<config::problem>& problems)
        : path_(std::move(path)), secret_dir_(std::move(secret_dir)), out_(out), problems_(problems)
    {
        std::error_code ec;
        base_dir_ = std::filesystem::absolute(path_, ec).parent_path();
    }

    bool run(std::string_view text, unsigned file_mode);

  private:
    void problem(int line, std::string msg) { problems_.push_back({line, std::move(msg)}); }
    void warn(int line, std::string msg) { out_.warnings.push_back({line, std::move(msg)}); }

    std::string resolve(std::string const& p) const
    {
        if (p.empty() || p.front() == '/')
            return p;
        return (base_dir_ / p).lexically_normal().string();
    }

    template <class T, class Table>
    std::optional<T> get(Table const& t, std::string_view key, std::string_view where)
    {
        auto const* n = t.get(key);
        if (!n)
            return std::nullopt;
        if (auto v = n->template value_exact<T>())
            return *v;
        std::string type = std::is_same_v<T, std::string> ? "a string"
                           : std::is_same_v<T, bool>      ? "true or false"
                                                          : "an integer";
        problem(line_of(*n), std::string(where) + std::string(key) + " must be " + type);
        return std::nullopt;
    }

    void read_top(toml::table const& doc);
    void read_mail(toml::table const& doc);
    void read_mastodon(toml::table const& doc);
    void read_shell(toml::table const& doc);
    void read_actions(toml::table const& doc);
    void add_store_sink(std::string const& instance, int line);

    /// "" for the base table (when it has keys of its own) and one entry per instance table.
    std::map<std::string, layered> instances_of(toml::table const& base);

    std::string path_;
    std::string secret_dir_;
    std::filesystem::path base_dir_;
    compat_translation& out_;
    std::vector<config::problem>& problems_;

    std::string upload_folder_;
    bool has_mail_ = false;
    bool literal_secret_ = false;
    std::set<std::string> mastodon_instances_; ///< "" = the base [MASTODON]
    std::set<std::string> shell_instances_;
    std::set<std::string> store_instances_;
    std::set<std::string> warned_files_; ///< token files already warned about
};

void translator::read_top(toml::table const& doc)
{
    static constexpr std::string_view known[] = {"UPLOAD_FOLDER",
                                                 "SESSION_FOLDER",
                                                 "INSECURE_DOWNLOAD",
                                                 "SENDERS",
                                                 "SECRET",
                                                 "MAIL_SERVER",
                                                 "MAIL_PORT",
                                                 "MAIL_USERNAME",
                                                 "MAIL_PASSWORD",
                                                 "MAIL_USE_TLS",
                                                 "MAIL_USE_SSL",
                                                 "MAIL_DEFAULT_SENDER",
                                                 "MAIL_DEBUG",
                                                 "MAIL_MAX_EMAILS",
                                                 "MAIL_SUPPRESS_SEND",
                                                 "MAIL_ASCII_ATTACHMENTS",
                                                 "MASTODON",
                                                 "SHELL",
                                                 "ACTIONS"};
    for (auto const& [key, node] : doc)
    {
        auto k = key.str();
        int line = static_cast<int>(key.source().begin.line);
        if (std::find(std::begin(known), std::end(known), k) != std::end(known))
            continue;
        bool upper = std::none_of(
            k.begin(), k.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)); });
        if (!upper)
            warn(line, "'" + std::string(k) +
                           "' is ignored (the reference reads only upper-case top-level keys)");
        else if (k.rfind("MASTODON_", 0) == 0)
            warn(line, "'" + std::string(k) +
                           "' is ignored: the flat MASTODON_* keys were replaced by [MASTODON]");
        else
            warn(line, "'" + std::string(k) + "' is not a key of the reference; ignored");
    }

    if (auto v = get<std::string>(doc, "UPLOAD_FOLDER", ""))
    {
        upload_folder_ = resolve(*v);
        while (upload_folder_.size() > 1 && upload_folder_.back() == '/')
            upload_folder_.pop_back();
        if (upload_folder_.empty())
            problem(line_of(*doc.get("UPLOAD_FOLDER")), "UPLOAD_FOLDER is empty");
    }
    else if (!doc.get("UPLOAD_FOLDER"))
        problem(0, "missing required key UPLOAD_FOLDER (root folder of stored uploads)");
    // SESSION_FOLDER: nothing to translate, sessions live in memory (session_ttl).
    if (auto v = get<bool>(doc, "INSECURE_DOWNLOAD", ""); v && *v)
        warn(line_of(*doc.get("INSECURE_DOWNLOAD")),
             "INSECURE_DOWNLOAD = true is not supported: camrelay serves no directory listing "
             "of UPLOAD_FOLDER");

    if (auto const* n = doc.get("SENDERS"))
    {
        auto const* arr = n->as_array();
        bool ok = arr != nullptr;
        if (arr)
            for (auto const& item : *arr)
            {
                if (auto s = item.value_exact<std::string>())
                    out_.senders.push_back(*s);
                else
                    ok = false;
            }
        if (!ok)
            problem(line_of(*n), "SENDERS must be a list of strings, e.g. "
                                 "['Camera@samsungcamera.com']");
        else if (out_.senders.empty())
            warn(line_of(*n), "SENDERS is empty: every e-mail and login will be refused");
    }
    else
        problem(0, "missing required key SENDERS (the sender addresses and login names "
                   "accepted)");

    if (auto v = get<std::string>(doc, "SECRET", ""))
    {
        out_.secret = *v;
        if (*v == "xiev5kaMeehaimub" || v->empty())
            warn(line_of(*doc.get("SECRET")),
                 "SECRET is the reference's sample value (or empty): anyone can compute the "
                 "per-user folder names; change it (this renames the folders)");
    }
    else if (!doc.get("SECRET"))
        problem(0, "missing required key SECRET (HMAC key of the per-user folder names)");
}

void translator::read_mail(toml::table const& doc)
{
    // Flask-Mail's defaults: localhost:25, no TLS.
    auto server = get<std::string>(doc, "MAIL_SERVER", "").value_or("localhost");
    auto port = get<std::int64_t>(doc, "MAIL_PORT", "").value_or(25);
    auto username = get<std::string>(doc, "MAIL_USERNAME", "").value_or("");
    auto password = get<std::string>(doc, "MAIL_PASSWORD", "");
    literal_secret_ = literal_secret_ || (password && !password->empty());
    bool use_tls = get<bool>(doc, "MAIL_USE_TLS", "").value_or(false);
    bool use_ssl = get<bool>(doc, "MAIL_USE_SSL", "").value_or(false);
    auto default_sender = get<std::string>(doc, "MAIL_DEFAULT_SENDER", "").value_or("");
    for (auto key : {"MAIL_DEBUG", "MAIL_MAX_EMAILS", "MAIL_ASCII_ATTACHMENTS"})
        if (auto const* n = doc.get(key))
            warn(line_of(*n), std::string(key) + " is ignored");
    if (get<bool>(doc, "MAIL_SUPPRESS_SEND", "").value_or(false))
    {
        warn(line_of(*doc.get("MAIL_SUPPRESS_SEND")),
             "MAIL_SUPPRESS_SEND = true: e-mail recipients are dropped, nothing is mailed");
        out_.email_default = "drop";
        return;
    }
    if (port < 1 || port > 65535)
    {
        problem(line_of(*doc.get("MAIL_PORT")), "MAIL_PORT must be between 1 and 65535");
        return;
    }
    if (server.empty() || server.find_first_of("/@ \t") != std::string::npos)
    {
        problem(doc.get("MAIL_SERVER") ? line_of(*doc.get("MAIL_SERVER")) : 0,
                "MAIL_SERVER must be a host name");
        return;
    }
    config::sink_settings s;
    s.name = mail_sink;
    s.type = "smtp";
    auto host = server.find(':') != std::string::npos ? "[" + server + "]" : server;
    s.options.set("url",
                  std::string(use_ssl ? "smtps://" : "smtp://") + host + ":" + std::to_string(port),
                  0);
    if (!use_ssl)
        // Without MAIL_USE_TLS the reference talks plain SMTP; camrelay still upgrades when the
        // server offers STARTTLS.
        s.options.set("starttls", std::string(use_tls ? "required" : "optional"), 0);
    if (!username.empty())
    {
        if (!password)
            problem(line_of(*doc.get("MAIL_USERNAME")),
                    "MAIL_USERNAME is set but MAIL_PASSWORD is not");
        else
        {
            literal_secret_ = true;
            auto file = secret_dir_ + "/" + mail_sink + ".password";
            out_.secret_files.push_back({file, *password + "\n"});
            s.options.set("username", username, 0);
            s.options.set("password_file", file, 0);
        }
    }
    // From: is the camera's sender text, as in the reference (sender_as_from). The envelope
    // sender: MAIL_DEFAULT_SENDER, else MAIL_USERNAME when it is an address (what the smarthost
    // account may send as), else the first SENDERS address (the reference's envelope sender).
    std::string envelope = default_sender;
    if (envelope.empty() && username.find('@') != std::string::npos)
        envelope = username;
    for (auto const& sender : out_.senders)
        if (envelope.empty() && sender.find('@') != std::string::npos)
            envelope = sender;
    if (envelope.empty())
    {
        problem(0, "no envelope sender for the mail sink: give MAIL_DEFAULT_SENDER (or an "
                   "e-mail address in MAIL_USERNAME or SENDERS)");
        return;
    }
    s.options.set("from", envelope, 0);
    s.options.set("sender_as_from", true, 0);
    // One mail per e-mail message, to this sink's recipients, with the camera's words.
    s.options.set("subject", std::string("{subject}"), 0);
    s.options.set("body", std::string("{body}"), 0);
    out_.sinks.push_back(std::move(s));
    has_mail_ = true;
    out_.email_default = std::string("mail:") + mail_sink;
}

std::map<std::string, layered> translator::instances_of(toml::table const& base)
{
    std::map<std::string, layered> result;
    bool own_keys =
        std::any_of(base.begin(), base.end(), [](auto const& kv) { return !kv.second.is_table(); });
    if (own_keys)
        result.emplace("", layered{&base, nullptr, line_of(base)});
    for (auto const& [key, node] : base)
        if (auto const* t = node.as_table())
            result.emplace(std::string(key.str()), layered{&base, t, line_of(*t)});
    return result;
}

void translator::read_mastodon(toml::table const& doc)
{
    auto const* node = doc.get("MASTODON");
    if (!node)
        return;
    auto const* base = node->as_table();
    if (!base)
    {
        problem(line_of(*node), "MASTODON must be a table: [MASTODON]");
        return;
    }
    for (auto const& [instance, entry] : instances_of(*base))
    {
        auto const& t = entry;
        int table_line = entry.line;
        std::string where = instance.empty() ? "[MASTODON] " : "[MASTODON." + instance + "] ";
        if (!instance.empty() && !valid_instance(instance))
        {
            problem(table_line, where + "instance names use letters, digits, '_' and '-' here");
            continue;
        }
        for (auto const& [key, n] : t.own())
        {
            auto k = key.str();
            if (n.is_table())
                continue;
            if (k != "TOKEN" && k != "BASE_URL" && k != "POSTSCRIPT" && k != "VISIBILITY")
                warn(line_of(n), where + "'" + std::string(k) +
                                     "' is not read by the reference; "
                                     "ignored");
        }
        bool ok = true;
        auto token = get<std::string>(t, "TOKEN", where);
        auto base_url = get<std::string>(t, "BASE_URL", where).value_or("");
        std::string access_token;
        if (!token || token->empty())
        {
            problem(table_line, where + "TOKEN is missing: an access token, or the file "
                                        "mastodonlogin.py wrote");
            ok = false;
        }
        else if (token->find_first_of("/.") != std::string::npos)
        {
            // A token file (mastodonlogin.py): line 1 the token, line 2 the instance URL.
            auto file = resolve(*token);
            int tline = line_of(*t.get("TOKEN"));
            std::ifstream in(file);
            struct stat st
            {
            };
            if (!in || ::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            {
                problem(tline, where + "cannot read the token file " + file);
                ok = false;
            }
            else
            {
                if ((st.st_mode & 077) != 0 && warned_files_.insert(file).second)
                    warn(tline, where + "the token file " + file +
                                    " is accessible by group or others (mode " +
                                    mode_text(st.st_mode) +
                                    "): it holds an access token; run `chmod 600 " + file + "`");
                std::string url;
                std::getline(in, access_token);
                std::getline(in, url);
                for (auto* s : {&access_token, &url})
                    while (!s->empty() && (s->back() == '\r' || s->back() == ' '))
                        s->pop_back();
                auto strip = [](std::string u)
                {
                    while (!u.empty() && u.back() == '/')
                        u.pop_back();
                    return u;
                };
                if (access_token.empty())
                {
                    problem(tline, where + "the token file " + file +
                                       " holds no token on its "
                                       "first line");
                    ok = false;
                }
                if (!url.empty() && !base_url.empty() && strip(url) != strip(base_url))
                {
                    problem(line_of(*t.get("BASE_URL")), where + "BASE_URL " + base_url +
                                                             " differs from " + url +
                                                             " in the token file " + file);
                    ok = false;
                }
                if (base_url.empty())
                    base_url = url;
            }
        }
        else
        {
            literal_secret_ = true;
            access_token = *token;
        }
        if (ok && base_url.empty())
        {
            problem(table_line, where + "BASE_URL is missing (e.g. https://mastodon.social/)");
            ok = false;
        }
        auto postscript = get<std::string>(t, "POSTSCRIPT", where);
        if (!postscript && !t.get("POSTSCRIPT"))
            warn(table_line, where + "POSTSCRIPT is missing: posts get none");
        auto visibility = get<std::string>(t, "VISIBILITY", where);
        if (!visibility && !t.get("VISIBILITY"))
            warn(table_line, where + "VISIBILITY is missing: posts are unlisted");
        else if (visibility && *visibility != "direct" && *visibility != "private" &&
                 *visibility != "unlisted" && *visibility != "public")
        {
            problem(line_of(*t.get("VISIBILITY")),
                    where + "VISIBILITY must be direct, private, unlisted or public");
            ok = false;
        }
        if (!ok)
            continue;
        config::sink_settings s;
        s.name = instance.empty() ? std::string(mastodon_sink)
                                  : std::string(mastodon_sink) + "-" + instance;
        s.type = "mastodon";
        auto file = secret_dir_ + "/" + s.name + ".json";
        nlohmann::json j = {{"base_url", base_url},
                            {"client_id", ""},
                            {"client_secret", ""},
                            {"access_token", access_token},
                            {"account", ""}};
        out_.secret_files.push_back({file, j.dump(2) + "\n"});
        s.options.set("secret_file", file, 0);
        s.options.set("visibility", visibility.value_or("unlisted"), 0);
        // Post text (7.6): segment 0 [+ the camera line for social uploads], a blank line,
        // then POSTSCRIPT as it is (its own leading space included).
        auto ps = postscript.value_or("");
        s.options.set("status",
                      ps.empty() ? std::string("{text}") : "{text}\n\n" + escape_template(ps), 0);
        s.options.set("alt_text", std::string("{alt}"), 0);
        out_.sinks.push_back(std::move(s));
        mastodon_instances_.insert(instance);
    }
}

void translator::read_shell(toml::table const& doc)
{
    auto const* node = doc.get("SHELL");
    if (!node)
        return;
    auto const* base = node->as_table();
    if (!base)
    {
        problem(line_of(*node), "SHELL must be a table: [SHELL]");
        return;
    }
    for (auto const& [instance, entry] : instances_of(*base))
    {
        auto const& t = entry;
        int table_line = entry.line;
        std::string where = instance.empty() ? "[SHELL] " : "[SHELL." + instance + "] ";
        if (!instance.empty() && !valid_instance(instance))
        {
            problem(table_line, where + "instance names use letters, digits, '_' and '-' here");
            continue;
        }
        for (auto const& [key, n] : t.own())
            if (!n.is_table() && key.str() != "CMD" && key.str() != "STDIN")
                warn(line_of(n), where + "'" + std::string(key.str()) +
                                     "' is not read by the reference; ignored");
        auto const* cmd = t.get("CMD");
        auto const* arr = cmd ? cmd->as_array() : nullptr;
        if (!arr || arr->empty())
        {
            problem(cmd ? line_of(*cmd) : table_line,
                    where + "CMD must be a non-empty list of strings (the argv)");
            continue;
        }
        bool ok = true;
        std::vector<std::string> argv;
        for (auto const& item : *arr)
        {
            auto s = item.value_exact<std::string>();
            std::string translated, error;
            if (!s)
            {
                problem(line_of(item), where + "CMD elements must be strings");
                ok = false;
            }
            else if (!translate_shell_template(*s, translated, error))
            {
                problem(line_of(item), where + "CMD '" + *s + "': " + error);
                ok = false;
            }
            else
                argv.push_back(std::move(translated));
        }
        // The reference runs from its working folder; ours is / as a service: a relative
        // program path is taken from the compat file's folder.
        if (!argv.empty() && argv.front().find('/') != std::string::npos &&
            argv.front().front() != '/' && argv.front().find_first_of("{}") == std::string::npos)
            argv.front() = escape_template(resolve(argv.front()));
        std::string stdin_template;
        if (auto stdin_text = get<std::string>(t, "STDIN", where))
        {
            std::string error;
            if (!translate_shell_template(*stdin_text, stdin_template, error))
            {
                problem(line_of(*t.get("STDIN")), where + "STDIN: " + error);
                ok = false;
            }
        }
        if (!ok)
            continue;
        config::sink_settings s;
        s.name =
            instance.empty() ? std::string(shell_sink) : std::string(shell_sink) + "-" + instance;
        s.type = "shell";
        s.options.set("command", argv, 0);
        if (!stdin_template.empty())
            s.options.set("stdin", stdin_template, 0);
        out_.sinks.push_back(std::move(s));
        shell_instances_.insert(instance);
    }
}

void translator::add_store_sink(std::string const& instance, int line)
{
    if (store_instances_.count(instance) || upload_folder_.empty())
        return;
    if (!instance.empty() && !valid_instance(instance))
    {
        problem(line, "store instance '" + instance +
                          "': folder names use letters, digits, '_' and '-' here");
        return;
    }
    config::sink_settings s;
    s.type = "folder";
    if (instance.empty())
    {
        // UPLOAD_FOLDER/<HMAC of the sender address or login name>/<file name>
        s.name = store_sink;
        s.options.set("path", escape_template(upload_folder_) + "/{user_folder}/{name}", 0);
    }
    else
    {
        s.name = std::string(store_sink) + "-" + instance;
        s.options.set("path", escape_template(upload_folder_ + "/" + instance) + "/{name}", 0);
    }
    out_.sinks.push_back(std::move(s));
    store_instances_.insert(instance);
}

void translator::read_actions(toml::table const& doc)
{
    add_store_sink("", 0);
    out_.social_default = std::string("store:") + store_sink;
    if (out_.email_default.empty())
        out_.email_default = has_mail_ ? std::string("mail:") + mail_sink : "drop";

    auto const* node = doc.get("ACTIONS");
    if (!node)
        return;
    auto const* table = node->as_table();
    if (!table)
    {
        problem(line_of(*node), "ACTIONS must be a table: [ACTIONS]");
        return;
    }
    for (auto const& [key, n] : *table)
    {
        std::string target(key.str());
        int line = line_of(n);
        auto spec = n.value_exact<std::string>();
        if (!spec)
        {
            problem(line, "[ACTIONS] " + target +
                              " must be a string such as \"store\" or "
                              "\"mastodon.pub\"");
            continue;
        }
        if (target.empty() || target.find_first_of("=, \t") != std::string::npos)
        {
            problem(line, "[ACTIONS] target '" + target +
                              "' is neither an e-mail address nor a site name");
            continue;
        }
        auto dot = spec->find('.');
        std::string action = spec->substr(0, dot);
        std::string instance = dot == std::string::npos ? "" : spec->substr(dot + 1);
        if (instance.find('.') != std::string::npos)
        {
            problem(line, "[ACTIONS] " + target + " = \"" + *spec +
                              "\": more than one dot (the reference fails on it)");
            continue;
        }
        bool site = is_site(target);
        std::string kinds;
        if (action == "store")
        {
            add_store_sink(instance, line);
            kinds = "store:" + std::string(store_sink) + (instance.empty() ? "" : "-" + instance);
        }
        else if (action == "mastodon")
        {
            if (!mastodon_instances_.count(instance))
            {
                problem(line,
                        "[ACTIONS] " + target + " = \"" + *spec + "\": no usable " +
                            (instance.empty() ? "[MASTODON]" : "[MASTODON." + instance + "]") +
                            " table");
                continue;
            }
            kinds =
                "mastodon:" + std::string(mastodon_sink) + (instance.empty() ? "" : "-" + instance);
        }
        else if (action == "shell")
        {
            if (!shell_instances_.count(instance))
            {
                problem(line, "[ACTIONS] " + target + " = \"" + *spec + "\": no usable " +
                                  (instance.empty() ? "[SHELL]" : "[SHELL." + instance + "]") +
                                  " table");
                continue;
            }
            // The reference stores the files first, then runs the command once per file.
            add_store_sink(instance, line);
            kinds = "store:" + std::string(store_sink) + (instance.empty() ? "" : "-" + instance) +
                    ", shell:" + std::string(shell_sink) + (instance.empty() ? "" : "-" + instance);
        }
        else if (action == "drop")
            kinds = "drop";
        else
        {
            // mail, email and any unknown word: forwarded by SMTP (e-mail), nothing (social).
            if (action != "mail" && action != "email")
                warn(line, "[ACTIONS] " + target + ": unknown action '" + action +
                               "' is treated as mail, as the reference does");
            if (!instance.empty())
                warn(line, "[ACTIONS] " + target + ": mail takes no instance; '" + instance +
                               "' is ignored");
            if (site)
                kinds = "drop";
            else if (has_mail_)
                kinds = "mail:" + std::string(mail_sink);
            else
                kinds = "drop";
        }
        out_.actions.push_back(target + " = " + kinds);
    }
}

bool translator::run(std::string_view text, unsigned file_mode)
{
    toml::table doc;
    try
    {
        doc = toml::parse(text, path_);
    }
    catch (toml::parse_error const& e)
    {
        problem(static_cast<int>(e.source().begin.line),
                "TOML syntax: " + std::string(e.description()));
        return false;
    }
    std::size_t before = problems_.size();
    read_top(doc);
    read_mail(doc);
    read_mastodon(doc);
    read_shell(doc);
    read_actions(doc);
    if (literal_secret_ && (file_mode & 077) != 0)
        warn(0, path_ +
                    " holds MAIL_PASSWORD or a Mastodon TOKEN and is readable or writable "
                    "by group or others (mode " +
                    mode_text(file_mode) + "); run chmod 600 " + path_);
    return problems_.size() == before;
}

} // namespace

bool translate_shell_template(std::string_view text, std::string& out, std::string& error)
{
    out.clear();
    for (std::size_t i = 0; i < text.size(); ++i)
    {
        char c = text[i];
        if (c == '}')
        {
            if (i + 1 < text.size() && text[i + 1] == '}')
            {
                out += "}}";
                ++i;
                continue;
            }
            error = "single '}' (write '}}' for a brace)";
            return false;
        }
        if (c != '{')
        {
            out.push_back(c);
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '{')
        {
            out += "{{";
            ++i;
            continue;
        }
        auto close = text.find('}', i);
        if (close == std::string_view::npos)
        {
            error = "unclosed '{' (write '{{' for a brace)";
            return false;
        }
        auto field = text.substr(i + 1, close - i - 1);
        if (field.find_first_of("!:[.{") != std::string_view::npos)
        {
            error = "{" + std::string(field) +
                    "}: conversions, format specs and attribute access are not supported";
            return false;
        }
        if (field == "filename")
            out += "{path}";
        else if (field == "sender" || field == "recipient" || field == "subject" || field == "body")
            out += "{" + std::string(field) + "}";
        else
        {
            error = "unknown placeholder {" + std::string(field) +
                    "} (the reference knows sender, recipient, filename, subject, body)";
            return false;
        }
        i = close;
    }
    return true;
}

bool read_compat_config(std::string const& path, std::string const& secret_dir,
                        compat_translation& out, std::vector<config::problem>& problems)
{
    out = compat_translation{};
    std::ifstream in(path, std::ios::binary);
    struct stat st
    {
    };
    if (!in || ::stat(path.c_str(), &st) != 0)
    {
        problems.push_back({0, "cannot read " + path});
        return false;
    }
    std::ostringstream text;
    text << in.rdbuf();
    translator t(path, secret_dir, out, problems);
    return t.run(text.str(), static_cast<unsigned>(st.st_mode));
}

void expand_compat_config(config::source_settings& self, config::settings& all,
                          std::vector<config::problem>& problems)
{
    auto path = self.options.string_or("compat_config", "");
    if (path.empty())
        return;
    int line = self.options.line_of("compat_config");
    std::error_code ec;
    auto data_dir = std::filesystem::absolute(all.general.data_dir, ec).lexically_normal();
    auto secret_dir = (data_dir / "samsung-compat").string();

    compat_translation t;
    std::vector<config::problem> found;
    bool ok = read_compat_config(path, secret_dir, t, found);
    auto where = [&](int compat_line)
    {
        return "compat_config " + path +
               (compat_line > 0 ? ":" + std::to_string(compat_line) : "") + ": ";
    };
    for (auto const& p : found)
        problems.push_back({line, where(p.line) + p.message});
    for (auto const& w : t.warnings)
        log::warn(log_tag, "{}{}", where(w.line), w.message);
    if (!ok)
        return;

    if (!t.secret_files.empty())
    {
        if (auto e = fs::make_dirs_durable(secret_dir))
        {
            problems.push_back({line, where(0) + "cannot create " + secret_dir +
                                          " for the derived secret files: " + e.message()});
            return;
        }
        ::chmod(secret_dir.c_str(), 0700);
        for (auto const& f : t.secret_files)
        {
            std::ifstream old(f.path, std::ios::binary);
            std::ostringstream have;
            have << old.rdbuf();
            if (old && have.str() == f.content)
                continue;
            if (auto e = fs::write_file_atomic(f.path, f.content, 0600))
            {
                problems.push_back(
                    {line, where(0) + "cannot write " + f.path + ": " + e.message()});
                return;
            }
        }
    }

    for (auto& s : t.sinks)
    {
        auto native = std::find_if(all.sinks.begin(), all.sinks.end(),
                                   [&](auto const& have) { return have.name == s.name; });
        if (native != all.sinks.end())
        {
            log::info(log_tag, "sink={} the config's own [sink.{}] replaces the generated one",
                      s.name, s.name);
            continue;
        }
        s.line = line;
        all.sinks.push_back(std::move(s));
    }
    // Native keys given next to compat_config win.
    auto fill = [&](std::string_view key, config::option_value v)
    {
        if (!self.options.has(key))
            self.options.set(std::string(key), std::move(v), line);
    };
    fill("senders", t.senders);
    fill("secret", t.secret);
    fill("actions", t.actions);
    fill("email_default", t.email_default);
    fill("social_default", t.social_default);
}

} // namespace camrelay::ingest::samsung
