#include "otlp/nats/internal/nuid.h"

#include <random>

namespace otlp::nats::internal {
namespace {

constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr int kBase = 62;
constexpr int kPrefixLength = 12;
constexpr int kSequenceLength = 10;
constexpr uint64_t kMaxSequence = 839299365868340224ULL;  // 62^10

class Nuid {
 public:
  Nuid() : rng_(std::random_device{}()) { Reset(); }

  std::string Next() {
    sequence_ += increment_;
    if (sequence_ >= kMaxSequence) Reset();
    std::string out = prefix_;
    out.resize(kPrefixLength + kSequenceLength);
    uint64_t v = sequence_;
    for (int i = kPrefixLength + kSequenceLength - 1; i >= kPrefixLength; --i) {
      out[static_cast<size_t>(i)] = kDigits[v % kBase];
      v /= kBase;
    }
    return out;
  }

 private:
  void Reset() {
    prefix_.resize(kPrefixLength);
    for (char& c : prefix_) c = kDigits[rng_() % kBase];
    sequence_ = rng_() % kMaxSequence;
    increment_ = 33 + rng_() % 300;
  }

  std::mt19937_64 rng_;
  std::string prefix_;
  uint64_t sequence_ = 0;
  uint64_t increment_ = 0;
};

}  // namespace

std::string NewNuid() {
  thread_local Nuid nuid;
  return nuid.Next();
}

std::string NewToken(uint64_t n) {
  std::string out;
  do {
    out += kDigits[n % kBase];
    n /= kBase;
  } while (n > 0);
  return out;
}

bool TokenValue(std::string_view token, uint64_t* n) {
  if (token.empty() || token.size() > 10) return false;
  uint64_t v = 0;
  for (size_t i = token.size(); i-- > 0;) {  // NewToken writes the lowest digit first
    const char c = token[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'A' && c <= 'Z') {
      d = c - 'A' + 10;
    } else if (c >= 'a' && c <= 'z') {
      d = c - 'a' + 36;
    } else {
      return false;
    }
    v = v * kBase + static_cast<uint64_t>(d);
  }
  *n = v;
  return true;
}

}  // namespace otlp::nats::internal
