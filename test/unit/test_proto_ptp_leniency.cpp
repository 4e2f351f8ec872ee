// proto/ptp leniencies: each tolerated deviation is accepted AND counted by name; each deviation
// that must stay an error (string or array past the end, fixed part cut) is refused and counts
// nothing. Plays the lying/hostile camera next to the real-camera shapes.
#include "proto/ptp/dataset.hpp"
#include "proto/ptp/fuji.hpp"
#include "proto/ptp/leniency.hpp"
#include "proto/ptpip/event_channel.hpp"
#include "proto/ptpip/fuji.hpp"
#include "proto/ptpip/packet.hpp"
#include "support/ptp_test_data.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace
{

namespace ptp = camrelay::proto::ptp;
namespace ptpip = camrelay::proto::ptpip;
using camrelay::test::ptp_data::from_hex;
using ptp::errc;
using ptp::leniency;

ptp::object_info camera_object()
{
    ptp::object_info o;
    o.storage_id = 0x10000001;
    o.format = ptp::object_format::exif_jpeg;
    o.compressed_size = 5'000'000;
    o.parent_object = 0x20000001;
    o.filename = "IMG_0001.JPG";
    o.capture_date = "20250102T030405";
    o.modification_date = "20250102T030405";
    o.keywords = "";
    return o;
}

/// ObjectInfo bytes that end after the n-th string (0 = after the fixed part).
ptp::byte_vector object_info_with_strings(ptp::object_info const& o, int n)
{
    ptp::byte_vector out;
    ptp::object_info copy = o;
    EXPECT_TRUE(ptp::encode(copy, out));
    out.resize(ptp::object_info_fixed_size);
    ptp::writer w(out);
    std::string const* strings[] = {&o.filename, &o.capture_date, &o.modification_date,
                                    &o.keywords};
    for (int i = 0; i < n; ++i)
        EXPECT_FALSE(ptp::write_string(w, *strings[i]));
    return out;
}

TEST(ProtoPtpLeniency, NamesAreUniqueAndDescribeListsUsedOnes)
{
    std::set<std::string> names;
    for (std::size_t i = 0; i < ptp::leniency_count; ++i)
    {
        auto name = std::string(ptp::to_string(static_cast<leniency>(i)));
        EXPECT_NE(name, "unknown") << i;
        EXPECT_TRUE(names.insert(name).second) << name;
    }
    ptp::leniency_counters c;
    EXPECT_FALSE(c.any());
    EXPECT_EQ(c.describe(), "");
    c.add(leniency::trailing_bytes);
    c.add(leniency::object_info_no_keywords);
    c.add(leniency::object_info_no_keywords);
    EXPECT_TRUE(c.any());
    EXPECT_EQ(c.count(leniency::object_info_no_keywords), 2u);
    EXPECT_EQ(c[leniency::trailing_bytes], 1u);
    EXPECT_EQ(c.describe(), "object_info_no_keywords=2, trailing_bytes=1");
    ptp::leniency_counters d;
    d.add(leniency::trailing_bytes);
    d.merge(c);
    EXPECT_EQ(d.describe(), "object_info_no_keywords=2, trailing_bytes=2");
    // Counts saturate instead of wrapping.
    d.counts[static_cast<std::size_t>(leniency::trailing_bytes)] = UINT32_MAX;
    d.add(leniency::trailing_bytes);
    d.merge(c);
    EXPECT_EQ(d.count(leniency::trailing_bytes), UINT32_MAX);
}

TEST(ProtoPtpLeniency, ObjectInfoOfTheIndependentEmulatorIsAccepted)
{
    // Issue 16: the Fuji X / Canon EOS emulator ends ObjectInfo after CaptureDate.
    auto o = camera_object();
    auto bytes = object_info_with_strings(o, 2);
    ptp::leniency_counters c;
    auto got = ptp::decode_object_info(bytes, &c);
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(got->filename, "IMG_0001.JPG");
    EXPECT_EQ(got->compressed_size, 5'000'000u);
    EXPECT_EQ(got->parent_object, 0x20000001u);
    ASSERT_TRUE(got->capture_time());
    EXPECT_EQ(got->capture_time()->year, 2025);
    EXPECT_EQ(got->modification_date, "");
    EXPECT_EQ(c.describe(), "object_info_no_modification_date=1, object_info_no_keywords=1");
    // Without counters it decodes the same (existing callers).
    EXPECT_EQ(*ptp::decode_object_info(bytes), *got);
    // Round trip: re-encoded it is a complete ObjectInfo with the same fields.
    ptp::byte_vector again;
    ASSERT_TRUE(ptp::encode(*got, again));
    ptp::leniency_counters none;
    EXPECT_EQ(*ptp::decode_object_info(again, &none), *got);
    EXPECT_FALSE(none.any());
}

TEST(ProtoPtpLeniency, ObjectInfoMissingTrailingStringsEachCounted)
{
    auto o = camera_object();
    {
        ptp::leniency_counters c;
        auto got = ptp::decode_object_info(object_info_with_strings(o, 1), &c);
        ASSERT_TRUE(got);
        EXPECT_EQ(got->capture_date, "");
        EXPECT_FALSE(got->capture_time());
        EXPECT_EQ(c.count(leniency::object_info_no_capture_date), 1u);
        EXPECT_EQ(c.count(leniency::object_info_no_modification_date), 1u);
        EXPECT_EQ(c.count(leniency::object_info_no_keywords), 1u);
    }
    {
        ptp::leniency_counters c;
        auto got = ptp::decode_object_info(object_info_with_strings(o, 3), &c);
        ASSERT_TRUE(got);
        EXPECT_EQ(got->modification_date, o.modification_date);
        EXPECT_EQ(c.describe(), "object_info_no_keywords=1");
    }
    {
        ptp::leniency_counters c;
        ASSERT_TRUE(ptp::decode_object_info(object_info_with_strings(o, 4), &c));
        EXPECT_FALSE(c.any());
    }
}

TEST(ProtoPtpLeniency, ObjectInfoWithoutIdentityStaysAnError)
{
    auto o = camera_object();
    ptp::leniency_counters c;
    // No Filename at all: the object has no name; so is a fixed part cut anywhere.
    EXPECT_EQ(ptp::decode_object_info(object_info_with_strings(o, 0), &c).error(), errc::truncated);
    for (std::size_t n : {0u, 4u, 11u, 12u, 30u, 44u, 48u, 51u})
        EXPECT_EQ(
            ptp::decode_object_info(ptp::bytes_view(object_info_with_strings(o, 4)).first(n), &c)
                .error(),
            errc::truncated)
            << n;
    EXPECT_FALSE(c.any());
}

TEST(ProtoPtpLeniency, StringCountPastTheEndIsAnError)
{
    auto o = camera_object();
    // Filename says 200 units, the data has 13.
    auto bytes = object_info_with_strings(o, 1);
    bytes[ptp::object_info_fixed_size] = std::byte{200};
    ptp::leniency_counters c;
    EXPECT_EQ(ptp::decode_object_info(bytes, &c).error(), errc::truncated);
    // CaptureDate cut in the middle (a string count past the end, not a missing field).
    auto cut = object_info_with_strings(o, 2);
    cut.resize(cut.size() - 3);
    EXPECT_EQ(ptp::decode_object_info(cut, &c).error(), errc::truncated);
    // A lone NumChars byte of 255 at the end of DeviceInfo.
    ptp::device_info d;
    ptp::byte_vector di;
    ASSERT_TRUE(ptp::encode(d, di));
    di.resize(di.size() - 4); // drop the four empty strings
    di.push_back(std::byte{255});
    EXPECT_EQ(ptp::decode_device_info(di, &c).error(), errc::truncated);
    EXPECT_FALSE(c.any());
}

TEST(ProtoPtpLeniency, StringShapes)
{
    ptp::leniency_counters c;
    // NumChars 0 is "" (standard, not a leniency).
    {
        auto b = from_hex("00");
        ptp::reader r(b);
        EXPECT_EQ(ptp::read_string(r, &c), "");
        EXPECT_TRUE(r.ok());
        EXPECT_FALSE(c.any());
    }
    // No NUL in the counted units.
    {
        auto b = from_hex("02 4100 4200");
        ptp::reader r(b);
        EXPECT_EQ(ptp::read_string(r, &c), "AB");
        EXPECT_TRUE(r.empty());
        EXPECT_EQ(c.describe(), "string_without_nul=1");
    }
    // NUL before the last unit: text ends there, the rest is skipped.
    {
        ptp::leniency_counters e;
        auto b = from_hex("04 4100 0000 4200 0000 ff");
        ptp::reader r(b);
        EXPECT_EQ(ptp::read_string(r, &e), "A");
        EXPECT_EQ(r.remaining(), 1u);
        EXPECT_EQ(e.describe(), "string_early_nul=1");
    }
    // Only a NUL: "" and nothing counted.
    {
        ptp::leniency_counters e;
        auto b = from_hex("01 0000");
        ptp::reader r(b);
        EXPECT_EQ(ptp::read_string(r, &e), "");
        EXPECT_FALSE(e.any());
    }
    // A string whose count runs past the end sets truncated.
    {
        auto b = from_hex("03 4100");
        ptp::reader r(b);
        EXPECT_EQ(ptp::read_string(r), "");
        EXPECT_EQ(r.error(), errc::truncated);
    }
}

TEST(ProtoPtpLeniency, TrailingBytesAreIgnoredAndCounted)
{
    auto o = camera_object();
    auto bytes = object_info_with_strings(o, 4);
    bytes.insert(bytes.end(), 7, std::byte{0xEE});
    ptp::leniency_counters c;
    auto got = ptp::decode_object_info(bytes, &c);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, o);
    EXPECT_EQ(c.describe(), "trailing_bytes=1");

    ptp::storage_info s{4, 3, 0, 1, 2, 3, "SD", "CARD"};
    ptp::byte_vector sb;
    ASSERT_TRUE(ptp::encode(s, sb));
    sb.push_back(std::byte{0});
    EXPECT_EQ(*ptp::decode_storage_info(sb, &c), s);
    EXPECT_EQ(c.count(leniency::trailing_bytes), 2u);

    EXPECT_EQ(
        *ptp::decode_uint32_array(from_hex("01000000 05000000 0000"), ptp::default_array_limit, &c),
        std::vector<std::uint32_t>{5});
    EXPECT_EQ(c.count(leniency::trailing_bytes), 3u);
    EXPECT_EQ(ptp::fuji::decode_u32_value(from_hex("04000200 00"), &c), 0x00020004u);
    EXPECT_EQ(c.count(leniency::trailing_bytes), 4u);
    auto list = ptp::fuji::decode_event_list(from_hex("0100 00df 06000000 0000"), &c);
    ASSERT_TRUE(list);
    EXPECT_EQ(list->size(), 1u);
    EXPECT_EQ(c.count(leniency::trailing_bytes), 5u);
}

TEST(ProtoPtpLeniency, DeviceInfoShapes)
{
    ptp::leniency_counters c;
    // An empty data phase (Fuji X-T4 over Wi-Fi).
    auto empty = ptp::decode_device_info({}, &c);
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->operations_supported.empty());
    EXPECT_EQ(c.describe(), "device_info_empty=1");

    // Stops before SerialNumber: Manufacturer/Model/DeviceVersion kept.
    ptp::device_info d;
    d.operations_supported = {ptp::op_code::get_object_info};
    d.manufacturer = "Canon Inc.";
    d.model = "Canon EOS R6";
    d.device_version = "1-1.8.1";
    d.serial_number = "123";
    ptp::byte_vector full;
    ASSERT_TRUE(ptp::encode(d, full));
    auto cut = ptp::bytes_view(full).first(full.size() - (1 + 4 * 2));
    ptp::leniency_counters t;
    auto got = ptp::decode_device_info(cut, &t);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->model, "Canon EOS R6");
    EXPECT_EQ(got->device_version, "1-1.8.1");
    EXPECT_EQ(got->serial_number, "");
    EXPECT_EQ(t.describe(), "device_info_truncated=1");

    // An array count larger than the data stays an error; so does a head cut short.
    auto lying = full;
    lying[2 + 4 + 2 + 1 + 2] = std::byte{0xFF}; // OperationsSupported count low byte
    ptp::leniency_counters e;
    EXPECT_EQ(ptp::decode_device_info(lying, &e).error(), errc::array_too_long);
    EXPECT_EQ(ptp::decode_device_info(ptp::bytes_view(full).first(5), &e).error(), errc::truncated);
    EXPECT_FALSE(e.any());
}

TEST(ProtoPtpLeniency, ArraysAndPropDescs)
{
    ptp::leniency_counters c;
    // An empty AUINT32 answer is [].
    auto none = ptp::decode_uint32_array({}, ptp::default_array_limit, &c);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    EXPECT_EQ(c.describe(), "array_empty_payload=1");
    // A count larger than the data is an error.
    EXPECT_EQ(ptp::decode_uint32_array(from_hex("03000000 01000000 02000000")).error(),
              errc::array_too_long);

    // DevicePropDesc without a FormFlag: form none, counted.
    ptp::leniency_counters p;
    auto d = ptp::decode_device_prop_desc(from_hex("0150 0400 01 0100 0200"), &p);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->form, ptp::device_prop_desc::form_kind::none);
    EXPECT_EQ(ptp::value_as_int(d->type, d->current_value), 2);
    EXPECT_EQ(p.describe(), "prop_desc_no_form=1");
    ptp::byte_vector again;
    ptp::encode(*d, again);
    EXPECT_EQ(*ptp::decode_device_prop_desc(again), *d);
    // Cut inside CurrentValue, an enumeration longer than the data, a range cut short: errors.
    ptp::leniency_counters e;
    EXPECT_EQ(ptp::decode_device_prop_desc(from_hex("0150 0400 01 0100 02"), &e).error(),
              errc::truncated);
    EXPECT_EQ(ptp::decode_device_prop_desc(from_hex("0150 0400 01 0100 0200 02 0300 0100 0200"), &e)
                  .error(),
              errc::truncated);
    EXPECT_EQ(
        ptp::decode_device_prop_desc(from_hex("0150 0400 01 0100 0200 01 0000 ff00"), &e).error(),
        errc::truncated);
    EXPECT_FALSE(e.any());

    // Fuji 0x902B list: an entry padded after its DevicePropDesc; an entry past the end.
    ptp::leniency_counters f;
    auto list = ptp::fuji::decode_prop_desc_list(
        from_hex("01000000 10000000 0150 0400 01 0100 0200 00 0000"), &f);
    ASSERT_TRUE(list) << list.error().message();
    EXPECT_EQ(list->size(), 1u);
    EXPECT_EQ(f.describe(), "trailing_bytes=1");
    EXPECT_EQ(
        ptp::fuji::decode_prop_desc_list(from_hex("01000000 40000000 0150 0400 01 0100")).error(),
        errc::truncated);
    EXPECT_EQ(ptp::fuji::decode_event_list(from_hex("0200 00df 06000000")).error(),
              errc::array_too_long);
}

TEST(ProtoPtpLeniency, RealObjectInfoCutToTheEmulatorShape)
{
    // hkr's X-T10 trace: complete ObjectInfo records parse with no leniency; cut after
    // CaptureDate (what the emulator sends) they keep every field but the two last strings.
    namespace data = camrelay::test::ptp_data;
    std::size_t seen = 0;
    for (auto const& line : data::xt10_trace())
    {
        if (line.direction != '<' || line.message.size() != 0x9a)
            continue;
        auto frame = ptpip::fuji::decode(line.message);
        ASSERT_TRUE(frame);
        auto const& payload = std::get<ptpip::fuji::container>(*frame).payload;
        ptp::leniency_counters c;
        auto full = ptp::decode_object_info(payload, &c);
        ASSERT_TRUE(full);
        EXPECT_FALSE(c.any()) << c.describe();
        // ModificationDate "" (1 byte) and Keywords "Orientation:1" (1 + 14 * 2) at the end.
        auto cut = ptp::bytes_view(payload).first(payload.size() - 1 - 29);
        auto got = ptp::decode_object_info(cut, &c);
        ASSERT_TRUE(got);
        auto expected = *full;
        expected.keywords = "";
        EXPECT_EQ(*got, expected);
        EXPECT_EQ(c.describe(), "object_info_no_modification_date=1, object_info_no_keywords=1");
        ++seen;
    }
    EXPECT_EQ(seen, 3u);
}

ptp::byte_vector std_event(std::uint16_t code, ptp::byte_vector params)
{
    ptp::byte_vector out;
    ptp::writer w(out);
    w.u32(static_cast<std::uint32_t>(14 + params.size()));
    w.u32(static_cast<std::uint32_t>(ptpip::packet_type::event));
    w.u16(code);
    w.u32(0xFFFFFFFF);
    w.bytes(params);
    return out;
}

std::vector<ptpip::camera_event> events_of(ptpip::event_channel& ch)
{
    std::vector<ptpip::camera_event> out;
    while (auto e = ch.next_event())
        if (auto* c = std::get_if<ptpip::camera_event>(&*e))
            out.push_back(*c);
    return out;
}

TEST(ProtoPtpLeniency, StandardEventChannelKeepsWholeParams)
{
    ptpip::event_channel ch({ptpip::dialect::ptpip, 1, 64 * 1024, std::chrono::seconds(5)}, {});
    ch.consume_output(ch.pending_output().size());
    ptp::byte_vector ack;
    ASSERT_TRUE(ptpip::encode(ptpip::packet(ptpip::init_event_ack{}), ack));
    ASSERT_TRUE(ch.receive(ack));
    // Two parameters and 2 stray bytes; then seven parameters.
    auto odd = std_event(0x4002, from_hex("05000000 06000000 abcd"));
    ASSERT_TRUE(ch.receive(odd));
    ptp::byte_vector seven;
    for (std::uint8_t i = 1; i <= 7; ++i)
        seven.insert(seven.end(), {std::byte{i}, std::byte{0}, std::byte{0}, std::byte{0}});
    ASSERT_TRUE(ch.receive(std_event(0x4004, seven)));
    EXPECT_FALSE(ch.failed());
    auto evs = events_of(ch);
    ASSERT_EQ(evs.size(), 2u);
    EXPECT_EQ(evs[0].code, 0x4002);
    EXPECT_EQ(evs[0].params, (std::vector<std::uint32_t>{5, 6}));
    EXPECT_EQ(evs[1].params, (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(ch.leniencies().describe(), "event_odd_length=1, event_too_many_params=1");
    // A well-formed event counts nothing more.
    ASSERT_TRUE(ch.receive(std_event(0x4002, from_hex("07000000"))));
    EXPECT_EQ(events_of(ch).at(0).params, std::vector<std::uint32_t>{7});
    EXPECT_EQ(ch.leniencies().describe(), "event_odd_length=1, event_too_many_params=1");
    // An event without its code/transaction head still fails the channel.
    ptp::byte_vector headless;
    ptp::writer w(headless);
    w.u32(10);
    w.u32(static_cast<std::uint32_t>(ptpip::packet_type::event));
    w.u16(0x4002);
    EXPECT_FALSE(ch.receive(headless));
    EXPECT_TRUE(ch.failed());
}

TEST(ProtoPtpLeniency, FujiEventChannelKeepsWholeParams)
{
    ptpip::event_channel ch({ptpip::dialect::fuji, 0, 4096, std::chrono::seconds(1)}, {});
    ptp::byte_vector odd;
    ptp::writer w(odd);
    w.u32(12 + 5);
    w.u16(4); // event
    w.u16(0xC004);
    w.u32(0);
    w.u32(0x11);
    w.u8(0xEE);
    ASSERT_TRUE(ch.receive(odd));
    EXPECT_FALSE(ch.failed());
    auto evs = events_of(ch);
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].code, 0xC004);
    EXPECT_EQ(evs[0].params, std::vector<std::uint32_t>{0x11});
    EXPECT_EQ(ch.leniencies().describe(), "event_odd_length=1");
    // A data container on the event port is still refused.
    ptp::byte_vector data;
    ptp::writer d(data);
    d.u32(13);
    d.u16(2);
    d.u16(0x1008);
    d.u32(1);
    d.u8(0);
    EXPECT_FALSE(ch.receive(data));
}

} // namespace
