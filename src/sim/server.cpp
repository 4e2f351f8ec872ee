#include "sim/server.hpp"

#include "core/log.hpp"
#include "proto/ptpip/fuji.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <csignal>
#include <filesystem>
#include <list>
#include <memory>

namespace camrelay::sim
{

namespace
{

constexpr auto log_tag = "sim";
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class connection : public std::enable_shared_from_this<connection>
{
  public:
    connection(tcp::socket s, camera& cam, responder::role r, std::uint32_t id)
        : socket_(std::move(s)), responder_(cam, r), id_(id)
    {
    }

    void start(std::list<std::weak_ptr<connection>>& registry)
    {
        registry.push_back(weak_from_this());
        asio::co_spawn(socket_.get_executor(), read_loop(shared_from_this()), asio::detached);
    }

    void object_added(std::uint32_t handle)
    {
        responder_.notify_object_added(handle);
        kick();
    }

    bool open() const { return socket_.is_open(); }

  private:
    void kick()
    {
        if (writing_ || !socket_.is_open())
            return;
        writing_ = true;
        asio::co_spawn(socket_.get_executor(), write_loop(shared_from_this()), asio::detached);
    }

    void close(char const* why)
    {
        if (!socket_.is_open())
            return;
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
        responder_.on_disconnect();
        log::info(log_tag, "connection closed conn={} reason=\"{}\"", id_, why);
    }

    static asio::awaitable<void> read_loop(std::shared_ptr<connection> self)
    {
        std::array<std::byte, 64 * 1024> buf;
        for (;;)
        {
            boost::system::error_code ec;
            auto n = co_await self->socket_.async_read_some(
                asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
            {
                self->close(ec == asio::error::eof ? "peer closed" : "read error");
                co_return;
            }
            self->responder_.receive(ptp_view(buf.data(), n));
            self->kick();
            if (!self->socket_.is_open())
                co_return;
        }
    }

    static asio::awaitable<void> write_loop(std::shared_ptr<connection> self)
    {
        for (;;)
        {
            auto out = self->responder_.pending_output();
            if (out.empty() || !self->socket_.is_open())
                break;
            boost::system::error_code ec;
            auto n = co_await asio::async_write(self->socket_, asio::buffer(out.data(), out.size()),
                                                asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
            {
                self->writing_ = false;
                self->close("write error");
                co_return;
            }
            self->responder_.consume_output(n);
            if (auto pace = self->responder_.pace(); pace.count() > 0)
            {
                asio::steady_timer t(self->socket_.get_executor());
                t.expires_after(pace);
                co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
        }
        self->writing_ = false;
        if (self->responder_.done())
            self->close(self->responder_.close_reason().c_str());
    }

    static proto::ptp::bytes_view ptp_view(std::byte const* p, std::size_t n) { return {p, n}; }

    tcp::socket socket_;
    responder responder_;
    std::uint32_t id_;
    bool writing_ = false;
};

struct server_state
{
    camera cam;
    std::list<std::weak_ptr<connection>> connections;
    std::uint32_t next_id = 1;

    server_state(std::vector<std::filesystem::path> roots, flavor f) : cam(std::move(roots), f) {}
};

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, server_state& st, responder::role r)
{
    for (;;)
    {
        boost::system::error_code ec;
        auto sock = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
        {
            if (ec == asio::error::operation_aborted)
                co_return;
            log::warn(log_tag, "accept failed error={}", ec.message());
            continue;
        }
        sock.set_option(tcp::no_delay(true), ec);
        auto id = st.next_id++;
        boost::system::error_code pec;
        auto peer = sock.remote_endpoint(pec);
        log::info(log_tag, "connection accepted conn={} peer={}:{} port={}", id,
                  peer.address().to_string(), peer.port(), acceptor.local_endpoint().port());
        std::make_shared<connection>(std::move(sock), st.cam, r, id)->start(st.connections);
    }
}

asio::awaitable<void> poll_folder(server_state& st)
{
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;)
    {
        timer.expires_after(std::chrono::seconds(1));
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            co_return;
        auto added = st.cam.store.rescan();
        st.connections.remove_if(
            [](auto const& w)
            {
                auto c = w.lock();
                return !c || !c->open();
            });
        for (auto h : added)
        {
            log::info(log_tag, "new file handle={} name={}", h, st.cam.store.objects()[h - 1].name);
            for (auto const& w : st.connections)
                if (auto c = w.lock())
                    c->object_added(h);
        }
    }
}

bool listen(tcp::acceptor& a, tcp::endpoint ep, std::string& error)
{
    boost::system::error_code ec;
    a.open(ep.protocol(), ec);
    if (!ec)
        a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        a.bind(ep, ec);
    if (!ec)
        a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
    {
        error = "cannot listen on " + ep.address().to_string() + ":" + std::to_string(ep.port()) +
                ": " + ec.message();
        return false;
    }
    return true;
}

} // namespace

int run_server(server_options const& o, std::function<void(server_ready const&)> const& on_ready,
               std::string& error)
{
    std::vector<std::filesystem::path> roots{o.dir};
    roots.insert(roots.end(), o.dirs.begin(), o.dirs.end());
    for (auto const& r : roots)
    {
        std::error_code fec;
        if (!std::filesystem::is_directory(r, fec))
        {
            error = "not a folder: " + r.string();
            return 1;
        }
    }
    boost::system::error_code ec;
    auto address = asio::ip::make_address(o.bind, ec);
    if (ec)
    {
        error = "not an IP address: " + o.bind;
        return 1;
    }

    asio::io_context ctx(1);
    server_state st(roots, o.kind);
    st.cam.quirks = o.quirks;
    st.cam.select = o.select;
    st.cam.store.set_max_depth(o.quirks.has(quirk::nested_folders) ? object_store::deepest
                                                                   : object_store::dcf_depth);
    if (o.quirks.has(quirk::big_video))
        st.cam.store.add_synthetic(std::string(big_video_name), big_video_size, 1700000000);
    st.cam.model = !o.model.empty() ? o.model : (o.kind == flavor::fuji ? "X-T5" : "camrelay-sim");
    st.cam.refuse = o.refuse;
    st.cam.drop_after = o.drop_after;
    // A fixed responder GUID, so clients that pair by GUID see the same camera every run.
    for (std::size_t i = 0; i < st.cam.camera_guid.size(); ++i)
        st.cam.camera_guid[i] = static_cast<std::byte>(0xC0 + i);
    st.cam.store.rescan();

    std::uint16_t port = o.port != 0              ? o.port
                         : o.kind == flavor::fuji ? proto::ptpip::fuji::command_port
                                                  : proto::ptpip::default_port;
    tcp::acceptor command(ctx);
    if (!listen(command, {address, port}, error))
        return 1;
    port = command.local_endpoint().port();
    asio::co_spawn(
        ctx,
        accept_loop(command, st,
                    o.kind == flavor::fuji ? responder::role::command : responder::role::unknown),
        asio::detached);
    tcp::acceptor events(ctx);
    if (o.kind == flavor::fuji)
    {
        // Fuji's event port is the command port + 1 (§1.3.3); live view (+2) is not simulated.
        if (!listen(events, {address, static_cast<std::uint16_t>(port + 1)}, error))
            return 1;
        asio::co_spawn(ctx, accept_loop(events, st, responder::role::event), asio::detached);
    }
    asio::co_spawn(ctx, poll_folder(st), asio::detached);

    asio::signal_set signals(ctx, SIGINT, SIGTERM);
    signals.async_wait(
        [&](boost::system::error_code const& e, int sig)
        {
            if (!e)
                log::info(log_tag, "stopping on signal {}", sig);
            ctx.stop();
        });

    on_ready(server_ready{address.to_string(), port, st.cam.store.count(), st.cam.model});
    ctx.run();
    return 0;
}

} // namespace camrelay::sim
