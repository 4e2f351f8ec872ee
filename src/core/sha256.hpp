// Streaming SHA-256 (OpenSSL EVP), so content is hashed while it moves and never held whole.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace camrelay {

class sha256
{
public:
    using digest = std::array<std::uint8_t, 32>;

    sha256();
    ~sha256();
    sha256(sha256 const&) = delete;
    sha256& operator=(sha256 const&) = delete;

    void update(std::span<const std::byte> data);
    void update(std::string_view text);
    /// Finishes the hash; the object must not be updated afterwards.
    digest finish();

    static std::string to_hex(digest const& d);
    /// Hashes a whole file by streaming it in 256 KiB blocks. Empty string on I/O error.
    static std::string hex_of_file(std::string const& path);
    static std::string hex_of(std::string_view text);

private:
    struct state;
    std::unique_ptr<state> state_;
};

} // namespace camrelay
