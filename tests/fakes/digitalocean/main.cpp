// fake-digitalocean: the DigitalOcean API fake as a process, for manual runs and e2e tests.
//   fake-digitalocean [--listen 127.0.0.1:0] [--token-file F] [--active-delay-ms MS]
//                     [--per-minute N] [--per-hour N] [--failure-rate R] [--drop-rate R]
//                     [--backing ADDR=ENDPOINT]... [--seed N]
// The token comes from a file so it never shows in `ps`. Prints "listening on HOST:PORT" as the
// first line of stdout, serves until SIGTERM or SIGINT.

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "fake_digitalocean.h"

namespace {

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  using redisfleet::fakes::FakeDigitalOcean;
  std::string listen = "127.0.0.1:0";
  FakeDigitalOcean::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--listen") {
      listen = value();
    } else if (a == "--token-file") {
      options.token = ReadFirstLine(value());
    } else if (a == "--active-delay-ms") {
      options.active_delay = std::chrono::milliseconds(std::atol(value().c_str()));
    } else if (a == "--per-minute") {
      options.per_minute = std::atoll(value().c_str());
    } else if (a == "--per-hour") {
      options.per_hour = std::atoll(value().c_str());
    } else if (a == "--failure-rate") {
      options.failure_rate = std::atof(value().c_str());
    } else if (a == "--drop-rate") {
      options.drop_rate = std::atof(value().c_str());
    } else if (a == "--seed") {
      options.seed = std::strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--backing") {
      const std::string v = value();
      const auto eq = v.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "--backing needs ADDR=ENDPOINT\n");
        return 2;
      }
      options.backing.push_back({v.substr(0, eq), v.substr(eq + 1)});
    } else {
      std::fprintf(stderr,
                   "usage: fake-digitalocean [--listen HOST:PORT] [--token-file F] "
                   "[--active-delay-ms MS] [--per-minute N] [--per-hour N] [--failure-rate R] "
                   "[--drop-rate R] [--backing ADDR=ENDPOINT]... [--seed N]\n");
      return 2;
    }
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  FakeDigitalOcean server(options);
  if (auto s = server.Start(listen); !s.ok()) {
    std::fprintf(stderr, "fake-digitalocean: %s\n", s.message().c_str());
    return 1;
  }
  const std::string url = server.url();
  std::printf("listening on %s\n", url.substr(std::string("http://").size()).c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  server.Stop();
  return 0;
}
