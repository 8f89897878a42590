#include "base/time.h"

#include <charconv>
#include <cstdio>

namespace vigil {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Inverse of DaysFromCivil (H. Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool BeyondMillis(std::string_view s) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos) return false;
  for (size_t i = dot + 1, n = 0; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++n) {
    if (n >= 3 && s[i] != '0') return true;
  }
  return false;
}

std::optional<TimeMs> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  int y, mo, d, h, mi, sec;
  // Year 10000 is read too: a window holding the last event times of 9999
  // ends in it, and its results are read back.
  const bool y10k = s.substr(0, 6) == "10000-";
  if (y10k) s.remove_prefix(1);
  if (s.size() < 20) return std::nullopt;
  if (!Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d))
    return std::nullopt;
  if (y10k) y = 10000;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  if (!Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 || sec > 60)
    return std::nullopt;
  size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  int64_t offset_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  if (sec == 60) sec = 59;  // a leap second is folded into the second before it
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
  return secs * 1000 + millis;
}

void AppendJsonTimestamp(TimeMs t, std::string* out) {
  if (t == kMinTime || t == kMaxTime) {
    out->append("null");
    return;
  }
  out->push_back('"');
  AppendTimestamp(t, out);
  out->push_back('"');
}

void AppendTimestamp(TimeMs t, std::string* out) {
  const int64_t days = FloorDiv(t, 86400000);
  int64_t rem = t - days * 86400000;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  const int h = static_cast<int>(rem / 3600000);
  rem %= 3600000;
  const int mi = static_cast<int>(rem / 60000);
  rem %= 60000;
  const int s = static_cast<int>(rem / 1000);
  const int ms = static_cast<int>(rem % 1000);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                        static_cast<long long>(y), m, d, h, mi, s, ms);
  out->append(buf, static_cast<size_t>(n));
}

std::string FormatTimestamp(TimeMs t) {
  std::string s;
  AppendTimestamp(t, &s);
  return s;
}

std::optional<DurationMs> ParseDuration(std::string_view s) {
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  DurationMs total = 0;
  int last_rank = 100;
  size_t pos = 0;
  while (pos < s.size()) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), n);
    if (ec != std::errc() || n < 0) return std::nullopt;
    pos = static_cast<size_t>(p - s.data());
    DurationMs unit;
    int rank;
    if (s.substr(pos, 2) == "ms") {
      unit = 1, rank = 0, pos += 2;
    } else if (pos < s.size()) {
      switch (s[pos]) {
        case 's':
          unit = 1000, rank = 1;
          break;
        case 'm':
          unit = 60000, rank = 2;
          break;
        case 'h':
          unit = 3600000, rank = 3;
          break;
        case 'd':
          unit = 86400000, rank = 4;
          break;
        case 'w':
          unit = 7 * 86400000LL, rank = 5;
          break;
        default:
          return std::nullopt;
      }
      ++pos;
    } else {
      return std::nullopt;
    }
    if (rank >= last_rank) return std::nullopt;
    last_rank = rank;
    if (n > kMaxDuration / unit || total > kMaxDuration - n * unit) return std::nullopt;
    total += n * unit;
  }
  return total;
}

std::string FormatDuration(DurationMs d) {
  if (d == 0) return "0s";
  std::string out;
  if (d < 0) {
    out.push_back('-');
    d = -d;
  }
  static constexpr struct {
    DurationMs unit;
    const char* name;
  } kUnits[] = {{7 * 86400000LL, "w"}, {86400000, "d"}, {3600000, "h"},
                {60000, "m"},          {1000, "s"},     {1, "ms"}};
  for (const auto& u : kUnits) {
    if (d >= u.unit) {
      out += std::to_string(d / u.unit);
      out += u.name;
      d %= u.unit;
    }
  }
  return out;
}

bool LoadIanaTimeZone(std::string_view name, absl::TimeZone* out) {
  if (name.empty() || name == "localtime" || name == "posixrules" || name.front() == '/' ||
      name.find("..") != std::string_view::npos) {
    return false;
  }
  return absl::LoadTimeZone(std::string(name), out);
}

}  // namespace vigil
