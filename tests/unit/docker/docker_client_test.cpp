// DockerClient against a small cpp-httplib fake of the Docker Engine API: version negotiation,
// request shapes, and how Docker's and a proxy's errors become Status codes.
#include "providers/docker/docker_client.h"

#include <httplib.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include "support/wait.h"

namespace redisfleet::docker {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using nlohmann::json;

struct Recorded {
  std::string method;
  std::string path;
  httplib::Params params;
  std::string body;
  std::string content_type;
  std::string authorization;
};

// A fake daemon on 127.0.0.1:0. `respond` answers every request; `api_version` is sent on
// every response (empty: header omitted). Stopped and joined on destruction.
class FakeDocker {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  explicit FakeDocker(std::string api_version = "1.41") : api_version_(std::move(api_version)) {
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      Handler handler;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back({req.method, req.path, req.params, req.body,
                             req.get_header_value("Content-Type"), req.get_header_value("Authorization")});
        handler = respond_;
      }
      if (!api_version_.empty()) res.set_header("Api-Version", api_version_);
      res.set_header("Ostype", "linux");
      if (req.path == "/_ping") {
        res.set_content("OK", "text/plain; charset=utf-8");
      } else if (handler) {
        handler(req, res);
      } else {
        res.status = 404;
        res.set_content(R"({"message":"page not found"})", "application/json");
      }
    };
    server_.Get(".*", handle);
    server_.Post(".*", handle);
    server_.Delete(".*", handle);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    redisfleet::testing::WaitUntil([this] { return server_.is_running(); }, std::chrono::seconds(5));
  }
  ~FakeDocker() {
    server_.stop();
    thread_.join();
  }

  void Respond(Handler h) {
    std::lock_guard<std::mutex> lock(mu_);
    respond_ = std::move(h);
  }
  std::vector<Recorded> Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::string Endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

  std::unique_ptr<DockerClient> Client(std::string basic_auth = "") const {
    DockerClientOptions o;
    o.endpoint = Endpoint();
    o.basic_auth = std::move(basic_auth);
    auto c = DockerClient::Create(o);
    EXPECT_TRUE(c.ok());
    return std::move(*c);
  }

 private:
  std::string api_version_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  Handler respond_;
  std::vector<Recorded> requests_;
};

void JsonReply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

TEST(DockerClientTest, NegotiatesApiVersion) {
  struct Case {
    std::string daemon;
    std::string want;  // "" = FailedPrecondition
  };
  const Case cases[] = {
      {"1.41", "1.41"}, {"1.42", "1.42"}, {"1.43", "1.43"},
      {"1.44", "1.43"}, {"1.50", "1.43"}, {"2.0", "1.43"},
      {"1.40", ""},     {"1.9", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("daemon " + c.daemon);
    FakeDocker fake(c.daemon);
    fake.Respond([](const httplib::Request&, httplib::Response& res) { JsonReply(res, 200, json::array()); });
    auto client = fake.Client();
    auto list = client->ListContainers({});
    if (c.want.empty()) {
      ASSERT_FALSE(list.ok());
      EXPECT_EQ(list.error().code(), StatusCode::kFailedPrecondition);
      EXPECT_THAT(list.error().message(), HasSubstr(c.daemon));
      continue;
    }
    ASSERT_TRUE(list.ok()) << list.error().ToString();
    auto reqs = fake.Requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].path, "/_ping");
    EXPECT_EQ(reqs[1].path, "/v" + c.want + "/containers/json");
    // Negotiated once: the next call goes straight to the versioned path.
    ASSERT_TRUE(client->ListContainers({}).ok());
    EXPECT_EQ(fake.Requests().size(), 3u);
  }
}

TEST(DockerClientTest, FallsBackToVersionWhenPingHasNoHeader) {
  FakeDocker fake("");
  fake.Respond([](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/version") {
      JsonReply(res, 200, {{"ApiVersion", "1.42"}, {"Version", "23.0.1"}});
    } else {
      JsonReply(res, 200, json::array());
    }
  });
  auto client = fake.Client();
  auto ping = client->Ping();
  ASSERT_TRUE(ping.ok()) << ping.error().ToString();
  EXPECT_EQ(ping->api_version, "1.42");
  EXPECT_EQ(ping->negotiated, "1.42");
  ASSERT_TRUE(client->ListImages().ok());
  EXPECT_EQ(fake.Requests().back().path, "/v1.42/images/json");
}

TEST(DockerClientTest, ErrorsBecomeStatusCodes) {
  struct Case {
    std::string name;
    int status;
    std::string content_type;
    std::string body;
    StatusCode want;
    std::string want_text;
  };
  const Case cases[] = {
      {"no such container", 404, "application/json", R"({"message":"No such container: abc"})",
       StatusCode::kNotFound, "No such container: abc"},
      {"name in use", 409, "application/json",
       R"({"message":"Conflict. The container name \"/x\" is already in use by container \"123\"."})",
       StatusCode::kConflict, "is already in use"},
      {"bad parameter", 400, "application/json", R"({"message":"Minimum memory limit allowed is 6MB"})",
       StatusCode::kInvalidArgument, "Minimum memory limit allowed is 6MB"},
      {"daemon error", 500, "application/json", R"({"message":"driver failed"})", StatusCode::kUnavailable,
       "driver failed"},
      {"proxy 401 page", 401, "text/html",
       "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n"
       "<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
       "</body>\r\n</html>\r\n",
       StatusCode::kUnauthenticated, "401 Authorization Required"},
      {"proxy 502 page", 502, "text/html", "<html><body><h1>Bad   Gateway</h1></body></html>",
       StatusCode::kUnavailable, "Bad Gateway"},
      {"forbidden", 403, "text/plain", "denied", StatusCode::kPermissionDenied, "denied"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeDocker fake;
    fake.Respond([&](const httplib::Request&, httplib::Response& res) {
      res.status = c.status;
      res.set_content(c.body, c.content_type.c_str());
    });
    auto info = fake.Client()->InspectContainer("abc");
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.error().code(), c.want) << info.error().ToString();
    EXPECT_THAT(info.error().message(), HasSubstr(c.want_text));
    EXPECT_THAT(info.error().message(), HasSubstr("GET /containers/abc/json"));
    EXPECT_THAT(info.error().message(), Not(HasSubstr("<")));
    if (c.status == 401) {
      EXPECT_THAT(info.error().message(), HasSubstr("basic-auth"));
    }
  }
}

TEST(DockerClientTest, UnauthorizedPingFromProxy) {
  // A proxy answers /_ping itself when the credential is wrong.
  FakeDocker proxy("");
  proxy.Respond([](const httplib::Request&, httplib::Response& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Basic realm=\"docker\"");
    res.set_content("<html><head><title>401 Authorization Required</title></head></html>", "text/html");
  });
  DockerClientOptions o;
  o.endpoint = proxy.Endpoint();
  o.basic_auth = "alice:Pr0xy-pw";
  auto proxied = DockerClient::Create(o);
  ASSERT_TRUE(proxied.ok());
  auto list = (*proxied)->ListContainers({});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(list.error().message(), Not(HasSubstr("Pr0xy-pw")));
  EXPECT_EQ(proxy.Requests().front().authorization, "Basic YWxpY2U6UHIweHktcHc=");
}

TEST(DockerClientTest, CreateContainerRequest) {
  FakeDocker fake;
  fake.Respond([](const httplib::Request&, httplib::Response& res) {
    JsonReply(res, 201, {{"Id", "f00d"}, {"Warnings", json::array()}});
  });
  ContainerCreateSpec spec;
  spec.name = "redisfleet-default-cache-1234abcd";
  spec.image = "redis-fleet/redis:7";
  spec.cmd = {"redis-server", "--port", "7000"};
  spec.env = {"A=1"};
  spec.labels = {{"redisfleet.io/uid", "1234abcd-x"}};
  spec.exposed_ports = {"6379/tcp"};
  spec.memory_bytes = 96 * 1024 * 1024;
  spec.memory_swap_bytes = spec.memory_bytes;
  spec.network_mode = "bridge";
  spec.port_bindings["6379/tcp"] = {{"127.0.0.1", "7000"}};
  spec.binds = {"/srv/data:/data"};
  auto id = fake.Client()->CreateContainer(spec);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(*id, "f00d");

  const Recorded req = fake.Requests().back();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/v1.41/containers/create");
  EXPECT_EQ(req.params.find("name")->second, spec.name);
  EXPECT_EQ(req.content_type, "application/json");
  json body = json::parse(req.body);
  EXPECT_EQ(body["Image"], "redis-fleet/redis:7");
  EXPECT_EQ(body["Cmd"], json({"redis-server", "--port", "7000"}));
  EXPECT_EQ(body["Env"], json({"A=1"}));
  EXPECT_EQ(body["Labels"]["redisfleet.io/uid"], "1234abcd-x");
  EXPECT_EQ(body["ExposedPorts"], json({{"6379/tcp", json::object()}}));
  const json& host = body["HostConfig"];
  EXPECT_EQ(host["Memory"], 96 * 1024 * 1024);
  EXPECT_EQ(host["MemorySwap"], 96 * 1024 * 1024);
  EXPECT_EQ(host["RestartPolicy"]["Name"], "unless-stopped");
  EXPECT_EQ(host["NetworkMode"], "bridge");
  EXPECT_EQ(host["PortBindings"]["6379/tcp"][0]["HostIp"], "127.0.0.1");
  EXPECT_EQ(host["PortBindings"]["6379/tcp"][0]["HostPort"], "7000");  // a string
  EXPECT_EQ(host["Binds"], json({"/srv/data:/data"}));
}

TEST(DockerClientTest, ListContainersSendsLabelFilters) {
  FakeDocker fake;
  fake.Respond([](const httplib::Request&, httplib::Response& res) {
    JsonReply(res, 200,
              json::array({{{"Id", "c1"},
                            {"Names", {"/redisfleet-a"}},
                            {"Image", "redis-fleet/redis:7"},
                            {"State", "created"},
                            {"Labels", {{"redisfleet.io/instance", "default.a"}}}},
                           {{"Id", "c2"}, {"Names", nullptr}, {"Labels", nullptr}, {"State", "running"}}}));
  });
  auto list = fake.Client()->ListContainers({"redisfleet.io/instance=default.a", "redisfleet.io/uid=u1"});
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "c1");
  EXPECT_THAT((*list)[0].names, ElementsAre("redisfleet-a"));
  EXPECT_EQ((*list)[0].state, "created");
  EXPECT_EQ((*list)[0].labels.at("redisfleet.io/instance"), "default.a");
  EXPECT_TRUE((*list)[1].labels.empty());

  const Recorded req = fake.Requests().back();
  EXPECT_EQ(req.params.find("all")->second, "1");
  json filters = json::parse(req.params.find("filters")->second);
  EXPECT_EQ(filters, json({{"label", {{"redisfleet.io/instance=default.a", true}, {"redisfleet.io/uid=u1", true}}}}));
}

TEST(DockerClientTest, LifecycleCalls) {
  FakeDocker fake;
  fake.Respond([](const httplib::Request& req, httplib::Response& res) {
    if (req.path.ends_with("/start") || req.path.ends_with("/stop")) {
      res.status = 304;  // already started / stopped
    } else if (req.path.ends_with("/update")) {
      JsonReply(res, 200, {{"Warnings", json::array()}});
    } else if (req.method == "DELETE") {
      res.status = 204;
    } else if (req.path.ends_with("/logs")) {
      std::string framed;
      for (auto [stream, text] : {std::pair<char, std::string>{1, "hello\n"}, {2, "world\n"}}) {
        framed += std::string{stream, 0, 0, 0, 0, 0, 0, static_cast<char>(text.size())} + text;
      }
      res.set_content(framed, "application/vnd.docker.raw-stream");
    } else {
      res.status = 500;
    }
  });
  auto client = fake.Client();
  EXPECT_TRUE(client->StartContainer("c1").ok());
  EXPECT_TRUE(client->StopContainer("c1", std::chrono::seconds(3)).ok());
  EXPECT_TRUE(client->UpdateContainerMemory("c1", 100, 100).ok());
  EXPECT_TRUE(client->RemoveContainer("c1", true, true).ok());
  auto logs = client->ContainerLogs("c1", 5);
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(*logs, "hello\nworld\n");

  auto reqs = fake.Requests();
  ASSERT_EQ(reqs.size(), 6u);  // _ping + 5
  EXPECT_EQ(reqs[1].method + " " + reqs[1].path, "POST /v1.41/containers/c1/start");
  EXPECT_EQ(reqs[1].content_type, "");
  EXPECT_EQ(reqs[2].method + " " + reqs[2].path, "POST /v1.41/containers/c1/stop");
  EXPECT_EQ(reqs[2].params.find("t")->second, "3");
  EXPECT_EQ(reqs[3].path, "/v1.41/containers/c1/update");
  EXPECT_EQ(json::parse(reqs[3].body), json({{"Memory", 100}, {"MemorySwap", 100}}));
  EXPECT_EQ(reqs[4].method + " " + reqs[4].path, "DELETE /v1.41/containers/c1");
  EXPECT_EQ(reqs[4].params.find("force")->second, "1");
  EXPECT_EQ(reqs[4].params.find("v")->second, "1");
}

TEST(DockerClientTest, InspectContainerParsesFields) {
  FakeDocker fake;
  fake.Respond([](const httplib::Request&, httplib::Response& res) {
    JsonReply(res, 200,
              {{"Id", "abc123"},
               {"Name", "/redisfleet-x"},
               {"State", {{"Status", "exited"}, {"Running", false}, {"OOMKilled", true}, {"ExitCode", 137}}},
               {"Config",
                {{"Image", "redis-fleet/redis:7"},
                 {"Cmd", {"redis-server", "--port", "7001"}},
                 {"Labels", {{"k", "v"}}}}},
               {"HostConfig",
                {{"Memory", 1048576},
                 {"MemorySwap", 2097152},
                 {"NetworkMode", "bridge"},
                 {"RestartPolicy", {{"Name", "unless-stopped"}, {"MaximumRetryCount", 0}}},
                 {"PortBindings", {{"6379/tcp", {{{"HostIp", ""}, {"HostPort", "7001"}}}}}}}}});
  });
  auto info = fake.Client()->InspectContainer("abc");
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->id, "abc123");
  EXPECT_EQ(info->name, "redisfleet-x");
  EXPECT_EQ(info->status, "exited");
  EXPECT_FALSE(info->running);
  EXPECT_TRUE(info->oom_killed);
  EXPECT_EQ(info->exit_code, 137);
  EXPECT_THAT(info->cmd, ElementsAre("redis-server", "--port", "7001"));
  EXPECT_EQ(info->labels.at("k"), "v");
  EXPECT_EQ(info->memory_bytes, 1048576);
  EXPECT_EQ(info->memory_swap_bytes, 2097152);
  EXPECT_EQ(info->network_mode, "bridge");
  EXPECT_EQ(info->restart_policy, "unless-stopped");
  EXPECT_EQ(info->port_bindings.at("6379/tcp").at(0).host_port, "7001");
}

TEST(DockerClientTest, MalformedResponsesAreInternal) {
  FakeDocker fake;
  fake.Respond([](const httplib::Request&, httplib::Response& res) { res.set_content("not json", "text/plain"); });
  auto info = fake.Client()->InspectContainer("abc");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code(), StatusCode::kInternal);
}

TEST(DockerClientTest, UnreachableDaemonIsUnavailable) {
  DockerClientOptions o;
  o.endpoint = "unix:///tmp/rf-no-such-docker.sock";
  auto client = DockerClient::Create(o);
  ASSERT_TRUE(client.ok());
  auto ping = (*client)->Ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(ping.error().message(), HasSubstr("unix:///tmp/rf-no-such-docker.sock"));
}

TEST(DockerClientTest, EndpointsMapToHttpOptions) {
  struct Case {
    std::string endpoint;
    bool tls;
    std::string want_base;  // "" = InvalidArgument
  };
  const Case cases[] = {
      {"unix:///var/run/docker.sock", false, "unix:///var/run/docker.sock"},
      {"/var/run/docker.sock", false, "unix:///var/run/docker.sock"},
      {"tcp://10.0.0.1:2375", false, "http://10.0.0.1:2375"},
      {"tcp://10.0.0.1:2376", true, "https://10.0.0.1:2376"},
      {"https://docker.example:443", false, "https://docker.example:443"},
      {"http://127.0.0.1:8080", false, "http://127.0.0.1:8080"},
      {"unix://relative.sock", false, ""},
      {"ssh://host", false, ""},
      {"", false, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.endpoint);
    DockerClientOptions o;
    o.endpoint = c.endpoint;
    if (c.tls) {
      o.ca_file = "/etc/docker/ca.pem";
      o.cert_file = "/etc/docker/cert.pem";
      o.key_file = "/etc/docker/key.pem";
    }
    auto h = HttpOptionsFor(o);
    if (c.want_base.empty()) {
      ASSERT_FALSE(h.ok());
      EXPECT_EQ(h.error().code(), StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_TRUE(h.ok()) << h.error().ToString();
    EXPECT_EQ(h->base_url, c.want_base);
    EXPECT_EQ(h->cert_file, o.cert_file);
    EXPECT_EQ(h->key_file, o.key_file);
    EXPECT_EQ(h->ca_file, o.ca_file);
  }
}

TEST(DockerClientTest, CompareApiVersions) {
  EXPECT_LT(CompareApiVersions("1.41", "1.43"), 0);
  EXPECT_LT(CompareApiVersions("1.9", "1.41"), 0);
  EXPECT_EQ(CompareApiVersions("1.41", "1.41"), 0);
  EXPECT_GT(CompareApiVersions("1.100", "1.43"), 0);
  EXPECT_GT(CompareApiVersions("2", "1.43"), 0);
}

}  // namespace
}  // namespace redisfleet::docker
