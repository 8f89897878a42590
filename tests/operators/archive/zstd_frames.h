// tests/operators/archive/zstd_frames.h
//
// ZstdFrames(bytes, name): the text of complete zstd frames, decompressed
// with libzstd's streaming API apart from the archive's code (the writer's
// frames do not record their size). Fails the calling test unless `bytes`
// is whole frames.
//
// Example:
//   EXPECT_EQ(ZstdFrames(*client->Get(key), key), "{\"n\":1}\n");
#ifndef VIGIL_TESTS_OPERATORS_ARCHIVE_ZSTD_FRAMES_H_
#define VIGIL_TESTS_OPERATORS_ARCHIVE_ZSTD_FRAMES_H_

#include <zstd.h>

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace vigil {

inline std::string ZstdFrames(std::string_view in, const std::string& name) {
  std::string out;
  ZSTD_DStream* d = ZSTD_createDStream();
  ZSTD_initDStream(d);
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  std::vector<char> buf(ZSTD_DStreamOutSize());
  size_t rc = 0;
  do {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    rc = ZSTD_decompressStream(d, &ob, &ib);
    if (ZSTD_isError(rc)) {
      ADD_FAILURE() << name << ": " << ZSTD_getErrorName(rc);
      break;
    }
    out.append(buf.data(), ob.pos);
    if (ob.pos == 0 && ib.pos == ib.size) break;
  } while (ib.pos < ib.size || rc != 0);
  ZSTD_freeDStream(d);
  EXPECT_EQ(rc, 0u) << name << " ends inside a frame";
  return out;
}

}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_ARCHIVE_ZSTD_FRAMES_H_
