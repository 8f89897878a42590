#include "operators/source/line_source.h"

#include <fcntl.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/strings.h"

namespace vigil {
namespace {

// A stream of bytes: a file descriptor, optionally zstd-decompressed.
class ByteStream {
 public:
  // With `idle`, Read returns it when a pipe, terminal or socket has had
  // nothing to read for kIdleMs: the job then goes round its loop (signals,
  // reloads, checkpoints, windows closed by the clock) instead of waiting in
  // read.
  static constexpr ssize_t kIdle = -2;
  static constexpr int kIdleMs = 100;

  // Bytes held in memory.
  explicit ByteStream(std::string bytes) : fd_(-1), owned_(false), mem_(std::move(bytes)) {}
  ByteStream(int fd, bool owned, bool zstd, bool idle = false) : fd_(fd), owned_(owned) {
    struct stat st;
    waits_ = idle && (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode));
    if (zstd) {
      dctx_ = ZSTD_createDStream();
      ZSTD_initDStream(dctx_);
      in_buf_.resize(ZSTD_DStreamInSize());
    }
  }
  ~ByteStream() {
    if (dctx_) ZSTD_freeDStream(dctx_);
    if (owned_) ::close(fd_);
  }

  // Returns bytes read, 0 at end, -1 on error (with status()), kIdle.
  ssize_t Read(char* buf, size_t n) {
    if (!dctx_) return ReadFd(buf, n);
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      if (in_.pos == in_.size) {
        ssize_t got = ReadFd(in_buf_.data(), in_buf_.size());
        if (got < 0) return got;
        if (got == 0) {
          if (!frame_done_) {
            status_ = absl::DataLossError("zstd input ends in the middle of a frame");
            return -1;
          }
          return 0;
        }
        in_ = ZSTD_inBuffer{in_buf_.data(), static_cast<size_t>(got), 0};
      }
      size_t rc = ZSTD_decompressStream(dctx_, &out, &in_);
      if (ZSTD_isError(rc)) {
        status_ = absl::DataLossError(StrCat("zstd: ", ZSTD_getErrorName(rc)));
        return -1;
      }
      frame_done_ = rc == 0;
    }
    return static_cast<ssize_t>(out.pos);
  }

  uint64_t raw_bytes() const { return raw_bytes_; }
  const absl::Status& status() const { return status_; }

 private:
  ssize_t ReadFd(char* buf, size_t n) {
    if (fd_ < 0) {
      const size_t got = std::min(n, mem_.size() - mem_pos_);
      std::memcpy(buf, mem_.data() + mem_pos_, got);
      mem_pos_ += got;
      raw_bytes_ += got;
      return static_cast<ssize_t>(got);
    }
    if (waits_) {
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, kIdleMs);
      if (ready == 0 || (ready < 0 && errno == EINTR)) return kIdle;
    }
    while (true) {
      ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) {
        raw_bytes_ += static_cast<uint64_t>(got);
        return got;
      }
      if (errno == EINTR) continue;
      if (waits_ && (errno == EAGAIN || errno == EWOULDBLOCK)) return kIdle;  // a named pipe
      status_ = absl::UnavailableError(StrCat("read: ", std::strerror(errno)));
      return -1;
    }
  }

  int fd_;
  bool owned_;
  bool waits_ = false;  // idle batches, and not a regular file: read may wait
  std::string mem_;     // fd_ < 0
  size_t mem_pos_ = 0;
  ZSTD_DStream* dctx_ = nullptr;
  std::vector<char> in_buf_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  bool frame_done_ = true;
  uint64_t raw_bytes_ = 0;
  absl::Status status_;
};

class LineSource : public RecordSource {
 public:
  LineSource(std::string name, std::unique_ptr<ByteStream> stream, size_t max_record,
             uint64_t total)
      : name_(std::move(name)), stream_(std::move(stream)), max_record_(max_record), total_(total) {
    // Room for two records of the limit at most, grown to it only when a
    // line needs it: most records are a few hundred bytes.
    max_capacity_ = std::max<size_t>(kInitialCapacity, 2 * max_record_);
    capacity_ = kInitialCapacity;
    buf_.resize(capacity_ + simdjson::SIMDJSON_PADDING);
  }

  // An empty batch when a pipe has been idle for ByteStream::kIdleMs.
  bool Next(std::vector<Record>* out, size_t max) override {
    out->clear();
    while (out->empty()) {
      // Read only when the buffer holds no complete line: compacting after
      // every batch would move megabytes per call.
      bool idle = false;
      if (!eof_ && !std::memchr(buf_.data() + begin_, '\n', end_ - begin_)) {
        Compact();
        if (end_ == capacity_ && capacity_ < max_capacity_) {
          // A line longer than the buffer and not yet over the limit.
          capacity_ = std::min(max_capacity_, 2 * capacity_);
          buf_.resize(capacity_ + simdjson::SIMDJSON_PADDING);
        }
        idle = !Fill();
      }
      Split(out, max);
      if (out->empty() && eof_ && begin_ == end_ && !skipping_) return false;
      if (idle) break;
    }
    return true;
  }

  const std::string& name() const override { return name_; }
  bool bounded() const override { return true; }
  absl::Status status() const override { return stream_->status(); }
  uint64_t bytes_read() const override { return stream_->raw_bytes(); }
  uint64_t bytes_total() const override { return total_; }

 private:
  static constexpr size_t kInitialCapacity = 4 << 20;

  void Compact() {
    if (begin_ == 0) return;
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }

  // Returns false when the stream was idle before a whole line came.
  bool Fill() {
    while (end_ < capacity_) {
      ssize_t got = stream_->Read(buf_.data() + end_, capacity_ - end_);
      if (got == ByteStream::kIdle) return false;
      if (got <= 0) {
        eof_ = true;
        return true;
      }
      end_ += static_cast<size_t>(got);
      if (std::memchr(buf_.data() + end_ - got, '\n', static_cast<size_t>(got))) return true;
    }
    return true;
  }

  void Emit(std::vector<Record>* out, size_t begin, size_t len) {
    std::string_view line(buf_.data() + begin, len);
    const uint64_t offset = consumed_;
    consumed_ += len + 1;
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Record r;
    r.line = line_no_;
    r.offset = offset;
    r.size = line.size();
    // Over the limit is oversized even when blank, as on the skipping path,
    // which does not look at what it skips.
    if (line.size() > max_record_) {
      r.oversized = true;
      line = line.substr(0, 256);
    } else if (line.find_first_not_of(" \t") == std::string_view::npos) {
      return;
    }
    r.data = line;
    out->push_back(r);
  }

  void Split(std::vector<Record>* out, size_t max) {
    // A skipped line may end at end of input with nothing left in the
    // buffer: the last read that found it empty still has to finish it.
    while (out->size() < max && (begin_ < end_ || (skipping_ && eof_))) {
      if (skipping_) {
        const char* nl =
            static_cast<const char*>(std::memchr(buf_.data() + begin_, '\n', end_ - begin_));
        size_t upto = nl ? static_cast<size_t>(nl - buf_.data()) : end_;
        if (upto > begin_) last_skipped_ = buf_[upto - 1];
        skipped_ += upto - begin_;
        begin_ = nl ? upto + 1 : end_;
        if (!nl && !eof_) return;
        skipping_ = false;
        FinishSkipped(out, skipped_);
        continue;
      }
      const char* nl =
          static_cast<const char*>(std::memchr(buf_.data() + begin_, '\n', end_ - begin_));
      if (nl == nullptr) {
        const size_t pending = end_ - begin_;
        if (eof_) {
          // The last line, whole in the buffer: judged like any other.
          Emit(out, begin_, pending);
          begin_ = end_;
        } else if (pending - (buf_[end_ - 1] == '\r') > max_record_) {
          // (A '\r' may be the one before the newline: not part of the line.)
          StartSkipping();
        }
        return;
      }
      const size_t len = static_cast<size_t>(nl - buf_.data()) - begin_;
      Emit(out, begin_, len);
      begin_ += len + 1;
    }
  }

  // A line past the limit with no newline in sight: keep its head for the
  // dead-letter record and discard the rest as it streams by.
  void StartSkipping() {
    head_.assign(buf_.data() + begin_, std::min<size_t>(256, end_ - begin_));
    last_skipped_ = buf_[end_ - 1];
    skipped_ = end_ - begin_;
    begin_ = end_;
    skipping_ = true;
  }

  void FinishSkipped(std::vector<Record>* out, uint64_t size) {
    // Sizes leave out a line's trailing '\r', as Emit does.
    const uint64_t text_size = last_skipped_ == '\r' ? size - 1 : size;
    if (head_.size() > text_size) head_.resize(text_size);
    // The head is copied to the start of the padded overflow area so the
    // record's view stays valid until the next call.
    overflow_.assign(head_.begin(), head_.end());
    overflow_.resize(head_.size() + simdjson::SIMDJSON_PADDING);
    Record r;
    r.line = ++line_no_;
    r.offset = consumed_;
    consumed_ += size + 1;
    r.size = text_size;
    r.oversized = true;
    r.data = std::string_view(overflow_.data(), head_.size());
    out->push_back(r);
  }

  std::string name_;
  std::unique_ptr<ByteStream> stream_;
  size_t max_record_;
  uint64_t total_;
  size_t capacity_;
  size_t max_capacity_ = 0;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t line_no_ = 0;
  uint64_t consumed_ = 0;
  bool skipping_ = false;
  uint64_t skipped_ = 0;
  char last_skipped_ = 0;
  std::string head_;
  std::vector<char> overflow_;
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RecordSource>> OpenFileSource(const std::string& path,
                                                             size_t max_record_bytes, bool idle) {
  // A named pipe read with idle batches opens without waiting for a writer
  // (a blocking open would hold the job, deaf to SIGTERM, until one came);
  // it then waits in poll, which reports data or, once a writer has come
  // and gone, the end.
  struct stat path_st {};
  const bool fifo = idle && ::stat(path.c_str(), &path_st) == 0 && S_ISFIFO(path_st.st_mode);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (fifo ? O_NONBLOCK : 0));
  if (fd < 0) return absl::NotFoundError(StrCat(path, ": ", std::strerror(errno)));
  struct stat st {};
  uint64_t total = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : 0;
  auto stream = std::make_unique<ByteStream>(fd, true, EndsWith(path, ".zst"), idle);
  return std::unique_ptr<RecordSource>(
      new LineSource(StrCat("file:", path), std::move(stream), max_record_bytes, total));
}

std::unique_ptr<RecordSource> OpenBufferSource(std::string name, std::string ndjson,
                                               size_t max_record_bytes) {
  const uint64_t total = ndjson.size();
  auto stream = std::make_unique<ByteStream>(std::move(ndjson));
  return std::make_unique<LineSource>(std::move(name), std::move(stream), max_record_bytes, total);
}

std::unique_ptr<RecordSource> OpenStdinSource(size_t max_record_bytes) {
  auto stream = std::make_unique<ByteStream>(0, false, false, /*idle=*/true);
  return std::make_unique<LineSource>("stdin", std::move(stream), max_record_bytes, 0);
}

}  // namespace vigil
