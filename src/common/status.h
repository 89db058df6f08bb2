#pragma once
// Errors are values. A Status carries a code that says what the caller should do next
// (see runtime/requeue_policy.h for the one place codes become retry behaviour).

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <tl/expected.hpp>

namespace redisfleet {

enum class StatusCode {
  kOk = 0,
  kCancelled,           // the operation was stopped (shutdown); do not retry
  kInvalidArgument,     // terminal until the user edits the resource
  kNotFound,            // the thing is not there (for deletes: already gone)
  kAlreadyExists,
  kConflict,            // stale read: re-read and retry at once
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,   // quota or rate limit: retry later
  kFailedPrecondition,  // the world is not in a state that allows this yet
  kUnavailable,         // transient: retry with backoff
  kDeadlineExceeded,    // timed out: retry with backoff
  kInternal,
  kUnimplemented,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: message", or "OK".
  std::string ToString() const;
  // The same code with "context: " prepended to the message.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status CancelledError(std::string message);
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status ConflictError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnauthenticatedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status FailedPreconditionError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status InternalError(std::string message);
Status UnimplementedError(std::string message);

// A value or an error Status. Built on tl::expected, constructible from either a T or a
// non-OK Status, so `return NotFoundError(...)` works in a function returning StatusOr<T>.
template <typename T>
class [[nodiscard]] StatusOr : public tl::expected<T, Status> {
  using Base = tl::expected<T, Status>;

 public:
  StatusOr() = delete;
  StatusOr(const T& value) : Base(value) {}  // NOLINT(google-explicit-constructor)
  StatusOr(T&& value) : Base(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  template <typename U,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, T> &&
                                        !std::is_same_v<std::decay_t<U>, Status> &&
                                        !std::is_same_v<std::decay_t<U>, StatusOr<T>>>>
  StatusOr(U&& value) : Base(T(std::forward<U>(value))) {}  // NOLINT
  StatusOr(Status status)  // NOLINT(google-explicit-constructor)
      : Base(tl::unexpect, status.ok() ? InternalError("StatusOr built from OK status")
                                       : std::move(status)) {}

  // OK when a value is held, else the error.
  Status status() const { return this->has_value() ? Status() : this->error(); }
  bool ok() const { return this->has_value(); }
};

inline const Status& ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const StatusOr<T>& s) {
  return s.status();
}

}  // namespace redisfleet

#define RF_CONCAT_INNER(a, b) a##b
#define RF_CONCAT(a, b) RF_CONCAT_INNER(a, b)

// Returns the error of `expr` (a Status or StatusOr) from the enclosing function.
#define RF_RETURN_IF_ERROR(expr)                                  \
  do {                                                            \
    ::redisfleet::Status rf_status_ = ::redisfleet::ToStatus(expr); \
    if (!rf_status_.ok()) return rf_status_;                      \
  } while (0)

// `RF_ASSIGN_OR_RETURN(auto x, Foo());` declares x from Foo()'s value or returns its error.
#define RF_ASSIGN_OR_RETURN(lhs, expr) \
  RF_ASSIGN_OR_RETURN_IMPL(RF_CONCAT(rf_statusor_, __LINE__), lhs, expr)
#define RF_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.has_value()) return tmp.error();      \
  lhs = std::move(*tmp)
