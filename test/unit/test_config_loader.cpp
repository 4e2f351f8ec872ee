// config loader: a full config into structs, every problem with its line, defaults.
#include "config/loader.hpp"
#include "delivery/sink.hpp"
#include "ingest/source.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace
{

using namespace camrelay;

config::plugin_catalog catalog()
{
    config::plugin_catalog c;
    for (auto const& d : ingest::registry())
        c.sources.emplace(std::string(d.type), d.options);
    for (auto const& d : delivery::registry())
        c.sinks.emplace(std::string(d.type), d.options);
    return c;
}

std::string dump(std::vector<config::problem> const& problems)
{
    std::string out;
    for (auto const& p : problems)
        out += "  line " + std::to_string(p.line) + ": " + p.message + "\n";
    return out;
}

// True when some problem is on `line` and its message contains `needle`.
bool has_problem(std::vector<config::problem> const& problems, int line, std::string const& needle)
{
    for (auto const& p : problems)
        if (p.line == line && p.message.find(needle) != std::string::npos)
            return true;
    return false;
}

TEST(ConfigLoader, CatalogHasTheBuiltInPlugins)
{
    auto c = catalog();
    EXPECT_TRUE(c.sinks.count("folder"));
    EXPECT_TRUE(c.sinks.count("shell"));
}

TEST(ConfigLoader, FullValidConfigFillsTheStructs)
{
    auto c = catalog();
    std::string source_block;
    if (c.sources.count("usb"))
        source_block =
            "[[source]]\ntype = \"usb\"\nport = \"disk:/media/card\"\npoll_interval = 7\n";
    else
        source_block = "\n\n\n\n";
    std::string text = "[camrelay]\n"                              // 1
                       "data_dir = \"/tmp/camrelay-test-data\"\n"  // 2
                       "log_level = \"debug\"\n"                   // 3
                       "spool_keep = \"always\"\n"                 // 4
                       "workers = 3\n"                             // 5
                       "shutdown_grace = 5\n"                      // 6
                       + source_block +                            // 7-10
                       "[sink.nas]\n"                              // 11
                       "type = \"folder\"\n"                       // 12
                       "path = \"/srv/photos/{camera}/{name}\"\n"  // 13
                       "collision = \"skip\"\n"                    // 14
                       "concurrency = 2\n"                         // 15
                       "max_attempts = 5\n"                        // 16
                       "retry_min = 3\n"                           // 17
                       "retry_max = 60\n"                          // 18
                       "wake_on = \"network-up\"\n"                // 19
                       "[sink.upload]\n"                           // 20
                       "type = \"shell\"\n"                        // 21
                       "command = [\"/usr/bin/up\", \"{path}\"]\n" // 22
                       "timeout = 30\n"                            // 23
                       "[[route]]\n"                               // 24
                       "to = \"nas\"\n"                            // 25
                       "[[route]]\n"                               // 26
                       "camera = [\"EOS*\", \"X-T*\"]\n"           // 27
                       "ext = [\"jpg\", \"raf\"]\n"                // 28
                       "type = \"image\"\n"                        // 29
                       "to = [\"upload\", \"nas\"]\n";             // 30
    config::settings s;
    std::vector<config::problem> problems;
    ASSERT_TRUE(config::load_string(text, "test.toml", c, s, problems)) << dump(problems);
    EXPECT_TRUE(problems.empty());

    EXPECT_EQ(s.general.data_dir, "/tmp/camrelay-test-data");
    EXPECT_EQ(s.general.log_level, "debug");
    EXPECT_EQ(s.general.spool_keep, "always");
    EXPECT_EQ(s.general.workers, 3);
    EXPECT_EQ(s.general.shutdown_grace, 5);
    EXPECT_EQ(s.general.line, 1);

    if (c.sources.count("usb"))
    {
        ASSERT_EQ(s.sources.size(), 1u);
        EXPECT_EQ(s.sources[0].type, "usb");
        EXPECT_EQ(s.sources[0].line, 7);
        EXPECT_EQ(s.sources[0].options.string_or("port", ""), "disk:/media/card");
        EXPECT_EQ(s.sources[0].options.line_of("port"), 9);
        EXPECT_EQ(s.sources[0].options.integer_or("poll_interval", 0), 7);
    }

    ASSERT_EQ(s.sinks.size(), 2u);
    auto const& nas = s.sinks[0].name == "nas" ? s.sinks[0] : s.sinks[1];
    auto const& up = s.sinks[0].name == "nas" ? s.sinks[1] : s.sinks[0];
    EXPECT_EQ(nas.name, "nas");
    EXPECT_EQ(nas.type, "folder");
    EXPECT_EQ(nas.line, 11);
    EXPECT_EQ(nas.options.string_or("path", ""), "/srv/photos/{camera}/{name}");
    EXPECT_EQ(nas.options.line_of("path"), 13);
    EXPECT_EQ(nas.options.string_or("collision", ""), "skip");
    EXPECT_EQ(nas.concurrency, 2);
    EXPECT_EQ(nas.max_attempts, 5);
    EXPECT_EQ(nas.retry_min, 3);
    EXPECT_EQ(nas.retry_max, 60);
    EXPECT_EQ(nas.wake_on, "network-up");
    EXPECT_EQ(up.name, "upload");
    EXPECT_EQ(up.type, "shell");
    EXPECT_EQ(up.options.list_or("command", {}),
              (std::vector<std::string>{"/usr/bin/up", "{path}"}));
    EXPECT_EQ(up.options.integer_or("timeout", 0), 30);
    EXPECT_EQ(up.concurrency, 1); // defaults
    EXPECT_EQ(up.max_attempts, 0);
    EXPECT_EQ(up.retry_min, 10);
    EXPECT_EQ(up.retry_max, 3600);

    ASSERT_EQ(s.routes.size(), 2u);
    EXPECT_EQ(s.routes[0].line, 24);
    EXPECT_EQ(s.routes[0].to, std::vector<std::string>{"nas"});
    EXPECT_TRUE(s.routes[0].camera.empty());
    EXPECT_TRUE(s.routes[0].ext.empty());
    EXPECT_EQ(s.routes[1].camera, (std::vector<std::string>{"EOS*", "X-T*"}));
    EXPECT_EQ(s.routes[1].ext, (std::vector<std::string>{"jpg", "raf"}));
    EXPECT_EQ(s.routes[1].type, std::vector<std::string>{"image"});
    EXPECT_EQ(s.routes[1].to, (std::vector<std::string>{"upload", "nas"}));
}

TEST(ConfigLoader, InvalidConfigReportsEveryProblemWithItsLine)
{
    std::string text = "bogus = 1\n"                 // 1  unknown top-level key
                       "[camrelay]\n"                // 2
                       "log_level = \"loud\"\n"      // 3  bad log_level
                       "workers = \"four\"\n"        // 4  wrong type
                       "[sink.a]\n"                  // 5  folder without path (missing)
                       "type = \"folder\"\n"         // 6
                       "colour = \"red\"\n"          // 7  unknown sink key
                       "[sink.b]\n"                  // 8
                       "type = \"carrier-pigeon\"\n" // 9  unknown sink type
                       "[sink.c]\n"                  // 10
                       "type = \"folder\"\n"         // 11
                       "path = \"/x/{name}\"\n"      // 12
                       "concurrency = true\n"        // 13 wrong type
                       "[[route]]\n"                 // 14
                       "to = [\"a\", \"nowhere\"]\n" // 15 undefined sink
                       "type = \"sculpture\"\n";     // 16 bad media type
    config::settings s;
    std::vector<config::problem> problems;
    EXPECT_FALSE(config::load_string(text, "bad.toml", catalog(), s, problems));
    SCOPED_TRACE(dump(problems));
    EXPECT_TRUE(has_problem(problems, 1, "unknown top-level key 'bogus'"));
    EXPECT_TRUE(has_problem(problems, 3, "log_level"));
    EXPECT_TRUE(has_problem(problems, 4, "'workers' must be a"));
    EXPECT_TRUE(has_problem(problems, 5, "missing required key 'path'"));
    EXPECT_TRUE(has_problem(problems, 7, "unknown key 'colour'"));
    EXPECT_TRUE(has_problem(problems, 9, "unknown type 'carrier-pigeon'"));
    EXPECT_TRUE(has_problem(problems, 13, "'concurrency' must be a"));
    EXPECT_TRUE(has_problem(problems, 15, "'nowhere'"));
    EXPECT_TRUE(has_problem(problems, 16, "sculpture"));
    // The route's defined sink 'a' and the unknown-type sink 'b' draw no complaint.
    EXPECT_FALSE(has_problem(problems, 15, "'a'"));
    EXPECT_EQ(problems.size(), 9u);
}

TEST(ConfigLoader, RouteToSinkOfUnknownTypeIsNotReportedTwice)
{
    std::string text = "[sink.b]\n"
                       "type = \"carrier-pigeon\"\n"
                       "[[route]]\n"
                       "to = \"b\"\n";
    config::settings s;
    std::vector<config::problem> problems;
    EXPECT_FALSE(config::load_string(text, "t.toml", catalog(), s, problems));
    ASSERT_EQ(problems.size(), 1u) << dump(problems);
    EXPECT_EQ(problems[0].line, 2);
}

TEST(ConfigLoader, SinkWithoutTypeIsReportedAtItsHeader)
{
    std::string text = "\n[sink.x]\npath = \"/a/{name}\"\n[[route]]\nto = \"x\"\n";
    config::settings s;
    std::vector<config::problem> problems;
    EXPECT_FALSE(config::load_string(text, "t.toml", catalog(), s, problems));
    EXPECT_TRUE(has_problem(problems, 2, "missing required key 'type'")) << dump(problems);
}

TEST(ConfigLoader, RangeChecksCarryTheirLines)
{
    std::string text = "[camrelay]\n"
                       "workers = 0\n"
                       "shutdown_grace = -1\n"
                       "spool_keep = \"sometimes\"\n"
                       "[sink.s]\n"
                       "type = \"folder\"\n"
                       "path = \"/a/{name}\"\n"
                       "concurrency = 99\n"
                       "max_attempts = -2\n"
                       "retry_min = 100\n"
                       "retry_max = 10\n"
                       "[[route]]\n"
                       "to = \"s\"\n";
    config::settings s;
    std::vector<config::problem> problems;
    EXPECT_FALSE(config::load_string(text, "t.toml", catalog(), s, problems));
    SCOPED_TRACE(dump(problems));
    EXPECT_TRUE(has_problem(problems, 2, "workers"));
    EXPECT_TRUE(has_problem(problems, 3, "shutdown_grace"));
    EXPECT_TRUE(has_problem(problems, 4, "spool_keep"));
    EXPECT_TRUE(has_problem(problems, 8, "concurrency"));
    EXPECT_TRUE(has_problem(problems, 9, "max_attempts"));
    EXPECT_TRUE(has_problem(problems, 10, "retry_min"));
    EXPECT_EQ(problems.size(), 6u);
}

TEST(ConfigLoader, BadSinkNameIsReported)
{
    std::string text = "[sink.\"my sink\"]\ntype = \"folder\"\npath = \"/a/{name}\"\n"
                       "[[route]]\nto = \"my sink\"\n";
    config::settings s;
    std::vector<config::problem> problems;
    EXPECT_FALSE(config::load_string(text, "t.toml", catalog(), s, problems));
    EXPECT_TRUE(has_problem(problems, 1, "sink names use")) << dump(problems);
}

TEST(ConfigLoader, TomlSyntaxErrorGivesItsLine)
{
    std::string text = "[camrelay]\nworkers = 2\nlog_level = \"info\n[sink.x]\n";
    config::settings s;
    std::vector<config::problem> problems;
    EXPECT_FALSE(config::load_string(text, "t.toml", catalog(), s, problems));
    ASSERT_EQ(problems.size(), 1u) << dump(problems);
    EXPECT_EQ(problems[0].line, 3);
    EXPECT_NE(problems[0].message.find("TOML syntax"), std::string::npos);
}

TEST(ConfigLoader, EmptyFileGetsTheDefaultSinkAndRoute)
{
    config::settings s;
    std::vector<config::problem> problems;
    ASSERT_TRUE(config::load_string("", "empty.toml", catalog(), s, problems)) << dump(problems);
    EXPECT_FALSE(s.general.data_dir.empty());
    ASSERT_EQ(s.sinks.size(), 1u);
    EXPECT_EQ(s.sinks[0].name, "photos");
    EXPECT_EQ(s.sinks[0].type, "folder");
    EXPECT_EQ(s.sinks[0].options.string_or("path", ""),
              s.general.data_dir + "/photos/{camera}/{date:%Y-%m-%d}/{name}");
    ASSERT_EQ(s.routes.size(), 1u);
    EXPECT_EQ(s.routes[0].to, std::vector<std::string>{"photos"});
    EXPECT_TRUE(s.routes[0].source.empty());
    EXPECT_EQ(s.general.log_level, "info");
    EXPECT_EQ(s.general.workers, 4);
}

TEST(ConfigLoader, DefaultSinkLivesUnderTheConfiguredDataDir)
{
    config::settings s;
    std::vector<config::problem> problems;
    ASSERT_TRUE(config::load_string("[camrelay]\ndata_dir = \"/tmp/dd\"\n", "t.toml", catalog(), s,
                                    problems))
        << dump(problems);
    ASSERT_EQ(s.sinks.size(), 1u);
    EXPECT_EQ(s.sinks[0].options.string_or("path", ""),
              "/tmp/dd/photos/{camera}/{date:%Y-%m-%d}/{name}");
}

TEST(ConfigLoader, SinksWithoutRoutesAreAProblem)
{
    config::settings s;
    std::vector<config::problem> problems;
    EXPECT_FALSE(config::load_string("[sink.x]\ntype = \"folder\"\npath = \"/a/{name}\"\n",
                                     "t.toml", catalog(), s, problems));
    ASSERT_EQ(problems.size(), 1u) << dump(problems);
    EXPECT_NE(problems[0].message.find("no [[route]]"), std::string::npos);
}

TEST(ConfigLoader, LoadFileReadsAndReportsMissingFiles)
{
    camrelay::test::temp_dir dir;
    config::settings s;
    std::vector<config::problem> problems;
    EXPECT_FALSE(config::load_file((dir / "none.toml").string(), catalog(), s, problems));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].message.find("none.toml"), std::string::npos);

    camrelay::test::write_file(dir / "c.toml", "[sink.x]\ntype = \"folder\"\npath = \"/a/{name}\"\n"
                                               "[[route]]\nto = \"x\"\n");
    ASSERT_TRUE(config::load_file((dir / "c.toml").string(), catalog(), s, problems))
        << dump(problems);
    ASSERT_EQ(s.sinks.size(), 1u);
    EXPECT_EQ(s.sinks[0].name, "x");
}

TEST(ConfigOptions, ValuesAndLines)
{
    config::option_values v;
    v.set("s", std::string("text"), 3);
    v.set("i", std::int64_t{42}, 4);
    v.set("b", true, 5);
    v.set("l", std::vector<std::string>{"a", "b"}, 6);
    EXPECT_TRUE(v.has("s"));
    EXPECT_FALSE(v.has("missing"));
    EXPECT_EQ(v.string_or("s", "x"), "text");
    EXPECT_EQ(v.string_or("i", "fallback"), "fallback"); // wrong type: fallback
    EXPECT_EQ(v.integer_or("i", 0), 42);
    EXPECT_EQ(v.integer_or("s", 7), 7);
    EXPECT_TRUE(v.boolean_or("b", false));
    EXPECT_EQ(v.list_or("l", {}), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(v.list_or("s", {}), std::vector<std::string>{"text"}); // one string is a list
    EXPECT_EQ(v.line_of("l"), 6);
    EXPECT_EQ(v.line_of("missing"), 0);
}

} // namespace
