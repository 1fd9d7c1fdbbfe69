"""rnnscratch.datasets.ptb.load_data: the course's corpus ids and vocabulary.

The shared PTB files are found through $RNNSCRATCH_DATA, or ../shared/data/ptb
next to the clone; the tests that need them are skipped only when that
directory is absent. No test touches the network."""
import functools
import os

import numpy as np
import pytest

from needs import find_ptb_dir, ptb_dir
from rnnscratch.datasets import ptb

HERE = os.path.dirname(os.path.abspath(__file__))


PTB_DIR = find_ptb_dir()


def needs_ptb(test):
    """The test runs with the PTB files; without them it skips (fails in CI).
    PTB_DIR is found at import: the tests' `isolated` fixture removes
    $RNNSCRATCH_DATA before the test body runs."""
    def run(*args, **kwargs):
        if PTB_DIR is None:
            ptb_dir()  # skips, or fails in CI, naming the variable
        return test(*args, **kwargs)
    return functools.wraps(test)(run)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No RNNSCRATCH_DATA, an empty user cache."""
    monkeypatch.delenv("RNNSCRATCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "cache"))
    monkeypatch.setattr(ptb, "cache_dir", lambda: str(tmp_path / "cache" / "rnnscratch" / "ptb"))
    return tmp_path


@needs_ptb
def test_shared_files_via_data_dir(isolated):
    corpus, word_to_id, id_to_word = ptb.load_data("train", data_dir=PTB_DIR, download=False)
    assert len(word_to_id) == len(id_to_word) == 10000
    assert corpus.shape == (929589,) and corpus.dtype.kind == "i"
    assert corpus.min() == 0 and corpus.max() == 9999
    # ids in order of first appearance, as the course's loader
    assert list(corpus[:5]) == [0, 1, 2, 3, 4] and id_to_word[0] == "aer"
    assert "<eos>" in word_to_id and "<unk>" in word_to_id
    assert all(id_to_word[i] == w for w, i in word_to_id.items())
    # the course's loader, written out: newline -> <eos>, split, first appearance
    with open(os.path.join(PTB_DIR, "ptb.train.txt")) as f:
        words = f.read().replace("\n", "<eos>").strip().split()
    assert len(words) == 929589 and words[26] == id_to_word[int(corpus[26])]
    sample = np.random.default_rng(0).integers(0, len(words), 2000)
    assert all(id_to_word[int(corpus[i])] == words[i] for i in sample)


@needs_ptb
def test_shared_files_via_env_and_splits(isolated, monkeypatch):
    monkeypatch.setenv("RNNSCRATCH_DATA", os.path.dirname(PTB_DIR))  # the parent holding ptb/
    val, w2i, _ = ptb.load_data("val", download=False)
    valid, w2i2, _ = ptb.load_data("valid", download=False)
    test, _, _ = ptb.load_data("test", download=False)
    np.testing.assert_array_equal(val, valid)
    assert w2i == w2i2 and len(w2i) == 10000
    assert len(valid) == 73760 and len(test) == 82430
    # the arrays handed out are copies: changing one does not change the next
    val[:] = 0
    assert ptb.load_data("val", download=False)[0].any()


def test_small_corpus_semantics(isolated):
    d = isolated / "mini"
    d.mkdir()
    (d / "ptb.train.txt").write_text(" the cat sat \n the dog sat down \n")
    (d / "ptb.valid.txt").write_text(" dog sat \n")
    (d / "ptb.test.txt").write_text(" a cat \n")
    corpus, w2i, i2w = ptb.load_data("train", data_dir=str(d), download=False)
    assert w2i == {"the": 0, "cat": 1, "sat": 2, "<eos>": 3, "dog": 4, "down": 5}
    assert list(corpus) == [0, 1, 2, 3, 0, 4, 2, 5, 3]
    assert list(ptb.load_data("val", data_dir=d, download=False)[0]) == [4, 2, 3]
    with pytest.raises(ValueError, match=r"'a' is not in the vocabulary"):
        ptb.load_data("test", data_dir=d, download=False)
    with pytest.raises(ValueError, match="data_type"):
        ptb.load_data("training", data_dir=d, download=False)


def test_offline_without_files_is_a_clear_error(isolated):
    with pytest.raises(FileNotFoundError) as e:
        ptb.load_data("train", data_dir=str(isolated / "nowhere"), download=False)
    msg = str(e.value)
    assert "ptb.train.txt" in msg and "RNNSCRATCH_DATA" in msg and "data_dir" in msg
    assert str(isolated / "nowhere") in msg and ptb.cache_dir() in msg


def test_search_order(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNSCRATCH_DATA", str(tmp_path / "env"))
    dirs = ptb.search_dirs(tmp_path / "arg")
    assert dirs[:3] == [str(tmp_path / "arg" / d) if d else str(tmp_path / "arg")
                        for d in ("", "ptb", "dataset")]
    assert dirs[3] == str(tmp_path / "env")
    assert dirs[-1] == ptb.cache_dir()
