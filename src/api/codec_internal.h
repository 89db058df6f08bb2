#pragma once
// Private helpers of the api/ codec and validation (not for use outside src/api/).
// None of these throw.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/codec.h"
#include "common/clock.h"

namespace redisfleet::api::internal {

// Upper bound on the nodes of one YAML document, aliases expanded ("billion laughs" guard).
inline constexpr std::size_t kMaxYamlNodes = 100'000;

// "spec" + "memoryMiB" -> "spec.memoryMiB"; keys that are not identifiers are bracketed:
// metadata.labels["app.kubernetes.io/name"]. An empty path yields the key alone.
std::string JoinPath(std::string_view path, std::string_view key);
// "spec.plans" + 1 -> "spec.plans[1]".
std::string IndexPath(std::string_view path, std::size_t index);

// JSON text of `v` that never throws (invalid UTF-8 replaced), cut to `max_chars`.
std::string SafeDump(const nlohmann::json& v, std::size_t max_chars = 80);
// "(got \"abc\")", "(got 5)", "(got a list)". Secrets stay out: URLs are redacted, and the
// value is only described by type when the last path segment names a credential.
std::string Got(const nlohmann::json& v, std::string_view path);

// Case-insensitive Levenshtein distance.
std::size_t EditDistance(std::string_view a, std::string_view b);
// " (did you mean memoryMiB?)" when a candidate is close to `name`, else "".
std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates);

// A plain YAML scalar typed by its look (YAML 1.2 core schema): null, bool, int, float, or
// string.
nlohmann::json ScalarByLook(std::string_view text);

// True when `s` is a DNS-1123 label: 1..63 of [a-z0-9-], alphanumeric at both ends.
bool IsDns1123Label(std::string_view s);

// RFC 3339 UTC: FormatTime, plus a fraction when the time has sub-second digits (lossless).
std::string EncodeTime(TimePoint t);
// Strict inverse of EncodeTime ("YYYY-MM-DDTHH:MM:SS[.frac](Z|+00:00)"); nullopt otherwise.
std::optional<TimePoint> DecodeTime(std::string_view s);

// One document of a YAML stream converted to JSON. `value` is meaningful only when
// `problems` is empty; `empty` marks a document with nothing in it (to be skipped).
struct YamlDoc {
  int doc = 0;
  nlohmann::json value;
  bool empty = false;
  std::vector<Problem> problems;  // file and doc filled in
};

// Splits `text` at document markers and converts every document, so that a syntax error
// spoils only its own document. Problems name the file, the document and the 1-based line.
std::vector<YamlDoc> YamlToJson(std::string_view text, std::string_view file);

// Block-style YAML of `v`; strings are quoted whenever a plain scalar would read back as
// something else, so YamlToJson(JsonToYaml(v)) == v for finite numbers.
std::string JsonToYaml(const nlohmann::json& v);

}  // namespace redisfleet::api::internal
