"""Every notebook in notebooks/ runs top to bottom in a fresh kernel, without error.

Each notebook is executed with nbclient in a new ``python3`` kernel whose
interpreter is the one running the tests and which imports the same
``rnnscratch`` as the tests (its directory goes first on the kernel's
PYTHONPATH); the working directory is notebooks/. The notebooks check their
key numbers with ``assert``, so a wrong result fails here like an exception.
``$RNNSCRATCH_DATA`` is pointed at ``<repo>/../shared/data/ptb`` when that
exists and the variable is not set already.

``00_colab_quickstart.ipynb`` clones the book and pip-installs rnnscratch on
Colab. Here it runs offline: ``$RNNSCRATCH_BOOK_URL`` points its clone at the
book's files (``$RNNSCRATCH_COURSE_DIR``, or ``<repo>/../shared/course``),
copied into a temporary folder (``$RNNSCRATCH_QUICKSTART_DIR``);
``$RNNSCRATCH_PIP_ARGS`` makes its install cell ask pip, without an index, for
the ``rnnscratch[book]`` the suite runs with (already installed: building the C
extension again would take minutes); ``$RNNSCRATCH_QUICKSTART_ITERS`` keeps the
two training runs short. Without the book's files it fails under CI, else skips.

To refresh the outputs saved in the repository after editing a notebook:

    RNNSCRATCH_SAVE_NOTEBOOKS=1 python -m pytest -q tests/test_notebooks.py
"""
import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
PTB_DIR = REPO.parent / "shared" / "data" / "ptb"
COURSE_DIR = Path(os.environ.get("RNNSCRATCH_COURSE_DIR") or REPO.parent / "shared" / "course")
QUICKSTART = "00_colab_quickstart"
KERNEL = "python3"
CELL_TIMEOUT = 600          # seconds per cell; the notebooks take well under a minute each
MAX_TOTAL_BYTES = 1_500_000
SAVE = os.environ.get("RNNSCRATCH_SAVE_NOTEBOOKS", "") not in ("", "0")


def test_notebooks_exist():
    assert len(NOTEBOOKS) >= 6, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_documented_and_saved_with_outputs(path):
    """Opens with what it shows and the import line; carries the outputs of one full run."""
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), path.name
    assert "import" in first.source and "rnnscratch" in first.source, (
        f"{path.name}: the first cell should show the line that imports rnnscratch")
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: saved outputs are not from one top-to-bottom run "
        f"(execution counts {counts}); refresh them (see this file's docstring)")
    for c in code:
        assert not any(o.get("output_type") == "error" for o in c.outputs), path.name


def test_notebooks_are_small():
    total = sum(p.stat().st_size for p in NOTEBOOKS)
    assert total < MAX_TOTAL_BYTES, f"notebooks take {total} bytes"


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """Environment of the kernels: a python3 kernelspec for this interpreter,
    this rnnscratch first on the path, and the PTB directory."""
    import rnnscratch

    spec_dir = tmp_path_factory.mktemp("jupyter") / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }))
    package_parent = str(Path(rnnscratch.__file__).resolve().parent.parent)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.pathsep.join(
            [str(spec_dir.parent.parent)] + [p for p in [os.environ.get("JUPYTER_PATH")] if p]))
        mp.setenv("PYTHONPATH", os.pathsep.join(
            [package_parent] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
        if not os.environ.get("RNNSCRATCH_DATA") and PTB_DIR.is_dir():
            mp.setenv("RNNSCRATCH_DATA", str(PTB_DIR))
        # the quick start's clone, install and run length (see the docstring)
        mp.setenv("RNNSCRATCH_BOOK_URL", str(COURSE_DIR))
        mp.setenv("RNNSCRATCH_QUICKSTART_DIR", str(tmp_path_factory.mktemp("colab")))
        mp.setenv("RNNSCRATCH_PIP_ARGS", "-q --no-index rnnscratch[book]")
        mp.setenv("RNNSCRATCH_QUICKSTART_ITERS", "30")
        mp.setenv("RNNSCRATCH_BENCH_SMOKE", "1")  # 06_benchmark: the code, not the figures

        from jupyter_client.kernelspec import KernelSpecManager

        spec = KernelSpecManager().get_kernel_spec(KERNEL)
        assert spec.argv[0] == sys.executable, spec.argv
        yield package_parent


PROBE = ("import os, rnnscratch\n"
         "print(os.path.dirname(os.path.dirname(os.path.realpath(rnnscratch.__file__))))")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, kernel_env):
    if path.stem == QUICKSTART and not (COURSE_DIR / "common" / "time_layers.py").is_file():
        from needs import missing

        missing("the quick start needs the book's files: set RNNSCRATCH_COURSE_DIR "
                "(it is %s)" % COURSE_DIR)
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))   # which rnnscratch the kernel imported
    client = nbclient.NotebookClient(
        nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT, record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()  # raises CellExecutionError (with the cell and traceback) on any error

    probe = nb.cells.pop()
    printed = "".join(o.get("text", "") for o in probe.outputs if o.get("name") == "stdout")
    assert os.path.realpath(printed.strip()) == os.path.realpath(kernel_env), (
        f"the kernel imported rnnscratch from {printed.strip()!r}, the tests from {kernel_env!r}")
    if SAVE:
        nbformat.write(nb, str(path))
