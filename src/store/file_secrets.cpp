#include "store/file_secrets.h"

#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

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

}  // namespace

FileSecretStore::FileSecretStore(std::string dir, std::string state_dir)
    : dir_(std::move(dir)), state_dir_(std::move(state_dir)) {}

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
  RF_RETURN_IF_ERROR(MakeDirs(state_dir_ + "/secrets", kSecretDirMode));
  RF_RETURN_IF_ERROR(MakeDirs(dir, kSecretDirMode));
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [key, value] : data) {
    std::optional<int64_t> number = key == "port" ? ParseInt(value) : std::nullopt;
    if (number) {
      j[key] = *number;
    } else {
      j[key] = value;
    }
  }
  const std::string password_path = dir + "/password";
  RF_RETURN_IF_ERROR(WriteIfChanged(password_path, password->second));
  const std::string json_path = dir + "/connection.json";
  if (data.size() > 1) {
    RF_RETURN_IF_ERROR(WriteIfChanged(
        json_path, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
  } else {
    // Password only: connection.json must not keep an older password.
    std::error_code ec;
    std::filesystem::remove(json_path, ec);
    if (ec) return UnavailableError("cannot remove " + json_path + ": " + ec.message());
  }
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(password_path, ec);
  if (ec) return password_path;
  return absolute.lexically_normal().string();
}

Status FileSecretStore::DeleteConnection(const api::Key& instance) {
  RF_ASSIGN_OR_RETURN(std::string dir, ConnectionDir(instance));
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
