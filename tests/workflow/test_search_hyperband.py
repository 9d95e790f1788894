"""Hyperband: brackets in turn, each a successive-halving race from its own first rung."""

import re

from lstmtune.workflow import search
from lstmtune.study import spec


def test_hyperband_runs_its_brackets_in_turn(tmp_path):
    s = spec.from_dict(
        {
            "name": "hb",
            "seed": 2,
            "transforms": {"trim": 2},
            "model": {"batch_size": 4, "epochs": 27},
            "runs": {"repeats": 2},
            "search": {
                "sampler": "random", "trials": 27, "batch": 9, "pruner": "hyperband",
                "min_epochs": 3, "reduction_factor": 3,
                "space": {"learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True}},
            },
        }
    )
    # Three brackets: from 3 epochs, from 9, and no pruning (all at 27).
    assert [search.rungs(s.search, 27, search.bracket(s.search, 27, r)) for r in range(4)] == [[3, 9, 27], [9, 27], [27], [3, 9, 27]]
    outcome, _ = search.run(s, tmp_path / "hb")
    t = outcome.trials
    # Round 1: 9 raced from 3 epochs -> 3 at 9 -> 1 complete; round 2: 9 from 9 -> 3 complete; round 3: 9 complete.
    assert t["state"].value_counts().to_dict() == {"COMPLETE": 13, "PRUNED": 14}
    assert set(t.loc[t["state"] == "COMPLETE", "epochs_measured"]) == {27}
    pruned_at = t.loc[t["state"] == "PRUNED", "epochs_measured"].value_counts().to_dict()
    assert pruned_at == {3: 6, 9: 8}  # 6 in round 1's first rung; 2 + 6 at 9 epochs
    # Runs trained: (9 + 3 + 1) + (9 + 3) + 9 = 34 configurations x 2 repeats.
    assert outcome.trainings == 34 * 2
    html = (tmp_path / "hb" / "search.html").read_text()
    assert "Pruned trials (14)" in html and "Complete trials (13)" in html
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)  # pruned trials' missing cells show as a dash
