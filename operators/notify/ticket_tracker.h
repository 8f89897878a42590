// operators/notify/ticket_tracker.h
//
// The requests and replies of the ticket receivers: `jira` (Jira REST API
// v2) and `github` (GitHub REST API issues). A ticket receiver opens one
// ticket per alert group when it fires and never a second one while a
// ticket for the same fingerprint is open; NotifyTarget drives the steps:
//
//   firing:   known key?  -> Get(key): still open -> done (no new ticket)
//             else        -> Search(fingerprint): an open one -> remember it, done
//                         -> Create(alert) -> remember the new key
//   resolved: known key (or Search) -> Comment(key, alert); none -> done
//
// Every ticket carries the label `vigil-<fingerprint>` (16 hex digits), so a
// restarted job that lost its memory of the keys finds its open tickets by
// label. Jira: statusCategory "done" is closed; GitHub: state "closed".
//
// Summary and description are templates over the notification:
//   {{ $labels.NAME }} {{ $annotations.NAME }} {{ $value }} {{ $severity }}
//   {{ $window }} {{ $condition }} {{ $firedAt }} {{ $at }} {{ $url }}
// ($url is the alert's generatorURL, "" without notify.external_url). They
// are checked when the job file loads (TicketText::Parse).
//
// Example:
//   TicketTracker jira(receiver);               // kind jira, project KB
//   TicketRequest r = jira.Create(alert, ctx);   // POST /rest/api/2/issue {"fields":{...}}
//   std::string key = jira.CreatedKey(reply_body);   // "KB-17"
#ifndef VIGIL_OPERATORS_NOTIFY_TICKET_TRACKER_H_
#define VIGIL_OPERATORS_NOTIFY_TICKET_TRACKER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operators/net/http_client.h"
#include "operators/notify/notify_config.h"
#include "operators/notify/notify_payload.h"

namespace vigil {

// A summary or description template (see the header comment).
class TicketText {
 public:
  // On error, `*error` says what is wrong and `*pos` is its byte offset.
  static std::optional<TicketText> Parse(std::string_view text, std::string* error, size_t* pos);
  std::string Render(const Notification& alert, const PayloadContext& ctx) const;
  const std::string& source() const { return source_; }

 private:
  struct Part {
    std::string literal;  // text before the variable
    std::string var;      // "" = none; "labels", "annotations" or a plain variable
    std::string name;     // of $labels.NAME / $annotations.NAME
  };
  std::string source_;
  std::vector<Part> parts_;
};

struct TicketRequest {
  std::string method;
  std::string target;  // path and query on the receiver's origin
  std::string body;    // "" for GET
};

class TicketTracker {
 public:
  // `base_target`: the path of the receiver URL ("" or a prefix such as /jira).
  TicketTracker(const NotifyReceiver& receiver, std::string base_target);

  // The label that marks this alert's tickets: vigil-<fingerprint>.
  static std::string FingerprintLabel(std::string_view fingerprint);

  // Headers of every request; `auth` is the Authorization value.
  HttpHeaders Headers(const std::string& auth) const;

  TicketRequest Get(std::string_view key) const;
  TicketRequest Search(std::string_view fingerprint) const;
  TicketRequest Create(const Notification& alert, const PayloadContext& ctx) const;
  TicketRequest Comment(std::string_view key, const Notification& alert,
                        const PayloadContext& ctx) const;

  // Replies (bodies of 2xx answers). nullopt: not the JSON expected.
  std::optional<bool> IsOpen(std::string_view body) const;             // of Get
  std::optional<std::string> FoundKey(std::string_view body) const;    // of Search; "" = none
  std::optional<std::string> CreatedKey(std::string_view body) const;  // of Create
  // The error text of a 4xx reply (Jira errorMessages and errors, GitHub
  // message), "" when the body says nothing readable.
  static std::string ErrorText(std::string_view body);

 private:
  std::string IssuePath(std::string_view key) const;

  const NotifyReceiver& receiver_;
  const bool jira_;
  std::string base_;
};

// Percent-encodes `s` for a URL query value (RFC 3986 unreserved kept).
std::string QueryEscape(std::string_view s);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NOTIFY_TICKET_TRACKER_H_
