// The metrics path against one real redis-server with a plain and a TLS port (certificates made
// with the openssl CLI at start), requirepass and a least-privilege ACL user.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <memory>

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "redis/client.h"
#include "redis/collector.h"
#include "redis/info_source.h"
#include "redis/tls_transport.h"
#include "redis/url.h"
#include "support/harness.h"

namespace redisfleet::redis {
namespace {

using redisfleet::testing::Child;
using redisfleet::testing::RunCommand;
using redisfleet::testing::SilentServer;
using redisfleet::testing::TempDir;
using redisfleet::testing::WaitUntil;

constexpr char kPassword[] = "adm1n p@ss/w:rd";  // needs percent-encoding in URLs
constexpr char kPasswordInUrl[] = "adm1n%20p%40ss%2Fw%3Ard";
constexpr char kMetricsUser[] = "metrics";
constexpr char kMetricsPassword[] = "m3trics-Only-77";

class Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    MakeCerts();
    if (::testing::Test::HasFailure()) return;
    port_ = redisfleet::testing::FreePort();
    tls_port_ = redisfleet::testing::FreePort();
    redisfleet::testing::WriteText(
        tmp_ / "redis.conf",
        "bind 127.0.0.1\nport " + std::to_string(port_) + "\ntls-port " + std::to_string(tls_port_) +
            "\ntls-cert-file " + (tmp_ / "server.pem") + "\ntls-key-file " + (tmp_ / "server.key") +
            "\ntls-ca-cert-file " + (tmp_ / "ca.pem") + "\ntls-auth-clients no\nsave \"\"\nappendonly no\n" +
            "dir " + tmp_.path() + "\nrequirepass \"" + kPassword + "\"\nuser " + kMetricsUser + " on >" +
            kMetricsPassword + " +info +config|get +ping\n");
    server_ = std::make_unique<Child>(std::vector<std::string>{"redis-server", tmp_ / "redis.conf"},
                                      tmp_ / "redis.log");
    ASSERT_TRUE(WaitUntil([&] { return Admin() != nullptr; })) << server_->Log();
  }
  void TearDown() override { server_.reset(); }

  // A client as the default user (requirepass), or nullptr.
  std::unique_ptr<RedisClient> Admin() const {
    ConnectOptions o;
    o.port = port_;
    o.password = kPassword;
    o.timeout = std::chrono::seconds(1);
    auto c = RedisClient::Connect(o);
    if (!c.ok() || !(*c)->Ping().ok()) return nullptr;
    return std::move(*c);
  }
  std::string Path(const std::string& name) const { return tmp_ / name; }
  int port() const { return port_; }
  int tls_port() const { return tls_port_; }

 private:
  void Run(const std::vector<std::string>& argv) {
    auto r = RunCommand(argv);
    ASSERT_EQ(r.exit_code, 0) << argv[0] << " " << argv[1] << ": " << r.out << r.err;
  }
  void MakeCerts() {
    const std::string d = tmp_.path();
    for (const char* ca : {"ca", "other-ca"}) {
      Run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", d + "/" + ca + ".key", "-out", d + "/" + ca + ".pem", "-days", "2", "-subj",
           std::string("/CN=redis-fleet test ") + ca});
    }
    Run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
         d + "/server.key", "-out", d + "/server.csr", "-subj", "/CN=redis-fleet test server"});
    redisfleet::testing::WriteText(d + "/ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    Run({"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key",
         "-CAcreateserial", "-out", d + "/server.pem", "-days", "2", "-extfile", d + "/ext.cnf"});
  }

  TempDir tmp_;
  int port_ = 0;
  int tls_port_ = 0;
  std::unique_ptr<Child> server_;
};

Environment* const g_env =
    static_cast<Environment*>(::testing::AddGlobalTestEnvironment(new Environment));

class RedisMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_GT(g_env->port(), 0); }

  static InfoSourceOptions Tcp(std::string user = kMetricsUser, std::string password = kMetricsPassword) {
    InfoSourceOptions o;
    o.connect.port = g_env->port();
    o.connect.username = std::move(user);
    o.connect.password = std::move(password);
    o.connect.timeout = std::chrono::seconds(2);
    return o;
  }
  static InfoSourceOptions Tls(TlsOptions tls) {
    InfoSourceOptions o = Tcp();
    o.connect.port = g_env->tls_port();
    o.tls = true;
    o.tls_options = std::move(tls);
    return o;
  }
  static TlsOptions VerifyWith(const std::string& ca) {
    TlsOptions t;
    t.ca_file = g_env->Path(ca);
    return t;
  }
  static void ExpectSane(const RedisSample& s) {
    EXPECT_TRUE(s.ok);
    EXPECT_GT(s.used_memory, 0);
    EXPECT_GE(s.maxmemory, 0);
    EXPECT_GE(s.connected_clients, 1);
    EXPECT_GT(s.maxclients, 0);
    EXPECT_GE(s.evicted_keys, 0);
    EXPECT_GE(s.rejected_connections, 0);
    EXPECT_GE(s.instantaneous_ops_per_sec, 0);
  }

  FakeClock clock_;
};

TEST_F(RedisMetricsTest, ScrapeOverTcpAsAclUserOnOneConnection) {
  InfoSource src(Tcp(), clock_);
  for (int i = 0; i < 3; ++i) {
    auto s = src.Scrape();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ExpectSane(*s);
  }
  EXPECT_EQ(src.connects(), 1);
}

TEST_F(RedisMetricsTest, ScrapeOverTlsWithCaVerification) {
  InfoSource src(Tls(VerifyWith("ca.pem")), clock_);
  auto s = src.Scrape();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectSane(*s);
  ASSERT_TRUE(src.Scrape().ok());
  EXPECT_EQ(src.connects(), 1);
}

TEST_F(RedisMetricsTest, ConnectUrlOverTlsWithPercentEncodedPassword) {
  auto c = ConnectUrl("rediss://default:" + std::string(kPasswordInUrl) + "@127.0.0.1:" +
                          std::to_string(g_env->tls_port()) + "/1",
                      VerifyWith("ca.pem"), std::chrono::seconds(2));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Ping().ok());
  auto r = (*c)->Command({"SET", "k", std::string(40000, 'x')});  // bigger than one TLS record
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto got = (*c)->Command({"GET", "k"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->str.size(), 40000u);
  (void)(*c)->Command({"DEL", "k"});
}

TEST_F(RedisMetricsTest, TlsWithWrongCaFailsWithAVerifyError) {
  InfoSource src(Tls(VerifyWith("other-ca.pem")), clock_);
  auto s = src.Scrape();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("certificate verify failed"), std::string::npos) << s.status().message();
  EXPECT_EQ(src.last_error(), ScrapeError::kTls);

  // The system store does not know our CA either.
  auto t = ConnectTls("127.0.0.1", g_env->tls_port(), TlsOptions{}, std::chrono::seconds(2));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("certificate verify failed"), std::string::npos) << t.status().message();
}

TEST_F(RedisMetricsTest, TlsChecksTheServerName) {
  TlsOptions tls = VerifyWith("ca.pem");
  tls.server_name = "redis.example.com";
  auto t = ConnectTls("127.0.0.1", g_env->tls_port(), tls, std::chrono::seconds(2));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("certificate verify failed"), std::string::npos) << t.status().message();
  tls.server_name = "localhost";  // a DNS SAN of the certificate
  auto ok = ConnectTls("127.0.0.1", g_env->tls_port(), tls, std::chrono::seconds(2));
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST_F(RedisMetricsTest, TlsWithVerifyOffWorksAgainstTheSameServer) {
  TlsOptions tls;
  tls.verify = false;
  InfoSource src(Tls(tls), clock_);
  auto s = src.Scrape();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectSane(*s);
}

TEST_F(RedisMetricsTest, TlsContextsAreSharedPerCaFileAndRenewedWhenItChanges) {
  TlsContextCache cache;
  auto a = cache.Get(VerifyWith("ca.pem"));
  auto b = cache.Get(VerifyWith("ca.pem"));
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString();
  EXPECT_EQ(a->get(), b->get());
  TlsOptions off;
  off.verify = false;
  EXPECT_NE(cache.Get(off)->get(), a->get());
  EXPECT_NE(cache.Get(VerifyWith("other-ca.pem"))->get(), a->get());
  auto missing = cache.Get(VerifyWith("no-such-ca.pem"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);

  // A rotated CA file: new connections get a context with the new store.
  const std::string rotating = g_env->Path("rotating-ca.pem");
  redisfleet::testing::WriteText(rotating, redisfleet::testing::ReadText(g_env->Path("ca.pem")));
  TlsOptions tls;
  tls.ca_file = rotating;
  auto t1 = ConnectTls("127.0.0.1", g_env->tls_port(), tls, std::chrono::seconds(2), &cache);
  ASSERT_TRUE(t1.ok()) << t1.status().ToString();
  redisfleet::testing::WriteText(rotating, redisfleet::testing::ReadText(g_env->Path("other-ca.pem")) + "\n");
  auto t2 = ConnectTls("127.0.0.1", g_env->tls_port(), tls, std::chrono::seconds(2), &cache);
  ASSERT_FALSE(t2.ok());
  EXPECT_NE(t2.status().message().find("certificate verify failed"), std::string::npos) << t2.status().message();
  auto ping = (*t1)->RoundTrip({"PING"});
  ASSERT_TRUE(ping.ok()) << "open connections keep working";
}

TEST_F(RedisMetricsTest, TlsHandshakeAndTcpConnectTimeOut) {
  SilentServer silent;
  ASSERT_GT(silent.port(), 0);
  const auto start = std::chrono::steady_clock::now();
  auto t = ConnectTls("127.0.0.1", silent.port(), TlsOptions{}, std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(t.status().message().find("handshake timed out"), std::string::npos) << t.status().message();
  EXPECT_LT(took, std::chrono::seconds(2));
}

TEST_F(RedisMetricsTest, WrongPasswordIsUnauthenticatedWithoutThePassword) {
  for (bool tls : {false, true}) {
    SCOPED_TRACE(tls ? "tls" : "tcp");
    InfoSourceOptions o = tls ? Tls(VerifyWith("ca.pem")) : Tcp();
    o.connect.password = "Wr0ng-pass-XYZ";
    InfoSource src(o, clock_);
    auto s = src.Scrape();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kUnauthenticated) << s.status().ToString();
    EXPECT_EQ(s.status().message().find("Wr0ng-pass-XYZ"), std::string::npos) << s.status().message();
    EXPECT_EQ(src.last_error(), ScrapeError::kAuth);
  }
}

TEST_F(RedisMetricsTest, ReconnectsAfterBackoffWhenTheConnectionIsKilled) {
  for (bool tls : {false, true}) {
    SCOPED_TRACE(tls ? "tls" : "tcp");
    InfoSourceOptions o = tls ? Tls(VerifyWith("ca.pem")) : Tcp();
    o.backoff_base = std::chrono::seconds(2);
    InfoSource src(o, clock_);
    ASSERT_TRUE(src.Scrape().ok());
    auto admin = g_env->Admin();
    ASSERT_NE(admin, nullptr);
    auto killed = admin->Command({"CLIENT", "KILL", "USER", kMetricsUser});
    ASSERT_TRUE(killed.ok());
    ASSERT_EQ(killed->integer, 1);

    auto s = src.Scrape();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(src.last_error(), ScrapeError::kIo);
    // Backing off: answers at once, no connection is opened.
    s = src.Scrape();
    EXPECT_EQ(src.last_error(), ScrapeError::kBackoff);
    auto clients = admin->Info({"clients"});
    ASSERT_TRUE(clients.ok());
    EXPECT_EQ(clients->GetInt("connected_clients"), 1) << "only the admin is connected while backing off";
    clock_.Advance(std::chrono::seconds(2));
    auto again = src.Scrape();
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(src.connects(), 2);
  }
}

TEST_F(RedisMetricsTest, EvictedKeysAndRejectedConnectionsAreSeen) {
  auto admin = g_env->Admin();
  ASSERT_NE(admin, nullptr);
  InfoSource src(Tcp(), clock_);
  auto before = src.Scrape();
  ASSERT_TRUE(before.ok());

  // Evictions: a small maxmemory with allkeys-lru, then writes.
  ASSERT_TRUE(admin->ConfigSet("maxmemory-policy", "allkeys-lru").ok());
  ASSERT_TRUE(admin->ConfigSet("maxmemory", std::to_string(before->used_memory + 2 * 1024 * 1024)).ok());
  const std::string value(10 * 1024, 'v');
  for (int i = 0; i < 600; ++i) ASSERT_TRUE(admin->Command({"SET", "evict:" + std::to_string(i), value}).ok());
  // Rejections: maxclients at the current count, then one more connection.
  auto info = admin->Info({"clients"});
  ASSERT_TRUE(info.ok());
  const int64_t clients = info->GetInt("connected_clients").value_or(2);
  ASSERT_TRUE(admin->ConfigSet("maxclients", std::to_string(clients)).ok());
  auto extra = RedisClient::Connect({"127.0.0.1", g_env->port(), "", kPassword, std::chrono::seconds(1)});
  EXPECT_FALSE(extra.ok()) << "connection over maxclients must be refused";

  auto after = src.Scrape();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_GT(after->evicted_keys, before->evicted_keys);
  EXPECT_GT(after->rejected_connections, before->rejected_connections);
  EXPECT_EQ(after->maxclients, clients);
  EXPECT_EQ(after->maxmemory, before->used_memory + 2 * 1024 * 1024);

  ASSERT_TRUE(admin->ConfigSet("maxclients", "10000").ok());
  ASSERT_TRUE(admin->ConfigSet("maxmemory", "0").ok());
  ASSERT_TRUE(admin->Command({"FLUSHALL"}).ok());
}

TEST_F(RedisMetricsTest, CollectorWindowIsBoundedAndGaugesAreExported) {
  auto registry = std::make_shared<prometheus::Registry>();
  Collector::Options opts;
  opts.workers = 2;
  Collector collector(clock_, registry, opts);
  CollectorTarget tcp;
  tcp.key = "team-a/cache";
  tcp.url = "redis://default:" + std::string(kPasswordInUrl) + "@127.0.0.1:" + std::to_string(g_env->port());
  tcp.interval = std::chrono::seconds(1);
  tcp.window = 3;
  ASSERT_TRUE(collector.Add(tcp).ok());
  CollectorTarget tls;
  tls.key = "team-b/sessions";
  tls.url = "rediss://127.0.0.1:" + std::to_string(g_env->tls_port());
  tls.connect.username = kMetricsUser;
  tls.connect.password = kMetricsPassword;
  tls.tls_options = VerifyWith("ca.pem");
  tls.interval = std::chrono::seconds(2);
  ASSERT_TRUE(collector.Add(tls).ok());

  for (int i = 0; i < 6; ++i) {
    collector.Tick();
    clock_.Advance(std::chrono::seconds(1));
  }
  auto w = collector.Window("team-a/cache");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->size(), 3u);
  for (const RedisSample& s : *w) ExpectSane(s);
  auto w2 = collector.Window("team-b/sessions");
  ASSERT_TRUE(w2.ok());
  EXPECT_EQ(w2->size(), 3u);
  for (const RedisSample& s : *w2) ExpectSane(s);

  const std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  for (const char* want : {"redisfleet_redis_used_memory_bytes{name=\"cache\",namespace=\"team-a\"}",
                           "redisfleet_redis_maxmemory_bytes{name=\"cache\",namespace=\"team-a\"} 0",
                           "redisfleet_redis_used_memory_bytes{name=\"sessions\",namespace=\"team-b\"}",
                           "redisfleet_redis_maxclients{name=\"sessions\",namespace=\"team-b\"} 10000",
                           "redisfleet_redis_connected_clients{name=\"cache\",namespace=\"team-a\"}",
                           "redisfleet_redis_ops_per_second{name=\"cache\",namespace=\"team-a\"}",
                           "redisfleet_redis_evicted_keys_total{name=\"cache\",namespace=\"team-a\"}",
                           "redisfleet_redis_rejected_connections_total{name=\"sessions\",namespace=\"team-b\"}"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  for (const char* secret : {kPassword, kPasswordInUrl, kMetricsPassword}) {
    EXPECT_EQ(text.find(secret), std::string::npos);
  }
  collector.Remove("team-a/cache");
  const std::string after = prometheus::TextSerializer().Serialize(registry->Collect());
  EXPECT_EQ(after.find("team-a"), std::string::npos);
  EXPECT_NE(after.find("team-b"), std::string::npos);
}

}  // namespace
}  // namespace redisfleet::redis
