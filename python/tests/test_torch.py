"""The PyTorch bridge: from_torch = from_state_dict = the spec route; to_torch forwards and
gradients agree with feynn; INN log-densities; EFNN modules; state_dict names round-trip."""

import math

import numpy as np
import pytest

import feynn
from conftest import EXAMPLES

torch = pytest.importorskip("torch")
nn = torch.nn


def trained_like_sequential(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 5), nn.SiLU(), nn.Linear(5, 2), nn.Sigmoid()
    ).double()


def test_from_torch_equals_state_dict_equals_spec(tmp_path):
    seq = trained_like_sequential()
    a = feynn.from_torch(seq)
    b = feynn.from_state_dict(seq.state_dict(), activation=["tanh", "silu"], output_activation="sigmoid")
    np.savez(tmp_path / "w.npz", **{k: v.numpy() for k, v in seq.state_dict().items()})
    spec = tmp_path / "m.fnn"
    spec.write_text('model m {\n input 3\n layer 6 tanh\n layer 5 silu\n output 2 sigmoid\n weights "w.npz"\n}\n')
    c = feynn.load(spec)
    x = np.array([0.3, -0.2, 0.5])
    ta, tb, tc = (m.taylor(3, at=x).values for m in (a, b, c))
    np.testing.assert_array_equal(ta, tb)
    np.testing.assert_array_equal(ta, tc)
    # the spec from_state_dict writes is the one `feynn import` writes (without the weights line)
    assert "layer 6 tanh" in a.spec and "output 2 sigmoid" in a.spec


def test_prefixed_state_dict_and_dropout():
    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 4), nn.GELU(), nn.Dropout(0.1), nn.Linear(4, 1))

    w = Wrap().double()
    m1 = feynn.from_state_dict(w.state_dict(), activation="gelu")
    m2 = feynn.from_torch(w.body)
    x = np.array([0.1, -0.4])
    np.testing.assert_array_equal(m1.taylor(2, at=x).values, m2.taylor(2, at=x).values)


def test_to_torch_forward_and_autograd_match():
    m = feynn.load(EXAMPLES / "born" / "born.fnn")
    net = m.to_torch()
    assert isinstance(net, nn.Sequential)
    assert set(net.state_dict()) == set(m.state_dict())
    rng = np.random.default_rng(0)
    xs = rng.normal(0, 0.1, (5, 64))
    y = net(torch.from_numpy(xs)).detach().numpy()
    np.testing.assert_allclose(y, m.forward(xs), rtol=1e-13, atol=1e-15)
    x = torch.from_numpy(xs[0]).requires_grad_()
    net(x)[0].backward()
    t = m.taylor(1, at=xs[0])
    np.testing.assert_allclose(x.grad.numpy(), t.tensor(1), rtol=1e-12, atol=1e-15)
    H = torch.autograd.functional.hessian(lambda v: net(v)[0], torch.from_numpy(xs[1]))
    H2 = m.taylor(2, at=xs[1]).tensor(2)
    np.testing.assert_allclose(H.numpy(), H2, rtol=1e-10, atol=1e-13 * np.abs(H2).max())
    # and back: the module's state_dict is read by from_torch / from_state_dict
    back = feynn.from_torch(net)
    np.testing.assert_array_equal(back.taylor(2, at=xs[2]).values, m.taylor(2, at=xs[2]).values)


def test_custom_and_sin_activations_export():
    spec = """
activation quad(z) = z + a*z^2
let a = 0.25
model m { input 2 layer 3 quad layer 3 sin output 1 }
"""
    rng = np.random.default_rng(4)
    sd = {"0.weight": rng.normal(size=(3, 2)), "0.bias": rng.normal(size=3),
          "2.weight": rng.normal(size=(3, 3)), "2.bias": rng.normal(size=3),
          "4.weight": rng.normal(size=(1, 3)), "4.bias": rng.normal(size=1)}
    m = feynn.parse(spec, weights=sd)
    net = m.to_torch()
    x = rng.normal(size=(4, 2))
    np.testing.assert_allclose(net(torch.from_numpy(x)).detach().numpy(), m.forward(x), rtol=1e-13)


def inn_model(seed=0):
    rng = np.random.default_rng(seed)
    n = 3
    sd = {}
    for l, kind in enumerate(["quad", "cubic", "linear"]):
        sd[f"{l}.weight"] = np.eye(n) + rng.normal(0, 0.3, (n, n))
        sd[f"{l}.bias"] = rng.normal(0, 0.1, n)
        if kind in ("quad", "cubic"):
            sd[f"{l}.alpha"] = rng.normal(0, 0.1, n)
        if kind == "cubic":
            sd[f"{l}.beta"] = np.full(n, 0.2)
    return feynn.from_state_dict(sd, kind="inn", name="flow3"), sd


def test_inn_to_torch_log_density_and_round_trip():
    m, sd = inn_model()
    assert m.kind == "inn" and "layer cubic" in m.spec
    net = m.to_torch()
    assert set(net.state_dict()) == set(sd)
    x = np.random.default_rng(1).normal(0, 0.3, (6, 3))
    lp = net.log_prob(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(lp, m.log_prob(x), rtol=1e-12)
    np.testing.assert_allclose(net(torch.from_numpy(x)).detach().numpy(), m.forward(x), rtol=1e-13)
    # the gradient of the action −ln p is the first-order action coefficient
    xt = torch.from_numpy(x[0]).requires_grad_()
    net.action(xt.unsqueeze(0))[0].backward()
    a = m.action(1, at=x[0])
    np.testing.assert_allclose(xt.grad.numpy(), a.tensor(1), rtol=1e-11)
    assert a.coefficients()[()] == pytest.approx(-lp[0], rel=1e-12)
    # state_dict -> from_state_dict(kind="inn") and from_torch give the same network
    for back in (feynn.from_state_dict(net.state_dict(), kind="inn"), feynn.from_torch(net)):
        np.testing.assert_allclose(back.log_prob(x), m.log_prob(x), rtol=1e-14)


def test_inn_module_of_a_spec_file_loads_scalar_alpha():
    m = feynn.load(EXAMPLES / "inn" / "flow.fnn")
    net = m.to_torch()
    x = np.random.default_rng(2).normal(0, 0.2, (4, 3))
    np.testing.assert_allclose(net.log_prob(torch.from_numpy(x)).detach().numpy(), m.log_prob(x), rtol=1e-12)
    # flow.safetensors holds a per-layer alpha for layer 1; the module's is per neuron
    np.testing.assert_allclose(net[1].alpha.detach().numpy(), m.state_dict()["1.alpha"])


EFNN = "efnn e { arch ARCH input 4 width 5 depth 2 }"


@pytest.mark.parametrize("arch", ["efnn", "dnn", "resnet", "densenet"])
def test_efnn_to_torch(arch):
    rng = np.random.default_rng(3)
    spec = EFNN.replace("ARCH", arch)
    shapes = _efnn_shapes(spec)
    sd = {k: rng.normal(0, 0.4, s) for k, s in shapes.items()}
    sd["scale.y"] = np.array([1.5, -0.25])
    m = feynn.parse(spec, weights=sd)
    net = m.to_torch()
    x = rng.choice([-1.0, 1.0], (6, 4))
    e = net(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(e, m.forward(x), rtol=1e-12)
    xt = torch.from_numpy(x[0]).unsqueeze(0).requires_grad_()
    net(xt)[0].backward()
    np.testing.assert_allclose(xt.grad.numpy()[0], m.taylor(1, at=x[0]).tensor(1), rtol=1e-11)
    back = feynn.from_torch(net)
    np.testing.assert_allclose(back.forward(x), m.forward(x), rtol=1e-15)


def _efnn_shapes(spec):
    """The parameter layout of theory note §2 (blocks Linear -> tanh -> Linear), written out
    here independently of the library."""
    L, M, n = 4, 5, 2
    arch = spec.split()[4]
    blocks = {}
    if arch == "efnn":
        blocks["f0"] = L
        blocks.update({f"f{i}": M for i in range(1, n)})
        blocks.update({f"g{i}": L for i in range(1, n + 1)})
    elif arch == "dnn":
        blocks["f0"] = L
        blocks.update({f"f{i}": M for i in range(1, n)})
        blocks.update({f"h{i}": M for i in range(1, n + 1)})
    elif arch == "resnet":
        blocks["f0"] = L
        blocks.update({f"f{i}": M for i in range(1, n)})
    else:
        blocks.update({f"f{i}": L + (i - 1) * M for i in range(1, n + 1)})
    shapes = {}
    for b, fan_in in blocks.items():
        shapes[f"{b}.0.weight"] = (M, fan_in)
        shapes[f"{b}.0.bias"] = (M,)
        shapes[f"{b}.2.weight"] = (M, M)
        shapes[f"{b}.2.bias"] = (M,)
    if arch == "resnet":
        shapes["proj.weight"] = (M, L)
        shapes["proj.bias"] = (M,)
    return shapes


def test_export_train_load_expand(tmp_path):
    spec = "model m { input 2 layer 8 tanh layer 8 tanh output 1 }"
    ns = {}
    exec(feynn.export_torch(spec), ns)
    torch.manual_seed(1)
    net = ns["build"]()
    assert ns["FEYNN_SPEC"] == spec and net.feynn_name == "m"
    x = 2 * torch.rand(128, 2, dtype=torch.float64) - 1
    y = (torch.sin(x[:, 0]) + x[:, 0] * x[:, 1]).unsqueeze(1)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(30):
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    torch.save(net.state_dict(), tmp_path / "m.pt")
    m = feynn.parse(spec, weights=torch.load(tmp_path / "m.pt"))
    np.testing.assert_allclose(net(x).detach().numpy(), m.forward(x.numpy()), rtol=1e-13, atol=1e-15)
    # the weights file named in a spec is what build() loads
    np.savez(tmp_path / "w.npz", **{k: v.detach().numpy() for k, v in net.state_dict().items()})
    (tmp_path / "m.fnn").write_text(spec.replace("output 1", 'output 1 weights "w.npz"'))
    ns2 = {}
    exec(feynn.export_torch(tmp_path / "m.fnn"), ns2)
    net2 = ns2["build"]()
    np.testing.assert_array_equal(net2(x).detach().numpy(), net(x).detach().numpy())
    with pytest.raises(feynn.InputError, match="symbolic widths"):
        feynn.export_torch("model g { input d layer 3 tanh output 1 }")
