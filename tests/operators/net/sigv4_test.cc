#include "operators/net/sigv4.h"

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "gtest/gtest.h"

namespace vigil {
namespace {

// Vectors from AWS's Signature Version 4 test suite ("aws-sig-v4-test-suite",
// the 2015-08-30 edition published with the AWS General Reference and
// mirrored in botocore's tests/unit/auth/aws4_testsuite): credentials
// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z,
// region us-east-1, service "service", host example.amazonaws.com.
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr TimeMs kSuiteTime = 1440938160000;  // 2015-08-30T12:36:00Z
const SigV4Scope kScope{"us-east-1", "service"};

std::string Authorization(const HttpHeaders& headers) {
  for (const auto& [k, v] : headers) {
    if (k == "Authorization") return v;
  }
  return "";
}

std::string Sign(std::string_view method, std::string_view target, HttpHeaders headers,
                 std::string_view body, const std::string& token = "") {
  AwsCredentials creds{"AKIDEXAMPLE", kSecret, token};
  headers.insert(headers.begin(), {"Host", "example.amazonaws.com"});
  SignV4(creds, kScope, method, target, body, kSuiteTime, &headers);
  return Authorization(headers);
}

std::string Expected(std::string_view signed_headers, std::string_view signature) {
  return StrCat("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ",
                "SignedHeaders=", signed_headers, ", Signature=", signature);
}

TEST(SigV4Test, AmzDate) { EXPECT_EQ(internal::AmzDate(kSuiteTime), "20150830T123600Z"); }

TEST(SigV4Test, GetVanilla) {
  // get-vanilla.creq, step by step.
  HttpHeaders headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  std::string signed_headers;
  const std::string creq =
      internal::CanonicalRequest("GET", "/", headers, internal::Sha256Hex(""), &signed_headers);
  EXPECT_EQ(creq,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // get-vanilla.sts
  EXPECT_EQ(internal::StringToSign("20150830T123600Z", kScope, creq),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  // get-vanilla.authz
  EXPECT_EQ(Sign("GET", "/", {}, ""),
            Expected("host;x-amz-date",
                     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST(SigV4Test, PostVanilla) {
  EXPECT_EQ(Sign("POST", "/", {}, ""),
            Expected("host;x-amz-date",
                     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"));
}

TEST(SigV4Test, GetVanillaQueryOrderKeyCase) {
  EXPECT_EQ(Sign("GET", "/?Param2=value2&Param1=value1", {}, ""),
            Expected("host;x-amz-date",
                     "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"));
}

TEST(SigV4Test, GetVanillaQueryOrderKey) {
  EXPECT_EQ(Sign("GET", "/?Param1=value2&Param1=Value1", {}, ""),
            Expected("host;x-amz-date",
                     "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"));
}

TEST(SigV4Test, GetHeaderValueTrim) {
  EXPECT_EQ(Sign("GET", "/", {{"My-Header1", " value1"}, {"My-Header2", "\"a   b   c\""}}, ""),
            Expected("host;my-header1;my-header2;x-amz-date",
                     "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"));
}

TEST(SigV4Test, PostXWwwFormUrlencoded) {
  EXPECT_EQ(
      Sign("POST", "/", {{"Content-Type", "application/x-www-form-urlencoded"}}, "Param1=value1"),
      Expected("content-type;host;x-amz-date",
               "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

TEST(SigV4Test, SessionTokenIsSigned) {
  // post-sts-token/post-sts-header-before: the token is a signed header.
  const std::string token =
      "AQoDYXdzEPT//////////"
      "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfI"
      "eoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/"
      "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0"
      "wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+"
      "scqKmlzm8FDr"
      "ypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
  EXPECT_EQ(Sign("POST", "/", {}, "", token),
            Expected("host;x-amz-date;x-amz-security-token",
                     "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));
  HttpHeaders headers = {{"Host", "example.amazonaws.com"}};
  SignV4({"AKIDEXAMPLE", kSecret, token}, kScope, "POST", "/", "", kSuiteTime, &headers);
  bool found = false;
  for (const auto& [k, v] : headers) found |= k == "X-Amz-Security-Token" && v == token;
  EXPECT_TRUE(found);
}

TEST(SigV4Test, ContentSha256Header) {
  HttpHeaders headers = {{"Host", "example.amazonaws.com"}};
  SigV4Options options;
  options.content_sha256_header = true;
  SignV4({"AKIDEXAMPLE", kSecret, ""}, kScope, "POST", "/", "abc", kSuiteTime, &headers, options);
  EXPECT_NE(Authorization(headers).find("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"),
            std::string::npos);
  bool found = false;
  for (const auto& [k, v] : headers) {
    found |= k == "x-amz-content-sha256" &&
             v == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  }
  EXPECT_TRUE(found);
}

TEST(SigV4Test, UriEncode) {
  EXPECT_EQ(PercentEncode("a b/c~_-.*+=", true), "a%20b/c~_-.%2A%2B%3D");
  EXPECT_EQ(PercentEncode("a/b", false), "a%2Fb");
}

// Puts the variables it names back as they were when it goes: the tests
// that follow in the same process (the Kinesis ones sign for the region
// the environment names) see the environment they started with.
class SavedEnvironment {
 public:
  explicit SavedEnvironment(std::vector<std::string> names) : names_(std::move(names)) {
    for (const std::string& n : names_) {
      const char* v = std::getenv(n.c_str());
      saved_.push_back(v == nullptr ? std::nullopt : std::optional<std::string>(v));
    }
  }
  ~SavedEnvironment() {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (saved_[i]) {
        ::setenv(names_[i].c_str(), saved_[i]->c_str(), 1);
      } else {
        ::unsetenv(names_[i].c_str());
      }
    }
  }
  SavedEnvironment(const SavedEnvironment&) = delete;
  SavedEnvironment& operator=(const SavedEnvironment&) = delete;

 private:
  std::vector<std::string> names_;
  std::vector<std::optional<std::string>> saved_;
};

TEST(SigV4Test, CredentialsAndRegionFromEnvironment) {
  const SavedEnvironment saved({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                "AWS_REGION", "AWS_DEFAULT_REGION"});
  ::setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_SESSION_TOKEN");
  absl::StatusOr<AwsCredentials> c = AwsCredentials::FromEnvironment();
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  ::setenv("AWS_SESSION_TOKEN", "tok", 1);
  c = AwsCredentials::FromEnvironment();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKID");
  EXPECT_EQ(c->secret_access_key, "secret");
  EXPECT_EQ(c->session_token, "tok");

  ::unsetenv("AWS_REGION");
  ::unsetenv("AWS_DEFAULT_REGION");
  EXPECT_EQ(ResolveAwsRegion(""), "us-east-1");
  ::setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
  EXPECT_EQ(ResolveAwsRegion(""), "eu-west-1");
  ::setenv("AWS_REGION", "eu-central-1", 1);
  EXPECT_EQ(ResolveAwsRegion(""), "eu-central-1");
  EXPECT_EQ(ResolveAwsRegion("ap-south-1"), "ap-south-1");
}

}  // namespace
}  // namespace vigil
