// operators/source/generator_source.h
//
// The built-in traffic generator as a source. With speed 0 it produces as
// fast as the job consumes and is bounded by its duration (a replay of
// synthetic history). With speed N > 0 event time runs N times faster than
// the wall clock from the moment the source opens: a live stream in which a
// 7-minute incident takes 7 minutes at speed 1, or 7 seconds at speed 60.
//
// Example:
//   GeneratorSourceOptions o;
//   o.generator.start = NowMs();
//   o.speed = 60;
//   auto src = OpenGeneratorSource(o);
#ifndef VIGIL_OPERATORS_SOURCE_GENERATOR_SOURCE_H_
#define VIGIL_OPERATORS_SOURCE_GENERATOR_SOURCE_H_

#include <memory>

#include "operators/generator/generator.h"
#include "operators/source/record_source.h"

namespace vigil {

struct GeneratorSourceOptions {
  GeneratorOptions generator;
  double speed = 0;  // 0: unpaced; N: event time advances N x the wall clock
};

std::unique_ptr<RecordSource> OpenGeneratorSource(const GeneratorSourceOptions& options);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_SOURCE_GENERATOR_SOURCE_H_
