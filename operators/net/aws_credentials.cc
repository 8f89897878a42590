#include "operators/net/aws_credentials.h"

#include <simdjson.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/clock.h"
#include "base/strings.h"
#include "operators/net/http_client.h"
#include "operators/net/xml_text.h"

namespace vigil {

namespace {

constexpr DurationMs kRefreshBefore = 5 * 60 * 1000;
constexpr char kEcsHost[] = "http://169.254.170.2";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

absl::StatusOr<std::string> ReadToken(const std::string& path, std::string_view variable) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(StrCat(variable, ": cannot read the token file ", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return std::string(Strip(ss.str()));
}

// A plain-http credentials endpoint must not leave the machine or the task:
// loopback, or link-local (the ECS and EKS agents).
bool TrustedHttpHost(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]" || host == "::1" ||
         host.rfind("169.254.", 0) == 0 || host == "[fd00:ec2::23]" || host == "fd00:ec2::23";
}

// One GET or POST to `url`; the body of a 2xx answer. Messages show the
// URL redacted and never the answer (it holds the credentials).
absl::StatusOr<std::string> Request(const std::string& url, std::string_view method,
                                    std::string_view body, const HttpHeaders& headers,
                                    std::string_view what) {
  absl::StatusOr<HttpUrl> at = HttpUrl::Parse(url);
  if (!at.ok()) return at.status();
  HttpClient::Options options;
  options.timeout = std::chrono::seconds(5);
  HttpClient client(*at, options);
  absl::StatusOr<HttpClientResponse> r = client.Send(method, at->target, body, headers);
  if (!r.ok()) {
    return absl::UnavailableError(
        StrCat(what, " at ", at->Redacted(), ": ", std::string(r.status().message())));
  }
  if (r->status < 200 || r->status >= 300) {
    const std::string code = XmlText(r->body, "Code");
    const std::string why = StrCat(what, " at ", at->Redacted(), ": HTTP ", r->status,
                                   code.empty() ? "" : StrCat(" ", code));
    if (r->status >= 500 || r->status == 429) return absl::UnavailableError(why);
    return absl::PermissionDeniedError(why);
  }
  return std::move(r->body);
}

// ISO 8601 expiry, or kMaxTime when absent.
absl::StatusOr<TimeMs> Expiry(std::string_view text, std::string_view what) {
  if (text.empty()) return kMaxTime;
  std::optional<TimeMs> t = ParseRfc3339(text);
  if (!t) return absl::InvalidArgumentError(StrCat(what, ": an expiry that is no time"));
  return *t;
}

}  // namespace

std::shared_ptr<AwsCredentialSource> AwsCredentialSource::Fixed(AwsCredentials credentials) {
  std::shared_ptr<AwsCredentialSource> s(new AwsCredentialSource(Kind::kFixed, "the environment"));
  absl::MutexLock lock(&s->mu_);  // not shared yet; the annotations want it
  s->held_ = std::move(credentials);
  s->expires_ = kMaxTime;
  return s;
}

absl::StatusOr<std::shared_ptr<AwsCredentialSource>> AwsCredentialSource::FromEnvironment() {
  if (!Env("AWS_ACCESS_KEY_ID").empty()) {
    absl::StatusOr<AwsCredentials> c = AwsCredentials::FromEnvironment();
    if (!c.ok()) return c.status();
    return Fixed(std::move(*c));
  }
  std::shared_ptr<AwsCredentialSource> s;
  const std::string full = Env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  const std::string relative = Env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const std::string token_file = Env("AWS_WEB_IDENTITY_TOKEN_FILE");
  if (!full.empty() || !relative.empty()) {
    const std::string url = relative.empty() ? full : StrCat(kEcsHost, relative);
    absl::StatusOr<HttpUrl> at = HttpUrl::Parse(url);
    if (!at.ok()) return at.status();
    if (!at->tls && !TrustedHttpHost(at->host)) {
      return absl::FailedPreconditionError(
          StrCat("AWS_CONTAINER_CREDENTIALS_FULL_URI: ", at->Redacted(),
                 " is plain http to a host that is neither loopback nor link-local"));
    }
    s.reset(new AwsCredentialSource(Kind::kContainer,
                                    StrCat("container credentials from ", at->Redacted())));
    s->url_ = url;
    s->token_ = Env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    s->token_file_ = Env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  } else if (!token_file.empty()) {
    const std::string role = Env("AWS_ROLE_ARN");
    if (role.empty()) {
      return absl::FailedPreconditionError(
          "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
    }
    std::string sts = Env("AWS_ENDPOINT_URL_STS");
    if (sts.empty()) sts = Env("AWS_ENDPOINT_URL");
    if (sts.empty()) sts = StrCat("https://sts.", ResolveAwsRegion(""), ".amazonaws.com");
    s.reset(new AwsCredentialSource(Kind::kWebIdentity, StrCat("web identity ", role)));
    s->url_ = sts;
    s->token_file_ = token_file;
    s->role_arn_ = role;
    s->session_name_ = Env("AWS_ROLE_SESSION_NAME");
    if (s->session_name_.empty()) s->session_name_ = StrCat("vigil-", ::getpid());
  } else {
    return absl::FailedPreconditionError(
        "AWS_ACCESS_KEY_ID is not set (nor container credentials: "
        "AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, nor a web identity: "
        "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN)");
  }
  if (absl::StatusOr<AwsCredentials> first = s->Get(); !first.ok()) return first.status();
  return s;
}

absl::StatusOr<AwsCredentials> AwsCredentialSource::Get() {
  absl::MutexLock lock(&mu_);
  if (kind_ == Kind::kFixed || WallClockMs() + kRefreshBefore < expires_) return held_;
  TimeMs expires = kMinTime;
  absl::StatusOr<AwsCredentials> c = Fetch(&expires);
  if (!c.ok()) {
    // Held credentials that have not expired yet still sign.
    if (WallClockMs() < expires_) return held_;
    return c.status();
  }
  held_ = std::move(*c);
  expires_ = expires;
  return held_;
}

absl::StatusOr<AwsCredentials> AwsCredentialSource::Fetch(TimeMs* expires) const {
  return kind_ == Kind::kContainer ? FetchContainer(expires) : FetchWebIdentity(expires);
}

absl::StatusOr<AwsCredentials> AwsCredentialSource::FetchContainer(TimeMs* expires) const {
  HttpHeaders headers = {{"Accept", "application/json"}};
  std::string token = token_;
  if (!token_file_.empty()) {
    absl::StatusOr<std::string> t =
        ReadToken(token_file_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    if (!t.ok()) return t.status();
    token = *t;
  }
  if (!token.empty()) headers.emplace_back("Authorization", token);
  absl::StatusOr<std::string> body = Request(url_, "GET", "", headers, "container credentials");
  if (!body.ok()) return body.status();
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  const std::string bad = StrCat(description_, ": the answer is not the credentials JSON");
  if (parser.parse(*body).get_object().get(o) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(bad);
  }
  std::string_view id, secret, session, expiry;
  if (o["AccessKeyId"].get_string().get(id) != simdjson::SUCCESS ||
      o["SecretAccessKey"].get_string().get(secret) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(bad);
  }
  // Both optional: long-term credentials have neither.
  if (o["Token"].get_string().get(session) != simdjson::SUCCESS) session = "";
  if (o["Expiration"].get_string().get(expiry) != simdjson::SUCCESS) expiry = "";
  absl::StatusOr<TimeMs> t = Expiry(expiry, description_);
  if (!t.ok()) return t.status();
  *expires = *t;
  return AwsCredentials{std::string(id), std::string(secret), std::string(session)};
}

absl::StatusOr<AwsCredentials> AwsCredentialSource::FetchWebIdentity(TimeMs* expires) const {
  absl::StatusOr<std::string> token = ReadToken(token_file_, "AWS_WEB_IDENTITY_TOKEN_FILE");
  if (!token.ok()) return token.status();
  const std::string form = StrCat(
      "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=", PercentEncode(role_arn_),
      "&RoleSessionName=", PercentEncode(session_name_),
      "&WebIdentityToken=", PercentEncode(*token));
  absl::StatusOr<std::string> body =
      Request(url_, "POST", form, {{"Content-Type", "application/x-www-form-urlencoded"}},
              StrCat("AssumeRoleWithWebIdentity for ", role_arn_));
  if (!body.ok()) return body.status();
  AwsCredentials c{XmlText(*body, "AccessKeyId"), XmlText(*body, "SecretAccessKey"),
                   XmlText(*body, "SessionToken")};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return absl::InvalidArgumentError(
        StrCat(description_, ": the STS answer holds no AccessKeyId and SecretAccessKey"));
  }
  absl::StatusOr<TimeMs> t = Expiry(XmlText(*body, "Expiration"), description_);
  if (!t.ok()) return t.status();
  *expires = *t;
  return c;
}

}  // namespace vigil
