// Admin monitoring: predictions per day, predicted-label mix per day vs the training
// distribution, and per predicted class how often users said the model was wrong.
// The API key lives in a variable of this page only (never stored).

import { api, explain } from "./api.js";
import { barList, colorFor } from "./charts.js";
import { $, clearMessage, percent, showMessage } from "./dom.js";

let apiKey = "";

function heading(level, text) {
  const h = document.createElement(level);
  h.textContent = text;
  return h;
}

/** Stacked bars, one per day: the share of each predicted label (height = count). */
function drawDays(canvas, model) {
  const ratio = window.devicePixelRatio || 1;
  const width = 640;
  const height = 200;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.style.width = "100%";
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const pad = { left: 34, right: 8, top: 8, bottom: 22 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const days = model.labels_per_day;
  const max = Math.max(1, ...model.per_day.map((d) => d.count));
  const step = plotW / Math.max(1, days.length);
  days.forEach((day, i) => {
    let y = pad.top + plotH;
    model.labels.forEach((label, k) => {
      const h = ((day.counts[label] || 0) / max) * plotH;
      ctx.fillStyle = colorFor(k);
      ctx.fillRect(pad.left + i * step + 1, y - h, Math.max(1, step - 2), h);
      y -= h;
    });
  });
  const text = getComputedStyle(document.body).color;
  ctx.fillStyle = text;
  ctx.strokeStyle = text;
  ctx.font = "11px system-ui, sans-serif";
  ctx.beginPath();
  ctx.moveTo(pad.left, pad.top);
  ctx.lineTo(pad.left, pad.top + plotH);
  ctx.lineTo(pad.left + plotW, pad.top + plotH);
  ctx.stroke();
  ctx.textAlign = "right";
  ctx.fillText(String(max), pad.left - 4, pad.top + 8);
  ctx.fillText("0", pad.left - 4, pad.top + plotH);
  ctx.textAlign = "left";
  if (days.length) {
    ctx.fillText(days[0].day, pad.left, height - 6);
    ctx.textAlign = "right";
    ctx.fillText(days[days.length - 1].day, pad.left + plotW, height - 6);
  }
}

function shares(counts, labels) {
  const total = labels.reduce((sum, l) => sum + (counts[l] || 0), 0) || 1;
  return Object.fromEntries(labels.map((l) => [l, (counts[l] || 0) / total]));
}

function table(headers, rows) {
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  for (const text of headers) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = text;
    head.append(th);
  }
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const cell of row) {
      tr.insertCell().textContent = cell;
    }
  }
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  wrap.append(t);
  return wrap;
}

function renderModel(model) {
  const card = document.createElement("section");
  card.className = "card";
  const version = model.version == null ? "no production version" : `production v${model.version}`;
  card.append(heading("h2", `${model.name} — ${version}`));
  const total = model.per_day.reduce((sum, d) => sum + d.count, 0);

  card.append(heading("h3", `Predictions per day (${total} in all), by predicted label`));
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "Predictions per day, stacked by predicted label");
  card.append(canvas);
  const legend = document.createElement("ul");
  legend.className = "legend";
  model.labels.forEach((label, k) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colorFor(k);
    item.append(swatch, document.createTextNode(label));
    legend.append(item);
  });
  card.append(legend);
  drawDays(canvas, model);
  card.append(
    table(
      ["day", "predictions", ...model.labels],
      model.labels_per_day.map((d, i) => [
        d.day,
        String(model.per_day[i].count),
        ...model.labels.map((l) => String(d.counts[l] || 0)),
      ]),
    ),
  );

  const served = {};
  for (const d of model.labels_per_day) {
    for (const [label, n] of Object.entries(d.counts)) {
      served[label] = (served[label] || 0) + n;
    }
  }
  card.append(heading("h3", "Predicted labels vs the training split"));
  const compare = document.createElement("div");
  compare.className = "results many";
  const training = document.createElement("article");
  training.append(heading("h4", "Training split"), barList(model.labels, shares(model.train_distribution, model.labels), ""));
  const traffic = document.createElement("article");
  traffic.append(heading("h4", `Predictions, last ${$("days").value} days`), barList(model.labels, shares(served, model.labels), ""));
  compare.append(training, traffic);
  card.append(compare);

  card.append(heading("h3", "Feedback disagreement by predicted class"));
  const rows = Object.entries(model.disagreement).map(([label, d]) => [
    label,
    String(d.feedback),
    String(d.wrong),
    percent(d.rate),
  ]);
  card.append(
    rows.length
      ? table(["predicted", "corrections", "said wrong", "disagreement"], rows)
      : Object.assign(document.createElement("p"), { className: "muted", textContent: "No feedback yet." }),
  );
  return card;
}

function when(iso) {
  if (!iso) {
    return "–";
  }
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

function every(seconds) {
  if (seconds == null) {
    return "–";
  }
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60]]) {
    if (seconds >= size && seconds % size === 0) {
      return `every ${seconds / size} ${unit}`;
    }
  }
  return `every ${seconds} s`;
}

function score(version, value) {
  const v = version == null ? "" : `v${version}: `;
  return value == null ? `${v}–` : `${v}${Number(value).toFixed(3)}`;
}

function muted(text) {
  return Object.assign(document.createElement("p"), { className: "muted", textContent: text });
}

/** The scheduled retraining: its schedules and every attempt (GET /v1/admin/retrains). */
function renderRetrains(body) {
  const schedules = body.schedules || [];
  const attempts = body.attempts || [];
  $("retrain-schedules").replaceChildren(
    schedules.length
      ? table(
          ["name", "data", "how often", "next run", "margin"],
          schedules.map((s) => [s.name, s.data, every(s.every_seconds), when(s.next_run), String(s.margin ?? "–")]),
        )
      : muted("No retraining is scheduled."),
  );
  $("retrain-attempts").replaceChildren(
    attempts.length
      ? table(
          ["name", "when", "state", "production", "candidate", "promoted", "error"],
          attempts.map((a) => [
            a.name,
            when(a.finished || a.created),
            a.state,
            score(a.production_version, a.production_score),
            score(a.candidate_version, a.candidate_score),
            a.promoted == null ? "–" : a.promoted ? "yes" : "no",
            a.error || "",
          ]),
        )
      : muted("No retraining attempt yet."),
  );
  $("retrains").hidden = false;
}

/** Show the retraining section, or nothing when training is off (404). */
async function showRetrains() {
  try {
    renderRetrains(await api("/v1/admin/retrains", { headers: { "X-API-Key": apiKey } }));
  } catch (error) {
    $("retrains").hidden = true;
    if (![401, 403, 404].includes(error.status)) {
      showMessage(`Retraining: ${explain(error)}`);
    }
  }
}

async function show(event) {
  event.preventDefault();
  apiKey = $("api-key").value;
  clearMessage();
  $("status").textContent = "Loading…";
  const retrains = showRetrains();
  try {
    const body = await api(`/v1/admin/monitoring?days=${encodeURIComponent($("days").value)}`, {
      headers: { "X-API-Key": apiKey },
    });
    $("models").replaceChildren(...body.models.map(renderModel));
    $("status").textContent = body.models.length ? "" : "No model has been served from the registry yet.";
  } catch (error) {
    $("models").replaceChildren();
    if (error.status === 404) {
      $("status").textContent = "This server serves no registry: there is no traffic to show.";
    } else {
      $("status").textContent = "";
      showMessage(error.status === 401 ? "Wrong API key." : explain(error));
    }
  }
  await retrains;
}

$("key-form").addEventListener("submit", show);
