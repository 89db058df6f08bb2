#pragma once
// Validation rules for the three kinds. Problems carry kind/key/field; callers add file/doc.

#include <string>
#include <vector>

#include "api/codec.h"
#include "api/types.h"

namespace redisfleet::api {

// Defaults that depend on other fields (e.g. a docker block for runtime docker). Field
// defaults are already in types.h. Idempotent.
void ApplyDefaults(Object& o);

// Rules of one object: names (DNS-1123), ranges (memory >= 1, percents 1..100, ...), enums,
// cross-field rules (exactly one of hostPool/heroku; provider blocks present for their
// provider; plan names unique; minPlan <= maxPlan by the catalogue order of memory/cost;
// minPlan/maxPlan naming catalogue plans; runtime process only with provider local).
// Every rule is checked; problems carry kind/key/field, not file/doc.
std::vector<Problem> Validate(const Object& o);

// An object with where it came from.
struct SourcedObject {
  std::string file;
  int doc = 0;
  Object object;
};

// Rules across objects: duplicate kind+namespace/name (reported on the later occurrence,
// naming the first one's file/doc), and, when `check_references`, dangling references: a
// RedisInstance whose hostPool names no HostPool in its namespace, a ScalingPolicy whose
// targetRef.name names no RedisInstance, a RedisInstance whose spec.plan is not a plan of a
// ScalingPolicy (with a plans list) that targets it. Problems carry the object's file/doc.
std::vector<Problem> ValidateSet(const std::vector<SourcedObject>& objects, bool check_references);

}  // namespace redisfleet::api
