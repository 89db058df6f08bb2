#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "api/codec_internal.h"
#include "common/redact.h"

namespace redisfleet::api::internal {
namespace {

using json = nlohmann::json;

bool IsIdentifier(std::string_view key) {
  if (key.empty()) return false;
  const auto first = static_cast<unsigned char>(key[0]);
  if (!std::isalpha(first) && key[0] != '_') return false;
  return std::all_of(key.begin(), key.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) || ch == '_' || ch == '-';
  });
}

// The last field name of a path: "spec.to[2]" -> "to", `metadata.labels["a.b"]` -> "a.b".
std::string LastSegment(std::string_view path) {
  while (!path.empty() && path.back() == ']') {
    const auto open = path.rfind('[');
    if (open == std::string_view::npos) break;
    std::string_view inside = path.substr(open + 1, path.size() - open - 2);
    if (inside.size() >= 2 && inside.front() == '"') return std::string(inside.substr(1, inside.size() - 2));
    path = path.substr(0, open);
  }
  const auto dot = path.rfind('.');
  return std::string(dot == std::string_view::npos ? path : path.substr(dot + 1));
}

bool AllDigits(std::string_view s, int base) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [base](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    if (base == 8) return ch >= '0' && ch <= '7';
    if (base == 16) return std::isxdigit(c) != 0;
    return std::isdigit(c) != 0;
  });
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool LooksLikeFloat(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

std::optional<json> ParseInteger(std::string_view s) {
  int base = 10;
  std::string_view digits = s;
  bool negative = false;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    base = s[1] == 'x' ? 16 : 8;
    digits = s.substr(2);
  } else {
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
      negative = digits[0] == '-';
      digits = digits.substr(1);
    }
  }
  if (!AllDigits(digits, base)) return std::nullopt;
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec == std::errc() && ptr == digits.data() + digits.size()) {
    if (!negative) {
      if (magnitude <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return json(static_cast<int64_t>(magnitude));
      return json(magnitude);
    }
    if (magnitude <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return json(-static_cast<int64_t>(magnitude));
    if (magnitude == static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1)
      return json(std::numeric_limits<int64_t>::min());
  }
  if (base != 10) return std::nullopt;
  // Too large for 64 bits: keep it a number.
  double d = 0;
  auto [p2, ec2] = std::from_chars(s.data() + (s[0] == '+' ? 1 : 0), s.data() + s.size(), d);
  if (ec2 != std::errc() || p2 != s.data() + s.size()) return std::nullopt;
  return json(d);
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool ReadFixed(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size()) return false;
  std::string_view part = s.substr(pos, len);
  if (!AllDigits(part, 10)) return false;
  out = 0;
  for (char c : part) out = out * 10 + (c - '0');
  return true;
}

}  // namespace

std::string JoinPath(std::string_view path, std::string_view key) {
  std::string out(path);
  if (IsIdentifier(key)) {
    if (!out.empty()) out += '.';
    out += key;
  } else {
    out += '[';
    out += SafeDump(json(std::string(key)), 200);
    out += ']';
  }
  return out;
}

std::string IndexPath(std::string_view path, std::size_t index) {
  return fmt::format("{}[{}]", path, index);
}

std::string SafeDump(const json& v, std::size_t max_chars) {
  std::string out;
  try {
    out = v.dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (...) {
    out = "?";
  }
  if (out.size() > max_chars && max_chars > 3) {
    out.resize(max_chars - 3);
    out += "...";
  }
  return out;
}

std::string Got(const json& v, std::string_view path) {
  const bool secret = IsSecretKey(LastSegment(path));
  switch (v.type()) {
    case json::value_t::null: return "(got null)";
    case json::value_t::object: return "(got an object)";
    case json::value_t::array: return "(got a list)";
    case json::value_t::string:
      if (secret) return "(got a string)";
      return "(got " + RedactSecrets(SafeDump(v)) + ")";
    case json::value_t::boolean:
      if (secret) return "(got a boolean)";
      return "(got " + SafeDump(v) + ")";
    default:
      if (secret) return "(got a number)";
      return "(got " + SafeDump(v) + ")";
  }
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates) {
  if (name.size() > 200) return "";
  const std::string* best = nullptr;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& c : candidates) {
    const std::size_t d = EditDistance(name, c);
    if (d < best_distance) {
      best_distance = d;
      best = &c;
    }
  }
  if (best == nullptr) return "";
  // Close enough: at most 2 edits, or a third of the longer name.
  const std::size_t longer = std::max(name.size(), best->size());
  if (best_distance <= 2 || best_distance * 3 <= longer) return " (did you mean " + *best + "?)";
  return "";
}

json ScalarByLook(std::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return json(nullptr);
  if (s == "true" || s == "True" || s == "TRUE") return json(true);
  if (s == "false" || s == "False" || s == "FALSE") return json(false);
  if (auto i = ParseInteger(s)) return *i;
  if (LooksLikeFloat(s)) {
    double d = 0;
    const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
    auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), d);
    if (ptr == s.data() + s.size() && (ec == std::errc() || ec == std::errc::result_out_of_range))
      return json(d);
  }
  std::string_view unsigned_part = s;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    unsigned_part = s.substr(1);
  }
  if (unsigned_part == ".inf" || unsigned_part == ".Inf" || unsigned_part == ".INF")
    return json(negative ? -std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::infinity());
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return json(std::numeric_limits<double>::quiet_NaN());
  return json(std::string(s));
}

bool IsDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

std::string EncodeTime(TimePoint t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto frac = std::chrono::duration_cast<std::chrono::nanoseconds>(t - secs).count();
  std::string out = FormatTime(TimePoint(std::chrono::duration_cast<Duration>(secs.time_since_epoch())));
  if (frac == 0) return out;
  std::string digits = fmt::format("{:09}", frac);
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  out.pop_back();  // 'Z'
  return out + "." + digits + "Z";
}

std::optional<TimePoint> DecodeTime(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!ReadFixed(s, 0, 4, year) || !ReadFixed(s, 5, 2, month) || !ReadFixed(s, 8, 2, day) ||
      !ReadFixed(s, 11, 2, hour) || !ReadFixed(s, 14, 2, minute) || !ReadFixed(s, 17, 2, second))
    return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  // system_clock in nanoseconds spans 1677..2262.
  if (year < 1700 || year > 2200 || month < 1 || month > 12 || day < 1 ||
      day > DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
    return std::nullopt;
  std::size_t i = 19;
  int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t start = i;
    int64_t scale = 100'000'000;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      nanos += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  const std::string_view zone = s.substr(i);
  if (zone != "Z" && zone != "z" && zone != "+00:00") return std::nullopt;
  using namespace std::chrono;
  const sys_days date{std::chrono::year{year} / std::chrono::month{static_cast<unsigned>(month)} /
                      std::chrono::day{static_cast<unsigned>(day)}};
  const auto since_epoch = duration_cast<nanoseconds>(date.time_since_epoch()) + hours(hour) +
                           minutes(minute) + seconds(second) + nanoseconds(nanos);
  return TimePoint(duration_cast<Duration>(since_epoch));
}

}  // namespace redisfleet::api::internal
