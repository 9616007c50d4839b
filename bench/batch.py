"""One batch figure of bench/run, timed in its own process so its peak RSS is its own.

    PAKN_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_suite \
        .venv/bin/python bench/batch.py report-year [--year 2025]
        .venv/bin/python bench/batch.py report-quarter [--year 2025] [--period Q2]
        .venv/bin/python bench/batch.py register-xlsx [--year 2025] [--quarter 2]   (--quarter 0: the year)

Read-only. Prints one line ``BATCH name=… seconds=… rss_mb=… …`` (bench/run reads it):

* ``report-year``: the consolidated provincial report of a whole year (``pakn.reports.stats
  .compute`` for period ``Y``, every agency), the figure behind the report page and its
  XLSX/PDF;
* ``report-quarter``: the same for one quarter;
* ``register-xlsx``: the office register (sổ theo dõi) of one quarter (or, with ``--quarter 0``,
  the whole year) streamed from the database into an XLSX temporary file
  (``pakn.office.register.write_xlsx`` into a ``SpooledTemporaryFile``), what
  ``/office/register.xlsx`` sends.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("figure", choices=("report-year", "report-quarter", "register-xlsx"))
    ap.add_argument("--year", type=int, default=date.today().year - 1)
    ap.add_argument("--period", default="Q2")
    ap.add_argument("--quarter", type=int, default=2, choices=range(5), help="1-4, or 0 for the whole year")
    a = ap.parse_args()
    url = os.environ.get("PAKN_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_suite")

    from pakn import create_app
    from pakn.models.types import utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.test_request_context("/"):  # the register's labels are translated (a request's locale)
        from pakn.extensions import db

        db.session.execute(db.text("SELECT 1"))  # connect (and load the mappers) outside the timing
        before = rss_mb()
        started = time.perf_counter()
        if a.figure.startswith("report"):
            from pakn.reports.periods import report_period
            from pakn.reports.stats import compute

            period = report_period(a.year, "Y" if a.figure == "report-year" else a.period)
            report = compute(period, None, utcnow())
            detail = (f"rows={sum(len(b.rows) for b in report.blocks)} agencies={len(report.blocks)} "
                      f"new={report.total['new']} answered={report.total['answered']}")
        else:
            import tempfile

            from pakn.office.register import write_xlsx

            if a.quarter == 0:
                start, end = date(a.year, 1, 1), date(a.year, 12, 31)
            else:
                start = date(a.year, 3 * (a.quarter - 1) + 1, 1)
                end = date(a.year + (a.quarter == 4), (3 * a.quarter) % 12 + 1, 1)
                end = date.fromordinal(end.toordinal() - 1)
            with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as out:  # what the view does
                written = write_xlsx(out, start, end, utcnow(), app.config["PROVINCE_NAME"])
                size = out.seek(0, 2)
            detail = f"rows={written.rows} bytes={size} truncated={written.truncated}"
        elapsed = time.perf_counter() - started
    print(f"BATCH name={a.figure} seconds={elapsed:.3f} rss_mb={rss_mb():.0f} rss_before_mb={before:.0f} {detail}",
          flush=True)


if __name__ == "__main__":
    main()
