// fake-digitalocean: the DigitalOcean API fake as a process, for manual runs and e2e tests.
//   fake-digitalocean [--listen 127.0.0.1:0] [--token-file F] [--active-delay-ms MS]
//                     [--per-minute N] [--per-hour N] [--failure-rate R] [--drop-rate R]
//                     [--backing ADDR=ENDPOINT]... [--seed N]
// The token comes from a file so it never shows in `ps`. Prints "listening on HOST:PORT" as the
// first line of stdout, serves until SIGTERM or SIGINT (exit 0). Bad usage (an unreadable token
// file included) exits 2, a server that cannot start exits 1; --help lists the flags and defaults.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "fake_digitalocean.h"
#include "fakes/common/cli.h"
#include "fakes/common/serve.h"

int main(int argc, char** argv) {
  using redisfleet::fakes::FakeDigitalOcean;
  namespace fakes = redisfleet::fakes;
  FakeDigitalOcean::Options options;
  std::string listen = "127.0.0.1:0";
  int64_t active_delay_ms = options.active_delay.count();

  CLI::App app{"fake-digitalocean: the DigitalOcean API v2 fake"};
  fakes::SetUpFakeCli(app, listen);
  fakes::AddSecretFileOption(app, "--token-file", options.token,
                             "File whose first line is the accepted API token");
  app.add_option("--active-delay-ms", active_delay_ms, "Time from create to status \"active\"")
      ->capture_default_str();
  app.add_option("--per-minute", options.per_minute, "Requests per token per rolling minute")
      ->capture_default_str();
  app.add_option("--per-hour", options.per_hour, "Requests per token per rolling hour")
      ->capture_default_str();
  app.add_option("--failure-rate", options.failure_rate, "Fraction of requests answered 500")
      ->capture_default_str();
  app.add_option("--drop-rate", options.drop_rate, "Fraction of connections closed without a body")
      ->capture_default_str();
  app.add_option_function<std::vector<std::string>>(
         "--backing",
         [&options](const std::vector<std::string>& slots) {
           for (const std::string& slot : slots) {
             const auto eq = slot.find('=');
             if (eq == std::string::npos)
               throw CLI::ValidationError("--backing", "needs ADDR=ENDPOINT");
             options.backing.push_back({slot.substr(0, eq), slot.substr(eq + 1)});
           }
         },
         "A backing slot: a new droplet's public address and its Docker daemon (repeatable)")
      ->type_name("ADDR=ENDPOINT");
  app.add_option("--seed", options.seed, "Seed of the failure and drop draws")
      ->capture_default_str();
  if (auto code = fakes::ParseArgs(app, argc, argv)) return *code;

  options.active_delay = std::chrono::milliseconds(active_delay_ms);

  return fakes::ServeFake<FakeDigitalOcean>("fake-digitalocean", fakes::Banner::kListeningOn,
                                            listen, options);
}
