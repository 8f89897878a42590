#include "runtime/record_outputs.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <tuple>

#include "base/codec.h"
#include "base/strings.h"
#include "base/time.h"

namespace vigil {

namespace fs = std::filesystem;

namespace {

constexpr uint8_t kStateFormat = 1;
constexpr std::string_view kSuffix = ".ndjson";

// YYYY-MM-DD; a record past year 9999 (a session gap of years) has a
// longer year.
std::string DayOf(TimeMs ts) {
  const std::string t = FormatTimestamp(ts);
  return t.substr(0, t.find('T'));
}

// Day names in time order: a longer year is a later one.
bool DayBefore(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

// The days of the files of one output's directory, in time order.
std::vector<std::string> DaysIn(const fs::path& dir) {
  std::vector<std::string> days;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= 10 + kSuffix.size() && name.ends_with(kSuffix)) {
      days.push_back(name.substr(0, name.size() - kSuffix.size()));
    }
  }
  std::sort(days.begin(), days.end(), DayBefore);
  return days;
}

}  // namespace

bool RecordOutputs::Pending::operator<(const Pending& o) const {
  return std::tie(ts, output, line) < std::tie(o.ts, o.output, o.line);
}

std::string RecordOutputs::PathOf(std::string_view output, TimeMs ts) const {
  return StrCat(dir_, "/", output, "/", DayOf(ts), kSuffix);
}

absl::StatusOr<std::unique_ptr<RecordOutputs>> RecordOutputs::Open(
    std::string dir, const RuleSet& rules, const std::optional<std::string>& restored) {
  std::unique_ptr<RecordOutputs> out(new RecordOutputs(std::move(dir)));
  for (const OutputDef& o : rules.outputs) {
    if (out->dir_.empty()) break;  // Kafka only
    std::error_code ec;
    fs::create_directories(fs::path(out->dir_) / o.name, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          StrCat("record outputs: cannot create ", out->dir_, "/", o.name, ": ", ec.message()));
    }
  }
  if (restored) {
    if (absl::Status s = out->RestoreFiles(rules, *restored); !s.ok()) return s;
  }
  // Every output has a current file in checkpoints, written to or not: its
  // newest, or none, so that a restore also removes a first file written
  // after the checkpoint.
  for (const OutputDef& o : rules.outputs) {
    if (out->dir_.empty()) break;
    if (out->files_.contains(o.name)) continue;
    File& f = out->files_[o.name];
    const std::vector<std::string> days = DaysIn(fs::path(out->dir_) / o.name);
    if (days.empty()) continue;
    f.day = days.back();
    std::error_code ec;
    const uintmax_t size = fs::file_size(fs::path(out->dir_) / o.name / StrCat(f.day, kSuffix), ec);
    f.size = ec ? 0 : static_cast<uint64_t>(size);
  }
  return out;
}

absl::Status RecordOutputs::RestoreFiles(const RuleSet& rules, std::string_view state) {
  Decoder dec(state);
  if (dec.GetByte() != kStateFormat) {
    return absl::DataLossError("record outputs: unknown checkpoint state format");
  }
  std::map<std::string, std::pair<std::string, uint64_t>> kept;  // output -> day, size
  const uint64_t files = dec.GetVarint();
  for (uint64_t i = 0; i < files && dec.ok(); ++i) {
    std::string output(dec.GetString());
    std::string day(dec.GetString());
    const uint64_t size = dec.GetVarint();
    kept[std::move(output)] = {std::move(day), size};
  }
  const uint64_t pending = dec.GetVarint();
  for (uint64_t i = 0; i < pending && dec.ok(); ++i) {
    Pending p;
    p.ts = dec.GetSigned();
    p.output = std::string(dec.GetString());
    p.line = std::string(dec.GetString());
    p.key = std::string(dec.GetString());
    pending_.push_back(std::move(p));
  }
  if (!dec.ok() || !dec.empty()) return absl::DataLossError("record outputs: unreadable state");
  // What was written after the checkpoint goes: later days' files, and the
  // current day's file past its size. An output the checkpoint did not
  // know (added since) is left as it is.
  for (const OutputDef& o : rules.outputs) {
    if (dir_.empty()) break;
    auto it = kept.find(o.name);
    if (it == kept.end()) continue;
    const auto& [day, size] = it->second;
    for (const std::string& d : DaysIn(fs::path(dir_) / o.name)) {
      if (!DayBefore(day, d)) continue;
      std::error_code ec;
      fs::remove(fs::path(dir_) / o.name / StrCat(d, kSuffix), ec);
    }
    if (!day.empty()) {
      if (absl::Status s = OpenDay(o.name, day, size); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status RecordOutputs::OpenDay(const std::string& output, const std::string& day,
                                    std::optional<uint64_t> size) {
  File& f = files_[output];
  if (f.writer) f.writer->Sync();
  const std::string path = StrCat(dir_, "/", output, "/", day, kSuffix);
  if (!size) {
    // Appended to: what is there stays.
    std::error_code ec;
    const uintmax_t have = fs::file_size(path, ec);
    size = ec ? 0 : static_cast<uint64_t>(have);
  }
  absl::StatusOr<std::unique_ptr<LineWriter>> w = LineWriter::Open(path, size);
  if (!w.ok()) return w.status();
  f.day = day;
  f.writer = std::move(*w);
  f.size = *size;
  return absl::OkStatus();
}

void RecordOutputs::Add(const RuleSet& rules, std::vector<TappedRecord>* taps) {
  for (TappedRecord& t : *taps) {
    if (t.output >= rules.outputs.size()) continue;
    pending_.push_back({t.ts, rules.outputs[t.output].name, std::move(t.line), std::move(t.key)});
  }
  taps->clear();
}

absl::Status RecordOutputs::Flush(TimeMs frontier) {
  auto ready = std::partition(pending_.begin(), pending_.end(),
                              [frontier](const Pending& p) { return p.ts >= frontier; });
  if (ready == pending_.end()) return absl::OkStatus();
  std::sort(ready, pending_.end());
  absl::Status status;
  for (auto p = ready; p != pending_.end(); ++p) {
    if (kafka_ != nullptr) {
      topic_.assign(topic_prefix_).append(p->output);
      kafka_->OnRecord(topic_, p->key, p->line);
    }
    if (webhook_ != nullptr) webhook_->Enqueue(p->output, p->line);
    if (dir_.empty()) {
      ++written_;
      continue;
    }
    const std::string day = DayOf(p->ts);
    File& f = files_[p->output];
    if (!f.writer || f.day != day) {
      status = OpenDay(p->output, day, std::nullopt);
      if (!status.ok()) break;
    }
    files_[p->output].writer->Write(p->line);
    ++written_;
  }
  pending_.erase(ready, pending_.end());
  for (auto& [name, f] : files_) {
    if (f.writer) f.writer->Flush();
  }
  return status;
}

absl::Status RecordOutputs::Prepare(uint64_t, CheckpointData* data) {
  Encoder enc;
  enc.PutByte(kStateFormat);
  enc.PutVarint(files_.size());
  for (auto& [name, f] : files_) {
    if (f.writer) f.size = f.writer->Sync();
    enc.PutString(name);
    enc.PutString(f.day);
    enc.PutVarint(f.size);
  }
  std::vector<const Pending*> sorted;
  for (const Pending& p : pending_) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(),
            [](const Pending* a, const Pending* b) { return *a < *b; });
  enc.PutVarint(sorted.size());
  for (const Pending* p : sorted) {
    enc.PutSigned(p->ts);
    enc.PutString(p->output);
    enc.PutString(p->line);
    enc.PutString(p->key);
  }
  data->panes.emplace_back(std::string(kStateKey), enc.Release());
  return absl::OkStatus();
}

}  // namespace vigil
