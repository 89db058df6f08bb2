#include "common/random.h"

#include <set>

#include <gtest/gtest.h>

namespace redisfleet {
namespace {

TEST(Random, AlphaNumericPasswords) {
  CryptoRandom r;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string p = r.AlphaNumeric(40);
    ASSERT_EQ(p.size(), 40u);
    for (char c : p) ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << p;
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Random, SeededIsDeterministic) {
  SeededRandom a(42), b(42);
  EXPECT_EQ(a.Hex(16), b.Hex(16));
  EXPECT_EQ(a.Hex(4).size(), 8u);
  double d = a.NextDouble();
  EXPECT_GE(d, 0.0);
  EXPECT_LT(d, 1.0);
}

}  // namespace
}  // namespace redisfleet
