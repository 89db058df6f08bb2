// Collector cost: N targets spread over S real redis-servers (one persistent connection per
// target), each scraped every second for D seconds by a Collector::Run loop on W workers.
// Prints the collector's CPU as % of one core (getrusage delta / wall), scrapes/s and scrape
// latency percentiles, then the INFO ceiling of the same machine measured with redis-benchmark
// (same command form) against one of the servers, and how the two compare. Figures only.
//
//   bench_collector [targets=1000] [servers=4] [seconds=20] [workers=2] [tcp|tls]
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <prometheus/registry.h>

#include "common/clock.h"
#include "redis/collector.h"
#include "redis/url.h"
#include "support/wait.h"

extern char** environ;

namespace {

using namespace redisfleet;
using Steady = std::chrono::steady_clock;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), len);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int Shell(const std::string& cmd) { return std::system(cmd.c_str()); }

struct Cpu {
  double user = 0;
  double sys = 0;
};
Cpu CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return {static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6,
          static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6};
}

// "INFO memory clients stats: 81234.56 requests per second, p50=..." -> 81234.56
double BenchmarkInfo(int port, bool tls, const std::string& dir) {
  std::string cmd = fmt::format("redis-benchmark -h 127.0.0.1 -p {} -q -n 20000 {} INFO memory clients stats 2>&1", port,
                                tls ? fmt::format("--tls --cacert {}/ca.pem", dir) : std::string());
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  ::pclose(p);
  std::size_t at = out.rfind("requests per second");
  if (at == std::string::npos) {
    fmt::print("redis-benchmark output: {}\n", out);
    return -1;
  }
  std::size_t start = out.rfind(' ', at - 2);
  return std::atof(out.substr(start + 1, at - start - 2).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const int targets = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int servers = argc > 2 ? std::atoi(argv[2]) : 4;
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 20;
  const std::size_t workers = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 2;
  const bool tls = argc > 5 && std::string(argv[5]) == "tls";

  const std::string dir = fmt::format("/tmp/bench-collector-{}", ::getpid());
  std::filesystem::create_directories(dir);
  if (tls) {
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    if (Shell(fmt::format("cd {0} && openssl req -x509 {1} -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca "
                          ">/dev/null 2>&1 && openssl req {1} -keyout server.key -out server.csr -subj /CN=bench "
                          ">/dev/null 2>&1 && echo subjectAltName=IP:127.0.0.1 > ext.cnf && openssl x509 -req -in "
                          "server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile "
                          "ext.cnf >/dev/null 2>&1",
                          dir, ec)) != 0) {
      fmt::print("cannot make certificates with openssl\n");
      return 1;
    }
  }
  std::vector<int> ports;
  std::vector<pid_t> pids;
  const int per_server = (targets + servers - 1) / servers;
  for (int i = 0; i < servers; ++i) {
    const int port = FreePort();
    std::vector<std::string> args = {"redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                     "--maxclients", std::to_string(per_server + 200), "--dir", dir};
    if (tls) {
      for (const char* a : {"--port", "0", "--tls-port"}) args.push_back(a);
      args.push_back(std::to_string(port));
      for (const std::string& a : {std::string("--tls-cert-file"), dir + "/server.pem", std::string("--tls-key-file"),
                                   dir + "/server.key", std::string("--tls-ca-cert-file"), dir + "/ca.pem",
                                   std::string("--tls-auth-clients"), std::string("no")}) {
        args.push_back(a);
      }
    } else {
      args.push_back("--port");
      args.push_back(std::to_string(port));
    }
    pid_t pid = Spawn(args, fmt::format("{}/redis-{}.log", dir, i));
    if (pid < 0) {
      fmt::print("cannot start redis-server\n");
      return 1;
    }
    ports.push_back(port);
    pids.push_back(pid);
  }
  auto cleanup = [&] {
    for (pid_t pid : pids) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    std::filesystem::remove_all(dir);
  };
  redis::TlsOptions tls_options;
  tls_options.ca_file = dir + "/ca.pem";
  for (int port : ports) {  // wait until each server answers
    const bool up = redisfleet::testing::WaitUntil(
        [&] {
          redis::ConnectOptions o;
          o.port = port;
          o.timeout = std::chrono::milliseconds(200);
          auto c = redis::Connect(o, tls, tls_options);
          return c.ok() && (*c)->Ping().ok();
        },
        std::chrono::seconds(10), std::chrono::milliseconds(10));
    if (!up) {
      fmt::print("redis-server on port {} did not come up\n", port);
      cleanup();
      return 1;
    }
  }

  RealClock clock;
  auto registry = std::make_shared<prometheus::Registry>();
  std::mutex lat_mu;
  std::vector<int64_t> latencies_us;
  latencies_us.reserve(static_cast<std::size_t>(targets) * static_cast<std::size_t>(seconds + 5));
  std::atomic<int64_t> ok_scrapes{0}, failed_scrapes{0};
  std::atomic<bool> measuring{false};
  redis::Collector::Options opts;
  opts.workers = workers;
  opts.on_scrape = [&](std::string_view, std::chrono::nanoseconds took, bool ok) {
    if (!measuring.load(std::memory_order_relaxed)) return;
    (ok ? ok_scrapes : failed_scrapes).fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(lat_mu);
    latencies_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(took).count());
  };
  redis::Collector collector(clock, registry, opts);
  for (int i = 0; i < targets; ++i) {
    redis::CollectorTarget t;
    t.key = fmt::format("bench/r{}", i);
    t.connect.port = ports[static_cast<std::size_t>(i % servers)];
    t.tls = tls;
    t.tls_options = tls_options;
    t.interval = std::chrono::seconds(1);
    t.window = 60;
    (void)collector.Add(std::move(t));
  }

  std::jthread runner([&](std::stop_token stop) { collector.Run(stop); });
  // Warm-up: the first rounds open the connections (and TLS handshakes); not measured.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  measuring = true;
  const Cpu c0 = CpuSeconds();
  const auto t0 = Steady::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const Cpu c1 = CpuSeconds();
  const double cpu0 = 0, cpu1 = (c1.user - c0.user) + (c1.sys - c0.sys);
  const double wall = std::chrono::duration<double>(Steady::now() - t0).count();
  measuring = false;
  runner.request_stop();
  runner.join();

  std::vector<int64_t> lat;
  {
    std::lock_guard<std::mutex> lock(lat_mu);
    lat = latencies_us;
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0 : lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * static_cast<double>(lat.size())))];
  };
  const double cpu_pct = 100.0 * (cpu1 - cpu0) / wall;
  const double rate = static_cast<double>(ok_scrapes.load()) / wall;
  fmt::print("collector: {} targets on {} redis-servers over {}, interval 1 s, {} workers, {:.1f} s measured\n",
             targets, servers, tls ? "TLS (verified)" : "TCP", workers, wall);
  fmt::print("  CPU              {:.2f} % of one core (user {:.2f} %, system {:.2f} %; target <= 5 %)\n", cpu_pct,
             100.0 * (c1.user - c0.user) / wall, 100.0 * (c1.sys - c0.sys) / wall);
  fmt::print("  scrapes/s        {:.1f} ok, {} failed\n", rate, failed_scrapes.load());
  fmt::print("  CPU per scrape   {:.1f} us\n", rate > 0 ? (cpu1 - cpu0) / wall / rate * 1e6 : 0.0);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  fmt::print("  peak RSS         {:.1f} MiB (the whole bench process)\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  fmt::print("  scrape latency   p50 {} us, p99 {} us, max {} us\n", pct(0.50), pct(0.99), lat.empty() ? 0 : lat.back());

  const double ceiling = BenchmarkInfo(ports[0], tls, dir);
  fmt::print("INFO ceiling (redis-benchmark -q -n 20000 INFO memory clients stats, 50 clients, one server): "
             "{:.0f} INFO/s\n",
             ceiling);
  if (ceiling > 0) {
    fmt::print("  collector rate = {:.2f} % of one server's INFO ceiling (so answering it costs the {} servers "
               "at most about {:.1f} % of one core in all)\n",
               100.0 * rate / ceiling, servers, 100.0 * rate / ceiling);
  }
  cleanup();
  return 0;
}
