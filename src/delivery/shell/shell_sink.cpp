// The shell sink: runs a command per asset. The command is an argv list whose elements are
// templates; it is executed directly (posix_spawn), never through /bin/sh unless the user writes
// ["/bin/sh", "-c", "..."] themselves, so a camera file name such as `a;rm -rf ~ $(x).jpg`
// reaches the program as one literal argument. Exit 0 = delivered, 75 (EX_TEMPFAIL) = retry
// later, anything else = permanent failure with the end of stderr kept in the ledger.
#include "delivery/shell/shell_sink.hpp"

#include "core/log.hpp"
#include "core/name_template.hpp"
#include "delivery/error.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

extern char** environ;

namespace camrelay::delivery {

namespace {

constexpr auto log_tag = "shell";
constexpr std::size_t stderr_keep = 2048;

constexpr config::option_spec shell_options[] = {
    {"command", config::option_type::string_list, true, "",
     "The program and its arguments, each a template with the same placeholders as the folder "
     "sink plus {path} (the spooled file) and {sha256}, e.g. [\"/usr/local/bin/upload\", "
     "\"{path}\", \"{name}\"]. Run without a shell. Also in the environment: CAMRELAY_PATH, "
     "CAMRELAY_NAME, CAMRELAY_FOLDER, CAMRELAY_SHA256, CAMRELAY_SIZE, CAMRELAY_CAMERA, "
     "CAMRELAY_MODEL, CAMRELAY_SERIAL, CAMRELAY_CAPTURE_TIME, CAMRELAY_SOURCE, CAMRELAY_JOB_ID, "
     "CAMRELAY_ATTEMPT."},
    {"stdin", config::option_type::string, false, "",
     "Template written to the command's standard input (placeholders as in `command`, values "
     "inserted as they are), e.g. a mail text made of {sender} {subject} {body}; empty: "
     "standard input is /dev/null."},
    {"timeout", config::option_type::integer, false, "300",
     "Seconds before the command is stopped (SIGTERM, then SIGKILL) and the job retried later."},
};

class shell_sink final : public sink
{
public:
    shell_sink(std::string name, std::vector<name_template> argv, name_template input,
               std::chrono::seconds timeout)
        : name_(std::move(name)), argv_(std::move(argv)), input_(std::move(input)),
          timeout_(timeout)
    {
    }
    outcome deliver(request const& req) override;

private:
    std::string name_;
    std::vector<name_template> argv_;
    name_template input_;
    std::chrono::seconds timeout_;
};

std::vector<std::string> environment_for(request const& req)
{
    auto const& a = req.asset;
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e)
        if (std::strncmp(*e, "CAMRELAY_", 9) != 0)
            env.emplace_back(*e);
    env.push_back("CAMRELAY_PATH=" + a.spool_path);
    env.push_back("CAMRELAY_NAME=" + a.name);
    env.push_back("CAMRELAY_FOLDER=" + a.folder);
    env.push_back("CAMRELAY_SHA256=" + a.sha256);
    env.push_back("CAMRELAY_SIZE=" + std::to_string(a.size));
    env.push_back("CAMRELAY_CAMERA=" + a.camera_name);
    env.push_back("CAMRELAY_MODEL=" + a.model);
    env.push_back("CAMRELAY_SERIAL=" + a.serial);
    env.push_back("CAMRELAY_CAPTURE_TIME=" + format_capture_time(a.capture_time, "%Y-%m-%dT%H:%M:%S"));
    env.push_back("CAMRELAY_SOURCE=" + a.source_kind);
    env.push_back("CAMRELAY_JOB_ID=" + std::to_string(req.job_id));
    env.push_back("CAMRELAY_ATTEMPT=" + std::to_string(req.attempt));
    return env;
}

// Keeps the last `stderr_keep` bytes: the end of an error message is where the reason is.
void keep_tail(std::string& buf, char const* data, std::size_t n)
{
    buf.append(data, n);
    if (buf.size() > stderr_keep)
        buf.erase(0, buf.size() - stderr_keep);
}

outcome shell_sink::deliver(request const& req)
{
    // Nothing may start once cancelled: a command cannot be taken back.
    if (req.stop.stop_requested())
        return outcome::fail(make_error_code(errc::cancelled), "cancelled");
    std::vector<std::string> args;
    for (auto const& t : argv_)
        args.push_back(t.expand(req.asset, name_template::mode::literal, name_));
    std::string input = input_.expand(req.asset, name_template::mode::literal, name_);
    std::vector<char*> argv;
    for (auto& s : args)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    auto env_strings = environment_for(req);
    std::vector<char*> envp;
    for (auto& s : env_strings)
        envp.push_back(s.data());
    envp.push_back(nullptr);

    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0)
        return outcome::fail(make_error_code(errc::destination_unavailable), "pipe failed");
    int in_pipe[2] = {-1, -1};
    if (!input.empty() && ::pipe2(in_pipe, O_CLOEXEC) != 0)
    {
        ::close(err_pipe[0]);
        ::close(err_pipe[1]);
        return outcome::fail(make_error_code(errc::destination_unavailable), "pipe failed");
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (in_pipe[0] >= 0)
        posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    else
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Own process group, so a timeout stops the command and everything it started.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);

    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(err_pipe[1]);
    if (in_pipe[0] >= 0)
    {
        ::close(in_pipe[0]);
        // Written a piece per loop turn: a command that never reads its input cannot block us.
        ::fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    }
    std::size_t input_sent = 0;
    auto close_input = [&] {
        if (in_pipe[1] >= 0)
            ::close(in_pipe[1]);
        in_pipe[1] = -1;
    };
    if (rc != 0)
    {
        close_input();
        ::close(err_pipe[0]);
        return outcome::fail(make_error_code(errc::command_failed),
                             "cannot run '" + args[0] + "': " + std::strerror(rc));
    }

    std::string err_tail;
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    bool timed_out = false;
    bool cancelled = false;
    bool pipe_open = true;
    int status = 0;
    bool exited = false;
    while (!exited)
    {
        if (in_pipe[1] >= 0)
        {
            ssize_t n = ::write(in_pipe[1], input.data() + input_sent, input.size() - input_sent);
            if (n > 0)
                input_sent += static_cast<std::size_t>(n);
            if ((n < 0 && errno != EAGAIN && errno != EINTR) || input_sent == input.size())
                close_input(); // done, or the command closed its input (EPIPE): fine either way
        }
        if (pipe_open)
        {
            pollfd p{err_pipe[0], POLLIN, 0};
            int pr = ::poll(&p, 1, 200);
            if (pr > 0)
            {
                char buf[4096];
                ssize_t n = ::read(err_pipe[0], buf, sizeof buf);
                if (n > 0)
                    keep_tail(err_tail, buf, static_cast<std::size_t>(n));
                else if (n == 0 || (n < 0 && errno != EINTR))
                    pipe_open = false;
            }
        }
        else
        {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid)
        {
            exited = true;
            break;
        }
        bool stop = req.stop.stop_requested();
        if (!timed_out && !cancelled &&
            (stop || std::chrono::steady_clock::now() >= deadline))
        {
            (stop ? cancelled : timed_out) = true;
            ::kill(-pid, SIGTERM);
            // Give it two seconds to clean up, then make sure.
            auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            while (::waitpid(pid, &status, WNOHANG) == 0 &&
                   std::chrono::steady_clock::now() < grace)
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            exited = true;
        }
    }
    close_input();
    // Drain what is left of stderr (non-blocking: children of the command may keep it open).
    ::fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
    for (char buf[4096];;)
    {
        ssize_t n = ::read(err_pipe[0], buf, sizeof buf);
        if (n <= 0)
            break;
        keep_tail(err_tail, buf, static_cast<std::size_t>(n));
    }
    ::close(err_pipe[0]);
    while (!err_tail.empty() && (err_tail.back() == '\n' || err_tail.back() == '\r'))
        err_tail.pop_back();

    if (cancelled)
        return outcome::fail(make_error_code(errc::cancelled), "cancelled");
    if (timed_out)
        return outcome::fail(make_error_code(errc::timed_out),
                             "'" + args[0] + "' ran longer than " +
                                 std::to_string(timeout_.count()) + " s and was stopped");
    if (WIFEXITED(status))
    {
        int code = WEXITSTATUS(status);
        if (code == 0)
            return outcome::ok("'" + args[0] + "' exited 0");
        auto why = "'" + args[0] + "' exited " + std::to_string(code) +
                   (err_tail.empty() ? std::string() : ": " + err_tail);
        log::debug(log_tag, "job={} {}", req.job_id, why);
        if (code == 75)
            return outcome::fail(make_error_code(errc::command_retry), why);
        return outcome::fail(make_error_code(errc::command_failed), why);
    }
    return outcome::fail(make_error_code(errc::command_failed),
                         "'" + args[0] + "' killed by signal " +
                             std::to_string(WIFSIGNALED(status) ? WTERMSIG(status) : 0) +
                             (err_tail.empty() ? std::string() : ": " + err_tail));
}

std::unique_ptr<sink> make_shell_sink(config::sink_settings const& s,
                                      std::vector<config::problem>& problems)
{
    auto where = "[sink." + s.name + "]";
    auto command = s.options.list_or("command", {});
    int line = s.options.line_of("command");
    bool ok = true;
    if (command.empty() || command.front().empty())
    {
        problems.push_back({line ? line : s.line, where + ": command must name a program"});
        ok = false;
    }
    // Check everything before giving up, so `camrelay config check` lists every problem.
    std::vector<name_template> argv;
    for (auto const& c : command)
    {
        name_template t;
        std::string err;
        if (!name_template::parse(c, t, err))
        {
            problems.push_back({line, where + ": command element '" + c + "': " + err});
            ok = false;
        }
        argv.push_back(std::move(t));
    }
    name_template input;
    if (std::string err; !name_template::parse(s.options.string_or("stdin", ""), input, err))
    {
        problems.push_back({s.options.line_of("stdin"), where + ": stdin: " + err});
        ok = false;
    }
    auto timeout = s.options.integer_or("timeout", 300);
    if (timeout < 1)
    {
        problems.push_back({s.options.line_of("timeout"), where + ": timeout must be >= 1"});
        ok = false;
    }
    if (!ok)
        return nullptr;
    return std::make_unique<shell_sink>(s.name, std::move(argv), std::move(input),
                                        std::chrono::seconds(timeout));
}

} // namespace

sink_descriptor const shell_sink_descriptor{
    "shell",
    "Runs a program for each photo, without a shell; exit 0 delivered, 75 retry later.",
    shell_options,
    &make_shell_sink,
};

} // namespace camrelay::delivery
