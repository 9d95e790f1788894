"""Issue 14 item 5 (part): a pruned search's report and CLI separate complete from pruned trials."""

import re

from typer.testing import CliRunner

from lstmtune.cli.app import app

STUDY = """
name = "pruned"
seed = 3
[model]
batch_size = 4
epochs = 27
[runs]
repeats = 2
[search]
sampler = "random"
trials = 6
batch = 6
pruner = "successive_halving"
min_epochs = 3
reduction_factor = 3
[search.space.learning_rate]
type = "float"
low = 1e-3
high = 1e-1
log = true
"""


def test_pruned_trials_are_reported_apart_and_never_as_nan(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(STUDY)
    result = CliRunner().invoke(app, ["search", str(f), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "o" / "search.html").read_text()
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert "Pruned trials (" in text and "Complete trials (" in text
    assert "nan" not in text.lower().replace("nanmedian", "")
    trials = __import__("pandas").read_csv(tmp_path / "o" / "trials.csv")
    pruned = trials[trials["state"] == "PRUNED"]
    assert len(pruned) >= 3 and (pruned["epochs_measured"] < 27).all()
    assert (trials.loc[trials["state"] == "COMPLETE", "epochs_measured"] == 27).all()
    # the CLI's ranking holds complete trials only
    table = result.output.split("best trials")[1].split("trials (")[0]
    for n in pruned["trial"]:
        assert not re.search(rf"│\s+{n}\s+│", table), (n, table)
