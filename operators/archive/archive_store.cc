// OpenArchiveStore and ReadArchiveBatch: the kind of store or batch a
// location names (operators/archive/archive_store.h).
#include "operators/archive/archive_store.h"

#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "operators/archive/parquet_reader.h"
#include "operators/net/s3_client.h"

namespace vigil {

namespace {

absl::StatusOr<std::string> Decompress(std::string_view in, const std::string& name) {
  std::string out;
  ZSTD_DStream* d = ZSTD_createDStream();
  ZSTD_initDStream(d);
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  std::string buf(ZSTD_DStreamOutSize(), '\0');
  size_t rc = 0;
  while (ib.pos < ib.size) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    rc = ZSTD_decompressStream(d, &ob, &ib);
    if (ZSTD_isError(rc)) break;
    out.append(buf.data(), ob.pos);
  }
  // What a full output buffer held back.
  while (!ZSTD_isError(rc) && rc != 0) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    rc = ZSTD_decompressStream(d, &ob, &ib);
    if (ZSTD_isError(rc) || ob.pos == 0) break;
    out.append(buf.data(), ob.pos);
  }
  ZSTD_freeDStream(d);
  if (ZSTD_isError(rc)) return absl::DataLossError(StrCat(name, ": zstd: ", ZSTD_getErrorName(rc)));
  if (rc != 0)
    return absl::DataLossError(StrCat(name, ": zstd input ends in the middle of a frame"));
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ArchiveStore>> OpenArchiveStore(const std::string& location) {
  if (IsS3Url(location)) return OpenS3ArchiveStore(location);
  if (location.empty())
    return absl::InvalidArgumentError("the archive needs a directory or an s3:// URL");
  return OpenDirArchiveStore(location);
}

absl::StatusOr<std::string> ReadArchiveBatch(const std::string& location) {
  std::string bytes;
  std::string name = location;
  if (IsS3Url(location)) {
    absl::StatusOr<std::string> object = ReadS3Object(location);
    if (!object.ok()) return object.status();
    bytes = std::move(*object);
    name = location.substr(0, location.find('?'));
  } else {
    std::ifstream in(location, std::ios::binary);
    if (!in) return absl::NotFoundError(StrCat(location, ": ", std::strerror(errno)));
    std::stringstream ss;
    ss << in.rdbuf();
    bytes = ss.str();
  }
  if (name.ends_with(kNdjsonZstSuffix)) return Decompress(bytes, name);
  if (name.ends_with(kParquetSuffix)) {
    std::string ndjson;
    absl::Status s = ReadParquetRecords(bytes, [&](std::string_view record) {
      ndjson.append(record);
      ndjson.push_back('\n');
    });
    if (!s.ok()) return absl::Status(s.code(), StrCat(name, ": ", std::string(s.message())));
    return ndjson;
  }
  return absl::InvalidArgumentError(
      StrCat(name, ": not an archive batch (.ndjson.zst or .parquet)"));
}

}  // namespace vigil
