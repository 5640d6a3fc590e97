"""Compressed and spooled cores give the same model as the plain core.

A real process holding a key made at run time is dumped with gcore; the core is then
compressed by the real zstd, lz4 and xz tools (zstd is what systemd-coredump writes).
"""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

MODEL_FIELDS = ("format", "arch", "complete", "regions", "threads", "modules", "unaccounted", "warnings")


class CompressedCores(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-compressed-")
        holder = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "key_holder"), "2048"])
        try:
            cls.core = dgtest.gcore(holder.pid, cls._dir.name)
        finally:
            holder.stop()
        cls.plain = dgtest.info_json(cls.core)

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def compressed(self, tool, suffix):
        out = os.path.join(self.tmp, "core" + suffix)
        with open(out, "wb") as f:
            subprocess.run([tool, "-c", self.core], stdout=f, check=True)
        return out

    def assert_same_model(self, info, kind):
        self.assertEqual(info["compression"]["format"], kind)
        self.assertEqual(info["compression"]["decompressed_size"], os.path.getsize(self.core))
        for field in MODEL_FIELDS:
            self.assertEqual(info[field], self.plain[field], field)

    def test_plain_core_is_a_complete_elf_core(self):
        self.assertEqual(self.plain["format"], "elf-core")
        self.assertTrue(self.plain["complete"])
        self.assertIsNone(self.plain["compression"])

    def test_zstd_core_gives_the_same_model(self):
        self.assert_same_model(dgtest.info_json(self.compressed("zstd", ".zst")), "zstd")

    def test_lz4_core_gives_the_same_model(self):
        self.assert_same_model(dgtest.info_json(self.compressed("lz4", ".lz4")), "lz4")

    def test_xz_core_gives_the_same_model(self):
        self.assert_same_model(dgtest.info_json(self.compressed("xz", ".xz")), "xz")

    def test_content_decides_not_the_name(self):
        # A zstd core named like a plain core, and a plain core named .zst.
        misnamed = os.path.join(self.tmp, "core.plain")
        shutil.copy(self.compressed("zstd", ".zst"), misnamed)
        self.assert_same_model(dgtest.info_json(misnamed), "zstd")
        plain_named_zst = os.path.join(self.tmp, "plain.zst")
        shutil.copy(self.core, plain_named_zst)
        self.assertIsNone(dgtest.info_json(plain_named_zst)["compression"])

    def test_standard_input_is_spooled(self):
        with open(self.compressed("zstd", ".zst"), "rb") as f:
            code, out, err = dgtest.run_dumpguard("info", "--json", "-", stdin=f.read(), check_exit=0)
        info = dgtest.json.loads(out)
        self.assertEqual(info["file"], "-")
        self.assert_same_model(info, "zstd")

    def test_temporary_files_leave_nothing_behind(self):
        tmpdir = os.path.join(self.tmp, "scratch")
        os.mkdir(tmpdir)
        dgtest.info_json(self.compressed("xz", ".xz"), "--tmpdir", tmpdir)
        self.assertEqual(os.listdir(tmpdir), [])

    def test_size_cap_stops_decompression_with_exit_2(self):
        code, out, err = dgtest.run_dumpguard("info", "--max-decompressed", "1M", self.compressed("zstd", ".zst"))
        self.assertEqual(code, 2)
        self.assertEqual(out, b"")
        self.assertIn(b"--max-decompressed", err)
        self.assertEqual(len(err.strip().splitlines()), 1)

    def test_truncated_compressed_core_is_partial_never_complete(self):
        data = open(self.compressed("zstd", ".zst"), "rb").read()
        cut = os.path.join(self.tmp, "cut.zst")
        with open(cut, "wb") as f:
            f.write(data[: len(data) // 2])
        info = dgtest.info_json(cut)
        self.assertFalse(info["complete"])
        self.assertTrue(any("truncated" in w["message"] for w in info["warnings"]))

    def test_corrupt_compressed_data_is_an_error_naming_the_file(self):
        data = bytearray(open(self.compressed("zstd", ".zst"), "rb").read())
        data[4:64] = b"\xff" * 60  # wreck the frame header
        bad = os.path.join(self.tmp, "bad.zst")
        with open(bad, "wb") as f:
            f.write(data)
        code, out, err = dgtest.run_dumpguard("info", bad)
        self.assertEqual(code, 2)
        self.assertIn(bad.encode(), err)
        self.assertIn(b"offset 0x", err)


if __name__ == "__main__":
    unittest.main()
