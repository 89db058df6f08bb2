#include "kube/config.h"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/harness.h"

namespace redisfleet::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using redisfleet::testing::TempDir;
using redisfleet::testing::WriteText;

constexpr const char* kToken = "s3cr3t-token-value";
// base64("CA PEM"), base64("CERT PEM"), base64("KEY PEM")
constexpr const char* kCaB64 = "Q0EgUEVN";
constexpr const char* kCertB64 = "Q0VSVCBQRU0=";
constexpr const char* kKeyB64 = "S0VZIFBFTQ==";

GetEnv FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string Kubeconfig(const std::string& cluster, const std::string& user,
                       const std::string& context_extra = "", const std::string& current = "dev") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: " + current +
         "\nclusters:\n- name: c1\n  cluster:\n" + cluster +
         "users:\n- name: u1\n  user:\n" + user +
         "contexts:\n- name: dev\n  context:\n    cluster: c1\n    user: u1\n" + context_extra +
         "- name: other\n  context:\n    cluster: c1\n    user: u1\n    namespace: other-ns\n";
}

TEST(Base64Test, Decodes) {
  EXPECT_EQ(*Base64Decode("Q0EgUEVN"), "CA PEM");
  EXPECT_EQ(*Base64Decode("S0VZIFBF\nTQ=="), "KEY PEM");
  EXPECT_EQ(*Base64Decode("S0VZIFBFTQ"), "KEY PEM");
  EXPECT_FALSE(Base64Decode("not*base64").ok());
  EXPECT_FALSE(Base64Decode("QQ=A").ok());
}

struct KubeconfigCase {
  std::string name{};
  std::string yaml{};
  std::string context{};
  // expectations when ok
  std::string server{}, ca_pem{}, ca_file{}, cert_pem{}, key_pem{}, cert_file{}, key_file{}, token{}, ns{};
  bool insecure = false;
  // expectations on error
  std::optional<StatusCode> error{};
  std::string error_has{};
};

TEST(KubeconfigTest, Table) {
  TempDir dir;
  WriteText(dir / "ca.crt", "CA FILE");
  WriteText(dir / "client.crt", "CERT FILE");
  WriteText(dir / "client.key", "KEY FILE");
  WriteText(dir / "token", std::string(kToken) + "\n");
  const std::string token_user = std::string("    token: ") + kToken + "\n";
  const std::string server = "    server: https://127.0.0.1:6443/\n";
  std::vector<KubeconfigCase> cases = {
      {.name = "token, CA data, context namespace",
       .yaml = Kubeconfig(server + "    certificate-authority-data: " + kCaB64 + "\n", token_user,
                          "    namespace: team-a\n"),
       .server = "https://127.0.0.1:6443", .ca_pem = "CA PEM", .token = kToken, .ns = "team-a"},
      {.name = "client certificate and key data, default namespace",
       .yaml = Kubeconfig(server, std::string("    client-certificate-data: ") + kCertB64 +
                                      "\n    client-key-data: " + kKeyB64 + "\n"),
       .server = "https://127.0.0.1:6443", .cert_pem = "CERT PEM", .key_pem = "KEY PEM", .ns = "default"},
      {.name = "relative files resolve against the kubeconfig's directory",
       .yaml = Kubeconfig(server + "    certificate-authority: ca.crt\n",
                          "    client-certificate: client.crt\n    client-key: " + dir.path() +
                              "/client.key\n    tokenFile: token\n"),
       .server = "https://127.0.0.1:6443", .ca_file = dir / "ca.crt", .cert_file = dir / "client.crt",
       .key_file = dir / "client.key", .token = kToken, .ns = "default"},
      {.name = "insecure-skip-tls-verify and an explicit context",
       .yaml = Kubeconfig(server + "    insecure-skip-tls-verify: true\n", token_user),
       .context = "other",
       .server = "https://127.0.0.1:6443", .token = kToken, .ns = "other-ns", .insecure = true},
      {.name = "no current-context",
       .yaml = Kubeconfig(server, token_user, "", "\"\""),
       .error = StatusCode::kInvalidArgument, .error_has = "current-context is not set"},
      {.name = "unknown current-context",
       .yaml = Kubeconfig(server, token_user, "", "prod"),
       .error = StatusCode::kInvalidArgument, .error_has = "current-context: no context named \"prod\""},
      {.name = "unknown explicit context",
       .yaml = Kubeconfig(server, token_user), .context = "nope",
       .error = StatusCode::kInvalidArgument, .error_has = "context: no context named \"nope\""},
      {.name = "missing server",
       .yaml = Kubeconfig("    insecure-skip-tls-verify: true\n", token_user),
       .error = StatusCode::kInvalidArgument, .error_has = "clusters[name=c1].cluster.server: required"},
      {.name = "bad base64 in certificate-authority-data",
       .yaml = Kubeconfig(server + "    certificate-authority-data: '***'\n", token_user),
       .error = StatusCode::kInvalidArgument,
       .error_has = "clusters[name=c1].cluster.certificate-authority-data: not valid base64"},
      {.name = "missing CA file",
       .yaml = Kubeconfig(server + "    certificate-authority: nope.crt\n", token_user),
       .error = StatusCode::kInvalidArgument,
       .error_has = "clusters[name=c1].cluster.certificate-authority: file " + dir.path() + "/nope.crt does not exist"},
      {.name = "certificate without key",
       .yaml = Kubeconfig(server, token_user + "    client-certificate-data: " + kCertB64 + "\n"),
       .error = StatusCode::kInvalidArgument, .error_has = "users[name=u1].user: client-certificate without client-key"},
      {.name = "exec plugins are not supported",
       .yaml = Kubeconfig(server, "    exec:\n      command: aws\n"),
       .error = StatusCode::kUnimplemented, .error_has = "users[name=u1].user.exec: not supported"},
      {.name = "insecure flag not a bool",
       .yaml = Kubeconfig(server + "    insecure-skip-tls-verify: maybe\n", token_user),
       .error = StatusCode::kInvalidArgument,
       .error_has = "clusters[name=c1].cluster.insecure-skip-tls-verify: must be true or false"},
      {.name = "clusters not a list",
       .yaml = std::string("clusters: {a: 1}\ncurrent-context: dev\nusers:\n- name: u1\n  user:\n") + token_user,
       .error = StatusCode::kInvalidArgument, .error_has = "clusters: must be a list"},
      {.name = "not YAML",
       .yaml = std::string("users:\n- name: u1\n  user:\n    token: ") + kToken + "\n  : : [\n",
       .error = StatusCode::kInvalidArgument, .error_has = "not valid YAML"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = dir / "config";
    WriteText(path, c.yaml);
    auto config = LoadKubeconfig({path}, c.context);
    if (c.error) {
      ASSERT_FALSE(config.ok());
      EXPECT_EQ(config.error().code(), *c.error) << config.error().ToString();
      EXPECT_THAT(config.error().message(), HasSubstr(c.error_has));
      EXPECT_THAT(config.error().message(), HasSubstr(path));
      EXPECT_THAT(config.error().message(), Not(HasSubstr(kToken)));
      continue;
    }
    ASSERT_TRUE(config.ok()) << config.error().ToString();
    EXPECT_EQ(config->server, c.server);
    EXPECT_EQ(config->ca_pem, c.ca_pem);
    EXPECT_EQ(config->ca_file, c.ca_file);
    EXPECT_EQ(config->cert_pem, c.cert_pem);
    EXPECT_EQ(config->key_pem, c.key_pem);
    EXPECT_EQ(config->cert_file, c.cert_file);
    EXPECT_EQ(config->key_file, c.key_file);
    EXPECT_EQ(config->bearer_token, c.token);
    EXPECT_EQ(config->namespace_name, c.ns);
    EXPECT_EQ(config->insecure_skip_tls_verify, c.insecure);
    EXPECT_THAT(config->source, HasSubstr(path));
  }
}

TEST(KubeconfigTest, MergesFilesFirstWins) {
  TempDir dir;
  // The first file sets current-context and a cluster; the second repeats the cluster name
  // (ignored) and supplies the context and user.
  WriteText(dir / "a", "current-context: dev\nclusters:\n- name: c1\n  cluster:\n    server: https://a:1\n");
  WriteText(dir / "b",
            "current-context: other\nclusters:\n- name: c1\n  cluster:\n    server: https://b:2\n"
            "users:\n- name: u1\n  user:\n    token: tok-b\n"
            "contexts:\n- name: dev\n  context:\n    cluster: c1\n    user: u1\n");
  auto config = LoadKubeconfig({dir / "missing", dir / "a", dir / "b"});
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->server, "https://a:1");
  EXPECT_EQ(config->bearer_token, "tok-b");

  auto none = LoadKubeconfig({dir / "missing"});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), StatusCode::kNotFound);
}

TEST(KubeconfigTest, DefaultResolutionOrder) {
  TempDir dir;
  WriteText(dir / "cfg", Kubeconfig("    server: https://kc:1\n", "    token: t\n"));
  std::filesystem::create_directories(dir / "home/.kube");
  WriteText(dir / "home/.kube/config", Kubeconfig("    server: https://home:1\n", "    token: t\n"));
  const std::string sa = dir / "var/run/secrets/kubernetes.io/serviceaccount";
  std::filesystem::create_directories(sa);
  WriteText(sa + "/token", "sa-token");

  auto explicit_path = LoadDefaultConfig(dir / "cfg", "", FakeEnv({{"KUBECONFIG", "/nope"}}));
  ASSERT_TRUE(explicit_path.ok()) << explicit_path.error().ToString();
  EXPECT_EQ(explicit_path->server, "https://kc:1");

  auto missing = LoadDefaultConfig(dir / "nope", "", FakeEnv({}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);

  auto from_env = LoadDefaultConfig("", "", FakeEnv({{"KUBECONFIG", "/nope:" + (dir / "cfg")}}));
  ASSERT_TRUE(from_env.ok()) << from_env.error().ToString();
  EXPECT_EQ(from_env->server, "https://kc:1");

  auto in_cluster = LoadDefaultConfig(
      "", "",
      FakeEnv({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"},
               {"HOME", dir / "home"}}),
      dir.path());
  ASSERT_TRUE(in_cluster.ok()) << in_cluster.error().ToString();
  EXPECT_EQ(in_cluster->source, "in-cluster");

  auto home = LoadDefaultConfig("", "", FakeEnv({{"HOME", dir / "home"}}));
  ASSERT_TRUE(home.ok()) << home.error().ToString();
  EXPECT_EQ(home->server, "https://home:1");
}

TEST(InClusterTest, ReadsServiceAccountUnderInjectedRoot) {
  TempDir dir;
  const std::string sa = dir / "var/run/secrets/kubernetes.io/serviceaccount";
  std::filesystem::create_directories(sa);
  WriteText(sa + "/token", std::string(kToken) + "\n");
  WriteText(sa + "/ca.crt", "CA");
  WriteText(sa + "/namespace", "ops\n");
  const std::map<std::string, std::string> base = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                                   {"KUBERNETES_SERVICE_PORT", "443"}};

  auto config = LoadInCluster(FakeEnv(base), dir.path());
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->bearer_token, kToken);
  EXPECT_EQ(config->token_file, sa + "/token");
  EXPECT_EQ(config->ca_file, sa + "/ca.crt");
  EXPECT_EQ(config->namespace_name, "ops");

  auto with_pod_ns = base;
  with_pod_ns["POD_NAMESPACE"] = "from-env";
  with_pod_ns["KUBERNETES_SERVICE_HOST"] = "fd00::1";
  config = LoadInCluster(FakeEnv(with_pod_ns), dir.path());
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->server, "https://[fd00::1]:443");
  EXPECT_EQ(config->namespace_name, "from-env");

  std::filesystem::remove(sa + "/namespace");
  config = LoadInCluster(FakeEnv(base), dir.path());
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->namespace_name, "default");

  auto not_in_cluster = LoadInCluster(FakeEnv({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}}), dir.path());
  ASSERT_FALSE(not_in_cluster.ok());
  EXPECT_EQ(not_in_cluster.error().code(), StatusCode::kFailedPrecondition);

  std::filesystem::remove(sa + "/token");
  auto no_token = LoadInCluster(FakeEnv(base), dir.path());
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_token.error().message(), HasSubstr(sa + "/token"));
}

}  // namespace
}  // namespace redisfleet::kube
