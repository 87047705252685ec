"""The paper's regression refitted on its own Quadro T2000 data, beside the printed beta, gamma
(rule alpha_t2000_fidelity): figures/tables/fidelity_alpha_t2000.csv and .md."""

import math

import pandas as pd

from greenflops.alpha.reproduction import (
    PARAMS,
    fidelity_fits,
    fidelity_frame,
    recovery_sentence,
    t2000_arrays,
)
from greenflops.io.outputs import atomic_write_text, log_to_file, write_csv
from greenflops.io.render import to_markdown
from greenflops.timing.datasets import load_device

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive


def _value(row, p):
    value, se = row[p], row[f"{p}_se"]
    text = f"{value:.4g}"
    if isinstance(se, float) and math.isfinite(se) and se > 0:
        text += f" ± {se:.2g}"
    return text + (" †" if row[f"{p}_at_bound"] else "")


with log_to_file(snakemake.log[0]) as log:
    timings, _, files = load_device(snakemake.params.folder, snakemake.input.schema,
                                    snakemake.params.device_schema)
    log.info("%d rows from %d files of %s", len(timings), len(files), snakemake.params.folder)
    frame = fidelity_frame(fidelity_fits(t2000_arrays(timings)))
    sentence = recovery_sentence(frame)
    log.info("%s", sentence)
    write_csv(frame, snakemake.output.csv)
    shown = pd.DataFrame({
        "fit": frame["objective_label"],
        "scale": frame["scale"],
        "pinned": [("printed K = 1" if f == "beta_k1;gamma_k1" else "all" if o == "printed"
                    else "") for f, o in zip(frame["fixed"], frame["objective"])],
        **{p: [_value(r, p) for _, r in frame.iterrows()] for p in PARAMS},
        "ms per 10^6 MAC": frame["scale_ms_per_mmac"],
        "MAPE %": frame["mape_pct"], "MAPE K=1 %": frame["mape_k1_pct"],
        "MAPE K>1 %": frame["mape_kn_pct"],
    })
    notes = [
        sentence, "",
        "The paper's form t = scale · α_K(S) · FLOPs, α_K(S) = ((1 − β_K) · S_K / S + β_K)^γ_K, "
        "S = batch·H·W, S_K = ln K + 1, one (β, γ) for K = 1 and one for K > 1, one scale, fitted "
        f"on all {len(timings)} rows of {snakemake.params.folder}/ (the paper's own measurements, "
        "imported). First row: the printed values with the published scale (0.0375 ms per "
        "million multiply-adds). scale fixed = that published scale; printed K = 1 = β_K=1, "
        "γ_K=1 pinned at the printed 0.02, 0.99. ± = standard error (least squares only; "
        "heteroscedasticity-robust ones in the CSV); † = at a bound (β ∈ [1e-7, 1], "
        "γ ∈ [0.01, 1]).",
    ]
    formats = {"ms per 10^6 MAC": ".4g", "MAPE %": ".1f", "MAPE K=1 %": ".1f",
               "MAPE K>1 %": ".1f"}
    headers = ["fit", "scale", "pinned", "β K=1", "γ K=1", "β K>1", "γ K>1", "ms per 10⁶ MAC",
               "MAPE %", "MAPE K=1 %", "MAPE K>1 %"]
    atomic_write_text(snakemake.output.md, to_markdown(
        shown, formats, headers=headers,
        title="Fidelity: the α-FLOPs regression refitted on the paper's own Quadro T2000 data",
        notes=notes))
