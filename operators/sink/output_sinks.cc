#include "operators/sink/output_sinks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"

namespace vigil {

void AppendAlertJson(const AlertNotice& n, std::string* out) {
  out->append("{\"at\":\"");
  AppendTimestamp(n.at, out);
  StrAppend(out, "\",\"alert\":");
  AppendJsonString(n.def->name, out);
  StrAppend(out, ",\"state\":\"", TransitionName(n.transition), "\",\"severity\":\"",
            SeverityName(n.def->severity), "\",\"value\":");
  AppendJsonNumber(n.value, out);
  if (n.resolved_value) {
    out->append(",\"resolved_value\":");
    AppendJsonNumber(*n.resolved_value, out);
  }
  out->append(",\"labels\":");
  AppendJsonObject(n.labels, out);
  out->append(",\"annotations\":");
  AppendJsonObject(n.annotations, out);
  if (n.active_since != kMinTime) {
    out->append(",\"active_since\":\"");
    AppendTimestamp(n.active_since, out);
    out->push_back('"');
  }
  if (n.fired_at != kMinTime && n.transition != Transition::kPending &&
      n.transition != Transition::kInactive) {
    out->append(",\"fired_at\":\"");
    AppendTimestamp(n.fired_at, out);
    out->push_back('"');
  }
  // Said when it is not the rule: held back, or sent and suppressed since
  // (an inhibitor or a silence that began after the page).
  const bool suppressed = !n.inhibited_by.empty() || !n.silenced_by.empty();
  if ((!n.notify || suppressed) &&
      (n.transition == Transition::kFiring || n.transition == Transition::kResolved)) {
    out->append(n.notify ? ",\"notify\":true" : ",\"notify\":false");
  }
  if (!n.inhibited_by.empty()) {
    out->append(",\"inhibited_by\":");
    AppendJsonString(n.inhibited_by, out);
  }
  if (!n.silenced_by.empty()) {
    out->append(",\"silenced_by\":");
    AppendJsonString(n.silenced_by, out);
  }
  if (n.released) out->append(",\"released\":true");
  out->push_back('}');
}

void AppendWindowJson(const WindowResult& r, std::string* out) {
  out->append("{\"metric\":");
  AppendJsonString(r.def->name, out);
  out->append(",\"start\":\"");
  AppendTimestamp(r.start, out);
  out->append("\",\"end\":\"");
  AppendTimestamp(r.end, out);
  out->append("\",\"labels\":{");
  for (size_t i = 0; i < r.labels.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(r.def->by[i], out);
    out->push_back(':');
    AppendJsonString(r.labels[i], out);
  }
  out->append("},\"value\":");
  AppendJsonNumber(r.value, out);
  if (r.partial) out->append(",\"partial\":true");
  out->push_back('}');
}

std::string AlertLine(const AlertNotice& n) {
  std::string s;
  AppendTimestamp(n.at, &s);
  std::string state = std::string(TransitionName(n.transition));
  for (char& c : state) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  state.resize(9, ' ');
  StrAppend(&s, " ", state, " ", SeverityName(n.def->severity), " ", n.def->name, " value=");
  AppendValueText(Value::Number(n.value), &s);
  if (n.resolved_value) {
    s += " resolved_value=";
    AppendValueText(Value::Number(*n.resolved_value), &s);
  }
  std::string labels;
  for (const auto& [k, v] : n.labels) {
    if (k == "alertname" || k == "severity") continue;
    if (!labels.empty()) labels += ",";
    AppendLabel(k, v, &labels);
  }
  if (!labels.empty()) StrAppend(&s, " {", labels, "}");
  for (const auto& [k, v] : n.annotations) {
    if (k == "summary") {
      s += " — ";
      AppendOneLine(v, &s);
    }
  }
  if (!n.inhibited_by.empty()) StrAppend(&s, " (inhibited by ", n.inhibited_by, ")");
  if (!n.silenced_by.empty()) StrAppend(&s, " (silenced by ", n.silenced_by, ")");
  if (n.released) s += " (notified now: no longer held back)";
  if (!n.notify && n.transition == Transition::kResolved) s += " (not notified: it never was)";
  return s;
}

absl::StatusOr<std::unique_ptr<LineWriter>> LineWriter::Open(const std::string& path,
                                                             std::optional<uint64_t> resume_size) {
  if (path == "-") return std::make_unique<LineWriter>(stdout);
  FILE* f = nullptr;
  if (resume_size) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    // Only a regular file is cut back to its checkpointed size: a device
    // (/dev/null) or a pipe has nothing to cut and is written on.
    struct stat st {};
    const bool regular = fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (regular && static_cast<uint64_t>(st.st_size) < *resume_size) {
      // Moved away or rotated since the checkpoint: written on from its
      // end, never padded out to the saved size.
      Log(StrCat(path, " holds ", st.st_size, " bytes, less than the ", *resume_size,
                 " the checkpoint saved (moved or rotated since?); writing on after what it "
                 "holds"));
      resume_size = static_cast<uint64_t>(st.st_size);
    }
    if (fd < 0 ||
        (regular && (::ftruncate(fd, static_cast<off_t>(*resume_size)) != 0 ||
                     ::lseek(fd, 0, SEEK_END) < 0)) ||
        (f = ::fdopen(fd, "w")) == nullptr) {
      if (fd >= 0) ::close(fd);
      return absl::InvalidArgumentError(StrCat(path, ": ", std::strerror(errno)));
    }
  } else {
    f = std::fopen(path.c_str(), "w");
  }
  if (f == nullptr) return absl::InvalidArgumentError(StrCat(path, ": ", std::strerror(errno)));
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  return std::unique_ptr<LineWriter>(new LineWriter(f, true));
}

LineWriter::~LineWriter() {
  if (owned_) {
    std::fclose(file_);
  } else {
    std::fflush(file_);
  }
}

void LineWriter::Write(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fputc('\n', file_);
}

void LineWriter::Flush() { std::fflush(file_); }

uint64_t LineWriter::Sync() {
  std::fflush(file_);
  if (!owned_) return 0;
  ::fsync(::fileno(file_));
  const off_t end = ::lseek(::fileno(file_), 0, SEEK_CUR);
  return end < 0 ? 0 : static_cast<uint64_t>(end);
}

void ConsoleAlertSink::OnAlert(const AlertNotice& n) {
  if (!show_pending_ &&
      (n.transition == Transition::kPending || n.transition == Transition::kInactive)) {
    return;
  }
  if (format_ == OutputFormat::kJson) {
    std::string s;
    AppendAlertJson(n, &s);
    out_->Write(s);
  } else {
    out_->Write(AlertLine(n));
  }
  out_->Flush();
}

void ResultFileSink::OnWindow(const WindowResult& r) {
  buf_.clear();
  AppendWindowJson(r, &buf_);
  out_->Write(buf_);
}

namespace {

// `s` without a UTF-8 character its cut left incomplete at the end, so that
// the kept prefix does not end in replacement characters.
std::string_view WholeCharacters(std::string_view s) {
  size_t back = 0;  // continuation bytes at the end
  while (back < 3 && back < s.size() &&
         (static_cast<unsigned char>(s[s.size() - 1 - back]) & 0xC0) == 0x80) {
    ++back;
  }
  if (back == s.size()) return s;
  const auto lead = static_cast<unsigned char>(s[s.size() - 1 - back]);
  const size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  if (lead >= 0xC0 && back + 1 < need) return s.substr(0, s.size() - 1 - back);
  return s;
}

}  // namespace

void DeadLetterWriter::Begin(DeadReason reason, std::string_view detail,
                             const std::string& source) {
  buf_.assign("{\"reason\":\"");
  StrAppend(&buf_, DeadReasonName(reason), "\",\"detail\":");
  AppendJsonString(detail, &buf_);
  buf_.append(",\"source\":");
  AppendJsonString(source, &buf_);
}

void DeadLetterWriter::Finish(TimeMs ts, std::string_view data, bool truncated) {
  if (ts != kMinTime) {
    buf_.append(",\"ts\":\"");
    AppendTimestamp(ts, &buf_);
    buf_.push_back('"');
  }
  if (truncated) {
    buf_.append(",\"truncated\":true");  // cut, not only too long
    data = WholeCharacters(data);
  }
  buf_.append(",\"record\":");
  AppendJsonString(data, &buf_);
  buf_.push_back('}');
  out_->Write(buf_);
}

void DeadLetterWriter::Write(DeadReason reason, std::string_view detail, const std::string& source,
                             const Record& record, TimeMs ts) {
  Begin(reason, detail, source);
  StrAppend(&buf_, ",\"input\":", record.input);
  if (lines_) StrAppend(&buf_, ",\"line\":", record.line);
  if (offsets_) StrAppend(&buf_, ",\"offset\":", record.offset);
  StrAppend(&buf_, ",\"size\":", record.size);
  Finish(ts, record.data, record.data.size() < record.size);
}

void DeadLetterWriter::WriteBuilt(DeadReason reason, std::string_view detail,
                                  const std::string& source, std::string_view record, TimeMs ts) {
  Begin(reason, detail, source);
  Finish(ts, record, false);
}

}  // namespace vigil
