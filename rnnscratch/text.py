"""Keras-compatible text preprocessing: ``Tokenizer`` and ``pad_sequences``.

A drop-in for ``keras.preprocessing.text.Tokenizer`` and
``keras.preprocessing.sequence.pad_sequences`` (which recent Keras no longer
ships), with the same arguments, attributes and indices::

    from rnnscratch.text import Tokenizer, pad_sequences
    tok = Tokenizer()
    tok.fit_on_texts(["I have a pen.", "I have an apple", "You have pen and apple."])
    tok.texts_to_sequences(...)   # [[2, 1, 5, 3], [2, 1, 6, 4], [7, 1, 3, 8, 4]]

Index 0 is never a word (it is the padding value); with ``oov_token`` the
out-of-vocabulary token has index 1; words follow, most frequent first, ties
in order of first appearance.
"""
from collections import OrderedDict, defaultdict

import numpy as np

__all__ = ["Tokenizer", "pad_sequences", "text_to_word_sequence", "DEFAULT_FILTERS"]

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """Split a text into words: lower-case it, replace every character of
    ``filters`` by ``split``, split on ``split`` and drop empty strings."""
    if lower:
        text = text.lower()
    if filters:
        text = text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in text.split(split) if w]


class Tokenizer:
    """Maps words (or characters) to integer indices, as Keras's Tokenizer.

    Parameters
    ----------
    num_words : keep only the words of index < num_words when converting texts
        (the vocabulary itself keeps every word); None keeps all.
    filters : characters removed from the texts (replaced by ``split``).
    lower : lower-case the texts.
    split : the word separator.
    char_level : every character is a token.
    oov_token : if given, it gets index 1 and replaces unknown (or, with
        ``num_words``, dropped) words in ``texts_to_sequences``.

    Attributes after ``fit_on_texts``: ``word_counts`` (OrderedDict word ->
    count, in order of first appearance), ``word_docs`` (word -> number of
    texts containing it), ``word_index`` (word -> index, from 1),
    ``index_word`` (index -> word), ``index_docs``, ``document_count``.
    Texts given as lists of strings are taken as already split into tokens.
    """

    def __init__(self, num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ",
                 char_level=False, oov_token=None, document_count=0, **kwargs):
        if kwargs:
            raise TypeError("Unrecognized keyword arguments: " + str(sorted(kwargs)))
        self.num_words = num_words
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.document_count = document_count
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.index_docs = defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    def _tokens(self, text):
        """The token list of one text (a string, or a list of tokens)."""
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = ([t.lower() for t in text] if isinstance(text, list)
                        else text.lower())
            return text
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Update the vocabulary from a list of texts (strings or token lists)."""
        for text in texts:
            self.document_count += 1
            seq = self._tokens(text)
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(seq):
                self.word_docs[w] += 1
        # stable sort: equal counts keep their order of first appearance
        ranked = sorted(self.word_counts.items(), key=lambda wc: wc[1], reverse=True)
        vocab = [] if self.oov_token is None else [self.oov_token]
        vocab.extend(w for w, _ in ranked)
        self.word_index = dict(zip(vocab, range(1, len(vocab) + 1)))
        self.index_word = {i: w for w, i in self.word_index.items()}
        self.index_docs = defaultdict(int)
        for w, c in self.word_docs.items():
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences):
        """Count, for every index, the number of sequences containing it
        (``index_docs``, used by the 'tfidf' mode)."""
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def texts_to_sequences_generator(self, texts):
        """Yield the list of indices of each text (see ``texts_to_sequences``)."""
        num_words = self.num_words
        oov = self.word_index.get(self.oov_token)
        for text in texts:
            vect = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is not None and not (num_words and i >= num_words):
                    vect.append(i)
                elif oov is not None:
                    vect.append(oov)
            yield vect

    def texts_to_sequences(self, texts):
        """Texts -> lists of word indices. Unknown words, and words of index
        >= num_words, are dropped, or replaced by the oov_token's index."""
        return list(self.texts_to_sequences_generator(texts))

    def sequences_to_texts_generator(self, sequences):
        """Yield the text of each sequence (see ``sequences_to_texts``)."""
        num_words = self.num_words
        oov = self.word_index.get(self.oov_token)
        for seq in sequences:
            words = []
            for i in seq:
                w = self.index_word.get(i)
                if w is not None and not (num_words and i >= num_words):
                    words.append(w)
                elif oov is not None:
                    words.append(self.index_word[oov])
            yield " ".join(words)

    def sequences_to_texts(self, sequences):
        """Lists of indices -> texts (words joined by spaces), the inverse of
        ``texts_to_sequences`` up to filtering and lower-casing."""
        return list(self.sequences_to_texts_generator(sequences))

    def texts_to_matrix(self, texts, mode="binary"):
        """Texts -> (len(texts), num_words) matrix; see ``sequences_to_matrix``."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """Sequences -> (len(sequences), num_words) float matrix.

        mode 'binary' (1 where an index occurs), 'count', 'freq' (count divided
        by the sequence length) or 'tfidf'. Without ``num_words`` the width is
        len(word_index) + 1; indices >= the width are ignored.
        """
        if mode not in ("binary", "count", "tfidf", "freq"):
            raise ValueError("Unknown vectorization mode: %r" % (mode,))
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError("Specify a dimension (`num_words` argument), "
                             "or fit on some text data first.")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        x = np.zeros((len(sequences), width))
        for row, seq in enumerate(sequences):
            seq = np.asarray(seq, dtype=np.intp).ravel()
            counts = np.bincount(seq[seq < width], minlength=width)[:width]
            if mode == "count":
                x[row] = counts
            elif mode == "freq":
                x[row] = counts / len(seq) if len(seq) else 0.0
            elif mode == "binary":
                x[row] = counts > 0
            else:  # tfidf, Keras's weighting: (1 + log tf) * log(1 + docs / (1 + df))
                j = np.flatnonzero(counts)
                df = np.array([self.index_docs.get(i, 0) for i in j], dtype=float)
                x[row, j] = (1 + np.log(counts[j])) * np.log(
                    1 + self.document_count / (1 + df))
        return x

    def get_config(self):
        """The constructor arguments and the fitted vocabulary, as a dict."""
        return {
            "num_words": self.num_words, "filters": self.filters, "lower": self.lower,
            "split": self.split, "char_level": self.char_level,
            "oov_token": self.oov_token, "document_count": self.document_count,
            "word_counts": dict(self.word_counts), "word_docs": dict(self.word_docs),
            "index_docs": dict(self.index_docs), "index_word": dict(self.index_word),
            "word_index": dict(self.word_index),
        }


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre",
                  truncating="pre", value=0.0):
    """Pad (or cut) sequences to one length, as Keras's ``pad_sequences``.

    sequences : list of N sequences (lists or arrays; items may themselves be
        arrays of a common shape S).
    maxlen : the length; None uses the longest sequence.
    padding / truncating : 'pre' (at the start, the default) or 'post'.
    value : the padding value.
    Returns an array (N, maxlen) + S of ``dtype``.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if padding not in ("pre", "post"):
        raise ValueError('Padding type "%s" not understood' % (padding,))
    if truncating not in ("pre", "post"):
        raise ValueError('Truncating type "%s" not understood' % (truncating,))
    lengths, sample_shape = [], ()
    found_shape = False
    for s in sequences:
        try:
            lengths.append(len(s))
        except TypeError:
            raise ValueError("`sequences` must be a list of iterables. "
                             "Found non-iterable: " + str(s)) from None
        if not found_shape and len(s):
            sample_shape = np.asarray(s).shape[1:]
            found_shape = True
    if maxlen is None:
        maxlen = max(lengths, default=0)
    is_str_dtype = np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and np.dtype(dtype) != object and not is_str_dtype:
        raise ValueError("`dtype` %s is not compatible with `value`'s type: %s\n"
                         "You should set `dtype=object` for variable length strings."
                         % (dtype, type(value)))

    x = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return x
    for row, s in enumerate(sequences):
        if not len(s):
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError("Shape of sample %s of sequence at position %s is different "
                             "from expected shape %s" % (trunc.shape[1:], row, sample_shape))
        if padding == "post":
            x[row, :len(trunc)] = trunc
        else:
            x[row, -len(trunc):] = trunc
    return x
