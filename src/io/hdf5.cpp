// The only file that talks to HDF5 (C++ API). Layout: src/io/README-dataset.md.
#include <H5Cpp.h>

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <thread>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/io/dataset.hpp"
#include "step2motion/io/moticon.hpp"

namespace s2m::io {

namespace {

const char* const kFormatName = "step2motion-dataset";
// Size of the file being read: what any count or extent it claims is checked against.
thread_local hsize_t g_file_bytes = 0;
// Raw bytes of that file: (offset, count) → up to count bytes (set when the file is opened).
thread_local std::function<std::string(uint64_t, size_t)> g_file_read;

// Sizes in bytes of file addresses and lengths, from the superblock at offset 0 (versions 0/1:
// bytes 13/14; 2/3: bytes 9/10); {0, 0} when it cannot be read.
struct FieldSizes {
    unsigned offsets = 0, lengths = 0;
};
FieldSizes superblock_field_sizes() {
    const std::string sb = g_file_read ? g_file_read(0, 16) : std::string();
    if (sb.size() < 16) return {};
    const bool v01 = static_cast<unsigned char>(sb[8]) < 2;
    return {static_cast<unsigned char>(sb[v01 ? 13 : 9]), static_cast<unsigned char>(sb[v01 ? 14 : 10])};
}

uint64_t file_bytes(const std::string& path) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path, ec);
    return ec ? 0 : static_cast<uint64_t>(n);
}
constexpr hsize_t kMaxInflation = 1100;
const char* const kPoseLayout =
    "66 = root displacement from the previous frame (x, y, z; world, metres) + 21 non-root joints "
    "(joints 1..21 of /skeleton/joint_names, x y z each) relative to the root, world-oriented, metres";
const char* const kInsoleLayout =
    "50 = left 25 then right 25: pressure 1..16 [N/cm2], acceleration x y z [g, world frame, 1 g removed from "
    "world up], angular rate x y z [deg/s, insole frame], total force [N], centre of pressure x y [normalised]";

// Clip group names: HDF5 reserves '/', so "S1/walk_1" becomes "S1__walk_1" (the name attribute keeps it).
std::string group_name(const std::string& name, size_t index) {
    std::string g;
    for (char c : name) g += c == '/' ? std::string("__") : std::string(1, c);
    if (g.empty() || g == "." ) g = "clip";
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "%05zu_", index);
    return prefix + g;
}

void attr_str(H5::H5Object& o, const char* name, const std::string& value) {
    H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
    t.setCset(H5T_CSET_UTF8);
    H5::Attribute a = o.createAttribute(name, t, H5::DataSpace(H5S_SCALAR));
    const char* p = value.c_str();
    a.write(t, &p);
}
void attr_double(H5::H5Object& o, const char* name, double v) {
    o.createAttribute(name, H5::PredType::NATIVE_DOUBLE, H5::DataSpace(H5S_SCALAR)).write(H5::PredType::NATIVE_DOUBLE, &v);
}
void attr_long(H5::H5Object& o, const char* name, long v) {
    o.createAttribute(name, H5::PredType::NATIVE_LONG, H5::DataSpace(H5S_SCALAR)).write(H5::PredType::NATIVE_LONG, &v);
}

std::string get_str(const H5::H5Object& o, const char* name) {
    if (!o.attrExists(name)) return "";
    H5::Attribute a = o.openAttribute(name);
    H5::StrType t = a.getStrType();
    std::string s;
    a.read(t, s);
    return s;
}
double get_double(const H5::H5Object& o, const char* name, double fallback = 0) {
    if (!o.attrExists(name)) return fallback;
    double v = fallback;
    o.openAttribute(name).read(H5::PredType::NATIVE_DOUBLE, &v);
    return v;
}
long get_long(const H5::H5Object& o, const char* name, long fallback = 0) {
    if (!o.attrExists(name)) return fallback;
    long v = fallback;
    o.openAttribute(name).read(H5::PredType::NATIVE_LONG, &v);
    return v;
}

// Chunked, shuffled and deflated 2-D array.
template <typename T>
H5::DataSet write_matrix(H5::Group& g, const char* name, const H5::PredType& type, const T* data, hsize_t rows,
                         hsize_t cols, bool compress = true) {
    const hsize_t dims[2] = {rows, cols};
    H5::DataSpace space(cols ? 2 : 1, dims);
    H5::DSetCreatPropList plist;
    if (compress && rows > 0) {
        const hsize_t chunk[2] = {std::min<hsize_t>(rows, 1024), cols};
        plist.setChunk(2, chunk);
        plist.setShuffle();
        plist.setDeflate(1);  // level 1: nearly the ratio of 4-9 on shuffled floats, several times faster
    }
    H5::DataSet ds = g.createDataSet(name, type, space, plist);
    if (rows > 0) ds.write(data, type);
    return ds;
}

template <typename T>
std::vector<T> read_array(const H5::Group& g, const char* name, const H5::PredType& type, std::vector<hsize_t>& dims,
                          const std::string& file, const std::string& where) {
    if (!g.nameExists(name)) fail_input(file, 0, where + ": missing dataset '" + name + "'");
    H5::DataSet ds = g.openDataSet(name);
    H5::DataSpace sp = ds.getSpace();
    const int rank = sp.getSimpleExtentNdims();
    dims.assign(static_cast<size_t>(rank), 0);
    sp.getSimpleExtentDims(dims.data());
    // The extent is the file's claim: it must fit what the dataset stores before anything is allocated
    // (deflate packs at most ~1032:1; our files are 4-9:1), so memory stays proportional to the file.
    hsize_t total = 1;
    for (hsize_t d : dims) {
        if (d != 0 && total > std::numeric_limits<hsize_t>::max() / d)
            fail_input(file, 0, where + "/" + name + ": dimensions overflow");
        total *= d;
    }
    const hsize_t stored = std::min<hsize_t>(ds.getStorageSize(), g_file_bytes);
    if (total > (stored * kMaxInflation + 4096) / sizeof(T))
        fail_input(file, 0, where + "/" + name + ": claims " + std::to_string(total) + " values but stores " +
                                std::to_string(stored) + " bytes");
    std::vector<T> out(total);
    if (total) ds.read(out.data(), type);
    return out;
}

void write_strings(H5::Group& g, const char* name, const std::vector<std::string>& v) {
    H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
    t.setCset(H5T_CSET_UTF8);
    const hsize_t n = v.size();
    H5::DataSet ds = g.createDataSet(name, t, H5::DataSpace(1, &n));
    std::vector<const char*> p;
    for (const auto& s : v) p.push_back(s.c_str());
    if (n) ds.write(p.data(), t);
    ds.close();  // closed here, so that a failure throws (a destructor only prints it)
}

// libhdf5 1.10 allocates and zero-fills a buffer of the length a variable-length string's
// descriptor claims before reading the string (found by fuzzing: 2 GB for a 34 KB file). The
// descriptors (4-byte length, heap address, 4-byte index) are read from the file first and each
// length checked against the file's size; string lists are stored contiguously.
void check_string_lengths(const H5::DataSet& ds, hsize_t n, const std::string& file, const char* name) {
    if (n == 0 || !g_file_read) return;
    const haddr_t at = H5Dget_offset(ds.getId());
    if (at == HADDR_UNDEF) fail_input(file, 0, std::string("'") + name + "': expected a contiguous list of strings");
    const unsigned offsets = superblock_field_sizes().offsets;
    if (offsets == 0) return;
    const uint64_t element = 4 + offsets + 4;
    const std::string raw = g_file_read(at, static_cast<size_t>(n * element));
    if (raw.size() != n * element) fail_input(file, 0, std::string("'") + name + "': its strings lie beyond the end of the file");
    for (hsize_t i = 0; i < n; ++i) {
        uint32_t length = 0;
        std::memcpy(&length, raw.data() + i * element, 4);  // little-endian, as HDF5 stores it
        if (length > g_file_bytes)
            fail_input(file, 0, std::string("'") + name + "': string " + std::to_string(i) + " claims " +
                                    std::to_string(length) + " bytes, more than the file holds");
    }
}

std::vector<std::string> read_strings(const H5::Group& g, const char* name, const std::string& file) {
    if (!g.nameExists(name)) fail_input(file, 0, std::string("missing dataset '") + name + "'");
    H5::DataSet ds = g.openDataSet(name);
    H5::DataSpace sp = ds.getSpace();
    if (sp.getSimpleExtentNdims() != 1) fail_input(file, 0, std::string("'") + name + "': expected a list of strings");
    hsize_t n = 0;
    sp.getSimpleExtentDims(&n);
    // Every variable-length string takes at least 16 bytes of the file.
    if (n > g_file_bytes / 16) fail_input(file, 0, std::string("'") + name + "': claims more strings than the file holds");
    check_string_lengths(ds, n, file, name);
    H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
    std::vector<char*> p(n, nullptr);
    if (n) ds.read(p.data(), t);
    std::vector<std::string> out;
    for (char* s : p) out.emplace_back(s ? s : "");
    if (n) H5::DataSet::vlenReclaim(p.data(), t, ds.getSpace());
    return out;
}

void check_format(const H5::H5File& f, const std::string& path) {
    if (get_str(f, "format") != kFormatName)
        fail_input(path, 0, "not a step2motion dataset (no format=\"step2motion-dataset\" attribute)");
    const long v = get_long(f, "format_version");
    if (v < 1 || v > kDatasetFormatVersion)
        fail_input(path, 0, "dataset format version " + std::to_string(v) + " is not supported (this build reads up to " +
                                std::to_string(kDatasetFormatVersion) + ")");
}

std::vector<std::string> clip_groups(const H5::Group& clips) {
    std::vector<std::string> names;
    for (hsize_t i = 0; i < clips.getNumObjs(); ++i) names.push_back(clips.getObjnameByIdx(i));
    std::sort(names.begin(), names.end());  // the index prefix keeps the original order
    return names;
}

uint64_t decode_le(const std::string& b, size_t at, unsigned bytes) {
    uint64_t v = 0;
    for (unsigned k = 0; k < bytes; ++k) v |= uint64_t(static_cast<unsigned char>(b[at + k])) << (8 * k);
    return v;
}

// One global heap collection at `offset`, walked as libhdf5 walks it (see check_global_heaps).
void check_heap_collection(uint64_t offset, unsigned lengths, const std::string& source) {
    const std::string head = g_file_read(offset + 8, lengths);
    if (head.size() < lengths) return;
    const uint64_t total = decode_le(head, 0, lengths), header = 8 + lengths, object_header = 8 + lengths;
    if (total < header || total > g_file_bytes - offset) return;  // HDF5 refuses it by itself
    const std::string heap = g_file_read(offset, static_cast<size_t>(total));
    for (uint64_t p = header; p + object_header <= total;) {
        const uint64_t index = decode_le(heap, static_cast<size_t>(p), 2);
        const uint64_t bytes = decode_le(heap, static_cast<size_t>(p) + 8, lengths);
        const uint64_t need = index > 0 ? object_header + ((bytes + 7) & ~uint64_t(7)) : bytes;
        if (need == 0 || need > total - p || (index > 0 && bytes > total))
            fail_input(source, 0, "damaged HDF5 file: the global heap at byte " + std::to_string(offset) + " has an object of " +
                                      std::to_string(bytes) + " bytes at byte " + std::to_string(offset + p) +
                                      " that does not fit it");
        p += need;
    }
}

// HDF5 1.10 (Debian 12) loops forever on a global heap collection (where variable-length strings
// live) holding an object that does not advance its parser: free space of size 0. Found by
// fuzzing. Before HDF5 sees the file being opened (g_file_read), each collection ("GCOL", version
// 1, three zero bytes) is walked the way HDF5 walks it; one that would not end is refused.
void check_global_heaps(const std::string& source) {
    const unsigned lengths = superblock_field_sizes().lengths;
    if (lengths != 4 && lengths != 8) return;
    static const char kSig[8] = {'G', 'C', 'O', 'L', 1, 0, 0, 0};
    constexpr size_t kChunk = size_t(1) << 22;
    for (uint64_t at = 0; at < g_file_bytes;) {
        const std::string block = g_file_read(at, kChunk + sizeof kSig - 1);
        for (size_t i = 0; i + sizeof kSig <= block.size(); ++i) {
            const char* hit = static_cast<const char*>(std::memchr(block.data() + i, 'G', block.size() - i - sizeof kSig + 1));
            if (!hit) break;
            i = static_cast<size_t>(hit - block.data());
            if (std::memcmp(hit, kSig, sizeof kSig) == 0) check_heap_collection(at + i, lengths, source);
        }
        if (block.size() < kChunk + sizeof kSig - 1) break;
        at += kChunk;
    }
}

H5::H5File open_dataset_file(const std::string& path) {
    if (!H5::H5File::isHdf5(path.c_str())) fail_input(path, 0, "not an HDF5 file");
    g_file_bytes = file_bytes(path);
    g_file_read = [path, bytes = g_file_bytes](uint64_t offset, size_t n) {
        std::ifstream in(path, std::ios::binary);
        std::string b(static_cast<size_t>(std::min<uint64_t>(n, bytes - std::min<uint64_t>(offset, bytes))), '\0');
        in.seekg(static_cast<std::streamoff>(offset));
        in.read(b.data(), static_cast<std::streamsize>(b.size()));
        b.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
        return b;
    };
    check_global_heaps(path);
    return H5::H5File(path, H5F_ACC_RDONLY);
}

// A file image in memory, through the core driver (HDF5 copies the buffer; nothing touches the disk).
H5::H5File open_dataset_image(const void* data, size_t size, const std::string& source) {
    static const unsigned char kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (size < 8 || std::memcmp(data, kSignature, 8) != 0) fail_input(source, 0, "not an HDF5 file");
    g_file_bytes = size;
    g_file_read = [data, size](uint64_t offset, size_t n) {  // the caller keeps the image alive while reading
        const uint64_t from = std::min<uint64_t>(offset, size);
        return std::string(static_cast<const char*>(data) + from, static_cast<size_t>(std::min<uint64_t>(n, size - from)));
    };
    check_global_heaps(source);
    H5::FileAccPropList fapl;
    if (H5Pset_fapl_core(fapl.getId(), 1 << 16, false) < 0 ||
        H5Pset_file_image(fapl.getId(), const_cast<void*>(data), size) < 0)
        fail_input(source, 0, "cannot open the HDF5 image");
    return H5::H5File(source, H5F_ACC_RDONLY, H5::FileCreatPropList::DEFAULT, fapl);
}

}  // namespace

void write_dataset(const std::string& path, const Dataset& d) {
    H5::Exception::dontPrint();
    if (d.joint_names.size() != kDatasetJoints || d.joint_parents.size() != kDatasetJoints)
        fail_input(path, 0, "write_dataset: expected 22 joint names and parents");
    // Built in memory (core driver, no backing store), then written by our own atomic write: HDF5
    // never touches the disk, so a full disk is one clean error. Writing through HDF5, a failed close
    // was only printed by its C++ destructors and the library then crashed at exit.
    std::string image;
    try {
        H5::FileAccPropList fapl;
        fapl.setCore(size_t(1) << 20, false);
        H5::H5File f(path + ".in-memory", H5F_ACC_TRUNC, H5::FileCreatPropList::DEFAULT, fapl);
        attr_str(f, "format", kFormatName);
        attr_long(f, "format_version", kDatasetFormatVersion);
        attr_double(f, "rate_hz", d.rate_hz);
        attr_str(f, "pose_layout", kPoseLayout);
        attr_str(f, "insole_layout", kInsoleLayout);
        attr_str(f, "pose_units", "m");
        attr_long(f, "pose_values", kRootAndJointValues);
        attr_long(f, "insole_channels", kInsoleChannels);
        for (const auto& [k, v] : d.attributes) attr_str(f, ("meta_" + k).c_str(), v);

        H5::Group sk = f.createGroup("skeleton");
        write_strings(sk, "joint_names", d.joint_names);
        std::vector<int> parents(d.joint_parents.begin(), d.joint_parents.end());
        const hsize_t nj = parents.size();
        H5::DataSet jp = sk.createDataSet("joint_parents", H5::PredType::NATIVE_INT, H5::DataSpace(1, &nj));
        jp.write(parents.data(), H5::PredType::NATIVE_INT);
        jp.close();
        sk.close();

        if (!d.stats.empty()) {
            H5::Group ng = f.createGroup("normalization");
            attr_str(ng, "split", "train");
            attr_long(ng, "frames", d.stats.frames);
            attr_str(ng, "rule", "z-score per channel; std < 1e-6 stored as 1");
            auto vec = [&](const char* name, const Eigen::VectorXf& v) {
                write_matrix(ng, name, H5::PredType::NATIVE_FLOAT, v.data(), static_cast<hsize_t>(v.size()), 0, false).close();
            };
            vec("pose_mean", d.stats.pose_mean);
            vec("pose_std", d.stats.pose_std);
            vec("insole_mean", d.stats.insole_mean);
            vec("insole_std", d.stats.insole_std);
            ng.close();
        }

        H5::Group cg = f.createGroup("clips");
        std::set<std::string> seen;
        for (size_t i = 0; i < d.clips.size(); ++i) {
            const DatasetClip& c = d.clips[i];
            const hsize_t n = static_cast<hsize_t>(c.frames());
            if (c.poses.cols() != kRootAndJointValues || c.insoles.cols() != kInsoleChannels || c.insoles.rows() != c.poses.rows() ||
                c.insole_valid.rows() != c.poses.rows() || (c.insole_heading_rad.rows() != 0 && c.insole_heading_rad.rows() != c.poses.rows()))
                fail_input(path, 0, "write_dataset: clip '" + c.name + "' has inconsistent array shapes");
            if (!seen.insert(c.name).second) fail_input(path, 0, "write_dataset: clip name '" + c.name + "' used twice");
            H5::Group g = cg.createGroup(group_name(c.name, i));
            attr_str(g, "name", c.name);
            attr_long(g, "index", static_cast<long>(i));
            attr_str(g, "subject", c.subject);
            attr_str(g, "activity", c.activity);
            attr_str(g, "split", c.split);
            attr_str(g, "source_insoles", c.source_insoles);
            attr_str(g, "source_sync", c.source_sync);
            attr_str(g, "source_mocap", c.source_mocap);
            attr_str(g, "joint_map", c.joint_map);
            attr_str(g, "imu_frame", c.imu_frame);
            attr_double(g, "rate_hz", c.rate_hz);
            attr_double(g, "source_insole_rate_hz", c.source_insole_rate_hz);
            attr_double(g, "source_mocap_rate_hz", c.source_mocap_rate_hz);
            attr_double(g, "weight_kg", c.weight_kg);
            attr_long(g, "insole_size", c.insole_size);
            attr_long(g, "frames", static_cast<long>(n));
            H5::DataSet p = write_matrix(g, "poses", H5::PredType::NATIVE_FLOAT, c.poses.data(), n, kRootAndJointValues);
            attr_str(p, "units", "m");
            H5::DataSet s = write_matrix(g, "insoles", H5::PredType::NATIVE_FLOAT, c.insoles.data(), n, kInsoleChannels);
            attr_str(s, "units", "N/cm2 x16, g x3, deg/s x3, N, normalised x2; per foot, left then right");
            H5::DataSet v = write_matrix(g, "insole_valid", H5::PredType::NATIVE_UINT8, c.insole_valid.data(), n, 2);
            attr_str(v, "meaning", "1 = both source samples around this frame were recorded (not gap-filled); columns left, right");
            H5::DataSet o = write_matrix(g, "offsets_m", H5::PredType::NATIVE_DOUBLE, c.offsets_m.data(), kDatasetJoints, 3, false);
            attr_str(o, "meaning", "rest-pose offset of each joint from its parent, parent frame, metres");
            write_matrix(g, "root_start_m", H5::PredType::NATIVE_DOUBLE, c.root_start_m.data(), 3, 0, false).close();
            if (c.insole_heading_rad.rows() == static_cast<long>(n) && n > 0) {
                H5::DataSet h = write_matrix(g, "insole_heading_rad", H5::PredType::NATIVE_FLOAT, c.insole_heading_rad.data(), n, 2);
                attr_str(h, "meaning", "heading of each insole's x axis about world up in the accelerations' frame (0 = +Z, positive towards +X), radians; columns left, right");
                h.close();
            }
            // Every object is closed explicitly: closing writes out its cached data, and the C++ API's
            // destructors only print a failure (a full disk) and go on, which left a partial file renamed
            // into place.
            p.close();
            s.close();
            v.close();
            o.close();
            g.close();
        }
        cg.close();
        f.flush(H5F_SCOPE_GLOBAL);
        const ssize_t size = H5Fget_file_image(f.getId(), nullptr, 0);
        if (size <= 0) fail_input(path, 0, "cannot build the HDF5 file in memory");
        image.resize(static_cast<size_t>(size));
        if (H5Fget_file_image(f.getId(), image.data(), image.size()) != size) fail_input(path, 0, "cannot build the HDF5 file in memory");
        f.close();
    } catch (const H5::Exception& e) {
        fail_input(path, 0, "cannot build the HDF5 file (HDF5: " + e.getDetailMsg() + ")");
    }
    write_file_atomic(path, image);
}

namespace {

template <typename Open>
Dataset read_dataset_from(const std::string& path, Open open) {
    H5::Exception::dontPrint();
    Dataset d;
    try {
        H5::H5File f = open();
        check_format(f, path);
        d.rate_hz = get_double(f, "rate_hz");
        for (unsigned i = 0; i < static_cast<unsigned>(f.getNumAttrs()); ++i) {
            H5::Attribute a = f.openAttribute(i);
            const std::string name = a.getName();
            if (name.rfind("meta_", 0) == 0) d.attributes[name.substr(5)] = get_str(f, name.c_str());
        }
        if (!f.nameExists("skeleton")) fail_input(path, 0, "missing group /skeleton");
        H5::Group sk = f.openGroup("skeleton");
        d.joint_names = read_strings(sk, "joint_names", path);
        std::vector<hsize_t> dims;
        const auto parents = read_array<int>(sk, "joint_parents", H5::PredType::NATIVE_INT, dims, path, "/skeleton");
        d.joint_parents.assign(parents.begin(), parents.end());
        if (d.joint_names.size() != kDatasetJoints || d.joint_parents.size() != kDatasetJoints)
            fail_input(path, 0, "/skeleton: expected 22 joints");
        if (f.nameExists("normalization")) {
            H5::Group ng = f.openGroup("normalization");
            d.stats.frames = get_long(ng, "frames");
            auto vec = [&](const char* name, Eigen::VectorXf& v, long expect) {
                const auto a = read_array<float>(ng, name, H5::PredType::NATIVE_FLOAT, dims, path, "/normalization");
                if (static_cast<long>(a.size()) != expect) fail_input(path, 0, std::string("/normalization/") + name + ": wrong length");
                v = Eigen::Map<const Eigen::VectorXf>(a.data(), expect);
            };
            vec("pose_mean", d.stats.pose_mean, kRootAndJointValues);
            vec("pose_std", d.stats.pose_std, kRootAndJointValues);
            vec("insole_mean", d.stats.insole_mean, kInsoleChannels);
            vec("insole_std", d.stats.insole_std, kInsoleChannels);
        }
        if (!f.nameExists("clips")) fail_input(path, 0, "missing group /clips");
        H5::Group cg = f.openGroup("clips");
        for (const std::string& gname : clip_groups(cg)) {
            H5::Group g = cg.openGroup(gname);
            const std::string where = "/clips/" + gname;
            DatasetClip c;
            c.name = get_str(g, "name");
            c.subject = get_str(g, "subject");
            c.activity = get_str(g, "activity");
            c.split = get_str(g, "split");
            c.source_insoles = get_str(g, "source_insoles");
            c.source_sync = get_str(g, "source_sync");
            c.source_mocap = get_str(g, "source_mocap");
            c.joint_map = get_str(g, "joint_map");
            c.imu_frame = get_str(g, "imu_frame");
            c.rate_hz = get_double(g, "rate_hz");
            c.source_insole_rate_hz = get_double(g, "source_insole_rate_hz");
            c.source_mocap_rate_hz = get_double(g, "source_mocap_rate_hz");
            c.weight_kg = get_double(g, "weight_kg");
            c.insole_size = static_cast<int>(get_long(g, "insole_size"));
            const auto poses = read_array<float>(g, "poses", H5::PredType::NATIVE_FLOAT, dims, path, where);
            const long n = dims.empty() ? 0 : static_cast<long>(dims[0]);
            if (dims.size() != 2 || dims[1] != kRootAndJointValues) fail_input(path, 0, where + "/poses: expected N x 66");
            c.poses = Eigen::Map<const RowMatrixXf>(poses.data(), n, kRootAndJointValues);
            const auto ins = read_array<float>(g, "insoles", H5::PredType::NATIVE_FLOAT, dims, path, where);
            if (dims.size() != 2 || static_cast<long>(dims[0]) != n || dims[1] != kInsoleChannels)
                fail_input(path, 0, where + "/insoles: expected " + std::to_string(n) + " x 50");
            c.insoles = Eigen::Map<const RowMatrixXf>(ins.data(), n, kInsoleChannels);
            const auto valid = read_array<unsigned char>(g, "insole_valid", H5::PredType::NATIVE_UINT8, dims, path, where);
            if (dims.size() != 2 || static_cast<long>(dims[0]) != n || dims[1] != 2)
                fail_input(path, 0, where + "/insole_valid: expected " + std::to_string(n) + " x 2");
            c.insole_valid = Eigen::Map<const Eigen::Matrix<unsigned char, Eigen::Dynamic, 2, Eigen::RowMajor>>(valid.data(), n, 2);
            const auto off = read_array<double>(g, "offsets_m", H5::PredType::NATIVE_DOUBLE, dims, path, where);
            if (off.size() != kDatasetJoints * 3) fail_input(path, 0, where + "/offsets_m: expected 22 x 3");
            c.offsets_m = Eigen::Map<const Eigen::Matrix<double, kDatasetJoints, 3, Eigen::RowMajor>>(off.data());
            const auto rs = read_array<double>(g, "root_start_m", H5::PredType::NATIVE_DOUBLE, dims, path, where);
            if (rs.size() != 3) fail_input(path, 0, where + "/root_start_m: expected 3 values");
            c.root_start_m = Eigen::Vector3d(rs[0], rs[1], rs[2]);
            if (g.nameExists("insole_heading_rad")) {  // optional: files before it lack it
                const auto h = read_array<float>(g, "insole_heading_rad", H5::PredType::NATIVE_FLOAT, dims, path, where);
                if (dims.size() != 2 || static_cast<long>(dims[0]) != n || dims[1] != 2)
                    fail_input(path, 0, where + "/insole_heading_rad: expected " + std::to_string(n) + " x 2");
                for (float a : h)
                    if (!std::isfinite(a)) fail_input(path, 0, where + "/insole_heading_rad: expected finite angles");
                c.insole_heading_rad = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, 2, Eigen::RowMajor>>(h.data(), n, 2);
            }
            d.clips.push_back(std::move(c));
        }
    } catch (const H5::Exception& e) {
        fail_input(path, 0, "HDF5 read failed: " + e.getDetailMsg());
    }
    return d;
}

template <typename Open>
DatasetSummary read_dataset_summary_from(const std::string& path, Open open) {
    H5::Exception::dontPrint();
    DatasetSummary s;
    try {
        H5::H5File f = open();
        check_format(f, path);
        s.format_version = static_cast<int>(get_long(f, "format_version"));
        s.rate_hz = get_double(f, "rate_hz");
        for (unsigned i = 0; i < static_cast<unsigned>(f.getNumAttrs()); ++i) {
            const std::string name = f.openAttribute(i).getName();
            if (name.rfind("meta_", 0) == 0) s.attributes[name.substr(5)] = get_str(f, name.c_str());
        }
        s.has_stats = f.nameExists("normalization");
        std::set<std::string> subjects, activities;
        if (f.nameExists("clips")) {
            H5::Group cg = f.openGroup("clips");
            for (const std::string& gname : clip_groups(cg)) {
                H5::Group g = cg.openGroup(gname);
                const long n = get_long(g, "frames");
                if (n < 0 || n > (1L << 40)) fail_input(path, 0, "/clips/" + gname + ": frames " + std::to_string(n) + " is not a frame count");
                const std::string split = get_str(g, "split");
                ++s.clips;
                s.frames += n;
                ++s.clips_per_split[split];
                s.frames_per_split[split] += n;
                subjects.insert(get_str(g, "subject"));
                activities.insert(get_str(g, "activity"));
            }
        }
        s.subjects.assign(subjects.begin(), subjects.end());
        s.activities.assign(activities.begin(), activities.end());
    } catch (const H5::Exception& e) {
        fail_input(path, 0, "HDF5 read failed: " + e.getDetailMsg());
    }
    return s;
}

}  // namespace

namespace {

// libhdf5 1.10 crashes (SIGSEGV in H5A__close, a use-after-free in its attribute table: found by
// fuzzing), loops, or allocates what a damaged file claims. A file is therefore read first in a
// child process whose data segment may grow by at most 1 GB + kMaxInflation x the file's size:
// when libhdf5 dies, hangs or runs out of that there, or the file is refused, this process reports
// it in one line; otherwise it reads the file itself (the same code, now known to end).
template <typename Read>
auto read_checked(const std::string& source, uint64_t bytes, Read read) {
    int channel[2];
    std::fflush(nullptr);
    const pid_t child = pipe(channel) == 0 ? fork() : -1;
    if (child == 0) {
        close(channel[0]);
        for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);  // die, report nothing
        uint64_t data_kb = 0;
        std::ifstream status("/proc/self/status");
        for (std::string line; std::getline(status, line);)
            if (line.rfind("VmData:", 0) == 0) data_kb = std::strtoull(line.c_str() + 7, nullptr, 10);
        const uint64_t budget = (uint64_t(1) << 30) + std::min<uint64_t>(bytes, uint64_t(1) << 40) * kMaxInflation;
        const rlimit limit{data_kb * 1024 + budget, data_kb * 1024 + budget};
        setrlimit(RLIMIT_DATA, &limit);
        int code = 0;
        std::string message;
        try {
            (void)read();
        } catch (const InputError& e) {
            code = 3, message = e.what();
        } catch (const std::bad_alloc&) {
            code = 4;
        } catch (const std::exception& e) {
            code = 5, message = e.what();
        }
        if (!message.empty() && write(channel[1], message.data(), message.size()) < 0) code = 5;
        _exit(code);
    }
    if (child > 0) {
        close(channel[1]);
        // Generous: a legitimate read runs at hundreds of MB/s.
        const double limit_s = 60 + double(bytes) / 20e6;
        const auto start = std::chrono::steady_clock::now();
        int status = 0;
        pid_t done = 0;
        std::string message;
        char buffer[4096];
        while ((done = waitpid(child, &status, WNOHANG)) == 0) {
            if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > limit_s) {
                kill(child, SIGKILL);
                waitpid(child, &status, 0);
                close(channel[0]);
                fail_input(source, 0, "damaged HDF5 file: libhdf5 did not finish reading it in " +
                                          std::to_string(int(limit_s)) + " s");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        for (ssize_t n; (n = ::read(channel[0], buffer, sizeof buffer)) > 0;) message.append(buffer, static_cast<size_t>(n));
        close(channel[0]);
        if (done == child && WIFSIGNALED(status))
            fail_input(source, 0, "damaged HDF5 file: libhdf5 crashed reading it (signal " +
                                      std::to_string(WTERMSIG(status)) + ")");
        if (done == child && WIFEXITED(status)) {
            const int code = WEXITSTATUS(status);
            if (code == 3) throw InputError(message);  // the child's refusal, already naming the file
            if (code == 4)
                fail_input(source, 0, "damaged HDF5 file: reading it needs more memory than its size allows");
            if (code != 0)
                fail_input(source, 0, "damaged HDF5 file: libhdf5 failed reading it" + (message.empty() ? "" : " (" + message + ")"));
        }
    }  // pipe or fork failed: read in this process only
    return read();
}

}  // namespace

Dataset read_dataset(const std::string& path) {
    return read_checked(path, file_bytes(path), [&] { return read_dataset_from(path, [&] { return open_dataset_file(path); }); });
}
Dataset read_dataset_image(const void* data, size_t size, const std::string& source) {
    return read_checked(source, size, [&] { return read_dataset_from(source, [&] { return open_dataset_image(data, size, source); }); });
}
DatasetSummary read_dataset_summary(const std::string& path) {
    return read_checked(path, file_bytes(path),
                        [&] { return read_dataset_summary_from(path, [&] { return open_dataset_file(path); }); });
}
DatasetSummary read_dataset_summary_image(const void* data, size_t size, const std::string& source) {
    return read_checked(source, size,
                        [&] { return read_dataset_summary_from(source, [&] { return open_dataset_image(data, size, source); }); });
}

}  // namespace s2m::io
