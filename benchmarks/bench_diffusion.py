"""Diffusion img2img overhead: our generation run against calling the pipeline directly.

Model: the tiny random Stable Diffusion pipeline of the tests (diffusers' fast-test sizes),
saved as a model folder; 64-px images, 4 steps at strength 0.5 (so the denoising itself is
short and our overhead shows as much as it ever will).
App path: `iter_generate` with the project's diffusion settings (the pipeline loaded once per
process, a warm-up round first): safe decode of the source, img2img with a per-image CPU
generator and the step callback, PNG encode, fsync + rename, the JSON record.
Baseline: the same loaded pipeline called in a bare loop over the same sources (Pillow decode,
the same crop/resize, the same seeds), each result saved with Pillow, no fsync, no record. The
loop runs in a worker thread, as the app's pipeline does: on a CPU shared by many processes,
torch's OpenMP team on the main thread can be tens of times slower for a tiny model than the
same calls on a worker thread, which would flatter the app.
Rounds are interleaved and the medians compared, as other work shares the CPU.
Bar (issue 12): app / direct <= 1.2x in time per image.
Needs the [diffusion] extra. Run: .venv/bin/python benchmarks/bench_diffusion.py [IMAGES] [ROUNDS]
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np
from datasets import write_digits
from PIL import Image
from tiny_diffusion import write_tiny_model

from imbalance_studio.core.diffusion_settings import DiffusionSettings
from imbalance_studio.core.generation import iter_generate
from imbalance_studio.core.generation.diffusion import pipeline, prepare_source, spec_for
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import ClassTarget, Method, Project
from imbalance_studio.core.scanning import drive, scan

SIZE, STEPS, STRENGTH = 64, 4, 0.5


def main(images: int = 8, rounds: int = 3) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-diffusion-"))
    try:
        root = tmp / "data"
        write_digits(root, [40, 8])
        model = write_tiny_model(tmp / "model")
        dataset = scan(root)
        project = Project(
            dataset_root=str(root),
            targets={"digit_1": ClassTarget(target=None, method=Method.DIFFUSION)},
        )
        project.generation.diffusion = DiffusionSettings(
            model=str(model), steps=STEPS, strength=STRENGTH, size=SIZE
        )
        train = make_plan(dataset, project).splits["train"][1]
        project.targets["digit_1"] = ClassTarget(
            target=len(train.kept) + images, method=Method.DIFFUSION
        )
        plan = make_plan(dataset, project)
        tasks = plan.splits["train"][1].generate
        assert len(tasks) == images
        spec = spec_for(project.generation.diffusion, "digit_1")

        def app(n: int) -> float:
            staging = tmp / f"staging-{n}"
            t0 = time.perf_counter()
            result = drive(iter_generate(dataset, project, plan, staging))
            dt = time.perf_counter() - t0
            assert result.made == images
            return dt / images

        def direct(n: int) -> float:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(1) as thread:
                return thread.submit(direct_loop, n).result()

        def direct_loop(n: int) -> float:
            import torch

            pipe, _device, _dtype = pipeline(spec)
            out = tmp / f"direct-{n}"
            out.mkdir()
            t0 = time.perf_counter()
            for t in tasks:
                with Image.open(root / t.source) as img:
                    source = prepare_source(np.asarray(img.convert("RGB")), SIZE)
                result = pipe(
                    prompt=spec.prompt, image=source, strength=STRENGTH,
                    num_inference_steps=STEPS, guidance_scale=spec.guidance,
                    generator=torch.Generator("cpu").manual_seed(t.seed), output_type="pil",
                ).images[0]  # fmt: skip
                result.save(out / f"{t.ordinal}.png")
            return (time.perf_counter() - t0) / images

        app(0)  # warm-up: imports, the model load, torch's first-call costs
        direct(0)
        ours, bare = [], []
        for r in range(1, rounds + 1):
            ours.append(app(r))
            bare.append(direct(r))
        o, b = statistics.median(ours), statistics.median(bare)
        print(f"tiny pipeline, {SIZE} px, {STEPS} steps at strength {STRENGTH}, {images} images")
        print(f"  direct pipeline loop: {b * 1000:.1f} ms/image")
        print(f"  iter_generate:        {o * 1000:.1f} ms/image")
        print(f"  overhead ratio:       {o / b:.2f}x (bar <= 1.2x)")
        return 0 if o / b <= 1.2 else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:3])))
