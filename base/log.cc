#include "base/log.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>

namespace vigil {
namespace {

std::mutex& LogMutex() {
  static std::mutex mu;
  return mu;
}
bool g_progress_showing = false;  // guarded by LogMutex()

}  // namespace

void Log(std::string_view message) {
  std::string line;
  line.reserve(message.size() + 9);
  std::lock_guard<std::mutex> lock(LogMutex());
  if (g_progress_showing) line.push_back('\n');
  g_progress_showing = false;
  line.append("vigil: ").append(message).push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void Logf(const char* format, ...) {
  char small[512];
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(small, sizeof small, format, args);
  va_end(args);
  if (n < 0) {
    va_end(again);
    return;
  }
  if (static_cast<size_t>(n) < sizeof small) {
    va_end(again);
    Log(std::string_view(small, static_cast<size_t>(n)));
    return;
  }
  std::string big(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(big.data(), big.size(), format, again);
  va_end(again);
  big.resize(static_cast<size_t>(n));
  Log(big);
}

void ShowProgress(std::string_view text, bool final) {
  std::string line = "\r\033[K";
  line.append(text);
  if (final) line.push_back('\n');
  std::lock_guard<std::mutex> lock(LogMutex());
  g_progress_showing = !final;
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace vigil
