// The shell sink: literal argv (never shell-interpreted by camrelay), environment, exit codes,
// timeout, cancellation, settings checks.
#include "delivery/error.hpp"
#include "delivery/sink.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace
{

using namespace camrelay;
using clock_type = std::chrono::steady_clock;

std::unique_ptr<delivery::sink> make_shell(std::vector<std::string> command,
                                           std::int64_t timeout = 0)
{
    auto const* d = delivery::find_sink_type("shell");
    EXPECT_NE(d, nullptr);
    config::sink_settings s;
    s.name = "run";
    s.type = "shell";
    s.options.set("command", std::move(command), 2);
    if (timeout)
        s.options.set("timeout", timeout, 3);
    std::vector<config::problem> problems;
    auto sink = d->make(s, problems);
    EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems[0].message);
    return sink;
}

std::vector<std::string> split_nul(std::string const& s)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i)
    {
        if (s[i] == '\0')
        {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

asset_info sample(std::string name)
{
    asset_info a;
    a.id = 1;
    a.name = std::move(name);
    a.folder = "/DCIM/100";
    a.camera_name = "EOS400D";
    a.model = "EOS 400D";
    a.serial = "1234";
    a.sha256 = "abcdef";
    a.size = 42;
    a.capture_time = 1714564801;
    a.source_kind = "usb";
    a.spool_path = "/spool/1/x.jpg";
    return a;
}

delivery::outcome run(delivery::sink& sink, asset_info const& a, std::stop_token stop = {})
{
    delivery::request req{11, 2, a, stop};
    return sink.deliver(req);
}

// Writes each of its arguments after the first, NUL-terminated, to the file named first.
std::vector<std::string> recorder(std::string const& out)
{
    return {"/bin/sh", "-c", "out=$1; shift; printf '%s\\0' \"$@\" > \"$out\"", "sh", out};
}

TEST(ShellSink, HostileNamesReachTheProgramAsOneLiteralArgument)
{
    test::temp_dir dir;
    auto out_file = (dir / "argv").string();
    auto pwned = (dir / "pwned").string();
    std::string hostile =
        "a b 'q' \"dq\";rm -rf x $(touch " + pwned + ") `touch " + pwned + "` |&<> *.jpg";
    auto cmd = recorder(out_file);
    cmd.push_back("{name}");
    cmd.push_back("pre-{name}-post");
    cmd.push_back("{camera}");
    cmd.push_back("{path}");
    cmd.push_back("{{literal}}");
    auto sink = make_shell(cmd);
    ASSERT_TRUE(sink);
    auto out = run(*sink, sample(hostile));
    ASSERT_TRUE(out) << out.message;
    auto args = split_nul(test::read_file(out_file));
    ASSERT_EQ(args.size(), 5u);
    EXPECT_EQ(args[0], hostile);
    EXPECT_EQ(args[1], "pre-" + hostile + "-post");
    EXPECT_EQ(args[2], "EOS400D");
    EXPECT_EQ(args[3], "/spool/1/x.jpg");
    EXPECT_EQ(args[4], "{literal}");
    EXPECT_FALSE(std::filesystem::exists(pwned)) << "a substitution was interpreted";
}

TEST(ShellSink, PathLikeNamesAreNotSanitizedForCommands)
{
    test::temp_dir dir;
    auto out_file = (dir / "argv").string();
    auto cmd = recorder(out_file);
    cmd.push_back("{name}");
    auto sink = make_shell(cmd);
    ASSERT_TRUE(sink);
    auto out = run(*sink, sample("../../etc/passwd"));
    ASSERT_TRUE(out) << out.message;
    EXPECT_EQ(split_nul(test::read_file(out_file)), std::vector<std::string>{"../../etc/passwd"});
}

TEST(ShellSink, EnvironmentDescribesTheAsset)
{
    test::temp_dir dir;
    auto out_file = (dir / "env").string();
    ::setenv("CAMRELAY_LEAK_TEST", "from-parent", 1);
    auto sink = make_shell(
        {"/bin/sh", "-c",
         "printf '%s\\0' \"$CAMRELAY_NAME\" \"$CAMRELAY_PATH\" \"$CAMRELAY_FOLDER\" "
         "\"$CAMRELAY_SHA256\" \"$CAMRELAY_SIZE\" \"$CAMRELAY_CAMERA\" \"$CAMRELAY_MODEL\" "
         "\"$CAMRELAY_SERIAL\" \"$CAMRELAY_CAPTURE_TIME\" \"$CAMRELAY_SOURCE\" "
         "\"$CAMRELAY_JOB_ID\" \"$CAMRELAY_ATTEMPT\" \"${{CAMRELAY_LEAK_TEST-unset}}\" > \"$1\"",
         "sh", out_file});
    ASSERT_TRUE(sink);
    std::string name = "x y;$(z).jpg";
    auto out = run(*sink, sample(name));
    ::unsetenv("CAMRELAY_LEAK_TEST");
    ASSERT_TRUE(out) << out.message;
    auto v = split_nul(test::read_file(out_file));
    ASSERT_EQ(v.size(), 13u);
    EXPECT_EQ(v[0], name);
    EXPECT_EQ(v[1], "/spool/1/x.jpg");
    EXPECT_EQ(v[2], "/DCIM/100");
    EXPECT_EQ(v[3], "abcdef");
    EXPECT_EQ(v[4], "42");
    EXPECT_EQ(v[5], "EOS400D");
    EXPECT_EQ(v[6], "EOS 400D");
    EXPECT_EQ(v[7], "1234");
    EXPECT_EQ(v[8], "2024-05-01T12:00:01");
    EXPECT_EQ(v[9], "usb");
    EXPECT_EQ(v[10], "11");
    EXPECT_EQ(v[11], "2");
    EXPECT_EQ(v[12], "unset") << "the parent's CAMRELAY_* variables are not passed on";
}

TEST(ShellSink, ExitZeroIsDelivered)
{
    auto sink = make_shell({"/bin/sh", "-c", "exit 0"});
    ASSERT_TRUE(sink);
    auto out = run(*sink, sample("a.jpg"));
    EXPECT_TRUE(out) << out.message;
    EXPECT_FALSE(out.error);
}

TEST(ShellSink, ProgramIsFoundOnPath)
{
    auto sink = make_shell({"true"});
    ASSERT_TRUE(sink);
    auto out = run(*sink, sample("a.jpg"));
    EXPECT_TRUE(out) << out.message;
}

TEST(ShellSink, Exit75AsksForARetry)
{
    auto sink = make_shell({"/bin/sh", "-c", "echo later >&2; exit 75"});
    ASSERT_TRUE(sink);
    auto out = run(*sink, sample("a.jpg"));
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error, delivery::errc::command_retry);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::transient);
    EXPECT_NE(out.message.find("later"), std::string::npos) << out.message;
}

TEST(ShellSink, OtherExitCodesArePermanentWithStderr)
{
    auto sink = make_shell({"/bin/sh", "-c", "echo boom >&2; exit 3"});
    ASSERT_TRUE(sink);
    auto out = run(*sink, sample("a.jpg"));
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error, delivery::errc::command_failed);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::permanent);
    EXPECT_NE(out.message.find("boom"), std::string::npos) << out.message;
    EXPECT_NE(out.message.find("exited 3"), std::string::npos) << out.message;
}

TEST(ShellSink, OnlyTheTailOfALongStderrIsKept)
{
    auto sink = make_shell({"/bin/sh", "-c",
                            "i=0; while [ $i -lt 2000 ]; do echo noise-$i >&2; i=$((i+1)); done; "
                            "echo the-real-reason >&2; exit 1"});
    ASSERT_TRUE(sink);
    auto out = run(*sink, sample("a.jpg"));
    ASSERT_FALSE(out);
    EXPECT_NE(out.message.find("the-real-reason"), std::string::npos);
    EXPECT_EQ(out.message.find("noise-0\n"), std::string::npos);
    EXPECT_LT(out.message.size(), 2048u + 200u);
}

TEST(ShellSink, KilledBySignalIsPermanent)
{
    auto sink = make_shell({"/bin/sh", "-c", "kill -9 $$"});
    ASSERT_TRUE(sink);
    auto out = run(*sink, sample("a.jpg"));
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error, delivery::errc::command_failed);
    EXPECT_NE(out.message.find("signal 9"), std::string::npos) << out.message;
}

TEST(ShellSink, TimeoutStopsTheCommandAndIsTransient)
{
    auto sink = make_shell({"/bin/sleep", "30"}, 1);
    ASSERT_TRUE(sink);
    auto start = clock_type::now();
    auto out = run(*sink, sample("a.jpg"));
    auto took = clock_type::now() - start;
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error, delivery::errc::timed_out);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::transient);
    EXPECT_GE(took, std::chrono::milliseconds(900));
    EXPECT_LT(took, std::chrono::seconds(5));
}

bool process_gone(pid_t pid)
{
    // Gone, or a zombie waiting for whoever adopted it.
    auto stat = "/proc/" + std::to_string(pid) + "/stat";
    std::string text;
    try
    {
        text = test::read_file(stat);
    }
    catch (std::exception const&)
    {
        return true;
    }
    auto paren = text.rfind(')');
    return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
}

TEST(ShellSink, StopTokenCancelsQuicklyAndKillsTheWholeGroup)
{
    test::temp_dir dir;
    auto pid_file = (dir / "pid").string();
    auto sink = make_shell({"/bin/sh", "-c", "sleep 30 & echo $! > \"$1\"; wait", "sh", pid_file});
    ASSERT_TRUE(sink);
    std::stop_source stop;
    std::jthread stopper(
        [&]
        {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            stop.request_stop();
        });
    auto start = clock_type::now();
    auto out = run(*sink, sample("a.jpg"), stop.get_token());
    auto took = clock_type::now() - start;
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error, delivery::errc::cancelled);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::cancelled);
    EXPECT_LT(took, std::chrono::seconds(4));

    auto pid_text = test::read_file(pid_file);
    auto child = static_cast<pid_t>(std::stol(pid_text));
    ASSERT_GT(child, 0);
    auto deadline = clock_type::now() + std::chrono::seconds(3);
    while (!process_gone(child) && clock_type::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(process_gone(child)) << "the command's own child survived the cancel";
    if (!process_gone(child))
        ::kill(child, SIGKILL);
}

TEST(ShellSink, MissingProgramIsPermanent)
{
    auto sink = make_shell({"/nonexistent/camrelay-test-program", "{name}"});
    ASSERT_TRUE(sink);
    auto out = run(*sink, sample("a.jpg"));
    ASSERT_FALSE(out);
    EXPECT_EQ(delivery::classify(out.error), delivery::condition::permanent);
    EXPECT_NE(out.message.find("/nonexistent/camrelay-test-program"), std::string::npos)
        << out.message;
}

TEST(ShellSinkSettings, ProblemsCarryTheirLines)
{
    auto const* d = delivery::find_sink_type("shell");
    ASSERT_NE(d, nullptr);
    {
        config::sink_settings s;
        s.name = "run";
        s.line = 20;
        std::vector<config::problem> problems;
        EXPECT_EQ(d->make(s, problems), nullptr);
        ASSERT_EQ(problems.size(), 1u);
        EXPECT_EQ(problems[0].line, 20);
        EXPECT_NE(problems[0].message.find("command"), std::string::npos);
    }
    {
        config::sink_settings s;
        s.name = "run";
        s.options.set("command", std::vector<std::string>{"/bin/echo", "{bogus}"}, 7);
        std::vector<config::problem> problems;
        EXPECT_EQ(d->make(s, problems), nullptr);
        ASSERT_EQ(problems.size(), 1u);
        EXPECT_EQ(problems[0].line, 7);
        EXPECT_NE(problems[0].message.find("{bogus}"), std::string::npos);
    }
    {
        config::sink_settings s;
        s.name = "run";
        s.options.set("command", std::vector<std::string>{"/bin/true"}, 7);
        s.options.set("timeout", std::int64_t{0}, 8);
        std::vector<config::problem> problems;
        EXPECT_EQ(d->make(s, problems), nullptr);
        ASSERT_EQ(problems.size(), 1u);
        EXPECT_EQ(problems[0].line, 8);
        EXPECT_NE(problems[0].message.find("timeout"), std::string::npos);
    }
}

TEST(ShellSinkSettings, EveryProblemIsReportedAtOnce)
{
    auto const* d = delivery::find_sink_type("shell");
    ASSERT_NE(d, nullptr);
    config::sink_settings s;
    s.name = "run";
    s.options.set("command", std::vector<std::string>{"/bin/echo", "{bogus}"}, 7);
    s.options.set("timeout", std::int64_t{-5}, 8);
    std::vector<config::problem> problems;
    EXPECT_EQ(d->make(s, problems), nullptr);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].line, 7);
    EXPECT_EQ(problems[1].line, 8);
}

} // namespace
