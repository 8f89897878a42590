// operators/source/kinesis_fetcher.h
//
// The background half of KinesisSource (see kinesis_source.h for the
// contract): KinesisFetcher discovers the stream's shards, decides which
// this instance owns and when each may be read, and polls them, handing
// each GetRecords batch to KinesisShared's queue. KinesisSource::Next takes
// batches from the queue in order, so what Next has returned (and what
// SavePositions reports) is always a prefix of what was fetched, shard by
// shard, and a parent's last batch is queued before any of its children's.
//
// Internal: only kinesis_source.cc uses it.
#ifndef VIGIL_OPERATORS_SOURCE_KINESIS_FETCHER_H_
#define VIGIL_OPERATORS_SOURCE_KINESIS_FETCHER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "operators/net/kinesis_client.h"
#include "operators/source/kinesis_source.h"

namespace vigil::internal {

struct KinesisBatch {
  int input = 0;
  KinesisRecords records;
  size_t next = 0;         // first record not yet returned by Next
  bool shard_end = false;  // the shard is fully read after these records
};

// What Next has delivered of one owned shard.
struct KinesisInput {
  std::string shard_id;
  std::string delivered_seq;  // last sequence number returned by Next
  bool finished = false;      // returned to its end
  int64_t lag = -1;           // MillisBehindLatest of the last fetch
  bool caught_up = false;     // the last fetch found nothing new at the shard's tip
  uint64_t line = 0;          // records returned so far (a checkpoint keeps it)
  // Where a shard with no record returned yet starts, when that is a time
  // (latest is resolved to the time the shard was first listed): a
  // checkpoint keeps it, so a restart starts the shard there too.
  TimeMs start_at = 0;
};

struct KinesisPosition {
  std::string seq;
  bool finished = false;
  TimeMs at = 0;      // no record yet: start at this time (KinesisInput::start_at)
  uint64_t line = 0;  // KinesisInput::line
};

// State shared by the fetcher thread and the thread calling Next.
struct KinesisShared {
  absl::Mutex mu;
  absl::CondVar data_cv;  // signalled when a batch is queued
  absl::CondVar wake_cv;  // signalled when the queue drains or on stop
  std::deque<std::unique_ptr<KinesisBatch>> queue ABSL_GUARDED_BY(mu);
  size_t queued_records ABSL_GUARDED_BY(mu) = 0;
  std::vector<KinesisInput> inputs ABSL_GUARDED_BY(mu);
  // From RestorePositions; the fetcher drops shards no longer listed.
  std::map<std::string, KinesisPosition> restored ABSL_GUARDED_BY(mu);
  bool listed ABSL_GUARDED_BY(mu) = false;  // a listing succeeded
  // The open shards (no ending sequence number) of the last listing, every
  // instance's.
  std::vector<std::string> open_shards ABSL_GUARDED_BY(mu);
  bool needs_listing ABSL_GUARDED_BY(mu) = false;  // a shard ended after the last listing
  bool stop ABSL_GUARDED_BY(mu) = false;
  std::string last_error ABSL_GUARDED_BY(mu);
  // An error the source cannot get past (a resume position the stream
  // refuses): the source ends with it.
  absl::Status fatal ABSL_GUARDED_BY(mu);
  KinesisSource::Stats stats ABSL_GUARDED_BY(mu);
  uint64_t bytes_read ABSL_GUARDED_BY(mu) = 0;  // of the records Next returned

  std::atomic<bool> connected{false};
};

class KinesisFetcher {
 public:
  KinesisFetcher(const KinesisSourceOptions& options, std::unique_ptr<KinesisClient> client,
                 KinesisShared* shared);
  // Runs until shared->stop; call once, on its own thread.
  void Run();

 private:
  enum class Phase { kWaiting, kNeedIterator, kReading, kFinished };
  struct Shard {
    KinesisShard info;
    bool owned = false;
    bool listed = true;
    int input = -1;
    Phase phase = Phase::kWaiting;
    KinesisIteratorSpec start;
    std::string iterator;
    std::string fetched_seq;    // last record queued
    int64_t next_call = 0;      // steady ms
    std::deque<int64_t> calls;  // times of the last 5 GetRecords
    int failures = 0;
  };

  void Discover();
  void AddShard(const KinesisShard& info, bool first_listing);
  bool ParentsDone(const Shard& s) const;
  void ReleaseWaiting();
  // The owned shard to poll next and when it is due (INT64_MAX if none).
  Shard* NextDue(int64_t* due);
  void AcquireIterator(Shard* s);
  void Read(Shard* s);
  void Queue(Shard* s, KinesisRecords records, bool shard_end);
  void Failed(Shard* s, const absl::Status& status);
  int64_t Backoff(int* failures);
  void NoteError(const absl::Status& status);

  KinesisSourceOptions options_;
  std::unique_ptr<KinesisClient> client_;
  KinesisShared* shared_;
  std::map<std::string, Shard> shards_;
  bool listed_once_ = false;
  int64_t next_listing_ = 0;
  int listing_failures_ = 0;
  std::mt19937_64 rng_;
};

int64_t SteadyMs();

}  // namespace vigil::internal

#endif  // VIGIL_OPERATORS_SOURCE_KINESIS_FETCHER_H_
