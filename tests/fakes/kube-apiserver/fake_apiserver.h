#pragma once
// An in-memory fake of the Kubernetes API server for tests (reference section 4): discovery,
// a minimal /openapi/v3, CRUD + merge/JSON patch for custom resources loaded from CRDs and for
// core Secrets/Events, events.k8s.io Events and coordination.k8s.io Leases, the status
// subresource, resourceVersion conflicts, finalizers, chunked watch with bookmarks and 410 on a
// stale resourceVersion, structural-schema validation, and fault injection.
//
// Thread-safety: every public method is thread-safe. Start() launches the listener thread and
// a pool of request workers (a watch holds one worker while it streams); Stop() joins them.

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace redisfleet::fakes {

// One served resource type (a CRD version, or a built-in).
struct ResourceType {
  std::string group;    // "" for core
  std::string version;  // "v1"
  std::string plural;   // "redisinstances"
  std::string singular;
  std::string kind;
  std::vector<std::string> short_names;
  bool namespaced = true;
  bool custom = false;  // a CR: generation, strict PUT, schema
  bool status_subresource = false;
  nlohmann::json schema;                                     // openAPIV3Schema; null = none
  nlohmann::json printer_columns = nlohmann::json::array();  // additionalPrinterColumns

  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  // "redisinstances.cache.example.com" or "secrets".
  std::string Resource() const { return group.empty() ? plural : plural + "." + group; }
};

class FakeKubeApiServer {
 public:
  struct Options {
    // Watch events kept for resuming; an older resourceVersion gets ERROR 410 Expired.
    std::size_t history_limit = 1000;
    // Interval between BOOKMARK events on watches that asked for them.
    std::chrono::milliseconds bookmark_interval{1000};
    std::size_t worker_threads = 64;
  };

  FakeKubeApiServer();
  explicit FakeKubeApiServer(Options options);
  ~FakeKubeApiServer();  // Stop()
  FakeKubeApiServer(const FakeKubeApiServer&) = delete;
  FakeKubeApiServer& operator=(const FakeKubeApiServer&) = delete;

  // Registers every served version of a CustomResourceDefinition (apiextensions.k8s.io/v1,
  // as JSON). InvalidArgument when it lacks group/names/versions.
  Status AddCrd(const nlohmann::json& crd);
  // Loads every CRD in the *.yaml/*.yml/*.json files of `dir` (multi-document YAML allowed;
  // other kinds are ignored). InvalidArgument on unreadable or malformed files.
  Status LoadCrdsFromDir(const std::string& dir);

  // Binds "127.0.0.1:PORT" (0 picks a port) and serves until Stop. Unavailable on bind failure.
  Status Start(const std::string& addr);
  void Stop();
  int port() const { return port_.load(); }
  std::string url() const;  // "http://127.0.0.1:PORT"

  // Fault injection (also over HTTP: POST /fake/cut-watches, /fake/fail-next?n=N&code=C,
  // /fake/latency?ms=N; GET /fake/stats).
  void CutWatches();                             // ends every open watch stream now
  void FailNextRequests(int n, int code = 500);  // the next n API requests get `code`
  void SetLatency(std::chrono::milliseconds d);  // added before every API request

  // Inspection for tests.
  std::uint64_t CurrentResourceVersion() const;
  std::uint64_t RequestCount() const { return requests_.load(); }
  std::size_t OpenWatches() const { return open_watches_.load(); }
  // The stored object, or nullopt. `group` "" = core.
  std::optional<nlohmann::json> GetObject(const std::string& group, const std::string& plural,
                                          const std::string& ns, const std::string& name) const;

 private:
  struct Event {
    std::uint64_t rv;
    std::string store_key;  // group/plural
    std::string type;       // ADDED / MODIFIED / DELETED
    nlohmann::json object;
  };
  struct Reply {
    Reply(int c, nlohmann::json b) : code(c), body(std::move(b)) {}
    int code = 200;
    nlohmann::json body;
    std::vector<std::pair<std::string, std::string>> headers;
  };

  void RegisterType(ResourceType t);
  void InstallRoutes();
  void Handle(const httplib::Request& req, httplib::Response& res);
  bool HandleDiscovery(const httplib::Request& req, httplib::Response& res);
  Reply HandleResource(const httplib::Request& req, const ResourceType& t, const std::string& ns,
                       const std::string& name, const std::string& sub, bool accept_table);
  void HandleWatch(const httplib::Request& req, httplib::Response& res, const ResourceType& t,
                   const std::string& ns);

  Reply List(const httplib::Request& req, const ResourceType& t, const std::string& ns, bool table);
  Reply Create(const httplib::Request& req, const ResourceType& t, const std::string& ns);
  Reply Update(const httplib::Request& req, const ResourceType& t, const std::string& ns,
               const std::string& name, const std::string& sub, bool patch);
  Reply Delete(const ResourceType& t, const std::string& ns, const std::string& name);
  // Validates/prunes/defaults `obj` against t.schema; fills causes. Caller holds mu_.
  std::optional<Reply> CheckSchema(const httplib::Request& req, const ResourceType& t,
                                   nlohmann::json& obj, std::vector<std::string>& warnings);
  // Stores `obj` (with a new resourceVersion) and records the event. Caller holds mu_.
  nlohmann::json Commit(const ResourceType& t, const std::string& key, nlohmann::json obj,
                        const std::string& type);
  nlohmann::json Out(const ResourceType& t, nlohmann::json obj) const;
  nlohmann::json Table(const ResourceType& t, const std::vector<nlohmann::json>& objs) const;

  const ResourceType* FindType(const std::string& group, const std::string& version,
                               const std::string& plural) const;

  Options options_;
  httplib::Server server_;
  std::thread listener_;
  std::atomic<int> port_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};

  std::vector<ResourceType> types_;  // registered before Start; read-only afterwards

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t rv_ = 1;            // guarded by mu_
  std::uint64_t compacted_rv_ = 1;  // events with rv <= this are gone; guarded by mu_
  std::uint64_t cut_epoch_ = 0;     // guarded by mu_
  std::uint64_t uid_counter_ = 0;   // guarded by mu_
  // store_key -> ("ns/name" -> object); guarded by mu_
  std::map<std::string, std::map<std::string, nlohmann::json>> objects_;
  std::deque<Event> history_;  // guarded by mu_

  std::atomic<int> fail_next_{0};
  std::atomic<int> fail_code_{500};
  std::atomic<long> latency_ms_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::size_t> open_watches_{0};
};

}  // namespace redisfleet::fakes
