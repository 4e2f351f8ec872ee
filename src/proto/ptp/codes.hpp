// PTP code tables (ISO 15740 / PIMA 15740, PTP 1.1 additions, Fujifilm vendor codes).
//
// Every constant keeps the spec's identity: the enumerator is the spec name in snake_case, the
// value is the wire value, and the trailing comment gives the spec spelling, so grepping a
// capture's hex (e.g. "0x1008") finds it. Codes are `enum class` with a fixed underlying type: any
// wire value, including vendor codes not listed here, is representable
// (`static_cast<op_code>(0x9999)`). Sources: shared/protocols/ptpip-fuji.md §1.2, §3 (code tables).
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

namespace camrelay::proto::ptp
{

/// The wire value of any code enum.
template <class Enum> constexpr std::underlying_type_t<Enum> to_underlying(Enum e) noexcept
{
    return static_cast<std::underlying_type_t<Enum>>(e);
}

/// Operation codes (ISO 15740 §10.4; Fuji vendor range 0x9xxx).
enum class op_code : std::uint16_t
{
    undefined = 0x1000,               // Undefined
    get_device_info = 0x1001,         // GetDeviceInfo
    open_session = 0x1002,            // OpenSession
    close_session = 0x1003,           // CloseSession
    get_storage_ids = 0x1004,         // GetStorageIDs
    get_storage_info = 0x1005,        // GetStorageInfo
    get_num_objects = 0x1006,         // GetNumObjects
    get_object_handles = 0x1007,      // GetObjectHandles
    get_object_info = 0x1008,         // GetObjectInfo
    get_object = 0x1009,              // GetObject
    get_thumb = 0x100A,               // GetThumb
    delete_object = 0x100B,           // DeleteObject
    send_object_info = 0x100C,        // SendObjectInfo
    send_object = 0x100D,             // SendObject
    initiate_capture = 0x100E,        // InitiateCapture
    format_store = 0x100F,            // FormatStore
    reset_device = 0x1010,            // ResetDevice
    self_test = 0x1011,               // SelfTest
    set_object_protection = 0x1012,   // SetObjectProtection
    power_down = 0x1013,              // PowerDown
    get_device_prop_desc = 0x1014,    // GetDevicePropDesc
    get_device_prop_value = 0x1015,   // GetDevicePropValue
    set_device_prop_value = 0x1016,   // SetDevicePropValue
    reset_device_prop_value = 0x1017, // ResetDevicePropValue
    terminate_open_capture = 0x1018,  // TerminateOpenCapture
    move_object = 0x1019,             // MoveObject
    copy_object = 0x101A,             // CopyObject
    get_partial_object = 0x101B,      // GetPartialObject
    initiate_open_capture = 0x101C,   // InitiateOpenCapture

    fuji_send_object_info = 0x900C,        // Fuji SendObjectInfo
    fuji_send_object2 = 0x900D,            // Fuji SendObject2
    fuji_send_object = 0x901D,             // Fuji SendObject
    fuji_initiate_movie_capture = 0x9020,  // Fuji InitiateMovieCapture
    fuji_terminate_movie_capture = 0x9021, // Fuji TerminateMovieCapture
    fuji_get_capture_preview = 0x9022,     // Fuji GetCapturePreview
    fuji_set_focus_point = 0x9026,         // Fuji SetFocusPoint (LockS1Lock)
    fuji_reset_focus_point = 0x9027,       // Fuji ResetFocusPoint (UnlockS1Lock)
    fuji_get_device_info = 0x902B,         // Fuji "GetDeviceInfo": list of DevicePropDesc
    fuji_step_shutter_speed = 0x902C,      // Fuji StepShutterSpeed
    fuji_step_f_number = 0x902D,           // Fuji StepFNumber
    fuji_step_exposure_bias = 0x902E,      // Fuji StepExposureBias
    fuji_cancel_initiate_capture = 0x9030, // Fuji CancelInitiateCapture

    mtp_get_partial_object_64 = 0x95C1,      // MTP GetPartialObject64 (handle, offset lo, hi, max)
    mtp_get_object_props_supported = 0x9801, // MTP GetObjectPropsSupported
    mtp_get_object_prop_desc = 0x9802,       // MTP GetObjectPropDesc
    mtp_get_object_prop_value = 0x9803,      // MTP GetObjectPropValue
    mtp_get_object_prop_list = 0x9805,       // MTP GetObjectPropList
};

/// MTP object property codes (MTP 1.1 Appendix B), as GetObjectPropValue's second parameter.
enum class object_prop : std::uint16_t
{
    object_size = 0xDC04, // ObjectSize (UINT64: the size ObjectInfo cannot hold past 4 GiB)
};

/// Response codes (ISO 15740 §11; PTP 1.1 0x2021-0x2023).
enum class response_code : std::uint16_t
{
    undefined = 0x2000,                                // Undefined
    ok = 0x2001,                                       // OK
    general_error = 0x2002,                            // General_Error
    session_not_open = 0x2003,                         // Session_Not_Open
    invalid_transaction_id = 0x2004,                   // Invalid_TransactionID
    operation_not_supported = 0x2005,                  // Operation_Not_Supported
    parameter_not_supported = 0x2006,                  // Parameter_Not_Supported
    incomplete_transfer = 0x2007,                      // Incomplete_Transfer
    invalid_storage_id = 0x2008,                       // Invalid_StorageID
    invalid_object_handle = 0x2009,                    // Invalid_ObjectHandle
    device_prop_not_supported = 0x200A,                // DeviceProp_Not_Supported
    invalid_object_format_code = 0x200B,               // Invalid_ObjectFormatCode
    store_full = 0x200C,                               // Store_Full
    object_write_protected = 0x200D,                   // Object_WriteProtected
    store_read_only = 0x200E,                          // Store_Read_Only
    access_denied = 0x200F,                            // Access_Denied
    no_thumbnail_present = 0x2010,                     // No_Thumbnail_Present
    self_test_failed = 0x2011,                         // SelfTest_Failed
    partial_deletion = 0x2012,                         // Partial_Deletion
    store_not_available = 0x2013,                      // Store_Not_Available
    specification_by_format_unsupported = 0x2014,      // Specification_By_Format_Unsupported
    no_valid_object_info = 0x2015,                     // No_Valid_ObjectInfo
    invalid_code_format = 0x2016,                      // Invalid_Code_Format
    unknown_vendor_code = 0x2017,                      // Unknown_Vendor_Code
    capture_already_terminated = 0x2018,               // Capture_Already_Terminated
    device_busy = 0x2019,                              // Device_Busy
    invalid_parent_object = 0x201A,                    // Invalid_ParentObject
    invalid_device_prop_format = 0x201B,               // Invalid_DeviceProp_Format
    invalid_device_prop_value = 0x201C,                // Invalid_DeviceProp_Value
    invalid_parameter = 0x201D,                        // Invalid_Parameter
    session_already_open = 0x201E,                     // Session_Already_Open
    transaction_cancelled = 0x201F,                    // Transaction_Cancelled
    specification_of_destination_unsupported = 0x2020, // Specification_of_Destination_Unsupported
    invalid_enum_handle = 0x2021,                      // Invalid_EnumHandle (PTP 1.1)
    no_stream_enabled = 0x2022,                        // No_Stream_Enabled (PTP 1.1)
    invalid_data_set = 0x2023,                         // Invalid_DataSet (PTP 1.1)
};

/// Event codes (ISO 15740 §12; Fuji 0xC0xx).
enum class event_code : std::uint16_t
{
    undefined = 0x4000,               // Undefined
    cancel_transaction = 0x4001,      // CancelTransaction
    object_added = 0x4002,            // ObjectAdded (p1 = handle)
    object_removed = 0x4003,          // ObjectRemoved
    store_added = 0x4004,             // StoreAdded
    store_removed = 0x4005,           // StoreRemoved
    device_prop_changed = 0x4006,     // DevicePropChanged
    object_info_changed = 0x4007,     // ObjectInfoChanged
    device_info_changed = 0x4008,     // DeviceInfoChanged
    request_object_transfer = 0x4009, // RequestObjectTransfer
    store_full = 0x400A,              // StoreFull
    device_reset = 0x400B,            // DeviceReset
    storage_info_changed = 0x400C,    // StorageInfoChanged
    capture_complete = 0x400D,        // CaptureComplete
    unreported_status = 0x400E,       // UnreportedStatus
    fuji_preview_available = 0xC001,  // Fuji PreviewAvailable (a param carries the preview size)
    fuji_object_added = 0xC004,       // Fuji ObjectAdded (no usable handle in the params)
    fuji_c006 = 0xC006,               // Fuji, listed in op tables, meaning unknown
};

/// Object format codes (ISO 15740 §6.2; vendor range: 0xB103 is Fuji RAF *for Fuji*).
enum class object_format : std::uint16_t
{
    undefined = 0x3000,       // Undefined (non-image)
    association = 0x3001,     // Association (folder)
    script = 0x3002,          // Script
    executable = 0x3003,      // Executable
    text = 0x3004,            // Text
    html = 0x3005,            // HTML
    dpof = 0x3006,            // DPOF
    aiff = 0x3007,            // AIFF
    wav = 0x3008,             // WAV
    mp3 = 0x3009,             // MP3
    avi = 0x300A,             // AVI
    mpeg = 0x300B,            // MPEG
    asf = 0x300C,             // ASF
    quicktime = 0x300D,       // QuickTime / MOV (libgphoto2: "guessing")
    image_undefined = 0x3800, // Undefined image
    exif_jpeg = 0x3801,       // EXIF/JPEG
    tiff_ep = 0x3802,         // TIFF/EP
    flashpix = 0x3803,        // FlashPix
    bmp = 0x3804,             // BMP
    ciff = 0x3805,            // CIFF
    gif = 0x3807,             // GIF
    jfif = 0x3808,            // JFIF
    pcd = 0x3809,             // PCD
    pict = 0x380A,            // PICT
    png = 0x380B,             // PNG
    tiff = 0x380D,            // TIFF
    tiff_it = 0x380E,         // TIFF/IT
    jp2 = 0x380F,             // JP2
    jpx = 0x3810,             // JPX
    dng = 0x3811,             // DNG
    heif = 0x3812,            // (probably HEIF; in X-T5 capture formats, unverified)
    fuji_raf = 0xB103, // Fuji RAF (0xB103 means Canon CRW3 on Canon: interpret with the vendor)
    fuji_thumb_b901 = 0xB901, // ThumbFormat seen in X-T10 ObjectInfo, not a standard code
    mtp_mp4 = 0xB982,         // MTP MP4
    fuji_fff1 = 0xFFF1,       // defined by fudge as a Fuji format, meaning unknown
};

/// Device property codes: standard 0x50xx and the Fuji Wi-Fi control properties (fudge names;
/// libgphoto2 / ptp-ip names in the comment where they differ).
enum class device_prop : std::uint16_t
{
    undefined = 0x5000,                  // Undefined
    battery_level = 0x5001,              // BatteryLevel
    functional_mode = 0x5002,            // FunctionalMode
    image_size = 0x5003,                 // ImageSize
    compression_setting = 0x5004,        // CompressionSetting
    white_balance = 0x5005,              // WhiteBalance
    rgb_gain = 0x5006,                   // RGBGain
    f_number = 0x5007,                   // FNumber
    focal_length = 0x5008,               // FocalLength
    focus_distance = 0x5009,             // FocusDistance
    focus_mode = 0x500A,                 // FocusMode
    exposure_metering_mode = 0x500B,     // ExposureMeteringMode
    flash_mode = 0x500C,                 // FlashMode
    exposure_time = 0x500D,              // ExposureTime
    exposure_program_mode = 0x500E,      // ExposureProgramMode
    exposure_index = 0x500F,             // ExposureIndex
    exposure_bias_compensation = 0x5010, // ExposureBiasCompensation
    date_time = 0x5011,                  // DateTime
    capture_delay = 0x5012,              // CaptureDelay

    fuji_film_simulation = 0xD001,          // Fuji FilmSimulation
    fuji_image_quality = 0xD018,            // Fuji ImageQuality
    fuji_rec_mode = 0xD019,                 // Fuji RecMode
    fuji_command_dial_mode = 0xD028,        // Fuji CommandDialMode
    fuji_exposure_index = 0xD02A,           // Fuji ExposureIndex / ISO (bit31 auto, bit30 emulated)
    fuji_movie_iso = 0xD02B,                // Fuji MovieISO
    fuji_image_size = 0xD174,               // Fuji ImageSize
    fuji_focus_point = 0xD17C,              // Fuji FocusMeteringMode / focus point
    fuji_priority_mode = 0xD207,            // Fuji PriorityMode (1 camera, 2 PC)
    fuji_release_control = 0xD208,          // Fuji release control
    fuji_af_status = 0xD209,                // Fuji AFStatus / FocusLock
    fuji_free_sdram_images = 0xD20E,        // Fuji FreeSDRAMImages (tether: new image waiting)
    fuji_events_list = 0xD212,              // Fuji EventsList [CurrentState]: polled change list
    fuji_device_error = 0xD21B,             // Fuji DeviceError
    fuji_selected_imgs_mode = 0xD220,       // Fuji SelectedImgsMode
    fuji_object_count = 0xD222,             // Fuji ObjectCount: handles are 1..N
    fuji_compress_small = 0xD226,           // Fuji CompressSmall (1 = resized JPEG)
    fuji_enable_correct_file_size = 0xD227, // Fuji EnableCorrectFileSize (1 = real ObjectInfo size)
    fuji_auto_save_database_status = 0xD228, // Fuji AutoSaveDatabaseStatus
    fuji_captures_remaining = 0xD229,        // Fuji CapturesRemaining
    fuji_movie_remaining_time = 0xD22A,      // Fuji MovieRemainingTime
    fuji_compression_cut_off = 0xD235,       // Fuji CompressionCutOff
    fuji_shutter_speed = 0xD240,             // Fuji ShutterSpeed
    fuji_image_aspect_ratio = 0xD241,        // Fuji ImageAspectRatio
    fuji_battery_level = 0xD242,             // Fuji BatteryLevel
    fuji_storage_id = 0xD244,                // Fuji StorageID (slot)
    fuji_d246 = 0xD246,                      // Fuji, unknown (DriveMode?)
    fuji_selected_imgs_mode2 = 0xD400,       // Fuji SelectedImgsMode2?
    fuji_object_count2 = 0xD401,             // Fuji ObjectCount2
    fuji_geolocation = 0xD500,               // Fuji Geolocation (PTP string)
    fuji_d52f = 0xD52F,                      // Fuji, unknown
    fuji_camera_state = 0xDF00,              // Fuji CameraState
    fuji_client_state = 0xDF01,              // Fuji ClientState [InitSequence]
    fuji_image_get_version = 0xDF21,         // Fuji ImageGetVersion ("receive")
    fuji_get_object_version = 0xDF22,        // Fuji GetObjectVersion ("browse")
    fuji_auto_save_version = 0xDF23,         // Fuji AutoSaveVersion
    fuji_remote_version = 0xDF24,            // Fuji RemoteVersion [AppVersion]
    fuji_remote_get_object_version = 0xDF25, // Fuji RemoteGetObjectVersion
    fuji_photo_receive_reserved = 0xDF26,    // Fuji PhotoReceiveReserved
    fuji_df28 = 0xDF28,                      // Fuji (XApp)
    fuji_geo_tag_version = 0xDF31,           // Fuji GeoTagVersion
    fuji_df44 = 0xDF44,                      // Fuji, unknown
};

/// Values of Fuji 0xDF00 CameraState (fudge; X-T10 showed 8 in "receive", meaning unsure).
enum class fuji_camera_state : std::uint16_t
{
    wait_for_user = 0,     // waiting for the user to press OK on the camera
    multiple_transfer = 1, // camera-selected multiple transfer
    full_access = 2,       // browse
    pc_auto_save = 3,      // PC AutoSave
    remote_access = 6,     // remote access (+ browse)
};

/// Values written to Fuji 0xDF01 ClientState (fudge; values >= 9 largely untested).
enum class fuji_client_state : std::uint16_t
{
    view_multiple = 1,             // view multiple (camera-selected transfer)
    view_all_images = 2,           // view all images (browse)
    pc_auto_save = 3,              // PC AutoSave / "old remote" on X-T1
    remote = 5,                    // remote
    client_error = 7,              // client error
    multiple_transfer_request = 8, // multiple-transfer request (hkr: X-T10 receive/browse)
    gps_assist_v2 = 10,            // GPS assist v2 (hkr: geo mode)
    remote_image_view = 11,        // remote image view
};

/// PTP data type codes (ISO 15740 §5.3); arrays are 0x4000 | element type.
enum class data_type : std::uint16_t
{
    undefined = 0x0000,  // UNDEF
    int8 = 0x0001,       // INT8
    uint8 = 0x0002,      // UINT8
    int16 = 0x0003,      // INT16
    uint16 = 0x0004,     // UINT16
    int32 = 0x0005,      // INT32
    uint32 = 0x0006,     // UINT32
    int64 = 0x0007,      // INT64
    uint64 = 0x0008,     // UINT64
    int128 = 0x0009,     // INT128
    uint128 = 0x000A,    // UINT128
    array_flag = 0x4000, // AINT8.. = 0x4000 | element type
    string = 0xFFFF,     // STR
};

/// Vendor extension IDs (DeviceInfo.VendorExtensionID).
enum class vendor_extension : std::uint32_t
{
    eastman_kodak = 0x00000001, // Eastman Kodak
    microsoft = 0x00000006,     // Microsoft (what Fuji reports over Wi-Fi and USB)
    nikon = 0x0000000A,         // Nikon
    canon = 0x0000000B,         // Canon
    fuji = 0x0000000E,          // Fuji (libgphoto2 remaps 6 -> 0xE for Fuji USB only)
    sony = 0x00000011,          // Sony (libgphoto2: "observed in the A900")
};

/// Special parameter values.
inline constexpr std::uint32_t all_storages = 0xFFFFFFFF;   // GetObjectHandles StorageID: all
inline constexpr std::uint32_t root_parent = 0xFFFFFFFF;    // GetObjectHandles Parent: root only
inline constexpr std::uint32_t no_transaction = 0xFFFFFFFF; // event tid not tied to a transaction

} // namespace camrelay::proto::ptp
