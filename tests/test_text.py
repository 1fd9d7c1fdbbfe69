"""rnnscratch.text: Keras's Tokenizer and pad_sequences, same indices and semantics."""
import numpy as np
import pytest

from rnnscratch.text import Tokenizer, pad_sequences, text_to_word_sequence

TEXTS = ["I have a pen.", "I have an apple", "You have pen and apple."]


def fitted(**kwargs):
    tok = Tokenizer(**kwargs)
    tok.fit_on_texts(TEXTS)
    return tok


def test_course_example():
    tok = fitted()
    assert tok.texts_to_sequences(TEXTS) == [[2, 1, 5, 3], [2, 1, 6, 4], [7, 1, 3, 8, 4]]


def test_vocabulary_attributes():
    tok = fitted()
    # most frequent first; equal counts in order of first appearance
    assert tok.word_index == {"have": 1, "i": 2, "pen": 3, "apple": 4, "a": 5, "an": 6,
                              "you": 7, "and": 8}
    assert tok.index_word == {i: w for w, i in tok.word_index.items()}
    assert list(tok.word_counts.items()) == [
        ("i", 2), ("have", 3), ("a", 1), ("pen", 2), ("an", 1), ("apple", 2),
        ("you", 1), ("and", 1)]
    assert tok.word_docs["have"] == 3 and tok.word_docs["pen"] == 2
    assert tok.index_docs[1] == 3
    assert tok.document_count == 3


def test_default_filters_and_lower():
    assert text_to_word_sequence("Hello, World!\tIt's\n(ok)") == ["hello", "world", "it's", "ok"]
    tok = Tokenizer()
    tok.fit_on_texts(["Hello, World! hello... WORLD?"])
    assert tok.word_index == {"hello": 1, "world": 2}
    tok = Tokenizer(filters="", lower=False)
    tok.fit_on_texts(["Hello, World! hello"])
    assert tok.word_index == {"Hello,": 1, "World!": 2, "hello": 3}


def test_custom_split_and_char_level():
    tok = Tokenizer(split=",")
    tok.fit_on_texts(["a b,c,a b"])
    assert tok.word_index == {"a b": 1, "c": 2}  # ',' is a filter too: it becomes the split
    tok = Tokenizer(char_level=True)
    tok.fit_on_texts(["abca", "Ab"])
    assert tok.word_index == {"a": 1, "b": 2, "c": 3}
    assert tok.texts_to_sequences(["cab"]) == [[3, 1, 2]]


def test_pre_tokenized_texts():
    tok = Tokenizer()
    tok.fit_on_texts([["The", "cat"], ["the", "dog"]])
    assert tok.word_index == {"the": 1, "cat": 2, "dog": 3}
    assert tok.texts_to_sequences([["dog", "The"]]) == [[3, 1]]


def test_num_words_keeps_indices_below_it():
    tok = fitted(num_words=4)
    assert len(tok.word_index) == 8  # the vocabulary keeps every word
    assert tok.texts_to_sequences(TEXTS) == [[2, 1, 3], [2, 1], [1, 3]]
    assert tok.sequences_to_texts([[2, 1, 3, 7]]) == ["i have pen"]


def test_oov_token():
    tok = fitted(oov_token="<unk>")
    assert tok.word_index["<unk>"] == 1
    assert tok.word_index["have"] == 2 and tok.word_index["and"] == 9
    assert tok.texts_to_sequences(["I have a banana"]) == [[3, 2, 6, 1]]
    assert tok.sequences_to_texts([[3, 2, 6, 1, 42]]) == ["i have a <unk> <unk>"]
    tok = fitted(oov_token="<unk>", num_words=4)
    assert tok.texts_to_sequences(["you have pen"]) == [[1, 2, 1]]


def test_unknown_words_dropped_without_oov_token():
    assert fitted().texts_to_sequences(["I have a banana"]) == [[2, 1, 5]]


def test_sequences_to_texts_round_trip():
    tok = fitted()
    assert tok.sequences_to_texts(tok.texts_to_sequences(TEXTS)) == [
        "i have a pen", "i have an apple", "you have pen and apple"]


def test_texts_to_matrix():
    tok = fitted()
    m = tok.texts_to_matrix(["pen pen apple", "zebra"], mode="count")
    assert m.shape == (2, 9)
    assert m[0, 3] == 2 and m[0, 4] == 1 and m[0].sum() == 3 and not m[1].any()
    b = tok.texts_to_matrix(["pen pen apple"])
    assert b[0, 3] == 1 and b.sum() == 2
    f = tok.texts_to_matrix(["pen pen apple"], mode="freq")
    np.testing.assert_allclose(f[0, [3, 4]], [2 / 3, 1 / 3])
    t = tok.texts_to_matrix(["pen pen"], mode="tfidf")
    assert t[0, 3] == pytest.approx((1 + np.log(2)) * np.log(1 + 3 / (1 + 2)))
    assert fitted(num_words=3).texts_to_matrix(["pen have"]).tolist() == [[0, 1, 0]]
    with pytest.raises(ValueError):
        Tokenizer().texts_to_matrix(["a"])
    with pytest.raises(ValueError):
        tok.texts_to_matrix(["a"], mode="bag")


def test_fit_accumulates_and_unknown_kwarg():
    tok = fitted()
    tok.fit_on_texts(["apple apple apple"])
    assert tok.word_index["apple"] == 1 and tok.document_count == 4
    with pytest.raises(TypeError):
        Tokenizer(nb_words=3)


# --------------------------------------------------------------------------
# pad_sequences
# --------------------------------------------------------------------------

SEQS = [[1, 2, 3], [4, 5], [6], []]


def test_pad_defaults_pre():
    x = pad_sequences(SEQS)
    assert x.dtype == np.int32
    assert x.tolist() == [[1, 2, 3], [0, 4, 5], [0, 0, 6], [0, 0, 0]]


def test_pad_post_and_value():
    assert pad_sequences(SEQS, padding="post", value=-1).tolist() == [
        [1, 2, 3], [4, 5, -1], [6, -1, -1], [-1, -1, -1]]


def test_truncating_pre_and_post():
    assert pad_sequences([[1, 2, 3, 4]], maxlen=2).tolist() == [[3, 4]]
    assert pad_sequences([[1, 2, 3, 4]], maxlen=2, truncating="post").tolist() == [[1, 2]]
    assert pad_sequences([[1, 2, 3], [7]], maxlen=2, padding="post",
                         truncating="post").tolist() == [[1, 2], [7, 0]]


def test_pad_dtype_and_samples_with_features():
    x = pad_sequences([[0.5, 1.5]], maxlen=3, dtype="float32")
    assert x.dtype == np.float32 and x.tolist() == [[0.0, 0.5, 1.5]]
    assert pad_sequences([[0.5, 1.7]]).tolist() == [[0, 1]]  # int32 truncates values
    x = pad_sequences([np.ones((2, 3)), np.ones((1, 3))], dtype="float64")
    assert x.shape == (2, 2, 3) and x[1, 0].sum() == 0 and x[1, 1].sum() == 3
    s = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert s.tolist() == [["a", "b"], ["<pad>", "c"]]


def test_pad_errors():
    with pytest.raises(ValueError):
        pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError):
        pad_sequences(SEQS, truncating="middle")
    with pytest.raises(ValueError):
        pad_sequences([[1], 2])
    with pytest.raises(ValueError):
        pad_sequences([["a"]], value="x")  # int32 cannot hold a string padding value
    with pytest.raises(ValueError):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])


def test_pad_tokenizer_output():
    tok = fitted()
    x = pad_sequences(tok.texts_to_sequences(TEXTS), maxlen=4)
    assert x.tolist() == [[2, 1, 5, 3], [2, 1, 6, 4], [1, 3, 8, 4]]
