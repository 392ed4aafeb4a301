/* cbm-sim studio: the page is one client of the JSON API (/api/openapi.json). No framework, no
   build step, nothing from the internet. */
"use strict";

const T = {
  zh: {
    title: "晋城煤层气产业集群 · 情景工作室", base: "基准情景", api: "API",
    levers_hint: "按产业链环节分组的杠杆；每个杠杆注明单位、取值范围和来源，↺ 恢复基准值。改动后自动重新模拟。",
    problems: "输入有误（与 cbm-sim validate 相同的检查）", verdict: "目标核验（2025、2030年）",
    charts: "图表", compare: "与基准比较", ensemble: "不确定性（集合模拟）", goalseek: "需要多少才能达标？",
    files: "保存与下载", changed_inputs: "改变的输入", moved_outputs: "变化的输出",
    ensemble_hint: "按情景的 uncertainty 部分抽样运行多个成员，给出 P10–P90 区间和达标概率（后台运行，可取消）。",
    members: "成员数", step_days: "步长（天）", run_ensemble: "运行集合模拟", cancel: "取消",
    goalseek_hint: "求使指标达到目标所需的最小杠杆倍数（每次求解约需 12–16 次完整模拟）。",
    gs_quantity: "指标", gs_year: "年份", gs_target: "目标值（亿元或亿m³）", gs_lever: "杠杆",
    gs_range: "倍数范围", gs_run: "求解", apply: "应用到杠杆",
    name: "情景名称", description: "说明", overwrite: "覆盖同名已存情景", save: "保存情景",
    download_yaml: "下载情景 YAML", downloads: "下载结果（运行文件夹）", make_report: "生成 PDF 报告",
    with_ensemble: "含集合模拟页", download_report: "下载 PDF 报告",
    footer: "cbm-sim 情景工作室：本地运行、离线可用；保存的情景是继承基准情景（extends）并只写改变杠杆的 YAML 文件，cbm-sim run 可复现同样的数字。",
    g_drilling: "钻井（分区块、分年）", g_type_curves: "单井类型曲线与产气井比例", g_facilities: "设施投产",
    g_contracts: "外输合同", g_demand: "分行业需求", g_mine_gas: "煤矿瓦斯", g_prices: "价格",
    c_value: "产值与目标", c_production: "分区块产量", c_sankey_2025: "2025年气量流向",
    c_sankey_2030: "2030年气量流向", c_balance: "年度气量平衡",
    computing: "模拟中…", ready: "就绪", stale: "（显示的是上一个有效情景的结果）",
    simulated: "模拟", target: "目标", status: "核验", exogenous: "外生值", without_exog: "不含外生值",
    met: "达成", short: "未达成", exceeded: "超限", unit: "单位", item: "项目", gap: "差距",
    physical: "实物量目标", subclusters: "子集群产值（亿元）", verdict_in: "结论用时", seconds: "秒",
    lever: "杠杆", base_value: "基准值", new_value: "新值", base_run: "基准", draft_run: "本情景",
    change: "变化", no_changes: "没有改变任何杠杆。", no_moves: "没有输出变化。",
    saved: "已保存：", invalid: "情景无效", queued: "排队中", running: "运行中", done: "完成",
    failed: "失败", cancelled: "已取消", p_met: "达标概率", wilson: "95% Wilson 区间",
    failed_members: "失败成员", reset: "↺ 基准", source: "来源", bounds: "范围", year: "年份",
    goal_found: "所需倍数", goal_not_found: "在给定范围内无法达到：", mark: "性质", all_years: "全部年份",
  },
  en: {
    title: "Jincheng CBM cluster · scenario studio", base: "Base scenario", api: "API",
    levers_hint: "Levers grouped by stage of the chain; each with its unit, bounds and source; ↺ resets it to the base. Every change re-runs the scenario.",
    problems: "Bad input (the checks of cbm-sim validate)", verdict: "Verdict against the plan's targets (2025, 2030)",
    charts: "Charts", compare: "Compared with the base", ensemble: "Uncertainty (ensemble)", goalseek: "What would it take?",
    files: "Save and download", changed_inputs: "Inputs changed", moved_outputs: "Outputs moved",
    ensemble_hint: "Runs members with the scenario's uncertainty section sampled: P10–P90 bands and the probability of meeting each target (in the background; can be cancelled).",
    members: "Members", step_days: "Step (days)", run_ensemble: "Run the ensemble", cancel: "Cancel",
    goalseek_hint: "The smallest lever multiplier that makes a quantity reach a target (12–16 full runs).",
    gs_quantity: "Quantity", gs_year: "Year", gs_target: "Target (100 million CNY or m³)", gs_lever: "Lever",
    gs_range: "Multiplier range", gs_run: "Solve", apply: "Apply to the levers",
    name: "Scenario name", description: "Description", overwrite: "replace a saved one of that name", save: "Save the scenario",
    download_yaml: "Download the scenario YAML", downloads: "Download the results (run folder)", make_report: "Make the PDF report",
    with_ensemble: "with the ensemble's pages", download_report: "Download the PDF report",
    footer: "cbm-sim scenario studio: runs locally, works offline; a saved scenario is a YAML file that extends its base and holds only the changed levers, and cbm-sim run reproduces its numbers.",
    g_drilling: "Drilling (by block and year)", g_type_curves: "Type curves and producing share", g_facilities: "Facilities' commissioning",
    g_contracts: "Outbound contracts", g_demand: "Demand by sector", g_mine_gas: "Coal-mine gas", g_prices: "Prices",
    c_value: "Value vs targets", c_production: "Production by block", c_sankey_2025: "Gas flows 2025",
    c_sankey_2030: "Gas flows 2030", c_balance: "Gas balance",
    computing: "simulating…", ready: "ready", stale: "(showing the last valid scenario)",
    simulated: "simulated", target: "target", status: "status", exogenous: "exogenous", without_exog: "without exogenous",
    met: "met", short: "short", exceeded: "exceeded", unit: "unit", item: "item", gap: "gap",
    physical: "Physical targets", subclusters: "Output value by sub-cluster (100 million CNY)", verdict_in: "verdict in", seconds: "s",
    lever: "lever", base_value: "base", new_value: "new", base_run: "base", draft_run: "this scenario",
    change: "change", no_changes: "No lever changed.", no_moves: "No output moved.",
    saved: "Saved: ", invalid: "invalid scenario", queued: "queued", running: "running", done: "done",
    failed: "failed", cancelled: "cancelled", p_met: "P(met)", wilson: "95 % Wilson interval",
    failed_members: "failed members", reset: "↺ base", source: "source", bounds: "bounds", year: "year",
    goal_found: "multiplier needed", goal_not_found: "not reachable in the range: ", mark: "basis", all_years: "every year",
  },
};

const state = {
  lang: "zh", scenario: null, levers: new Map(), values: {}, problems: {},
  baseRun: null, run: null, seq: 0, pendingSince: null, timer: null, jobs: {}, timings: [], chart: "value",
};
window.__studio = state; // read by the browser tests (timings, current run)

const $ = (sel) => document.querySelector(sel);
const t = (key) => (T[state.lang][key] !== undefined ? T[state.lang][key] : key);
const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? "" :
  Number(x).toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB", { minimumFractionDigits: d, maximumFractionDigits: d }));
const signed = (x, d = 1) => (x === null || x === undefined ? "" : (x > 0 ? "+" : "") + fmt(x, d));
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

async function api(method, url, body) {
  const init = { method, headers: {} };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch(url, init);
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) {
    const error = new Error((data && data.detail) || response.statusText);
    error.status = response.status; error.errors = (data && data.errors) || [];
    throw error;
  }
  return data;
}

function draft(extra = {}) {
  const name = $("#save-name").value.trim();
  return Object.assign({ base: state.scenario.id, changes: state.values, name: name || null,
    description: $("#save-description").value }, extra);
}

/* ------------------------------------------------------------------ texts */
function applyTexts() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  $("#lang").textContent = state.lang === "zh" ? "English" : "中文";
  document.title = t("title");
}

function displayName(row) {
  // the server names every row from the project's names table (cbm_sim/names.py)
  return row["name_" + state.lang] || row.id || row.target || row.item || "";
}

/* ------------------------------------------------------------------ levers */
function leverLabel(lever) { return (lever.labels && lever.labels[state.lang]) || lever.id; }

function sliderRange(lever) {
  const base = typeof lever.base === "number" ? lever.base : 1;
  let lo = lever.lo === null ? 0 : lever.lo;
  let hi = lever.hi === null ? Math.max(base * 3, 1) : Math.min(lever.hi, Math.max(base * 3, lo + 10 * (lever.kind === "integer" ? 1 : 0.1)));
  if (lever.lo_open) lo = lo + (hi - lo) / 100;
  const step = lever.kind === "integer" ? 1 : Number(((hi - lo) / 100).toPrecision(2));
  return { lo, hi, step };
}

function currentValue(lever) {
  return Object.prototype.hasOwnProperty.call(state.values, lever.id) ? state.values[lever.id] : lever.base;
}

function renderLevers() {
  const root = $("#lever-groups");
  const open = new Set([...root.querySelectorAll("details[open]")].map((d) => d.dataset.group));
  root.innerHTML = "";
  const groups = state.scenario.groups;
  for (const group of groups) {
    const levers = [...state.levers.values()].filter((l) => l.group === group);
    if (!levers.length) continue;
    const details = document.createElement("details");
    details.className = "group"; details.dataset.group = group;
    if (open.has(group) || (open.size === 0 && group === "drilling")) details.open = true;
    details.innerHTML = `<summary>${esc(t("g_" + group))} <span class="count">(${levers.length})</span></summary>`;
    for (const lever of levers) details.appendChild(leverElement(lever));
    root.appendChild(details);
  }
}

function leverElement(lever) {
  const div = document.createElement("div");
  div.className = "lever"; div.dataset.lever = lever.id;
  const bounds = lever.kind === "date" ? `${state.scenario.horizon[0]} … ${state.scenario.horizon[1]}` :
    `${lever.lo_open ? "(" : "["}${lever.lo ?? "−∞"}, ${lever.hi ?? "∞"}${lever.hi_open ? ")" : "]"}`;
  div.innerHTML = `<div class="head"><span class="name">${esc(leverLabel(lever))}</span>
    <span class="unit">${esc((lever.units && lever.units[state.lang]) || "")}</span></div>
    <div class="bounds">${esc(t("bounds"))} ${esc(bounds)}</div>
    <div class="inputs"></div>
    <div class="source" title="${esc(lever.source + " — " + lever.where)}">${esc(t("source"))}: ${esc(lever.source)}</div>
    <div class="error" hidden></div>
    <button type="button" class="reset" hidden>${esc(t("reset"))}</button>`;
  div.querySelector(".reset").addEventListener("click", () => { delete state.values[lever.id]; refreshLever(lever); schedule(); });
  refreshLever(lever, div);
  return div;
}

function refreshLever(lever, div = document.querySelector(`.lever[data-lever="${CSS.escape(lever.id)}"]`)) {
  if (!div) return;
  const inputs = div.querySelector(".inputs");
  const value = currentValue(lever);
  inputs.innerHTML = "";
  if (lever.kind === "number" || lever.kind === "integer") {
    const { lo, hi, step } = sliderRange(lever);
    const row = document.createElement("div"); row.className = "row";
    row.innerHTML = `<input type="range" min="${lo}" max="${hi}" step="${step}" value="${value}" aria-label="${esc(lever.id)}">
      <input type="number" step="any" value="${value}" aria-label="${esc(lever.id)}">`;
    const [range, number] = row.querySelectorAll("input");
    range.addEventListener("input", () => { number.value = range.value; setValue(lever, Number(range.value)); });
    number.addEventListener("change", () => { range.value = number.value; setValue(lever, number.value === "" ? null : Number(number.value)); });
    inputs.appendChild(row);
  } else if (lever.kind === "date") {
    const row = document.createElement("div"); row.className = "row";
    row.innerHTML = `<input type="date" value="${value || ""}" aria-label="${esc(lever.id)}">`;
    const input = row.querySelector("input");
    input.addEventListener("change", () => setValue(lever, input.value || null));
    inputs.appendChild(row);
  } else {
    const grid = document.createElement("div"); grid.className = "grid";
    for (const year of lever.years) {
      const label = document.createElement("label");
      const v = value && value[String(year)] !== undefined ? value[String(year)] : "";
      label.innerHTML = `${year}<input type="number" step="any" data-year="${year}" value="${v}" aria-label="${esc(lever.id)} ${year}">`;
      label.querySelector("input").addEventListener("change", (e) => {
        const path = Object.assign({}, currentValue(lever));
        path[String(year)] = e.target.value === "" ? null : Number(e.target.value);
        setValue(lever, path);
      });
      grid.appendChild(label);
    }
    inputs.appendChild(grid);
  }
  const changed = Object.prototype.hasOwnProperty.call(state.values, lever.id);
  div.classList.toggle("changed", changed);
  div.querySelector(".reset").hidden = !changed;
  const problem = state.problems[lever.id];
  div.classList.toggle("bad", Boolean(problem));
  const error = div.querySelector(".error");
  error.hidden = !problem; error.textContent = problem || "";
}

function equal(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

function setValue(lever, value) {
  if (equal(value, lever.base)) delete state.values[lever.id]; else state.values[lever.id] = value;
  const div = document.querySelector(`.lever[data-lever="${CSS.escape(lever.id)}"]`);
  if (div) {
    const changed = Object.prototype.hasOwnProperty.call(state.values, lever.id);
    div.classList.toggle("changed", changed); div.querySelector(".reset").hidden = !changed;
  }
  schedule();
}

/* ------------------------------------------------------------------ runs */
function schedule() {
  if (state.pendingSince === null) state.pendingSince = performance.now();
  clearTimeout(state.timer);
  state.timer = setTimeout(runDraft, 250);
}

async function runDraft() {
  const seq = ++state.seq;
  const since = state.pendingSince; state.pendingSince = null;
  $("#status").textContent = t("computing");
  try {
    const result = await api("POST", "/api/runs", draft());
    if (seq !== state.seq) return; // a later edit is on its way: this answer is stale
    setProblems([]);
    state.run = result;
    renderVerdict(result.verdict);
    if (since !== null) {
      const seconds = (performance.now() - since) / 1000;
      state.timings.push({ seconds, run: result.run, server_s: result.elapsed_s });
      $("#timing").textContent = `${t("verdict_in")} ${fmt(seconds, 2)} ${t("seconds")}`;
    }
    $("#status").textContent = t("ready");
    if (state.baseRun === null && Object.keys(state.values).length === 0) state.baseRun = result.run;
    loadCharts(); renderFiles(); loadCompare();
  } catch (error) {
    if (seq !== state.seq) return;
    if (error.status === 422) { setProblems(error.errors); $("#status").textContent = t("invalid"); }
    else { setProblems([{ field: "", message: error.message }]); $("#status").textContent = error.message; }
  }
}

function setProblems(errors) {
  state.problems = {};
  for (const e of errors) {
    const lever = leverOf(e.field);
    if (lever) state.problems[lever] = (state.problems[lever] ? state.problems[lever] + "; " : "") + e.message;
  }
  const list = $("#problem-list");
  list.innerHTML = errors.map((e) => `<li><code>${esc(e.field || "")}</code>: ${esc(e.message)}${e.where ? ` <small>(${esc(e.where)})</small>` : ""}</li>`).join("");
  $("#problems").hidden = errors.length === 0;
  $("#verdict").classList.toggle("stale", errors.length > 0);
  for (const lever of state.levers.values()) refreshLeverState(lever);
}

function refreshLeverState(lever) {
  const div = document.querySelector(`.lever[data-lever="${CSS.escape(lever.id)}"]`);
  if (!div) return;
  const problem = state.problems[lever.id];
  div.classList.toggle("bad", Boolean(problem));
  const error = div.querySelector(".error");
  error.hidden = !problem; error.textContent = problem || "";
}

function leverOf(field) {
  if (!field) return null;
  if (state.levers.has(field)) return field;
  for (const id of state.levers.keys()) if (field.startsWith(id + ".") || field.startsWith(id + "[")) return id;
  return null;
}

// what a simulated figure is (computed / input / exogenous) and the target's kind (a cap or a
// floor): the target check gives them as ``basis`` and ``target_kind`` where it has them
const MARKS = {
  zh: { computed: "计算", input: "输入", exogenous: "外生", "computed + exogenous": "部分外生", cap: "上限", floor: "下限" },
  en: { computed: "computed", input: "input", exogenous: "exogenous", "computed + exogenous": "part exogenous", cap: "cap", floor: "floor" },
};

function markText(row) {
  const words = [];
  if (row.basis && row.basis !== "computed") words.push(MARKS[state.lang][row.basis] || row.basis);
  if (row.target_kind && row.target_kind !== "target") words.push(MARKS[state.lang][row.target_kind] || row.target_kind);
  return words.join(" · ");
}

function renderVerdict(rows) {
  const byYear = {};
  for (const r of rows) (byYear[r.year] = byYear[r.year] || []).push(r);
  const markColumn = rows.length && ("basis" in rows[0] || "target_kind" in rows[0]);
  let html = '<div class="headline">';
  for (const year of [2025, 2030]) {
    const total = (byYear[year] || []).find((r) => r.sub_cluster === "total");
    if (!total) continue;
    html += `<div class="year" data-year="${year}"><div>${year}</div>
      <div class="total" data-value="${total.simulated}">${fmt(total.simulated)} / ${fmt(total.target, 0)} ${esc(total["unit_" + state.lang] || total.unit)}</div>
      <div><span class="badge ${esc(total.status)}">${esc(t(total.status))}</span> ${signed(total.gap_pct)} %</div>
      <div><small>${esc(t("exogenous"))} ${fmt(total.exogenous)}; ${esc(t("without_exog"))} ${fmt(total.simulated_excl_exogenous)}
      <span class="badge ${esc(total.status_excl_exogenous)}">${esc(t(total.status_excl_exogenous))}</span></small></div></div>`;
  }
  html += "</div>";
  const section = (title, filter, unitColumn) => {
    let s = `<h3>${esc(title)}</h3><table><thead><tr><th>${esc(t("item"))}</th>`;
    if (unitColumn) s += `<th>${esc(t("unit"))}</th>`;
    for (const year of [2025, 2030]) s += `<th>${year} ${esc(t("simulated"))} / ${esc(t("target"))}</th>`;
    if (markColumn) s += `<th class="mark">${esc(t("mark"))}</th>`;
    s += "</tr></thead><tbody>";
    const keys = [];
    for (const r of rows) if (filter(r)) { const k = r.sub_cluster + "|" + r.item; if (!keys.includes(k)) keys.push(k); }
    for (const key of keys) {
      const cells = [2025, 2030].map((y) => (byYear[y] || []).find((r) => r.sub_cluster + "|" + r.item === key));
      const any = cells.find(Boolean);
      s += `<tr data-key="${esc(key)}"><td>${esc(displayName(any))}</td>`;
      if (unitColumn) s += `<td>${esc(any["unit_" + state.lang] || any.unit || "")}</td>`;
      for (const c of cells) {
        s += c ? `<td>${fmt(c.simulated, c.simulated < 10 ? 2 : 1)} / ${fmt(c.target, c.target < 10 ? 2 : 1)}
          <span class="badge ${esc(c.status)}">${c.status === "met" ? "✓" : "✗"}</span></td>` : "<td></td>";
      }
      if (markColumn) {
        const text = [...new Set(cells.filter(Boolean).map(markText).filter(Boolean))].join("; ");
        s += `<td class="mark">${text ? `<span class="mark-tag">${esc(text)}</span>` : ""}</td>`;
      }
      s += "</tr>";
    }
    return s + "</tbody></table>";
  };
  html += '<div class="tables"><div>';
  html += section(t("subclusters"), (r) => r.sub_cluster !== "physical" && r.sub_cluster !== "total" && (r.item === "total" || !r.item), false);
  html += "</div><div>";
  html += section(t("physical"), (r) => r.sub_cluster === "physical", true);
  html += "</div></div>";
  $("#verdict").innerHTML = html;
}

function loadCharts() {
  // one chart at a time (drawn by the server from the report's own chart functions): the
  // verdict of the next lever move does not wait behind charts nobody looks at
  if (!state.run || $("#tab-charts").hidden) return;
  const img = $("#chart");
  const src = `/api/runs/${state.run.run}/charts/${state.chart}.svg?lang=${state.lang}`;
  if (img.getAttribute("src") === src) return;
  img.classList.add("loading");
  img.onload = () => img.classList.remove("loading");
  img.src = src;
}

async function loadCompare() {
  // the project's diff engine (cbm_sim/studies/diff.py) on the base run and this one; only
  // while its tab is shown, so that a lever move does not wait behind it
  if ($("#tab-compare").hidden) return;
  const inputs = $("#compare-inputs"), outputs = $("#compare-outputs");
  const none = (key) => `<tr><td>${esc(t(key))}</td></tr>`;
  if (!state.run || !state.baseRun || state.run.run === state.baseRun) {
    inputs.innerHTML = none("no_changes"); outputs.innerHTML = none("no_moves"); return;
  }
  const runId = state.run.run;
  const result = await api("GET", `/api/runs/${runId}/compare/${state.baseRun}`);
  if (!state.run || state.run.run !== runId) return;
  const name = (row) => row["name_" + state.lang] || row.path || row.quantity || row.target;
  inputs.innerHTML = result.inputs.length === 0 ? none("no_changes") :
    `<tr><th>${esc(t("lever"))}</th><th>${esc(t("unit"))}</th><th>${esc(t("base_value"))}</th><th>${esc(t("new_value"))}</th><th>${esc(t("source"))}</th></tr>` +
    result.inputs.map((c) => `<tr data-path="${esc(c.path)}"><td>${esc(name(c))}</td><td>${esc(c.unit || "")}</td><td>${esc(c.a)}</td>
      <td>${esc(c.b)}</td><td><small>${esc(c.source_a || "")}</small></td></tr>`).join("");
  const allYears = $("#compare-all-years").checked;
  const rows = [...result.outputs.filter((r) => allYears || r.year === 2025 || r.year === 2030),
    ...result.targets.map((r) => Object.assign({ quantity: r.target }, r))];
  outputs.innerHTML = rows.length === 0 ? none("no_moves") :
    `<tr><th>${esc(t("item"))}</th><th>${esc(t("year"))}</th><th>${esc(t("unit"))}</th><th>${esc(t("base_run"))}</th><th>${esc(t("draft_run"))}</th><th>${esc(t("change"))}</th><th>${esc(t("status"))}</th></tr>` +
    rows.map((o) => `<tr><td>${esc(name(o))}</td><td>${o.year}</td><td>${esc(o.unit || "")}</td><td>${fmt(o.a, 2)}</td>
      <td>${fmt(o.b, 2)}</td><td class="${o.delta >= 0 ? "up" : "down"}">${signed(o.delta, 2)}${o.delta_pct === null || o.delta_pct === undefined ? "" : ` (${signed(o.delta_pct)} %)`}</td>
      <td>${o.status_a ? `${esc(t(o.status_a))} → ${esc(t(o.status_b))}` : ""}</td></tr>`).join("");
}

function renderFiles() {
  if (!state.run) return;
  const id = state.run.run;
  $("#run-files").innerHTML = ["targets.csv", "valuation.csv", "annual.csv", "annual.parquet", "daily.parquet", "scenario.yaml", "meta.json"]
    .map((f) => `<a href="/api/runs/${id}/files/${f}" download>${f}</a>`).join(" · ");
}

/* ------------------------------------------------------------------ jobs */
async function startJob(kind, url, body, ui) {
  ui.run.disabled = true; ui.cancel.disabled = false; ui.progress.value = 0; ui.message.textContent = t("queued");
  let job;
  try { job = await api("POST", url, body); }
  catch (error) {
    ui.run.disabled = false; ui.cancel.disabled = true;
    ui.message.textContent = error.message;
    if (error.status === 422) setProblems(error.errors);
    return null;
  }
  state.jobs[kind] = job.id;
  ui.cancel.onclick = () => api("DELETE", `/api/jobs/${job.id}`).catch(() => {});
  while (true) {
    await new Promise((r) => setTimeout(r, 400));
    try { job = await api("GET", `/api/jobs/${job.id}`); } catch (error) { ui.message.textContent = error.message; break; }
    ui.progress.value = job.progress;
    ui.message.textContent = `${t(job.status)} ${job.message || ""}`;
    if (!["queued", "running"].includes(job.status)) break;
  }
  ui.run.disabled = false; ui.cancel.disabled = true;
  if (job.status === "failed") ui.message.textContent = `${t("failed")}: ${job.error}`;
  return job;
}

async function runEnsemble() {
  const n = Number($("#ens-n").value), step = Number($("#ens-step").value);
  const job = await startJob("ensemble", "/api/jobs/ensemble", draft({ n, step_days: step || null }),
    { run: $("#ens-run"), cancel: $("#ens-cancel"), progress: $("#ens-progress"), message: $("#ens-message") });
  if (!job || job.status !== "done") return;
  state.ensembleJob = job;
  renderEnsemble();
}

function renderEnsemble() {
  const job = state.ensembleJob;
  if (!job) return;
  const r = job.result;
  let html = `<table><tr><th>${esc(t("item"))}</th><th>${esc(t("year"))}</th><th>${esc(t("p_met"))}</th><th>${esc(t("wilson"))}</th></tr>`;
  for (const row of r.headline) {
    html += `<tr data-target="${esc(row.target)}" data-year="${row.year}"><td>${esc(row["name_" + state.lang] || row.target)}</td><td>${row.year}</td>
      <td>${fmt(row.probability, 2)}</td><td>${fmt(row.wilson_low, 2)}–${fmt(row.wilson_high, 2)}</td></tr>`;
  }
  html += `</table><p>${r.members} / ${r.n}; ${esc(t("failed_members"))}: ${r.failed} ·
    <a href="/api/jobs/${job.id}/files/probabilities.csv" download>probabilities.csv</a> ·
    <a href="/api/jobs/${job.id}/files/percentiles.csv" download>percentiles.csv</a></p>`;
  $("#ens-result").innerHTML = html;
  for (const chart of ["fan-value", "probability", "fan-production"]) {
    const img = $(`#chart-${chart}`);
    img.hidden = false; img.src = `/api/jobs/${job.id}/charts/${chart}.svg?lang=${state.lang}`;
  }
}

async function runGoalSeek() {
  const body = draft({ year: Number($("#gs-year").value), target: Number($("#gs-target").value),
    lever: $("#gs-lever").value, quantity: $("#gs-quantity").value,
    low: Number($("#gs-low").value), high: Number($("#gs-high").value) });
  $("#gs-result").textContent = "";
  const job = await startJob("goalseek", "/api/jobs/goalseek", body,
    { run: $("#gs-run"), cancel: $("#gs-cancel"), progress: $("#gs-progress"), message: $("#gs-message") });
  if (!job || job.status !== "done") return;
  const r = job.result;
  let html = r.converged ? `<p><b>${esc(t("goal_found"))}: ${esc(r.lever)} × ${fmt(r.value, 3)}</b> → ${fmt(r.achieved, 2)} (${esc(t("target"))} ${fmt(r.target, 2)})</p>`
    : `<p><b>${esc(t("goal_not_found"))}</b> ${esc(r.message)}</p>`;
  if (r.planned_wells !== undefined) html += `<p>${fmt(r.planned_wells * r.value, 0)} wells/yr (${fmt(r.planned_wells, 0)} × ${fmt(r.value, 3)})</p>`;
  html += `<p><small>${esc(r.message)}</small></p>`;
  if (r.converged && (r.lever === "drilling" || r.lever === "peak_rate")) html += `<button type="button" id="gs-apply">${esc(t("apply"))}</button>`;
  $("#gs-result").innerHTML = html;
  const apply = $("#gs-apply");
  if (apply) apply.addEventListener("click", () => applyGoal(r));
}

function applyGoal(r) {
  // the lever's meaning as cbm_sim.studies.goalseek.apply_lever has it
  if (r.lever === "peak_rate") {
    state.values["type_curves.peak_rate_scale"] = r.value;
  } else {
    for (const lever of state.levers.values()) {
      const m = lever.id.match(/^drilling\.blocks\.[^.]+\.(vertical_wells_per_year|horizontal_wells_per_year|rigs)$/);
      if (!m) continue;
      const current = currentValue(lever);
      if (lever.kind === "path") {
        const scaled = {};
        for (const [y, v] of Object.entries(current)) scaled[y] = v * r.value;
        state.values[lever.id] = scaled;
      } else if (current > 0) {
        // within the lever's bounds, as goal-seek caps a block's rigs (MAX_RIGS)
        state.values[lever.id] = Math.min(lever.hi, Math.max(1, Math.ceil(current * r.value)));
      }
    }
  }
  renderLevers(); schedule();
}

async function makeReport() {
  if (!state.run) return;
  const withEnsemble = $("#report-ensemble").checked && state.ensembleJob;
  $("#report-result").innerHTML = "";
  const job = await startJob("report", "/api/jobs/report",
    { run: state.run.run, lang: state.lang, ensemble: withEnsemble ? state.ensembleJob.id : null },
    { run: $("#report-run"), cancel: { disabled: true }, progress: $("#report-progress"), message: $("#report-message") });
  if (job && job.status === "done") {
    $("#report-result").innerHTML = `<a id="report-download" href="/api/jobs/${job.id}/report.pdf" download>${esc(t("download_report"))}</a>`;
  }
}

async function save() {
  try {
    const result = await api("POST", "/api/scenarios", draft({ overwrite: $("#save-overwrite").checked }));
    $("#save-result").innerHTML = `${esc(t("saved"))} <code id="saved-file">${esc(result.file)}</code>`;
    await loadScenarioList(state.scenario.id);
  } catch (error) {
    $("#save-result").textContent = error.message;
    if (error.status === 422) setProblems(error.errors.filter((e) => e.field !== "name"));
  }
}

async function downloadYaml() {
  const response = await fetch("/api/draft.yaml", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(draft()) });
  if (!response.ok) { const data = await response.json(); $("#save-result").textContent = data.detail; return; }
  const blob = await response.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = (($("#save-name").value.trim()) || `${state.scenario.name}-studio`) + ".yaml";
  document.body.appendChild(a); a.click(); a.remove();
}

/* ------------------------------------------------------------------ start */
async function loadScenarioList(selected) {
  const list = await api("GET", "/api/scenarios");
  $("#scenario").innerHTML = list.map((s) => `<option value="${esc(s.id)}"${s.id === selected ? " selected" : ""}>${esc(s.id)}${s.saved ? " *" : ""}</option>`).join("");
}

async function openScenario(id) {
  state.scenario = await api("GET", `/api/scenarios/${encodeURIComponent(id)}`);
  state.levers = new Map(state.scenario.levers.map((l) => [l.id, l]));
  state.values = {}; state.problems = {}; state.baseRun = null; state.run = null; state.ensembleJob = null;
  $("#save-name").value = `${state.scenario.name}-studio`;
  renderLevers(); setProblems([]);
  const url = new URL(location.href); url.searchParams.set("scenario", id); history.replaceState(null, "", url);
  await runDraft();
}

async function start() {
  const params = new URLSearchParams(location.search);
  state.lang = params.get("lang") === "en" ? "en" : "zh";
  applyTexts();
  const options = await api("GET", "/api/goalseek/options");
  $("#gs-lever").innerHTML = options.levers.map((l) => `<option>${esc(l)}</option>`).join("");
  $("#gs-quantity").innerHTML = options.quantities.map((q) => `<option${q === "output.total" ? " selected" : ""}>${esc(q)}</option>`).join("");
  const list = await api("GET", "/api/scenarios");
  const first = params.get("scenario") && list.some((s) => s.id === params.get("scenario")) ? params.get("scenario") : (list.find((s) => s.id === "plan") || list[0]).id;
  await loadScenarioList(first);
  $("#scenario").addEventListener("change", (e) => openScenario(e.target.value));
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    const url = new URL(location.href); url.searchParams.set("lang", state.lang); history.replaceState(null, "", url);
    applyTexts(); renderLevers(); if (state.run) { renderVerdict(state.run.verdict); loadCharts(); loadCompare(); } renderEnsemble();
  });
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll(".tabs button").forEach((x) => x.classList.toggle("active", x === b));
    document.querySelectorAll(".tab").forEach((s) => { s.hidden = s.id !== "tab-" + b.dataset.tab; });
    if (b.dataset.tab === "charts") loadCharts();
    if (b.dataset.tab === "compare") loadCompare();
  }));
  document.querySelectorAll(".chart-picker button").forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll(".chart-picker button").forEach((x) => x.classList.toggle("active", x === b));
    state.chart = b.dataset.chart; loadCharts();
  }));
  $("#compare-all-years").addEventListener("change", loadCompare);
  $("#ens-run").addEventListener("click", runEnsemble);
  $("#gs-run").addEventListener("click", runGoalSeek);
  $("#report-run").addEventListener("click", makeReport);
  $("#save").addEventListener("click", save);
  $("#download-yaml").addEventListener("click", downloadYaml);
  await openScenario(first);
}

start().catch((error) => { $("#status").textContent = error.message; });
