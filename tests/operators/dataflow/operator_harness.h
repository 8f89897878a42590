// tests/operators/dataflow/operator_harness.h
//
// The metric and alert operators of a rule set wired as the job wires them,
// fed with hand-written events, for tests that check exact window values
// and alert transitions. Each test formats what it needs from the raw
// results and notices.
#ifndef VIGIL_TESTS_OPERATORS_DATAFLOW_OPERATOR_HARNESS_H_
#define VIGIL_TESTS_OPERATORS_DATAFLOW_OPERATOR_HARNESS_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "base/strings.h"
#include "operators/dataflow/alert_operator.h"
#include "operators/dataflow/dataflow.h"
#include "operators/dataflow/session_operator.h"
#include "operators/parse/event_parser.h"

namespace vigil {

// A new operator of the same stream restored from `op`'s encoded state
// (`bytes`, if given, receives it); null if refused.
inline std::unique_ptr<SessionOperator> RestoredSessions(const SessionOperator& op,
                                                         std::string* bytes = nullptr) {
  Encoder enc;
  op.EncodeState(&enc);
  const std::string encoded = enc.Release();
  auto restored = std::make_unique<SessionOperator>(op.def());
  Decoder dec(encoded);
  if (!restored->DecodeState(&dec)) return nullptr;
  if (bytes != nullptr) *bytes = encoded;
  return restored;
}

// A stream's record as text: "@TIME field=value …", the fields in slot
// order, a missing value as "-".
inline std::string Render(const StreamDef& def, const Event& r) {
  std::string out = StrCat("@", r.ts);
  for (int i = 0; i < def.fields.size(); ++i) {
    StrAppend(&out, " ", def.fields.path(i), "=");
    if (r.slots[i].is_missing()) out += "-";
    AppendValueText(r.slots[i], &out);
  }
  return out;
}

struct OperatorHarness {
  explicit OperatorHarness(const std::string& yaml) {
    RuleLoadResult r = LoadRuleSources({{"test.yaml", yaml}});
    for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
    rules = std::move(r.rules);
    if (!rules) return;
    parser = std::make_unique<EventParser>(rules->fields, 1 << 16);
    flow = std::make_unique<Dataflow>(*rules);
    alerts = std::make_unique<AlertOperator>(*rules);
  }

  // One event of type "message" at `ts` ms; `fields` are extra JSON members
  // ("\"x\":1,\"y\":\"a\""), possibly none.
  void Add(TimeMs ts, const std::string& fields = "") { AddTyped(ts, "message", fields); }
  // One event of `type` at `ts` ms.
  void AddTyped(TimeMs ts, const std::string& type, const std::string& fields = "") {
    AddJson(
        StrCat("{\"ts\":", ts, ",\"type\":\"", type, "\"", fields.empty() ? "" : ",", fields, "}"));
  }
  void AddJson(const std::string& json) { flow->Add(Parse(json)); }
  // One event from its JSON, as the job's parser reads it.
  Event Parse(const std::string& json) {
    const std::string buf = json + std::string(simdjson::SIMDJSON_PADDING, ' ');
    Event ev;
    ParseError err;
    EXPECT_TRUE(parser->Parse(std::string_view(buf).substr(0, json.size()), &ev, &err))
        << err.detail;
    return ev;
  }

  // Closes every window up to `frontier`; results in Dataflow::Close's
  // order (end, metric, group), then the alert transitions they cause.
  void Close(TimeMs frontier, std::vector<WindowResult>* results,
             std::vector<AlertNotice>* notices) {
    flow->Close(frontier, results);
    alerts->Advance(frontier, *results, notices);
  }

  // Closes every window up to `frontier`; the results, in Close's order,
  // as "metric[start,end)group=value".
  std::vector<std::string> CloseToLines(TimeMs frontier) {
    std::vector<WindowResult> results;
    std::vector<AlertNotice> notices;
    Close(frontier, &results, &notices);
    std::vector<std::string> out;
    for (const WindowResult& r : results) {
      out.push_back(StrCat(r.def->name, "[", r.start, ",", r.end, ")", r.group, "=", r.value));
    }
    return out;
  }

  std::unique_ptr<RuleSet> rules;
  std::unique_ptr<EventParser> parser;
  std::unique_ptr<Dataflow> flow;
  std::unique_ptr<AlertOperator> alerts;
};

}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_DATAFLOW_OPERATOR_HARNESS_H_
