#include "store/dir_store.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <exception>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "api/validation.h"
#include "common/fs.h"
#include "store/object_util.h"

namespace redisfleet::store {

namespace fs = std::filesystem;

namespace {

struct DecodedRecord {
  api::Object object;
  std::string source;
};

constexpr std::string_view kValidCondition = "Valid";
constexpr std::string_view kSourceField = "source";
constexpr std::chrono::milliseconds kMaxWriteWait{500};
constexpr uint32_t kWatchMask = IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                                IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

std::string Dump(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// *.yaml / *.yml, not hidden, not an editor's lock or backup file.
bool IsDesiredFileName(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.front() == '#') return false;
  return EndsWith(name, ".yaml") || EndsWith(name, ".yml");
}

std::string ObjectsDir(const std::string& state_dir, api::Kind kind) {
  return state_dir + "/objects/" + std::string(api::KindPlural(kind));
}

std::string ProblemsPath(const std::string& state_dir) { return state_dir + "/problems.json"; }
std::string LogPath(const std::string& state_dir) { return state_dir + "/objects.jsonl"; }
constexpr std::string_view kPut = "put";
constexpr std::string_view kDelete = "delete";

// A record: the whole object as api::ToJson writes it, plus the file it came from.
nlohmann::json EncodeRecord(const api::Object& o, const std::string& source) {
  nlohmann::json j = api::ToJson(o);
  if (!source.empty()) j[kSourceField] = source;
  return j;
}


// A record. InvalidArgument (naming `path`) when it can't be decoded.
StatusOr<DecodedRecord> DecodeRecord(nlohmann::json j, const std::string& path) {
  if (!j.is_object()) return InvalidArgumentError(path + ": not a JSON object");
  DecodedRecord out;
  if (auto it = j.find(kSourceField); it != j.end()) {
    if (it->is_string()) out.source = it->get<std::string>();
    j.erase(it);
  }
  StatusOr<api::Object> decoded = api::FromJson(j);
  if (!decoded.ok()) return decoded.status().WithContext(path);
  out.object = std::move(*decoded);
  if (api::MetaOf(out.object).uid.empty())
    return InvalidArgumentError(path + ": metadata.uid is missing");
  return out;
}

// A record file's content (an older version kept one per object).
StatusOr<DecodedRecord> DecodeRecordFile(const std::string& text, const std::string& path) {
  return DecodeRecord(nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false), path);
}

// The records a log's lines leave, by kind and key, and what could not be read.
struct Replayed {
  struct Entry {
    DecodedRecord record;
    std::size_t line_bytes = 0;  // its line's size, '\n' included
  };
  std::array<std::map<api::Key, Entry>, api::kAllKinds.size()> records;
  std::vector<std::string> bad_lines;  // "line N: why"
  std::vector<std::string> bad_text;   // those lines themselves
  std::size_t lines = 0;
  std::size_t torn_bytes = 0;
};

StatusOr<Replayed> Replay(const std::string& path) {
  Replayed out;
  std::size_t number = 0;
  auto replay = [&](std::string& line) {
    ++number;
    const std::string where = path + ": line " + std::to_string(number);
    auto bad = [&](const std::string& why) {
      out.bad_lines.push_back(why);
      out.bad_text.push_back(std::move(line));
    };
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.size() != 1) {
      bad(where + ": not a put or delete");
      return;
    }
    if (auto put = j.find(kPut); put != j.end()) {
      StatusOr<DecodedRecord> decoded = DecodeRecord(std::move(*put), where);
      if (!decoded.ok()) {
        bad(decoded.status().message());
        return;
      }
      const api::Kind kind = api::KindOf(decoded->object);
      api::Key key = api::MetaOf(decoded->object).key();
      out.records[KindIndex(kind)].insert_or_assign(
          std::move(key), Replayed::Entry{std::move(*decoded), line.size() + 1});
    } else if (auto del = j.find(kDelete); del != j.end() && del->is_object()) {
      std::optional<api::Kind> kind =
          api::ParseEnum<api::Kind>(del->value("kind", std::string()));
      if (!kind) {
        bad(where + ": delete of an unknown kind");
        return;
      }
      out.records[KindIndex(*kind)].erase(
          api::Key{del->value("namespace", std::string()), del->value("name", std::string())});
    } else {
      bad(where + ": not a put or delete");
    }
  };
  RF_ASSIGN_OR_RETURN(out.torn_bytes, StateLog::ForEachLine(path, replay));
  out.lines = number;
  return out;
}

// The *.json files directly in `dir`, sorted. NotFound/Unavailable when it can't be listed.
StatusOr<std::vector<std::string>> ListJsonFiles(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return NotFoundError("no directory " + dir);
    return UnavailableError("cannot list " + dir + ": " + ec.message());
  }
  std::vector<std::string> out;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.empty() && name.front() != '.' && EndsWith(name, ".json") &&
        it->is_regular_file(ec)) {
      out.push_back(it->path().string());
    }
  }
  if (ec) return UnavailableError("cannot list " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json ProblemToJson(const api::Problem& p) {
  return nlohmann::json{{"file", p.file},      {"doc", p.doc},     {"kind", p.kind},
                        {"key", p.key},        {"field", p.field}, {"message", p.message},
                        {"text", p.ToString()}};
}

// The kind and key a document with problems was about, when its problems say so.
std::optional<std::pair<api::Kind, api::Key>> IdentifyDocument(
    const std::vector<api::Problem>& problems) {
  for (const auto& p : problems) {
    std::optional<api::Kind> kind = api::ParseEnum<api::Kind>(p.kind);
    if (!kind || p.key.empty()) continue;
    api::Key key = api::Key::Parse(p.key);
    if (key.name.empty() || key.namespace_.empty()) continue;
    return std::make_pair(*kind, std::move(key));
  }
  return std::nullopt;
}

// An object of `kind` with nothing but its namespace and name: what ValidateSet reads of an object
// when references are not checked.
api::Object IdentityOnly(api::Kind kind, const api::Key& key) {
  api::Object o;
  switch (kind) {
    case api::Kind::kHostPool:
      o = api::HostPool{};
      break;
    case api::Kind::kRedisInstance:
      o = api::RedisInstance{};
      break;
    case api::Kind::kScalingPolicy:
      o = api::ScalingPolicy{};
      break;
  }
  api::MetaOf(o).namespace_ = key.namespace_;
  api::MetaOf(o).name = key.name;
  return o;
}

std::string JoinProblems(const std::vector<api::Problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "; ";
    out += p.ToString();
  }
  return out;
}

}  // namespace

struct DirStore::ScanCounts {
  std::size_t added = 0;
  std::size_t modified = 0;
  std::size_t deleting = 0;
  std::size_t deleted = 0;
  std::size_t status_writes = 0;
  std::size_t record_writes = 0;
};

DirStore::DirStore(Options options, std::shared_ptr<Clock> clock, std::shared_ptr<Logger> logger,
                   std::shared_ptr<RandomSource> random)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      logger_(std::move(logger)),
      random_(std::move(random)),
      log_(LogPath(options_.state_dir)) {}

DirStore::~DirStore() { Stop(); }

Status DirStore::Start() {
  RF_RETURN_IF_ERROR(Open());
  NotifyAfterScan();
  return Status::Ok();
}

Status DirStore::Open() {
  std::lock_guard<std::mutex> scan_lock(scan_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return FailedPreconditionError("DirStore already started");
  }
  std::error_code ec;
  if (!fs::is_directory(options_.dir, ec)) {
    return NotFoundError("desired-state directory " + options_.dir + " does not exist");
  }
  RF_RETURN_IF_ERROR(MakeDirs(options_.state_dir));
  {
    std::lock_guard<std::mutex> lock(mu_);
    RF_RETURN_IF_ERROR(LoadRecords());
  }
  // Watch before the first scan so that no change after it is missed.
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0)
    return UnavailableError(std::string("inotify_init1: ") + std::strerror(errno));
  int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    int err = errno;
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return UnavailableError(std::string("eventfd: ") + std::strerror(err));
  }
  Status watched = AddInotifyWatch();
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_fd_ = wake_fd;
    started_ = true;
  }
  Status scanned = watched.ok() ? ScanLocked() : watched;
  stop_ = false;
  if (scanned.ok()) {
    try {
      // The watcher thread: runs WatchLoop until Stop() (or the destructor) joins it.
      watcher_ = std::thread(&DirStore::WatchLoop, this);
      if (options_.write_behind.count() > 0) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          flush_stop_ = false;
          flusher_running_ = true;
        }
        flusher_ = std::thread(&DirStore::FlushLoop, this);
      }
    } catch (const std::system_error& e) {
      scanned = UnavailableError(std::string("cannot start the directory watcher: ") + e.what());
    }
  }
  if (!scanned.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = false;
    ::close(wake_fd_);
    wake_fd_ = -1;
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return scanned;
  }
  logger_->Info("desired-state store started",
                {{"dir", options_.dir}, {"state_dir", options_.state_dir}});
  return Status::Ok();
}

void DirStore::Stop() {
  if (flusher_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      flush_stop_ = true;
    }
    flush_cv_.notify_all();
    flusher_.join();  // it writes everything pending before it returns
  }
  if (!watcher_.joinable()) return;
  stop_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof(one)) < 0 && errno != EAGAIN) {
      logger_->Error("cannot wake the watcher thread", {{"error", std::strerror(errno)}});
    }
  }
  watcher_.join();
  std::lock_guard<std::mutex> lock(mu_);
  ::close(wake_fd_);
  wake_fd_ = -1;
  ::close(inotify_fd_);
  inotify_fd_ = -1;
  started_ = false;
}

Status DirStore::AddInotifyWatch() {
  if (::inotify_add_watch(inotify_fd_, options_.dir.c_str(), kWatchMask) < 0) {
    return UnavailableError("cannot watch " + options_.dir + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

void DirStore::RequestRescan() {
  rescan_requested_ = true;
  if (wake_fd_ < 0) return;
  uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof(one)) < 0 && errno != EAGAIN) {
    logger_->Error("cannot wake the watcher thread", {{"error", std::strerror(errno)}});
  }
}

void DirStore::WatchLoop() {
  using Steady = std::chrono::steady_clock;
  bool pending = false;
  bool watch_lost = false;
  // Files modified but not yet closed: a scan waits for them, up to kMaxWriteWait, so that a
  // file truncated and rewritten in place is not seen half-written.
  std::set<std::string> writing;
  Steady::time_point last_change{};
  Steady::time_point next_resync = Steady::now() + options_.resync;
  alignas(struct inotify_event) char buf[16384];
  while (!stop_) {
    auto quiet = [&] {
      return writing.empty() ? options_.debounce : options_.debounce + kMaxWriteWait;
    };
    Steady::time_point deadline =
        pending ? std::min(last_change + quiet(), next_resync) : next_resync;
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - Steady::now()).count();
    int timeout_ms = static_cast<int>(std::clamp<decltype(wait)>(wait, 0, INT_MAX));
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    int n = ::poll(fds, 2, timeout_ms);
    if (n < 0 && errno != EINTR) {
      logger_->Error("poll failed in the directory watcher", {{"error", std::strerror(errno)}});
    }
    bool scan_now = false;
    if (n > 0 && (fds[0].revents & POLLIN)) {
      uint64_t value = 0;
      (void)!::read(wake_fd_, &value, sizeof(value));
      if (stop_) break;
      if (rescan_requested_.exchange(false)) scan_now = true;
    }
    if (n > 0 && (fds[1].revents & POLLIN)) {
      ssize_t len;
      while ((len = ::read(inotify_fd_, buf, sizeof(buf))) > 0) {
        for (char* p = buf; p < buf + len;) {
          auto* ev = reinterpret_cast<struct inotify_event*>(p);
          p += sizeof(struct inotify_event) + ev->len;
          if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) watch_lost = true;
          std::string_view name = ev->len > 0 ? std::string_view(ev->name) : std::string_view();
          bool relevant = ev->len == 0 || (ev->mask & IN_Q_OVERFLOW) || IsDesiredFileName(name);
          if (relevant && !name.empty()) {
            if (ev->mask & IN_MODIFY) {
              writing.emplace(name);
            } else if (ev->mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM)) {
              writing.erase(std::string(name));
            }
          }
          if (relevant) {
            pending = true;
            last_change = Steady::now();
          }
        }
      }
    }
    Steady::time_point now = Steady::now();
    if (pending && now >= last_change + quiet()) scan_now = true;
    if (now >= next_resync) scan_now = true;
    if (!scan_now) continue;
    if (watch_lost && AddInotifyWatch().ok()) watch_lost = false;
    Status s = Rescan();
    if (!s.ok()) logger_->Warn("desired-state scan failed", {{"error", s.message()}});
    pending = false;
    writing.clear();
    next_resync = Steady::now() + options_.resync;
  }
}

Status DirStore::Rescan() {
  Status scanned;
  {
    std::lock_guard<std::mutex> scan_lock(scan_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!started_) return FailedPreconditionError("DirStore not started");
    }
    scanned = ScanLocked();
  }
  NotifyAfterScan();
  return scanned;
}

DirStore::Record DirStore::RecordOf(api::Object object, std::string source) {
  Record record;
  record.object = std::move(object);
  record.source = std::move(source);
  record.spec_fingerprint = SpecFingerprint(record.object);
  const std::string& rv = api::MetaOf(record.object).resource_version;
  if (std::from_chars(rv.data(), rv.data() + rv.size(), record.version).ec != std::errc()) {
    record.version = 1;
    api::MetaOf(record.object).resource_version = "1";
  }
  return record;
}

Status DirStore::LoadRecords() {
  const std::string objects_dir = options_.state_dir + "/objects";
  std::error_code ec;
  const bool old_layout = fs::is_directory(objects_dir, ec);
  StatusOr<Replayed> replayed = Replay(log_.path());
  if (!replayed.ok() && replayed.status().code() != StatusCode::kNotFound) {
    return replayed.status();
  }
  live_bytes_ = 0;
  if (replayed.ok()) {
    for (api::Kind kind : api::kAllKinds) {
      for (auto& [key, entry] : replayed->records[KindIndex(kind)]) {
        Record record = RecordOf(std::move(entry.record.object), std::move(entry.record.source));
        record.logged_bytes = static_cast<uint32_t>(entry.line_bytes);
        live_bytes_ += record.logged_bytes;
        records_[KindIndex(kind)].insert_or_assign(key, std::move(record));
      }
    }
    if (!replayed->bad_lines.empty()) {
      // Set aside rather than lose them; their objects are recreated from the YAML if there.
      std::string text;
      for (const std::string& line : replayed->bad_text) text += line + "\n";
      Status saved = WriteFileAtomic(log_.path() + ".corrupt", text);
      logger_->Warn("state log lines unreadable, set aside in objects.jsonl.corrupt",
                    {{"file", log_.path()},
                     {"lines", replayed->bad_lines.size()},
                     {"first", replayed->bad_lines.front()},
                     {"saved", saved.ok() ? "yes" : saved.message()}});
    }
  } else if (old_layout) {
    // An older version's state: one file per record. Converted to the log below.
    RF_RETURN_IF_ERROR(LoadRecordFiles());
  }
  RF_RETURN_IF_ERROR(log_.Open());
  const bool unclean = replayed.ok() && !replayed->bad_lines.empty();
  if (!replayed.ok() || unclean) {
    // Converted records must be in the log before their files go; an unclean log is written
    // clean. Failing that, start fails and nothing is removed.
    if (!MaybeCompactLocked(/*force=*/true)) {
      return UnavailableError("cannot write the state log " + log_.path());
    }
  } else {
    MaybeCompactLocked();
  }
  if (old_layout) {
    // Everything is in the log now (or was already, when a start stopped right here).
    Status removed = RemoveAll(objects_dir);
    if (!removed.ok()) logger_->Warn("cannot remove the old state records", {{"error", removed.message()}});
  }
  return Status::Ok();
}

Status DirStore::LoadRecordFiles() {
  for (api::Kind kind : api::kAllKinds) {
    StatusOr<std::vector<std::string>> files = ListJsonFiles(ObjectsDir(options_.state_dir, kind));
    if (!files.ok()) {
      if (files.status().code() == StatusCode::kNotFound) continue;
      return files.status();
    }
    for (const std::string& path : *files) {
      StatusOr<std::string> text = ReadFile(path);
      if (!text.ok()) return text.status();
      StatusOr<DecodedRecord> decoded = DecodeRecordFile(*text, path);
      if (decoded.ok() && api::KindOf(decoded->object) != kind) {
        decoded = InvalidArgumentError(path + ": holds a " +
                                       std::string(api::EnumName(api::KindOf(decoded->object))));
      }
      if (!decoded.ok()) {
        logger_->Warn("state record unreadable, skipped",
                      {{"file", path}, {"error", decoded.status().message()}});
        continue;
      }
      Record record = RecordOf(std::move(decoded->object), std::move(decoded->source));
      api::Key key = api::MetaOf(record.object).key();
      records_[KindIndex(kind)].insert_or_assign(std::move(key), std::move(record));
    }
  }
  return Status::Ok();
}

bool DirStore::MaybeCompactLocked(bool force) {
  const uint64_t size = log_.size();
  if (!force && size <= 2 * live_bytes_ + options_.log_slack_bytes) return true;
  // One put per record, written in batches so the text held at once stays small.
  constexpr std::size_t kBatch = 256;
  std::size_t kind_index = 0;
  auto it = records_[0].begin();
  uint64_t live = 0;
  std::vector<std::pair<Record*, std::size_t>> sizes;
  sizes.reserve(records_[0].size() + records_[1].size() + records_[2].size());
  Status s = log_.Rewrite([&](std::string& chunk) {
    for (std::size_t n = 0; n < kBatch; ++n) {
      while (it == records_[kind_index].end()) {
        if (++kind_index == records_.size()) return false;
        it = records_[kind_index].begin();
      }
      std::string line = PutLine(it->second);
      sizes.emplace_back(&it->second, line.size());
      live += line.size();
      chunk += line;
      ++it;
    }
    return true;
  });
  if (!s.ok()) {
    logger_->Error("cannot rewrite the state log (it keeps growing until it can)",
                   {{"error", s.message()}});
    return false;
  }
  for (auto& [record, bytes] : sizes) {
    record->logged_bytes = static_cast<uint32_t>(bytes);
    record->dirty = false;  // the log holds exactly this version now
  }
  pending_.clear();
  live_bytes_ = live;
  logger_->Debug("state log rewritten", {{"bytes_before", size}, {"bytes", live}});
  return true;
}

std::string DirStore::PathOf(const std::string& name) const {
  if (name.rfind(kGeneratedPrefix, 0) == 0) {
    return options_.generated_dir + "/" + name.substr(kGeneratedPrefix.size());
  }
  return options_.dir + "/" + name;
}

Status DirStore::ScanLocked() {
  // 1. The file names, sorted.
  std::vector<std::string> names;
  {
    std::error_code ec;
    fs::directory_iterator it(options_.dir, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      std::error_code type_ec;
      if (IsDesiredFileName(name) && it->is_regular_file(type_ec)) names.push_back(std::move(name));
    }
    if (ec) {
      Status s = UnavailableError("cannot list " + options_.dir + ": " + ec.message());
      PublishProblems({api::Problem{options_.dir, 0, "", "", "", s.message()}});
      return s;
    }
    if (!options_.generated_dir.empty() && fs::is_directory(options_.generated_dir, ec)) {
      fs::directory_iterator g(options_.generated_dir, ec);
      for (; !ec && g != fs::directory_iterator(); g.increment(ec)) {
        std::string name = g->path().filename().string();
        std::error_code type_ec;
        if (IsDesiredFileName(name) && g->is_regular_file(type_ec))
          names.push_back(std::string(kGeneratedPrefix) + name);
      }
      if (ec) {
        Status s = UnavailableError("cannot list " + options_.generated_dir + ": " + ec.message());
        PublishProblems({api::Problem{options_.generated_dir, 0, "", "", "", s.message()}});
        return s;
      }
    }
    std::sort(names.begin(), names.end());
  }

  // 2. Parse what changed; reuse the rest.
  std::map<std::string, ParsedFile> cache;
  std::vector<api::Problem> problems;
  std::set<std::string> uncertain;  // files whose objects can't be known: keep theirs as they are
  std::array<std::map<api::Key, std::string>, api::kAllKinds.size()> invalid;
  for (const std::string& name : names) {
    const std::string path = PathOf(name);
    StatusOr<std::string> content = ReadFile(path);
    if (!content.ok()) {
      if (content.status().code() == StatusCode::kNotFound) continue;  // removed meanwhile
      problems.push_back(api::Problem{path, 0, "", "", "", content.status().message()});
      uncertain.insert(name);
      continue;
    }
    ParsedFile parsed;
    const Fingerprint digest = FingerprintOf(*content);
    if (auto old = file_cache_.find(name);
        old != file_cache_.end() && old->second.content == digest) {
      parsed = std::move(old->second);
    } else {
      parsed.content = digest;
      std::vector<api::ParsedDocument> docs;
      try {
        docs = api::ParseYaml(*content, path);
      } catch (const std::exception& e) {
        docs.clear();
        api::ParsedDocument failed;
        failed.problems.push_back(api::Problem{path, 0, "", "", "", e.what()});
        docs.push_back(std::move(failed));
      }
      parsed.docs.reserve(docs.size());
      for (auto& d : docs) {
        ParsedDoc doc;
        doc.doc = d.doc;
        doc.problems = std::move(d.problems);
        if (doc.problems.empty() && d.object) {
          ResetStatus(*d.object);
          doc.valid = true;
          doc.kind = api::KindOf(*d.object);
          doc.key = api::MetaOf(*d.object).key();
          doc.spec_fingerprint = SpecFingerprint(*d.object);
          doc.meta_fingerprint = MetaFingerprint(api::MetaOf(*d.object));
          doc.object = std::make_unique<api::Object>(std::move(*d.object));
        }
        parsed.docs.push_back(std::move(doc));
      }
    }
    for (const ParsedDoc& doc : parsed.docs) {
      if (doc.problems.empty()) continue;
      problems.insert(problems.end(), doc.problems.begin(), doc.problems.end());
      auto id = IdentifyDocument(doc.problems);
      if (!id) {
        uncertain.insert(name);
        continue;
      }
      invalid[KindIndex(id->first)].emplace(id->second, JoinProblems(doc.problems));
    }
    cache.emplace(name, std::move(parsed));
  }

  // 3. Rules across files; the first of duplicates wins.
  struct Desired {
    ParsedDoc* doc;
    const std::string* source;
  };
  std::array<std::map<api::Key, Desired>, api::kAllKinds.size()> desired;
  {
    // Without references checked, only objects defined twice can break a rule across files:
    // ValidateSet sees just those (in file order), not a copy of every object.
    std::set<std::pair<api::Kind, api::Key>> repeated;
    std::set<std::pair<api::Kind, api::Key>> seen;
    for (auto& [name, parsed] : cache) {
      for (ParsedDoc& doc : parsed.docs) {
        if (!doc.valid) continue;
        desired[KindIndex(doc.kind)].emplace(doc.key, Desired{&doc, &name});
        api::Key normal = doc.key;
        if (normal.namespace_.empty()) normal.namespace_ = std::string(api::kDefaultNamespace);
        if (!seen.emplace(doc.kind, normal).second) repeated.emplace(doc.kind, std::move(normal));
      }
    }
    if (!repeated.empty()) {
      std::vector<api::SourcedObject> sourced;
      for (const auto& [name, parsed] : cache) {
        for (const ParsedDoc& doc : parsed.docs) {
          if (!doc.valid) continue;
          api::Key normal = doc.key;
          if (normal.namespace_.empty()) normal.namespace_ = std::string(api::kDefaultNamespace);
          if (repeated.count({doc.kind, normal}) == 0) continue;
          sourced.push_back(api::SourcedObject{
              PathOf(name), doc.doc, doc.object ? *doc.object : IdentityOnly(doc.kind, doc.key)});
        }
      }
      std::vector<api::Problem> set_problems =
          api::ValidateSet(sourced, /*check_references=*/false);
      problems.insert(problems.end(), set_problems.begin(), set_problems.end());
    }
  }
  // Files whose dropped objects this scan needed: parsed again by the next scan (asked for below).
  std::set<std::string> reparse;

  // 4. Diff against the records, persist, queue events.
  ScanCounts counts;
  std::string new_lines;                                  // of the records created
  std::vector<std::pair<Record*, std::size_t>> created;  // and their lines' sizes
  {
    std::lock_guard<std::mutex> lock(mu_);
    const TimePoint now = std::chrono::floor<std::chrono::seconds>(clock_->Now());
    for (api::Kind kind : api::kAllKinds) {
      auto& records = records_[KindIndex(kind)];
      const auto& want = desired[KindIndex(kind)];
      const auto& bad = invalid[KindIndex(kind)];
      for (auto it = records.begin(); it != records.end();) {
        const api::Key& key = it->first;
        Record& record = it->second;
        api::ObjectMeta& meta = api::MetaOf(record.object);
        const bool retry = record.dirty && pending_.count({kind, key}) == 0;
        bool write = false;
        bool emit = false;
        if (auto d = want.find(key); d != want.end()) {
          const ParsedDoc& doc = *d->second.doc;
          if (!doc.object) {
            // Its record held exactly this document at the last scan; the file is unchanged.
            if (doc.spec_fingerprint != record.spec_fingerprint ||
                doc.meta_fingerprint != MetaFingerprint(meta)) {
              reparse.insert(*d->second.source);
            }
          } else {
            const api::ObjectMeta& new_meta = api::MetaOf(*doc.object);
            if (doc.spec_fingerprint != record.spec_fingerprint) {
              CopySpec(*doc.object, record.object);
              record.spec_fingerprint = doc.spec_fingerprint;
              ++meta.generation;
              emit = true;
            }
            if (new_meta.labels != meta.labels || new_meta.annotations != meta.annotations) {
              meta.labels = new_meta.labels;
              meta.annotations = new_meta.annotations;
              emit = true;
            }
          }
          if (record.source != *d->second.source) {
            record.source = *d->second.source;
            write = true;
          }
          if (SetValid(record, true, "")) {
            write = true;
            ++counts.status_writes;
          }
          if (emit) ++counts.modified;
        } else if (auto b = bad.find(key); b != bad.end()) {
          if (SetValid(record, false, b->second)) {
            write = true;
            ++counts.status_writes;
          }
        } else if (uncertain.count(record.source) == 0) {
          if (meta.finalizers.empty()) {
            LogDeletion(kind, key);
            Forget(record);
            events_.Enqueue(EventType::kDeleted, kind, key);
            logger_->Debug("object deleted",
                           {{"kind", api::EnumName(kind)}, {"key", key.ToString()}});
            ++counts.deleted;
            it = records.erase(it);
            continue;
          }
          if (!meta.deleting()) {
            meta.deletion_timestamp = now;
            emit = true;
            ++counts.deleting;
          }
        }
        if (emit || write) {
          meta.resource_version = std::to_string(++record.version);
          PersistLater(kind, record);
          ++counts.record_writes;
        } else if (retry) {
          PersistLater(kind, record);  // a write that failed before; same version
          ++counts.record_writes;
        }
        if (emit) events_.Enqueue(EventType::kModified, kind, key);
        ++it;
      }
      for (const auto& [key, d] : want) {
        if (records.count(key) != 0) continue;
        if (!d.doc->object) {
          reparse.insert(*d.source);
          continue;
        }
        Record record;
        record.object = std::move(*d.doc->object);  // the record holds it from now on
        d.doc->object.reset();
        record.spec_fingerprint = d.doc->spec_fingerprint;
        record.source = *d.source;
        record.version = 1;
        api::ObjectMeta& meta = api::MetaOf(record.object);
        meta.uid = NewUid();
        meta.generation = 1;
        meta.resource_version = "1";
        meta.finalizers.clear();
        meta.creation_timestamp = now;
        meta.deletion_timestamp.reset();
        // New objects are on disk (their uid above all) before anyone hears of them: their
        // lines go to the log in one append before this scan's events are delivered.
        const std::size_t before = new_lines.size();
        new_lines += PutLine(record);
        ++counts.record_writes;
        auto placed = records.emplace(key, std::move(record)).first;
        created.push_back({&placed->second, new_lines.size() - before});
        events_.Enqueue(EventType::kAdded, kind, key);
        ++counts.added;
      }
    }
    if (!created.empty()) {
      Status s = log_.Append(new_lines);
      for (auto& [record, bytes] : created) {
        if (s.ok()) {
          Logged(*record, bytes);
        } else {
          record->dirty = true;  // written again by the next scan
        }
      }
      if (!s.ok()) {
        logger_->Error("cannot write state records (will retry)", {{"error", s.message()}});
      }
    }
    // Objects their record now holds exactly are dropped from the cache.
    for (auto& [name, parsed] : cache) {
      for (ParsedDoc& doc : parsed.docs) {
        if (!doc.object) continue;
        const auto& records = records_[KindIndex(doc.kind)];
        auto it = records.find(doc.key);
        if (it == records.end() || it->second.source != name ||
            it->second.spec_fingerprint != doc.spec_fingerprint) {
          continue;
        }
        const api::ObjectMeta& have = api::MetaOf(it->second.object);
        const api::ObjectMeta& want_meta = api::MetaOf(*doc.object);
        if (have.labels == want_meta.labels && have.annotations == want_meta.annotations) {
          doc.object.reset();
        }
      }
    }
    if (!reparse.empty()) {
      for (const std::string& name : reparse) cache.erase(name);
      RequestRescan();
    }
    // With a flusher, it compacts (appends from it run unlocked and must not race a rewrite).
    if (!flusher_running_) MaybeCompactLocked();
  }
  file_cache_ = std::move(cache);

  if (counts.added + counts.modified + counts.deleting + counts.deleted + counts.status_writes >
      0) {
    logger_->Info("desired state changed", {{"added", counts.added},
                                            {"modified", counts.modified},
                                            {"deleting", counts.deleting},
                                            {"deleted", counts.deleted},
                                            {"validity_changes", counts.status_writes},
                                            {"problems", problems.size()}});
  }
  PublishProblems(std::move(problems));
  return Status::Ok();
}

void DirStore::PublishProblems(std::vector<api::Problem> problems) {
  std::vector<std::string> texts;
  texts.reserve(problems.size());
  for (const auto& p : problems) texts.push_back(p.ToString());
  std::vector<std::string> sorted = texts;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  for (const std::string& text : sorted) {
    if (!std::binary_search(logged_problems_.begin(), logged_problems_.end(), text)) {
      logger_->Warn("desired-state problem", {{"problem", text}});
    }
  }
  for (const std::string& text : logged_problems_) {
    if (!std::binary_search(sorted.begin(), sorted.end(), text)) {
      logger_->Info("desired-state problem resolved", {{"problem", text}});
    }
  }
  logged_problems_ = std::move(sorted);

  nlohmann::json j = nlohmann::json::array();
  for (const auto& p : problems) j.push_back(ProblemToJson(p));
  Status written = WriteFileAtomic(ProblemsPath(options_.state_dir), Dump(j, 2) + "\n");
  if (!written.ok()) logger_->Error("cannot write problems.json", {{"error", written.message()}});

  std::lock_guard<std::mutex> lock(mu_);
  problems_ = std::move(problems);
}

void DirStore::NotifyAfterScan() {
  std::function<void(std::size_t)> callback;
  std::size_t count = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    callback = problems_callback_;
    count = problems_.size();
  }
  if (callback) callback(count);
  events_.Deliver();
}

std::string DirStore::PutLine(const Record& record) {
  std::string line = "{\"put\":";
  line += Dump(EncodeRecord(record.object, record.source));
  line += "}\n";
  return line;
}

std::string DirStore::DeleteLine(api::Kind kind, const api::Key& key) {
  return Dump(nlohmann::json{{kDelete,
                              {{"kind", api::EnumName(kind)},
                               {"namespace", key.namespace_},
                               {"name", key.name}}}}) +
         "\n";
}

void DirStore::Logged(Record& record, std::size_t line_bytes) {
  Forget(record);
  live_bytes_ += line_bytes;
  record.logged_bytes = static_cast<uint32_t>(line_bytes);
}

Status DirStore::Persist(api::Kind kind, Record& record) {
  (void)kind;
  const std::string line = PutLine(record);
  RF_RETURN_IF_ERROR(log_.Append(line));
  Logged(record, line.size());
  return Status::Ok();
}

void DirStore::PersistOrMarkDirty(api::Kind kind, Record& record) {
  Status s = Persist(kind, record);
  record.dirty = !s.ok();
  if (!s.ok()) logger_->Error("cannot write state record (will retry)", {{"error", s.message()}});
}

void DirStore::PersistLater(api::Kind kind, Record& record) {
  if (!flusher_running_) {
    PersistOrMarkDirty(kind, record);
    return;
  }
  record.dirty = true;
  if (pending_.emplace(kind, api::MetaOf(record.object).key()).second && pending_.size() == 1) {
    flush_cv_.notify_one();
  }
}

void DirStore::FlushLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!flush_stop_) {
    flush_cv_.wait(lock, [&] { return flush_stop_ || !pending_.empty(); });
    // Let a burst of changes gather so each object is written once.
    flush_cv_.wait_for(lock, options_.write_behind, [&] { return flush_stop_; });
    FlushPending(lock);
  }
  FlushPending(lock);
  flusher_running_ = false;  // from now on writes are synchronous again
}

void DirStore::FlushPending(std::unique_lock<std::mutex>& lock) {
  struct Write {
    api::Kind kind;
    api::Key key;
    std::string uid;
    uint64_t version;
    std::size_t bytes;
  };
  // What is pending now, in batches (one append each), so the encoded records held at once stay
  // few however many are pending. Changes made meanwhile wait for the next flush (they coalesce
  // there). Appends happen here without the lock, or elsewhere with it; MaybeCompactLocked runs
  // with it held on this thread, so no append ever races a rewrite.
  constexpr std::size_t kBatch = 256;
  auto queued = std::move(pending_);
  pending_.clear();
  std::size_t failed = 0;
  std::string text;
  while (!queued.empty()) {
    std::vector<Write> writes;
    text.clear();
    decltype(pending_) pending;
    while (!queued.empty() && pending.size() < kBatch) {
      pending.insert(queued.extract(queued.begin()));
    }
    writes.reserve(pending.size());
    for (const auto& [kind, key] : pending) {
      auto& records = records_[KindIndex(kind)];
      auto it = records.find(key);
      if (it == records.end()) continue;
      const std::size_t before = text.size();
      text += PutLine(it->second);
      writes.push_back(Write{kind, key, api::MetaOf(it->second.object).uid, it->second.version,
                             text.size() - before});
    }
    if (writes.empty()) continue;
    lock.unlock();
    const Status result = log_.Append(text);
    lock.lock();
    // Whatever changed while the lock was released wins: a record deleted meanwhile has its
    // deletion logged again after the line just written; one replaced or changed again is
    // written again.
    for (auto& w : writes) {
      auto& records = records_[KindIndex(w.kind)];
      auto it = records.find(w.key);
      if (it == records.end()) {
        if (result.ok()) LogDeletion(w.kind, w.key);
        continue;
      }
      Record& record = it->second;
      if (api::MetaOf(record.object).uid != w.uid || record.version != w.version) {
        pending_.emplace(w.kind, w.key);
      } else if (result.ok()) {
        Logged(record, w.bytes);
        record.dirty = false;
      } else {
        ++failed;  // stays dirty: the next scan writes it again
        if (failed == 1) {
          logger_->Error("cannot write state record (will retry)", {{"error", result.message()}});
        }
      }
    }
  }
  MaybeCompactLocked();
}

void DirStore::LogDeletion(api::Kind kind, const api::Key& key) {
  Status s = log_.Append(DeleteLine(kind, key));
  if (!s.ok()) {
    logger_->Error("cannot log a deletion (the next start deletes the object again)",
                   {{"object", Describe(kind, key)}, {"error", s.message()}});
  }
}

std::string DirStore::NewUid() {
  std::string hex = random_->Hex(16);
  hex[12] = '4';                                                             // version 4
  hex[16] = "89ab"[std::string_view("0123456789abcdef").find(hex[16]) & 3];  // RFC 4122 variant
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

bool DirStore::SetValid(Record& record, bool valid, const std::string& message) {
  auto& conditions = ConditionsOf(record.object);
  const api::Condition* current = api::FindCondition(conditions, kValidCondition);
  if (valid && (current == nullptr || current->status == "True")) return false;
  api::Condition c;
  c.type = std::string(kValidCondition);
  c.status = valid ? "True" : "False";
  c.reason = valid ? "Valid" : "InvalidSpec";
  c.message = message;
  c.observed_generation = api::MetaOf(record.object).generation;
  return api::SetCondition(conditions, std::move(c),
                           std::chrono::floor<std::chrono::seconds>(clock_->Now()));
}

std::vector<api::Problem> DirStore::Problems() const {
  std::lock_guard<std::mutex> lock(mu_);
  return problems_;
}

void DirStore::SetProblemsCallback(std::function<void(std::size_t count)> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  problems_callback_ = std::move(callback);
}

StatusOr<api::Object> DirStore::Get(api::Kind kind, const api::Key& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto& records = records_[KindIndex(kind)];
  auto it = records.find(key);
  if (it == records.end()) return NotFoundError(Describe(kind, key) + " not found");
  return it->second.object;
}

StatusOr<std::vector<api::Object>> DirStore::List(api::Kind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto& records = records_[KindIndex(kind)];
  std::vector<api::Object> out;
  out.reserve(records.size());
  for (const auto& [key, record] : records) out.push_back(record.object);
  return out;
}

Status DirStore::Watch(api::Kind kind, std::function<void(const Event&)> handler) {
  if (!handler) return InvalidArgumentError("watch handler is empty");
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<api::Key> existing;
    existing.reserve(records_[KindIndex(kind)].size());
    for (const auto& [key, record] : records_[KindIndex(kind)]) existing.push_back(key);
    events_.AddHandler(kind, std::move(handler), existing);
  }
  events_.Deliver();
  return Status::Ok();
}

StatusOr<DirStore::Record*> DirStore::RecordForWrite(api::Kind kind, const api::ObjectMeta& meta) {
  auto& records = records_[KindIndex(kind)];
  auto it = records.find(meta.key());
  if (it == records.end()) return NotFoundError(Describe(kind, meta.key()) + " not found");
  const api::ObjectMeta& stored = api::MetaOf(it->second.object);
  RF_RETURN_IF_ERROR(CheckCurrent(kind, stored, meta));
  return &it->second;
}

Status DirStore::UpdateStatus(const api::Object& o) {
  const api::Kind kind = api::KindOf(o);
  const api::ObjectMeta& meta = api::MetaOf(o);
  std::lock_guard<std::mutex> lock(mu_);
  RF_ASSIGN_OR_RETURN(Record * found, RecordForWrite(kind, meta));
  Record& record = *found;
  std::optional<api::Condition> valid;
  if (const api::Condition* v = api::FindCondition(ConditionsOf(record.object), kValidCondition)) {
    valid = *v;
  }
  auto apply = [&](Record& r) {
    CopyStatus(o, r.object);
    if (valid) {
      auto& conditions = ConditionsOf(r.object);
      auto c = std::find_if(conditions.begin(), conditions.end(),
                            [](const api::Condition& x) { return x.type == kValidCondition; });
      if (c == conditions.end()) {
        conditions.push_back(*valid);
      } else {
        *c = *valid;
      }
    }
    api::MetaOf(r.object).resource_version = std::to_string(++r.version);
  };
  if (flusher_running_) {  // nothing here can fail: the record changes in place, no copy
    apply(record);
    PersistLater(kind, record);
    return Status::Ok();
  }
  Record updated = record;
  apply(updated);
  Status s = Persist(kind, updated);
  if (!s.ok()) return s.WithContext("status of " + Describe(kind, meta.key()));
  updated.dirty = false;
  record = std::move(updated);
  MaybeCompactLocked();
  return Status::Ok();
}

Status DirStore::SetFinalizers(const api::Object& o, std::vector<std::string> finalizers) {
  const api::Kind kind = api::KindOf(o);
  const api::ObjectMeta& meta = api::MetaOf(o);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& records = records_[KindIndex(kind)];
    RF_ASSIGN_OR_RETURN(Record * found, RecordForWrite(kind, meta));
    Record& record = *found;
    const api::ObjectMeta& stored = api::MetaOf(record.object);
    if (stored.deleting() && finalizers.empty()) {
      Status logged = log_.Append(DeleteLine(kind, meta.key()));
      if (!logged.ok()) return logged.WithContext("deletion of " + Describe(kind, meta.key()));
      Forget(record);
      records.erase(meta.key());
      events_.Enqueue(EventType::kDeleted, kind, meta.key());
      logger_->Debug("object deleted",
                     {{"kind", api::EnumName(kind)}, {"key", meta.key().ToString()}});
      // If the YAML still (or again) has it, the next scan creates it anew.
      RequestRescan();
    } else {
      Record updated = record;
      api::MetaOf(updated.object).finalizers = std::move(finalizers);
      api::MetaOf(updated.object).resource_version = std::to_string(++updated.version);
      if (flusher_running_) {
        record = std::move(updated);
        PersistLater(kind, record);
      } else {
        Status s = Persist(kind, updated);
        if (!s.ok()) return s.WithContext("finalizers of " + Describe(kind, meta.key()));
        updated.dirty = false;
        record = std::move(updated);
        MaybeCompactLocked();
      }
    }
  }
  events_.Deliver();
  return Status::Ok();
}

StatusOr<std::vector<api::Object>> DirStore::ReadState(const std::string& state_dir,
                                                       api::Kind kind) {
  std::error_code ec;
  if (!fs::is_directory(state_dir, ec)) return NotFoundError("no state directory " + state_dir);
  std::vector<api::Object> out;
  StatusOr<Replayed> replayed = Replay(LogPath(state_dir));
  if (replayed.ok()) {
    auto& records = replayed->records[KindIndex(kind)];
    out.reserve(records.size());
    for (auto& [key, entry] : records) out.push_back(std::move(entry.record.object));
    return out;  // sorted by key: the map's order
  }
  if (replayed.status().code() != StatusCode::kNotFound) return replayed.status();
  // No log (yet): an older version's record files, if any.
  StatusOr<std::vector<std::string>> files = ListJsonFiles(ObjectsDir(state_dir, kind));
  if (!files.ok()) {
    if (files.status().code() == StatusCode::kNotFound) return out;
    return files.status();
  }
  out.reserve(files->size());
  for (const std::string& path : *files) {
    StatusOr<std::string> text = ReadFile(path);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) continue;  // deleted meanwhile
      return text.status();
    }
    RF_ASSIGN_OR_RETURN(DecodedRecord record, DecodeRecordFile(*text, path));
    out.push_back(std::move(record.object));
  }
  std::sort(out.begin(), out.end(), [](const api::Object& a, const api::Object& b) {
    return api::MetaOf(a).key() < api::MetaOf(b).key();
  });
  return out;
}

StatusOr<std::vector<api::Problem>> DirStore::ReadProblems(const std::string& state_dir) {
  std::error_code ec;
  if (!fs::is_directory(state_dir, ec)) return NotFoundError("no state directory " + state_dir);
  StatusOr<std::string> text = ReadFile(ProblemsPath(state_dir));
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::vector<api::Problem>{};
    return text.status();
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return InvalidArgumentError(ProblemsPath(state_dir) + ": not a JSON array");
  std::vector<api::Problem> out;
  for (const auto& p : j) {
    if (!p.is_object()) return InvalidArgumentError(ProblemsPath(state_dir) + ": not a problem");
    api::Problem problem;
    auto str = [&p](const char* k) {
      auto it = p.find(k);
      return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    problem.file = str("file");
    problem.kind = str("kind");
    problem.key = str("key");
    problem.field = str("field");
    problem.message = str("message");
    if (auto it = p.find("doc"); it != p.end() && it->is_number_integer())
      problem.doc = it->get<int>();
    out.push_back(std::move(problem));
  }
  return out;
}

}  // namespace redisfleet::store
