// Reads the config.toml of samsung-nx-emailservice (the Flask reference, samsung-sns.md 7) as it
// is and translates it into native settings: generated sinks (samsung-mail, samsung-store,
// samsung-mastodon, samsung-shell and one per instance) and the samsung source's options
// (senders, secret, actions, email_default, social_default). Used through
// source_descriptor::expand when a [[source]] type = "samsung" has `compat_config = PATH`.
#pragma once

#include "config/loader.hpp"
#include "config/settings.hpp"

#include <string>
#include <vector>

namespace camrelay::ingest::samsung
{

/// What one compat file turns into. Problems and warnings carry lines of the compat file.
struct compat_translation
{
    std::vector<config::sink_settings> sinks; ///< line 0; the caller sets it
    std::vector<std::string> senders;         ///< SENDERS
    std::string secret;                       ///< SECRET
    std::vector<std::string> actions;         ///< "TARGET = KIND[:SINK][, KIND:SINK...]"
    std::string email_default;                ///< "mail:samsung-mail", or "drop"
    std::string social_default;               ///< "store:samsung-store"

    /// A secret the sinks read from a file (they never take one from the config): the SMTP
    /// password, a Mastodon token as `camrelay login mastodon` writes it. Written mode 0600.
    struct secret_file
    {
        std::string path;
        std::string content;
    };
    std::vector<secret_file> secret_files;

    std::vector<config::problem> warnings; ///< things that work differently or not at all
};

/// Generated sink names: samsung-mail, samsung-store, samsung-store-INSTANCE, ...
inline constexpr char const* mail_sink = "samsung-mail";
inline constexpr char const* store_sink = "samsung-store";
inline constexpr char const* mastodon_sink = "samsung-mastodon";
inline constexpr char const* shell_sink = "samsung-shell";

/// Reads and translates the compat file at `path`. Relative paths inside it (UPLOAD_FOLDER, a
/// TOKEN file) are taken from the compat file's folder. Derived secret files are named under
/// `secret_dir` (not written here). Returns false when there is any problem.
bool read_compat_config(std::string const& path, std::string const& secret_dir,
                        compat_translation& out, std::vector<config::problem>& problems);

/// The source_descriptor::expand hook of the samsung source: when `self` has compat_config,
/// translates the file, writes the derived secret files under DATA_DIR/samsung-compat/ (0700),
/// adds the generated sinks to `all` (a native [sink.NAME] of the same name wins), fills the
/// source options the config did not give, and logs the warnings. Problems point at the
/// compat_config line of the camrelay config and name the compat file's line.
void expand_compat_config(config::source_settings& self, config::settings& all,
                          std::vector<config::problem>& problems);

/// Python str.format template of the reference's [SHELL] CMD/STDIN -> a camrelay template
/// (the shell sink's `command` / `stdin`):
/// {sender} {recipient} {subject} {body} stay, {filename} becomes {path}, {{ and }} stay.
/// Any other field, a conversion (!r) or a format spec is an error.
bool translate_shell_template(std::string_view text, std::string& out, std::string& error);

} // namespace camrelay::ingest::samsung
