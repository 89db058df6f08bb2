#include "support/operator_process.h"

#include <csignal>
#include <filesystem>
#include <utility>
#include <variant>

#include <unistd.h>

#include "store/dir_store.h"

namespace redisfleet::testing {
namespace {

template <typename T>
std::map<std::string, T> ReadByName(const std::string& state_dir, api::Kind kind) {
  std::map<std::string, T> out;
  auto all = store::DirStore::ReadState(state_dir, kind);
  if (!all.ok()) return out;
  for (const auto& o : *all) {
    const auto& t = std::get<T>(o);
    out[t.metadata.name] = t;
  }
  return out;
}

template <typename T>
std::optional<T> Find(std::map<std::string, T> all, const std::string& name) {
  auto it = all.find(name);
  if (it == all.end()) return std::nullopt;
  return std::move(it->second);
}

}  // namespace

std::map<std::string, api::RedisInstance> ReadInstances(const std::string& state_dir) {
  return ReadByName<api::RedisInstance>(state_dir, api::Kind::kRedisInstance);
}

std::map<std::string, api::HostPool> ReadHostPools(const std::string& state_dir) {
  return ReadByName<api::HostPool>(state_dir, api::Kind::kHostPool);
}

std::map<std::string, api::ScalingPolicy> ReadScalingPolicies(const std::string& state_dir) {
  return ReadByName<api::ScalingPolicy>(state_dir, api::Kind::kScalingPolicy);
}

std::string ReadPassword(const std::string& state_dir, const std::string& name) {
  return ReadText(state_dir + "/secrets/default." + name + "/password");
}

int ReadyCount(const std::string& state_dir) {
  int n = 0;
  for (const auto& [name, ri] : ReadInstances(state_dir)) n += ri.status.phase == api::Phase::kReady;
  return n;
}

std::string UniqueOperatorId() {
  static int n = 0;
  return "it-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

OperatorProcess::OperatorProcess(std::string root, std::string dir, std::string state_dir, std::string operator_id)
    : root_(std::move(root)), dir_(std::move(dir)), state_dir_(std::move(state_dir)),
      operator_id_(std::move(operator_id)), health_port_(FreePort()), metrics_port_(FreePort()) {
  std::filesystem::create_directories(dir_);
}

OperatorProcess::~OperatorProcess() { Kill9(); }

::testing::AssertionResult OperatorProcess::Start(std::vector<std::string> extra_args) {
  Kill9();
  std::vector<std::string> argv = {BinaryPath(), "run", "--dir", dir_, "--state-dir", state_dir_,
                                   "--health-addr", "127.0.0.1:" + std::to_string(health_port_),
                                   "--metrics-addr", "127.0.0.1:" + std::to_string(metrics_port_)};
  if (!operator_id_.empty()) argv.insert(argv.end(), {"--operator-id", operator_id_});
  argv.insert(argv.end(), std::make_move_iterator(extra_args.begin()), std::make_move_iterator(extra_args.end()));
  argv.insert(argv.end(), {"--log-level", "debug"});
  child_ = std::make_unique<Child>(std::move(argv), root_ + "/operator-" + std::to_string(++starts_) + ".log");
  std::optional<int> exited;
  const bool ready = WaitUntil([&] {
    if (HttpGet(health_port_, "/readyz").first == 200) return true;
    exited = child_->Wait(std::chrono::milliseconds(0));
    return exited.has_value();
  });
  if (exited) {
    return ::testing::AssertionFailure() << "redis-fleet run (start " << starts_ << ") exited with status "
                                         << *exited << " before /readyz answered 200";
  }
  if (ready) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "redis-fleet run (start " << starts_ << ") did not answer 200 on 127.0.0.1:"
                                       << health_port_ << "/readyz within 20s";
}

void OperatorProcess::Kill9() {
  if (!child_) return;
  // A process already reaped is not signalled: its pid may belong to someone else by now.
  if (!child_->Wait(std::chrono::milliseconds(0))) {
    child_->Signal(SIGKILL);
    child_->Wait(std::chrono::seconds(10));
  }
  child_.reset();
}

std::optional<int> OperatorProcess::Terminate(std::chrono::milliseconds timeout) {
  if (!child_) return std::nullopt;
  if (auto rc = child_->Wait(std::chrono::milliseconds(0))) {
    child_.reset();
    return rc;
  }
  child_->Signal(SIGTERM);
  auto rc = child_->Wait(timeout);
  child_.reset();
  return rc;
}

bool OperatorProcess::running() const { return child_ && ProcessAlive(child_->pid()); }

std::string OperatorProcess::Log() const {
  std::string all;
  for (int i = 1; i <= starts_; ++i) all += ReadText(root_ + "/operator-" + std::to_string(i) + ".log");
  return all;
}

std::string OperatorProcess::LogTail(std::size_t max_chars) const {
  std::string all = Log();
  return all.size() > max_chars ? all.substr(all.size() - max_chars) : all;
}

std::optional<api::RedisInstance> OperatorProcess::Instance(const std::string& name) const {
  return Find(Instances(), name);
}

std::optional<api::HostPool> OperatorProcess::Pool(const std::string& name) const { return Find(Pools(), name); }

std::optional<api::ScalingPolicy> OperatorProcess::Policy(const std::string& name) const {
  return Find(Policies(), name);
}

}  // namespace redisfleet::testing
