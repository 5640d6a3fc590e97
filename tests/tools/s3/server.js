// The S3 server the cluster's tests store dumps in: @20minutes/s3rver (a maintained fork of
// s3rver that checks AWS Signature Version 4, where s3rver 3.7 accepts any secret), started
// with the key pair the test generated instead of the built-in S3RVER/S3RVER, one bucket, TLS
// with the test's certificate, and on 127.0.0.1 only. Its objects are plain files under the
// directory: OBJECT-KEY._S3rver_object.
//
//   node server.js CONFIG.json   (port, directory, bucket, accessKeyId, secretAccessKey, key, cert)
//
// It prints "listening PORT" once it accepts connections and stops on SIGTERM.
'use strict';

const fs = require('fs');
const S3rver = require('@20minutes/s3rver');
const AWSAccount = require('@20minutes/s3rver/lib/models/account');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
AWSAccount.DUMMY_ACCOUNT.createKeyPair(config.accessKeyId, config.secretAccessKey);

const server = new S3rver({
  address: '127.0.0.1',
  port: config.port,
  directory: config.directory,
  silent: true,
  vhostBuckets: false,
  allowMismatchedSignatures: false,
  key: config.key ? fs.readFileSync(config.key) : undefined,
  cert: config.cert ? fs.readFileSync(config.cert) : undefined,
  configureBuckets: [{ name: config.bucket }],
});
server.run().then(
  (address) => console.log(`listening ${address.port}`),
  (err) => {
    console.error(`cannot start: ${err.message}`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => process.exit(0));
