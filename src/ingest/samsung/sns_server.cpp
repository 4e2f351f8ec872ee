// Asio driver of the Samsung SNS source: sockets, timeouts, the connection cap. It makes no
// protocol decisions: the request head comes from proto::http::request_parser, everything else
// from sns_service. One TU on purpose: Asio (and its coroutine machinery) is instantiated here
// only.
#include "ingest/samsung/sns_server.hpp"

#include "core/log.hpp"
#include "proto/http/request_parser.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <exception>
#include <memory>
#include <variant>

namespace camrelay::ingest::samsung
{

namespace
{

namespace asio = boost::asio;
namespace http = proto::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;

constexpr auto log_tag = "samsung";
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
/// After the answer, unread request bytes are drained this long before closing, so the kernel
/// does not reset the connection (and destroy the answer) because of them.
constexpr auto drain_time = std::chrono::seconds(1);
constexpr std::size_t drain_bytes = 1 << 20;

std::string leniency_text(http::leniency_counters const& c)
{
    std::string out;
    for (std::size_t i = 0; i < http::leniency_count; ++i)
        if (c.counts[i] != 0)
        {
            if (!out.empty())
                out += ',';
            out += std::string(http::to_string(static_cast<http::leniency>(i))) + ":" +
                   std::to_string(c.counts[i]);
        }
    return out;
}

int status_of(std::string const& response)
{
    // "HTTP/1.0 200 OK": the status is what the log line wants, and it is right there.
    int status = 0;
    if (response.size() > 12)
        std::from_chars(response.data() + 9, response.data() + 12, status);
    return status;
}

class server
{
  public:
    server(asio::io_context& io, server_limits const& limits, sns_service& svc)
        : io_(io), limits_(limits), svc_(svc), acceptor_(io)
    {
    }

    std::error_code open(tcp::endpoint const& ep)
    {
        boost::system::error_code ec;
        acceptor_.open(ep.protocol(), ec);
        if (!ec)
            acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec)
            acceptor_.bind(ep, ec);
        if (!ec)
            acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec)
            return {ec.value(), std::system_category()};
        return {};
    }

    void close() { acceptor_.close(); }

    asio::awaitable<void> accept_loop()
    {
        while (true)
        {
            auto [ec, sock] = co_await acceptor_.async_accept(use_tuple);
            if (ec == asio::error::operation_aborted)
                co_return;
            if (ec)
            {
                // EMFILE and friends: wait a little instead of spinning on the error.
                log::warn(log_tag, "accept failed: {}", ec.message());
                asio::steady_timer t(io_, std::chrono::milliseconds(200));
                co_await t.async_wait(use_tuple);
                continue;
            }
            if (active_ >= limits_.max_connections)
            {
                boost::system::error_code ignored;
                auto peer = sock.remote_endpoint(ignored);
                log::warn(log_tag, "client={}: {} connections open already, closed",
                          peer.address().to_string(), active_);
                sock.close(ignored);
                continue;
            }
            ++active_;
            asio::co_spawn(io_, connection(std::move(sock)),
                           [this](std::exception_ptr e)
                           {
                               --active_;
                               if (!e)
                                   return;
                               try
                               {
                                   std::rethrow_exception(e);
                               }
                               catch (std::exception const& ex)
                               {
                                   log::error(log_tag, "connection ended by error: {}", ex.what());
                               }
                           });
        }
    }

  private:
    asio::awaitable<void> connection(tcp::socket sock)
    {
        boost::system::error_code ec;
        auto peer = sock.remote_endpoint(ec);
        std::string const client = ec ? std::string("?") : peer.address().to_string();
        auto const start = steady::now();
        auto const total_deadline = start + limits_.request_timeout;
        // The head is small: it must be complete within one idle period of the start, which
        // ends a slow-loris that trickles header bytes long before the total timeout.
        auto const head_deadline = start + limits_.idle_timeout;
        asio::steady_timer timer(io_);
        http::request_parser parser({limits_.max_header_bytes, limits_.max_body_bytes});
        std::unique_ptr<exchange> ex;
        std::string response;
        std::array<std::byte, 64 * 1024> buf;
        std::string method, path;

        while (response.empty())
        {
            auto deadline = std::min(steady::now() + limits_.idle_timeout, total_deadline);
            if (!ex)
                deadline = std::min(deadline, head_deadline);
            timer.expires_at(deadline);
            auto got = co_await (sock.async_read_some(asio::buffer(buf), use_tuple) ||
                                 timer.async_wait(use_tuple));
            if (got.index() == 1)
            {
                log::warn(log_tag, "client={} {} {}: {} timeout, closed", client, method, path,
                          steady::now() >= total_deadline ? "request" : "idle");
                co_return;
            }
            auto [rec, n] = std::get<0>(got);
            if (rec)
            {
                if (ex || rec != asio::error::eof)
                    log::info(log_tag,
                              "client={} {} {}: connection ended before the request "
                              "did ({})",
                              client, method, path, rec.message());
                co_return;
            }
            http::bytes_view in(buf.data(), n);
            bool more = true;
            while (more && response.empty())
            {
                auto r = parser.feed(in);
                in = in.subspan(r.consumed);
                switch (r.status)
                {
                case http::parse_status::need_more:
                    more = false;
                    break;
                case http::parse_status::headers_done:
                    method = parser.request().method;
                    path = parser.request().path;
                    ex = svc_.begin(parser.request(), client, std::chrono::system_clock::now());
                    if (ex->decided())
                        response = ex->on_end(std::chrono::system_clock::now());
                    break;
                case http::parse_status::body:
                    ex->on_body(r.body);
                    break;
                case http::parse_status::message_done:
                    response = ex->on_end(std::chrono::system_clock::now());
                    break;
                case http::parse_status::error:
                    if (r.error == http::errc::body_too_large)
                        response = svc_.error_page(413, "Request body too large",
                                                   std::chrono::system_clock::now());
                    else if (r.error == http::errc::header_too_large)
                        response = svc_.error_page(400, "Request header too large",
                                                   std::chrono::system_clock::now());
                    else
                        response = svc_.error_page(400, r.error.message(),
                                                   std::chrono::system_clock::now());
                    log::warn(log_tag, "client={}: bad request: {}", client, r.error.message());
                    break;
                }
            }
        }
        // The exchange (and any file it did not keep) goes before the slow part below.
        ex.reset();
        if (parser.leniencies().any())
            log::info(log_tag, "client={} {} {}: leniencies={}", client, method, path,
                      leniency_text(parser.leniencies()));

        // 1.2: the whole answer in one segment. TCP_CORK holds it until close/shutdown flushes,
        // as the reference's patched Werkzeug does; the single write makes it one send() too.
        int one = 1;
        ::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_CORK, &one, sizeof one);
        timer.expires_at(std::min(steady::now() + limits_.idle_timeout, total_deadline));
        auto wrote = co_await (asio::async_write(sock, asio::buffer(response), use_tuple) ||
                               timer.async_wait(use_tuple));
        auto status = status_of(response);
        log::info(log_tag, "client={} {} {} status={}", client, method, path, status);
        if (wrote.index() == 1 || std::get<0>(std::get<0>(wrote)))
            co_return;
        sock.shutdown(tcp::socket::shutdown_send, ec);

        // Drain what the client still sends (an early answer to a large upload), briefly.
        std::size_t drained = 0;
        timer.expires_after(drain_time);
        while (drained < drain_bytes)
        {
            auto got = co_await (sock.async_read_some(asio::buffer(buf), use_tuple) ||
                                 timer.async_wait(use_tuple));
            if (got.index() == 1)
                break;
            auto [rec, n] = std::get<0>(got);
            if (rec)
                break;
            drained += n;
        }
        sock.close(ec);
    }

    asio::io_context& io_;
    server_limits limits_;
    sns_service& svc_;
    tcp::acceptor acceptor_;
    std::size_t active_ = 0;
};

} // namespace

bool parse_listen(std::string_view text, std::string& host, std::uint16_t& port)
{
    std::string_view h, p;
    if (text.starts_with('['))
    {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return false;
        h = text.substr(1, close - 1);
        p = text.substr(close + 2);
    }
    else
    {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return false;
        h = text.substr(0, colon);
        p = text.substr(colon + 1);
        if (h.find(':') != std::string_view::npos)
            return false;
    }
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (ec != std::errc{} || ptr != p.data() + p.size() || value > 65535)
        return false;
    boost::system::error_code bec;
    auto addr = asio::ip::make_address(h.empty() ? "0.0.0.0" : std::string(h), bec);
    if (bec)
        return false;
    host = addr.to_string();
    port = static_cast<std::uint16_t>(value);
    return true;
}

std::error_code serve_sns(std::string const& listen, server_limits const& limits, sns_service& svc,
                          std::stop_token stop)
{
    std::string host;
    std::uint16_t port = 0;
    if (!parse_listen(listen, host, port))
        return std::make_error_code(std::errc::invalid_argument);
    asio::io_context io;
    server srv(io, limits, svc);
    if (auto ec = srv.open({asio::ip::make_address(host), port}))
        return ec;
    log::info(log_tag, "listening on {} for Samsung cameras", listen);
    asio::co_spawn(io, srv.accept_loop(),
                   [](std::exception_ptr e)
                   {
                       if (e)
                           log::error(log_tag, "listener ended by an error");
                   });
    std::stop_callback on_stop(stop, [&io] { io.stop(); });
    io.run();
    // io.stop() left connections mid-way: their coroutine frames (and unfinished files) are
    // destroyed with `io` below, before `svc` goes away.
    return {};
}

} // namespace camrelay::ingest::samsung
