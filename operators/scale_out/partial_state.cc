#include "operators/scale_out/partial_state.h"

#include <algorithm>
#include <utility>

#include "base/codec.h"

namespace vigil {

std::vector<std::string> EncodeStateChunks(std::string_view instance, uint64_t id,
                                           std::string_view input, std::string_view state,
                                           size_t max_bytes) {
  const size_t chunks = std::max<size_t>(1, (state.size() + max_bytes - 1) / max_bytes);
  std::vector<std::string> out;
  for (size_t i = 0; i < chunks; ++i) {
    Encoder enc;
    enc.PutString(instance);
    enc.PutVarint(id);
    enc.PutString(input);
    enc.PutVarint(i);
    enc.PutVarint(chunks);
    enc.PutString(state.substr(std::min(state.size(), i * max_bytes), max_bytes));
    out.push_back(std::string(kPartialStateMagic) + enc.Release());
  }
  return out;
}

bool DecodeStateChunk(std::string_view message, PartialState* out) {
  if (message.substr(0, 4) != kPartialStateMagic) return false;
  Decoder dec(message.substr(4));
  out->instance = std::string(dec.GetString());
  out->id = dec.GetVarint();
  out->input = std::string(dec.GetString());
  const uint64_t chunk = dec.GetVarint();
  const uint64_t chunks = dec.GetVarint();
  out->bytes = std::string(dec.GetString());
  if (!dec.ok() || !dec.done() || chunk >= chunks || chunks > UINT32_MAX) return false;
  out->chunk = static_cast<uint32_t>(chunk);
  out->chunks = static_cast<uint32_t>(chunks);
  return !out->instance.empty() && !out->input.empty();
}

void StateAssembler::Encode(Encoder* enc) const {
  enc->PutVarint(pieces_.size());
  for (const auto& [key, chunks] : pieces_) {
    enc->PutString(std::get<0>(key));
    enc->PutString(std::get<1>(key));
    enc->PutVarint(std::get<2>(key));
    enc->PutVarint(chunks.size());
    for (const auto& [chunk, bytes] : chunks) {
      enc->PutVarint(chunk);
      enc->PutString(bytes);
    }
  }
}

bool StateAssembler::Decode(Decoder* dec) {
  std::map<Key, std::map<uint32_t, std::string>> pieces;
  for (uint64_t n = dec->GetVarint(), i = 0; i < n && dec->ok(); ++i) {
    std::string input(dec->GetString());
    std::string instance(dec->GetString());
    const uint64_t id = dec->GetVarint();
    auto& chunks = pieces[{std::move(input), std::move(instance), id}];
    for (uint64_t c = dec->GetVarint(), j = 0; j < c && dec->ok(); ++j) {
      const uint64_t chunk = dec->GetVarint();
      chunks[static_cast<uint32_t>(chunk)] = std::string(dec->GetString());
    }
  }
  if (!dec->ok()) return false;
  pieces_ = std::move(pieces);
  return true;
}

void StateAssembler::Add(PartialState piece) {
  pieces_[{piece.input, piece.instance, piece.id}][piece.chunk] = std::move(piece.bytes);
}

bool StateAssembler::Has(const std::string& instance, uint64_t id, const std::string& input,
                         uint32_t chunks) const {
  auto it = pieces_.find({input, instance, id});
  if (it == pieces_.end() || it->second.size() != chunks) return false;
  return it->second.rbegin()->first == chunks - 1;
}

std::optional<std::string> StateAssembler::Take(const std::string& instance, uint64_t id,
                                                const std::string& input, uint32_t chunks) {
  if (!Has(instance, id, input, chunks)) return std::nullopt;
  auto it = pieces_.find({input, instance, id});
  std::string whole;
  for (const auto& [i, bytes] : it->second) whole += bytes;
  pieces_.erase(it);
  return whole;
}

void StateAssembler::Forget(
    const std::string& input,
    const std::function<bool(const std::string& instance, uint64_t id)>& drop) {
  for (auto it = pieces_.begin(); it != pieces_.end();) {
    const auto& [in, inst, i] = it->first;
    if (in == input && drop(inst, i)) {
      it = pieces_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t StateAssembler::bytes() const {
  size_t n = 0;
  for (const auto& [key, pieces] : pieces_) {
    for (const auto& [i, bytes] : pieces) n += bytes.size();
  }
  return n;
}

}  // namespace vigil
