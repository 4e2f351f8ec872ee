// core/log: escape_controls (what every log line goes through) and repeat_limiter.
#include "core/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <memory>
#include <sstream>
#include <string>

namespace
{

using camrelay::log::escape_controls;
using camrelay::log::repeat_limiter;

TEST(CoreLogEscape, PlainTextIsUnchanged)
{
    EXPECT_EQ(escape_controls("camera=disk:/media/card file=/DCIM/100TEST/IMG_0001.JPG"),
              "camera=disk:/media/card file=/DCIM/100TEST/IMG_0001.JPG");
    EXPECT_EQ(escape_controls(""), "");
    EXPECT_EQ(escape_controls("back\\slash stays"), "back\\slash stays");
}

TEST(CoreLogEscape, NewlinesCannotForgeALine)
{
    auto forged = escape_controls("IMG_0001.JPG\n2026-12-03 10:00:00.000 info  [usb] all fine");
    EXPECT_EQ(forged.find('\n'), std::string::npos);
    EXPECT_EQ(forged, "IMG_0001.JPG\\n2026-12-03 10:00:00.000 info  [usb] all fine");
    EXPECT_EQ(escape_controls("a\r\nb\tc"), "a\\r\\nb\\tc");
}

TEST(CoreLogEscape, EscapeAndOtherControlBytesBecomeHex)
{
    EXPECT_EQ(escape_controls("\x1b[2J\x1b]0;owned\x07"), "\\x1b[2J\\x1b]0;owned\\x07");
    EXPECT_EQ(escape_controls(std::string("a\0b", 3)), "a\\x00b");
    EXPECT_EQ(escape_controls("\x7f\x01\x1f"), "\\x7f\\x01\\x1f");
}

TEST(CoreLogEscape, ValidUtf8IsKept)
{
    EXPECT_EQ(escape_controls("Ünïcødé € 写真 📷.jpg"), "Ünïcødé € 写真 📷.jpg");
}

TEST(CoreLogEscape, InvalidUtf8BytesBecomeHex)
{
    // A stray continuation byte, a truncated sequence, an overlong "/", a surrogate, > U+10FFFF.
    EXPECT_EQ(escape_controls("a\x80z"), "a\\x80z");
    EXPECT_EQ(escape_controls("a\xe2\x82"), "a\\xe2\\x82");
    EXPECT_EQ(escape_controls("\xc0\xaf"), "\\xc0\\xaf");
    EXPECT_EQ(escape_controls("\xed\xa0\x80"), "\\xed\\xa0\\x80");
    EXPECT_EQ(escape_controls("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
    // Valid text after an invalid byte is kept.
    EXPECT_EQ(escape_controls("\xff\xc3\xa9"), "\\xff\xc3\xa9");
}

TEST(CoreLogEscape, C1ControlsAndBidiOverridesAreEscaped)
{
    // U+009B is CSI in terminals that honour C1 controls; U+202E turns the rest of the line round.
    EXPECT_EQ(escape_controls("a\xc2\x9b"
                              "2Jb"),
              "a\\xc2\\x9b2Jb");
    EXPECT_EQ(escape_controls("photo\xe2\x80\xaegpj.exe"), "photo\\u202egpj.exe");
    EXPECT_EQ(escape_controls("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");
    // Neighbours that do nothing of the kind stay.
    EXPECT_EQ(escape_controls("\xc2\xa0\xe2\x80\xa9"), "\xc2\xa0\xe2\x80\xa9");
}

TEST(CoreLogEscape, OutputHasNoControlBytesWhateverTheInput)
{
    std::string all;
    for (int i = 0; i < 256; ++i)
        all.push_back(static_cast<char>(i));
    auto out = escape_controls(all + all);
    for (char c : out)
    {
        auto u = static_cast<unsigned char>(c);
        EXPECT_FALSE(u < 0x20 || u == 0x7F) << "control byte " << int(u) << " in " << out;
    }
}

TEST(CoreLogEscape, TheFacadeEscapesWhatItWrites)
{
    std::ostringstream captured;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
    auto logger = std::make_shared<spdlog::logger>("test-escape", sink);
    logger->set_pattern("%v");
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(logger);
    auto old_level = spdlog::get_level();
    spdlog::set_level(spdlog::level::info);
    camrelay::log::warn("usb", "file={} not fetched", "evil\n\x1b[31mforged");
    camrelay::log::info("usb", "name=\"{}\"", std::string("nul\0end", 7));
    spdlog::set_default_logger(previous);
    spdlog::set_level(old_level);
    EXPECT_EQ(captured.str(), "[usb] file=evil\\n\\x1b[31mforged not fetched\n"
                              "[usb] name=\"nul\\x00end\"\n");
}

TEST(CoreLogRepeatLimiter, FirstFewSinglyThenCounted)
{
    repeat_limiter limit(3);
    int logged = 0;
    for (int i = 0; i < 1'000'000; ++i)
        if (limit.single())
            ++logged;
    EXPECT_EQ(logged, 3);
    EXPECT_EQ(limit.count(), 1'000'000u);
    EXPECT_EQ(limit.suppressed(), 999'997u);
    limit.reset();
    EXPECT_EQ(limit.count(), 0u);
    EXPECT_EQ(limit.suppressed(), 0u);
    EXPECT_TRUE(limit.single());
}

TEST(CoreLogRepeatLimiter, NothingSuppressedWithinTheLimit)
{
    repeat_limiter limit; // 5 singly
    for (int i = 0; i < 5; ++i)
        EXPECT_TRUE(limit.single());
    EXPECT_EQ(limit.suppressed(), 0u);
    EXPECT_FALSE(limit.single());
    EXPECT_EQ(limit.suppressed(), 1u);
}

} // namespace
