"""The training stack: StackConfig from TOML and from CLI options, validation, build_stack.

Uses fake components registered in-process (``_train_fakes``), so it runs with the core alone.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner, Result

import spikingtorch
from spikingtorch.cli import cli
from spikingtorch.config import (
    StackConfig,
    StackConfigError,
    config_from_dict,
    config_to_dict,
    dumps_toml,
    load_toml,
    parse_param,
    resolve_config,
)
from spikingtorch.networks import MLP, ConvNet
from spikingtorch.stack import CrossEntropy, build_stack, check_components

from ._train_fakes import TOY_STACK, ToyRate, register_fakes

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Every option with a value that differs from its default, in both spellings.
FULL_TOML = """\
[dataset]
name = "toy-images"
root = "some/where"
download = true
train_samples = 20
test_samples = 10
samples = 30

[encoder]
name = "toy_rate"
steps = 5
rate = 0.5

[network]
name = "convnet"
channels = [3, 5]
readout = "membrane"

[neuron]
name = "toy"
threshold = 0.25

[decoder]
name = "toy_count"
scale = 0.5

[loss]
name = "cross_entropy"
label_smoothing = 0.1

[train]
epochs = 3
batch_size = 4
lr = 0.02
optimizer = "sgd"
weight_decay = 0.001
device = "cpu"
seed = 7
num_workers = 1
threads = 2

[run]
out = "elsewhere"
name = "my-run"
"""

FULL_CLI = [
    *("--dataset", "toy-images", "--data-root", "some/where", "--download"),
    *("--train-samples", "20", "--test-samples", "10", "--dataset-param", "samples=30"),
    *("--encoder", "toy_rate", "--steps", "5", "--encoder-param", "rate=0.5"),
    *("--network", "convnet", "--network-param", "channels=[3, 5]"),
    *("--network-param", "readout=membrane"),
    *("--neuron", "toy", "--neuron-param", "threshold=0.25"),
    *("--decoder", "toy_count", "--decoder-param", "scale=0.5"),
    *("--loss", "cross_entropy", "--loss-param", "label_smoothing=0.1"),
    *("--epochs", "3", "--batch-size", "4", "--lr", "0.02", "--optimizer", "sgd"),
    *("--weight-decay", "0.001", "--device", "cpu", "--seed", "7", "--num-workers", "1"),
    *("--threads", "2", "--out", "elsewhere", "--name", "my-run"),
]


@pytest.fixture
def fakes(plugin_sandbox: Callable[..., None]) -> None:
    register_fakes()


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["train", *args])


def _printed_config(*args: str) -> StackConfig:
    result = _invoke(*args, "--print-config")
    assert result.exit_code == 0, result.output
    return config_from_dict(tomllib.loads(result.stdout))


# -- acceptance f: one config, two spellings ------------------------------------------------


def test_toml_file_and_cli_options_give_the_same_config(tmp_path: Path) -> None:
    stack_file = tmp_path / "stack.toml"
    stack_file.write_text(FULL_TOML)
    from_file = load_toml(stack_file)
    from_cli = _printed_config(*FULL_CLI)
    assert from_file == from_cli
    assert _printed_config("--config", str(stack_file)) == from_file
    # through the Python API as well
    flat = {f.name: getattr(from_file, f.name) for f in dataclasses.fields(StackConfig)}
    assert resolve_config(None, flat) == from_file
    # and every value differs from the default, so nothing was silently left at it
    default = StackConfig()
    same = [f.name for f in dataclasses.fields(StackConfig) if getattr(default, f.name) == (
        getattr(from_file, f.name))]  # fmt: skip
    assert same == ["loss"]  # cross_entropy is the only loss
    assert from_file.network_params == {"channels": [3, 5], "readout": "membrane"}
    assert from_file.lr == 0.02 and isinstance(from_file.weight_decay, float)


def test_cli_options_override_the_file(tmp_path: Path) -> None:
    stack_file = tmp_path / "stack.toml"
    stack_file.write_text(FULL_TOML)
    config = _printed_config(
        "--config", str(stack_file), "--epochs", "9", "--neuron-param", "extra=1"
    )
    assert config.epochs == 9
    assert config.neuron_params == {"threshold": 0.25, "extra": 1}  # parameters add up
    assert config.batch_size == 4  # the rest comes from the file
    renamed = _printed_config("--config", str(stack_file), "--neuron", "other")
    assert renamed.neuron == "other" and renamed.neuron_params == {}  # a new neuron: no params
    same_name = _printed_config("--config", str(stack_file), "--neuron", "TOY")
    assert same_name.neuron_params == {"threshold": 0.25}


def test_defaults() -> None:
    config = StackConfig()
    assert (config.dataset, config.encoder, config.network, config.neuron, config.decoder) == (
        "randman",
        "auto",
        "mlp",
        "lif",
        "sum",
    )
    assert (config.device, config.seed, config.out, config.name) == ("auto", 0, "runs", None)
    assert _printed_config() == config
    assert resolve_config() == config


def test_dumps_toml_round_trips(tmp_path: Path) -> None:
    config = StackConfig(
        neuron_params={"tau": 5.0, "reset": 'say "zero"', "per": [1.5, 2.5]},
        network_params={"hidden": [64, 32], "nested": {"a-b": 1, "ok": True}},
        lr=1e-4,
        steps=12,
        name="ünïcode run",
    )
    path = tmp_path / "c.toml"
    path.write_text(dumps_toml(config))
    assert load_toml(path) == config
    assert config_from_dict(config_to_dict(config)) == config
    assert "steps" not in config_to_dict(StackConfig())["encoder"]  # None is left out


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[model]\nname = 'mlp'", r"unknown table \[model\]"),
        ("[train]\nepoch = 3", r"unknown key\(s\) epoch in \[train\]"),
        ("[train]\nepochs = '3'", "epochs must be int"),
        ("[train]\nepochs = 0", "epochs must be at least 1"),
        ("[train]\nlr = 0", "lr must be > 0"),
        ("[train]\ndownload = 1", r"unknown key\(s\) download in \[train\]"),
        ("[dataset]\ndownload = 1", "download must be bool"),
        ("[train]\nbatch_size = true", "batch_size must be int"),
        ("[train]\ndevice = 'gpu'", "device must be auto, cpu, cuda"),
        ("[train]\noptimizer = 'rmsprop'", "optimizer must be one of adam, adamw, sgd"),
        ("[loss]\nname = 'hinge'", "loss must be one of cross_entropy"),
        ("[neuron]\nname = ''", "neuron must not be empty"),
        ("train = 3", r"\[train\] must be a table"),
        ("[train\n", "not valid TOML"),
    ],
)
def test_bad_stack_files(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(StackConfigError, match=message):
        load_toml(path)
    result = _invoke("--config", str(path), "--print-config")
    assert result.exit_code == 2
    assert "Error:" in result.stderr and "Traceback" not in result.output


def test_missing_stack_file() -> None:
    with pytest.raises(StackConfigError, match="does not exist"):
        load_toml("/nonexistent/stack.toml")


def test_parse_param() -> None:
    assert parse_param("tau=5") == ("tau", 5)
    assert parse_param("tau = 5.5") == ("tau", 5.5)
    assert parse_param("hidden=[64, 32]") == ("hidden", [64, 32])
    assert parse_param("learn_tau=true") == ("learn_tau", True)
    assert parse_param("reset=zero") == ("reset", "zero")
    assert parse_param("name='quoted'") == ("name", "quoted")
    assert parse_param("t={a = 1}") == ("t", {"a": 1})
    for bad in ("tau", "=5", "9x=1"):
        with pytest.raises(StackConfigError, match="key=value"):
            parse_param(bad)
    result = _invoke("--neuron-param", "tau", "--print-config")
    assert result.exit_code == 2 and "key=value" in result.stderr


def test_bad_cli_values_exit_2() -> None:
    for args in (["--epochs", "0"], ["--device", "tpu"], ["--steps", "0"], ["--lr", "-1"]):
        result = _invoke(*args, "--print-config")
        assert result.exit_code == 2, args
        assert "Traceback" not in result.output


# -- component names ------------------------------------------------------------------------


@pytest.mark.usefixtures("fakes")
def test_unknown_components_list_what_is_installed(tmp_path: Path) -> None:
    config = resolve_config(None, {**TOY_STACK, "neuron": "lfi"})
    with pytest.raises(spikingtorch.ComponentNotFoundError, match="Available neurons: toy"):
        check_components(config)
    for option, value, listing in [
        ("--neuron", "lfi", "Available neurons: toy"),
        ("--dataset", "nope", "Available datasets: toy_images, toy_noclasses, toy_temporal"),
        ("--encoder", "nope", "Available encoders: toy_rate, toy_time"),
        ("--decoder", "nope", "Available decoders: toy_count"),
        ("--network", "nope", "Available networks: convnet, mlp"),
    ]:
        args = ["--dataset", "toy_temporal", "--neuron", "toy", "--decoder", "toy_count"]
        result = _invoke(*args, option, value, "--out", str(tmp_path / "runs"))
        assert result.exit_code == 2, result.output
        assert listing in result.stderr
        assert "Traceback" not in result.output
        assert not (tmp_path / "runs").exists()  # nothing was written


def test_missing_first_party_plugin_says_what_to_install(
    plugin_sandbox: Callable[..., None], tmp_path: Path
) -> None:
    result = _invoke("--out", str(tmp_path))
    assert result.exit_code == 2
    assert "needs the datasets plugin 'spikingtorch-datasets'" in result.stderr
    assert "which is not installed. Install it with: pip install spikingtorch-datasets" in (
        result.stderr
    )
    assert list(tmp_path.iterdir()) == []


# -- build_stack ----------------------------------------------------------------------------


@pytest.mark.usefixtures("fakes")
def test_build_temporal_stack() -> None:
    stack = build_stack(resolve_config(None, TOY_STACK))
    assert stack.encoder is None
    assert stack.config.encoder == "none" and stack.config.steps is None
    assert (stack.in_shape, stack.steps, stack.num_classes) == ((10,), 6, 3)
    assert isinstance(stack.model.net, MLP)
    x = torch.stack([stack.train_set[i][0] for i in range(5)])
    assert stack.scores(x).shape == (5, 3)
    assert "toy_temporal" in stack.describe()


@pytest.mark.usefixtures("fakes")
def test_build_image_stack_with_an_encoder() -> None:
    overrides = {**TOY_STACK, "dataset": "toy_images", "encoder": "toy_rate", "network": "convnet"}
    overrides["network_params"] = {"channels": [2]}
    stack = build_stack(resolve_config(None, overrides))
    assert isinstance(stack.encoder, ToyRate) and stack.encoder.steps == 8  # the default T
    assert stack.config.steps == 8 and stack.config.encoder == "toy_rate"
    assert (stack.in_shape, stack.steps, stack.num_classes) == ((1, 12, 12), 8, 4)  # from classes
    assert isinstance(stack.model.net, ConvNet)
    x = torch.stack([stack.test_set[i][0] for i in range(3)])
    assert stack.scores(x).shape == (3, 4)
    stack = build_stack(resolve_config(None, {**overrides, "steps": 3}))
    assert stack.steps == 3
    stack = build_stack(resolve_config(None, {**overrides, "encoder_params": {"steps": 4}}))
    assert stack.steps == 4 and stack.config.steps is None


@pytest.mark.usefixtures("fakes")
def test_auto_encoder_for_images_is_poisson() -> None:
    config = resolve_config(None, {**TOY_STACK, "dataset": "toy_images"})
    with pytest.raises(spikingtorch.ComponentNotFoundError, match="pip install spikingtorch-enc"):
        build_stack(config)


@pytest.mark.usefixtures("fakes")
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dataset": "toy_images", "encoder": "none"}, "is not temporal"),
        ({"steps": 4}, "needs an encoder"),
        ({"encoder": "toy_time", "steps": 4}, "takes no steps"),
        ({"neuron_params": {"bogus": 1}}, "neuron 'toy':.*'bogus'.*parameters are: threshold$"),
        ({"decoder_params": {"bogus": 1}}, "decoder 'toy_count':.*parameters are: scale$"),
        ({"dataset_params": {"bogus": 1}}, "training set of 'toy_temporal':.*samples, seed$"),
        ({"encoder": "toy_rate", "encoder_params": {"steps": 0}}, "encoder 'toy_rate'"),
        ({"loss_params": {"bogus": 1}}, "loss:.*parameters are: negate, label_smoothing$"),
        ({"network_params": {"hiden": [3]}}, "network 'mlp':.*'hiden'.*hidden, neuron"),
        ({"network_params": {"neuron": "toy"}}, r"set the neuron in \[neuron\]"),
        ({"dataset": "toy_noclasses"}, "does not give its number of classes"),
    ],
)
def test_stacks_that_do_not_fit(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(StackConfigError, match=message):
        build_stack(resolve_config(None, {**TOY_STACK, **overrides}))


@pytest.mark.usefixtures("fakes")
def test_sample_subsets_are_seeded() -> None:
    config = resolve_config(None, {**TOY_STACK, "train_samples": 10, "test_samples": 5})
    first = build_stack(config)
    again = build_stack(config)
    assert (len(first.train_set), len(first.test_set)) == (10, 5)
    assert first.train_set.indices == again.train_set.indices
    other = build_stack(dataclasses.replace(config, seed=1))
    assert other.train_set.indices != first.train_set.indices
    whole = build_stack(resolve_config(None, {**TOY_STACK, "train_samples": 1000}))
    assert len(whole.train_set) == 48


def test_cross_entropy() -> None:
    scores = torch.tensor([[1.0, 3.0, 2.0]])
    target = torch.tensor([1])
    plain = CrossEntropy()
    assert plain.predict(scores).tolist() == [1]
    assert plain(scores, target) == torch.nn.functional.cross_entropy(scores, target)
    negated = CrossEntropy(negate=True)  # first-spike times: the earliest wins
    assert negated.predict(scores).tolist() == [0]
    assert negated(scores, target) == torch.nn.functional.cross_entropy(-scores, target)
    smooth = CrossEntropy(label_smoothing=0.1)
    assert smooth(scores, target) > plain(scores, target)
    assert "negate=True" in repr(negated)
