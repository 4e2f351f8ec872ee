// proto/ptpip: every standard packet and every Fuji frame round-trips; the literal bytes of
// shared/protocols/ptpip-fuji.md §1.1/§1.3 encode exactly; malformed packets are errors.
#include "proto/ptpip/fuji.hpp"
#include "proto/ptpip/packet.hpp"
#include "support/ptp_test_data.hpp"

#include <gtest/gtest.h>

namespace
{

namespace ptp = camrelay::proto::ptp;
namespace ptpip = camrelay::proto::ptpip;
namespace fuji = camrelay::proto::ptpip::fuji;
using camrelay::test::ptp_data::from_hex;
using ptpip::errc;

ptpip::guid guid_from_hex(std::string_view hex)
{
    auto b = from_hex(hex);
    ptpip::guid g{};
    std::copy(b.begin(), b.end(), g.begin());
    return g;
}

std::vector<ptpip::packet> one_of_each()
{
    auto g = guid_from_hex("559dae732da9d77b8300e830e6908190");
    return {
        ptpip::init_command_request{g, "vm", ptpip::protocol_version_1_0},
        ptpip::init_command_ack{1, g, "FakeCam", ptpip::protocol_version_1_0},
        ptpip::init_event_request{1},
        ptpip::init_event_ack{},
        ptpip::init_fail{1},
        ptpip::operation_request{
            ptpip::data_phase::none_or_in, 0x1007, 3, {0xFFFFFFFF, 0, 0xFFFFFFFF}},
        ptpip::operation_response{0x2001, 5, {7}},
        ptpip::event{0x4002, 0xFFFFFFFF, {3}},
        ptpip::start_data{1, 127},
        ptpip::data{1, from_hex("ffd8ffe0")},
        ptpip::cancel{9},
        ptpip::end_data{1, {}},
        ptpip::probe_request{},
        ptpip::probe_response{},
    };
}

TEST(ProtoPtpipPacket, EveryPacketTypeRoundTrips)
{
    auto all = one_of_each();
    ASSERT_EQ(all.size(), std::variant_size_v<ptpip::packet>);
    for (std::size_t i = 0; i < all.size(); ++i)
    {
        auto const& p = all[i];
        EXPECT_EQ(static_cast<std::size_t>(ptpip::type_of(p)), i + 1);
        auto bytes = ptpip::encode(p);
        ASSERT_TRUE(bytes);
        EXPECT_EQ(ptp::load_u32(bytes->data()), bytes->size());
        EXPECT_EQ(ptp::load_u32(bytes->data() + 4), i + 1);
        auto back = ptpip::decode(*bytes);
        ASSERT_TRUE(back) << i << " " << back.error().message();
        EXPECT_EQ(*back, p) << i;
        // Every truncation (with a consistent length field) is an error, never UB.
        for (std::size_t n = 8; n < bytes->size(); ++n)
        {
            auto cut = *bytes;
            cut.resize(n);
            ptp::writer(cut).patch_u32(0, static_cast<std::uint32_t>(n));
            auto r = ptpip::decode(cut);
            if (r)
            {
                // Only variable-length bodies may decode when cut (data payload, name, params).
                auto t = ptpip::type_of(p);
                EXPECT_TRUE(t == ptpip::packet_type::data || t == ptpip::packet_type::end_data ||
                            t == ptpip::packet_type::operation_request ||
                            t == ptpip::packet_type::operation_response ||
                            t == ptpip::packet_type::event ||
                            t == ptpip::packet_type::init_command_request ||
                            t == ptpip::packet_type::init_command_ack)
                    << i << " " << n;
            }
        }
    }
}

TEST(ProtoPtpipPacket, LiteralsFromTheSpecNotes)
{
    auto g = guid_from_hex("559dae732da9d77b8300e830e6908190");
    auto enc = [](ptpip::packet const& p) { return *ptpip::encode(p); };
    EXPECT_EQ(
        enc(ptpip::init_command_request{g, "vm", ptpip::protocol_version_1_0}),
        from_hex("22000000 01000000 559dae73 2da9d77b 8300e830 e6908190 7600 6d00 0000 00000100"));
    EXPECT_EQ(enc(ptpip::init_event_request{1}), from_hex("0c000000 03000000 01000000"));
    EXPECT_EQ(enc(ptpip::init_event_ack{}), from_hex("08000000 04000000"));
    EXPECT_EQ(enc(ptpip::operation_request{ptpip::data_phase::none_or_in, 0x1002, 0, {1}}),
              from_hex("16000000 06000000 01000000 0210 00000000 01000000"));
    EXPECT_EQ(enc(ptpip::operation_response{0x2001, 0, {}}),
              from_hex("0e000000 07000000 0120 00000000"));
    EXPECT_EQ(enc(ptpip::operation_request{ptpip::data_phase::none_or_in, 0x1001, 1, {}}),
              from_hex("12000000 06000000 01000000 0110 01000000"));
    EXPECT_EQ(enc(ptpip::start_data{1, 127}),
              from_hex("14000000 09000000 01000000 7f00000000000000"));
    EXPECT_EQ(enc(ptpip::event{0x4002, 0xFFFFFFFF, {3}}),
              from_hex("12000000 08000000 0240 ffffffff 03000000"));
    // Init Fail from a camera (gphoto2 #384) and a Nikon Z8 CloseSession response (#1135).
    auto fail = ptpip::decode(from_hex("0c000000 05000000 01000000"));
    ASSERT_TRUE(fail);
    EXPECT_EQ(std::get<ptpip::init_fail>(*fail).reason,
              static_cast<std::uint32_t>(ptpip::init_fail_reason::rejected_initiator));
    auto z8 = ptpip::decode(from_hex("0e000000 07000000 0120 04000000"));
    ASSERT_TRUE(z8);
    EXPECT_EQ(std::get<ptpip::operation_response>(*z8).transaction_id, 4u);
}

TEST(ProtoPtpipPacket, MalformedPacketsAreErrors)
{
    EXPECT_EQ(ptpip::decode(from_hex("0800")).error(), errc::bad_length);
    EXPECT_EQ(ptpip::decode(from_hex("09000000 04000000")).error(), errc::bad_length);
    EXPECT_EQ(ptpip::decode(from_hex("08000000 0f000000")).error(), errc::unknown_packet_type);
    EXPECT_EQ(ptpip::decode(from_hex("08000000 00000000")).error(), errc::unknown_packet_type);
    EXPECT_EQ(ptpip::decode(from_hex("0c000000 04000000 00000000")).error(), errc::bad_packet);
    EXPECT_EQ(ptpip::decode(from_hex("0f000000 07000000 0120 00000000 01")).error(),
              errc::bad_packet);
    EXPECT_EQ(ptpip::decode(from_hex("26000000 07000000 0120 00000000 "
                                     "01000000 02000000 03000000 04000000 05000000 06000000"))
                  .error(),
              errc::too_many_params);
    EXPECT_EQ(ptpip::decode(from_hex("10000000 09000000 01000000 7f000000")).error(),
              errc::bad_packet);
    EXPECT_EQ(ptpip::encode(
                  ptpip::operation_request{ptpip::data_phase::none_or_in, 1, 1, {1, 2, 3, 4, 5, 6}})
                  .error(),
              errc::too_many_params);
    EXPECT_EQ(ptpip::encode(ptpip::init_command_request{{}, "\xFF", 0}).error(), errc::bad_name);
}

TEST(ProtoPtpipError, CategoryNameAndMessages)
{
    std::error_code ec = errc::bad_length;
    EXPECT_STREQ(ec.category().name(), "camrelay.ptpip");
    for (int e = 1; e <= static_cast<int>(errc::too_many_params); ++e)
        EXPECT_NE(std::error_code(e, ptpip::category()).message(), "unknown PTP/IP error");
}

TEST(ProtoPtpipFuji, InitRequestIs82BytesAndMatchesTheX100Capture)
{
    ptp::byte_vector out;
    ASSERT_TRUE(
        fuji::encode(fuji::init_request{fuji::app_guid, "HackedClient", fuji::init_magic}, out));
    EXPECT_EQ(out.size(), 82u);
    auto expected = from_hex("52000000 01000000 f2e4538f ada5485d 87b27f0b d3d5ded0 0278a8c0"
                             "48006100 63006b00 65006400 43006c00 69006500 6e007400");
    expected.resize(82);
    EXPECT_EQ(out, expected);
    auto back = fuji::decode_init_request(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->client_name, "HackedClient");
    EXPECT_EQ(back->client_guid, fuji::app_guid);
    EXPECT_EQ(back->magic, fuji::init_magic);

    // fudge's variant: first 12 GUID bytes, zeros for the last 4; name "MyClient" (§2.A step 2).
    auto g = guid_from_hex("ada5485d87b27f0bd3d5ded000000000");
    out.clear();
    ASSERT_TRUE(fuji::encode(fuji::init_request{g, "MyClient", fuji::init_magic}, out));
    auto my = from_hex("52000000 01000000 f2e4538f ada5485d87b27f0bd3d5ded000000000"
                       "4d00790043006c00690065006e007400");
    my.resize(82);
    EXPECT_EQ(out, my);

    // 26 UCS-2 units fit (plus the NUL), 27 do not.
    out.clear();
    EXPECT_TRUE(fuji::encode(fuji::init_request{g, std::string(26, 'n'), fuji::init_magic}, out));
    EXPECT_EQ(out.size(), 82u);
    EXPECT_EQ(
        fuji::encode(fuji::init_request{g, std::string(27, 'n'), fuji::init_magic}, out).error(),
        errc::bad_name);
    EXPECT_EQ(fuji::decode_init_request(from_hex("0c000000 01000000 f2e4538f")).error(),
              errc::bad_packet);
}

TEST(ProtoPtpipFuji, InitAckAndInitFail)
{
    fuji::init_ack ack{0, ptpip::guid{std::byte{0x08}, std::byte{0x70}}, "X-T5"};
    ptp::byte_vector out;
    ASSERT_TRUE(fuji::encode(ack, out));
    EXPECT_EQ(out.size(), fuji::init_ack_size);
    auto back = fuji::decode_init_reply(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(std::get<fuji::init_ack>(*back), ack);

    auto busy = fuji::decode_init_reply(from_hex("0c000000 05000000 19200000"));
    ASSERT_TRUE(busy);
    EXPECT_EQ(std::get<ptpip::init_fail>(*busy).reason, 0x2019u);
    auto magic = fuji::decode_init_reply(from_hex("0c000000 05000000 1d200000"));
    ASSERT_TRUE(magic);
    EXPECT_EQ(std::get<ptpip::init_fail>(*magic).reason, 0x201Du);
    EXPECT_EQ(fuji::decode_init_reply(from_hex("0c000000 06000000 1d200000")).error(),
              errc::unknown_packet_type);
    EXPECT_EQ(fuji::decode_init_reply(from_hex("10000000 02000000 00000000 00000000")).error(),
              errc::bad_packet);
}

TEST(ProtoPtpipFuji, ContainersRoundTripAndGoodbye)
{
    std::vector<fuji::container> all{
        fuji::make_command(0x1002, 0, {1}),
        fuji::make_command(0x1003, 7, {}),
        fuji::make_data(0x1016, 6, from_hex("0200")),
        fuji::make_data(0x1015, 2, {}),
        fuji::make_response(0x2001, 0x30, {0x00088168}),
        fuji::container{fuji::container_type::event, 0xC004, 1, {6, 6, 0, 0}, {}},
    };
    for (auto const& c : all)
    {
        ptp::byte_vector out;
        ASSERT_TRUE(fuji::encode(c, out));
        auto back = fuji::decode(out);
        ASSERT_TRUE(back);
        EXPECT_EQ(std::get<fuji::container>(*back), c);
        for (std::size_t n = 0; n < out.size(); ++n)
        {
            auto cut = out;
            cut.resize(n);
            if (n >= 4)
                ptp::writer(cut).patch_u32(0, static_cast<std::uint32_t>(n));
            auto r = fuji::decode(cut);
            EXPECT_TRUE(!r || n >= fuji::container_header_size) << n;
        }
    }
    ptp::byte_vector out;
    ASSERT_TRUE(fuji::encode(fuji::make_response(0x2001, 6, {}), out));
    EXPECT_EQ(out, from_hex("0c000000 0300 0120 06000000"));
    out.clear();
    ASSERT_TRUE(fuji::encode(fuji::make_command(0x101B, 0x0c, {1, 0, 0x100000}), out));
    EXPECT_EQ(out, from_hex("18000000 0100 1b10 0c000000 01000000 00000000 00001000"));

    out.clear();
    fuji::encode_goodbye(out);
    EXPECT_EQ(out, from_hex("08000000 ffffffff"));
    auto bye = fuji::decode(out);
    ASSERT_TRUE(bye);
    EXPECT_TRUE(std::holds_alternative<fuji::goodbye>(*bye));

    EXPECT_EQ(fuji::decode(from_hex("08000000 fffffffe")).error(), errc::bad_length);
    EXPECT_EQ(fuji::decode(from_hex("0c000000 0500 0120 00000000")).error(),
              errc::unknown_packet_type);
    EXPECT_EQ(fuji::decode(from_hex("0e000000 0300 0120 00000000 0000")).error(), errc::bad_packet);
    EXPECT_EQ(fuji::encode(fuji::make_command(1, 1, {1, 2, 3, 4, 5, 6}), out).error(),
              errc::too_many_params);
}

} // namespace
