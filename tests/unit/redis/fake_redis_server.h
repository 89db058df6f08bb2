#pragma once
// An in-memory stand-in for a Redis server behind RedisTransport, for InfoSource and Collector
// unit tests: answers INFO (7.x or 6.x style), CONFIG GET and AUTH, counts what it is asked,
// and can refuse connections.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "redis/client.h"
#include "redis/info_source.h"

namespace redisfleet::redis::testing {

struct FakeRedisState {
  std::mutex mu;
  bool six = false;              // refuse INFO with several sections; no maxclients in INFO
  bool config_allowed = true;    // CONFIG GET answers (else an error, as on managed services)
  bool refuse_connect = false;
  bool break_next = false;       // the next command fails as a broken connection
  std::string password = "pw-abc123";
  std::map<std::string, int64_t> fields = {
      {"used_memory", 1000},   {"maxmemory", 4000},   {"connected_clients", 5},
      {"maxclients", 100},     {"evicted_keys", 0},   {"rejected_connections", 0},
      {"instantaneous_ops_per_sec", 9}};
  int connects = 0;
  std::vector<std::vector<std::string>> commands;
};

class FakeRedisTransport final : public RedisTransport {
 public:
  explicit FakeRedisTransport(std::shared_ptr<FakeRedisState> st) : st_(std::move(st)) {}
  StatusOr<Reply> RoundTrip(const std::vector<std::string>& argv) override {
    std::lock_guard<std::mutex> lock(st_->mu);
    st_->commands.push_back(argv);
    if (broken_ || st_->break_next) {
      st_->break_next = false;
      broken_ = true;
      return UnavailableError("redis fake:1: " + argv[0] + ": connection closed by server");
    }
    if (argv[0] == "AUTH") {
      return argv.back() == st_->password ? Reply::StatusReply("OK")
                                          : Reply::Error("WRONGPASS invalid username-password pair");
    }
    if (argv[0] == "INFO") {
      if (st_->six && argv.size() > 2) return Reply::Error("ERR syntax error");
      std::string text;
      auto add = [&](const char* header, std::initializer_list<const char*> names) {
        text += std::string("# ") + header + "\r\n";
        for (const char* n : names) {
          if (st_->six && std::string(n) == "maxclients") continue;
          text += std::string(n) + ":" + std::to_string(st_->fields[n]) + "\r\n";
        }
        text += "\r\n";
      };
      for (std::size_t i = 1; i < argv.size(); ++i) {
        if (argv[i] == "memory") add("Memory", {"used_memory", "maxmemory"});
        if (argv[i] == "clients") add("Clients", {"connected_clients", "maxclients"});
        if (argv[i] == "stats") {
          add("Stats", {"instantaneous_ops_per_sec", "rejected_connections", "evicted_keys"});
        }
      }
      return Reply::String(text);
    }
    if (argv[0] == "CONFIG" && argv.size() == 3 && argv[1] == "GET") {
      if (!st_->config_allowed) return Reply::Error("ERR unknown command 'CONFIG'");
      return Reply::Array({Reply::String(argv[2]), Reply::String(std::to_string(st_->fields[argv[2]]))});
    }
    return Reply::Error("ERR unknown command");
  }
  std::string Peer() const override { return "fake:1"; }

 private:
  std::shared_ptr<FakeRedisState> st_;
  bool broken_ = false;
};

// A Connector for InfoSource backed by `st`.
inline InfoSource::Connector FakeConnector(std::shared_ptr<FakeRedisState> st) {
  return [st](const InfoSourceOptions& o) -> StatusOr<std::unique_ptr<RedisClient>> {
    {
      std::lock_guard<std::mutex> lock(st->mu);
      if (st->refuse_connect) return UnavailableError("cannot connect to redis fake:1: Connection refused");
      ++st->connects;
    }
    return RedisClient::Open(std::make_unique<FakeRedisTransport>(st), o.connect);
  };
}

}  // namespace redisfleet::redis::testing
