#include "operators/source/generator_source.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace vigil {
namespace {

class GeneratorSource : public RecordSource {
 public:
  explicit GeneratorSource(const GeneratorSourceOptions& o)
      : options_(o), gen_(o.generator), wall_start_(std::chrono::steady_clock::now()) {}

  bool Next(std::vector<Record>* out, size_t max) override {
    out->clear();
    buf_.clear();
    offsets_.clear();
    size_t n = max;
    if (options_.speed > 0) {
      // Event time due now; sleep briefly when ahead so the job can tick.
      const double elapsed_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_start_)
              .count();
      const TimeMs due =
          options_.generator.start + static_cast<TimeMs>(elapsed_ms * options_.speed);
      if (gen_.nominal_time() > due) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return !done_;
      }
      const double per_ms = options_.generator.rate / 1000.0;
      n = std::min<size_t>(max, static_cast<size_t>((due - gen_.nominal_time()) * per_ms) + 1);
    }
    for (size_t i = 0; i < n; ++i) {
      offsets_.push_back(buf_.size());
      if (!gen_.Next(&buf_)) {
        offsets_.pop_back();
        done_ = true;
        break;
      }
    }
    offsets_.push_back(buf_.size());
    buf_.append(simdjson::SIMDJSON_PADDING, ' ');
    for (size_t i = 0; i + 1 < offsets_.size(); ++i) {
      Record r;
      r.data = std::string_view(buf_).substr(offsets_[i], offsets_[i + 1] - offsets_[i] - 1);
      r.line = ++seq_;
      r.offset = bytes_;
      r.size = r.data.size();
      bytes_ += r.size + 1;
      out->push_back(r);
    }
    return !out->empty() || !done_;
  }

  const std::string& name() const override { return name_; }
  bool bounded() const override { return options_.speed <= 0; }
  uint64_t bytes_read() const override { return bytes_; }

 private:
  GeneratorSourceOptions options_;
  EventGenerator gen_;
  std::chrono::steady_clock::time_point wall_start_;
  std::string name_ = "generator";
  std::string buf_;
  std::vector<size_t> offsets_;
  uint64_t seq_ = 0;
  uint64_t bytes_ = 0;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<RecordSource> OpenGeneratorSource(const GeneratorSourceOptions& options) {
  return std::make_unique<GeneratorSource>(options);
}

}  // namespace vigil
