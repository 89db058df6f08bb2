#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>
#include <map>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "api/codec_internal.h"

namespace redisfleet::api::internal {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Splitting a stream into documents.

bool IsMarkerLine(std::string_view line, std::string_view marker) {
  if (line.substr(0, 3) != marker) return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r';
}

bool IsBlankOrComment(std::string_view line) {
  for (char c : line) {
    if (c == ' ' || c == '\t' || c == '\r') continue;
    return c == '#';
  }
  return true;
}

struct Chunk {
  std::string text;
  int first_line = 0;  // 0-based line of text[0] in the stream
  bool explicit_start = false;
  bool has_content = false;
  bool has_directive = false;
  bool IsDocument() const { return explicit_start || has_content; }
};

// Splits at "---" and "..." lines. A chunk holding only directives is prepended to the next.
std::vector<Chunk> SplitDocuments(std::string_view text) {
  std::vector<Chunk> raw;
  Chunk cur;
  int line_no = 0;
  std::size_t pos = 0;
  auto finish = [&](int next_first_line) {
    raw.push_back(std::move(cur));
    cur = Chunk{};
    cur.first_line = next_first_line;
  };
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
    const std::string_view with_newline = text.substr(pos, next - pos);
    const std::string_view line =
        nl == std::string_view::npos ? with_newline : with_newline.substr(0, with_newline.size() - 1);
    if (IsMarkerLine(line, "---")) {
      finish(line_no);
      cur.explicit_start = true;
      cur.text.append(with_newline);
    } else if (IsMarkerLine(line, "...")) {
      cur.text.append(with_newline);
      finish(line_no + 1);
    } else {
      cur.text.append(with_newline);
      if (!IsBlankOrComment(line)) {
        if (line[0] == '%' && !cur.explicit_start && !cur.has_content) {
          cur.has_directive = true;
        } else {
          cur.has_content = true;
        }
      }
    }
    pos = next;
    ++line_no;
  }
  raw.push_back(std::move(cur));

  std::vector<Chunk> out;
  std::string carried;
  int carried_first_line = -1;
  for (auto& c : raw) {
    if (!c.IsDocument()) {
      if (c.has_directive) {
        if (carried_first_line < 0) carried_first_line = c.first_line;
        carried += c.text;
      }
      continue;
    }
    if (carried_first_line >= 0) {
      c.text = carried + c.text;
      c.first_line = carried_first_line;
      carried.clear();
      carried_first_line = -1;
    }
    out.push_back(std::move(c));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Building JSON from yaml-cpp parse events.

class JsonBuilder final : public YAML::EventHandler {
 public:
  JsonBuilder(std::string_view file, int doc, int line_offset)
      : file_(file), doc_(doc), line_offset_(line_offset) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (!Count(1)) return;
    Add(json(nullptr), std::string("null"), anchor, 1, mark);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (stopped_) return;
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      Report(ChildPath(), fmt::format("alias refers to a node that contains it (line {})", Line(mark)));
      if (!Count(1)) return;
      Add(json(nullptr), std::nullopt, 0, 1, mark);
      return;
    }
    if (!Count(it->second.nodes)) return;
    Add(it->second.value, it->second.raw, 0, it->second.nodes, mark);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (!Count(1)) return;
    const bool is_string = tag == "!" || tag == "tag:yaml.org,2002:str";
    Add(is_string ? json(value) : ScalarByLook(value), value, anchor, 1, mark);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Push(json::array(), false, anchor, mark);
  }
  void OnSequenceEnd() override { Pop(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Push(json::object(), true, anchor, mark);
  }
  void OnMapEnd() override { Pop(); }

  bool has_root() const { return has_root_; }
  json& root() { return root_; }
  std::vector<Problem>& problems() { return problems_; }

 private:
  struct Anchored {
    json value;
    std::optional<std::string> raw;
    std::size_t nodes = 0;
  };
  struct Frame {
    json value;
    bool is_map = false;
    YAML::anchor_t anchor = 0;
    YAML::Mark mark;
    std::string path;
    std::size_t nodes = 1;
    bool have_key = false;
    bool key_valid = false;
    std::string key;
    int key_line = 0;
  };

  int Line(const YAML::Mark& mark) const { return line_offset_ + mark.line + 1; }

  void Report(std::string field, std::string message) {
    problems_.push_back(Problem{std::string(file_), doc_, "", "", std::move(field), std::move(message)});
  }

  // Adds `n` nodes to the document's budget; false (and one problem) once it is exceeded.
  bool Count(std::size_t n) {
    if (stopped_) return false;
    total_ += n;
    if (total_ <= kMaxYamlNodes) return true;
    stopped_ = true;
    Report("", fmt::format("document too large: more than {} nodes (aliases expanded)", kMaxYamlNodes));
    return false;
  }

  std::string ChildPath() const {
    if (stack_.empty()) return "";
    const Frame& top = stack_.back();
    if (!top.is_map) return IndexPath(top.path, top.value.size());
    if (top.have_key && top.key_valid) return JoinPath(top.path, top.key);
    return top.path;
  }

  void Push(json value, bool is_map, YAML::anchor_t anchor, const YAML::Mark& mark) {
    if (!Count(1)) return;
    Frame f;
    f.path = ChildPath();
    f.value = std::move(value);
    f.is_map = is_map;
    f.anchor = anchor;
    f.mark = mark;
    stack_.push_back(std::move(f));
  }

  void Pop() {
    if (stopped_ || stack_.empty()) return;
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    Add(std::move(f.value), std::nullopt, f.anchor, f.nodes, f.mark);
  }

  // Places a finished node (already counted) in its parent.
  void Add(json value, std::optional<std::string> raw, YAML::anchor_t anchor, std::size_t nodes,
           const YAML::Mark& mark) {
    if (anchor != 0) anchors_[anchor] = Anchored{value, raw, nodes};
    if (stack_.empty()) {
      root_ = std::move(value);
      has_root_ = true;
      return;
    }
    Frame& top = stack_.back();
    top.nodes += nodes;
    if (!top.is_map) {
      top.value.push_back(std::move(value));
      return;
    }
    if (!top.have_key) {
      top.have_key = true;
      top.key_valid = raw.has_value();
      top.key_line = Line(mark);
      if (raw) {
        top.key = std::move(*raw);
      } else {
        Report(top.path, fmt::format("mapping keys must be scalars (line {})", Line(mark)));
      }
      return;
    }
    top.have_key = false;
    if (!top.key_valid) return;
    if (top.value.contains(top.key)) {
      Report(JoinPath(top.path, top.key), fmt::format("duplicate key (line {})", top.key_line));
      return;
    }
    top.value[top.key] = std::move(value);
  }

  std::string_view file_;
  int doc_;
  int line_offset_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  std::size_t total_ = 0;
  bool stopped_ = false;
  bool has_root_ = false;
  json root_;
  std::vector<Problem> problems_;
};

// ---------------------------------------------------------------------------------------------
// JSON to YAML.

// True when a YAML 1.1 reader (kubectl, PyYAML) would type `s` as a bool, a timestamp or a
// sexagesimal number although the 1.2 core schema reads it as a string.
bool MisreadByYaml11(const std::string& s) {
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "y" || lower == "n" || lower == "yes" || lower == "no" || lower == "on" || lower == "off")
    return true;
  const auto first = static_cast<unsigned char>(s[0]);
  if (!std::isdigit(first) && s[0] != '-' && s[0] != '+') return false;
  return s.find_first_not_of("0123456789.:+-_TtZz ") == std::string::npos;
}

bool PlainSafe(const std::string& s) {
  if (s.empty() || !ScalarByLook(s).is_string() || MisreadByYaml11(s)) return false;
  const auto first = static_cast<unsigned char>(s[0]);
  if (!std::isalnum(first) && s[0] != '/' && s[0] != '_' && s[0] != '.') return false;
  if (s.back() == ' ' || s.back() == ':') return false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (!std::isalnum(c) && std::strchr("._/-:@+=~ ", ch) == nullptr) return false;
  }
  return s.find(": ") == std::string::npos && s.find(" #") == std::string::npos;
}

std::string YamlScalar(const json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return PlainSafe(s) ? s : SafeDump(v, std::string::npos);
  }
  if (v.is_object()) return "{}";
  if (v.is_array()) return "[]";
  return SafeDump(v, std::string::npos);
}

std::string YamlKey(const std::string& k) { return PlainSafe(k) ? k : SafeDump(json(k), std::string::npos); }

bool IsBlock(const json& v) { return (v.is_object() || v.is_array()) && !v.empty(); }

void EmitList(const json& list, std::size_t indent, std::string& out);

void EmitMap(const json& map, std::size_t indent, std::string& out) {
  for (const auto& [k, v] : map.items()) {
    out.append(indent, ' ');
    out += YamlKey(k);
    out += ':';
    if (v.is_object() && !v.empty()) {
      out += '\n';
      EmitMap(v, indent + 2, out);
    } else if (v.is_array() && !v.empty()) {
      out += '\n';
      EmitList(v, indent, out);
    } else {
      out += ' ';
      out += YamlScalar(v);
      out += '\n';
    }
  }
}

void EmitList(const json& list, std::size_t indent, std::string& out) {
  for (const auto& v : list) {
    if (IsBlock(v)) {
      std::string sub;
      if (v.is_object()) {
        EmitMap(v, indent + 2, sub);
      } else {
        EmitList(v, indent + 2, sub);
      }
      sub[indent] = '-';
      out += sub;
    } else {
      out.append(indent, ' ');
      out += "- ";
      out += YamlScalar(v);
      out += '\n';
    }
  }
}

}  // namespace

std::vector<YamlDoc> YamlToJson(std::string_view text, std::string_view file) {
  std::vector<YamlDoc> docs;
  int doc_number = 0;
  for (const Chunk& chunk : SplitDocuments(text)) {
    const int first_doc = ++doc_number;
    std::istringstream in(chunk.text);
    bool first = true;
    try {
      YAML::Parser parser(in);
      while (true) {
        // A chunk normally holds one document; any extra ones take the following numbers.
        const int doc = first ? first_doc : doc_number + 1;
        JsonBuilder builder(file, doc, chunk.first_line);
        bool more = false;
        try {
          more = parser.HandleNextDocument(builder);
        } catch (const YAML::Exception& e) {
          std::string where =
              e.mark.is_null() ? "" : fmt::format(" at line {}, column {}", chunk.first_line + e.mark.line + 1,
                                                  e.mark.column + 1);
          YamlDoc bad;
          bad.doc = doc;
          bad.problems.push_back(
              Problem{std::string(file), doc, "", "", "", fmt::format("YAML syntax error{}: {}", where, e.msg)});
          docs.push_back(std::move(bad));
          doc_number = std::max(doc_number, doc);
          break;
        }
        if (!more) break;
        doc_number = std::max(doc_number, doc);
        first = false;
        YamlDoc d;
        d.doc = doc;
        d.problems = std::move(builder.problems());
        d.empty = !builder.has_root() || builder.root().is_null();
        if (d.problems.empty()) {
          d.value = std::move(builder.root());
        } else {
          d.empty = false;
        }
        docs.push_back(std::move(d));
      }
    } catch (const std::exception& e) {
      YamlDoc bad;
      bad.doc = first_doc;
      bad.problems.push_back(Problem{std::string(file), first_doc, "", "", "",
                                     fmt::format("cannot read YAML: {}", e.what())});
      docs.push_back(std::move(bad));
    } catch (...) {
      YamlDoc bad;
      bad.doc = first_doc;
      bad.problems.push_back(Problem{std::string(file), first_doc, "", "", "", "cannot read YAML"});
      docs.push_back(std::move(bad));
    }
  }
  return docs;
}

std::string JsonToYaml(const json& v) {
  std::string out;
  try {
    if (v.is_object() && !v.empty()) {
      EmitMap(v, 0, out);
    } else if (v.is_array() && !v.empty()) {
      EmitList(v, 0, out);
    } else {
      out = YamlScalar(v) + "\n";
    }
  } catch (...) {
    out = "{}\n";
  }
  return out;
}

}  // namespace redisfleet::api::internal
