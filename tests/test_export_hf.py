"""An export loads with Hugging Face `datasets` (the real library, offline): every split that
holds images, `label` a ClassLabel in ImageFolder order with integer labels, and the
provenance columns of the manifest beside them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import write_digits  # tests/datasets.py, not Hugging Face's
from export_helpers import read_manifest

from imbalance_studio.core.export.run import export
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import ClassTarget, Method, Project
from imbalance_studio.core.scanning import check, scan

# Run apart from the tests' own `datasets` module, which shadows Hugging Face's here.
_LOAD = """
import json, sys
import datasets
ds = datasets.load_dataset("imagefolder", data_dir=sys.argv[1], cache_dir=sys.argv[2])
out = {}
for split, d in ds.items():
    label = d.features["label"]
    out[split] = {
        "label_type": type(label).__name__,
        "names": getattr(label, "names", None),
        "columns": d.column_names,
        "labels": list(d["label"]),
        **{c: list(d[c]) for c in ("origin", "sources", "params") if c in d.column_names},
        "sizes": [im.size for im in d["image"]],
    }
print(json.dumps(out))
"""


def load_with_hf(out: Path, cache: Path) -> dict:
    env = dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_HOME=str(cache))
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, str(out), str(cache / "datasets")],
        capture_output=True, text=True, timeout=300, env=env, cwd=cache,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Digits 30 / 12 / 3 with the middle class oversampled by duplicates: digit_2 is too
    small to reach validation or test, so those splits lack a class."""
    base = tmp_path_factory.mktemp("hf")
    root = base / "digits"
    write_digits(root, [30, 12, 3])
    dataset = check(scan(root))
    project = Project(
        dataset_root=str(root),
        targets={"digit_1": ClassTarget(target=15, method=Method.DUPLICATE)},
    )
    out = base / "out"
    export(dataset, project, make_plan(dataset, project), [], out, link=False)
    cache = base / "hf-cache"
    cache.mkdir()
    return out, load_with_hf(out, cache)


def test_every_split_loads_with_a_classlabel_in_imagefolder_order(exported):
    from torchvision.datasets import ImageFolder

    out, loaded = exported
    assert sorted(loaded) == ["test", "train", "validation"]  # "val" is HF's validation
    manifest = read_manifest(out)
    for split, hf_split in (("train", "train"), ("val", "validation"), ("test", "test")):
        got = loaded[hf_split]
        folder = ImageFolder(str(out / split), allow_empty=True)
        assert got["label_type"] == "ClassLabel"
        assert got["names"] == folder.classes == ["digit_0", "digit_1", "digit_2"]
        # Integer labels, row for row the ImageFolder targets (metadata rows are in its order).
        assert got["labels"] == folder.targets
        rows = [r for r in manifest if r["split"] == split]
        assert got.get("origin") == [r["origin"] for r in rows]
        assert got.get("sources") == [r["sources"] for r in rows]
        assert got.get("params") == [r["params"] for r in rows]
        assert got["columns"] == [
            "image", "label", "origin", "sources", "generator", "seed", "params",
        ]  # fmt: skip
        assert got["sizes"] and all(size == [32, 32] for size in got["sizes"])
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert 'load_dataset("imagefolder", data_dir=OUT)' in readme and "`ClassLabel`" in readme
    assert "duplicate" in loaded["train"]["origin"]
    assert 2 not in loaded["validation"]["labels"]  # the empty class keeps its index anyway


def test_the_split_metadata_is_parquet_with_the_features_in_its_schema(exported):
    import pyarrow.parquet as pq

    out, _ = exported
    assert not list(out.glob("*/metadata.csv"))  # one metadata format: datasets refuses two
    table = pq.read_table(io.BytesIO((out / "train" / "metadata.parquet").read_bytes()))
    features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
    assert features["label"] == {"names": ["digit_0", "digit_1", "digit_2"], "_type": "ClassLabel"}
    assert str(table.schema.field("label").type) == "int64"
    assert table.column("file_name").to_pylist()[0].startswith("digit_0/digit_0_")
