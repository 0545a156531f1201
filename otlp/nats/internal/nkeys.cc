#include "otlp/nats/internal/nkeys.h"

#include <openssl/evp.h>

#include <memory>

#include "otlp/net/internal/base64.h"

namespace otlp::nats::internal {
namespace {

constexpr unsigned char kPrefixSeed = 18 << 3;  // 'S'
constexpr unsigned char kPrefixUser = 20 << 3;  // 'U'
constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

Status Invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, "NKey seed: " + std::move(message));
}

std::string_view Trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

uint16_t Crc16(std::string_view data) noexcept {
  uint16_t crc = 0;
  for (unsigned char b : data) {
    crc ^= static_cast<uint16_t>(b) << 8;
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

std::string Base32Encode(std::string_view data) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char b : data) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kBase32[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32[(buffer << (5 - bits)) & 31];
  return out;
}

bool Base32Decode(std::string_view text, std::string* out) {
  out->clear();
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= '2' && c <= '7') {
      v = c - '2' + 26;
    } else {
      return false;
    }
    buffer = (buffer << 5) | static_cast<unsigned>(v);
    bits += 5;
    if (bits >= 8) {
      out->push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  return true;
}

Result<NKeyUser> DecodeUserSeed(std::string_view seed) {
  seed = Trim(seed);
  std::string raw;
  if (!Base32Decode(seed, &raw)) return Invalid("not base32");
  if (raw.size() != 2 + 32 + 2) return Invalid("wrong length");
  const std::string_view body(raw.data(), raw.size() - 2);
  const uint16_t crc = static_cast<uint16_t>(static_cast<unsigned char>(raw[raw.size() - 2]) |
                                             static_cast<unsigned char>(raw[raw.size() - 1]) << 8);
  if (Crc16(body) != crc) return Invalid("checksum does not match");
  const auto b0 = static_cast<unsigned char>(raw[0]);
  const auto b1 = static_cast<unsigned char>(raw[1]);
  if ((b0 & 0xf8) != kPrefixSeed) return Invalid("not a seed (does not start with 'S')");
  const unsigned char type = static_cast<unsigned char>(((b0 & 7) << 5) | ((b1 & 0xf8) >> 3));
  if (type != kPrefixUser) return Invalid("not a user seed (\"SU...\")");

  NKeyUser key;
  key.seed.assign(raw.data() + 2, 32);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                   reinterpret_cast<const unsigned char*>(key.seed.data()), 32),
      EVP_PKEY_free);
  if (!pkey) return Invalid("not an Ed25519 key");
  unsigned char pub[32];
  size_t pub_len = sizeof pub;
  if (EVP_PKEY_get_raw_public_key(pkey.get(), pub, &pub_len) != 1 || pub_len != 32) {
    return Invalid("no public key");
  }
  std::string encoded(1, static_cast<char>(kPrefixUser));
  encoded.append(reinterpret_cast<const char*>(pub), 32);
  const uint16_t pub_crc = Crc16(encoded);
  encoded += static_cast<char>(pub_crc & 0xff);
  encoded += static_cast<char>(pub_crc >> 8);
  key.public_key = Base32Encode(encoded);
  return key;
}

Result<std::string> SignNonce(const NKeyUser& key, std::string_view nonce) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                   reinterpret_cast<const unsigned char*>(key.seed.data()),
                                   key.seed.size()),
      EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char sig[64];
  size_t sig_len = sizeof sig;
  if (!pkey || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &sig_len, reinterpret_cast<const unsigned char*>(nonce.data()),
                     nonce.size()) != 1) {
    return Status(StatusCode::kInternal, "NKey: signing the server's nonce failed (OpenSSL)");
  }
  return net::internal::Base64UrlEncode(
      std::string_view(reinterpret_cast<const char*>(sig), sig_len), false);
}

Result<Credentials> ParseCredentials(std::string_view text) {
  // Blocks: a "---...BEGIN...---" line, the value on the next non-empty line, an END line.
  std::string values[2];
  int found = 0;
  size_t pos = 0;
  bool expect_value = false;
  while (pos < text.size() && found < 2) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = Trim(text.substr(pos, eol - pos));
    pos = eol + 1;
    if (line.empty()) continue;
    if (expect_value) {
      values[found++] = std::string(line);
      expect_value = false;
    } else if (line.substr(0, 3) == "---" && line.find("BEGIN") != std::string_view::npos) {
      expect_value = true;
    }
  }
  if (found < 2) {
    return Status(StatusCode::kInvalidArgument,
                  "credentials file: expected a user JWT block and an NKey seed block");
  }
  return Credentials{values[0], values[1]};
}

}  // namespace otlp::nats::internal
