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


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('repeats = "three"', 'repeats = "three" has the wrong type: expected a whole number'),
        ('test_size = "0.3"', 'test_size = "0.3" has the wrong type: expected a number'),
        ("repeats = 1.5", "repeats = 1.5 has the wrong type: expected a whole number"),
        ("sensitive = 5", "sensitive = 5 has the wrong type: expected a list of text"),
        ("tune = \"no\"", 'tune = "no" has the wrong type: expected true or false'),
        ("drop = [1, 2]", 'write it like drop = ["1", "2"]'),
        ("positive_label = 1", 'write it like positive_label = "1"'),
        ("strategy_options = 5", "strategy_options = 5 has the wrong type: expected a table"),
        ("[audit.strategy_options]\nvae = 5", "strategy_options.vae = 5 has the wrong type"),
        ("[audit.strategy_options.nonexistent]\nalpha = 1", "[audit.strategy_options.nonexistent] names no strategy"),
        ("[audit.strategy_options.vae]\nalphaa = 0.1", "unknown option 'alphaa' in [audit.strategy_options.vae]"),
        ("[audit.strategy_options.none]\nalpha = 0.1", "strategy 'none' takes no options"),
        ("[audit.strategy_options.gan]\nepochs = 5", "say which model's epochs, gan_epochs = N"),
        ("[audit.strategy_options.\"vae+gan\"]\nepochs = 5", "vae_epochs = N or gan_epochs = N"),
        ("seed = -1", "--seed -1 is out of range"),
        ("seed = 99999999999", "--seed 99999999999 is out of range"),
        ("seed = 4294967295\nrepeats = 2", "with 2 repeats is out of range"),
    ],
)
def test_wrong_types_in_toml_are_named(tmp_path, toml, message):
    path = tmp_path / "audit.toml"
    head = '[audit]\ntarget = "y"\n' + ('sensitive = "s"\n' if not toml.startswith("sensitive") else "")
    path.write_text(head + toml + "\n")
    with pytest.raises(ConfigError) as info:
        AuditConfig.from_toml(path).validate()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_right_types_pass_and_known_options_are_accepted(tmp_path):
    path = tmp_path / "audit.toml"
    path.write_text(
        '[audit]\ntarget = "y"\nsensitive = ["s"]\nrepeats = 2\ntest_size = 0.25\n'
        'accuracy_budget = 0\nseed = 4294967294\n'
        '[audit.strategy_options.vae]\nalpha = 0.05\nsampling = "weights"\n'
    )
    cfg = AuditConfig.from_toml(path).validate()
    assert cfg.repeats == 2 and cfg.strategy_options == {"vae": {"alpha": 0.05, "sampling": "weights"}}


def test_config_path_that_is_a_directory(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        AuditConfig.from_toml(tmp_path)


def test_audit_table_that_is_not_a_table(tmp_path):
    path = tmp_path / "audit.toml"
    path.write_text("audit = 5\n")
    with pytest.raises(ConfigError, match=r"\[audit\] must be a table"):
        AuditConfig.from_toml(path)


def test_validated_config_is_checked_once_and_a_changed_one_again():
    cfg = AuditConfig.from_mapping({}, target="y", sensitive=["s"]).validate()
    assert cfg.validated() is cfg
    cfg.test_size = 0.99
    with pytest.raises(ConfigError, match="test size 0.99 is out of range"):
        cfg.validated()
    fresh = AuditConfig(target="y", sensitive=["s"], strategies=["reweigh", "none"])
    checked = fresh.validated()
    assert checked is not fresh and checked.strategies == ["none", "reweigh"]
    assert fresh.strategies == ["reweigh", "none"]
