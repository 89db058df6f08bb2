// fake-heroku: the Heroku Platform API fake as a process, for manual runs and e2e tests.
//   fake-heroku [--listen 127.0.0.1:0] [--api-key-file F] [--provisioning-ms MS]
//               [--rate-limit-pool N] [--refill-per-second R]
//               [--addon app=A,name=N,plan=P[,tls-port=T,admin-port=Q,password-file=F][,rotate]]...
// The API key and backend passwords come from files so they never show in `ps`. Prints the URL
// ("http://127.0.0.1:PORT") as the first line of stdout, serves until SIGTERM or SIGINT (exit 0).
// Bad usage (an unreadable key or password file included) exits 2, a server that cannot start or
// refuses an add-on exits 1; --help lists the flags and their defaults.

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fake_heroku.h"
#include "fakes/common/cli.h"
#include "fakes/common/serve.h"

namespace {

using redisfleet::StatusOr;
using redisfleet::fakes::FakeAddonSetup;

// "a=1,b=2,flag" -> {a:1, b:2, flag:true}.
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

// One --addon value; the error names the unreadable password file, never a password.
StatusOr<FakeAddonSetup> ParseAddon(const std::string& spec) {
  auto kv = ParseKv(spec);
  FakeAddonSetup s;
  s.app = kv["app"];
  s.name = kv["name"];
  if (kv.count("plan")) s.plan = kv["plan"];
  if (kv.count("tls-port")) {
    redisfleet::fakes::FakeRedisBackend b;
    b.tls_port = std::atoi(kv["tls-port"].c_str());
    b.admin_port = std::atoi(kv["admin-port"].c_str());
    if (kv.count("password-file")) {
      RF_ASSIGN_OR_RETURN(b.password, redisfleet::fakes::ReadFirstLine(kv["password-file"]));
    }
    s.backend = b;
  }
  s.rotate_url_on_change = kv.count("rotate") > 0;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  using redisfleet::fakes::FakeHeroku;
  namespace fakes = redisfleet::fakes;
  FakeHeroku::Options options;
  std::string listen = "127.0.0.1:0";
  int64_t provisioning_ms = options.provisioning_time.count();
  std::vector<FakeAddonSetup> addons;

  CLI::App app{"fake-heroku: the Heroku Platform API fake"};
  fakes::SetUpFakeCli(app, listen);
  fakes::AddSecretFileOption(app, "--api-key-file", options.api_key,
                             "File whose first line is the accepted API key");
  app.add_option("--provisioning-ms", provisioning_ms, "Time a plan change stays \"provisioning\"")
      ->capture_default_str();
  app.add_option("--rate-limit-pool", options.rate_limit_pool,
                 "Rate-limit tokens (also the start amount)")
      ->capture_default_str();
  app.add_option("--refill-per-second", options.refill_per_second,
                 "Rate-limit tokens added per second")
      ->capture_default_str();
  app.add_option_function<std::vector<std::string>>(
         "--addon",
         [&addons](const std::vector<std::string>& specs) {
           for (const std::string& spec : specs) {
             auto addon = ParseAddon(spec);
             if (!addon.ok()) throw CLI::ValidationError("--addon", addon.error().message());
             addons.push_back(std::move(*addon));
           }
         },
         "An add-on to serve; tls-port, admin-port and password-file: a redis-server backing it; "
         "rotate: a plan change rotates the password and URL (repeatable)")
      ->type_name("app=A,name=N,plan=P[,tls-port=T,admin-port=Q,password-file=F][,rotate]");
  if (auto code = fakes::ParseArgs(app, argc, argv)) return *code;

  options.provisioning_time = std::chrono::milliseconds(provisioning_ms);

  auto add_addons = [&addons](FakeHeroku& server) -> redisfleet::Status {
    for (const auto& a : addons) RF_RETURN_IF_ERROR(server.AddAddon(a));
    return redisfleet::Status::Ok();
  };
  return fakes::ServeFake<FakeHeroku>("fake-heroku", fakes::Banner::kUrl, listen, options,
                                      add_addons);
}
