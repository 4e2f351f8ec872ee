#include "proto/http/error.hpp"

#include <string>

namespace camrelay::proto::http
{

namespace
{

class category_impl : public std::error_category
{
  public:
    const char* name() const noexcept override { return "camrelay.http"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev))
        {
        case errc::bad_request_line:
            return "malformed HTTP request line";
        case errc::bad_method:
            return "invalid HTTP method";
        case errc::bad_target:
            return "unsupported HTTP request target";
        case errc::bad_version:
            return "unsupported HTTP version";
        case errc::bad_header:
            return "malformed HTTP header line";
        case errc::header_too_large:
            return "HTTP request head larger than the configured limit";
        case errc::body_too_large:
            return "HTTP request body larger than the configured limit";
        case errc::bad_content_length:
            return "invalid or conflicting Content-Length";
        case errc::bad_transfer_encoding:
            return "unsupported Transfer-Encoding";
        case errc::bad_chunk:
            return "malformed chunked body";
        case errc::bad_boundary:
            return "no usable multipart boundary in Content-Type";
        case errc::bad_multipart:
            return "malformed multipart body";
        case errc::part_header_too_large:
            return "multipart part headers larger than the configured limit";
        case errc::bad_part_header:
            return "malformed multipart part header";
        }
        return "unknown HTTP error";
    }
};

} // namespace

std::error_category const& category()
{
    static category_impl instance;
    return instance;
}

} // namespace camrelay::proto::http
