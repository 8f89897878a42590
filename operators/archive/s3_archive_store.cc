// S3ArchiveStore: an archive in an S3-compatible bucket, its manifest a
// series of objects (operators/archive/archive_store.h), and the readers of
// such archives for replays.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/numbers.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strings.h"
#include "operators/archive/archive_store.h"
#include "operators/net/s3_client.h"

namespace vigil {

namespace {

constexpr std::string_view kManifestDir = "_manifest/";
constexpr std::string_view kPartSuffix = ".jsonl";
constexpr std::string_view kBaseSuffix = ".base.jsonl";
// Parts appended before the store folds them into a base.
constexpr size_t kMaxParts = 64;
constexpr int kBackoffMs[] = {200, 1000};
// The job thread waits for the store: a request that got no answer within
// this is not retried at once (the writer retries the batch later), and no
// request waits longer than kRequestTimeoutMs.
constexpr DurationMs kSlowAttemptMs = 1000;
constexpr DurationMs kRequestTimeoutMs = 10000;

absl::Status StatusOf(const absl::Status& s) { return s; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

// Runs `request`, retrying what a retry may cure (Unavailable) twice,
// unless the failed attempt was slow (a timeout: an endpoint that does not
// answer would hold the job for every attempt).
template <typename F>
auto Retried(F request) -> decltype(request()) {
  int64_t start = MonotonicMs();
  auto result = request();
  for (int wait : kBackoffMs) {
    if (!absl::IsUnavailable(StatusOf(result)) || MonotonicMs() - start > kSlowAttemptMs) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    start = MonotonicMs();
    result = request();
  }
  return result;
}

// A manifest object: its sequence number, and whether it is a base.
struct ManifestObject {
  std::string key;
  uint64_t seq = 0;
  bool base = false;
};

// The manifest objects under `dir` ("…/_manifest/"), in sequence order;
// names that are not manifest objects are skipped.
std::vector<ManifestObject> ManifestObjects(const std::vector<S3Object>& listed,
                                            std::string_view dir) {
  std::vector<ManifestObject> out;
  for (const S3Object& o : listed) {
    std::string_view name = std::string_view(o.key).substr(dir.size());
    ManifestObject m;
    m.key = o.key;
    m.base = name.ends_with(kBaseSuffix);
    if (!m.base && !name.ends_with(kPartSuffix)) continue;
    name.remove_suffix(m.base ? kBaseSuffix.size() : kPartSuffix.size());
    if (name.size() != 20 || !absl::SimpleAtoi(absl::string_view(name.data(), name.size()), &m.seq))
      continue;
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const ManifestObject& a, const ManifestObject& b) { return a.seq < b.seq; });
  return out;
}

std::string ManifestText(const std::vector<ManifestLine>& lines) {
  std::string text;
  for (const ManifestLine& l : lines) text += FormatManifestLine(l);
  return text;
}

class S3ArchiveStore : public ArchiveStore {
 public:
  S3ArchiveStore(S3Location location, std::unique_ptr<S3Client> client)
      : location_(std::move(location)), client_(std::move(client)) {
    key_root_ = location_.prefix.empty() ? "events" : StrCat(location_.prefix, "/events");
    S3Location root = location_;
    root.prefix = key_root_;
    root_ = root.ToString();
  }

  const std::string& root() const override { return root_; }
  absl::StatusOr<ArchiveManifest> Load() override;
  absl::Status PutBatch(const std::string& rel, std::string_view data) override {
    return Retried([&] { return client_->Put(Key(rel), data); });
  }
  absl::Status Append(const std::vector<ManifestLine>& lines) override;
  absl::Status Replace(const std::vector<ManifestLine>& lines) override;
  absl::StatusOr<std::vector<std::string>> ListBatches() override;
  absl::Status DeleteBatch(const std::string& rel) override {
    absl::Status s = Retried([&] { return client_->Delete(Key(rel)); });
    return absl::IsNotFound(s) ? absl::OkStatus() : s;
  }
  absl::Status DeletePartition(const std::string& rel_dir) override;

 private:
  std::string Key(std::string_view rel) const { return StrCat(key_root_, "/", rel); }
  std::string ManifestKey(uint64_t seq, bool base) const {
    char digits[24];
    std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(seq));
    return StrCat(key_root_, "/", kManifestDir, digits, base ? kBaseSuffix : kPartSuffix);
  }

  S3Location location_;
  std::unique_ptr<S3Client> client_;
  std::string key_root_;                // PREFIX/events
  std::string root_;                    // s3://BUCKET/PREFIX/events
  std::vector<ManifestLine> lines_;     // the manifest, as stored
  std::vector<std::string> part_keys_;  // the objects that hold it, oldest first
  uint64_t next_seq_ = 1;
};

// Reads the manifest objects under `key_root`/_manifest/: the newest base
// and the parts after it. `keys` gets the objects read, oldest first.
absl::StatusOr<ArchiveManifest> ReadManifestObjects(S3Client* client, const std::string& key_root,
                                                    const std::string& root,
                                                    std::vector<std::string>* keys,
                                                    uint64_t* next_seq) {
  const std::string dir = StrCat(key_root, "/", kManifestDir);
  absl::StatusOr<std::vector<S3Object>> listed = Retried([&] { return client->List(dir); });
  if (!listed.ok()) return listed.status();
  std::vector<ManifestObject> objects = ManifestObjects(*listed, dir);
  ArchiveManifest m;
  m.root = root;
  if (objects.empty()) return absl::NotFoundError(StrCat(root, ": no archive manifest"));
  size_t from = 0;
  for (size_t i = 0; i < objects.size(); ++i) {
    if (objects[i].base) from = i;
  }
  for (size_t i = from; i < objects.size(); ++i) {
    absl::StatusOr<std::string> text = Retried([&] { return client->Get(objects[i].key); });
    if (absl::IsNotFound(text.status())) continue;  // compacted away while listing
    if (!text.ok()) return text.status();
    ParseArchiveManifest(*text, StrCat("s3://", objects[i].key), &m);
    keys->push_back(objects[i].key);
  }
  *next_seq = objects.back().seq + 1;
  return m;
}

absl::StatusOr<ArchiveManifest> S3ArchiveStore::Load() {
  if (absl::Status s = client_->CheckBucket(); !s.ok()) return s;
  absl::StatusOr<ArchiveManifest> m =
      ReadManifestObjects(client_.get(), key_root_, root_, &part_keys_, &next_seq_);
  if (absl::IsNotFound(m.status())) {
    ArchiveManifest empty;
    empty.root = root_;
    return empty;
  }
  if (!m.ok()) return m.status();
  lines_ = m->lines;
  if (part_keys_.size() > kMaxParts) {
    if (absl::Status s = Replace(lines_); !s.ok()) return s;
  }
  return m;
}

absl::Status S3ArchiveStore::Append(const std::vector<ManifestLine>& lines) {
  if (part_keys_.size() >= kMaxParts) {
    std::vector<ManifestLine> all = lines_;
    all.insert(all.end(), lines.begin(), lines.end());
    return Replace(all);
  }
  const std::string key = ManifestKey(next_seq_, false);
  const std::string text = ManifestText(lines);
  if (absl::Status s = Retried([&] { return client_->Put(key, text); }); !s.ok()) return s;
  ++next_seq_;
  part_keys_.push_back(key);
  lines_.insert(lines_.end(), lines.begin(), lines.end());
  return absl::OkStatus();
}

absl::Status S3ArchiveStore::Replace(const std::vector<ManifestLine>& lines) {
  const std::string key = ManifestKey(next_seq_, true);
  const std::string text = ManifestText(lines);
  if (absl::Status s = Retried([&] { return client_->Put(key, text); }); !s.ok()) return s;
  ++next_seq_;
  lines_ = lines;
  // Readers ignore what comes before the newest base; a part left by a
  // failed delete goes at the next rewrite.
  std::vector<std::string> left;
  for (const std::string& old : part_keys_) {
    absl::Status s = Retried([&] { return client_->Delete(old); });
    if (!s.ok() && !absl::IsNotFound(s)) left.push_back(old);
  }
  part_keys_ = std::move(left);
  part_keys_.push_back(key);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> S3ArchiveStore::ListBatches() {
  absl::StatusOr<std::vector<S3Object>> listed =
      Retried([&] { return client_->List(StrCat(key_root_, "/")); });
  if (!listed.ok()) return listed.status();
  std::vector<std::string> out;
  for (const S3Object& o : *listed) {
    const std::string_view rel = std::string_view(o.key).substr(key_root_.size() + 1);
    if (!rel.starts_with(kManifestDir) && IsArchiveBatchName(rel)) out.emplace_back(rel);
  }
  return out;
}

absl::Status S3ArchiveStore::DeletePartition(const std::string& rel_dir) {
  absl::StatusOr<std::vector<S3Object>> listed =
      Retried([&] { return client_->List(Key(StrCat(rel_dir, "/"))); });
  if (!listed.ok()) return listed.status();
  for (const S3Object& o : *listed) {
    absl::Status s = Retried([&] { return client_->Delete(o.key); });
    if (!s.ok() && !absl::IsNotFound(s)) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<S3Client>> ConnectS3(const S3Location& at) {
  absl::StatusOr<std::shared_ptr<AwsCredentialSource>> credentials =
      AwsCredentialSource::FromEnvironment();
  if (!credentials.ok()) {
    return absl::FailedPreconditionError(
        StrCat(at.ToString(), ": ", std::string(credentials.status().message())));
  }
  S3Client::Options options;
  options.timeout = kRequestTimeoutMs;
  return S3Client::Create(at, *credentials, options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ArchiveStore>> OpenS3ArchiveStore(const std::string& url) {
  absl::StatusOr<S3Location> at = ParseS3Url(url);
  if (!at.ok()) return at.status();
  absl::StatusOr<std::unique_ptr<S3Client>> client = ConnectS3(*at);
  if (!client.ok()) return client.status();
  return std::unique_ptr<ArchiveStore>(new S3ArchiveStore(*at, std::move(*client)));
}

absl::StatusOr<ArchiveManifest> ReadS3ArchiveManifest(const std::string& url) {
  absl::StatusOr<S3Location> at = ParseS3Url(url);
  if (!at.ok()) return at.status();
  absl::StatusOr<std::unique_ptr<S3Client>> client = ConnectS3(*at);
  if (!client.ok()) return client.status();
  if (absl::Status s = (*client)->CheckBucket(); !s.ok()) return s;
  // PREFIX/events as the archive writes it, or a root named directly.
  std::vector<std::string> roots = {at->prefix.empty() ? "events" : StrCat(at->prefix, "/events")};
  if (!at->prefix.empty()) roots.push_back(at->prefix);
  for (const std::string& key_root : roots) {
    S3Location root = *at;
    root.prefix = key_root;
    std::vector<std::string> keys;
    uint64_t next_seq = 0;
    absl::StatusOr<ArchiveManifest> m =
        ReadManifestObjects(client->get(), key_root, root.ToString(), &keys, &next_seq);
    if (!absl::IsNotFound(m.status())) return m;
  }
  return absl::NotFoundError(
      StrCat(at->ToString(), ": no archive manifest (no ", roots.front(), "/_manifest/ objects)"));
}

std::string S3ArchiveBatchUrl(const std::string& url, const ArchiveManifest& m,
                              const ArchiveEntry& e) {
  absl::StatusOr<S3Location> at = ParseS3Url(url);
  if (!at.ok()) return "";
  // m.root is s3://BUCKET/KEY_ROOT.
  const size_t slash = m.root.find('/', 5);
  at->prefix = StrCat(slash == std::string::npos ? "" : m.root.substr(slash + 1), "/", e.path);
  return at->ToUrl();
}

absl::StatusOr<std::string> ReadS3Object(const std::string& url) {
  absl::StatusOr<S3Location> at = ParseS3Url(url);
  if (!at.ok()) return at.status();
  absl::StatusOr<std::unique_ptr<S3Client>> client = ConnectS3(*at);
  if (!client.ok()) return client.status();
  return Retried([&] { return (*client)->Get(at->prefix); });
}

}  // namespace vigil
