"""Every bad input raises the right feynn exception, never a crash."""

import numpy as np
import pytest

import feynn
from conftest import EXAMPLES, random_mlp


@pytest.fixture
def mlp():
    return feynn.from_state_dict(random_mlp(np.random.default_rng(1), [3, 4, 1]))


def test_hierarchy():
    for cls in (feynn.SpecError, feynn.ShapeError, feynn.WeightsError, feynn.ActivationError,
                feynn.UnsupportedModule, feynn.InputError):
        assert issubclass(cls, feynn.Error) and issubclass(cls, ValueError)
    assert issubclass(feynn.TooLarge, MemoryError) and issubclass(feynn.FileError, OSError)


def test_spec_error_has_line_and_column():
    with pytest.raises(feynn.SpecError) as e:
        feynn.parse("model m {\n  input 3\n  layer 4 tahn\n  output 1\n}\n")
    assert (e.value.line, e.value.column) == (3, 11)
    assert "unknown activation `tahn`" in str(e.value)
    assert "did you mean `tanh`" in e.value.help
    with pytest.raises(feynn.SpecError) as e:
        feynn.parse("model m {\n  input 3\n  layer 4 tanh\n  output 1\n")  # unclosed
    assert e.value.line == 5


def test_bad_claim_is_a_spec_error(mlp):
    with pytest.raises(feynn.SpecError):
        mlp.check("d2y/dx1dx2 = sum(j, ")


def test_wrong_point_shapes(mlp):
    for bad in ([0.1, 0.2], np.zeros((2, 2)), np.zeros((2, 3, 1)), np.zeros(4)):
        with pytest.raises(feynn.ShapeError) as e:
            mlp.taylor(2, at=bad)
        assert "3 inputs" in str(e.value)
    with pytest.raises(feynn.ShapeError):
        mlp.forward(np.zeros((5, 2)))


def test_non_finite_points_and_weights(mlp):
    with pytest.raises(feynn.InputError, match="not finite"):
        mlp.taylor(2, at=[0.0, np.nan, 0.0])
    with pytest.raises(feynn.InputError, match="not finite"):
        mlp.taylor(1, at=[[0.0, 0.0, 0.0], [np.inf, 0.0, 0.0]])
    sd = random_mlp(np.random.default_rng(2), [3, 4, 1])
    sd["2.weight"][0, 1] = np.nan
    with pytest.raises(feynn.WeightsError, match="non-finite"):
        feynn.from_state_dict(sd)
    with pytest.raises(feynn.InputError):
        mlp.taylor(1, at="origin")


def test_shapes_of_tensors():
    sd = random_mlp(np.random.default_rng(2), [3, 4, 1])
    sd["2.weight"] = np.zeros((1, 5))
    with pytest.raises(feynn.ShapeError) as e:
        feynn.from_state_dict(sd)
    assert e.value.tensor == "2.weight"
    spec = "model m { input 3 layer 4 tanh output 1 }"
    sd = random_mlp(np.random.default_rng(2), [3, 5, 1])
    with pytest.raises(feynn.ShapeError) as e:
        feynn.parse(spec, weights=sd)
    assert e.value.expected == "[4, 3]" and e.value.found == "[5, 3]"


def test_unknown_activation_and_kinds():
    sd = random_mlp(np.random.default_rng(2), [3, 4, 1])
    with pytest.raises(feynn.ActivationError) as e:
        feynn.from_state_dict(sd, activation="relu")
    assert e.value.activation == "relu" and "tanh" in str(e.value)
    with pytest.raises(feynn.InputError, match="one per hidden layer"):
        feynn.from_state_dict(sd, activation=["tanh", "tanh"])
    with pytest.raises(feynn.InputError, match="kind"):
        feynn.from_state_dict(sd, kind="cnn")
    with pytest.raises(feynn.WeightsError, match="N.weight"):
        feynn.from_state_dict({"foo": np.zeros(3)})
    with pytest.raises(feynn.InputError):
        feynn.from_state_dict([1, 2, 3])


def test_order_too_large(mlp):
    with pytest.raises(feynn.TooLarge) as e:
        feynn.load(EXAMPLES / "born" / "born.fnn").taylor(9)
    assert e.value.predicted.endswith("iB") and e.value.limit == "8.0 GiB"
    with pytest.raises(feynn.TooLarge):
        mlp.taylor(4, memory_limit=1000)
    with pytest.raises(feynn.InputError):
        mlp.taylor(-1)
    t = mlp.taylor(2)
    with pytest.raises(feynn.InputError, match="order 2"):
        t.tensor(3)
    with pytest.raises(feynn.InputError, match="1 output"):
        t.coefficients(1)


def test_files_and_kinds(tmp_path, mlp):
    with pytest.raises(feynn.FileError):
        feynn.load(tmp_path / "missing.fnn")
    spec = tmp_path / "m.fnn"
    spec.write_text('model m { input 2 layer 2 tanh output 1 weights "nope.safetensors" }\n')
    with pytest.raises(feynn.FileError, match="nope.safetensors"):
        feynn.load(spec)
    with pytest.raises(feynn.InputError, match="no model `other`"):
        feynn.load(spec, weights=random_mlp(np.random.default_rng(0), [2, 2, 1]), model="other")
    with pytest.raises(feynn.InputError, match="invertible"):
        mlp.action(2)
    with pytest.raises(feynn.InputError, match="MLP"):
        feynn.load(EXAMPLES / "inn" / "flow.fnn").diagrams(2)
    nw = feynn.parse("model m { input 2 layer 3 tanh output 1 }")
    assert not nw.has_weights
    with pytest.raises(feynn.InputError, match="no weights"):
        nw.taylor(1)


def test_unsupported_torch_modules():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    with pytest.raises(feynn.UnsupportedModule) as e:
        feynn.from_torch(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)))
    assert isinstance(e.value, ValueError)
    assert e.value.index == 1 and e.value.module == "ReLU" and "ReLU" in str(e.value)
    with pytest.raises(feynn.UnsupportedModule, match="bias"):
        feynn.from_torch(nn.Sequential(nn.Linear(3, 4, bias=False), nn.Tanh(), nn.Linear(4, 1)))
    with pytest.raises(feynn.UnsupportedModule, match="in a row"):
        feynn.from_torch(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Tanh(), nn.Linear(4, 1)))
    with pytest.raises(feynn.UnsupportedModule, match="GELU"):
        feynn.from_torch(nn.Sequential(nn.Linear(3, 4), nn.GELU(approximate="tanh"), nn.Linear(4, 1)))
    with pytest.raises(feynn.UnsupportedModule):
        feynn.from_torch(nn.Conv1d(1, 1, 3))
