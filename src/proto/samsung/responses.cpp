#include "proto/samsung/responses.hpp"

#include <array>
#include <cstdio>
#include <ctime>

namespace camrelay::proto::samsung
{

std::string http_date(std::chrono::system_clock::time_point t)
{
    static constexpr std::array<char const*, 7> days{"Sun", "Mon", "Tue", "Wed",
                                                     "Thu", "Fri", "Sat"};
    static constexpr std::array<char const*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                  days[static_cast<std::size_t>(tm.tm_wday)], tm.tm_mday,
                  months[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                  tm.tm_min, tm.tm_sec);
    return buf;
}

std::string_view reason_phrase(int status) noexcept
{
    switch (status)
    {
    case 200:
        return "OK";
    case 302:
        return "FOUND";
    case 400:
        return "BAD REQUEST";
    case 401:
        return "UNAUTHORIZED";
    case 404:
        return "NOT FOUND";
    case 405:
        return "METHOD NOT ALLOWED";
    case 413:
        return "REQUEST ENTITY TOO LARGE";
    case 500:
        return "INTERNAL SERVER ERROR";
    default:
        return "UNKNOWN";
    }
}

namespace
{

/// Title-case reason for Werkzeug's HTML error pages.
std::string_view title_reason(int status) noexcept
{
    switch (status)
    {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Request Entity Too Large";
    case 500:
        return "Internal Server Error";
    default:
        return "Error";
    }
}

std::string_view default_description(int status) noexcept
{
    switch (status)
    {
    case 404:
        return "The requested URL was not found on the server. If you entered the URL manually "
               "please check your spelling and try again.";
    case 500:
        return "The server encountered an internal error and was unable to complete your "
               "request. Either the server is overloaded or there is an error in the application.";
    default:
        return {};
    }
}

} // namespace

std::string xml_escape(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s)
    {
        switch (c)
        {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&#34;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out.push_back(c);
        }
    }
    return out;
}

std::string make_response(response_context const& ctx, int status, std::string_view body,
                          std::span<const header_field> app_headers,
                          std::span<const header_field> late_headers)
{
    std::string out;
    out.reserve(256 + body.size());
    auto line = [&](std::string_view name, std::string_view value)
    { out.append(name).append(": ").append(value).append("\r\n"); };
    out.append("HTTP/1.0 ").append(std::to_string(status)).append(" ");
    out.append(reason_phrase(status)).append("\r\n");
    line("Server", ctx.server);
    line("Date", ctx.date);
    for (auto const& h : app_headers)
        line(h.name, h.value);
    line("Content-Type", "text/html; charset=utf-8");
    line("Content-Length", std::to_string(body.size()));
    for (auto const& h : late_headers)
        line(h.name, h.value);
    line("Connection", "close");
    out.append("\r\n");
    out.append(body);
    return out;
}

std::string status_body(std::string_view status)
{
    return "<Response Status=\"" + xml_escape(status) + "\" />";
}

std::string error_body(int code, std::string_view comment, int sub_code)
{
    return "<Response ErrCode=\"" + std::to_string(code) + "\" ErrSubCode=\"" +
           std::to_string(sub_code) + "\" /><!-- " + xml_escape(comment) + " -->";
}

std::string login_body(std::string_view session_key, std::string_view screen_name)
{
    auto sid = xml_escape(session_key);
    return "<Response SessionKey=\"" + sid +
           "\">\n<PersistKey Value=\"\"/>\n<CryptSessionKey Value=\"" + sid +
           "\"/>\n<LoginPeopleID=\"" + xml_escape(screen_name) +
           "\"/>\n<OAuth URL=\"http://snsgw.samsungmobile.com/oauth\"/>\n</Response>";
}

std::string upload_ticket_body(std::string_view session_key, std::string_view file_name)
{
    return "<Response HostAddr=\"snsgw.samsungmobile.com:80\" ResourceID=\"upload/" +
           xml_escape(session_key) + "/" + xml_escape(file_name) + "\" />";
}

std::string index_body(std::string_view user_agent)
{
    return "<html>\n<head>\n\t<title>Samsung NX Email Service</title>\n</head>\n<body>\n"
           "\t<center><h1>Samsung NX will never die!</h1></center>\n"
           "\t<p>Hello, you are here:</p>\n\t<code>" +
           xml_escape(user_agent) +
           "</code>\n\t<p style=\"text-align: right\"><br/><br/><a "
           "href=\"https://github.com/ge0rg/samsung-nx-emailservice\">source code</a></p>\n"
           "</body>";
}

std::string server_time_body(std::int64_t ms)
{
    return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><initializeResult>"
           "<currentServerTime>" +
           std::to_string(ms) + "</currentServerTime></initializeResult>";
}

std::string redirect_body(std::string_view location)
{
    auto url = xml_escape(location);
    return "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
           "<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: "
           "<a href=\"" +
           url + "\">" + url + "</a>. If not, click the link.\n";
}

std::string abort_body(int status, std::string_view message)
{
    auto title = title_reason(status);
    std::string text =
        message.empty() ? std::string(default_description(status)) : xml_escape(message);
    return "<!doctype html>\n<html lang=en>\n<title>" + std::to_string(status) + " " +
           std::string(title) + "</title>\n<h1>" + std::string(title) + "</h1>\n<p>" + text +
           "</p>\n";
}

std::string gld_hotspot_response(response_context const& ctx)
{
    // The NX mini fw 1.10 wants exactly this (samsung-sns.md 2.1, 3.1 a); the reference's own
    // Server line stays in front, so two Server headers go out, as in the known-working answer.
    std::array<header_field, 2> app{{{"ETag", "\"deadbeef\""}, {"Server", "nginx/notreally"}}};
    return make_response(ctx, 200, {}, app);
}

std::string redirect_response(response_context const& ctx, std::string_view location)
{
    std::array<header_field, 1> late{{{"Location", location}}};
    return make_response(ctx, 302, redirect_body(location), {}, late);
}

std::string hotspot_cookie_response(response_context const& ctx, std::string_view body,
                                    std::string_view cookie_domain)
{
    std::string cookie = "samsung=hotspot; Domain=" + std::string(cookie_domain) + "; Path=/";
    std::array<header_field, 1> late{{{"Set-Cookie", cookie}}};
    return make_response(ctx, 200, body, {}, late);
}

std::string error_response(response_context const& ctx, int code, std::string_view comment)
{
    return make_response(ctx, code, error_body(code, comment));
}

} // namespace camrelay::proto::samsung
