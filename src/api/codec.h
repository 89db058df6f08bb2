#pragma once
// YAML and JSON codecs for the three kinds. Exceptions from yaml-cpp/nlohmann stop here:
// every function returns problems or a Status, never throws.
//
// The JSON form is the Kubernetes wire form: {apiVersion, kind, metadata, spec, status}, with
// camelCase field names exactly as in shared/RESOURCES.md, times as RFC 3339 strings.
// YAML is decoded by converting each document to JSON (plain scalars typed by their look,
// quoted scalars always strings) and decoding that, so both paths share one set of rules.
// All functions are reentrant (no shared state), so safe to call from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/types.h"
#include "common/status.h"

namespace redisfleet::api {

// One problem in one document. ToString():
//   "FILE: doc N: Kind ns/name: field.path: message"
// Parts that are unknown are left out ("FILE: doc 2: spec.memoryMiB: ..." when the kind or
// name can't be read). `message` says what is wrong and ends with "(got X)" when a value was
// given, e.g. "must be one of local|static|digitalocean (got dgitalocean)".
struct Problem {
  std::string file;
  int doc = 0;           // 1-based document index in the file; 0 = unknown
  std::string kind;      // "RedisInstance"
  std::string key;       // "ns/name"
  std::string field;     // "spec.capacity.memoryMiBPerHost"
  std::string message;
  std::string ToString() const;
};

// The result of decoding one document. `object` is set iff `problems` is empty.
struct ParsedDocument {
  int doc = 0;
  std::optional<Object> object;
  std::vector<Problem> problems;
};

// Parses a multi-document YAML text (documents separated by ---; empty documents are
// skipped). Each object is defaulted and checked with Validate(); all problems are reported
// at once, unknown fields with a did-you-mean hint. `file` is only used in problems.
std::vector<ParsedDocument> ParseYaml(std::string_view text, std::string_view file);

// Decodes one JSON object (same rules as YAML). `file`/`doc` only label problems.
ParsedDocument DecodeJson(const nlohmann::json& j, std::string_view file = "", int doc = 0);

// Strict decode for internal round trips (state files, API server): InvalidArgument with all
// problems joined by "; " when anything is wrong.
StatusOr<Object> FromJson(const nlohmann::json& j);

// Encodes the whole object. Absent optionals and empty status parts are omitted.
nlohmann::json ToJson(const Object& o);
// Multi-line YAML of ToJson(o).
std::string ToYaml(const Object& o);

// Only the status part, and its inverse (InvalidArgument on a malformed status).
nlohmann::json StatusToJson(const Object& o);
Status StatusFromJson(const nlohmann::json& j, Object& o);

// Only the spec part (used to detect spec changes: generation bumps when this changes).
nlohmann::json SpecToJson(const Object& o);

}  // namespace redisfleet::api
