#include "providers/process/process_runtime.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/process/process_test_util.h"
#include "providers/local/local_host_provider.h"
#include "redis/client.h"

namespace redisfleet::providers {
namespace {

using redisfleet::testing::KillAllUnder;
using redisfleet::testing::LogCapture;
using redisfleet::testing::MakeSpec;
using redisfleet::testing::MakeTempRoot;
using redisfleet::testing::ProcessesUnder;
using redisfleet::testing::WaitFor;

// Every password in this file contains kMarker, so one search finds any leak into the logs.
constexpr char kMarker[] = "Sekr1t";
std::string Password(const std::string& name) { return "pw-" + name + "-" + kMarker + "-x\"y z"; }

const Host kHost{"local", "local", "127.0.0.1", "", {}, true};

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

std::string Slurp(const std::string& path) {
  auto text = ReadFile(path);
  return text.ok() ? *text : std::string();
}

// How redis.conf spells a value: double-quoted, with '"' and '\\' escaped.
std::string ConfQuoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

int ParentOf(int pid) {
  std::string stat = Slurp("/proc/" + std::to_string(pid) + "/stat");
  std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  int ppid = -1;
  char state = 0;
  std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid);
  return ppid;
}

StatusOr<std::unique_ptr<redis::RedisClient>> Connect(const api::Endpoint& ep,
                                                      const std::string& password) {
  redis::ConnectOptions opts;
  opts.host = ep.host;
  opts.port = static_cast<int>(ep.port);
  opts.password = password;
  return redis::RedisClient::Connect(opts);
}

// Real redis-server processes under one temp root per test binary run. One "shared" instance
// is started once; tests that stop, resize or kill a server use their own instance.
class ProcessRuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = MakeTempRoot("process");
    logs_ = std::make_unique<LogCapture>();
    runtime_ = NewRuntime();
    shared_spec_ = MakeSpec("shared", Password("shared"));
    shared_ = std::make_unique<StatusOr<api::Endpoint>>(runtime_->Ensure(kHost, shared_spec_));
  }

  static void TearDownTestSuite() {
    runtime_.reset();
    std::vector<int> left = KillAllUnder(root_);
    EXPECT_TRUE(left.empty()) << left.size() << " redis-server processes would not die";
  }

  void SetUp() override { ASSERT_FALSE(root_.empty()) << "cannot create a temp root"; }

  void TearDown() override {
    std::string leak = logs_->Find(kMarker);
    EXPECT_EQ(leak, "") << "a password reached the logs";
  }

  static std::unique_ptr<ProcessRuntime> NewRuntime(
      std::string redis_server = "redis-server") {
    ProcessRuntime::Options opts;
    opts.root_dir = root_;
    opts.redis_server = std::move(redis_server);
    opts.start_timeout = std::chrono::seconds(10);
    opts.stop_timeout = std::chrono::seconds(10);
    return std::make_unique<ProcessRuntime>(opts, std::make_shared<RealClock>(), logs_->MakeLogger());
  }

  static std::optional<RunningRedis> Listed(ProcessRuntime& rt, const api::Key& key) {
    auto all = rt.List(kHost);
    if (!all.ok()) return std::nullopt;
    for (const RunningRedis& r : *all)
      if (r.instance == key) return r;
    return std::nullopt;
  }

  static std::string ConfigGet(const api::Endpoint& ep, const std::string& password,
                               const std::string& name) {
    auto client = Connect(ep, password);
    if (!client.ok()) return "<" + client.status().ToString() + ">";
    auto v = (*client)->ConfigGet(name);
    return v.ok() ? *v : "<" + v.status().ToString() + ">";
  }

  inline static std::string root_;
  inline static std::unique_ptr<LogCapture> logs_;
  inline static std::unique_ptr<ProcessRuntime> runtime_;
  inline static RedisSpec shared_spec_;
  inline static std::unique_ptr<StatusOr<api::Endpoint>> shared_;
};

TEST_F(ProcessRuntimeTest, EnsureStartsRedisThatAnswersOnlyWithThePassword) {
  ASSERT_TRUE(shared_->ok()) << shared_->status().ToString();
  const api::Endpoint ep = **shared_;
  EXPECT_EQ(ep.host, "127.0.0.1");
  EXPECT_GT(ep.port, 0);

  auto good = Connect(ep, shared_spec_.password);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_TRUE((*good)->Ping().ok());

  auto anonymous = Connect(ep, "");
  ASSERT_TRUE(anonymous.ok()) << anonymous.status().ToString();
  EXPECT_EQ((*anonymous)->Ping().code(), StatusCode::kUnauthenticated);

  const std::string wrong = std::string("wrong-") + kMarker;
  auto refused = Connect(ep, wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(refused.status().message().find(wrong), std::string::npos);

  // The launcher child was reaped: this process has no children left, dead or alive.
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);

  EXPECT_NE(logs_->Find("redis started"), "");
}

TEST_F(ProcessRuntimeTest, InstanceDirectoryHoldsConfigLabelsAndPid) {
  ASSERT_TRUE(shared_->ok()) << shared_->status().ToString();
  const std::string dir = runtime_->InstanceDir(shared_spec_);
  EXPECT_EQ(dir, root_ + "/default.shared.uid-shared");
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(dir + "/redis.conf"), 0600u);

  const std::string conf = Slurp(dir + "/redis.conf");
  for (const std::string& line :
       {"port " + std::to_string((*shared_)->port), std::string("bind 127.0.0.1"),
        std::string("protected-mode yes"), "requirepass " + ConfQuoted(shared_spec_.password),
        std::string("maxmemory 64mb"),
        std::string("maxclients 100"), std::string("daemonize no"), std::string("appendonly yes"),
        std::string("appendfsync everysec"), std::string("save \"\""), "dir \"" + dir + "\""}) {
    SCOPED_TRACE(line);
    EXPECT_NE(conf.find(line + "\n"), std::string::npos) << conf;
  }

  const std::string labels_text = Slurp(dir + "/labels.json");
  EXPECT_EQ(labels_text.find(kMarker), std::string::npos);
  auto labels = nlohmann::json::parse(labels_text);
  EXPECT_EQ(labels["namespace"], "default");
  EXPECT_EQ(labels["name"], "shared");
  EXPECT_EQ(labels["uid"], "uid-shared");
  EXPECT_EQ(labels["pool_id"], "default.local");
  EXPECT_EQ(labels["port"], (*shared_)->port);
  EXPECT_EQ(labels["memory_mib"], 64);
  EXPECT_EQ(labels["max_clients"], 100);
  EXPECT_EQ(labels["persistence"], "aof");
  EXPECT_EQ(labels["labels"]["tier"], "cache");
  EXPECT_EQ(labels["labels"][std::string(api::kLabelInstance)], "default.shared");

  auto pid = runtime_->RunningPid(dir);
  ASSERT_TRUE(pid.has_value());
  EXPECT_EQ(Slurp(dir + "/redis.pid"), std::to_string(*pid) + "\n");
  EXPECT_EQ(ConfigGet(**shared_, shared_spec_.password, "maxmemory"), "67108864");
  EXPECT_EQ(ConfigGet(**shared_, shared_spec_.password, "dir"), dir);
}

TEST_F(ProcessRuntimeTest, EnsureTwiceKeepsTheSameProcessAndPort) {
  ASSERT_TRUE(shared_->ok()) << shared_->status().ToString();
  const std::string dir = runtime_->InstanceDir(shared_spec_);
  auto pid = runtime_->RunningPid(dir);
  ASSERT_TRUE(pid.has_value());
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    auto again = runtime_->Ensure(kHost, shared_spec_);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(*again, **shared_);
    EXPECT_EQ(runtime_->RunningPid(dir), pid);
  }
  EXPECT_EQ(ProcessesUnder(dir).size(), 1u);
}

TEST_F(ProcessRuntimeTest, ConcurrentEnsureStartsOneServerPerInstance) {
  const RedisSpec specs[] = {MakeSpec("conc-a", Password("conc-a")), MakeSpec("conc-b", Password("conc-b"))};
  std::vector<StatusOr<api::Endpoint>> results(4, InternalError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { results[i] = runtime_->Ensure(kHost, specs[i % 2]); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(results[i].ok()) << results[i].status().ToString();
  }
  EXPECT_EQ(*results[0], *results[2]);
  EXPECT_EQ(*results[1], *results[3]);
  EXPECT_NE(results[0]->port, results[1]->port);
  for (const RedisSpec& spec : specs) {
    SCOPED_TRACE(spec.instance.name);
    EXPECT_EQ(ProcessesUnder(runtime_->InstanceDir(spec)).size(), 1u);
    auto listed = Listed(*runtime_, spec.instance);
    ASSERT_TRUE(listed.has_value());
    EXPECT_TRUE(runtime_->Remove(kHost, *listed).ok());
  }
}

TEST_F(ProcessRuntimeTest, PersistenceModesConfigureRedis) {
  struct Case {
    api::Persistence persistence;
    std::string appendonly;
    std::string save;
  };
  const Case cases[] = {
      {api::Persistence::kAof, "yes", ""},
      {api::Persistence::kRdb, "no", "3600 1 300 100 60 10000"},
      {api::Persistence::kNone, "no", ""},
  };
  for (const Case& c : cases) {
    const std::string name = "persist-" + std::string(api::EnumName(c.persistence));
    SCOPED_TRACE(name);
    RedisSpec spec = MakeSpec(name, Password(name), c.persistence);
    auto ep = runtime_->Ensure(kHost, spec);
    ASSERT_TRUE(ep.ok()) << ep.status().ToString();
    EXPECT_EQ(ConfigGet(*ep, spec.password, "appendonly"), c.appendonly);
    EXPECT_EQ(ConfigGet(*ep, spec.password, "save"), c.save);
    auto listed = Listed(*runtime_, spec.instance);
    ASSERT_TRUE(listed.has_value());
    EXPECT_TRUE(runtime_->Remove(kHost, *listed).ok());
  }
}

TEST_F(ProcessRuntimeTest, ResizeChangesLimitsInPlace) {
  RedisSpec spec = MakeSpec("resize", Password("resize"));
  auto ep = runtime_->Ensure(kHost, spec);
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  const std::string dir = runtime_->InstanceDir(spec);
  auto pid = runtime_->RunningPid(dir);
  ASSERT_TRUE(pid.has_value());
  auto listed = Listed(*runtime_, spec.instance);
  ASSERT_TRUE(listed.has_value());

  ASSERT_TRUE(runtime_->Resize(kHost, *listed, RedisResources{128, 200}).ok());
  EXPECT_EQ(ConfigGet(*ep, spec.password, "maxmemory"), std::to_string(128 * 1024 * 1024));
  EXPECT_EQ(ConfigGet(*ep, spec.password, "maxclients"), "200");
  EXPECT_EQ(runtime_->RunningPid(dir), pid);
  auto after = Listed(*runtime_, spec.instance);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->resources, (RedisResources{128, 200}));
  EXPECT_EQ(after->endpoint, *ep);
  EXPECT_NE(Slurp(dir + "/redis.conf").find("maxmemory 128mb\n"), std::string::npos);

  // Ensure with other resources resizes the running server too, without a restart.
  spec.resources = RedisResources{32, 50};
  auto again = runtime_->Ensure(kHost, spec);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *ep);
  EXPECT_EQ(ConfigGet(*ep, spec.password, "maxmemory"), std::to_string(32 * 1024 * 1024));
  EXPECT_EQ(ConfigGet(*ep, spec.password, "maxclients"), "50");
  EXPECT_EQ(runtime_->RunningPid(dir), pid);
}

TEST_F(ProcessRuntimeTest, ResizeBelowUsedMemoryIsRefusedWithoutChange) {
  RedisSpec spec = MakeSpec("full", Password("full"));
  auto ep = runtime_->Ensure(kHost, spec);
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  {
    auto client = Connect(*ep, spec.password);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    const std::string mib(1024 * 1024, 'x');
    for (int i = 0; i < 4; ++i) {
      auto r = (*client)->Command({"SET", "blob" + std::to_string(i), mib});
      ASSERT_TRUE(r.ok() && !r->IsError());
    }
  }
  auto listed = Listed(*runtime_, spec.instance);
  ASSERT_TRUE(listed.has_value());
  const std::string conf_before = Slurp(listed->id + "/redis.conf");

  Status st = runtime_->Resize(kHost, *listed, RedisResources{2, 100});
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("MiB in use"), std::string::npos) << st.message();
  EXPECT_EQ(ConfigGet(*ep, spec.password, "maxmemory"), std::to_string(64 * 1024 * 1024));
  EXPECT_EQ(ConfigGet(*ep, spec.password, "maxclients"), "100");
  EXPECT_EQ(Listed(*runtime_, spec.instance)->resources, (RedisResources{64, 100}));
  EXPECT_EQ(Slurp(listed->id + "/redis.conf"), conf_before);
}

TEST_F(ProcessRuntimeTest, PasswordChangeAppliesWithoutRestart) {
  RedisSpec spec = MakeSpec("rotate", Password("rotate"));
  auto ep = runtime_->Ensure(kHost, spec);
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  const std::string dir = runtime_->InstanceDir(spec);
  auto pid = runtime_->RunningPid(dir);

  const std::string old_password = spec.password;
  spec.password = Password("rotate-2");
  auto again = runtime_->Ensure(kHost, spec);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(runtime_->RunningPid(dir), pid);
  EXPECT_EQ(Connect(*ep, old_password).status().code(), StatusCode::kUnauthenticated);
  auto client = Connect(*ep, spec.password);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_TRUE((*client)->Ping().ok());
}

TEST_F(ProcessRuntimeTest, KilledServerRestartsOnTheSamePortWithItsData) {
  RedisSpec spec = MakeSpec("phoenix", Password("phoenix"), api::Persistence::kAof);
  auto ep = runtime_->Ensure(kHost, spec);
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  {
    auto client = Connect(*ep, spec.password);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    ASSERT_TRUE((*client)->ConfigSet("appendfsync", "always").ok());
    auto r = (*client)->Command({"SET", "survivor", "still here"});
    ASSERT_TRUE(r.ok() && !r->IsError());
  }
  const std::string dir = runtime_->InstanceDir(spec);
  auto pid = runtime_->RunningPid(dir);
  ASSERT_TRUE(pid.has_value());
  ASSERT_EQ(::kill(*pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return !runtime_->RunningPid(dir).has_value(); }));

  auto stopped = Listed(*runtime_, spec.instance);
  ASSERT_TRUE(stopped.has_value());
  EXPECT_FALSE(stopped->running);
  EXPECT_EQ(stopped->endpoint, *ep);

  auto restarted = runtime_->Ensure(kHost, spec);
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  EXPECT_EQ(*restarted, *ep);
  auto new_pid = runtime_->RunningPid(dir);
  ASSERT_TRUE(new_pid.has_value());
  EXPECT_NE(*new_pid, *pid);
  auto client = Connect(*restarted, spec.password);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto value = (*client)->Command({"GET", "survivor"});
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, redis::Reply::String("still here"));
}

TEST_F(ProcessRuntimeTest, ListReportsInstancesAndANewRuntimeAdoptsThem) {
  ASSERT_TRUE(shared_->ok()) << shared_->status().ToString();
  const std::string dir = runtime_->InstanceDir(shared_spec_);
  auto pid = runtime_->RunningPid(dir);
  ASSERT_TRUE(pid.has_value());

  auto listed = Listed(*runtime_, shared_spec_.instance);
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->id, dir);
  EXPECT_EQ(listed->uid, "uid-shared");
  EXPECT_EQ(listed->pool_id, "default.local");
  EXPECT_EQ(listed->endpoint, **shared_);
  EXPECT_EQ(listed->resources, (RedisResources{64, 100}));
  EXPECT_TRUE(listed->running);
  EXPECT_EQ(listed->labels.at(std::string(api::kLabelManagedBy)), "test-operator");
  EXPECT_EQ(listed->labels.at(std::string(api::kLabelUid)), "uid-shared");

  // A new runtime object stands for a restarted operator: it finds the same server and
  // Ensure adopts it instead of starting another.
  auto fresh = NewRuntime();
  auto relisted = Listed(*fresh, shared_spec_.instance);
  ASSERT_TRUE(relisted.has_value());
  EXPECT_EQ(relisted->endpoint, listed->endpoint);
  EXPECT_TRUE(relisted->running);
  auto adopted = fresh->Ensure(kHost, shared_spec_);
  ASSERT_TRUE(adopted.ok()) << adopted.status().ToString();
  EXPECT_EQ(*adopted, **shared_);
  EXPECT_EQ(fresh->RunningPid(dir), pid);
  EXPECT_EQ(ProcessesUnder(dir).size(), 1u);
}

TEST_F(ProcessRuntimeTest, RemoveStopsTheServerAndDeletesItsDirectory) {
  RedisSpec spec = MakeSpec("doomed", Password("doomed"));
  auto ep = runtime_->Ensure(kHost, spec);
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  const std::string dir = runtime_->InstanceDir(spec);
  auto pid = runtime_->RunningPid(dir);
  ASSERT_TRUE(pid.has_value());
  auto listed = Listed(*runtime_, spec.instance);
  ASSERT_TRUE(listed.has_value());

  ASSERT_TRUE(runtime_->Remove(kHost, *listed).ok());
  EXPECT_TRUE(ProcessesUnder(dir).empty());
  EXPECT_NE(testing::ProcCwd(*pid), dir);
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(Listed(*runtime_, spec.instance).has_value());
  EXPECT_EQ(Connect(*ep, spec.password).status().code(), StatusCode::kUnavailable);
  // Already gone is fine.
  EXPECT_TRUE(runtime_->Remove(kHost, *listed).ok());
}

TEST_F(ProcessRuntimeTest, ServerOutlivesTheProcessThatStartedIt) {
  RedisSpec spec = MakeSpec("orphan", Password("orphan"));
  pid_t starter = ::fork();
  ASSERT_GE(starter, 0);
  if (starter == 0) {
    ProcessRuntime::Options opts;
    opts.root_dir = root_;
    ProcessRuntime rt(opts, std::make_shared<RealClock>(), Logger::Null());
    ::_exit(rt.Ensure(kHost, spec).ok() ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(starter, &wstatus, 0), starter);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);

  const std::string dir = runtime_->InstanceDir(spec);
  auto pid = runtime_->RunningPid(dir);
  ASSERT_TRUE(pid.has_value());
  EXPECT_NE(ParentOf(*pid), starter);
  EXPECT_NE(ParentOf(*pid), ::getpid());
  EXPECT_NE(::getsid(*pid), ::getsid(0));  // its own session: our terminal signals miss it
  auto listed = Listed(*runtime_, spec.instance);
  ASSERT_TRUE(listed.has_value());
  ASSERT_TRUE(listed->running);
  auto client = Connect(listed->endpoint, spec.password);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_TRUE((*client)->Ping().ok());
}

TEST_F(ProcessRuntimeTest, ServerInheritsNoDescriptors) {
  int leaky[2];
  ASSERT_EQ(::pipe(leaky), 0);  // deliberately without O_CLOEXEC
  RedisSpec spec = MakeSpec("sealed", Password("sealed"));
  auto ep = runtime_->Ensure(kHost, spec);
  auto pid = runtime_->RunningPid(runtime_->InstanceDir(spec));
  std::error_code ec;
  const std::string leaked =  // "pipe:[inode]"
      std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(leaky[0]), ec).string();
  ::close(leaky[0]);
  ::close(leaky[1]);
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  ASSERT_TRUE(pid.has_value());
  ASSERT_NE(leaked, "");

  std::set<std::string> targets;
  const std::string fd_dir = "/proc/" + std::to_string(*pid) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(fd_dir)) {
    std::string target = std::filesystem::read_symlink(entry.path(), ec).string();
    targets.insert(target);
    if (entry.path().filename() == "0" || entry.path().filename() == "1" ||
        entry.path().filename() == "2") {
      EXPECT_EQ(target, "/dev/null") << entry.path();
    }
  }
  EXPECT_FALSE(targets.count(leaked)) << leaked << " was inherited by redis-server";
}

TEST_F(ProcessRuntimeTest, InvalidSpecsAreRejectedBeforeAnythingStarts) {
  struct Case {
    std::string name;
    std::function<void(RedisSpec&)> mutate;
  };
  const Case cases[] = {
      {"no uid", [](RedisSpec& s) { s.uid = ""; }},
      {"slash in name", [](RedisSpec& s) { s.instance.name = "a/b"; }},
      {"dot-dot namespace", [](RedisSpec& s) { s.instance.namespace_ = ".."; }},
      {"zero memory", [](RedisSpec& s) { s.resources.memory_mib = 0; }},
      {"negative clients", [](RedisSpec& s) { s.resources.max_clients = -1; }},
      {"port out of range", [](RedisSpec& s) { s.port = 70000; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RedisSpec spec = MakeSpec("invalid", Password("invalid"));
    c.mutate(spec);
    auto ep = runtime_->Ensure(kHost, spec);
    EXPECT_EQ(ep.status().code(), StatusCode::kInvalidArgument) << ep.status().ToString();
  }
  EXPECT_FALSE(Listed(*runtime_, api::Key{"default", "invalid"}).has_value());
}

TEST_F(ProcessRuntimeTest, ServerThatCannotBindFailsFastWithoutLeakingThePassword) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);

  RedisSpec spec = MakeSpec("busy", Password("busy"));
  spec.port = ntohs(addr.sin_port);
  auto started = std::chrono::steady_clock::now();
  auto ep = runtime_->Ensure(kHost, spec);
  auto took = std::chrono::steady_clock::now() - started;
  ::close(fd);
  EXPECT_EQ(ep.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(ep.status().message().find("exited during start"), std::string::npos)
      << ep.status().message();
  EXPECT_EQ(ep.status().message().find(kMarker), std::string::npos);
  EXPECT_LT(took, std::chrono::seconds(5));  // noticed the exit, did not wait for the timeout
  EXPECT_TRUE(ProcessesUnder(runtime_->InstanceDir(spec)).empty());
}

TEST_F(ProcessRuntimeTest, MissingRedisBinaryIsUnavailable) {
  auto rt = NewRuntime("/nonexistent/redis-server");
  auto ep = rt->Ensure(kHost, MakeSpec("nobinary", Password("nobinary")));
  EXPECT_EQ(ep.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(ep.status().message().find("/nonexistent/redis-server"), std::string::npos)
      << ep.status().message();
}

TEST_F(ProcessRuntimeTest, IdsOutsideTheRootAreRefused) {
  struct Case {
    std::string id;
    StatusCode remove;
  };
  const Case cases[] = {
      {"/etc", StatusCode::kInvalidArgument},
      {root_ + "/../elsewhere", StatusCode::kInvalidArgument},
      {root_, StatusCode::kInvalidArgument},
      {root_ + "/default.gone.uid-gone", StatusCode::kOk},  // ours, already gone
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.id);
    RunningRedis r;
    r.id = c.id;
    EXPECT_EQ(runtime_->Remove(kHost, r).code(), c.remove);
    Status resized = runtime_->Resize(kHost, r, RedisResources{64, 100});
    EXPECT_EQ(resized.code(), c.remove == StatusCode::kOk ? StatusCode::kNotFound : c.remove);
  }
  EXPECT_TRUE(std::filesystem::exists("/etc"));
}

TEST(LocalHostProviderTest, OneFixedReadyHost) {
  LocalHostProvider provider("127.0.0.1", "unix:///var/run/docker.sock");
  auto hosts = provider.List(PoolRef{"default", "local"});
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 1u);
  const Host& h = hosts->front();
  EXPECT_EQ(h.name, "local");
  EXPECT_EQ(h.provider_id, "local");
  EXPECT_EQ(h.address, "127.0.0.1");
  EXPECT_EQ(h.docker_endpoint, "unix:///var/run/docker.sock");
  EXPECT_TRUE(h.ready);
  EXPECT_EQ(provider.Create(HostSpec{PoolRef{"default", "local"}, "h2", {}}).status().code(),
            StatusCode::kUnimplemented);
  EXPECT_TRUE(provider.Delete(h).ok());
  EXPECT_EQ(LocalHostProvider().List(PoolRef{}).value().front().docker_endpoint, "");
}

}  // namespace
}  // namespace redisfleet::providers
