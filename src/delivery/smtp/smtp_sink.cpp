// The smtp sink: mails each photo (or, in batch mode, several photos due together) as a MIME
// attachment through libcurl's SMTP client. The attachments stream from the spooled files
// (curl_mime_filedata): a photo is never held in memory. TLS is verified by default (STARTTLS
// required on smtp://, implicit TLS on smtps://); the password comes from a 0600 file, never
// from the config.
//
// Idempotence: mail cannot be taken back, so a crash between the server's "250" and the ledger
// commit sends the message again on the retry. The retry carries the same Message-ID (made from
// the job ids and content hashes), which lets mail programs and archives drop the duplicate.
#include "delivery/smtp/smtp_sink.hpp"

#include "core/fs.hpp"
#include "core/log.hpp"
#include "core/name_template.hpp"
#include "delivery/curl/curl.hpp"
#include "delivery/error.hpp"
#include "delivery/smtp/smtp_message.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <memory>
#include <optional>

namespace camrelay::delivery
{

namespace
{

constexpr auto log_tag = "smtp";

constexpr config::option_spec smtp_options[] = {
    {"url", config::option_type::string, true, "",
     "Mail server: smtp://host:port (STARTTLS, see starttls) or smtps://host:port (TLS from the "
     "start). No user name or password in the URL."},
    {"from", config::option_type::string, true, "",
     "Sender, \"camera@example.org\" or \"Camera <camera@example.org>\" (MAIL FROM and From:)."},
    {"to", config::option_type::string_list, false, "",
     "Recipients (To:). Required unless the sink only gets pushed messages (Samsung e-mails), "
     "which carry their own recipients."},
    {"cc", config::option_type::string_list, false, "", "More recipients, shown in Cc:."},
    {"bcc", config::option_type::string_list, false, "",
     "Hidden recipients: they get the message but appear in no header."},
    {"username", config::option_type::string, false, "",
     "Log in (SMTP AUTH) as this user; needs password_file."},
    {"password_file", config::option_type::string, false, "",
     "Absolute path of a file holding the password (its first line). Must not be readable by "
     "group or others (chmod 600), else the sink refuses to start."},
    {"starttls", config::option_type::string, false, "required",
     "For smtp://: required (refuse to send without TLS), optional (use TLS when offered), or "
     "never. smtps:// always uses TLS."},
    {"ca_file", config::option_type::string, false, "",
     "PEM file of the certificate authorities to trust (e.g. a self-signed server certificate); "
     "default: the system's CAs."},
    {"insecure_tls", config::option_type::boolean, false, "false",
     "Do not verify the server's certificate and name. Only for testing: anyone on the path "
     "can read the photos and the password."},
    {"subject", config::option_type::string, false, "Photo {name} from {camera}",
     "Subject template (placeholders as in folder paths). In batch mode the first photo's, "
     "plus \"and N more\"."},
    {"body", config::option_type::string, false,
     "{name} from {camera}, taken {date:%Y-%m-%d %H:%M:%S}.",
     "Plain-text body template; in batch mode one rendering per photo, one per line."},
    {"mode", config::option_type::string, false, "per-photo",
     "per-photo (one message per photo) or batch (one message for up to batch_max photos that "
     "are due together)."},
    {"batch_max", config::option_type::integer, false, "10",
     "Batch mode: most photos in one message (1-100)."},
    {"max_message_bytes", config::option_type::integer, false, "26214400",
     "Largest message to send, as encoded (base64 adds a third). A photo that does not fit "
     "fails permanently; batches are split to fit."},
    {"sender_as_from", config::option_type::boolean, false, "false",
     "Pushed messages (Samsung e-mails): write the camera's sender in From: as Samsung's "
     "service did (the envelope sender stays `from`). Otherwise From: is `from` and the camera's "
     "sender goes in Reply-To:."},
    curl::connect_timeout_option,
    curl::stall_timeout_option,
};

enum class tls_mode
{
    required,
    optional,
    never
};

struct smtp_settings
{
    std::string name; ///< the sink's name: a pushed message's recipients are per sink
    std::string url;
    std::string server; ///< scheme://host:port, for messages
    bool implicit_tls = false;
    tls_mode starttls = tls_mode::required;
    smtp::mailbox from;
    std::vector<smtp::mailbox> to, cc, bcc;
    std::string username;
    std::string password;
    std::string ca_file;
    bool insecure = false;
    name_template subject;
    name_template body;
    bool batch = false;
    std::size_t batch_max = 10;
    std::uint64_t max_bytes = 25 * 1024 * 1024;
    bool sender_as_from = false;
    curl::timeouts timeouts;
};

struct mime_free
{
    void operator()(curl_mime* m) const { curl_mime_free(m); }
};
struct slist_free
{
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using mime_ptr = std::unique_ptr<curl_mime, mime_free>;
using slist_ptr = std::unique_ptr<curl_slist, slist_free>;

bool append(slist_ptr& list, std::string const& line)
{
    auto* next = curl_slist_append(list.get(), line.c_str());
    if (!next)
        return false;
    (void)list.release();
    list.reset(next);
    return true;
}

std::string join_mailboxes(std::vector<smtp::mailbox> const& list)
{
    std::string out;
    for (auto const& m : list)
        out += (out.empty() ? "" : ", ") + smtp::format_mailbox(m);
    return out;
}

class smtp_sink final : public sink
{
  public:
    explicit smtp_sink(smtp_settings s) : s_(std::move(s)) {}

    std::size_t batch_limit() const override { return s_.batch ? s_.batch_max : 1; }
    bool delivers_messages() const override { return true; }

    outcome deliver(request const& req) override
    {
        auto out = deliver_batch(std::span<request const>(&req, 1));
        return out.front();
    }

    std::vector<outcome> deliver_batch(std::span<request const> requests) override;

  private:
    struct photo
    {
        request const* req = nullptr;
        std::uint64_t size = 0;
        std::string subject; ///< rendered and cleaned
        std::string body;    ///< rendered and cleaned (CRLF lines)
    };

    /// Who gets one message and what it says: the sink's settings for photos, the pushed
    /// message's own words and recipients for a Samsung e-mail.
    struct envelope
    {
        smtp::mailbox from;
        std::optional<smtp::mailbox> reply_to;
        std::vector<smtp::mailbox> to, cc, bcc;
        std::string subject; ///< empty: the photos' own
        std::string body;    ///< empty: the photos' own
    };
    result<envelope> envelope_for(asset_info const& first) const;
    outcome send(std::vector<photo const*> const& group, envelope const& env,
                 std::stop_token const& stop);
    outcome result_of(CURLcode rc, curl::easy const& e, std::string const& reply) const;

    smtp_settings s_;
};

/// The asset with every camera-supplied text on one clean line, so a value can break neither a
/// header nor the lines of the body; line breaks in the templates themselves stay.
asset_info camera_values_cleaned(asset_info a)
{
    for (auto* v : {&a.name, &a.folder, &a.camera_name, &a.manufacturer, &a.model, &a.serial})
        *v = smtp::clean_header_text(*v, 255);
    return a;
}

/// libcurl hands SMTP server replies to the header callback: keep the last line (cleaned and
/// bounded) so a failure can say what the server said ("451 4.3.0 try later"), not only curl's
/// generic text.
size_t on_reply(char* data, size_t size, size_t n, void* last)
{
    auto line = smtp::clean_header_text(std::string_view(data, size * n), 300);
    if (!line.empty())
        *static_cast<std::string*>(last) = std::move(line);
    return size * n;
}

outcome cancelled()
{
    return outcome::fail(make_error_code(errc::cancelled), "cancelled");
}

std::vector<outcome> smtp_sink::deliver_batch(std::span<request const> requests)
{
    std::vector<outcome> out(requests.size(), cancelled());
    if (requests.empty())
        return out;
    auto const& stop = requests.front().stop;
    if (stop.stop_requested())
        return out;

    auto env = envelope_for(requests.front().asset);
    if (!env)
        return std::vector<outcome>(
            requests.size(),
            outcome::fail(env.error(),
                          requests.front().asset.message
                              ? "no valid recipient for [sink." + s_.name + "] in the message"
                              : "no recipient: [sink." + s_.name +
                                    "] has no `to` (only pushed messages bring their own)"));
    bool is_message = requests.front().asset.message != nullptr;

    std::vector<photo> photos;
    std::vector<std::size_t> index_of; // photos[k] is requests[index_of[k]]
    std::uint64_t text_bytes = 0;
    for (std::size_t i = 0; i < requests.size(); ++i)
    {
        auto const& a = requests[i].asset;
        auto size = fs::file_size_or_minus_one(a.spool_path);
        if (size < 0)
        {
            out[i] = outcome::fail(make_error_code(errc::source_missing),
                                   "spooled file " + a.spool_path + " is missing");
            continue;
        }
        photo p;
        p.req = &requests[i];
        p.size = static_cast<std::uint64_t>(size);
        auto values = camera_values_cleaned(a);
        p.subject =
            smtp::clean_header_text(s_.subject.expand(values, name_template::mode::literal));
        p.body = smtp::clean_body_text(s_.body.expand(values, name_template::mode::literal));
        text_bytes += p.body.size() + 2;
        photos.push_back(std::move(p));
        index_of.push_back(i);
    }

    // Everything but the attachments, generously: top headers, and the text part as
    // quoted-printable (at most three bytes per byte, plus soft line breaks).
    if (is_message)
        text_bytes = env->body.size() + env->subject.size();
    std::uint64_t fixed = 4096 + join_mailboxes(env->to).size() + join_mailboxes(env->cc).size() +
                          3 * text_bytes + text_bytes / 25;
    std::vector<std::uint64_t> sizes;
    for (auto const& p : photos)
        sizes.push_back(p.size);
    // A pushed message is one e-mail with all its files (split only when over max_bytes).
    auto per_message = is_message ? photos.size() : s_.batch ? s_.batch_max : 1;
    auto plan = smtp::plan_messages(sizes, std::max<std::size_t>(1, per_message), s_.max_bytes,
                                    fixed);

    for (auto k : plan.too_large)
    {
        auto const& a = photos[k].req->asset;
        auto need = smtp::estimated_message_bytes(std::span(&sizes[k], 1), fixed);
        out[index_of[k]] = outcome::fail(
            make_error_code(errc::bad_destination),
            a.name + " is too large to mail: " + smtp::describe_bytes(photos[k].size) + ", about " +
                smtp::describe_bytes(need) + " as a message, over max_message_bytes " +
                smtp::describe_bytes(s_.max_bytes));
    }
    for (auto const& group : plan.messages)
    {
        if (stop.stop_requested())
            break; // the rest stay "cancelled"
        std::vector<photo const*> members;
        for (auto k : group)
            members.push_back(&photos[k]);
        auto result = send(members, *env, stop);
        for (auto k : group)
            out[index_of[k]] = result;
    }
    return out;
}

result<smtp_sink::envelope> smtp_sink::envelope_for(asset_info const& first) const
{
    envelope env;
    env.from = s_.from;
    if (!first.message)
    {
        env.to = s_.to;
        env.cc = s_.cc;
        env.bcc = s_.bcc;
        if (env.to.empty() && env.cc.empty() && env.bcc.empty())
            return make_error_code(errc::bad_destination); // `to` left out of a photo sink
        return env;
    }
    auto const& m = *first.message;
    // The camera's own words and recipients; cc/bcc of the sink still get a copy.
    for (auto const& text : m.recipients_for(s_.name))
    {
        smtp::mailbox box;
        std::string error;
        if (smtp::parse_mailbox(text, box, error))
            env.to.push_back(std::move(box));
        else
            log::warn(log_tag, "message={} recipient '{}' skipped: {}", m.id,
                      smtp::clean_header_text(text, 100), error);
    }
    if (env.to.empty())
        env.to = s_.to;
    env.cc = s_.cc;
    env.bcc = s_.bcc;
    if (env.to.empty() && env.cc.empty() && env.bcc.empty())
        return make_error_code(errc::bad_destination);
    smtp::mailbox sender;
    std::string error;
    if (!m.sender.empty() && smtp::parse_mailbox(smtp::clean_header_text(m.sender, 300), sender,
                                                 error))
    {
        if (s_.sender_as_from)
            env.from = std::move(sender);
        else
            env.reply_to = std::move(sender);
    }
    env.subject = smtp::clean_header_text(m.subject, 260);
    env.body = smtp::clean_body_text(m.body);
    if (env.body.empty())
        env.body = "\r\n";
    return env;
}

outcome smtp_sink::send(std::vector<photo const*> const& group, envelope const& env,
                        std::stop_token const& stop)
{
    auto const& first = group.front()->req->asset;
    std::vector<std::pair<std::int64_t, std::string>> ids;
    for (auto const* p : group)
        ids.emplace_back(p->req->job_id, p->req->asset.sha256);
    auto domain = s_.from.address.substr(s_.from.address.rfind('@') + 1);
    auto message_id = smtp::message_id(ids, domain);

    std::string subject = env.subject;
    std::string body = env.body;
    if (!first.message)
    {
        subject = group.front()->subject;
        if (group.size() > 1)
            subject += " and " + std::to_string(group.size() - 1) + " more";
        for (auto const* p : group)
            body += p->body + "\r\n";
    }

    // The mime structure must outlive the easy handle's use of it: declared first, freed last.
    mime_ptr mime;
    curl::easy e;
    e.watch(stop, s_.timeouts);
    e.set(CURLOPT_URL, s_.url.c_str());
    e.set(CURLOPT_USE_SSL,
          s_.implicit_tls || s_.starttls == tls_mode::required ? static_cast<long>(CURLUSESSL_ALL)
          : s_.starttls == tls_mode::optional                  ? static_cast<long>(CURLUSESSL_TRY)
                                              : static_cast<long>(CURLUSESSL_NONE));
    if (!s_.ca_file.empty())
        e.set(CURLOPT_CAINFO, s_.ca_file.c_str());
    if (s_.insecure)
    {
        e.set(CURLOPT_SSL_VERIFYPEER, 0L);
        e.set(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!s_.username.empty())
    {
        e.set(CURLOPT_USERNAME, s_.username.c_str());
        e.set(CURLOPT_PASSWORD, s_.password.c_str());
    }
    auto mail_from = "<" + s_.from.address + ">";
    e.set(CURLOPT_MAIL_FROM, mail_from.c_str());
    std::string reply;
    e.set(CURLOPT_HEADERFUNCTION, &on_reply);
    e.set(CURLOPT_HEADERDATA, static_cast<void*>(&reply));
    slist_ptr rcpt;
    bool ok = true;
    for (auto const* list : {&env.to, &env.cc, &env.bcc})
        for (auto const& m : *list)
            ok = ok && append(rcpt, "<" + m.address + ">");
    e.set(CURLOPT_MAIL_RCPT, rcpt.get());

    slist_ptr headers;
    ok = ok && append(headers, "From: " + smtp::format_mailbox(env.from));
    if (env.reply_to)
        ok = ok && append(headers, "Reply-To: " + smtp::format_mailbox(*env.reply_to));
    if (!env.to.empty())
        ok = ok && append(headers, "To: " + join_mailboxes(env.to));
    if (!env.cc.empty())
        ok = ok && append(headers, "Cc: " + join_mailboxes(env.cc));
    ok = ok && append(headers, "Subject: " + smtp::encode_unstructured(
                                                 smtp::clean_header_text(subject, 260)));
    ok = ok && append(headers, "Date: " + smtp::rfc5322_date(std::time(nullptr)));
    ok = ok && append(headers, "Message-ID: " + message_id);
    ok = ok && append(headers, "X-Mailer: camrelay/" CAMRELAY_VERSION);
    e.set(CURLOPT_HTTPHEADER, headers.get());

    mime.reset(curl_mime_init(e.get()));
    ok = ok && mime != nullptr;
    if (ok)
    {
        auto* text = curl_mime_addpart(mime.get());
        ok = text && curl_mime_data(text, body.data(), body.size()) == CURLE_OK &&
             curl_mime_type(text, "text/plain; charset=utf-8") == CURLE_OK &&
             curl_mime_encoder(text, "quoted-printable") == CURLE_OK;
    }
    for (auto const* p : group)
    {
        if (!ok)
            break;
        auto const& a = p->req->asset;
        auto* part = curl_mime_addpart(mime.get());
        slist_ptr part_headers;
        ok = part && curl_mime_filedata(part, a.spool_path.c_str()) == CURLE_OK &&
             curl_mime_filename(part, nullptr) == CURLE_OK && // ours is in Content-Disposition
             curl_mime_type(part, smtp::content_type_for(a.mime, a.name).c_str()) == CURLE_OK &&
             curl_mime_encoder(part, "base64") == CURLE_OK &&
             append(part_headers, smtp::content_disposition(smtp::attachment_name(a.name)));
        if (ok)
            ok = curl_mime_headers(part, part_headers.release(), 1) == CURLE_OK;
    }
    if (!ok)
        return outcome::fail(make_error_code(errc::destination_unavailable),
                             "cannot build the message (out of memory?)");
    e.set(CURLOPT_MIMEPOST, mime.get());

    log::debug(log_tag, "job={} sending {} photo(s) to {} message_id={}",
               group.front()->req->job_id, group.size(), s_.server, message_id);
    auto rc = e.perform();
    if (rc == CURLE_OK)
    {
        if (auto ec = curl::smtp_status_error(e.response_code()))
            return outcome::fail(ec, "server " + s_.server + " answered: " + reply);
        auto receipt = message_id + " via " + s_.server + " to " + join_mailboxes(env.to);
        if (group.size() > 1)
            receipt += " (" + std::to_string(group.size()) + " photos in one message)";
        log::debug(log_tag, "job={} {} accepted", group.front()->req->job_id, first.name);
        return outcome::ok(receipt);
    }
    return result_of(rc, e, reply);
}

outcome smtp_sink::result_of(CURLcode rc, curl::easy const& e, std::string const& reply) const
{
    if (rc == CURLE_ABORTED_BY_CALLBACK)
        return cancelled();
    auto code = e.response_code();
    if (rc == CURLE_READ_ERROR)
        return outcome::fail(make_error_code(errc::source_missing),
                             "reading a spooled photo: " + e.error_text());
    if (rc == CURLE_USE_SSL_FAILED)
        // A server (or something in between) that offers no STARTTLS: sending anyway would
        // expose the photos and the password, and retrying will not change that by itself.
        return outcome::fail(make_error_code(errc::bad_destination),
                             s_.server + " offers no STARTTLS (" + e.error_text() +
                                 "); starttls = \"required\" refuses to send in the clear");
    if (code >= 400)
    {
        auto ec = curl::smtp_status_error(code);
        auto said = reply.empty() ? std::to_string(code) + " (" + e.error_text() + ")" : reply;
        if (classify(ec) == condition::auth || rc == CURLE_LOGIN_DENIED)
            return outcome::fail(make_error_code(errc::auth_failed),
                                 "authentication failed at " + s_.server + " for user '" +
                                     s_.username + "': server answered: " + said +
                                     "; check username and password_file");
        return outcome::fail(ec, "server " + s_.server + " answered: " + said);
    }
    if (rc == CURLE_LOGIN_DENIED)
        return outcome::fail(make_error_code(errc::auth_failed),
                             "authentication failed at " + s_.server + ": " + e.error_text() +
                                 "; check username and password_file");
    return curl::failure_of(rc, e, s_.server);
}

// ----------------------------------------------------------------------------- settings

bool read_password(std::string const& path, std::string& out, std::string& error)
{
    return fs::read_secret_line(path, "password file", out, error);
}

std::unique_ptr<sink> make_smtp_sink(config::sink_settings const& s,
                                     std::vector<config::problem>& problems)
{
    auto where = "[sink." + s.name + "]";
    auto const& o = s.options;
    bool ok = true;
    auto line = [&](std::string_view key) { return o.has(key) ? o.line_of(key) : s.line; };
    auto problem = [&](std::string_view key, std::string const& text)
    {
        problems.push_back({line(key), where + ": " + std::string(key) + ": " + text});
        ok = false;
    };

    smtp_settings st;
    st.name = s.name;
    st.sender_as_from = o.boolean_or("sender_as_from", false);

    // url
    st.url = o.string_or("url", "");
    if (st.url.empty())
        problem("url", "missing; write smtp://host:port or smtps://host:port");
    else
    {
        CURLU* u = curl_url();
        char* scheme = nullptr;
        char* host = nullptr;
        char* port = nullptr;
        char* user = nullptr;
        char* password = nullptr;
        if (!u ||
            curl_url_set(u, CURLUPART_URL, st.url.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
            problem("url", "'" + st.url + "' is not a URL like smtp://host:port");
        else
        {
            std::string sch = scheme;
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
            curl_url_get(u, CURLUPART_USER, &user, 0);
            curl_url_get(u, CURLUPART_PASSWORD, &password, 0);
            if (sch != "smtp" && sch != "smtps")
                problem("url", "scheme must be smtp:// or smtps://, not " + sch + "://");
            else if (user || password)
                problem("url", "no user name or password in the URL: use username and "
                               "password_file");
            else
            {
                st.implicit_tls = sch == "smtps";
                st.server = sch + "://" + host + (port ? std::string(":") + port : "");
            }
        }
        for (char* p : {scheme, host, port, user, password})
            curl_free(p);
        curl_url_cleanup(u);
    }

    // addresses
    std::string err;
    if (!o.has("from"))
        problem("from", "missing; the sender address, e.g. \"camera@example.org\"");
    else if (!smtp::parse_mailbox(o.string_or("from", ""), st.from, err))
        problem("from", err);
    auto read_list = [&](std::string_view key, std::vector<smtp::mailbox>& list)
    {
        for (auto const& text : o.list_or(key, {}))
        {
            smtp::mailbox m;
            if (!smtp::parse_mailbox(text, m, err))
                problem(key, "'" + text + "': " + err);
            else
                list.push_back(std::move(m));
        }
    };
    read_list("to", st.to);
    read_list("cc", st.cc);
    read_list("bcc", st.bcc);

    // TLS
    auto tls = o.string_or("starttls", "required");
    if (tls == "required")
        st.starttls = tls_mode::required;
    else if (tls == "optional")
        st.starttls = tls_mode::optional;
    else if (tls == "never")
        st.starttls = tls_mode::never;
    else
        problem("starttls", "must be required, optional or never");
    if (st.implicit_tls && o.has("starttls") && tls != "required")
        problem("starttls", "smtps:// is TLS from the start; leave starttls out");
    st.ca_file = o.string_or("ca_file", "");
    if (!st.ca_file.empty() && ::access(st.ca_file.c_str(), R_OK) != 0)
        problem("ca_file", "cannot read " + st.ca_file);
    st.insecure = o.boolean_or("insecure_tls", false);

    // credentials
    st.username = o.string_or("username", "");
    auto password_file = o.string_or("password_file", "");
    if (st.username.find_first_of("\r\n") != std::string::npos)
        problem("username", "contains a line break");
    if (!st.username.empty() && password_file.empty())
        problem("password_file", "username is set: give the file holding the password");
    if (st.username.empty() && !password_file.empty())
        problem("username", "password_file is set: give the user name too");
    if (!password_file.empty())
    {
        if (password_file.front() != '/')
            problem("password_file", "must be an absolute path");
        else if (!read_password(password_file, st.password, err))
            problem("password_file", err);
    }
    if (!st.username.empty() && !st.implicit_tls && st.starttls == tls_mode::never)
        problem("starttls", "never would send the password unencrypted: use required");

    // templates
    if (!name_template::parse(o.string_or("subject", "Photo {name} from {camera}"), st.subject,
                              err))
        problem("subject", err);
    if (!name_template::parse(
            o.string_or("body", "{name} from {camera}, taken {date:%Y-%m-%d %H:%M:%S}."), st.body,
            err))
        problem("body", err);

    // mode and sizes
    auto mode = o.string_or("mode", "per-photo");
    if (mode == "batch")
        st.batch = true;
    else if (mode != "per-photo")
        problem("mode", "must be per-photo or batch");
    auto batch_max = o.integer_or("batch_max", 10);
    if (batch_max < 1 || batch_max > 100)
        problem("batch_max", "must be between 1 and 100");
    else
        st.batch_max = static_cast<std::size_t>(batch_max);
    st.timeouts = curl::read_timeouts(o, problem);
    auto max_bytes = o.integer_or("max_message_bytes", 25 * 1024 * 1024);
    if (max_bytes < 4096)
        problem("max_message_bytes", "must be at least 4096");
    else
        st.max_bytes = static_cast<std::uint64_t>(max_bytes);

    if (!ok)
        return nullptr;
    if (st.insecure)
        log::warn(log_tag, "sink={} insecure_tls: the certificate of {} is not verified", s.name,
                  st.server);
    return std::make_unique<smtp_sink>(std::move(st));
}

} // namespace

sink_descriptor const smtp_sink_descriptor{
    "smtp",
    "Mails each photo (or a batch of photos) as attachments through an SMTP server, TLS verified.",
    smtp_options,
    &make_smtp_sink,
};

} // namespace camrelay::delivery
