// Fuzzes the placeholder template parser and path-mode expansion with camera-supplied values.
// Input: TEMPLATE '\0' CAMERA_FILE_NAME '\0' CAMERA_MODEL. Properties checked:
//  * parse never crashes, whatever the template;
//  * in path mode, a camera-supplied value is one safe component: "{name}" never expands to
//    something containing '/', starting with '.', or empty;
//  * "ROOT/{camera}/{name}" always stays inside ROOT, whatever the camera says.
#include "core/asset.hpp"
#include "core/fs.hpp"
#include "core/name_template.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using camrelay::name_template;

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    std::string_view in(reinterpret_cast<char const*>(data), size);
    auto first = in.find('\0');
    std::string_view tmpl = in.substr(0, first);
    std::string_view rest = first == std::string_view::npos ? std::string_view{} : in.substr(first + 1);
    auto second = rest.find('\0');
    camrelay::asset_info a;
    a.name = std::string(rest.substr(0, second));
    a.model = second == std::string_view::npos ? std::string() : std::string(rest.substr(second + 1));
    a.camera_name = a.model;
    a.folder = "/DCIM/100TEST";
    a.capture_time = 1714564801;
    a.size = size;
    a.seq = 7;

    name_template t;
    std::string error;
    if (name_template::parse(tmpl, t, error))
    {
        (void)t.expand(a, name_template::mode::path);
        (void)t.expand(a, name_template::mode::literal);
        (void)t.fixed_prefix_dir();
    }

    name_template name_only;
    if (!name_template::parse("{name}", name_only, error))
        std::abort();
    auto component = name_only.expand(a, name_template::mode::path);
    if (component.empty() || component.find('/') != std::string::npos || component.front() == '.')
        std::abort();

    name_template nested;
    if (!name_template::parse("/srv/photos/{camera}/{name}", nested, error))
        std::abort();
    auto path = nested.expand(a, name_template::mode::path);
    if (!camrelay::fs::is_within(nested.fixed_prefix_dir(), path))
        std::abort();
    return 0;
}
