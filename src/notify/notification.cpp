#include "notify/notification.h"

#include <openssl/evp.h>

#include <cmath>

#include <fmt/format.h>

namespace redisfleet::notify {

std::string_view EventName(api::NotificationEvent event) { return api::EnumName(event); }

std::string NotificationId(const Notification& n) {
  const std::string input =
      fmt::format("{}\n{}\n{}\n{}\n{}", EventName(n.event), n.policy, n.instance, n.to_plan,
                  std::chrono::duration_cast<std::chrono::milliseconds>(n.time.time_since_epoch()).count());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr) != 1) return "";
  std::string out;
  for (unsigned int i = 0; i < 16 && i < len; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

std::string Subject(const Notification& n) {
  switch (n.event) {
    case api::NotificationEvent::kThresholdBreach:
      return fmt::format("[redis-fleet] ThresholdBreach: {} on {} (memory {:.1f}%, connections {:.1f}%)",
                         n.instance, n.from_plan, n.memory_percent, n.connections_percent);
    case api::NotificationEvent::kScaleSucceeded:
    case api::NotificationEvent::kScaleFailed:
      return fmt::format("[redis-fleet] {}: {} {} -> {}", EventName(n.event), n.instance, n.from_plan,
                         n.to_plan);
  }
  return "[redis-fleet] notification";
}

std::string TextBody(const Notification& n) {
  std::string out;
  switch (n.event) {
    case api::NotificationEvent::kThresholdBreach:
      out += fmt::format("Redis instance {} is above its target band on plan {}.\n", n.instance, n.from_plan);
      break;
    case api::NotificationEvent::kScaleSucceeded:
      out += fmt::format("Redis instance {} was moved from plan {} to plan {}.\n", n.instance, n.from_plan,
                         n.to_plan);
      break;
    case api::NotificationEvent::kScaleFailed:
      out += fmt::format("Moving Redis instance {} from plan {} to plan {} failed.\n", n.instance, n.from_plan,
                         n.to_plan);
      break;
  }
  out += "\n";
  out += fmt::format("Event:        {}\n", EventName(n.event));
  out += fmt::format("Policy:       {}\n", n.policy);
  out += fmt::format("Instance:     {}\n", n.instance);
  out += fmt::format("From plan:    {}\n", n.from_plan);
  if (!n.to_plan.empty()) out += fmt::format("To plan:      {}\n", n.to_plan);
  out += fmt::format("Memory:       {:.1f}%\n", n.memory_percent);
  out += fmt::format("Connections:  {:.1f}%\n", n.connections_percent);
  out += fmt::format("Reason:       {}\n", n.reason);
  out += fmt::format("Time:         {}\n", FormatTime(n.time));
  out += fmt::format("Id:           {}\n", NotificationId(n));
  out += "\n-- \nredis-fleet\n";
  return out;
}

nlohmann::json ToJson(const Notification& n) {
  auto finite = [](double v) { return std::isfinite(v) ? v : 0.0; };
  return nlohmann::json{{"id", NotificationId(n)},
                        {"event", std::string(EventName(n.event))},
                        {"policy", n.policy},
                        {"instance", n.instance},
                        {"from", n.from_plan},
                        {"to", n.to_plan},
                        {"reason", n.reason},
                        {"memoryPercent", finite(n.memory_percent)},
                        {"connectionsPercent", finite(n.connections_percent)},
                        {"time", FormatTime(n.time)}};
}

std::string DisplayUrl(std::string_view url) {
  std::string out;
  std::size_t authority = 0;
  if (std::size_t scheme = url.find("://"); scheme != std::string_view::npos) authority = scheme + 3;
  const std::size_t authority_end = std::min(url.find_first_of("/?#", authority), url.size());
  std::string_view auth = url.substr(authority, authority_end - authority);
  out.append(url.substr(0, authority));
  if (std::size_t at = auth.rfind('@'); at != std::string_view::npos) {
    out.append("[REDACTED]@");
    auth.remove_prefix(at + 1);
  }
  out.append(auth);
  std::string_view rest = url.substr(authority_end);
  if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    std::size_t hash = rest.find('#', q);
    out.append(rest.substr(0, q));
    out.append("?[REDACTED]");
    if (hash != std::string_view::npos) out.append(rest.substr(hash));
  } else {
    out.append(rest);
  }
  return out;
}

}  // namespace redisfleet::notify
