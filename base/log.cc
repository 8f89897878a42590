#include "base/log.h"

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
