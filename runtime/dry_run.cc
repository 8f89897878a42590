#include "runtime/dry_run.h"

#include <unistd.h>

#include "base/host.h"
#include "base/strings.h"

namespace vigil {
namespace {

// "a, b and c".
std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ApplyDryRun(JobConfig* config) {
  if (!config->scale_out.partials.empty()) {
    return absl::InvalidArgumentError(
        "--dry-run with --partials: a scale-out instance's only output is the partials topic "
        "the merge stage reads; run the merge stage dry instead");
  }
  std::vector<std::string> off;
  NotifyConfig& notify = config->notify;
  if (!notify.receivers.empty()) {
    std::vector<std::string> names;
    for (const NotifyReceiver& r : notify.receivers) names.push_back(r.name);
    off.push_back(
        StrCat("no notification is sent (receivers ", Join(names), "); alerts print here"));
  }
  // What annotation templates read ($externalLabels, $externalURL) stays.
  NotifyConfig kept;
  kept.labels = notify.labels;
  kept.external_url = notify.external_url;
  notify = std::move(kept);
  if (!config->checkpoint.dir.empty()) {
    off.push_back(StrCat("no checkpoint is read or written (", config->checkpoint.dir, ")"));
    config->checkpoint.dir.clear();
  }
  if (config->source.kind == SourceKind::kKafka) {
    KafkaSourceOptions& kafka = config->source.kafka;
    const std::string group = StrCat(kafka.group_id, "-dry-run-", HostName(), "-", ::getpid());
    off.push_back(StrCat("reading as consumer group ", group, " without committing offsets (the ",
                         kafka.group_id, " group is left alone)"));
    kafka.group_id = group;
    kafka.commit_offsets = false;
  }
  JobConfig::Outputs& out = config->outputs;
  std::vector<std::string> outputs;
  if (!out.kafka.brokers.empty()) outputs.push_back("the Kafka outputs");
  if (!out.results_path.empty() && out.results_path != "-") outputs.push_back(out.results_path);
  if (!out.results_database.empty()) outputs.push_back("the results database");
  if (!out.dead_letter_path.empty()) outputs.push_back(out.dead_letter_path);
  if (!out.records_dir.empty()) outputs.push_back(out.records_dir);
  if (!out.records_webhook.empty()) outputs.push_back("the record webhook");
  if (!out.archive.location.empty())
    outputs.push_back(StrCat("the archive (", out.archive.location, ")"));
  if (!outputs.empty()) off.push_back(StrCat("nothing is written to ", Join(outputs)));
  out.kafka.brokers.clear();
  if (out.results_path != "-") out.results_path.clear();
  out.results_database.clear();
  out.dead_letter_path.clear();
  out.records_dir.clear();
  out.records_webhook.clear();
  out.archive.location.clear();
  out.console = true;
  if (!config->http_listen.empty() && config->http_listen != "127.0.0.1:0") {
    off.push_back(
        StrCat("the HTTP endpoint is on 127.0.0.1, a free port, not ", config->http_listen));
    config->http_listen = "127.0.0.1:0";
  }
  return off;
}

}  // namespace vigil
