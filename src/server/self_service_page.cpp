#include "server/self_service.h"

namespace redisfleet::server {
namespace {

// One button; POST, then poll every 500 ms until 200 (connection line in #connection) or an
// error (in #error). Relative URLs, so the page also works behind a path prefix.
constexpr std::string_view kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Get a Redis</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
  button { font-size: 1.2rem; padding: .6rem 1.4rem; cursor: pointer; }
  button:disabled { cursor: progress; }
  #connection { font-family: ui-monospace, monospace; background: #f4f4f4; padding: .8rem; overflow-x: auto; white-space: pre; }
  #connection:empty, #error:empty { display: none; }
  #error { color: #b00020; }
  #status { color: #555; }
</style>
</head>
<body>
<h1>Get a Redis</h1>
<p>One click gives you a small Redis server of your own for a limited time.</p>
<button id="get" type="button">Get a Redis</button>
<p id="status" role="status"></p>
<pre id="connection"></pre>
<p id="error" role="alert"></p>
<p id="expires"></p>
<script>
(function () {
  "use strict";
  var button = document.getElementById("get");
  var statusEl = document.getElementById("status");
  var connection = document.getElementById("connection");
  var errorEl = document.getElementById("error");
  var expires = document.getElementById("expires");
  var terminal = { Failed: true, Expired: true, Deleting: true };

  function body(res) {
    return res.json().catch(function () { return {}; });
  }
  function fail(message) {
    statusEl.textContent = "";
    errorEl.textContent = message;
    button.disabled = false;
  }
  function poll(name) {
    fetch("v1/instances/" + encodeURIComponent(name), { cache: "no-store" }).then(function (res) {
      return body(res).then(function (data) {
        if (res.status === 200) {
          statusEl.textContent = "Ready.";
          connection.textContent = data.redisCli;
          expires.textContent = data.expiresAt ? "Expires at " + data.expiresAt + "." : "";
          button.disabled = false;
        } else if (res.status === 202 && !terminal[data.phase]) {
          statusEl.textContent = "Starting " + name + " (" + data.phase + ")\u2026";
          setTimeout(function () { poll(name); }, 500);
        } else if (res.status === 202) {
          fail("Instance " + name + " is " + data.phase + (data.message ? ": " + data.message : "."));
        } else {
          fail(data.error || "Request failed (HTTP " + res.status + ").");
        }
      });
    }, function () { fail("Network error while waiting for " + name + "."); });
  }
  button.addEventListener("click", function () {
    button.disabled = true;
    errorEl.textContent = "";
    connection.textContent = "";
    expires.textContent = "";
    statusEl.textContent = "Requesting\u2026";
    fetch("v1/instances", { method: "POST", cache: "no-store" }).then(function (res) {
      return body(res).then(function (data) {
        if (res.status === 202 && data.name) {
          poll(data.name);
        } else {
          fail(data.error || "Request failed (HTTP " + res.status + ").");
        }
      });
    }, function () { fail("Network error."); });
  });
})();
</script>
</body>
</html>
)html";

}  // namespace

std::string_view SelfServicePage() { return kPage; }

}  // namespace redisfleet::server
