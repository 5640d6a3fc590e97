// The shared store in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, Garage, ...):
// each dump is the object PREFIX/SHA256 of one bucket, reached by path-style URLs
// (ENDPOINT/BUCKET/KEY) over HTTPS with libcurl, every request signed with AWS Signature
// Version 4 (CURLOPT_AWS_SIGV4). Bodies stream to and from files, never held whole in memory;
// an upload is signed with its real SHA-256 (x-amz-content-sha256, which is also the object's
// name), and a download is checked against the reference's size and SHA-256 before it counts.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "cluster/shared_store.hpp"
#include "dumpguard/result.hpp"

namespace dumpguard {

// s3://BUCKET[/PREFIX]: a bucket name as S3 allows it (3 to 63 of [a-z0-9.-], starting and
// ending with a letter or digit), and a prefix of [A-Za-z0-9._/-] without empty or dot-only
// segments, which needs no escaping in a URL or a signature. `prefix` is empty or ends in '/'.
struct S3Location {
  std::string bucket;
  std::string prefix;
};
Result<S3Location> parse_s3_location(std::string_view url);

// The endpoint checked: http or https, a host and an optional port, nothing after them but '/'.
// Plain http is refused except to a loopback address: the dumps on their way are unredacted.
// Returns it without a trailing '/'.
Result<std::string> checked_s3_endpoint(std::string_view endpoint);

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};
// An AWS shared-credentials file with one profile: an optional [NAME] line, then
// aws_access_key_id = ... and aws_secret_access_key = ...; comments (#, ;) and blank lines.
// The file must be a regular file that neither group nor others can read (chmod 600), at most
// 4 KiB. Errors name the file and the line, never a value.
Result<S3Credentials> read_s3_credentials(const std::string& path);
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
Result<S3Credentials> s3_credentials_from_environment();

// The store at `location` (s3://...), its credentials read now; nothing is sent until a call.
Result<std::unique_ptr<SharedStore>> open_s3_store(std::string_view location, const S3Options& options);

}  // namespace dumpguard
