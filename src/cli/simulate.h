#pragma once
// `redis-fleet simulate`: replays a metrics trace through a ScalingPolicy (scaling/simulator.h)
// and reports what it would have done and cost. Returns the process exit code.

#include <ostream>
#include <string>

namespace redisfleet::cli {

// Reads `policy_file` (exactly one ScalingPolicy document, with spec.plans listed: planCatalog
// needs Heroku and is refused here) and the trace CSV `trace_file`, simulates, prints the text
// summary or the RESOURCES.md JSON object (`output` "text" | "json") on `out`, and writes the SVG
// plot to `plot_file` when not empty. Problems go to `err`, one line each, in the validation
// message format (FILE: doc N: Kind ns/name: field: what (got X)) or FILE:LINE: field: ... for
// the CSV. 0 = simulated, 1 = a problem with the inputs or the plot file.
int RunSimulate(const std::string& policy_file, const std::string& trace_file, const std::string& output,
                const std::string& plot_file, std::ostream& out, std::ostream& err);

}  // namespace redisfleet::cli
