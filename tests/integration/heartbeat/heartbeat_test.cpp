// The heartbeat registry against a real redis-server (with a password, the URL's db selected),
// and `redis-fleet agent` (agent::Run) against a real Docker daemon started by
// scripts/start-dockerd with the image scripts/build-redis-image makes.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/agent.h"
#include "api/types.h"
#include "common/logging.h"
#include "providers/docker/docker_client.h"
#include "redis/client.h"
#include "redis/heartbeat.h"
#include "support/harness.h"

namespace redisfleet {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using redis::HeartbeatRegistry;
using redis::HostBeat;
using redis::Reply;
using redisfleet::testing::Child;
using redisfleet::testing::FreePort;
using redisfleet::testing::RunCommand;
using redisfleet::testing::TempDir;
using redisfleet::testing::WaitUntil;

constexpr char kPassword[] = "Hb-Pw-7x9Qz-secret";
constexpr int kDb = 3;
constexpr char kImage[] = "redis-fleet/redis:7";
constexpr int64_t kMiB = 1024 * 1024;

std::string SourceDir() {
  const char* env = std::getenv("REDISFLEET_SOURCE_DIR");
  return env != nullptr && *env != '\0' ? env : REDISFLEET_SOURCE_DIR_DEFAULT;
}

// One redis-server on 127.0.0.1 with a password; Stop/Start keep the port.
class RedisServer {
 public:
  RedisServer(std::string dir, std::string password)
      : dir_(std::move(dir)), password_(std::move(password)), port_(FreePort()) {}

  bool Start() {
    child_ = std::make_unique<Child>(
        std::vector<std::string>{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--requirepass", password_, "--dir",
                                 dir_},
        dir_ + "/redis-" + std::to_string(port_) + ".log");
    return WaitUntil([&] {
      auto c = redis::RedisClient::Connect(Options());
      return c.ok() && (*c)->Ping().ok();
    }, std::chrono::seconds(10));
  }
  void Stop() {
    if (child_ == nullptr) return;
    child_->Signal(SIGKILL);
    (void)child_->Wait(std::chrono::seconds(10));
    child_.reset();
  }
  redis::ConnectOptions Options(int db = kDb) const {
    redis::ConnectOptions o;
    o.host = "127.0.0.1";
    o.port = port_;
    o.password = password_;
    o.db = db;
    return o;
  }
  std::string Url(int db = kDb) const {
    return "redis://:" + password_ + "@127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
  }
  int port() const { return port_; }
  std::string Log() const { return child_ ? child_->Log() : std::string(); }

 private:
  std::string dir_;
  std::string password_;
  int port_;
  std::unique_ptr<Child> child_;
};

// The discovery Redis, started once per test binary.
class RedisEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    // A write to a connection the server closed must be an error, not a fatal signal.
    std::signal(SIGPIPE, SIG_IGN);
    dir_ = std::make_unique<TempDir>();
    server_ = std::make_unique<RedisServer>(dir_->path(), kPassword);
    ready_ = server_->Start();
    ASSERT_TRUE(ready_) << "redis-server did not start:\n" << server_->Log();
  }
  void TearDown() override {
    server_.reset();  // Child's destructor kills it
    dir_.reset();
  }
  RedisServer& server() { return *server_; }
  const std::string& dir() const { return dir_->path(); }
  bool ready() const { return ready_; }

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<RedisServer> server_;
  bool ready_ = false;
};

RedisEnvironment* const g_redis =
    static_cast<RedisEnvironment*>(::testing::AddGlobalTestEnvironment(new RedisEnvironment));

HostBeat Beat(const std::string& name, int64_t containers = 2) {
  HostBeat b;
  b.name = name;
  b.address = "127.0.0.9";
  b.docker_endpoint = "unix:///run/docker-" + name + ".sock";
  b.containers = containers;
  b.memory_mib_used = 96 * containers;
  b.memory_mib_total = 4096;
  b.agent_version = "redis-fleet 0.1";
  b.at = TimePoint(std::chrono::seconds(1'900'000'000));
  return b;
}

class HeartbeatRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(g_redis->ready());
    auto c = redis::RedisClient::Connect(g_redis->server().Options());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    raw_ = std::move(*c);
  }

  // A command on the raw connection (db kDb) that must not fail.
  Reply Raw(const std::vector<std::string>& argv) {
    auto r = raw_->Command(argv);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Reply::Nil();
  }

  HeartbeatRegistry::ScanResult MustScan(HeartbeatRegistry& registry, const std::string& prefix) {
    auto r = registry.Scan(prefix);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : HeartbeatRegistry::ScanResult{};
  }

  HeartbeatRegistry registry_{g_redis->server().Url(), std::chrono::milliseconds(2000)};
  std::unique_ptr<redis::RedisClient> raw_;
};

TEST_F(HeartbeatRegistryTest, PublishThenScanSeesItInTheUrlsDb) {
  const HostBeat b = Beat("h1");
  ASSERT_TRUE(registry_.Publish("pub:", b, std::chrono::seconds(30)).ok());

  auto scan = MustScan(registry_, "pub:");
  ASSERT_EQ(scan.hosts.size(), 1u);
  EXPECT_EQ(scan.hosts.at("h1"), b);
  EXPECT_TRUE(scan.unparsable.empty());

  // SET ... EX ttl, in db kDb only.
  const Reply ttl = Raw({"TTL", "pub:h1"});
  EXPECT_GT(ttl.integer, 0);
  EXPECT_LE(ttl.integer, 30);
  EXPECT_EQ(Raw({"GET", "pub:h1"}).str, redis::EncodeBeat(b));
  auto db0 = redis::RedisClient::Connect(g_redis->server().Options(0));
  ASSERT_TRUE(db0.ok());
  EXPECT_EQ((*db0)->Command({"EXISTS", "pub:h1"}).value(), Reply::Integer(0));

  // Publishing again replaces the value and refreshes the ttl.
  HostBeat b2 = Beat("h1", 5);
  ASSERT_TRUE(registry_.Publish("pub:", b2, std::chrono::seconds(60)).ok());
  EXPECT_GT(Raw({"TTL", "pub:h1"}).integer, 30);
  EXPECT_EQ(MustScan(registry_, "pub:").hosts.at("h1").containers, 5);

  ASSERT_TRUE(registry_.Remove("pub:", "h1").ok());
  EXPECT_TRUE(MustScan(registry_, "pub:").hosts.empty());
  EXPECT_TRUE(registry_.Remove("pub:", "h1").ok()) << "removing an absent key is OK";
}

TEST_F(HeartbeatRegistryTest, BadArgumentsAndCredentials) {
  EXPECT_EQ(registry_.Publish("x:", Beat(""), std::chrono::seconds(5)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_.Publish("x:", Beat("a"), std::chrono::seconds(0)).code(), StatusCode::kInvalidArgument);

  const std::string wrong = "Wrong-Pw-zz81";
  HeartbeatRegistry refused("redis://:" + wrong + "@127.0.0.1:" + std::to_string(g_redis->server().port()),
                            std::chrono::milliseconds(2000));
  Status s = refused.Publish("x:", Beat("a"), std::chrono::seconds(5));
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
  EXPECT_THAT(s.message(), Not(HasSubstr(wrong)));
  EXPECT_THAT(s.message(), Not(HasSubstr(kPassword)));

  HeartbeatRegistry no_password("redis://127.0.0.1:" + std::to_string(g_redis->server().port()) + "/1",
                                std::chrono::milliseconds(2000));
  auto scan = no_password.Scan("x:");
  ASSERT_FALSE(scan.ok());
  EXPECT_EQ(scan.status().code(), StatusCode::kUnauthenticated) << scan.status().ToString();

  HeartbeatRegistry bad_db(g_redis->server().Url(9999), std::chrono::milliseconds(2000));
  Status db = bad_db.Remove("x:", "a");
  EXPECT_EQ(db.code(), StatusCode::kInvalidArgument) << db.ToString();
  EXPECT_THAT(db.message(), Not(HasSubstr(kPassword)));

  HeartbeatRegistry bad_url("rediss://:" + std::string(kPassword) + "@127.0.0.1:1", std::chrono::milliseconds(100));
  Status tls = bad_url.Publish("x:", Beat("a"), std::chrono::seconds(5));
  EXPECT_EQ(tls.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(tls.message(), HasSubstr("rediss not supported yet"));

  HeartbeatRegistry nobody("redis://127.0.0.1:" + std::to_string(FreePort()), std::chrono::milliseconds(500));
  EXPECT_EQ(nobody.Scan("x:").status().code(), StatusCode::kUnavailable);
}

TEST_F(HeartbeatRegistryTest, KeyExpiresAfterItsTtl) {
  ASSERT_TRUE(registry_.Publish("ttl:", Beat("short"), std::chrono::seconds(1)).ok());
  ASSERT_TRUE(registry_.Publish("ttl:", Beat("long"), std::chrono::seconds(60)).ok());
  EXPECT_EQ(MustScan(registry_, "ttl:").hosts.count("short"), 1u);
  ASSERT_TRUE(WaitUntil([&] { return MustScan(registry_, "ttl:").hosts.count("short") == 0; },
                        std::chrono::seconds(5)));
  auto scan = MustScan(registry_, "ttl:");
  EXPECT_EQ(scan.hosts.count("long"), 1u);
  EXPECT_TRUE(scan.unparsable.empty());
}

TEST_F(HeartbeatRegistryTest, GarbageIsReportedUnparsableNeverAsAHost) {
  ASSERT_TRUE(registry_.Publish("bad:", Beat("good"), std::chrono::seconds(60)).ok());
  const std::string marker = "SECRET-VALUE-9931";
  Raw({"SET", "bad:text", "not json " + marker});
  Raw({"SET", "bad:empty", ""});
  std::string half = redis::EncodeBeat(Beat("half"));
  Raw({"SET", "bad:half", half.substr(0, half.size() / 2)});
  std::string negative = redis::EncodeBeat(Beat("negative"));
  negative.replace(negative.find("\"containers\":2"), 14, "\"containers\":-2");
  Raw({"SET", "bad:negative", negative});
  Raw({"SET", "bad:othername", redis::EncodeBeat(Beat("someone-else"))});
  Raw({"HSET", "bad:hash", "name", "hash"});
  Raw({"RPUSH", "bad:list", marker});

  auto scan = MustScan(registry_, "bad:");
  ASSERT_EQ(scan.hosts.size(), 1u);
  EXPECT_EQ(scan.hosts.count("good"), 1u);
  const std::vector<std::string> want = {"empty", "half", "hash", "list", "negative", "othername", "text"};
  std::vector<std::string> got;
  for (const auto& [name, why] : scan.unparsable) {
    got.push_back(name);
    SCOPED_TRACE(name);
    EXPECT_FALSE(why.empty());
    EXPECT_THAT(why, Not(HasSubstr(marker)));
    EXPECT_THAT(why, Not(HasSubstr("someone-else")));
  }
  EXPECT_EQ(got, want);
  EXPECT_THAT(scan.unparsable.at("negative"), HasSubstr("\"containers\""));
  EXPECT_THAT(scan.unparsable.at("othername"), HasSubstr("\"name\""));
  EXPECT_THAT(scan.unparsable.at("hash"), HasSubstr("not a string"));
}

TEST_F(HeartbeatRegistryTest, PrefixGlobCharactersAreLiteral) {
  const std::string prefix = "g*[x]?\\:";  // g*[x]?\:
  ASSERT_TRUE(registry_.Publish(prefix, Beat("h1"), std::chrono::seconds(60)).ok());
  ASSERT_TRUE(registry_.Publish(prefix, Beat("h4"), std::chrono::seconds(60)).ok());
  // Keys the prefix taken as a glob pattern would match too.
  ASSERT_TRUE(registry_.Publish("gZZxQ:", Beat("h2"), std::chrono::seconds(60)).ok());
  ASSERT_TRUE(registry_.Publish("gxx:", Beat("h3"), std::chrono::seconds(60)).ok());
  Reply unescaped = Raw({"SCAN", "0", "MATCH", prefix + "*", "COUNT", "100000"});
  ASSERT_EQ(unescaped.elements.size(), 2u);
  std::vector<std::string> matched;  // the control: unescaped, the pattern matches the decoys
  for (const Reply& k : unescaped.elements[1].elements) matched.push_back(k.str);
  std::sort(matched.begin(), matched.end());
  EXPECT_EQ(matched, (std::vector<std::string>{"gZZxQ:h2", "gxx:h3"}));

  auto scan = MustScan(registry_, prefix);
  EXPECT_TRUE(scan.unparsable.empty());
  std::vector<std::string> names;
  for (const auto& [name, beat] : scan.hosts) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"h1", "h4"}));
  EXPECT_EQ(MustScan(registry_, "gZZxQ:").hosts.size(), 1u);
}

TEST_F(HeartbeatRegistryTest, ScanCoversManyKeysInBatches) {
  constexpr int kHosts = 1200;
  for (int i = 0; i < kHosts; ++i) {
    ASSERT_TRUE(registry_.Publish("many:", Beat("host-" + std::to_string(i), i % 7), std::chrono::seconds(120)).ok());
  }
  // Keys that share no prefix must not show up.
  for (int i = 0; i < 50; ++i) Raw({"SET", "manyx" + std::to_string(i), "x"});
  auto scan = MustScan(registry_, "many:");
  ASSERT_EQ(scan.hosts.size(), static_cast<std::size_t>(kHosts));
  EXPECT_GT(static_cast<std::size_t>(kHosts), 2 * HeartbeatRegistry::kMgetBatch);
  EXPECT_TRUE(scan.unparsable.empty());
  for (int i = 0; i < kHosts; ++i) {
    const std::string name = "host-" + std::to_string(i);
    ASSERT_EQ(scan.hosts.count(name), 1u) << name;
    EXPECT_EQ(scan.hosts.at(name).containers, i % 7);
  }
}

TEST_F(HeartbeatRegistryTest, SurvivesARedisRestart) {
  ASSERT_TRUE(registry_.Publish("restart:", Beat("h1"), std::chrono::seconds(60)).ok());
  RedisServer& server = g_redis->server();
  server.Stop();
  Status down = registry_.Publish("restart:", Beat("h1"), std::chrono::seconds(60));
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.ToString();
  EXPECT_EQ(registry_.Scan("restart:").status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(server.Start()) << server.Log();
  // The same registry reconnects (and re-authenticates and re-selects its db) by itself.
  ASSERT_TRUE(WaitUntil([&] { return registry_.Publish("restart:", Beat("h2"), std::chrono::seconds(60)).ok(); },
                        std::chrono::seconds(10)));
  auto scan = MustScan(registry_, "restart:");
  EXPECT_EQ(scan.hosts.count("h2"), 1u);
  EXPECT_EQ(scan.hosts.count("h1"), 0u) << "the restarted server has no data (--save '')";
  auto reconnected = redis::RedisClient::Connect(server.Options());
  ASSERT_TRUE(reconnected.ok());
  EXPECT_EQ((*reconnected)->Command({"EXISTS", "restart:h2"}).value(), Reply::Integer(1));
}

TEST(AgentValidateTest, NamesTheFlag) {
  agent::Options good;
  good.discovery_url = "redis://:" + std::string(kPassword) + "@127.0.0.1:6379/0";
  good.name = "docker-1";
  good.address = "127.0.0.2";
  ASSERT_TRUE(agent::Validate(good).ok()) << agent::Validate(good).ToString();

  struct Case {
    std::string name;
    std::function<void(agent::Options&)> edit;
    std::string flag;
  };
  const std::vector<Case> cases = {
      {"no discovery", [](agent::Options& o) { o.discovery_url.clear(); }, "--discovery"},
      {"tls discovery", [](agent::Options& o) { o.discovery_url = "rediss://:" + std::string(kPassword) + "@h"; },
       "--discovery"},
      {"bad discovery", [](agent::Options& o) { o.discovery_url = "redis://:" + std::string(kPassword) + "@h:x"; },
       "--discovery"},
      {"prefix with space", [](agent::Options& o) { o.key_prefix = "a b"; }, "--key-prefix"},
      {"no name", [](agent::Options& o) { o.name.clear(); }, "--name"},
      {"name with newline", [](agent::Options& o) { o.name = "a\nb"; }, "--name"},
      {"no address", [](agent::Options& o) { o.address.clear(); }, "--address"},
      {"no docker", [](agent::Options& o) { o.docker_endpoint.clear(); }, "--docker"},
      {"bad docker", [](agent::Options& o) { o.docker_endpoint = "ftp://u:" + std::string(kPassword) + "@h"; },
       "--docker"},
      {"bad basic auth", [](agent::Options& o) { o.docker_basic_auth = kPassword; }, "--docker-basic-auth"},
      {"zero ttl", [](agent::Options& o) { o.ttl = std::chrono::seconds(0); }, "--ttl"},
      {"zero interval", [](agent::Options& o) { o.interval = std::chrono::milliseconds(0); }, "--interval"},
      {"interval = ttl", [](agent::Options& o) { o.interval = o.ttl; }, "--interval"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    agent::Options o = good;
    c.edit(o);
    Status s = agent::Validate(o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message().rfind(c.flag + ":", 0), 0u) << s.message();
    EXPECT_THAT(s.message(), Not(HasSubstr(kPassword)));
  }

  agent::Options bad = good;
  bad.interval = std::chrono::seconds(20);
  std::vector<std::string> lines;
  auto logger = std::make_shared<Logger>(LogFormat::kText, LogLevel::kDebug, std::make_shared<RealClock>(),
                                         [&](const std::string& l) { lines.push_back(l); });
  EXPECT_EQ(agent::Run(bad, logger, [] { return false; }), 2);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("--interval"));
  EXPECT_THAT(lines[0], Not(HasSubstr(kPassword)));
}

// One Docker daemon (and the image in it) for the agent tests, started once.
class AgentTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    name_ = "rf-hb-" + std::to_string(::getpid());
    start_error_.clear();
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {SourceDir() + "/scripts/start-dockerd", name_},
             {SourceDir() + "/scripts/build-redis-image", Socket(), kImage}}) {
      auto r = RunCommand(argv);
      if (r.exit_code != 0) {
        start_error_ = argv[0] + " failed (" + std::to_string(r.exit_code) + "):\n" + r.out + r.err;
        return;
      }
    }
  }
  static void TearDownTestSuite() {
    auto r = RunCommand({SourceDir() + "/scripts/stop-dockerd", name_, "--purge"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  static std::string Socket() {  // where scripts/start-dockerd puts it
    const char* root = std::getenv("REDISFLEET_DOCKER_ROOT");
    return std::string(root != nullptr && *root != '\0' ? root : "/tmp/redisfleet-docker") + "/" + name_ +
           "/docker.sock";
  }

  void SetUp() override {
    ASSERT_TRUE(g_redis->ready());
    ASSERT_TRUE(start_error_.empty()) << start_error_;
    docker::DockerClientOptions o;
    o.endpoint = "unix://" + Socket();
    auto c = docker::DockerClient::Create(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    docker_ = std::move(*c);
    // Info: the agent logs its first beat at info and the following ones at debug.
    logger_ = std::make_shared<Logger>(LogFormat::kText, LogLevel::kInfo, std::make_shared<RealClock>(),
                                       [this](const std::string& line) {
                                         std::lock_guard<std::mutex> lock(mu_);
                                         lines_.push_back(line);
                                       });
  }

  void TearDown() override {
    auto left = docker_->ListContainers({});
    ASSERT_TRUE(left.ok()) << left.status().ToString();
    for (const auto& s : *left) (void)docker_->RemoveContainer(s.id, true, true);
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& line : lines_) {
      EXPECT_THAT(line, Not(HasSubstr(kPassword)));
      EXPECT_THAT(line, Not(HasSubstr("basic-Pw-31")));
    }
  }

  agent::Options AgentOptions(const std::string& host) const {
    agent::Options o;
    o.discovery_url = g_redis->server().Url();
    o.key_prefix = "agent:";
    o.name = host;
    o.address = "127.0.0.2";
    o.docker_endpoint = "unix://" + Socket();
    o.docker_basic_auth = "user:basic-Pw-31";  // ignored by a unix socket, but never logged
    o.ttl = std::chrono::seconds(3);
    o.interval = std::chrono::milliseconds(200);
    return o;
  }

  std::string CreateRedis(const std::string& name, int64_t memory_mib, std::map<std::string, std::string> labels,
                          bool start) {
    docker::ContainerCreateSpec spec;
    spec.name = name;
    spec.image = kImage;
    spec.cmd = {"redis-server", "--port", std::to_string(FreePort()), "--bind", "127.0.0.1", "--save", ""};
    spec.labels = std::move(labels);
    spec.memory_bytes = memory_mib * kMiB;
    spec.memory_swap_bytes = memory_mib * kMiB;
    spec.network_mode = "host";
    spec.restart_policy = "no";
    auto id = docker_->CreateContainer(spec);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!id.ok()) return "";
    if (start) {
      Status s = docker_->StartContainer(*id);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    return *id;
  }

  std::optional<HostBeat> Seen(HeartbeatRegistry& registry, const std::string& host) {
    auto scan = registry.Scan("agent:");
    if (!scan.ok() || scan->hosts.count(host) == 0) return std::nullopt;
    return scan->hosts.at(host);
  }

  int CountLines(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& l : lines_) n += l.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }

  std::string Lines() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const auto& l : lines_) out += l + "\n";
    return out;
  }

  inline static std::string name_;
  inline static std::string start_error_;
  std::unique_ptr<docker::DockerClient> docker_;
  std::shared_ptr<Logger> logger_;
  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST_F(AgentTest, MeasureCountsOurContainersAndTheirMemory) {
  const std::string ours = std::string(api::kLabelManagedBy);
  CreateRedis("hb-measure-a", 96, {{ours, "op-1"}}, true);
  CreateRedis("hb-measure-b", 40, {{ours, "op-2"}}, false);   // created, not running: still ours
  CreateRedis("hb-measure-c", 500, {{"team", "other"}}, false);  // not ours
  RealClock clock;
  const TimePoint before = clock.Now();
  auto beat = agent::Measure(AgentOptions("m1"), *docker_, clock);
  ASSERT_TRUE(beat.ok()) << beat.status().ToString();
  EXPECT_EQ(beat->name, "m1");
  EXPECT_EQ(beat->address, "127.0.0.2");
  EXPECT_EQ(beat->docker_endpoint, "unix://" + Socket());
  EXPECT_EQ(beat->containers, 2);
  EXPECT_EQ(beat->memory_mib_used, 96 + 40);
  auto info = docker_->Info();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(beat->memory_mib_total, info->mem_total_bytes / kMiB);
  EXPECT_GT(beat->memory_mib_total, 0);
  EXPECT_EQ(beat->agent_version, agent::kAgentVersion);
  EXPECT_GE(beat->at, before);
}

TEST_F(AgentTest, RunPublishesUpdatesAndRemovesItsKeyOnStop) {
  HeartbeatRegistry registry(g_redis->server().Url(), std::chrono::milliseconds(2000));
  const std::string id =
      CreateRedis("hb-run-a", 96, {{std::string(api::kLabelManagedBy), "op-1"}, {"team", "it"}}, true);
  ASSERT_FALSE(id.empty());

  std::atomic<bool> stop{false};
  std::atomic<int> rc{-1};
  const agent::Options o = AgentOptions("run-1");
  std::thread t([&] { rc = agent::Run(o, logger_, [&] { return stop.load(); }); });

  EXPECT_TRUE(WaitUntil([&] {
    auto b = Seen(registry, "run-1");
    return b && b->containers == 1 && b->memory_mib_used == 96;
  })) << Lines();
  auto b = Seen(registry, "run-1");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->address, "127.0.0.2");
  EXPECT_GT(b->memory_mib_total, 0);

  // It keeps measuring: the container going away shows in the next beats.
  ASSERT_TRUE(docker_->RemoveContainer(id, true, true).ok());
  EXPECT_TRUE(WaitUntil([&] {
    auto b = Seen(registry, "run-1");
    return b && b->containers == 0 && b->memory_mib_used == 0;
  })) << Lines();

  const auto stop_at = std::chrono::steady_clock::now();
  stop = true;
  t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_at, std::chrono::seconds(3));
  EXPECT_EQ(rc.load(), 0);
  // Gone at once, not after the ttl.
  auto scan = registry.Scan("agent:");
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->hosts.count("run-1"), 0u);
  EXPECT_EQ(CountLines("heartbeat published"), 1) << "info once, then debug lines";
  EXPECT_EQ(CountLines("level=warn"), 0) << Lines();
  EXPECT_EQ(CountLines("heartbeat removed"), 1) << Lines();
}

TEST_F(AgentTest, FailuresAreLoggedOncePerStreakAndRetriedUntilRecovery) {
  // The discovery Redis is not there yet: the agent keeps retrying.
  TempDir dir;
  RedisServer late(dir.path(), kPassword);
  agent::Options o = AgentOptions("late-1");
  o.discovery_url = late.Url();
  std::atomic<bool> stop{false};
  std::atomic<int> rc{-1};
  std::thread t([&] { rc = agent::Run(o, logger_, [&] { return stop.load(); }); });

  EXPECT_TRUE(WaitUntil([&] { return CountLines("heartbeat failed") == 1; })) << Lines();
  ASSERT_TRUE(late.Start()) << late.Log();
  HeartbeatRegistry registry(late.Url(), std::chrono::milliseconds(2000));
  EXPECT_TRUE(WaitUntil([&] { return Seen(registry, "late-1").has_value(); })) << Lines();
  EXPECT_TRUE(WaitUntil([&] { return CountLines("heartbeat recovered") == 1; })) << Lines();
  EXPECT_EQ(CountLines("heartbeat failed"), 1) << Lines();

  stop = true;
  t.join();
  EXPECT_EQ(rc.load(), 0);
  EXPECT_FALSE(Seen(registry, "late-1").has_value());
  late.Stop();
}

}  // namespace
}  // namespace redisfleet
