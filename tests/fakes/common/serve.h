#pragma once
// The standalone fakes' shared main() tail: start the server, announce it, serve until
// SIGTERM/SIGINT.

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace redisfleet::fakes {

// The first stdout line once the server listens (what callers wait for and parse).
enum class Banner {
  kListeningOn,  // "listening on HOST:PORT"
  kUrl,          // "http://HOST:PORT"
};

// "http://127.0.0.1:8080" -> "127.0.0.1:8080"; anything without "http://" comes back unchanged.
inline std::string HostPortOf(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  return url.rfind(kScheme, 0) == 0 ? url.substr(kScheme.size()) : url;
}

// Blocks SIGTERM and SIGINT (before `start` runs, so every server thread inherits the mask),
// ignores SIGPIPE, then calls `start`, which builds and starts the server and returns the bound
// "HOST:PORT". Prints `banner` as the first stdout line (flushed), waits for SIGTERM or SIGINT,
// calls `stop`. Returns main's exit code: 0 after a signal; 1 when `start` fails ("PROGRAM:
// message" on stderr).
inline int ServeUntilSignal(std::string_view program, Banner banner,
                            const std::function<StatusOr<std::string>()>& start,
                            const std::function<void()>& stop) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  StatusOr<std::string> host_port = start();
  if (!host_port.ok()) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
                 host_port.error().message().c_str());
    return 1;
  }
  std::printf(banner == Banner::kUrl ? "http://%s\n" : "listening on %s\n", host_port->c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  stop();
  return 0;
}

// ServeUntilSignal for a fake with Options, Start(addr), url() and Stop(): builds it from
// `options` after the signals are blocked, lets `prepare` seed it (may be empty; its error exits
// 1), starts it on `listen`.
template <typename Server>
int ServeFake(std::string_view program, Banner banner, const std::string& listen,
              const typename Server::Options& options,
              const std::function<Status(Server&)>& prepare = nullptr) {
  std::optional<Server> server;
  return ServeUntilSignal(
      program, banner,
      [&]() -> StatusOr<std::string> {
        server.emplace(options);
        if (prepare) RF_RETURN_IF_ERROR(prepare(*server));
        RF_RETURN_IF_ERROR(server->Start(listen));
        return HostPortOf(server->url());
      },
      [&] { server->Stop(); });
}

}  // namespace redisfleet::fakes
