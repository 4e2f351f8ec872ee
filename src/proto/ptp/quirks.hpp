// Device quirks of PTP and PTP/IP cameras, as named flags (the libgphoto2 device-flags.h idea).
//
// Each flag has a paragraph: which devices, which firmware if known, the symptom, and the source
// in shared/protocols/ptpip-fuji.md. Flags are grown only from captured traffic or logs. The layer
// that acts on a flag is named in its paragraph: "session" = proto::ptpip::session acts on it;
// "client" = the Asio source built on top of the session (later work) must act on it.
//
// Deviations inside datasets (short ObjectInfo, empty DeviceInfo, padding, strings without NUL,
// odd event lengths) are not flags: every decoder tolerates them for every camera and counts
// them by name; see proto/ptp/leniency.hpp, one paragraph per leniency.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace camrelay::proto::ptp
{

enum class quirk : std::uint32_t
{
    /// Fujifilm X Wi-Fi (all bodies seen: X-T1, X-T10, X-T100, X-T2, X-T20, X-T4, X-T5): the Init
    /// Fail reason is a PTP response code, not a PTP/IP reason: 0x2019 DeviceBusy = the camera
    /// knows a different client name or timed out ("Change"/"Retry" on the camera), 0x201D
    /// InvalidParameter = wrong init magic. §1.3.2 (ptp-ip packets_fuji.go, hkr). Session: reports
    /// it in `init_failed::reason` unchanged and classifies 0x2019 as retryable.
    init_fail_is_response_code = 1u << 0,

    /// Fujifilm (fudge, hkr clients): after CloseSession the client sends the 8-byte packet
    /// `08000000 ffffffff` before closing TCP. libgphoto2 does not send it and still works, so it
    /// is politeness rather than required. §1.3.3. Session: appends it to the output on close().
    send_goodbye = 1u << 1,

    /// Fujifilm: "Fuji cameras require at least 50ms delay after init" (fudge; it waits >= 50 ms
    /// after the Init Ack before OpenSession). §1.3.2. Session: holds the first request until
    /// `fuji_post_init_delay` has passed (decided in on_tick).
    wait_after_init_ack = 1u << 2,

    /// Fujifilm: OpenSession may be answered 0x201E SessionAlreadyOpened when the camera kept an
    /// old session (fudge tolerates it). §1.3.3. Session: treats 0x201E on OpenSession as opened
    /// (the transaction_done event still carries the real code).
    session_already_open_is_ok = 1u << 3,

    /// Fujifilm X-T1 (ptp-ip): requests always carry 5 parameter slots (length 0x20, unused zero);
    /// reported working on an X-T1, while libgphoto2/hkr/fudge send only the used ones and work on
    /// X-T10/X-T1/X-T4/X-H1. Off by default. §1.3.3. Session: pads command containers to 5 params.
    pad_request_params = 1u << 4,

    /// Fujifilm X-T4 (libgphoto2 2.5.30 fujiptpip.c): GetDeviceInfo over Wi-Fi returns an EMPTY
    /// data container; libgphoto2 then synthesises a DeviceInfo. §2.B step 8. Decoder: accepts
    /// it as a default device_info and counts leniency::device_info_empty (leniency.hpp).
    /// Client: fall back to the model from the Init Ack.
    empty_device_info = 1u << 5,

    /// Fujifilm browse mode (fudge, hkr X-T10 trace): ObjectInfo.ObjectCompressedSize is the
    /// placeholder 102400 (0x19000) until property 0xD227 EnableCorrectFileSize is set to 1; set it
    /// before GetObjectInfo/GetPartialObject and back to 0 afterwards (leaving it at 1 makes the
    /// camera's gallery slow). §2.A steps 10-14. Client.
    placeholder_object_size = 1u << 6,

    /// Fujifilm browse mode: no GetObjectHandles; handles are 1..N where N is property 0xD222
    /// ObjectCount from the 0xD212 poll, and GetStorageIDs returns no storage over Wi-Fi (X-T2
    /// fudge log). §2.A step 9. Client.
    object_handles_from_count = 1u << 7,

    /// Fujifilm bodies with RemoteVersion > 0x20006 (fudge): GetThumb blocks unless GetObjectInfo
    /// for the same handle came first (X-T5 log: GetThumb ignored twice). §2.A step 10. Client.
    thumb_needs_object_info = 1u << 8,

    /// Fujifilm reports VendorExtensionID 0x00000006 (Microsoft) with description
    /// "fujifilm.co.jp: 1.0; " (X-H1 dump, X-T20); identify Fuji by the description or the
    /// manufacturer string, not by the vendor id. §1.2. Client.
    vendor_id_is_microsoft = 1u << 9,

    /// Ricoh THETA (libgphoto2): the event port refuses the first connects right after the Init
    /// Command Ack; retry twice after 100 ms on ECONNREFUSED. §1.1. Driver (socket layer).
    event_connect_retry = 1u << 10,

    /// Canon EOS M10 (libgphoto2 issue #239): the command connection is dropped if the event
    /// connection is not established within a few seconds of the Init Command Ack. §1.1. Driver:
    /// open the event connection immediately after the Ack.
    event_channel_deadline = 1u << 11,
};

/// A set of quirk flags.
class quirk_set
{
  public:
    constexpr quirk_set() = default;
    constexpr quirk_set(std::initializer_list<quirk> qs)
    {
        for (auto q : qs)
            bits_ |= static_cast<std::uint32_t>(q);
    }
    constexpr bool has(quirk q) const { return (bits_ & static_cast<std::uint32_t>(q)) != 0; }
    constexpr quirk_set& set(quirk q, bool on = true)
    {
        if (on)
            bits_ |= static_cast<std::uint32_t>(q);
        else
            bits_ &= ~static_cast<std::uint32_t>(q);
        return *this;
    }
    constexpr std::uint32_t bits() const { return bits_; }
    friend constexpr bool operator==(quirk_set, quirk_set) = default;

  private:
    std::uint32_t bits_ = 0;
};

/// What every Fujifilm X Wi-Fi body seen so far needs (pad_request_params stays off).
inline constexpr quirk_set fuji_x_wifi_quirks{
    quirk::init_fail_is_response_code, quirk::send_goodbye,
    quirk::wait_after_init_ack,        quirk::session_already_open_is_ok,
    quirk::empty_device_info,          quirk::placeholder_object_size,
    quirk::object_handles_from_count,  quirk::thumb_needs_object_info,
    quirk::vendor_id_is_microsoft,
};

} // namespace camrelay::proto::ptp
