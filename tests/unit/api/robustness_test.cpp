// Garbage in: never a crash, never an exception, and an object exactly when there is no problem.

#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/codec.h"
#include "api/codec_internal.h"
#include "unit/api/test_util.h"

namespace redisfleet::api {
namespace {

using ::testing::HasSubstr;
using testing::ProblemStrings;
using testing::ReadFixture;

// The contract of every ParsedDocument.
void ExpectConsistent(const std::vector<ParsedDocument>& docs) {
  for (const auto& d : docs) EXPECT_EQ(d.object.has_value(), d.problems.empty());
}

TEST(RobustnessTest, BinaryJunk) {
  std::mt19937 rng(12345);  // fixed seed: the same junk every run
  for (int round = 0; round < 300; ++round) {
    SCOPED_TRACE(round);
    std::string junk(1 + rng() % 400, '\0');
    for (auto& c : junk) c = static_cast<char>(rng() % 256);
    std::vector<ParsedDocument> docs;
    EXPECT_NO_THROW(docs = ParseYaml(junk, "junk"));
    ExpectConsistent(docs);
    for (const auto& d : docs) EXPECT_FALSE(d.object.has_value());
  }
}

TEST(RobustnessTest, MutatedGoodFileNeverCrashes) {
  const std::string good = ReadFixture("good.yaml");
  std::mt19937 rng(777);
  const std::string alphabet = "{}[]:-,#&*!|>'\"%@` \n\tabc019.~";
  for (int round = 0; round < 300; ++round) {
    SCOPED_TRACE(round);
    std::string text = good;
    for (int edits = 1 + rng() % 5; edits > 0; --edits) text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
    std::vector<ParsedDocument> docs;
    EXPECT_NO_THROW(docs = ParseYaml(text, "mutated"));
    ExpectConsistent(docs);
  }
}

TEST(RobustnessTest, DeepNesting) {
  struct Case {
    const char* name;
    std::string text;
  };
  const Case cases[] = {
      {"flow lists", std::string(100'000, '[')},
      {"closed flow lists", std::string(5'000, '[') + std::string(5'000, ']')},
      {"block lists", [] {
         std::string s;
         for (int i = 0; i < 3'000; ++i) s += "- ";
         return s + "x\n";
       }()},
      {"flow maps", [] {
         std::string s;
         for (int i = 0; i < 5'000; ++i) s += "{a: ";
         return s;
       }()},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto docs = ParseYaml(c.text, "deep.yaml");
    ASSERT_EQ(docs.size(), 1u);
    ExpectConsistent(docs);
    EXPECT_FALSE(docs[0].problems.empty());
  }
}

TEST(RobustnessTest, AliasBombIsStopped) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c, ++prev) {
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) text += std::string(i ? ", *" : "*") + prev;
    text += "]\n";
  }
  auto docs = ParseYaml(text, "bomb.yaml");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_THAT(ProblemStrings(docs),
              ::testing::ElementsAre("bomb.yaml: doc 1: document too large: more than 100000 nodes (aliases expanded)"));
}

TEST(RobustnessTest, AliasesWithinBudgetAreExpanded) {
  auto copied = ParseYaml(
      "apiVersion: redisfleet.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: p}\n"
      "spec:\n  targetRef: {name: cache}\n  plans:\n  - &small {name: small, memoryMiB: 64, maxClients: 10, monthlyCost: 1}\n"
      "  - *small\n",
      "f");
  EXPECT_THAT(ProblemStrings(copied),
              ::testing::ElementsAre("f: doc 1: ScalingPolicy default/p: spec.plans[1].name: duplicate plan name, also "
                                     "at spec.plans[0] (got small)"));
  auto docs = ParseYaml("apiVersion: redisfleet.io/v1alpha1\nkind: RedisInstance\nmetadata: {name: &n cache}\n"
                        "spec: {hostPool: *n}\n",
                        "f");
  ASSERT_EQ(docs.size(), 1u);
  ASSERT_TRUE(docs[0].object) << ProblemStrings(docs)[0];
  EXPECT_EQ(std::get<RedisInstance>(*docs[0].object).spec.host_pool, "cache");
}

// Every scalar leaf of a good object, replaced by values of the wrong type, is reported at its
// own path and nothing crashes.
void Leaves(const nlohmann::json& j, const std::string& path, std::vector<std::pair<std::string, nlohmann::json::json_pointer>>& out,
            const nlohmann::json::json_pointer& ptr) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      Leaves(*it, internal::JoinPath(path, it.key()), out, ptr / it.key());
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) Leaves(j[i], internal::IndexPath(path, i), out, ptr / i);
  } else {
    out.emplace_back(path, ptr);
  }
}

TEST(RobustnessTest, WrongTypesEverywhere) {
  auto docs = ParseYaml(ReadFixture("good.yaml"), "good.yaml");
  ASSERT_EQ(docs.size(), 3u);
  const std::vector<nlohmann::json> garbage = {nlohmann::json::object({{"x", 1}}), nlohmann::json::array({1, 2})};
  int checked = 0;
  for (const auto& d : docs) {
    ASSERT_TRUE(d.object);
    const nlohmann::json good = ToJson(*d.object);
    std::vector<std::pair<std::string, nlohmann::json::json_pointer>> leaves;
    Leaves(good, "", leaves, nlohmann::json::json_pointer());
    for (const auto& [path, ptr] : leaves) {
      for (const auto& g : garbage) {
        SCOPED_TRACE(path + " = " + g.dump());
        nlohmann::json bad = good;
        bad[ptr] = g;
        ParsedDocument parsed;
        EXPECT_NO_THROW(parsed = DecodeJson(bad, "f", 1));
        ExpectConsistent({parsed});
        bool at_path = false;
        for (const auto& p : parsed.problems) at_path = at_path || p.field == path;
        EXPECT_TRUE(at_path) << ::testing::PrintToString(ProblemStrings({parsed}));
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 100);
}

TEST(RobustnessTest, OddJsonInputs) {
  const nlohmann::json inputs[] = {
      nullptr, 5, "text", nlohmann::json::array(), nlohmann::json::object(),
      nlohmann::json::parse(R"({"apiVersion": 1, "kind": [], "metadata": "x", "spec": 2, "status": true})"),
      nlohmann::json::parse(R"({"apiVersion": "redisfleet.io/v1alpha1", "kind": "HostPool",
                                "metadata": {"name": "p"}, "spec": {"maxHosts": 1e300, "minHosts": -1e300,
                                "standbyHosts": 18446744073709551615}})"),
      nlohmann::json::parse(R"({"apiVersion": "redisfleet.io/v1alpha1", "kind": "HostPool",
                                "metadata": {"name": "p", "labels": null}, "status": {"hosts": [null, 1, {}]}})"),
      {{"kind", std::string("\xff\xfe bad utf8")}, {std::string("\xc3"), 1}},
  };
  for (const auto& j : inputs) {
    SCOPED_TRACE(internal::SafeDump(j));
    ParsedDocument d;
    EXPECT_NO_THROW(d = DecodeJson(j, "f", 1));
    ExpectConsistent({d});
    EXPECT_FALSE(d.problems.empty());
    EXPECT_FALSE(FromJson(j).ok());
  }
  // A deep JSON value where an object is expected is reported without walking it.
  nlohmann::json deep = nlohmann::json::array();
  for (int i = 0; i < 10'000; ++i) deep = nlohmann::json::array({std::move(deep)});
  nlohmann::json j = {{"apiVersion", "redisfleet.io/v1alpha1"}, {"kind", "HostPool"},
                      {"metadata", {{"name", "p"}}}, {"spec", {{"capacity", deep}}}};
  EXPECT_THAT(ProblemStrings({DecodeJson(j)}),
              ::testing::ElementsAre("HostPool default/p: spec.capacity: must be an object (got a list)"));
}

TEST(RobustnessTest, OutOfRangeNumbersAreProblems) {
  auto docs = ParseYaml(
      "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata: {name: p}\n"
      "spec: {maxHosts: 99999999999999999999, minHosts: 18446744073709551615}\n",
      "f");
  EXPECT_THAT(ProblemStrings(docs),
              ::testing::ElementsAre("f: doc 1: HostPool default/p: spec.minHosts: out of range (got 18446744073709551615)",
                                     "f: doc 1: HostPool default/p: spec.maxHosts: must be an integer (got 1e+20)"));
  docs = ParseYaml(
      "apiVersion: redisfleet.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: p}\n"
      "spec: {targetRef: {name: c}, plans: [{name: a, memoryMiB: 1, maxClients: 1, monthlyCost: .nan}]}\n",
      "f");
  EXPECT_THAT(ProblemStrings(docs), ::testing::ElementsAre(HasSubstr("monthlyCost: must be a finite number")));
}

}  // namespace
}  // namespace redisfleet::api
