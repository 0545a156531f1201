// NKeys against the official Go implementation (github.com/nats-io/nkeys, Debian's sources):
// a user seed it generated decodes to the public key it printed, and our signature of a nonce is
// byte-for-byte the one it made (Ed25519 signatures are deterministic).
#include "otlp/nats/internal/nkeys.h"

#include <gtest/gtest.h>

namespace otlp::nats::internal {
namespace {

constexpr char kSeed[] = "SUAFGUJCONGKDC42DJUUNPKXK2UWVN5QUX6ADCMZF5GCQIXTZB3EELTEFI";
constexpr char kPublic[] = "UB25TCV7LJXMCZ7VOAFBAR6E6UCDKFTEXNX5MTPWJX75QNNNEAP46D5V";
constexpr char kNonce[] = "vQ8PXk1tJ2Vnh7kE";
constexpr char kSignature[] =
    "JYfzyCJsJZ4n1oNNsI-58PZlrM3xQOs5XCN3sdCby4Lsg8wN1bhyRScJRYcdB_076oT-u12dFEV8vmVDjZE1CA";

TEST(NKeysTest, DecodesSeedAndSignsLikeTheGoImplementation) {
  Result<NKeyUser> key = DecodeUserSeed(kSeed);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->public_key, kPublic);
  Result<std::string> sig = SignNonce(*key, kNonce);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(*sig, kSignature);
}

TEST(NKeysTest, RejectsBrokenSeeds) {
  std::string flipped = kSeed;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  Result<NKeyUser> bad = DecodeUserSeed(flipped);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("checksum"), std::string::npos);
  EXPECT_FALSE(DecodeUserSeed("not-base32!").ok());
  EXPECT_FALSE(DecodeUserSeed("SUAB").ok());
  // A public key is not a seed.
  Result<NKeyUser> pub = DecodeUserSeed(kPublic);
  ASSERT_FALSE(pub.ok());
}

TEST(NKeysTest, Base32AndCrc16RoundTrip) {
  std::string out;
  ASSERT_TRUE(Base32Decode(Base32Encode("hello nkeys"), &out));
  EXPECT_EQ(out, "hello nkeys");
  EXPECT_EQ(Crc16("123456789"), 0x31C3);  // CRC-16/XMODEM check value
}

TEST(NKeysTest, ParsesCredentialsFiles) {
  const std::string creds =
      "-----BEGIN NATS USER JWT-----\n"
      "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.sig\n"
      "------END NATS USER JWT------\n\n"
      "************************* IMPORTANT *************************\n"
      "NKEY Seed printed below can be used to sign and prove identity.\n\n"
      "-----BEGIN USER NKEY SEED-----\n" +
      std::string(kSeed) +
      "\n------END USER NKEY SEED------\n";
  Result<Credentials> c = ParseCredentials(creds);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->jwt, "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.sig");
  EXPECT_EQ(c->seed, kSeed);
  EXPECT_FALSE(ParseCredentials("just text\n").ok());
}

}  // namespace
}  // namespace otlp::nats::internal
