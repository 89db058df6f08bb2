#pragma once
// Shared helpers of the api/ unit tests.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/codec.h"

namespace redisfleet::api::testing {

// The text of tests/testdata/api/<name>; fails the test when it can't be read.
inline std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(REDISFLEET_API_TESTDATA) + "/" + name);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every problem of every document, as ToString().
inline std::vector<std::string> ProblemStrings(const std::vector<ParsedDocument>& docs) {
  std::vector<std::string> out;
  for (const auto& d : docs)
    for (const auto& p : d.problems) out.push_back(p.ToString());
  return out;
}

// The single object of a one-document text; fails the test (listing the problems) otherwise.
inline std::optional<Object> ParseOne(const std::string& yaml) {
  auto docs = ParseYaml(yaml, "test.yaml");
  EXPECT_EQ(docs.size(), 1u);
  if (docs.size() != 1) return std::nullopt;
  for (const auto& p : docs[0].problems) ADD_FAILURE() << p.ToString();
  return docs[0].object;
}

// Field-wise metadata equality (ObjectMeta has no operator==).
inline void ExpectMetaEq(const ObjectMeta& a, const ObjectMeta& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.namespace_, b.namespace_);
  EXPECT_EQ(a.uid, b.uid);
  EXPECT_EQ(a.generation, b.generation);
  EXPECT_EQ(a.resource_version, b.resource_version);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.annotations, b.annotations);
  EXPECT_EQ(a.finalizers, b.finalizers);
  EXPECT_EQ(a.creation_timestamp, b.creation_timestamp);
  EXPECT_EQ(a.deletion_timestamp, b.deletion_timestamp);
}

// Whole-object equality: kind, metadata, spec and status.
inline void ExpectObjectEq(const Object& a, const Object& b) {
  ASSERT_EQ(KindOf(a), KindOf(b));
  ExpectMetaEq(MetaOf(a), MetaOf(b));
  std::visit(
      [&](const auto& x) {
        const auto& y = std::get<std::decay_t<decltype(x)>>(b);
        EXPECT_TRUE(x.spec == y.spec) << "spec differs";
        EXPECT_TRUE(x.status == y.status) << "status differs";
      },
      a);
}

}  // namespace redisfleet::api::testing
