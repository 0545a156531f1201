// otlp/nats/internal/nkeys.h — NATS NKeys (Ed25519 keys in base32 with a type prefix and a
// CRC-16 checksum) as far as a client needs them: decode a user seed, sign the server's nonce,
// encode the public key; and read a .creds file (user JWT + seed). Ed25519 is OpenSSL's.
#pragma once

#include <string>
#include <string_view>

#include "otlp/core/status.h"

namespace otlp::nats::internal {

struct NKeyUser {
  std::string public_key;  // "U..." (56 characters)
  std::string seed;        // the 32 raw private-key bytes
};

// Decodes a user seed ("SU..."): kInvalidArgument naming what is wrong (not base32, bad
// checksum, not a seed, not a user key).
Result<NKeyUser> DecodeUserSeed(std::string_view seed);
// base64url (no padding) of the Ed25519 signature of `nonce`.
Result<std::string> SignNonce(const NKeyUser& key, std::string_view nonce);

struct Credentials {
  std::string jwt;
  std::string seed;
};
// The JWT and seed blocks of a .creds file's text.
Result<Credentials> ParseCredentials(std::string_view text);

// CRC-16/XMODEM as NKeys use it; base32 (RFC 4648, no padding).
uint16_t Crc16(std::string_view data) noexcept;
std::string Base32Encode(std::string_view data);
bool Base32Decode(std::string_view text, std::string* out);

}  // namespace otlp::nats::internal
