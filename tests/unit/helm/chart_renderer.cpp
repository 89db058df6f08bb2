#include "unit/helm/chart_renderer.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace redisfleet::helmtest {
namespace {

namespace fs = std::filesystem;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- lexing --------------------------------------------------------------------------------

struct Token {
  bool action = false;
  std::string text;  // raw text, or the action's content without delimiters and trim markers
  int line = 1;
};

StatusOr<std::vector<Token>> Lex(const std::string& file, const std::string& src) {
  std::vector<Token> out;
  size_t pos = 0;
  int line = 1;
  bool trim_next = false;
  auto count_lines = [&](size_t from, size_t to) {
    line += static_cast<int>(std::count(src.begin() + static_cast<long>(from),
                                        src.begin() + static_cast<long>(to), '\n'));
  };
  while (pos <= src.size()) {
    size_t open = src.find("{{", pos);
    std::string text = src.substr(pos, open == std::string::npos ? std::string::npos : open - pos);
    if (trim_next) {
      size_t b = 0;
      while (b < text.size() && IsSpace(text[b])) ++b;
      text = text.substr(b);
      trim_next = false;
    }
    const int text_line = line;
    if (open == std::string::npos) {
      if (!text.empty()) out.push_back({false, text, text_line});
      break;
    }
    count_lines(pos, open);
    size_t content_begin = open + 2;
    bool trim_left = false;
    if (src.compare(open, 4, "{{- ") == 0 || src.compare(open, 4, "{{-\n") == 0) {
      trim_left = true;
      content_begin = open + 3;
    }
    if (trim_left) {
      while (!text.empty() && IsSpace(text.back())) text.pop_back();
    }
    if (!text.empty()) out.push_back({false, text, text_line});
    if (src.compare(content_begin, 2, "/*") == 0 ||
        src.compare(content_begin, 3, " /*") == 0) {
      return InvalidArgumentError(file + ":" + std::to_string(line) +
                                  ": template comments are outside the supported subset");
    }
    size_t close = src.find("}}", content_begin);
    if (close == std::string::npos) {
      return InvalidArgumentError(file + ":" + std::to_string(line) + ": unterminated {{");
    }
    size_t content_end = close;
    if (close >= 2 && src[close - 1] == '-' && IsSpace(src[close - 2]) && close - 1 >= content_begin) {
      trim_next = true;
      content_end = close - 1;
    }
    out.push_back({true, Trim(src.substr(content_begin, content_end - content_begin)), line});
    count_lines(open, close + 2);
    pos = close + 2;
  }
  return out;
}

// ---- parsing -------------------------------------------------------------------------------

struct Node {
  enum Kind { kText, kOutput, kIf } kind = kText;
  std::string text;  // text, pipeline, or condition
  int line = 1;
  std::vector<Node> then;
  std::vector<Node> otherwise;
};

using Defines = std::map<std::string, std::vector<Node>>;

struct Word {
  std::string text;
  bool quoted = false;
};

StatusOr<std::vector<Word>> SplitWords(const std::string& cmd) {
  std::vector<Word> words;
  size_t i = 0;
  while (i < cmd.size()) {
    if (IsSpace(cmd[i])) {
      ++i;
      continue;
    }
    if (cmd[i] == '"') {
      std::string w;
      ++i;
      bool closed = false;
      while (i < cmd.size()) {
        if (cmd[i] == '\\' && i + 1 < cmd.size()) {
          w += cmd[i + 1];
          i += 2;
        } else if (cmd[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          w += cmd[i++];
        }
      }
      if (!closed) return InvalidArgumentError("unterminated string in `" + cmd + "`");
      words.push_back({w, true});
      continue;
    }
    if (cmd[i] == '`' || cmd[i] == '(' || cmd[i] == ')' || cmd[i] == '$') {
      return InvalidArgumentError(std::string("`") + cmd[i] + "` is outside the supported subset in `" +
                                  cmd + "`");
    }
    size_t b = i;
    while (i < cmd.size() && !IsSpace(cmd[i]) && cmd[i] != '"') ++i;
    words.push_back({cmd.substr(b, i - b), false});
  }
  return words;
}

std::string FirstWord(const std::string& action) {
  size_t e = 0;
  while (e < action.size() && !IsSpace(action[e])) ++e;
  return action.substr(0, e);
}

// Parses tokens[i..] until one of `stops` ("else", "end") or the end of input.
StatusOr<std::vector<Node>> ParseBlock(const std::string& file, const std::vector<Token>& toks,
                                       size_t& i, bool in_block, std::string* stopped_by,
                                       Defines* defines) {
  std::vector<Node> nodes;
  while (i < toks.size()) {
    const Token& t = toks[i];
    const std::string where = file + ":" + std::to_string(t.line) + ": ";
    if (!t.action) {
      nodes.push_back({Node::kText, t.text, t.line, {}, {}});
      ++i;
      continue;
    }
    const std::string kw = FirstWord(t.text);
    if (kw == "end" || kw == "else") {
      if (t.text != kw) {
        return InvalidArgumentError(where + "`{{ " + t.text + " }}` is outside the supported subset");
      }
      if (!in_block) return InvalidArgumentError(where + "`{{ " + kw + " }}` without an open block");
      *stopped_by = kw;
      ++i;
      return nodes;
    }
    if (kw == "if") {
      Node n{Node::kIf, Trim(t.text.substr(2)), t.line, {}, {}};
      if (n.text.empty()) return InvalidArgumentError(where + "`if` without a condition");
      ++i;
      std::string stop;
      RF_ASSIGN_OR_RETURN(n.then, ParseBlock(file, toks, i, true, &stop, defines));
      if (stop.empty()) return InvalidArgumentError(where + "`if` without `{{ end }}`");
      if (stop == "else") {
        stop.clear();
        RF_ASSIGN_OR_RETURN(n.otherwise, ParseBlock(file, toks, i, true, &stop, defines));
        if (stop != "end") return InvalidArgumentError(where + "`else` without `{{ end }}`");
      }
      nodes.push_back(std::move(n));
      continue;
    }
    if (kw == "define") {
      RF_ASSIGN_OR_RETURN(std::vector<Word> words, SplitWords(t.text));
      if (words.size() != 2 || !words[1].quoted) {
        return InvalidArgumentError(where + "`define` needs exactly one quoted name");
      }
      ++i;
      std::string stop;
      RF_ASSIGN_OR_RETURN(std::vector<Node> body, ParseBlock(file, toks, i, true, &stop, defines));
      if (stop != "end") return InvalidArgumentError(where + "`define` without `{{ end }}`");
      if (defines->count(words[1].text)) {
        return InvalidArgumentError(where + "template \"" + words[1].text + "\" defined twice");
      }
      (*defines)[words[1].text] = std::move(body);
      continue;
    }
    if (kw == "range" || kw == "with" || kw == "template" || kw == "block" || kw == "break" ||
        kw == "continue") {
      return InvalidArgumentError(where + "`" + kw + "` is outside the supported subset");
    }
    nodes.push_back({Node::kOutput, t.text, t.line, {}, {}});
    ++i;
  }
  if (in_block) *stopped_by = "";
  return nodes;
}

// ---- evaluation ----------------------------------------------------------------------------

struct Value {
  bool is_node = false;
  std::string str;
  YAML::Node node;
};

bool PlainFalsy(const std::string& s) {
  static const char* kFalse[] = {"", "~", "null", "Null", "NULL", "false", "False", "FALSE"};
  for (const char* f : kFalse) {
    if (s == f) return true;
  }
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == '\0' && d == 0;
}

bool Truthy(const Value& v) {
  if (!v.is_node) return !v.str.empty();
  const YAML::Node& n = v.node;
  if (!n.IsDefined() || n.IsNull()) return false;
  if (n.IsScalar()) return n.Tag() == "!" ? !n.Scalar().empty() : !PlainFalsy(n.Scalar());
  return n.size() > 0;
}

void EmitNode(YAML::Emitter& out, const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out << YAML::Null;
      break;
    case YAML::NodeType::Scalar:
      if (n.Tag() == "!") {
        out << YAML::DoubleQuoted << n.Scalar();
      } else {
        out << n.Scalar();
      }
      break;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& item : n) EmitNode(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& kv : n) {
        out << YAML::Key << kv.first.Scalar() << YAML::Value;
        EmitNode(out, kv.second);
      }
      out << YAML::EndMap;
      break;
  }
}

std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

std::string Indent(const std::string& s, int n) {
  const std::string pad(static_cast<size_t>(n), ' ');
  std::string out = pad;
  for (char c : s) {
    out += c;
    if (c == '\n') out += pad;
  }
  return out;
}

StatusOr<int> ParseCount(const Word& w) {
  if (w.quoted || w.text.empty() ||
      !std::all_of(w.text.begin(), w.text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidArgumentError("expected a number, got `" + w.text + "`");
  }
  return std::atoi(w.text.c_str());
}

struct Context {
  std::string chart_dir;
  const YAML::Node* chart;
  const YAML::Node* values;
  Release release;
  const Defines* defines;
  int depth = 0;
};

Status Evaluate(const std::vector<Node>& nodes, Context& ctx, std::string& out);

StatusOr<Value> Lookup(const std::string& path, const Context& ctx) {
  if (path.rfind(".Values", 0) == 0 && (path.size() == 7 || path[7] == '.')) {
    YAML::Node cur = YAML::Clone(*ctx.values);
    std::string rest = path.size() > 7 ? path.substr(8) : "";
    std::stringstream ss(rest);
    std::string key;
    while (!rest.empty() && std::getline(ss, key, '.')) {
      if (key.empty() || !cur.IsMap() || !cur[key].IsDefined()) {
        return NotFoundError("no value for " + path + " (add it to values.yaml)");
      }
      cur.reset(cur[key]);
    }
    return Value{true, "", cur};
  }
  static const std::map<std::string, std::string> kChart = {
      {".Chart.Name", "name"}, {".Chart.Version", "version"}, {".Chart.AppVersion", "appVersion"}};
  if (auto it = kChart.find(path); it != kChart.end()) {
    const YAML::Node v = (*ctx.chart)[it->second];
    if (!v.IsDefined() || !v.IsScalar()) return NotFoundError("Chart.yaml has no " + it->second);
    return Value{false, v.Scalar(), {}};
  }
  if (path == ".Release.Name") return Value{false, ctx.release.name, {}};
  if (path == ".Release.Namespace") return Value{false, ctx.release.namespace_, {}};
  if (path == ".Release.Service") return Value{false, "Helm", {}};
  return InvalidArgumentError("`" + path + "` is outside the supported subset");
}

StatusOr<std::string> ToText(const Value& v, const std::string& what) {
  if (!v.is_node) return v.str;
  if (!v.node.IsDefined() || v.node.IsNull()) {
    return InvalidArgumentError(what + " is empty (would print <no value>)");
  }
  if (!v.node.IsScalar()) return InvalidArgumentError(what + " is a map or list: use toYaml");
  return v.node.Scalar();
}

StatusOr<std::string> EvalPipeline(const std::string& pipeline, Context& ctx) {
  // Split on '|' outside quoted strings.
  std::vector<std::string> cmds;
  std::string cur;
  bool in_str = false;
  for (size_t i = 0; i < pipeline.size(); ++i) {
    const char c = pipeline[i];
    if (in_str && c == '\\' && i + 1 < pipeline.size()) {
      cur += c;
      cur += pipeline[++i];
      continue;
    }
    if (c == '"') in_str = !in_str;
    if (c == '|' && !in_str) {
      cmds.push_back(Trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  cmds.push_back(Trim(cur));

  RF_ASSIGN_OR_RETURN(std::vector<Word> first, SplitWords(cmds[0]));
  if (first.empty()) return InvalidArgumentError("empty action");
  Value v;
  if (first.size() == 1 && !first[0].quoted && first[0].text.size() > 1 && first[0].text[0] == '.') {
    RF_ASSIGN_OR_RETURN(v, Lookup(first[0].text, ctx));
  } else if (first[0].text == "include" && !first[0].quoted) {
    if (first.size() != 3 || !first[1].quoted || first[2].text != "." || first[2].quoted) {
      return InvalidArgumentError("only `include \"name\" .` is supported, got `" + cmds[0] + "`");
    }
    auto it = ctx.defines->find(first[1].text);
    if (it == ctx.defines->end()) {
      return NotFoundError("include of undefined template \"" + first[1].text + "\"");
    }
    if (ctx.depth > 20) return InvalidArgumentError("include nested too deep");
    ++ctx.depth;
    std::string body;
    Status s = Evaluate(it->second, ctx, body);
    --ctx.depth;
    RF_RETURN_IF_ERROR(s.WithContext("in \"" + first[1].text + "\""));
    v = Value{false, body, {}};
  } else if (first[0].text == "toYaml" && !first[0].quoted) {
    if (first.size() != 2 || first[1].quoted || first[1].text.rfind(".Values", 0) != 0) {
      return InvalidArgumentError("only `toYaml .Values.x` is supported, got `" + cmds[0] + "`");
    }
    RF_ASSIGN_OR_RETURN(Value in, Lookup(first[1].text, ctx));
    YAML::Emitter e;
    EmitNode(e, in.node);
    v = Value{false, e.c_str(), {}};
  } else if (first[0].text == ".Files.Get" && !first[0].quoted) {
    if (first.size() != 2 || !first[1].quoted || first[1].text.find("..") != std::string::npos) {
      return InvalidArgumentError("only `.Files.Get \"path/in/chart\"` is supported");
    }
    RF_ASSIGN_OR_RETURN(std::string content, ReadFile(ctx.chart_dir + "/" + first[1].text));
    v = Value{false, content, {}};
  } else {
    return InvalidArgumentError("`" + cmds[0] + "` is outside the supported subset");
  }

  for (size_t c = 1; c < cmds.size(); ++c) {
    RF_ASSIGN_OR_RETURN(std::vector<Word> w, SplitWords(cmds[c]));
    if (w.empty() || w[0].quoted) return InvalidArgumentError("empty pipeline stage in `" + pipeline + "`");
    const std::string& fn = w[0].text;
    if (fn == "toYaml" && w.size() == 1) {
      if (!v.is_node) return InvalidArgumentError("toYaml of a non-value in `" + pipeline + "`");
      YAML::Emitter e;
      EmitNode(e, v.node);
      v = Value{false, e.c_str(), {}};
      continue;
    }
    RF_ASSIGN_OR_RETURN(std::string text, ToText(v, "`" + cmds[0] + "`"));
    if (fn == "quote" && w.size() == 1) {
      v = Value{false, GoQuote(text), {}};
    } else if ((fn == "indent" || fn == "nindent") && w.size() == 2) {
      RF_ASSIGN_OR_RETURN(int n, ParseCount(w[1]));
      v = Value{false, (fn == "nindent" ? "\n" : "") + Indent(text, n), {}};
    } else {
      return InvalidArgumentError("`" + cmds[c] + "` is outside the supported subset");
    }
  }
  return ToText(v, "`" + cmds[0] + "`");
}

Status Evaluate(const std::vector<Node>& nodes, Context& ctx, std::string& out) {
  for (const Node& n : nodes) {
    switch (n.kind) {
      case Node::kText:
        out += n.text;
        break;
      case Node::kOutput: {
        auto r = EvalPipeline(n.text, ctx);
        if (!r.ok()) return r.error().WithContext("line " + std::to_string(n.line));
        out += *r;
        break;
      }
      case Node::kIf: {
        RF_ASSIGN_OR_RETURN(std::vector<Word> w, SplitWords(n.text));
        if (w.size() != 1 || w[0].quoted || w[0].text.empty() || w[0].text[0] != '.') {
          return InvalidArgumentError("line " + std::to_string(n.line) + ": only `if .Values.x` is supported, got `if " +
                                      n.text + "`");
        }
        auto v = Lookup(w[0].text, ctx);
        if (!v.ok()) return v.error().WithContext("line " + std::to_string(n.line));
        RF_RETURN_IF_ERROR(Evaluate(Truthy(*v) ? n.then : n.otherwise, ctx, out));
        break;
      }
    }
  }
  return Status::Ok();
}

bool IsManifestTemplate(const std::string& name) {
  return name.rfind("_", 0) != 0 && name != "NOTES.txt" &&
         (name.size() > 5 && (name.substr(name.size() - 5) == ".yaml" ||
                              (name.size() > 4 && name.substr(name.size() - 4) == ".yml")));
}

}  // namespace

StatusOr<ChartRenderer> ChartRenderer::Load(const std::string& chart_dir) {
  ChartRenderer r;
  r.dir_ = chart_dir;
  RF_ASSIGN_OR_RETURN(std::string chart_text, ReadFile(chart_dir + "/Chart.yaml"));
  RF_ASSIGN_OR_RETURN(std::string values_text, ReadFile(chart_dir + "/values.yaml"));
  try {
    r.chart_ = YAML::Load(chart_text);
    r.values_ = YAML::Load(values_text);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("Chart.yaml or values.yaml: ") + e.what());
  }
  if (!r.values_.IsMap()) return InvalidArgumentError("values.yaml is not a map");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(chart_dir + "/templates", ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    RF_ASSIGN_OR_RETURN(r.templates_[name], ReadFile(entry.path().string()));
  }
  if (ec) return NotFoundError("cannot list " + chart_dir + "/templates: " + ec.message());
  return r;
}

Status ChartRenderer::Set(const std::string& dotted_path, const std::string& yaml_value) {
  YAML::Node parsed;
  try {
    parsed = YAML::Load(yaml_value);
  } catch (const std::exception& e) {
    return InvalidArgumentError("bad value for " + dotted_path + ": " + e.what());
  }
  std::vector<std::string> keys;
  std::stringstream ss(dotted_path);
  for (std::string k; std::getline(ss, k, '.');) keys.push_back(k);
  if (keys.empty()) return InvalidArgumentError("empty path");
  YAML::Node cur = values_;
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    if (!cur[keys[i]].IsMap()) return NotFoundError("values.yaml has no map " + keys[i]);
    cur.reset(cur[keys[i]]);
  }
  if (!cur[keys.back()].IsDefined()) return NotFoundError("values.yaml has no " + dotted_path);
  cur[keys.back()] = parsed;
  return Status::Ok();
}

std::vector<std::string> ChartRenderer::TemplateNames() const {
  std::vector<std::string> names;
  for (const auto& [name, text] : templates_) names.push_back(name);
  return names;
}

StatusOr<std::string> ChartRenderer::RenderText(const std::string& source_name,
                                                const std::string& text,
                                                const Release& release) const {
  // Named templates are global in Helm: collect the defines of every file first.
  Defines defines;
  std::map<std::string, std::vector<Node>> parsed;
  std::map<std::string, std::string> sources = templates_;
  sources[source_name] = text;
  for (const auto& [name, src] : sources) {
    auto toks = Lex(name, src);
    if (!toks.ok()) return toks.error();
    size_t i = 0;
    std::string stop;
    auto nodes = ParseBlock(name, *toks, i, false, &stop, &defines);
    if (!nodes.ok()) return nodes.error();
    parsed[name] = std::move(*nodes);
  }
  Context ctx{dir_, &chart_, &values_, release, &defines, 0};
  std::string out;
  Status s = Evaluate(parsed[source_name], ctx, out);
  if (!s.ok()) return s.WithContext(source_name);
  return out;
}

StatusOr<std::string> ChartRenderer::RenderFile(const std::string& name,
                                                const Release& release) const {
  auto it = templates_.find(name);
  if (it == templates_.end()) return NotFoundError("no template " + name);
  return RenderText(name, it->second, release);
}

StatusOr<std::string> ChartRenderer::RenderAll(const Release& release) const {
  std::string out;
  for (const auto& [name, text] : templates_) {
    if (!IsManifestTemplate(name)) continue;
    RF_ASSIGN_OR_RETURN(std::string rendered, RenderText(name, text, release));
    out += "---\n# Source: redis-fleet/templates/" + name + "\n" + rendered + "\n";
  }
  return out;
}

StatusOr<std::vector<YAML::Node>> ParseDocuments(const std::string& rendered) {
  std::vector<std::string> docs(1);
  std::istringstream in(rendered);
  for (std::string line; std::getline(in, line);) {
    if (line == "---" || line.rfind("--- ", 0) == 0) {
      docs.emplace_back();
      continue;
    }
    docs.back() += line + "\n";
  }
  std::vector<YAML::Node> out;
  for (const std::string& doc : docs) {
    YAML::Node n;
    try {
      n = YAML::Load(doc);
    } catch (const std::exception& e) {
      return InvalidArgumentError(std::string("rendered document is not YAML: ") + e.what() +
                                  "\n" + doc);
    }
    if (!n.IsDefined() || n.IsNull()) continue;
    out.push_back(n);
  }
  return out;
}

}  // namespace redisfleet::helmtest
