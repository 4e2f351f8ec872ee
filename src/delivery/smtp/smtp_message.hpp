// Pure helpers of the SMTP sink, kept apart from libcurl so they can be unit-tested: header
// sanitising and encoding (RFC 5322, RFC 2047, RFC 2231), address parsing, Message-ID and Date,
// and the size arithmetic that decides how photos are grouped into messages.
//
// Camera-supplied values (file names, model names) are untrusted: everything that reaches a
// header goes through clean_header_text() first, so no CR/LF (header injection) or other control
// character can come from a camera, and non-UTF-8 bytes become '?'.
#pragma once

#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace camrelay::delivery::smtp
{

/// Valid UTF-8 on one line: control characters (CR, LF, TAB, NUL...) become spaces, invalid
/// UTF-8 bytes become '?', runs of spaces collapse, ends are trimmed, and the result is cut to at
/// most `max_bytes` on a character boundary.
std::string clean_header_text(std::string_view text, std::size_t max_bytes = 200);

/// Plain-text body: CR/LF or LF become CRLF, other control characters (except TAB) become
/// spaces, invalid UTF-8 bytes '?'.
std::string clean_body_text(std::string_view text);

/// An unstructured header value (Subject): returned as is when it is printable ASCII, else as
/// RFC 2047 "=?UTF-8?B?...?=" encoded words of at most 75 characters, folded with CRLF SP.
/// The input must already be clean (clean_header_text).
std::string encode_unstructured(std::string_view clean_utf8);

/// The attachment's file name from the camera's: clean_header_text() at most 120 bytes, and
/// '/' and '\\' replaced (a name is never a path for the receiving mail program).
std::string attachment_name(std::string_view camera_name);

/// The Content-Disposition header line for an attachment called `name` (from attachment_name):
/// `attachment; filename="NAME"` for printable ASCII without '"' and '\\', else
/// `attachment; filename*=UTF-8''percent-encoded` (RFC 2231), exact either way.
std::string content_disposition(std::string_view name);

/// The MIME type of a photo: `mime` when it is a well-formed type/subtype, else guessed from the
/// extension of `name` (jpg, heic, raw formats, videos), else application/octet-stream.
std::string content_type_for(std::string_view mime, std::string_view name);

/// One mailbox from the config: "user@example.org" or "Display Name <user@example.org>".
struct mailbox
{
    std::string display; ///< may be empty
    std::string address; ///< local@domain, ASCII, no spaces or angle brackets
};

/// Parses `text`; on error returns false and explains in `error`. Refuses CR/LF and any other
/// control character, non-ASCII in the address, and addresses without '@'.
bool parse_mailbox(std::string_view text, mailbox& out, std::string& error);

/// The header form: `addr` or `"Display" <addr>` (display name RFC 2047-encoded when not ASCII).
std::string format_mailbox(mailbox const& m);

/// RFC 5322 date in UTC: "Wed, 01 May 2024 12:00:01 +0000" (no locale involved).
std::string rfc5322_date(std::time_t t);

/// A Message-ID that depends only on the jobs and their content, so a retry of the same jobs
/// sends the same id and a receiving mail program can drop the duplicate:
/// `<camrelay.JOB.SHA16@domain>` for one job, `<camrelay.JOB-JOBn.HASH24@domain>` for several.
/// `domain` is the sender's domain (sanitised; "camrelay.invalid" when unusable).
std::string message_id(std::span<const std::pair<std::int64_t, std::string>> job_and_sha256,
                       std::string_view domain);

/// Bytes a file of `size` bytes takes as a base64 part (76-character lines + CRLF).
std::uint64_t base64_bytes(std::uint64_t size);

/// Generous estimate of the headers of one attachment part.
inline constexpr std::uint64_t attachment_overhead = 1024;

/// Estimated size of a whole message: `fixed` (top headers + text part) plus every attachment
/// encoded with its part headers.
std::uint64_t estimated_message_bytes(std::span<const std::uint64_t> sizes, std::uint64_t fixed);

/// How photos due together are sent: groups of at most `batch_max` photos whose estimated
/// message stays within `limit`, in the given order; photos too big for a message of their own
/// are listed in `too_large` and sent in none.
struct batch_plan
{
    std::vector<std::vector<std::size_t>> messages; ///< indexes into the sizes
    std::vector<std::size_t> too_large;
};
batch_plan plan_messages(std::span<const std::uint64_t> sizes, std::size_t batch_max,
                         std::uint64_t limit, std::uint64_t fixed);

/// "25.0 MiB (26214400 bytes)"-style text for messages.
std::string describe_bytes(std::uint64_t bytes);

} // namespace camrelay::delivery::smtp
