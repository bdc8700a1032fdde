#pragma once
// Small integer hashes for keying random streams (a window's noise, a training window's draws):
// splitmix64's finaliser and 64-bit FNV-1a of a name.
#include <cstdint>
#include <string>

namespace s2m {

inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

inline uint64_t name_hash(const std::string& s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

}  // namespace s2m
