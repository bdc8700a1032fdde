#pragma once
// Just enough PNG reading for chromium's screenshots: 8-bit RGB or RGBA, not interlaced.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace s2m::test {

struct Image {
    int width = 0, height = 0;
    std::vector<uint8_t> rgb;  // width x height x 3
    const uint8_t* at(int x, int y) const { return &rgb[(size_t(y) * size_t(width) + size_t(x)) * 3]; }
    bool inside(int x, int y) const { return x >= 0 && y >= 0 && x < width && y < height; }
};

inline Image read_png(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (file.size() < 8 || file.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) throw std::runtime_error(path + ": not a PNG");
    auto be32 = [&](size_t p) {
        return uint32_t(uint8_t(file[p])) << 24 | uint32_t(uint8_t(file[p + 1])) << 16 | uint32_t(uint8_t(file[p + 2])) << 8 |
               uint32_t(uint8_t(file[p + 3]));
    };
    Image img;
    int channels = 0;
    std::string idat;
    for (size_t p = 8; p + 8 <= file.size();) {
        const uint32_t len = be32(p);
        const std::string type = file.substr(p + 4, 4);
        if (type == "IHDR") {
            img.width = int(be32(p + 8));
            img.height = int(be32(p + 12));
            const int depth = uint8_t(file[p + 16]), colour = uint8_t(file[p + 17]), interlace = uint8_t(file[p + 20]);
            if (depth != 8 || (colour != 2 && colour != 6) || interlace != 0)
                throw std::runtime_error(path + ": only 8-bit RGB/RGBA non-interlaced PNG is supported");
            channels = colour == 2 ? 3 : 4;
        } else if (type == "IDAT") {
            idat += file.substr(p + 8, len);
        } else if (type == "IEND") {
            break;
        }
        p += 12 + len;
    }
    const size_t stride = size_t(img.width) * size_t(channels);
    std::vector<uint8_t> raw((stride + 1) * size_t(img.height));
    uLongf raw_len = raw.size();
    if (uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK || raw_len != raw.size())
        throw std::runtime_error(path + ": bad image data");
    // Undo the per-row filters (PNG specification, section 9).
    std::vector<uint8_t> pixels(stride * size_t(img.height));
    for (int y = 0; y < img.height; ++y) {
        const uint8_t filter = raw[size_t(y) * (stride + 1)];
        const uint8_t* src = &raw[size_t(y) * (stride + 1) + 1];
        uint8_t* row = &pixels[size_t(y) * stride];
        const uint8_t* up = y > 0 ? &pixels[size_t(y - 1) * stride] : nullptr;
        for (size_t i = 0; i < stride; ++i) {
            const int a = i >= size_t(channels) ? row[i - size_t(channels)] : 0, b = up ? up[i] : 0,
                      c = (up && i >= size_t(channels)) ? up[i - size_t(channels)] : 0;
            int pred = 0;
            switch (filter) {
                case 0: pred = 0; break;
                case 1: pred = a; break;
                case 2: pred = b; break;
                case 3: pred = (a + b) / 2; break;
                case 4: {
                    const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
                    pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
                    break;
                }
                default: throw std::runtime_error(path + ": bad PNG row filter");
            }
            row[i] = uint8_t(src[i] + pred);
        }
    }
    img.rgb.resize(size_t(img.width) * size_t(img.height) * 3);
    for (size_t i = 0; i < size_t(img.width) * size_t(img.height); ++i)
        for (int k = 0; k < 3; ++k) img.rgb[i * 3 + size_t(k)] = pixels[i * size_t(channels) + size_t(k)];
    return img;
}

}  // namespace s2m::test
