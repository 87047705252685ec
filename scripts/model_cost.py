"""Per-layer FLOPs, α-FLOPs and predicted time of a network defined in code, on a fitted device.

    python scripts/model_cost.py --device-id cpu-... --model vgg_like --input 1,3,224,224

Reads data/processed/alpha/<device_id>/params.yaml (build it with
`snakemake --cores all data/processed/alpha/<device_id>/fit_report.csv`). Library:
greenflops.alpha.networks (layer_table, predict_layers).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from greenflops.alpha.networks import NETWORKS, build_network, layer_table, predict_layers  # noqa: E402
from greenflops.io.plainyaml import read_yaml  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device-id", required=True, help="folder under data/processed/alpha/")
    parser.add_argument("--model", required=True, choices=sorted(NETWORKS))
    parser.add_argument("--input", default="1,3,224,224", help="input shape, e.g. 1,3,224,224")
    parser.add_argument("--time-model", default="best",
                        help="time model for the 'time_ms' column (default: best alpha model)")
    parser.add_argument("--params", help="params.yaml (default: data/processed/alpha/<id>/)")
    parser.add_argument("--csv", help="also write the per-layer table here")
    args = parser.parse_args(argv)
    params_path = Path(args.params or f"data/processed/alpha/{args.device_id}/params.yaml")
    if not params_path.exists():
        parser.error(f"{params_path} not found: build the alpha fit for this device first")
    doc = read_yaml(params_path)
    shape = tuple(int(v) for v in args.input.split(","))
    table = predict_layers(layer_table(build_network(args.model), shape), doc)
    chosen = doc["best_alpha_model"] if args.time_model == "best" else args.time_model
    if f"time_ms_{chosen}" not in table:
        parser.error(f"time model {chosen!r} was not fitted on {args.device_id}")
    show = table[["layer", "op", "batch", "c_in", "c_out", "h", "w", "k_h", "stride", "flops",
                  "alpha", "alpha_flops", "time_ms_flops", f"time_ms_{chosen}"]]
    print(f"{args.model} {shape} on {args.device_id}; time model {chosen} (conv/linear only)")
    print(show.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"total: {table['flops'].sum() / 1e9:.4g} GFLOPs, "
          f"{table['alpha_flops'].sum() / 1e9:.4g} alpha-GFLOPs, "
          f"{table['time_ms_flops'].sum():.4g} ms (flops), "
          f"{table[f'time_ms_{chosen}'].sum():.4g} ms ({chosen})")
    if args.csv:
        table.to_csv(args.csv, index=False, float_format="%.10g", lineterminator="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
