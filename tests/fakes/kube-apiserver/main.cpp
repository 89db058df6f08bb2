// fake-kube-apiserver: the in-memory Kubernetes API fake as a process, for tests and benches.
//   fake-kube-apiserver [--listen 127.0.0.1:0] [--crds DIR]... [--history N]
//                       [--bookmark-interval-ms MS] [--workers N]
// (--crds loads every CustomResourceDefinition in DIR's YAML and JSON files; --workers bounds
// concurrent requests, and every open watch holds one worker.)
// Prints the URL ("http://127.0.0.1:PORT") as the first line of stdout, serves until SIGTERM
// or SIGINT (exit 0). Bad usage exits 2, CRDs that do not load or a server that cannot start
// exit 1; --help lists the flags and their defaults.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "fake_apiserver.h"
#include "fakes/common/cli.h"
#include "fakes/common/serve.h"

int main(int argc, char** argv) {
  using redisfleet::fakes::FakeKubeApiServer;
  namespace fakes = redisfleet::fakes;
  FakeKubeApiServer::Options options;
  std::string listen = "127.0.0.1:0";
  std::vector<std::string> crd_dirs;
  int64_t bookmark_interval_ms = options.bookmark_interval.count();

  CLI::App app{"fake-kube-apiserver: the in-memory Kubernetes API fake"};
  fakes::SetUpFakeCli(app, listen);
  app.add_option("--crds", crd_dirs, "Directory of CustomResourceDefinitions to serve (repeatable)")
      ->type_name("DIR");
  app.add_option("--history", options.history_limit,
                 "Watch events kept for resuming (older resourceVersions get 410 Expired)")
      ->capture_default_str();
  app.add_option("--bookmark-interval-ms", bookmark_interval_ms, "Interval between BOOKMARK events")
      ->capture_default_str();
  app.add_option("--workers", options.worker_threads,
                 "Concurrent requests (each open watch holds one)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  if (auto code = fakes::ParseArgs(app, argc, argv)) return *code;
  options.bookmark_interval = std::chrono::milliseconds(bookmark_interval_ms);

  auto load_crds = [&crd_dirs](FakeKubeApiServer& server) -> redisfleet::Status {
    for (const auto& dir : crd_dirs) RF_RETURN_IF_ERROR(server.LoadCrdsFromDir(dir));
    return redisfleet::Status::Ok();
  };
  return fakes::ServeFake<FakeKubeApiServer>("fake-kube-apiserver", fakes::Banner::kUrl, listen,
                                             options, load_crds);
}
