#include "providers/digitalocean/cloud_init.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <exception>
#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace redisfleet::digitalocean {
namespace {

constexpr std::string_view kCryptAlphabet =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr int kDefaultRounds = 5000;

constexpr std::string_view kCaPath = "/etc/docker/tls/ca.pem";
constexpr std::string_view kCertPath = "/etc/docker/tls/server-cert.pem";
constexpr std::string_view kKeyPath = "/etc/docker/tls/server-key.pem";
constexpr std::string_view kDockerDropIn = "/etc/systemd/system/docker.service.d/redis-fleet.conf";
constexpr std::string_view kNginxSite = "/etc/nginx/conf.d/redis-fleet-docker.conf";
constexpr std::string_view kHtpasswd = "/etc/nginx/redis-fleet-docker.htpasswd";
constexpr std::string_view kAgentEnv = "/etc/redis-fleet/agent.env";
constexpr std::string_view kAddressScript = "/usr/local/lib/redis-fleet/metadata-address";
constexpr std::string_view kAddressUnit = "/etc/systemd/system/redis-fleet-address.service";
constexpr std::string_view kAgentUnit = "/etc/systemd/system/redis-fleet-agent.service";
constexpr std::string_view kBinary = "/usr/local/bin/redis-fleet";

// ---- SHA-512 crypt ------------------------------------------------------------------------

using Digest = std::array<unsigned char, 64>;

class Sha512 {
 public:
  Sha512() : ctx_(EVP_MD_CTX_new()) { ok_ = ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha512(), nullptr) == 1; }
  void Add(const void* data, std::size_t n) {
    if (ok_ && n > 0) ok_ = EVP_DigestUpdate(ctx_.get(), data, n) == 1;
  }
  void Add(std::string_view s) { Add(s.data(), s.size()); }
  void Add(const Digest& d, std::size_t n = 64) { Add(d.data(), n); }
  // False when OpenSSL failed anywhere along the way.
  bool Finish(Digest* out) {
    unsigned int len = 0;
    if (ok_) ok_ = EVP_DigestFinal_ex(ctx_.get(), out->data(), &len) == 1 && len == 64;
    return ok_;
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
  bool ok_ = false;
};

// `len` bytes of `d` repeated (the P and S sequences of the scheme).
std::string Repeat(const Digest& d, std::size_t len) {
  std::string out;
  out.reserve(len);
  while (out.size() < len) {
    out.append(reinterpret_cast<const char*>(d.data()), std::min<std::size_t>(64, len - out.size()));
  }
  return out;
}

void Base64From24(unsigned char b2, unsigned char b1, unsigned char b0, int n, std::string* out) {
  unsigned w = (static_cast<unsigned>(b2) << 16) | (static_cast<unsigned>(b1) << 8) | b0;
  for (int i = 0; i < n; ++i) {
    out->push_back(kCryptAlphabet[w & 0x3f]);
    w >>= 6;
  }
}

// Wipes a string holding secret material before it is freed.
void Wipe(std::string* s) {
  volatile char* p = s->data();
  for (std::size_t i = 0; i < s->size(); ++i) p[i] = 0;
}

// ---- validation ---------------------------------------------------------------------------

bool IsPrintableAscii(char c) { return c >= 0x21 && c <= 0x7e; }

// Printable ASCII, no whitespace, none of `forbidden`.
bool IsToken(std::string_view s, std::string_view forbidden) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return IsPrintableAscii(c) && forbidden.find(c) == std::string_view::npos;
  });
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Characters that would let a value escape a shell word, a systemd unit line or a
// single-quoted env-file value, or that no sane URL needs raw.
constexpr std::string_view kUnsafeInUrl = "'\"\\`$<>{}|^";

Status CheckHttpsUrl(std::string_view field, std::string_view url) {
  if (url.size() > 2048) return InvalidArgumentError(fmt::format("{} is longer than 2048 characters", field));
  if (!StartsWith(url, "https://") || url.size() <= 8) {
    return InvalidArgumentError(fmt::format("{} must be an https:// URL", field));
  }
  if (!IsToken(url, kUnsafeInUrl)) {
    return InvalidArgumentError(fmt::format(
        "{} must be printable ASCII without spaces, quotes, backslashes or any of `$<>{{}}|^ "
        "(percent-encode them)",
        field));
  }
  return Status::Ok();
}

Status CheckPem(std::string_view field, std::string_view pem, std::string_view block_kind) {
  if (pem.empty()) return InvalidArgumentError(fmt::format("{} is required", field));
  if (pem.size() > kMaxUserDataBytes) {
    return InvalidArgumentError(fmt::format("{} is larger than 64 KiB", field));
  }
  for (char c : pem) {
    if (!(IsPrintableAscii(c) || c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
      return InvalidArgumentError(fmt::format("{} must be PEM text (printable ASCII)", field));
    }
  }
  if (pem.find("-----BEGIN ") == std::string_view::npos || pem.find("-----END ") == std::string_view::npos) {
    return InvalidArgumentError(fmt::format("{} is not PEM: no -----BEGIN/-----END lines", field));
  }
  if (!block_kind.empty() && pem.find(block_kind) == std::string_view::npos) {
    return InvalidArgumentError(fmt::format("{} must hold a {} block", field, block_kind));
  }
  return Status::Ok();
}

// The droplet name rule of the DigitalOcean API (also a valid --name for the agent).
Status CheckHostName(std::string_view name) {
  static const std::regex kPattern("^[a-zA-Z0-9]?[a-z0-9A-Z.\\-]*[a-z0-9A-Z]$");
  if (name.empty()) return InvalidArgumentError("host_name is required");
  if (name.size() > 255) return InvalidArgumentError("host_name is longer than 255 characters");
  if (!std::regex_match(name.begin(), name.end(), kPattern)) {
    return InvalidArgumentError(
        "host_name must be a valid droplet name: letters, digits, '.' and '-', starting and "
        "ending with a letter or digit");
  }
  return Status::Ok();
}

struct BasicAuth {
  std::string user;
  std::string password;
};

StatusOr<BasicAuth> ParseBasicAuth(std::string_view s) {
  std::size_t colon = s.find(':');
  if (s.empty()) return InvalidArgumentError("basic_auth is required for docker_access kBasicAuthProxy");
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) {
    return InvalidArgumentError("basic_auth must be \"user:password\" with a non-empty user and password");
  }
  std::string_view user = s.substr(0, colon);
  std::string_view password = s.substr(colon + 1);
  if (user.size() > 64 || !IsToken(user, ":#'\"\\")) {
    return InvalidArgumentError(
        "basic_auth's user must be at most 64 printable ASCII characters without spaces, ':', '#', "
        "quotes or backslashes");
  }
  if (password.size() > 256 ||
      !std::all_of(password.begin(), password.end(), [](char c) { return c != '\0' && c != '\n' && c != '\r'; })) {
    return InvalidArgumentError("basic_auth's password must be at most 256 bytes without NUL or line breaks");
  }
  return BasicAuth{std::string(user), std::string(password)};
}

// ---- document building --------------------------------------------------------------------

struct File {
  std::string path;
  std::string permissions;
  std::string owner = "root:root";
  std::string content;
};

// True when a `|` literal block (clip chomping, no indentation indicator: all yaml-cpp 0.7
// writes) reproduces `s` exactly.
bool LiteralSafe(std::string_view s) {
  if (s.empty() || s.back() != '\n') return false;
  if (s.size() >= 2 && s[s.size() - 2] == '\n') return false;  // trailing blank lines
  if (s.front() == ' ' || s.front() == '\n') return false;
  for (char c : s) {
    if (!(IsPrintableAscii(c) || c == ' ' || c == '\n')) return false;
  }
  return true;
}

void EmitString(YAML::Emitter& e, std::string_view s) {
  e << YAML::DoubleQuoted << std::string(s);
}

void EmitFile(YAML::Emitter& e, const File& f) {
  e << YAML::BeginMap;
  e << YAML::Key << "path" << YAML::Value;
  EmitString(e, f.path);
  e << YAML::Key << "owner" << YAML::Value;
  EmitString(e, f.owner);
  e << YAML::Key << "permissions" << YAML::Value << YAML::SingleQuoted << f.permissions;
  e << YAML::Key << "content" << YAML::Value;
  if (LiteralSafe(f.content)) {
    e << YAML::Literal << f.content;
  } else {
    EmitString(e, f.content);
  }
  e << YAML::EndMap;
}

std::string DockerDropIn(const CloudInitOptions& o) {
  std::string exec = "dockerd -H fd://";
  std::string what;
  if (o.docker_access == CloudInitOptions::DockerAccess::kTls) {
    exec += fmt::format(" -H tcp://0.0.0.0:{} --tlsverify --tlscacert={} --tlscert={} --tlskey={}",
                        o.docker_port, kCaPath, kCertPath, kKeyPath);
    what = fmt::format("the local unix socket and tcp://0.0.0.0:{} with mutual TLS (clients need a "
                       "certificate signed by {})",
                       o.docker_port, kCaPath);
  } else {
    what = "the local unix socket only (nginx proxies it with basic auth)";
  }
  return fmt::format(
      "# Written by redis-fleet: dockerd listens on {}.\n"
      "# Hosts are set here, not in daemon.json: the packaged unit passes -H fd:// already.\n"
      "[Service]\n"
      "ExecStart=\n"
      "ExecStart={}\n"
      "# Containers must not read the droplet's user-data (it holds this host's secrets).\n"
      "ExecStartPost=-/bin/sh -c \"iptables -C DOCKER-USER -d 169.254.169.254 -j DROP 2>/dev/null || "
      "iptables -I DOCKER-USER -d 169.254.169.254 -j DROP\"\n",
      what, exec);
}

std::string NginxSite(const CloudInitOptions& o, bool tls, bool client_certs) {
  std::string s = "# Written by redis-fleet: the Docker Engine API behind basic auth.\n";
  s += "server {\n";
  s += fmt::format("    listen {}{};\n", o.docker_port, tls ? " ssl" : "");
  s += fmt::format("    listen [::]:{}{};\n", o.docker_port, tls ? " ssl" : "");
  if (tls) {
    s += fmt::format("    ssl_certificate {};\n", kCertPath);
    s += fmt::format("    ssl_certificate_key {};\n", kKeyPath);
    s += "    ssl_protocols TLSv1.2 TLSv1.3;\n";
    if (client_certs) {
      s += fmt::format("    ssl_client_certificate {};\n", kCaPath);
      s += "    ssl_verify_client on;\n";
    }
  }
  s += "    client_max_body_size 0;\n";
  s += "    location / {\n";
  s += "        auth_basic \"redis-fleet docker\";\n";
  s += fmt::format("        auth_basic_user_file {};\n", kHtpasswd);
  s += "        proxy_pass http://unix:/var/run/docker.sock:;\n";
  s += "        proxy_http_version 1.1;\n";
  s += "        proxy_set_header Host docker;\n";
  s += "        proxy_set_header Authorization \"\";\n";
  s += "        proxy_set_header Upgrade $http_upgrade;\n";
  s += "        proxy_set_header Connection $http_connection;\n";
  s += "        proxy_buffering off;\n";
  s += "        proxy_request_buffering off;\n";
  s += "        proxy_read_timeout 1h;\n";
  s += "        proxy_send_timeout 1h;\n";
  s += "    }\n";
  s += "}\n";
  return s;
}

std::string AddressScript(std::string_view metadata_url) {
  return fmt::format(
      "#!/bin/sh\n"
      "# Written by redis-fleet: this droplet's address for redis-fleet-agent.service.\n"
      "set -eu\n"
      "url={}\n"
      "addr=$(curl -fsS --retry 30 --retry-delay 2 --retry-connrefused --max-time 10 \"$url\")\n"
      "case \"$addr\" in\n"
      "  ''|*[!0-9.]*) echo \"unexpected answer from $url\" >&2; exit 1 ;;\n"
      "esac\n"
      "mkdir -p /run/redis-fleet\n"
      "printf 'REDISFLEET_ADDRESS=%s\\n' \"$addr\" > /run/redis-fleet/address.env\n",
      metadata_url);
}

std::string AddressUnit() {
  return fmt::format(
      "[Unit]\n"
      "Description=redis-fleet: this droplet's address from the DigitalOcean metadata service\n"
      "Wants=network-online.target\n"
      "After=network-online.target\n"
      "\n"
      "[Service]\n"
      "Type=oneshot\n"
      "RemainAfterExit=yes\n"
      "ExecStart={}\n"
      "\n"
      "[Install]\n"
      "WantedBy=multi-user.target\n",
      kAddressScript);
}

std::string AgentUnit(const CloudInitOptions& o) {
  // The agent takes the discovery URL only as a flag: systemd expands ${...} from the
  // EnvironmentFile (0600) so the unit file does not hold it; it is in the agent's argv.
  int64_t interval_ms = std::min<int64_t>(3000, o.discovery_ttl_seconds * 1000 / 3);
  return fmt::format(
      "[Unit]\n"
      "Description=redis-fleet agent: heartbeats of this Docker host\n"
      "Wants=network-online.target\n"
      "After=network-online.target docker.service redis-fleet-address.service\n"
      "Requires=redis-fleet-address.service\n"
      "\n"
      "[Service]\n"
      "EnvironmentFile={}\n"
      "EnvironmentFile=/run/redis-fleet/address.env\n"
      "ExecStart={} agent --key-prefix {} --name {} "
      "--address ${{REDISFLEET_ADDRESS}} --docker-endpoint unix:///var/run/docker.sock "
      "--ttl-seconds {} --interval-ms {} --log-format json\n"
      "Restart=always\n"
      "RestartSec=5\n"
      "\n"
      "[Install]\n"
      "WantedBy=multi-user.target\n",
      kAgentEnv, kBinary, o.discovery_key_prefix, o.host_name, o.discovery_ttl_seconds, interval_ms);
}

Status Validate(const CloudInitOptions& o, bool* agent) {
  RF_RETURN_IF_ERROR(CheckHostName(o.host_name));
  if (o.docker_port < 1 || o.docker_port > 65535) {
    return InvalidArgumentError("docker_port must be in 1..65535");
  }
  const bool tls = o.docker_access == CloudInitOptions::DockerAccess::kTls;
  if (tls) {
    RF_RETURN_IF_ERROR(CheckPem("ca_pem", o.ca_pem, "CERTIFICATE"));
    RF_RETURN_IF_ERROR(CheckPem("server_cert_pem", o.server_cert_pem, "CERTIFICATE"));
    RF_RETURN_IF_ERROR(CheckPem("server_key_pem", o.server_key_pem, "PRIVATE KEY"));
    if (!o.basic_auth.empty()) {
      return InvalidArgumentError("basic_auth is only used with docker_access kBasicAuthProxy");
    }
  } else if (o.docker_access == CloudInitOptions::DockerAccess::kBasicAuthProxy) {
    RF_RETURN_IF_ERROR(ParseBasicAuth(o.basic_auth).status());
    if (o.server_cert_pem.empty() != o.server_key_pem.empty()) {
      return InvalidArgumentError(o.server_cert_pem.empty()
                                      ? "server_cert_pem is required when server_key_pem is set"
                                      : "server_key_pem is required when server_cert_pem is set");
    }
    if (!o.server_cert_pem.empty()) {
      RF_RETURN_IF_ERROR(CheckPem("server_cert_pem", o.server_cert_pem, "CERTIFICATE"));
      RF_RETURN_IF_ERROR(CheckPem("server_key_pem", o.server_key_pem, "PRIVATE KEY"));
    }
    if (!o.ca_pem.empty()) {
      if (o.server_cert_pem.empty()) {
        return InvalidArgumentError("ca_pem (client certificates) needs server_cert_pem and server_key_pem");
      }
      RF_RETURN_IF_ERROR(CheckPem("ca_pem", o.ca_pem, "CERTIFICATE"));
    }
  } else {
    return InvalidArgumentError("docker_access must be kTls or kBasicAuthProxy");
  }

  if (o.redis_image_url.empty()) {
    static const std::regex kImage("^[A-Za-z0-9][A-Za-z0-9._/:@-]*$");
    if (o.redis_image.empty() || o.redis_image.size() > 255 ||
        !std::regex_match(o.redis_image, kImage)) {
      return InvalidArgumentError(
          "redis_image must be a Docker image reference (letters, digits and ._/:@-, at most 255)");
    }
  } else {
    RF_RETURN_IF_ERROR(CheckHttpsUrl("redis_image_url", o.redis_image_url));
  }

  if (o.discovery_url.empty() != o.redis_fleet_url.empty()) {
    return InvalidArgumentError(o.discovery_url.empty()
                                    ? "discovery_url is required when redis_fleet_url is set (the agent needs it)"
                                    : "redis_fleet_url is required when discovery_url is set (the agent "
                                      "binary to install)");
  }
  *agent = !o.discovery_url.empty();
  if (!*agent) return Status::Ok();

  RF_RETURN_IF_ERROR(CheckHttpsUrl("redis_fleet_url", o.redis_fleet_url));
  if (!(StartsWith(o.discovery_url, "redis://") || StartsWith(o.discovery_url, "rediss://")) ||
      o.discovery_url.size() > 2048 || !IsToken(o.discovery_url, kUnsafeInUrl)) {
    // Never echo the URL: it may hold a password.
    return InvalidArgumentError(
        "discovery_url must be redis[s]://[user:password@]host:port/db in printable ASCII without "
        "spaces, quotes, backslashes or any of `$<>{}|^ (percent-encode them)");
  }
  static const std::regex kPrefix("^[A-Za-z0-9:._/-]{1,128}$");
  if (!std::regex_match(o.discovery_key_prefix, kPrefix)) {
    return InvalidArgumentError("discovery_key_prefix must be 1-128 of letters, digits and :._/-");
  }
  if (o.discovery_ttl_seconds < 2 || o.discovery_ttl_seconds > 86400) {
    return InvalidArgumentError("discovery_ttl_seconds must be in 2..86400");
  }
  if (o.public_address_source != "digitalocean-metadata" &&
      o.public_address_source != "digitalocean-metadata-private") {
    return InvalidArgumentError(
        "public_address_source must be digitalocean-metadata or digitalocean-metadata-private");
  }
  return Status::Ok();
}

// Re-reads the emitted document and checks every file's content survived exactly: a guard
// against emitter quirks turning a PEM or a value into something else.
Status SelfCheck(const std::string& doc, const std::vector<File>& files) {
  try {
    YAML::Node root = YAML::Load(doc);
    if (!root.IsMap()) return InternalError("cloud-init: emitted document is not a map");
    YAML::Node wf = root["write_files"];
    if (!wf.IsSequence() || wf.size() != files.size()) {
      return InternalError("cloud-init: write_files did not round-trip");
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (wf[i]["path"].as<std::string>() != files[i].path ||
          wf[i]["content"].as<std::string>() != files[i].content ||
          wf[i]["permissions"].as<std::string>() != files[i].permissions) {
        return InternalError(fmt::format("cloud-init: {} did not round-trip through YAML", files[i].path));
      }
    }
  } catch (const std::exception&) {
    return InternalError("cloud-init: emitted document does not parse");
  }
  return Status::Ok();
}

std::vector<std::vector<std::string>> ShellCommand(std::string_view script, std::string_view arg) {
  return {{"sh", "-c", std::string(script), "sh", std::string(arg)}};
}

}  // namespace

StatusOr<std::string> Sha512Crypt(std::string_view password, std::string_view salt, int rounds) {
  if (rounds < 1000 || rounds > 999999999) {
    return InvalidArgumentError("sha512-crypt: rounds must be in 1000..999999999");
  }
  salt = salt.substr(0, 16);
  if (salt.empty() || salt.find_first_not_of(kCryptAlphabet) != std::string_view::npos) {
    return InvalidArgumentError("sha512-crypt: salt must be 1-16 characters from [./0-9A-Za-z]");
  }
  const std::size_t plen = password.size();
  const std::size_t slen = salt.size();

  Digest b{}, a{}, dp{}, ds{}, c{};
  Sha512 hb;
  hb.Add(password);
  hb.Add(salt);
  hb.Add(password);
  bool ok = hb.Finish(&b);

  Sha512 ha;
  ha.Add(password);
  ha.Add(salt);
  std::size_t n = plen;
  for (; n > 64; n -= 64) ha.Add(b);
  ha.Add(b, n);
  for (n = plen; n > 0; n >>= 1) {
    if (n & 1) {
      ha.Add(b);
    } else {
      ha.Add(password);
    }
  }
  ok = ha.Finish(&a) && ok;

  Sha512 hp;
  for (std::size_t i = 0; i < plen; ++i) hp.Add(password);
  ok = hp.Finish(&dp) && ok;
  std::string p_seq = Repeat(dp, plen);

  Sha512 hs;
  for (std::size_t i = 0; i < 16u + a[0]; ++i) hs.Add(salt);
  ok = hs.Finish(&ds) && ok;
  std::string s_seq = Repeat(ds, slen);

  c = a;
  for (int i = 0; i < rounds && ok; ++i) {
    Sha512 hc;
    if (i & 1) {
      hc.Add(p_seq);
    } else {
      hc.Add(c);
    }
    if (i % 3 != 0) hc.Add(s_seq);
    if (i % 7 != 0) hc.Add(p_seq);
    if (i & 1) {
      hc.Add(c);
    } else {
      hc.Add(p_seq);
    }
    ok = hc.Finish(&c);
  }
  Wipe(&p_seq);
  Wipe(&s_seq);
  if (!ok) return InternalError("sha512-crypt: OpenSSL SHA-512 failed");

  std::string out = "$6$";
  if (rounds != kDefaultRounds) out += fmt::format("rounds={}$", rounds);
  out.append(salt);
  out += '$';
  for (int i = 0; i < 21; ++i) {
    const int x = i, y = i + 21, z = i + 42;
    switch (i % 3) {
      case 0: Base64From24(c[x], c[y], c[z], 4, &out); break;
      case 1: Base64From24(c[y], c[z], c[x], 4, &out); break;
      default: Base64From24(c[z], c[x], c[y], 4, &out); break;
    }
  }
  Base64From24(0, 0, c[63], 2, &out);
  return out;
}

StatusOr<std::string> GenerateCloudInit(const CloudInitOptions& o) {
  CryptoRandom random;
  return GenerateCloudInit(o, random);
}

StatusOr<std::string> GenerateCloudInit(const CloudInitOptions& o, RandomSource& random) {
  bool agent = false;
  RF_RETURN_IF_ERROR(Validate(o, &agent));
  const bool tls_mode = o.docker_access == CloudInitOptions::DockerAccess::kTls;
  const bool proxy = !tls_mode;
  const bool proxy_tls = proxy && !o.server_cert_pem.empty();

  std::vector<std::string> packages = {"docker.io", "curl", "ca-certificates"};
  if (proxy) packages.push_back("nginx");

  std::vector<File> files;
  if (!o.ca_pem.empty()) files.push_back({std::string(kCaPath), "0644", "root:root", o.ca_pem});
  if (!o.server_cert_pem.empty()) {
    files.push_back({std::string(kCertPath), "0644", "root:root", o.server_cert_pem});
    files.push_back({std::string(kKeyPath), "0600", "root:root", o.server_key_pem});
  }
  files.push_back({std::string(kDockerDropIn), "0644", "root:root", DockerDropIn(o)});
  if (proxy) {
    RF_ASSIGN_OR_RETURN(BasicAuth auth, ParseBasicAuth(o.basic_auth));
    std::string salt;
    std::array<uint8_t, 16> bytes{};
    random.Fill(bytes.data(), bytes.size());
    for (uint8_t byte : bytes) salt.push_back(kCryptAlphabet[byte & 0x3f]);  // 256 % 64 == 0: unbiased
    StatusOr<std::string> hash = Sha512Crypt(auth.password, salt);
    Wipe(&auth.password);
    if (!hash.ok()) return hash.status();
    // www-data (nginx's workers) exists on Debian and Ubuntu before nginx is installed.
    files.push_back({std::string(kHtpasswd), "0640", "root:www-data", auth.user + ":" + *hash + "\n"});
    files.push_back({std::string(kNginxSite), "0644", "root:root", NginxSite(o, proxy_tls, !o.ca_pem.empty())});
  }
  if (agent) {
    files.push_back({std::string(kAgentEnv), "0600", "root:root",
                     "# Written by redis-fleet: read by redis-fleet-agent.service only.\n"
                     "REDISFLEET_DISCOVERY_URL='" + o.discovery_url + "'\n"});
    std::string_view iface = o.public_address_source == "digitalocean-metadata-private" ? "private" : "public";
    files.push_back({std::string(kAddressScript), "0755", "root:root",
                     AddressScript(fmt::format("http://169.254.169.254/metadata/v1/interfaces/{}/0/ipv4/address",
                                               iface))});
    files.push_back({std::string(kAddressUnit), "0644", "root:root", AddressUnit()});
    files.push_back({std::string(kAgentUnit), "0644", "root:root", AgentUnit(o)});
  }

  std::vector<std::vector<std::string>> runcmd = {
      {"systemctl", "daemon-reload"},
      {"systemctl", "enable", "docker.service"},
      {"systemctl", "restart", "docker.service"},
  };
  if (proxy) {
    runcmd.push_back({"usermod", "-aG", "docker", "www-data"});  // nginx reaches the socket
    runcmd.push_back({"rm", "-f", "/etc/nginx/sites-enabled/default"});
    runcmd.push_back({"systemctl", "enable", "nginx.service"});
    runcmd.push_back({"systemctl", "restart", "nginx.service"});
  }
  // The image is on the host before the agent announces it (then the host is Ready).
  auto add = [&runcmd](std::vector<std::vector<std::string>> cmds) {
    for (auto& c : cmds) runcmd.push_back(std::move(c));
  };
  if (o.redis_image_url.empty()) {
    add(ShellCommand("for i in 1 2 3 4 5; do docker pull \"$1\" && exit 0; sleep 10; done; exit 1",
                     o.redis_image));
  } else {
    add(ShellCommand(
        "f=/var/tmp/redis-fleet-image.tar; curl -fsSL --retry 5 --retry-connrefused -o \"$f\" \"$1\" && "
        "docker load -i \"$f\"; rc=$?; rm -f \"$f\"; exit $rc",
        o.redis_image_url));
  }
  if (agent) {
    add(ShellCommand(fmt::format("curl -fsSL --retry 5 --retry-connrefused -o {0}.part \"$1\" && "
                                 "chmod 0755 {0}.part && mv -f {0}.part {0}",
                                 kBinary),
                     o.redis_fleet_url));
    runcmd.push_back({"systemctl", "daemon-reload"});
    runcmd.push_back({"systemctl", "enable", "redis-fleet-address.service"});
    runcmd.push_back({"systemctl", "enable", "--now", "redis-fleet-agent.service"});
  }

  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "package_update" << YAML::Value << true;
  e << YAML::Key << "packages" << YAML::Value << YAML::BeginSeq;
  for (const auto& p : packages) e << p;
  e << YAML::EndSeq;
  e << YAML::Key << "write_files" << YAML::Value << YAML::BeginSeq;
  for (const auto& f : files) EmitFile(e, f);
  e << YAML::EndSeq;
  e << YAML::Key << "runcmd" << YAML::Value << YAML::BeginSeq;
  for (const auto& cmd : runcmd) {
    e << YAML::Flow << YAML::BeginSeq;
    for (const auto& arg : cmd) EmitString(e, arg);
    e << YAML::EndSeq;
  }
  e << YAML::EndSeq;
  e << YAML::EndMap;
  if (!e.good()) return InternalError(fmt::format("cloud-init: YAML emitter: {}", e.GetLastError()));

  std::string doc = "#cloud-config\n";
  doc += e.c_str();
  doc += "\n";
  RF_RETURN_IF_ERROR(SelfCheck(doc, files));
  if (doc.size() > kMaxUserDataBytes) {
    return InvalidArgumentError(fmt::format(
        "user_data would be {} bytes, over DigitalOcean's 64 KiB limit: shorten ca_pem, "
        "server_cert_pem or server_key_pem",
        doc.size()));
  }
  return doc;
}

}  // namespace redisfleet::digitalocean
