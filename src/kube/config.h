#pragma once
// Where the Kubernetes API is and how to authenticate to it: a kubeconfig file (reference 4.13)
// or the in-cluster service account (reference 4.12). Errors name the file and the field, never
// a token, key or certificate.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace redisfleet::kube {

struct RestConfig {
  std::string server{};  // "https://host:port" (no trailing "/")
  // TLS: files, or PEM data decoded from the kubeconfig's base64 "*-data" fields.
  std::string ca_file{};
  std::string ca_pem{};
  std::string cert_file{};
  std::string cert_pem{};
  std::string key_file{};
  std::string key_pem{};
  bool insecure_skip_tls_verify = false;
  // Authentication: a bearer token, re-read from token_file when that is set.
  std::string bearer_token{};
  std::string token_file{};
  // Default namespace (the context's namespace, or the pod's).
  std::string namespace_name = "default";
  // Where this came from, for logs: "kubeconfig /path (context dev)" or "in-cluster".
  std::string source{};
};

// Looks up an environment variable; std::nullopt when unset. Injectable for tests.
using GetEnv = std::function<std::optional<std::string>(const std::string& name)>;
// The process environment.
GetEnv ProcessEnv();

// Loads a kubeconfig from `paths` (merged like kubectl: for clusters, users and contexts the
// first file naming one wins; current-context comes from the first file that sets it). Uses
// `context` when non-empty, else current-context. Relative certificate/key/token file paths are
// resolved against the directory of the file that holds them. InvalidArgument for a malformed
// file or a missing/unknown cluster, user or context (the message names file and field);
// NotFound when none of the files exists.
StatusOr<RestConfig> LoadKubeconfig(const std::vector<std::string>& paths,
                                    const std::string& context = "");

// In-cluster config: KUBERNETES_SERVICE_HOST/PORT (both non-empty, else FailedPrecondition
// "not running in a cluster"), token and ca.crt from `<root>/var/run/secrets/kubernetes.io/
// serviceaccount/`, namespace from POD_NAMESPACE, else the namespace file, else "default".
// `root` is "" in production and a temp dir in tests.
StatusOr<RestConfig> LoadInCluster(const GetEnv& env, const std::string& root = "");

// The usual resolution: `kubeconfig_path` if given; else the files in KUBECONFIG (":"-separated);
// else in-cluster when KUBERNETES_SERVICE_HOST is set; else $HOME/.kube/config.
StatusOr<RestConfig> LoadDefaultConfig(const std::string& kubeconfig_path,
                                       const std::string& context, const GetEnv& env,
                                       const std::string& root = "");

// Standard base64 (RFC 4648, padding optional, whitespace ignored). InvalidArgument on bad input.
StatusOr<std::string> Base64Decode(const std::string& text);

}  // namespace redisfleet::kube
