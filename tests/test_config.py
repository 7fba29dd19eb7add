import pytest

from fairlatent.config import AuditConfig
from fairlatent.exceptions import ConfigError


def test_comma_lists_and_bin_specs():
    cfg = AuditConfig(target="y", sensitive="sex,age:25,60,race", strategies="reweigh")
    assert cfg.sensitive == ["sex", "age:25,60", "race"]
    assert cfg.validate().strategies == ["none", "reweigh"]


def test_toml_file_and_cli_overrides(tmp_path):
    path = tmp_path / "audit.toml"
    path.write_text('[audit]\ntarget = "income"\nsensitive = ["sex"]\nrepeats = 3\nseed = 7\n')
    cfg = AuditConfig.from_toml(path, seed=11, repeats=None)
    assert (cfg.target, cfg.repeats, cfg.seed) == ("income", 3, 11)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sensitive": ["s"]}, "no target"),
        ({"target": "y"}, "no sensitive"),
        ({"target": "y", "sensitive": ["s"], "strategies": ["magic"]}, "unknown strategy"),
        ({"target": "y", "sensitive": ["s"], "classifiers": ["svm"]}, "unknown classifier"),
        ({"target": "y", "sensitive": ["s"], "device": "tpu"}, "unknown device"),
        ({"target": "y", "sensitive": ["s"], "test_size": 0.99}, "test size"),
        ({"target": "y", "sensitive": ["y"]}, "also a sensitive"),
    ],
)
def test_validation_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        AuditConfig(**kwargs).validate()


def test_bad_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("target = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        AuditConfig.from_toml(path)
    path.write_text('colour = "red"\n')
    with pytest.raises(ConfigError, match="unknown config key 'colour'"):
        AuditConfig.from_toml(path)
    with pytest.raises(ConfigError, match="not found"):
        AuditConfig.from_toml(tmp_path / "none.toml")
