// Job: the /api/status snapshot and the watermark stall (runtime/job.h).
// The job thread builds it; runtime/admin_api.h serves it.
#include "base/strings.h"
#include "runtime/job.h"

namespace vigil {
namespace {

// The input that holds a live job's watermark back: active, not idle, and
// the lowest; "" when none does or no input has delivered data yet.
std::string WatermarkHolder(const RecordSource& source, const WatermarkTracker& watermark) {
  if (source.bounded()) return "";
  const int n = std::min(source.input_count(), watermark.input_count());
  bool data = false;
  int holder = -1;
  for (int i = 0; i < n; ++i) {
    if (!source.input_active(i)) continue;
    if (watermark.InputMaxTs(i) != kMinTime) data = true;
    if (watermark.idle(i)) continue;
    if (holder < 0 || watermark.InputWatermark(i) < watermark.InputWatermark(holder)) holder = i;
  }
  return data && holder >= 0 ? source.input_name(holder) : "";
}

}  // namespace

void Job::PublishStatus(TimeMs now) {
  if (!admin_) return;
  std::string json = "{\"source\":";
  AppendJsonString(source_->name(), &json);
  StrAppend(&json, ",\"bounded\":", source_->bounded(), ",\"connected\":", source_->connected(),
            ",\"inputs\":[");
  const int n = std::min(source_->input_count(), watermark_->input_count());
  for (int i = 0; i < n; ++i) {
    if (i) json.push_back(',');
    json.append("{\"name\":");
    AppendJsonString(source_->input_name(i), &json);
    StrAppend(&json, ",\"active\":", source_->input_active(i), ",\"idle\":", watermark_->idle(i),
              ",\"watermark\":");
    TimeMs input_watermark = kMinTime;
    if (!mode_->InputWatermark(i, &input_watermark))
      input_watermark = watermark_->InputWatermark(i);
    AppendJsonTimestamp(input_watermark, &json);
    const int64_t lag = source_->input_lag(i);
    if (lag >= 0) StrAppend(&json, ",\"lag\":", lag, ",\"lag_unit\":\"", source_->lag_unit(), "\"");
    json.push_back('}');
  }
  json.append("],\"watermark\":");
  AppendJsonTimestamp(mode_->Watermark(/*at_end=*/false), &json);
  json.append(",\"frontier\":");
  AppendJsonTimestamp(frontier_, &json);
  StrAppend(&json, ",\"records\":", summary_.records, ",\"processed\":", summary_.processed,
            ",\"dead_lettered\":", summary_.dead_lettered, ",\"late\":", summary_.late,
            ",\"windows\":", summary_.windows,
            ",\"uptime_seconds\":", static_cast<double>(now - started_) / 1000.0);
  if (checkpointer_) {
    json.append(",\"checkpoint\":{\"dir\":");
    AppendJsonString(checkpointer_->dir(), &json);
    StrAppend(&json, ",\"epoch\":", checkpointer_->epoch(), ",\"age_seconds\":");
    if (checkpointer_->last_written() > 0) {
      StrAppend(&json, static_cast<double>(now - checkpointer_->last_written()) / 1000.0);
    } else {
      json.append("null");
    }
    json.push_back('}');
  }
  StrAppend(&json, ",\"rules\":{\"metrics\":", rules_->VisibleMetricCount(),
            ",\"alerts\":", rules_->alerts.size(), "}");
  mode_->AppendStatus(&json);
  AppendWatermarkStall(now, &json);
  json.push_back('}');
  admin_->PublishStatus(std::move(json));
}

void Job::AppendWatermarkStall(TimeMs now, std::string* json) {
  WatermarkStall& stall = admin_->stall();
  std::string holder;
  TimeMs watermark = watermark_->Current();
  if (mode_->WatermarkHolder(&holder)) {
    watermark = mode_->Watermark(/*at_end=*/false);
    if (source_->bounded()) holder.clear();
  } else {
    holder = WatermarkHolder(*source_, *watermark_);
  }
  stall.Observe(watermark, holder, summary_.processed, now);
  const double seconds = static_cast<double>(stall.stalled()) / 1000.0;
  metrics_->SetWatermarkStall(seconds, stall.over());
  StrAppend(json, ",\"watermark_stall\":{\"seconds\":", seconds,
            ",\"max_seconds\":", static_cast<double>(stall.max_stall()) / 1000.0,
            ",\"stalled\":", stall.over(), "}");
}

}  // namespace vigil
