"""The Penn Treebank language-model corpus, as the course's dataset/ptb.py reads it.

    corpus, word_to_id, id_to_word = load_data('train')   # 'val'/'valid', 'test'

corpus is a 1-d int64 array of word ids; the vocabulary (10,000 words) is
built from ptb.train.txt in order of first appearance, each line end read as
the word '<eos>', exactly like the course's loader, so ids agree with it.

Where the files are looked for, in order (the first directory holding the
file wins; a directory may hold the files directly, in a `ptb/` folder, or in
a `dataset/` folder as the book's repository does):
  1. the `data_dir` argument,
  2. the directory in the environment variable RNNSCRATCH_DATA,
  3. the book's `dataset/` folder next to the running script: `dataset/`
     beside it or one level up (the book runs `ch05/train.py` with the files
     in `dataset/`, where its own loader downloads them); in a notebook or
     the interactive interpreter, the same from the working directory,
  4. the user cache directory (see `cache_dir()`),
and only then are they downloaded, from the public copy the course's loader
uses, into the cache directory (checked against their known MD5 sums).

Parsed files are kept in memory keyed by their content (a hash of the
bytes), so a file rewritten in place is read again, whatever its size and
modification time.
"""
import hashlib
import os
import sys
import urllib.request

import numpy as np

__all__ = ["load_data", "load_vocab", "cache_dir", "search_dirs", "script_dir", "locate", "URL_BASE",
           "FILES"]

URL_BASE = "https://raw.githubusercontent.com/tomsercu/lstm/master/data/"
FILES = {"train": "ptb.train.txt", "valid": "ptb.valid.txt", "test": "ptb.test.txt"}
MD5 = {
    "ptb.train.txt": "f26c4b92c5fdc7b3f8c7cdcb991d8420",
    "ptb.valid.txt": "aa0affc06ff7c36e977d7cd49e3839bf",
    "ptb.test.txt": "8b80168b89c18661a38ef683c0dc3721",
}
ENV_VAR = "RNNSCRATCH_DATA"

_memo = {}  # (kind, content hash...) -> parsed result


def cache_dir():
    """The per-user cache directory for downloaded files: $XDG_CACHE_HOME/rnnscratch/ptb
    (default ~/.cache) on Linux, ~/Library/Caches/rnnscratch/ptb on macOS,
    %LOCALAPPDATA%\\rnnscratch\\ptb on Windows."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"), "AppData", "Local")
    elif sys.platform == "darwin":
        base = os.path.join(os.path.expanduser("~"), "Library", "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "rnnscratch", "ptb")


def script_dir():
    """The directory of the running script (__main__.__file__), or the working
    directory in a notebook, the interactive interpreter or under
    `python -m rnnscratch ...` (the tools)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and (spec.name or "").split(".")[0] == __name__.split(".")[0]:
        # `python -m rnnscratch train` started in the book's ch06: the
        # running script is ours, the book is where the user stands
        return os.getcwd()
    f = getattr(main, "__file__", None)
    if isinstance(f, str) and f and not f.startswith("<") and os.path.isfile(f):
        return os.path.dirname(os.path.abspath(f))
    return os.getcwd()


def search_dirs(data_dir=None):
    """The directories looked in, in order."""
    dirs = []
    for d in (data_dir, os.environ.get(ENV_VAR) or None):
        if d:
            d = os.path.expanduser(os.fspath(d))
            dirs += [d, os.path.join(d, "ptb"), os.path.join(d, "dataset")]
    here = script_dir()
    dirs += [os.path.join(here, "dataset"), os.path.join(os.path.dirname(here), "dataset")]
    dirs.append(cache_dir())
    out = []
    for d in dirs:  # once each, in order
        if d not in out:
            out.append(d)
    return out


def _md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(file_name):
    dest_dir = cache_dir()
    os.makedirs(dest_dir, exist_ok=True)
    dest = os.path.join(dest_dir, file_name)
    url = URL_BASE + file_name
    print("Downloading " + url + " ...", file=sys.stderr)

    def write(f):  # checked before it replaces anything: a bad download leaves nothing
        h = hashlib.md5()
        with urllib.request.urlopen(url, timeout=60) as r:
            while True:
                chunk = r.read(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
                f.write(chunk)
        if h.hexdigest() != MD5[file_name]:
            raise OSError(f"{url}: the downloaded file does not have the expected MD5 "
                          f"{MD5[file_name]}")
    from ..models.files import atomic_write

    atomic_write(dest, write)
    return dest


def _find(file_name, data_dir, download):
    dirs = search_dirs(data_dir)
    for d in dirs:
        path = os.path.join(d, file_name)
        if os.path.isfile(path):
            return path
    reason = "downloading is disabled (download=False)"
    if download:
        try:
            return _download(file_name)
        except Exception as e:  # offline, proxy, HTTP error, bad checksum, ...
            reason = f"the download from {URL_BASE + file_name} failed ({e})"
    raise FileNotFoundError(
        f"PTB: {file_name} was not found in any of: {', '.join(dirs)}; and {reason}. "
        f"Put ptb.train.txt, ptb.valid.txt and ptb.test.txt (e.g. from {URL_BASE}) into a "
        f"directory and pass it as data_dir=..., or set the environment variable "
        f"{ENV_VAR} to it, or copy them to {cache_dir()}.")


def _read(path):
    """(text, content key) of a file: the key is a hash of its bytes."""
    with open(path, "rb") as f:
        data = f.read()
    return decode_text(data, path), hashlib.blake2b(data, digest_size=20).hexdigest()


def decode_text(data, path):
    """bytes -> str as UTF-8 (a leading byte-order mark dropped, as the
    downloaded files have none); ValueError naming the file, the line and the
    byte when it is not UTF-8 text (a binary file, Latin-1, ...)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ValueError(f"{path}: line {line}: not UTF-8 text (byte 0x{data[e.start]:02x} at "
                         f"offset {e.start}); expected a UTF-8 text file") from None


def _words(text):
    return text.replace("\n", "<eos>").strip().split()


def _memoized(path, kind, make):
    """make(path, text), kept in memory under the file's content hash."""
    text, digest = _read(path)
    key = (kind, digest)
    if key not in _memo:
        _memo[key] = make(path, text)
    return _memo[key], digest


def _build_vocab(path, text):
    word_to_id = {}
    for w in _words(text):
        if w not in word_to_id:
            word_to_id[w] = len(word_to_id)
    id_to_word = {i: w for w, i in word_to_id.items()}
    return word_to_id, id_to_word


def locate(data_dir=None, download=True):
    """The directory that holds ptb.train.txt (found as load_data finds it,
    downloaded into the cache when allowed): FileNotFoundError with the
    search path in one line when there is none."""
    return os.path.dirname(_find(FILES["train"], data_dir, download))


def load_vocab(data_dir=None, download=True):
    """(word_to_id, id_to_word) built from ptb.train.txt."""
    path = _find(FILES["train"], data_dir, download)
    (word_to_id, id_to_word), _ = _memoized(path, "vocab", _build_vocab)
    return dict(word_to_id), dict(id_to_word)


def load_data(data_type="train", data_dir=None, download=True):
    """(corpus, word_to_id, id_to_word) for data_type 'train', 'valid' (or 'val'), 'test'."""
    if data_type == "val":
        data_type = "valid"
    if data_type not in FILES:
        raise ValueError(f"data_type: expected 'train', 'valid' (or 'val') or 'test', got {data_type!r}")
    vocab_path = _find(FILES["train"], data_dir, download)
    (word_to_id, id_to_word), vocab_key = _memoized(vocab_path, "vocab", _build_vocab)
    path = _find(FILES[data_type], data_dir, download)

    def make_corpus(p, text):
        words = _words(text)
        try:
            return np.fromiter((word_to_id[w] for w in words), dtype=np.int64, count=len(words))
        except KeyError as e:
            raise ValueError(f"{p}: the word {e.args[0]!r} is not in the vocabulary "
                             f"of {vocab_path}") from None

    corpus, _ = _memoized(path, ("corpus", vocab_key), make_corpus)
    return corpus.copy(), dict(word_to_id), dict(id_to_word)
