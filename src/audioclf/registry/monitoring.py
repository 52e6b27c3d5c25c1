"""What the monitoring page shows, computed in the database: predictions per day, the
predicted-label mix per day against the training distribution, and per predicted class
how often users said the model was wrong."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Integer, cast, func, select
from sqlalchemy.orm import Session, sessionmaker

from audioclf.registry.tables import FeedbackRow, ModelVersion, PredictionRow, utcnow


def _day(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


def monitoring(sessions: sessionmaker[Session], *, days: int = 30) -> list[dict[str, Any]]:
    """One summary per model name with predictions in the last ``days`` days or a
    production version."""
    since = utcnow() - timedelta(days=days)
    with sessions() as session:
        day = (
            func.date(PredictionRow.created)  # SQLite: 'YYYY-MM-DD' text
            if session.get_bind().dialect.name == "sqlite"
            else cast(PredictionRow.created, Date)
        )
        per_label = session.execute(
            select(PredictionRow.model_name, day, PredictionRow.top_label, func.count())
            .where(PredictionRow.created >= since)
            .group_by(PredictionRow.model_name, day, PredictionRow.top_label)
        ).all()
        disagreement = session.execute(
            select(
                PredictionRow.model_name,
                PredictionRow.top_label,
                func.count(),
                func.sum(cast(FeedbackRow.correct_label != PredictionRow.top_label, Integer)),
            )
            .join(FeedbackRow, FeedbackRow.prediction_id == PredictionRow.id)
            .where(PredictionRow.created >= since)
            .group_by(PredictionRow.model_name, PredictionRow.top_label)
        ).all()
        production = {
            row.name: row
            for row in session.scalars(
                select(ModelVersion).where(ModelVersion.stage == "production")
            )
        }
    models: dict[str, dict[str, Any]] = {}

    def entry(name: str) -> dict[str, Any]:
        if name not in models:
            prod = production.get(name)
            models[name] = {
                "name": name,
                "version": prod.version if prod else None,
                "labels": list(prod.labels) if prod else [],
                "train_distribution": dict(prod.train_distribution or {}) if prod else {},
                "per_day": {},
                "labels_per_day": {},
                "disagreement": {},
            }
        return models[name]

    for name in production:
        entry(name)
    for name, d, label, count in per_label:
        item = entry(name)
        key = _day(d)
        item["per_day"][key] = item["per_day"].get(key, 0) + count
        item["labels_per_day"].setdefault(key, {})[label] = count
        if label not in item["labels"]:
            item["labels"].append(label)
    for name, label, count, wrong in disagreement:
        entry(name)["disagreement"][label] = {
            "feedback": int(count),
            "wrong": int(wrong or 0),
            "rate": float(wrong or 0) / count if count else 0.0,
        }
    out = []
    for item in sorted(models.values(), key=lambda m: m["name"]):
        days_sorted = sorted(item["per_day"])
        item["per_day"] = [{"day": k, "count": item["per_day"][k]} for k in days_sorted]
        item["labels_per_day"] = [
            {"day": k, "counts": item["labels_per_day"][k]} for k in days_sorted
        ]
        out.append(item)
    return out
