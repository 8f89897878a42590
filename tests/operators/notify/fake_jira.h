// tests/operators/notify/fake_jira.h
//
// FakeJira answers the part of the Jira REST API v2 the jira receiver uses,
// over real HTTP on loopback (RecordingReceiver), and checks each request's
// shape the way Jira does:
//   POST /rest/api/2/issue                 201 {"id","key","self"}; 400 with
//                                          errorMessages/errors on a bad body
//   GET  /rest/api/2/search?jql=...        issues by project, label and
//                                          "statusCategory != Done"
//   GET  /rest/api/2/issue/KEY?fields=status   404 for an unknown key
//   POST /rest/api/2/issue/KEY/comment     201
// A request without the expected Authorization header gets 401. Tests close
// tickets (Close) as the content team would, and script failures on the
// underlying receiver (rx().FailNext).
//
// Example:
//   FakeJira jira("Basic Ym90QGV4YW1wbGUuY29tOnRvaw==");
//   ... a jira receiver with url jira.url() ...
//   jira.Issues()[0].summary;
#ifndef VIGIL_TESTS_OPERATORS_NOTIFY_FAKE_JIRA_H_
#define VIGIL_TESTS_OPERATORS_NOTIFY_FAKE_JIRA_H_

#include <simdjson.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "tests/operators/notify/recording_receiver.h"

namespace vigil::testing_util {

class FakeJira {
 public:
  struct Issue {
    std::string key, project, issue_type, priority, summary, description;
    std::vector<std::string> labels;
    std::vector<std::string> comments;
    bool done = false;
  };

  explicit FakeJira(std::string authorization) : auth_(std::move(authorization)) {
    rx_.SetHandler([this](const RecordedRequest& r) { return Handle(r); });
  }
  std::string url() const { return rx_.url(); }
  RecordingReceiver& rx() { return rx_; }

  std::vector<Issue> Issues() const {
    std::lock_guard lock(mu_);
    return issues_;
  }
  void Close(const std::string& key) {
    std::lock_guard lock(mu_);
    for (Issue& i : issues_) {
      if (i.key == key) i.done = true;
    }
  }
  // Issues with `label`, in creation order.
  std::vector<Issue> WithLabel(const std::string& label) const {
    std::vector<Issue> out;
    for (const Issue& i : Issues()) {
      if (std::find(i.labels.begin(), i.labels.end(), label) != i.labels.end()) out.push_back(i);
    }
    return out;
  }

  static std::string UrlDecode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
        i += 2;
      } else {
        out.push_back(s[i] == '+' ? ' ' : s[i]);
      }
    }
    return out;
  }

 private:
  using Reply = RecordingReceiver::Reply;

  static Reply Error(int status, const std::string& message) {
    return {status, "{\"errorMessages\":[\"" + message + "\"],\"errors\":{}}", ""};
  }

  static std::string Quoted(const std::string& jql, const std::string& field) {
    const std::string prefix = field + " = \"";
    const size_t p = jql.find(prefix);
    if (p == std::string::npos) return "";
    const size_t start = p + prefix.size();
    return jql.substr(start, jql.find('"', start) - start);
  }

  Reply Handle(const RecordedRequest& r) {
    if (r.headers.find("\r\nAuthorization: " + auth_ + "\r\n") == std::string::npos &&
        !r.headers.ends_with("\r\nAuthorization: " + auth_)) {
      return Error(401,
                   "You are not authenticated. Authentication required to perform this "
                   "operation.");
    }
    const std::string path = r.target.substr(0, r.target.find('?'));
    const std::string query =
        r.target.find('?') == std::string::npos ? "" : r.target.substr(r.target.find('?') + 1);
    std::lock_guard lock(mu_);
    if (r.method == "POST" && path == "/rest/api/2/issue") return Create(r.body);
    if (r.method == "GET" && path == "/rest/api/2/search") return Search(query);
    const std::string issue_prefix = "/rest/api/2/issue/";
    if (path.starts_with(issue_prefix)) {
      std::string key = path.substr(issue_prefix.size());
      const bool comment = key.ends_with("/comment");
      if (comment) key.resize(key.size() - 8);
      for (Issue& i : issues_) {
        if (i.key != key) continue;
        if (comment && r.method == "POST") {
          simdjson::dom::parser parser;
          std::string_view body;
          if (parser.parse(r.body)["body"].get_string().get(body) != simdjson::SUCCESS) {
            return Error(400, "Comment body can not be empty!");
          }
          i.comments.emplace_back(body);
          return {201, "{\"id\":\"" + std::to_string(i.comments.size()) + "\"}", ""};
        }
        if (!comment && r.method == "GET") {
          return {200,
                  "{\"key\":\"" + key + "\",\"fields\":{\"status\":{\"name\":\"" +
                      (i.done ? "Done" : "To Do") + "\",\"statusCategory\":{\"key\":\"" +
                      (i.done ? "done" : "new") + "\"}}}}",
                  ""};
        }
      }
      return Error(404, "Issue does not exist or you do not have permission to see it.");
    }
    return Error(404, "no such endpoint");
  }

  Reply Create(const std::string& body) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body).get(doc) != simdjson::SUCCESS) return Error(400, "Unexpected character");
    Issue issue;
    std::string_view s;
    simdjson::dom::element f = doc["fields"];
    if (f["project"]["key"].get_string().get(s) != simdjson::SUCCESS || s.empty()) {
      return {400, R"({"errorMessages":[],"errors":{"project":"project is required"}})", ""};
    }
    issue.project = std::string(s);
    if (f["issuetype"]["name"].get_string().get(s) != simdjson::SUCCESS) {
      return {400, R"({"errorMessages":[],"errors":{"issuetype":"issue type is required"}})", ""};
    }
    issue.issue_type = std::string(s);
    if (f["summary"].get_string().get(s) != simdjson::SUCCESS || s.empty() ||
        s.find('\n') != std::string_view::npos) {
      return {
          400,
          R"({"errorMessages":[],"errors":{"summary":"You must specify a summary of the issue."}})",
          ""};
    }
    issue.summary = std::string(s);
    if (f["description"].get_string().get(s) == simdjson::SUCCESS) issue.description = s;
    if (f["priority"]["name"].get_string().get(s) == simdjson::SUCCESS) issue.priority = s;
    simdjson::dom::array labels;
    if (f["labels"].get_array().get(labels) == simdjson::SUCCESS) {
      for (simdjson::dom::element l : labels) {
        if (l.get_string().get(s) != simdjson::SUCCESS || s.find(' ') != std::string_view::npos) {
          return {400,
                  R"({"errorMessages":[],"errors":{"labels":"Labels cannot contain spaces."}})",
                  ""};
        }
        issue.labels.emplace_back(s);
      }
    }
    const size_t n = issues_.size() + 1;
    issue.key = issue.project + "-" + std::to_string(n);
    issues_.push_back(issue);
    const std::string id = std::to_string(10000 + n);
    return {201,
            "{\"id\":\"" + id + "\",\"key\":\"" + issue.key + "\",\"self\":\"" + url() +
                "/rest/api/2/issue/" + id + "\"}",
            ""};
  }

  Reply Search(const std::string& query) {
    std::string jql;
    for (size_t p = 0; p < query.size();) {
      size_t amp = query.find('&', p);
      if (amp == std::string::npos) amp = query.size();
      const std::string part = query.substr(p, amp - p);
      if (part.starts_with("jql=")) jql = UrlDecode(part.substr(4));
      p = amp + 1;
    }
    const std::string project = Quoted(jql, "project");
    const std::string label = Quoted(jql, "labels");
    const bool open_only = jql.find("statusCategory != Done") != std::string::npos;
    std::string items;
    int total = 0;
    for (const Issue& i : issues_) {
      if (i.project != project || (open_only && i.done)) continue;
      if (std::find(i.labels.begin(), i.labels.end(), label) == i.labels.end()) continue;
      if (total++ > 0) items += ",";
      items += "{\"id\":\"1\",\"key\":\"" + i.key + "\"}";
    }
    return {200,
            "{\"startAt\":0,\"maxResults\":1,\"total\":" + std::to_string(total) + ",\"issues\":[" +
                items + "]}",
            ""};
  }

  const std::string auth_;
  mutable std::mutex mu_;
  std::vector<Issue> issues_;
  RecordingReceiver rx_;  // last: stops (joins its threads) before the rest goes
};

}  // namespace vigil::testing_util

#endif  // VIGIL_TESTS_OPERATORS_NOTIFY_FAKE_JIRA_H_
