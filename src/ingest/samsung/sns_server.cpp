// Asio driver of the Samsung SNS source: sockets, timeouts, the connection caps and eviction. It
// makes no protocol decisions: the request head comes from proto::http::request_parser, everything
// else from sns_service. One TU on purpose: Asio (and its coroutine machinery) is instantiated here
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
#include <list>
#include <map>
#include <memory>
#include <tuple>
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

/// What the listener's limits did, by name (counted, logged; docs/samsung.md "Limits").
enum class limit_event
{
    refused_per_address, ///< max_connections_per_address reached: closed at once
    refused_full,        ///< max_connections reached and nothing could be evicted
    evicted,             ///< closed to make room for a newcomer (max_connections reached)
    head_timeout,        ///< the request head was not complete within head_timeout
    idle_timeout,        ///< no byte for idle_timeout
    request_timeout,     ///< the connection took longer than request_timeout
    too_slow,            ///< the body fell below min_body_rate over a rate_window
};
constexpr std::size_t limit_event_count = 7;

std::string_view to_string(limit_event e) noexcept
{
    switch (e)
    {
    case limit_event::refused_per_address:
        return "refused_per_address";
    case limit_event::refused_full:
        return "refused_full";
    case limit_event::evicted:
        return "evicted";
    case limit_event::head_timeout:
        return "head_timeout";
    case limit_event::idle_timeout:
        return "idle_timeout";
    case limit_event::request_timeout:
        return "request_timeout";
    case limit_event::too_slow:
        return "too_slow";
    }
    return "?";
}

/// Limit events after the first are summed up in one line this often.
constexpr auto report_interval = std::chrono::seconds(10);

enum class phase
{
    head,   ///< waiting for the request head
    body,   ///< reading the body
    answer, ///< writing the answer: never evicted
    drain,  ///< answered, draining what the client still sends: evicted first
};

struct connection_state;

/// Who is connected: the per-address counts and the eviction candidates. Plain data shared by
/// the server and every connection, so a connection torn down with the io_context (after the
/// server) still finds it.
struct registry
{
    std::list<connection_state*> open;
    std::map<std::string, std::size_t, std::less<>> per_address;

    std::size_t count(std::string_view address) const
    {
        auto it = per_address.find(address);
        return it == per_address.end() ? 0 : it->second;
    }
};

struct connection_state
{
    connection_state(asio::io_context& io, tcp::socket s, std::shared_ptr<registry> r,
                     std::string addr, steady::time_point now)
        : sock(std::move(s)), timer(io), reg(std::move(r)), address(std::move(addr)), accepted(now),
          last_byte(now), window_start(now)
    {
        where = reg->open.insert(reg->open.end(), this);
        ++reg->per_address[address];
    }
    ~connection_state() { release(); }
    connection_state(connection_state const&) = delete;
    connection_state& operator=(connection_state const&) = delete;

    /// Gives the slot back (idempotent): at eviction already, so the newcomer takes it at once.
    void release()
    {
        if (!registered)
            return;
        registered = false;
        reg->open.erase(where);
        if (auto it = reg->per_address.find(address); it != reg->per_address.end())
            if (--it->second == 0)
                reg->per_address.erase(it);
    }

    void evict()
    {
        evicted = true;
        release();
        boost::system::error_code ignored;
        sock.cancel(ignored);
        timer.cancel();
    }

    /// Body bytes per second over the current and the previous rate window (at least 1 s).
    double rate(steady::time_point now, std::chrono::seconds window) const
    {
        auto span = std::chrono::duration<double>(now - window_start).count() +
                    (has_prev_window ? std::chrono::duration<double>(window).count() : 0.0);
        return static_cast<double>(window_bytes + prev_window_bytes) / std::max(span, 1.0);
    }

    tcp::socket sock;
    asio::steady_timer timer;
    std::shared_ptr<registry> reg;
    std::string address;
    std::list<connection_state*>::iterator where;
    bool registered = true;
    bool evicted = false;
    phase ph = phase::head;
    steady::time_point accepted;
    steady::time_point last_byte;
    steady::time_point window_start;
    std::uint64_t window_bytes = 0;
    std::uint64_t prev_window_bytes = 0;
    bool has_prev_window = false;
};

/// The connection to close for a newcomer when every slot is taken, or null when none may go
/// (all are writing their answer). Worst first: the address with the most connections, then
/// draining, then waiting for the head (longest idle first), then the slowest body.
connection_state* pick_victim(registry const& reg, steady::time_point now,
                              std::chrono::seconds window)
{
    connection_state* worst = nullptr;
    std::tuple<std::size_t, int, double> worst_key{};
    for (auto* c : reg.open)
    {
        if (c->ph == phase::answer)
            continue;
        int rank = c->ph == phase::drain ? 2 : c->ph == phase::head ? 1 : 0;
        double metric = c->ph == phase::body
                            ? -c->rate(now, window)
                            : std::chrono::duration<double>(now - c->last_byte).count();
        std::tuple<std::size_t, int, double> key{reg.count(c->address), rank, metric};
        if (!worst || key > worst_key)
        {
            worst = c;
            worst_key = key;
        }
    }
    return worst;
}

std::string phase_text(phase p)
{
    switch (p)
    {
    case phase::head:
        return "waiting for its head";
    case phase::body:
        return "in its body";
    case phase::answer:
        return "answering";
    case phase::drain:
        return "answered";
    }
    return "?";
}

class server
{
  public:
    server(asio::io_context& io, server_limits const& limits, sns_service& svc)
        : io_(io), limits_(limits), svc_(svc), acceptor_(io), reg_(std::make_shared<registry>()),
          report_timer_(io)
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
            boost::system::error_code pec;
            auto peer = sock.remote_endpoint(pec);
            std::string address = pec ? std::string("?") : peer.address().to_string();
            if (!admit(address))
            {
                boost::system::error_code ignored;
                sock.close(ignored);
                continue;
            }
            auto c = std::make_unique<connection_state>(io_, std::move(sock), reg_,
                                                        std::move(address), steady::now());
            asio::co_spawn(io_, connection(std::move(c)),
                           [](std::exception_ptr e)
                           {
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
    /// The caps: false closes the newcomer at once; at the global cap the worst connection open
    /// makes room instead.
    bool admit(std::string const& address)
    {
        auto const mine = reg_->count(address);
        if (mine >= limits_.max_connections_per_address)
        {
            note(limit_event::refused_per_address,
                 fmt::format("client={}: {} connections from this address open already "
                             "(max_connections_per_address), closed",
                             address, mine));
            return false;
        }
        if (reg_->open.size() < limits_.max_connections)
            return true;
        auto now = steady::now();
        auto* victim = pick_victim(*reg_, now, limits_.rate_window);
        if (!victim)
        {
            note(limit_event::refused_full,
                 fmt::format("client={}: {} connections open already, all answering; closed",
                             address, reg_->open.size()));
            return false;
        }
        auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(now - victim->last_byte);
        note(limit_event::evicted,
             fmt::format("client={}: closed ({} connections from it, {}, idle {} ms, {:.0f} B/s) "
                         "to make room for client={} (max_connections {})",
                         victim->address, reg_->count(victim->address), phase_text(victim->ph),
                         idle.count(), victim->rate(now, limits_.rate_window), address,
                         limits_.max_connections));
        victim->evict();
        return true;
    }

    /// Counts a limit event; the first of a quiet period is logged at once, the rest summed up.
    void note(limit_event e, std::string const& line)
    {
        auto i = static_cast<std::size_t>(e);
        ++totals_[i];
        if (!report_armed_)
        {
            log::warn(log_tag, "{} [{}]", line, to_string(e));
            arm_report();
        }
        else
        {
            ++pending_[i];
            log::debug(log_tag, "{} [{}]", line, to_string(e));
        }
    }

    void arm_report()
    {
        report_armed_ = true;
        report_timer_.expires_after(report_interval);
        report_timer_.async_wait(
            [this](boost::system::error_code ec)
            {
                if (!ec)
                    report();
            });
    }

    void report()
    {
        std::string recent, total;
        for (std::size_t i = 0; i < limit_event_count; ++i)
        {
            auto name = to_string(static_cast<limit_event>(i));
            if (pending_[i] != 0)
                recent += fmt::format("{}{}={}", recent.empty() ? "" : " ", name, pending_[i]);
            if (totals_[i] != 0)
                total += fmt::format("{}{}={}", total.empty() ? "" : " ", name, totals_[i]);
        }
        if (recent.empty())
        {
            report_armed_ = false;
            return;
        }
        log::warn(log_tag, "listener limits in the last {} s: {} (since start: {})",
                  report_interval.count(), recent, total);
        pending_ = {};
        arm_report();
    }

    /// The connection ends without an answer: the exchange learns why (it reports what it
    /// loses), the event is counted and logged.
    void cut(connection_state& c, std::unique_ptr<exchange>& ex, limit_event e,
             std::string const& what, std::string const& method, std::string const& path)
    {
        if (ex)
            ex->on_abort(what, e != limit_event::evicted);
        ex.reset();
        note(e, fmt::format("client={} {} {}: {}, closed", c.address, method, path, what));
    }

    asio::awaitable<void> connection(std::unique_ptr<connection_state> cp)
    {
        auto& c = *cp;
        auto const& client = c.address;
        auto const total_deadline = c.accepted + limits_.request_timeout;
        // The head is small: it must be complete soon after the start, which ends a slow-loris
        // that trickles header bytes long before any other limit.
        auto const head_deadline = c.accepted + limits_.head_timeout;
        bool const rate_checked = limits_.min_body_rate != 0;
        auto const window_minimum =
            limits_.min_body_rate * static_cast<std::uint64_t>(limits_.rate_window.count());
        http::request_parser parser({limits_.max_header_bytes, limits_.max_body_bytes});
        std::unique_ptr<exchange> ex;
        std::string response;
        std::array<std::byte, 64 * 1024> buf;
        std::string method, path;
        auto evicted = [&]
        {
            if (!c.evicted)
                return false;
            if (ex)
                ex->on_abort("closed to make room for another camera (max_connections)", false);
            ex.reset();
            return true;
        };

        while (response.empty())
        {
            if (evicted())
                co_return;
            auto deadline = std::min(c.last_byte + limits_.idle_timeout, total_deadline);
            if (c.ph == phase::head)
                deadline = std::min(deadline, head_deadline);
            else if (rate_checked)
                deadline = std::min(deadline, c.window_start + limits_.rate_window);
            c.timer.expires_at(deadline);
            auto got = co_await (c.sock.async_read_some(asio::buffer(buf), use_tuple) ||
                                 c.timer.async_wait(use_tuple));
            if (evicted())
                co_return;
            auto now = steady::now();
            if (got.index() == 0)
            {
                auto [rec, n] = std::get<0>(got);
                if (rec)
                {
                    if (ex || rec != asio::error::eof)
                        log::info(log_tag,
                                  "client={} {} {}: connection ended before the request "
                                  "did ({})",
                                  client, method, path, rec.message());
                    if (ex)
                        ex->on_abort("the connection ended before the request did (" +
                                         rec.message() + ")",
                                     false);
                    co_return;
                }
                c.last_byte = now;
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
                        c.ph = phase::body;
                        c.window_start = now;
                        ex = svc_.begin(parser.request(), client, std::chrono::system_clock::now());
                        if (ex->decided())
                            response = ex->on_end(std::chrono::system_clock::now());
                        break;
                    case http::parse_status::body:
                        c.window_bytes += r.body.size();
                        ex->on_body(r.body);
                        break;
                    case http::parse_status::message_done:
                        response = ex->on_end(std::chrono::system_clock::now());
                        break;
                    case http::parse_status::error:
                        if (ex)
                            ex->on_abort("bad request: " + r.error.message(), false);
                        ex.reset();
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
                if (!response.empty())
                    break;
            }
            // Which limit is up (several may be at once: the hardest first).
            if (now >= total_deadline)
            {
                cut(c, ex, limit_event::request_timeout,
                    fmt::format("request timeout ({} s)", limits_.request_timeout.count()), method,
                    path);
                co_return;
            }
            if (c.ph == phase::head && now >= head_deadline)
            {
                cut(c, ex, limit_event::head_timeout,
                    fmt::format("head timeout (no complete request head within {} s)",
                                limits_.head_timeout.count()),
                    method, path);
                co_return;
            }
            if (now >= c.last_byte + limits_.idle_timeout)
            {
                cut(c, ex, limit_event::idle_timeout,
                    fmt::format("idle timeout (no byte for {} s)", limits_.idle_timeout.count()),
                    method, path);
                co_return;
            }
            if (c.ph == phase::body && rate_checked && now >= c.window_start + limits_.rate_window)
            {
                if (c.window_bytes < window_minimum)
                {
                    cut(c, ex, limit_event::too_slow,
                        fmt::format("too slow ({} bytes in {} s, min_body_rate {} B/s)",
                                    c.window_bytes, limits_.rate_window.count(),
                                    limits_.min_body_rate),
                        method, path);
                    co_return;
                }
                c.prev_window_bytes = c.window_bytes;
                c.has_prev_window = true;
                c.window_bytes = 0;
                c.window_start = now;
            }
        }
        // The exchange (and any file it did not keep) goes before the slow part below.
        ex.reset();
        c.ph = phase::answer;
        if (parser.leniencies().any())
            log::info(log_tag, "client={} {} {}: leniencies={}", client, method, path,
                      leniency_text(parser.leniencies()));

        // 1.2: the whole answer in one segment. TCP_CORK holds it until close/shutdown flushes,
        // as the reference's patched Werkzeug does; the single write makes it one send() too.
        int one = 1;
        ::setsockopt(c.sock.native_handle(), IPPROTO_TCP, TCP_CORK, &one, sizeof one);
        c.timer.expires_at(std::min(steady::now() + limits_.idle_timeout, total_deadline));
        auto wrote = co_await (asio::async_write(c.sock, asio::buffer(response), use_tuple) ||
                               c.timer.async_wait(use_tuple));
        auto status = status_of(response);
        log::info(log_tag, "client={} {} {} status={}", client, method, path, status);
        if (wrote.index() == 1 || std::get<0>(std::get<0>(wrote)))
            co_return;
        boost::system::error_code ec;
        c.sock.shutdown(tcp::socket::shutdown_send, ec);

        // Drain what the client still sends (an early answer to a large upload), briefly. A
        // newcomer may take this slot.
        c.ph = phase::drain;
        std::size_t drained = 0;
        c.timer.expires_after(drain_time);
        while (drained < drain_bytes && !c.evicted)
        {
            auto got = co_await (c.sock.async_read_some(asio::buffer(buf), use_tuple) ||
                                 c.timer.async_wait(use_tuple));
            if (got.index() == 1)
                break;
            auto [rec, n] = std::get<0>(got);
            if (rec)
                break;
            drained += n;
            c.last_byte = steady::now();
        }
        c.sock.close(ec);
    }

    asio::io_context& io_;
    server_limits limits_;
    sns_service& svc_;
    tcp::acceptor acceptor_;
    std::shared_ptr<registry> reg_;
    asio::steady_timer report_timer_;
    bool report_armed_ = false;
    std::array<std::uint64_t, limit_event_count> totals_{};
    std::array<std::uint64_t, limit_event_count> pending_{};
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
