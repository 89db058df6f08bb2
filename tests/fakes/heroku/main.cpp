// fake-heroku: the Heroku Platform API fake as a process, for manual runs and e2e tests.
//   fake-heroku [--listen 127.0.0.1:0] [--api-key-file F] [--provisioning-ms MS]
//               [--rate-limit-pool N] [--refill-per-second R]
//               [--addon app=A,name=N,plan=P[,tls-port=T,admin-port=Q,password-file=F][,rotate]]...
// The API key and backend passwords come from files so they never show in `ps`. Prints the URL
// ("http://127.0.0.1:PORT") as the first line of stdout, serves until SIGTERM or SIGINT.

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fake_heroku.h"

namespace {

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::map<std::string, std::string> ParseKv(const std::string& spec) {
  std::map<std::string, std::string> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      out[item] = "true";
    } else {
      out[item.substr(0, eq)] = item.substr(eq + 1);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using redisfleet::fakes::FakeAddonSetup;
  using redisfleet::fakes::FakeHeroku;
  std::string listen = "127.0.0.1:0";
  FakeHeroku::Options options;
  std::vector<FakeAddonSetup> addons;
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
    } else if (a == "--api-key-file") {
      options.api_key = ReadFirstLine(value());
    } else if (a == "--provisioning-ms") {
      options.provisioning_time = std::chrono::milliseconds(std::atol(value().c_str()));
    } else if (a == "--rate-limit-pool") {
      options.rate_limit_pool = std::atoll(value().c_str());
    } else if (a == "--refill-per-second") {
      options.refill_per_second = std::atof(value().c_str());
    } else if (a == "--addon") {
      auto kv = ParseKv(value());
      FakeAddonSetup s;
      s.app = kv["app"];
      s.name = kv["name"];
      if (kv.count("plan")) s.plan = kv["plan"];
      if (kv.count("tls-port")) {
        redisfleet::fakes::FakeRedisBackend b;
        b.tls_port = std::atoi(kv["tls-port"].c_str());
        b.admin_port = std::atoi(kv["admin-port"].c_str());
        if (kv.count("password-file")) b.password = ReadFirstLine(kv["password-file"]);
        s.backend = b;
      }
      s.rotate_url_on_change = kv.count("rotate") > 0;
      addons.push_back(std::move(s));
    } else {
      std::fprintf(stderr,
                   "usage: fake-heroku [--listen HOST:PORT] [--api-key-file F] "
                   "[--provisioning-ms MS] [--rate-limit-pool N] [--refill-per-second R] "
                   "[--addon app=A,name=N,plan=P[,tls-port=T,admin-port=Q,password-file=F]"
                   "[,rotate]]...\n");
      return 2;
    }
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  FakeHeroku server(options);
  for (auto& s : addons) {
    if (auto id = server.AddAddon(s); !id.ok()) {
      std::fprintf(stderr, "fake-heroku: %s\n", id.error().message().c_str());
      return 1;
    }
  }
  if (auto s = server.Start(listen); !s.ok()) {
    std::fprintf(stderr, "fake-heroku: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("%s\n", server.url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  server.Stop();
  return 0;
}
