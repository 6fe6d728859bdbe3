// SHA-256 (examples/common/sha256.hpp) against the FIPS 180-4 examples (NIST's "SHA256.pdf",
// "SHA256ShortMsg"/"LongMsg" style vectors) and against itself fed in odd pieces.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/sha256.hpp"

namespace {
auto digest_of(std::string_view s) -> std::string {
  examples::sha256 h;
  h.update(s);
  return h.hex();
}
} // namespace

TEST_CASE("sha256: FIPS 180-4 example vectors") {
  CHECK(digest_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(digest_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(digest_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(digest_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                  "mnopqrstnopqrstu") == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST_CASE("sha256: one million 'a' (FIPS 180-4 long message)") {
  examples::sha256 h;
  const std::string block(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.update(block);
  CHECK(h.hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: padding boundaries (55, 56, 63, 64, 65 bytes) and pieces of every size") {
  // Known digests of 'a' * n (computed with Python's hashlib).
  CHECK(digest_of(std::string(55, 'a')) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(digest_of(std::string(56, 'a')) == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  CHECK(digest_of(std::string(63, 'a')) == "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
  CHECK(digest_of(std::string(64, 'a')) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  CHECK(digest_of(std::string(65, 'a')) == "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0");
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>('0' + i % 75);
  const auto whole = digest_of(text);
  for (std::size_t piece = 1; piece <= 130; ++piece) {
    examples::sha256 h;
    for (std::size_t at = 0; at < text.size(); at += piece) h.update(std::string_view{text}.substr(at, piece));
    CHECK(h.hex() == whole);
  }
}
