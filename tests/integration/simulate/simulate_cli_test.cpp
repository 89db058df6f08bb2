// `redis-fleet simulate` as a user runs it: the shipped example policy and diurnal trace, text,
// JSON (the RESOURCES.md object) and the SVG plot; bad input exits 1 naming the file and field.

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/harness.h"

namespace redisfleet {
namespace {

using ::testing::HasSubstr;
using testing::RunCommand;

std::string Example(const std::string& file) { return testing::SourceDir() + "/examples/simulate/" + file; }

TEST(SimulateCli, ShippedDiurnalTraceAsJsonTextAndPlot) {
  testing::TempDir dir;
  const std::string svg = dir / "plot.svg";
  auto json_run = RunCommand({testing::BinaryPath(), "simulate", "--policy", Example("policy.yaml"), "--trace",
                              Example("diurnal.csv"), "-o", "json", "--plot", svg});
  ASSERT_EQ(json_run.exit_code, 0) << json_run.err;
  auto j = nlohmann::json::parse(json_run.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << json_run.out;
  for (const char* key : {"total_cost", "always_max_cost", "optimal_cost", "breach_seconds", "changes", "decisions"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j.size(), 6u) << "exactly the RESOURCES.md keys";
  const double total = j["total_cost"], always_max = j["always_max_cost"], optimal = j["optimal_cost"];
  EXPECT_LE(optimal, total);
  EXPECT_LT(total, always_max);
  ASSERT_FALSE(j["decisions"].empty());
  EXPECT_EQ(j["changes"].get<size_t>(), j["decisions"].size());
  for (const auto& d : j["decisions"]) {
    EXPECT_TRUE(d.contains("time") && d.contains("from") && d.contains("to") && d.contains("reason")) << d.dump();
    EXPECT_NE(d["from"], d["to"]);
  }
  const std::string plot = testing::ReadText(svg);
  EXPECT_EQ(plot.rfind("<svg", 0), 0u);
  EXPECT_THAT(plot, HasSubstr("</svg>"));

  auto text_run = RunCommand({testing::BinaryPath(), "simulate", "--policy", Example("policy.yaml"), "--trace",
                              Example("diurnal.csv")});
  ASSERT_EQ(text_run.exit_code, 0) << text_run.err;
  EXPECT_THAT(text_run.out, HasSubstr("total cost"));
}

TEST(SimulateCli, BadTraceNamesFileLineAndField) {
  testing::TempDir dir;
  const std::string csv = dir / "bad.csv";
  testing::WriteText(csv, "timestamp,used_memory_bytes,connected_clients\n0,100,1\n60,lots,1\n");
  auto run = RunCommand({testing::BinaryPath(), "simulate", "--policy", Example("policy.yaml"), "--trace", csv});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("bad.csv:3"));
  EXPECT_THAT(run.err, HasSubstr("used_memory_bytes"));
}

}  // namespace
}  // namespace redisfleet
