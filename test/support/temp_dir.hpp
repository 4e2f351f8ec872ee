// Test fixtures shared by the unit tests: a temporary folder removed on scope exit, small file
// helpers, and a scoped CAMRELAY_FAULTS setting for the fault::check seam.
#pragma once

#include "core/fs.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay::test
{

/// A fresh folder under $TMPDIR (or /tmp), removed with everything in it on destruction.
class temp_dir
{
  public:
    temp_dir()
    {
        std::string base = "/tmp";
        if (char const* t = std::getenv("TMPDIR"); t && *t)
            base = t;
        std::string pattern = base + "/camrelay-unit-XXXXXX";
        std::vector<char> buf(pattern.begin(), pattern.end());
        buf.push_back('\0');
        if (!::mkdtemp(buf.data()))
            throw std::runtime_error("mkdtemp failed for " + pattern);
        path_ = buf.data();
    }
    ~temp_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(temp_dir const&) = delete;
    temp_dir& operator=(temp_dir const&) = delete;

    std::filesystem::path const& path() const { return path_; }
    std::filesystem::path operator/(std::string_view rel) const { return path_ / rel; }

  private:
    std::filesystem::path path_;
};

/// Writes `content` to `p` (creating parent folders), replacing any existing file.
inline void write_file(std::filesystem::path const& p, std::string_view content)
{
    if (p.has_parent_path())
        std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out)
        throw std::runtime_error("cannot write " + p.string());
}

/// The whole content of `p`; throws when it cannot be read.
inline std::string read_file(std::filesystem::path const& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + p.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Every regular file below `root` (recursively), as paths relative to it, sorted.
inline std::vector<std::string> files_below(std::filesystem::path const& root)
{
    std::vector<std::string> out;
    for (auto const& e : std::filesystem::recursive_directory_iterator(root))
        if (e.is_regular_file())
            out.push_back(e.path().lexically_relative(root).string());
    std::sort(out.begin(), out.end());
    return out;
}

/// Sets CAMRELAY_FAULTS for one scope and reloads the fault table; clears both on exit.
class scoped_faults
{
  public:
    explicit scoped_faults(std::string const& spec)
    {
        ::setenv("CAMRELAY_FAULTS", spec.c_str(), 1);
        fault::reload();
    }
    ~scoped_faults()
    {
        ::unsetenv("CAMRELAY_FAULTS");
        fault::reload();
    }
    scoped_faults(scoped_faults const&) = delete;
    scoped_faults& operator=(scoped_faults const&) = delete;
};

} // namespace camrelay::test
