#pragma once
// DirStore: the standalone-mode ObjectStore. Desired state is a directory of YAML files; what
// the operator remembers (uid, generation, status, finalizers) is a log of JSON records in the
// state directory, one line per change (see StateLog).

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/codec.h"
#include "api/types.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/random.h"
#include "common/status.h"
#include "store/event_dispatcher.h"
#include "store/object_store.h"
#include "store/object_util.h"
#include "store/state_log.h"

namespace redisfleet::store {

// Desired state: every *.yaml / *.yml file directly in `dir` (no subdirectories, dotfiles or
// editor temp files), decoded with api::ParseYaml and checked with api::ValidateSet (the first
// of duplicates in sorted file order wins). Records: <state_dir>/objects.jsonl, a StateLog of
// JSON lines `{"put": <record>}` (the whole object plus the file it came from) and
// `{"delete": {"kind", "namespace", "name"}}`, replayed in order at start and by ReadState, and
// rewritten with one put per object when it has grown to twice what is live (+ 8 MiB: Options).
// A state directory of an older version (one file per record under objects/<plural>/) is
// converted at start. Current problems: <state_dir>/problems.json.
//
// Invalid input never touches good objects: an object whose document became invalid keeps its
// last valid spec and gets the status condition Valid=False (InvalidSpec); a file that can't be
// parsed keeps every object it held. An object gone from the YAML is deleted (kDeleted), or, with
// finalizers left, gets a deletionTimestamp (kModified) and stays until SetFinalizers empties
// them. Events come only from spec/label/annotation changes and deletion; never from status.
//
// Threads: Start() starts one watcher thread (inotify on `dir`, a rescan after `debounce` of
// quiet, a full rescan every `resync`); Stop() and the destructor join it. Events from scans are
// delivered on that thread, events from SetFinalizers on the caller's; never under the lock.
// Debounce and resync are paced by the monotonic clock (they pace I/O); timestamps written
// into objects come from the injected Clock. All methods are thread-safe except that Start and
// Stop must not race each other, and Stop must not be called from a handler or callback.
class DirStore final : public ObjectStore {
 public:
  struct Options {
    std::string dir;
    std::string state_dir;
    std::chrono::milliseconds debounce{100};
    std::chrono::milliseconds resync{10'000};
    // 0: every record change is written before the call returns. Otherwise status and
    // finalizer changes (and spec changes found by a scan) are written by a flusher thread
    // within this delay, several changes of one object coalescing into one write, and without
    // the store's lock held. New objects (their uid) are always written before they are seen.
    // A crash loses at most this window of status, which reconcilers re-observe; Stop() writes
    // everything still pending.
    std::chrono::milliseconds write_behind{0};
    // Optional second directory of resource files the operator itself writes (self-service
    // requests), read like `dir` by every scan but not watched: whoever writes there calls
    // Rescan(). Its files win nothing over `dir`'s: duplicates resolve in name order as usual.
    std::string generated_dir;
    // The state log is rewritten when it is larger than twice its live records plus this.
    uint64_t log_slack_bytes = 8ull << 20;
  };

  DirStore(Options options, std::shared_ptr<Clock> clock, std::shared_ptr<Logger> logger,
           std::shared_ptr<RandomSource> random);
  ~DirStore() override;
  DirStore(const DirStore&) = delete;
  DirStore& operator=(const DirStore&) = delete;

  // Creates state_dir, loads the records, scans `dir` (so List is complete when it returns) and
  // starts the watcher thread. NotFound when `dir` is not a directory, Unavailable on I/O
  // errors, FailedPrecondition when already started.
  Status Start();
  // Stops and joins the watcher thread, then writes every pending record. Idempotent.
  void Stop();
  // Scans `dir` now, synchronously (the watcher does this on its own; for tests and SIGHUP).
  // FailedPrecondition before Start; Unavailable when `dir` can't be listed (nothing changes).
  Status Rescan();

  // Every current problem of the desired state (parse, validation, duplicates, unreadable files).
  std::vector<api::Problem> Problems() const;
  // Called with the number of current problems after every scan, on the scanning thread,
  // without the store's locks held.
  void SetProblemsCallback(std::function<void(std::size_t count)> callback);

  StatusOr<api::Object> Get(api::Kind kind, const api::Key& key) override;
  StatusOr<std::vector<api::Object>> List(api::Kind kind) override;
  Status Watch(api::Kind kind, std::function<void(const Event&)> handler) override;
  // Conflict on a stale resourceVersion (or a different uid), NotFound when absent, Unavailable
  // when the record can't be written (then nothing changed). No event. The store's own
  // condition "Valid" is kept whatever `o` carries.
  Status UpdateStatus(const api::Object& o) override;
  Status SetFinalizers(const api::Object& o, std::vector<std::string> finalizers) override;

  // The records a (possibly running) DirStore persisted for `kind`, sorted by key; for the
  // `get` command in another process. NotFound when state_dir does not exist; InvalidArgument
  // naming the file when a record can't be decoded.
  static StatusOr<std::vector<api::Object>> ReadState(const std::string& state_dir, api::Kind kind);
  // The problems of the last scan (empty when none were recorded yet). NotFound when state_dir
  // does not exist.
  static StatusOr<std::vector<api::Problem>> ReadProblems(const std::string& state_dir);

 private:
  struct Record {
    api::Object object;
    Fingerprint spec_fingerprint;
    std::string source;    // file name (in `dir`) the object last came from; "" = unknown
    uint64_t version = 0;  // resourceVersion
    bool dirty = false;    // newer than its line in the log (queued, or a write failed:
                           // retried by each scan)
    uint32_t logged_bytes = 0;  // size of its latest line in the log (0: none yet)
  };
  // A valid document of a scanned file. Its object is kept only while no record holds exactly
  // it (new, changed, or a losing duplicate): once its record has the same spec, labels,
  // annotations and source, the cache keeps its identity and digests alone, so the objects are
  // in memory once, not twice. A scan that needs a dropped object parses that file again.
  struct ParsedDoc {
    int doc = 0;  // 1-based document number in its file, as the codec counts it
    std::unique_ptr<api::Object> object;  // on the heap: a dropped one frees its memory
    bool valid = false;  // an object without problems: kind, key and the digests are set
    api::Kind kind = api::Kind::kRedisInstance;
    api::Key key;
    Fingerprint spec_fingerprint;
    Fingerprint meta_fingerprint;  // labels and annotations
    std::vector<api::Problem> problems;
  };
  struct ParsedFile {
    Fingerprint content;  // of the file's text
    std::vector<ParsedDoc> docs;
  };
  struct ScanCounts;

  // The in-memory record of an object read from disk (fingerprint and version derived).
  static Record RecordOf(api::Object object, std::string source);

  Status Open();        // Start() without the after-scan notifications
  Status ScanLocked();  // requires scan_mu_
  // Runs the problems callback and delivers queued events; requires neither lock.
  void NotifyAfterScan();
  void PublishProblems(std::vector<api::Problem> problems);  // requires scan_mu_
  Status LoadRecords();                                      // requires mu_
  // Reads the records of an older version's objects/ directory into records_ (requires mu_).
  Status LoadRecordFiles();
  // Rewrites the log from records_ when it holds more than twice what is live (+ slack), or
  // always with `force`. Requires mu_, and runs only where no append can be in flight: on the
  // flusher thread, or while no flusher runs (every append then holds mu_).
  // False only when a rewrite was due and failed (logged).
  bool MaybeCompactLocked(bool force = false);
  void WatchLoop();
  Status AddInotifyWatch();
  void RequestRescan();  // requires mu_

  // Require mu_.
  // The record `meta` names, if it exists and `meta` is current (resourceVersion and uid):
  // NotFound / Conflict otherwise.
  StatusOr<Record*> RecordForWrite(api::Kind kind, const api::ObjectMeta& meta);
  // The path of a scanned file by its name in the scan (generated_dir files are prefixed).
  std::string PathOf(const std::string& name) const;
  static constexpr std::string_view kGeneratedPrefix = "generated/";
  // Appends the record's line (updating logged_bytes and live_bytes_).
  Status Persist(api::Kind kind, Record& record);
  void PersistOrMarkDirty(api::Kind kind, Record& record);
  // A record's line, and that of its deletion.
  static std::string PutLine(const Record& record);
  static std::string DeleteLine(api::Kind kind, const api::Key& key);
  // Sets logged_bytes after `line` reached the log.
  void Logged(Record& record, std::size_t line_bytes);
  void Forget(const Record& record) {
    live_bytes_ -= std::min<uint64_t>(live_bytes_, record.logged_bytes);
  }
  // Persists now (write_behind 0) or queues the record for the flusher.
  void PersistLater(api::Kind kind, Record& record);
  void FlushLoop();
  // Writes every queued record; takes the lock released while writing. Requires mu_ (held by
  // `lock`).
  void FlushPending(std::unique_lock<std::mutex>& lock);
  // Appends the deletion of a record (logs a failure: a record resurrected by a lost deletion
  // is deleted again by the next start's scan).
  void LogDeletion(api::Kind kind, const api::Key& key);
  std::string NewUid();
  bool SetValid(Record& record, bool valid, const std::string& message);

  const Options options_;
  const std::shared_ptr<Clock> clock_;
  const std::shared_ptr<Logger> logger_;
  const std::shared_ptr<RandomSource> random_;

  std::mutex scan_mu_;                            // serialises scans (and Start); taken before mu_
  std::map<std::string, ParsedFile> file_cache_;  // by file name; guarded by scan_mu_
  std::vector<std::string> logged_problems_;      // sorted texts; guarded by scan_mu_

  mutable std::mutex mu_;  // guards everything below
  bool started_ = false;
  std::array<std::map<api::Key, Record>, api::kAllKinds.size()> records_;
  StateLog log_;
  uint64_t live_bytes_ = 0;  // sum of the records' logged_bytes
  std::vector<api::Problem> problems_;
  std::function<void(std::size_t)> problems_callback_;
  int wake_fd_ = -1;

  int inotify_fd_ = -1;  // owned by the watcher thread while it runs
  std::atomic<bool> stop_{false};
  std::atomic<bool> rescan_requested_{false};
  std::thread watcher_;
  EventDispatcher events_;

  // Write-behind (guarded by mu_).
  std::set<std::pair<api::Kind, api::Key>> pending_;
  std::condition_variable flush_cv_;
  bool flush_stop_ = false;
  bool flusher_running_ = false;
  std::thread flusher_;
};

}  // namespace redisfleet::store
