// operators/net/aws_credentials.h
//
// Where a job's AWS credentials come from, in the order the AWS SDKs look:
//   1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
//      AWS_SESSION_TOKEN (optional);
//   2. container credentials (ECS, EKS Pod Identity):
//      AWS_CONTAINER_CREDENTIALS_FULL_URI, or
//      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI under http://169.254.170.2,
//      with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
//      AWS_CONTAINER_AUTHORIZATION_TOKEN as the Authorization header; the
//      endpoint answers {"AccessKeyId","SecretAccessKey","Token","Expiration"};
//      a plain-http FULL_URI must be a loopback or link-local (169.254.x.x)
//      address, as the SDKs require;
//   3. a web identity (EKS IRSA): AWS_WEB_IDENTITY_TOKEN_FILE and
//      AWS_ROLE_ARN (AWS_ROLE_SESSION_NAME optional), exchanged with STS
//      AssumeRoleWithWebIdentity at AWS_ENDPOINT_URL_STS, else
//      AWS_ENDPOINT_URL, else https://sts.REGION.amazonaws.com.
// Temporary credentials (2 and 3) are fetched again five minutes before
// they expire; the token file is read again each time (Kubernetes rotates
// it). Credentials never appear in a message.
//
// Thread-safe: Get may be called from any thread.
//
// Example:
//   std::shared_ptr<AwsCredentialSource> source = *AwsCredentialSource::FromEnvironment();
//   absl::StatusOr<AwsCredentials> now = source->Get();   // before each signed request
#ifndef VIGIL_OPERATORS_NET_AWS_CREDENTIALS_H_
#define VIGIL_OPERATORS_NET_AWS_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/time.h"
#include "operators/net/sigv4.h"

namespace vigil {

class AwsCredentialSource {
 public:
  // The first of the three the environment configures; FailedPrecondition
  // naming the variables to set when none is. Fetches temporary
  // credentials once, so that a wrong setting fails at start.
  static absl::StatusOr<std::shared_ptr<AwsCredentialSource>> FromEnvironment();
  // Fixed credentials (tests, local servers).
  static std::shared_ptr<AwsCredentialSource> Fixed(AwsCredentials credentials);

  // Credentials valid for at least five more minutes.
  absl::StatusOr<AwsCredentials> Get();
  // "the environment", "container credentials from http://…", "web identity
  // arn:aws:iam::…:role/…", for messages.
  const std::string& description() const { return description_; }

 private:
  enum class Kind { kFixed, kContainer, kWebIdentity };
  AwsCredentialSource(Kind kind, std::string description)
      : kind_(kind), description_(std::move(description)) {}
  // Fetches temporary credentials; sets `expires` (kMaxTime when the
  // answer has no expiry).
  absl::StatusOr<AwsCredentials> Fetch(TimeMs* expires) const;
  absl::StatusOr<AwsCredentials> FetchContainer(TimeMs* expires) const;
  absl::StatusOr<AwsCredentials> FetchWebIdentity(TimeMs* expires) const;

  const Kind kind_;
  const std::string description_;
  // Container: the URL and the token (or the token file). Web identity:
  // the STS endpoint, the role, the session name and the token file.
  std::string url_, token_, token_file_, role_arn_, session_name_;

  absl::Mutex mu_;
  AwsCredentials held_ ABSL_GUARDED_BY(mu_);
  TimeMs expires_ ABSL_GUARDED_BY(mu_) = kMinTime;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NET_AWS_CREDENTIALS_H_
