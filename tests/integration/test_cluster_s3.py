"""The cluster's shared store in an S3-compatible object store (docs/cluster.md), against a real
nats-server (natstest.py) and a real S3 server that checks AWS Signature Version 4 (s3test.py),
over TLS with a CA made here and a key pair generated here. Submitted dumps become objects named
by their SHA-256 and nothing more goes to the broker: the work messages are read back from the
stream and the server's JetStream files are searched for the dumps' keys and markers. Two workers
release each dump once, redacted, and delete every object after its verdict; an object whose
bytes were changed in the server's directory (one flipped, or a megabyte more) gets a `failed`
verdict with its reason and is released by nobody; a submitter or worker signing with the wrong secret is refused in the
server's words, and stores, takes and releases nothing. The dumps are test_cluster_nats.py's."""
import base64
import json
import os
import secrets
import unittest

import dgtest
import natstest
import s3test
import test_cluster_nats as cluster_nats

read = cluster_nats.read
sha256_of = cluster_nats.sha256_of


class S3Cluster(cluster_nats.Cluster):
    """The cluster of test_cluster_nats.py with its shared store in a bucket of an S3 server."""

    def __init__(self, root, server_class=natstest.NatsServer):
        super().__init__(root, server_class)
        self.s3 = s3test.S3Server(root)
        self.prefix = "cluster/dumps"
        self.credentials = self.s3.credentials_file("s3.credentials")
        self.store_args = self.s3_args(self.credentials)

    def s3_args(self, credentials):
        return ["--shared-store", f"s3://{self.s3.bucket}/{self.prefix}/", "--s3-endpoint", self.s3.endpoint,
                "--s3-ca", self.s3.ca, "--s3-credentials", credentials]

    def stored(self):
        return self.s3.objects()

    def work_messages(self):
        """Every message the work stream holds, as the admin reads them back from the server."""
        admin = natstest.RawClient(self.server, "admin")
        try:
            kind, info = admin.request("$JS.API.STREAM.INFO.DUMPGUARD_WORK")
            assert kind == "reply", info
            state = json.loads(info)["state"]
            messages = []
            for seq in range(state["first_seq"], state["last_seq"] + 1):
                kind, answer = admin.request("$JS.API.STREAM.MSG.GET.DUMPGUARD_WORK", json.dumps({"seq": seq}).encode())
                assert kind == "reply", answer
                messages.append(base64.b64decode(json.loads(answer)["message"]["data"]))
            return messages
        finally:
            admin.close()

    def broker_files(self):
        """The bytes of every file of the NATS server's JetStream store."""
        out = {}
        for dirpath, _, names in os.walk(self.server.store):
            for name in names:
                out[os.path.join(dirpath, name)] = read(os.path.join(dirpath, name))
        return out


class S3StoreTest(cluster_nats.ClusterCase):
    cluster_class = S3Cluster

    def setUp(self):
        super().setUp()
        try:
            self.cluster.s3.start()
        except BaseException:
            self.tearDown()
            raise

    def tearDown(self):
        try:
            self.cluster.s3.stop()
        finally:
            super().tearDown()

    def assert_refused(self, code, err, what):
        self.assertEqual(code, 2, f"{what}: {err}")
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("SignatureDoesNotMatch", err, what)
        self.assertIn("check the S3 credentials", err, what)

    def test_dumps_wait_in_a_bucket_and_leave_it_after_their_verdict(self):
        c, s3 = self.cluster, self.cluster.s3
        c.init()
        paths = c.make_dumps(6, "s")
        markers = [f"dumpguard-cluster-test-s-{i:04d}".encode() for i in range(len(paths))]
        wrong_secret = secrets.token_urlsafe(30)
        wrong = s3.credentials_file("wrong.credentials", secret=wrong_secret)

        # Signed with the wrong secret: refused, nothing stored, nothing queued.
        code, _, err = c.run("submit", *c.server.client_args("submitter"), *c.s3_args(wrong), paths[0])
        self.assert_refused(code, err, "a submitter with the wrong secret")
        self.assertEqual(s3.objects(), [])

        self.assertEqual(c.submit(paths).count(" queued "), len(paths))
        keys = sorted(f"{c.prefix}/{sha256_of(p)}" for p in paths)
        self.assertEqual(s3.objects(), keys, "one object per dump, named by its SHA-256")
        for p in paths:
            self.assertEqual(read(s3.object_path(f"{c.prefix}/{sha256_of(p)}")), read(p), p)

        # The broker holds references only: each message is the dump's SHA-256, size and name.
        messages = c.work_messages()
        self.assertEqual(len(messages), len(paths))
        for data in messages:
            ref = json.loads(data)
            self.assertEqual(sorted(ref), ["name", "schema", "sha256", "size"], data)
            self.assertIn(f"{c.prefix}/{ref['sha256']}", keys)
            self.assertLess(len(data), 300)

        # A worker signing with the wrong secret stops before it takes anything.
        args = c.worker_args(0, once=True)
        args[args.index(c.credentials)] = wrong
        code, _, err = c.run(*args, timeout=60)
        self.assert_refused(code, err, "a worker with the wrong secret")
        self.assertEqual(os.listdir(c.release) if os.path.isdir(c.release) else [], [])
        queue = c.status()["queue"]
        self.assertEqual((queue["waiting"], queue["in_progress"]), (len(paths), 0), "the refused worker took nothing")

        # Objects changed where the server keeps them: one byte flipped, and one grown by a
        # megabyte (never written past the size its reference names).
        flipped, grown = paths[1], paths[4]
        object_file = s3.object_path(f"{c.prefix}/{sha256_of(flipped)}")
        data = bytearray(read(object_file))
        data[len(data) // 2] ^= 0x01
        with open(object_file, "r+b") as f:
            f.write(bytes(data))
        with open(s3.object_path(f"{c.prefix}/{sha256_of(grown)}"), "ab") as f:
            f.write(secrets.token_bytes(1 << 20))
        changed = [flipped, grown]

        for n in range(2):
            c.start_worker(n, once=True)
        for proc in c.workers.values():
            self.assertEqual(proc.wait(timeout=300), 0, c.worker_logs().decode(errors="replace")[-3000:])

        self.check_released_once(paths, failed=changed)
        status = c.status()
        self.assertEqual(status["dumps"]["released"], len(paths) - len(changed))
        self.assertEqual(sorted(f["sha256"] for f in status["failed"]), sorted(sha256_of(p) for p in changed))
        for failed in status["failed"]:
            self.assertIn("SHA-256 is not the one its reference names", failed["reason"])
            self.assertIn(f"s3://{s3.bucket}/{c.prefix}/{failed['sha256']}", failed["reason"])
        self.assertEqual(s3.objects(), [], "every object deleted after its verdict, the failed ones too")

        records = self.check_audit([p for p in paths if p not in changed])
        failed = sorted(r["data"]["dump"] for r in records if r["event"] == "failed")
        self.assertEqual(failed, sorted(f"{sha256_of(p)}-{os.path.basename(p)}" for p in changed))
        started = [r["data"]["shared_store"] for r in records if r["event"] == "started"]
        self.assertEqual(started, [f"s3://{s3.bucket}/{c.prefix} at {s3.endpoint}"] * 2)

        # Neither the dumps' keys nor their markers ever reached the broker's files.
        broker = c.broker_files()
        self.assertTrue(broker)
        for path, content in broker.items():
            for marker in markers:
                self.assertNotIn(marker, content, path)
        dgtest.assert_no_secret(broker, c.secrets)
        outputs = c.outputs + [c.worker_logs(), read(c.server.log), s3.log_text()]
        dgtest.assert_no_secret(outputs, c.secrets + [s3.secret.encode(), wrong_secret.encode()])


if __name__ == "__main__":
    unittest.main()
