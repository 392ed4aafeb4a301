"""Tests of cbm_sim.cluster.build: how a run's plants live when no events are wanted."""

from __future__ import annotations

from pathlib import Path

from cbm_sim.cluster import build, facilities
from cbm_sim.scenario.files import load_scenario

PLAN = Path(__file__).parent.parent / "scenarios" / "plan.yaml"


def _built(monkeypatch, events: bool) -> tuple[build.Model, list[str], list[str]]:
    lived: list[str] = []
    started: list[str] = []
    live, start = facilities.Facility.live, facilities.Facility.start

    def living(self, *args):
        lived.append(self.entity)
        return live(self, *args)

    def starting(self, *args):
        started.append(self.entity)
        return start(self, *args)

    monkeypatch.setattr(facilities.Facility, "live", living)
    monkeypatch.setattr(facilities.Facility, "start", starting)
    build._HISTORIES.clear()
    return build.build(load_scenario(PLAN), events=events), lived, started


def test_plants_live_at_once_without_events_and_in_simpy_with_them(monkeypatch):
    model, lived, started = _built(monkeypatch, events=False)
    entities = [f.entity for f in model.facilities()]
    assert sorted(lived) == sorted(entities) and started == []
    assert all(f.history for f in model.facilities())  # complete lives, read by the dispatch
    model.release()
    model, lived, started = _built(monkeypatch, events=True)
    assert lived == [] and sorted(started) == sorted(entities)
    model.release()


def test_a_plant_changing_inside_a_day_is_left_to_simpy(monkeypatch):
    # a change at a fractional time could tie with the dispatch's mid-day reading: such a
    # life is simulated with the run, in SimPy's order
    whole = build.commission_day
    monkeypatch.setattr(
        build, "commission_day", lambda m, day: None if (d := whole(m, day)) is None else d + 0.5
    )
    model, lived, started = _built(monkeypatch, events=False)
    late = [f.entity for f in model.facilities() if (f.commission_day or 0.0) > 0.0]
    assert late and set(late) <= set(lived) and set(late) <= set(started)
    assert all(f.history == [] for f in model.facilities() if f.entity in late)  # not yet run
    model.release()
