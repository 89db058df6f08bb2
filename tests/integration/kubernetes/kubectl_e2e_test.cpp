// Kubernetes mode end to end: the real kubectl and the real redis-fleet binary against the fake
// API server (tests/fakes/kube-apiserver) serving the repository's CRDs. RedisInstances use the
// embedded local pool, so each is a real redis-server process on 127.0.0.1.

#include <csignal>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "redis/client.h"
#include "support/harness.h"

namespace redisfleet {
namespace {

using ::testing::HasSubstr;
using testing::Child;
using testing::RunCommand;
using testing::TempDir;
using testing::WaitUntil;
using testing::WriteText;

std::string Base64Decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    auto pos = chars.find(c);
    if (pos == std::string::npos) break;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string Instance(const std::string& name, int mib, const std::string& extra = "") {
  return "apiVersion: redisfleet.io/v1alpha1\nkind: RedisInstance\nmetadata:\n  name: " + name +
         "\n  namespace: default\nspec:\n  hostPool: local\n  memoryMiB: " + std::to_string(mib) +
         "\n  maxClients: 20\n  persistence: none\n" + extra;
}

class KubernetesE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(home_);
    api_ = std::make_unique<Child>(std::vector<std::string>{FAKE_APISERVER_BIN, "--listen", "127.0.0.1:0",
                                                            "--crds", testing::SourceDir() + "/crds"},
                                   root_ / "apiserver.log");
    ASSERT_TRUE(WaitUntil([&] { return api_->Log().find("http://") != std::string::npos; })) << api_->Log();
    const std::string log = api_->Log();
    url_ = log.substr(log.find("http://"));
    url_ = url_.substr(0, url_.find_first_of("\r\n"));
    WriteText(kubeconfig_,
              "apiVersion: v1\nkind: Config\n"
              "clusters: [{name: fake, cluster: {server: \"" + url_ + "\"}}]\n"
              "users: [{name: tester, user: {token: e2e-token}}]\n"
              "contexts: [{name: fake, context: {cluster: fake, user: tester, namespace: default}}]\n"
              "current-context: fake\n");
  }
  void TearDown() override {
    // Remove what is left so no redis-server outlives the test.
    Kubectl({"delete", "redisinstances", "--all", "--wait=false"});
    for (auto& op : operators_) {
      if (op) op->Signal(SIGKILL);
    }
    RunCommand({"pkill", "-f", state_});
  }

  testing::CommandResult Kubectl(std::vector<std::string> args) {
    std::vector<std::string> argv{"env", "HOME=" + home_, "KUBECONFIG=" + kubeconfig_, "kubectl",
                                  "--cache-dir=" + home_ + "/cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }
  testing::CommandResult Apply(const std::string& yaml) {
    const std::string file = root_ / ("apply-" + std::to_string(++applies_) + ".yaml");
    WriteText(file, yaml);
    return Kubectl({"apply", "-f", file});
  }
  std::string Jsonpath(const std::string& what, const std::string& path) {
    return Kubectl({"get", what, "-o", "jsonpath={" + path + "}"}).out;
  }

  // An operator process; `i` picks its log and health port.
  void StartOperator(int i, const std::vector<std::string>& extra = {}) {
    health_[i] = testing::FreePort();
    std::vector<std::string> argv{testing::BinaryPath(), "run", "--kubernetes", "--kubeconfig", kubeconfig_,
                                  "--state-dir", state_, "--health-addr",
                                  "127.0.0.1:" + std::to_string(health_[i]), "--metrics-addr",
                                  "127.0.0.1:" + std::to_string(testing::FreePort()),
                                  "--leader-election-id", "e2e-leader", "--log-level", "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    operators_[i] = std::make_unique<Child>(argv, root_ / ("operator-" + std::to_string(i) + ".log"));
    ASSERT_TRUE(WaitUntil([&] { return testing::HttpGet(health_[i], "/readyz").first == 200; }))
        << operators_[i]->Log();
  }
  std::string Logs() {
    std::string all = api_->Log().substr(0, 2000);
    for (auto& op : operators_)
      if (op) all += "\n----\n" + op->Log();
    return all.size() > 30000 ? all.substr(all.size() - 30000) : all;
  }
  StatusOr<std::unique_ptr<redis::RedisClient>> Connect(const std::string& name) {
    const std::string port = Jsonpath("redisinstance/" + name, ".status.endpoint.port");
    const std::string password =
        Base64Decode(Jsonpath("secret/" + name + "-connection", ".data.password"));
    if (port.empty() || password.empty()) return UnavailableError("no endpoint or secret yet");
    return redis::RedisClient::Connect({"127.0.0.1", std::stoi(port), "", password, std::chrono::seconds(2)});
  }

  TempDir root_;
  std::string home_ = root_ / "home";
  std::string kubeconfig_ = root_ / "kubeconfig";
  std::string state_ = root_ / "state";
  std::string url_;
  int applies_ = 0;
  std::unique_ptr<Child> api_;
  std::unique_ptr<Child> operators_[2];
  int health_[2] = {0, 0};
};

TEST_F(KubernetesE2E, ApplyWaitGetSecretPatchRejectDelete) {
  StartOperator(0);
  auto applied = Apply(Instance("cache", 32));
  ASSERT_EQ(applied.exit_code, 0) << applied.err;

  auto waited = Kubectl({"wait", "--for=condition=Ready", "redisinstance/cache", "--timeout=90s"});
  ASSERT_EQ(waited.exit_code, 0) << waited.out << waited.err << Logs();

  // Printer columns.
  auto table = Kubectl({"get", "ri"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("PHASE"));
  EXPECT_THAT(table.out, HasSubstr("ENDPOINT"));
  EXPECT_THAT(table.out, HasSubstr("Ready"));

  // Decisions are Events on the instance.
  EXPECT_TRUE(WaitUntil([&] {
    auto events = nlohmann::json::parse(Kubectl({"get", "events", "-o", "json"}).out, nullptr, false);
    if (!events.is_object()) return false;
    for (const auto& e : events["items"]) {
      if (e["involvedObject"]["name"] == "cache" && e["reason"] == "Running" && e["type"] == "Normal") return true;
    }
    return false;
  })) << Kubectl({"get", "events"}).out;

  // The connection Secret works.
  auto client = Connect("cache");
  ASSERT_TRUE(client.ok()) << client.status().ToString() << Logs();
  ASSERT_TRUE((*client)->Ping().ok());
  ASSERT_TRUE((*client)->Command({"SET", "kept", "1"}).ok());
  EXPECT_EQ(Logs().find(Base64Decode(Jsonpath("secret/cache-connection", ".data.password"))), std::string::npos)
      << "password in a log";

  // A connection Secret someone deletes is written back at once (the operator watches them).
  const std::string secret_uid = Jsonpath("secret/cache-connection", ".metadata.uid");
  ASSERT_EQ(Kubectl({"delete", "secret", "cache-connection"}).exit_code, 0);
  ASSERT_TRUE(WaitUntil([&] {
    const std::string uid = Jsonpath("secret/cache-connection", ".metadata.uid");
    return !uid.empty() && uid != secret_uid;
  }, std::chrono::seconds(20))) << Logs();
  EXPECT_TRUE(Connect("cache").ok());

  // kubectl patch resizes in place.
  auto patched = Kubectl({"patch", "redisinstance", "cache", "--type=merge", "-p", R"({"spec":{"memoryMiB":48}})"});
  ASSERT_EQ(patched.exit_code, 0) << patched.err;
  ASSERT_TRUE(WaitUntil([&] {
    auto v = (*client)->ConfigGet("maxmemory");
    return v.ok() && *v == std::to_string(48 * 1024 * 1024);
  }, std::chrono::seconds(60))) << Logs();
  EXPECT_EQ((*client)->Command({"GET", "kept"})->str, "1");

  // An invalid resource is refused by the API with the schema error.
  auto bad = Apply(Instance("bad", -5));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("memoryMiB"));

  // A cut watch stream is resumed: a change made right after is still acted on.
  ASSERT_EQ(RunCommand({"curl", "-s", "-X", "POST", url_ + "/fake/cut-watches"}).exit_code, 0);
  ASSERT_EQ(Kubectl({"patch", "redisinstance", "cache", "--type=merge", "-p", R"({"spec":{"memoryMiB":40}})"})
                .exit_code,
            0);
  ASSERT_TRUE(WaitUntil([&] {
    auto v = (*client)->ConfigGet("maxmemory");
    return v.ok() && *v == std::to_string(40 * 1024 * 1024);
  }, std::chrono::seconds(60))) << Logs();

  // kubectl delete runs the cleanup (finalizer) and the Redis is gone.
  auto deleted = Kubectl({"delete", "redisinstance", "cache", "--timeout=60s"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err << Logs();
  EXPECT_FALSE((*client)->Ping().ok());
  EXPECT_NE(Kubectl({"get", "redisinstance", "cache"}).exit_code, 0);
}

TEST_F(KubernetesE2E, OnlyTheLeaderReconcilesAndAnotherTakesOverAfterKill9) {
  StartOperator(0);
  ASSERT_TRUE(WaitUntil([&] { return !Jsonpath("lease/e2e-leader", ".spec.holderIdentity").empty(); },
                        std::chrono::seconds(30)));
  StartOperator(1);
  ASSERT_EQ(Apply(Instance("one", 16)).exit_code, 0);
  ASSERT_EQ(Kubectl({"wait", "--for=condition=Ready", "redisinstance/one", "--timeout=90s"}).exit_code, 0)
      << Logs();
  // Exactly one of them acted.
  const bool first_acted = operators_[0]->Log().find("instance ready") != std::string::npos;
  const bool second_acted = operators_[1]->Log().find("instance ready") != std::string::npos;
  EXPECT_TRUE(first_acted != second_acted) << Logs();
  const int leader = first_acted ? 0 : 1;
  const std::string holder = Jsonpath("lease/e2e-leader", ".spec.holderIdentity");

  operators_[leader]->Signal(SIGKILL);
  operators_[leader]->Wait(std::chrono::seconds(10));
  // The other takes over after the 15 s lease expires, within 20 s.
  ASSERT_TRUE(WaitUntil([&] {
    auto h = Jsonpath("lease/e2e-leader", ".spec.holderIdentity");
    return !h.empty() && h != holder;
  }, std::chrono::seconds(20))) << Logs();
  ASSERT_EQ(Apply(Instance("two", 16)).exit_code, 0);
  ASSERT_EQ(Kubectl({"wait", "--for=condition=Ready", "redisinstance/two", "--timeout=60s"}).exit_code, 0)
      << Logs();
  EXPECT_THAT(operators_[1 - leader]->Log(), HasSubstr("instance ready"));
}

TEST_F(KubernetesE2E, SelfServiceCreatesAndDeletesInstancesThroughTheApi) {
  const int port = testing::FreePort();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  StartOperator(0, {"--self-service-addr", "127.0.0.1:" + std::to_string(port)});

  auto created = RunCommand({"curl", "-s", "-X", "POST", base + "/v1/instances"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto body = nlohmann::json::parse(created.out, nullptr, false);
  ASSERT_TRUE(body.is_object() && body.contains("name")) << created.out << Logs();
  const std::string name = body["name"];

  // It is a RedisInstance in the API, owned by the requester, like any other.
  EXPECT_EQ(Jsonpath("redisinstance/" + name, ".spec.requester"), "127.0.0.1");
  EXPECT_EQ(Jsonpath("redisinstance/" + name, ".spec.hostPool"), "local");

  nlohmann::json ready;
  ASSERT_TRUE(WaitUntil([&] {
    auto got = RunCommand({"curl", "-s", base + "/v1/instances/" + name});
    ready = nlohmann::json::parse(got.out, nullptr, false);
    return ready.is_object() && ready.value("phase", "") == "Ready";
  }, std::chrono::seconds(60))) << ready.dump() << Logs();
  auto client = redis::RedisClient::Connect({"127.0.0.1", ready["port"].get<int>(), "",
                                             ready["password"].get<std::string>(), std::chrono::seconds(2)});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_TRUE((*client)->Ping().ok());

  auto removed = RunCommand({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE",
                             base + "/v1/instances/" + name});
  EXPECT_EQ(removed.out, "204");
  ASSERT_TRUE(WaitUntil([&] { return Kubectl({"get", "redisinstance", name}).exit_code != 0; },
                        std::chrono::seconds(60))) << Logs();
  EXPECT_FALSE((*client)->Ping().ok());
}

}  // namespace
}  // namespace redisfleet
