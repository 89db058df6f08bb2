#include "kube/config.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <map>

#include "common/fs.h"

namespace redisfleet::kube {
namespace {

constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string TrimSpace(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  const std::size_t end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

std::string DirOf(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Relative paths in a kubeconfig are relative to the file that holds them.
std::string Resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  return dir + "/" + path;
}

// One named entry (cluster, user or context) and the file it came from.
struct Entry {
  YAML::Node body;
  std::string file;
};

struct Merged {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current_context;
  std::string current_context_file;
};

// Reads a string field; absent or null is "". InvalidArgument (naming file and field) when the
// field is not a scalar. The value is never part of a message.
StatusOr<std::string> Str(const YAML::Node& parent, const char* key, const std::string& file,
                          const std::string& where) {
  const YAML::Node node = parent[key];
  if (!node || node.IsNull()) return std::string();
  if (!node.IsScalar()) {
    return InvalidArgumentError("kubeconfig " + file + ": " + where + "." + key +
                                ": must be a string");
  }
  return node.Scalar();
}

StatusOr<bool> Bool(const YAML::Node& parent, const char* key, const std::string& file,
                    const std::string& where) {
  RF_ASSIGN_OR_RETURN(std::string text, Str(parent, key, file, where));
  if (text.empty() || text == "false") return false;
  if (text == "true") return true;
  return InvalidArgumentError("kubeconfig " + file + ": " + where + "." + key +
                              ": must be true or false");
}

Status MergeList(const YAML::Node& root, const char* list, const char* body_key,
                 const std::string& file, std::map<std::string, Entry>& into) {
  const YAML::Node items = root[list];
  if (!items || items.IsNull()) return Status::Ok();
  if (!items.IsSequence()) {
    return InvalidArgumentError("kubeconfig " + file + ": " + list + ": must be a list");
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string where = std::string(list) + "[" + std::to_string(i) + "]";
    const YAML::Node item = items[i];
    if (!item.IsMap()) return InvalidArgumentError("kubeconfig " + file + ": " + where + ": must be a map");
    RF_ASSIGN_OR_RETURN(std::string name, Str(item, "name", file, where));
    if (name.empty()) return InvalidArgumentError("kubeconfig " + file + ": " + where + ".name: required");
    const YAML::Node body = item[body_key];
    if (body && !body.IsNull() && !body.IsMap()) {
      return InvalidArgumentError("kubeconfig " + file + ": " + where + "." + body_key +
                                  ": must be a map");
    }
    into.try_emplace(name, Entry{body ? body : YAML::Node(YAML::NodeType::Map), file});
  }
  return Status::Ok();
}

Status MergeFile(const std::string& file, const std::string& text, Merged& merged) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp's message is "yaml-cpp: error at line L, column C: <what>", without the content.
    return InvalidArgumentError("kubeconfig " + file + ": not valid YAML: " + e.what());
  }
  if (root.IsNull()) return Status::Ok();  // an empty file contributes nothing
  if (!root.IsMap()) return InvalidArgumentError("kubeconfig " + file + ": must be a YAML map");
  RF_RETURN_IF_ERROR(MergeList(root, "clusters", "cluster", file, merged.clusters));
  RF_RETURN_IF_ERROR(MergeList(root, "users", "user", file, merged.users));
  RF_RETURN_IF_ERROR(MergeList(root, "contexts", "context", file, merged.contexts));
  RF_ASSIGN_OR_RETURN(std::string current, Str(root, "current-context", file, "(top level)"));
  if (merged.current_context.empty() && !current.empty()) {
    merged.current_context = current;
    merged.current_context_file = file;
  }
  return Status::Ok();
}

// Fills TLS/auth fields from a "*-data" (base64) or file field pair.
Status DataOrFile(const Entry& e, const std::string& where, const char* data_key,
                  const char* file_key, std::string& pem, std::string& path) {
  RF_ASSIGN_OR_RETURN(std::string data, Str(e.body, data_key, e.file, where));
  RF_ASSIGN_OR_RETURN(std::string file, Str(e.body, file_key, e.file, where));
  if (!data.empty()) {
    auto decoded = Base64Decode(data);
    if (!decoded.ok()) {
      return InvalidArgumentError("kubeconfig " + e.file + ": " + where + "." + data_key +
                                  ": not valid base64");
    }
    pem = std::move(*decoded);
    return Status::Ok();
  }
  path = Resolve(DirOf(e.file), file);
  if (!path.empty() && !FileExists(path)) {
    return InvalidArgumentError("kubeconfig " + e.file + ": " + where + "." + file_key + ": file " +
                                path + " does not exist");
  }
  return Status::Ok();
}

StatusOr<std::string> ReadToken(const std::string& path, const std::string& what) {
  auto text = ReadFile(path);
  if (!text.ok()) return InvalidArgumentError(what + ": cannot read token file " + path);
  std::string token = TrimSpace(std::move(*text));
  if (token.empty()) return InvalidArgumentError(what + ": token file " + path + " is empty");
  return token;
}

}  // namespace

GetEnv ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

StatusOr<std::string> Base64Decode(const std::string& text) {
  std::string out;
  unsigned int buffer = 0;
  int bits = 0;
  bool padding = false;
  for (char ch : text) {
    if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') continue;
    if (ch == '=') {
      padding = true;
      continue;
    }
    int v;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    else if (ch == '+') v = 62;
    else if (ch == '/') v = 63;
    else return InvalidArgumentError("not valid base64");
    if (padding) return InvalidArgumentError("not valid base64");
    buffer = (buffer << 6) | static_cast<unsigned int>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  if (bits >= 6) return InvalidArgumentError("not valid base64");
  return out;
}

StatusOr<RestConfig> LoadKubeconfig(const std::vector<std::string>& paths,
                                    const std::string& context) {
  Merged merged;
  std::vector<std::string> loaded;
  for (const std::string& path : paths) {
    if (path.empty() || !FileExists(path)) continue;
    auto text = ReadFile(path);
    if (!text.ok()) return InvalidArgumentError("kubeconfig " + path + ": cannot read the file");
    RF_RETURN_IF_ERROR(MergeFile(path, *text, merged));
    loaded.push_back(path);
  }
  if (loaded.empty()) {
    std::string list;
    for (const std::string& p : paths) list += (list.empty() ? "" : ":") + p;
    return NotFoundError("no kubeconfig file found (looked for " + list + ")");
  }
  const std::string first = loaded.front();

  const std::string context_name = context.empty() ? merged.current_context : context;
  if (context_name.empty()) {
    return InvalidArgumentError("kubeconfig " + first + ": current-context is not set and no context was given");
  }
  auto ctx_it = merged.contexts.find(context_name);
  if (ctx_it == merged.contexts.end()) {
    const std::string file = context.empty() ? merged.current_context_file : first;
    return InvalidArgumentError("kubeconfig " + file + ": " +
                                (context.empty() ? "current-context" : "context") + ": no context named \"" +
                                context_name + "\"");
  }
  const Entry& ctx = ctx_it->second;
  const std::string ctx_where = "contexts[name=" + context_name + "].context";
  RF_ASSIGN_OR_RETURN(std::string cluster_name, Str(ctx.body, "cluster", ctx.file, ctx_where));
  RF_ASSIGN_OR_RETURN(std::string user_name, Str(ctx.body, "user", ctx.file, ctx_where));
  RF_ASSIGN_OR_RETURN(std::string ns, Str(ctx.body, "namespace", ctx.file, ctx_where));
  if (cluster_name.empty()) {
    return InvalidArgumentError("kubeconfig " + ctx.file + ": " + ctx_where + ".cluster: required");
  }
  auto cluster_it = merged.clusters.find(cluster_name);
  if (cluster_it == merged.clusters.end()) {
    return InvalidArgumentError("kubeconfig " + ctx.file + ": " + ctx_where + ".cluster: no cluster named \"" +
                                cluster_name + "\"");
  }

  RestConfig config;
  config.source = "kubeconfig " + first + " (context " + context_name + ")";
  if (!ns.empty()) config.namespace_name = ns;

  const Entry& cluster = cluster_it->second;
  const std::string cl_where = "clusters[name=" + cluster_name + "].cluster";
  RF_ASSIGN_OR_RETURN(config.server, Str(cluster.body, "server", cluster.file, cl_where));
  if (config.server.empty()) {
    return InvalidArgumentError("kubeconfig " + cluster.file + ": " + cl_where + ".server: required");
  }
  if (!config.server.starts_with("https://") && !config.server.starts_with("http://")) {
    return InvalidArgumentError("kubeconfig " + cluster.file + ": " + cl_where +
                                ".server: must start with https:// or http://");
  }
  while (config.server.ends_with("/")) config.server.pop_back();
  RF_RETURN_IF_ERROR(DataOrFile(cluster, cl_where, "certificate-authority-data",
                                "certificate-authority", config.ca_pem, config.ca_file));
  RF_ASSIGN_OR_RETURN(config.insecure_skip_tls_verify,
                      Bool(cluster.body, "insecure-skip-tls-verify", cluster.file, cl_where));

  if (!user_name.empty()) {
    auto user_it = merged.users.find(user_name);
    if (user_it == merged.users.end()) {
      return InvalidArgumentError("kubeconfig " + ctx.file + ": " + ctx_where + ".user: no user named \"" +
                                  user_name + "\"");
    }
    const Entry& user = user_it->second;
    const std::string us_where = "users[name=" + user_name + "].user";
    for (const char* unsupported : {"exec", "auth-provider", "username", "password"}) {
      if (user.body[unsupported]) {
        return UnimplementedError("kubeconfig " + user.file + ": " + us_where + "." + unsupported +
                                  ": not supported (use a token, token file or client certificate)");
      }
    }
    RF_ASSIGN_OR_RETURN(config.bearer_token, Str(user.body, "token", user.file, us_where));
    RF_ASSIGN_OR_RETURN(std::string token_file, Str(user.body, "tokenFile", user.file, us_where));
    if (!token_file.empty()) {
      config.token_file = Resolve(DirOf(user.file), token_file);
      RF_ASSIGN_OR_RETURN(config.bearer_token,
                          ReadToken(config.token_file, "kubeconfig " + user.file + ": " + us_where + ".tokenFile"));
    }
    RF_RETURN_IF_ERROR(DataOrFile(user, us_where, "client-certificate-data", "client-certificate",
                                  config.cert_pem, config.cert_file));
    RF_RETURN_IF_ERROR(DataOrFile(user, us_where, "client-key-data", "client-key", config.key_pem,
                                  config.key_file));
    const bool has_cert = !config.cert_pem.empty() || !config.cert_file.empty();
    const bool has_key = !config.key_pem.empty() || !config.key_file.empty();
    if (has_cert != has_key) {
      return InvalidArgumentError("kubeconfig " + user.file + ": " + us_where + ": " +
                                  (has_cert ? "client-certificate without client-key"
                                            : "client-key without client-certificate"));
    }
  }
  return config;
}

StatusOr<RestConfig> LoadInCluster(const GetEnv& env, const std::string& root) {
  const std::string host = env("KUBERNETES_SERVICE_HOST").value_or("");
  const std::string port = env("KUBERNETES_SERVICE_PORT").value_or("");
  if (host.empty() || port.empty()) {
    return FailedPreconditionError(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  }
  const std::string dir = root + kServiceAccountDir;
  RestConfig config;
  config.source = "in-cluster";
  config.server = "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  config.token_file = dir + "/token";
  RF_ASSIGN_OR_RETURN(config.bearer_token, ReadToken(config.token_file, "in-cluster config"));
  if (FileExists(dir + "/ca.crt")) config.ca_file = dir + "/ca.crt";
  if (auto pod_ns = env("POD_NAMESPACE"); pod_ns && !pod_ns->empty()) {
    config.namespace_name = *pod_ns;
  } else if (auto ns = ReadFile(dir + "/namespace"); ns.ok() && !TrimSpace(*ns).empty()) {
    config.namespace_name = TrimSpace(*ns);
  }
  return config;
}

StatusOr<RestConfig> LoadDefaultConfig(const std::string& kubeconfig_path,
                                       const std::string& context, const GetEnv& env,
                                       const std::string& root) {
  if (!kubeconfig_path.empty()) {
    if (!FileExists(kubeconfig_path)) {
      return NotFoundError("kubeconfig " + kubeconfig_path + ": file does not exist");
    }
    return LoadKubeconfig({kubeconfig_path}, context);
  }
  if (auto list = env("KUBECONFIG"); list && !list->empty()) {
    std::vector<std::string> paths;
    std::size_t start = 0;
    while (start <= list->size()) {
      std::size_t colon = list->find(':', start);
      if (colon == std::string::npos) colon = list->size();
      if (colon > start) paths.push_back(list->substr(start, colon - start));
      start = colon + 1;
    }
    return LoadKubeconfig(paths, context);
  }
  if (env("KUBERNETES_SERVICE_HOST").value_or("") != "") return LoadInCluster(env, root);
  const std::string home = env("HOME").value_or("");
  if (home.empty()) {
    return NotFoundError("no Kubernetes config: no --kubeconfig, KUBECONFIG, in-cluster environment or HOME");
  }
  return LoadKubeconfig({home + "/.kube/config"}, context);
}

}  // namespace redisfleet::kube
