"""The literature's small benchmarks (VGG, ResNet-20 with batch, layer or no normalisation, a small ViT): traced
specs that keep the function, planted permutations recovered exactly by weight matching."""

import numpy as np
import pytest
import torch

from lmctheory.lmc import Permutation, apply_permutation, match
from lmctheory.nn import VGG, ResNet20, ViT

MODELS = {
    "vgg11-bn": lambda: VGG(width=0.25),
    "vgg11-ln": lambda: VGG(width=0.25, norm="ln"),
    "resnet20-bn": lambda: ResNet20(),
    "resnet20-ln": lambda: ResNet20(norm="ln"),
    "resnet20x2-none": lambda: ResNet20(width=2, norm="none"),
    "vit": lambda: ViT(dim=32, depth=2, heads=4, mlp=48),
}


def _randomised(model, seed):
    """Random normalisation parameters and running statistics: a permutation that missed them would show."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d | torch.nn.GroupNorm | torch.nn.LayerNorm):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
    return model.eval()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_planted_permutation_keeps_the_function_and_weight_matching_recovers_it(name):
    torch.manual_seed(0)
    model = _randomised(MODELS[name](), 1)
    spec = model.permutation_spec()
    rng = np.random.default_rng(2)
    planted = Permutation({k: rng.permutation(n) for k, n in spec.sizes.items()}, "planted", spec, {})
    permuted = apply_permutation(model, planted)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        out, out_permuted = model(x), permuted(x)
    assert torch.allclose(out_permuted, out, atol=1e-5 * float(out.abs().max()))
    assert not torch.equal(
        permuted.state_dict()[spec[next(iter(spec))][0][0]], model.state_dict()[spec[next(iter(spec))][0][0]]
    )
    found = match(model, permuted, method="full")
    for k, p in planted.perms.items():
        assert np.array_equal(found.perms[k], np.argsort(p)), k
    restored = apply_permutation(permuted, found)
    for k, v in model.state_dict().items():
        assert torch.equal(restored.state_dict()[k], v), k


def test_renormalisation_lowers_the_midpoint_barrier_of_independently_trained_aligned_resnet20s(digits):
    """The published direction (Jordan et al. 2022): interpolated running statistics overstate the barrier;
    recomputing them (reset BN) or REPAIR lowers it. Two ResNet-20s (batch norm) trained from different
    initialisations on the digit images, aligned by weight matching with the traced spec."""
    from lmctheory.lmc import renormalized_path
    from lmctheory.nn import TrainConfig, train_pair

    cfg = TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9, epochs=3, batch_size=64, device="cpu")
    a, b = train_pair(
        lambda: ResNet20(digits.input_shape, digits.n_classes), digits, cfg, same_init=False, seeds=(0, 1)
    )
    aligned = apply_permutation(b.model, match(a.model, b.model, method="full"))
    test, x = (digits.x_test, digits.y_test), digits.x_train
    barrier = {
        how: renormalized_path(
            a.model, aligned, test, ts=[0.0, 0.5, 1.0], renormalize=how, inputs=x, batch_size=len(x)
        ).barrier("midpoint_barrier")
        for how in ("none", "reset_bn", "repair")
    }
    # measured: none 3.36, reset_bn 0.53, repair 0.55 (nats of test cross-entropy above the endpoints' mean)
    assert barrier["repair"] < barrier["none"] / 2 and barrier["reset_bn"] < barrier["none"] / 2, barrier


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: VGG(config="vgg99"), "config"),
        (lambda: VGG(norm="batch"), "norm"),
        (lambda: VGG(input_shape=(3, 8, 8)), "too small"),
        (lambda: VGG(width=0), "width"),
        (lambda: ResNet20(input_shape=(32, 32)), "input_shape"),
        (lambda: ResNet20(blocks=0), "blocks"),
        (lambda: ResNet20(classes=0), "classes"),
    ],
)
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_flat_inputs_are_reshaped_and_the_depth_is_6n_plus_2():
    model = ResNet20((1, 8, 8), 10, blocks=1).eval()
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(model(x), model(x.flatten(1)))
    convs = [m for m in ResNet20().modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) + 1 == 20  # 19 convolutions of 3 x 3 and the classifier


TORCHVISION = {
    "resnet18": lambda models: models.resnet18(weights=None, num_classes=10),
    "vgg11_bn": lambda models: models.vgg11_bn(weights=None, num_classes=10),
    "vit": lambda models: models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=10
    ),
}


@pytest.mark.parametrize("factory", sorted(TORCHVISION))
def test_torchvision_planted_permutation_is_recovered(factory):
    """torchvision's own ResNet-18, VGG-11 and a small VisionTransformer (random init, nothing downloaded),
    when torchvision is installed; VGG's classifier takes a flattened 7 x 7 map (channel blocks of 49),
    the ViT uses nn.MultiheadAttention, a class token and a positional embedding."""
    models = pytest.importorskip("torchvision.models", reason="torchvision is not installed")
    torch.manual_seed(0)
    model = _randomised(TORCHVISION[factory](models), 3)
    with torch.no_grad():  # torchvision zero-initialises some of these: the function check would be empty
        for name, p in model.named_parameters():
            if name.endswith(("class_token", "pos_embedding", "heads.head.weight", "heads.head.bias")):
                p.normal_()
    from lmctheory.nn import trace_permutation_spec

    x = torch.randn(2, 3, 32, 32)
    spec = trace_permutation_spec(model, x)
    rng = np.random.default_rng(4)
    planted = Permutation({k: rng.permutation(n) for k, n in spec.sizes.items()}, "planted", spec, {})
    permuted = apply_permutation(model, planted, dict(spec))
    with torch.no_grad():
        out = model(x)
        assert torch.allclose(permuted(x), out, atol=1e-5 * float(out.abs().max()))
    found = match(model, permuted, method="full", spec=dict(spec))
    for k, p in planted.perms.items():
        assert np.array_equal(found.perms[k], np.argsort(p)), k


@pytest.mark.parametrize("factory", ["resnet18", "vgg11_bn"])
def test_torchvision_specs_through_torch_export_equal_torch_fx(monkeypatch, factory):
    """The torch.export route (taken where torch.fx fails) gives torch.fx's spec on torchvision's models."""
    models = pytest.importorskip("torchvision.models", reason="torchvision is not installed")
    from lmctheory.nn import _tracing as tracing

    model, x = TORCHVISION[factory](models).eval(), torch.randn(2, 3, 32, 32)
    by_fx = tracing.trace_permutation_spec(model, x)
    monkeypatch.setattr(
        tracing._Tracer, "trace", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no fx"))
    )
    by_export = tracing.trace_permutation_spec(model, x)
    assert dict(by_export) == dict(by_fx) and by_export.sizes == by_fx.sizes
