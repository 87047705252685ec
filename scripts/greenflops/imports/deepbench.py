"""Importer of Baidu DeepBench's published kernel times (``results/**/*.xlsx``).

Source: ``baidu-research/DeepBench`` @ ``da81ba78`` (Apache-2.0), one workbook per device under
``results/train/`` (fp32 training sheets, plus fp16 on P100 / V100 / T4) and
``results/inference/`` (int8). Each workbook has a ``Specs`` sheet and one results sheet per
precision (:mod:`greenflops.imports.xlsx` reads them; :mod:`greenflops.imports.deepbench_rows`
converts rows). ``path`` may be the ``results/`` folder, a folder below it or one workbook.

Datasets: one per device × workbook kind (train / inference) × precision, named
``deepbench-<short>-<train|inference><dtype suffix>`` (:data:`DEVICES`; the suffix is the
contract's, :data:`greenflops.timing.contract.DTYPES`), e.g. ``deepbench-v100-train``,
``deepbench-v100-train-fp16``, ``deepbench-t4-inference-int8``. ``time_ms`` is the forward time
(msec, whole microseconds in the sheets), ``runs`` 300 (conv) / 400 (GEMM): upstream
``code/nvidia/*_bench.cu`` times one warm-up call, then the mean of that many calls
(device.yaml: ``time_statistic: mean``).

Two conventions make the datasets what a time model can use:

* **Transposes**: the contract has no transpose column, and a network's GEMMs are listed with
  the same M, N, K as NN and as TN (forward and backward-data products of one layer). A GEMM
  whose M, N, K an earlier GEMM of its sweep already has, with other transposes, is a shape
  listed twice: the first is kept, the rest counted under ``duplicate_shape_transposed`` (exact
  repeats stay ``duplicate_shape``); the summary compares their times.
* **Applications**: most workbooks leave the application column blank; the V100 training
  workbook (:data:`LABEL_SOURCE`) names it for every kernel, and the workbooks list the same
  kernels in the same order. A blank cell gets the application of the same kernel row (the n-th
  GEMM or convolution of the section) of that workbook's first results sheet, **only where the
  two rows' shapes agree** (:func:`~greenflops.imports.deepbench_rows.shape_key`); a row whose
  shape differs stays ``unlabelled`` and is counted and listed in the dataset's summary
  (``application_labels``). Only a workbook of the same kind (train / inference) is used, and
  only when the import reads it (an import of one workbook labels nothing).

Workbooks of non-NVIDIA devices (AMD MI25 / Vega FE, Intel Xeon Phi, Raspberry Pi, iPhones) are
counted and not imported (reason ``non_nvidia_device``: their code records no repeat count,
which the contract requires). Sections with no contract op (sparse GEMM, RNNs, all-reduce) are
counted per section; every other row that is not imported is counted per reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenflops.imports.accounting import Dataset, DropLog, ImportResult
from greenflops.imports.deepbench_rows import (
    FLAG_NOTES,
    REASONS,
    application,
    convert_row,
    shape_key,
    slug,
)
from greenflops.imports.rows import DuplicateStats, ImportDataError, row_key
from greenflops.imports.xlsx import (
    REQUIRED,
    find_sections,
    open_workbook,
    read_specs,
    sheet_precisions,
    sheet_rows,
)
from greenflops.timing.contract import DTYPES
from greenflops.timing.gpu_specs import spec_name

__all__ = ["DEVICES", "LABEL_SOURCE", "NVIDIA_RUNS", "SOURCE", "DeviceInfo", "import_deepbench",
           "workbooks"]

#: Provenance (``../shared/data/README.md``); ``file`` and ``sheet`` are added per dataset.
SOURCE: dict[str, str] = {
    "repository": "https://github.com/baidu-research/DeepBench",
    "commit": "da81ba7820739e2e506dc27f382d15be5479f98f",
    "license": "Apache-2.0",
}
#: The workbook (file stem after ``DeepBench_``) whose application column labels the blank ones.
LABEL_SOURCE = "NV_V100"
#: Timed calls per forward time in upstream code/nvidia/{conv,gemm}_bench.cu at that commit.
NVIDIA_RUNS = {"conv": 300, "gemm": 400}


@dataclass(frozen=True)
class DeviceInfo:
    """An NVIDIA workbook's device: its id part and a note for device.yaml."""

    short: str
    note: str = ""


#: NVIDIA workbook file stem (after ``DeepBench_``) → device. Other ``NV_`` workbooks get an id
#: part from their file name.
DEVICES: dict[str, DeviceInfo] = {
    "NV_M40": DeviceInfo("m40"),
    "NV_TitanX": DeviceInfo(
        "titanx-maxwell",
        "Specs 'Nvidia TitanX' with CUDA 7.5 / cuDNN 5 (2016): the Maxwell GTX Titan X, not the "
        "Titan X (Pascal) of DeepBench_NV_TitanX_Pascal"),
    "NV_TitanX_Pascal": DeviceInfo("titanx-pascal"),
    "NV_TitanXp": DeviceInfo("titanxp"),
    "NV_1080Ti": DeviceInfo("1080ti"),
    "NV_P100": DeviceInfo(
        "p100", "host board ASUS X99-E WS (PCIe slots only): a P100 PCIe card; 12 or 16 GB not "
                "recorded"),
    "NV_V100": DeviceInfo("v100", "Specs list an NVIDIA DGX-1 (SXM2 V100); memory size not "
                                  "recorded"),
    "NV_T4": DeviceInfo(
        "t4", "the training workbook's Specs also list 'NVIDIA DGX-1', apparently copied from the "
              "V100 workbook (a DGX-1 holds no T4)"),
}


def workbooks(path: str | Path | Sequence[str | Path]) -> list[Path]:
    """The workbooks of an import: ``path`` itself (an .xlsx file) or every ``*.xlsx`` below it
    (sorted; Excel's ``~$`` lock files left out), or the files of a list as given. Raises
    :class:`ImportDataError` when there is none."""
    if not isinstance(path, (str, Path)):
        files = [Path(p) for p in path]
        missing = [f for f in files if not f.is_file()]
        if missing or not files:
            raise ImportDataError(missing[0] if missing else "(no file)", "no such workbook")
        return files
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ImportDataError(path, "no such file or folder")
    found = sorted(p for p in path.rglob("*.xlsx") if not p.name.startswith("~$"))
    if not found:
        raise ImportDataError(path, "no .xlsx workbook in this folder")
    return found


def _kind(path: Path) -> str:
    """train or inference: the nearest folder of that name above the workbook."""
    for part in reversed(path.absolute().parent.parts):
        if part.lower() in ("train", "inference"):
            return part.lower()
    raise ImportDataError(path, "the workbook is neither under a train/ nor an inference/ folder "
                                "(DeepBench's results/ layout)")


def _source_file(path: Path) -> str:
    """The workbook's path in the upstream repository (from its ``results/`` folder on)."""
    parts = path.absolute().parts
    if "results" in parts:
        i = len(parts) - 1 - parts[::-1].index("results")
        return "/".join(parts[i:])
    return path.name


def _device_info(path: Path) -> DeviceInfo | None:
    """The device of a workbook, None for a non-NVIDIA one."""
    stem = path.stem
    if not stem.startswith("DeepBench_"):
        raise ImportDataError(path, "file name does not start with 'DeepBench_'")
    key = stem[len("DeepBench_"):]
    if key in DEVICES:
        return DEVICES[key]
    if key.startswith("NV_") and slug(key[3:]):
        return DeviceInfo(slug(key[3:]).replace("_", "-"),
                          "not in greenflops' device list: id part from the file name")
    return None


def _device_yaml(device_id: str, info: DeviceInfo, kind: str, dtype: str, name: str,
                 specs: Mapping[str, str], source_file: str, sheet: str,
                 precision: Mapping[str, str]) -> dict[str, Any]:
    device: dict[str, Any] = {
        "device_id": device_id,
        "hardware_id": f"deepbench-{info.short}",
        "device_type": "cuda",
        "name": name,
        "dtype": dtype,
        "workbook": kind,
        "precision_note": precision["text"],
        "time_statistic": "mean",
        "timing_note": "cuDNN / cuBLAS, algorithm found by cuDNN; one warm-up call, then the "
                       "mean of 300 (conv) / 400 (GEMM) calls between cudaDeviceSynchronize() "
                       "calls; whole microseconds",
    }
    for key, label in (("cpu_model", "CPU Model"), ("cuda_version", "CUDA Version"),
                       ("cudnn_version", "Cudnn Version"), ("driver_version", "Nvidia Driver")):
        if specs.get(label, "-") != "-":
            device[key] = specs[label]
    spec = spec_name(name)
    if spec is not None:
        device["gpu_spec"] = spec
    if info.note:
        device["device_note"] = info.note
    device["specs"] = dict(specs)
    device["source"] = {**SOURCE, "file": source_file, "sheet": sheet}
    return device


@dataclass
class _Labels:
    """The labelled workbook's kernels: per section kind, ``(shape key, application)`` in order."""

    source: str
    kernels: dict[str, list[tuple[tuple[Any, ...], str]]]


@dataclass
class _State:
    log: DropLog
    rows: dict[str, list[dict[str, Any]]]
    devices: dict[str, dict[str, Any]]
    origin: dict[str, str]
    skipped: list[dict[str, str]]
    references: dict[str, _Labels]  #: workbook kind (train / inference) -> labelled kernels
    labels: dict[str, dict[str, Any]]  #: device_id -> application labelling account


def _label_account(state: _State, device_id: str, kind: str) -> dict[str, Any]:
    ref = state.references.get(kind)
    return state.labels.setdefault(device_id, {
        "reference": ref.source if ref else None,
        "blank_rows": 0, "labelled_from_reference": 0,
        "left_unlabelled": {"no_reference": 0, "reference_blank": 0, "shape_mismatch": 0},
        "shape_mismatch_rows": [],
    })


def _section_labels(state: _State, section: Any, kind: str, device_id: str, source_file: str,
                    sheet: str) -> dict[int, str]:
    """Application labels for the section's rows whose own cell is blank: row number -> label,
    taken from the same kernel row of the labelled workbook where the shapes agree."""
    ref = state.references.get(kind)
    kernels = ref.kernels.get(section.kind, []) if ref else []
    account = _label_account(state, device_id, kind)
    out: dict[int, str] = {}
    position = 0
    for number, row in section.rows:
        key = shape_key(section, row)
        if key is None:  # a footnote: not a kernel, no position
            continue
        here, position = position, position + 1
        if application(section, row) != "unlabelled":
            continue
        account["blank_rows"] += 1
        left = account["left_unlabelled"]
        if ref is None:
            left["no_reference"] += 1
        elif here >= len(kernels) or kernels[here][0] != key:
            left["shape_mismatch"] += 1
            account["shape_mismatch_rows"].append(f"{source_file} [{sheet}] row {number}")
        elif kernels[here][1] == "unlabelled":
            left["reference_blank"] += 1
        else:
            out[number] = kernels[here][1]
            account["labelled_from_reference"] += 1
    return out


def _reference_labels(files: Sequence[Path]) -> dict[str, _Labels]:
    """The labelled workbook (:data:`LABEL_SOURCE`) of each kind among ``files``: its first
    results sheet's GEMM and convolution kernels with their applications."""
    found: dict[str, _Labels] = {}
    for path in files:
        if path.stem != f"DeepBench_{LABEL_SOURCE}":
            continue
        kind = _kind(path)
        workbook = open_workbook(path)
        try:
            sheet = next((s for s in workbook.sheetnames if s.strip().lower() != "specs"), None)
            if sheet is None:
                continue
            kernels: dict[str, list[tuple[tuple[Any, ...], str]]] = {}
            for section in find_sections(sheet_rows(workbook, sheet, path), path, sheet):
                if section.kind not in REQUIRED:
                    continue
                listed = kernels.setdefault(section.kind, [])
                for _, row in section.rows:
                    key = shape_key(section, row)
                    if key is not None:
                        listed.append((key, application(section, row)))
            found.setdefault(kind, _Labels(f"{_source_file(path)} [{sheet}]", kernels))
        finally:
            workbook.close()
    return found


def _read_sheet(state: _State, path: Path, rows: list, sheet: str, info: DeviceInfo | None,
                name: str, specs: Mapping[str, str]) -> None:
    source_file = _source_file(path)
    precision = sheet_precisions(rows, path, sheet)
    sections = find_sections(rows, path, sheet)
    if not any(s.kind in REQUIRED for s in sections):
        raise ImportDataError(path, "no 'Dense Matrix Multiplication' or 'Convolution' section",
                              sheet=sheet)
    if info is None:
        state.skipped.append({"file": source_file, "sheet": sheet, "device": name})
    kind = _kind(path)
    for section in sections:
        where = {"source": source_file, "sheet": sheet, "section": section.title}
        if section.kind not in REQUIRED:
            state.log.add(**where, device_id="", reason=f"section_{section.kind}",
                          rows=len(section.rows))
            continue
        if info is None:
            state.log.add(**where, device_id="", reason="non_nvidia_device",
                          rows=len(section.rows))
            continue
        dtype = precision[section.kind]
        device_id = f"deepbench-{info.short}-{kind}{DTYPES[dtype].suffix}"
        here = f"{source_file} [{sheet}]"
        if state.origin.setdefault(device_id, here) != here:
            raise ImportDataError(path, f"dataset {device_id!r} would come from two sheets "
                                        f"({state.origin[device_id]} and {here})", sheet=sheet)
        labels = _section_labels(state, section, kind, device_id, source_file, sheet)
        for number, row in section.rows:
            converted, reason = convert_row(section, row, dtype, NVIDIA_RUNS[section.kind],
                                            labels.get(number))
            if converted is None:
                state.log.add(**where, device_id=device_id, reason=reason)
                continue
            converted["__where"] = where
            state.rows.setdefault(device_id, []).append(converted)
        if device_id not in state.devices:
            state.devices[device_id] = _device_yaml(device_id, info, kind, dtype, name, specs,
                                                    source_file, sheet, precision)


def _read_workbook(state: _State, path: Path) -> None:
    info = _device_info(path)
    workbook = open_workbook(path)
    try:
        names = list(workbook.sheetnames)
        spec_sheet = next((s for s in names if s.strip().lower() == "specs"), None)
        if spec_sheet is None:
            raise ImportDataError(path, "no 'Specs' sheet")
        specs = read_specs(sheet_rows(workbook, spec_sheet, path))
        name = specs.get("GPU Model") or specs.get("CPU Model") or specs.get("CPU")
        if not name:
            raise ImportDataError(path, "the Specs sheet names no GPU Model / CPU Model / CPU",
                                  sheet=spec_sheet)
        results = [s for s in names if s != spec_sheet]
        if not results:
            raise ImportDataError(path, "no results sheet besides Specs")
        for sheet in results:
            _read_sheet(state, path, sheet_rows(workbook, sheet, path), sheet, info, name, specs)
    finally:
        workbook.close()


def _dedupe(rows: Sequence[dict[str, Any]]
            ) -> tuple[list[dict[str, Any]], list[str], dict[str, DuplicateStats]]:
    """Keep the first row of each primary key: the kept rows, each row's outcome (``imported``,
    ``duplicate_shape`` or, for a GEMM whose first has other transposes,
    ``duplicate_shape_transposed``) and the repeats' time differences per outcome."""
    first: dict[tuple[Any, ...], dict[str, Any]] = {}
    kept: list[dict[str, Any]] = []
    outcomes: list[str] = []
    stats: dict[str, DuplicateStats] = {}
    for row in rows:
        key = row_key(row)
        if key not in first:
            first[key] = row
            kept.append(row)
            outcomes.append("imported")
            continue
        earlier = first[key]
        reason = ("duplicate_shape" if row.get("__transpose") == earlier.get("__transpose")
                  else "duplicate_shape_transposed")
        outcomes.append(reason)
        st = stats.setdefault(reason, DuplicateStats())
        st.repeats += 1
        t0, t1 = earlier["time_ms"], row["time_ms"]
        if t1 != t0:
            st.time_differs += 1
            st.max_rel_diff = max(st.max_rel_diff, abs(t1 - t0) / t0)
    return kept, outcomes, stats


def _dataset(state: _State, device_id: str) -> Dataset | None:
    by_sweep: dict[str, list[dict[str, Any]]] = {}
    for row in state.rows.get(device_id, []):
        by_sweep.setdefault(row["sweep"], []).append(row)
    sweeps: dict[str, list[dict[str, Any]]] = {}
    duplicates: dict[str, Any] = {}
    transposed: dict[str, Any] = {}
    flags: dict[str, int] = {}
    transposes: dict[str, int] = {}
    for sweep, sweep_rows in sorted(by_sweep.items()):
        kept, outcomes, stats = _dedupe(sweep_rows)
        for r, outcome in zip(sweep_rows, outcomes):
            state.log.add(**r["__where"], device_id=device_id, reason=outcome)
        for r in kept:
            for flag in r.get("__flags", ()):
                flags[flag] = flags.get(flag, 0) + 1
            if "__transpose" in r:
                transposes[r["__transpose"]] = transposes.get(r["__transpose"], 0) + 1
        if "duplicate_shape" in stats:
            duplicates[sweep] = stats["duplicate_shape"].as_dict()
        if "duplicate_shape_transposed" in stats:
            transposed[sweep] = stats["duplicate_shape_transposed"].as_dict()
        sweeps[sweep] = [{k: v for k, v in r.items() if not k.startswith("__")} for r in kept]
    if not sweeps:
        return None
    summary: dict[str, Any] = {"duplicates": duplicates, "transposed_duplicates": transposed,
                               "gemm_transposes_kept": dict(sorted(transposes.items()))}
    if device_id in state.labels:
        summary["application_labels"] = state.labels[device_id]
    if flags:
        summary["imported_with_notes"] = {k: {"rows": v, "note": FLAG_NOTES[k]}
                                          for k, v in sorted(flags.items())}
    return Dataset(device_id, state.devices[device_id], sweeps, summary=summary)


def import_deepbench(path: str | Path | Sequence[str | Path]) -> ImportResult:
    """Read every DeepBench workbook at ``path`` (:func:`workbooks`: a folder, one workbook or
    a list of workbooks) and build the datasets; writes nothing.

    Raises :class:`~greenflops.imports.rows.ImportDataError` naming file, sheet, row and column
    on a workbook it cannot read (not an .xlsx, a missing header, an unknown precision, no
    ``Specs`` sheet).
    """
    files = workbooks(path)
    state = _State(DropLog(REASONS), {}, {}, {}, [], _reference_labels(files), {})
    for file in files:
        _read_workbook(state, file)
    datasets = []
    for device_id in sorted(state.devices):
        dataset = _dataset(state, device_id)
        if dataset is None:  # every row dropped
            state.skipped.append({"file": state.devices[device_id]["source"]["file"],
                                  "sheet": state.devices[device_id]["source"]["sheet"],
                                  "device": device_id, "why": "no row left to import"})
            continue
        datasets.append(dataset)
    notes = {"files": [_source_file(f) for f in files],
             "not_imported": state.skipped,
             "sweep_naming": "<kind>_<application>: kind conv | gemm (transposes not a contract "
                             "column: the same M, N, K with other transposes is a shape listed "
                             "twice, first kept); a blank application cell takes the "
                             f"application of the same kernel row of DeepBench_{LABEL_SOURCE} "
                             "where the shapes agree, else 'unlabelled'",
             "application_labels": {
                 kind: ref.source for kind, ref in sorted(state.references.items())} or None}
    return ImportResult("deepbench", datasets, state.log, notes)
