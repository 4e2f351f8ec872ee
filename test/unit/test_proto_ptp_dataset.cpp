// proto/ptp: byte reader/writer, strings, arrays, DateTime, dataset round trips, truncation.
#include "proto/ptp/byte_io.hpp"
#include "proto/ptp/dataset.hpp"
#include "proto/ptp/fuji.hpp"
#include "proto/ptp/quirks.hpp"
#include "support/ptp_test_data.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace
{

namespace ptp = camrelay::proto::ptp;
using camrelay::test::ptp_data::from_hex;
using ptp::errc;

TEST(ProtoPtpByteIo, ReadsLittleEndianAndStopsAtTheEnd)
{
    auto b = from_hex("01 0203 04050607 08090a0b0c0d0e0f");
    ptp::reader r(b);
    EXPECT_EQ(r.u8(), 0x01);
    EXPECT_EQ(r.u16(), 0x0302);
    EXPECT_EQ(r.u32(), 0x07060504u);
    EXPECT_EQ(r.u64(), 0x0f0e0d0c0b0a0908ull);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
    EXPECT_EQ(r.u8(), 0);
    EXPECT_EQ(r.error(), errc::truncated);
    EXPECT_EQ(r.u32(), 0u); // sticky
    EXPECT_TRUE(r.bytes(1).empty());
}

TEST(ProtoPtpByteIo, PartialReadFailsWithoutConsuming)
{
    auto b = from_hex("010203");
    ptp::reader r(b);
    EXPECT_EQ(r.u32(), 0u);
    EXPECT_EQ(r.error(), errc::truncated);
    EXPECT_EQ(r.position(), 0u);
}

TEST(ProtoPtpByteIo, WriterIsLittleEndianAndPatches)
{
    ptp::byte_vector out;
    ptp::writer w(out);
    w.u32(0);
    w.u16(0x1234);
    w.u64(0x0102030405060708ull);
    w.patch_u32(0, static_cast<std::uint32_t>(out.size()));
    EXPECT_EQ(out, from_hex("0e000000 3412 0807060504030201"));
}

TEST(ProtoPtpError, CategoryNameAndMessages)
{
    std::error_code ec = errc::truncated;
    EXPECT_STREQ(ec.category().name(), "camrelay.ptp");
    EXPECT_EQ(ec.message(), "PTP dataset truncated");
    for (int e = 1; e <= static_cast<int>(errc::bad_entry_length); ++e)
        EXPECT_NE(std::error_code(e, ptp::category()).message(), "unknown PTP error");
}

TEST(ProtoPtpString, HelloVectorFromTheSpec)
{
    ptp::byte_vector out;
    ptp::writer w(out);
    ASSERT_FALSE(ptp::write_string(w, "Hello"));
    EXPECT_EQ(out, from_hex("06 4800 6500 6c00 6c00 6f00 0000"));
    ptp::reader r(out);
    EXPECT_EQ(ptp::read_string(r), "Hello");
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
}

TEST(ProtoPtpString, EmptyIsOneZeroByte)
{
    ptp::byte_vector out;
    ptp::writer w(out);
    ASSERT_FALSE(ptp::write_string(w, ""));
    EXPECT_EQ(out, from_hex("00"));
    ptp::reader r(out);
    EXPECT_EQ(ptp::read_string(r), "");
    EXPECT_TRUE(r.ok());
}

TEST(ProtoPtpString, NonAsciiAndSurrogatePairsRoundTrip)
{
    for (std::string s : {"Café ÄÖÜ", "日本語", "\xF0\x9F\x93\xB7 camera"})
    {
        ptp::byte_vector out;
        ptp::writer w(out);
        ASSERT_FALSE(ptp::write_string(w, s)) << s;
        ptp::reader r(out);
        EXPECT_EQ(ptp::read_string(r), s);
        EXPECT_TRUE(r.ok());
    }
}

TEST(ProtoPtpString, LimitsAndBadInput)
{
    ptp::byte_vector out;
    ptp::writer w(out);
    EXPECT_FALSE(ptp::write_string(w, std::string(254, 'a')));
    EXPECT_EQ(std::to_integer<int>(out[0]), 255);
    out.clear();
    EXPECT_EQ(ptp::write_string(w, std::string(255, 'a')), errc::string_too_long);
    EXPECT_EQ(ptp::write_string(w, "\xC3"), errc::bad_string);
    EXPECT_EQ(ptp::write_string(w, std::string("a\0b", 3)), errc::bad_string);
    EXPECT_TRUE(out.empty());

    auto truncated = from_hex("06 4800 6500");
    ptp::reader r(truncated);
    EXPECT_EQ(ptp::read_string(r), "");
    EXPECT_EQ(r.error(), errc::truncated);

    // Missing NUL is tolerated; a lone surrogate becomes U+FFFD.
    auto no_nul = from_hex("02 4100 00d8");
    ptp::reader r2(no_nul);
    EXPECT_EQ(ptp::read_string(r2), "A\xEF\xBF\xBD");
}

TEST(ProtoPtpArray, RoundTripAndHostileCounts)
{
    std::vector<std::uint32_t> handles{1, 2, 0xFFFFFFFF};
    ptp::byte_vector out;
    ptp::encode_uint32_array(handles, out);
    EXPECT_EQ(out, from_hex("03000000 01000000 02000000 ffffffff"));
    auto back = ptp::decode_uint32_array(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, handles);

    auto huge = from_hex("ffffffff 01000000");
    auto r = ptp::decode_uint32_array(huge);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::array_too_long);
    EXPECT_EQ(ptp::decode_uint32_array(from_hex("02000000 01000000"), 1).error(),
              errc::array_too_long);
    EXPECT_EQ(ptp::decode_uint32_array(from_hex("0200")).error(), errc::truncated);
}

TEST(ProtoPtpDateTime, ParsesEveryForm)
{
    auto d = ptp::parse_date_time("20160102T150136");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->year, 2016);
    EXPECT_EQ(d->month, 1);
    EXPECT_EQ(d->day, 2);
    EXPECT_EQ(d->hour, 15);
    EXPECT_EQ(d->minute, 1);
    EXPECT_EQ(d->second, 36);
    EXPECT_FALSE(d->tenths);
    EXPECT_EQ(d->zone, ptp::date_time::zone_kind::local);

    auto z = ptp::parse_date_time("20240809T140114.5Z");
    ASSERT_TRUE(z);
    EXPECT_EQ(z->tenths, 5);
    EXPECT_EQ(z->zone, ptp::date_time::zone_kind::utc);

    auto minus = ptp::parse_date_time("19991231T235960-0930");
    ASSERT_TRUE(minus);
    EXPECT_EQ(minus->second, 60);
    EXPECT_EQ(minus->zone, ptp::date_time::zone_kind::offset);
    EXPECT_EQ(minus->utc_offset_minutes, -570);

    auto plus = ptp::parse_date_time("20200229T000000+0100");
    ASSERT_TRUE(plus);
    EXPECT_EQ(plus->utc_offset_minutes, 60);

    for (auto s : {"20160102T150136", "20240809T140114.5Z", "19991231T235960-0930",
                   "20200229T000000+0100", "20200229T000000.0"})
        EXPECT_EQ(ptp::format_date_time(*ptp::parse_date_time(s)), s);
}

TEST(ProtoPtpDateTime, RejectsGarbage)
{
    for (auto s :
         {"", "2016", "20160102 150136", "20161302T150136", "20160100T150136", "20160102T250136",
          "20160102T156136", "20160102T150136.", "20160102T150136Q", "20160102T150136+01",
          "20160102T150136+2500", "2016010xT150136", "20160102T150136ZZ"})
        EXPECT_EQ(ptp::parse_date_time(s).error(), errc::bad_date_time) << s;
}

ptp::object_info sample_object()
{
    ptp::object_info o;
    o.storage_id = 0x10000001;
    o.format = ptp::object_format::fuji_raf;
    o.compressed_size = 55'000'000;
    o.thumb_format = ptp::object_format::exif_jpeg;
    o.thumb_compressed_size = 9000;
    o.thumb_pix_width = 160;
    o.thumb_pix_height = 120;
    o.image_pix_width = 6240;
    o.image_pix_height = 4160;
    o.image_bit_depth = 24;
    o.parent_object = 7;
    o.association_type = 0;
    o.association_desc = 0;
    o.sequence_number = 3;
    o.filename = "DSCF1234.RAF";
    o.capture_date = "20240809T140114";
    o.modification_date = "20240809T140114.5+0200";
    o.keywords = "Orientation:1";
    return o;
}

TEST(ProtoPtpDataset, ObjectInfoRoundTripAndDates)
{
    auto o = sample_object();
    ptp::byte_vector out;
    ASSERT_TRUE(ptp::encode(o, out));
    EXPECT_EQ(out.size(),
              ptp::object_info_fixed_size + 1 + 13 * 2 + 1 + 16 * 2 + 1 + 23 * 2 + 1 + 14 * 2);
    auto back = ptp::decode_object_info(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, o);
    ASSERT_TRUE(back->capture_time());
    EXPECT_EQ(back->capture_time()->year, 2024);
    ASSERT_TRUE(back->modification_time());
    EXPECT_EQ(back->modification_time()->utc_offset_minutes, 120);

    // A cut after Filename, CaptureDate or ModificationDate is tolerated (the missing strings are
    // "" and counted); every other cut is an error, never UB.
    std::size_t const after_filename = ptp::object_info_fixed_size + 1 + 13 * 2;
    std::size_t const after_capture = after_filename + 1 + 16 * 2;
    std::size_t const after_modification = after_capture + 1 + 23 * 2;
    for (std::size_t n = 0; n < out.size(); ++n)
    {
        ptp::leniency_counters c;
        auto cut = ptp::decode_object_info(ptp::bytes_view(out).first(n), &c);
        if (n != after_filename && n != after_capture && n != after_modification)
        {
            EXPECT_EQ(cut.error(), errc::truncated) << n;
            EXPECT_FALSE(c.any()) << n; // a refused dataset counts nothing
            continue;
        }
        ASSERT_TRUE(cut) << n;
        EXPECT_EQ(cut->filename, o.filename);
        EXPECT_EQ(cut->keywords, "");
        EXPECT_EQ(c.count(ptp::leniency::object_info_no_keywords), 1u);
        EXPECT_EQ(c.count(ptp::leniency::object_info_no_modification_date),
                  n == after_modification ? 0u : 1u);
        EXPECT_EQ(c.count(ptp::leniency::object_info_no_capture_date),
                  n == after_filename ? 1u : 0u);
        EXPECT_EQ(cut->capture_date, n == after_filename ? "" : o.capture_date);
    }
    // Bad strings refuse to encode and leave `out` alone.
    o.keywords = std::string(300, 'k');
    ptp::byte_vector none;
    EXPECT_EQ(ptp::encode(o, none).error(), errc::string_too_long);
    EXPECT_TRUE(none.empty());
}

TEST(ProtoPtpDataset, DeviceInfoRoundTrip)
{
    ptp::device_info d;
    d.vendor_extension_id = 6;
    d.vendor_extension_version = 100;
    d.vendor_extension_desc = "fujifilm.co.jp: 1.0; ";
    d.operations_supported = {ptp::op_code::get_device_info, ptp::op_code::get_partial_object,
                              ptp::op_code::fuji_get_device_info};
    d.events_supported = {ptp::event_code::object_added};
    d.device_properties_supported = {ptp::device_prop::fuji_events_list};
    d.capture_formats = {ptp::object_format::exif_jpeg, ptp::object_format::fuji_raf};
    d.image_formats = {ptp::object_format::exif_jpeg};
    d.manufacturer = "FUJIFILM";
    d.model = "X-T5";
    d.device_version = "1.00";
    d.serial_number = "0123456789";
    ptp::byte_vector out;
    ASSERT_TRUE(ptp::encode(d, out));
    auto back = ptp::decode_device_info(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, d);
    EXPECT_TRUE(back->supports(ptp::op_code::get_partial_object));
    EXPECT_FALSE(back->supports(ptp::op_code::get_object));
    // Cuts between the four trailing strings are tolerated; inside the head, the arrays or a
    // string they are errors.
    std::size_t const after_arrays =
        2 + 4 + 2 + (1 + 22 * 2) + 2 + (4 + 3 * 2) + (4 + 2) + (4 + 2) + (4 + 2 * 2) + (4 + 2);
    std::vector<std::size_t> boundaries{after_arrays};
    for (std::size_t len : {9u, 5u, 5u})
        boundaries.push_back(boundaries.back() + 1 + len * 2);
    for (std::size_t n = 1; n < out.size(); ++n)
    {
        ptp::leniency_counters c;
        auto cut = ptp::decode_device_info(ptp::bytes_view(out).first(n), &c);
        if (std::find(boundaries.begin(), boundaries.end(), n) == boundaries.end())
        {
            EXPECT_FALSE(cut) << n;
            EXPECT_FALSE(c.any()) << n;
            continue;
        }
        ASSERT_TRUE(cut) << n;
        EXPECT_EQ(cut->operations_supported, d.operations_supported);
        EXPECT_EQ(cut->serial_number, "");
        EXPECT_EQ(c.count(ptp::leniency::device_info_truncated), 1u);
        EXPECT_EQ(c.describe(), "device_info_truncated=1");
    }
    // X-T4 over Wi-Fi sends an empty DeviceInfo (quirk::empty_device_info): defaults, counted.
    ptp::leniency_counters c;
    auto empty = ptp::decode_device_info({}, &c);
    ASSERT_TRUE(empty);
    EXPECT_EQ(*empty, ptp::device_info{});
    EXPECT_EQ(c.count(ptp::leniency::device_info_empty), 1u);
}

TEST(ProtoPtpDataset, StorageInfoRoundTrip)
{
    ptp::storage_info s{4, 3, 0, 64'000'000'000ull, 12'345'678'901ull, 1234, "SD1", "FUJI"};
    ptp::byte_vector out;
    ASSERT_TRUE(ptp::encode(s, out));
    EXPECT_EQ(out.size(), 26u + 1 + 8 + 1 + 10);
    auto back = ptp::decode_storage_info(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
    for (std::size_t n = 0; n < out.size(); ++n)
    {
        ptp::leniency_counters c;
        auto cut = ptp::decode_storage_info(ptp::bytes_view(out).first(n), &c);
        if (n != 26 && n != 26 + 1 + 8)
        {
            EXPECT_EQ(cut.error(), errc::truncated) << n;
            continue;
        }
        ASSERT_TRUE(cut) << n;
        EXPECT_EQ(cut->max_capacity, s.max_capacity);
        EXPECT_EQ(cut->storage_description, n == 26 ? "" : "SD1");
        EXPECT_EQ(cut->volume_label, "");
        EXPECT_EQ(c.count(ptp::leniency::storage_info_truncated), 1u);
    }
}

TEST(ProtoPtpDataset, DevicePropDescFormsAndValues)
{
    ptp::device_prop_desc range;
    range.code = ptp::device_prop::exposure_bias_compensation;
    range.type = ptp::data_type::int16;
    range.get_set = 1;
    range.factory_default = from_hex("0000");
    range.current_value = from_hex("65fd"); // -667
    range.form = ptp::device_prop_desc::form_kind::range;
    range.range_min = from_hex("f4f4");
    range.range_max = from_hex("0c0b");
    range.range_step = from_hex("4d01");
    ptp::byte_vector out;
    ptp::encode(range, out);
    auto back = ptp::decode_device_prop_desc(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, range);
    EXPECT_EQ(ptp::value_as_int(back->type, back->current_value), -667);

    ptp::device_prop_desc text;
    text.code = ptp::device_prop::fuji_geolocation;
    text.type = ptp::data_type::string;
    ptp::writer w(text.current_value);
    ASSERT_FALSE(ptp::write_string(w, "5229.131848,N"));
    text.factory_default = from_hex("00");
    text.form = ptp::device_prop_desc::form_kind::none;
    out.clear();
    ptp::encode(text, out);
    back = ptp::decode_device_prop_desc(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(ptp::value_as_string(back->type, back->current_value), "5229.131848,N");

    ptp::device_prop_desc arr;
    arr.code = ptp::device_prop::fuji_d246;
    arr.type = static_cast<ptp::data_type>(0x4004); // AUINT16
    arr.factory_default = from_hex("00000000");
    arr.current_value = from_hex("02000000 0100 0200");
    out.clear();
    ptp::encode(arr, out);
    back = ptp::decode_device_prop_desc(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, arr);

    EXPECT_EQ(ptp::decode_device_prop_desc(from_hex("0150 3300 01 00")).error(),
              errc::bad_data_type);
    EXPECT_EQ(ptp::decode_device_prop_desc(from_hex("0150 0400 01 0000 0000 07")).error(),
              errc::bad_form);
    EXPECT_EQ(ptp::decode_device_prop_desc(from_hex("0150 0440 01 ffffff7f")).error(),
              errc::array_too_long);
}

TEST(ProtoPtpFuji, EventListAndPropDescListRoundTrip)
{
    std::vector<ptp::fuji::prop_change> list{{ptp::device_prop::fuji_camera_state, 6},
                                             {ptp::device_prop::fuji_object_count, 123}};
    ptp::byte_vector out;
    ptp::fuji::encode_event_list(list, out);
    EXPECT_EQ(out, from_hex("0200 00df 06000000 22d2 7b000000"));
    auto back = ptp::fuji::decode_event_list(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, list);
    EXPECT_EQ(ptp::fuji::find(*back, ptp::device_prop::fuji_object_count), 123u);
    EXPECT_FALSE(ptp::fuji::find(*back, ptp::device_prop::fuji_selected_imgs_mode));
    EXPECT_EQ(ptp::fuji::decode_event_list(from_hex("ffff 0000")).error(), errc::array_too_long);
    EXPECT_EQ(ptp::fuji::decode_event_list(from_hex("01")).error(), errc::truncated);

    ptp::device_prop_desc d;
    d.code = ptp::device_prop::fuji_film_simulation;
    d.type = ptp::data_type::uint16;
    d.factory_default = from_hex("0100");
    d.current_value = from_hex("0200");
    std::vector<ptp::device_prop_desc> descs{d, d};
    out.clear();
    ptp::fuji::encode_prop_desc_list(descs, out);
    auto descs_back = ptp::fuji::decode_prop_desc_list(out);
    ASSERT_TRUE(descs_back);
    EXPECT_EQ(*descs_back, descs);
    EXPECT_EQ(ptp::fuji::decode_prop_desc_list(from_hex("01000000 02000000 00000000 00")).error(),
              errc::bad_entry_length);

    EXPECT_EQ(ptp::fuji::decode_u32_value(from_hex("04000200")), 0x00020004u);
    EXPECT_FALSE(ptp::fuji::decode_u32_value({}));
}

TEST(ProtoPtpQuirks, SetOperations)
{
    ptp::quirk_set q;
    EXPECT_FALSE(q.has(ptp::quirk::send_goodbye));
    q.set(ptp::quirk::send_goodbye);
    EXPECT_TRUE(q.has(ptp::quirk::send_goodbye));
    q.set(ptp::quirk::send_goodbye, false);
    EXPECT_EQ(q, ptp::quirk_set{});
    EXPECT_TRUE(ptp::fuji_x_wifi_quirks.has(ptp::quirk::init_fail_is_response_code));
    EXPECT_FALSE(ptp::fuji_x_wifi_quirks.has(ptp::quirk::pad_request_params));
}

} // namespace
