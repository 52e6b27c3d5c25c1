// Probability bars and the timeline chart (canvas, legend and an accessible table).

import { $, percent } from "./dom.js";

const PALETTE = [
  "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9",
  "#d55e00", "#f0e442", "#332288", "#882255", "#44aa99",
];

const UNVOICED = "#9aa3ad";

/** A list with one labelled bar per class; `topLabel` is highlighted. */
export function barList(labels, probabilities, topLabel) {
  const list = document.createElement("ul");
  list.className = "bars";
  for (const label of labels) {
    const p = probabilities[label] ?? 0;
    const item = document.createElement("li");
    item.className = label === topLabel ? "bar top" : "bar";
    item.dataset.label = label;
    item.dataset.probability = String(p);
    const name = document.createElement("span");
    name.className = "bar-label";
    name.textContent = label;
    const track = document.createElement("span");
    track.className = "bar-track";
    track.setAttribute("aria-hidden", "true");
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    fill.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
    track.append(fill);
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = percent(p);
    item.append(name, track, value);
    list.append(item);
  }
  return list;
}

export function colorFor(index) {
  return PALETTE[index % PALETTE.length];
}

/** Draw the stacked probabilities of every window; grey where no voice was detected. */
export function drawTimeline(body) {
  const canvas = $("timeline-chart");
  const rect = canvas.getBoundingClientRect();
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(200, Math.round(rect.width || 600));
  const height = Math.max(120, Math.round(rect.height || 220));
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);

  const style = getComputedStyle(document.body);
  const textColor = style.color;
  const pad = { left: 34, right: 8, top: 8, bottom: 22 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const duration = Math.max(body.duration_seconds, 1e-6);
  const x = (t) => pad.left + (Math.min(t, duration) / duration) * plotW;
  const segments = body.segments;

  segments.forEach((seg, i) => {
    const next = segments[i + 1];
    const x0 = Math.round(x(seg.start));
    const x1 = Math.max(x0 + 1, Math.round(x(next ? next.start : seg.end)));
    if (!seg.voiced || !seg.probabilities) {
      ctx.fillStyle = UNVOICED;
      ctx.fillRect(x0, pad.top, x1 - x0, plotH);
      return;
    }
    let y = pad.top + plotH;
    body.labels.forEach((label, k) => {
      const h = (seg.probabilities[label] || 0) * plotH;
      ctx.fillStyle = colorFor(k);
      ctx.fillRect(x0, y - h, x1 - x0, h);
      y -= h;
    });
  });

  ctx.strokeStyle = textColor;
  ctx.fillStyle = textColor;
  ctx.lineWidth = 1;
  ctx.font = "11px system-ui, sans-serif";
  ctx.beginPath();
  ctx.moveTo(pad.left, pad.top);
  ctx.lineTo(pad.left, pad.top + plotH);
  ctx.lineTo(pad.left + plotW, pad.top + plotH);
  ctx.stroke();
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const p of [0, 0.5, 1]) {
    ctx.fillText(`${p * 100}%`, pad.left - 4, pad.top + plotH * (1 - p));
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const ticks = 5;
  for (let i = 0; i <= ticks; i += 1) {
    const t = (duration * i) / ticks;
    ctx.textAlign = i === 0 ? "left" : i === ticks ? "right" : "center";
    ctx.fillText(`${t.toFixed(t < 10 ? 1 : 0)} s`, x(t), pad.top + plotH + 4);
  }
}

function renderLegend(labels) {
  const legend = $("timeline-legend");
  legend.replaceChildren();
  labels.forEach((label, k) => {
    legend.append(legendItem(label, colorFor(k)));
  });
  legend.append(legendItem("no voice / silence", UNVOICED));
}

function legendItem(text, color) {
  const item = document.createElement("li");
  const swatch = document.createElement("span");
  swatch.className = "swatch";
  swatch.style.background = color;
  swatch.setAttribute("aria-hidden", "true");
  const name = document.createElement("span");
  name.textContent = text;
  item.append(swatch, name);
  return item;
}

function renderTimelineTable(body) {
  const table = $("timeline-table");
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const text of ["time", "top", ...body.labels]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = text;
    head.append(th);
  }
  const rows = table.createTBody();
  for (const seg of body.segments) {
    const row = rows.insertRow();
    row.insertCell().textContent = `${seg.start.toFixed(1)}–${seg.end.toFixed(1)} s`;
    row.insertCell().textContent = seg.voiced && seg.top ? seg.top : "(no voice)";
    for (const label of body.labels) {
      const p = seg.probabilities ? seg.probabilities[label] : null;
      row.insertCell().textContent = p == null ? "–" : percent(p);
    }
  }
}

/** Show a /v1/predict/timeline answer: summary, legend, table and chart. */
export function renderTimeline(body) {
  $("timeline-section").hidden = false;
  const voiced = body.segments.filter((s) => s.voiced).length;
  $("timeline-summary").textContent =
    `${body.model}: ${body.segments.length} windows over ${body.duration_seconds.toFixed(1)} s, ` +
    `${voiced} with voice (detector: ${body.vad}).`;
  renderLegend(body.labels);
  renderTimelineTable(body);
  drawTimeline(body);
}
