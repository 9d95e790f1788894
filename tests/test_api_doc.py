"""docs/API.md's code blocks run as written (in a temporary folder)."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "API.md"


def test_the_api_walk_through_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) == 5
    monkeypatch.chdir(tmp_path)
    scope = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), scope)
    out = capsys.readouterr().out
    assert "configurations: 3" in out and "runs (trainings): 40" in out
    assert scope["outcome"].results.selected["walk"] in {"units=1", "units=2", "units=4"}
    table = scope["table"]
    assert len(table) == 6 and (table["lower_95"] <= table["lower_80"]).all() and (table["upper_80"] <= table["upper_95"]).all()
    assert (tmp_path / "runs" / "walk" / "report.html").is_file() and (tmp_path / "models" / "walk" / "manifest.json").is_file()
