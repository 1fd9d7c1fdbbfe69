"""The book's own model files and library, run with `python -m rnnscratch run`.

The book's `common/` and its chapter-5/6 model files are copied from
$RNNSCRATCH_COURSE_DIR into a temporary folder laid out as the book's
repository; a training script in the book's style (written here: the course
folder has no training scripts) runs there as `python SCRIPT` and as
`python -m rnnscratch run SCRIPT`, on a small synthetic corpus with a fixed
seed. Both must print the same perplexities (float32 drift aside), the
patched run with our classes.
"""
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from needs import course_dir  # noqa: E402

COURSE_DIR = course_dir("common", "time_layers.py")
pytest.importorskip("matplotlib", reason="the book's common/trainer.py imports matplotlib")

CORPUS = """
import numpy as np
rs = np.random.RandomState(7)
V = 40
# a corpus with structure to learn: each word mostly follows from the last one
nxt = rs.randint(0, V, size=V)
words = [0]
for _ in range(1200):
    words.append(nxt[words[-1]] if rs.rand() < 0.8 else rs.randint(V))
corpus = np.array(words)
"""

CH05 = textwrap.dedent("""
    import sys
    sys.path.append('..')
    import numpy as np
    from common.optimizer import SGD
    from simple_rnnlm import SimpleRnnlm
    """) + CORPUS + textwrap.dedent("""
    np.random.seed(1)
    batch_size, wordvec_size, hidden_size, time_size, lr, max_epoch = 5, 16, 16, 5, 0.1, 6
    xs, ts = corpus[:-1], corpus[1:]
    data_size = len(xs)
    max_iters = data_size // (batch_size * time_size)
    model = SimpleRnnlm(V, wordvec_size, hidden_size)
    optimizer = SGD(lr)
    jump = (len(corpus) - 1) // batch_size
    offsets = [i * jump for i in range(batch_size)]
    time_idx = 0
    for epoch in range(max_epoch):
        total_loss = 0
        for it in range(max_iters):
            bx = np.empty((batch_size, time_size), dtype='i')
            bt = np.empty((batch_size, time_size), dtype='i')
            for t in range(time_size):
                for i, off in enumerate(offsets):
                    bx[i, t] = xs[(off + time_idx) % data_size]
                    bt[i, t] = ts[(off + time_idx) % data_size]
                time_idx += 1
            loss = model.forward(bx, bt)
            model.backward()
            optimizer.update(model.params, model.grads)
            total_loss += loss
        print('| epoch %d | perplexity %.4f' % (epoch + 1, np.exp(total_loss / max_iters)))
    print('layer', type(model.rnn_layer).__module__)
    """)

CH06 = textwrap.dedent("""
    import sys
    sys.path.append('..')
    import numpy as np
    from common.optimizer import SGD
    from common.trainer import RnnlmTrainer
    from common.util import eval_perplexity
    from rnnlm import Rnnlm
    """) + CORPUS + textwrap.dedent("""
    np.random.seed(2)
    model = Rnnlm(V, 12, 12)
    trainer = RnnlmTrainer(model, SGD(5.0))
    trainer.fit(corpus[:-1], corpus[1:], max_epoch=2, batch_size=4, time_size=10,
                max_grad=0.25, eval_interval=10)
    model.reset_state()
    print('test perplexity: %.4f' % eval_perplexity(model, corpus[:300], batch_size=2,
                                                     time_size=10))
    model.save_params()
    print('layer', type(model.layers[0]).__module__)
    """)


def _book(tmp_path):
    root = tmp_path / "book"
    shutil.copytree(os.path.join(COURSE_DIR, "common"), root / "common")
    for ch, name in (("ch05", "simple_rnnlm.py"), ("ch06", "rnnlm.py")):
        (root / ch).mkdir(parents=True)
        shutil.copy(os.path.join(COURSE_DIR, ch, name), root / ch / name)
    return root


def _run(cmd, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _numbers(lines):
    return [float(x) for line in lines for x in re.findall(r"perplexity:? ([0-9][0-9.]*)", line)]


@pytest.mark.parametrize("chapter, script", [("ch05", CH05), ("ch06", CH06)], ids=["ch05", "ch06"])
def test_book_script_prints_the_same_with_run(tmp_path, chapter, script):
    root = _book(tmp_path)
    cwd = root / chapter
    (cwd / "train.py").write_text(script)
    plain = _run([sys.executable, "train.py"], cwd).splitlines()
    ran = _run([sys.executable, "-m", "rnnscratch", "run", "train.py"], cwd).splitlines()
    assert plain[-1] == "layer common.time_layers"
    assert ran[-1].startswith("layer rnnscratch.")
    # the same lines: the same texts, the same perplexities up to float32 drift
    assert len(plain) == len(ran)
    mask = [re.sub(r"[0-9.]+", "#", line) for line in plain[:-1]]
    assert mask == [re.sub(r"[0-9.]+", "#", line) for line in ran[:-1]]
    p, r = _numbers(plain), _numbers(ran)
    assert len(p) == len(r) >= 3
    assert p == pytest.approx(r, rel=2e-3)
    assert r[-2] < r[0]  # it learns


def test_check_course_on_the_book(tmp_path, capsys):
    from rnnscratch.__main__ import main

    status = main(["check", "--course", COURSE_DIR])
    out = capsys.readouterr().out
    assert status == 0, out
    for name in ("RNN", "TimeRNN", "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeBiLSTM",
                 "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss", "SGD", "Momentum",
                 "AdaGrad", "Adam", "clip_grads", "eval_perplexity", "RnnlmTrainer"):
        (line,) = [ln for ln in out.splitlines() if ln.split()[:1] == [name]]
        assert "matches" in line, line
    assert "differs" not in out
