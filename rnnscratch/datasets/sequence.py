"""The character datasets of the book's chapters 7 and 8 (dataset/sequence.py).

load_data(file_name='addition.txt', seed=1984, data_dir=None)
    -> (x_train, t_train), (x_test, t_test): integer id arrays (int64), one row
    per line; the question is the text before the first '_', the answer the
    rest from the '_' on (the '_' is the decoder's start symbol), without the
    line's last character (the newline). The rows are shuffled with
    np.random.seed(seed) + np.random.shuffle (NumPy's global generator, as the
    book does: the generator is left seeded, so the weights drawn next are the
    book's), and the last len // 10 rows are the test set.
get_vocab() -> (char_to_id, id_to_char)
    As in the book, the vocabulary is module state that grows with every file
    loaded, ids in order of first appearance (questions and answers
    interleaved line by line); in a fresh process the ids are the book's.
    reset_vocab() empties it.

The file is looked for, in order, in: `data_dir`; the directory in
$RNNSCRATCH_DATA (and its `sequence/` subdirectory); the book's `dataset/`
folder beside the calling script, then beside the working directory (a
notebook's), each also one level up (the book's chapter folders sit beside
`dataset/`). The files
are not shipped: without them, make_addition / make_dates write files in the
same text format (generated, not the book's lines):

make_addition(file_name=None, size=50000, seed=0)  'a+b' padded to 7, '_sum' padded to 5
make_dates(file_name=None, size=50000, seed=0)     a date in one of the book's formats
                                                    padded to 29, '_YYYY-MM-DD'
Each returns the text (and writes it to file_name when given).
"""
import datetime
import inspect
import io
import os

import numpy as np

from .ptb import decode_text

__all__ = ["load_data", "get_vocab", "reset_vocab", "find_file", "make_addition", "make_dates",
           "ENV_VAR"]

ENV_VAR = "RNNSCRATCH_DATA"

id_to_char = {}
char_to_id = {}


def _update_vocab(txt):
    for ch in txt:
        if ch not in char_to_id:
            i = len(char_to_id)
            char_to_id[ch] = i
            id_to_char[i] = ch


def get_vocab():
    """(char_to_id, id_to_char) of the files loaded so far."""
    return char_to_id, id_to_char


def reset_vocab():
    """Forget the vocabulary (the next load_data numbers characters from 0)."""
    char_to_id.clear()
    id_to_char.clear()


def _caller_dir():
    """Directory of the first caller outside this module (the working
    directory for interactive code)."""
    here = os.path.abspath(__file__)
    for frame in inspect.stack()[1:]:
        fn = frame.filename
        if os.path.abspath(fn) != here and not fn.startswith("<"):
            return os.path.dirname(os.path.abspath(fn))
        if fn.startswith("<"):
            break
    return os.getcwd()


def _candidates(file_name, data_dir):
    dirs = []
    if data_dir is not None:
        dirs.append(os.fspath(data_dir))
    env = os.environ.get(ENV_VAR)
    if env:
        dirs += [env, os.path.join(env, "sequence")]
    for here in (_caller_dir(), os.getcwd()):
        for d in (os.path.join(here, "dataset"), os.path.join(os.path.dirname(here), "dataset")):
            if d not in dirs:
                dirs.append(d)
    return [os.path.join(d, file_name) for d in dirs]


def find_file(file_name="addition.txt", data_dir=None):
    """The path load_data would read, or FileNotFoundError listing where it looked."""
    if not isinstance(file_name, (str, os.PathLike)):
        raise TypeError(f"file_name: expected a file name, got {type(file_name).__name__}")
    file_name = os.fspath(file_name)
    if data_dir is None and os.path.isabs(file_name):
        paths = [file_name]
    else:
        paths = _candidates(file_name, data_dir)
    for p in paths:
        if os.path.isfile(p):
            return p
    raise FileNotFoundError(
        f"{file_name}: not found in " + ", ".join(paths) +
        f". Pass data_dir=, set ${ENV_VAR}, or write a file in the same format with "
        "rnnscratch.datasets.sequence.make_addition / make_dates")


def load_data(file_name="addition.txt", seed=1984, data_dir=None):
    """The book's split: ((x_train, t_train), (x_test, t_test)); see the module doc."""
    if seed is not None:  # checked before anything is read or changed
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed: expected an integer (or None), got {seed!r}")
        if not 0 <= seed < 2**32:
            raise ValueError(f"seed: expected an integer in [0, 2**32), got {seed}")
        seed = int(seed)
    path = find_file(file_name, data_dir)
    questions, answers = [], []
    with open(path, "rb") as f:
        data = f.read()
    text = decode_text(data, path)  # a byte-order mark dropped, not a character of line 1
    with io.StringIO(text, newline=None) as f:  # universal newlines, as open(path, "r")
        for lineno, line in enumerate(f, 1):
            idx = line.find("_")
            if idx < 0:
                raise ValueError(f"{path}, line {lineno}: no '_' separating question and answer")
            questions.append(line[:idx])
            answers.append(line[idx:-1])
    if not questions:
        raise ValueError(f"{path}: the file is empty")
    for i, (q, a) in enumerate(zip(questions, answers)):
        if len(q) != len(questions[0]) or len(a) != len(answers[0]):
            raise ValueError(f"{path}, line {i + 1}: question/answer of widths "
                             f"{len(q)}/{len(a)}, the first line's {len(questions[0])}/"
                             f"{len(answers[0])}: every line must be padded alike")
    # everything is valid: now the vocabulary and the generator change
    for q, a in zip(questions, answers):
        _update_vocab(q)
        _update_vocab(a)
    x = np.array([[char_to_id[c] for c in q] for q in questions], dtype=np.int64)
    t = np.array([[char_to_id[c] for c in a] for a in answers], dtype=np.int64)
    x = x.reshape(len(questions), len(questions[0]))
    t = t.reshape(len(answers), len(answers[0]))

    indices = np.arange(len(x))
    if seed is not None:
        np.random.seed(seed)
    np.random.shuffle(indices)
    x, t = x[indices], t[indices]
    split_at = len(x) - len(x) // 10
    return (x[:split_at], t[:split_at]), (x[split_at:], t[split_at:])


# --------------------------------------------------------------- generators
def _size(size):
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size: expected a positive integer, got {size!r}")
    return int(size)


def _write(text, file_name):
    if file_name is not None:  # all or nothing (UTF-8, "\n" line ends)
        from ..models.files import atomic_write

        atomic_write(file_name, lambda f: f.write(text), mode="w")
    return text


def make_addition(file_name=None, size=50000, seed=0):
    """`size` distinct addition problems 'a+b' (a, b of 1 to 3 digits, the
    number of digits drawn first, each pair once whatever its order), the
    question padded to 7 characters, the answer '_' + the sum padded to 5:
    the format of the book's addition.txt. Returns the text."""
    size = _size(size)
    if size > 500500:  # distinct unordered pairs of 0..999
        raise ValueError(f"size: at most 500500 distinct problems, got {size}")
    rng = np.random.default_rng(seed)
    seen, lines = set(), []
    while len(lines) < size:
        a, b = (int(rng.integers(0, 10 ** int(rng.integers(1, 4)))) for _ in range(2))
        key = (min(a, b), max(a, b))
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"{a}+{b}".ljust(7) + ("_" + str(a + b)).ljust(5) + "\n")
    return _write("".join(lines), file_name)


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def make_dates(file_name=None, size=50000, seed=0):
    """`size` dates between 1970-01-01 and 2017-12-31 written as 'Month D, YYYY'
    (full or three-letter month), 'M/D/YY' or 'Weekday, Month D, YYYY', in
    title, lower or upper case, padded to 29 characters, then '_YYYY-MM-DD':
    the format of the book's date.txt. Returns the text."""
    size = _size(size)
    rng = np.random.default_rng(seed)
    first = datetime.date(1970, 1, 1).toordinal()
    last = datetime.date(2017, 12, 31).toordinal()
    cases = (str.title, str.lower, str.upper)
    lines = []
    for _ in range(size):
        d = datetime.date.fromordinal(int(rng.integers(first, last + 1)))
        kind = int(rng.integers(0, 4))
        case = cases[int(rng.integers(0, 3))]
        month = _MONTHS[d.month - 1]
        if kind == 0:      # M/D/YY
            q = f"{d.month}/{d.day}/{d.year % 100:02d}"
        elif kind == 1:    # Weekday, Month D, YYYY
            q = case(f"{_DAYS[d.weekday()]}, {month} {d.day}, {d.year}")
        else:              # Month D, YYYY with a full or short month
            name = month if kind == 2 else month[:3]
            q = case(f"{name} {d.day}, {d.year}")
        lines.append(q.ljust(29) + "_" + d.isoformat() + "\n")
    return _write("".join(lines), file_name)
