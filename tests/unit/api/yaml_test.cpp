// YAML scalar typing, YAML writing, did-you-mean, paths and times.

#include <chrono>
#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/codec_internal.h"

namespace redisfleet::api::internal {
namespace {

using json = nlohmann::json;

json Value(const std::string& yaml) {
  auto docs = YamlToJson("v: " + yaml + "\n", "f");
  EXPECT_EQ(docs.size(), 1u);
  if (docs.size() != 1) return nullptr;
  for (const auto& p : docs[0].problems) ADD_FAILURE() << p.ToString();
  return docs[0].value["v"];
}

TEST(YamlScalarTest, PlainScalarsAreTypedByLookQuotedOnesAreStrings) {
  struct Case {
    std::string yaml;
    json want;
  };
  const Case cases[] = {
      {"64", 64},
      {"-5", -5},
      {"+7", 7},
      {"007", 7},
      {"0x1F", 31},
      {"0o17", 15},
      {"18446744073709551615", 18446744073709551615ull},
      {"1.5", 1.5},
      {"1e3", 1000.0},
      {".5", 0.5},
      {"-2.", -2.0},
      {"true", true},
      {"False", false},
      {"TRUE", true},
      {"null", nullptr},
      {"~", nullptr},
      {"", nullptr},
      {"yes", "yes"},
      {"on", "on"},
      {"0.0.0.0", "0.0.0.0"},
      {"redis:7", "redis:7"},
      {"1e", "1e"},
      {"0x", "0x"},
      {"\"64\"", "64"},
      {"'true'", "true"},
      {"!!str 64", "64"},
      {"\"\"", ""},
      {"'null'", "null"},
      {"[1, a, \"2\"]", json::array({1, "a", "2"})},
      {"{a: 1}", json::object({{"a", 1}})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    EXPECT_EQ(Value(c.yaml), c.want);
  }
  EXPECT_EQ(ScalarByLook("-"), "-");
  EXPECT_EQ(ScalarByLook("-.inf"), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isinf(Value(".inf").get<double>()));
  EXPECT_TRUE(std::isnan(Value(".nan").get<double>()));
}

TEST(YamlScalarTest, MapKeysAreTheirText) {
  auto docs = YamlToJson("1: a\ntrue: b\n~: c\n\"x y\": d\n", "f");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].value, json::parse(R"({"1": "a", "true": "b", "null": "c", "x y": "d"})"));
}

TEST(JsonToYamlTest, ReadsBackExactly) {
  const json values[] = {
      json::parse(R"({"a": [1, [2, [3, {}]], {"b": [], "c": {"d": null}}], "e": -1.25, "f": "- x"})"),
      json::parse(R"([["a", "b"], [{"k": "v", "l": ["m"]}]])"),
      json::parse(R"({"s": ["", " ", "#", "&a", "*a", "!t", "|", ">", "%", "@", "`", "?", ",", "a,b",
                          "yes", "No", "ON", "12:30", "2026-01-02", "1_000", "0777", "-", "--", "---", "...",
                          "\u0001", "tab\there", "x: y", "x #y", "x:", "日本", "a\\b", "\"q\""]})"),
      json::parse(R"({"": 1, "a b": 2, "x: y": 3, "- k": 4, "123": 5})"),
      "scalar", 5, nullptr,
  };
  for (const auto& v : values) {
    SCOPED_TRACE(v.dump());
    const std::string yaml = JsonToYaml(v);
    SCOPED_TRACE(yaml);
    auto docs = YamlToJson(yaml, "f");
    ASSERT_EQ(docs.size(), 1u);
    for (const auto& p : docs[0].problems) ADD_FAILURE() << p.ToString();
    EXPECT_EQ(docs[0].value, v);
  }
}

TEST(JsonToYamlTest, QuotesWhatYaml11ToolsWouldMisread) {
  EXPECT_EQ(JsonToYaml(json::parse(R"({"a": "yes", "b": "10.0.0.7", "c": "redis:7", "d": "s-1vcpu-1gb"})")),
            "a: \"yes\"\nb: \"10.0.0.7\"\nc: redis:7\nd: s-1vcpu-1gb\n");
}

TEST(DidYouMeanTest, SuggestsCloseNamesOnly) {
  const std::vector<std::string> fields = {"memoryMiB", "maxClients", "hostPool", "heroku", "plan"};
  struct Case {
    std::string name;
    std::string want;
  };
  const Case cases[] = {
      {"memoryMB", " (did you mean memoryMiB?)"},
      {"maxclients", " (did you mean maxClients?)"},
      {"hostpool", " (did you mean hostPool?)"},
      {"host_pool", " (did you mean hostPool?)"},
      {"plans", " (did you mean plan?)"},
      {"replicas", ""},
      {"x", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(DidYouMean(c.name, fields), c.want);
  }
  EXPECT_EQ(DidYouMean("a", {}), "");
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("ABC", "abc"), 0u);
}

TEST(PathTest, JoinsAndQuotes) {
  EXPECT_EQ(JoinPath("", "spec"), "spec");
  EXPECT_EQ(JoinPath("spec", "memoryMiB"), "spec.memoryMiB");
  EXPECT_EQ(JoinPath("metadata.labels", "app.kubernetes.io/name"), "metadata.labels[\"app.kubernetes.io/name\"]");
  EXPECT_EQ(JoinPath("a", ""), "a[\"\"]");
  EXPECT_EQ(IndexPath("spec.plans", 1), "spec.plans[1]");
}

TEST(GotTest, ShowsValuesButNotSecrets) {
  struct Case {
    json value;
    std::string path;
    std::string want;
  };
  const Case cases[] = {
      {"abc", "spec.memoryMiB", "(got \"abc\")"},
      {5, "spec.x", "(got 5)"},
      {json::array(), "spec.x", "(got a list)"},
      {json::object(), "spec.x", "(got an object)"},
      {nullptr, "spec.x", "(got null)"},
      {"hunter2", "spec.passwordSecretRef", "(got a string)"},
      {"tok", "spec.digitalocean.tokenSecretRef", "(got a string)"},
      {12, "spec.heroku.apiKeySecretRef", "(got a number)"},
      {"redis://u:pw@h:1", "spec.url", "(got \"redis://u:[REDACTED]@h:1\")"},
      {std::string(200, 'x'), "spec.x", "(got \"" + std::string(76, 'x') + "...)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(Got(c.value, c.path), c.want);
  }
}

TEST(TimeTest, EncodesLosslesslyAndParsesStrictly) {
  using std::chrono::nanoseconds;
  using std::chrono::seconds;
  const TimePoint t0 = TimePoint(seconds(1'800'000'000));
  struct Case {
    TimePoint t;
    std::string text;
  };
  const Case cases[] = {
      {t0, "2027-01-15T08:00:00Z"},
      {t0 + nanoseconds(500'000'000), "2027-01-15T08:00:00.5Z"},
      {t0 + nanoseconds(1), "2027-01-15T08:00:00.000000001Z"},
      {TimePoint{}, "1970-01-01T00:00:00Z"},
      {TimePoint(seconds(-1)) + nanoseconds(250'000'000), "1969-12-31T23:59:59.25Z"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(EncodeTime(c.t), c.text);
    EXPECT_EQ(DecodeTime(c.text), c.t);
  }
  EXPECT_EQ(DecodeTime("2027-01-15T08:00:00+00:00"), t0);
  for (const char* bad : {"", "2027-01-15", "2027-01-15 08:00:00Z", "2027-13-01T00:00:00Z", "2027-02-29T00:00:00Z",
                          "2027-01-15T24:00:00Z", "2027-01-15T08:00:00", "2027-01-15T08:00:00+02:00",
                          "2027-01-15T08:00:00.Z", "9999-01-01T00:00:00Z", " 2027-01-15T08:00:00Z", "2027-1-15T08:00:00Z"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(DecodeTime(bad).has_value());
  }
  EXPECT_TRUE(DecodeTime("2028-02-29T00:00:00Z").has_value());
}

TEST(DnsLabelTest, Rules) {
  for (const std::string& ok : {std::string("a"), std::string("cache"), std::string("a-1"), std::string("0abc"),
                                std::string(63, 'x')}) {
    SCOPED_TRACE(ok);
    EXPECT_TRUE(IsDns1123Label(ok));
  }
  for (std::string bad : {std::string(""), std::string("A"), std::string("-a"), std::string("a-"), std::string("a_b"),
                          std::string("a.b"), std::string(64, 'x')}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(IsDns1123Label(bad));
  }
}

}  // namespace
}  // namespace redisfleet::api::internal
