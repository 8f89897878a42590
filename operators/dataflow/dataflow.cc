#include "operators/dataflow/dataflow.h"

#include <algorithm>
#include <atomic>
#include <cstddef>

namespace vigil {

namespace {
std::atomic<size_t> g_default_max_series{OperatorLimits::kDefaultMaxSeries};
}  // namespace

void SetDefaultOperatorLimits(const OperatorLimits& limits) {
  g_default_max_series.store(limits.max_series);
}

OperatorLimits DefaultOperatorLimits() {
  OperatorLimits limits;
  limits.max_series = g_default_max_series.load();
  return limits;
}

Dataflow::Dataflow(const RuleSet& rules, const OperatorLimits& limits) : limits_(limits) {
  auto add = [this](Source* src, std::vector<std::unique_ptr<MetricOperator>> ops) {
    for (auto& op : ops) {
      src->ops.push_back(op.get());
      metric_ops_.push_back(std::move(op));
    }
  };
  add(&events_, BuildMetricOperators(rules, events_.filters.get()));
  streams_.reserve(rules.streams.size());
  for (size_t s = 0; s < rules.streams.size(); ++s) {
    Stream stream;
    stream.op = MakeKeyedOperator(rules.streams[s]);
    add(&stream.downstream,
        BuildMetricOperators(rules, stream.downstream.filters.get(), static_cast<int>(s)));
    streams_.push_back(std::move(stream));
  }
  for (auto& op : metric_ops_) op->SetSeriesBudget(this);
}

size_t Dataflow::series() const {
  size_t n = 0;
  for (const auto& op : metric_ops_) n += op->store().group_count();
  return n;
}

void Dataflow::Close(TimeMs frontier, std::vector<WindowResult>* out) {
  CloseSessions(frontier);
  const size_t first = out->size();
  for (auto& op : metric_ops_) op->Close(frontier, out);
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(),
            [](const WindowResult& a, const WindowResult& b) {
              if (a.end != b.end) return a.end < b.end;
              if (a.metric != b.metric) return a.metric < b.metric;
              return a.group < b.group;
            });
}

uint64_t Dataflow::MergePanesFrom(Dataflow& part) {
  uint64_t late = 0;
  for (size_t i = 0; i < metric_ops_.size() && i < part.metric_ops_.size(); ++i) {
    PaneStore& into = metric_ops_[i]->store();
    part.metric_ops_[i]->store().Drain(
        [&](std::string_view group, TimeMs start, const AccSet& acc) {
          if (!into.MergePane(group, start, acc)) ++late;
        });
  }
  return late;
}

void Dataflow::SetWhole(const Dataflow& whole, std::atomic<size_t>* fresh,
                        std::atomic<size_t>* fresh_all) {
  whole_ = &whole;
  fresh_all_ = fresh_all;
  for (size_t i = 0; i < metric_ops_.size() && i < whole.metric_ops_.size(); ++i) {
    metric_ops_[i]->SetWhole({&whole.metric_ops_[i]->store(), &fresh[i], fresh_all});
  }
}

MetricOperator* Dataflow::FindMetricOp(std::string_view state_key) const {
  for (const auto& op : metric_ops_) {
    if (op->state_key() == state_key) return op.get();
  }
  return nullptr;
}

void Dataflow::CloseSessions(TimeMs frontier) {
  for (Stream& s : streams_) {
    Source& d = s.downstream;
    s.op->Close(frontier, [&d](const Event& record) {
      d.filters->Evaluate(record);
      for (MetricOperator* op : d.ops) op->Add(record);
    });
  }
}

size_t Dataflow::AdoptState(Dataflow& old) {
  size_t kept = 0;
  for (auto& op : metric_ops_) {
    for (auto& o : old.metric_ops_) {
      if (op->AdoptState(*o)) {
        ++kept;
        break;
      }
    }
  }
  for (Stream& s : streams_) {
    for (Stream& o : old.streams_) {
      if (s.op->AdoptState(*o.op)) {
        ++kept;
        break;
      }
    }
  }
  return kept;
}

std::vector<std::pair<std::string, std::string>> Dataflow::EncodeState() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& op : metric_ops_) {
    Encoder enc;
    op->EncodeState(&enc);
    out.emplace_back(op->state_key(), enc.Release());
  }
  for (const Stream& s : streams_) {
    Encoder enc;
    s.op->EncodeState(&enc);
    out.emplace_back(s.op->state_key(), enc.Release());
  }
  return out;
}

int Dataflow::DecodeState(const std::vector<std::pair<std::string, std::string>>& saved) {
  int restored = 0;
  auto find = [&saved](const std::string& key) -> const std::string* {
    for (const auto& [k, v] : saved) {
      if (k == key) return &v;
    }
    return nullptr;
  };
  for (auto& op : metric_ops_) {
    const std::string* bytes = find(op->state_key());
    if (bytes == nullptr) continue;
    Decoder dec(*bytes);
    if (!op->DecodeState(&dec)) return -1;
    ++restored;
  }
  for (Stream& s : streams_) {
    const std::string* bytes = find(s.op->state_key());
    if (bytes == nullptr) continue;
    Decoder dec(*bytes);
    if (!s.op->DecodeState(&dec)) return -1;
    ++restored;
  }
  return restored;
}

std::vector<KeyedOperator*> Dataflow::mutable_stream_ops() {
  std::vector<KeyedOperator*> out;
  for (Stream& s : streams_) out.push_back(s.op.get());
  return out;
}

}  // namespace vigil
