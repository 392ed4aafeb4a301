"""Display names of every input and output, Chinese and English, in one table.

A reader never sees a raw field name: what a chart, a table, a console line or the studio
calls a scenario field (``valuation.green_finance_1e8_yuan`` → 绿色金融产值（规划给定） /
"Green finance (plan figure)"), an uncertainty entry, a results quantity, a target id, a
sub-cluster, an item or a block comes from here. The names are data,
``cbm_sim/data/names.yaml``; this module reads them once and resolves a concrete id (with
list indices, block ids and uncertainty keys in it) to its entry. Units are not part of a
name: :func:`input_unit` derives a field's display unit from its name's suffix
(``_1e8_m3_per_year`` → 亿m³/年), the convention of :mod:`cbm_sim.units`.

The module sits at the bottom of the stages, beside :mod:`cbm_sim.bounds` and
:mod:`cbm_sim.units`, so every stage (and the studio) can use it; it imports nothing of
cbm-sim.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, Literal

import yaml

Lang = Literal["zh", "en"]
"""A report language: Chinese (the planning report) or English."""

LANGS: Final[tuple[Lang, ...]] = ("zh", "en")

SECTIONS: Final[tuple[str, ...]] = (
    "inputs",
    "factors",
    "entities",
    "quantities",
    "sectors",
    "sub_clusters",
    "items",
    "targets",
    "blocks",
    "statuses",
)
"""The sections of ``names.yaml``: what kind of id each names."""


@dataclass(frozen=True)
class Name:
    """The Chinese and English display name of one id."""

    zh: str
    en: str

    def __call__(self, lang: Lang) -> str:
        """The name in ``lang``."""
        return self.zh if _lang(lang) == "zh" else self.en


def _lang(lang: str) -> Lang:
    if lang not in LANGS:
        raise ValueError(f"expected a language of {list(LANGS)}, got {lang!r}")
    return lang


@cache
def table() -> Mapping[str, Mapping[str, Name]]:
    """Every name by section (:data:`SECTIONS`) and id, from ``cbm_sim/data/names.yaml``.

    Raises
    ------
    ValueError
        If the file lacks a section or an entry is not a ``[中文, English]`` pair (naming it).
    """
    text = resources.files("cbm_sim.data").joinpath("names.yaml").read_text(encoding="utf-8")
    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out: dict[str, dict[str, Name]] = {}
    for section in SECTIONS:
        entries = raw.get(section)
        if not isinstance(entries, dict):
            raise ValueError(f"names.yaml: section {section!r} is missing or not a mapping")
        out[section] = {}
        for key, pair in entries.items():
            ok = isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
            if not ok or not all(p.strip() for p in pair):
                raise ValueError(
                    f"names.yaml: {section}.{key}: expected [中文, English], got {pair!r}"
                )
            out[section][str(key)] = Name(pair[0], pair[1])
    return out


def lookup(section: str, key: str) -> Name | None:
    """The name of ``key`` in ``section``, or ``None`` when the table has none."""
    if section not in SECTIONS:
        raise ValueError(f"unknown names section {section!r}; expected one of {list(SECTIONS)}")
    return table()[section].get(key)


def _named(section: str, key: str, lang: Lang) -> str:
    name = lookup(section, key)
    return key if name is None else name(lang)


def block_name(block_id: str, lang: Lang) -> str:
    """A block's name: 郑庄 / Zhengzhuang (the id itself for a block the table lacks)."""
    return _named("blocks", block_id, lang)


def sector_name(sector: str, lang: Lang) -> str:
    """A demand sector's name: 民生用气 / Residential."""
    return _named("sectors", sector, lang)


def sub_cluster_name(sub_cluster: str, lang: Lang) -> str:
    """A sub-cluster's name (plan ch4 headings): 勘探开发 / Exploration & development."""
    return _named("sub_clusters", sub_cluster, lang)


def item_name(item: str, lang: Lang, sub_cluster: str | None = None) -> str:
    """A sub-cluster item's name; ``item`` may be the plan id ``output.<sc>.<item>``."""
    if sub_cluster is not None and item.startswith(f"output.{sub_cluster}."):
        item = item[len(f"output.{sub_cluster}.") :]
    return _named("items", item, lang)


def status_name(status: str, lang: Lang) -> str:
    """A target status: 达成 / met, 未达成 / short, 超限 / exceeded."""
    return _named("statuses", status, lang)


def target_name(plan_id: str, lang: Lang) -> str:
    """A target or summary quantity by its plan id.

    ``output.total`` → 集群总产值; ``output.<sc>`` → the sub-cluster; ``output.<sc>.<item>``
    → "sub-cluster · item"; a physical id (``lng.output``) → its name; else the id itself.
    """
    parts = plan_id.split(".")
    subs = table()["sub_clusters"]
    if len(parts) >= 2 and parts[0] == "output" and parts[1] in subs and parts[1] != "total":
        name = subs[parts[1]](lang)
        if len(parts) == 2:
            return name
        return f"{name} · {item_name('.'.join(parts[2:]), lang)}"
    return _named("targets", plan_id, lang)


def output_name(entity: str, quantity: str, lang: Lang) -> str:
    """A results series (``Results.annual`` entity × quantity): 郑庄 地面抽采量,
    民生用气 缺口, LNG 原料气量 …"""
    kind, _, rest = entity.partition(":")
    if kind == "block" and rest:
        who = block_name(rest, lang)
    elif kind == "demand" and rest:
        who = sector_name(rest, lang)
    elif kind == "lng" and rest:
        who = f"{_named('entities', 'lng', lang)} {rest}"
    else:
        who = _named("entities", entity, lang)
    what = _named("quantities", quantity, lang)
    return f"{who}{'' if lang == 'zh' and _ends_cjk(who) else ' '}{_lower_first(what, lang)}"


def _ends_cjk(text: str) -> bool:
    return bool(text) and "\u2e80" <= text[-1] <= "\uffef"


def _lower_first(text: str, lang: Lang) -> str:
    return text[:1].lower() + text[1:] if lang == "en" and text[1:2].islower() else text


_INDEX = re.compile(r"^\d+$")
_FIRST_YEAR: Final[int] = 1000
"""A number segment at least this large is a year of a time path, not a list index (lists
hold at most 200 entries, :mod:`cbm_sim.scenario.assets`)."""


@dataclass(frozen=True)
class _Path:
    pattern: str  # with "[]" for list indices and "*" for mapping keys
    prefix: tuple[str, ...]  # block names and list positions, for the display
    key: str | None  # the uncertainty entry or block id the "*" stands for


def _pattern(path: str) -> _Path:
    """The table pattern of a concrete dotted path, and what the pattern dropped."""
    parts = [p for p in path.split(".") if p != ""]
    out: list[str] = []
    notes: list[str] = []
    key = None
    for k, part in enumerate(parts):
        if _INDEX.match(part) and out and int(part) >= _FIRST_YEAR:
            notes.append(f"year:{part}")  # a year of a {year: value} time path
        elif _INDEX.match(part) and out:
            out[-1] += "[]"
            notes.append(f"#{int(part) + 1}")
        elif k == 2 and parts[:2] == ["drilling", "blocks"]:
            out.append("*")
            notes.append(f"block:{part}")
            key = part
        elif k == 1 and parts[0] == "uncertainty":
            out.append("*")
            key = part
        else:
            out.append(part)
    return _Path(".".join(out), tuple(notes), key)


def _input_entry(path: str) -> tuple[Name, _Path] | None:
    parsed = _pattern(path)
    inputs = table()["inputs"]
    if parsed.pattern in inputs:
        return inputs[parsed.pattern], parsed
    parts = parsed.pattern.split(".")
    for cut in range(1, len(parts)):  # "*.reliability.…" stands for any owner
        wild = "*." + ".".join(parts[cut:])
        if wild in inputs:
            owner = inputs.get(".".join(parts[:cut]).removesuffix("[]"))
            if owner is None:
                return inputs[wild], parsed
            own, what = owner("zh"), inputs[wild]
            return Name(f"{own}{what.zh}", f"{owner.en}: {_lower_first(what.en, 'en')}"), parsed
    return None


_DISTRIBUTION_FIELDS: Final[frozenset[str]] = frozenset(
    {"dist", "low", "mode", "high", "mean", "sd", "op", "from_year", "paths"}
)


def _named_input(pattern: str, lang: Lang) -> str:
    return table()["inputs"][pattern](lang)


def has_input_name(path: str) -> bool:
    """Whether the table names ``path`` (a scenario field or a study factor)."""
    return _input_entry(path) is not None or lookup("factors", path) is not None


def input_name(path: str, lang: Lang, *, detail: str | None = None) -> str:
    """The display name of a scenario field, uncertainty entry or study swing.

    Parameters
    ----------
    path
        A dotted path into the scenario as the uncertainty section and the diff write it
        (``drilling.blocks.zhengzhuang.rigs``, ``lng.plants.8.capacity_t_per_day``), or the
        name of a shared factor / study swing (``gas_prices``, ``peak_rate``).
    lang
        ``"zh"`` or ``"en"``.
    detail
        What a list index stands for (a plant's or contract's name), shown instead of its
        position.

    Returns
    -------
    str
        郑庄 钻机数 / "Zhengzhuang: drilling rigs", 液化工厂日产能（#9） …; a path the table
        does not know is returned as written (a user's own factor name).
    """
    _lang(lang)
    parts = path.split(".")
    if parts[0] == "uncertainty" and len(parts) > 1:  # an entry's key may hold dots
        field = parts[-1] if len(parts) > 2 and parts[-1] in _DISTRIBUTION_FIELDS else None
        entry = ".".join(parts[1:-1] if field else parts[1:])
        what = input_name(entry, lang)
        if field:
            what += (
                f"·{_named_input(f'uncertainty.*.{field}', lang)}"
                if lang == "zh"
                else (f" — {_named_input(f'uncertainty.*.{field}', lang).lower()}")
            )
        head = _named_input("uncertainty", lang)
        return f"{head}：{what}" if lang == "zh" else f"{head}: {what}"
    found = _input_entry(path)
    if found is None:
        factor = lookup("factors", path)
        return path if factor is None else factor(lang)
    name, parsed = found
    text = name(lang)
    for note in parsed.prefix:
        if note.startswith("block:"):
            block = block_name(note[len("block:") :], lang)
            text = f"{block} {text}" if lang == "zh" else f"{block}: {_lower_first(text, lang)}"
    positions = [n for n in parsed.prefix if n.startswith("#")]
    positions += [
        f"{n[5:]}年" if lang == "zh" else n[5:] for n in parsed.prefix if n.startswith("year:")
    ]
    if detail or positions:
        what = detail or ("、" if lang == "zh" else ", ").join(positions)
        text = f"{text}（{what}）" if lang == "zh" else f"{text} ({what})"
    return text


UNIT_SUFFIXES: Final[tuple[tuple[str, str, str], ...]] = (
    ("_1e8_m3_per_year", "亿m³/年", "10⁸ m³/yr"),
    ("_1e8_m3", "亿m³", "10⁸ m³"),
    ("_1e8_yuan", "亿元", "10⁸ CNY"),
    ("_1e4_m3_per_day", "万m³/日", "10⁴ m³/d"),
    ("_1e4_m3", "万m³", "10⁴ m³"),
    ("_1e4_t_per_year", "万t/年", "10⁴ t/yr"),
    ("_1e4_t", "万t", "10⁴ t"),
    ("people_1e4", "万人", "10⁴ people"),
    ("_t_per_day", "t/日", "t/d"),
    ("_m3_per_person_year", "m³/人·年", "m³/person/yr"),
    ("_m3_per_kwh", "m³/kWh", "m³/kWh"),
    ("_m3_per_t", "m³/t", "m³/t"),
    ("_kg_per_m3", "kg/m³", "kg/m³"),
    ("_yuan_per_m3_year", "元/m³·年", "CNY/m³/yr"),
    ("_yuan_per_m3", "元/m³", "CNY/m³"),
    ("_yuan_per_t_co2e", "元/tCO₂e", "CNY/t CO₂e"),
    ("_yuan_per_t", "元/t", "CNY/t"),
    ("_yuan_per_kwh", "元/kWh", "CNY/kWh"),
    ("_yuan_per_well_eq", "元/井当量", "CNY/well eq."),
    ("_yuan_per_active_well_year", "元/井·年", "CNY/well/yr"),
    ("_yuan_per_workover", "元/次", "CNY/workover"),
    ("_per_well_year", "次/井·年", "per well-year"),
    ("_days_per_year", "天/年", "days/yr"),
    ("_days", "天", "days"),
    ("_mw", "MW", "MW"),
    ("_share", "比例", "share"),
    ("_scale", "倍", "×"),
    ("_ratio", "倍", "×"),
    ("_multiplier", "倍", "×"),
    ("_factor", "比例", "share"),
    ("_equivalent", "倍", "×"),
    ("_cv", "", ""),
)
"""Field-name suffix → display unit (中文, English), first match wins: the suffixes of
:mod:`cbm_sim.scenario.model` (units are in the field names)."""


def input_unit(path: str, lang: Lang) -> str:
    """The display unit of a scenario field from its name's suffix ("" when unitless)."""
    _lang(lang)
    if _input_entry(path) is None:  # a factor or a user's own name: no field, no unit
        return ""
    field = path.split(".")[-1]
    for suffix, zh, en in UNIT_SUFFIXES:
        if field.endswith(suffix):
            return zh if lang == "zh" else en
    return ""


def rows() -> Iterator[tuple[str, str, str, str]]:
    """Every entry as ``(section, id, 中文, English)``, in the table's order (for the studio,
    a CSV or a glossary page)."""
    for section, entries in table().items():
        for key, name in entries.items():
            yield section, key, name.zh, name.en


__all__ = [
    "LANGS",
    "SECTIONS",
    "UNIT_SUFFIXES",
    "Lang",
    "Name",
    "block_name",
    "has_input_name",
    "input_name",
    "input_unit",
    "item_name",
    "lookup",
    "output_name",
    "rows",
    "sector_name",
    "status_name",
    "sub_cluster_name",
    "table",
    "target_name",
]
