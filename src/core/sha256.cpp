#include "core/sha256.hpp"

#include <openssl/evp.h>

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

namespace camrelay {

struct sha256::state
{
    EVP_MD_CTX* ctx = nullptr;
};

sha256::sha256() : state_(std::make_unique<state>())
{
    state_->ctx = EVP_MD_CTX_new();
    if (!state_->ctx || EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("OpenSSL SHA-256 initialisation failed");
}

sha256::~sha256()
{
    EVP_MD_CTX_free(state_->ctx);
}

void sha256::update(std::span<const std::byte> data)
{
    EVP_DigestUpdate(state_->ctx, data.data(), data.size());
}

void sha256::update(std::string_view text)
{
    EVP_DigestUpdate(state_->ctx, text.data(), text.size());
}

sha256::digest sha256::finish()
{
    digest d{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(state_->ctx, d.data(), &len);
    return d;
}

std::string sha256::to_hex(digest const& d)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(d.size() * 2);
    for (auto b : d)
    {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 0xF]);
    }
    return out;
}

std::string sha256::hex_of_file(std::string const& path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return {};
    sha256 h;
    std::vector<std::byte> buf(256 * 1024);
    for (;;)
    {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0)
        {
            if (errno == EINTR)
                continue;
            ::close(fd);
            return {};
        }
        if (n == 0)
            break;
        h.update(std::span(buf.data(), static_cast<std::size_t>(n)));
    }
    ::close(fd);
    return to_hex(h.finish());
}

std::string sha256::hex_of(std::string_view text)
{
    sha256 h;
    h.update(text);
    return to_hex(h.finish());
}

} // namespace camrelay
