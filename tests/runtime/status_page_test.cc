// The status page at / (runtime/status_page.html): self-contained, served
// as built, and rendered by Debian's headless Chromium against a running job
// with an injected incident — the firing alert under its severity with what
// it tests (expression, threshold, for, window), its sparkline with the
// threshold and the shaded firing span, job health, sparklines of the recent
// windows, no script errors; after the incident, the resolved alert and its
// transitions, opened from the generatorURL Alertmanager received.
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kPagePath = VIGIL_SOURCE_DIR "/runtime/status_page.html";
// The only "://" the page may hold: the SVG namespace, a name that is never
// fetched.
const std::string kSvgNamespace = "http://www.w3.org/2000/svg";

// The values of every `attr="..."` in `html`.
std::vector<std::string> AttributeValues(const std::string& html, const std::string& attr) {
  std::vector<std::string> out;
  const std::regex re("\\s" + attr + "=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The part of the rendered page that shows severity `sev`.
std::string SeverityBlock(const std::string& dom, const std::string& sev) {
  const std::string open = "<div class=\"severity\" data-severity=\"" + sev + "\">";
  const size_t begin = dom.find(open);
  if (begin == std::string::npos) return "";
  const size_t end = dom.find("<div class=\"severity\"", begin + open.size());
  const size_t section_end = dom.find("</section>", begin);
  return dom.substr(begin, std::min(end, section_end) - begin);
}

// The polyline points of the sparkline in the card of `metric`.
std::vector<std::string> SparklinePoints(const std::string& dom, const std::string& metric) {
  const size_t card = dom.find("<div class=\"series\" data-metric=\"" + metric + "\">");
  if (card == std::string::npos) return {};
  const size_t poly = dom.find("<polyline points=\"", card);
  if (poly == std::string::npos) return {};
  const size_t begin = poly + std::string("<polyline points=\"").size();
  const std::string points = dom.substr(begin, dom.find('"', begin) - begin);
  std::vector<std::string> out;
  for (const std::string& p : Lines(std::regex_replace(points, std::regex(" "), "\n"))) {
    out.push_back(p);
  }
  return out;
}

// The item of alert rule `name` in a severity block.
std::string RuleItem(const std::string& block, const std::string& name) {
  const size_t begin = block.find("<li class=\"rule ");
  for (size_t at = begin; at != std::string::npos; at = block.find("<li class=\"rule ", at + 1)) {
    const size_t end = block.find("<li class=\"rule ", at + 1);
    std::string item = block.substr(at, end == std::string::npos ? end : end - at);
    if (item.find("data-rule=\"" + name + "\"") != std::string::npos) return item;
  }
  return "";
}

// The value of fact `name` of a rule item ("" when it has none).
std::string Fact(const std::string& rule, const std::string& name) {
  const std::string open = "<div data-fact=\"" + name + "\"><dt>" + name + "</dt><dd>";
  const size_t begin = rule.find(open);
  if (begin == std::string::npos) return "";
  const size_t from = begin + open.size();
  return rule.substr(from, rule.find("</dd></div>", from) - from);
}

TEST(StatusPageTest, ThePageIsSelfContained) {
  const std::string page = ReadFile(kPagePath);
  ASSERT_GT(page.size(), 1000u) << kPagePath;
  for (const char* fetches :
       {" src=", "<link", "url(", "@import", "<iframe", "<object", "<embed", "<img"}) {
    EXPECT_EQ(page.find(fetches), std::string::npos) << fetches;
  }
  size_t schemes = 0;
  for (size_t at = page.find("://"); at != std::string::npos; at = page.find("://", at + 3)) {
    ++schemes;
    EXPECT_EQ(page.compare(at - 4, kSvgNamespace.size(), kSvgNamespace), 0)
        << page.substr(at - 20, 60);
  }
  EXPECT_EQ(schemes, 1u);
  // The links in the page itself (for readers without JavaScript) stay on the job.
  const std::vector<std::string> hrefs = AttributeValues(page, "href");
  EXPECT_EQ(hrefs, (std::vector<std::string>{"api/status", "api/alerts", "api/metrics", "api/rules",
                                             "api/alerts/history", "api/silences"}));
}

class StatusPageE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Sh("command -v chromium >/dev/null").exit_code, 0)
        << "chromium is missing: run scripts/setup.sh (Debian package chromium)";
  }
  std::string Path(const std::string& name) { return TempPath("status_page_", name); }
  // The DOM after the page ran for `budget_ms` of virtual time.
  std::string RenderedDom(const std::string& url, int budget_ms) {
    const std::string profile = Path("chromium-profile");
    Result r =
        Sh("timeout 120 chromium --headless --disable-gpu --no-sandbox "
           "--disable-dev-shm-usage --no-first-run --user-data-dir=" +
           profile + " --virtual-time-budget=" + std::to_string(budget_ms) + " --dump-dom " + url +
           " 2>" + Path("chromium.log"));
    EXPECT_EQ(r.exit_code, 0) << ReadFile(Path("chromium.log"));
    return r.out;
  }
};

TEST_F(StatusPageE2eTest, ShowsTheFiringAlertUnderItsSeverityAndSparklines) {
  const std::string log = Path("run.log");
  // The Bedrock circuit breaker opens 1 minute into event time and stays
  // open: BedrockCircuitOpen (P1) fires and keeps firing.
  const pid_t job = Spawn(kVigil +
                              " run --generator --speed 600 --rate 50 --no-console "
                              "--incident bedrock_open@1m+1000h --http 127.0.0.1:0",
                          log);
  ChildGuard guard(job);
  const std::string base = JobHttpBase(log);
  ASSERT_FALSE(base.empty()) << ReadFile(log);

  // The job answers before anything is asserted of its pages; a job that
  // died is reported with its log.
  ASSERT_TRUE(WaitFor([&] { return HttpGet(base, "/healthz").first == 200; }, 30))
      << "alive: " << (::waitpid(job, nullptr, WNOHANG) == 0) << "\n"
      << ReadFile(log);

  // As served: the page file, byte for byte, at / and /status.
  const std::string page = ReadFile(kPagePath);
  for (const char* path : {"/", "/status"}) {
    Result r = Sh("curl -sS --max-time 20 -D " + Path("headers") + " " + base + path + " 2>" +
                  Path("curl.log"));
    EXPECT_EQ(r.out, page) << path << ": " << ReadFile(Path("curl.log")) << ReadFile(log);
    EXPECT_NE(ReadFile(Path("headers")).find("Content-Type: text/html; charset=utf-8"),
              std::string::npos)
        << ReadFile(Path("headers"));
  }

  // Wait for the alert to fire and for a full page of history (60 closed
  // windows of the breaker metric), so that the sparkline's size is exact.
  simdjson::dom::parser parser;
  std::string alerts, metrics;
  ASSERT_TRUE(WaitFor(
      [&] {
        alerts = HttpGet(base, "/api/alerts").second;
        return alerts.find("\"alert\":\"BedrockCircuitOpen\",\"state\":\"firing\"") !=
               std::string::npos;
      },
      30))
      << alerts << ReadFile(log);
  ASSERT_TRUE(WaitFor(
      [&] {
        metrics = HttpGet(base, "/api/metrics?history=60").second;
        simdjson::dom::array series;
        if (parser.parse(metrics).get(series) != simdjson::SUCCESS) return false;
        for (simdjson::dom::element s : series) {
          std::string_view name;
          simdjson::dom::array history;
          if (s["metric"].get(name) == simdjson::SUCCESS && name == "bedrock_breaker_open" &&
              s["history"].get(history) == simdjson::SUCCESS) {
            return history.size() == 60;
          }
        }
        return false;
      },
      30))
      << metrics;

  // ?fingerprint= keeps the one alert. (Its fingerprint read from the
  // parsed list: the list holds other alerts too, some of them pending a
  // moment only.)
  std::string fp;
  simdjson::dom::array listed;
  ASSERT_EQ(parser.parse(alerts).get(listed), simdjson::SUCCESS) << alerts;
  for (simdjson::dom::element a : listed) {
    std::string_view name, state, fingerprint;
    if (a["alert"].get(name) == simdjson::SUCCESS && name == "BedrockCircuitOpen" &&
        a["state"].get(state) == simdjson::SUCCESS && state == "firing" &&
        a["fingerprint"].get(fingerprint) == simdjson::SUCCESS) {
      fp = std::string(fingerprint);
    }
  }
  ASSERT_EQ(fp.size(), 16u) << alerts;
  const std::string one = HttpGet(base, "/api/alerts?fingerprint=" + fp).second;
  simdjson::dom::array picked;
  ASSERT_EQ(parser.parse(one).get(picked), simdjson::SUCCESS) << one;
  ASSERT_EQ(picked.size(), 1u) << one;
  EXPECT_EQ(std::string_view(picked.at(0)["alert"].get_string().value()), "BedrockCircuitOpen");
  EXPECT_EQ(std::string_view(picked.at(0)["fingerprint"].get_string().value()), fp);

  const std::string dom = RenderedDom(base + "/", 6000);
  ASSERT_NE(dom.find("</html>"), std::string::npos) << dom;
  // The page polled the job and no script failed.
  EXPECT_TRUE(std::regex_search(dom, std::regex("<body data-polls=\"[1-9]"))) << dom;
  EXPECT_NE(dom.find("<div id=\"errors\" class=\"errors\" hidden=\"\"></div>"), std::string::npos)
      << dom;
  EXPECT_NE(dom.find("<div id=\"banner\" class=\"banner\" hidden=\"\"></div>"), std::string::npos)
      << dom;
  EXPECT_NE(dom.find("<span id=\"ready\" class=\"badge ok\">ready</span>"), std::string::npos)
      << dom;

  // Job health.
  EXPECT_NE(dom.find("<div data-fact=\"source\"><dt>source</dt><dd>generator (live)</dd></div>"),
            std::string::npos)
      << dom;
  EXPECT_NE(dom.find("<tr data-input=\"generator\"><td>generator</td><td>active</td>"),
            std::string::npos)
      << dom;

  // The firing alert, under P1 and nowhere else, with its summary and runbook.
  const std::string alert =
      "<li class=\"alert firing\" data-alert=\"BedrockCircuitOpen\" data-state=\"firing\" "
      "data-fingerprint=\"";
  const std::string p1 = SeverityBlock(dom, "P1");
  const size_t at = p1.find(alert);
  ASSERT_NE(at, std::string::npos) << p1;
  const std::string item = p1.substr(at, p1.find("</li>", at) - at);
  EXPECT_NE(item.find("<span class=\"name\">BedrockCircuitOpen</span>"), std::string::npos) << item;
  EXPECT_NE(item.find("<div class=\"summary\">the Bedrock LLM circuit breaker is open</div>"),
            std::string::npos)
      << item;
  EXPECT_NE(item.find("<a class=\"runbook\" href=\"https://runbooks.example/chatbot/bedrock\""),
            std::string::npos)
      << item;
  EXPECT_NE(item.find("firing since "), std::string::npos) << item;
  for (const char* sev : {"P2", "P3", "P4"}) {
    const std::string block = SeverityBlock(dom, sev);
    EXPECT_FALSE(block.empty()) << sev;
    EXPECT_EQ(block.find("BedrockCircuitOpen"), std::string::npos) << block;
  }

  // What the rule tests, formatted as its summary formats values.
  const std::string rule = RuleItem(p1, "BedrockCircuitOpen");
  EXPECT_NE(rule.find("<li class=\"rule firing\" data-rule=\"BedrockCircuitOpen\" "
                      "data-state=\"firing\">"),
            std::string::npos)
      << rule;
  EXPECT_EQ(Fact(rule, "expr"), "<code>bedrock_breaker_open == 1</code>");
  EXPECT_EQ(Fact(rule, "threshold"), "bedrock_breaker_open == 1");
  EXPECT_EQ(Fact(rule, "for"), "0s");
  EXPECT_EQ(Fact(rule, "window"), "sliding 1h every 1m (bedrock_breaker_open)");
  EXPECT_EQ(Fact(RuleItem(p1, "ErrorRateCritical"), "threshold"), "error_rate &gt; 5%");
  EXPECT_EQ(Fact(RuleItem(SeverityBlock(dom, "P2"), "LatencyP95High"), "threshold"),
            "latency_p95_ms &gt; 3s");
  // The alert's sparkline: its threshold, and a firing span still open.
  EXPECT_NE(item.find("<line class=\"threshold\""), std::string::npos) << item;
  EXPECT_TRUE(std::regex_search(
      item, std::regex("<rect class=\"span firing\" [^>]*data-to=\"open\"></rect>")))
      << item;
  // Rules that do not fire are listed too, as inactive; a history
  // function compares with no threshold.
  const std::string declining = RuleItem(SeverityBlock(dom, "P4"), "ConversionDeclining");
  EXPECT_NE(declining.find("<li class=\"rule inactive\" data-rule=\"ConversionDeclining\" "
                           "data-state=\"inactive\">"),
            std::string::npos)
      << SeverityBlock(dom, "P4");
  EXPECT_EQ(Fact(declining, "expr"), "<code>declining(conversion_rate, 3)</code>");
  EXPECT_EQ(Fact(declining, "threshold"), "");
  // Its transition to firing is in the table.
  EXPECT_NE(dom.find("data-transition=\"firing\"><td>"), std::string::npos) << dom;

  // The breaker's sparkline: 60 windows across the full width.
  const std::string metrics_part = dom.substr(dom.find("<section id=\"metrics\">"));
  const std::vector<std::string> points = SparklinePoints(metrics_part, "bedrock_breaker_open");
  ASSERT_EQ(points.size(), 60u) << dom;
  EXPECT_EQ(points.front().substr(0, 4), "0.0,");
  EXPECT_EQ(points.back().substr(0, 6), "200.0,");
  // Every card has a sparkline with points, and shows its value formatted.
  const size_t cards = Count(metrics_part, "<div class=\"series\" ");
  const size_t lines = Count(metrics_part, "<polyline points=\"0.0,");
  EXPECT_TRUE(std::regex_search(
      metrics_part,
      std::regex("data-metric=\"error_rate\">.{0,200}<span class=\"value\">[0-9.]+%<")))
      << metrics_part;
  EXPECT_GT(cards, 10u);
  EXPECT_EQ(lines, cards);

  // Nothing in the rendered page is fetched from elsewhere; the only
  // absolute links are runbooks, which come from the rule annotations.
  EXPECT_TRUE(AttributeValues(dom, "src").empty());
  for (const std::string& href : AttributeValues(dom, "href")) {
    EXPECT_TRUE(href.rfind("api/", 0) == 0 || href.rfind("https://runbooks.example/", 0) == 0 ||
                href.rfind("?fingerprint=", 0) == 0)
        << href;
  }
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0);
}

TEST_F(StatusPageE2eTest, TheGeneratorUrlOpensTheAlertAfterItResolves) {
  // Alertmanager receives the page; its webhook goes nowhere.
  const std::string dir = Path("am");
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  std::unique_ptr<Alertmanager> am = Alertmanager::Start(dir, "http://127.0.0.1:9/");
  ASSERT_NE(am, nullptr);
  const std::string log = Path("resolve.log");
  // One event-minute per second: the breaker is open from 5m to 8m, so
  // BedrockCircuitOpen fires and resolves within seconds and its span stays
  // in the last 60 windows for a minute.
  const pid_t job = Spawn(kVigil +
                              " run --generator --speed 60 --rate 50 --no-console "
                              "--incident bedrock_open@5m+3m --http 127.0.0.1:0 --alertmanager " +
                              am->url(),
                          log);
  ChildGuard guard(job);
  const std::string base = JobHttpBase(log);
  ASSERT_FALSE(base.empty()) << ReadFile(log);

  // The generatorURL Alertmanager got names the port the job bound.
  std::string generator_url, am_alerts;
  ASSERT_TRUE(WaitFor(
      [&] {
        am_alerts = HttpGet(am->url(), "/api/v2/alerts").second;
        std::smatch m;
        if (!std::regex_search(am_alerts, m,
                               std::regex("\"generatorURL\":\"([^\"]*)\"[^{}]*\\{[^{}]*"
                                          "\"alertname\":\"BedrockCircuitOpen\"")) &&
            !std::regex_search(am_alerts, m,
                               std::regex("\"alertname\":\"BedrockCircuitOpen\"[^{}]*\\}[^{}]*"
                                          "\"generatorURL\":\"([^\"]*)\""))) {
          return false;
        }
        generator_url = m[1].str();
        return true;
      },
      30))
      << am_alerts << ReadFile(log);
  const std::string prefix = base + "/status?fingerprint=";
  ASSERT_EQ(generator_url.rfind(prefix, 0), 0u) << generator_url;
  const std::string fp = generator_url.substr(prefix.size());
  ASSERT_EQ(fp.size(), 16u) << generator_url;

  // It resolves; its transitions stay.
  simdjson::dom::parser parser;
  std::string history, fired_at, resolved_at;
  ASSERT_TRUE(WaitFor(
      [&] {
        history = HttpGet(base, "/api/alerts/history?fingerprint=" + fp).second;
        simdjson::dom::array all;
        if (parser.parse(history).get(all) != simdjson::SUCCESS) return false;
        for (simdjson::dom::element t : all) {
          std::string_view state, at, fired;
          if (t["state"].get(state) || t["at"].get(at)) return false;
          if (state == "resolved" && !t["fired_at"].get(fired)) {
            fired_at = std::string(fired);
            resolved_at = std::string(at);
            return true;
          }
        }
        return false;
      },
      30))
      << history;
  EXPECT_EQ(HttpGet(base, "/api/alerts?fingerprint=" + fp).second, "[]");
  EXPECT_EQ(
      HttpGet(base, "/api/alerts?fp=1"),
      (std::pair<int, std::string>{400, "unknown parameter 'fp' (allowed: fingerprint=F)\n"}));

  const std::string dom = RenderedDom(generator_url, 6000);
  ASSERT_NE(dom.find("</html>"), std::string::npos) << dom;
  EXPECT_NE(dom.find("<div id=\"errors\" class=\"errors\" hidden=\"\"></div>"), std::string::npos)
      << dom;
  // The page opened at the alert: marked, and named at the top.
  const std::string item_open =
      "<li class=\"alert inactive focused\" data-alert=\"BedrockCircuitOpen\" "
      "data-state=\"inactive\" data-fingerprint=\"" +
      fp + "\">";
  const std::string p1 = SeverityBlock(dom, "P1");
  const size_t at = p1.find(item_open);
  ASSERT_NE(at, std::string::npos) << p1;
  const std::string item = p1.substr(at, p1.find("</li>", at) - at);
  EXPECT_NE(dom.find("<div id=\"focus\" class=\"focus\">Opened at alert <span "
                     "class=\"name\">BedrockCircuitOpen</span>"),
            std::string::npos)
      << dom;
  // The resolved alert under its inactive rule, with when it fired and
  // resolved and the firing span shaded on its sparkline.
  const std::string rule = RuleItem(p1, "BedrockCircuitOpen");
  EXPECT_NE(rule.find("data-state=\"inactive\">"), std::string::npos) << rule;
  EXPECT_EQ(Fact(rule, "expr"), "<code>bedrock_breaker_open == 1</code>");
  auto shown = [](const std::string& t) {  // as the page writes times
    return std::regex_replace(std::regex_replace(t, std::regex("T"), " "), std::regex("\\.\\d+Z$"),
                              "Z");
  };
  EXPECT_NE(item.find("resolved at " + shown(resolved_at) + ", firing since " + shown(fired_at)),
            std::string::npos)
      << item;
  std::smatch span;
  ASSERT_TRUE(std::regex_search(
      item, span,
      std::regex("<rect class=\"span firing\" x=\"([0-9.]+)\" y=\"0\" width=\"([0-9.]+)\" "
                 "height=\"36\" data-from=\"" +
                 fired_at + "\" data-to=\"" + resolved_at + "\">")))
      << item;
  const double x = std::stod(span[1].str()), width = std::stod(span[2].str());
  // The breaker's windows begin when it opens: the span starts at the left
  // edge and covers three of at most 60 windows.
  EXPECT_GE(x, 0);
  EXPECT_GE(width, 3.0 / 60 * 200 - 0.1);
  EXPECT_LE(x + width, 200);
  EXPECT_NE(item.find("<line class=\"threshold\""), std::string::npos) << item;
  // The transitions table, newest first: resolved, then firing.
  const size_t resolved_row =
      dom.find("<tr data-fingerprint=\"" + fp + "\" data-transition=\"resolved\"><td>" +
               shown(resolved_at) + "</td>");
  const size_t firing_row =
      dom.find("<tr data-fingerprint=\"" + fp + "\" data-transition=\"firing\"><td>" +
               shown(fired_at) + "</td>");
  EXPECT_NE(resolved_row, std::string::npos) << dom;
  EXPECT_NE(firing_row, std::string::npos) << dom;
  EXPECT_LT(resolved_row, firing_row);

  // A fingerprint nothing has: said so.
  const std::string unknown = RenderedDom(base + "/status?fingerprint=0000000000000000", 4000);
  EXPECT_NE(unknown.find("No alert with fingerprint 0000000000000000 is active or among the last "),
            std::string::npos)
      << unknown;
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0);
}

}  // namespace
}  // namespace vigil
