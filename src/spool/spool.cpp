#include "spool/spool.hpp"

#include "core/fs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <vector>

namespace camrelay::spool {

std::filesystem::path path_for(std::filesystem::path const& spool_root, std::int64_t camera_id,
                               std::string const& natural_key, std::string const& object_name)
{
    auto key = sha256::hex_of(natural_key).substr(0, 16);
    return spool_root / std::to_string(camera_id) /
           (key + "-" + fs::sanitize_component(object_name));
}

result<std::unique_ptr<writer>> writer::open(std::filesystem::path final_path, bool resume)
{
    std::unique_ptr<writer> w(new writer());
    w->final_ = std::move(final_path);
    w->part_ = w->final_;
    w->part_ += ".part";
    if (auto ec = fs::make_dirs_durable(w->final_.parent_path()))
        return ec;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (resume ? 0 : O_TRUNC);
    w->fd_ = ::open(w->part_.c_str(), flags, 0644);
    if (w->fd_ < 0)
        return last_errno();
    if (resume)
    {
        // Re-hash what is already there so the final digest covers the whole file.
        int rd = ::open(w->part_.c_str(), O_RDONLY | O_CLOEXEC);
        if (rd < 0)
            return last_errno();
        std::vector<std::byte> buf(256 * 1024);
        for (;;)
        {
            ssize_t n = ::read(rd, buf.data(), buf.size());
            if (n < 0)
            {
                if (errno == EINTR)
                    continue;
                auto ec = last_errno();
                ::close(rd);
                return ec;
            }
            if (n == 0)
                break;
            w->hash_.update(std::span(buf.data(), static_cast<std::size_t>(n)));
            w->offset_ += static_cast<std::uint64_t>(n);
        }
        ::close(rd);
        if (::lseek(w->fd_, static_cast<off_t>(w->offset_), SEEK_SET) < 0)
            return last_errno();
    }
    return w;
}

writer::~writer()
{
    if (fd_ >= 0)
        ::close(fd_);
}

std::error_code writer::write(std::span<const std::byte> data)
{
    if (int e = fault::check("spool.write"))
        return {e, std::generic_category()};
    if (auto ec = fs::write_all(fd_, data))
        return ec;
    hash_.update(data);
    offset_ += data.size();
    return {};
}

result<std::string> writer::commit()
{
    if (::fsync(fd_) != 0)
        return last_errno();
    ::close(fd_);
    fd_ = -1;
    if (::rename(part_.c_str(), final_.c_str()) != 0)
        return last_errno();
    if (auto ec = fs::fsync_dir(final_.parent_path()))
        return ec;
    return sha256::to_hex(hash_.finish());
}

void writer::discard()
{
    if (fd_ >= 0)
    {
        ::close(fd_);
        fd_ = -1;
    }
    ::unlink(part_.c_str());
}

void writer::keep_partial()
{
    if (fd_ >= 0)
    {
        ::fsync(fd_);
        ::close(fd_);
        fd_ = -1;
    }
}

} // namespace camrelay::spool
