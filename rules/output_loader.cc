// Loading `outputs:` entries: records of a stream or join, or events, that
// are written out one by one.
#include <algorithm>
#include <cctype>

#include "rules/file_loader.h"

namespace vigil {

namespace {

const std::vector<std::string> kOutputKeys = {"output", "help", "from", "where", "fields"};

bool ValidOutputName(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  // A leading '-' reads as a flag to the tools that list the directory.
  if (!std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

// The output's name: valid and not taken. False after an error.
bool LoadOutputName(FileLoader& f, const YAML::Node& n, const RuleSet& rules, OutputDef* o) {
  std::optional<std::string> name = f.Scalar(n, "output", true, "an output");
  if (!name) return false;
  o->name = *name;
  o->pos = f.PosOf(n["output"]);
  if (!ValidOutputName(o->name)) {
    f.Error(
        n["output"],
        StrCat(
            "output name '", o->name,
            "' must be letters, digits, '_' and '-', starting with a letter or digit (it names a "
            "directory or topic)"));
    return false;
  }
  for (const OutputDef& other : rules.outputs) {
    if (other.name == o->name) {
      f.Error(n["output"], StrCat("output '", o->name, "' is already defined at ", other.pos.file,
                                  ":", other.pos.line, ":", other.pos.col));
      return false;
    }
  }
  return true;
}

// One entry of 'fields': its slot in `fields` (of the stream `stream`, or
// of events when `o` has no 'from'). False after an error.
bool LoadOutputField(FileLoader& f, const YAML::Node& item, FieldTable* fields,
                     const std::string& stream, OutputDef* o) {
  const std::string field = item.IsScalar() ? item.Scalar() : "";
  ExprParse p = ParseExpr(field);
  if (field == "ts" || !p.ok() || p.node->op != ExprOp::kName) {
    f.Error(item, StrCat("'", field, "' is not a field name",
                         field == "ts" ? " (every record carries its ts)" : ""));
    return false;
  }
  if (std::find(o->fields.begin(), o->fields.end(), field) != o->fields.end()) {
    f.Error(item,
            StrCat("field '", field, "' is already in 'fields'; a record holds each field once"));
    return false;
  }
  if (o->from >= 0) {
    ExprError err;
    StreamScope scope(fields, stream);
    std::optional<Resolved> r = scope.ResolveName(*p.node, &err);
    if (!r) {
      f.Error(item, err.message);
      return false;
    }
    o->slots.push_back(r->slot);
  } else if (std::optional<std::string> undeclared = fields->Undeclared(field)) {
    f.Error(item, *undeclared);
    return false;
  } else {
    o->slots.push_back(fields->Intern(field));
  }
  o->fields.push_back(field);
  return true;
}

// The fields a record of `o` holds: 'fields', or every field of its stream.
// False after an error.
bool LoadOutputFields(FileLoader& f, const YAML::Node& n, FieldTable* fields,
                      const std::string& stream, OutputDef* o) {
  YAML::Node list = n["fields"];
  if (!list) {
    if (o->from < 0) {
      f.Error(n,
              "an output of events needs 'fields': the event fields to write, e.g. "
              "[session_id, intent]");
      return false;
    }
    for (int i = 0; i < fields->size(); ++i) {
      o->fields.push_back(fields->path(i));
      o->slots.push_back(i);
    }
    return true;
  }
  if (!list.IsSequence() || list.size() == 0) {
    f.Error(list, "'fields' must be a list of field names, e.g. [turn_id, intent, rating]");
    return false;
  }
  bool ok = true;
  for (const auto& item : list) ok &= LoadOutputField(f, item, fields, stream, o);
  return ok;
}

}  // namespace

void LoadOutput(FileLoader& f, const YAML::Node& n, RuleSet* rules) {
  if (!n.IsMap()) {
    f.Error(n, "each entry of 'outputs' must be a mapping with 'output' and 'from' or 'fields'");
    return;
  }
  f.CheckKeys(n, kOutputKeys, "output");
  OutputDef o;
  if (!LoadOutputName(f, n, *rules, &o)) return;
  if (std::optional<std::string> help = f.Scalar(n, "help", false, "an output")) o.help = *help;
  bool ok = true;
  FieldTable* fields = &rules->fields;
  std::string stream;
  if (std::optional<std::string> from = f.Scalar(n, "from", false, "an output")) {
    std::optional<int> idx = rules->FindStream(*from);
    if (!idx && rules->failed_streams.contains(*from)) return;  // reported at the stream
    if (!idx) {
      std::vector<std::string> names;
      for (const StreamDef& s : rules->streams) names.push_back(s.name);
      std::string s = Suggest(*from, names);
      f.Error(n["from"], StrCat("unknown stream or join '", *from, "'",
                                s.empty() ? "; define it under 'streams:' or 'joins:'"
                                          : StrCat("; did you mean '", s, "'?")));
      return;
    }
    o.from = *idx;
    fields = &rules->streams[*idx].fields;
    stream = *from;
  }
  if (n["where"] && f.Scalar(n, "where", false, "an output")) {
    if (o.from >= 0) {
      StreamScope scope(fields, stream);
      ok &= CompileExpr(f, n["where"], &scope, Type::kBool, &o.where);
    } else {
      EventScope scope(fields);
      ok &= CompileExpr(f, n["where"], &scope, Type::kBool, &o.where);
    }
    o.has_where = true;
    o.where_source = n["where"].Scalar();
  }
  ok &= LoadOutputFields(f, n, fields, stream, &o);
  if (ok) rules->outputs.push_back(std::move(o));
}

}  // namespace vigil
