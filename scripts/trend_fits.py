"""All fitted lines of the trends figures in one table, as CSV, Markdown and LaTeX (rule trend_fits)."""

import pandas as pd

from greenflops.io.outputs import atomic_write_text, log_to_file, write_csv
from greenflops.io.render import to_latex, to_markdown
from greenflops.trends.lines import FIT_COLUMNS

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

FORMATS = {
    "slope_log10_per_year": ".4f", "intercept": ".2f", "r2": ".3f", "slope_ci_low": ".4f",
    "slope_ci_high": ".4f", "doubling_time_years": ".2f", "x_min": ".2f", "x_max": ".2f",
}

with log_to_file(snakemake.log[0]) as log:
    fits = pd.concat([pd.read_csv(p) for p in snakemake.input.fits], ignore_index=True)[FIT_COLUMNS]
    fits = fits.sort_values(["figure", "domain", "quantity", "subset"], kind="mergesort").reset_index(drop=True)
    log.info("%d fitted lines", len(fits))
    write_csv(fits, snakemake.output.csv)
    shown = fits.drop(columns=["x_min", "x_max"])
    title = "Trend fits: log10(y) = intercept + slope * decimal year (Desislavov et al. 2021 figures)"
    notes = [
        "OLS on log10(y); 95% CI of the slope from the t distribution (n - 2 dof); doubling time = "
        "log10(2) / slope in years (negative: halving time). x = decimal year; the intercept is "
        "log10(y) at year 0."
    ]
    atomic_write_text(snakemake.output.md, to_markdown(shown, FORMATS, title=title, notes=notes))
    atomic_write_text(
        snakemake.output.tex, to_latex(shown, FORMATS, caption=title, label="tab:trend-fits")
    )
