#include "providers/digitalocean/cloud_init.h"

#include <crypt.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "common/random.h"

namespace redisfleet::digitalocean {
namespace {

using Access = CloudInitOptions::DockerAccess;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kCa =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUCAFAKECAFAKECAFAKECAFAKECAwCgYIKoZIzj0EAwIw\n"
    "Ei8xEDAOBgNVBAMMB3Rlc3QtY2EwHhcNMjYwMTAxMDAwMDAwWhcNMzYwMTAxMDAw\n"
    "-----END CERTIFICATE-----\n";
const std::string kCert =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBtDCCAVqgAwIBAgIUSERVERCERTSERVERCERTSERVERCERTwCgYIKoZIzj0E\n"
    "-----END CERTIFICATE-----\n";
const std::string kKeyBody = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETKEYMATERIAL";
const std::string kKey = "-----BEGIN PRIVATE KEY-----\n" + kKeyBody + "\n-----END PRIVATE KEY-----\n";
const std::string kProxyPassword = "s3cr3t-Pa55\"word: #x";
const std::string kDiscoveryPassword = "discoPW-9f8e7d6c5b4a";
const std::string kDiscoveryUrl = "redis://fleet:" + kDiscoveryPassword + "@10.0.0.5:6379/2";

CloudInitOptions TlsOptions() {
  CloudInitOptions o;
  o.host_name = "rf-default-pool-1";
  o.docker_access = Access::kTls;
  o.ca_pem = kCa;
  o.server_cert_pem = kCert;
  o.server_key_pem = kKey;
  return o;
}

CloudInitOptions ProxyOptions() {
  CloudInitOptions o;
  o.host_name = "rf-default-pool-2";
  o.docker_access = Access::kBasicAuthProxy;
  o.basic_auth = "fleet:" + kProxyPassword;
  o.server_cert_pem = kCert;
  o.server_key_pem = kKey;
  return o;
}

CloudInitOptions WithAgent(CloudInitOptions o) {
  o.discovery_url = kDiscoveryUrl;
  o.redis_fleet_url = "https://downloads.example.com/redis-fleet/0.1.0/redis-fleet-linux-amd64";
  return o;
}

std::string Generate(const CloudInitOptions& o, uint64_t seed = 1) {
  SeededRandom random(seed);
  StatusOr<std::string> doc = GenerateCloudInit(o, random);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  return doc.ok() ? *doc : std::string();
}

// The parsed document's write_files, by path.
struct FileEntry {
  std::string owner, permissions, content;
};
std::map<std::string, FileEntry> Files(const YAML::Node& root) {
  std::map<std::string, FileEntry> out;
  for (const auto& f : root["write_files"]) {
    out[f["path"].as<std::string>()] = {f["owner"].as<std::string>(), f["permissions"].as<std::string>(),
                                        f["content"].as<std::string>()};
  }
  return out;
}

std::vector<std::vector<std::string>> RunCmd(const YAML::Node& root) {
  std::vector<std::vector<std::string>> out;
  for (const auto& cmd : root["runcmd"]) out.push_back(cmd.as<std::vector<std::string>>());
  return out;
}

std::string Joined(const std::vector<std::vector<std::string>>& cmds) {
  std::string s;
  for (const auto& c : cmds) {
    for (const auto& a : c) s += a + " ";
    s += "\n";
  }
  return s;
}

std::size_t Count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1)) ++n;
  return n;
}

// Structure every document has: exactly the four modules, files with exactly four keys.
void ExpectWellFormed(const std::string& doc) {
  ASSERT_EQ(doc.rfind("#cloud-config\n", 0), 0u);
  YAML::Node root = YAML::Load(doc);
  ASSERT_TRUE(root.IsMap());
  std::set<std::string> keys;
  for (const auto& kv : root) keys.insert(kv.first.as<std::string>());
  EXPECT_EQ(keys, (std::set<std::string>{"package_update", "packages", "write_files", "runcmd"}));
  EXPECT_TRUE(root["package_update"].as<bool>());
  for (const auto& f : root["write_files"]) {
    ASSERT_TRUE(f.IsMap());
    std::set<std::string> fk;
    for (const auto& kv : f) fk.insert(kv.first.as<std::string>());
    EXPECT_EQ(fk, (std::set<std::string>{"path", "owner", "permissions", "content"}));
    EXPECT_TRUE(f["permissions"].IsScalar());
    EXPECT_EQ(f["permissions"].Tag(), "!");  // quoted: a string, not YAML 1.1 octal
  }
  for (const auto& cmd : root["runcmd"]) EXPECT_TRUE(cmd.IsSequence());
  EXPECT_LE(doc.size(), kMaxUserDataBytes);
}

// ---- SHA-512 crypt against libxcrypt ------------------------------------------------------

TEST(Sha512CryptTest, MatchesLibcrypt) {
  SeededRandom random(42);
  struct Case {
    std::size_t password_len;
    std::string salt;
    int rounds;
  };
  std::vector<Case> cases;
  for (std::size_t len : {0, 1, 7, 63, 64, 65, 127, 128, 129, 200}) {
    cases.push_back({len, "saltstring", 5000});
  }
  for (std::string salt : {"a", "./", "abcdefghijklmnop", "abcdefghijklmnopqrstuvwxyz"}) {
    cases.push_back({12, salt, 5000});
  }
  cases.push_back({12, "saltstringsaltstring", 1000});
  cases.push_back({12, "roundsalt", 10000});
  for (const Case& c : cases) {
    std::string password(c.password_len, '\0');
    for (char& ch : password) {
      uint8_t b;
      random.Fill(&b, 1);
      ch = static_cast<char>(b == 0 ? 'x' : b);  // crypt() takes a C string
    }
    SCOPED_TRACE("len=" + std::to_string(c.password_len) + " salt=" + c.salt + " rounds=" +
                 std::to_string(c.rounds));
    StatusOr<std::string> ours = Sha512Crypt(password, c.salt, c.rounds);
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    std::string setting = c.rounds == 5000 ? "$6$" + c.salt : "$6$rounds=" + std::to_string(c.rounds) + "$" + c.salt;
    crypt_data data{};
    const char* theirs = crypt_r(password.c_str(), setting.c_str(), &data);
    ASSERT_NE(theirs, nullptr);
    EXPECT_EQ(*ours, std::string(theirs));
    // And libxcrypt verifies ours as a setting string.
    crypt_data verify{};
    EXPECT_EQ(std::string(crypt_r(password.c_str(), ours->c_str(), &verify)), *ours);
  }
}

TEST(Sha512CryptTest, PublishedVector) {
  // From the SHA-crypt specification (Drepper), test vector 1.
  StatusOr<std::string> h = Sha512Crypt("Hello world!", "saltstring");
  ASSERT_TRUE(h.ok());
  crypt_data data{};
  EXPECT_EQ(*h, std::string(crypt_r("Hello world!", "$6$saltstring", &data)));
}

TEST(Sha512CryptTest, RejectsBadSaltAndRounds) {
  for (auto [salt, rounds] : std::vector<std::pair<std::string, int>>{{"", 5000}, {"bad$salt", 5000},
                                                                      {"ok", 999}, {"ok", 1000000000}}) {
    SCOPED_TRACE(salt + "/" + std::to_string(rounds));
    StatusOr<std::string> h = Sha512Crypt("topsecret", salt, rounds);
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(h.status().message(), Not(HasSubstr("topsecret")));
  }
}

// ---- documents ----------------------------------------------------------------------------

TEST(CloudInitTest, TlsModeDocument) {
  std::string doc = Generate(TlsOptions());
  ExpectWellFormed(doc);
  YAML::Node root = YAML::Load(doc);
  auto packages = root["packages"].as<std::vector<std::string>>();
  EXPECT_THAT(packages, ::testing::Contains("docker.io"));
  EXPECT_THAT(packages, Not(::testing::Contains("nginx")));

  auto files = Files(root);
  struct Want {
    std::string path, permissions, owner;
  };
  for (const Want& w : std::vector<Want>{{"/etc/docker/tls/ca.pem", "0644", "root:root"},
                                         {"/etc/docker/tls/server-cert.pem", "0644", "root:root"},
                                         {"/etc/docker/tls/server-key.pem", "0600", "root:root"},
                                         {"/etc/systemd/system/docker.service.d/redis-fleet.conf", "0644",
                                          "root:root"}}) {
    SCOPED_TRACE(w.path);
    ASSERT_TRUE(files.count(w.path));
    EXPECT_EQ(files[w.path].permissions, w.permissions);
    EXPECT_EQ(files[w.path].owner, w.owner);
  }
  EXPECT_EQ(files["/etc/docker/tls/ca.pem"].content, kCa);
  EXPECT_EQ(files["/etc/docker/tls/server-cert.pem"].content, kCert);
  EXPECT_EQ(files["/etc/docker/tls/server-key.pem"].content, kKey);
  EXPECT_THAT(doc, HasSubstr("content: |\n      -----BEGIN CERTIFICATE-----"));  // literal block

  const std::string& dropin = files["/etc/systemd/system/docker.service.d/redis-fleet.conf"].content;
  EXPECT_THAT(dropin, HasSubstr("[Service]\nExecStart=\nExecStart=dockerd -H fd:// -H tcp://0.0.0.0:2376 "
                                "--tlsverify --tlscacert=/etc/docker/tls/ca.pem "
                                "--tlscert=/etc/docker/tls/server-cert.pem "
                                "--tlskey=/etc/docker/tls/server-key.pem\n"));
  EXPECT_FALSE(files.count("/etc/docker/daemon.json"));  // "hosts" there would clash with -H fd://
  EXPECT_FALSE(files.count("/etc/nginx/redis-fleet-docker.htpasswd"));

  std::string cmds = Joined(RunCmd(root));
  EXPECT_THAT(cmds, HasSubstr("systemctl daemon-reload"));
  EXPECT_THAT(cmds, HasSubstr("systemctl enable docker.service"));
  EXPECT_THAT(cmds, HasSubstr("systemctl restart docker.service"));
  EXPECT_THAT(cmds, HasSubstr("docker pull \"$1\""));
  EXPECT_THAT(cmds, HasSubstr(" sh redis:7 "));
  EXPECT_THAT(cmds, Not(HasSubstr("nginx")));
}

TEST(CloudInitTest, PemsRoundTripExactly) {
  struct Case {
    std::string name, pem;
  };
  const std::string body = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----";
  for (const Case& c : std::vector<Case>{
           {"canonical", body + "\n"},
           {"no trailing newline", body},
           {"trailing blank lines", body + "\n\n\n"},
           {"CRLF", "-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n"},
           {"leading spaces", "   " + body + "\n"},
           {"leading newline", "\n" + body + "\n"},
           {"bundle with comment lines", "# intermediate\n" + body + "\n# root: x\n" + body + "\n"},
           {"tabs and trailing spaces", body + "  \n\t\n"},
       }) {
    SCOPED_TRACE(c.name);
    CloudInitOptions o = TlsOptions();
    o.ca_pem = c.pem;
    o.server_cert_pem = c.pem;
    std::string doc = Generate(o);
    ExpectWellFormed(doc);
    auto files = Files(YAML::Load(doc));
    EXPECT_EQ(files["/etc/docker/tls/ca.pem"].content, c.pem);
    EXPECT_EQ(files["/etc/docker/tls/server-cert.pem"].content, c.pem);
    EXPECT_EQ(files["/etc/docker/tls/server-key.pem"].content, kKey);
  }
}

TEST(CloudInitTest, ProxyModeHashesThePassword) {
  struct Case {
    std::string name;
    std::string password;
    bool tls;
  };
  for (const Case& c : std::vector<Case>{{"with TLS", kProxyPassword, true},
                                         {"plain http", "another-Secret-1234", false},
                                         {"yaml-looking password", "'x': [y] - {z} | > &a *b !c %d @e", true}}) {
    SCOPED_TRACE(c.name);
    CloudInitOptions o = ProxyOptions();
    o.basic_auth = "fleet:" + c.password;
    if (!c.tls) o.server_cert_pem = o.server_key_pem = "";
    std::string doc = Generate(o);
    ExpectWellFormed(doc);
    EXPECT_THAT(doc, Not(HasSubstr(c.password)));
    YAML::Node root = YAML::Load(doc);
    EXPECT_THAT(root["packages"].as<std::vector<std::string>>(), ::testing::Contains("nginx"));
    auto files = Files(root);

    ASSERT_TRUE(files.count("/etc/nginx/redis-fleet-docker.htpasswd"));
    const FileEntry& ht = files["/etc/nginx/redis-fleet-docker.htpasswd"];
    EXPECT_EQ(ht.permissions, "0640");
    EXPECT_EQ(ht.owner, "root:www-data");
    ASSERT_EQ(ht.content.rfind("fleet:$6$", 0), 0u) << ht.content;
    ASSERT_EQ(ht.content.back(), '\n');
    std::string hash = ht.content.substr(6, ht.content.size() - 7);
    crypt_data data{};
    EXPECT_EQ(std::string(crypt_r(c.password.c_str(), hash.c_str(), &data)), hash);
    crypt_data wrong{};
    EXPECT_NE(std::string(crypt_r("not-the-password", hash.c_str(), &wrong)), hash);

    const std::string& site = files["/etc/nginx/conf.d/redis-fleet-docker.conf"].content;
    EXPECT_THAT(site, HasSubstr("auth_basic_user_file /etc/nginx/redis-fleet-docker.htpasswd;"));
    EXPECT_THAT(site, HasSubstr("proxy_pass http://unix:/var/run/docker.sock:;"));
    EXPECT_THAT(site, HasSubstr(c.tls ? "listen 2376 ssl;" : "listen 2376;"));
    EXPECT_EQ(site.find("ssl_certificate ") != std::string::npos, c.tls);
    EXPECT_THAT(site, Not(HasSubstr("ssl_verify_client")));

    const std::string& dropin = files["/etc/systemd/system/docker.service.d/redis-fleet.conf"].content;
    EXPECT_THAT(dropin, HasSubstr("ExecStart=\nExecStart=dockerd -H fd://\n"));
    EXPECT_THAT(dropin, Not(HasSubstr("tcp://")));

    std::string cmds = Joined(RunCmd(root));
    EXPECT_THAT(cmds, HasSubstr("usermod -aG docker www-data"));
    EXPECT_THAT(cmds, HasSubstr("systemctl restart nginx.service"));
  }
}

TEST(CloudInitTest, ProxyWithClientCertificates) {
  CloudInitOptions o = ProxyOptions();
  o.ca_pem = kCa;
  auto files = Files(YAML::Load(Generate(o)));
  EXPECT_THAT(files["/etc/nginx/conf.d/redis-fleet-docker.conf"].content,
              HasSubstr("ssl_client_certificate /etc/docker/tls/ca.pem;\n    ssl_verify_client on;"));
  EXPECT_EQ(files["/etc/docker/tls/ca.pem"].content, kCa);
}

TEST(CloudInitTest, SaltComesFromTheRandomSource) {
  CloudInitOptions o = ProxyOptions();
  EXPECT_EQ(Generate(o, 7), Generate(o, 7));
  EXPECT_NE(Generate(o, 7), Generate(o, 8));
  StatusOr<std::string> crypto = GenerateCloudInit(o);  // CryptoRandom
  ASSERT_TRUE(crypto.ok());
  EXPECT_THAT(*crypto, Not(HasSubstr(kProxyPassword)));
}

TEST(CloudInitTest, AgentPartsAndWhereTheDiscoveryPasswordGoes) {
  for (CloudInitOptions base : {TlsOptions(), ProxyOptions()}) {
    CloudInitOptions o = WithAgent(base);
    o.discovery_key_prefix = "fleet:servers:";
    o.discovery_ttl_seconds = 30;
    SCOPED_TRACE(o.host_name);
    std::string doc = Generate(o);
    ExpectWellFormed(doc);
    YAML::Node root = YAML::Load(doc);
    auto files = Files(root);

    // The discovery password: once in the document, inside agent.env's content.
    EXPECT_EQ(Count(doc, kDiscoveryPassword), 1u);
    ASSERT_TRUE(files.count("/etc/redis-fleet/agent.env"));
    const FileEntry& env = files["/etc/redis-fleet/agent.env"];
    EXPECT_EQ(env.permissions, "0600");
    EXPECT_EQ(env.owner, "root:root");
    EXPECT_THAT(env.content, HasSubstr("\nREDISFLEET_DISCOVERY_URL='" + kDiscoveryUrl + "'\n"));
    for (const auto& [path, f] : files) {
      if (path != "/etc/redis-fleet/agent.env") {
        SCOPED_TRACE(path);
        EXPECT_THAT(f.content, Not(HasSubstr(kDiscoveryPassword)));
      }
    }
    EXPECT_THAT(Joined(RunCmd(root)), Not(HasSubstr(kDiscoveryPassword)));

    const std::string& unit = files["/etc/systemd/system/redis-fleet-agent.service"].content;
    EXPECT_THAT(unit, HasSubstr("EnvironmentFile=/etc/redis-fleet/agent.env\n"));
    EXPECT_THAT(unit, HasSubstr("EnvironmentFile=/run/redis-fleet/address.env\n"));
    // The agent reads REDISFLEET_DISCOVERY_URL from its environment: not on its command line,
    // where ps would show the password.
    EXPECT_THAT(unit, Not(HasSubstr("--discovery-url")));
    EXPECT_THAT(unit, HasSubstr("ExecStart=/usr/local/bin/redis-fleet agent --key-prefix fleet:servers: --name " +
                                o.host_name +
                                " --address ${REDISFLEET_ADDRESS} --docker-endpoint "
                                "unix:///var/run/docker.sock --ttl-seconds 30 --interval-ms 3000"));
    EXPECT_THAT(unit, HasSubstr("Requires=redis-fleet-address.service\n"));
    EXPECT_THAT(files["/usr/local/lib/redis-fleet/metadata-address"].content,
                HasSubstr("url=http://169.254.169.254/metadata/v1/interfaces/public/0/ipv4/address\n"));
    EXPECT_EQ(files["/usr/local/lib/redis-fleet/metadata-address"].permissions, "0755");
    EXPECT_TRUE(files.count("/etc/systemd/system/redis-fleet-address.service"));

    auto cmds = RunCmd(root);
    std::string joined = Joined(cmds);
    EXPECT_THAT(joined, HasSubstr(o.redis_fleet_url));
    EXPECT_THAT(joined, HasSubstr("chmod 0755 /usr/local/bin/redis-fleet.part"));
    EXPECT_THAT(joined, HasSubstr("systemctl enable --now redis-fleet-agent.service"));
    // The image is loaded before the agent announces the host.
    auto index_of = [&](const std::string& needle) {
      for (std::size_t i = 0; i < cmds.size(); ++i) {
        for (const auto& a : cmds[i]) {
          if (a.find(needle) != std::string::npos) return i;
        }
      }
      return cmds.size();
    };
    EXPECT_LT(index_of("docker pull"), index_of("redis-fleet-agent.service"));
    EXPECT_LT(index_of("restart"), index_of("docker pull"));
  }
}

TEST(CloudInitTest, ShortTtlAndPrivateAddress) {
  CloudInitOptions o = WithAgent(TlsOptions());
  o.discovery_ttl_seconds = 3;
  o.public_address_source = "digitalocean-metadata-private";
  auto files = Files(YAML::Load(Generate(o)));
  EXPECT_THAT(files["/etc/systemd/system/redis-fleet-agent.service"].content,
              HasSubstr("--ttl-seconds 3 --interval-ms 1000 "));
  EXPECT_THAT(files["/usr/local/lib/redis-fleet/metadata-address"].content,
              HasSubstr("/metadata/v1/interfaces/private/0/ipv4/address\n"));
}

TEST(CloudInitTest, NoAgentWithoutDiscovery) {
  for (CloudInitOptions o : {TlsOptions(), ProxyOptions()}) {
    SCOPED_TRACE(o.host_name);
    std::string doc = Generate(o);
    EXPECT_THAT(doc, Not(HasSubstr("redis-fleet-agent")));
    EXPECT_THAT(doc, Not(HasSubstr("/usr/local/bin/redis-fleet")));
    EXPECT_THAT(doc, Not(HasSubstr("agent.env")));
    EXPECT_THAT(doc, Not(HasSubstr("169.254.169.254/metadata")));
  }
}

TEST(CloudInitTest, ImageFromTarball) {
  CloudInitOptions o = TlsOptions();
  o.redis_image_url = "https://images.example.com/redis-7.tar?sig=a%2Fb&x=1#frag:y";
  YAML::Node root = YAML::Load(Generate(o));
  auto cmds = RunCmd(root);
  std::string joined = Joined(cmds);
  EXPECT_THAT(joined, HasSubstr("docker load -i"));
  EXPECT_THAT(joined, Not(HasSubstr("docker pull")));
  bool url_is_one_argument = false;
  for (const auto& c : cmds) {
    url_is_one_argument |= !c.empty() && c.back() == o.redis_image_url && c[0] == "sh";
  }
  EXPECT_TRUE(url_is_one_argument) << joined;
}

TEST(CloudInitTest, AdversarialStringsCannotInjectYaml) {
  // Accepted strings with YAML-significant characters stay inside their scalar.
  struct Accepted {
    std::string name;
    std::function<void(CloudInitOptions&)> edit;
  };
  for (const Accepted& c : std::vector<Accepted>{
           {"password with quotes and # and ': '",
            [](CloudInitOptions& o) { o.basic_auth = "u:a\"b'c #d: e\tf - g"; }},
           {"discovery password with # and :",
            [](CloudInitOptions& o) {
              o.discovery_url = "redis://u:p#ss:w%27rd@h.example:6379/0";
              o.redis_fleet_url = "https://x.example/rf";
            }},
           {"image with @digest", [](CloudInitOptions& o) { o.redis_image = "registry.example:5000/r/redis@sha256:abc"; }},
           {"pem with yaml keys inside",
            [](CloudInitOptions& o) {
              o.server_cert_pem = "-----BEGIN CERTIFICATE-----\nruncmd: [rm, -rf, /]\n- path: /etc/x\n\"q\": 'v' #c\n"
                                  "-----END CERTIFICATE-----\n";
            }},
       }) {
    SCOPED_TRACE(c.name);
    CloudInitOptions o = ProxyOptions();
    c.edit(o);
    std::string doc = Generate(o);
    ExpectWellFormed(doc);
    auto files = Files(YAML::Load(doc));
    EXPECT_EQ(files["/etc/docker/tls/server-cert.pem"].content, o.server_cert_pem);
    if (!o.discovery_url.empty()) {
      EXPECT_THAT(files["/etc/redis-fleet/agent.env"].content, HasSubstr("'" + o.discovery_url + "'"));
    }
    std::set<std::string> want = {"/etc/docker/tls/server-cert.pem", "/etc/docker/tls/server-key.pem",
                                  "/etc/systemd/system/docker.service.d/redis-fleet.conf",
                                  "/etc/nginx/redis-fleet-docker.htpasswd",
                                  "/etc/nginx/conf.d/redis-fleet-docker.conf"};
    if (!o.discovery_url.empty()) {
      want.insert({"/etc/redis-fleet/agent.env", "/usr/local/lib/redis-fleet/metadata-address",
                   "/etc/systemd/system/redis-fleet-address.service",
                   "/etc/systemd/system/redis-fleet-agent.service"});
    }
    std::set<std::string> got;
    for (const auto& [path, f] : files) got.insert(path);
    EXPECT_EQ(got, want);
  }
}

struct InvalidCase {
  std::string name;
  std::function<void(CloudInitOptions&)> edit;
  std::string field;  // named in the message
};

TEST(CloudInitTest, InvalidInputIsRejectedNamingTheField) {
  const std::vector<InvalidCase> cases = {
      {"empty host_name", [](CloudInitOptions& o) { o.host_name = ""; }, "host_name"},
      {"host_name newline key", [](CloudInitOptions& o) { o.host_name = "h\nruncmd: [reboot]"; }, "host_name"},
      {"host_name colon space", [](CloudInitOptions& o) { o.host_name = "h: x"; }, "host_name"},
      {"host_name hash", [](CloudInitOptions& o) { o.host_name = "h#x"; }, "host_name"},
      {"host_name quote", [](CloudInitOptions& o) { o.host_name = "h\"x"; }, "host_name"},
      {"host_name underscore", [](CloudInitOptions& o) { o.host_name = "h_x"; }, "host_name"},
      {"host_name trailing dash", [](CloudInitOptions& o) { o.host_name = "host-"; }, "host_name"},
      {"host_name too long", [](CloudInitOptions& o) { o.host_name = std::string(256, 'a'); }, "host_name"},
      {"port 0", [](CloudInitOptions& o) { o.docker_port = 0; }, "docker_port"},
      {"port 70000", [](CloudInitOptions& o) { o.docker_port = 70000; }, "docker_port"},
      {"tls without ca", [](CloudInitOptions& o) { o.ca_pem = ""; }, "ca_pem"},
      {"tls without cert", [](CloudInitOptions& o) { o.server_cert_pem = ""; }, "server_cert_pem"},
      {"tls without key", [](CloudInitOptions& o) { o.server_key_pem = ""; }, "server_key_pem"},
      {"key not PEM", [](CloudInitOptions& o) { o.server_key_pem = "just text"; }, "server_key_pem"},
      {"cert is a key", [](CloudInitOptions& o) { o.server_cert_pem = kKey; }, "server_cert_pem"},
      {"pem with NUL", [](CloudInitOptions& o) { o.ca_pem = kCa + std::string(1, '\0'); }, "ca_pem"},
      {"tls with basic_auth", [](CloudInitOptions& o) { o.basic_auth = "u:p"; }, "basic_auth"},
      {"proxy without basic_auth",
       [](CloudInitOptions& o) {
         o.docker_access = Access::kBasicAuthProxy;
       },
       "basic_auth"},
      {"proxy basic_auth without colon",
       [](CloudInitOptions& o) {
         o.docker_access = Access::kBasicAuthProxy;
         o.basic_auth = "justuser";
       },
       "basic_auth"},
      {"proxy basic_auth empty password",
       [](CloudInitOptions& o) {
         o.docker_access = Access::kBasicAuthProxy;
         o.basic_auth = "user:";
       },
       "basic_auth"},
      {"proxy basic_auth newline in password",
       [](CloudInitOptions& o) {
         o.docker_access = Access::kBasicAuthProxy;
         o.basic_auth = "user:pa\nss";
       },
       "basic_auth"},
      {"proxy user with space",
       [](CloudInitOptions& o) {
         o.docker_access = Access::kBasicAuthProxy;
         o.basic_auth = "us er:pass";
       },
       "basic_auth"},
      {"proxy cert without key",
       [](CloudInitOptions& o) {
         o.docker_access = Access::kBasicAuthProxy;
         o.basic_auth = "u:p";
         o.server_key_pem = "";
       },
       "server_key_pem"},
      {"proxy ca without cert",
       [](CloudInitOptions& o) {
         o.docker_access = Access::kBasicAuthProxy;
         o.basic_auth = "u:p";
         o.server_cert_pem = o.server_key_pem = "";
       },
       "ca_pem"},
      {"bad docker_access",
       [](CloudInitOptions& o) { o.docker_access = static_cast<Access>(7); }, "docker_access"},
      {"image with space", [](CloudInitOptions& o) { o.redis_image = "redis:7 --privileged"; }, "redis_image"},
      {"image with newline", [](CloudInitOptions& o) { o.redis_image = "redis\nx: y"; }, "redis_image"},
      {"empty image", [](CloudInitOptions& o) { o.redis_image = ""; }, "redis_image"},
      {"image url http", [](CloudInitOptions& o) { o.redis_image_url = "http://x.example/i.tar"; }, "redis_image_url"},
      {"image url quote", [](CloudInitOptions& o) { o.redis_image_url = "https://x.example/i\".tar"; },
       "redis_image_url"},
      {"image url $()", [](CloudInitOptions& o) { o.redis_image_url = "https://x.example/$(reboot)"; },
       "redis_image_url"},
      {"discovery without binary", [](CloudInitOptions& o) { o.discovery_url = kDiscoveryUrl; }, "redis_fleet_url"},
      {"binary without discovery", [](CloudInitOptions& o) { o.redis_fleet_url = "https://x.example/rf"; },
       "discovery_url"},
      {"binary url not https",
       [](CloudInitOptions& o) {
         o = WithAgent(o);
         o.redis_fleet_url = "ftp://x.example/rf";
       },
       "redis_fleet_url"},
      {"discovery not redis",
       [](CloudInitOptions& o) {
         o = WithAgent(o);
         o.discovery_url = "http://fleet:" + kDiscoveryPassword + "@h:6379";
       },
       "discovery_url"},
      {"discovery with quote",
       [](CloudInitOptions& o) {
         o = WithAgent(o);
         o.discovery_url = "redis://u:" + kDiscoveryPassword + "'\nX=1@h:6379";
       },
       "discovery_url"},
      {"discovery with dollar",
       [](CloudInitOptions& o) {
         o = WithAgent(o);
         o.discovery_url = "redis://u:" + kDiscoveryPassword + "${HOME}@h:6379";
       },
       "discovery_url"},
      {"key prefix newline",
       [](CloudInitOptions& o) {
         o = WithAgent(o);
         o.discovery_key_prefix = "server:\nExecStartPre=/bin/evil";
       },
       "discovery_key_prefix"},
      {"key prefix percent",
       [](CloudInitOptions& o) {
         o = WithAgent(o);
         o.discovery_key_prefix = "s%h";
       },
       "discovery_key_prefix"},
      {"ttl 1",
       [](CloudInitOptions& o) {
         o = WithAgent(o);
         o.discovery_ttl_seconds = 1;
       },
       "discovery_ttl_seconds"},
      {"address source",
       [](CloudInitOptions& o) {
         o = WithAgent(o);
         o.public_address_source = "aws";
       },
       "public_address_source"},
      {"output over 64 KiB",
       [](CloudInitOptions& o) {
         o.ca_pem = "-----BEGIN CERTIFICATE-----\n";
         while (o.ca_pem.size() < 60 * 1024) o.ca_pem += std::string(64, 'A') + "\n";
         o.ca_pem += "-----END CERTIFICATE-----\n";
       },
       "64 KiB"},
  };
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(c.name);
    CloudInitOptions o = TlsOptions();
    c.edit(o);
    SeededRandom random(1);
    StatusOr<std::string> doc = GenerateCloudInit(o, random);
    ASSERT_FALSE(doc.ok());
    EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument) << doc.status().ToString();
    EXPECT_THAT(doc.status().message(), HasSubstr(c.field));
    EXPECT_THAT(doc.status().message(), Not(HasSubstr(kDiscoveryPassword)));
    EXPECT_THAT(doc.status().message(), Not(HasSubstr(kKeyBody)));
  }
}

TEST(CloudInitTest, SizeLimitBoundary) {
  // A large but acceptable bundle fits; the document stays under the limit.
  CloudInitOptions o = TlsOptions();
  o.ca_pem = "-----BEGIN CERTIFICATE-----\n";
  while (o.ca_pem.size() < 50 * 1024) o.ca_pem += std::string(64, 'B') + "\n";
  o.ca_pem += "-----END CERTIFICATE-----\n";
  std::string doc = Generate(o);
  ExpectWellFormed(doc);
  EXPECT_GT(doc.size(), 50u * 1024);
}

}  // namespace
}  // namespace redisfleet::digitalocean
