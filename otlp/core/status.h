// otlp/core/status.h — Status and Result<T>: how every fallible otlp-cpp call reports failure.
//
// No exception crosses the public API. A call that can fail returns a [[nodiscard]] Status (or
// Result<T> carrying a value), with a code, a message and whether retrying can help.
//
//   otlp::Result<Config> cfg = Config::FromEnvironment();
//   if (!cfg.ok()) { std::cerr << cfg.status().ToString() << "\n"; return 1; }
//   Use(*cfg);
//
// Thread-safety: value types; distinct objects may be used from distinct threads.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "otlp/core/export.h"

namespace otlp {

enum class StatusCode : unsigned char {
  kOk = 0,
  kCancelled,
  kUnknown,
  kInvalidArgument,
  kDeadlineExceeded,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kResourceExhausted,
  kFailedPrecondition,
  kAborted,
  kOutOfRange,
  kUnimplemented,
  kInternal,
  kUnavailable,
  kDataLoss,
  kUnauthenticated,
};

OTLP_EXPORT std::string_view StatusCodeName(StatusCode code) noexcept;

class [[nodiscard]] OTLP_EXPORT Status {
 public:
  Status() noexcept = default;
  Status(StatusCode code, std::string message, bool retryable = false)
      : code_(code), retryable_(retryable), message_(std::move(message)) {}

  static Status Ok() noexcept { return {}; }

  bool ok() const noexcept { return code_ == StatusCode::kOk; }
  StatusCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // True when the same operation may succeed if tried again later (a lost connection, a
  // server asking to back off); false for bad input or configuration.
  bool retryable() const noexcept { return retryable_; }

  // A module's own finer-grained error kind (0: none), for callers that must tell apart
  // failures sharing one code: otlp::http gives a connect timeout, a whole-request timeout and
  // an idle timeout the same kDeadlineExceeded but different details (otlp/http/error.h).
  // The value's meaning belongs to the module that set it.
  uint16_t detail() const noexcept { return detail_; }
  Status&& WithDetail(uint16_t detail) && noexcept {
    detail_ = detail;
    return std::move(*this);
  }
  Status& SetDetail(uint16_t detail) & noexcept {
    detail_ = detail;
    return *this;
  }

  // "UNAVAILABLE: connection refused (retryable)"
  std::string ToString() const;

  // Marks a Status as deliberately ignored.
  void IgnoreError() const noexcept {}

 private:
  StatusCode code_ = StatusCode::kOk;
  bool retryable_ = false;
  uint16_t detail_ = 0;
  std::string message_;
};

inline Status InvalidArgumentError(std::string msg) {
  return {StatusCode::kInvalidArgument, std::move(msg)};
}
inline Status UnavailableError(std::string msg) {
  return {StatusCode::kUnavailable, std::move(msg), true};
}
inline Status DeadlineExceededError(std::string msg) {
  return {StatusCode::kDeadlineExceeded, std::move(msg), true};
}
inline Status InternalError(std::string msg) {
  return {StatusCode::kInternal, std::move(msg)};
}
inline Status FailedPreconditionError(std::string msg) {
  return {StatusCode::kFailedPrecondition, std::move(msg)};
}
inline Status NotFoundError(std::string msg) {
  return {StatusCode::kNotFound, std::move(msg)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status has no value");
  }

  bool ok() const noexcept { return v_.index() == 0; }
  // The error; an OK status when the result holds a value.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace otlp

#define OTLP_STATUS_CONCAT_INNER_(a, b) a##b
#define OTLP_STATUS_CONCAT_(a, b) OTLP_STATUS_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function when `expr` is not OK.
#define OTLP_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::otlp::Status otlp_status_ = (expr);        \
    if (!otlp_status_.ok()) return otlp_status_; \
  } while (false)

// `OTLP_ASSIGN_OR_RETURN(auto conn, Connect(opts));`
#define OTLP_ASSIGN_OR_RETURN(lhs, expr) \
  OTLP_ASSIGN_OR_RETURN_IMPL_(OTLP_STATUS_CONCAT_(otlp_result_, __LINE__), lhs, expr)
#define OTLP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
