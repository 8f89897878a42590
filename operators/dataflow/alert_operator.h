// operators/dataflow/alert_operator.h
//
// AlertOperator evaluates every alert at each window end of the first
// metric its expression names (its evaluation interval), in event-time
// order, and steps each (alert, group) state machine (rules/alert_state.h).
// It holds the latest closed value of each metric per group, until that
// metric's next window end: the other metrics an alert names give it their
// latest windows; a metric the group has no window of reads as no value
// (null). Each end is evaluated once, in order. A group with no window of
// any metric the alert names has no data there: a firing alert resolves
// — also when traffic stops, as long as the frontier keeps moving (live
// inputs follow the processing clock when idle).
//
// `$value` of an alert is the value of its first input — the first metric
// or numeric history function its expression names — for the group.
//
// History functions (rules/history.h) read a MetricHistory per (metric,
// group), kept only for metrics some alert calls them on and pruned at each
// window end to the longest span those calls ask for (computed here when the
// rules load), so memory is bounded per group. While a metric holds history
// its window ends are evaluated even without data, as for held values. For
// absent() a group must be evaluated after it stops reporting, so metrics
// with absent() alerts keep every group they have seen (an empty history
// marks a known group); they are forgotten only when the rules reload.
//
// Inhibition (`inhibited_by:`): once every alert has been evaluated at a
// window end — so the order of the rules does not matter — an alert that
// starts firing while an inhibiting alert fires (for a group with the same
// `equal` labels) keeps its state but its notice has notify = false and
// names the inhibitor; its resolution is not notified either. If the
// inhibitor stops firing first, the alert is notified then: a firing notice
// with released = true at that window end.
//
// Silences (rules/silence.h) hold notifications back the same way, while
// the window end is inside them; an alert still firing when its silence
// ends is released then.
//
// Example:
//   AlertOperator alerts(rules);
//   std::vector<AlertNotice> notices;
//   alerts.Advance(frontier, sorted_results, &notices);
#ifndef VIGIL_OPERATORS_DATAFLOW_ALERT_OPERATOR_H_
#define VIGIL_OPERATORS_DATAFLOW_ALERT_OPERATOR_H_

#include <algorithm>
#include <list>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/strings.h"
#include "operators/dataflow/sink.h"
#include "rules/alert_state.h"
#include "rules/rule_set.h"

namespace vigil {

class AlertOperator {
 public:
  // `silences` (may be null; outlives the operator) mute notifications as
  // inhibitions do.
  explicit AlertOperator(const RuleSet& rules, const SilenceBook* silences = nullptr);

  // `results`: every window closed up to `frontier`, sorted by (end, metric,
  // group). Evaluates alerts at each window end up to `frontier`, including
  // ends where a metric that had data produced none. With an infinite
  // frontier (end of input) evaluation stops at the last result or the last
  // end `input` covers, whichever is later. A metric
  // whose window at an end `input` does not cover (a partial window) is not
  // evaluated there: it neither starts, fires nor resolves an alert, and
  // its value is neither held nor kept in history.
  void Advance(TimeMs frontier, const std::vector<WindowResult>& results,
               std::vector<AlertNotice>* out, const InputEnd& input = {});

  // After a rule reload that started metric m's windows over (its state
  // was not kept) while events up to `seen` had been read: its windows
  // that start at or before `seen` hold only the events since, so they are
  // partial (Covers). Kept across later reloads that keep the metric, and
  // in checkpoints.
  void RestartedAt(int m, TimeMs seen) {
    partial_through_[m] = std::max(partial_through_[m], seen);
  }
  // Whether metric m's window starting at `start` holds all its events,
  // as far as reloads go (InputEnd says it for the end of the input).
  bool Covers(int m, TimeMs start) const { return start > partial_through_[m]; }

  // Current non-inactive states, for /metrics and the admin API.
  struct Active {
    const AlertDef* def;
    std::string group;
    AlertState state;
  };
  std::vector<Active> ActiveAlerts() const;
  // On a rule reload: takes over the latest values and history of metrics
  // whose definition did not change, and the states of alerts whose
  // definition did not change. Alerts that were firing and are gone or
  // changed get a resolved notice in `dropped`, so no page dangles; those
  // that were pending an inactive one (never notified).
  void AdoptState(AlertOperator& old, std::vector<AlertNotice>* dropped);
  // After AdoptState or DecodeState: the experiments named started over
  // (Dataflow::ExperimentsStartedOver), so their outputs from now on are
  // partial and decide nothing. An alert's state on one of their groups
  // ends as that of a changed alert: a firing one is resolved at its last
  // evaluation, a pending one goes inactive (TakeRestoredResolutions); the
  // latest values and history of those groups go too. The groups of other
  // experiments keep theirs.
  //
  //   alerts.StartOverExperiments(flow.ExperimentsStartedOver());
  //   Deliver(alerts.TakeRestoredResolutions());
  void StartOverExperiments(const std::vector<std::string>& names);
  // After AdoptState or DecodeState: a firing alert held back by an
  // inhibition or silence the new rules no longer have goes out now,
  // released at its last evaluation, rather than at the next window end.
  // One whose inhibitor the new rules define anew (changed) stays held
  // until that one's first evaluation, as under the new rules from the
  // start.
  std::vector<AlertNotice> ReleaseUnheld();
  // An active alert as a notice of its current state (pending or firing),
  // with labels and rendered annotations, for the admin API.
  AlertNotice Describe(const Active& a) const;
  // Checkpoints: latest values, history and alert states, keyed by metric
  // fingerprint and alert definition so that a checkpoint taken under other
  // rules restores what still matches. Decode returns false on malformed
  // input, leaving the operator as it was.
  //
  // A checkpoint also holds, for each firing alert, what its resolution
  // would say (name, severity, labels, rendered annotations). A restart
  // under rules where that alert is gone or changed sends the resolution,
  // as a reload does (TakeRestoredResolutions), so no page dangles.
  std::string EncodeState() const;
  bool DecodeState(std::string_view data);
  // The resolutions of the firing alerts the last DecodeState found no
  // definition for; each once. Their `def` is a stand-in (name, severity,
  // expression) that lives as long as this operator.
  std::vector<AlertNotice> TakeRestoredResolutions() { return std::move(restored_resolutions_); }
  int FiringCount(Severity s) const;

 private:
  struct Latest {
    double value;
    TimeMs start;
  };
  using LatestMap = absl::flat_hash_map<std::string, Latest, StringHash, StringEq>;
  void ProcessEnd(TimeMs end, const WindowResult* begin, const WindowResult* stop,
                  const InputEnd& input, std::vector<AlertNotice>* out);
  // Whether metric m's next window end matters even without data: it holds
  // values or one of its alerts is not inactive.
  bool NeedsClose(int m) const;
  void Evaluate(int alert, TimeMs end, std::vector<AlertNotice>* out);
  // Groups to evaluate `def` for at this end.
  std::set<std::string> GroupsOf(int alert) const;
  // Fills slots_ for group g; returns whether any input has a value.
  bool FillSlots(const AlertDef& def, const std::string& g, TimeMs end);
  // $value from the filled slots of `expr`: the first number among the
  // metrics and numeric history functions; with none, the latest window
  // kept of the first metric a condition (declining, absent) reads that the
  // group has one of; else 0.
  double AlertValue(const AlertDef& def, const std::string& g) const;
  // Drops what no alert reads any more after metric m closed at `end`.
  void PruneHistory(int m, TimeMs end);
  AlertNotice MakeNotice(const AlertDef& def, const std::string& group, const AlertState& s,
                         Transition t, TimeMs at) const;
  // Firing alerts not sent that nothing holds back now get a released
  // firing notice, stamped `end` (kMinTime: each one's last evaluation);
  // those in `skip` (alert, group) are left alone.
  void Release(TimeMs end, const std::set<std::pair<int, std::string>>& skip,
               std::vector<AlertNotice>* out);
  // What identifies an alert's state across reloads and restores: its
  // AlertDef::fingerprint (name, severity, conditions by meaning, durations,
  // labels) and the fingerprints of what it reads, after kAlertKeyMark.
  static std::string AlertKey(const RuleSet& rules, const AlertDef& a);
  static constexpr std::string_view kAlertKeyMark = "3|";
  // The key of the version before (kPreviousKeyMark): durations as
  // written, and labels whose value is "" counted.
  static std::string PreviousAlertKey(const RuleSet& rules, const AlertDef& a);
  static constexpr std::string_view kPreviousKeyMark = "2|";
  // The key checkpoints of earlier versions hold: the conditions as
  // written, no labels.
  static std::string LegacyAlertKey(const RuleSet& rules, const AlertDef& a);
  // Whether a key read from a checkpoint, of any form, is `a`'s.
  static bool KeyIs(const RuleSet& rules, const AlertDef& a, std::string_view saved);
  // alertname, severity, the group's labels and the rule's.
  Labels AlertLabels(const AlertDef& def, const std::string& group) const;
  // (inhibiting alert, silence) holding back notifications of an alert
  // with these labels at event time `at`; empty strings when none.
  std::pair<std::string, std::string> SuppressedBy(const AlertDef& def, const Labels& labels,
                                                   TimeMs at) const;
  // After every alert was evaluated at `end`: marks the firing notices
  // from `first_notice` on that an inhibition or silence holds back, and
  // releases held-back firing alerts nothing holds any more.
  void Suppress(TimeMs end, size_t first_notice, std::vector<AlertNotice>* out);
  void EncodeResolutions(Encoder* enc) const;
  // The notices that end `s` (firing: resolved, pending: inactive) when
  // no evaluation does, at its last one; none for an inactive state.
  void EndState(const AlertDef& def, const std::string& group, const AlertState& s,
                std::vector<AlertNotice>* out) const;
  bool DecodeResolutions(Decoder* dec,
                         const std::map<std::string, std::map<std::string, AlertState>>& gone);

  const RuleSet& rules_;
  using HistoryMap = absl::flat_hash_map<std::string, MetricHistory, StringHash, StringEq>;
  std::vector<LatestMap> latest_;        // per metric
  std::vector<TimeMs> last_end_;         // per metric: last window end processed
  std::vector<TimeMs> partial_through_;  // per metric: see RestartedAt
  std::vector<HistoryMap> history_;      // per metric; empty unless an alert reads it
  std::vector<DurationMs> retention_;    // per metric; -1: no history kept
  std::vector<bool> keeps_groups_;       // per metric: some alert calls absent() on it
  std::vector<std::vector<int>> alerts_of_metric_;
  // Per alert, by group; only groups that are not inactive are kept.
  std::vector<std::map<std::string, AlertState>> states_;
  // Per alert: its state came from the rules before (AdoptState,
  // DecodeState), rather than starting afresh with them.
  std::vector<bool> carried_;
  std::vector<Value> slots_;
  const SilenceBook* silences_;
  bool suppressible_ = false;  // some alert has inhibited_by, or silences may exist
  std::vector<AlertNotice> restored_resolutions_;
  std::list<AlertDef> retired_;  // the stand-in definitions of those notices
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_ALERT_OPERATOR_H_
