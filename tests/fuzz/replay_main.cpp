// fuzz_replay: runs fuzz inputs through the targets without libFuzzer, with any compiler.
//   fuzz_replay <corpus-root>               every file of <corpus-root>/<target>/ through <target>
//   fuzz_replay <target> <file|dir>...      the given inputs through one target (reproducing a crash)
// A failed property aborts the program (fuzz_target.hpp), so CTest reports it. Each input is
// copied into a heap buffer of exactly its size, so the sanitizer build sees reads past its end.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_target.hpp"

namespace fs = std::filesystem;

namespace {

auto read_file(const fs::path& p) -> std::vector<std::uint8_t> {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

auto files_of(const fs::path& p) -> std::vector<fs::path> {
  std::vector<fs::path> out;
  if (fs::is_directory(p)) {
    for (const auto& e : fs::directory_iterator(p))
      if (e.is_regular_file()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
  } else if (fs::is_regular_file(p)) {
    out.push_back(p);
  }
  return out;
}

auto run(const synack_fuzz::registered_target& t, const std::vector<fs::path>& files) -> std::size_t {
  for (const auto& f : files) {
    const auto bytes = read_file(f);
    // Exactly sized: new[] of the size (a vector might keep spare capacity).
    auto copy = std::make_unique<std::uint8_t[]>(bytes.size() + (bytes.empty() ? 1 : 0));
    std::copy(bytes.begin(), bytes.end(), copy.get());
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(t.name.size()), t.name.data(), f.string().c_str());
    t.fn(copy.get(), bytes.size());
  }
  return files.size();
}

} // namespace

int main(int argc, char** argv) {
  auto& all = synack_fuzz::targets();
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  if (argc == 2) {
    const fs::path root = argv[1];
    int missing = 0;
    for (const auto& t : all) {
      const auto dir = root / std::string(t.name);
      const auto n = run(t, files_of(dir));
      std::printf("fuzz_replay: %-12.*s %zu inputs\n", static_cast<int>(t.name.size()), t.name.data(), n);
      if (n == 0) {
        std::fprintf(stderr, "fuzz_replay: no corpus for %s in %s\n", std::string(t.name).c_str(), dir.c_str());
        ++missing;
      }
    }
    return missing == 0 ? 0 : 1;
  }
  if (argc >= 3) {
    auto it = std::find_if(all.begin(), all.end(), [&](const auto& t) { return t.name == argv[1]; });
    if (it == all.end()) {
      std::fprintf(stderr, "fuzz_replay: no target %s\n", argv[1]);
      return 2;
    }
    std::size_t n = 0;
    for (int i = 2; i < argc; ++i) n += run(*it, files_of(argv[i]));
    std::printf("fuzz_replay: %s: %zu inputs, no failure\n", argv[1], n);
    return 0;
  }
  std::fprintf(stderr, "usage: fuzz_replay <corpus-root> | fuzz_replay <target> <file|dir>...\ntargets:");
  for (const auto& t : all) std::fprintf(stderr, " %.*s", static_cast<int>(t.name.size()), t.name.data());
  std::fprintf(stderr, "\n");
  return 2;
}
