#include "store/file_secrets.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include <sys/stat.h>

#include "common/fs.h"

namespace redisfleet::store {

namespace {

constexpr mode_t kSecretDirMode = 0700;
constexpr mode_t kSecretFileMode = 0600;

bool IsPlainName(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Rewrites `path` only when its content differs (most writes repeat what is there).
Status WriteIfChanged(const std::string& path, const std::string& data) {
  StatusOr<std::string> current = ReadFile(path);
  if (current.ok() && *current == data) return Status::Ok();
  return WriteFileAtomic(path, data, kSecretFileMode);
}

// What stat(2) says of `path`, folded into 64 bits (never 0); 0 when it does not exist, or
// cannot be stat'ed (then nothing compares equal to it but "absent").
uint64_t FileIdentity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  const uint64_t fields[] = {static_cast<uint64_t>(st.st_dev),
                             static_cast<uint64_t>(st.st_ino),
                             static_cast<uint64_t>(st.st_size),
                             static_cast<uint64_t>(st.st_mode),
                             static_cast<uint64_t>(st.st_mtim.tv_sec),
                             static_cast<uint64_t>(st.st_mtim.tv_nsec),
                             static_cast<uint64_t>(st.st_ctim.tv_sec),
                             static_cast<uint64_t>(st.st_ctim.tv_nsec)};
  const uint64_t id =
      FingerprintOf(std::string_view(reinterpret_cast<const char*>(fields), sizeof(fields))).a;
  return id == 0 ? 1 : id;
}

}  // namespace

FileSecretStore::FileSecretStore(std::string dir, std::string state_dir)
    : dir_(std::move(dir)), state_dir_(std::move(state_dir)) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(state_dir_, ec);
  absolute_state_dir_ = ec ? state_dir_ : absolute.lexically_normal().string();
  while (absolute_state_dir_.size() > 1 && absolute_state_dir_.back() == '/') {
    absolute_state_dir_.pop_back();
  }
}

std::mutex& FileSecretStore::StripeOf(const api::Key& instance) {
  const std::size_t h = std::hash<std::string>{}(instance.namespace_) * 31 +
                        std::hash<std::string>{}(instance.name);
  return stripes_[h % stripes_.size()];
}

StatusOr<std::string> FileSecretStore::Read(const std::string& namespace_,
                                            const api::SecretKeyRef& ref) {
  (void)namespace_;
  if (!IsPlainName(ref.name) || !IsPlainName(ref.key)) {
    return InvalidArgumentError("secret reference " + ref.name + "/" + ref.key +
                                " is not a plain file name");
  }
  const std::string path = dir_ + "/secrets/" + ref.name + "/" + ref.key;
  StatusOr<std::string> value = ReadFile(path);
  if (!value.ok()) {
    if (value.status().code() == StatusCode::kNotFound) {
      return NotFoundError("secret file " + path + " does not exist");
    }
    return UnavailableError("cannot read secret file " + path);
  }
  std::string out = std::move(*value);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

StatusOr<std::string> FileSecretStore::ConnectionDir(const api::Key& instance) const {
  if (!IsPlainName(instance.namespace_) || !IsPlainName(instance.name)) {
    return InvalidArgumentError("instance " + instance.ToString() + " is not a plain name");
  }
  return state_dir_ + "/secrets/" + instance.Dotted();
}

StatusOr<std::map<std::string, std::string>> FileSecretStore::ReadConnection(
    const api::Key& instance) {
  RF_ASSIGN_OR_RETURN(std::string dir, ConnectionDir(instance));
  const std::string path = dir + "/connection.json";
  StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() != StatusCode::kNotFound) return UnavailableError("cannot read " + path);
    // Only the password was saved so far (before the server had an address).
    StatusOr<std::string> password = ReadFile(dir + "/password");
    if (password.ok()) return std::map<std::string, std::string>{{"password", *password}};
    if (password.status().code() == StatusCode::kNotFound) {
      return NotFoundError("no connection secret for " + instance.ToString() + " (" + path + ")");
    }
    return UnavailableError("cannot read " + dir + "/password");
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InternalError(path + " is not a JSON object");
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : j.items()) {
    if (value.is_string()) {
      out[key] = value.get<std::string>();
    } else if (value.is_number_integer()) {
      out[key] = std::to_string(value.get<int64_t>());
    } else {
      return InternalError(path + ": value of " + key + " is neither a string nor an integer");
    }
  }
  return out;
}

StatusOr<std::string> FileSecretStore::WriteConnection(
    const api::Key& instance, const std::map<std::string, std::string>& data) {
  RF_ASSIGN_OR_RETURN(std::string dir, ConnectionDir(instance));
  auto password = data.find("password");
  if (password == data.end()) {
    return InvalidArgumentError("connection secret of " + instance.ToString() + " has no password");
  }
  const std::string result = absolute_state_dir_ + "/secrets/" + instance.Dotted() + "/password";
  const std::string password_path = dir + "/password";
  const std::string json_path = dir + "/connection.json";
  std::string flat;
  for (const auto& [key, value] : data) {
    flat += key;
    flat += '\0';
    flat += value;
    flat += '\0';
  }
  Written now;
  now.data = FingerprintOf(flat);
  now.password = FingerprintOf(password->second).a;

  std::lock_guard<std::mutex> stripe(StripeOf(instance));
  std::optional<Written> before;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = written_.find(instance); it != written_.end()) before = it->second;
  }
  // Ours: both files are still exactly as this process left them.
  const bool ours = before && FileIdentity(password_path) == before->password_file &&
                    FileIdentity(json_path) == before->json_file;
  if (ours && before->data == now.data) return result;
  // Changed behind our back since we wrote them: rewritten whole (content and mode). Without a
  // memory of them (the first write since start), files already right are kept.
  bool rewrite = ours || before.has_value();
  bool fresh_dir = false;  // created just now: neither file exists

  if (!ours) {
    // mkdir(2) alone in the common case (a new instance); 0700 whatever a sane umask says.
    if (::mkdir(dir.c_str(), kSecretDirMode) == 0) {
      fresh_dir = true;
    } else if (errno != EEXIST) {
      if (errno != ENOENT) {
        return UnavailableError("cannot create directory " + dir + ": " + std::strerror(errno));
      }
      RF_RETURN_IF_ERROR(MakeDirs(state_dir_ + "/secrets", kSecretDirMode));
      RF_RETURN_IF_ERROR(MakeDirs(dir, kSecretDirMode));
    }
  }
  rewrite = rewrite || fresh_dir;  // nothing there to compare with
  if (ours && before->password == now.password) {
    now.password_file = before->password_file;
  } else {
    RF_RETURN_IF_ERROR(rewrite ? WriteFileAtomic(password_path, password->second, kSecretFileMode)
                               : WriteIfChanged(password_path, password->second));
    now.password_file = FileIdentity(password_path);
  }
  if (data.size() > 1) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [key, value] : data) {
      std::optional<int64_t> number = key == "port" ? ParseInt(value) : std::nullopt;
      if (number) {
        j[key] = *number;
      } else {
        j[key] = value;
      }
    }
    const std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    RF_RETURN_IF_ERROR(rewrite ? WriteFileAtomic(json_path, text, kSecretFileMode)
                               : WriteIfChanged(json_path, text));
    now.json_file = FileIdentity(json_path);
  } else if (!fresh_dir && (!ours || before->json_file != 0)) {
    // Password only: connection.json must not keep an older password.
    std::error_code ec;
    std::filesystem::remove(json_path, ec);
    if (ec) return UnavailableError("cannot remove " + json_path + ": " + ec.message());
  }
  std::lock_guard<std::mutex> lock(mu_);
  written_.insert_or_assign(instance, now);
  return result;
}

Status FileSecretStore::DeleteConnection(const api::Key& instance) {
  RF_ASSIGN_OR_RETURN(std::string dir, ConnectionDir(instance));
  std::lock_guard<std::mutex> stripe(StripeOf(instance));
  {
    std::lock_guard<std::mutex> lock(mu_);
    written_.erase(instance);
  }
  return RemoveAll(dir);
}

void MemorySecretStore::Put(const std::string& namespace_, const api::SecretKeyRef& ref,
                            std::string value) {
  std::lock_guard<std::mutex> lock(mu_);
  values_[RefKey{namespace_, ref.name, ref.key}] = std::move(value);
}

StatusOr<std::string> MemorySecretStore::Read(const std::string& namespace_,
                                              const api::SecretKeyRef& ref) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = values_.find(RefKey{namespace_, ref.name, ref.key});
  if (it == values_.end()) {
    return NotFoundError("secret " + namespace_ + "/" + ref.name + " key " + ref.key +
                         " not found");
  }
  return it->second;
}

StatusOr<std::map<std::string, std::string>> MemorySecretStore::ReadConnection(
    const api::Key& instance) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = connections_.find(instance);
  if (it == connections_.end()) {
    return NotFoundError("no connection secret for " + instance.ToString());
  }
  return it->second;
}

StatusOr<std::string> MemorySecretStore::WriteConnection(
    const api::Key& instance, const std::map<std::string, std::string>& data) {
  std::lock_guard<std::mutex> lock(mu_);
  connections_[instance] = data;
  return "memory:" + instance.Dotted();
}

Status MemorySecretStore::DeleteConnection(const api::Key& instance) {
  std::lock_guard<std::mutex> lock(mu_);
  connections_.erase(instance);
  return Status::Ok();
}

}  // namespace redisfleet::store
