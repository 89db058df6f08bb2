// The kubeconfig "*-data" path end to end: certificate-authority-data, client-certificate-data
// and client-key-data reach a TLS server that verifies the client certificate, without any of
// them being written to disk by the client.

#include <httplib.h>

#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/client.h"
#include "kube/config.h"
#include "support/harness.h"

namespace redisfleet::kube {
namespace {

using redisfleet::testing::CommandResult;
using redisfleet::testing::RunCommand;
using redisfleet::testing::TempDir;
using redisfleet::testing::WriteText;

class TlsKubeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    MakeCa("ca");
    MakeLeaf("server", "ca", "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n", 2);
    MakeLeaf("client", "ca", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n", 3);
    MakeCa("other-ca");
    server_ = new httplib::SSLServer(Path("server.pem").c_str(), Path("server-key.pem").c_str(),
                                     Path("ca.pem").c_str());
    server_->Get(".*", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default"}})",
                      "application/json");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = new std::thread([] { server_->listen_after_bind(); });
    ASSERT_TRUE(redisfleet::testing::WaitUntil([] { return server_->is_running(); }));
  }
  static void TearDownTestSuite() {
    server_->stop();
    thread_->join();
    delete thread_;
    delete server_;
    delete dir_;
  }

  static std::string Path(const std::string& f) { return *dir_ / f; }
  static void Openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    CommandResult r = RunCommand(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void MakeCa(const std::string& name) {
    Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", Path(name + "-key.pem"), "-out", Path(name + ".pem"), "-days", "2", "-subj",
             "/CN=" + name});
  }
  static void MakeLeaf(const std::string& name, const std::string& ca, const std::string& ext, int serial) {
    Openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", Path(name + "-key.pem"), "-out", Path(name + ".csr"), "-subj", "/CN=" + name});
    WriteText(Path(name + ".ext"), ext);
    Openssl({"x509", "-req", "-in", Path(name + ".csr"), "-CA", Path(ca + ".pem"), "-CAkey",
             Path(ca + "-key.pem"), "-set_serial", std::to_string(serial), "-days", "2", "-extfile",
             Path(name + ".ext"), "-out", Path(name + ".pem")});
  }
  static std::string B64(const std::string& file) {
    CommandResult r = RunCommand({"openssl", "base64", "-A", "-in", Path(file)});
    EXPECT_EQ(r.exit_code, 0);
    return r.out;
  }

  // A kubeconfig with the given cluster and user bodies, loaded.
  static StatusOr<RestConfig> Load(const std::string& cluster_extra, const std::string& user) {
    const std::string path = Path("kubeconfig");
    WriteText(path, "current-context: t\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:" +
                        std::to_string(port_) + "\n" + cluster_extra +
                        "users:\n- name: u\n  user:\n" + user +
                        "contexts:\n- name: t\n  context:\n    cluster: c\n    user: u\n");
    return LoadKubeconfig({path});
  }

  static StatusOr<nlohmann::json> GetNamespace(const RestConfig& config) {
    RealClock clock;
    KubeClient::Options options;
    options.config = config;
    options.qps = 0;
    KubeClient client(options, clock);
    return client.Get({.version = "v1", .plural = "namespaces", .name = "default"});
  }

  static inline TempDir* dir_ = nullptr;
  static inline httplib::SSLServer* server_ = nullptr;
  static inline std::thread* thread_ = nullptr;
  static inline int port_ = 0;
};

TEST_F(TlsKubeTest, CertificateDataFromKubeconfig) {
  const std::string client_data = "    client-certificate-data: " + B64("client.pem") +
                                  "\n    client-key-data: " + B64("client-key.pem") + "\n";
  auto config = Load("    certificate-authority-data: " + B64("ca.pem") + "\n", client_data);
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_TRUE(config->ca_file.empty());
  auto got = GetNamespace(*config);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ((*got)["metadata"]["name"], "default");
}

TEST_F(TlsKubeTest, CertificateFilesFromKubeconfig) {
  auto config = Load("    certificate-authority: ca.pem\n",
                     "    client-certificate: client.pem\n    client-key: client-key.pem\n");
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  auto got = GetNamespace(*config);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
}

TEST_F(TlsKubeTest, WrongCaOrMissingClientCertificateFails) {
  const std::string client_data = "    client-certificate-data: " + B64("client.pem") +
                                  "\n    client-key-data: " + B64("client-key.pem") + "\n";
  auto wrong_ca = Load("    certificate-authority-data: " + B64("other-ca.pem") + "\n", client_data);
  ASSERT_TRUE(wrong_ca.ok());
  auto got = GetNamespace(*wrong_ca);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), StatusCode::kUnavailable) << got.error().ToString();

  // insecure-skip-tls-verify accepts the server whatever its CA.
  auto insecure = Load("    insecure-skip-tls-verify: true\n", client_data);
  ASSERT_TRUE(insecure.ok());
  EXPECT_TRUE(GetNamespace(*insecure).ok());

  auto no_client_cert = Load("    certificate-authority-data: " + B64("ca.pem") + "\n", "    token: x\n");
  ASSERT_TRUE(no_client_cert.ok());
  auto refused = GetNamespace(*no_client_cert);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().code(),
              ::testing::AnyOf(StatusCode::kUnauthenticated, StatusCode::kUnavailable))
      << refused.error().ToString();
}

}  // namespace
}  // namespace redisfleet::kube
