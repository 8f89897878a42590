#include "operators/dataflow/handover.h"

#include <memory>
#include <utility>

#include "base/codec.h"

namespace vigil {
namespace {

// Splits the state of one stream of one flow: the keys from each of
// `inputs` into a fresh operator each (appended to parts[input]), the rest
// kept. Returns the keys moved, per input.
void SplitStream(Dataflow* flow, size_t s, const std::set<int>& inputs,
                 std::map<int, std::vector<std::unique_ptr<KeyedOperator>>>* parts,
                 std::map<int, std::set<std::string>>* keys) {
  KeyedOperator& op = flow->mutable_stream(s);
  KeyOrigins& origins = flow->origins(s);
  origins.Prune(op);
  bool any = false;
  for (int input : inputs) {
    if (origins.Has(input)) any = true;
  }
  if (!any) return;
  Encoder enc;
  op.EncodeState(&enc);
  const std::string bytes = enc.Release();
  for (int input : inputs) {
    if (!origins.Has(input)) continue;
    std::unique_ptr<KeyedOperator> part = MakeKeyedOperator(op.def());
    std::set<std::string>& moved = (*keys)[input];
    Decoder dec(bytes);
    part->DecodeState(&dec, [&](std::string_view key) {
      if (origins.Of(key) != input) return false;
      moved.emplace(key);
      return true;
    });
    (*parts)[input].push_back(std::move(part));
  }
  Decoder dec(bytes);
  op.DecodeState(&dec, [&](std::string_view key) { return !inputs.contains(origins.Of(key)); });
  for (const auto& [input, moved] : *keys) {
    for (const std::string& key : moved) origins.Erase(key);
  }
}

}  // namespace

std::map<int, HandedOver> ExtractKeyedState(const std::vector<Dataflow*>& flows,
                                            const std::set<int>& inputs) {
  std::map<int, HandedOver> out;
  if (flows.empty()) return out;
  std::map<int, std::set<std::string>> all_keys;
  for (size_t s = 0; s < flows[0]->stream_count(); ++s) {
    std::map<int, std::vector<std::unique_ptr<KeyedOperator>>> parts;
    std::map<int, std::set<std::string>> keys;
    for (Dataflow* flow : flows) {
      std::map<int, std::set<std::string>> moved;
      SplitStream(flow, s, inputs, &parts, &moved);
      for (auto& [input, k] : moved) keys[input].merge(k);
    }
    for (auto& [input, ops] : parts) {
      if (keys[input].empty()) continue;
      std::vector<const KeyedOperator*> views;
      for (const auto& op : ops) views.push_back(op.get());
      Encoder enc;
      ops[0]->EncodeStates(views, &enc);
      out[input].streams.push_back({flows[0]->stream(s).state_key(), enc.Release()});
      all_keys[input].merge(keys[input]);
    }
  }
  for (auto& [input, state] : out) state.keys = all_keys[input].size();
  return out;
}

long long AdoptKeyedState(Dataflow* flow, const HandedOver& state, int input, size_t* unknown) {
  std::set<std::string> added;
  for (const HandedOver::Stream& handed : state.streams) {
    size_t s = 0;
    while (s < flow->stream_count() && flow->stream(s).state_key() != handed.state_key) ++s;
    if (s == flow->stream_count()) {
      ++*unknown;
      continue;
    }
    KeyedOperator& op = flow->mutable_stream(s);
    std::unique_ptr<KeyedOperator> in = MakeKeyedOperator(op.def());
    std::set<std::string> keys;
    Decoder dec(handed.state);
    if (!in->DecodeState(&dec,
                         [&](std::string_view key) {
                           keys.emplace(key);
                           return true;
                         }) ||
        !dec.done()) {
      return -1;
    }
    Encoder both;
    op.EncodeStates({&op, in.get()}, &both);
    const std::string bytes = both.Release();
    Decoder merged(bytes);
    if (!op.DecodeState(&merged)) return -1;
    for (const std::string& key : keys) flow->origins(s).Set(key, input);
    added.merge(keys);
  }
  return static_cast<long long>(added.size());
}

std::string EncodeHandedOver(const HandedOver& state) {
  Encoder enc;
  enc.PutVarint(state.keys);
  enc.PutVarint(state.streams.size());
  for (const HandedOver::Stream& s : state.streams) {
    enc.PutString(s.state_key);
    enc.PutString(s.state);
  }
  return enc.Release();
}

bool DecodeHandedOver(std::string_view data, HandedOver* out) {
  Decoder dec(data);
  out->keys = dec.GetVarint();
  out->streams.clear();
  const uint64_t n = dec.GetVarint();
  for (uint64_t i = 0; i < n && dec.ok(); ++i) {
    HandedOver::Stream s;
    s.state_key = std::string(dec.GetString());
    s.state = std::string(dec.GetString());
    out->streams.push_back(std::move(s));
  }
  return dec.ok() && dec.done();
}

std::string EncodeOrigins(const std::vector<Dataflow*>& flows,
                          const std::function<std::string(int input)>& name,
                          const NamedOrigins& pending) {
  NamedOrigins all = pending;
  for (Dataflow* flow : flows) {
    for (size_t s = 0; s < flow->stream_count(); ++s) {
      const std::string& state_key = flow->stream(s).state_key();
      flow->origins(s).ForEach([&](std::string_view key, int input) {
        all[name(input)].emplace_back(state_key, std::string(key));
      });
    }
  }
  Encoder enc;
  enc.PutVarint(all.size());
  for (const auto& [input, keys] : all) {
    enc.PutString(input);
    enc.PutVarint(keys.size());
    for (const auto& [state_key, key] : keys) {
      enc.PutString(state_key);
      enc.PutString(key);
    }
  }
  return enc.Release();
}

bool DecodeOrigins(std::string_view data, NamedOrigins* out) {
  Decoder dec(data);
  out->clear();
  const uint64_t inputs = dec.GetVarint();
  for (uint64_t i = 0; i < inputs && dec.ok(); ++i) {
    std::vector<std::pair<std::string, std::string>>& keys = (*out)[std::string(dec.GetString())];
    const uint64_t n = dec.GetVarint();
    for (uint64_t k = 0; k < n && dec.ok(); ++k) {
      std::string state_key(dec.GetString());
      keys.emplace_back(std::move(state_key), std::string(dec.GetString()));
    }
  }
  return dec.ok() && dec.done();
}

}  // namespace vigil
