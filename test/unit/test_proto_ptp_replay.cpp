// proto/ptp replayed on real camera data (test/data/ptp/, provenance in its README.md): X-T10
// ObjectInfo records, X-H1 DeviceInfo, X-T1 0x902B / 0xD212 / DevicePropDesc payloads, the
// X-T2/X-T20/X-T4/X-T5 fudge logs (D212 lists, version properties, packet sizes), and the
// datasets in the libgphoto2 loopback captures. Exact field values, and exact re-encoding.
#include "proto/ptp/dataset.hpp"
#include "proto/ptp/fuji.hpp"
#include "proto/ptpip/fuji.hpp"
#include "support/ptp_test_data.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>

namespace
{

namespace ptp = camrelay::proto::ptp;
namespace fuji = camrelay::proto::ptpip::fuji;
namespace data = camrelay::test::ptp_data;
using data::from_hex;
using ptp::device_prop;

ptp::bytes_view body(data::bytes const& container)
{
    return ptp::bytes_view(container).subspan(12);
}

struct xt10_object
{
    std::uint32_t tid;
    std::uint32_t size;
    std::uint32_t thumb_size;
    std::uint32_t width, height;
    char const* filename;
    char const* capture_date;
};

TEST(ProtoPtpReplay, XT10ObjectInfoRecordsParseExactly)
{
    // The three GetObjectInfo answers in hkr's X-T10 trace, in trace order.
    xt10_object const expected[] = {
        {0x2c, 557416, 0x2942, 1776, 1184, "DSCF0591.JPG", "20160102T150136"}, // receive mode
        {0x0c, 102400, 0x2B82, 3456, 2304, "DSCF0583.JPG", "20160102T135048"}, // browse, handle 9
        {0x8f, 645753, 0x3382, 1776, 1184, "DSCF0575.JPG", "20160102T132620"}, // browse, 0xD226=1
    };
    std::size_t i = 0;
    for (auto const& line : data::xt10_trace())
    {
        if (line.direction != '<' || line.message.size() != 0x9a)
            continue;
        ASSERT_LT(i, std::size(expected));
        auto const& e = expected[i++];
        auto frame = fuji::decode(line.message);
        ASSERT_TRUE(frame);
        auto const& c = std::get<fuji::container>(*frame);
        EXPECT_EQ(c.type, fuji::container_type::data);
        EXPECT_EQ(c.code, 0x1008);
        EXPECT_EQ(c.transaction_id, e.tid);
        ASSERT_EQ(c.payload.size(), 142u); // §1.2: the standard layout parses exactly to 142 bytes

        auto o = ptp::decode_object_info(c.payload);
        ASSERT_TRUE(o) << o.error().message();
        EXPECT_EQ(o->storage_id, 0x10000001u);
        EXPECT_EQ(o->format, ptp::object_format::exif_jpeg);
        EXPECT_EQ(o->protection_status, 0);
        EXPECT_EQ(o->compressed_size, e.size);
        EXPECT_EQ(o->thumb_format, ptp::object_format::fuji_thumb_b901);
        EXPECT_EQ(o->thumb_compressed_size, e.thumb_size);
        EXPECT_EQ(o->thumb_pix_width, 320u);
        EXPECT_EQ(o->thumb_pix_height, 240u);
        EXPECT_EQ(o->image_pix_width, e.width);
        EXPECT_EQ(o->image_pix_height, e.height);
        EXPECT_EQ(o->image_bit_depth, 0u);
        EXPECT_EQ(o->parent_object, 0u);
        EXPECT_EQ(o->association_type, 0);
        EXPECT_EQ(o->association_desc, 0u);
        EXPECT_EQ(o->sequence_number, 0u);
        EXPECT_EQ(o->filename, e.filename);
        EXPECT_EQ(o->capture_date, e.capture_date);
        EXPECT_EQ(o->modification_date, "");
        EXPECT_EQ(o->keywords, "Orientation:1");
        ASSERT_TRUE(o->capture_time());
        EXPECT_EQ(ptp::format_date_time(*o->capture_time()), e.capture_date);
        EXPECT_EQ(o->capture_time()->year, 2016);
        EXPECT_FALSE(o->modification_time());

        // Re-encoding gives the camera's bytes back.
        ptp::byte_vector again;
        ASSERT_TRUE(ptp::encode(*o, again));
        EXPECT_EQ(again, c.payload);
    }
    EXPECT_EQ(i, 3u);
    // The placeholder size of quirk::placeholder_object_size is the browse-mode record's value.
    EXPECT_EQ(expected[1].size, 0x19000u);
}

TEST(ProtoPtpReplay, XT10GeotagStringParses)
{
    for (auto const& line : data::xt10_trace())
    {
        if (line.message.size() != 0x9d)
            continue;
        auto frame = fuji::decode(line.message);
        ASSERT_TRUE(frame);
        auto const& c = std::get<fuji::container>(*frame);
        EXPECT_EQ(c.code, 0x1016);
        ptp::reader r(c.payload);
        EXPECT_EQ(ptp::read_string(r),
                  "5229.131848,N 01322.842972,E 00000.00,M 000.0,K 2016:01:03 15:41:40.130");
        EXPECT_TRUE(r.ok());
        EXPECT_EQ(r.remaining(), 0u);
        ptp::byte_vector again;
        ptp::writer w(again);
        ASSERT_FALSE(ptp::write_string(
            w, "5229.131848,N 01322.842972,E 00000.00,M 000.0,K 2016:01:03 15:41:40.130"));
        EXPECT_EQ(again, c.payload);
        return;
    }
    FAIL() << "geotag line not found";
}

TEST(ProtoPtpReplay, XT10D212ReceiveModeList)
{
    for (auto const& line : data::xt10_trace())
    {
        if (line.direction != '<' || line.message.size() != 0x1a)
            continue;
        auto list = ptp::fuji::decode_event_list(body(line.message));
        ASSERT_TRUE(list);
        std::vector<ptp::fuji::prop_change> expected{{device_prop::fuji_camera_state, 8},
                                                     {device_prop::fuji_selected_imgs_mode, 1}};
        EXPECT_EQ(*list, expected);
        return;
    }
    FAIL();
}

TEST(ProtoPtpReplay, XH1DeviceInfo)
{
    auto bin = data::binary("xh1_device_info.bin");
    ASSERT_EQ(bin.size(), 605u);
    auto frame = fuji::decode(bin);
    ASSERT_TRUE(frame);
    auto const& c = std::get<fuji::container>(*frame);
    EXPECT_EQ(c.type, fuji::container_type::data);
    EXPECT_EQ(c.code, 0x1001);
    EXPECT_EQ(c.transaction_id, 1u);

    ptp::leniency_counters lenient;
    auto d = ptp::decode_device_info(c.payload, &lenient);
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_EQ(lenient.describe(), ""); // a real X-H1 DeviceInfo needs no leniency
    EXPECT_EQ(d->standard_version, 100);
    EXPECT_EQ(d->vendor_extension_id, ptp::to_underlying(ptp::vendor_extension::microsoft));
    EXPECT_EQ(d->vendor_extension_version, 100);
    EXPECT_EQ(d->vendor_extension_desc, "fujifilm.co.jp: 1.0; ");
    EXPECT_EQ(d->functional_mode, 0);
    ASSERT_EQ(d->operations_supported.size(), 27u);
    EXPECT_EQ(d->operations_supported.front(), ptp::op_code::get_device_info);
    EXPECT_TRUE(d->supports(ptp::op_code::get_partial_object));
    EXPECT_TRUE(d->supports(ptp::op_code::initiate_open_capture));
    EXPECT_TRUE(d->supports(ptp::op_code::fuji_send_object));
    EXPECT_EQ(d->operations_supported.back(), ptp::op_code::mtp_get_object_prop_list);
    std::vector<ptp::event_code> events{
        ptp::event_code::object_added,     ptp::event_code::object_removed,
        ptp::event_code::store_added,      ptp::event_code::store_removed,
        ptp::event_code::capture_complete, ptp::event_code::fuji_c006};
    EXPECT_EQ(d->events_supported, events);
    ASSERT_EQ(d->device_properties_supported.size(), 168u);
    EXPECT_EQ(d->device_properties_supported.front(), device_prop::battery_level);
    EXPECT_EQ(ptp::to_underlying(d->device_properties_supported.back()), 0xD407);
    std::vector<ptp::object_format> formats{ptp::object_format::image_undefined,
                                            ptp::object_format::exif_jpeg,
                                            ptp::object_format::fuji_raf};
    EXPECT_EQ(d->capture_formats, formats);
    EXPECT_EQ(d->image_formats, formats);
    EXPECT_EQ(d->manufacturer, "FUJIFILM");
    EXPECT_EQ(d->model, "X-H1");
    EXPECT_EQ(d->device_version, "2.14");
    EXPECT_EQ(d->serial_number, "593534313432190906AA602021CA2A");

    ptp::byte_vector again;
    ASSERT_TRUE(ptp::encode(*d, again));
    EXPECT_EQ(again, c.payload);
}

TEST(ProtoPtpReplay, XT1PropDescListFrom0x902B)
{
    auto payload = data::hex_after("x-t1_payloads.txt", "## 0x902B");
    ASSERT_EQ(payload.size(), 344u);
    auto list = ptp::fuji::decode_prop_desc_list(payload);
    ASSERT_TRUE(list) << list.error().message();
    ASSERT_EQ(list->size(), 8u);
    std::uint16_t const codes[] = {0x5012, 0x500c, 0x5005, 0x5010, 0xd001, 0xd02a, 0xd019, 0xd17c};
    std::uint16_t const types[] = {4, 4, 4, 3, 4, 6, 4, 6};
    for (std::size_t i = 0; i < 8; ++i)
    {
        EXPECT_EQ(ptp::to_underlying((*list)[i].code), codes[i]) << i;
        EXPECT_EQ(ptp::to_underlying((*list)[i].type), types[i]) << i;
    }
    auto const& capture_delay = (*list)[0];
    EXPECT_EQ(capture_delay.get_set, 1);
    EXPECT_EQ(capture_delay.form, ptp::device_prop_desc::form_kind::enumeration);
    ASSERT_EQ(capture_delay.enumeration.size(), 3u);
    EXPECT_EQ(ptp::value_as_int(capture_delay.type, capture_delay.enumeration[2]), 4);

    auto const& bias = (*list)[3]; // ExposureBiasCompensation, INT16, enumeration of 0x13 values
    EXPECT_EQ(ptp::value_as_int(bias.type, bias.current_value), 0);
    ASSERT_EQ(bias.enumeration.size(), 19u);
    EXPECT_EQ(ptp::value_as_int(bias.type, bias.enumeration.front()), -3000);
    EXPECT_EQ(ptp::value_as_int(bias.type, bias.enumeration.back()), 3000);

    auto const& iso = (*list)[5]; // 0xD02A, UINT32, bit 31 = auto
    EXPECT_EQ(ptp::value_as_int(iso.type, iso.factory_default), 0xFFFFFFFF);
    EXPECT_EQ(ptp::value_as_int(iso.type, iso.current_value), 0x80001900);

    ptp::byte_vector again;
    ptp::fuji::encode_prop_desc_list(*list, again);
    EXPECT_EQ(again, payload);

    // The three separate GetDevicePropDesc payloads equal the list's entries.
    auto focus = ptp::decode_device_prop_desc(
        data::hex_after("x-t1_payloads.txt", "# DPC_Fuji_FocusMeteringMode"));
    ASSERT_TRUE(focus);
    EXPECT_EQ(*focus, (*list)[7]);
    auto wb = ptp::decode_device_prop_desc(
        data::hex_after("x-t1_payloads.txt", "# ptp.DPC_WhiteBalance"));
    ASSERT_TRUE(wb);
    EXPECT_EQ(*wb, (*list)[2]);
    EXPECT_EQ(wb->enumeration.size(), 10u);
    auto film = ptp::decode_device_prop_desc(
        data::hex_after("x-t1_payloads.txt", "# DPC_Fuji_FilmSimulation"));
    ASSERT_TRUE(film);
    EXPECT_EQ(film->code, device_prop::fuji_film_simulation);
    EXPECT_EQ(ptp::value_as_int(film->type, film->current_value), 1);
    EXPECT_EQ(film->enumeration.size(), 11u);
}

TEST(ProtoPtpReplay, XT1CurrentStateListFromD212)
{
    auto payload = data::hex_after("x-t1_payloads.txt", "## GetDevicePropValue(0xD212)");
    ASSERT_EQ(payload.size(), 104u);
    auto list = ptp::fuji::decode_event_list(payload);
    ASSERT_TRUE(list);
    std::vector<std::pair<std::uint16_t, std::uint32_t>> expected{
        {0x5001, 2},          {0xd241, 0xa}, {0x5005, 2},      {0x500a, 0x8001},
        {0x500c, 0x800a},     {0x500e, 2},   {0x5010, 0xfeb3}, {0x5012, 0},
        {0xd001, 2},          {0xd018, 4},   {0xd028, 0},      {0xd02a, 0x80001900},
        {0xd17c, 0x03020702}, {0xd209, 0},   {0xd21b, 0},      {0xd229, 0x5d6},
        {0xd22a, 0x68f}};
    ASSERT_EQ(list->size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
    {
        EXPECT_EQ(ptp::to_underlying((*list)[i].code), expected[i].first) << i;
        EXPECT_EQ((*list)[i].value, expected[i].second) << i;
    }
    ptp::byte_vector again;
    ptp::fuji::encode_event_list(*list, again);
    EXPECT_EQ(again, payload);
}

// --- fudge logs ----------------------------------------------------------------------------------

/// Property reads in a fudge log: the "Read N bytes" total, the declared payload size and bytes.
struct prop_read
{
    std::uint16_t prop;
    std::size_t read_total; // 0 when the log does not say (X-T5 logs read in 65535 blocks)
    std::size_t payload_size;
    data::bytes payload;
};

std::vector<prop_read> property_reads(std::string const& log)
{
    static std::regex const read_re(R"(Read (\d+) bytes)");
    static std::regex const prop_re(R"(Read property 0x([0-9A-F]{4}) .*\((\d+) bytes\))");
    std::vector<prop_read> out;
    std::size_t last_read = 0;
    auto ls = data::lines(log);
    for (std::size_t i = 0; i < ls.size(); ++i)
    {
        std::smatch m;
        if (std::regex_search(ls[i], m, prop_re))
        {
            prop_read p{static_cast<std::uint16_t>(std::stoul(m[1], nullptr, 16)),
                        last_read,
                        std::stoul(m[2]),
                        {}};
            if (i + 1 < ls.size() && ls[i + 1].find("Payload:") != std::string::npos)
                p.payload = from_hex(ls[i + 1].substr(ls[i + 1].find(':') + 1));
            out.push_back(std::move(p));
            last_read = 0;
        }
        else if (std::regex_search(ls[i], m, read_re))
            last_read = std::stoul(m[1]);
    }
    return out;
}

std::map<std::uint16_t, std::optional<std::uint32_t>> check_reads(std::string const& log)
{
    std::map<std::uint16_t, std::optional<std::uint32_t>> values;
    for (auto const& r : property_reads(log))
    {
        EXPECT_EQ(r.payload.size(), r.payload_size) << log << " " << std::hex << r.prop;
        // One data container (12 + payload) and one response container (12) per read.
        if (r.read_total != 0)
        {
            fuji::container d = fuji::make_data(0x1015, 1, r.payload);
            ptp::byte_vector bytes;
            EXPECT_TRUE(fuji::encode(d, bytes));
            fuji::encode(fuji::make_response(0x2001, 1, {}), bytes);
            EXPECT_EQ(bytes.size(), r.read_total) << log << " " << std::hex << r.prop;
        }
        if (r.payload_size == 4)
            values[r.prop] = ptp::fuji::decode_u32_value(r.payload);
        else if (r.payload_size == 0)
            values[r.prop] = ptp::fuji::decode_u32_value(r.payload); // nullopt: not supported
    }
    return values;
}

/// Decodes the D212 "Payload:" line that follows a "Found 6 events"/"Recieved events" line.
data::bytes first_event_payload(std::string const& log)
{
    auto ls = data::lines(log);
    for (std::size_t i = 0; i < ls.size(); ++i)
        if (ls[i].rfind("Payload: 06 00 00 DF", 0) == 0)
            return from_hex(ls[i].substr(8));
    return {};
}

TEST(ProtoPtpReplay, FudgeXT2AndXT20EventListsAndVersions)
{
    for (auto [log, count] : {std::pair{"fudge-log-xt2.txt", 123u}, {"fudge-log-xt20.txt", 0x361u}})
    {
        auto payload = first_event_payload(log);
        ASSERT_EQ(payload.size(), 38u) << log;
        auto list = ptp::fuji::decode_event_list(payload);
        ASSERT_TRUE(list);
        std::vector<ptp::fuji::prop_change> expected{
            {device_prop::fuji_camera_state, 6},        {device_prop::fuji_selected_imgs_mode, 1},
            {device_prop::fuji_object_count, count},    {device_prop::fuji_d52f, 1},
            {device_prop::fuji_selected_imgs_mode2, 1}, {device_prop::fuji_object_count2, count}};
        EXPECT_EQ(*list, expected) << log;
        // "Read 62 bytes": data container (12 + 38) + response (12).
        EXPECT_EQ(12 + payload.size() + 12, 62u);

        auto v = check_reads(log);
        EXPECT_EQ(v.at(0xDF21), 3u);
        EXPECT_EQ(v.at(0xDF22), 4u);
        EXPECT_EQ(v.at(0xDF23), 1u);
        EXPECT_EQ(v.at(0xDF24), 0x00020004u);
        EXPECT_EQ(v.at(0xDF25), 2u);
        EXPECT_EQ(v.at(0xDF26), std::nullopt); // empty data container
        EXPECT_EQ(v.at(0xDF31), 2u);
    }
    EXPECT_EQ(check_reads("fudge-log-xt2.txt").at(0xD235), std::nullopt);
}

/// "XXXX changed to V" lines after the first "Found 20/21 events" line, as a change list.
std::vector<ptp::fuji::prop_change> logged_changes(std::string const& log, std::string_view found,
                                                   bool hex)
{
    auto ls = data::lines(log);
    std::vector<ptp::fuji::prop_change> out;
    static std::regex const re(R"(([0-9A-F]{4}) changed to (-?[0-9A-F]+))");
    bool in = false;
    for (auto const& l : ls)
    {
        if (!in)
        {
            in = l.find(found) != std::string::npos;
            continue;
        }
        std::smatch m;
        if (!std::regex_search(l, m, re))
            break;
        auto code = static_cast<std::uint16_t>(std::stoul(m[1], nullptr, 16));
        auto value = hex ? static_cast<std::uint32_t>(std::stoul(m[2], nullptr, 16))
                         : static_cast<std::uint32_t>(std::stol(m[2]));
        out.push_back({static_cast<device_prop>(code), value});
    }
    return out;
}

TEST(ProtoPtpReplay, FudgeXT4RemoteStateListMatchesPacketSize)
{
    auto v = check_reads("fudge-log-xt4.txt");
    EXPECT_EQ(v.at(0xDF21), 4u);
    EXPECT_EQ(v.at(0xDF22), 5u);
    EXPECT_EQ(v.at(0xDF24), 0x0002000Au);
    EXPECT_EQ(v.at(0xDF25), 4u);
    EXPECT_EQ(v.at(0xDF26), 1u);
    EXPECT_EQ(v.at(0xD400), 0u);
    EXPECT_EQ(v.at(0xD52F), 1u);
    EXPECT_EQ(v.at(0xDF28), 1u);

    auto list = logged_changes("fudge-log-xt4.txt", "Found 20 events", false);
    ASSERT_EQ(list.size(), 20u);
    EXPECT_EQ(ptp::fuji::find(list, device_prop::fuji_exposure_index), 0x80001900u);
    EXPECT_EQ(ptp::fuji::find(list, device_prop::fuji_shutter_speed), 0x8000EA60u); // -2147423648
    EXPECT_EQ(ptp::fuji::find(list, device_prop::fuji_battery_level), 11u);
    ptp::byte_vector payload;
    ptp::fuji::encode_event_list(list, payload);
    // "Read 146 bytes" for this list: data container + response container.
    EXPECT_EQ(12 + payload.size() + 12, 146u);
    auto back = ptp::fuji::decode_event_list(payload);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, list);

    // The 6-entry list: "Read 62 bytes"; D222 = 44 objects.
    auto six = logged_changes("fudge-log-xt4.txt", "Found 6 events", false);
    ASSERT_EQ(six.size(), 6u);
    EXPECT_EQ(ptp::fuji::find(six, device_prop::fuji_object_count), 44u);
    payload.clear();
    ptp::fuji::encode_event_list(six, payload);
    EXPECT_EQ(12 + payload.size() + 12, 62u);
    // "Found 2 events" after setting the viewer mode: "Read 38 bytes", DF00 = 11.
    auto two = logged_changes("fudge-log-xt4.txt", "Found 2 events", false);
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(ptp::fuji::find(two, device_prop::fuji_camera_state), 11u);
    payload.clear();
    ptp::fuji::encode_event_list(two, payload);
    EXPECT_EQ(12 + payload.size() + 12, 38u);
}

TEST(ProtoPtpReplay, FudgeXT5VersionsAndStateList)
{
    auto v = check_reads("fudge-log-x5.txt");
    EXPECT_EQ(v.at(0xDF21), 4u);
    EXPECT_EQ(v.at(0xDF22), 5u);
    EXPECT_EQ(v.at(0xDF24), 0x0002000Bu);
    EXPECT_EQ(v.at(0xDF25), 5u);
    EXPECT_EQ(v.at(0xDF28), 3u);
    auto list = logged_changes("fudge-log-x5.txt", "Found 21 events", true);
    ASSERT_EQ(list.size(), 21u);
    EXPECT_EQ(ptp::fuji::find(list, device_prop::fuji_exposure_index), 0x80000C80u);
    EXPECT_EQ(ptp::fuji::find(list, device_prop::exposure_bias_compensation), 0xFD65u);
    EXPECT_EQ(ptp::fuji::find(list, device_prop::fuji_shutter_speed), 0xFFFFFFFFu);
    auto six = logged_changes("fudge-log-x5.txt", "Found 6 events", true);
    EXPECT_EQ(ptp::fuji::find(six, device_prop::fuji_object_count), 0x9Eu);
    EXPECT_EQ(ptp::fuji::find(six, device_prop::fuji_camera_state), 6u);

    // "ptpip_cmd_write: 82" (the init) and "ptpip_cmd_read: 4" + "64" (the ack).
    auto log = data::text("fudge-log-x5.txt");
    EXPECT_NE(log.find("ptpip_cmd_write: 82"), std::string::npos);
    ptp::byte_vector init;
    ASSERT_TRUE(fuji::encode(fuji::init_request{fuji::app_guid, "fudge", fuji::init_magic}, init));
    EXPECT_EQ(init.size(), 82u);
    EXPECT_EQ(4u + 64u, fuji::init_ack_size);
    // "ptpip_cmd_write: 8" at Goodbye.
    EXPECT_NE(log.find("Goodbye\n3783\tptpip_cmd_write: 8\n"), std::string::npos);
}

TEST(ProtoPtpReplay, LibgphotoLoopbackDatasets)
{
    ptp::leniency_counters lenient; // libgphoto2's own datasets need none
    for (auto const& r : data::tsv("std_tcp_payloads.tsv"))
    {
        if (r.frame == 20) // EndData with the 127-byte DeviceInfo, then an OperationResponse
        {
            auto d = ptp::decode_device_info(ptp::bytes_view(r.payload).subspan(12, 127), &lenient);
            ASSERT_TRUE(d);
            EXPECT_EQ(d->vendor_extension_id, 0u);
            EXPECT_EQ(d->manufacturer, "FakeVendor");
            EXPECT_EQ(d->model, "FakeCam");
            EXPECT_EQ(d->device_version, "1.00");
            EXPECT_EQ(d->serial_number, "0000000001");
            EXPECT_EQ(d->operations_supported.size(), 9u);
            EXPECT_TRUE(d->supports(ptp::op_code::get_partial_object));
            EXPECT_EQ(d->image_formats, std::vector{ptp::object_format::exif_jpeg});
        }
    }
    for (auto const& r : data::tsv("fuji_tcp_payloads.tsv"))
    {
        if (r.frame == 36)
        {
            auto d = ptp::decode_device_info(body(r.payload), &lenient);
            ASSERT_TRUE(d);
            EXPECT_EQ(d->vendor_extension_id, 0x0Eu);
            EXPECT_EQ(d->vendor_extension_desc, "fujifilm.co.jp: 1.0; ");
            EXPECT_EQ(d->manufacturer, "FUJIFILM");
            EXPECT_EQ(d->model, "X-FAKE");
        }
        if (r.frame == 56 || r.frame == 61)
        {
            auto o = ptp::decode_object_info(body(r.payload), &lenient);
            ASSERT_TRUE(o);
            EXPECT_EQ(o->storage_id, 0x00010001u);
            EXPECT_EQ(o->format, ptp::object_format::exif_jpeg);
            EXPECT_EQ(o->compressed_size, 32u);
            EXPECT_EQ(o->filename, r.frame == 56 ? "DSCF0001.JPG" : "DSCF0002.JPG");
            EXPECT_EQ(o->capture_date, "20240101T120000");
            EXPECT_EQ(o->modification_date, "20240101T120000");
            ptp::byte_vector again;
            ASSERT_TRUE(ptp::encode(*o, again));
            EXPECT_EQ(again, data::bytes(r.payload.begin() + 12, r.payload.end()));
        }
        if (r.frame == 41)
        {
            auto ids =
                ptp::decode_uint32_array(body(r.payload), ptp::default_array_limit, &lenient);
            ASSERT_TRUE(ids);
            EXPECT_EQ(*ids, std::vector<std::uint32_t>{0x00010001});
        }
        if (r.frame == 46)
        {
            auto handles =
                ptp::decode_uint32_array(body(r.payload), ptp::default_array_limit, &lenient);
            ASSERT_TRUE(handles);
            EXPECT_EQ(*handles, (std::vector<std::uint32_t>{1, 2}));
        }
    }
    EXPECT_EQ(lenient.describe(), "");
}

TEST(ProtoPtpReplay, LiveViewFrame)
{
    auto bin = data::binary("lv_stream");
    auto f = fuji::decode_liveview(bin);
    ASSERT_TRUE(f);
    EXPECT_EQ(bin.size(), 0x249Bu);
    EXPECT_EQ(f->header.size(), 14u);
    EXPECT_EQ(f->jpeg.size(), 9353u);
    EXPECT_EQ(f->jpeg[0], std::byte{0xFF});
    EXPECT_EQ(f->jpeg[1], std::byte{0xD8});
}

} // namespace
