#include "common/status.h"

#include <gtest/gtest.h>

namespace redisfleet {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd: " + std::to_string(x));
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  RF_ASSIGN_OR_RETURN(int h, Half(x));
  RF_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckQuarter(int x) {
  RF_RETURN_IF_ERROR(Quarter(x));
  return Status::Ok();
}

TEST(Status, ValuesAndErrorsPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message(), "odd: 3");
  EXPECT_TRUE(CheckQuarter(4).ok());
  EXPECT_EQ(CheckQuarter(5).code(), StatusCode::kInvalidArgument);
}

TEST(Status, ToStringAndContext) {
  EXPECT_EQ(Status().ToString(), "OK");
  EXPECT_EQ(NotFoundError("x").ToString(), "NOT_FOUND: x");
  EXPECT_EQ(UnavailableError("down").WithContext("docker h1").ToString(), "UNAVAILABLE: docker h1: down");
  EXPECT_TRUE(Status().WithContext("ignored").ok());
}

TEST(Status, StatusOrFromOkStatusIsAnInternalError) {
  StatusOr<int> s = Status::Ok();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace redisfleet
