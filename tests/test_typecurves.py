"""Type curves: every parameter sourced and inside its bounds; sampling statistics."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from cbm_sim.bounds import BOUNDS
from cbm_sim.wells import typecurves


def test_all_types_and_classes_present_with_sources() -> None:
    curves = typecurves.typecurves()
    for well_type in ("vertical", "horizontal"):
        for cls in typecurves.BLOCK_CLASSES:
            c = curves[(well_type, cls)]
            assert len(c.sources) == 8 and all(s.strip() for s in c.sources.values())


def test_peaks_within_the_issue_ranges_for_southern_qinshui() -> None:
    # issue 3: vertical peaks ~1,000-3,000 m3/d, horizontal multilateral ~5,000-30,000 m3/d
    for (well_type, _), c in typecurves.typecurves().items():
        lo, hi = (1000, 3000) if well_type == "vertical" else (5000, 30000)
        assert lo <= c.qi_m3_per_day <= hi
        assert c.t_incline_days <= 2 * 365.25  # dewatering months to ~2 years


def test_producing_blocks_outperform_newer_ones() -> None:
    for wt in ("vertical", "horizontal"):
        q = [typecurves.typecurve(wt, c).qi_m3_per_day for c in typecurves.BLOCK_CLASSES]
        assert q == sorted(q, reverse=True)


def test_exploration_alias_uses_proved_curve() -> None:
    assert typecurves.typecurve("vertical", "exploration") == typecurves.typecurve(
        "vertical", "proved"
    )


def test_sample_mean_preserving_and_within_bounds() -> None:
    c = typecurves.typecurve("horizontal", "producing")
    s = c.sample(200_000, np.random.default_rng(4), qi_scale=2.0)
    assert s["qi"].mean() == pytest.approx(2.0 * c.qi_m3_per_day, rel=0.01)
    np.testing.assert_allclose(s["q_start"], s["qi"] * c.q_start_fraction)
    assert np.median(s["t_incline"]) == pytest.approx(c.t_incline_days, rel=0.01)
    assert BOUNDS["t_incline"].contains(s["t_incline"]).all()


def test_sampling_is_reproducible_from_seed() -> None:
    c = typecurves.typecurve("vertical", "ramping")
    a = c.sample(10, np.random.default_rng(1))
    b = c.sample(10, np.random.default_rng(1))
    np.testing.assert_array_equal(a["qi"], b["qi"])


def test_unknown_curve_message_names_it() -> None:
    with pytest.raises(ValueError, match="well_type='slanted', block_class='producing'"):
        typecurves.typecurve("slanted", "producing")


def _doc() -> dict:
    """A typecurves.yaml document with one curve, every required field 1.0 and sourced."""
    return {
        "curves": {
            "vertical": {
                "producing": {
                    k: {"value": 1.0, "source": "x"}
                    for k in (
                        "qi_m3_per_day",
                        "q_start_fraction",
                        "t_incline_days",
                        "di_per_year",
                        "b",
                        "d_term_per_year",
                        "sigma_ln_qi",
                        "sigma_ln_t_incline",
                    )
                }
            }
        }
    }


def test_bad_parameter_in_data_rejected() -> None:
    doc = _doc()
    doc["curves"]["vertical"]["producing"]["b"]["value"] = -1.0
    with pytest.raises(ValueError, match=r"b must be in .*got -1.0"):
        typecurves._parse(doc)
    doc["curves"]["vertical"]["producing"]["b"] = {"value": 0.5, "source": " "}
    with pytest.raises(ValueError, match="vertical/producing/b: missing source"):
        typecurves._parse(doc)


def test_block_level_curves_documented_and_consistent_with_the_calibration() -> None:
    from cbm_sim.plan.blocks import block_ids
    from cbm_sim.wells import calibration

    docs = typecurves.block_curves()
    # issue 13: the blocks with most wells and most planned drilling
    for block in ("zhengzhuang", "fanzhuang", "panzhuang", "panhe", "chengzhuang"):
        assert block in docs
    for block in ("shizhuang", "mabi", "qinnan"):
        assert block in docs
    assert set(docs) <= set(block_ids())
    calibrated = {b for b, (kind, _) in docs.items() if kind == "calibrated"}
    assert calibrated == set(calibration.BLOCK_LEVELS)


def test_block_level_entries_are_checked() -> None:
    with pytest.raises(ValueError, match="block panhe: level must be one of"):
        typecurves.parse_block_curves({"panhe": {"level": "guessed", "source": "x"}})
    with pytest.raises(ValueError, match="block panhe: missing source"):
        typecurves.parse_block_curves({"panhe": {"level": "class", "source": " "}})


def test_block_producing_shares_are_cited_and_used() -> None:
    from cbm_sim.wells import history

    shares = dict(typecurves.block_producing_shares())
    assert shares["shizhuang_south"] == pytest.approx(544 / 1491, abs=1e-3)  # GSS, cited
    adj = history.packaged_calibration().adjustment
    assert adj.producing_share_of("shizhuang_south", "ramping") == shares["shizhuang_south"]
    assert adj.producing_share_of("zhengzhuang", "ramping") == adj.class_producing_share("ramping")
    # one fitted share per class (calibration.yaml), each inside its bound
    for cls in typecurves.BLOCK_CLASSES:
        assert 0.36 <= adj.class_producing_share(cls) <= 1.0
    pop = history.calibrated_history(0).pop
    gss = pop.block == pop.block_ids.index("shizhuang_south")
    assert np.mean(pop.qi[gss] > 0) == pytest.approx(shares["shizhuang_south"], abs=0.04)
    # the history's other wells produce at their class's share (binomial, 4 standard errors)
    from cbm_sim.plan.blocks import load_blocks

    klass = np.array([typecurves.typecurve("vertical", b.klass).block_class for b in load_blocks()])
    for cls in typecurves.BLOCK_CLASSES:
        sel = (klass[pop.block] == cls) & ~gss
        if sel.sum() < 50:
            continue
        p = adj.class_producing_share(cls)
        se = np.sqrt(max(p * (1 - p), 1e-3) / sel.sum())
        assert np.mean(pop.qi[sel] > 0) == pytest.approx(p, abs=4 * se), cls


def test_plateau_is_optional_and_the_same_for_every_well_of_a_curve() -> None:
    doc = _doc()
    plain = typecurves._parse(doc)[("vertical", "producing")]
    assert plain.plateau_days == 0.0 and "plateau_days" not in plain.sources
    doc["curves"]["vertical"]["producing"]["plateau_days"] = {"value": 865.0, "source": "y"}
    held = typecurves._parse(doc)[("vertical", "producing")]
    assert held.plateau_days == 865.0 and held.sources["plateau_days"] == "y"
    a = plain.sample(50, np.random.default_rng(7))
    b = held.sample(50, np.random.default_rng(7))
    np.testing.assert_array_equal(a["t_plateau"], np.zeros(50))
    np.testing.assert_array_equal(b["t_plateau"], np.full(50, 865.0))
    # no scatter on the plateau: the other draws, and so the random streams, are unchanged
    for key in ("qi", "q_start", "t_incline", "di", "b", "d_term"):
        np.testing.assert_array_equal(a[key], b[key])


def test_shipped_curves_have_no_plateau() -> None:
    # no class-level plateau figure was found (LDP-22H's 865 days is one exceptional well)
    assert all(c.plateau_days == 0.0 for c in typecurves.typecurves().values())


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"value": -5.0, "source": "x"}, r"^t_plateau must be in \[0, 3650\] day.*got -5.0"),
        ({"value": 4000.0, "source": "x"}, r"^t_plateau must be in .*got 4000.0"),
        ({"value": 30.0, "source": " "}, r"^vertical/producing/plateau_days: missing source"),
    ],
)
def test_bad_plateau_in_data_rejected(entry: dict, message: str) -> None:
    doc = _doc()
    doc["curves"]["vertical"]["producing"]["plateau_days"] = entry
    with pytest.raises(ValueError, match=message):
        typecurves._parse(doc)


def test_calibrated_plateau_adds_to_the_curve_per_well_type() -> None:
    doc = _doc()
    doc["curves"]["horizontal"] = copy.deepcopy(doc["curves"]["vertical"])
    doc["curves"]["horizontal"]["producing"]["plateau_days"] = {"value": 100.0, "source": "y"}
    curves = typecurves._parse(doc)
    adj = typecurves.CurveAdjustment(
        levels=(), plateau_days=(("vertical", 250.0), ("horizontal", 400.0))
    )
    v = curves[("vertical", "producing")].sample(40, np.random.default_rng(3), adjustment=adj)
    h = curves[("horizontal", "producing")].sample(40, np.random.default_rng(3), adjustment=adj)
    np.testing.assert_array_equal(v["t_plateau"], np.full(40, 250.0))
    np.testing.assert_array_equal(h["t_plateau"], np.full(40, 500.0))  # 100 packaged + 400
    # a type not listed gets none; the other draws do not depend on the plateau
    assert typecurves.CurveAdjustment(levels=()).plateau_days_of("vertical") == 0.0
    plain = curves[("vertical", "producing")].sample(
        40, np.random.default_rng(3), adjustment=typecurves.CurveAdjustment.identity()
    )
    for key in ("qi", "q_start", "t_incline", "di", "b", "d_term"):
        np.testing.assert_array_equal(v[key], plain[key])


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ((("diagonal", 10.0),), r"^unknown well type 'diagonal' in plateau_days; known: "),
        ((("vertical", -1.0),), r"^t_plateau must be in \[0, 3650\] day.*got -1.0"),
        ((("horizontal", 5000.0),), r"^t_plateau must be in .*got 5000.0"),
    ],
)
def test_bad_calibrated_plateau_rejected(pairs: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        typecurves.CurveAdjustment(levels=(), plateau_days=pairs)


def test_development_rule_covers_the_blocks_the_plan_names_underdeveloped():
    """Plan ch1 §3 一 names 马必、马必东、柿庄南、柿庄北 long not fully developed: the rule
    covers exactly these (every block in the same situation, not only 马必)."""
    from cbm_sim.wells import history
    from cbm_sim.wells.typecurves import development_blocks

    assert development_blocks() == frozenset(history.UNDERDEVELOPED_BLOCKS)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"new_wells": "design"}, "new_wells must be one of"),
        ({"new_wells": "class"}, "new_wells: class without a new_wells_source"),
        ({"new_wells": "class", "new_wells_source": "  "}, "new_wells: class without"),
    ],
)
def test_new_wells_entry_is_checked(entry, message):
    from cbm_sim.wells.typecurves import parse_new_wells

    with pytest.raises(ValueError, match=f"block mabi: {message}"):
        parse_new_wells({"mabi": {"level": "calibrated", "source": "s", **entry}})
    assert parse_new_wells({"mabi": {"level": "class", "source": "s"}}) == {}
