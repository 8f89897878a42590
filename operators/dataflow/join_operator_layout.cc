// JoinOperator's packing: which emits a join keeps and orders its records
// by (SetEmitUse), what its waiting events then keep, the state key that
// names it, and reading the states of the same join packed another way.
#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "operators/dataflow/join_operator.h"

namespace vigil {

namespace {

// A join that keeps only some fields names them after its fingerprint in
// its state key: "join|FINGERPRINT|packs 0,2,5|emits 0,1,3".
constexpr std::string_view kPacks = "|packs ";
constexpr std::string_view kEmits = "|emits ";

}  // namespace

void JoinOperator::Configure(const std::vector<bool>& kept, const std::vector<bool>& sorted) {
  const StreamDef& def = *def_;
  const std::vector<PairInput>& inputs = def.join.inputs;
  emit_kept_ = kept;
  emit_sorted_ = sorted;
  sorts_all_ = std::all_of(sorted.begin(), sorted.end(), [](bool b) { return b; });
  std::vector<bool> read(inputs.size(), false);
  for (size_t k = 0; k < def.emit.size(); ++k) {
    if (kept[k]) def.emit[k].value.ForEachSlot([&](uint32_t slot) { read[slot] = true; });
  }
  // A right keeps every field the join reads of it: one that never
  // matched is dead-lettered with all of them (unmatched_right:
  // dead_letter, which a reload may turn on while it waits). In the usual
  // join a right waits briefly, for the lefts before it to arrive.
  left_inputs_.clear();
  right_inputs_.clear();
  size_t fields = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const PairInput::Kind kind = inputs[i].kind;
    if (kind == PairInput::Kind::kLeftField && read[i]) left_inputs_.push_back(i);
    if (kind == PairInput::Kind::kRightField) right_inputs_.push_back(i);
    fields += kind == PairInput::Kind::kLeftField || kind == PairInput::Kind::kRightField;
  }
  state_key_ = StrCat("join|", def.fingerprint);
  const bool keeps_all = std::all_of(kept.begin(), kept.end(), [](bool b) { return b; });
  if (!keeps_all || left_inputs_.size() + right_inputs_.size() != fields) {
    std::vector<size_t> packed = left_inputs_;
    packed.insert(packed.end(), right_inputs_.begin(), right_inputs_.end());
    std::sort(packed.begin(), packed.end());
    std::vector<std::string> inputs_kept, emits_kept;
    for (size_t i : packed) inputs_kept.push_back(std::to_string(i));
    for (size_t k = 0; k < kept.size(); ++k) {
      if (kept[k]) emits_kept.push_back(std::to_string(k));
    }
    StrAppend(&state_key_, kPacks, StrJoin(inputs_kept, ","), kEmits, StrJoin(emits_kept, ","));
  }
  // An emit that reads one field of a side copies that field's packed bytes.
  std::vector<int> position(inputs.size(), -1);  // within its side
  for (size_t k = 0; k < left_inputs_.size(); ++k) position[left_inputs_[k]] = static_cast<int>(k);
  for (size_t k = 0; k < right_inputs_.size(); ++k) {
    position[right_inputs_[k]] = static_cast<int>(k);
  }
  emit_copy_.clear();
  evaluates_ = copies_ = false;
  for (size_t k = 0; k < def.emit.size(); ++k) {
    const EmitDef& e = def.emit[k];
    const int slot = e.value.LoadedSlot();
    EmitCopy copy;
    if (!kept[k]) {
      copy.side = EmitCopy::kDropped;
    } else if (slot >= 0 && position[static_cast<size_t>(slot)] >= 0) {
      const bool right = inputs[static_cast<size_t>(slot)].kind == PairInput::Kind::kRightField;
      copy.side = right ? EmitCopy::kRight : EmitCopy::kLeft;
      copy.index = static_cast<uint32_t>(position[static_cast<size_t>(slot)]);
    } else if (slot >= 0 && inputs[static_cast<size_t>(slot)].kind == PairInput::Kind::kMatched) {
      copy.side = EmitCopy::kMatched;  // a left join's `clicked: matched()`: no pair to fill
    } else {
      evaluates_ = true;
    }
    copies_ = copies_ || copy.side == EmitCopy::kLeft || copy.side == EmitCopy::kRight;
    emit_copy_.push_back(copy);
  }
  left_slices_.resize(left_inputs_.size());
  right_slices_.resize(right_inputs_.size());
}

namespace {

// "0,2,5" into `out` (true at each index); false when malformed or out of
// range.
bool ParseIndices(std::string_view text, std::vector<bool>* out) {
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    size_t i = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), i);
    if (ec != std::errc() || end != item.data() + item.size() || i >= out->size()) return false;
    (*out)[i] = true;
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return true;
}

}  // namespace

std::optional<JoinOperator::Layout> JoinOperator::LayoutOf(std::string_view saved_key) const {
  const std::vector<PairInput>& inputs = def_->join.inputs;
  const std::string base = StrCat("join|", def_->fingerprint);
  if (!saved_key.starts_with(base)) return std::nullopt;
  std::string_view rest = saved_key.substr(base.size());
  // No suffix: every field and emit.
  Layout saved;
  saved.emits.assign(def_->emit.size(), rest.empty());
  std::vector<bool> packed(inputs.size(), rest.empty());
  if (!rest.empty()) {
    if (!rest.starts_with(kPacks)) return std::nullopt;
    rest.remove_prefix(kPacks.size());
    const size_t emits = rest.find(kEmits);
    if (emits == std::string_view::npos || !ParseIndices(rest.substr(0, emits), &packed) ||
        !ParseIndices(rest.substr(emits + kEmits.size()), &saved.emits)) {
      return std::nullopt;
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!packed[i]) continue;
    if (inputs[i].kind == PairInput::Kind::kLeftField) saved.left.push_back(i);
    if (inputs[i].kind == PairInput::Kind::kRightField) saved.right.push_back(i);
  }
  return saved;
}

bool JoinOperator::ReadsStateOf(std::string_view saved_key) const {
  return saved_key == state_key_ || LayoutOf(saved_key).has_value();
}

std::vector<bool> JoinOperator::EmitsLackedBy(std::string_view saved_key) const {
  const std::optional<Layout> saved = LayoutOf(saved_key);
  if (saved_key == state_key_ || !saved) return {};
  std::vector<bool> has(def_->join.inputs.size(), false);
  for (size_t i : saved->left) has[i] = true;
  for (size_t i : saved->right) has[i] = true;
  std::vector<bool> lacked(def_->emit.size(), false);
  bool any = false;
  for (size_t k = 0; k < def_->emit.size(); ++k) {
    if (!emit_kept_[k]) continue;
    bool held = saved->emits[k];
    def_->emit[k].value.ForEachSlot([&](uint32_t slot) {
      const PairInput::Kind kind = def_->join.inputs[slot].kind;
      const bool field =
          kind == PairInput::Kind::kLeftField || kind == PairInput::Kind::kRightField;
      if (field && !has[slot]) held = false;
    });
    lacked[k] = !held;
    any = any || !held;
  }
  if (!any) lacked.clear();
  return lacked;
}

void JoinOperator::SetEmitUse(const std::vector<bool>& kept, const std::vector<bool>& sorted) {
  if (kept.size() != def_->emit.size() || sorted.size() != def_->emit.size()) return;
  if (kept == emit_kept_ && sorted == emit_sorted_) return;
  if (state_->entries.live() == 0 && state_->records.empty()) {
    Configure(kept, sorted);
    return;
  }
  // Re-packed through the checkpoint encoding, as on a restore; should
  // that fail, the state and its packing stay as they were.
  const std::optional<Layout> before = LayoutOf(state_key_);
  const std::vector<bool> kept_before = emit_kept_, sorted_before = emit_sorted_;
  Encoder enc;
  EncodeState(&enc);
  const std::string bytes = enc.Release();
  Configure(kept, sorted);
  Decoder dec(bytes);
  if (!before || !DecodeStateAs(*before, &dec, nullptr)) Configure(kept_before, sorted_before);
}

}  // namespace vigil
