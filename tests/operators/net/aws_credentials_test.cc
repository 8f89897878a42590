// Where AWS credentials come from: the environment, a container
// credentials endpoint and STS AssumeRoleWithWebIdentity, each answered by
// a local HTTP server in the real API's shape; and an S3 bucket (s3rver)
// reached with credentials from a container endpoint.
#include "operators/net/aws_credentials.h"

#include <cstdlib>
#include <fstream>

#include "base/clock.h"
#include "base/strings.h"
#include "gtest/gtest.h"
#include "operators/net/s3_client.h"
#include "tests/operators/net/s3rver.h"
#include "tests/operators/notify/notify_test_util.h"
#include "tests/operators/notify/recording_receiver.h"

namespace vigil {
namespace {

using testing_util::RecordingReceiver;
using testing_util::TempDir;

constexpr const char* kVariables[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL",
};

class AwsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kVariables) ::unsetenv(v);
  }
  void TearDown() override {
    for (const char* v : kVariables) ::unsetenv(v);
  }
  // An expiry `minutes` from now, as the APIs write it.
  static std::string In(int minutes) { return FormatTimestamp(WallClockMs() + minutes * 60000LL); }

  TempDir dir_;
};

TEST_F(AwsCredentialsTest, TheEnvironmentVariablesComeFirst) {
  ::setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
  ::setenv("AWS_SESSION_TOKEN", "SESSION", 1);
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/never-asked", 1);
  absl::StatusOr<std::shared_ptr<AwsCredentialSource>> s = AwsCredentialSource::FromEnvironment();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->description(), "the environment");
  absl::StatusOr<AwsCredentials> c = (*s)->Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKID");
  EXPECT_EQ(c->secret_access_key, "SECRET");
  EXPECT_EQ(c->session_token, "SESSION");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(AwsCredentialSource::FromEnvironment().status().message(),
            "AWS_SECRET_ACCESS_KEY is not set");
}

TEST_F(AwsCredentialsTest, NothingConfiguredNamesWhatToSet) {
  absl::StatusOr<std::shared_ptr<AwsCredentialSource>> s = AwsCredentialSource::FromEnvironment();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status()));
  EXPECT_EQ(s.status().message(),
            "AWS_ACCESS_KEY_ID is not set (nor container credentials: "
            "AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, nor a web identity: "
            "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN)");
}

TEST_F(AwsCredentialsTest, ContainerCredentialsAreFetchedWithTheTokenAndRenewedBeforeExpiry) {
  RecordingReceiver endpoint;
  const std::string expiry = In(60);
  endpoint.SetHandler([&](const testing_util::RecordedRequest&) {
    return RecordingReceiver::Reply{
        200,
        StrCat(R"({"AccessKeyId":"ASIA1","SecretAccessKey":"s3cr3t","Token":"tok","Expiration":")",
               expiry, "\"}"),
        ""};
  });
  const std::string token_file = dir_.file("token");
  std::ofstream(token_file) << "Bearer-abc\n";
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url("/v2/credentials/x").c_str(), 1);
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file.c_str(), 1);
  absl::StatusOr<std::shared_ptr<AwsCredentialSource>> s = AwsCredentialSource::FromEnvironment();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->description(), "container credentials from " + endpoint.url("/***"));
  absl::StatusOr<AwsCredentials> c = (*s)->Get();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "ASIA1");
  EXPECT_EQ(c->secret_access_key, "s3cr3t");
  EXPECT_EQ(c->session_token, "tok");
  // Held: one request so far (FromEnvironment's), with the token.
  ASSERT_EQ(endpoint.Requests().size(), 1u);
  EXPECT_EQ(endpoint.Requests()[0].method, "GET");
  EXPECT_EQ(endpoint.Requests()[0].target, "/v2/credentials/x");
  EXPECT_NE(endpoint.Requests()[0].headers.find("Authorization: Bearer-abc"), std::string::npos)
      << endpoint.Requests()[0].headers;

  ASSERT_TRUE((*s)->Get().ok());
  EXPECT_EQ(endpoint.Requests().size(), 1u) << "still an hour to go";
}

TEST_F(AwsCredentialsTest, ShortLivedContainerCredentialsAreAskedForAgain) {
  RecordingReceiver endpoint;
  int served = 0;
  endpoint.SetHandler([&](const testing_util::RecordedRequest&) {
    ++served;
    return RecordingReceiver::Reply{
        200,
        StrCat(R"({"AccessKeyId":"ASIA)", served, R"(","SecretAccessKey":"x","Expiration":")",
               In(4), "\"}"),
        ""};
  });
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url("/creds").c_str(), 1);
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic xyz", 1);
  auto s = *AwsCredentialSource::FromEnvironment();
  EXPECT_EQ(s->Get()->access_key_id, "ASIA2");
  EXPECT_EQ(s->Get()->access_key_id, "ASIA3");
  EXPECT_NE(endpoint.Requests()[2].headers.find("Authorization: Basic xyz"), std::string::npos);
  // An endpoint that fails while the held credentials are still valid:
  // they keep signing.
  endpoint.SetHandler([](const testing_util::RecordedRequest&) {
    return RecordingReceiver::Reply{500, "", ""};
  });
  absl::StatusOr<AwsCredentials> held = s->Get();
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->access_key_id, "ASIA3");
}

TEST_F(AwsCredentialsTest, PlainHttpContainerEndpointsMustStayOnTheMachine) {
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://metadata.example.com/creds", 1);
  absl::StatusOr<std::shared_ptr<AwsCredentialSource>> s = AwsCredentialSource::FromEnvironment();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "AWS_CONTAINER_CREDENTIALS_FULL_URI: http://metadata.example.com:80/*** is plain "
            "http to a host that is neither loopback nor link-local");
}

TEST_F(AwsCredentialsTest, AWebIdentityIsExchangedWithSts) {
  RecordingReceiver sts;
  sts.SetHandler([&](const testing_util::RecordedRequest&) {
    return RecordingReceiver::Reply{
        200,
        StrCat("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/"
               "2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials>"
               "<AccessKeyId>ASIAWEB</AccessKeyId><SecretAccessKey>w3b&amp;s</SecretAccessKey>"
               "<SessionToken>web-token</SessionToken><Expiration>",
               In(60),
               "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
               "</AssumeRoleWithWebIdentityResponse>"),
        ""};
  });
  const std::string token_file = dir_.file("token");
  std::ofstream(token_file) << "eyJhbGciOi.JIUz+I1/NiIs=\n";
  ::setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.c_str(), 1);
  ::setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/vigil", 1);
  ::setenv("AWS_ROLE_SESSION_NAME", "vigil-0", 1);
  ::setenv("AWS_ENDPOINT_URL_STS", sts.url().c_str(), 1);
  absl::StatusOr<std::shared_ptr<AwsCredentialSource>> s = AwsCredentialSource::FromEnvironment();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->description(), "web identity arn:aws:iam::123456789012:role/vigil");
  absl::StatusOr<AwsCredentials> c = (*s)->Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "ASIAWEB");
  EXPECT_EQ(c->secret_access_key, "w3b&s");
  EXPECT_EQ(c->session_token, "web-token");
  ASSERT_EQ(sts.Requests().size(), 1u);
  EXPECT_EQ(sts.Requests()[0].method, "POST");
  EXPECT_EQ(sts.Requests()[0].body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fvigil&RoleSessionName=vigil-0"
            "&WebIdentityToken=eyJhbGciOi.JIUz%2BI1%2FNiIs%3D");
  EXPECT_NE(sts.Requests()[0].headers.find("Content-Type: application/x-www-form-urlencoded"),
            std::string::npos);
}

TEST_F(AwsCredentialsTest, ARefusedWebIdentityNamesTheRoleButNotTheToken) {
  RecordingReceiver sts;
  sts.SetHandler([](const testing_util::RecordedRequest&) {
    return RecordingReceiver::Reply{
        403, "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>", ""};
  });
  const std::string token_file = dir_.file("token");
  std::ofstream(token_file) << "the-secret-jwt";
  ::setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.c_str(), 1);
  ::setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/r", 1);
  ::setenv("AWS_ENDPOINT_URL", sts.url().c_str(), 1);
  absl::StatusOr<std::shared_ptr<AwsCredentialSource>> s = AwsCredentialSource::FromEnvironment();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsPermissionDenied(s.status())) << s.status();
  EXPECT_EQ(std::string(s.status().message()),
            "AssumeRoleWithWebIdentity for arn:aws:iam::1:role/r at " + sts.url() +
                ": HTTP 403 AccessDenied");
  ::unsetenv("AWS_ROLE_ARN");
  EXPECT_EQ(AwsCredentialSource::FromEnvironment().status().message(),
            "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
}

TEST_F(AwsCredentialsTest, AnS3ClientSignsWithContainerCredentials) {
  std::unique_ptr<S3rver> s3 = S3rver::Start(dir_.path(), {"bucket"});
  ASSERT_TRUE(s3) << "s3rver does not start: run scripts/test-servers.sh";
  RecordingReceiver endpoint;
  endpoint.SetHandler([&](const testing_util::RecordedRequest&) {
    return RecordingReceiver::Reply{
        200,
        StrCat(R"({"AccessKeyId":"S3RVER","SecretAccessKey":"S3RVER","Expiration":")", In(60),
               "\"}"),
        ""};
  });
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url("/creds").c_str(), 1);
  auto source = *AwsCredentialSource::FromEnvironment();
  S3Location at = *ParseS3Url("s3://bucket?endpoint=" + s3->endpoint());
  auto client = *S3Client::Create(at, source, S3Client::Options());
  ASSERT_TRUE(client->Put("k", "v").ok());
  EXPECT_EQ(*client->Get("k"), "v");
  EXPECT_EQ(endpoint.Requests().size(), 1u) << "fetched once, held for the hour";
}

}  // namespace
}  // namespace vigil
