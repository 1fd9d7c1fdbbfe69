"""The registry is complete: every public layer and model class of the package
has an entry, so that the cross-cutting suites (fuzz, failure state, errors,
memory, concurrency, gradient check) cover it. A class added without an entry
fails here."""
import inspect

import rnnscratch
from rnnscratch import diveintocode
from registry import REGISTRY

# public classes that are neither layers nor models: the optimizers, trainers
# and the abstract base of the models (its save/load are tested through every model)
NOT_LAYERS = {"SGD", "Momentum", "AdaGrad", "Adam", "RnnlmTrainer", "Trainer", "BaseModel"}


def _public_classes():
    out = set()
    for name in rnnscratch.__all__:
        obj = getattr(rnnscratch, name)
        if inspect.isclass(obj) and name not in NOT_LAYERS:
            out.add(name)
    for name, obj in vars(diveintocode).items():
        # the scratch course's layers with the course API (forward/backward)
        if (inspect.isclass(obj) and not name.startswith("_") and obj.__module__ == diveintocode.__name__
                and hasattr(obj, "forward") and hasattr(obj, "backward") and hasattr(obj, "__init__")
                and name in getattr(diveintocode, "__all__", [name])):
            out.add("diveintocode." + name)
    return out


def test_every_public_layer_and_model_has_an_entry():
    registered = {e.id for e in REGISTRY}
    missing = sorted(_public_classes() - registered - {"diveintocode." + n for n in DIVEINTOCODE_ORACLE_FREE})
    assert missing == [], "public classes without a registry entry: %s" % missing


# diveintocode's small activation/loss classes are checked against the course's
# published numbers in test_diveintocode.py, not through the registry
DIVEINTOCODE_ORACLE_FREE = {"Tanh", "Sigmoid", "ReLU", "Softmax", "SoftmaxWithCrossEntropy", "FC",
                            "ScratchSimpleRNNClassifier"}


def test_every_entry_names_a_public_class():
    for e in REGISTRY:
        for impl in e.impls:
            assert e.cls(impl) is not None
