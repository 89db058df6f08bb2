// fake-kube-apiserver: the in-memory Kubernetes API fake as a process, for tests and benches.
//   fake-kube-apiserver --listen 127.0.0.1:0 --crds DIR [--crds DIR2] [--history N]
//                       [--bookmark-interval-ms MS] [--workers N]
// (--workers bounds concurrent requests; every open watch holds one worker.)
// Prints the URL ("http://127.0.0.1:PORT") as the first line of stdout, serves until SIGTERM
// or SIGINT.

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fake_apiserver.h"

int main(int argc, char** argv) {
  using redisfleet::fakes::FakeKubeApiServer;
  std::string listen = "127.0.0.1:0";
  std::vector<std::string> crd_dirs;
  FakeKubeApiServer::Options options;
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
    } else if (a == "--crds") {
      crd_dirs.push_back(value());
    } else if (a == "--history") {
      options.history_limit = std::strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--workers") {
      options.worker_threads = std::strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--bookmark-interval-ms") {
      options.bookmark_interval = std::chrono::milliseconds(std::atol(value().c_str()));
    } else {
      std::fprintf(stderr,
                   "usage: fake-kube-apiserver [--listen HOST:PORT] [--crds DIR]... "
                   "[--history N] [--bookmark-interval-ms MS] [--workers N]\n");
      return 2;
    }
  }
  // Block the stop signals before any thread starts, then wait for one.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  FakeKubeApiServer server(options);
  for (const auto& dir : crd_dirs) {
    if (auto s = server.LoadCrdsFromDir(dir); !s.ok()) {
      std::fprintf(stderr, "fake-kube-apiserver: %s\n", s.message().c_str());
      return 1;
    }
  }
  if (auto s = server.Start(listen); !s.ok()) {
    std::fprintf(stderr, "fake-kube-apiserver: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("%s\n", server.url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  server.Stop();
  return 0;
}
